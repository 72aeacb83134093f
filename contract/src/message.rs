//! The error messages of CONTRACT §4, as the reference panels word them.
//!
//! A conforming panel may word its messages its own way: what the contract
//! requires is the shape (`{"error": "<non-empty string>"}`, HTTP 200) and
//! that a refused request changes nothing. These are the words of the
//! reference panels, which the mock answers with.

/// The key is missing, empty or unknown.
pub const INVALID_API_KEY: &str = "Invalid API key";
/// An unknown or missing action, or missing fields.
pub const INCORRECT_REQUEST: &str = "Incorrect request";
/// `add` for a service that is not in the catalogue.
pub const INCORRECT_SERVICE_ID: &str = "Incorrect service ID";
/// An order that does not exist, or is another key's.
pub const INCORRECT_ORDER_ID: &str = "Incorrect order ID";
/// A refill that does not exist, or is another key's.
pub const REFILL_NOT_FOUND: &str = "Refill not found";
/// The charge is more than the balance.
pub const NOT_ENOUGH_FUNDS: &str = "Not enough funds on balance";
/// A quantity below the service's minimum; the minimum follows, after a space.
pub const QUANTITY_LESS_THAN_MINIMAL: &str = "Quantity less than minimal";
/// A quantity above the service's maximum; the maximum follows, after a space.
pub const QUANTITY_MORE_THAN_MAXIMUM: &str = "Quantity more than maximum";
/// The link is missing or not one the panel takes.
pub const INCORRECT_LINK: &str = "Incorrect link";
/// A second order on a link with one still running.
pub const ACTIVE_ORDER_WITH_LINK: &str =
    "You have active order with this link. Please wait until order being completed.";

/// Every message of §4 (the two quantity messages without their number).
pub const ALL: [&str; 10] = [
    INVALID_API_KEY,
    INCORRECT_REQUEST,
    INCORRECT_SERVICE_ID,
    INCORRECT_ORDER_ID,
    REFILL_NOT_FOUND,
    NOT_ENOUGH_FUNDS,
    QUANTITY_LESS_THAN_MINIMAL,
    QUANTITY_MORE_THAN_MAXIMUM,
    INCORRECT_LINK,
    ACTIVE_ORDER_WITH_LINK,
];
