//! Contract snapshots and the drift gate.
//!
//! [`take`] records a panel's observable contract without placing an order:
//! the catalogue (sorted by id), the JSON shape of each answer it can see (field
//! → JSON type), the status values of the orders it was given, the error
//! messages of a fixed set of bad requests, and what happens past 100 ids.
//! Nothing volatile is recorded (a balance is a type, never a value), so the
//! same panel gives the same bytes.
//!
//! [`diff`] compares two snapshots and classes each change as the runner's
//! modes do: **breaking**, **drift** (into a form of CONTRACT §6 items 1-4) or
//! **compatible** (no client can tell).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::checks::UNKNOWN_ID;
use crate::client::{Client, Exchange};

/// The snapshot format's name, in every file.
pub const FORMAT: &str = "smm-conformance-snapshot";
/// The snapshot format's version.
pub const VERSION: u32 = 1;

/// A panel's observable contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The endpoint, as given (never a key).
    pub target: String,
    /// The catalogue, sorted by id; each service as the panel sent it.
    pub services: Vec<Value>,
    /// For each kind of answer, its fields and their JSON types.
    pub shapes: BTreeMap<String, BTreeMap<String, String>>,
    /// The status values seen on the orders given (`--order`).
    pub statuses: Vec<String>,
    /// The answer to each bad request: an error message, or `(no error)`.
    pub errors: BTreeMap<String, String>,
    /// What 101 ids get: `error`, `first-100`, `all` or `other`.
    pub bulk_limit: String,
    /// The orders whose status was recorded (`--order`); `diff --against`
    /// asks about the same ones.
    pub orders: Vec<u64>,
    /// Every content type the answers came with.
    pub content_types: Vec<String>,
}

/// Why a snapshot file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError {
    /// The file.
    pub file: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// Reads a snapshot file, or says which file and what is wrong.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let file = path.display().to_string();
        let error = |problem: String| SnapshotError {
            file: file.clone(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| error(format!("not JSON: {e}")))?;
        match value.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(error(format!(
                    "a `{other}` file, not an smm-conformance snapshot"
                )))
            }
            None => {
                return Err(error(
                    "not an smm-conformance snapshot (no \"format\": \"smm-conformance-snapshot\")"
                        .into(),
                ))
            }
        }
        match value.get("version") {
            Some(v) if v.as_u64() == Some(u64::from(VERSION)) => {}
            other => {
                let found = other.map_or_else(|| "none".to_owned(), Value::to_string);
                return Err(error(format!(
                    "snapshot version {found}; this smm-conformance reads version {VERSION}"
                )));
            }
        }
        let problems = snapshot_schema_errors(&value);
        if let Some(first) = problems.first() {
            return Err(error(format!(
                "malformed snapshot: {first} (schemas/snapshot.schema.json)"
            )));
        }
        let snapshot: Snapshot =
            serde_json::from_value(value).map_err(|e| error(format!("malformed snapshot: {e}")))?;
        let mut ids: Vec<String> = snapshot.services.iter().map(service_id).collect();
        ids.sort();
        if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(error(format!(
                "malformed snapshot: service {} is listed twice",
                pair[0]
            )));
        }
        Ok(snapshot)
    }

    /// The snapshot as its file holds it: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The schema errors of a snapshot file's JSON (empty: valid).
fn snapshot_schema_errors(value: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("../../schemas/snapshot.schema.json"))
        .unwrap_or(Value::Null);
    match jsonschema::validator_for(&schema) {
        Ok(validator) => crate::schema::validation_errors(&validator, value),
        Err(e) => vec![format!("the snapshot schema does not compile: {e}")],
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Field → type of one object (`{"error": …}` is recorded as `error`).
fn shape_of(value: &Value) -> BTreeMap<String, String> {
    match value {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| (k.clone(), type_name(v).to_owned()))
            .collect(),
        other => BTreeMap::from([("(answer)".to_owned(), type_name(other).to_owned())]),
    }
}

fn json(exchange: &Exchange) -> Value {
    match &exchange.answer {
        Ok(answer) => answer
            .json
            .clone()
            .unwrap_or_else(|| Value::String(format!("(not JSON: HTTP {})", answer.status))),
        Err(e) => Value::String(format!("(no answer: {e})")),
    }
}

/// The error an exchange answered, with its HTTP status when not 200.
fn error_of(exchange: &Exchange) -> String {
    let message = error_text(&json(exchange));
    match &exchange.answer {
        Ok(answer) if answer.status != 200 => format!("(HTTP {}) {message}", answer.status),
        _ => message,
    }
}

