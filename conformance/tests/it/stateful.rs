//! The stateful checks against a panel the mock did not write: a small,
//! independent panel written here, that keeps its orders Pending for ever
//! (or finishes each at once), ignores the words in links, refuses every
//! cancel and writes money in cents. The runner gets its URL, two keys and a
//! budget, as a panel implementer would give them; what needs an order to
//! end is skipped with the reason, never failed, and the run ends in time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{json, Value};
use smm_conformance::outcome::{Mode, Outcome};
use smm_conformance::{execute, Options};

use crate::support::serve;

/// A service of the panel: id, rate, min, max, refill, cancel.
type Svc = (u64, &'static str, u64, u64, bool, bool);

const SERVICES: [Svc; 2] = [
    (7, "1.20", 100, 1000, true, true),
    (9, "0.50", 10, 500, false, false),
];

/// The panel's state: balances, and orders (key, service, quantity, charge).
#[derive(Default)]
pub(crate) struct Panel {
    balances: BTreeMap<&'static str, Decimal>,
    orders: Vec<(String, u64, u64, Decimal)>,
    refills: Vec<(String, u64)>,
    /// Whether orders are Completed at once (else Pending for ever).
    finish: bool,
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

fn cents(amount: Decimal) -> String {
    format!("{:.2}", amount.round_dp(2))
}

/// The ids of a bulk field: trimmed, blanks dropped, each once.
fn ids(raw: &str) -> Vec<String> {
    let mut list: Vec<String> = Vec::new();
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !list.iter().any(|l| l == id) {
            list.push(id.to_owned());
        }
    }
    list
}

/// An id echoed back: a number when it is one.
fn echoed(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))
}

impl Panel {
    /// How many orders were placed.
    pub(crate) fn placed(&self) -> usize {
        self.orders.len()
    }

    fn order(&self, key: &str, id: &str) -> Option<usize> {
        let index = id.parse::<usize>().ok()?.checked_sub(1000)?;
        self.orders.get(index).filter(|o| o.0 == key).map(|_| index)
    }

    fn status(&self, index: usize) -> Value {
        let (_, _, quantity, charge) = &self.orders[index];
        let (status, remains) = if self.finish {
            ("Completed", 0)
        } else {
            ("Pending", *quantity)
        };
        json!({
            "charge": cents(*charge),
            "start_count": "0",
            "status": status,
            "remains": remains.to_string(),
            "currency": "USD",
        })
    }

    fn refill_one(&mut self, key: &str, id: &str) -> Result<u64, Value> {
        let index = self
            .order(key, id)
            .ok_or_else(|| error("Incorrect order ID"))?;
        let service = SERVICES.iter().find(|s| s.0 == self.orders[index].1);
        if !self.finish || !service.is_some_and(|s| s.4) {
            return Err(error("Order not eligible for refill"));
        }
        self.refills.push((key.to_owned(), index as u64));
        Ok(self.refills.len() as u64)
    }

