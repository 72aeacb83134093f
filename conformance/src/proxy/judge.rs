//! Judging one exchange: the checks of `run` that one request and its
//! answer can decide, with the same readings (strict and tolerant), and
//! what the proxy remembers across exchanges to judge money (the catalogue
//! it saw, the orders it saw placed).
//!
//! Pure: a [`Seen`] exchange and the [`Memory`] in, a [`Judgement`] out.

use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::{field, Action, OrderStatus, ServiceType, BULK_LIMIT, SERVICE_FLAGS};

use super::{Failed, Seen};
use crate::checks::{at_places, money_matches, places_of, price, Service};
use crate::schema::{self, Kind, Reading};

/// A check the proxy judges: the id of `run`'s check where one applies to a
/// single exchange, else a `proxy.*` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyCheck {
    /// Stable id.
    pub id: &'static str,
    /// The contract section it enforces.
    pub section: &'static str,
    /// What it checks, of one exchange.
    pub title: &'static str,
}

macro_rules! checks {
    ($($id:literal, $section:literal, $title:literal;)*) => {
        /// Every check the proxy judges, in report order.
        pub const CHECKS: &[ProxyCheck] = &[$(ProxyCheck { id: $id, section: $section, title: $title }),*];
    };
}

checks! {
    "transport.http-200", "§1", "every answer, errors included, is HTTP 200";
    "transport.content-type", "§1", "every answer is Content-Type application/json";
    "transport.trailing-slash", "§1", "/api/v2/ is served like /api/v2, never redirected";
    "transport.timeouts", "§1", "every request is answered within the timeout";
    "transport.rate-limit", "§1, §6.6", "no HTTP 429 (met: warn)";
    "transport.connection", "§1", "no connection is refused, reset or closed before its answer";
    "services.schema", "§2, §3", "services answers a list that follows schemas/services.schema.json";
    "services.unique-ids", "§3", "no service id is listed twice";
    "services.min-max", "§3", "min ≤ max for every service";
    "services.rate", "§3", "every rate is a decimal ≥ 0";
    "services.types", "§2.1", "every service type is one of §2.1 (others warn)";
    "services.flags", "§3", "every service has boolean dripfeed, refill and cancel flags";
    "balance.schema", "§2, §3", "balance answers a decimal string and a currency";
    "proxy.add.schema", "§2, §3", "add answers {\"order\": <integer>} (schemas/add.schema.json) or an error";
    "proxy.status.schema", "§2, §3, §5", "status answers a status object in the order status enum (schemas/status*.schema.json) or an error";
    "proxy.refill.schema", "§2, §5", "refill answers its shape (schemas/refill*.schema.json) or an error";
    "proxy.refill-status.schema", "§2, §3, §5", "refill_status answers a status in the refill status enum (schemas/refill-status*.schema.json) or an error";
    "proxy.cancel.schema", "§2, §5", "cancel answers a list of per-id results (schemas/cancel.schema.json) or an error";
    "proxy.error-object", "§4", "an error is {\"error\": \"<text>\"} and nothing else";
    "request.unknown-action", "§4", "an unknown action answers an error";
    "request.missing-action", "§4", "a request without an action answers an error";
    "add.validation", "§2.1, §4", "an add outside the catalogue's min and max, or with runs on a service without drip-feed, is refused";
    "bulk.status.sizes", "§5", "bulk status answers once per distinct id, keyed by the id";
    "bulk.status.per-id-errors", "§5", "a bad id in bulk status gets its own error object";
    "bulk.status.over-limit", "§5", "status with over 100 ids answers one top-level error (tolerant: or exactly the first 100)";
    "bulk.lists", "§2, §5", "bulk refill, refill_status and cancel answer a list with one item per distinct id";
    "bulk.lists.over-limit", "§5", "bulk refill, refill_status and cancel refuse over 100 ids";
    "money.charge", "§3", "an order placed through the proxy shows charge rate × quantity (× runs) / 1000";
    "money.refund-canceled", "§3", "a Canceled order shows charge 0";
    "refill.refused", "§2, §3", "a refill of an order whose service lists refill: false is refused";
    "cancel.refused", "§2, §3", "a cancel of an order whose service lists cancel: false is refused";
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Breaks the contract: Fail in both modes.
    Broken,
    /// CONTRACT §6 items 1-4: Warn in tolerant mode, Fail in strict mode.
    Drift,
    /// Warn in both modes (a type outside §2.1, HTTP 429).
    Warn,
}

