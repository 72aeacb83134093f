//! `smm-conformance clone`: a mock fixture that behaves like an observed
//! panel.
//!
//! The input is a snapshot (`smm-conformance snapshot`) or a proxy
//! recording (`smm-conformance proxy --record`), told apart by content.
//! Either becomes the same [`Observed`]: a [`Snapshot`] (a recording is
//! read into one by [`recording`]), plus what only a recording's values
//! show (currency, precision, the balance, each order's status, more error
//! messages). [`infer`] says which deviation profiles the answers showed;
//! [`build`] writes the fixture: the built-in fixture as the base (keys,
//! lifecycles, rules: the contract's behaviour where nothing was
//! observed), with the observed catalogue (normalised to the contract's
//! types: the raw forms come back through the profiles), currency,
//! precision, error messages, the orders asked about (seeded in the
//! statuses seen) and the profiles. What it cannot reproduce is said in
//! [`Cloned::notes`] and in the fixture's description.

pub mod infer;
pub mod recording;

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use smm_contract::OrderStatus;
use smm_mock::error::MessageKind;
use smm_mock::fixture::DEFAULT_FIXTURE;
use smm_mock::service::ServiceType;

pub use infer::Inferred;
pub use recording::Values;

use crate::snapshot::{self, request, Said, Snapshot};

/// What a clone is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A snapshot file.
    Snapshot,
    /// A proxy recording.
    Recording,
}

/// Why a file gives no clone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct CloneError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub problem: String,
}

/// What was observed of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Where from.
    pub source: Source,
    /// The snapshot's observations (of a recording: what it showed of them).
    pub snapshot: Snapshot,
    /// The account's currency, when an answer said it.
    pub currency: Option<String>,
    /// The most decimals a money string had (balance, charge).
    pub precision: Option<u32>,
    /// The balance, as the panel wrote it.
    pub balance: Option<String>,
    /// Each order's status, as written, when the order was asked about alone.
    pub order_statuses: BTreeMap<u64, String>,
    /// Error messages, by kind, that the snapshot's error answers do not hold.
    pub messages: BTreeMap<MessageKind, String>,
    /// Values a snapshot keeps only as types.
    pub values: Values,
}

impl Observed {
    /// Nothing observed yet, of `target`.
    pub fn new(source: Source, target: &str) -> Observed {
        Observed {
            source,
            snapshot: Snapshot {
                format: snapshot::FORMAT.to_owned(),
                version: snapshot::VERSION,
                target: target.to_owned(),
                services: Vec::new(),
                shapes: BTreeMap::new(),
                statuses: Vec::new(),
                errors: BTreeMap::new(),
                bulk_limit: snapshot::BulkLimit::Error,
                orders: Vec::new(),
                content_types: Vec::new(),
            },
            currency: None,
            precision: None,
            balance: None,
            order_statuses: BTreeMap::new(),
            messages: BTreeMap::new(),
            values: Values::default(),
        }
    }

    /// Observations of a snapshot.
    pub fn of_snapshot(snapshot: Snapshot) -> Observed {
        Observed {
            snapshot,
            ..Observed::new(Source::Snapshot, "")
        }
    }

    /// Reads a snapshot or a recording, whichever `path` holds.
    pub fn load(path: &Path) -> Result<Observed, CloneError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CloneError {
            file: file.clone(),
            problem: format!("cannot read: {e}"),
        })?;
        if recording::is_recording(&text) {
            return recording::read(&file, &text);
        }
        Snapshot::load(path)
            .map(Observed::of_snapshot)
            .map_err(|e| CloneError {
                file,
                problem: format!("{} (expected a snapshot or a proxy recording)", e.problem),
            })
    }
}

/// A clone: the fixture, the profiles inferred, and what it cannot reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct Cloned {
    /// The fixture file's JSON.
    pub fixture: Value,
    /// The profiles switched on, with their evidence.
    pub profiles: Vec<Inferred>,
    /// What the clone cannot reproduce of what was observed.
    pub notes: Vec<String>,
    /// How many services were cloned.
    pub services: usize,
    /// How many orders were seeded.
    pub orders: usize,
}

