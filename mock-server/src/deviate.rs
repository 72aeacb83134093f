//! How the deviation profiles change an answer. The panel's logic stays
//! conforming (but for the semantic profiles, which live in [`crate::state`]);
//! this layer reshapes what it answers, or answers something else instead.
//! Nothing here runs unless a profile is on.

use serde_json::{Map, Value};

use crate::profile::{Profile, Profiles};
use crate::request::Fields;
use crate::state::{Answer, Delivery};

/// The page a CDN shows when the origin fails.
const CLOUDFLARE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>\n<body><h1>Error 503: the origin web server is not answering</h1>\n<p>Cloudflare Ray ID: 0000000000000000</p></body></html>\n";

fn html(status: u16) -> Answer {
    Answer {
        body: CLOUDFLARE_PAGE
            .replace("503", &status.to_string())
            .into_bytes(),
        action: None,
        error: Some(format!("HTML {status} (profile)")),
        http_status: status,
        content_type: "text/html; charset=UTF-8",
        delivery: Delivery::Now,
        retry_after: None,
    }
}

/// An answer that replaces the panel's, decided before the request is
/// handled (so it changes nothing): rate limits, origin failures, stuck
/// workers, dropped connections. `draw` is a seeded hash of the action and
/// its ordinal, so the same requests get the same faults.
pub fn instead(
    active: Profiles,
    action: Option<&'static str>,
    draw: u64,
    ordinal: u64,
) -> Option<Answer> {
    if active.has(Profile::RateLimit429) && ordinal % 5 == 0 {
        return Some(Answer {
            body: br#"{"error":"Too many requests"}"#.to_vec(),
            action,
            error: Some("Too many requests (profile)".into()),
            http_status: 429,
            content_type: "application/json",
            delivery: Delivery::Now,
            retry_after: Some(1),
        });
    }
    if active.has(Profile::Random5xx) && draw % 10 == 0 {
        return Some(html(502));
    }
    let held = |delivery| {
        Some(Answer {
            body: Vec::new(),
            action,
            error: Some("no answer (profile)".into()),
            http_status: 200,
            content_type: "application/json",
            delivery,
            retry_after: None,
        })
    };
    match action {
        Some("refill_status") if active.has(Profile::Hang) => held(Delivery::Never),
        Some("cancel") if active.has(Profile::ConnectionReset) => held(Delivery::Reset),
        _ => None,
    }
}

/// Reshapes the panel's answer as the profiles say.
pub fn reshape(
    active: Profiles,
    fields: &Fields,
    action: Option<&'static str>,
    answer: &mut Answer,
) {
    let bulk = fields.get("orders").is_some() || fields.get("refills").is_some();
    if answer.error.is_some() && active.has(Profile::HtmlErrors) {
        *answer = html(503);
        return;
    }
    if answer.error.is_none() {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&answer.body) {
            if json_shape(active, action, bulk, &mut value) {
                answer.body = serde_json::to_vec(&value).unwrap_or_default();
            }
        }
        if bulk && active.has(Profile::TruncatedJson) {
            let half = answer.body.len() / 2;
            answer.body.truncate(half);
        }
    }
    if active.has(Profile::WrongContentType) {
        answer.content_type = "text/html; charset=UTF-8";
    }
    if active.has(Profile::Slow) {
        answer.delivery = Delivery::After(300);
    }
}

fn to_number(value: &mut Value) {
    if let Some(n) = value
        .as_str()
        .and_then(|s| s.parse::<serde_json::Number>().ok())
    {
        *value = Value::Number(n);
    }
}

/// Reshapes one order status object.
fn status_object(active: Profiles, o: &mut Map<String, Value>) {
    if active.has(Profile::NumericFields) {
        for field in ["charge", "remains"] {
            if let Some(v) = o.get_mut(field) {
                to_number(v);
            }
        }
    }
    if active.has(Profile::NullStartCount) {
        o.insert("start_count".into(), Value::Null);
    }
    if active.has(Profile::EmptyStartCount) {
        o.insert("start_count".into(), "".into());
    }
    if active.has(Profile::RemainsUnknown) {
        o.insert("remains".into(), "Unknown".into());
    }
    if active.has(Profile::MissingCurrency) {
        o.remove("currency");
    }
    if let Some(Value::String(status)) = o.get_mut("status") {
        order_status(active, status);
    }
}

