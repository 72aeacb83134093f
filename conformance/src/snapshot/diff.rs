//! The classed diff of two snapshots: each change is breaking, drift (into
//! a form of CONTRACT §6 items 1-4, read off the contract's drift table) or
//! compatible.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use smm_contract::drift::{self, Form, Shape};
use smm_contract::{OrderStatus, SERVICE_FIELDS, SERVICE_FLAGS};

use super::{contract_shape, BulkLimit, JsonType, ServiceKey, Snapshot, Types};

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No client can tell.
    Compatible,
    /// Into a form of CONTRACT §6 items 1-4.
    Drift,
    /// Breaks clients.
    Breaking,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compatible => "compatible",
            Self::Drift => "drift",
            Self::Breaking => "breaking",
        }
    }
}

/// One change between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The area: `services`, `shapes`, `statuses`, `errors`, `content_types`,
    /// `bulk_limit`.
    pub area: &'static str,
    /// Its class.
    pub severity: Severity,
    /// What changed (`service 4: rate string → number`).
    pub what: String,
    /// The service changed, for a change to one service of the catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// What changed without naming the service (`rate string → number`):
    /// the same text for the same change to another service. For a change
    /// that is not to a service, `what`.
    #[serde(skip)]
    pub detail: String,
}

impl Change {
    /// A change that is not to one service.
    pub fn new(area: &'static str, severity: Severity, what: String) -> Change {
        Change {
            area,
            severity,
            detail: what.clone(),
            what,
            service: None,
        }
    }

    /// A change to service `id`, said `service {id}{joint}{detail}`.
    pub fn to_service(severity: Severity, id: &str, joint: &str, detail: String) -> Change {
        Change {
            area: "services",
            severity,
            what: format!("service {id}{joint}{detail}"),
            service: Some(id.to_owned()),
            detail,
        }
    }
}

/// One line of a diff: a change, or the same change made to several
/// services (same area, class and [`Change::detail`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeGroup {
    /// The area, as [`Change::area`].
    pub area: &'static str,
    /// The class, as [`Change::severity`].
    pub severity: Severity,
    /// The change's `what`; for a change made to several services, the text
    /// they share ([`Change::detail`]).
    pub what: String,
    /// The services changed, in catalogue order; empty for a change that is
    /// not to a service.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// The changes as the lines of a diff: the same change made to several
/// services becomes one group listing them, at the place of its first
/// service; every other change is a group of its own. Each change is in
/// exactly one group.
pub fn group(changes: &[Change]) -> Vec<ChangeGroup> {
    let mut groups: Vec<ChangeGroup> = Vec::new();
    let mut seen: BTreeMap<(&str, Severity, &str), usize> = BTreeMap::new();
    for change in changes {
        let Some(id) = &change.service else {
            groups.push(ChangeGroup {
                area: change.area,
                severity: change.severity,
                what: change.what.clone(),
                services: Vec::new(),
            });
            continue;
        };
        let key = (change.area, change.severity, change.detail.as_str());
        match seen.get(&key) {
            Some(&at) => {
                let group = &mut groups[at];
                group.what.clone_from(&change.detail);
                group.services.push(id.clone());
            }
            None => {
                seen.insert(key, groups.len());
                groups.push(ChangeGroup {
                    area: change.area,
                    severity: change.severity,
                    what: change.what.clone(),
                    services: vec![id.clone()],
                });
            }
        }
    }
    groups
}

/// The JSON type a field has in the contract, and the types a drifting
/// panel sends instead, for a form of the table that changes a type.
fn form_types(form: Form) -> Option<(JsonType, &'static [JsonType])> {
    use JsonType::*;
    Some(match form {
        Form::Number => (String, &[Integer, Number]),
        Form::DigitString => (Integer, &[String]),
        Form::Integer => (String, &[Integer]),
        Form::Null => (String, &[Null]),
        Form::Empty | Form::Unknown => (String, &[]),
        Form::Missing | Form::Extra => return None,
    })
}

/// Whether a field's change of types is one of CONTRACT §6.1's drift forms:
/// every type it has now is the contract's, a drifted one, or one it had.
fn type_drift(shape: Option<Shape>, field: &str, old: &Types, new: &Types) -> bool {
    let Some(shape) = shape else {
        return false;
    };
    let allowed: BTreeSet<JsonType> = drift::of_field(shape, field)
        .filter_map(|row| form_types(row.form))
        .flat_map(|(canonical, drifted)| std::iter::once(canonical).chain(drifted.iter().copied()))
        .collect();
    !allowed.is_empty()
        && new
            .0
            .iter()
            .all(|k| allowed.contains(k) || old.contains(*k))
}

