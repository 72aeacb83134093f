//! Contract snapshots and the drift gate.
//!
//! [`take`] records a panel's observable contract without placing an order:
//! the catalogue (in [`ServiceKey`] order), the JSON shape of each answer it can see (field
//! → JSON types), the status values of the orders it was given, the error
//! answers to a fixed set of bad requests, and what happens past 100 ids.
//! Nothing volatile is recorded (a balance is a type, never a value), so the
//! same panel gives the same bytes.
//!
//! [`diff()`] compares two snapshots and classes each change as the runner's
//! modes do: **breaking**, **drift** (into a form of CONTRACT §6 items 1-4) or
//! **compatible** (no client can tell). Services are compared in catalogue
//! order ([`ServiceKey`]); [`group`] makes the same change to several
//! services one line of a report.

mod diff;

pub use diff::{diff, group, Change, ChangeGroup, Severity};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smm_contract::drift::Shape;
use smm_contract::{field, Action, BULK_LIMIT};

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
    pub shapes: BTreeMap<String, BTreeMap<String, Types>>,
    /// The status values seen on the orders given (`--order`).
    pub statuses: Vec<String>,
    /// The answer to each bad request.
    pub errors: BTreeMap<String, ErrorAnswer>,
    /// What 101 ids get.
    pub bulk_limit: BulkLimit,
    /// The orders whose status was recorded (`--order`); `diff --against`
    /// asks about the same ones.
    pub orders: Vec<u64>,
    /// Every content type the answers came with.
    pub content_types: Vec<String>,
}

/// The type of a JSON value, as snapshots name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JsonType {
    /// `array`.
    Array,
    /// `boolean`.
    Boolean,
    /// `integer`: a number without a fraction.
    Integer,
    /// `null`.
    Null,
    /// `number`: any other number.
    Number,
    /// `object`.
    Object,
    /// `string`.
    String,
}

impl JsonType {
    /// Every type, in alphabetical order.
    pub const ALL: [JsonType; 7] = [
        Self::Array,
        Self::Boolean,
        Self::Integer,
        Self::Null,
        Self::Number,
        Self::Object,
        Self::String,
    ];

    /// Its name in a snapshot.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Array => "array",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Null => "null",
            Self::Number => "number",
            Self::Object => "object",
            Self::String => "string",
        }
    }

    /// The type of `value`.
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => Self::Null,
            Value::Bool(_) => Self::Boolean,
            Value::Number(n) if n.is_u64() || n.is_i64() => Self::Integer,
            Value::Number(_) => Self::Number,
            Value::String(_) => Self::String,
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON types a field was seen with: one, or several when the items of
/// a bulk answer differ (written `integer|object` in the file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Types(pub BTreeSet<JsonType>);

impl Types {
    /// One type.
    pub fn one(kind: JsonType) -> Types {
        Types(BTreeSet::from([kind]))
    }

    /// Whether `kind` is among them.
    pub fn contains(&self, kind: JsonType) -> bool {
        self.0.contains(&kind)
    }
}

impl fmt::Display for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|k| k.as_str()).collect();
        f.write_str(&names.join("|"))
    }
}

impl Serialize for Types {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Types {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.split('|')
            .map(|name| {
                JsonType::ALL
                    .into_iter()
                    .find(|k| k.as_str() == name)
                    .ok_or_else(|| serde::de::Error::custom(format!("`{name}` is not a JSON type")))
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Types)
    }
}

/// What a bad request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The HTTP status, when there was an answer that was not HTTP 200.
    pub status: Option<u16>,
    /// What the body said.
    pub said: Said,
}

/// What the body of an answer to a bad request said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// An error, with this message (`{"error": "…"}`).
    Error(String),
    /// JSON without an `error`: the request was not refused.
    NoError,
    /// A body that is not JSON, with the HTTP status it came with.
    NotJson(u16),
    /// No answer at all, and why.
    NoAnswer(String),
}

impl ErrorAnswer {
    /// Whether it is an error message with HTTP 200: what the contract asks.
    pub fn is_plain_error(&self) -> bool {
        self.status.is_none() && matches!(&self.said, Said::Error(m) if !m.starts_with('('))
    }

    /// Whether the request was answered without an error, with HTTP 200.
    pub fn is_no_error(&self) -> bool {
        self.status.is_none() && self.said == Said::NoError
    }

