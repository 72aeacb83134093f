//! The catalogue of checks, and the run: prepare the context, run the
//! checks (independent ones concurrently, the ones that watch the balance one
//! at a time, the transport ones last), and collect one record per check.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::SERVICE_FLAGS;
use tokio::sync::Semaphore;

use crate::checks::{self, Ctx, Service};
use crate::outcome::{CheckResult, Outcome, Verdict, INTERRUPTED};
use crate::stop::Stop;

/// When a check may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Alongside the other concurrent checks.
    Concurrent,
    /// Alone: it reads the balance before and after.
    Alone,
    /// After everything else: it reads what the run observed.
    Last,
}

type Run = fn(Arc<Ctx>) -> Pin<Box<dyn Future<Output = Verdict> + Send>>;

/// One check of the catalogue.
#[derive(Clone, Copy)]
pub struct Check {
    /// Stable, hierarchical id.
    pub id: &'static str,
    /// The contract section it enforces.
    pub section: &'static str,
    /// What it checks.
    pub title: &'static str,
    /// When it runs.
    pub phase: Phase,
    /// The check.
    pub run: Run,
}

impl Check {
    /// This check's record, for `verdict`.
    fn result(&self, verdict: Verdict, duration: Duration) -> CheckResult {
        CheckResult {
            id: self.id,
            section: self.section,
            title: self.title,
            outcome: verdict.outcome,
            message: verdict.message,
            evidence: verdict.evidence,
            duration,
        }
    }
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("id", &self.id).finish()
    }
}

