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
    /// A Canceled order is refunded its whole charge (off: it keeps it).
    pub refund_canceled: bool,
    /// `add` debits the balance under the panel's lock (off: it only reads
    /// the balance and leaves the write of balance − charge to the caller,
    /// [`crate::state::Panel::take_stale_write`], which makes it later: a
    /// read-modify-write without a lock, whose concurrent writes overwrite
    /// each other).
    pub atomic_debits: bool,
    /// A refill is refused unless the service has `refill` and the order is
    /// Completed or Partial (off: any order the key sees can be refilled).
    pub enforce_refill: bool,
    /// A cancel is refused unless the service has `cancel` (off: the flag is
    /// ignored; a terminal order still cannot be canceled).
    pub enforce_cancel: bool,
    /// A drip-feed order is charged for all its runs (off: for one run).
    pub charge_all_runs: bool,
    /// `runs` is refused on a service without `dripfeed` (off: accepted and
    /// charged for every run).
    pub enforce_dripfeed: bool,
    /// An order the balance does not cover is refused (off: accepted, the
    /// balance going negative, down to −[`crate::money::MAX_BALANCE`]).
    pub enforce_funds: bool,
    /// `remains` never grows (off: it grows while an order is in progress).
    pub steady_remains: bool,
    /// A Completed order stays Completed (off: it is shown In progress again
    /// after it was shown Completed).
    pub final_stays_final: bool,
    /// What past 100 ids get.
    pub overflow: Overflow,
    /// A second order of a key on a link with one of its orders still
    /// running (not Completed, Partial or Canceled) is refused with `You
    /// have active order with this link. …` (CONTRACT §4), as many real
    /// panels do. The contract allows both; off in [`Rules::CONTRACT`].
    pub one_active_order_per_link: bool,
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
        refund_canceled: true,
        atomic_debits: true,
        enforce_refill: true,
        enforce_cancel: true,
        charge_all_runs: true,
        enforce_dripfeed: true,
        enforce_funds: true,
        steady_remains: true,
        final_stays_final: true,
        overflow: Overflow::Refuse,
        one_active_order_per_link: false,
    };
}

impl Default for Rules {
    fn default() -> Self {
        Self::CONTRACT
    }
}
