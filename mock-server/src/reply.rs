//! The JSON shapes of the panel's answers (CONTRACT §2-3, `schemas/`).
//!
//! Fields are written in a fixed order and bulk answers keep the order of the
//! request, so the same answer is always the same bytes.

use serde::ser::{Serialize, SerializeMap, Serializer};

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

/// A JSON object keyed by id, in request order.
#[derive(Debug)]
pub struct Keyed<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
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

/// The status of one order.
#[derive(Debug, serde::Serialize)]
pub struct StatusBody<'a> {
    /// What the order costs now (charge − refunds).
    pub charge: String,
    /// The count before delivery started.
    pub start_count: String,
    /// The status.
    pub status: &'static str,
    /// Units not delivered.
    pub remains: String,
    /// Currency of the account.
    pub currency: &'a str,
    /// Drip-feed runs (drip-feed orders only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<String>,
    /// Subscription posts (subscriptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posts: Option<String>,
    /// Subscription expiry (subscriptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<&'a str>,
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