fn error_text(value: &Value) -> String {
    match value.get("error") {
        Some(Value::String(message)) => message.clone(),
        Some(other) => other.to_string(),
        None => match value {
            Value::String(s) if s.starts_with('(') => s.clone(),
            _ => "(no error)".to_owned(),
        },
    }
}

/// Records the shape of every item of a bulk answer under `name` (a merged
/// shape: each field with the types seen).
fn record_items(
    shapes: &mut BTreeMap<String, BTreeMap<String, String>>,
    name: &str,
    items: &[&Value],
) {
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    for item in items {
        for (field, kind) in shape_of(item) {
            let entry = merged.entry(field).or_default();
            if entry.is_empty() {
                *entry = kind;
            } else if !entry.split('|').any(|k| k == kind) {
                let mut kinds: Vec<&str> = entry.split('|').chain([kind.as_str()]).collect();
                kinds.sort_unstable();
                *entry = kinds.join("|");
            }
        }
    }
    shapes.insert(name.to_owned(), merged);
}

/// Takes a snapshot: read-only requests only (no `add` that could place an
/// order, no `refill` or `cancel` of a real order). A panel whose `services`
/// is not a list (a wrong key, a wrong path) gets no snapshot: a file that
/// says "no services" would read as every service removed.
pub async fn take(client: &Client, target: &str, orders: &[u64]) -> Result<Snapshot, String> {
    let mut shapes = BTreeMap::new();
    let services = json(&client.call("services", &[]).await);
    if !services.is_array() {
        let shown: String = services.to_string().chars().take(160).collect();
        return Err(format!(
            "`services` did not answer a list ({shown}): check the URL and the key"
        ));
    }
    let mut list: Vec<Value> = services.as_array().cloned().unwrap_or_default();
    list.sort_by_key(|s| {
        let id = &s["service"];
        (
            id.as_u64()
                .or_else(|| id.as_str().and_then(|t| t.parse().ok()))
                .unwrap_or(u64::MAX),
            id.to_string(),
        )
    });
    let items: Vec<&Value> = list.iter().collect();
    record_items(&mut shapes, "services[]", &items);
    if !services.is_array() {
        shapes.insert("services".into(), shape_of(&services));
    }

    let balance = json(&client.call("balance", &[]).await);
    shapes.insert("balance".into(), shape_of(&balance));

    let mut statuses = Vec::new();
    let mut status_items = Vec::new();
    for order in orders {
        let status = json(
            &client
                .call("status", &[("order", &order.to_string())])
                .await,
        );
        if let Some(s) = status.get("status").and_then(Value::as_str) {
            statuses.push(s.to_owned());
        }
        status_items.push(status);
    }
    if !status_items.is_empty() {
        let refs: Vec<&Value> = status_items.iter().collect();
        record_items(&mut shapes, "status", &refs);
    }
    let unknown = UNKNOWN_ID.to_string();
    let mut ids: Vec<String> = orders.iter().map(u64::to_string).collect();
    ids.push(unknown.clone());
    let bulk = json(&client.call("status", &[("orders", &ids.join(","))]).await);
    match &bulk {
        Value::Object(o) => {
            let items: Vec<&Value> = o.values().collect();
            record_items(&mut shapes, "status(orders)[]", &items);
        }
        other => {
            shapes.insert("status(orders)".into(), shape_of(other));
        }
    }
    for (action, field, name) in [
        ("refill", "orders", "refill(orders)[]"),
        ("refill_status", "refills", "refill_status(refills)[]"),
        ("cancel", "orders", "cancel(orders)[]"),
    ] {
        let answer = json(
            &client
                .call(action, &[(field, &format!("{unknown},abc"))])
                .await,
        );
        match &answer {
            Value::Array(items) => {
                let refs: Vec<&Value> = items.iter().collect();
                record_items(&mut shapes, name, &refs);
            }
            other => {
                shapes.insert(name.trim_end_matches("[]").to_owned(), shape_of(other));
            }
        }
    }
    statuses.sort();
    statuses.dedup();

    let key = client.target().key.clone();
    let mut errors = BTreeMap::new();
    let bad_key = client
        .post(vec![
            ("key".into(), "smm-conformance-wrong-key-0000".into()),
            ("action".into(), "balance".into()),
        ])
        .await;
    errors.insert("balance with a wrong key".to_owned(), error_of(&bad_key));
    let no_action = &client.post(vec![("key".into(), key)]).await;
    errors.insert("no action".to_owned(), error_of(no_action));
    let unknown_action = &client.call("smm-conformance-no-such-action", &[]).await;
    errors.insert("unknown action".to_owned(), error_of(unknown_action));
    let max_id = list
        .iter()
        .filter_map(|s| {
            s["service"]
                .as_u64()
                .or_else(|| s["service"].as_str()?.parse().ok())
        })
        .max()
        .unwrap_or(0);
    let service = max_id.saturating_add(1_000_000).to_string();
    let unknown_service = &client
        .call(
            "add",
            &[
                ("service", &service),
                ("link", "https://example.com/smm-conformance"),
                ("quantity", "1000"),
            ],
        )
        .await;
    errors.insert(
        "add for an unknown service".to_owned(),
        error_of(unknown_service),
    );
    let unknown_order = &client.call("status", &[("order", &unknown)]).await;
    errors.insert(
        "status of an unknown order".to_owned(),
        error_of(unknown_order),
    );
    let unknown_refill = &client.call("refill_status", &[("refill", &unknown)]).await;
    errors.insert(
        "refill_status of an unknown refill".to_owned(),
        error_of(unknown_refill),
    );

    let many: Vec<String> = (0..101).map(|i| (UNKNOWN_ID + i).to_string()).collect();
    let over = json(&client.call("status", &[("orders", &many.join(","))]).await);
    let bulk_limit = match &over {
        v if crate::schema::is_error(v) => "error",
        Value::Object(o) if o.len() == 100 && o.keys().all(|k| many[..100].contains(k)) => {
            "first-100"
        }
        Value::Object(o) if o.len() == 101 => "all",
        _ => "other",
    };
    let mut content_types: Vec<String> = client
        .observations()
        .answers
        .iter()
        .map(|(_, _, ct)| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    content_types.sort();
    content_types.dedup();
    Ok(Snapshot {
        orders: orders.to_vec(),
        content_types,
        format: FORMAT.to_owned(),
        version: VERSION,
        target: target.to_owned(),
        services: list,
        shapes,
        statuses,
        errors,
        bulk_limit: bulk_limit.to_owned(),
    })
}

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No client can tell.
    Compatible,
    /// Into a form of CONTRACT §6 items 1-4.
    Drift,
    /// Breaks clients.
    Breaking,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compatible => "compatible",
            Self::Drift => "drift",
            Self::Breaking => "breaking",
        }
    }
}