macro_rules! check {
    ($id:literal, $section:literal, $phase:ident, $title:literal, $f:path) => {
        Check {
            id: $id,
            section: $section,
            title: $title,
            phase: Phase::$phase,
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}

/// Every check, in report order.
pub fn catalogue() -> Vec<Check> {
    use checks::*;
    vec![
        check!("services.schema", "§2, §3", Concurrent, "services answers a list that follows schemas/services.schema.json", catalog::schema),
        check!("services.unique-ids", "§3", Concurrent, "no service id is listed twice", catalog::unique_ids),
        check!("services.min-max", "§3", Concurrent, "min ≤ max for every service", catalog::min_max),
        check!("services.rate", "§3", Concurrent, "every rate is a decimal ≥ 0", catalog::rate),
        check!("services.types", "§2.1", Concurrent, "every service type is one of §2.1 (others warn)", catalog::types),
        check!("services.flags", "§3", Concurrent, "every service has boolean dripfeed, refill and cancel flags", catalog::flags),
        check!("balance.schema", "§2, §3", Concurrent, "balance answers a decimal string and a currency", catalog::balance),
        check!("auth.wrong-key", "§1, §4", Concurrent, "every action with a wrong key answers an error and nothing else", auth::wrong_key),
        check!("auth.empty-key", "§1, §4", Concurrent, "every action with an empty key answers an error and nothing else", auth::empty_key),
        check!("auth.missing-key", "§1, §4", Concurrent, "every action without a key answers an error and nothing else", auth::missing_key),
        check!("request.unknown-action", "§4", Concurrent, "an unknown action answers an error", auth::unknown_action),
        check!("request.missing-action", "§4", Concurrent, "a request without an action answers an error", auth::missing_action),
        check!("add.unknown-service", "§2.1, §4", Concurrent, "add for a service that does not exist answers an error", auth::unknown_service),
        check!("status.unknown-order", "§2, §4", Concurrent, "status of an unknown or malformed order id answers an error", auth::unknown_order),
        check!("refill.unknown", "§2, §4", Concurrent, "refill and refill_status of unknown ids answer errors", auth::unknown_refill),
        check!("bulk.status.sizes", "§5", Concurrent, "bulk status with 1, 2 and 100 ids answers once per id", bulk::sizes),
        check!("bulk.status.per-id-errors", "§5", Concurrent, "a bad id gets its own error object and never fails the batch", bulk::per_id_errors),
        check!("bulk.status.duplicates", "§5", Concurrent, "a repeated id is answered once", bulk::duplicates),
        check!("bulk.status.whitespace", "§5", Concurrent, "spaces and blanks in the id list are tolerated", bulk::whitespace),
        check!("bulk.status.over-limit", "§5", Concurrent, "101 and 150 ids answer one top-level error (tolerant: or exactly the first 100)", bulk::status_over_limit),
        check!("bulk.lists", "§2, §5", Concurrent, "bulk refill, refill_status and cancel answer a list with one item per id", bulk::lists),
        check!("bulk.lists.over-limit", "§5", Concurrent, "bulk refill, refill_status and cancel refuse 101 and 150 ids", bulk::others_over_limit),
        check!("property.status", "§2, §3, §5", Concurrent, "generated status and bulk status requests answer in the model's class", property::status),
        check!("property.invalid", "§1, §4", Concurrent, "generated requests with bad keys or unknown actions answer errors", property::invalid),
        check!("money.charge", "§3", Alone, "an order is charged rate × quantity / 1000, on the balance and in its status", money::charge),
        check!("money.refund-canceled", "§3", Alone, "a canceled order, watched to Canceled, shows charge 0 and is refunded in full", money::refund_canceled),
        check!("money.refund-partial", "§3", Alone, "an order watched to Partial is refunded for what was not delivered", money::refund_partial),
        check!("money.dripfeed", "§2.1, §3", Alone, "a drip-feed order costs rate × quantity × runs / 1000; runs without drip-feed are refused", money::dripfeed),
        check!("money.concurrency", "§3", Alone, "orders placed at once lower the balance by exactly their charges, with distinct ids", money::concurrency),
        check!("money.funds", "§3, §4", Alone, "a key without enough funds (--second-key) is refused an order past its balance, which never goes below zero", money::funds),
        check!("refill.flow", "§2, §3", Alone, "a Completed order of a refill service is refilled; the refill, watched to its end, answers in its shapes and enum", refill::flow),
        check!("refill.refused", "§2, §3", Alone, "refills of unfinished orders and of services without refill are refused and change nothing", refill::refused_refills),
        check!("cancel.refused", "§2, §3", Alone, "a cancel on a service without cancel is refused and changes nothing", refill::refused_cancel),
        check!("isolation.cross-key", "§2, §4", Alone, "a second key can neither see nor touch the first key's orders and refills", money::cross_key),
        check!("property.lifecycle", "§2, §3", Alone, "generated sequences of add, status, cancel, refill and refill_status follow the model of orders, refills and money", stateful::lifecycle),
        check!("rejected.no-charge", "§4", Alone, "refused requests leave the balance as it was", money::no_charge),
        check!("add.validation", "§2.1, §4", Alone, "invalid orders (missing fields, out of range, drip-feed not offered) are refused and cost nothing", money::validation),
        check!("lifecycle.transitions", "§3", Last, "every order of the run moved only forward, remains never grew, final states stayed", lifecycle::transitions),
        check!("money.ledger", "§3", Last, "the balance at the end is the balance at the start less every order's final charge", money::ledger),
        check!("transport.get", "§1", Last, "GET with a query string is answered like POST (information: warn only)", transport::get),
        check!("transport.json-body", "§1", Last, "a JSON body is answered like a form (information: warn only)", transport::json_body),
        check!("transport.trailing-slash", "§1", Last, "/api/v2/ is served like /api/v2, never redirected", transport::trailing_slash),
        check!("transport.content-type", "§1", Last, "every answer is Content-Type application/json", transport::content_type),
        check!("transport.http-200", "§1", Last, "every answer, errors included, is HTTP 200", transport::http_200),
        check!("transport.timeouts", "§1", Last, "every request is answered within the timeout", transport::timeouts),
        check!("transport.rate-limit", "§1, §6.6", Last, "no HTTP 429 (met: warn, and retried within the timeout)", transport::rate_limit),
        check!("transport.connection", "§1", Last, "no connection is refused, reset or closed before its answer", transport::connection),
    ]
}

/// Which checks to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these ids or id prefixes (`bulk` = every `bulk.*`); empty: all.
    pub only: Vec<String>,
    /// Not these ids or id prefixes.
    pub skip: Vec<String>,
}

fn matches(id: &str, pattern: &str) -> bool {
    id == pattern || id.starts_with(&format!("{pattern}."))
}

impl Selection {
    /// Whether check `id` is selected.
    pub fn selects(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| matches(id, p)))
            && !self.skip.iter().any(|p| matches(id, p))
    }
}

