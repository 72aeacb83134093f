//! What the deviation profiles do to an answer: the panel's logic stays
//! conforming (the semantic profiles become [`crate::rules::Rules`]); this
//! layer answers something else instead ([`instead`]), or turns the panel's
//! typed reply into the drifted or broken answer ([`answer`]). Nothing here
//! runs unless a profile is on.

use serde_json::{Map, Value};
use smm_contract::drift::{self, Form, Literal, Shape};
use smm_contract::{Action, OrderStatus, RefillStatus};

use crate::deviations::Active;
use crate::error::{ApiError, Messages};
use crate::profile::{Profile, Profiles};
use crate::reply::{Answer, Delivery, Reply};
use crate::router::ApiRequest;

/// The page a CDN shows when the origin fails.
const CLOUDFLARE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>\n<body><h1>Error 503: the origin web server is not answering</h1>\n<p>Cloudflare Ray ID: 0000000000000000</p></body></html>\n";

const HTML: &str = "text/html; charset=UTF-8";

fn html(status: u16) -> Answer {
    Answer {
        body: CLOUDFLARE_PAGE.replace("503", &status.to_string()).into(),
        error: Some(format!("HTML {status} (profile)")),
        http_status: status,
        content_type: HTML,
        delivery: Delivery::Now,
        retry_after: None,
        stale_write: None,
    }
}

/// An answer that replaces the panel's, decided before the request is
/// handled (so it changes nothing): rate limits, origin failures, stuck
/// workers, dropped connections. The draw is seeded (see
/// [`crate::deviations`]), so the same requests get the same faults.
pub fn instead(active: &Active, action: Option<Action>) -> Option<Answer> {
    let profiles = active.profiles;
    if profiles.has(Profile::RateLimit429) && active.ordinal % 5 == 0 {
        return Some(Answer {
            http_status: 429,
            retry_after: Some(1),
            ..Answer::json(
                &br#"{"error":"Too many requests"}"#[..],
                Some("Too many requests (profile)".into()),
            )
        });
    }
    if profiles.has(Profile::Random5xx) && active.draw % 10 == 0 {
        return Some(html(502));
    }
    let held = |delivery| {
        Some(Answer {
            delivery,
            ..Answer::json(bytes::Bytes::new(), Some("no answer (profile)".into()))
        })
    };
    match action {
        Some(Action::RefillStatus) if profiles.has(Profile::Hang) => held(Delivery::Never),
        Some(Action::Cancel) if profiles.has(Profile::ConnectionReset) => held(Delivery::Reset),
        _ => None,
    }
}

/// The answer to `request`: the panel's `reply` as the profiles reshape
/// it, its errors worded as `messages` say.
pub fn answer(
    profiles: Profiles,
    request: &ApiRequest,
    reply: Reply<'_>,
    messages: &Messages,
) -> Answer {
    if profiles.is_empty() {
        return Answer::of(&reply, messages);
    }
    let mut answer = match reply.error() {
        Some(_) if profiles.has(Profile::HtmlErrors) => return html(503),
        Some(e) => Answer {
            http_status: http_status(profiles, e),
            ..Answer::of(&reply, messages)
        },
        None if reshapes(profiles) => {
            let mut value = reply.to_value(messages);
            reshape(profiles, request, &mut value);
            Answer::json(serde_json::to_vec(&value).unwrap_or_default(), None)
        }
        None => Answer::of(&reply, messages),
    };
    if answer.error.is_none() && request.is_bulk() && profiles.has(Profile::TruncatedJson) {
        let half = answer.body.len() / 2;
        answer.body.truncate(half);
    }
    if profiles.has(Profile::WrongContentType) {
        answer.content_type = HTML;
    }
    if profiles.has(Profile::Slow) {
        answer.delivery = Delivery::After(300);
    }
    answer
}

/// The HTTP status of an error answer: 200, or a 4xx under `http-4xx-errors`.
fn http_status(profiles: Profiles, e: &ApiError) -> u16 {
    if !profiles.has(Profile::Http4xxErrors) {
        return 200;
    }
    match e {
        ApiError::InvalidKey => 401,
        ApiError::NotEnoughFunds => 402,
        _ => 400,
    }
}

/// Whether the profiles change the JSON of a successful answer: a field in
/// another form, a status respelled or replaced, or a broken bulk shape.
fn reshapes(profiles: Profiles) -> bool {
    profiles.iter().any(|p| {
        let (orders, refills) = p.status_drifts();
        !p.field_drifts().is_empty()
            || !orders.is_empty()
            || !refills.is_empty()
            || !p.refill_status_words().is_empty()
            || matches!(
                p,
                Profile::StatusLowercase
                    | Profile::BareStringBulkErrors
                    | Profile::BulkAsList
                    | Profile::CancelKeyedObject
            )
    })
}

/// Writes the rows of the contract's drift table that the profiles switch
/// on into `object`, a `shape`.
fn field_drift(profiles: Profiles, shape: Shape, object: &mut Map<String, Value>) {
    for profile in profiles.iter() {
        for &(on, form) in profile.field_drifts() {
            if on != shape {
                continue;
            }
            for row in drift::of(shape).filter(|d| d.form == form) {
                write_form(object, row.field, form, row.literal);
            }
        }
    }
}