/// One change between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The area: `services`, `shapes`, `statuses`, `errors`, `bulk_limit`.
    pub area: &'static str,
    /// Its class.
    pub severity: Severity,
    /// What changed.
    pub what: String,
}

/// The fields whose absence is drift (CONTRACT §6.3).
const MAY_BE_MISSING: [(&str, &str); 5] = [
    ("status", "currency"),
    ("status(orders)[]", "currency"),
    ("services[]", "dripfeed"),
    ("services[]", "refill"),
    ("services[]", "cancel"),
];

/// Extra fields that are drift (CONTRACT §6.4).
const NAMED_EXTRAS: [(&str, &str); 5] = [
    ("balance", "status"),
    ("status", "order"),
    ("status", "created_at"),
    ("status", "service_name"),
    ("status(orders)[]", "order"),
];

fn status_item(shape: &str) -> bool {
    shape == "status" || shape == "status(orders)[]"
}

/// Whether a field's type change is one of CONTRACT §6.1's drift forms.
fn type_drift(shape: &str, field: &str, old: &str, new: &str) -> bool {
    let money_or_count = ["rate", "min", "max", "balance", "charge", "remains"];
    let ids = ["service", "order", "refill"];
    let new_kinds: Vec<&str> = new.split('|').collect();
    let old_kinds: Vec<&str> = old.split('|').collect();
    let only = |allowed: &[&str]| {
        new_kinds
            .iter()
            .all(|k| allowed.contains(k) || old_kinds.contains(k))
    };
    (money_or_count.contains(&field) && only(&["string", "integer", "number"]))
        || (ids.contains(&field) && only(&["string", "integer"]))
        || (status_item(shape) && field == "start_count" && only(&["string", "null", "integer"]))
}

/// The order status enum of CONTRACT §3.
const STATUSES: [&str; 6] = [
    "Pending",
    "In progress",
    "Processing",
    "Completed",
    "Partial",
    "Canceled",
];

/// Whether `status` is a drifted spelling of the enum (CONTRACT §6.2).
fn drift_spelling(status: &str) -> bool {
    let lower = status.to_lowercase();
    STATUSES.iter().any(|c| c.to_lowercase() == lower)
        || ["cancelled", "failed", "active", "refunded", "inprogress"].contains(&lower.as_str())
}

