//! The errors the panel answers with, as `{"error": "<message>"}` and HTTP 200.
//!
//! The messages are those the reference panels use (CONTRACT §4) wherever the
//! contract names one; the others follow the same short style. Every message is
//! listed in README's "Error messages" table.

use std::collections::BTreeMap;

use smm_contract::message;
use thiserror::Error;

/// A request the panel refuses. A refused request changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// The key is missing, empty or unknown.
    #[error("{}", message::INVALID_API_KEY)]
    InvalidKey,
    /// Unknown or missing action, or a request the panel cannot read.
    #[error("{}", message::INCORRECT_REQUEST)]
    IncorrectRequest,
    /// A request the panel cannot read, with what is wrong with it.
    #[error("{}: {}", message::INCORRECT_REQUEST, .0)]
    Malformed(String),
    /// `service` is missing, not a number or not in the catalogue.
    #[error("{}", message::INCORRECT_SERVICE_ID)]
    IncorrectService,
    /// `order` is missing, not a number, unknown, or another key's order.
    #[error("{}", message::INCORRECT_ORDER_ID)]
    IncorrectOrder,
    /// `refill` is missing, not a number, unknown, or another key's refill.
    #[error("{}", message::REFILL_NOT_FOUND)]
    RefillNotFound,
    /// The charge is more than the balance.
    #[error("{}", message::NOT_ENOUGH_FUNDS)]
    NotEnoughFunds,
    /// The quantity is below the service's minimum.
    #[error("{} {}", message::QUANTITY_LESS_THAN_MINIMAL, .0)]
    QuantityLess(u64),
    /// The quantity is above the service's maximum.
    #[error("{} {}", message::QUANTITY_MORE_THAN_MAXIMUM, .0)]
    QuantityMore(u64),
    /// A field of the order is missing or malformed (`Incorrect link`, …).
    #[error("Incorrect {0}")]
    IncorrectField(&'static str),
    /// `runs` was sent to a service without drip-feed.
    #[error("This service does not support drip-feed")]
    DripfeedNotSupported,
    /// Refill asked for an order whose service has no refill, or that is not done.
    #[error("Order not eligible for refill")]
    RefillNotEligible,
    /// Cancel asked for an order whose service has no cancel, or that is done.
    #[error("Order cannot be canceled")]
    CancelNotAllowed,
    /// More than 100 distinct ids in `orders` or `refills`.
    #[error("Too many IDs: at most {0} per request")]
    TooManyIds(usize),
    /// A second order on a link with one still running (where the panel
    /// allows one active order per link).
    #[error("{}", message::ACTIVE_ORDER_WITH_LINK)]
    ActiveOrderWithLink,
    /// The body is larger than the panel reads.
    #[error("Request body too large: at most {0} bytes")]
    BodyTooLarge(usize),
}

/// The kinds of error whose words a fixture may change (its `messages`):
/// the ones with a fixed message, named as in the fixture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    /// `invalid_key`: [`ApiError::InvalidKey`].
    InvalidKey,
    /// `incorrect_request`: [`ApiError::IncorrectRequest`], and the words
    /// before the detail of [`ApiError::Malformed`].
    IncorrectRequest,
    /// `incorrect_service`: [`ApiError::IncorrectService`].
    IncorrectService,
    /// `incorrect_order`: [`ApiError::IncorrectOrder`].
    IncorrectOrder,
    /// `refill_not_found`: [`ApiError::RefillNotFound`].
    RefillNotFound,
    /// `not_enough_funds`: [`ApiError::NotEnoughFunds`].
    NotEnoughFunds,
    /// `quantity_less`: [`ApiError::QuantityLess`]; the minimum follows, after a space.
    QuantityLess,
    /// `quantity_more`: [`ApiError::QuantityMore`]; the maximum follows, after a space.
    QuantityMore,
    /// `dripfeed_not_supported`: [`ApiError::DripfeedNotSupported`].
    DripfeedNotSupported,
    /// `refill_not_eligible`: [`ApiError::RefillNotEligible`].
    RefillNotEligible,
    /// `cancel_not_allowed`: [`ApiError::CancelNotAllowed`].
    CancelNotAllowed,
    /// `too_many_ids`: [`ApiError::TooManyIds`] (the whole message).
    TooManyIds,
    /// `active_order_with_link`: [`ApiError::ActiveOrderWithLink`].
    ActiveOrderWithLink,
}

impl MessageKind {
    /// Every kind, in the order of the fixture format's table.
    pub const ALL: [MessageKind; 13] = [
        Self::InvalidKey,
        Self::IncorrectRequest,
        Self::IncorrectService,
        Self::IncorrectOrder,
        Self::RefillNotFound,
        Self::NotEnoughFunds,
        Self::QuantityLess,
        Self::QuantityMore,
        Self::DripfeedNotSupported,
        Self::RefillNotEligible,
        Self::CancelNotAllowed,
        Self::TooManyIds,
        Self::ActiveOrderWithLink,
    ];

