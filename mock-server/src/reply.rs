//! The panel's answers, typed ([`Reply`]), and their JSON shapes (CONTRACT
//! §2-3, `schemas/`); [`Answer`] is an answer as HTTP delivers it.
//!
//! A reply becomes bytes once, at the edge: [`Reply::to_json`] writes it
//! directly (the hot path), or a deviation edits [`Reply::to_value`] first.
//! Fields are written in a fixed order and bulk answers keep the order of the
//! request, so the same answer is always the same bytes.

use bytes::Bytes;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use smm_contract::{OrderStatus, RefillStatus};

use crate::error::{ApiError, Messages};
use crate::money::{Digits, Precision};
use crate::service::Service;
use crate::state::StaleWrite;

/// What the panel answers to one API request, before it is written.
#[derive(Debug)]
pub enum Reply<'a> {
    /// `{"error": …}`: the request was refused and changed nothing.
    Error(ApiError),
    /// The catalogue.
    Services(&'a [Service]),
    /// `add`: the new order's id.
    Order(u64),
    /// `status` of one order.
    Status(StatusBody<'a>),
    /// Bulk `status`: per requested id (as sent, trimmed), a status or an error.
    StatusBulk(Vec<(&'a str, Result<StatusBody<'a>, ApiError>)>),
    /// `refill` of one order: the refill's id.
    Refill(u64),
    /// Bulk `refill`.
    RefillBulk(Vec<RefillItem>),
    /// `refill_status` of one refill.
    RefillStatus(RefillStatus),
    /// Bulk `refill_status`.
    RefillStatusBulk(Vec<RefillStatusItem>),
    /// `cancel`.
    Cancel(Vec<CancelItem>),
    /// `balance`.
    Balance(BalanceBody<'a>),
}

impl Reply<'_> {
    /// The error, when the request was refused.
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Self::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The JSON bytes, errors worded as `messages` say.
    pub fn to_json(&self, messages: &Messages) -> Vec<u8> {
        match self {
            Self::Error(e) => to_json(&ErrorBody::of(e, messages)),
            Self::Services(list) => {
                to_json(&list.iter().map(ServiceBody::from).collect::<Vec<_>>())
            }
            Self::Order(order) => to_json(&AddBody { order: *order }),
            Self::Status(status) => status.to_json(),
            Self::StatusBulk(items) => bulk_status(items, messages),
            Self::Refill(refill) => to_json(&RefillBody {
                refill: refill.to_string(),
            }),
            Self::RefillBulk(items) => to_json(items),
            Self::RefillStatus(status) => to_json(&RefillStatusBody { status: *status }),
            Self::RefillStatusBulk(items) => to_json(items),
            Self::Cancel(items) => to_json(items),
            Self::Balance(balance) => balance.to_json(),
        }
    }

    /// The JSON value, for a layer that changes the answer's shape; errors
    /// worded as `messages` say.
    pub fn to_value(&self, messages: &Messages) -> Value {
        match self {
            Self::Status(status) => Value::Object(status.to_map()),
            Self::StatusBulk(items) => Value::Object(
                items
                    .iter()
                    .map(|(id, item)| {
                        let value = match item {
                            Ok(status) => Value::Object(status.to_map()),
                            Err(e) => to_value(&ErrorBody::of(e, messages)),
                        };
                        ((*id).to_owned(), value)
                    })
                    .collect(),
            ),
            Self::Error(e) => to_value(&ErrorBody::of(e, messages)),
            Self::Services(list) => {
                to_value(&list.iter().map(ServiceBody::from).collect::<Vec<_>>())
            }
            Self::Order(order) => to_value(&AddBody { order: *order }),
            Self::Refill(refill) => to_value(&RefillBody {
                refill: refill.to_string(),
            }),
            Self::RefillBulk(items) => to_value(items),
            Self::RefillStatus(status) => to_value(&RefillStatusBody { status: *status }),
            Self::RefillStatusBulk(items) => to_value(items),
            Self::Cancel(items) => to_value(items),
            Self::Balance(balance) => Value::Object(balance.to_map()),
        }
    }
}

/// How the server delivers an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// At once.
    Now,
    /// After this many milliseconds (`slow`).
    After(u64),
    /// Never (`hang`).
    Never,
    /// Close the connection instead (`connection-reset`).
    Reset,
}

