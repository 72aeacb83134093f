//! Fixtures: the data a mock panel serves (accounts, services, lifecycles).
//!
//! A fixture file is JSON in the format of `schemas/fixture.schema.json`.
//! [`Fixture::parse`] reads it and checks everything the schema cannot say
//! (unique ids and keys, min ≤ max, legal lifecycles, rules that name real
//! lifecycles, a catch-all rule last); a mistake is refused with the file, the
//! field and the problem: `my.json: services[2].min: 50 is greater than max 10`.
//! `fixtures/README.md` documents the format and its invariants.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{MessageKind, Messages};
use crate::lifecycle::{Lifecycle, OrderStatus, RefillLifecycle, RefillStatus, Step};
use crate::money::Precision;
use crate::profile::{Profile, Profiles};
use crate::service::{Service, ServiceType};

/// The built-in fixture, `fixtures/default.json`, embedded in the binary.
pub const DEFAULT_FIXTURE: &str = include_str!("../../fixtures/default.json");

/// A fixture that was refused, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureError {
    /// The file (or `<built-in>`).
    pub file: String,
    /// The field, as a path (`services[2].min`), or empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.problem)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.problem)
        }
    }
}

impl std::error::Error for FixtureError {}

/// An account (API key) of the fixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The API key.
    pub key: String,
    /// The starting balance.
    pub balance: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
}

/// What picks a lifecycle for a new order: the first rule that matches wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Matches only this service id.
    pub service: Option<u64>,
    /// Matches only links that contain this text (compared in lower case).
    pub link_contains: Option<String>,
    /// Matches only links whose last path segment has this word or
    /// hyphenated phrase, whole, in lower case, where no longer phrase of
    /// the fixture claimed it (see [`LinkWords`]).
    pub link_word: Option<String>,
    /// Matches only orders of services with `cancel: true` (a lifecycle that
    /// waits to be canceled is no use on a service that cannot be).
    pub cancelable_only: bool,
    /// Index of the lifecycle it picks.
    pub lifecycle: usize,
}

impl Rule {
    /// Whether the rule matches an order of `service` for `link_lower`
    /// (the link in lower case) whose link words are `found`.
    pub fn matches(&self, service: &Service, link_lower: &str, found: &Found<'_>) -> bool {
        self.service.is_none_or(|s| s == service.id)
            && (!self.cancelable_only || service.cancel)
            && self
                .link_contains
                .as_deref()
                .is_none_or(|part| link_lower.contains(part))
            && self.link_word.as_deref().is_none_or(|word| found.has(word))
    }

    /// Whether it matches every order.
    fn is_catch_all(&self) -> bool {
        self.service.is_none()
            && self.link_contains.is_none()
            && self.link_word.is_none()
            && !self.cancelable_only
    }
}

/// The outcome words of a fixture (every `link_word` of its order and
/// refill rules), longest first, and how a link's words are found.
///
/// A link's words are the runs of letters of its last path segment (after
/// the last `/`, a trailing `/`, `?query` and `#fragment` set aside), in
/// lower case: `https://x.com/p/Refill-Stuck-3/` has `refill` and `stuck`.
/// A phrase matches where its words stand in a row, joined exactly as in the
/// phrase (`refill-stuck`). Phrases are tried longest first (most words,
/// then most letters), and a word of the link that a phrase matched is not
/// there for another: `refill-stuck` takes both its words, so `stuck`
/// finds nothing, and `stuckinthemud` is one word, none of the fixture's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkWords {
    /// The phrases, longest first.
    phrases: Vec<String>,
    /// How many words each phrase has.
    counts: Vec<usize>,
}

/// The most words of a link's last segment that phrases are looked for in,
/// and the most distinct link words a fixture may have (each is a bit).
pub const MAX_LINK_WORDS: usize = 64;

/// The phrases of [`LinkWords`] one link has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Found<'a> {
    phrases: &'a [String],
    /// Bit `i`: the link has `phrases[i]`.
    bits: u64,
}

impl<'a> Found<'a> {
    /// Whether the link has `phrase` (one of the fixture's).
    pub fn has(&self, phrase: &str) -> bool {
        // Most links have no outcome word at all.
        self.bits != 0
            && self
                .phrases
                .iter()
                .position(|p| p == phrase)
                .is_some_and(|i| self.bits & (1 << i) != 0)
    }

