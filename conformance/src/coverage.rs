//! Coverage: which actions, service types, order statuses, refill statuses
//! and error messages of the contract the run exercised or observed, and
//! which it never saw. The client notes what each answer showed
//! ([`Noted`]); the report gets the comparison with the contract's lists
//! ([`Coverage`]).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use smm_contract::{field, message, Action, OrderStatus, RefillStatus, ServiceType};

/// What the answers showed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Noted {
    /// Actions sent with the run's key (by name).
    pub actions: BTreeSet<String>,
    /// Services `add` was sent for.
    pub services: BTreeSet<u64>,
    /// Order statuses seen (a drifted spelling as the status it stands for).
    pub order_statuses: BTreeSet<String>,
    /// Refill statuses seen.
    pub refill_statuses: BTreeSet<String>,
    /// Error messages seen.
    pub errors: BTreeSet<String>,
}

impl Noted {
    /// Notes one exchange: its action, and what its answer showed.
    pub fn note(&mut self, fields: &[(String, String)], key: &str, answer: Option<&Value>) {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let own_key = get(field::KEY) == Some(key) && !key.is_empty();
        let Some(action) = get(field::ACTION).and_then(Action::parse) else {
            return;
        };
        if own_key {
            self.actions.insert(action.as_str().to_owned());
            if action == Action::Add {
                if let Some(id) = get(field::SERVICE).and_then(|s| s.trim().parse().ok()) {
                    self.services.insert(id);
                }
            }
        }
        let Some(value) = answer else { return };
        let mut items: Vec<&Value> = vec![value];
        match value {
            Value::Object(o) if action == Action::Status && get(field::ORDERS).is_some() => {
                items.extend(o.values());
            }
            Value::Array(list) => {
                items.extend(list.iter());
                items.extend(
                    list.iter()
                        .filter_map(Value::as_object)
                        .flat_map(|o| o.values()),
                );
            }
            _ => {}
        }
        for item in items {
            if let Some(e) = item.get("error").and_then(Value::as_str) {
                self.errors.insert(e.to_owned());
            }
            let Some(status) = item.get("status").and_then(Value::as_str) else {
                continue;
            };
            match action {
                Action::Status => {
                    let canonical = OrderStatus::parse(status)
                        .or_else(|| OrderStatus::read_drifted(status))
                        .map(OrderStatus::as_str);
                    self.order_statuses
                        .insert(canonical.unwrap_or(status).to_owned());
                }
                Action::RefillStatus => {
                    let canonical = RefillStatus::parse(status)
                        .or_else(|| RefillStatus::read_drifted(status))
                        .map(RefillStatus::as_str);
                    self.refill_statuses
                        .insert(canonical.unwrap_or(status).to_owned());
                }
                _ => {}
            }
        }
    }
}

/// One dimension of coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dimension {
    /// What the run exercised or observed (values outside the contract's
    /// list included).
    pub seen: Vec<String>,
    /// What the contract lists and the run never saw.
    pub never: Vec<String>,
}

impl Dimension {
    fn of<'a>(all: impl IntoIterator<Item = &'a str>, seen: &BTreeSet<String>) -> Dimension {
        let all: Vec<&str> = all.into_iter().collect();
        let mut listed: Vec<String> = all
            .iter()
            .filter(|a| seen.contains(**a))
            .map(|a| (*a).to_owned())
            .collect();
        listed.extend(seen.iter().filter(|s| !all.contains(&s.as_str())).cloned());
        Dimension {
            seen: listed,
            never: all
                .iter()
                .filter(|a| !seen.contains(**a))
                .map(|a| (*a).to_owned())
                .collect(),
        }
    }
}

/// What the run covered of the contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Actions sent with the run's key.
    pub actions: Dimension,
    /// Service types the run sent `add` for.
    pub service_types: Dimension,
    /// Order statuses observed.
    pub order_statuses: Dimension,
    /// Refill statuses observed.
    pub refill_statuses: Dimension,
    /// §4 error messages observed (a quantity message counts with any number).
    pub error_messages: Dimension,
}

