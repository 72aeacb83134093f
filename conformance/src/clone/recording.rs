//! A proxy recording (`smm-conformance proxy --record FILE`) read as the
//! observations a snapshot holds, plus what only answers' values show.
//!
//! The format is JSON Lines: a header line
//! `{"format":"smm-conformance-recording","version":1,"upstream":"<url>"}`,
//! then one exchange a line: the request's `fields` (keys masked), and the
//! `response` (`status`, `content_type`, `body`) or an `error` (no answer).
//! Each exchange is sorted by what it asks, as `snapshot` asks it: the
//! catalogue, the balance, the status of an order, a bulk answer, one of the
//! snapshot's bad requests; the last answer of each kind stands. Fields this
//! reader does not know are ignored, so a newer recording of the same
//! version reads.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;
use smm_contract::{field, Action, BULK_LIMIT};
use smm_mock::error::MessageKind;

use super::{CloneError, Observed, Source};
use crate::checks::UNKNOWN_ID;
use crate::snapshot::{self, request, ErrorAnswer, ServiceKey};

/// The `format` of a recording's header line, and the version this reader
/// reads: the ones the proxy writes.
pub use crate::proxy::record::{FORMAT, VERSION};

#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
    #[serde(default)]
    upstream: String,
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    request: Option<Request>,
    #[serde(default)]
    response: Option<Response>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    fields: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Response {
    status: u16,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    truncated: bool,
}

/// Whether `text` starts like a recording (its first line's `format`).
pub fn is_recording(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    serde_json::from_str::<Value>(first)
        .ok()
        .and_then(|v| v.get("format").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|f| f == FORMAT)
}

/// One exchange: its fields and what came back.
struct Exchange {
    fields: Vec<(String, String)>,
    /// HTTP status, content type, JSON (`None`: not JSON); or why no answer.
    answer: Result<(u16, String, Option<Value>), String>,
}

impl Exchange {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The answer as a snapshot records a value: the JSON, or a string
    /// saying what came instead.
    fn value(&self) -> Value {
        match &self.answer {
            Ok((_, _, Some(json))) => json.clone(),
            Ok((status, _, None)) => Value::String(format!("(not JSON: HTTP {status})")),
            Err(why) => Value::String(format!("(no answer: {why})")),
        }
    }

    fn error_answer(&self) -> ErrorAnswer {
        match &self.answer {
            Ok((status, _, json)) => ErrorAnswer::answered(*status, json.as_ref()),
            Err(why) => ErrorAnswer::unanswered(why),
        }
    }

    fn error_message(&self) -> Option<String> {
        match &self.answer {
            Ok((_, _, Some(json))) => json.get("error").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        }
    }
}

/// The proxy's words for no answer within its timeout start as the
/// client's do; the rest (the seconds) is dropped, so both read alike.
fn no_answer(why: &str) -> String {
    const TIMEOUT: &str = "no answer within the timeout";
    if why.starts_with(TIMEOUT) {
        TIMEOUT.to_owned()
    } else {
        why.to_owned()
    }
}