/// One thing wrong with an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check id (one of [`CHECKS`]).
    pub check: &'static str,
    /// How bad.
    pub severity: Severity,
    /// What was wrong, in one line (not yet masked).
    pub message: String,
    /// What the contract expects.
    pub expected: String,
}

/// What judging one exchange gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The checks that applied to it.
    pub applied: Vec<&'static str>,
    /// What was wrong.
    pub findings: Vec<Finding>,
    /// Why its body was not judged, if it was not (too large, compressed).
    pub unjudged: Option<String>,
}

impl Judgement {
    fn applies(&mut self, check: &'static str) {
        if !self.applied.contains(&check) {
            self.applied.push(check);
        }
    }

    fn add(&mut self, check: &'static str, severity: Severity, message: String, expected: &str) {
        self.applies(check);
        self.findings.push(Finding {
            check,
            severity,
            message,
            expected: expected.to_owned(),
        });
    }

    fn fail(&mut self, check: &'static str, message: String, expected: &str) {
        self.add(check, Severity::Broken, message, expected);
    }
}

/// An order seen placed through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placed {
    service: u64,
    quantity: u64,
    runs: u64,
}

/// What the proxy remembers across exchanges, bounded: the last catalogue
/// seen and at most [`MAX_ORDERS`] orders placed (the oldest forgotten).
#[derive(Debug, Default)]
pub struct Memory {
    services: Vec<Service>,
    orders: HashMap<String, Placed>,
    order_queue: std::collections::VecDeque<String>,
}

/// The most orders the proxy remembers for `money.charge`.
pub const MAX_ORDERS: usize = 100_000;

impl Memory {
    fn remember(&mut self, id: String, placed: Placed) {
        if self.orders.insert(id.clone(), placed).is_none() {
            self.order_queue.push_back(id);
        }
        while self.order_queue.len() > MAX_ORDERS {
            if let Some(old) = self.order_queue.pop_front() {
                self.orders.remove(&old);
            }
        }
    }
}

/// The schema check of an action.
fn schema_check(action: Action) -> &'static str {
    match action {
        Action::Services => "services.schema",
        Action::Balance => "balance.schema",
        Action::Add => "proxy.add.schema",
        Action::Status => "proxy.status.schema",
        Action::Refill => "proxy.refill.schema",
        Action::RefillStatus => "proxy.refill-status.schema",
        Action::Cancel => "proxy.cancel.schema",
    }
}

/// Whether a content type is JSON (`application/json`, parameters allowed).
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
}

/// The start of a body, for a message.
fn glimpse(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(80)]);
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if body.len() > 80 {
        format!("{text}…")
    } else {
        text
    }
}