/// An answer as HTTP delivers it: the bytes, and what the log line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The body.
    pub body: Bytes,
    /// The top-level error, when the request was refused (for the log).
    pub error: Option<String>,
    /// The HTTP status: 200 on a conforming panel.
    pub http_status: u16,
    /// The content type: `application/json` on a conforming panel.
    pub content_type: &'static str,
    /// How the server delivers it.
    pub delivery: Delivery,
    /// A `Retry-After` header (seconds), with HTTP 429.
    pub retry_after: Option<u32>,
    /// A balance write the server makes before it answers, after
    /// [`crate::server::STALE_WRITE_DELAY`] with the lock let go: an `add`
    /// whose debit is not atomic ([`crate::rules::Rules::atomic_debits`]).
    pub stale_write: Option<StaleWrite>,
}

impl Answer {
    /// The JSON content type every conforming answer has.
    pub const JSON: &'static str = "application/json";

    /// A JSON answer with HTTP 200, delivered at once.
    pub fn json(body: impl Into<Bytes>, error: Option<String>) -> Answer {
        Answer {
            body: body.into(),
            error,
            http_status: 200,
            content_type: Self::JSON,
            delivery: Delivery::Now,
            retry_after: None,
            stale_write: None,
        }
    }

    /// A conforming panel's answer: the reply's JSON, HTTP 200; errors
    /// worded as `messages` say.
    pub fn of(reply: &Reply<'_>, messages: &Messages) -> Answer {
        Answer::json(
            reply.to_json(messages),
            reply.error().map(|e| messages.word(e)),
        )
    }
}

/// `{"error": "<message>"}`.
#[derive(Debug, serde::Serialize)]
pub struct ErrorBody {
    /// The message.
    pub error: String,
}

impl ErrorBody {
    /// The body of `e`, worded as `messages` say.
    pub fn of(e: &ApiError, messages: &Messages) -> Self {
        Self {
            error: messages.word(e),
        }
    }
}

/// A per-id result in a bulk answer: the value, or `{"error": …}`.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Item<T> {
    /// The result.
    Ok(T),
    /// The per-id error.
    Err(ErrorBody),
}

impl<T> Item<T> {
    /// The item of a result, its error worded as `messages` say.
    pub fn of(r: Result<T, ApiError>, messages: &Messages) -> Self {
        match r {
            Ok(v) => Self::Ok(v),
            Err(e) => Self::Err(ErrorBody::of(&e, messages)),
        }
    }
}

/// An id echoed back in a bulk list: a number when it is one, else the text sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum EchoId {
    /// A numeric id.
    Number(u64),
    /// What was sent, when it is not a number.
    Text(String),
}

/// One entry of `services`.
#[derive(Debug, serde::Serialize)]
pub struct ServiceBody<'a> {
    /// Service id.
    pub service: u64,
    /// Name.
    pub name: &'a str,
    /// Type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Category.
    pub category: &'a str,
    /// Rate, as the fixture wrote it.
    pub rate: &'a str,
    /// Minimum, an integer string.
    pub min: String,
    /// Maximum, an integer string.
    pub max: String,
    /// Drip-feed flag.
    pub dripfeed: bool,
    /// Refill flag.
    pub refill: bool,
    /// Cancel flag.
    pub cancel: bool,
    /// Description, when the fixture has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<&'a str>,
}

impl<'a> From<&'a Service> for ServiceBody<'a> {
    fn from(s: &'a Service) -> Self {
        ServiceBody {
            service: s.id,
            name: &s.name,
            kind: s.kind.as_str(),
            category: &s.category,
            rate: &s.rate_text,
            min: s.min.to_string(),
            max: s.max.to_string(),
            dripfeed: s.dripfeed,
            refill: s.refill,
            cancel: s.cancel,
            desc: s.desc.as_deref(),
        }
    }
}

/// `{"order": 23501}`.
#[derive(Debug, serde::Serialize)]
pub struct AddBody {
    /// The new order id.
    pub order: u64,
}

/// The status of one order. Written by hand ([`StatusBody::write_json`]):
/// a bulk answer holds up to 100 of them, and this is the hot path.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusBody<'a> {
    /// What the order costs now (charge − refunds).
    pub charge: Decimal,
    /// The panel's money precision.
    pub precision: Precision,
    /// The count before delivery started.
    pub start_count: u32,
    /// The status.
    pub status: OrderStatus,
    /// Units not delivered.
    pub remains: u64,
    /// Currency of the account.
    pub currency: &'a str,
    /// Drip-feed runs (drip-feed orders only).
    pub runs: Option<u32>,
    /// Subscription posts (subscriptions only).
    pub posts: Option<u32>,
    /// Subscription expiry (subscriptions only).
    pub expiry: Option<&'a str>,
    /// Child orders (drip-feed runs, subscription posts) started so far: the
    /// first id and how many, in a row (`orders`).
    pub orders: Option<(u64, u32)>,
    /// Whether to write `old_orders` (subscriptions: always empty).
    pub old_orders: bool,
}

