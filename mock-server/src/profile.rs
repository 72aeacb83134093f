//! Deviation profiles: named ways in which the mock breaks the contract on
//! purpose, as real panels do (CONTRACT §6, REAL-WORLD D1-D20).
//!
//! Client authors switch them on to harden their clients; the conformance
//! runner's tests switch them on to prove that each check catches the
//! violation it exists for. Each profile is data: its name, its class, what it
//! simulates and where that behaviour was seen. `smm-mock --list-profiles`
//! prints the table.

use std::fmt;
use std::str::FromStr;

/// How bad a deviation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A form of CONTRACT §6 items 1-4 that tolerant clients accept.
    Drift,
    /// Breaks the contract.
    Breaking,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Drift => "drift",
            Self::Breaking => "breaking",
        })
    }
}

/// A deviation the mock can reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// `In Progress` instead of `In progress`.
    StatusCase,
    /// Bulk per-id errors as a bare string.
    BareStringBulkErrors,
    /// Answers every id past 100.
    BulkOverflowIgnored,
    /// Errors with HTTP 4xx.
    Http4xxErrors,
    /// A rejected order still costs money.
    ChargeOnError,
    /// Charges 10× the price.
    WrongCharge,
}

/// What a profile is, as data.
#[derive(Debug, Clone, Copy)]
pub struct Description {
    /// The profile.
    pub profile: Profile,
    /// Its name on the command line.
    pub name: &'static str,
    /// Its class.
    pub class: Class,
    /// What the mock does under it.
    pub simulates: &'static str,
    /// Where that behaviour comes from.
    pub seen: &'static str,
}

/// Every profile.
pub const PROFILES: &[Description] = &[
    Description {
        profile: Profile::StatusCase,
        name: "status-case",
        class: Class::Drift,
        simulates: "order status `In Progress` (capital P) instead of `In progress`",
        seen: "a PHP client library's test fixtures, and a panel page that title-cases every value (D5)",
    },
    Description {
        profile: Profile::BareStringBulkErrors,
        name: "bare-string-bulk-errors",
        class: Class::Breaking,
        simulates: "an unknown id in bulk status answered `\"12\": \"Incorrect order ID\"` instead of an error object",
        seen: "the API of a public SmartPanel clone (D10)",
    },
    Description {
        profile: Profile::BulkOverflowIgnored,
        name: "bulk-overflow-ignored",
        class: Class::Breaking,
        simulates: "101 or more ids are all answered instead of a top-level error",
        seen: "every panel documents \"up to 100 IDs\"; none documents what happens past it (CONTRACT §5)",
    },
    Description {
        profile: Profile::Http4xxErrors,
        name: "http-4xx-errors",
        class: Class::Breaking,
        simulates: "errors answered with HTTP 400 (or 401 for a bad key, 402 for funds) instead of 200",
        seen: "sns-panel.com (402 for funds) and Laravel-based panels (400/422) (D12)",
    },
    Description {
        profile: Profile::ChargeOnError,
        name: "charge-on-error",
        class: Class::Breaking,
        simulates: "a refused order still debits the price of the service's minimum quantity",
        seen: "a panel bug class: the debit happens before validation",
    },
    Description {
        profile: Profile::WrongCharge,
        name: "wrong-charge",
        class: Class::Breaking,
        simulates: "orders cost rate × quantity / 100 (ten times the price)",
        seen: "a panel bug class: the rate taken per 100 instead of per 1000",
    },
];

impl Profile {
    /// The description of this profile.
    pub fn describe(self) -> &'static Description {
        PROFILES
            .iter()
            .find(|d| d.profile == self)
            .unwrap_or(&PROFILES[0])
    }

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        self.describe().name
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PROFILES
            .iter()
            .find(|d| d.name == s)
            .map(|d| d.profile)
            .ok_or_else(|| {
                let names: Vec<&str> = PROFILES.iter().map(|d| d.name).collect();
                format!("unknown profile `{s}` (known: {})", names.join(", "))
            })
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of switched-on profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profiles(u64);

impl Profiles {
    /// No deviation: the conforming panel.
    pub const NONE: Profiles = Profiles(0);

    /// Whether `profile` is on.
    pub fn has(self, profile: Profile) -> bool {
        self.0 & profile.bit() != 0
    }

    /// This set with `profile` on.
    pub fn with(self, profile: Profile) -> Profiles {
        Profiles(self.0 | profile.bit())
    }

    /// The profiles that are on, in table order.
    pub fn iter(self) -> impl Iterator<Item = Profile> {
        PROFILES
            .iter()
            .map(|d| d.profile)
            .filter(move |p| self.has(*p))
    }
}

impl FromIterator<Profile> for Profiles {
    fn from_iter<I: IntoIterator<Item = Profile>>(iter: I) -> Self {
        iter.into_iter().fold(Profiles::NONE, Profiles::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_is_described_once_and_parses_by_name() {
        for d in PROFILES {
            assert_eq!(d.name.parse::<Profile>(), Ok(d.profile));
            assert_eq!(d.profile.describe().name, d.name);
        }
        assert!("nope".parse::<Profile>().is_err());
    }

    #[test]
    fn sets_hold_what_was_put_in() {
        let set: Profiles = [Profile::WrongCharge, Profile::StatusCase]
            .into_iter()
            .collect();
        assert!(set.has(Profile::WrongCharge) && set.has(Profile::StatusCase));
        assert!(!set.has(Profile::ChargeOnError));
        assert_eq!(set.iter().count(), 2);
    }
}