impl Coverage {
    /// The coverage of what was `noted`, with `types` the type of each
    /// catalogue service (id, type).
    pub fn of(noted: &Noted, types: &[(u64, String)]) -> Coverage {
        let kinds: BTreeSet<String> = noted
            .services
            .iter()
            .filter_map(|id| types.iter().find(|(s, _)| s == id))
            .map(|(_, t)| t.clone())
            .collect();
        // A message with its number ("Quantity less than minimal 10") counts
        // as its §4 form.
        let errors: BTreeSet<String> = noted
            .errors
            .iter()
            .map(|e| {
                message::ALL
                    .iter()
                    .find(|m| e.starts_with(**m))
                    .map_or_else(|| e.clone(), |m| (*m).to_owned())
            })
            .collect();
        Coverage {
            actions: Dimension::of(Action::ALL.iter().map(|a| a.as_str()), &noted.actions),
            service_types: Dimension::of(ServiceType::ALL.iter().map(|t| t.as_str()), &kinds),
            order_statuses: Dimension::of(
                OrderStatus::ALL.iter().map(|s| s.as_str()),
                &noted.order_statuses,
            ),
            refill_statuses: Dimension::of(
                RefillStatus::ALL.iter().map(|s| s.as_str()),
                &noted.refill_statuses,
            ),
            error_messages: Dimension::of(message::ALL, &errors),
        }
    }

    /// Rewrites every value seen (the report masks secrets with it).
    pub fn rewrite_seen(&mut self, rewrite: impl Fn(&str) -> String) {
        for d in [
            &mut self.actions,
            &mut self.service_types,
            &mut self.order_statuses,
            &mut self.refill_statuses,
            &mut self.error_messages,
        ] {
            for seen in &mut d.seen {
                *seen = rewrite(seen);
            }
        }
    }

    /// The dimensions with their names, in report order.
    pub fn dimensions(&self) -> [(&'static str, &Dimension); 5] {
        [
            ("actions", &self.actions),
            ("service types", &self.service_types),
            ("order statuses", &self.order_statuses),
            ("refill statuses", &self.refill_statuses),
            ("error messages", &self.error_messages),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn statuses_errors_and_actions_are_noted_and_compared_with_the_contract() {
        let mut noted = Noted::default();
        let bulk = serde_json::json!({
            "1": {"status": "In Progress", "charge": "1"},
            "2": {"error": "Incorrect order ID"},
        });
        noted.note(
            &fields(&[("key", "k"), ("action", "status"), ("orders", "1,2")]),
            "k",
            Some(&bulk),
        );
        let refills = serde_json::json!([{"refill": "1", "status": "Done"}]);
        noted.note(
            &fields(&[
                ("key", "other"),
                ("action", "refill_status"),
                ("refills", "1"),
            ]),
            "k",
            Some(&refills),
        );
        noted.note(
            &fields(&[("key", "k"), ("action", "add"), ("service", "3")]),
            "k",
            Some(&serde_json::json!({"error": "Quantity less than minimal 10"})),
        );
        let coverage = Coverage::of(&noted, &[(3, "Default".into())]);
        assert_eq!(
            coverage.actions.seen,
            ["add", "status"],
            "another key's action is not the run's"
        );
        assert_eq!(coverage.order_statuses.seen, ["In progress"]);
        assert_eq!(
            coverage.refill_statuses.seen,
            ["Done"],
            "a status outside the enum is listed"
        );
        assert_eq!(coverage.refill_statuses.never.len(), 4);
        assert_eq!(coverage.service_types.seen, ["Default"]);
        assert_eq!(
            coverage.error_messages.seen,
            ["Incorrect order ID", "Quantity less than minimal"]
        );
    }
}
