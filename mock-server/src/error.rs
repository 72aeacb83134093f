//! The errors the panel answers with, as `{"error": "<message>"}` and HTTP 200.
//!
//! The messages are those the reference panels use (CONTRACT §4) wherever the
//! contract names one; the others follow the same short style. Every message is
//! listed in README's "Error messages" table.

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