    fn of(exchange: &Exchange) -> ErrorAnswer {
        match &exchange.answer {
            Err(e) => ErrorAnswer::unanswered(&e.to_string()),
            Ok(answer) => ErrorAnswer::answered(answer.status, answer.json.as_ref()),
        }
    }

    /// No answer at all, and why.
    pub fn unanswered(why: &str) -> ErrorAnswer {
        ErrorAnswer {
            status: None,
            said: Said::NoAnswer(why.to_owned()),
        }
    }

    /// An answer with this HTTP status and this JSON (`None`: not JSON).
    pub fn answered(status: u16, json: Option<&Value>) -> ErrorAnswer {
        ErrorAnswer {
            status: (status != 200).then_some(status),
            said: match json {
                None => Said::NotJson(status),
                Some(value) => match value.get("error") {
                    Some(Value::String(message)) => Said::Error(message.clone()),
                    Some(other) => Said::Error(other.to_string()),
                    None => Said::NoError,
                },
            },
        }
    }
}

/// How a [`Said`] other than an error message is written in the file.
const NO_ERROR: &str = "(no error)";
const NOT_JSON: &str = "(not JSON: HTTP ";
const NO_ANSWER: &str = "(no answer: ";

impl fmt::Display for ErrorAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "(HTTP {status}) ")?;
        }
        match &self.said {
            Said::Error(message) => f.write_str(message),
            Said::NoError => f.write_str(NO_ERROR),
            Said::NotJson(status) => write!(f, "{NOT_JSON}{status})"),
            Said::NoAnswer(why) => write!(f, "{NO_ANSWER}{why})"),
        }
    }
}

impl std::str::FromStr for ErrorAnswer {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (status, rest) = text
            .strip_prefix("(HTTP ")
            .and_then(|t| t.split_once(") "))
            .and_then(|(n, rest)| Some((Some(n.parse().ok()?), rest)))
            .unwrap_or((None, text));
        let said = if rest == NO_ERROR {
            Said::NoError
        } else if let Some(n) = rest
            .strip_prefix(NOT_JSON)
            .and_then(|t| t.strip_suffix(')'))
            .and_then(|n| n.parse().ok())
        {
            Said::NotJson(n)
        } else if let Some(why) = rest
            .strip_prefix(NO_ANSWER)
            .and_then(|t| t.strip_suffix(')'))
        {
            Said::NoAnswer(why.to_owned())
        } else {
            Said::Error(rest.to_owned())
        };
        Ok(ErrorAnswer { status, said })
    }
}

impl Serialize for ErrorAnswer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ErrorAnswer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(text.parse().unwrap_or_else(|never| match never {}))
    }
}

/// What more than [`BULK_LIMIT`] ids get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BulkLimit {
    /// One top-level error (the contract).
    Error,
    /// Exactly the first 100 answered (drift).
    #[serde(rename = "first-100")]
    First100,
    /// Every id answered.
    All,
    /// Anything else.
    Other,
}

impl fmt::Display for BulkLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::First100 => "first-100",
            Self::All => "all",
            Self::Other => "other",
        })
    }
}

/// Why a snapshot file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct SnapshotError {
    /// The file.
    pub file: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Why a panel gets no snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TakeError {
    /// `services` did not answer a list: a wrong key or a wrong path.
    #[error("`services` did not answer a list ({0}): check the URL and the key")]
    NoCatalogue(String),
}

impl Snapshot {
    /// One line saying what the snapshot holds: `18 services, 9 answer
    /// shapes, 5 error answers, 2 orders`.
    pub fn summary(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        [
            plural(self.services.len(), "service", "services"),
            plural(self.shapes.len(), "answer shape", "answer shapes"),
            plural(self.errors.len(), "error answer", "error answers"),
            plural(self.orders.len(), "order", "orders"),
        ]
        .join(", ")
    }

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

    /// The snapshot with every secret masked in every text it holds, even a
    /// key a panel echoed back.
    pub fn redacted(mut self, secrets: &[String]) -> Snapshot {
        let mask = |text: &mut String| *text = crate::report::redact(text, secrets);
        mask(&mut self.target);
        self.services
            .iter_mut()
            .for_each(|s| redact_value(s, secrets));
        // A panel may key an answer by what it was sent.
        self.shapes = std::mem::take(&mut self.shapes)
            .into_iter()
            .map(|(shape, fields)| {
                let fields = fields
                    .into_iter()
                    .map(|(field, types)| (crate::report::redact(&field, secrets), types))
                    .collect();
                (crate::report::redact(&shape, secrets), fields)
            })
            .collect();
        self.statuses.iter_mut().for_each(mask);
        self.content_types.iter_mut().for_each(mask);
        self.errors = std::mem::take(&mut self.errors)
            .into_iter()
            .map(|(mut request, mut answer)| {
                mask(&mut request);
                match &mut answer.said {
                    Said::Error(text) | Said::NoAnswer(text) => mask(text),
                    Said::NoError | Said::NotJson(_) => {}
                }
                (request, answer)
            })
            .collect();
        self
    }
}