impl StatusBody<'_> {
    /// Appends the JSON object: `{"charge":"0.27819","start_count":"3572",
    /// "status":"Partial","remains":"157","currency":"USD"}` and, when set,
    /// `runs`, `expiry`, `posts`, `orders`, `old_orders`; every value a
    /// string, as CONTRACT §3 says.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut digits = Digits::new();
        out.extend_from_slice(br#"{"charge":""#);
        self.precision.write(self.charge, out);
        out.extend_from_slice(br#"","start_count":""#);
        out.extend_from_slice(digits.of(self.start_count.into()).as_bytes());
        out.extend_from_slice(br#"","status":""#);
        out.extend_from_slice(self.status.as_str().as_bytes());
        out.extend_from_slice(br#"","remains":""#);
        out.extend_from_slice(digits.of(self.remains.into()).as_bytes());
        out.extend_from_slice(br#"","currency":"#);
        string(out, self.currency);
        if let Some(runs) = self.runs {
            out.extend_from_slice(br#","runs":""#);
            out.extend_from_slice(digits.of(runs.into()).as_bytes());
            out.push(b'"');
        }
        if let Some(expiry) = self.expiry {
            out.extend_from_slice(br#","expiry":"#);
            string(out, expiry);
        }
        if let Some(posts) = self.posts {
            out.extend_from_slice(br#","posts":""#);
            out.extend_from_slice(digits.of(posts.into()).as_bytes());
            out.push(b'"');
        }
        if let Some((first, count)) = self.orders {
            out.extend_from_slice(br#","orders":["#);
            for (i, id) in (first..first + u64::from(count)).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(digits.of(id.into()).as_bytes());
                out.push(b'"');
            }
            out.push(b']');
        }
        if self.old_orders {
            out.extend_from_slice(br#","old_orders":[]"#);
        }
        out.push(b'}');
    }

    /// The JSON object alone.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write_json(&mut out);
        out
    }

    /// The same object as a JSON map, in the same field order.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("charge".into(), self.precision.format(self.charge).into());
        map.insert("start_count".into(), self.start_count.to_string().into());
        map.insert("status".into(), self.status.as_str().into());
        map.insert("remains".into(), self.remains.to_string().into());
        map.insert("currency".into(), self.currency.into());
        if let Some(runs) = self.runs {
            map.insert("runs".into(), runs.to_string().into());
        }
        if let Some(expiry) = self.expiry {
            map.insert("expiry".into(), expiry.into());
        }
        if let Some(posts) = self.posts {
            map.insert("posts".into(), posts.to_string().into());
        }
        if let Some((first, count)) = self.orders {
            let ids = (first..first + u64::from(count)).map(|id| Value::String(id.to_string()));
            map.insert("orders".into(), Value::Array(ids.collect()));
        }
        if self.old_orders {
            map.insert("old_orders".into(), Value::Array(Vec::new()));
        }
        map
    }
}

/// Appends a JSON string, escaped.
fn string(out: &mut Vec<u8>, text: &str) {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// A bulk status answer: an object keyed by the requested id, in request
/// order; errors worded as `messages` say.
pub fn bulk_status(
    items: &[(&str, Result<StatusBody<'_>, ApiError>)],
    messages: &Messages,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 * items.len() + 2);
    out.push(b'{');
    for (i, (id, item)) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(&mut out, id);
        out.push(b':');
        match item {
            Ok(status) => status.write_json(&mut out),
            Err(e) => {
                let _ = serde_json::to_writer(&mut out, &ErrorBody::of(e, messages));
            }
        }
    }
    out.push(b'}');
    out
}

/// `{"refill": "1"}`.
#[derive(Debug, serde::Serialize)]
pub struct RefillBody {
    /// The refill id, as a string.
    pub refill: String,
}

/// One entry of a bulk `refill`.
#[derive(Debug, serde::Serialize)]
pub struct RefillItem {
    /// The order id.
    pub order: EchoId,
    /// The refill id, or the error.
    pub refill: Item<u64>,
}

/// `{"status": "Completed"}` (refill status).
#[derive(Debug, serde::Serialize)]
pub struct RefillStatusBody {
    /// The refill status.
    pub status: RefillStatus,
}

/// One entry of a bulk `refill_status`.
#[derive(Debug, serde::Serialize)]
pub struct RefillStatusItem {
    /// The refill id.
    pub refill: EchoId,
    /// The status, or the error.
    pub status: Item<RefillStatus>,
}

/// One entry of `cancel`.
#[derive(Debug, serde::Serialize)]
pub struct CancelItem {
    /// The order id.
    pub order: EchoId,
    /// `1`, or the error.
    pub cancel: Item<u8>,
}

/// `{"balance": "100.84292", "currency": "USD"}`.
#[derive(Debug)]
pub struct BalanceBody<'a> {
    /// The balance.
    pub balance: Decimal,
    /// The panel's money precision.
    pub precision: Precision,
    /// The currency.
    pub currency: &'a str,
}

impl BalanceBody<'_> {
    /// The JSON object, written by hand like [`StatusBody::write_json`]: it
    /// is as hot a path.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        out.extend_from_slice(br#"{"balance":""#);
        self.precision.write(self.balance, &mut out);
        out.extend_from_slice(br#"","currency":"#);
        string(&mut out, self.currency);
        out.push(b'}');
        out
    }

    /// The same object as a JSON map.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("balance".into(), self.precision.format(self.balance).into());
        map.insert("currency".into(), self.currency.into());
        map
    }
}

/// Serializes an answer; our shapes always serialize.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| {
        // Only a map with non-string keys can fail, and we have none.
        format!("{{\"error\":\"internal: {e}\"}}").into_bytes()
    })
}