    /// The phrases found, in the order they were tried.
    pub fn phrases(&self) -> Vec<&'a str> {
        (0..self.phrases.len())
            .filter(|i| self.bits & (1 << i) != 0)
            .map(|i| self.phrases[i].as_str())
            .collect()
    }
}

impl LinkWords {
    /// The phrases of these rules, longest first.
    fn of<'a>(rules: impl Iterator<Item = &'a Rule>) -> LinkWords {
        let mut phrases: Vec<String> = rules.filter_map(|r| r.link_word.clone()).collect();
        phrases.sort_by(|a, b| {
            let words = |p: &str| p.split('-').count();
            words(b)
                .cmp(&words(a))
                .then(b.len().cmp(&a.len()))
                .then(a.cmp(b))
        });
        phrases.dedup();
        let counts = phrases.iter().map(|p| p.split('-').count()).collect();
        LinkWords { phrases, counts }
    }

    /// The last path segment of `link`, as written.
    fn raw_segment(link: &str) -> &str {
        let end = link
            .bytes()
            .position(|b| b == b'?' || b == b'#')
            .unwrap_or(link.len());
        let link = link[..end].trim_end_matches('/');
        link.rfind('/').map_or(link, |at| &link[at + 1..])
    }

    /// The last path segment of `link`, in lower case.
    pub fn segment(link: &str) -> String {
        LinkWords::raw_segment(link).to_lowercase()
    }

    /// The phrases `link` has. Nothing is allocated: this runs for every
    /// `add`.
    pub fn find(&self, link: &str) -> Found<'_> {
        let mut found = Found {
            phrases: &self.phrases,
            bits: 0,
        };
        if self.phrases.is_empty() {
            return found;
        }
        let segment = LinkWords::raw_segment(link);
        // The words of the segment: byte ranges of its letter runs (the
        // first MAX_LINK_WORDS of them).
        let mut words = [(0usize, 0usize); MAX_LINK_WORDS];
        let mut count = 0;
        let mut start = None;
        for (i, c) in segment.char_indices().chain([(segment.len(), '/')]) {
            let letter = if c.is_ascii() {
                c.is_ascii_alphabetic()
            } else {
                c.is_alphabetic()
            };
            match (letter, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) if count < MAX_LINK_WORDS => {
                    words[count] = (s, i);
                    count += 1;
                    start = None;
                }
                (false, Some(_)) => start = None,
                _ => {}
            }
        }
        let words = &words[..count];
        // Bit `i`: word `i` was taken by a longer phrase.
        let mut claimed = 0u64;
        for (index, (phrase, &n)) in self.phrases.iter().zip(&self.counts).enumerate() {
            for first in 0..words.len().saturating_sub(n - 1) {
                let last = first + n - 1;
                let span = (u64::MAX >> (63 - (last - first))) << first;
                let text = &segment[words[first].0..words[last].1];
                let same = if text.is_ascii() {
                    text.eq_ignore_ascii_case(phrase)
                } else {
                    text.chars().flat_map(char::to_lowercase).eq(phrase.chars())
                };
                if claimed & span == 0 && same {
                    claimed |= span;
                    found.bits |= 1 << index;
                }
            }
        }
        found
    }
}

/// An order that exists when the panel starts, already on its last step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOrder {
    /// Index of the owning account.
    pub account: usize,
    /// Index of the service.
    pub service: usize,
    /// The link.
    pub link: String,
    /// The quantity.
    pub quantity: u64,
    /// The lifecycle index, when the fixture names one (else the rules pick).
    pub lifecycle: Option<usize>,
}

/// A checked fixture, ready to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Money precision.
    pub precision: Precision,
    /// The id of the first order placed.
    pub first_order_id: u64,
    /// The id of the first refill.
    pub first_refill_id: u64,
    /// Accounts, in fixture order.
    pub accounts: Vec<Account>,
    /// Services, in fixture order.
    pub services: Vec<Service>,
    /// Order lifecycles, sorted by name.
    pub lifecycles: Vec<Lifecycle>,
    /// Rules that pick an order lifecycle.
    pub rules: Vec<Rule>,
    /// Refill lifecycles, sorted by name.
    pub refill_lifecycles: Vec<RefillLifecycle>,
    /// Rules that pick a refill lifecycle (matched on the order's service and link).
    pub refill_rules: Vec<Rule>,
    /// Orders present at start.
    pub orders: Vec<SeedOrder>,
    /// The outcome words of `rules` and `refill_rules`, longest first.
    pub link_words: LinkWords,
    /// Deviation profiles this fixture switches on.
    pub profiles: Profiles,
    /// How the panel words its errors (the contract's words where not given).
    pub messages: Messages,
}

