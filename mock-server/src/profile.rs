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

use smm_contract::drift::{Form, Shape};
use smm_contract::{OrderStatusDrift, RefillStatus, RefillStatusDrift};

use crate::rules::{Overflow, Rules};

/// How bad a deviation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A form of CONTRACT §6 items 1-4 (and answering the first 100 of 101+
    /// ids) that tolerant clients accept: the runner warns in tolerant mode.
    Drift,
    /// Breaks the contract: the runner fails.
    Breaking,
    /// Breaks no contract but tests a client (latency, rate limits, one
    /// active order per link): listed, outside the detection matrix.
    Fault,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Drift => "drift",
            Self::Breaking => "breaking",
            Self::Fault => "fault",
        })
    }
}

/// A deviation the mock can reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// `string-ids`: service ids in `services` as strings (`"service": "1"`)
    StringIds,
    /// `numeric-fields`: rate, min, max, charge, start_count, remains and balance as JSON numbers
    NumericFields,
    /// `null-start-count`: `start_count` as `null`
    NullStartCount,
    /// `empty-start-count`: `start_count` as `""`
    EmptyStartCount,
    /// `remains-unknown`: `remains` as `"Unknown"`
    RemainsUnknown,
    /// `status-case`: order status `In Progress` (capital P) instead of `In progress`
    StatusCase,
    /// `status-lowercase`: order statuses in lower case (`processing`, `in progress`, `completed`)
    StatusLowercase,
    /// `cancelled-spelling`: `Cancelled` (double l) for orders and refills
    CancelledSpelling,
    /// `extra-status-values`: a canceled order reads `Refunded`, a partial one `Failed`
    ExtraStatusValues,
    /// `missing-currency`: no `currency` in status objects
    MissingCurrency,
    /// `missing-service-flags`: no `dripfeed`, `refill` or `cancel` in services
    MissingServiceFlags,
    /// `success-envelope`: `"status": "success"` beside `order` and `balance`
    SuccessEnvelope,
    /// `refill-int`: single refill answered `{"refill": 1}` (an integer)
    RefillInt,
    /// `bulk-overflow-truncated`: 101 or more ids: the first 100 answered, the rest dropped
    BulkOverflowTruncated,
    /// `bare-string-bulk-errors`: an unknown id in bulk status answered `"12": "Incorrect order ID"` instead of an error object
    BareStringBulkErrors,
    /// `bulk-as-list`: bulk status answered as a list of objects instead of an object keyed by id
    BulkAsList,
    /// `cancel-keyed-object`: cancel answered as an object keyed by id instead of a list
    CancelKeyedObject,
    /// `bulk-overflow-ignored`: 101 or more ids are all answered instead of a top-level error
    BulkOverflowIgnored,
    /// `http-4xx-errors`: errors answered with HTTP 400 (or 401 for a bad key, 402 for funds) instead of 200
    Http4xxErrors,
    /// `html-errors`: errors answered by a Cloudflare-style HTML page with HTTP 503
    HtmlErrors,
    /// `random-5xx`: one request in 10 (drawn from the seed) answered HTTP 502 with an HTML page
    Random5xx,
    /// `wrong-content-type`: JSON answered with `Content-Type: text/html`
    WrongContentType,
    /// `truncated-json`: bulk answers cut off in the middle of the JSON
    TruncatedJson,
    /// `connection-reset`: `cancel` requests get the connection closed with no answer
    ConnectionReset,
    /// `hang`: `refill_status` never answers (until shutdown)
    Hang,
    /// `trailing-slash-redirect`: `/api/v2/` answers 301 to `/api/v2` instead of being served
    TrailingSlashRedirect,
    /// `api-v1-path`: the API is served at `/api/v1` instead of `/api/v2`
    ApiV1Path,
    /// `api-php-path`: the API is served at `/api.php` instead of `/api/v2`
    ApiPhpPath,
    /// `charge-on-error`: a refused order still debits the price of the service's minimum quantity
    ChargeOnError,
    /// `wrong-charge`: orders cost rate × quantity / 100 (ten times the price)
    WrongCharge,
    /// `no-refund-partial`: a Partial order keeps its whole charge
    NoRefundPartial,
    /// `remains-grows`: `remains` goes up again once an order is In progress
    RemainsGrows,
    /// `illegal-transition`: a Completed order goes back to In progress on the next poll
    IllegalTransition,
    /// `invalid-key-accepted`: any key is accepted as the first account's
    InvalidKeyAccepted,
    /// `min-not-enforced`: quantities below the service's minimum are accepted (and charged)
    MinNotEnforced,
    /// `orders-visible-across-keys`: any key can see and touch every key's orders and refills
    OrdersVisibleAcrossKeys,
    /// `no-refund-canceled`: a Canceled order keeps its whole charge: its status shows it and nothing returns to the balance
    NoRefundCanceled,
    /// `lost-debits`: an `add` reads the balance and writes balance − charge 20 ms later, over any write in between: concurrent orders of one key lose debits
    LostDebits,
    /// `refill-not-enforced`: refill is accepted for any order: of a service with `refill: false`, or not Completed or Partial
    RefillNotEnforced,
    /// `cancel-not-enforced`: cancel is accepted for orders of services with `cancel: false` (the order is Canceled and refunded)
    CancelNotEnforced,
    /// `dripfeed-runs-ignored`: a drip-feed order is charged for one run: rate × quantity / 1000, not × runs
    DripfeedRunsIgnored,
    /// `dripfeed-not-enforced`: `runs` accepted on services with `dripfeed: false`, charged rate × quantity × runs / 1000
    DripfeedNotEnforced,
    /// `overdraft`: an order the balance does not cover is accepted, and the balance goes negative
    Overdraft,
    /// `refill-status-unknown`: a Completed refill reads `Done`, outside the refill status enum
    RefillStatusUnknown,
    /// `slow`: every answer is delayed by 300 ms (under the runner's timeout)
    Slow,
    /// `rate-limit-429`: one request in 5 answered HTTP 429 with `Retry-After: 1`
    RateLimit429,
    /// `active-order-per-link`: a second `add` of a key on a link with one of its orders still running is refused
    ActiveOrderPerLink,
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