    fn answer(&mut self, fields: &BTreeMap<String, String>) -> Value {
        let get = |name: &str| fields.get(name).map(String::as_str);
        let Some(key) = get("key").filter(|k| self.balances.contains_key(k)) else {
            return error("Invalid API key");
        };
        let key: &'static str = if key == "fake-key" {
            "fake-key"
        } else {
            "poor-key"
        };
        let bulk = |name: &str| -> Result<Vec<String>, Value> {
            let list = ids(get(name).unwrap_or(""));
            if list.len() > 100 {
                return Err(error("Too many IDs"));
            }
            Ok(list)
        };
        match get("action").unwrap_or("") {
            "services" => Value::Array(
                SERVICES
                    .iter()
                    .map(|(id, rate, min, max, refill, cancel)| {
                        json!({
                            "service": id, "name": format!("Service {id}"), "type": "Default",
                            "category": "Fake", "rate": rate, "min": min.to_string(),
                            "max": max.to_string(), "dripfeed": false, "refill": refill,
                            "cancel": cancel,
                        })
                    })
                    .collect(),
            ),
            "balance" => json!({ "balance": cents(self.balances[key]), "currency": "USD" }),
            "add" => {
                let Some(service) = get("service")
                    .and_then(|s| s.parse::<u64>().ok())
                    .and_then(|id| SERVICES.iter().find(|s| s.0 == id))
                else {
                    return error("Incorrect service ID");
                };
                if get("link").is_none_or(str::is_empty) {
                    return error("Incorrect link");
                }
                let Some(quantity) = get("quantity").and_then(|q| q.parse::<u64>().ok()) else {
                    return error("Incorrect quantity");
                };
                if quantity < service.2 {
                    return error(&format!("Quantity less than minimal {}", service.2));
                }
                if quantity > service.3 {
                    return error(&format!("Quantity more than maximum {}", service.3));
                }
                if get("runs").is_some_and(|r| !r.is_empty() && r != "0") {
                    return error("This service does not support drip-feed");
                }
                let rate: Decimal = service.1.parse().unwrap();
                let charge = (rate * Decimal::from(quantity) / Decimal::from(1000)).round_dp(2);
                let balance = self.balances.get_mut(key).unwrap();
                if *balance < charge {
                    return error("Not enough funds on balance");
                }
                *balance -= charge;
                self.orders
                    .push((key.to_owned(), service.0, quantity, charge));
                json!({ "order": 999 + self.orders.len() })
            }
            "status" => match (get("order"), get("orders")) {
                (Some(id), _) => match self.order(key, id) {
                    Some(index) => self.status(index),
                    None => error("Incorrect order ID"),
                },
                (None, Some(_)) => match bulk("orders") {
                    Ok(list) => Value::Object(
                        list.iter()
                            .map(|id| {
                                let item = match self.order(key, id) {
                                    Some(index) => self.status(index),
                                    None => error("Incorrect order ID"),
                                };
                                (id.clone(), item)
                            })
                            .collect(),
                    ),
                    Err(e) => e,
                },
                _ => error("Incorrect order ID"),
            },
            "cancel" => match bulk("orders").and_then(|list| {
                if list.is_empty() {
                    Err(error("Incorrect order ID"))
                } else {
                    Ok(list)
                }
            }) {
                Ok(list) => Value::Array(
                    list.iter()
                        .map(|id| {
                            let why = match self.order(key, id) {
                                Some(_) => "Order cannot be canceled",
                                None => "Incorrect order ID",
                            };
                            json!({ "order": echoed(id), "cancel": error(why) })
                        })
                        .collect(),
                ),
                Err(e) => e,
            },
            "refill" => match (get("order"), get("orders")) {
                (Some(id), _) => match self.refill_one(key, id) {
                    Ok(refill) => json!({ "refill": refill.to_string() }),
                    Err(e) => e,
                },
                (None, Some(_)) => match bulk("orders") {
                    Ok(list) => Value::Array(
                        list.iter()
                            .map(|id| {
                                let refill =
                                    self.refill_one(key, id).map_or_else(|e| e, |r| json!(r));
                                json!({ "order": echoed(id), "refill": refill })
                            })
                            .collect(),
                    ),
                    Err(e) => e,
                },
                _ => error("Incorrect order ID"),
            },
            "refill_status" => {
                let one = |id: &str| -> Value {
                    let found = id
                        .parse::<usize>()
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .and_then(|n| self.refills.get(n))
                        .filter(|r| r.0 == key);
                    match found {
                        Some(_) => json!("Completed"),
                        None => error("Refill not found"),
                    }
                };
                match (get("refill"), get("refills")) {
                    (Some(id), _) => match one(id) {
                        Value::String(s) => json!({ "status": s }),
                        e => e,
                    },
                    (None, Some(_)) => match bulk("refills") {
                        Ok(list) => Value::Array(
                            list.iter()
                                .map(|id| json!({ "refill": echoed(id), "status": one(id) }))
                                .collect(),
                        ),
                        Err(e) => e,
                    },
                    _ => error("Refill not found"),
                }
            }
            _ => error("Incorrect request"),
        }
    }
}

