//! The admin API under `/__mock/`: control the mock from a test.
//!
//! Never on the API path, off with `--no-admin`. Plain REST with JSON:
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /__mock/` | this list, and the fixture and clock |
//! | `POST /__mock/reset` | back to the state at start: the fixture's orders, refills, balances, clock; the start-up profiles; an empty journal |
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
//! | `DELETE /__mock/profiles` | drop every profile switched on at run time: the overrides, and the panel-wide set back to the start-up one |
//!
//! Only for the mock's own origin ([`refuse_foreign`]): a web page the
//! browser of the machine shows must not change the panel (a cross-origin
//! form, or a DNS-rebound name).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use bytes::Bytes;
use hyper::header::{HOST, ORIGIN};
use hyper::http::uri::Authority;
use hyper::{HeaderMap, Method, StatusCode, Uri};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use smm_contract::Action;

use crate::deviations::Override;
use crate::lifecycle::OrderStatus;
use crate::money::MAX_BALANCE;
use crate::profile::{Profile, Profiles};
use crate::shared::Shared;
use crate::state::Panel;

/// The most bytes an admin body may have.
pub const ADMIN_BODY_LIMIT: usize = 16 * 1024;

/// An admin request, read off the socket by [`crate::server`]: the path
/// under `/__mock` as percent-decoded segments, the decoded query, the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRequest {
    /// The method.
    pub method: Method,
    /// The path's segments after `/__mock`, percent-decoded, without empty ones.
    pub segments: Vec<String>,
    /// The query's parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// The body (empty for GET and DELETE).
    pub body: Bytes,
}

/// Why an admin path or query cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminReadError {
    /// A path segment is not UTF-8 once decoded.
    #[error("the path is not UTF-8 once percent-decoded")]
    Path,
    /// A query parameter came twice.
    #[error("query parameter `{0}` is given twice")]
    Repeated(String),
}

impl AdminRequest {
    /// An admin request for `path` (which starts with `/__mock`) and `query`.
    pub fn new(
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Bytes,
    ) -> Result<AdminRequest, AdminReadError> {
        let segments = path
            .strip_prefix("/__mock")
            .unwrap_or(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|d| d.into_owned())
                    .map_err(|_| AdminReadError::Path)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut params: Vec<(String, String)> = Vec::new();
        // A set of the names seen: a query of thousands of parameters is
        // still read in linear time.
        let mut seen = std::collections::HashSet::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if !seen.insert(name.clone()) {
                return Err(AdminReadError::Repeated(name.into_owned()));
            }
            params.push((name.into_owned(), value.into_owned()));
        }
        Ok(AdminRequest {
            method,
            segments,
            query: params,
            body,
        })
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as `T`, an empty body as `{}`; refused with `usage` and why.
    fn body<T: for<'de> Deserialize<'de>>(&self, usage: &str) -> Result<T, Reply> {
        let text: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(text).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("body must be {usage}: {e}"),
            )
        })
    }
}

/// An admin answer: a status and a JSON value.
pub type Reply = (StatusCode, Value);

/// Where the mock is reached: the addresses an admin request's `Host` and
/// `Origin` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Own {
    /// The address the mock listens on.
    pub listen: SocketAddr,
    /// The address the connection came in on: the listen address, unless
    /// that is unspecified (`0.0.0.0`, `[::]`).
    pub local: SocketAddr,
}

impl Own {
    /// Whether `host` (a `Host` header's text, or an `Origin`'s authority)
    /// names the mock: a loopback name (`localhost`, `127.0.0.1`, `[::1]`,
    /// on any port if `any_port`, else on the mock's) or the listen or local
    /// address with its port (80 when none is given; an IPv4 address and
    /// its IPv6-mapped form alike).
    fn names_me(&self, host: &str, any_port: bool) -> bool {
        let Ok(authority) = host.parse::<Authority>() else {
            return false;
        };
        if host.contains('@') {
            return false;
        }
        let name = authority.host();
        let port = authority.port_u16().unwrap_or(80);
        let ip = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name)
            .parse::<IpAddr>()
            .ok()
            .map(|ip| ip.to_canonical());
        let loopback =
            name.eq_ignore_ascii_case("localhost") || ip.is_some_and(|ip| ip.is_loopback());
        let on_my_port = any_port || port == self.listen.port();
        (loopback && on_my_port)
            || [self.listen, self.local]
                .iter()
                .any(|me| ip == Some(me.ip().to_canonical()) && port == me.port())
    }
}

/// Refuses an admin request that a web page could have sent: a `Host` that
/// is not the mock's ([`Own`]: a page whose name was rebound to 127.0.0.1
/// sends its own), an `Origin` other than the mock's own
/// (`http://127.0.0.1:<port>`, `http://localhost:<port>`, `http://[::1]:<port>`,
/// `http://<listen address>`: any other page's request), and a `POST`,
/// `PUT` or `PATCH` without `Content-Type: application/json` (the only
/// types a page can send cross-origin without the browser asking first are
/// forms and plain text). `None` lets it through.
pub fn refuse_foreign(method: &Method, headers: &HeaderMap, own: Own) -> Option<Reply> {
    let text = |name| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("(not text)"))
    };
    let host = text(HOST);
    if !host.is_some_and(|host| own.names_me(host, true)) {
        return Some(error(
            StatusCode::FORBIDDEN,
            format!(
                "the admin API answers only requests for the mock's own address (Host: localhost, 127.0.0.1 or [::1], or {}); Host {} is refused",
                own.listen,
                host.map_or("missing".to_owned(), |h| format!("`{h}`"))
            ),
        ));
    }
    if let Some(origin) = text(ORIGIN) {
        let own_origin = origin.parse::<Uri>().is_ok_and(|uri| {
            uri.scheme_str() == Some("http")
                && uri.path() == "/"
                && uri.query().is_none()
                && uri
                    .authority()
                    .is_some_and(|a| own.names_me(a.as_str(), false))
        });
        if !own_origin {
            return Some(error(
                StatusCode::FORBIDDEN,
                format!(
                    "the admin API answers no web page but its own (Origin http://{}, http://localhost:{1}, or another loopback address on port {1} such as http://[::1]:{1}); Origin `{origin}` is refused",
                    own.listen,
                    own.listen.port(),
                ),
            ));
        }
    }
    let has_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    let json = text(hyper::header::CONTENT_TYPE).is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case("application/json")
    });
    if has_body && !json {
        return Some(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("an admin {method} must be sent with Content-Type: application/json (even with no body)"),
        ));
    }
    None
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    (status, json!({ "error": message.into() }))
}