fn service_id(s: &Value) -> String {
    match &s["service"] {
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// Compares two snapshots. `max_rate_increase` (percent): a rate rising by
/// more is breaking, by less compatible.
pub fn diff(old: &Snapshot, new: &Snapshot, max_rate_increase: Decimal) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut push = |area: &'static str, severity: Severity, what: String| {
        changes.push(Change {
            area,
            severity,
            what,
        })
    };

    // Services.
    let by_id = |list: &[Value]| -> BTreeMap<String, Map<String, Value>> {
        list.iter()
            .map(|s| (service_id(s), s.as_object().cloned().unwrap_or_default()))
            .collect()
    };
    let (before, after) = (by_id(&old.services), by_id(&new.services));
    for (id, was) in &before {
        let Some(now) = after.get(id) else {
            push(
                "services",
                Severity::Breaking,
                format!("service {id} removed ({})", text(&was["name"].clone())),
            );
            continue;
        };
        for field in ["name", "category"] {
            if was.get(field) != now.get(field) {
                push(
                    "services",
                    Severity::Compatible,
                    format!(
                        "service {id}: {field} {:?} → {:?}",
                        text(was.get(field).unwrap_or(&Value::Null)),
                        text(now.get(field).unwrap_or(&Value::Null))
                    ),
                );
            }
        }
        if was.get("type") != now.get("type") {
            push(
                "services",
                Severity::Breaking,
                format!(
                    "service {id}: type {} → {}",
                    text(&was["type"]),
                    text(&now["type"])
                ),
            );
        }
        if let (Some(a), Some(b)) = (
            was.get("rate").and_then(number),
            now.get("rate").and_then(number),
        ) {
            if a != b {
                let pct = if a.is_zero() {
                    Decimal::from(100)
                } else {
                    ((b - a) * Decimal::from(100) / a).round_dp(2)
                };
                let severity = if b > a && pct > max_rate_increase {
                    Severity::Breaking
                } else {
                    Severity::Compatible
                };
                push(
                    "services",
                    severity,
                    format!(
                        "service {id}: rate {a} → {b} ({}{pct}%)",
                        if pct.is_sign_positive() { "+" } else { "" }
                    ),
                );
            }
        }
        for (field, tighter) in [("min", true), ("max", false)] {
            if let (Some(a), Some(b)) = (
                was.get(field).and_then(number),
                now.get(field).and_then(number),
            ) {
                if a != b {
                    let breaking = if tighter { b > a } else { b < a };
                    push(
                        "services",
                        if breaking {
                            Severity::Breaking
                        } else {
                            Severity::Compatible
                        },
                        format!("service {id}: {field} {a} → {b}"),
                    );
                }
            }
        }
        for flag in ["dripfeed", "refill", "cancel"] {
            match (was.get(flag), now.get(flag)) {
                (Some(Value::Bool(true)), Some(Value::Bool(false))) => push(
                    "services",
                    Severity::Breaking,
                    format!("service {id}: {flag} withdrawn"),
                ),
                (Some(Value::Bool(false)), Some(Value::Bool(true))) => push(
                    "services",
                    Severity::Compatible,
                    format!("service {id}: {flag} offered"),
                ),
                _ => {}
            }
        }
        // Every other difference: a field missing, a type changed, a value
        // that is no longer a number, any other value changed.
        let compared = [
            "service", "name", "category", "type", "rate", "min", "max", "dripfeed", "refill",
            "cancel",
        ];
        for (field, old_value) in was {
            let Some(new_value) = now.get(field) else {
                let severity = match field.as_str() {
                    "dripfeed" | "refill" | "cancel" => Severity::Drift,
                    "name" | "type" | "category" | "rate" | "min" | "max" => Severity::Breaking,
                    _ => Severity::Compatible,
                };
                push(
                    "services",
                    severity,
                    format!("service {id}: {field} missing"),
                );
                continue;
            };
            let (old_type, new_type) = (type_name(old_value), type_name(new_value));
            let numeric = ["rate", "min", "max"].contains(&field.as_str());
            if old_type != new_type {
                let severity = if type_drift("services[]", field, old_type, new_type)
                    && (!numeric || number(new_value).is_some())
                {
                    Severity::Drift
                } else {
                    Severity::Breaking
                };
                push(
                    "services",
                    severity,
                    format!("service {id}: {field} {old_type} → {new_type}"),
                );
            } else if numeric
                && number(old_value).is_some()
                && number(new_value).is_none_or(|n| n.is_sign_negative())
            {
                push(
                    "services",
                    Severity::Breaking,
                    format!(
                        "service {id}: {field} {} → {} (not a number ≥ 0)",
                        text(old_value),
                        text(new_value)
                    ),
                );
            } else if !compared.contains(&field.as_str()) && old_value != new_value {
                push(
                    "services",
                    Severity::Compatible,
                    format!("service {id}: {field} changed"),
                );
            }
        }
    }
    for (id, now) in &after {
        if !before.contains_key(id) {
            push(
                "services",
                Severity::Compatible,
                format!("service {id} added ({})", text(&now["name"].clone())),
            );
        }
    }

    // Shapes.
    for (shape, was) in &old.shapes {
        let Some(now) = new.shapes.get(shape) else {
            push(
                "shapes",
                Severity::Breaking,
                format!("{shape}: no longer answered in this form"),
            );
            continue;
        };
        for (field, old_kind) in was {
            match now.get(field) {
                None if MAY_BE_MISSING.contains(&(shape.as_str(), field.as_str())) => push(
                    "shapes",
                    Severity::Drift,
                    format!("{shape}.{field} removed"),
                ),
                None => push(
                    "shapes",
                    Severity::Breaking,
                    format!("{shape}.{field} removed"),
                ),
                Some(new_kind) if new_kind != old_kind => {
                    let severity = if type_drift(shape, field, old_kind, new_kind) {
                        Severity::Drift
                    } else {
                        Severity::Breaking
                    };
                    push(
                        "shapes",
                        severity,
                        format!("{shape}.{field}: {old_kind} → {new_kind}"),
                    );
                }
                Some(_) => {}
            }
        }
        for field in now.keys().filter(|f| !was.contains_key(*f)) {
            let severity = if NAMED_EXTRAS.contains(&(shape.as_str(), field.as_str()))
                || (shape == "balance" && field == "status")
            {
                Severity::Drift
            } else {
                Severity::Compatible
            };
            push("shapes", severity, format!("{shape}.{field} added"));
        }
    }
    for shape in new.shapes.keys().filter(|s| !old.shapes.contains_key(*s)) {
        push(
            "shapes",
            Severity::Breaking,
            format!("{shape}: a new form of answer"),
        );
    }

    // Status values.
    for status in new.statuses.iter().filter(|s| !old.statuses.contains(s)) {
        let severity = if STATUSES.contains(&status.as_str()) {
            Severity::Compatible
        } else if drift_spelling(status) {
            Severity::Drift
        } else {
            Severity::Breaking
        };
        push("statuses", severity, format!("status `{status}` seen"));
    }

    // Errors.
    for (request, was) in &old.errors {
        let now = new.errors.get(request).cloned().unwrap_or_default();
        if &now != was {
            let severity = if now == "(no error)" || now.starts_with('(') || was == "(no error)" {
                Severity::Breaking
            } else {
                Severity::Compatible
            };
            push("errors", severity, format!("{request}: {was:?} → {now:?}"));
        }
    }

    // Content types.
    if old.content_types != new.content_types {
        push(
            "content_types",
            Severity::Breaking,
            format!(
                "content types {:?} → {:?}",
                old.content_types, new.content_types
            ),
        );
    }

    // The bulk limit.
    if old.bulk_limit != new.bulk_limit {
        let severity = match (old.bulk_limit.as_str(), new.bulk_limit.as_str()) {
            ("error", "first-100") => Severity::Drift,
            (_, "error") => Severity::Compatible,
            _ => Severity::Breaking,
        };
        push(
            "bulk_limit",
            severity,
            format!("101 ids: {} → {}", old.bulk_limit, new.bulk_limit),
        );
    }
    changes
}

/// A unified diff of two snapshots, area by area.
pub fn unified(old: &Snapshot, new: &Snapshot, old_name: &str, new_name: &str) -> String {
    let area = |s: &Snapshot| -> Value {
        let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("target");
        }
        v
    };
    let (a, b) = (area(old), area(new));
    let mut out = String::new();
    for key in [
        "services",
        "shapes",
        "statuses",
        "errors",
        "bulk_limit",
        "content_types",
    ] {
        let before = serde_json::to_string_pretty(&a[key]).unwrap_or_default() + "\n";
        let after = serde_json::to_string_pretty(&b[key]).unwrap_or_default() + "\n";
        if before != after {
            out.push_str(
                &similar::TextDiff::from_lines(&before as &str, &after as &str)
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("{old_name} {key}"), &format!("{new_name} {key}"))
                    .to_string(),
            );
        }
    }
    out
}
