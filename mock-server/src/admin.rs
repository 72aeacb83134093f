//! The admin API under `/__mock/`: control the mock from a test.
//!
//! Never on the API path, off with `--no-admin`. Plain REST with JSON:
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /__mock/` | this list, and the fixture, seed, clock |
//! | `POST /__mock/reset` | back to the fixture: orders, refills, balances, clock, journal |
//! | `GET /__mock/clock` | `{"tick": N, "mode": "poll"}` |
//! | `POST /__mock/clock/advance` | body `{"ticks": N}` (default 1): every order and refill moves N steps |
//! | `GET /__mock/journal?limit=N` | the last N API requests and answers (newest last) |
//! | `GET /__mock/accounts` | every key with its balance and currency |
//! | `GET /__mock/accounts/{key}` | one account |
//! | `PUT /__mock/accounts/{key}/balance` | body `{"balance": "12.50"}` |
//! | `GET /__mock/orders?key=K&limit=N&after=ID` | orders, oldest first, paged |
//! | `GET /__mock/orders/{id}` | one order, with its lifecycle and step |
//! | `POST /__mock/orders/{id}/status` | body `{"status": "Partial", "delivered": 60}`: force a (legal) status |
//! | `GET /__mock/profiles` | the profiles on, panel-wide and per key / action / next N requests |
//! | `PUT /__mock/profiles` | body `{"profiles": ["status-case"]}`: the panel-wide set |
//! | `POST /__mock/profiles` | body `{"profile": "html-errors", "key": "test-key", "action": "add", "next": 2}` |
//! | `DELETE /__mock/profiles` | drop the per-key / per-action overrides |

use std::str::FromStr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::lifecycle::OrderStatus;
use crate::profile::{Profile, Profiles};
use crate::server::{json, read_body, Shared};
use crate::state::Override;

/// The most bytes an admin body may have.
const ADMIN_BODY_LIMIT: usize = 16 * 1024;

/// An admin answer: a status and a JSON value.
type Reply = (StatusCode, Value);

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    (status, json!({ "error": message.into() }))
}

/// Answers one admin request.
pub async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let body = if method == Method::POST || method == Method::PUT {
        match read_body(req, ADMIN_BODY_LIMIT).await {
            Ok(body) => body,
            Err(e) => return respond(error(StatusCode::BAD_REQUEST, e.to_string())),
        }
    } else {
        Bytes::new()
    };
    let segments: Vec<&str> = path
        .trim_start_matches("/__mock")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let reply = dispatch(shared, &method, &segments, &query, &body);
    tracing::info!(target: "smm_mock::admin", "{method} {path} -> {}", reply.0.as_u16());
    respond(reply)
}

fn respond((status, value): Reply) -> Response<Full<Bytes>> {
    let mut body = serde_json::to_vec_pretty(&value).unwrap_or_default();
    body.push(b'\n');
    json(status, body)
}

fn dispatch(
    shared: &Shared,
    method: &Method,
    segments: &[&str],
    query: &str,
    body: &[u8],
) -> Reply {
    let params = crate::request::Fields::from_pairs(
        query
            .split('&')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .filter(|(k, _)| !k.is_empty()),
    )
    .unwrap_or_default();
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")),
        }
    };
    let method_not_allowed = || error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here");
    match (segments, method) {
        ([], &Method::GET) => index(shared),
        (["reset"], &Method::POST) => {
            let mut state = shared.lock();
            state.panel.reset();
            state.journal.clear();
            (StatusCode::OK, json!({ "reset": true }))
        }
        (["clock"], &Method::GET) => clock(shared),
        (["clock", "advance"], &Method::POST) => {
            if body
                .as_object()
                .is_none_or(|o| o.keys().any(|k| k != "ticks"))
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    r#"body must be {"ticks": N} (or empty for 1)"#,
                );
            }
            let ticks = match body.get("ticks") {
                None => Some(1),
                Some(v) => v.as_u64(),
            };
            match ticks {
                Some(n) if n <= 1_000_000 => {
                    shared.lock().panel.advance_clock(n);
                    clock(shared)
                }
                _ => error(
                    StatusCode::BAD_REQUEST,
                    "ticks must be an integer from 0 to 1000000",
                ),
            }
        }
        (["journal"], &Method::GET) => {
            let state = shared.lock();
            let journal = &state.journal;
            let limit = match params.get("limit").map(str::parse::<usize>) {
                None => journal.capacity(),
                Some(Ok(limit)) => limit,
                Some(Err(_)) => {
                    return error(StatusCode::BAD_REQUEST, "limit must be a number ≥ 0")
                }
            };
            let skip = journal.entries().len().saturating_sub(limit);
            let entries: Vec<&crate::journal::Entry> = journal.entries().skip(skip).collect();
            (
                StatusCode::OK,
                json!({ "total": journal.total(), "capacity": journal.capacity(), "entries": entries }),
            )
        }
        (["accounts"], &Method::GET) => {
            let state = shared.lock();
            let panel = &state.panel;
            let accounts: Vec<Value> = panel
                .fixture()
                .accounts
                .iter()
                .map(|a| account(panel, &a.key))
                .collect();
            (StatusCode::OK, Value::Array(accounts))
        }
        (["accounts", key], &Method::GET) => {
            let state = shared.lock();
            let panel = &state.panel;
            match panel.balance(key) {
                Some(_) => (StatusCode::OK, account(panel, key)),
                None => error(StatusCode::NOT_FOUND, format!("no account has key `{key}`")),
            }
        }
        (["accounts", key, "balance"], &Method::PUT | &Method::POST) => {
            let Some(balance) = body
                .get("balance")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_number().map(|n| n.to_string()))
                })
                .and_then(|s| Decimal::from_str(&s).ok())
                .filter(|b| *b >= Decimal::ZERO)
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    r#"body must be {"balance": "<decimal ≥ 0>"}"#,
                );
            };
            let mut state = shared.lock();
            let panel = &mut state.panel;
            let precision = panel.fixture().precision.decimals();
            if balance > Decimal::from(crate::state::MAX_BALANCE) {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("a balance is at most {}", crate::state::MAX_BALANCE),
                );
            }
            if balance.scale() > precision {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the panel keeps {precision} decimals; {balance} has more"),
                );
            }
            if panel.set_balance(key, balance) {
                (StatusCode::OK, account(panel, key))
            } else {
                error(StatusCode::NOT_FOUND, format!("no account has key `{key}`"))
            }
        }
        (["orders"], &Method::GET) => {
            let state = shared.lock();
            let panel = &state.panel;
            let limit = match params.get("limit").map(str::parse::<usize>) {
                None => 100,
                Some(Ok(limit)) => limit,
                Some(Err(_)) => {
                    return error(StatusCode::BAD_REQUEST, "limit must be a number ≥ 0")
                }
            };
            let after = match params.get("after").map(str::parse::<u64>) {
                None => 0,
                Some(Ok(after)) => after,
                Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "after must be an order id"),
            };
            let key = params.get("key");
            let first = panel.fixture().first_order_id;
            let start = after.saturating_add(1).max(first);
            let orders: Vec<Value> = (start..first + panel.orders().len() as u64)
                .filter_map(|id| panel.order_view(id))
                .filter(|o| key.is_none_or(|k| o.key == k))
                .take(limit)
                .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
                .collect();
            (StatusCode::OK, Value::Array(orders))
        }
        (["orders", id], &Method::GET) => match order(shared, id) {
            Ok(view) => (StatusCode::OK, view),
            Err(reply) => reply,
        },
        (["orders", id, "status"], &Method::POST) => force(shared, id, &body),
        (["profiles"], &Method::GET) => profiles(shared),
        (["profiles"], &Method::PUT) => set_profiles(shared, &body),
        (["profiles"], &Method::POST) => add_override(shared, &body),
        (["profiles"], &Method::DELETE) => {
            shared.lock().panel.clear_overrides();
            profiles(shared)
        }
        ([] | ["reset"] | ["clock"] | ["clock", "advance"] | ["journal"] | ["accounts"], _)
        | (["accounts", _] | ["accounts", _, "balance"] | ["orders"] | ["orders", _], _)
        | (["orders", _, "status"] | ["profiles"], _) => method_not_allowed(),
        _ => error(
            StatusCode::NOT_FOUND,
            "no such admin route; GET /__mock/ lists them",
        ),
    }
}

fn index(shared: &Shared) -> Reply {
    let state = shared.lock();
    let panel = &state.panel;
    (
        StatusCode::OK,
        json!({
            "fixture": panel.fixture().name,
            "clock": { "tick": panel.tick(), "mode": panel.clock_mode().to_string() },
            "routes": [
                "POST /__mock/reset",
                "GET /__mock/clock",
                "POST /__mock/clock/advance {\"ticks\": N}",
                "GET /__mock/journal?limit=N",
                "GET /__mock/accounts",
                "GET /__mock/accounts/{key}",
                "PUT /__mock/accounts/{key}/balance {\"balance\": \"12.50\"}",
                "GET /__mock/orders?key=K&limit=N&after=ID",
                "GET /__mock/orders/{id}",
                "POST /__mock/orders/{id}/status {\"status\": \"Partial\", \"delivered\": 60}",
                "GET /__mock/profiles",
                "PUT /__mock/profiles {\"profiles\": [\"status-case\"]}",
                "POST /__mock/profiles {\"profile\": \"html-errors\", \"key\": \"test-key\", \"action\": \"add\", \"next\": 2}",
                "DELETE /__mock/profiles"
            ]
        }),
    )
}

fn clock(shared: &Shared) -> Reply {
    let state = shared.lock();
    let panel = &state.panel;
    (
        StatusCode::OK,
        json!({ "tick": panel.tick(), "mode": panel.clock_mode().to_string() }),
    )
}

fn account(panel: &crate::state::Panel, key: &str) -> Value {
    let fixture = panel.fixture();
    let Some(index) = fixture.accounts.iter().position(|a| a.key == key) else {
        return Value::Null;
    };
    let balance = panel.balance(key).unwrap_or_default();
    let orders = panel
        .orders()
        .iter()
        .filter(|o| o.account as usize == index)
        .count();
    json!({
        "key": key,
        "balance": fixture.precision.format(balance),
        "currency": fixture.accounts[index].currency,
        "orders": orders,
    })
}

fn order(shared: &Shared, id: &str) -> Result<Value, Reply> {
    let id: u64 = id.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not an order id"),
        )
    })?;
    let state = shared.lock();
    let panel = &state.panel;
    let view = panel
        .order_view(id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no order {id}")))?;
    Ok(serde_json::to_value(view).unwrap_or(Value::Null))
}

fn force(shared: &Shared, id: &str, body: &Value) -> Reply {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not an order id"),
        );
    };
    let Some(status) = body
        .get("status")
        .and_then(Value::as_str)
        .and_then(OrderStatus::parse)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            r#"body must be {"status": "<Pending|In progress|Processing|Completed|Partial|Canceled>", "delivered": <0-100>}"#,
        );
    };
    let delivered = match body.get("delivered") {
        Some(v) => match v.as_u64() {
            Some(d) if d <= 100 => Some(d as u8),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "delivered is a percent from 0 to 100",
                )
            }
        },
        None => None,
    };
    let mut state = shared.lock();
    let panel = &mut state.panel;
    if panel.order_view(id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no order {id}"));
    }
    match panel.force_status(id, status, delivered) {
        Ok(()) => {
            let view = panel.order_view(id);
            (
                StatusCode::OK,
                serde_json::to_value(view).unwrap_or(Value::Null),
            )
        }
        Err(why) => error(StatusCode::CONFLICT, why),
    }
}

fn profiles(shared: &Shared) -> Reply {
    let state = shared.lock();
    let panel = &state.panel;
    let on: Vec<&str> = panel.profiles().iter().map(Profile::name).collect();
    let paths: Vec<&str> = shared.paths.iter().map(Profile::name).collect();
    (
        StatusCode::OK,
        json!({ "profiles": on, "paths": paths, "overrides": panel.overrides() }),
    )
}

fn profile_named(value: &Value) -> Result<Profile, Reply> {
    let name = value.as_str().unwrap_or_default();
    let profile: Profile = name
        .parse()
        .map_err(|e: String| error(StatusCode::BAD_REQUEST, e))?;
    if matches!(
        profile,
        Profile::ApiV1Path | Profile::ApiPhpPath | Profile::TrailingSlashRedirect
    ) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("`{name}` changes paths: switch it on at start (--profile or the fixture)"),
        ));
    }
    Ok(profile)
}

fn set_profiles(shared: &Shared, body: &Value) -> Reply {
    let Some(list) = body.get("profiles").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            r#"body must be {"profiles": ["name", …]}"#,
        );
    };
    let mut set = Profiles::NONE;
    for value in list {
        match profile_named(value) {
            Ok(profile) => set = set.with(profile),
            Err(reply) => return reply,
        }
    }
    shared.lock().panel.set_profiles(set);
    profiles(shared)
}

fn add_override(shared: &Shared, body: &Value) -> Reply {
    let allowed = ["profile", "key", "action", "next"];
    if body
        .as_object()
        .is_none_or(|o| o.keys().any(|k| !allowed.contains(&k.as_str())))
    {
        return error(
            StatusCode::BAD_REQUEST,
            r#"body must be {"profile": "name", "key": "…", "action": "…", "next": N} (key, action, next optional)"#,
        );
    }
    let profile = match profile_named(&body["profile"]) {
        Ok(profile) => profile,
        Err(reply) => return reply,
    };
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_owned);
    if let Some(action) = text("action") {
        if !crate::state::ACTIONS.contains(&action.as_str()) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("no action is named `{action}`"),
            );
        }
    }
    if let Some(key) = text("key") {
        if shared.lock().panel.balance(&key).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                format!("no account has key `{key}`"),
            );
        }
    }
    let remaining = match body.get("next") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 && n <= u64::from(u32::MAX) => Some(n as u32),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "next must be a number of requests ≥ 1",
                )
            }
        },
    };
    shared.lock().panel.add_override(Override {
        profile,
        key: text("key"),
        action: text("action"),
        remaining,
    });
    profiles(shared)
}