/// `POST /__mock/clock/advance`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    ticks: Option<u64>,
}

/// `PUT /__mock/accounts/{key}/balance`: a decimal string or number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBalance {
    balance: Amount,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Text(String),
    Number(serde_json::Number),
}

/// `POST /__mock/orders/{id}/status`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Force {
    status: OrderStatus,
    delivered: Option<u8>,
}

/// `PUT /__mock/profiles`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetProfiles {
    profiles: Vec<String>,
}

/// `POST /__mock/profiles`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddOverride {
    profile: String,
    key: Option<String>,
    action: Option<Action>,
    next: Option<u32>,
}

/// Answers one admin request: its status, and its body as pretty JSON.
pub fn handle(shared: &Shared, request: &AdminRequest) -> (StatusCode, Vec<u8>) {
    if request.segments == ["journal"] && request.method == Method::GET {
        return journal(shared, request);
    }
    let (status, value) = route(shared, request);
    (status, pretty(&value))
}

/// A JSON value as an admin body: pretty, with a final newline.
pub fn pretty(value: &Value) -> Vec<u8> {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    body
}

/// `GET /__mock/journal?limit=N`, written straight to bytes: a page of
/// entries is never built as one JSON value first (of a full journal of
/// large forms, that would take a hundred MB for a moment).
fn journal(shared: &Shared, request: &AdminRequest) -> (StatusCode, Vec<u8>) {
    /// The page: the journal's counts, and its last entries.
    #[derive(serde::Serialize)]
    struct Page<'a> {
        total: u64,
        capacity: usize,
        entries: Vec<&'a crate::journal::Entry>,
    }
    let state = shared.lock();
    let journal = &state.journal;
    let limit = match request.param("limit").map(str::parse::<usize>) {
        None => journal.capacity(),
        Some(Ok(limit)) => limit,
        Some(Err(_)) => {
            let (status, value) = error(StatusCode::BAD_REQUEST, "limit must be a number ≥ 0");
            return (status, pretty(&value));
        }
    };
    let skip = journal.entries().len().saturating_sub(limit);
    let page = Page {
        total: journal.total(),
        capacity: journal.capacity(),
        entries: journal.entries().skip(skip).collect(),
    };
    let mut body = serde_json::to_vec_pretty(&page).unwrap_or_default();
    body.push(b'\n');
    (StatusCode::OK, body)
}

