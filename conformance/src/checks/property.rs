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
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use smm_contract::{field, Action, BULK_LIMIT};

use super::{Ctx, UNKNOWN_ID};
use crate::client::{Client, Exchange, Method, TransportError};
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
                (field::KEY.to_owned(), key.to_owned()),
                (field::ACTION.to_owned(), action.to_owned()),
            ]
        };
        match self {
            Probe::Single(order) => {
                let mut f = with_key(Action::Status.as_str());
                f.push((field::ORDER.into(), order.clone()));
                f
            }
            Probe::Bulk(items) => {
                let mut f = with_key(Action::Status.as_str());
                f.push((field::ORDERS.into(), items.join(",")));
                f
            }
            Probe::BadKey {
                key,
                action,
                fields,
            } => {
                let mut f = Vec::new();
                if let Some(key) = key {
                    f.push((field::KEY.to_owned(), key.clone()));
                }
                f.push((field::ACTION.to_owned(), action.clone()));
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

/// Why the model refuses a case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The request got no answer: the case could not be checked.
    #[error("no answer: {0}")]
    NoAnswer(TransportError),
    /// The answer is not in the class the model gives the request.
    #[error("{0}")]
    Answer(String),
}

impl From<String> for Mismatch {
    fn from(why: String) -> Mismatch {
        Mismatch::Answer(why)
    }
}

/// What the model says of one answer: `Ok`, or why it is wrong.
fn judge_probe(
    client: &Client,
    probe: &Probe,
    known: &BTreeSet<String>,
    exchange: &Exchange,
) -> Result<(), Mismatch> {
    let brief = |value: &Value| super::brief(client, value, 300);
    let answer = match &exchange.answer {
        Ok(answer) => answer,
        Err(e) => return Err(Mismatch::NoAnswer(e.clone())),
    };
    let Some(value) = &answer.json else {
        return Err(Mismatch::Answer(format!(
            "the answer is not JSON: {}",
            client.excerpt(&String::from_utf8_lossy(&answer.body), 200)
        )));
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
                    "status of `{order}` is not an error object: {}",
                    brief(value)
                )
                .into())
            }
        }
        Probe::Bulk(items) => {
            let joined = items.join(",");
            let distinct = field::distinct_ids(&joined);
            if distinct.is_empty() {
                return if is_error || value.as_object().is_some_and(|o| o.is_empty()) {
                    Ok(())
                } else {
                    Err(format!("no id: expected an error, got {}", brief(value)).into())
                };
            }
            if distinct.len() > BULK_LIMIT {
                return if is_error || truncated(value, &distinct) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} distinct ids: expected a top-level error, got {} answers",
                        distinct.len(),
                        value.as_object().map_or(0, |o| o.len())
                    )
                    .into())
                };
            }
            tolerant(Kind::StatusBulk, value)?;
            let object = value
                .as_object()
                .ok_or_else(|| Mismatch::Answer("not an object".into()))?;
            let got: BTreeSet<&str> = object.keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = distinct.iter().copied().collect();
            if got != want {
                return Err(
                    format!("{} answers for {} distinct ids", got.len(), want.len()).into(),
                );
            }
            for (id, item) in object {
                if known.contains(id.as_str()) == schema::is_error(item) {
                    return Err(format!("id `{id}` answered {}", brief(item)).into());
                }
            }
            Ok(())
        }
        Probe::BadKey { .. } | Probe::UnknownAction(_) => {
            if is_error {
                Ok(())
            } else {
                Err(format!("expected an error object, got {}", brief(value)).into())
            }
        }
    }
}

fn truncated(value: &Value, distinct: &[&str]) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == BULK_LIMIT
            && o.keys()
                .all(|k| distinct[..BULK_LIMIT].contains(&k.as_str()))
    })
}

fn tolerant(kind: Kind, value: &Value) -> Result<(), Mismatch> {
    match schema::read(kind, value) {
        schema::Reading::Broken(errors) => Err(Mismatch::Answer(format!(
            "not a valid {}: {}",
            kind.name(),
            errors.join("; ")
        ))),
        _ => Ok(()),
    }
}

/// The same request with plain ids: each distinct id that is not one of
/// the key's orders (huge numbers, junk, padding) becomes its own unknown
/// id (`UNKNOWN_ID` + its place), blanks and known ids stay. `None` when
/// nothing would change.
fn plainer(probe: &Probe, known: &BTreeSet<String>) -> Option<Probe> {
    let mut names: Vec<String> = Vec::new();
    let mut plain = |item: &String| -> String {
        let trimmed = item.trim();
        if trimmed.is_empty() || known.contains(trimmed) {
            return item.clone();
        }
        let at = names.iter().position(|n| n == trimmed).unwrap_or_else(|| {
            names.push(trimmed.to_owned());
            names.len() - 1
        });
        (UNKNOWN_ID + at as u64).to_string()
    };
    let simpler = match probe {
        Probe::Single(item) => Probe::Single(plain(item)),
        Probe::Bulk(items) => Probe::Bulk(items.iter().map(&mut plain).collect()),
        _ => return None,
    };
    let same = match (probe, &simpler) {
        (Probe::Single(a), Probe::Single(b)) => a == b,
        (Probe::Bulk(a), Probe::Bulk(b)) => a == b,
        _ => false,
    };
    (!same).then_some(simpler)
}