/// Judges one exchange, remembering what later ones need.
pub fn judge(seen: &Seen, memory: &mut Memory) -> Judgement {
    let mut j = Judgement::default();
    let request = &seen.request;
    let answer = match &seen.answer {
        Ok(answer) => answer,
        Err(failed @ Failed::Timeout(_)) => {
            j.fail(
                "transport.timeouts",
                failed.to_string(),
                "an answer within the timeout",
            );
            return j;
        }
        Err(failed) => {
            j.fail(
                "transport.connection",
                failed.to_string(),
                "a whole answer on an open connection",
            );
            return j;
        }
    };
    j.applies("transport.timeouts");
    j.applies("transport.connection");
    j.applies("transport.rate-limit");
    if answer.status == 429 {
        j.add(
            "transport.rate-limit",
            Severity::Warn,
            "HTTP 429: rate limited".into(),
            "no rate limit at the client's pace",
        );
        return j;
    }
    if request.path.ends_with('/') {
        j.applies("transport.trailing-slash");
        if (300..400).contains(&answer.status) {
            j.fail(
                "transport.trailing-slash",
                format!(
                    "{} answered HTTP {} (a redirect) instead of being served",
                    request.path, answer.status
                ),
                "the same answer as /api/v2, HTTP 200",
            );
        }
    }
    j.applies("transport.http-200");
    if answer.status != 200 {
        j.fail(
            "transport.http-200",
            format!("HTTP {} instead of 200", answer.status),
            "HTTP 200",
        );
    }
    j.applies("transport.content-type");
    if !is_json(&answer.content_type) {
        let shown = if answer.content_type.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!("Content-Type {}", answer.content_type)
        };
        j.fail(
            "transport.content-type",
            format!("{shown} instead of application/json"),
            "Content-Type: application/json",
        );
    }
    if let Some(encoding) = &answer.encoding {
        j.unjudged = Some(format!(
            "Content-Encoding {encoding}: the body is not judged"
        ));
        return j;
    }
    if answer.truncated {
        j.unjudged = Some(format!(
            "too large to judge ({} bytes, over --max-body)",
            answer.size
        ));
        return j;
    }
    let value: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let sent_action = request.action();
    let Some(action) = sent_action.and_then(Action::parse) else {
        let (check, what) = match sent_action {
            None | Some("") => ("request.missing-action", "no action".to_owned()),
            Some(other) => (
                "request.unknown-action",
                format!("unknown action `{}`", glimpse(other.as_bytes())),
            ),
        };
        j.applies(check);
        if !value.as_ref().is_some_and(schema::is_error) {
            let got = match &value {
                Some(v) => glimpse(v.to_string().as_bytes()),
                None => format!("not JSON: {}", glimpse(&answer.body)),
            };
            j.fail(
                check,
                format!("{what} answered {got} instead of an error"),
                r#"{"error": "<message>"}"#,
            );
        }
        return j;
    };
    let bulk_field = action.bulk_field().filter(|f| request.field(f).is_some());
    let kind = kind_of(action, bulk_field.is_some());
    let schema_id = schema_check(action);
    j.applies(schema_id);
    let Some(value) = value else {
        j.fail(
            schema_id,
            format!("the answer is not JSON: {}", glimpse(&answer.body)),
            "a JSON body",
        );
        return j;
    };
    let ids = bulk_field
        .and_then(|f| request.field(f))
        .map(|raw| {
            smm_contract::field::distinct_ids(raw)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        })
        .unwrap_or_default();
    if bulk_field.is_some() && ids.len() > BULK_LIMIT {
        j.applies(if action == Action::Status {
            "bulk.status.over-limit"
        } else {
            "bulk.lists.over-limit"
        });
    }
    // A refill or cancel the order's service does not offer: the check
    // applies whatever the answer (an error is the right one).
    let offer = match action {
        Action::Refill => Some(("refill.refused", Offer::Refill)),
        Action::Cancel => Some(("cancel.refused", Offer::Cancel)),
        _ => None,
    };
    if let Some((check, offer)) = offer {
        let single = request
            .field(field::ORDER)
            .map(|id| vec![id.trim().to_owned()]);
        let asked = if bulk_field.is_some() {
            Some(ids.clone())
        } else {
            single
        };
        if asked
            .into_iter()
            .flatten()
            .any(|id| lacks(&id, offer, memory).is_some())
        {
            j.applies(check);
        }
    }
    j.applies("proxy.error-object");
    if schema::mentions_error(&value) {
        if !schema::is_error(&value) {
            j.fail(
                "proxy.error-object",
                format!(
                    "an error with other keys beside `error`, or not a text: {}",
                    glimpse(value.to_string().as_bytes())
                ),
                r#"{"error": "<message>"}"#,
            );
        }
        return j;
    }
    if bulk_field.is_some() && ids.len() > BULK_LIMIT {
        over_limit(&mut j, action, &ids, &value);
        return j;
    }
    let read = match schema::read(kind, &value) {
        Reading::Conforms => Some(value.clone()),
        Reading::Drift(errors) => {
            j.add(
                schema_id,
                Severity::Drift,
                format!("{} drifts: {}", kind.name(), errors[0]),
                &format!("schemas/{}.schema.json", kind.name()),
            );
            Some(schema::normalize(kind, value.clone()))
        }
        Reading::Broken(errors) => {
            j.fail(
                schema_id,
                format!("{} breaks its schema: {}", kind.name(), errors[0]),
                &format!("schemas/{}.schema.json", kind.name()),
            );
            None
        }
    };
    match kind {
        Kind::Services => services(&mut j, &value, memory),
        Kind::Add => add(&mut j, request, read.as_ref(), memory),
        Kind::Status => {
            if let (Some(status), Some(id)) = (&read, request.field(field::ORDER)) {
                charge(&mut j, id.trim(), status, memory);
            }
        }
        Kind::StatusBulk => bulk_status(&mut j, &ids, &value, read.as_ref(), memory),
        Kind::Refill => {
            let granted = read
                .as_ref()
                .and_then(|v| v.get("refill"))
                .is_some_and(|r| !schema::mentions_error(r));
            if let (true, Some(id)) = (granted, request.field(field::ORDER)) {
                refused(&mut j, "refill.refused", Offer::Refill, id.trim(), memory);
            }
        }
        _ => {}
    }
    if matches!(kind, Kind::RefillBulk | Kind::Cancel) {
        let (check, offer, slot) = if kind == Kind::Cancel {
            ("cancel.refused", Offer::Cancel, "cancel")
        } else {
            ("refill.refused", Offer::Refill, "refill")
        };
        for item in value.as_array().into_iter().flatten() {
            let granted = item.get(slot).is_some_and(|r| !schema::mentions_error(r));
            let id = match item.get("order") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            if granted {
                refused(&mut j, check, offer, &id, memory);
            }
        }
    }
    if matches!(
        kind,
        Kind::RefillBulk | Kind::RefillStatusBulk | Kind::Cancel
    ) && bulk_field.is_some()
    {
        lists(&mut j, action, &ids, &value);
    }
    j
}