/// Starts the panel; its URL and state.
pub(crate) fn fake_panel(finish: bool) -> (String, Arc<Mutex<Panel>>) {
    let panel = Arc::new(Mutex::new(Panel {
        balances: [
            ("fake-key", Decimal::from(100)),
            ("poor-key", Decimal::ZERO),
        ]
        .into_iter()
        .collect(),
        finish,
        ..Panel::default()
    }));
    let state = Arc::clone(&panel);
    let addr = serve(move |target, body| {
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let fields: BTreeMap<String, String> = form_urlencoded::parse(body)
            .chain(form_urlencoded::parse(query.as_bytes()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        state.lock().unwrap().answer(&fields).to_string()
    });
    (format!("http://{addr}/api/v2"), panel)
}

async fn run_against(url: String, mode: Mode) -> smm_conformance::Run {
    execute(Options {
        url: Some(url),
        key: Some("fake-key".into()),
        second_key: Some("poor-key".into()),
        allow_orders: true,
        max_spend: Some(Decimal::from(20)),
        watch: Duration::from_secs(1),
        cases: 8,
        mode,
        ..Options::default()
    })
    .await
    .unwrap()
}

fn outcome_of<'a>(run: &'a smm_conformance::Run, id: &str) -> (Outcome, &'a str) {
    let check = run.report.checks.iter().find(|c| c.id == id).unwrap();
    (check.outcome, check.message.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panel_whose_orders_never_end_gets_skips_with_reasons_never_failures() {
    let (url, panel) = fake_panel(false);
    let started = Instant::now();
    let run = run_against(url, Mode::Strict).await;
    let took = started.elapsed();
    let failed: Vec<(&str, &str)> = run
        .report
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        .map(|c| (c.id, c.message.as_str()))
        .collect();
    assert_eq!(failed, Vec::<(&str, &str)>::new());
    for id in ["refill.flow", "money.refund-partial"] {
        let (outcome, message) = outcome_of(&run, id);
        assert_eq!(outcome, Outcome::Skip, "{id}: {message}");
        assert!(
            message.contains("still Pending after --watch 1s"),
            "{id}: {message}"
        );
    }
    let (outcome, message) = outcome_of(&run, "money.refund-canceled");
    assert_eq!(outcome, Outcome::Skip, "{message}");
    assert!(message.contains("Order cannot be canceled"), "{message}");
    assert_eq!(outcome_of(&run, "money.dripfeed").0, Outcome::Skip);
    // What can be judged is: isolation, funds, refusals, the ledger.
    for id in [
        "isolation.cross-key",
        "money.funds",
        "money.charge",
        "money.concurrency",
        "refill.refused",
        "cancel.refused",
        "property.lifecycle",
        "money.ledger",
    ] {
        assert_eq!(
            outcome_of(&run, id).0,
            Outcome::Pass,
            "{id}: {}",
            outcome_of(&run, id).1
        );
    }
    // The report names every order, all still running, and the ledger's
    // message says so; the panel's own books agree with the report's.
    let orders = &run.report.orders;
    let placed = panel.lock().unwrap().orders.len();
    assert_eq!(orders.len(), placed);
    assert!(orders
        .iter()
        .all(|o| o.running && o.status.as_deref() == Some("Pending")));
    assert!(outcome_of(&run, "money.ledger").1.contains("still running"));
    let spent: Decimal = panel.lock().unwrap().orders.iter().map(|o| o.3).sum();
    assert!(spent <= Decimal::from(20), "spent {spent}");
    assert!(took < Duration::from_secs(60), "the run took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panel_that_ignores_link_words_refills_but_never_ends_partial() {
    let (url, _panel) = fake_panel(true);
    let run = run_against(url, Mode::Tolerant).await;
    let (outcome, message) = outcome_of(&run, "money.refund-partial");
    assert_eq!(outcome, Outcome::Skip, "{message}");
    assert!(
        message.contains("ended Completed, not Partial"),
        "{message}"
    );
    let (outcome, message) = outcome_of(&run, "refill.flow");
    assert_eq!(outcome, Outcome::Pass, "{message}");
    assert!(message.contains("ended Completed"), "{message}");
    assert!(run.report.orders.iter().all(|o| !o.running));
    let failed: Vec<&str> = run
        .report
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        .map(|c| c.id)
        .collect();
    assert_eq!(failed, Vec::<&str>::new());
}
