//! The contract as JSON Schema (`schemas/`, embedded), and its two readings.
//!
//! The strict reading is the schema itself. The tolerant reading first undoes
//! the drift of CONTRACT §6 items 1-4 (numbers for strings, string ids, status
//! spelling, `null` start counts, the named missing and extra fields) and then
//! applies the same schema. An answer that fails the strict reading but passes
//! the tolerant one is drift (Warn in tolerant mode, Fail in strict mode); one
//! that fails both is broken.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use smm_contract::drift::{self, Form, Literal, Shape};
use smm_contract::{OrderStatus, RefillStatus};

/// The kinds of answer, one schema each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `services`.
    Services,
    /// `add`.
    Add,
    /// `status`.
    Status,
    /// `status` with `orders`.
    StatusBulk,
    /// `refill`.
    Refill,
    /// `refill` with `orders`.
    RefillBulk,
    /// `refill_status`.
    RefillStatus,
    /// `refill_status` with `refills`.
    RefillStatusBulk,
    /// `cancel`.
    Cancel,
    /// `balance`.
    Balance,
    /// `{"error": …}`.
    Error,
}

impl Kind {
    /// The schema file name, without `.schema.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Services => "services",
            Self::Add => "add",
            Self::Status => "status",
            Self::StatusBulk => "status-bulk",
            Self::Refill => "refill",
            Self::RefillBulk => "refill-bulk",
            Self::RefillStatus => "refill-status",
            Self::RefillStatusBulk => "refill-status-bulk",
            Self::Cancel => "cancel",
            Self::Balance => "balance",
            Self::Error => "error",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::Services => include_str!("../../schemas/services.schema.json"),
            Self::Add => include_str!("../../schemas/add.schema.json"),
            Self::Status => include_str!("../../schemas/status.schema.json"),
            Self::StatusBulk => include_str!("../../schemas/status-bulk.schema.json"),
            Self::Refill => include_str!("../../schemas/refill.schema.json"),
            Self::RefillBulk => include_str!("../../schemas/refill-bulk.schema.json"),
            Self::RefillStatus => include_str!("../../schemas/refill-status.schema.json"),
            Self::RefillStatusBulk => include_str!("../../schemas/refill-status-bulk.schema.json"),
            Self::Cancel => include_str!("../../schemas/cancel.schema.json"),
            Self::Balance => include_str!("../../schemas/balance.schema.json"),
            Self::Error => include_str!("../../schemas/error.schema.json"),
        }
    }

    const ALL: [Kind; 11] = [
        Self::Services,
        Self::Add,
        Self::Status,
        Self::StatusBulk,
        Self::Refill,
        Self::RefillBulk,
        Self::RefillStatus,
        Self::RefillStatusBulk,
        Self::Cancel,
        Self::Balance,
        Self::Error,
    ];
}

fn validators() -> &'static HashMap<Kind, jsonschema::Validator> {
    static CELL: OnceLock<HashMap<Kind, jsonschema::Validator>> = OnceLock::new();
    CELL.get_or_init(|| {
        Kind::ALL
            .into_iter()
            .filter_map(|kind| {
                let schema: Value = serde_json::from_str(kind.source()).ok()?;
                let validator = jsonschema::validator_for(&schema).ok()?;
                Some((kind, validator))
            })
            .collect()
    })
}

/// The errors of `value` against `validator`, each with where it is.
pub fn validation_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    // The first few: an answer of 100,000 bad items has 100,000 errors,
    // and one says what is wrong.
    validator
        .iter_errors(value)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            // A large value is named by its size, not written out: an
            // answer of megabytes makes a message of a line.
            let text = match large(e.instance()) {
                Some(size) => e.masked_with(size).to_string(),
                None => e.to_string(),
            };
            if at.is_empty() {
                text
            } else {
                format!("{at}: {text}")
            }
        })
        .collect()
}

/// How a value too large to quote is named in an error (`None`: quote it).
fn large(value: &Value) -> Option<String> {
    match value {
        Value::Object(o) if o.len() > 20 => Some(format!("an object of {} members", o.len())),
        Value::Array(a) if a.len() > 20 => Some(format!("an array of {} items", a.len())),
        Value::String(s) if s.len() > 200 => Some(format!("a string of {} bytes", s.len())),
        Value::Object(_) | Value::Array(_) if value.to_string().len() > 2000 => {
            Some("a value of over 2,000 bytes".to_owned())
        }
        _ => None,
    }
}

/// The schema errors of `value` as a `kind` (empty: valid).
pub fn errors(kind: Kind, value: &Value) -> Vec<String> {
    match validators().get(&kind) {
        Some(v) => validation_errors(v, value),
        None => vec![format!("schema {} did not compile", kind.name())],
    }
}

/// How an answer reads against the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Valid in the strict reading.
    Conforms,
    /// Invalid strictly, valid once §6 1-4 drift is undone: these strict errors.
    Drift(Vec<String>),
    /// Invalid in both readings: these errors.
    Broken(Vec<String>),
}

/// Reads `value` as a `kind`.
pub fn read(kind: Kind, value: &Value) -> Reading {
    let strict = errors(kind, value);
    if strict.is_empty() {
        return Reading::Conforms;
    }
    let tolerant = errors(kind, &normalize(kind, value.clone()));
    if tolerant.is_empty() {
        Reading::Drift(strict)
    } else {
        Reading::Broken(tolerant)
    }
}

