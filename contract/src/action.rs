//! The actions of the one endpoint (CONTRACT §2).

use std::fmt;
use std::str::FromStr;

use crate::field;

/// An action, the `action` field of every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// `services`: the catalogue.
    Services,
    /// `add`: place an order.
    Add,
    /// `status`: an order's status (`order`), or many (`orders`).
    Status,
    /// `refill`: refill an order (`order`), or many (`orders`).
    Refill,
    /// `refill_status`: a refill's status (`refill`), or many (`refills`).
    RefillStatus,
    /// `cancel`: cancel orders (`orders`; the reference page has no single
    /// form, though panels and the mock read `order` too).
    Cancel,
    /// `balance`: the account's balance and currency.
    Balance,
}

impl Action {
    /// Every action, in the order of CONTRACT §2's table (this order numbers
    /// them: `action as usize` is the index here).
    pub const ALL: [Action; 7] = [
        Self::Services,
        Self::Add,
        Self::Status,
        Self::Refill,
        Self::RefillStatus,
        Self::Cancel,
        Self::Balance,
    ];

    /// The action as requests spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Services => "services",
            Self::Add => "add",
            Self::Status => "status",
            Self::Refill => "refill",
            Self::RefillStatus => "refill_status",
            Self::Cancel => "cancel",
            Self::Balance => "balance",
        }
    }

    /// The action with exactly this spelling (actions are case-sensitive).
    pub fn parse(text: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The field that names one id (`order`, `refill`), for the actions
    /// that have a single form.
    pub const fn id_field(self) -> Option<&'static str> {
        match self {
            Self::Status | Self::Refill => Some(field::ORDER),
            Self::RefillStatus => Some(field::REFILL),
            _ => None,
        }
    }

    /// The field that carries a comma-separated list of at most
    /// [`crate::BULK_LIMIT`] ids (`orders`, `refills`), for the actions that
    /// have a bulk form.
    pub const fn bulk_field(self) -> Option<&'static str> {
        match self {
            Self::Status | Self::Refill | Self::Cancel => Some(field::ORDERS),
            Self::RefillStatus => Some(field::REFILLS),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            format!("no action is named `{s}` (actions: {})", names.join(", "))
        })
    }
}

impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const NAMES: [&str; 7] = [
            Action::Services.as_str(),
            Action::Add.as_str(),
            Action::Status.as_str(),
            Action::Refill.as_str(),
            Action::RefillStatus.as_str(),
            Action::Cancel.as_str(),
            Action::Balance.as_str(),
        ];
        crate::deserialize_spelled(deserializer, &NAMES, Action::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_parses_by_its_spelling_and_numbers_itself() {
        for (i, action) in Action::ALL.into_iter().enumerate() {
            assert_eq!(Action::parse(action.as_str()), Some(action));
            assert_eq!(action as usize, i);
        }
        assert_eq!(Action::parse("Balance"), None);
        assert_eq!(Action::parse(" balance"), None);
    }

    #[test]
    fn single_and_bulk_fields() {
        assert_eq!(Action::Status.id_field(), Some("order"));
        assert_eq!(Action::RefillStatus.bulk_field(), Some("refills"));
        assert_eq!(Action::Cancel.id_field(), None);
        assert_eq!(Action::Add.bulk_field(), None);
    }
}