// ---- the file format (serde) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_precision")]
    precision: u32,
    #[serde(default = "one")]
    first_order_id: u64,
    #[serde(default = "one")]
    first_refill_id: u64,
    accounts: Vec<AccountFile>,
    services: Vec<ServiceFile>,
    lifecycles: BTreeMap<String, Vec<StepFile>>,
    rules: Vec<RuleFile>,
    refill_lifecycles: BTreeMap<String, Vec<RefillStepFile>>,
    refill_rules: Vec<RuleFile>,
    #[serde(default)]
    orders: Vec<SeedOrderFile>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    messages: BTreeMap<String, String>,
}

fn default_precision() -> u32 {
    5
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountFile {
    key: String,
    balance: String,
    currency: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    service: u64,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    category: String,
    rate: String,
    min: String,
    max: String,
    dripfeed: bool,
    refill: bool,
    cancel: bool,
    #[serde(default)]
    desc: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    status: OrderStatus,
    delivered: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefillStepFile {
    status: RefillStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    service: Option<u64>,
    #[serde(default)]
    link_contains: Option<String>,
    #[serde(default)]
    link_word: Option<String>,
    #[serde(default)]
    cancelable_only: bool,
    lifecycle: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrderFile {
    key: String,
    service: u64,
    link: String,
    quantity: u64,
    #[serde(default)]
    lifecycle: Option<String>,
}

/// The largest `max` a service may have.
pub const MAX_QUANTITY: u64 = 1_000_000_000_000;
/// The largest rate a service may have.
pub const MAX_RATE: u64 = 1_000_000;

impl Fixture {
    /// The built-in default fixture.
    pub fn builtin() -> Fixture {
        match Fixture::parse("<built-in>", DEFAULT_FIXTURE) {
            Ok(fixture) => fixture,
            // The built-in fixture is checked by a test; this cannot happen in a release.
            Err(e) => unreachable!("the built-in fixture is invalid: {e}"),
        }
    }

    /// Reads and checks a fixture file.
    pub fn load(path: &Path) -> Result<Fixture, FixtureError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FixtureError {
            file: file.clone(),
            field: String::new(),
            problem: format!("cannot read: {e}"),
        })?;
        Fixture::parse(&file, &text)
    }

    /// Parses and checks fixture text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Fixture, FixtureError> {
        let error = |field: String, problem: String| FixtureError {
            file: file.to_owned(),
            field,
            problem,
        };
        // A snapshot or a proxy recording given for a fixture: say how to
        // make one from it.
        let head = text.get(..text.len().min(512)).unwrap_or(text);
        if head.contains("\"smm-conformance-snapshot\"")
            || head.contains("\"smm-conformance-recording\"")
        {
            return Err(error(
                String::new(),
                "this is a snapshot or a proxy recording, not a fixture: make a fixture of it with `smm-conformance clone FILE -o fixture.json`".into(),
            ));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: FixtureFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let problem = format!("{inner}");
            error(if field == "." { String::new() } else { field }, problem)
        })?;
        build(raw).map_err(|(field, problem)| error(field, problem))
    }

    /// The lifecycle an order of `service` (index) for `link` follows.
    pub fn lifecycle_for(&self, service: usize, link: &str) -> usize {
        self.pick(&self.rules, service, link)
    }

    /// The refill lifecycle of a refill of an order of `service` for `link`.
    pub fn refill_lifecycle_for(&self, service: usize, link: &str) -> usize {
        self.pick(&self.refill_rules, service, link)
    }

    /// The index of the service with this id.
    pub fn service_index(&self, id: u64) -> Option<usize> {
        self.services.iter().position(|s| s.id == id)
    }

    fn pick(&self, rules: &[Rule], service: usize, link: &str) -> usize {
        // Only a `link_contains` rule reads the whole link in lower case.
        let lower = if rules.iter().any(|r| r.link_contains.is_some()) {
            std::borrow::Cow::Owned(link.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed("")
        };
        let found = self.link_words.find(link);
        let service = &self.services[service];
        rules
            .iter()
            .find(|r| r.matches(service, &lower, &found))
            .or(rules.last())
            .map_or(0, |r| r.lifecycle)
    }
}