/// The 32 bytes of a proptest RNG seed drawn from `--seed`.
pub fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    bytes
}

/// How many generated cases are sent as one batch: the requests of a batch
/// go out `--concurrency` at a time, and a batch is judged in generation
/// order, so the first failure is the same whatever the timing.
const BATCH: u32 = 128;

/// The longest a failure is shrunk, in requests.
const MAX_SHRINK: u32 = 256;

/// Sends the cases in windows of `--concurrency` (the requests of a window at
/// once), judges each answer, and stops after the first window with a
/// failure: the index of the first failing case and why. How many requests
/// go out depends only on the verdicts, never on timing, so a run is the same
/// request for request (with a width of 1, nothing is sent past the failure).
/// No window starts past the run's deadline.
async fn first_failure(
    ctx: &Ctx,
    key: &str,
    known: &Arc<BTreeSet<String>>,
    probes: Vec<Probe>,
) -> Window {
    let probes = Arc::new(probes);
    let width = ctx.concurrency.max(1);
    for start in (0..probes.len()).step_by(width) {
        if ctx.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Window::Late;
        }
        let mut window = tokio::task::JoinSet::new();
        let mut cases = std::collections::HashMap::new();
        for i in start..(start + width).min(probes.len()) {
            let (client, key, known, probes) = (
                ctx.client.clone(),
                key.to_owned(),
                Arc::clone(known),
                Arc::clone(&probes),
            );
            let task = window.spawn(async move {
                let exchange = client.send(Method::Form, probes[i].fields(&key)).await;
                judge_probe(&client, &probes[i], &known, &exchange)
            });
            cases.insert(task.id(), i);
        }
        let mut failures = Vec::new();
        while let Some(joined) = window.join_next_with_id().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((id, Err(why))) => failures.push((cases[&id], why)),
                // A case that panicked is a case that failed.
                Err(e) => failures.push((
                    cases[&e.id()],
                    Mismatch::Answer(format!("the case stopped: {e}")),
                )),
            }
        }
        if let Some((i, why)) = failures.into_iter().min_by_key(|(i, _)| *i) {
            return Window::Failed(i, why);
        }
    }
    Window::Passed
}

/// What a batch of cases gave.
enum Window {
    /// Every case in its class.
    Passed,
    /// The first case out of its class (by index), and why.
    Failed(usize, Mismatch),
    /// The run's deadline passed before every case was sent.
    Late,
}

/// How a property ended.
enum Found {
    /// Every case in its class.
    Nothing,
    /// A case out of its class, shrunk: the minimal probe and why.
    Failure(Probe, Mismatch),
    /// The property could not go on.
    Stopped(String),
}

