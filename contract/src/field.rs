//! The names of a request's fields (CONTRACT §1, §2, §2.1) that both
//! binaries read or send.

/// The API key, in every request.
pub const KEY: &str = "key";
/// The action, in every request.
pub const ACTION: &str = "action";
/// The service of an `add`.
pub const SERVICE: &str = "service";
/// The link of an `add`.
pub const LINK: &str = "link";
/// The quantity of an `add`.
pub const QUANTITY: &str = "quantity";
/// Drip-feed runs of an `add`.
pub const RUNS: &str = "runs";
/// Drip-feed interval (minutes) of an `add`.
pub const INTERVAL: &str = "interval";
/// One order: `status`, `refill`.
pub const ORDER: &str = "order";
/// Many orders, comma-separated: `status`, `refill`, `cancel`.
pub const ORDERS: &str = "orders";
/// One refill: `refill_status`.
pub const REFILL: &str = "refill";
/// Many refills, comma-separated: `refill_status`.
pub const REFILLS: &str = "refills";
