//! Property-based checks (proptest): generated requests, each answer must
//! fall in the class a model of the contract expects. A failure shrinks to
//! the minimal request (ids of every length from 0 to 150, unicode, huge
//! numbers, padding) and reports the seed and a curl command that replays
//! it (key masked). Same seed, same target state: same cases.
//!
//! The properties only send requests that cannot spend: status queries, and
//! requests with a bad key or an unknown action. They read answers
//! tolerantly: drift is reported by the other checks, not here.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::Value;
use smm_contract::Action;

use super::{Ctx, UNKNOWN_ID};
use crate::client::{Exchange, TransportError};
use crate::outcome::{Evidence, Outcome, Verdict};
use crate::schema::{self, Kind};

/// A generated request.
#[derive(Debug, Clone)]
pub enum Probe {
    /// `status` with `order=`.
    Single(String),
    /// `status` with `orders=` (the items, joined with commas).
    Bulk(Vec<String>),
    /// Any action, with a bad, empty or no key.
    BadKey {
        /// The key (`None`: no key field).
        key: Option<String>,
        /// The action.
        action: String,
        /// More fields.
        fields: Vec<(String, String)>,
    },
    /// An action that does not exist, with the real key.
    UnknownAction(String),
}

impl Probe {
    fn fields(&self, key: &str) -> Vec<(String, String)> {
        let with_key = |action: &str| {
            vec![
                ("key".to_owned(), key.to_owned()),
                ("action".to_owned(), action.to_owned()),
            ]
        };
        match self {
            Probe::Single(order) => {
                let mut f = with_key("status");
                f.push(("order".into(), order.clone()));
                f
            }
            Probe::Bulk(items) => {
                let mut f = with_key("status");
                f.push(("orders".into(), items.join(",")));
                f
            }
            Probe::BadKey {
                key,
                action,
                fields,
            } => {
                let mut f = Vec::new();
                if let Some(key) = key {
                    f.push(("key".to_owned(), key.clone()));
                }
                f.push(("action".to_owned(), action.clone()));
                f.extend(
                    fields
                        .iter()
                        .filter(|(k, _)| k != "key" && k != "action")
                        .cloned(),
                );
                f
            }
            Probe::UnknownAction(action) => with_key(action),
        }
    }
}

/// An id item of a bulk list or a single `order`: known ids, unknown ids,
/// huge numbers, negatives, junk, padding, blanks.
fn id_item(known: Vec<u64>) -> BoxedStrategy<String> {
    let unknown = (0u64..1000).prop_map(|i| (UNKNOWN_ID + i).to_string());
    let huge = any::<u128>().prop_map(|n| format!("{}", n | (1 << 100)));
    let negative = (1u64..u64::MAX).prop_map(|n| format!("-{n}"));
    let junk = prop_oneof!["[a-zA-Z0-9 ._:/%+-]{0,12}", "\\p{L}{1,6}"];
    let padded =
        (0u64..1000, " {0,3}", " {0,3}").prop_map(|(i, l, r)| format!("{l}{}{r}", UNKNOWN_ID + i));
    if known.is_empty() {
        prop_oneof![4 => unknown, 1 => huge, 1 => negative, 2 => junk, 2 => padded].boxed()
    } else {
        let known = prop::sample::select(known).prop_map(|n| n.to_string());
        prop_oneof![3 => known, 4 => unknown, 1 => huge, 1 => negative, 2 => junk, 2 => padded]
            .boxed()
    }
}

fn status_probe(known: Vec<u64>) -> BoxedStrategy<Probe> {
    prop_oneof![
        1 => id_item(known.clone()).prop_map(Probe::Single),
        3 => prop::collection::vec(id_item(known), 0..150).prop_map(Probe::Bulk),
    ]
    .boxed()
}

fn invalid_probe() -> BoxedStrategy<Probe> {
    let action = prop_oneof![
        prop::sample::select(Action::ALL.to_vec()).prop_map(|a| a.as_str().to_owned()),
        "[a-zA-Z_]{1,14}",
    ];
    let key = prop_oneof![
        Just(None),
        Just(Some(String::new())),
        "[a-z0-9-]{1,40}".prop_map(|k| Some(format!("smm-conformance-{k}")))
    ];
    let field = ("[a-z_]{1,10}", "[ -~]{0,20}");
    let bad_key =
        (key, action, prop::collection::vec(field, 0..5)).prop_map(|(key, action, fields)| {
            Probe::BadKey {
                key,
                action,
                fields,
            }
        });
    let unknown = "[a-z_]{1,14}"
        .prop_filter("not an action", |a| Action::parse(a).is_none())
        .prop_map(Probe::UnknownAction);
    prop_oneof![3 => bad_key, 1 => unknown].boxed()
}