impl Cloned {
    /// The fixture file's text: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.fixture).unwrap_or_default();
        text.push('\n');
        text
    }

    /// One line saying what the clone holds.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = self.profiles.iter().map(|i| i.profile.name()).collect();
        format!(
            "{} services, {} seeded {}, profiles: {}",
            self.services,
            self.orders,
            if self.orders == 1 { "order" } else { "orders" },
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )
    }
}

/// Orders asked about whose ids are this far apart at most are seeded
/// with every id between them (the ids not asked about as `Completed`
/// fillers); farther apart, only a run from the first id is.
pub const MAX_SEEDED_SPAN: u64 = 1000;

/// The lifecycle of the built-in fixture that ends in `status` (a seeded
/// order is on its last step), or the one the clone adds.
fn held_in(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "stuck",
        OrderStatus::InProgress => "cancelable",
        OrderStatus::Processing => "held-processing",
        OrderStatus::Completed => "standard",
        OrderStatus::Partial => "partial",
        OrderStatus::Canceled => "canceled",
    }
}

/// The fixture of a panel that behaves as `observed` shows; `file` is
/// where the observations came from (named in the description).
pub fn build(observed: &Observed, file: &str) -> Cloned {
    let mut notes = Vec::new();
    let snap = &observed.snapshot;
    let mut fixture: Value = serde_json::from_str(DEFAULT_FIXTURE).unwrap_or(Value::Null);
    let base = fixture
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();

    let mut services = services(&snap.services, &mut notes);
    if services.is_empty() {
        // Nothing of the catalogue was seen (a recording without
        // `services`): the built-in one stands, as the contract does.
        services = base
            .get("services")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        notes.push(format!(
            "no catalogue was observed: the built-in fixture's {} services stand in",
            services.len()
        ));
    }
    let profiles = infer::infer(observed, &mut notes);

    let precision = match observed.precision {
        Some(p) if p <= smm_mock::money::Precision::MAX => p,
        _ => base["precision"].as_u64().unwrap_or(5) as u32,
    };
    let mut accounts = base["accounts"].clone();
    if let Some(list) = accounts.as_array_mut() {
        if let Some(currency) = &observed.currency {
            if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
                for account in list.iter_mut() {
                    account["currency"] = json!(currency);
                }
            } else {
                notes.push(format!(
                    "currency `{currency}` is no three-letter code: the clone keeps USD"
                ));
            }
        }
        if let Some(balance) = &observed.balance {
            match Decimal::from_str(balance) {
                Ok(b) if !b.is_sign_negative() && b.scale() <= precision => {
                    list[0]["balance"] = json!(b.to_string());
                }
                _ => notes.push(format!(
                    "balance `{balance}` cannot be an account's balance: test-key keeps 1000.00"
                )),
            }
        } else {
            // The built-in fixture's balances are written with 2 decimals.
            for account in list.iter_mut() {
                let text = account["balance"].as_str().unwrap_or("0").to_owned();
                if let Ok(b) = Decimal::from_str(&text) {
                    account["balance"] = json!(b.round_dp(precision).to_string());
                }
            }
        }
    }

    let messages = messages(observed, &mut notes);
    let (first_order_id, orders, lifecycles) = seeded(observed, &services, &base, &mut notes);
    notes.extend(unreproduced_fields(snap));

    let names: Vec<&str> = profiles.iter().map(|i| i.profile.name()).collect();
    let target = if snap.target.is_empty() {
        "a panel"
    } else {
        snap.target.as_str()
    };
    let kind = match observed.source {
        Source::Snapshot => "snapshot",
        Source::Recording => "recording",
    };
    let mut description = format!(
        "A clone of {target}, made by `smm-conformance clone` from the {kind} {file}: {} services, {} seeded orders, profiles: {}.",
        services.len(),
        orders.len(),
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    );
    if !notes.is_empty() {
        description.push_str(" Not reproduced: ");
        description.push_str(&notes.join("; "));
        description.push('.');
    }
    description.push_str(
        " Keys: test-key (the observed account), empty-key, eur-key (of the built-in fixture).",
    );

    let mut out = Map::new();
    out.insert("name".into(), json!(format!("clone of {target}")));
    out.insert("description".into(), json!(description));
    out.insert("precision".into(), json!(precision));
    out.insert("first_order_id".into(), json!(first_order_id));
    out.insert("first_refill_id".into(), base["first_refill_id"].clone());
    out.insert("accounts".into(), accounts);
    out.insert("services".into(), Value::Array(services.clone()));
    out.insert("lifecycles".into(), lifecycles);
    for key in ["rules", "refill_lifecycles", "refill_rules"] {
        out.insert(key.into(), base[key].clone());
    }
    out.insert("orders".into(), Value::Array(orders.clone()));
    out.insert("profiles".into(), json!(names));
    if !messages.is_empty() {
        out.insert("messages".into(), Value::Object(messages));
    }
    Cloned {
        fixture: Value::Object(out),
        profiles,
        notes,
        services: services.len(),
        orders: orders.len(),
    }
}