/// Reads the catalogue tolerantly into services (drift is
/// reported by the services checks; here it only has to be usable).
pub fn services_of(value: Option<&Value>) -> Vec<Service> {
    let raw: Vec<Value> = value.and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(Value::Array(items)) =
        value.map(|v| crate::schema::normalize(crate::schema::Kind::Services, v.clone()))
    else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let flags_known = raw.get(i).is_some_and(|r| {
                SERVICE_FLAGS
                    .iter()
                    .all(|f| r.get(*f).is_some_and(Value::is_boolean))
            });
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(Service {
                id: item.get("service")?.as_u64()?,
                kind: text("type").unwrap_or_default(),
                rate: text("rate")?.parse::<Decimal>().ok()?,
                min: text("min")?.parse().ok()?,
                max: text("max")?.parse().ok()?,
                dripfeed: item
                    .get("dripfeed")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                refill: item.get("refill").and_then(Value::as_bool).unwrap_or(false),
                cancel: item.get("cancel").and_then(Value::as_bool).unwrap_or(false),
                flags_known,
            })
        })
        .collect()
}

/// What a progress line hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A check ended.
    Ended {
        /// Checks done.
        done: usize,
        /// Checks in all.
        total: usize,
        /// Its id.
        id: &'static str,
        /// How it ended.
        outcome: Outcome,
    },
    /// A long check moved on (a property's cases, an order watched).
    Step {
        /// Its id.
        id: &'static str,
        /// Units done.
        done: u64,
        /// Units in all.
        of: u64,
        /// What a unit is (`cases`, `s`).
        unit: &'static str,
    },
}

/// A callback told of each event.
pub type OnEvent = dyn Fn(Event) + Send + Sync;

/// Told of each check as it ends, and of long checks as they move on.
#[derive(Clone)]
pub struct Progress(pub Arc<OnEvent>);