/// Whether `status` is a drifted spelling of the enum (CONTRACT §6.2).
fn drift_spelling(status: &str) -> bool {
    OrderStatus::read_drifted(status).is_some()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// A field of a service as text, `(none)` when it is missing.
fn field_text(service: &Map<String, Value>, field: &str) -> String {
    text(service.get(field).unwrap_or(&Value::Null))
}

fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// Whether a service field is a number the contract writes as a string
/// (`rate`, `min`, `max`).
fn numeric(field: &str) -> bool {
    drift::of_field(Shape::Service, field).any(|row| row.form == Form::Number)
}

/// The changes to the catalogue, service by service in catalogue order (ids
/// by number, then the others).
fn service_changes(old: &Snapshot, new: &Snapshot, max_rate_increase: Decimal) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut push = |severity: Severity, id: &str, joint: &str, detail: String| {
        changes.push(Change::to_service(severity, id, joint, detail))
    };
    let by_id = |list: &[Value]| -> BTreeMap<ServiceKey, Map<String, Value>> {
        list.iter()
            .map(|s| {
                (
                    ServiceKey::of(s),
                    s.as_object().cloned().unwrap_or_default(),
                )
            })
            .collect()
    };
    let (before, after) = (by_id(&old.services), by_id(&new.services));
    for (key, was) in &before {
        let id = key.id();
        let Some(now) = after.get(key) else {
            push(
                Severity::Breaking,
                id,
                " ",
                format!("removed ({})", field_text(was, "name")),
            );
            continue;
        };
        for field in ["name", "category"] {
            if was.get(field) != now.get(field) {
                push(
                    Severity::Compatible,
                    id,
                    ": ",
                    format!(
                        "{field} {:?} → {:?}",
                        field_text(was, field),
                        field_text(now, field)
                    ),
                );
            }
        }
        if was.get("type") != now.get("type") {
            push(
                Severity::Breaking,
                id,
                ": ",
                format!(
                    "type {} → {}",
                    field_text(was, "type"),
                    field_text(now, "type")
                ),
            );
        }
        if let (Some(a), Some(b)) = (
            was.get("rate").and_then(number),
            now.get("rate").and_then(number),
        ) {
            if a != b {
                let pct = if a.is_zero() {
                    Decimal::from(100)
                } else {
                    ((b - a) * Decimal::from(100) / a).round_dp(2)
                };
                let severity = if b > a && pct > max_rate_increase {
                    Severity::Breaking
                } else {
                    Severity::Compatible
                };
                push(
                    severity,
                    id,
                    ": ",
                    format!(
                        "rate {a} → {b} ({}{pct}%)",
                        if pct.is_sign_positive() { "+" } else { "" }
                    ),
                );
            }
        }
        for (field, tighter) in [("min", true), ("max", false)] {
            if let (Some(a), Some(b)) = (
                was.get(field).and_then(number),
                now.get(field).and_then(number),
            ) {
                if a != b {
                    let breaking = if tighter { b > a } else { b < a };
                    push(
                        if breaking {
                            Severity::Breaking
                        } else {
                            Severity::Compatible
                        },
                        id,
                        ": ",
                        format!("{field} {a} → {b}"),
                    );
                }
            }
        }
        for flag in SERVICE_FLAGS {
            match (was.get(flag), now.get(flag)) {
                (Some(Value::Bool(true)), Some(Value::Bool(false))) => {
                    push(Severity::Breaking, id, ": ", format!("{flag} withdrawn"))
                }
                (Some(Value::Bool(false)), Some(Value::Bool(true))) => {
                    push(Severity::Compatible, id, ": ", format!("{flag} offered"))
                }
                _ => {}
            }
        }
        // Every other difference: a field missing, a type changed, a value
        // that is no longer a number, any other value changed.
        for (field, old_value) in was {
            let Some(new_value) = now.get(field) else {
                let severity = if drift::may_be_missing(Shape::Service, field) {
                    Severity::Drift
                } else if SERVICE_FIELDS.contains(&field.as_str()) {
                    Severity::Breaking
                } else {
                    Severity::Compatible
                };
                push(severity, id, ": ", format!("{field} missing"));
                continue;
            };
            let (old_type, new_type) = (JsonType::of(old_value), JsonType::of(new_value));
            let numeric = numeric(field);
            if old_type != new_type {
                let severity = if type_drift(
                    Some(Shape::Service),
                    field,
                    &Types::one(old_type),
                    &Types::one(new_type),
                ) && (!numeric || number(new_value).is_some())
                {
                    Severity::Drift
                } else {
                    Severity::Breaking
                };
                push(
                    severity,
                    id,
                    ": ",
                    format!("{field} {old_type} → {new_type}"),
                );
            } else if numeric
                && number(old_value).is_some()
                && number(new_value).is_none_or(|n| n.is_sign_negative())
            {
                push(
                    Severity::Breaking,
                    id,
                    ": ",
                    format!(
                        "{field} {} → {} (not a number ≥ 0)",
                        text(old_value),
                        text(new_value)
                    ),
                );
            } else if !SERVICE_FIELDS.contains(&field.as_str()) && old_value != new_value {
                push(Severity::Compatible, id, ": ", format!("{field} changed"));
            }
        }
    }
    for (key, now) in &after {
        if !before.contains_key(key) {
            let id = key.id();
            push(
                Severity::Compatible,
                id,
                " ",
                format!("added ({})", field_text(now, "name")),
            );
        }
    }
    changes
}