type Problem = (String, String);

fn build(raw: FixtureFile) -> Result<Fixture, Problem> {
    let problem = |field: String, text: String| -> Problem { (field, text) };
    if raw.name.trim().is_empty() {
        return Err(problem("name".into(), "must not be empty".into()));
    }
    if raw.precision > Precision::MAX {
        return Err(problem(
            "precision".into(),
            format!("{} is over the maximum {}", raw.precision, Precision::MAX),
        ));
    }
    if raw.first_order_id == 0 || raw.first_refill_id == 0 {
        let field = if raw.first_order_id == 0 {
            "first_order_id"
        } else {
            "first_refill_id"
        };
        return Err(problem(field.into(), "ids start at 1 or more".into()));
    }

    if raw.accounts.is_empty() {
        return Err(problem(
            "accounts".into(),
            "needs at least one account".into(),
        ));
    }
    let mut keys = HashSet::new();
    let mut accounts = Vec::new();
    for (i, a) in raw.accounts.into_iter().enumerate() {
        let at = |f: &str| format!("accounts[{i}].{f}");
        if a.key.is_empty() || a.key.chars().any(char::is_whitespace) {
            return Err(problem(
                at("key"),
                "must be non-empty, without spaces".into(),
            ));
        }
        if !keys.insert(a.key.clone()) {
            return Err(problem(at("key"), format!("`{}` is used twice", a.key)));
        }
        let balance = decimal(&a.balance)
            .filter(|b| {
                b.scale() <= raw.precision && *b <= Decimal::from(crate::money::MAX_BALANCE)
            })
            .ok_or_else(|| {
                problem(
                    at("balance"),
                    format!(
                        "`{}` is not a decimal string ≥ 0 with at most {} decimals",
                        a.balance, raw.precision
                    ),
                )
            })?;
        if a.currency.len() != 3 || !a.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(problem(
                at("currency"),
                format!("`{}` is not a three-letter code like USD", a.currency),
            ));
        }
        accounts.push(Account {
            key: a.key,
            balance,
            currency: a.currency,
        });
    }

    if raw.services.is_empty() {
        return Err(problem(
            "services".into(),
            "needs at least one service".into(),
        ));
    }
    let mut ids = HashSet::new();
    let mut services = Vec::new();
    for (i, s) in raw.services.into_iter().enumerate() {
        let at = |f: &str| format!("services[{i}].{f}");
        if !ids.insert(s.service) {
            return Err(problem(
                at("service"),
                format!("id {} is used twice", s.service),
            ));
        }
        let kind = ServiceType::parse(&s.kind).ok_or_else(|| {
            problem(
                at("type"),
                format!("unknown type `{}` (CONTRACT §2.1 lists the types)", s.kind),
            )
        })?;
        let rate = decimal(&s.rate)
            .filter(|r| *r <= Decimal::from(MAX_RATE))
            .ok_or_else(|| {
                problem(
                    at("rate"),
                    format!("`{}` is not a decimal string from 0 to {MAX_RATE}", s.rate),
                )
            })?;
        let min = integer(&s.min).ok_or_else(|| {
            problem(
                at("min"),
                format!(
                    "`{}` is not an integer string from 1 to {MAX_QUANTITY}",
                    s.min
                ),
            )
        })?;
        let max = integer(&s.max).ok_or_else(|| {
            problem(
                at("max"),
                format!(
                    "`{}` is not an integer string from 1 to {MAX_QUANTITY}",
                    s.max
                ),
            )
        })?;
        if min > max {
            return Err(problem(
                at("min"),
                format!("{min} is greater than max {max}"),
            ));
        }
        if s.dripfeed && !kind.allows_dripfeed() {
            return Err(problem(
                at("dripfeed"),
                format!(
                    "type `{}` has no drip-feed (only Default and Web Traffic)",
                    s.kind
                ),
            ));
        }
        services.push(Service {
            id: s.service,
            name: s.name,
            kind,
            category: s.category,
            rate,
            rate_text: s.rate,
            min,
            max,
            dripfeed: s.dripfeed,
            refill: s.refill,
            cancel: s.cancel,
            desc: s.desc,
        });
    }

    if raw.lifecycles.is_empty() {
        return Err(problem(
            "lifecycles".into(),
            "needs at least one lifecycle".into(),
        ));
    }
    let lifecycles: Vec<Lifecycle> = raw
        .lifecycles
        .into_iter()
        .map(|(name, steps)| {
            let steps: Vec<Step> = steps
                .into_iter()
                .map(|s| Step {
                    status: s.status,
                    delivered: s.delivered,
                })
                .collect();
            Lifecycle::check(&steps)
                .map_err(|p| problem(format!("lifecycles.{name}"), p.to_string()))?;
            Ok(Lifecycle { name, steps })
        })
        .collect::<Result<_, Problem>>()?;
    if raw.refill_lifecycles.is_empty() {
        return Err(problem(
            "refill_lifecycles".into(),
            "needs at least one lifecycle".into(),
        ));
    }
    let refill_lifecycles: Vec<RefillLifecycle> = raw
        .refill_lifecycles
        .into_iter()
        .map(|(name, steps)| {
            let steps: Vec<RefillStatus> = steps.into_iter().map(|s| s.status).collect();
            RefillLifecycle::check(&steps)
                .map_err(|p| problem(format!("refill_lifecycles.{name}"), p.to_string()))?;
            Ok(RefillLifecycle { name, steps })
        })
        .collect::<Result<_, Problem>>()?;

    let names: Vec<&str> = lifecycles.iter().map(|l| l.name.as_str()).collect();
    let rules = rules_of("rules", raw.rules, &names, &services)?;
    let refill_names: Vec<&str> = refill_lifecycles.iter().map(|l| l.name.as_str()).collect();
    let refill_rules = rules_of("refill_rules", raw.refill_rules, &refill_names, &services)?;
    let link_words = LinkWords::of(rules.iter().chain(&refill_rules));
    if link_words.phrases.len() > MAX_LINK_WORDS {
        return Err(problem(
            "rules".into(),
            format!(
                "{} distinct link words; at most {MAX_LINK_WORDS}",
                link_words.phrases.len()
            ),
        ));
    }

    let mut orders = Vec::new();
    for (i, o) in raw.orders.into_iter().enumerate() {
        let at = |f: &str| format!("orders[{i}].{f}");
        let account = accounts
            .iter()
            .position(|a| a.key == o.key)
            .ok_or_else(|| problem(at("key"), format!("no account has key `{}`", o.key)))?;
        let service = services
            .iter()
            .position(|s| s.id == o.service)
            .ok_or_else(|| problem(at("service"), format!("no service has id {}", o.service)))?;
        if o.link.trim().is_empty() {
            return Err(problem(at("link"), "must not be empty".into()));
        }
        let svc = &services[service];
        if o.quantity < svc.min || o.quantity > svc.max {
            return Err(problem(
                at("quantity"),
                format!(
                    "{} is outside the service's {}..={}",
                    o.quantity, svc.min, svc.max
                ),
            ));
        }
        let lifecycle = match o.lifecycle {
            None => None,
            Some(name) => Some(names.iter().position(|n| *n == name).ok_or_else(|| {
                problem(at("lifecycle"), format!("no lifecycle is named `{name}`"))
            })?),
        };
        orders.push(SeedOrder {
            account,
            service,
            link: o.link,
            quantity: o.quantity,
            lifecycle,
        });
    }

    let mut profiles = Profiles::NONE;
    for (i, name) in raw.profiles.iter().enumerate() {
        let profile: Profile = name
            .parse()
            .map_err(|e: String| problem(format!("profiles[{i}]"), e))?;
        profiles = profiles.with(profile);
    }

    let mut messages = Messages::CONTRACT;
    for (name, text) in raw.messages {
        let field = format!("messages.{name}");
        let kind = MessageKind::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = MessageKind::ALL.iter().map(|k| k.name()).collect();
            problem(
                field.clone(),
                format!("unknown message `{name}` (known: {})", known.join(", ")),
            )
        })?;
        if text.trim().is_empty() {
            return Err(problem(field, "must not be empty".into()));
        }
        messages = messages.with(kind, text);
    }

    Ok(Fixture {
        messages,
        name: raw.name,
        description: raw.description,
        precision: Precision::new(raw.precision),
        first_order_id: raw.first_order_id,
        first_refill_id: raw.first_refill_id,
        accounts,
        services,
        lifecycles,
        rules,
        refill_lifecycles,
        refill_rules,
        link_words,
        orders,
        profiles,
    })
}

