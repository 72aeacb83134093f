//! The status enums of CONTRACT §3, and the spellings real panels send
//! instead (§6.2).
//!
//! A client that reads tolerantly ([`OrderStatus::read_drifted`]) ignores
//! case and spaces and takes each drifted spelling as the status it stands
//! for; a panel that drifts (the mock under a profile) writes the drifted
//! spelling ([`OrderStatusDrift::text`]) in place of the status it stands for.

use std::fmt;

/// The order status enum of CONTRACT §3, with its exact spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderStatus {
    /// Accepted, not started.
    Pending,
    /// Being delivered.
    InProgress,
    /// Being delivered (the other spelling panels use for the same state).
    Processing,
    /// Fully delivered.
    Completed,
    /// Stopped part-way; charged only for what was delivered.
    Partial,
    /// Canceled; charged nothing.
    Canceled,
}

/// How a drifted spelling compares: case and spaces do not count.
fn key(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The value of `all` that `text` reads as: its exact spelling, the same in
/// another case or spacing, or one of the `drifts` (each with the text a
/// panel writes and the value it stands for).
fn read_drifted<S: Copy + 'static, D: Copy>(
    text: &str,
    all: &[S],
    spell: fn(S) -> &'static str,
    drifts: &[D],
    drift: fn(D) -> (&'static str, S),
) -> Option<S> {
    if let Some(exact) = all.iter().copied().find(|s| spell(*s) == text) {
        return Some(exact);
    }
    let key = key(text);
    all.iter()
        .copied()
        .find(|s| self::key(spell(*s)) == key)
        .or_else(|| {
            drifts
                .iter()
                .map(|d| drift(*d))
                .find(|(spelled, _)| self::key(spelled) == key)
                .map(|(_, status)| status)
        })
}

/// The double-l spelling panels use for orders and refills alike (§6.2).
const CANCELLED: &str = "Cancelled";

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 6] = [
        Self::Pending,
        Self::InProgress,
        Self::Processing,
        Self::Completed,
        Self::Partial,
        Self::Canceled,
    ];

    /// The status as the API spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::InProgress => "In progress",
            Self::Processing => "Processing",
            Self::Completed => "Completed",
            Self::Partial => "Partial",
            Self::Canceled => "Canceled",
        }
    }

    /// The status spelled exactly as the API spells it, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status a tolerant client reads in `text`: the exact spelling, the
    /// same in another case or spacing (`In Progress`, `processing`,
    /// `inprogress`), or a value of §6.2 ([`OrderStatusDrift`]).
    pub fn read_drifted(text: &str) -> Option<Self> {
        read_drifted(
            text,
            &Self::ALL,
            Self::as_str,
            &OrderStatusDrift::ALL,
            |d| (d.text(), d.stands_for()),
        )
    }

    /// Completed, Partial and Canceled never change again.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Partial | Self::Canceled)
    }

    /// Whether an order may go from `self` to `next` (staying is always
    /// legal): never back to Pending, never out of a terminal status.
    pub fn may_become(self, next: Self) -> bool {
        self == next || (!self.is_terminal() && next != Self::Pending)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order status real panels send that is not the enum's spelling
/// (CONTRACT §6.2, REAL-WORLD D5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatusDrift {
    /// `In Progress`, a capital P.
    TitleCase,
    /// `Cancelled`, a double l.
    DoubleL,
    /// `Refunded`, a SmartPanel value for a canceled order.
    Refunded,
    /// `Failed`, for an order that stopped part-way.
    Failed,
    /// `Active`, a SmartPanel value for an order being delivered.
    Active,
}

impl OrderStatusDrift {
    /// Every drifted spelling.
    pub const ALL: [OrderStatusDrift; 5] = [
        Self::TitleCase,
        Self::DoubleL,
        Self::Refunded,
        Self::Failed,
        Self::Active,
    ];

    /// How such a panel writes it.
    pub const fn text(self) -> &'static str {
        match self {
            Self::TitleCase => "In Progress",
            Self::DoubleL => CANCELLED,
            Self::Refunded => "Refunded",
            Self::Failed => "Failed",
            Self::Active => "Active",
        }
    }

    /// The status of the enum it stands for.
    pub const fn stands_for(self) -> OrderStatus {
        match self {
            Self::TitleCase | Self::Active => OrderStatus::InProgress,
            Self::DoubleL | Self::Refunded => OrderStatus::Canceled,
            Self::Failed => OrderStatus::Partial,
        }
    }
}

/// The refill status enum of CONTRACT §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefillStatus {
    /// Requested, not started.
    Pending,
    /// Being refilled.
    InProgress,
    /// Refilled.
    Completed,
    /// Refused by the panel.
    Rejected,
}

impl RefillStatus {
    /// Every refill status.
    pub const ALL: [RefillStatus; 4] = [
        Self::Pending,
        Self::InProgress,
        Self::Completed,
        Self::Rejected,
    ];