/// What a service may offer an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    Refill,
    Cancel,
}

/// The service of order `id` (placed through the proxy) when its catalogue
/// entry says it does not offer `offer`.
fn lacks<'m>(id: &str, offer: Offer, memory: &'m Memory) -> Option<&'m Service> {
    let placed = memory.orders.get(id)?;
    let service = memory.services.iter().find(|s| s.id == placed.service)?;
    let offered = match offer {
        Offer::Refill => service.refill,
        Offer::Cancel => service.cancel,
    };
    (service.flags_known && !offered).then_some(service)
}

/// `refill.refused` or `cancel.refused`: order `id`, placed through the
/// proxy, was granted a refill or a cancel its service does not offer.
fn refused(j: &mut Judgement, check: &'static str, offer: Offer, id: &str, memory: &Memory) {
    let Some(service) = lacks(id, offer, memory) else {
        return;
    };
    let what = match offer {
        Offer::Refill => "refill",
        Offer::Cancel => "cancel",
    };
    j.fail(
        check,
        format!(
            "order {id} of service {}, listed with {what}: false, was granted a {what}",
            service.id
        ),
        &format!("an error: the service offers no {what}"),
    );
}

/// The answer kind of `action`, in its bulk form or not.
fn kind_of(action: Action, bulk: bool) -> Kind {
    match (action, bulk) {
        (Action::Services, _) => Kind::Services,
        (Action::Add, _) => Kind::Add,
        (Action::Status, false) => Kind::Status,
        (Action::Status, true) => Kind::StatusBulk,
        (Action::Refill, false) => Kind::Refill,
        (Action::Refill, true) => Kind::RefillBulk,
        (Action::RefillStatus, false) => Kind::RefillStatus,
        (Action::RefillStatus, true) => Kind::RefillStatusBulk,
        (Action::Cancel, _) => Kind::Cancel,
        (Action::Balance, _) => Kind::Balance,
    }
}