impl Progress {
    /// Tells of `event`.
    pub fn tell(&self, event: Event) {
        (self.0)(event);
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Runs the selected checks with `concurrency` at most at once; a check
/// still running when `deadline` passes is recorded as Error.
pub async fn run(
    ctx: Arc<Ctx>,
    selection: &Selection,
    concurrency: usize,
    deadline: Duration,
    progress: Option<Progress>,
    stop: &Stop,
) -> Vec<CheckResult> {
    let checks: Vec<Check> = catalogue()
        .into_iter()
        .filter(|c| selection.selects(c.id))
        .collect();
    let total = checks.len();
    let mut done = 0;
    let mut tell = |id: &'static str, outcome: Outcome| {
        done += 1;
        if let Some(p) = &progress {
            p.tell(Event::Ended {
                done,
                total,
                id,
                outcome,
            });
        }
    };
    let mut verdicts: Vec<Option<(Verdict, Duration)>> = vec![None; checks.len()];
    let started = tokio::time::Instant::now();
    let end = started + deadline;

    // Phase 1: the independent checks, concurrently. Permits are taken in
    // catalogue order before each check starts, so checks start in the same
    // order every run (with --concurrency 1 they run one after the other).
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let concurrent: Vec<usize> = (0..checks.len())
        .filter(|&i| checks[i].phase == Phase::Concurrent)
        .collect();
    let mut next = concurrent.into_iter().peekable();
    loop {
        if (next.peek().is_none() && tasks.is_empty()) || stop.is_asked() {
            break;
        }
        tokio::select! {
            permit = Arc::clone(&gate).acquire_owned(), if next.peek().is_some() => {
                let (Ok(permit), Some(i)) = (permit, next.next()) else { break };
                let ctx = Arc::clone(&ctx);
                let run = checks[i].run;
                tasks.spawn(async move {
                    let started = std::time::Instant::now();
                    // A check that panics is recorded as an Error, with the
                    // panic; abandoned (timeout, Ctrl-C), it is aborted too.
                    let check = tokio::spawn(run(ctx));
                    let _abandoned = AbortOnDrop(check.abort_handle());
                    let verdict = check.await.unwrap_or_else(stopped);
                    drop(permit);
                    (i, verdict, started.elapsed())
                });
            }
            joined = tasks.join_next(), if !tasks.is_empty() => {
                if let Some(Ok((i, verdict, took))) = joined {
                    tell(checks[i].id, verdict.outcome);
                    verdicts[i] = Some((verdict, took));
                }
            }
            () = tokio::time::sleep_until(end) => break,
            () = stop.asked() => break,
        }
    }
    tasks.abort_all();

    // Phases 2 and 3: one at a time.
    for phase in [Phase::Alone, Phase::Last] {
        for (i, check) in checks.iter().enumerate().filter(|(_, c)| c.phase == phase) {
            if stop.is_asked() {
                break;
            }
            let started = std::time::Instant::now();
            // Spawned, so that a check that panics is an Error, not the run's end.
            let mut running = tokio::spawn((check.run)(Arc::clone(&ctx)));
            tokio::select! {
                joined = tokio::time::timeout_at(end, &mut running) => match joined {
                    Ok(joined) => {
                        let verdict = joined.unwrap_or_else(stopped);
                        tell(check.id, verdict.outcome);
                        verdicts[i] = Some((verdict, started.elapsed()));
                    }
                    Err(_) => running.abort(),
                },
                () = stop.asked() => running.abort(),
            }
        }
    }

    let interrupted = stop.is_asked();
    checks
        .iter()
        .zip(verdicts)
        .map(|(check, verdict)| {
            let (verdict, duration) = verdict.unwrap_or_else(|| {
                let verdict = if interrupted {
                    Verdict::skip(format!("{INTERRUPTED} (Ctrl-C or SIGTERM)"))
                } else {
                    Verdict::with(
                        Outcome::Error,
                        format!("not finished within the run timeout ({deadline:?})"),
                        Vec::new(),
                    )
                };
                (verdict, deadline)
            });
            check.result(verdict, duration)
        })
        .collect()
}

/// The verdict of a check that panicked (or was cancelled): an Error, saying so.
fn stopped(e: tokio::task::JoinError) -> Verdict {
    Verdict::with(
        Outcome::Error,
        format!("the check stopped: {e}"),
        Vec::new(),
    )
}

/// Aborts a task when dropped: a check abandoned stops sending.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The records of checks that did not run: every selected check with
/// `outcome` and the reason.
pub fn not_run(selection: &Selection, outcome: Outcome, why: &str) -> Vec<CheckResult> {
    catalogue()
        .into_iter()
        .filter(|c| selection.selects(c.id))
        .map(|c| c.result(Verdict::with(outcome, why, Vec::new()), Duration::ZERO))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_hierarchical() {
        let mut seen = std::collections::HashSet::new();
        for check in catalogue() {
            assert!(seen.insert(check.id), "{} twice", check.id);
            assert!(
                check.id.contains('.')
                    && check.id.bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'.'
                        || b == b'-'),
                "{}",
                check.id
            );
            assert!(check.section.starts_with('§'), "{}", check.id);
        }
    }

    #[test]
    fn selection_takes_ids_and_prefixes() {
        let s = Selection {
            only: vec!["bulk".into()],
            skip: vec!["bulk.status.over-limit".into()],
        };
        assert!(s.selects("bulk.status.sizes"));
        assert!(!s.selects("bulk.status.over-limit"));
        assert!(!s.selects("services.schema"));
        assert!(!s.selects("bulkhead.x"));
    }
}