fn rules_of(
    field: &str,
    raw: Vec<RuleFile>,
    names: &[&str],
    services: &[Service],
) -> Result<Vec<Rule>, Problem> {
    let count = raw.len();
    if count == 0 {
        return Err((field.into(), "needs at least one rule".into()));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |f: &str| format!("{field}[{i}].{f}");
            let lifecycle = names
                .iter()
                .position(|n| *n == r.lifecycle)
                .ok_or_else(|| {
                    (
                        at("lifecycle"),
                        format!("no lifecycle is named `{}`", r.lifecycle),
                    )
                })?;
            if let Some(id) = r.service {
                if !services.iter().any(|s| s.id == id) {
                    return Err((at("service"), format!("no service has id {id}")));
                }
            }
            if r.link_contains.as_deref() == Some("") {
                return Err((at("link_contains"), "must not be empty".into()));
            }
            if r.link_contains.is_some() && r.link_word.is_some() {
                return Err((
                    format!("{field}[{i}]"),
                    "give `link_contains` or `link_word`, not both".into(),
                ));
            }
            let link_word = r.link_word.map(|w| w.to_lowercase());
            if let Some(word) = &link_word {
                let words_ok = word
                    .split('-')
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphabetic()));
                if !words_ok {
                    return Err((
                        at("link_word"),
                        format!("`{word}` is not a word or words joined by `-` (letters only)"),
                    ));
                }
            }
            let rule = Rule {
                service: r.service,
                link_contains: r.link_contains.map(|s| s.to_lowercase()),
                link_word,
                cancelable_only: r.cancelable_only,
                lifecycle,
            };
            if i + 1 == count && !rule.is_catch_all() {
                return Err((
                    format!("{field}[{i}]"),
                    "the last rule must match every order (no `service`, `link_contains`, `link_word` or `cancelable_only`)"
                        .into(),
                ));
            }
            Ok(rule)
        })
        .collect()
}