/// Over 100 distinct ids: a top-level error passes (seen before this);
/// exactly the first 100 answered is drift; anything else breaks.
fn over_limit(j: &mut Judgement, action: Action, ids: &[String], value: &Value) {
    let check = if action == Action::Status {
        "bulk.status.over-limit"
    } else {
        "bulk.lists.over-limit"
    };
    let answered = crate::checks::bulk::answered_ids(value);
    let first: BTreeSet<&String> = ids.iter().take(BULK_LIMIT).collect();
    let expected = format!(r#"{{"error": "..."}} past {BULK_LIMIT} ids"#);
    if answered.len() == BULK_LIMIT && answered.iter().all(|a| first.contains(a)) {
        j.add(
            check,
            Severity::Drift,
            format!(
                "{} ids: answered the first {BULK_LIMIT} instead of an error",
                ids.len()
            ),
            &expected,
        );
    } else {
        j.fail(
            check,
            format!(
                "{} ids: {} answers instead of an error",
                ids.len(),
                answered.len()
            ),
            &expected,
        );
    }
}

/// The single-exchange checks of a catalogue, and the catalogue remembered.
fn services(j: &mut Judgement, raw: &Value, memory: &mut Memory) {
    let Some(items) = raw.as_array() else {
        return;
    };
    let list = crate::suite::services_of(Some(raw));
    for check in [
        "services.unique-ids",
        "services.min-max",
        "services.rate",
        "services.types",
        "services.flags",
    ] {
        j.applies(check);
    }
    let mut ids = BTreeSet::new();
    for item in items {
        let id = item["service"].to_string();
        if !ids.insert(id.clone()) {
            j.fail(
                "services.unique-ids",
                format!("service id {id} is listed twice"),
                "unique service ids",
            );
        }
        for flag in SERVICE_FLAGS {
            match item.get(flag) {
                Some(Value::Bool(_)) => {}
                None => j.add(
                    "services.flags",
                    Severity::Drift,
                    format!("service {id}: no `{flag}` flag"),
                    "dripfeed, refill and cancel booleans",
                ),
                Some(other) => j.fail(
                    "services.flags",
                    format!("service {id}: `{flag}` is {other}, not a boolean"),
                    "dripfeed, refill and cancel booleans",
                ),
            }
        }
    }
    for s in &list {
        if s.min > s.max {
            j.fail(
                "services.min-max",
                format!("service {}: min {} > max {}", s.id, s.min, s.max),
                "min ≤ max",
            );
        }
        if s.rate.is_sign_negative() {
            j.fail(
                "services.rate",
                format!("service {}: negative rate {}", s.id, s.rate),
                "rate ≥ 0",
            );
        }
        if ServiceType::parse(&s.kind).is_none() {
            j.add(
                "services.types",
                Severity::Warn,
                format!(
                    "service {}: type `{}` is not one of CONTRACT §2.1",
                    s.id, s.kind
                ),
                "a type of CONTRACT §2.1",
            );
        }
    }
    memory.services = list;
}

/// An `add`: an order placed outside the catalogue's bounds breaks
/// `add.validation`; an order placed is remembered for `money.charge`.
fn add(j: &mut Judgement, request: &super::SeenRequest, read: Option<&Value>, memory: &mut Memory) {
    let Some(order) = read.and_then(|v| v.get("order")).and_then(Value::as_u64) else {
        return;
    };
    let number = |name: &str| {
        request
            .field(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (Some(service), Some(quantity)) = (number(field::SERVICE), number(field::QUANTITY)) else {
        return;
    };
    let runs = number(field::RUNS);
    if let Some(listed) = memory.services.iter().find(|s| s.id == service) {
        j.applies("add.validation");
        if quantity < listed.min || quantity > listed.max {
            j.fail(
                "add.validation",
                format!(
                    "quantity {quantity} of service {service} (min {}, max {}) was placed as order {order}",
                    listed.min, listed.max
                ),
                "an error: the quantity is outside min and max",
            );
        }
        if runs.is_some() && listed.flags_known && !listed.dripfeed {
            j.fail(
                "add.validation",
                format!(
                    "runs on service {service}, listed without drip-feed, was placed as order {order}"
                ),
                "an error: the service has no drip-feed",
            );
        }
    }
    memory.remember(
        order.to_string(),
        Placed {
            service,
            quantity,
            runs: runs.unwrap_or(1).max(1),
        },
    );
}

/// `money.charge` of one status object (read tolerantly) of order `id`.
fn charge(j: &mut Judgement, id: &str, status: &Value, memory: &Memory) {
    let read = status
        .get("status")
        .and_then(Value::as_str)
        .and_then(OrderStatus::read_drifted);
    let Some(shown) = status.get("charge").and_then(Value::as_str) else {
        return;
    };
    if read == Some(OrderStatus::Canceled) {
        j.applies("money.refund-canceled");
        if shown.parse::<Decimal>().map_or(true, |c| !c.is_zero()) {
            j.fail(
                "money.refund-canceled",
                format!("order {id} is Canceled, and its charge is {shown}"),
                "charge 0: a canceled order is refunded in full",
            );
        }
        return;
    }
    let Some(placed) = memory.orders.get(id) else {
        return;
    };
    let Some(service) = memory.services.iter().find(|s| s.id == placed.service) else {
        return;
    };
    // Priced by the contract: Default services (decision 15); a Partial
    // order's refund depends on what was delivered.
    if !service.is(ServiceType::Default) || matches!(read, None | Some(OrderStatus::Partial)) {
        return;
    }
    j.applies("money.charge");
    // An order placed with runs is charged for them (a panel that took the
    // runs drip-feeds them).
    let runs = placed.runs;
    let Some(units) = placed.quantity.checked_mul(runs) else {
        return;
    };
    let exact = price(service.rate, units);
    if exact == Decimal::MAX {
        return;
    }
    if !money_matches(shown, exact) {
        let runs_text = if runs > 1 {
            format!(" × {runs} runs")
        } else {
            String::new()
        };
        j.fail(
            "money.charge",
            format!(
                "order {id}: charge {shown}, but rate {} × quantity {}{runs_text} / 1000 = {}",
                service.rate,
                placed.quantity,
                at_places(exact, places_of(shown))
            ),
            &format!("charge {exact} (within one unit of the panel's precision)"),
        );
    }
}

/// A bulk status answer: one answer per distinct id, each a status object
/// or an error object; money of the orders placed through the proxy.
fn bulk_status(
    j: &mut Judgement,
    ids: &[String],
    raw: &Value,
    read: Option<&Value>,
    memory: &Memory,
) {
    let Some(object) = raw.as_object() else {
        return;
    };
    j.applies("bulk.status.sizes");
    j.applies("bulk.status.per-id-errors");
    let expected: BTreeSet<&String> = ids.iter().collect();
    let got: BTreeSet<&String> = object.keys().collect();
    if got != expected {
        let missing: Vec<&&String> = expected.difference(&got).take(5).collect();
        let extra: Vec<&&String> = got.difference(&expected).take(5).collect();
        j.fail(
            "bulk.status.sizes",
            format!(
                "{} answers for {} distinct ids (missing {missing:?}, unexpected {extra:?})",
                got.len(),
                expected.len()
            ),
            "one answer per distinct id, keyed by the id",
        );
    }
    for (id, item) in object {
        let fine = schema::is_error(item)
            || item
                .as_object()
                .is_some_and(|o| !o.contains_key("error") && o.contains_key("status"));
        if !fine {
            j.fail(
                "bulk.status.per-id-errors",
                format!(
                    "id {id} answered {} (neither a status object nor an error object)",
                    glimpse(item.to_string().as_bytes())
                ),
                r#"a status object, or {"error": "..."}"#,
            );
        }
    }
    if let Some(Value::Object(read)) = read {
        for (id, item) in read {
            if !schema::is_error(item) {
                charge(j, id, item, memory);
            }
        }
    }
}

/// A bulk refill, refill_status or cancel answer: a list with one item per
/// distinct id.
fn lists(j: &mut Judgement, action: Action, ids: &[String], raw: &Value) {
    let Some(items) = raw.as_array() else {
        return;
    };
    j.applies("bulk.lists");
    if items.len() != ids.len() {
        j.fail(
            "bulk.lists",
            format!(
                "{action}: {} items for {} distinct ids",
                items.len(),
                ids.len()
            ),
            "one item per distinct id",
        );
    }
}