/// What the model says of one answer: `Ok`, or why it is wrong.
fn judge_probe(probe: &Probe, known: &BTreeSet<String>, exchange: &Exchange) -> Result<(), String> {
    let answer = match &exchange.answer {
        Ok(answer) => answer,
        Err(e) => return Err(format!("{NO_ANSWER}{e}")),
    };
    let Some(value) = &answer.json else {
        return Err(format!(
            "the answer is not JSON: {}",
            String::from_utf8_lossy(&answer.body)
                .chars()
                .take(200)
                .collect::<String>()
        ));
    };
    let is_error = schema::is_error(value);
    match probe {
        Probe::Single(order) => {
            if known.contains(order.as_str()) {
                tolerant(Kind::Status, value)
            } else if is_error {
                Ok(())
            } else {
                Err(format!(
                    "status of `{order}` is not an error object: {value}"
                ))
            }
        }
        Probe::Bulk(items) => {
            let joined = items.join(",");
            let mut distinct: Vec<&str> = Vec::new();
            for id in joined.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !distinct.contains(&id) {
                    distinct.push(id);
                }
            }
            if distinct.is_empty() {
                return if is_error || value.as_object().is_some_and(|o| o.is_empty()) {
                    Ok(())
                } else {
                    Err(format!("no id: expected an error, got {value}"))
                };
            }
            if distinct.len() > 100 {
                return if is_error || truncated(value, &distinct) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} distinct ids: expected a top-level error, got {} answers",
                        distinct.len(),
                        value.as_object().map_or(0, |o| o.len())
                    ))
                };
            }
            tolerant(Kind::StatusBulk, value)?;
            let object = value.as_object().ok_or("not an object")?;
            let got: BTreeSet<&str> = object.keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = distinct.iter().copied().collect();
            if got != want {
                return Err(format!(
                    "{} answers for {} distinct ids",
                    got.len(),
                    want.len()
                ));
            }
            for (id, item) in object {
                if known.contains(id.as_str()) == schema::is_error(item) {
                    return Err(format!("id `{id}` answered {item}"));
                }
            }
            Ok(())
        }
        Probe::BadKey { .. } | Probe::UnknownAction(_) => {
            if is_error {
                Ok(())
            } else {
                Err(format!("expected an error object, got {value}"))
            }
        }
    }
}

fn truncated(value: &Value, distinct: &[&str]) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.len() == 100 && o.keys().all(|k| distinct[..100].contains(&k.as_str())))
}

fn tolerant(kind: Kind, value: &Value) -> Result<(), String> {
    match schema::read(kind, value) {
        schema::Reading::Broken(errors) => Err(format!(
            "not a valid {}: {}",
            kind.name(),
            errors.join("; ")
        )),
        _ => Ok(()),
    }
}

/// How a failure that is the transport's, not the panel's answer, begins.
const NO_ANSWER: &str = "no answer: ";

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    bytes
}

async fn run(
    ctx: Arc<Ctx>,
    strategy: fn(Vec<u64>) -> BoxedStrategy<Probe>,
    what: &'static str,
) -> Verdict {
    let handle = tokio::runtime::Handle::current();
    let known: BTreeSet<String> = ctx.known_orders.iter().map(u64::to_string).collect();
    let worker = Arc::clone(&ctx);
    let outcome = tokio::task::spawn_blocking(move || {
        let config = Config {
            cases: worker.cases,
            failure_persistence: None,
            max_shrink_iters: 256,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(worker.seed)),
        );
        let key = worker.client.target().key.clone();
        let strategy = strategy(worker.known_orders.clone());
        let result = runner.run(&strategy, |probe| {
            // Past the run's deadline no request is sent (the case is
            // rejected; enough rejections abort the property as an Error).
            if worker
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
            {
                return Err(TestCaseError::reject("the run timeout passed"));
            }
            let exchange = handle.block_on(worker.client.send("POST", probe.fields(&key)));
            judge_probe(&probe, &known, &exchange).map_err(TestCaseError::fail)
        });
        result.map_err(|e| match e {
            TestError::Fail(reason, probe) => (reason.to_string(), Some(probe), false),
            TestError::Abort(reason) => (reason.to_string(), None, true),
        })
    })
    .await;
    let key = ctx.client.target().key.clone();
    match outcome {
        Ok(Ok(())) => Verdict::pass(format!(
            "{} cases of {what}, each in the expected class (seed {})",
            ctx.cases, ctx.seed
        )),
        Ok(Err((reason, probe, aborted))) => {
            let reason = reason.replace(['\n', '\r'], " ");
            let request = probe
                .map(|p| {
                    ctx.client.curl(&Exchange {
                        method: "POST",
                        fields: p.fields(&key),
                        answer: Err(TransportError::Timeout),
                    })
                })
                .unwrap_or_default();
            let outcome = if aborted || reason.starts_with(NO_ANSWER) {
                Outcome::Error
            } else {
                Outcome::Fail
            };
            Verdict::with(
                outcome,
                format!("{what}: {reason} (seed {}; minimal request below; replay with --seed {} --only this check)", ctx.seed, ctx.seed),
                vec![Evidence {
                    request,
                    expected: "the class the contract's model gives this request".into(),
                    actual: reason,
                    diff: None,
                }],
            )
        }
        Err(e) => Verdict::with(
            Outcome::Error,
            format!("the property runner stopped: {e}"),
            Vec::new(),
        ),
    }
}

/// `property.status`: generated status and bulk status requests.
pub async fn status(ctx: Arc<Ctx>) -> Verdict {
    run(ctx, status_probe, "status requests").await
}

/// `property.invalid`: generated requests with bad keys or unknown actions.
pub async fn invalid(ctx: Arc<Ctx>) -> Verdict {
    run(ctx, |_| invalid_probe(), "invalid requests").await
}