fn order_status(active: Profiles, status: &mut String) {
    if active.has(Profile::StatusCase) && status == "In progress" {
        *status = "In Progress".into();
    }
    if active.has(Profile::CancelledSpelling) && status == "Canceled" {
        *status = "Cancelled".into();
    }
    if active.has(Profile::ExtraStatusValues) {
        match status.as_str() {
            "Canceled" => *status = "Refunded".into(),
            "Partial" => *status = "Failed".into(),
            _ => {}
        }
    }
    if active.has(Profile::StatusLowercase) {
        *status = status.to_lowercase();
    }
}

fn refill_status(active: Profiles, status: &mut Value) {
    if let Value::String(s) = status {
        if active.has(Profile::CancelledSpelling) && s == "Rejected" {
            *s = "Cancelled".into();
        }
        if active.has(Profile::StatusLowercase) {
            *s = s.to_lowercase();
        }
    }
}

/// Applies the JSON-shape profiles; true if anything changed.
fn json_shape(active: Profiles, action: Option<&str>, bulk: bool, value: &mut Value) -> bool {
    let before = value.clone();
    match (action, bulk, &mut *value) {
        (Some("services"), _, Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                if active.has(Profile::StringIds) {
                    if let Some(id) = item.get("service").map(|v| v.to_string()) {
                        item.insert("service".into(), Value::String(id));
                    }
                }
                if active.has(Profile::NumericFields) {
                    for field in ["rate", "min", "max"] {
                        if let Some(v) = item.get_mut(field) {
                            to_number(v);
                        }
                    }
                }
                if active.has(Profile::MissingServiceFlags) {
                    for flag in ["dripfeed", "refill", "cancel"] {
                        item.remove(flag);
                    }
                }
            }
        }
        (Some("status"), false, Value::Object(o)) => status_object(active, o),
        (Some("status"), true, Value::Object(o)) => {
            for item in o.values_mut() {
                match item {
                    Value::Object(inner) if inner.contains_key("error") => {
                        let bare = active.has(Profile::BareStringBulkErrors);
                        if let (true, Some(message)) = (bare, inner.get("error").cloned()) {
                            *item = message;
                        }
                    }
                    Value::Object(inner) => status_object(active, inner),
                    _ => {}
                }
            }
            if active.has(Profile::BulkAsList) {
                let list = std::mem::take(o)
                    .into_iter()
                    .map(|(id, item)| {
                        let mut entry = Map::new();
                        entry.insert("order".into(), Value::String(id));
                        match item {
                            Value::Object(inner) => entry.extend(inner),
                            other => {
                                entry.insert("error".into(), other);
                            }
                        }
                        Value::Object(entry)
                    })
                    .collect();
                *value = Value::Array(list);
            }
        }
        (Some("add"), _, Value::Object(o)) | (Some("balance"), _, Value::Object(o)) => {
            if active.has(Profile::NumericFields) {
                if let Some(v) = o.get_mut("balance") {
                    to_number(v);
                }
            }
            if active.has(Profile::SuccessEnvelope) {
                let mut wrapped = Map::new();
                wrapped.insert("status".into(), "success".into());
                wrapped.extend(std::mem::take(o));
                *o = wrapped;
            }
        }
        (Some("refill"), false, Value::Object(o)) if active.has(Profile::RefillInt) => {
            if let Some(v) = o.get_mut("refill") {
                to_number(v);
            }
        }
        (Some("refill_status"), false, Value::Object(o)) => {
            if let Some(status) = o.get_mut("status") {
                refill_status(active, status);
            }
        }
        (Some("refill_status"), true, Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(status) = item.get_mut("status") {
                    refill_status(active, status);
                }
            }
        }
        (Some("cancel"), _, Value::Array(items)) if active.has(Profile::CancelKeyedObject) => {
            let keyed = std::mem::take(items)
                .into_iter()
                .map(|item| {
                    let id = item
                        .get("order")
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .unwrap_or_default();
                    let result = item.get("cancel").cloned().unwrap_or(Value::Null);
                    let inner = if result.get("error").is_some() {
                        result
                    } else {
                        serde_json::json!({ "cancel": result })
                    };
                    (id, inner)
                })
                .collect();
            *value = Value::Object(keyed);
        }
        _ => {}
    }
    *value != before
}