/// Answers one admin request but the journal's.
fn route(shared: &Shared, request: &AdminRequest) -> Reply {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let method = &request.method;
    let method_not_allowed = || error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here");
    match (segments.as_slice(), method) {
        ([], &Method::GET) => index(shared),
        (["reset"], &Method::POST) => {
            shared.reset();
            (StatusCode::OK, json!({ "reset": true }))
        }
        (["clock"], &Method::GET) => clock(shared),
        (["clock", "advance"], &Method::POST) => {
            let advance: Advance = match request.body(r#"{"ticks": N} (or empty for 1)"#) {
                Ok(advance) => advance,
                Err(reply) => return reply,
            };
            match advance.ticks.unwrap_or(1) {
                n if n <= 1_000_000 => {
                    let mut state = shared.lock();
                    let rules = state.deviations.profiles().rules();
                    state.panel.advance_clock(n, rules);
                    drop(state);
                    clock(shared)
                }
                _ => error(
                    StatusCode::BAD_REQUEST,
                    "ticks must be an integer from 0 to 1000000",
                ),
            }
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
            set_balance(shared, key, request)
        }
        (["orders"], &Method::GET) => orders(shared, request),
        (["orders", id], &Method::GET) => match order(shared, id) {
            Ok(view) => (StatusCode::OK, view),
            Err(reply) => reply,
        },
        (["orders", id, "status"], &Method::POST) => force(shared, id, request),
        (["profiles"], &Method::GET) => profiles(shared),
        (["profiles"], &Method::PUT) => set_profiles(shared, request),
        (["profiles"], &Method::POST) => add_override(shared, request),
        (["profiles"], &Method::DELETE) => {
            shared.lock().deviations.clear_run_time();
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

fn account(panel: &Panel, key: &str) -> Value {
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

fn set_balance(shared: &Shared, key: &str, request: &AdminRequest) -> Reply {
    const USAGE: &str = r#"{"balance": "<decimal ≥ 0>"}"#;
    let body: SetBalance = match request.body(USAGE) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let text = match body.balance {
        Amount::Text(text) => text,
        Amount::Number(n) => n.to_string(),
    };
    let Some(balance) = Decimal::from_str(&text)
        .ok()
        .filter(|b| *b >= Decimal::ZERO)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("body must be {USAGE}: `{text}` is not one"),
        );
    };
    let mut state = shared.lock();
    let panel = &mut state.panel;
    let precision = panel.fixture().precision.decimals();
    if balance > Decimal::from(MAX_BALANCE) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("a balance is at most {MAX_BALANCE}"),
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

fn orders(shared: &Shared, request: &AdminRequest) -> Reply {
    let limit = match request.param("limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(limit)) => limit,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "limit must be a number ≥ 0"),
    };
    let after = match request.param("after").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(after)) => after,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "after must be an order id"),
    };
    let key = request.param("key");
    let state = shared.lock();
    let panel = &state.panel;
    let start = panel.orders().partition_point(|o| o.id <= after);
    let orders: Vec<Value> = panel.orders()[start..]
        .iter()
        .filter_map(|o| panel.order_view(o.id))
        .filter(|o| key.is_none_or(|k| o.key == k))
        .take(limit)
        .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
        .collect();
    (StatusCode::OK, Value::Array(orders))
}

fn order_id(id: &str) -> Result<u64, Reply> {
    id.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not an order id"),
        )
    })
}

fn order(shared: &Shared, id: &str) -> Result<Value, Reply> {
    let id = order_id(id)?;
    let state = shared.lock();
    let view = state
        .panel
        .order_view(id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no order {id}")))?;
    Ok(serde_json::to_value(view).unwrap_or(Value::Null))
}

fn force(shared: &Shared, id: &str, request: &AdminRequest) -> Reply {
    let id = match order_id(id) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let statuses: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
    let usage = format!(
        r#"{{"status": "<{}>", "delivered": <0-100>}}"#,
        statuses.join("|")
    );
    let body: Force = match request.body(&usage) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    if body.delivered.is_some_and(|d| d > 100) {
        return error(
            StatusCode::BAD_REQUEST,
            "delivered is a percent from 0 to 100",
        );
    }
    let mut state = shared.lock();
    let rules = state.deviations.profiles().rules();
    let panel = &mut state.panel;
    match panel.force_status(id, body.status, body.delivered, rules) {
        Ok(()) => {
            let view = panel.order_view(id);
            (
                StatusCode::OK,
                serde_json::to_value(view).unwrap_or(Value::Null),
            )
        }
        Err(why @ crate::state::ForceError::NoOrder(_)) => {
            error(StatusCode::NOT_FOUND, why.to_string())
        }
        Err(why) => error(StatusCode::CONFLICT, why.to_string()),
    }
}

fn profiles(shared: &Shared) -> Reply {
    let state = shared.lock();
    let deviations = &state.deviations;
    let on: Vec<&str> = deviations.profiles().iter().map(Profile::name).collect();
    let start: Vec<&str> = deviations
        .start_profiles()
        .iter()
        .map(Profile::name)
        .collect();
    let paths: Vec<&str> = shared
        .paths
        .iter()
        .filter(|p| changes_paths(*p))
        .map(Profile::name)
        .collect();
    (
        StatusCode::OK,
        json!({ "profiles": on, "start": start, "paths": paths, "overrides": deviations.overrides() }),
    )
}

fn profile_named(name: &str) -> Result<Profile, Reply> {
    let profile: Profile = name
        .parse()
        .map_err(|e: String| error(StatusCode::BAD_REQUEST, e))?;
    if changes_paths(profile) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("`{name}` changes paths: switch it on at start (--profile or the fixture)"),
        ));
    }
    Ok(profile)
}