    /// Its name in a fixture's `messages`.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidKey => "invalid_key",
            Self::IncorrectRequest => "incorrect_request",
            Self::IncorrectService => "incorrect_service",
            Self::IncorrectOrder => "incorrect_order",
            Self::RefillNotFound => "refill_not_found",
            Self::NotEnoughFunds => "not_enough_funds",
            Self::QuantityLess => "quantity_less",
            Self::QuantityMore => "quantity_more",
            Self::DripfeedNotSupported => "dripfeed_not_supported",
            Self::RefillNotEligible => "refill_not_eligible",
            Self::CancelNotAllowed => "cancel_not_allowed",
            Self::TooManyIds => "too_many_ids",
            Self::ActiveOrderWithLink => "active_order_with_link",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<MessageKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl ApiError {
    /// The kind of message it has, when a fixture may change its words.
    pub fn kind(&self) -> Option<MessageKind> {
        Some(match self {
            Self::InvalidKey => MessageKind::InvalidKey,
            Self::IncorrectRequest | Self::Malformed(_) => MessageKind::IncorrectRequest,
            Self::IncorrectService => MessageKind::IncorrectService,
            Self::IncorrectOrder => MessageKind::IncorrectOrder,
            Self::RefillNotFound => MessageKind::RefillNotFound,
            Self::NotEnoughFunds => MessageKind::NotEnoughFunds,
            Self::QuantityLess(_) => MessageKind::QuantityLess,
            Self::QuantityMore(_) => MessageKind::QuantityMore,
            Self::DripfeedNotSupported => MessageKind::DripfeedNotSupported,
            Self::RefillNotEligible => MessageKind::RefillNotEligible,
            Self::CancelNotAllowed => MessageKind::CancelNotAllowed,
            Self::TooManyIds(_) => MessageKind::TooManyIds,
            Self::ActiveOrderWithLink => MessageKind::ActiveOrderWithLink,
            Self::IncorrectField(_) | Self::BodyTooLarge(_) => return None,
        })
    }
}

/// How a panel words its errors: the fixture's `messages`, each kind in
/// its own words; a kind not given keeps the reference panels' words (the
/// [`ApiError`]'s own). Empty: the contract's words everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Messages(BTreeMap<MessageKind, String>);

impl Messages {
    /// The reference panels' words for every kind.
    pub const CONTRACT: Messages = Messages(BTreeMap::new());

    /// These messages, with `kind` worded `text`.
    pub fn with(mut self, kind: MessageKind, text: impl Into<String>) -> Messages {
        self.0.insert(kind, text.into());
        self
    }

    /// The words given for `kind`, if any.
    pub fn get(&self, kind: MessageKind) -> Option<&str> {
        self.0.get(&kind).map(String::as_str)
    }

    /// The kinds given, with their words, in [`MessageKind`] order.
    pub fn iter(&self) -> impl Iterator<Item = (MessageKind, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Whether no kind is worded otherwise.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message `error` is answered with.
    pub fn word(&self, error: &ApiError) -> String {
        let Some(text) = error.kind().and_then(|k| self.get(k)) else {
            return error.to_string();
        };
        match error {
            ApiError::Malformed(why) => format!("{text}: {why}"),
            ApiError::QuantityLess(n) | ApiError::QuantityMore(n) => format!("{text} {n}"),
            _ => text.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_named_once_and_reads_back() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.name()), Some(kind));
        }
        let mut names: Vec<&str> = MessageKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MessageKind::ALL.len());
        assert_eq!(MessageKind::parse("invalid key"), None);
    }

    #[test]
    fn a_kind_given_is_worded_so_and_the_others_keep_the_contract_s_words() {
        let messages = Messages::CONTRACT
            .with(MessageKind::InvalidKey, "Incorrect API key")
            .with(MessageKind::QuantityLess, "Min quantity is")
            .with(MessageKind::IncorrectRequest, "Bad request");
        assert_eq!(messages.word(&ApiError::InvalidKey), "Incorrect API key");
        assert_eq!(
            messages.word(&ApiError::QuantityLess(50)),
            "Min quantity is 50"
        );
        assert_eq!(
            messages.word(&ApiError::Malformed("no body".into())),
            "Bad request: no body"
        );
        assert_eq!(
            messages.word(&ApiError::IncorrectOrder),
            "Incorrect order ID"
        );
        assert_eq!(
            Messages::CONTRACT.word(&ApiError::QuantityMore(9)),
            "Quantity more than maximum 9"
        );
    }
}