    /// The status as the API spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => OrderStatus::Pending.as_str(),
            Self::InProgress => OrderStatus::InProgress.as_str(),
            Self::Completed => OrderStatus::Completed.as_str(),
            Self::Rejected => "Rejected",
        }
    }

    /// The status spelled exactly as the API spells it, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The refill status a tolerant client reads in `text` (see
    /// [`OrderStatus::read_drifted`] and [`RefillStatusDrift`]).
    pub fn read_drifted(text: &str) -> Option<Self> {
        read_drifted(
            text,
            &Self::ALL,
            Self::as_str,
            &RefillStatusDrift::ALL,
            |d| (d.text(), d.stands_for()),
        )
    }

    /// Completed and Rejected never change again.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Rejected)
    }

    /// Whether a refill may go from `self` to `next` (staying is always legal).
    pub fn may_become(self, next: Self) -> bool {
        self == next
            || match self {
                Self::Pending => next != Self::Pending,
                Self::InProgress => next.is_terminal(),
                Self::Completed | Self::Rejected => false,
            }
    }
}

impl fmt::Display for RefillStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refill status real panels send that is not the enum's spelling
/// (CONTRACT §6.2, REAL-WORLD D5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefillStatusDrift {
    /// `Cancelled`, for a refused refill.
    DoubleL,
    /// `Canceled`, the order enum's word, for a refused refill.
    Canceled,
    /// `Awaiting`, a Laravel panel's word for a refill not started.
    Awaiting,
    /// `Processing`, the order enum's word, for a refill under way.
    Processing,
}

impl RefillStatusDrift {
    /// Every drifted spelling.
    pub const ALL: [RefillStatusDrift; 4] = [
        Self::DoubleL,
        Self::Canceled,
        Self::Awaiting,
        Self::Processing,
    ];

    /// How such a panel writes it.
    pub const fn text(self) -> &'static str {
        match self {
            Self::DoubleL => CANCELLED,
            Self::Canceled => OrderStatus::Canceled.as_str(),
            Self::Awaiting => "Awaiting",
            Self::Processing => OrderStatus::Processing.as_str(),
        }
    }

    /// The refill status of the enum it stands for.
    pub const fn stands_for(self) -> RefillStatus {
        match self {
            Self::DoubleL | Self::Canceled => RefillStatus::Rejected,
            Self::Awaiting => RefillStatus::Pending,
            Self::Processing => RefillStatus::InProgress,
        }
    }
}

macro_rules! spelled_serde {
    ($ty:ident, [$($variant:ident),*]) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const NAMES: &[&str] = &[$($ty::$variant.as_str()),*];
                crate::deserialize_spelled(deserializer, NAMES, $ty::parse)
            }
        }
    };
}

spelled_serde!(
    OrderStatus,
    [Pending, InProgress, Processing, Completed, Partial, Canceled]
);
spelled_serde!(RefillStatus, [Pending, InProgress, Completed, Rejected]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_statuses_never_change_and_nothing_goes_back_to_pending() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let legal = from == to || (!from.is_terminal() && to != OrderStatus::Pending);
                assert_eq!(from.may_become(to), legal, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn drifted_spellings_read_as_the_status_they_stand_for() {
        use OrderStatus::*;
        for (text, status) in [
            ("In Progress", InProgress),
            ("in progress", InProgress),
            ("inprogress", InProgress),
            ("processing", Processing),
            ("COMPLETED", Completed),
            ("Cancelled", Canceled),
            ("Refunded", Canceled),
            ("Failed", Partial),
            ("Active", InProgress),
        ] {
            assert_eq!(OrderStatus::read_drifted(text), Some(status), "{text}");
        }
        assert_eq!(OrderStatus::read_drifted("Exploded"), None);
        for drift in OrderStatusDrift::ALL {
            assert_eq!(
                OrderStatus::parse(drift.text()),
                None,
                "{drift:?} is a drift"
            );
        }
    }

    #[test]
    fn refill_statuses_read_tolerantly() {
        use RefillStatus::*;
        for (text, status) in [
            ("pending", Pending),
            ("Awaiting", Pending),
            ("processing", InProgress),
            ("In Progress", InProgress),
            ("Cancelled", Rejected),
            ("canceled", Rejected),
            ("Completed", Completed),
        ] {
            assert_eq!(RefillStatus::read_drifted(text), Some(status), "{text}");
        }
        assert_eq!(RefillStatus::read_drifted("Partial"), None);
    }

    #[test]
    fn statuses_deserialize_by_spelling_and_refuse_others() {
        use serde::de::IntoDeserializer;
        let read = |text: &str| {
            let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                text.into_deserializer();
            <OrderStatus as serde::Deserialize>::deserialize(de).map_err(|e| e.to_string())
        };
        assert_eq!(read("In progress"), Ok(OrderStatus::InProgress));
        let refused = read("Done").unwrap_err();
        assert!(refused.contains("unknown variant `Done`"), "{refused}");
        assert!(refused.contains("`In progress`"), "{refused}");
    }
}
