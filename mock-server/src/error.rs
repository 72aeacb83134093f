//! The errors the panel answers with, as `{"error": "<message>"}` and HTTP 200.
//!
//! The messages are those the reference panels use (CONTRACT §4) wherever the
//! contract names one; the others follow the same short style. Every message is
//! listed in README's "Error messages" table.

use thiserror::Error;

/// A request the panel refuses. A refused request changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// The key is missing, empty or unknown.
    #[error("Invalid API key")]
    InvalidKey,
    /// Unknown or missing action, or a request the panel cannot read.
    #[error("Incorrect request")]
    IncorrectRequest,
    /// A request the panel cannot read, with what is wrong with it.
    #[error("Incorrect request: {0}")]
    Malformed(String),
    /// `service` is missing, not a number or not in the catalogue.
    #[error("Incorrect service ID")]
    IncorrectService,
    /// `order` is missing, not a number, unknown, or another key's order.
    #[error("Incorrect order ID")]
    IncorrectOrder,
    /// `refill` is missing, not a number, unknown, or another key's refill.
    #[error("Refill not found")]
    RefillNotFound,
    /// The charge is more than the balance.
    #[error("Not enough funds on balance")]
    NotEnoughFunds,
    /// The quantity is below the service's minimum.
    #[error("Quantity less than minimal {0}")]
    QuantityLess(u64),
    /// The quantity is above the service's maximum.
    #[error("Quantity more than maximum {0}")]
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
    /// The body is larger than the panel reads.
    #[error("Request body too large: at most {0} bytes")]
    BodyTooLarge(usize),
}
