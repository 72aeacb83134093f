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

/// The ids of a bulk field (`orders`, `refills`) as the contract reads them
/// (DECISIONS 18): split on commas, trimmed, blanks dropped, each once, in
/// the order sent. Linear in the field's length, whatever it holds.
pub fn distinct_ids(raw: &str) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    raw.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty() && seen.insert(*id))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn bulk_ids_are_trimmed_blanks_dropped_each_once_in_order() {
        assert_eq!(super::distinct_ids(" 3, 1,,3 ,x, 1"), ["3", "1", "x"]);
        assert!(super::distinct_ids(" , ").is_empty());
    }
}