/// An answer as a JSON value; our shapes always convert.
fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(runs: Option<u32>, expiry: Option<&str>) -> StatusBody<'_> {
        StatusBody {
            charge: Decimal::new(27819, 5),
            precision: Precision::new(5),
            start_count: 3572,
            status: OrderStatus::Partial,
            remains: 157,
            currency: "USD",
            runs,
            posts: runs,
            expiry,
            orders: runs.map(|n| (7, n)),
            old_orders: runs.is_some(),
        }
    }

    #[test]
    fn a_status_is_the_reference_json() {
        let value: serde_json::Value = serde_json::from_slice(&body(None, None).to_json()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157", "currency": "USD"})
        );
        let extra: serde_json::Value =
            serde_json::from_slice(&body(Some(3), Some("1/2/2027\"")).to_json()).unwrap();
        assert_eq!(
            (extra["runs"].as_str(), extra["posts"].as_str()),
            (Some("3"), Some("3"))
        );
        assert_eq!(extra["expiry"], "1/2/2027\"");
        assert_eq!(extra["orders"], serde_json::json!(["7", "8", "9"]));
        assert_eq!(extra["old_orders"], serde_json::json!([]));
        assert_eq!(Value::Object(body(Some(3), None).to_map()), {
            let v: Value = serde_json::from_slice(&body(Some(3), None).to_json()).unwrap();
            v
        });
    }

    #[test]
    fn negative_amounts_are_written_with_their_sign() {
        let balance = BalanceBody {
            balance: Decimal::new(-3, 3),
            precision: Precision::new(5),
            currency: "USD",
        };
        let written = String::from_utf8(balance.to_json()).unwrap();
        assert_eq!(written, r#"{"balance":"-0.00300","currency":"USD"}"#);
        assert_eq!(serde_json::to_string(&balance.to_map()).unwrap(), written);
        let status = StatusBody {
            charge: Decimal::new(-48, 3),
            ..body(None, None)
        };
        let value: serde_json::Value = serde_json::from_slice(&status.to_json()).unwrap();
        assert_eq!(value["charge"], "-0.04800");
        assert_eq!(value, Value::Object(status.to_map()));
    }

    #[test]
    fn bulk_keys_are_escaped_and_kept_in_order() {
        let items = [
            ("9", Ok(body(None, None))),
            ("a\"b", Err(ApiError::IncorrectOrder)),
            ("1", Err(ApiError::IncorrectOrder)),
        ];
        let text = String::from_utf8(bulk_status(&items, &Messages::CONTRACT)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["a\"b"]["error"], "Incorrect order ID");
        assert!(text.find("\"9\"").unwrap() < text.find("\"1\"").unwrap());
    }
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn the_value_of_a_reply_is_its_json() {
        let status = StatusBody {
            charge: Decimal::new(5, 1),
            precision: Precision::new(5),
            start_count: 9,
            status: OrderStatus::InProgress,
            remains: 3,
            currency: "USD",
            runs: Some(2),
            posts: None,
            expiry: Some("1/2/2027"),
            orders: Some((10, 2)),
            old_orders: false,
        };
        let replies = [
            Reply::Status(status.clone()),
            Reply::StatusBulk(vec![
                ("1", Ok(status)),
                ("x", Err(ApiError::IncorrectOrder)),
            ]),
            Reply::Refill(4),
            Reply::RefillStatus(RefillStatus::Rejected),
            Reply::Error(ApiError::InvalidKey),
        ];
        for reply in replies {
            let messages = Messages::CONTRACT.with(crate::error::MessageKind::IncorrectOrder, "No");
            let bytes = reply.to_json(&messages);
            let value = reply.to_value(&messages);
            assert_eq!(serde_json::to_vec(&value).unwrap(), bytes, "{reply:?}");
        }
    }
}