/// The fields a fixture's service has.
const SERVICE_FIELDS: [&str; 11] = [
    "service", "name", "type", "category", "rate", "min", "max", "dripfeed", "refill", "cancel",
    "desc",
];

/// The catalogue as fixture services: each id, limit and rate in the
/// fixture's own forms; a service the fixture cannot hold is left out,
/// with a note.
fn services(list: &[Value], notes: &mut Vec<String>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut extra: BTreeMap<String, usize> = BTreeMap::new();
    let mut left_out = Vec::new();
    for raw in list {
        if let Some(o) = raw.as_object() {
            for key in o.keys().filter(|k| !SERVICE_FIELDS.contains(&k.as_str())) {
                *extra.entry(key.clone()).or_default() += 1;
            }
        }
        match service(raw) {
            Ok(s) => out.push(s),
            Err(why) => left_out.push(format!("{} ({why})", snapshot::service_id(raw))),
        }
    }
    if !left_out.is_empty() {
        notes.push(format!(
            "services left out, the fixture format cannot hold them: {}",
            left_out.join(", ")
        ));
    }
    if !extra.is_empty() {
        let fields: Vec<String> = extra
            .iter()
            .map(|(k, n)| format!("`{k}` ({n} services)"))
            .collect();
        notes.push(format!(
            "service fields the mock does not send: {}",
            fields.join(", ")
        ));
    }
    out
}

/// A count (`min`, `max`, an id) written as a number or as digits.
fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// A flag written as a boolean, `1`/`0` or `"true"`/`"1"`; missing: false.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "True" | "yes"),
        _ => false,
    }
}

fn service(raw: &Value) -> Result<Value, String> {
    let id = count(&raw["service"]).ok_or("an id that is not a number")?;
    let text = |field: &str| match &raw[field] {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    let kind = text("type").ok_or("no type")?;
    let kind = ServiceType::parse(&kind)
        .ok_or_else(|| format!("type `{kind}` is not one of CONTRACT §2.1"))?;
    let rate = match &raw["rate"] {
        Value::String(s) => s.clone(),
        // As the number was written (`8.0` stays `8.0`, which the mock
        // writes back as the same number); `1e-5` in plain digits.
        Value::Number(n) => {
            let t = n.to_string();
            if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                t
            } else {
                Decimal::from_scientific(&t)
                    .map(|d| d.normalize().to_string())
                    .map_err(|_| format!("rate {t}"))?
            }
        }
        _ => return Err("no rate".into()),
    };
    let plain = rate.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && Decimal::from_str(&rate).is_ok_and(|r| r <= Decimal::from(smm_mock::fixture::MAX_RATE));
    if !plain {
        return Err(format!("rate `{rate}`"));
    }
    let min = count(&raw["min"]).filter(|n| *n >= 1).ok_or("min")?;
    let max = count(&raw["max"])
        .filter(|n| *n >= min && *n <= smm_mock::fixture::MAX_QUANTITY)
        .ok_or("max")?;
    let mut service = Map::new();
    service.insert("service".into(), json!(id));
    service.insert("name".into(), json!(text("name").unwrap_or_default()));
    service.insert("type".into(), json!(kind.as_str()));
    service.insert(
        "category".into(),
        json!(text("category").unwrap_or_default()),
    );
    service.insert("rate".into(), json!(rate));
    service.insert("min".into(), json!(min.to_string()));
    service.insert("max".into(), json!(max.to_string()));
    service.insert(
        "dripfeed".into(),
        json!(flag(raw.get("dripfeed")) && kind.allows_dripfeed()),
    );
    service.insert("refill".into(), json!(flag(raw.get("refill"))));
    service.insert("cancel".into(), json!(flag(raw.get("cancel"))));
    if let Some(desc) = raw.get("desc").and_then(Value::as_str) {
        service.insert("desc".into(), json!(desc));
    }
    Ok(Value::Object(service))
}