/// A decimal string ≥ 0 (`"0.90"`, `"1000"`), as the contract writes money.
fn decimal(text: &str) -> Option<Decimal> {
    let (int, frac) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// An integer string from 1 to [`MAX_QUANTITY`].
fn integer(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (1..=MAX_QUANTITY).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(phrases: &[&str]) -> LinkWords {
        let rules: Vec<Rule> = phrases
            .iter()
            .map(|p| Rule {
                service: None,
                link_contains: None,
                link_word: Some((*p).to_owned()),
                cancelable_only: false,
                lifecycle: 0,
            })
            .collect();
        LinkWords::of(rules.iter())
    }

    #[test]
    fn longer_phrases_take_their_words_first() {
        let w = words(&["stuck", "refill-stuck", "cancel", "canceled", "refill"]);
        let found = |link: &str| w.find(link).phrases();
        assert_eq!(found("https://x.com/refill-stuck-3"), ["refill-stuck"]);
        assert_eq!(
            found("https://x.com/stuck-refill-stuck"),
            ["refill-stuck", "stuck"]
        );
        assert_eq!(found("https://x.com/stuckinthemud"), Vec::<&str>::new());
        assert_eq!(found("https://x.com/canceled"), ["canceled"]);
        assert_eq!(found("https://x.com/Cancel_me/"), ["cancel"]);
        assert_eq!(found("https://x.com/p/refill9?x=stuck#stuck"), ["refill"]);
        assert_eq!(found("https://stuck.com/stuck/plain"), Vec::<&str>::new());
        assert_eq!(found("stuck"), ["stuck"]);
    }

    #[test]
    fn a_snapshot_given_for_a_fixture_points_to_clone() {
        let snapshot = r#"{"format":"smm-conformance-snapshot","version":1}"#;
        let e = Fixture::parse("before.json", snapshot).unwrap_err();
        assert!(e.problem.contains("smm-conformance clone"), "{e}");
    }

    #[test]
    fn a_rule_with_a_link_word_must_be_words() {
        let bad =
            DEFAULT_FIXTURE.replacen("\"link_word\": \"slow\"", "\"link_word\": \"slow down\"", 1);
        let e = Fixture::parse("f.json", &bad).unwrap_err();
        assert_eq!(e.field, "rules[5].link_word");
    }
}
