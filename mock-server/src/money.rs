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
        let mut out = Vec::with_capacity(24);
        self.write(amount, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends `amount` as [`Precision::format`] writes it. On the hot path
    /// (every balance and status answer): the digits of the rounded
    /// mantissa, written directly.
    pub fn write(self, amount: Decimal, out: &mut Vec<u8>) {
        // Amounts the panel keeps (balances, charges) are already at its
        // precision: no rounding to do.
        let mut rounded = if amount.scale() <= self.0 {
            amount
        } else {
            self.round(amount)
        };
        rounded.rescale(self.0);
        if rounded.scale() != self.0 {
            // Too large to hold this many places: the general formatter.
            out.extend_from_slice(format!("{:.*}", self.0 as usize, rounded).as_bytes());
            return;
        }
        let mantissa = rounded.mantissa();
        if mantissa < 0 {
            out.push(b'-');
        }
        let mut buf = Digits::new();
        let digits = buf.of(mantissa.unsigned_abs());
        let places = self.0 as usize;
        if digits.len() <= places {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + places - digits.len(), b'0');
            out.extend_from_slice(digits.as_bytes());
        } else {
            let (int, frac) = digits.split_at(digits.len() - places);
            out.extend_from_slice(int.as_bytes());
            if places > 0 {
                out.push(b'.');
                out.extend_from_slice(frac.as_bytes());
            }
        }
    }

    /// The price of `units` at `rate` per `per` units, rounded; `None` when the
    /// product does not fit a decimal.
    pub fn price(self, rate: Decimal, units: u64, per: u64) -> Option<Decimal> {
        let gross = rate.checked_mul(Decimal::from(units))?;
        Some(self.round(gross.checked_div(Decimal::from(per))?))
    }
}

/// The decimal digits of an unsigned integer, written on the stack: the
/// hot paths' numbers without the formatting machinery.
#[derive(Debug)]
pub struct Digits([u8; 40]);

impl Digits {
    /// A buffer.
    pub fn new() -> Digits {
        Digits([0; 40])
    }

    /// The digits of `n` (a Decimal's mantissa fits in 29; most numbers fit
    /// a u64, whose division is far cheaper than a u128's).
    pub fn of(&mut self, n: u128) -> &str {
        let buf = &mut self.0;
        let mut at = buf.len();
        let mut push = |digit: u8| {
            at -= 1;
            buf[at] = b'0' + digit;
        };
        match u64::try_from(n) {
            Ok(mut rest) => loop {
                push((rest % 10) as u8);
                rest /= 10;
                if rest == 0 {
                    break;
                }
            },
            Err(_) => {
                let mut rest = n;
                loop {
                    push((rest % 10) as u8);
                    rest /= 10;
                    if rest == 0 {
                        break;
                    }
                }
            }
        }
        std::str::from_utf8(&self.0[at..]).unwrap_or("0")
    }
}

impl Default for Digits {
    fn default() -> Self {
        Self::new()
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
    fn the_fast_writer_agrees_with_the_general_formatter() {
        for decimals in [0, 2, 5, 12] {
            let p = Precision::new(decimals);
            for text in [
                "0",
                "1000",
                "0.278195",
                "0.000001",
                "12.5",
                "-3.14159",
                "999999999999.99999",
                "0.5",
                "1000000000000000",
            ] {
                let amount = dec(text);
                let general = format!("{:.*}", decimals as usize, p.round(amount));
                assert_eq!(p.format(amount), general, "{text} at {decimals}");
            }
        }
    }

    #[test]
    fn negative_amounts_keep_their_sign() {
        let p = Precision::new(5);
        assert_eq!(p.format(dec("-0.003")), "-0.00300");
        assert_eq!(p.format(dec("-0.04800")), "-0.04800");
        assert_eq!(p.format(dec("-12.5")), "-12.50000");
        assert_eq!(
            p.format(-Decimal::from(MAX_BALANCE)),
            "-1000000000000000.00000"
        );
        assert_eq!(Precision::new(0).format(dec("-3")), "-3");
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
    fn digits_are_the_decimal_writing() {
        let mut buf = Digits::new();
        for n in [
            0u128,
            7,
            10,
            23501,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
            u128::MAX,
        ] {
            assert_eq!(buf.of(n), n.to_string());
        }
    }

    #[test]
    fn price_overflow_is_none_not_a_panic() {
        let p = Precision::new(5);
        assert_eq!(p.price(Decimal::MAX, u64::MAX, 1), None);
    }
}