/// Whether `profile` moves or redirects the API's path (fixed at start).
fn changes_paths(profile: Profile) -> bool {
    matches!(
        profile,
        Profile::ApiV1Path | Profile::ApiPhpPath | Profile::TrailingSlashRedirect
    )
}

fn set_profiles(shared: &Shared, request: &AdminRequest) -> Reply {
    let body: SetProfiles = match request.body(r#"{"profiles": ["name", …]}"#) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let mut set = Profiles::NONE;
    for name in &body.profiles {
        match profile_named(name) {
            Ok(profile) => set = set.with(profile),
            Err(reply) => return reply,
        }
    }
    shared.lock().deviations.set_profiles(set);
    profiles(shared)
}

fn add_override(shared: &Shared, request: &AdminRequest) -> Reply {
    let body: AddOverride = match request.body(
        r#"{"profile": "name", "key": "…", "action": "…", "next": N} (key, action, next optional)"#,
    ) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let profile = match profile_named(&body.profile) {
        Ok(profile) => profile,
        Err(reply) => return reply,
    };
    if let Some(key) = &body.key {
        if shared.lock().panel.balance(key).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                format!("no account has key `{key}`"),
            );
        }
    }
    if body.next == Some(0) {
        return error(
            StatusCode::BAD_REQUEST,
            "next must be a number of requests ≥ 1",
        );
    }
    shared.lock().deviations.add_override(Override {
        profile,
        key: body.key,
        action: body.action,
        remaining: body.next,
    });
    profiles(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| {
                (
                    hyper::header::HeaderName::from_static(n),
                    v.parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn on_all_interfaces_the_address_a_connection_came_in_on_is_the_mocks_own() {
        let own = Own {
            listen: "0.0.0.0:8080".parse().unwrap(),
            local: "192.168.1.5:8080".parse().unwrap(),
        };
        let allowed = |pairs: &[(&'static str, &str)]| {
            refuse_foreign(&Method::GET, &headers(pairs), own).is_none()
        };
        assert!(allowed(&[("host", "192.168.1.5:8080")]));
        assert!(allowed(&[("host", "0.0.0.0:8080")]));
        assert!(allowed(&[("host", "localhost:18080")]), "a forwarded port");
        assert!(!allowed(&[("host", "192.168.1.5:8081")]));
        assert!(!allowed(&[("host", "192.168.1.6:8080")]));
        assert!(
            !allowed(&[("host", "192.168.1.5")]),
            "port 80 is not the mock's"
        );
        assert!(allowed(&[
            ("host", "192.168.1.5:8080"),
            ("origin", "http://192.168.1.5:8080")
        ]));
        assert!(allowed(&[
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080")
        ]));
        assert!(!allowed(&[
            ("host", "localhost:8080"),
            ("origin", "http://localhost:18080")
        ]));
        let dual_stack = Own {
            listen: "[::]:8080".parse().unwrap(),
            local: "[::ffff:192.168.1.5]:8080".parse().unwrap(),
        };
        let host = headers(&[("host", "192.168.1.5:8080")]);
        assert!(refuse_foreign(&Method::GET, &host, dual_stack).is_none());
        let v6 = Own {
            listen: "[::1]:80".parse().unwrap(),
            local: "[::1]:80".parse().unwrap(),
        };
        let refused = |pairs: &[(&'static str, &str)]| {
            refuse_foreign(&Method::DELETE, &headers(pairs), v6).map(|(status, _)| status)
        };
        assert_eq!(
            refused(&[("host", "[::1]"), ("origin", "http://[::1]")]),
            None
        );
        assert_eq!(
            refused(&[
                ("host", "[0:0:0:0:0:0:0:1]"),
                ("origin", "http://localhost")
            ]),
            None
        );
        assert_eq!(
            refused(&[("host", "[::1]"), ("origin", "http://[::2]")]),
            Some(StatusCode::FORBIDDEN)
        );
    }
}