fn redact_value(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(text) => *text = crate::report::redact(text, secrets),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, secrets)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            *map = entries
                .into_iter()
                .map(|(k, mut v)| {
                    redact_value(&mut v, secrets);
                    (crate::report::redact(&k, secrets), v)
                })
                .collect();
        }
        _ => {}
    }
}

/// The schema errors of a snapshot file's JSON (empty: valid).
fn snapshot_schema_errors(value: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("../../../schemas/snapshot.schema.json"))
        .unwrap_or(Value::Null);
    match jsonschema::validator_for(&schema) {
        Ok(validator) => crate::schema::validation_errors(&validator, value),
        Err(e) => vec![format!("the snapshot schema does not compile: {e}")],
    }
}

/// The name of the shape of the catalogue's items.
pub const SERVICES: &str = "services[]";
/// The name of the shape of `balance`.
pub const BALANCE: &str = "balance";

/// The name of the shape of a single `status`.
pub(crate) fn single(action: Action) -> String {
    action.as_str().to_owned()
}

/// The name of the shape of the items of `action`'s bulk answer
/// (`status(orders)[]`), or of the whole answer when it is not a collection
/// (`status(orders)`).
pub(crate) fn bulk(action: Action, items: bool) -> String {
    let field = action.bulk_field().unwrap_or_default();
    let suffix = if items { "[]" } else { "" };
    format!("{action}({field}){suffix}")
}

/// The contract's shape (of its drift table) a snapshot shape records.
pub fn contract_shape(name: &str) -> Option<Shape> {
    if name == SERVICES {
        return Some(Shape::Service);
    }
    if name == BALANCE {
        return Some(Shape::Balance);
    }
    if name == single(Action::Status) || name == bulk(Action::Status, true) {
        return Some(Shape::Status);
    }
    [Action::Refill, Action::RefillStatus, Action::Cancel]
        .into_iter()
        .any(|a| name == bulk(a, true))
        .then_some(Shape::ListItem)
}