/// Every profile, in the order of the README.
pub const PROFILES: &[Description] = &[
    Description {
        profile: Profile::StringIds,
        name: "string-ids",
        class: Class::Drift,
        simulates: "service ids in `services` as strings (`\"service\": \"1\"`)",
        seen: "panel.rip, smm.tgfen.com, followeran.com (D1)",
    },
    Description {
        profile: Profile::NumericFields,
        name: "numeric-fields",
        class: Class::Drift,
        simulates: "rate, min, max, charge, start_count, remains and balance as JSON numbers",
        seen: "followeran.com, sns-panel.com, a second doc template (D2)",
    },
    Description {
        profile: Profile::NullStartCount,
        name: "null-start-count",
        class: Class::Drift,
        simulates: "`start_count` as `null`",
        seen: "PHP and JS bot code capturing real answers (D3)",
    },
    Description {
        profile: Profile::EmptyStartCount,
        name: "empty-start-count",
        class: Class::Drift,
        simulates: "`start_count` as `\"\"`",
        seen: "a live NGN panel's child orders (D3)",
    },
    Description {
        profile: Profile::RemainsUnknown,
        name: "remains-unknown",
        class: Class::Drift,
        simulates: "`remains` as `\"Unknown\"`",
        seen: "followeran.com bulk status (D4)",
    },
    Description {
        profile: Profile::StatusCase,
        name: "status-case",
        class: Class::Drift,
        simulates: "order status `In Progress` (capital P) instead of `In progress`",
        seen: "a PHP client library's test fixtures, and a panel page that title-cases every value (D5)",
    },
    Description {
        profile: Profile::StatusLowercase,
        name: "status-lowercase",
        class: Class::Drift,
        simulates: "order statuses in lower case (`processing`, `in progress`, `completed`)",
        seen: "followeran.com; refill status `pending` on sns-panel.com (D5)",
    },
    Description {
        profile: Profile::CancelledSpelling,
        name: "cancelled-spelling",
        class: Class::Drift,
        simulates: "`Cancelled` (double l) for orders and refills",
        seen: "a second panel doc template (D5)",
    },
    Description {
        profile: Profile::ExtraStatusValues,
        name: "extra-status-values",
        class: Class::Drift,
        simulates: "a canceled order reads `Refunded`, a partial one `Failed`",
        seen: "statuses of SmartPanel-family panels and PHP bots (D5)",
    },
    Description {
        profile: Profile::MissingCurrency,
        name: "missing-currency",
        class: Class::Drift,
        simulates: "no `currency` in status objects",
        seen: "a PHP client's comment, followeran.com (D6)",
    },
    Description {
        profile: Profile::MissingServiceFlags,
        name: "missing-service-flags",
        class: Class::Drift,
        simulates: "no `dripfeed`, `refill` or `cancel` in services",
        seen: "older Perfect Panel pages, panel.rip (D6)",
    },
    Description {
        profile: Profile::SuccessEnvelope,
        name: "success-envelope",
        class: Class::Drift,
        simulates: "`\"status\": \"success\"` beside `order` and `balance`",
        seen: "followeran.com, a SmartPanel clone (D7)",
    },
    Description {
        profile: Profile::RefillInt,
        name: "refill-int",
        class: Class::Drift,
        simulates: "single refill answered `{\"refill\": 1}` (an integer)",
        seen: "a second panel doc template (D9)",
    },
    Description {
        profile: Profile::BulkOverflowTruncated,
        name: "bulk-overflow-truncated",
        class: Class::Drift,
        simulates: "101 or more ids: the first 100 answered, the rest dropped",
        seen: "how clients that split into chunks of 100 expect a panel to behave (CONTRACT §5)",
    },
    Description {
        profile: Profile::BareStringBulkErrors,
        name: "bare-string-bulk-errors",
        class: Class::Breaking,
        simulates: "an unknown id in bulk status answered `\"12\": \"Incorrect order ID\"` instead of an error object",
        seen: "the API of a public SmartPanel clone (D10)",
    },
    Description {
        profile: Profile::BulkAsList,
        name: "bulk-as-list",
        class: Class::Breaking,
        simulates: "bulk status answered as a list of objects instead of an object keyed by id",
        seen: "Laravel panel code (D11)",
    },
    Description {
        profile: Profile::CancelKeyedObject,
        name: "cancel-keyed-object",
        class: Class::Breaking,
        simulates: "cancel answered as an object keyed by id instead of a list",
        seen: "sns-panel.com (D11)",
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
        profile: Profile::HtmlErrors,
        name: "html-errors",
        class: Class::Breaking,
        simulates: "errors answered by a Cloudflare-style HTML page with HTTP 503",
        seen: "CDNs and WAFs in front of panels (D13)",
    },
    Description {
        profile: Profile::Random5xx,
        name: "random-5xx",
        class: Class::Breaking,
        simulates: "one request in 10 (drawn from the seed) answered HTTP 502 with an HTML page",
        seen: "origin failures behind a CDN (D13)",
    },
    Description {
        profile: Profile::WrongContentType,
        name: "wrong-content-type",
        class: Class::Breaking,
        simulates: "JSON answered with `Content-Type: text/html`",
        seen: "PHP panels that never set a content type (D13)",
    },
    Description {
        profile: Profile::TruncatedJson,
        name: "truncated-json",
        class: Class::Breaking,
        simulates: "bulk answers cut off in the middle of the JSON",
        seen: "a worker killed mid-answer; proxies with small buffers",
    },
    Description {
        profile: Profile::ConnectionReset,
        name: "connection-reset",
        class: Class::Breaking,
        simulates: "`cancel` requests get the connection closed with no answer",
        seen: "overloaded panels and CDNs dropping connections",
    },
    Description {
        profile: Profile::Hang,
        name: "hang",
        class: Class::Breaking,
        simulates: "`refill_status` never answers (until shutdown)",
        seen: "a stuck PHP worker; clients with no timeout hang for ever (D20)",
    },
    Description {
        profile: Profile::TrailingSlashRedirect,
        name: "trailing-slash-redirect",
        class: Class::Breaking,
        simulates: "`/api/v2/` answers 301 to `/api/v2` instead of being served",
        seen: "panels behind nginx rules; breaks clients that do not follow redirects or turn POST into GET (D15)",
    },
    Description {
        profile: Profile::ApiV1Path,
        name: "api-v1-path",
        class: Class::Breaking,
        simulates: "the API is served at `/api/v1` instead of `/api/v2`",
        seen: "SmartPanel, smmpans.com (D15)",
    },
    Description {
        profile: Profile::ApiPhpPath,
        name: "api-php-path",
        class: Class::Breaking,
        simulates: "the API is served at `/api.php` instead of `/api/v2`",
        seen: "old panels' API pages and code (D15)",
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
    Description {
        profile: Profile::NoRefundPartial,
        name: "no-refund-partial",
        class: Class::Breaking,
        simulates: "a Partial order keeps its whole charge",
        seen: "a panel bug class: refunds run only for cancels",
    },
    Description {
        profile: Profile::RemainsGrows,
        name: "remains-grows",
        class: Class::Breaking,
        simulates: "`remains` goes up again once an order is In progress",
        seen: "a panel that recomputes remains from a live follower count",
    },
    Description {
        profile: Profile::IllegalTransition,
        name: "illegal-transition",
        class: Class::Breaking,
        simulates: "a Completed order goes back to In progress on the next poll",
        seen: "a panel that re-queues finished orders",
    },
    Description {
        profile: Profile::InvalidKeyAccepted,
        name: "invalid-key-accepted",
        class: Class::Breaking,
        simulates: "any key is accepted as the first account's",
        seen: "a panel whose key check fails open",
    },
    Description {
        profile: Profile::MinNotEnforced,
        name: "min-not-enforced",
        class: Class::Breaking,
        simulates: "quantities below the service's minimum are accepted (and charged)",
        seen: "a panel that validates only the maximum",
    },
    Description {
        profile: Profile::OrdersVisibleAcrossKeys,
        name: "orders-visible-across-keys",
        class: Class::Breaking,
        simulates: "any key can see and touch every key's orders and refills",
        seen: "a panel that looks orders up by id only",
    },
    Description {
        profile: Profile::NoRefundCanceled,
        name: "no-refund-canceled",
        class: Class::Breaking,
        simulates: "a Canceled order keeps its whole charge: its status shows it and nothing returns to the balance",
        seen: "a panel bug class: a cancel stops delivery but never refunds (CONTRACT §3: a Canceled order is charged nothing)",
    },
    Description {
        profile: Profile::LostDebits,
        name: "lost-debits",
        class: Class::Breaking,
        simulates: "an `add` reads the balance and writes balance − charge 20 ms later, over any write in between: concurrent orders of one key lose debits",
        seen: "a panel bug class: the balance read, computed and written back without a lock",
    },
    Description {
        profile: Profile::RefillNotEnforced,
        name: "refill-not-enforced",
        class: Class::Breaking,
        simulates: "refill is accepted for any order: of a service with `refill: false`, or not Completed or Partial",
        seen: "a panel that checks refill eligibility in its web pages only",
    },
    Description {
        profile: Profile::CancelNotEnforced,
        name: "cancel-not-enforced",
        class: Class::Breaking,
        simulates: "cancel is accepted for orders of services with `cancel: false` (the order is Canceled and refunded)",
        seen: "a panel that checks the cancel flag in its web pages only",
    },
    Description {
        profile: Profile::DripfeedRunsIgnored,
        name: "dripfeed-runs-ignored",
        class: Class::Breaking,
        simulates: "a drip-feed order is charged for one run: rate × quantity / 1000, not × runs",
        seen: "a panel bug class: the price computed from `quantity` alone (CONTRACT §2.1: × runs)",
    },
    Description {
        profile: Profile::DripfeedNotEnforced,
        name: "dripfeed-not-enforced",
        class: Class::Breaking,
        simulates: "`runs` accepted on services with `dripfeed: false`, charged rate × quantity × runs / 1000",
        seen: "a panel that never reads the service's drip-feed flag",
    },
    Description {
        profile: Profile::Overdraft,
        name: "overdraft",
        class: Class::Breaking,
        simulates: "an order the balance does not cover is accepted, and the balance goes negative",
        seen: "a panel bug class: the funds check skipped, or made after the debit",
    },
    Description {
        profile: Profile::RefillStatusUnknown,
        name: "refill-status-unknown",
        class: Class::Breaking,
        simulates: "a Completed refill reads `Done`, outside the refill status enum",
        seen: "panels with status words of their own (D5); which refill statuses real panels send is an open question",
    },
    Description {
        profile: Profile::Slow,
        name: "slow",
        class: Class::Fault,
        simulates: "every answer is delayed by 300 ms (under the runner's timeout)",
        seen: "panels under load; test a client's timeouts and progress reporting",
    },
    Description {
        profile: Profile::RateLimit429,
        name: "rate-limit-429",
        class: Class::Fault,
        simulates: "one request in 5 answered HTTP 429 with `Retry-After: 1`",
        seen: "per-key rate limits of 60-120 requests a minute (D14)",
    },
    Description {
        profile: Profile::ActiveOrderPerLink,
        name: "active-order-per-link",
        class: Class::Fault,
        simulates: "a second `add` of a key on a link with one of its orders still running (not Completed, Partial or Canceled) is refused: `You have active order with this link. Please wait until order being completed.` (conforming: CONTRACT §4 lists the message)",
        seen: "Laravel panel code; `neworder.error.link_duplicate` in a production integration's error map (REAL-WORLD §2)",
    },
];

// `Profiles` is a u64 with a bit per profile, the bit of its place in the
// table: checked here, at compile time.
const _: () = {
    assert!(
        PROFILES.len() <= u64::BITS as usize,
        "a Profiles bitset holds 64 profiles at most"
    );
    let mut i = 0;
    while i < PROFILES.len() {
        assert!(
            PROFILES[i].profile as usize == i,
            "PROFILES lists the profiles in the order of the enum"
        );
        i += 1;
    }
};

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

    /// The drifted status spellings (CONTRACT §6.2) this profile writes in
    /// place of the statuses they stand for: for orders, for refills.
    pub fn status_drifts(self) -> (&'static [OrderStatusDrift], &'static [RefillStatusDrift]) {
        match self {
            Self::StatusCase => (&[OrderStatusDrift::TitleCase], &[]),
            Self::CancelledSpelling => {
                (&[OrderStatusDrift::DoubleL], &[RefillStatusDrift::DoubleL])
            }
            Self::ExtraStatusValues => {
                (&[OrderStatusDrift::Refunded, OrderStatusDrift::Failed], &[])
            }
            _ => (&[], &[]),
        }
    }

    /// The rows of the contract's drift table (CONTRACT §6.1, §6.3, §6.4)
    /// this profile writes: each field of the shape that the table lists in
    /// the form.
    pub fn field_drifts(self) -> &'static [(Shape, Form)] {
        use Form::*;
        match self {
            Self::StringIds => &[(Shape::Service, DigitString)],
            Self::NumericFields => &[
                (Shape::Service, Number),
                (Shape::Status, Number),
                (Shape::Balance, Number),
            ],
            Self::NullStartCount => &[(Shape::Status, Null)],
            Self::EmptyStartCount => &[(Shape::Status, Empty)],
            Self::RemainsUnknown => &[(Shape::Status, Unknown)],
            Self::MissingCurrency => &[(Shape::Status, Missing)],
            Self::MissingServiceFlags => &[(Shape::Service, Missing)],
            Self::SuccessEnvelope => &[(Shape::Add, Extra), (Shape::Balance, Extra)],
            Self::RefillInt => &[(Shape::Refill, Integer)],
            _ => &[],
        }
    }

    /// The words outside the refill status enum (CONTRACT §3) this profile
    /// writes in place of the statuses they replace, as `(status, word)`.
    /// Unlike [`Profile::status_drifts`], no tolerant reading takes them for
    /// any status.
    pub fn refill_status_words(self) -> &'static [(RefillStatus, &'static str)] {
        match self {
            Self::RefillStatusUnknown => &[(RefillStatus::Completed, "Done")],
            _ => &[],
        }
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
                let near = PROFILES
                    .iter()
                    .map(|d| (edits(s, d.name), d.name))
                    .min()
                    .filter(|(n, name)| *n <= 3.max(name.len() / 4));
                match near {
                    Some((_, name)) => format!("unknown profile `{s}`: did you mean `{name}`?"),
                    None => {
                        let names: Vec<&str> = PROFILES.iter().map(|d| d.name).collect();
                        format!("unknown profile `{s}` (known: {})", names.join(", "))
                    }
                }
            })
    }
}