/// Reads recording text (`file` names it in errors).
pub fn read(file: &str, text: &str) -> Result<Observed, CloneError> {
    let error = |problem: String| CloneError {
        file: file.to_owned(),
        problem,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines.next().ok_or_else(|| error("empty".into()))?;
    let header: Header = serde_json::from_str(first)
        .map_err(|e| error(format!("line 1 is no recording header: {e}")))?;
    if header.format != FORMAT {
        return Err(error(format!(
            "a `{}` file, not a recording",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(error(format!(
            "recording version {}; this smm-conformance reads version {VERSION}",
            header.version
        )));
    }
    let mut exchanges = Vec::new();
    for (i, line) in lines {
        let line: Line =
            serde_json::from_str(line).map_err(|e| error(format!("line {}: {e}", i + 1)))?;
        let Some(request) = line.request else {
            continue;
        };
        let answer = match (line.response, line.error) {
            (Some(r), _) => {
                // A body cut at the recording limit is no JSON to read.
                let json = (!r.truncated)
                    .then(|| serde_json::from_str::<Value>(&r.body).ok())
                    .flatten();
                Ok((r.status, r.content_type, json))
            }
            (None, Some(why)) => Err(no_answer(&why)),
            (None, None) => Err("no answer".to_owned()),
        };
        exchanges.push(Exchange {
            fields: request.fields,
            answer,
        });
    }
    Ok(observe(&header.upstream, &exchanges))
}

/// The action `snapshot` sends as its unknown action.
const PROBE_ACTION: &str = "smm-conformance-no-such-action";

/// Which exchange is the snapshot's `balance` with a wrong key, in a
/// recording of `smm-conformance snapshot`: a recording masks every key,
/// so its key cannot tell; the snapshot sends it right before its request
/// without an action. Only in a recording that has the snapshot's unknown
/// action (a bot's traffic has no such probe).
fn wrong_key_probe(exchanges: &[Exchange]) -> Option<usize> {
    let scripted = exchanges
        .iter()
        .any(|e| e.field(field::ACTION) == Some(PROBE_ACTION));
    if !scripted {
        return None;
    }
    let no_action = exchanges
        .iter()
        .position(|e| e.field(field::ACTION).is_none())?;
    let before = no_action.checked_sub(1)?;
    (exchanges[before].field(field::ACTION) == Some(Action::Balance.as_str())).then_some(before)
}

/// The number of decimals of a money string (`"12.50"`: 2).
fn decimals(text: &str) -> Option<u32> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let int = int.strip_prefix('-').unwrap_or(int);
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() && digits(int) && digits(frac)).then_some(frac.len() as u32)
}

fn observe(upstream: &str, exchanges: &[Exchange]) -> Observed {
    let mut observed = Observed::new(Source::Recording, upstream);
    let snap = &mut observed.snapshot;
    let mut status_items: Vec<Value> = Vec::new();
    let mut order_ids: Vec<u64> = Vec::new();
    let mut decimals_seen: Option<u32> = None;
    let mut see_money = |value: Option<&Value>| {
        if let Some(d) = value.and_then(Value::as_str).and_then(decimals) {
            decimals_seen = Some(decimals_seen.map_or(d, |seen| seen.max(d)));
        }
    };
    let unknown = UNKNOWN_ID.to_string();
    let mut content_types = BTreeSet::new();
    let probe = wrong_key_probe(exchanges);
    for (at, exchange) in exchanges.iter().enumerate() {
        if let Ok((_, content_type, _)) = &exchange.answer {
            content_types.insert(snapshot::bare_content_type(content_type));
        }
        let value = exchange.value();
        let is_error = crate::schema::is_error(&value);
        let action_text = exchange.field(field::ACTION);
        let Some(action_text) = action_text else {
            snap.errors
                .insert(request::NO_ACTION.into(), exchange.error_answer());
            continue;
        };
        let Some(action) = Action::parse(action_text) else {
            snap.errors
                .insert(request::UNKNOWN_ACTION.into(), exchange.error_answer());
            continue;
        };
        let bulk_ids = action.bulk_field().and_then(|f| exchange.field(f));
        let one_id = action.id_field().and_then(|f| exchange.field(f));
        match (action, bulk_ids, one_id) {
            (Action::Services, _, _) => {
                if let Value::Array(list) = &value {
                    let mut list = list.clone();
                    list.sort_by_cached_key(ServiceKey::of);
                    let items: Vec<&Value> = list.iter().collect();
                    snap.shapes
                        .insert(snapshot::SERVICES.into(), snapshot::merged(&items));
                    snap.services = list;
                }
            }
            (Action::Balance, _, _) => {
                let wrong =
                    probe == Some(at) || exchange.field(field::KEY) == Some(snapshot::WRONG_KEY);
                if wrong || is_error || !matches!(exchange.answer, Ok((_, _, Some(_)))) {
                    snap.errors
                        .insert(request::WRONG_KEY.into(), exchange.error_answer());
                    if let Some(message) = exchange.error_message() {
                        observed.messages.insert(MessageKind::InvalidKey, message);
                    }
                } else {
                    snap.shapes
                        .insert(snapshot::BALANCE.into(), snapshot::shape_of(&value));
                    see_money(value.get("balance"));
                    if let Some(c) = value.get("currency").and_then(Value::as_str) {
                        observed.currency = Some(c.to_owned());
                    }
                    match value.get("balance") {
                        Some(Value::String(b)) => observed.balance = Some(b.clone()),
                        Some(Value::Number(n)) => observed.balance = Some(n.to_string()),
                        _ => {}
                    }
                }
            }
            (Action::Status, Some(list), _) => {
                let ids: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                let distinct: BTreeSet<&String> = ids.iter().collect();
                if distinct.len() > BULK_LIMIT {
                    snap.bulk_limit = snapshot::bulk_limit_of(&value, &ids);
                    if let Some(message) = exchange.error_message() {
                        observed.messages.insert(MessageKind::TooManyIds, message);
                    }
                } else {
                    let (name, shape) = snapshot::bulk_shape(action, &value);
                    snap.shapes.insert(name, shape);
                    observed.values.see_statuses(&value);
                }
            }
            (Action::Status, None, Some(id)) if id == unknown => {
                snap.errors
                    .insert(request::UNKNOWN_ORDER.into(), exchange.error_answer());
                if let Some(message) = exchange.error_message() {
                    observed
                        .messages
                        .insert(MessageKind::IncorrectOrder, message);
                }
            }
            (Action::Status, None, Some(id)) => {
                if let Ok(id) = id.trim().parse::<u64>() {
                    if let Some(s) = value.get("status").and_then(Value::as_str) {
                        observed.order_statuses.insert(id, s.to_owned());
                    }
                    if !order_ids.contains(&id) {
                        order_ids.push(id);
                    }
                    see_money(value.get("charge"));
                    observed.values.see_status(&value);
                    status_items.push(value);
                }
            }
            (Action::Refill | Action::RefillStatus | Action::Cancel, Some(_), _) => {
                let (name, shape) = snapshot::bulk_shape(action, &value);
                snap.shapes.insert(name, shape);
            }
            (Action::RefillStatus, None, Some(id))
                if id == unknown || is_error || !matches!(exchange.answer, Ok((_, _, Some(_)))) =>
            {
                snap.errors
                    .insert(request::UNKNOWN_REFILL.into(), exchange.error_answer());
                if let Some(message) = exchange.error_message() {
                    observed
                        .messages
                        .insert(MessageKind::RefillNotFound, message);
                }
            }
            (Action::RefillStatus, None, _) => {
                observed.values.refill_done |=
                    value.get("status").and_then(Value::as_str) == Some("Done");
            }
            (Action::Refill, None, _) if !is_error => {
                observed.values.refill_integer |= value.get("refill").is_some_and(Value::is_number);
            }
            (Action::Add, _, _) if !is_error => {
                observed.values.add_status |= value.get("status").is_some();
            }
            (Action::Add, _, _) => {
                if let Some(message) = exchange.error_message() {
                    if message.starts_with("Incorrect service") || message.contains("service") {
                        observed
                            .messages
                            .insert(MessageKind::IncorrectService, message);
                    }
                }
            }
            _ => {}
        }
    }
    if !status_items.is_empty() {
        let refs: Vec<&Value> = status_items.iter().collect();
        snap.shapes
            .insert(snapshot::single(Action::Status), snapshot::merged(&refs));
    }
    let mut statuses: Vec<String> = order_ids
        .iter()
        .filter_map(|id| observed.order_statuses.get(id).cloned())
        .collect();
    statuses.sort();
    statuses.dedup();
    snap.statuses = statuses;
    snap.orders = order_ids;
    snap.content_types = content_types.into_iter().collect();
    observed.precision = decimals_seen;
    observed
}

/// Values of answers a snapshot keeps only as types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// `start_count` values seen, as text (`""`, `"3572"`); numbers and
    /// nulls are left to the shapes.
    pub start_counts: BTreeSet<String>,
    /// `remains` values seen, as text.
    pub remains: BTreeSet<String>,
    /// A single refill answered `{"refill": <number>}`.
    pub refill_integer: bool,
    /// A refill status read `Done`.
    pub refill_done: bool,
    /// An `add` answered with a `status` beside `order`.
    pub add_status: bool,
}

impl Values {
    fn see_status(&mut self, status: &Value) {
        if let Some(s) = status.get("start_count").and_then(Value::as_str) {
            self.start_counts.insert(s.to_owned());
        }
        if let Some(s) = status.get("remains").and_then(Value::as_str) {
            self.remains.insert(s.to_owned());
        }
    }

    fn see_statuses(&mut self, bulk: &Value) {
        let items: Vec<&Value> = match bulk {
            Value::Object(o) => o.values().collect(),
            Value::Array(items) => items.iter().collect(),
            _ => Vec::new(),
        };
        for item in items.into_iter().filter(|i| i.get("status").is_some()) {
            self.see_status(item);
        }
    }

    /// Whether every `start_count` seen was `""`.
    pub fn only_empty_start_counts(&self) -> bool {
        !self.start_counts.is_empty() && self.start_counts.iter().all(String::is_empty)
    }

    /// Whether every `remains` seen was `Unknown`.
    pub fn only_unknown_remains(&self) -> bool {
        !self.remains.is_empty() && self.remains.iter().all(|r| r == "Unknown")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"format":"smm-conformance-recording","version":1,"upstream":"https://p.example/api/v2"}"#;

    fn line(fields: &[(&str, &str)], status: u16, body: &str) -> String {
        serde_json::json!({
            "n": 1,
            "action": null,
            "request": {"method": "POST", "path": "/api/v2", "query": "",
                        "content_type": "application/x-www-form-urlencoded",
                        "fields": fields},
            "response": {"status": status, "content_type": "application/json",
                         "body": body, "size": body.len(), "truncated": false}
        })
        .to_string()
    }

    #[test]
    fn a_recording_is_told_from_a_snapshot_by_its_first_line() {
        assert!(is_recording(&format!("{HEADER}\n")));
        assert!(!is_recording(
            "{\n  \"format\": \"smm-conformance-snapshot\""
        ));
        assert!(!is_recording(""));
    }

    #[test]
    fn answers_give_currency_precision_messages_and_each_order_s_status() {
        let text = [
            HEADER.to_owned(),
            line(&[("key", "***"), ("action", "balance")], 200, r#"{"balance":"12.5","currency":"EUR"}"#),
            line(
                &[("key", "***"), ("action", "status"), ("order", "7")],
                200,
                r#"{"charge":"0.275","start_count":"","status":"In Progress","remains":"Unknown","currency":"EUR"}"#,
            ),
            line(&[("key", "***"), ("action", "balance")], 401, r#"{"error":"Incorrect API key"}"#),
            line(&[("key", "***")], 200, r#"{"error":"No action"}"#),
        ]
        .join("\n");
        let observed = read("r.jsonl", &text).unwrap();
        assert_eq!(observed.currency.as_deref(), Some("EUR"));
        assert_eq!(observed.precision, Some(3));
        assert_eq!(observed.balance.as_deref(), Some("12.5"));
        assert_eq!(
            observed.order_statuses.get(&7).map(String::as_str),
            Some("In Progress")
        );
        assert_eq!(observed.snapshot.orders, [7]);
        assert_eq!(
            observed.snapshot.errors[request::WRONG_KEY].to_string(),
            "(HTTP 401) Incorrect API key"
        );
        assert_eq!(
            observed.snapshot.errors[request::NO_ACTION].to_string(),
            "No action"
        );
        assert!(observed.values.only_empty_start_counts());
        assert!(observed.values.only_unknown_remains());
        assert_eq!(observed.snapshot.target, "https://p.example/api/v2");
    }

    #[test]
    fn in_the_snapshot_s_script_the_balance_before_no_action_is_the_wrong_key() {
        let balance = line(
            &[("key", "***"), ("action", "balance")],
            200,
            r#"{"balance":"1.00","currency":"USD"}"#,
        );
        let no_action = line(&[("key", "***")], 200, r#"{"error":"Incorrect request"}"#);
        let probe = line(
            &[("key", "***"), ("action", PROBE_ACTION)],
            200,
            r#"{"error":"Incorrect request"}"#,
        );
        let scripted = [HEADER, &balance, &balance, &no_action, &probe].join("\n");
        let observed = read("r.jsonl", &scripted).unwrap();
        assert_eq!(
            observed.snapshot.errors[request::WRONG_KEY].to_string(),
            "(no error)",
            "a wrong key answered with a balance"
        );
        // A bot's traffic has no probe: its balances are balances.
        let traffic = [HEADER, &balance, &balance, &no_action].join("\n");
        let observed = read("r.jsonl", &traffic).unwrap();
        assert!(!observed.snapshot.errors.contains_key(request::WRONG_KEY));
    }

    #[test]
    fn a_recording_of_another_version_is_refused_with_the_file() {
        let e = read(
            "r.jsonl",
            r#"{"format":"smm-conformance-recording","version":9}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.jsonl: recording version 9; this smm-conformance reads version 1"
        );
    }
}
