//! The JSON shapes of the panel's answers (CONTRACT §2-3, `schemas/`).
//!
//! Fields are written in a fixed order and bulk answers keep the order of the
//! request, so the same answer is always the same bytes.

use std::io::Write;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::Precision;

use crate::error::ApiError;

/// `{"error": "<message>"}`.
#[derive(Debug, serde::Serialize)]
pub struct ErrorBody {
    /// The message.
    pub error: String,
}

impl From<&ApiError> for ErrorBody {
    fn from(e: &ApiError) -> Self {
        Self {
            error: e.to_string(),
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

impl<T> From<Result<T, ApiError>> for Item<T> {
    fn from(r: Result<T, ApiError>) -> Self {
        match r {
            Ok(v) => Self::Ok(v),
            Err(e) => Self::Err(ErrorBody::from(&e)),
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
    pub status: &'static str,
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
}

impl StatusBody<'_> {
    /// Appends the JSON object: `{"charge":"0.27819","start_count":"3572",
    /// "status":"Partial","remains":"157","currency":"USD"}` and, when set,
    /// `runs`, `posts`, `expiry`; every value a string, as CONTRACT §3 says.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let decimals = self.precision.decimals() as usize;
        let charge = self.precision.round(self.charge);
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            r#"{{"charge":"{charge:.decimals$}","start_count":"{}","status":"{}","remains":"{}","currency":"#,
            self.start_count, self.status, self.remains
        );
        string(out, self.currency);
        if let Some(runs) = self.runs {
            let _ = write!(out, r#","runs":"{runs}""#);
        }
        if let Some(posts) = self.posts {
            let _ = write!(out, r#","posts":"{posts}""#);
        }
        if let Some(expiry) = self.expiry {
            out.extend_from_slice(br#","expiry":"#);
            string(out, expiry);
        }
        out.push(b'}');
    }

    /// The JSON object alone.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write_json(&mut out);
        out
    }
}

/// Appends a JSON string, escaped.
fn string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(&mut *out, text);
}

/// A bulk status answer: an object keyed by the requested id, in request order.
pub fn bulk_status(items: &[(&str, Result<StatusBody<'_>, ApiError>)]) -> Vec<u8> {
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
                let _ = serde_json::to_writer(&mut out, &ErrorBody::from(e));
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
    pub status: &'static str,
}

/// One entry of a bulk `refill_status`.
#[derive(Debug, serde::Serialize)]
pub struct RefillStatusItem {
    /// The refill id.
    pub refill: EchoId,
    /// The status, or the error.
    pub status: Item<&'static str>,
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
#[derive(Debug, serde::Serialize)]
pub struct BalanceBody<'a> {
    /// The balance.
    pub balance: String,
    /// The currency.
    pub currency: &'a str,
}

/// Serializes an answer; our shapes always serialize.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| {
        // Only a map with non-string keys can fail, and we have none.
        format!("{{\"error\":\"internal: {e}\"}}").into_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(runs: Option<u32>, expiry: Option<&str>) -> StatusBody<'_> {
        StatusBody {
            charge: Decimal::new(27819, 5),
            precision: Precision::new(5),
            start_count: 3572,
            status: "Partial",
            remains: 157,
            currency: "USD",
            runs,
            posts: runs,
            expiry,
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
    }

    #[test]
    fn bulk_keys_are_escaped_and_kept_in_order() {
        let items = [
            ("9", Ok(body(None, None))),
            ("a\"b", Err(ApiError::IncorrectOrder)),
            ("1", Err(ApiError::IncorrectOrder)),
        ];
        let text = String::from_utf8(bulk_status(&items)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["a\"b"]["error"], "Incorrect order ID");
        assert!(text.find("\"9\"").unwrap() < text.find("\"1\"").unwrap());
    }
}
