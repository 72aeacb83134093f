//! Money: exact decimals, never floats (CONTRACT §3 "Money").
//!
//! A panel keeps every amount at one precision (the fixture's `precision`,
//! 5 decimals by default) and rounds half away from zero. A charge is
//! `rate × units / per`, where `per` is 1000 for services priced per thousand
//! and 1 for packages (see [`crate::service::price_per`]).

use rust_decimal::{Decimal, RoundingStrategy};

/// The largest balance an account may hold (so refunds can never overflow).
pub const MAX_BALANCE: u64 = 1_000_000_000_000_000;

/// The panel's money precision: how amounts are rounded and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision(u32);

impl Precision {
    /// The largest precision a fixture may ask for.
    pub const MAX: u32 = 12;

    /// A precision of `decimals` places, capped at [`Precision::MAX`].
    pub fn new(decimals: u32) -> Self {
        Self(decimals.min(Self::MAX))
    }

    /// The number of decimal places.
    pub fn decimals(self) -> u32 {
        self.0
    }

    /// `amount` rounded half away from zero to this precision.
    pub fn round(self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.0, RoundingStrategy::MidpointAwayFromZero)
    }

    /// `amount` as the panel prints it: a decimal string with exactly this
    /// many places (`"0.27819"`, `"1000.00000"`).
    pub fn format(self, amount: Decimal) -> String {
        format!("{:.*}", self.0 as usize, self.round(amount))
    }

    /// The price of `units` at `rate` per `per` units, rounded; `None` when the
    /// product does not fit a decimal.
    pub fn price(self, rate: Decimal, units: u64, per: u64) -> Option<Decimal> {
        let gross = rate.checked_mul(Decimal::from(units))?;
        Some(self.round(gross.checked_div(Decimal::from(per))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn format_pads_and_rounds_to_the_precision() {
        let p = Precision::new(5);
        assert_eq!(p.format(dec("1000")), "1000.00000");
        assert_eq!(p.format(dec("0.278194")), "0.27819");
        assert_eq!(p.format(dec("0.278195")), "0.27820");
        assert_eq!(Precision::new(2).format(dec("100.845")), "100.85");
        assert_eq!(Precision::new(0).format(dec("2.5")), "3");
    }

    #[test]
    fn price_is_rate_times_units_per_thousand() {
        let p = Precision::new(5);
        // The reference example: rate 0.420 per 1000, 10000 units.
        assert_eq!(p.price(dec("0.420"), 10_000, 1000), Some(dec("4.2")));
        assert_eq!(p.price(dec("0.90"), 1, 1000), Some(dec("0.0009")));
        assert_eq!(p.price(dec("0.0033"), 7, 1000), Some(dec("0.00002")));
        assert_eq!(p.price(dec("12.5"), 1, 1), Some(dec("12.5")));
    }

    #[test]
    fn price_overflow_is_none_not_a_panic() {
        let p = Precision::new(5);
        assert_eq!(p.price(Decimal::MAX, u64::MAX, 1), None);
    }
}