/// The error messages observed, where they differ from the contract's.
fn messages(observed: &Observed, notes: &mut Vec<String>) -> Map<String, Value> {
    let errors = &observed.snapshot.errors;
    let said = |name: &str| match errors.get(name).map(|a| &a.said) {
        Some(Said::Error(m)) if !m.starts_with('(') && !m.trim().is_empty() => Some(m.clone()),
        _ => None,
    };
    let mut found: BTreeMap<MessageKind, String> = observed.messages.clone();
    let (no_action, unknown) = (said(request::NO_ACTION), said(request::UNKNOWN_ACTION));
    if let (Some(a), Some(b)) = (&no_action, &unknown) {
        if a != b {
            notes.push(format!(
                "no action was answered `{a}`, an unknown action `{b}`: the clone answers both `{b}`"
            ));
        }
    }
    for (kind, text) in [
        (MessageKind::InvalidKey, said(request::WRONG_KEY)),
        (MessageKind::IncorrectRequest, unknown.or(no_action)),
        (MessageKind::IncorrectOrder, said(request::UNKNOWN_ORDER)),
        (MessageKind::RefillNotFound, said(request::UNKNOWN_REFILL)),
    ] {
        if let Some(text) = text {
            found.insert(kind, text);
        }
    }
    let contract = smm_mock::error::Messages::CONTRACT;
    found
        .into_iter()
        .filter(|(kind, text)| {
            let words = contract_words(*kind, &contract);
            words.as_deref() != Some(text.as_str())
        })
        .map(|(kind, text)| (kind.name().to_owned(), json!(text)))
        .collect()
}

/// The reference panels' words for `kind`, where they are one fixed text.
fn contract_words(kind: MessageKind, contract: &smm_mock::error::Messages) -> Option<String> {
    use smm_mock::ApiError;
    let error = match kind {
        MessageKind::InvalidKey => ApiError::InvalidKey,
        MessageKind::IncorrectRequest => ApiError::IncorrectRequest,
        MessageKind::IncorrectService => ApiError::IncorrectService,
        MessageKind::IncorrectOrder => ApiError::IncorrectOrder,
        MessageKind::RefillNotFound => ApiError::RefillNotFound,
        MessageKind::NotEnoughFunds => ApiError::NotEnoughFunds,
        MessageKind::TooManyIds => ApiError::TooManyIds(smm_contract::BULK_LIMIT),
        _ => return None,
    };
    Some(contract.word(&error))
}

