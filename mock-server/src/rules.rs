//! The rules a panel follows where a panel can get them wrong.
//!
//! [`crate::state::Panel`] answers by these rules and knows nothing of the
//! deviation profiles: [`Rules::CONTRACT`] is the contract's behaviour, and
//! [`crate::profile::Profiles::rules`] says what a set of profiles turns it
//! into (a key check that fails open, a price ten times too high, …). The
//! rules come with each request, as an argument.

/// What the panel does with more than [`smm_contract::BULK_LIMIT`] ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// One top-level error (the contract).
    Refuse,
    /// Answer the first 100 and drop the rest (drift).
    Truncate,
    /// Answer all of them (breaking).
    AnswerAll,
}

/// How the panel behaves on the points a broken panel gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// An unknown key is refused (off: it is taken as the first account's).
    pub check_key: bool,
    /// A key sees only its own orders and refills (off: every key's).
    pub isolate_keys: bool,
    /// A quantity below the service's minimum is refused.
    pub enforce_min: bool,
    /// A refused order costs nothing (off: the price of the minimum is debited).
    pub free_refusals: bool,
    /// Orders cost rate × units / 1000 (off: ten times that).
    pub fair_price: bool,
    /// A Partial order is refunded what it did not deliver.
    pub refund_partial: bool,
    /// `remains` never grows (off: it grows while an order is in progress).
    pub steady_remains: bool,
    /// A Completed order stays Completed (off: it is shown In progress again
    /// after it was shown Completed).
    pub final_stays_final: bool,
    /// What past 100 ids get.
    pub overflow: Overflow,
}

impl Rules {
    /// The contract's rules.
    pub const CONTRACT: Rules = Rules {
        check_key: true,
        isolate_keys: true,
        enforce_min: true,
        free_refusals: true,
        fair_price: true,
        refund_partial: true,
        steady_remains: true,
        final_stays_final: true,
        overflow: Overflow::Refuse,
    };
}

impl Default for Rules {
    fn default() -> Self {
        Self::CONTRACT
    }
}
