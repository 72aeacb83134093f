//! The logical clock: what moves orders and refills along their lifecycles.
//!
//! Time in the mock is a counter, never the wall clock, so the same requests
//! give the same answers. Three things advance it:
//! - in [`ClockMode::Poll`] (the default), each status poll of an order (single
//!   or bulk) answers the order's current step and then moves that order one
//!   step on, and each `refill_status` poll does the same for a refill: a
//!   client's polling loop sees the order progress;
//! - `POST /__mock/clock/advance` moves every order and refill on by N steps;
//! - `--tick-ms N` moves everything one step every N ms of wall time (for
//!   demos; this one is not deterministic).

use std::fmt;
use std::str::FromStr;

/// When orders move along their lifecycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// A status poll moves the polled order one step (after answering).
    #[default]
    Poll,
    /// Orders move only when the clock is advanced (admin API or `--tick-ms`).
    Manual,
}

impl FromStr for ClockMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "poll" => Ok(Self::Poll),
            "manual" => Ok(Self::Manual),
            other => Err(format!("unknown clock mode `{other}` (poll or manual)")),
        }
    }
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Poll => "poll",
            Self::Manual => "manual",
        })
    }
}