/// The seeded orders: the ids asked about, each in the status seen (a
/// snapshot keeps the set of statuses, not which order had which: they are
/// dealt out in id order), with the lifecycles that hold them there.
fn seeded(
    observed: &Observed,
    services: &[Value],
    base: &Map<String, Value>,
    notes: &mut Vec<String>,
) -> (u64, Vec<Value>, Value) {
    let mut lifecycles = base["lifecycles"].clone();
    let first_default = base["first_order_id"].as_u64().unwrap_or(1);
    let mut ids: Vec<u64> = observed.snapshot.orders.clone();
    ids.sort_unstable();
    ids.dedup();
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return (first_default, Vec::new(), lifecycles);
    };
    let Some(service) = services
        .iter()
        .find(|s| s["type"] == "Default")
        .or_else(|| services.iter().find(|s| s["type"] != "Subscriptions"))
    else {
        notes.push("the orders asked about: no service to seed them with".into());
        return (first_default, Vec::new(), lifecycles);
    };
    if !observed.order_statuses.is_empty() {
        notes.push(format!(
            "the seeded orders are orders of service {} at its minimum quantity, in the statuses seen: the quantities, charges and remains recorded are not theirs",
            service["service"]
        ));
    }
    let statuses = &observed.snapshot.statuses;
    let status_of = |i: usize, id: u64| -> Option<String> {
        observed.order_statuses.get(&id).cloned().or_else(|| {
            statuses
                .get(i.min(statuses.len().saturating_sub(1)))
                .cloned()
        })
    };
    let span = last - first + 1;
    let seeded_ids: Vec<u64> = if span <= MAX_SEEDED_SPAN {
        if span > ids.len() as u64 {
            notes.push(format!(
                "the orders asked about are not consecutive: {} orders in Completed fill the ids between them",
                span - ids.len() as u64
            ));
        }
        (first..=last).collect()
    } else {
        let run: Vec<u64> = (first..first + ids.len() as u64).collect();
        let lost: Vec<String> = ids
            .iter()
            .filter(|id| !run.contains(id))
            .map(u64::to_string)
            .collect();
        notes.push(format!(
            "the orders asked about are more than {MAX_SEEDED_SPAN} ids apart: orders {} do not exist in the clone",
            lost.join(", ")
        ));
        run
    };
    if observed.order_statuses.is_empty() && statuses.len() > 1 {
        notes.push("a snapshot keeps which statuses its orders had, not which order had which: they are dealt out in id order".into());
    }
    let mut orders = Vec::new();
    for id in &seeded_ids {
        let asked = ids.iter().position(|i| i == id);
        let text = asked.and_then(|i| status_of(i, *id));
        let status = match text.as_deref().map(|t| (t, OrderStatus::read_drifted(t))) {
            None => OrderStatus::Completed,
            Some((_, Some(s))) => s,
            Some((t, None)) => {
                notes.push(format!(
                    "order {id}'s status `{t}` is none the mock knows: it is seeded Completed"
                ));
                OrderStatus::Completed
            }
        };
        let lifecycle = held_in(status);
        if lifecycles.get(lifecycle).is_none() {
            lifecycles[lifecycle] = json!([
                {"status": "Pending", "delivered": 0},
                {"status": status.as_str(), "delivered": 20}
            ]);
        }
        orders.push(json!({
            "key": base["accounts"][0]["key"],
            "service": service["service"],
            "link": format!("https://example.com/clone/order-{id}"),
            "quantity": service["min"].as_str().and_then(|m| m.parse::<u64>().ok()).unwrap_or(1),
            "lifecycle": lifecycle,
        }));
    }
    (first, orders, lifecycles)
}

/// Fields of status and balance answers the mock never sends.
fn unreproduced_fields(snap: &Snapshot) -> Vec<String> {
    let mut notes = Vec::new();
    let known: [(&str, &[&str]); 3] = [
        (
            "status",
            &["charge", "start_count", "status", "remains", "currency"],
        ),
        (
            "status(orders)[]",
            &[
                "charge",
                "start_count",
                "status",
                "remains",
                "currency",
                "error",
            ],
        ),
        (snapshot::BALANCE, &["balance", "currency", "status"]),
    ];
    for (name, fields) in known {
        if let Some(shape) = snap.shapes.get(name) {
            let extra: Vec<&str> = shape
                .keys()
                .map(String::as_str)
                .filter(|f| !fields.contains(f) && *f != "(answer)")
                .collect();
            if !extra.is_empty() {
                notes.push(format!(
                    "fields of `{name}` the clone's seeded orders do not have: {}",
                    extra.join(", ")
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests;