/// Whether a value is the error object: `error` and nothing else.
pub fn is_error(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == 1
            && o.get("error")
                .is_some_and(|e| e.as_str().is_some_and(|s| !s.is_empty()))
    })
}

/// Whether a value looks like an error answer in any spelling a client would
/// take for one (an `error` key).
pub fn mentions_error(value: &Value) -> bool {
    value.as_object().is_some_and(|o| o.contains_key("error"))
}

// ---- the tolerant reading ----

fn literal(literal: Option<Literal>) -> Value {
    match literal {
        Some(Literal::Text(text)) => Value::from(text),
        Some(Literal::Bool(b)) => Value::Bool(b),
        None => Value::Null,
    }
}

/// Undoes, in `object` (a `shape`), every form of the contract's drift table.
fn undo(shape: Shape, object: &mut Map<String, Value>) {
    for row in drift::of(shape) {
        let field = row.field;
        match row.form {
            Form::Number | Form::Integer => {
                if let Some(Value::Number(n)) = object.get(field) {
                    let text = n.to_string();
                    object.insert(field.into(), Value::String(text));
                }
            }
            Form::DigitString => {
                if let Some(n) = object
                    .get(field)
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    object.insert(field.into(), Value::from(n));
                }
            }
            Form::Null | Form::Empty | Form::Unknown => {
                let drifted = match object.get(field) {
                    Some(Value::Null) => row.form == Form::Null,
                    Some(Value::String(s)) if s.is_empty() => row.form == Form::Empty,
                    Some(Value::String(s)) => {
                        row.form == Form::Unknown && s.eq_ignore_ascii_case(drift::UNKNOWN)
                    }
                    _ => false,
                };
                if drifted {
                    object.insert(field.into(), literal(row.literal));
                }
            }
            Form::Missing => {
                object.entry(field).or_insert_with(|| literal(row.literal));
            }
            Form::Extra => {
                let named = match row.literal {
                    None => true,
                    Some(_) => object.get(field) == Some(&literal(row.literal)),
                };
                if named {
                    object.remove(field);
                }
            }
        }
    }
}

fn respell(object: &mut Map<String, Value>, read: impl Fn(&str) -> Option<&'static str>) {
    if let Some(Value::String(s)) = object.get("status") {
        if let Some(canonical) = read(s) {
            object.insert("status".into(), canonical.into());
        }
    }
}

fn order_status(text: &str) -> Option<&'static str> {
    OrderStatus::read_drifted(text).map(OrderStatus::as_str)
}

fn refill_status(text: &str) -> Option<&'static str> {
    RefillStatus::read_drifted(text).map(RefillStatus::as_str)
}

fn status_object(object: &mut Map<String, Value>) {
    undo(Shape::Status, object);
    respell(object, order_status);
}

/// Undoes the drift of CONTRACT §6 items 1-4 (never §6.5 bulk shapes).
pub fn normalize(kind: Kind, mut value: Value) -> Value {
    match (kind, &mut value) {
        (Kind::Services, Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                undo(Shape::Service, item);
            }
        }
        (Kind::Add, Value::Object(o)) => undo(Shape::Add, o),
        (Kind::Balance, Value::Object(o)) => undo(Shape::Balance, o),
        (Kind::Status, Value::Object(o)) => status_object(o),
        (Kind::StatusBulk, Value::Object(o)) => {
            for item in o.values_mut().filter_map(Value::as_object_mut) {
                if !item.contains_key("error") {
                    status_object(item);
                }
            }
        }
        (Kind::Refill, Value::Object(o)) => undo(Shape::Refill, o),
        (Kind::RefillStatus, Value::Object(o)) => respell(o, refill_status),
        (Kind::RefillBulk | Kind::Cancel | Kind::RefillStatusBulk, Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                undo(Shape::ListItem, item);
                respell(item, refill_status);
            }
        }
        _ => {}
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_schema_compiles() {
        for kind in Kind::ALL {
            assert!(validators().contains_key(&kind), "{}", kind.name());
        }
    }

    #[test]
    fn the_three_readings() {
        let ok = json!({"charge": "0.2", "start_count": "1", "status": "In progress", "remains": "1", "currency": "USD"});
        assert_eq!(read(Kind::Status, &ok), Reading::Conforms);
        let drift = json!({"charge": 0.2, "start_count": null, "status": "In Progress", "remains": "Unknown"});
        assert!(matches!(read(Kind::Status, &drift), Reading::Drift(_)));
        let broken = json!({"charge": "0.2", "status": "Exploded", "remains": "1", "currency": "USD", "start_count": "1"});
        assert!(matches!(read(Kind::Status, &broken), Reading::Broken(_)));
        assert!(matches!(
            read(Kind::Add, &json!({"order": "23501"})),
            Reading::Drift(_)
        ));
        assert!(matches!(
            read(Kind::Add, &json!({"status": "success", "order": 1})),
            Reading::Drift(_)
        ));
        assert!(matches!(
            read(Kind::StatusBulk, &json!({"1": "Incorrect order ID"})),
            Reading::Broken(_)
        ));
    }
}
