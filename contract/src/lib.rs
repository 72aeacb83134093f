//! `smm-contract`: the SMM panel API v2 contract (CONTRACT.md) as types,
//! spelled once and shared by the mock panel (`smm-mock`), the conformance
//! runner and its snapshots (`smm-conformance`).
//!
//! ```
//! use smm_contract::{Action, OrderStatus, ServiceType, BULK_LIMIT};
//!
//! assert_eq!(Action::parse("refill_status"), Some(Action::RefillStatus));
//! assert_eq!(OrderStatus::InProgress.as_str(), "In progress");
//! // A tolerant reading takes the spellings real panels send (CONTRACT §6.2).
//! assert_eq!(OrderStatus::read_drifted("Cancelled"), Some(OrderStatus::Canceled));
//! assert_eq!(ServiceType::parse("Custom Comments"), Some(ServiceType::CustomComments));
//! assert_eq!(BULK_LIMIT, 100);
//! ```
//!
//! How the parts fit: [`Action`] names the endpoint's actions (§2) and the
//! fields that carry their ids ([`field`] names the request's fields); [`OrderStatus`] and [`RefillStatus`] are the
//! enums of §3 with their drifted spellings (§6.2); [`ServiceType`] is §2.1;
//! [`message`] holds the error messages of §4; [`drift`] is the table of §6
//! items 1-4, read in both directions: a mock applies a drift, a tolerant
//! reader or a snapshot classifier undoes it.

mod action;
pub mod drift;
pub mod field;
pub mod message;
mod service;
mod status;

pub use action::Action;
pub use service::ServiceType;
pub use status::{OrderStatus, OrderStatusDrift, RefillStatus, RefillStatusDrift};

/// The most distinct ids `orders` / `refills` take (CONTRACT §5).
pub const BULK_LIMIT: usize = 100;

/// The fields every service object has (CONTRACT §3), in the order the
/// reference page writes them.
pub const SERVICE_FIELDS: [&str; 10] = [
    "service", "name", "type", "category", "rate", "min", "max", "dripfeed", "refill", "cancel",
];

/// The boolean flags of a service (CONTRACT §3): the last three of
/// [`SERVICE_FIELDS`].
pub const SERVICE_FLAGS: [&str; 3] = ["dripfeed", "refill", "cancel"];

/// Reads an enum value by its exact spelling, for serde: a wrong one is
/// refused with every spelling listed.
fn deserialize_spelled<'de, D, T>(
    deserializer: D,
    names: &'static [&'static str],
    parse: fn(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::unknown_variant(&text, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_are_the_last_service_fields() {
        assert_eq!(SERVICE_FIELDS[7..], SERVICE_FLAGS);
    }
}