/// Compares two snapshots. `max_rate_increase` (percent): a rate rising by
/// more is breaking, by less compatible.
pub fn diff(old: &Snapshot, new: &Snapshot, max_rate_increase: Decimal) -> Vec<Change> {
    let mut changes = service_changes(old, new, max_rate_increase);
    let mut push = |area: &'static str, severity: Severity, what: String| {
        changes.push(Change::new(area, severity, what))
    };

    // Shapes.
    for (shape, was) in &old.shapes {
        let contract = contract_shape(shape);
        let Some(now) = new.shapes.get(shape) else {
            push(
                "shapes",
                Severity::Breaking,
                format!("{shape}: no longer answered in this form"),
            );
            continue;
        };
        for (field, old_kind) in was {
            match now.get(field) {
                None if contract.is_some_and(|s| drift::may_be_missing(s, field)) => push(
                    "shapes",
                    Severity::Drift,
                    format!("{shape}.{field} removed"),
                ),
                None => push(
                    "shapes",
                    Severity::Breaking,
                    format!("{shape}.{field} removed"),
                ),
                Some(new_kind) if new_kind != old_kind => {
                    let severity = if type_drift(contract, field, old_kind, new_kind) {
                        Severity::Drift
                    } else {
                        Severity::Breaking
                    };
                    push(
                        "shapes",
                        severity,
                        format!("{shape}.{field}: {old_kind} → {new_kind}"),
                    );
                }
                Some(_) => {}
            }
        }
        for field in now.keys().filter(|f| !was.contains_key(*f)) {
            let severity = if contract.is_some_and(|s| drift::named_extra(s, field)) {
                Severity::Drift
            } else {
                Severity::Compatible
            };
            push("shapes", severity, format!("{shape}.{field} added"));
        }
    }
    for shape in new.shapes.keys().filter(|s| !old.shapes.contains_key(*s)) {
        push(
            "shapes",
            Severity::Breaking,
            format!("{shape}: a new form of answer"),
        );
    }

    // Status values.
    for status in new.statuses.iter().filter(|s| !old.statuses.contains(s)) {
        let severity = if OrderStatus::parse(status).is_some() {
            Severity::Compatible
        } else if drift_spelling(status) {
            Severity::Drift
        } else {
            Severity::Breaking
        };
        push("statuses", severity, format!("status `{status}` seen"));
    }

    // Errors.
    // A request only one side made (an older snapshot asked one this
    // version no longer sends, such as an `add`) is not compared.
    for (request, was) in old
        .errors
        .iter()
        .filter(|(r, _)| new.errors.contains_key(*r))
    {
        let now = new.errors.get(request);
        if now != Some(was) {
            let severity = match now {
                Some(now) if now.is_plain_error() && !was.is_no_error() => Severity::Compatible,
                _ => Severity::Breaking,
            };
            let now = now.map(ToString::to_string).unwrap_or_default();
            push(
                "errors",
                severity,
                format!("{request}: {:?} → {now:?}", was.to_string()),
            );
        }
    }

    // Content types.
    if old.content_types != new.content_types {
        push(
            "content_types",
            Severity::Breaking,
            format!(
                "content types {:?} → {:?}",
                old.content_types, new.content_types
            ),
        );
    }

    // The bulk limit.
    if old.bulk_limit != new.bulk_limit {
        let severity = match (old.bulk_limit, new.bulk_limit) {
            (BulkLimit::Error, BulkLimit::First100) => Severity::Drift,
            (_, BulkLimit::Error) => Severity::Compatible,
            _ => Severity::Breaking,
        };
        push(
            "bulk_limit",
            severity,
            format!("101 ids: {} → {}", old.bulk_limit, new.bulk_limit),
        );
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{BulkLimit, FORMAT, VERSION};

    fn snapshot(services: Vec<Value>) -> Snapshot {
        Snapshot {
            format: FORMAT.into(),
            version: VERSION,
            target: "t".into(),
            services,
            shapes: BTreeMap::new(),
            statuses: Vec::new(),
            errors: BTreeMap::new(),
            bulk_limit: BulkLimit::Error,
            orders: Vec::new(),
            content_types: Vec::new(),
        }
    }

    #[test]
    fn services_are_reported_by_number_then_text() {
        let ids = [
            serde_json::json!(10),
            serde_json::json!("abc"),
            serde_json::json!(2),
            serde_json::json!(1),
        ];
        let catalogue = |name: &str| -> Vec<Value> {
            ids.iter()
                .map(|id| serde_json::json!({"service": id, "name": format!("{name} {id}")}))
                .collect()
        };
        let changes = diff(
            &snapshot(catalogue("old")),
            &snapshot(catalogue("new")),
            Decimal::MAX,
        );
        let said: Vec<&str> = changes
            .iter()
            .map(|c| c.what.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            said,
            ["service 1", "service 2", "service 10", "service abc"]
        );
    }

    #[test]
    fn the_same_change_to_several_services_is_one_group_at_its_first_place() {
        let catalogue = |rate: Value, two: &str| -> Vec<Value> {
            [1, 2, 10]
                .into_iter()
                .map(|id| {
                    let name = if id == 2 { two } else { "same" };
                    serde_json::json!({"service": id, "name": name, "rate": rate})
                })
                .collect()
        };
        let old = snapshot(catalogue(serde_json::json!("1.50"), "two"));
        let new = snapshot(catalogue(serde_json::json!(1.5), "deux"));
        let changes = diff(&old, &new, Decimal::MAX);
        assert_eq!(changes.len(), 4, "{changes:?}");
        let groups = group(&changes);
        let said: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.what.as_str(),
                    g.services.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            said,
            [
                ("rate string → number", vec!["1", "2", "10"]),
                ("service 2: name \"two\" → \"deux\"", vec!["2"]),
            ]
        );
        assert!(groups
            .iter()
            .all(|g| g.severity == Severity::Drift || g.severity == Severity::Compatible));
        let alone = group(&diff(
            &old,
            &snapshot(catalogue(serde_json::json!("1.50"), "deux")),
            Decimal::MAX,
        ));
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].what, "service 2: name \"two\" → \"deux\"");
    }

    #[test]
    fn services_without_a_name_or_a_type_are_compared_not_a_panic() {
        let old = snapshot(vec![
            serde_json::json!({"service": 1}),
            serde_json::json!({"service": 2, "type": "Default"}),
        ]);
        let new = snapshot(vec![
            serde_json::json!({"service": 2}),
            serde_json::json!({"service": 3}),
        ]);
        let changes = diff(&old, &new, Decimal::MAX);
        let said: Vec<(Severity, &str)> = changes
            .iter()
            .map(|c| (c.severity, c.what.as_str()))
            .collect();
        assert!(
            said.contains(&(Severity::Breaking, "service 1 removed ((none))")),
            "{said:?}"
        );
        assert!(
            said.contains(&(Severity::Breaking, "service 2: type Default → (none)")),
            "{said:?}"
        );
        assert!(
            said.contains(&(Severity::Compatible, "service 3 added ((none))")),
            "{said:?}"
        );
    }
}