/// Writes `field` of `object` in `form` (CONTRACT §6).
fn write_form(object: &mut Map<String, Value>, field: &str, form: Form, literal: Option<Literal>) {
    match form {
        Form::Number | Form::Integer => {
            if let Some(v) = object.get_mut(field) {
                if let Some(n) = v
                    .as_str()
                    .and_then(|s| s.parse::<serde_json::Number>().ok())
                {
                    *v = Value::Number(n);
                }
            }
        }
        Form::DigitString => {
            if let Some(v) = object.get_mut(field) {
                if v.is_number() {
                    *v = Value::String(v.to_string());
                }
            }
        }
        Form::Null => {
            object.insert(field.into(), Value::Null);
        }
        Form::Empty => {
            object.insert(field.into(), "".into());
        }
        Form::Unknown => {
            object.insert(field.into(), drift::UNKNOWN.into());
        }
        Form::Missing => {
            object.remove(field);
        }
        Form::Extra => {
            let value = match literal {
                Some(Literal::Text(text)) => Value::from(text),
                Some(Literal::Bool(b)) => Value::Bool(b),
                None => Value::Null,
            };
            let mut first = Map::new();
            first.insert(field.into(), value);
            first.extend(std::mem::take(object));
            *object = first;
        }
    }
}

/// How the profiles spell a status: each drifted spelling replaces the
/// status it stands for (a status another profile already respelled stays
/// as it is), then `status-lowercase` lowers the case. `drifts` picks a
/// profile's spellings, as `(text, stands for)`.
fn spell<S: Copy + PartialEq>(
    profiles: Profiles,
    status: &str,
    parse: fn(&str) -> Option<S>,
    drifts: impl Fn(Profile) -> Vec<(&'static str, S)>,
) -> Option<String> {
    let canonical = parse(status)?;
    let mut text = status.to_owned();
    for profile in profiles.iter() {
        for (spelled, stands_for) in drifts(profile) {
            if stands_for == canonical && text == status {
                text = spelled.to_owned();
            }
        }
    }
    if profiles.has(Profile::StatusLowercase) {
        text = text.to_lowercase();
    }
    Some(text)
}

/// How the profiles spell an order status (`None`: `status` is not one of
/// the contract's spellings).
pub fn order_status(profiles: Profiles, status: &str) -> Option<String> {
    spell(profiles, status, OrderStatus::parse, |p| {
        p.status_drifts()
            .0
            .iter()
            .map(|d| (d.text(), d.stands_for()))
            .collect()
    })
}

/// How the profiles spell a refill status: a drifted spelling, or a word
/// outside the enum.
fn refill_status(profiles: Profiles, status: &str) -> Option<String> {
    spell(profiles, status, RefillStatus::parse, |p| {
        let drifts = p
            .status_drifts()
            .1
            .iter()
            .map(|d| (d.text(), d.stands_for()));
        let words = p.refill_status_words().iter().map(|&(s, word)| (word, s));
        drifts.chain(words).collect()
    })
}

fn respell(object: &mut Map<String, Value>, spell: impl Fn(&str) -> Option<String>) {
    if let Some(Value::String(status)) = object.get_mut("status") {
        if let Some(text) = spell(status) {
            *status = text;
        }
    }
}

/// Reshapes one order status object.
fn status_object(profiles: Profiles, object: &mut Map<String, Value>) {
    field_drift(profiles, Shape::Status, object);
    respell(object, |s| order_status(profiles, s));
}

/// Applies the profiles that change the JSON of a successful answer.
fn reshape(profiles: Profiles, request: &ApiRequest, value: &mut Value) {
    let bulk = request.is_bulk();
    match (request.action(), bulk, &mut *value) {
        (Some(Action::Services), _, Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                field_drift(profiles, Shape::Service, item);
            }
        }
        (Some(Action::Status), false, Value::Object(o)) => status_object(profiles, o),
        (Some(Action::Status), true, Value::Object(o)) => {
            for item in o.values_mut() {
                match item {
                    Value::Object(inner) if inner.contains_key("error") => {
                        let bare = profiles.has(Profile::BareStringBulkErrors);
                        if let (true, Some(message)) = (bare, inner.get("error").cloned()) {
                            *item = message;
                        }
                    }
                    Value::Object(inner) => status_object(profiles, inner),
                    _ => {}
                }
            }
            if profiles.has(Profile::BulkAsList) {
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
        (Some(Action::Add), _, Value::Object(o)) => field_drift(profiles, Shape::Add, o),
        (Some(Action::Balance), _, Value::Object(o)) => field_drift(profiles, Shape::Balance, o),
        (Some(Action::Refill), false, Value::Object(o)) => field_drift(profiles, Shape::Refill, o),
        (Some(Action::RefillStatus), false, Value::Object(o)) => {
            respell(o, |s| refill_status(profiles, s));
        }
        (Some(Action::RefillStatus), true, Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                respell(item, |s| refill_status(profiles, s));
            }
        }
        (Some(Action::Cancel), _, Value::Array(items))
            if profiles.has(Profile::CancelKeyedObject) =>
        {
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
}