/// How many single-character edits (insert, delete, replace) turn `a`
/// into `b` (Levenshtein): how near a mistyped name is to a real one.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

impl serde::Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
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

    /// Both sets.
    pub fn union(self, other: Profiles) -> Profiles {
        Profiles(self.0 | other.0)
    }

    /// The rules a panel under these profiles follows.
    pub fn rules(self) -> Rules {
        Rules {
            check_key: !self.has(Profile::InvalidKeyAccepted),
            isolate_keys: !self.has(Profile::OrdersVisibleAcrossKeys),
            enforce_min: !self.has(Profile::MinNotEnforced),
            free_refusals: !self.has(Profile::ChargeOnError),
            fair_price: !self.has(Profile::WrongCharge),
            refund_partial: !self.has(Profile::NoRefundPartial),
            refund_canceled: !self.has(Profile::NoRefundCanceled),
            atomic_debits: !self.has(Profile::LostDebits),
            enforce_refill: !self.has(Profile::RefillNotEnforced),
            enforce_cancel: !self.has(Profile::CancelNotEnforced),
            charge_all_runs: !self.has(Profile::DripfeedRunsIgnored),
            enforce_dripfeed: !self.has(Profile::DripfeedNotEnforced),
            enforce_funds: !self.has(Profile::Overdraft),
            steady_remains: !self.has(Profile::RemainsGrows),
            final_stays_final: !self.has(Profile::IllegalTransition),
            one_active_order_per_link: self.has(Profile::ActiveOrderPerLink),
            overflow: if self.has(Profile::BulkOverflowTruncated) {
                Overflow::Truncate
            } else if self.has(Profile::BulkOverflowIgnored) {
                Overflow::AnswerAll
            } else {
                Overflow::Refuse
            },
        }
    }

    /// Whether the set is empty (the conforming panel).
    pub fn is_empty(self) -> bool {
        self == Profiles::NONE
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
    fn a_mistyped_name_gets_the_near_one_and_a_far_one_the_list() {
        assert_eq!(edits("kitten", "sitting"), 3);
        assert_eq!(edits("", "abc"), 3);
        let near = "numeric-field".parse::<Profile>().unwrap_err();
        assert_eq!(
            near,
            "unknown profile `numeric-field`: did you mean `numeric-fields`?"
        );
        let swapped = "stauts-case".parse::<Profile>().unwrap_err();
        assert!(
            swapped.ends_with("did you mean `status-case`?"),
            "{swapped}"
        );
        let far = "nope".parse::<Profile>().unwrap_err();
        assert!(far.contains("(known: string-ids, "), "{far}");
    }

    #[test]
    fn every_profile_is_described_once_and_parses_by_name() {
        for d in PROFILES {
            assert_eq!(d.name.parse::<Profile>(), Ok(d.profile));
            assert_eq!(d.profile.describe().name, d.name);
        }
        assert!("nope".parse::<Profile>().is_err());
    }

    #[test]
    fn no_profile_keeps_the_contract_rules() {
        assert_eq!(Profiles::NONE.rules(), Rules::CONTRACT);
        for d in PROFILES {
            let one = Profiles::NONE.with(d.profile);
            let semantic = one.rules() != Rules::CONTRACT;
            let shapes =
                !d.profile.field_drifts().is_empty() || !d.profile.refill_status_words().is_empty();
            assert!(!(semantic && shapes), "{}: one kind of change", d.name);
        }
    }

    #[test]
    fn every_profile_has_its_bit_and_the_bitset_has_room() {
        let all: Profiles = PROFILES.iter().map(|d| d.profile).collect();
        assert_eq!(all.iter().count(), PROFILES.len());
        for (i, d) in PROFILES.iter().enumerate() {
            assert_eq!(d.profile.bit(), 1 << i, "{}", d.name);
        }
    }

    #[test]
    fn refill_status_words_are_no_status_a_tolerant_reader_knows() {
        use smm_contract::OrderStatus;
        let words: Vec<&str> = PROFILES
            .iter()
            .flat_map(|d| d.profile.refill_status_words())
            .map(|(_, word)| *word)
            .collect();
        assert_eq!(words, ["Done"]);
        for word in words {
            assert_eq!(RefillStatus::read_drifted(word), None, "{word}");
            assert_eq!(OrderStatus::read_drifted(word), None, "{word}");
        }
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