/// Field → types of one object (a value that is not an object is recorded
/// as the field `(answer)`).
pub(crate) fn shape_of(value: &Value) -> BTreeMap<String, Types> {
    match value {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| (k.clone(), Types::one(JsonType::of(v))))
            .collect(),
        other => BTreeMap::from([("(answer)".to_owned(), Types::one(JsonType::of(other)))]),
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

/// The shape of every item of a bulk answer, merged: each field with every
/// type seen.
pub(crate) fn merged(items: &[&Value]) -> BTreeMap<String, Types> {
    let mut merged: BTreeMap<String, Types> = BTreeMap::new();
    for item in items {
        for (field, kinds) in shape_of(item) {
            merged.entry(field).or_default().0.extend(kinds.0);
        }
    }
    merged
}

/// The shape a bulk answer of `action` is recorded as: the merged shape
/// of its items under `action(field)[]` when it is the collection the
/// contract asks for (an object keyed by id for `status`, a list for the
/// others), else the whole answer's shape under `action(field)`.
pub(crate) fn bulk_shape(action: Action, answer: &Value) -> (String, BTreeMap<String, Types>) {
    let items: Option<Vec<&Value>> = match (action, answer) {
        (Action::Status, Value::Object(o)) => Some(o.values().collect()),
        (Action::Status, _) => None,
        (_, Value::Array(items)) => Some(items.iter().collect()),
        _ => None,
    };
    match items {
        Some(items) => (bulk(action, true), merged(&items)),
        None => (bulk(action, false), shape_of(answer)),
    }
}

/// What the answer `over` to a bulk status of the ids `many` (more than
/// [`BULK_LIMIT`]) says about the limit.
pub(crate) fn bulk_limit_of(over: &Value, many: &[String]) -> BulkLimit {
    match over {
        v if crate::schema::is_error(v) => BulkLimit::Error,
        Value::Object(o)
            if o.len() == BULK_LIMIT && o.keys().all(|k| many[..BULK_LIMIT].contains(k)) =>
        {
            BulkLimit::First100
        }
        Value::Object(o) if o.len() == many.len() => BulkLimit::All,
        _ => BulkLimit::Other,
    }
}

/// A content type as snapshots list it: without parameters, in lower case.
pub(crate) fn bare_content_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The key the snapshot's wrong-key request sends.
pub const WRONG_KEY: &str = "smm-conformance-wrong-key-0000";

/// The request names of the error answers a snapshot records.
pub mod request {
    /// `balance` with [`super::WRONG_KEY`].
    pub const WRONG_KEY: &str = "balance with a wrong key";
    /// A key and no `action`.
    pub const NO_ACTION: &str = "no action";
    /// An action the contract does not have.
    pub const UNKNOWN_ACTION: &str = "unknown action";
    /// `status` of an order that does not exist.
    pub const UNKNOWN_ORDER: &str = "status of an unknown order";
    /// `refill_status` of a refill that does not exist.
    pub const UNKNOWN_REFILL: &str = "refill_status of an unknown refill";
}

pub(crate) fn service_id(s: &Value) -> String {
    match &s["service"] {
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// A service's place in a catalogue: ids that are numbers (also written as
/// strings) first, by number, then the others in text order. Snapshots list
/// services in this order, and diffs report them in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceKey {
    /// An id that is a number, with its text (`7` and `"007"` stay apart).
    Number(u64, String),
    /// Any other id, as text.
    Text(String),
}

impl ServiceKey {
    /// The key of a service of a catalogue.
    pub fn of(service: &Value) -> ServiceKey {
        let id = service_id(service);
        match id.parse() {
            Ok(number) => Self::Number(number, id),
            Err(_) => Self::Text(id),
        }
    }

    /// The id, as text.
    pub fn id(&self) -> &str {
        match self {
            Self::Number(_, id) | Self::Text(id) => id,
        }
    }
}

/// Takes a snapshot: read-only requests only (no `add` that could place an
/// order, no `refill` or `cancel` of a real order). A panel whose `services`
/// is not a list (a wrong key, a wrong path) gets no snapshot: a file that
/// says "no services" would read as every service removed.
pub async fn take(client: &Client, target: &str, orders: &[u64]) -> Result<Snapshot, TakeError> {
    let mut shapes = BTreeMap::new();
    let services = json(&client.call(Action::Services, &[]).await);
    let Value::Array(mut list) = services else {
        let shown = crate::checks::brief(client, &services, 160);
        return Err(TakeError::NoCatalogue(shown));
    };
    list.sort_by_cached_key(ServiceKey::of);
    let items: Vec<&Value> = list.iter().collect();
    shapes.insert(SERVICES.to_owned(), merged(&items));

    let balance = json(&client.call(Action::Balance, &[]).await);
    shapes.insert(BALANCE.to_owned(), shape_of(&balance));

    let mut statuses = Vec::new();
    let mut status_items = Vec::new();
    for order in orders {
        let status = json(
            &client
                .call(Action::Status, &[(field::ORDER, &order.to_string())])
                .await,
        );
        if let Some(s) = status.get("status").and_then(Value::as_str) {
            statuses.push(s.to_owned());
        }
        status_items.push(status);
    }
    if !status_items.is_empty() {
        let refs: Vec<&Value> = status_items.iter().collect();
        shapes.insert(single(Action::Status), merged(&refs));
    }
    let unknown = UNKNOWN_ID.to_string();
    let mut ids: Vec<String> = orders.iter().map(u64::to_string).collect();
    ids.push(unknown.clone());
    let status_field = Action::Status.bulk_field().unwrap_or_default();
    let answer = json(
        &client
            .call(Action::Status, &[(status_field, &ids.join(","))])
            .await,
    );
    let (name, shape) = bulk_shape(Action::Status, &answer);
    shapes.insert(name, shape);
    for action in [Action::Refill, Action::RefillStatus, Action::Cancel] {
        let field = action.bulk_field().unwrap_or_default();
        let answer = json(
            &client
                .call(action, &[(field, &format!("{unknown},abc"))])
                .await,
        );
        let (name, shape) = bulk_shape(action, &answer);
        shapes.insert(name, shape);
    }
    statuses.sort();
    statuses.dedup();

    let key = client.target().key.clone();
    let mut errors = BTreeMap::new();
    let mut record = |request: &str, exchange: &Exchange| {
        errors.insert(request.to_owned(), ErrorAnswer::of(exchange));
    };
    let bad_key = client
        .post(vec![
            (field::KEY.into(), WRONG_KEY.into()),
            (field::ACTION.into(), Action::Balance.as_str().into()),
        ])
        .await;
    record(request::WRONG_KEY, &bad_key);
    record(
        request::NO_ACTION,
        &client.post(vec![(field::KEY.into(), key)]).await,
    );
    record(
        request::UNKNOWN_ACTION,
        &client
            .call_named("smm-conformance-no-such-action", &[])
            .await,
    );
    record(
        request::UNKNOWN_ORDER,
        &client
            .call(Action::Status, &[(field::ORDER, &unknown)])
            .await,
    );
    record(
        request::UNKNOWN_REFILL,
        &client
            .call(Action::RefillStatus, &[(field::REFILL, &unknown)])
            .await,
    );

    let many: Vec<String> = (0..=BULK_LIMIT as u64)
        .map(|i| (UNKNOWN_ID + i).to_string())
        .collect();
    let over = json(
        &client
            .call(Action::Status, &[(status_field, &many.join(","))])
            .await,
    );
    let bulk_limit = bulk_limit_of(&over, &many);
    let mut content_types: Vec<String> = client
        .observations()
        .answers
        .iter()
        .map(|(_, _, ct)| bare_content_type(ct))
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
        bulk_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_read_back_as_they_were_written() {
        for text in [
            "Invalid API key",
            "(no error)",
            "(HTTP 401) Invalid API key",
            "(HTTP 503) (not JSON: HTTP 503)",
            "(not JSON: HTTP 200)",
            "(no answer: no answer within the timeout)",
        ] {
            let answer: ErrorAnswer = text.parse().unwrap();
            assert_eq!(answer.to_string(), text);
        }
        let answer: ErrorAnswer = "(HTTP 400) Incorrect request".parse().unwrap();
        assert_eq!(answer.status, Some(400));
        assert!(!answer.is_plain_error());
    }

    #[test]
    fn types_are_written_sorted_and_joined() {
        let types = Types(BTreeSet::from([JsonType::Object, JsonType::Integer]));
        assert_eq!(types.to_string(), "integer|object");
        let back: Types = serde_json::from_str("\"integer|object\"").unwrap();
        assert_eq!(back, types);
        assert!(serde_json::from_str::<Types>("\"int\"").is_err());
    }

    #[test]
    fn a_key_a_panel_echoed_is_masked_wherever_it_lands() {
        let key = "sk_live_0123".to_owned();
        let snapshot = Snapshot {
            format: FORMAT.into(),
            version: VERSION,
            target: format!("https://x/api/v2?key={key}"),
            services: vec![serde_json::json!({"service": 1, "name": key.clone()})],
            shapes: BTreeMap::from([(
                "balance".to_owned(),
                BTreeMap::from([(key.clone(), Types::one(JsonType::String))]),
            )]),
            statuses: vec![key.clone()],
            errors: BTreeMap::from([("x".to_owned(), format!("bad key {key}").parse().unwrap())]),
            bulk_limit: BulkLimit::Error,
            orders: Vec::new(),
            content_types: Vec::new(),
        };
        let text = snapshot.redacted(std::slice::from_ref(&key)).to_json();
        assert!(!text.contains(&key), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn services_sort_by_number_then_text() {
        use serde_json::json;
        let mut keys: Vec<ServiceKey> = [
            json!(10),
            json!("abc"),
            json!(2),
            json!("B"),
            json!(1),
            json!("3"),
        ]
        .into_iter()
        .map(|id| ServiceKey::of(&json!({ "service": id })))
        .collect();
        keys.sort();
        let ids: Vec<&str> = keys.iter().map(ServiceKey::id).collect();
        assert_eq!(ids, ["1", "2", "3", "10", "B", "abc"]);
    }

    #[test]
    fn shape_names_map_to_the_contract_s_shapes() {
        assert_eq!(contract_shape("status(orders)[]"), Some(Shape::Status));
        assert_eq!(
            contract_shape("refill_status(refills)[]"),
            Some(Shape::ListItem)
        );
        assert_eq!(contract_shape("services[]"), Some(Shape::Service));
        assert_eq!(contract_shape("status(orders)"), None);
    }
}