/// Generates, sends and judges the cases; shrinks the first failure.
/// Generation and shrinking run on this (blocking) thread, the requests on
/// the runtime.
fn explore(
    ctx: &Ctx,
    handle: &tokio::runtime::Handle,
    strategy: &BoxedStrategy<Probe>,
    id: &'static str,
) -> Found {
    let known: Arc<BTreeSet<String>> =
        Arc::new(ctx.known_orders.iter().map(u64::to_string).collect());
    let key = ctx.client.target().key.clone();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: ctx.cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(ctx.seed)),
    );
    let past_deadline = || ctx.deadline.is_some_and(|d| std::time::Instant::now() >= d);
    let mut sent = 0;
    while sent < ctx.cases {
        ctx.step(id, sent.into(), ctx.cases.into(), "cases");
        if past_deadline() {
            return Found::Stopped("the run timeout passed".into());
        }
        let n = BATCH.min(ctx.cases - sent);
        // Each case's generator is kept, not its value tree (large, and
        // needed only to shrink the one case that fails: it is made again).
        let mut rngs = Vec::with_capacity(n as usize);
        let mut probes = Vec::with_capacity(n as usize);
        for _ in 0..n {
            // As proptest's runner does: each case from a fresh seed drawn
            // from the runner's, so the same seed gives the same cases.
            let case_rng = runner.new_rng();
            rngs.push(case_rng.clone());
            *runner.rng() = case_rng;
            match strategy.new_tree(&mut runner) {
                Ok(tree) => probes.push(tree.current()),
                Err(why) => return Found::Stopped(format!("no case could be generated: {why}")),
            }
        }
        let first = match handle.block_on(first_failure(ctx, &key, &known, probes)) {
            Window::Passed => None,
            Window::Failed(i, why) => Some((i, why)),
            Window::Late => return Found::Stopped("the run timeout passed".into()),
        };
        if let Some((i, mut why)) = first {
            // Shrinking as proptest's runner does: simplify while the case
            // fails, complicate when it passes, at most MAX_SHRINK requests.
            *runner.rng() = rngs.swap_remove(i);
            let mut tree = match strategy.new_tree(&mut runner) {
                Ok(tree) => tree,
                Err(why) => return Found::Stopped(format!("no case could be generated: {why}")),
            };
            let mut tries = 0;
            if tree.simplify() {
                loop {
                    if tries >= MAX_SHRINK || past_deadline() {
                        while tree.complicate() {}
                        break;
                    }
                    tries += 1;
                    let probe = tree.current();
                    let exchange =
                        handle.block_on(ctx.client.send(Method::Form, probe.fields(&key)));
                    match judge_probe(&ctx.client, &probe, &known, &exchange) {
                        Err(failure) => {
                            why = failure;
                            if !tree.simplify() {
                                break;
                            }
                        }
                        Ok(()) => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
            // Then plainer ids than the shrinker reaches (one request more,
            // past its budget): a failure that needs many distinct ids
            // keeps them, but as small ones.
            let mut found = tree.current();
            if let Some(plain) = plainer(&found, &known) {
                if !past_deadline() {
                    let exchange =
                        handle.block_on(ctx.client.send(Method::Form, plain.fields(&key)));
                    if let Err(failure) = judge_probe(&ctx.client, &plain, &known, &exchange) {
                        why = failure;
                        found = plain;
                    }
                }
            }
            return Found::Failure(found, why);
        }
        sent += n;
    }
    Found::Nothing
}

async fn run(
    ctx: Arc<Ctx>,
    strategy: fn(Vec<u64>) -> BoxedStrategy<Probe>,
    id: &'static str,
    what: &'static str,
) -> Verdict {
    let handle = tokio::runtime::Handle::current();
    let worker = Arc::clone(&ctx);
    let found = tokio::task::spawn_blocking(move || {
        let strategy = strategy(worker.known_orders.clone());
        explore(&worker, &handle, &strategy, id)
    })
    .await;
    let key = ctx.client.target().key.clone();
    match found {
        Ok(Found::Nothing) => Verdict::pass(format!(
            "{} cases of {what}, each in the expected class (seed {})",
            ctx.cases, ctx.seed
        )),
        Ok(Found::Failure(probe, why)) => {
            let reason = why.to_string().replace(['\n', '\r'], " ");
            let request = ctx.client.curl(&Exchange {
                method: Method::Form,
                fields: probe.fields(&key),
                answer: Err(TransportError::Timeout),
            });
            let outcome = match why {
                Mismatch::NoAnswer(_) => Outcome::Error,
                Mismatch::Answer(_) => Outcome::Fail,
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
        Ok(Found::Stopped(why)) => Verdict::with(
            Outcome::Error,
            format!("{what}: {why} (seed {})", ctx.seed),
            Vec::new(),
        ),
        Err(e) => Verdict::with(
            Outcome::Error,
            format!("the property runner stopped: {e}"),
            Vec::new(),
        ),
    }
}

/// `property.status`: generated status and bulk status requests.
pub async fn status(ctx: Arc<Ctx>) -> Verdict {
    run(ctx, status_probe, "property.status", "status requests").await
}

/// `property.invalid`: generated requests with bad keys or unknown actions.
pub async fn invalid(ctx: Arc<Ctx>) -> Verdict {
    run(
        ctx,
        |_| invalid_probe(),
        "property.invalid",
        "invalid requests",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plainer_ids_keep_the_distinct_count_and_the_known_ones() {
        let known: BTreeSet<String> = ["23501".to_owned()].into_iter().collect();
        let items = [
            "7714525091528699226365966768701112160",
            " 23501",
            "x/y",
            "",
            "x/y",
        ]
        .map(String::from)
        .to_vec();
        let Some(Probe::Bulk(plain)) = plainer(&Probe::Bulk(items), &known) else {
            panic!("a plainer probe");
        };
        let u = UNKNOWN_ID;
        assert_eq!(
            plain,
            [
                u.to_string(),
                " 23501".into(),
                (u + 1).to_string(),
                String::new(),
                (u + 1).to_string()
            ]
        );
        let already = Probe::Bulk(vec![u.to_string(), "23501".into()]);
        assert!(plainer(&already, &known).is_none());
    }
}
