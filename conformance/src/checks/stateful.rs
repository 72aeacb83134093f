//! `property.lifecycle`: a stateful property. proptest generates sequences
//! of add / status / bulk status / cancel / refill / refill_status; each is
//! played against the panel and judged by a reference model (the orders the
//! sequence placed, their services' flags, the statuses seen and the legal
//! transitions). A failing sequence is shrunk to the shortest that still
//! fails, and printed with its seed as a script of curl commands (the key as
//! `$SMM_API_KEY`) that replays it.
//!
//! Every order is real: each is held against the budget, the property spends
//! at most half of what the budget has left when it starts, and plays at most
//! [`MAX_SEQUENCES`] sequences.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::{field, Action, OrderStatus, RefillStatus};

use super::drive::{NewOrder, Word};
use super::refill::{cheapest, smallest};
use super::{judge, money_matches, Ctx, Findings, Service};
use crate::client::Exchange;
use crate::outcome::{Evidence, Mode, Outcome, Verdict};
use crate::replay::{capture, replace_id};
use crate::schema::{self, Kind};

/// The most sequences the property plays (each places real orders).
pub const MAX_SEQUENCES: u32 = 16;
/// The most steps of a sequence, and adds in one.
const MAX_STEPS: usize = 8;
const MAX_ADDS: usize = 3;
/// The most sequences played while shrinking a failure.
const MAX_SHRINK: u32 = 24;

/// One step of a sequence. Order and refill indices are taken modulo what
/// the sequence has placed so far; a step with nothing to act on does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Places the smallest order of one of the chosen services.
    Add(usize, Word),
    /// Status of one order.
    Status(usize),
    /// Bulk status of some orders.
    Bulk(Vec<usize>),
    /// Cancel of one order (the bulk form, `orders=`).
    Cancel(usize),
    /// Refill of one order.
    Refill(usize),
    /// Status of one refill.
    RefillStatus(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let word = prop::sample::select(vec![
        Word::Complete,
        Word::Partial,
        Word::Cancel,
        Word::Refill,
    ]);
    prop_oneof![
        3 => (0usize..4, word).prop_map(|(s, w)| Step::Add(s, w)),
        3 => (0usize..4).prop_map(Step::Status),
        1 => prop::collection::vec(0usize..4, 1..4).prop_map(Step::Bulk),
        2 => (0usize..4).prop_map(Step::Cancel),
        2 => (0usize..4).prop_map(Step::Refill),
        2 => (0usize..4).prop_map(Step::RefillStatus),
    ]
}

/// Sequences that start with an add and place at most [`MAX_ADDS`] orders.
fn sequences() -> impl Strategy<Value = Vec<Step>> {
    ((0usize..4), prop::collection::vec(step(), 0..MAX_STEPS)).prop_map(|(first, rest)| {
        let mut steps = vec![Step::Add(first, Word::Complete)];
        let mut adds = 1;
        for s in rest {
            if matches!(s, Step::Add(..)) {
                adds += 1;
                if adds > MAX_ADDS {
                    continue;
                }
            }
            steps.push(s);
        }
        steps
    })
}

/// An order of the sequence, as the model knows it.
#[derive(Debug, Clone)]
struct Known {
    id: u64,
    service: Service,
    last: Option<OrderStatus>,
}

/// A refill of the sequence.
#[derive(Debug, Clone)]
struct KnownRefill {
    id: String,
    last: Option<RefillStatus>,
}

/// What a sequence did: its requests, as script lines, and the model.
#[derive(Default)]
struct Play {
    orders: Vec<Known>,
    refills: Vec<KnownRefill>,
    script: Vec<String>,
    /// Adds not sent: the property's allowance would be passed.
    unaffordable: usize,
    /// Whether a request got no answer (then the sequence says nothing of
    /// the model: an Error, not a Fail).
    no_answer: bool,
}

/// The services the property orders from: the cheapest `Default` one, and
/// the cheapest with cancel, with refill, and with neither.
fn services(ctx: &Ctx) -> Vec<Service> {
    let mut list: Vec<Service> = [
        cheapest(ctx, |_| true),
        cheapest(ctx, |s| s.cancel),
        cheapest(ctx, |s| s.refill),
        cheapest(ctx, |s| !s.cancel && !s.refill),
    ]
    .into_iter()
    .flatten()
    .collect();
    list.dedup_by_key(|s| s.id);
    list
}

/// Why a step broke the model.
type Broken = String;

impl Play {
    /// A script line for `exchange`: the curl command, with each id the
    /// sequence was given replaced by its shell variable.
    fn line(&mut self, ctx: &Ctx, exchange: &Exchange, sets: Option<String>) {
        self.no_answer |= exchange.answer.is_err();
        let mut curl = ctx.client.curl(exchange);
        for (i, o) in self.orders.iter().enumerate() {
            curl = replace_id(&curl, &o.id.to_string(), &format!("$O{}", i + 1));
        }
        for (i, r) in self.refills.iter().enumerate() {
            curl = replace_id(&curl, &r.id, &format!("$R{}", i + 1));
        }
        // Each answer is printed; an id the sequence goes on with is kept
        // in its variable.
        let slot = if sets.as_deref().is_some_and(|v| v.starts_with('O')) {
            "order"
        } else {
            "refill"
        };
        self.script.push(match sets {
            Some(var) => capture(&curl, &var, slot),
            None => format!("{curl}; echo"),
        });
    }

    /// Judges a status answer of order `index` against the model.
    fn status_of(&mut self, index: usize, item: &Value) -> Result<(), Broken> {
        let known = &mut self.orders[index];
        let text = item["status"].as_str().unwrap_or("");
        let Some(now) = OrderStatus::parse(text) else {
            return Err(format!(
                "order {} answered status `{text}`, outside the enum",
                known.id
            ));
        };
        if let Some(last) = known.last {
            if !last.may_become(now) {
                return Err(format!("order {} went from {last} to {now}", known.id));
            }
        }
        if now == OrderStatus::Canceled
            && !money_matches(item["charge"].as_str().unwrap_or("x"), Decimal::ZERO)
        {
            return Err(format!(
                "canceled order {} shows charge {}",
                known.id, item["charge"]
            ));
        }
        known.last = Some(now);
        Ok(())
    }
}

/// A tolerant reading of `exchange` as `kind`: the value, or why not.
fn read(ctx: &Ctx, exchange: &Exchange, kind: Kind) -> Result<Value, Broken> {
    let mut f = Findings::default();
    match judge(ctx, &mut f, exchange, kind) {
        Some(value) => Ok(value),
        None => Err(f.verdict(Mode::Tolerant, "").message),
    }
}

/// Whether the item for one id of a list answer (or a top-level answer)
/// is an error.
fn refused(value: &Value, slot: &str) -> bool {
    schema::is_error(value)
        || value
            .as_array()
            .and_then(|items| items.first())
            .is_some_and(|item| schema::is_error(&item[slot]))
}

/// Plays one sequence; the first step that breaks the model, if any.
async fn play(
    ctx: &Ctx,
    services: &[Service],
    steps: &[Step],
    allowance: &mut Decimal,
) -> (Play, Option<Broken>) {
    let mut p = Play::default();
    for step in steps {
        if let Err(why) = one(ctx, services, step, allowance, &mut p).await {
            return (p, Some(why));
        }
    }
    // What still runs and can be canceled is canceled, so that no order of
    // the property runs on past the run.
    for o in p.orders.clone() {
        if o.service.cancel && !o.last.is_some_and(OrderStatus::is_terminal) {
            let _ = ctx
                .client
                .call(Action::Cancel, &[(field::ORDERS, &o.id.to_string())])
                .await;
        }
    }
    (p, None)
}

async fn one(
    ctx: &Ctx,
    services: &[Service],
    step: &Step,
    allowance: &mut Decimal,
    p: &mut Play,
) -> Result<(), Broken> {
    let order_at = |p: &Play, i: usize| (!p.orders.is_empty()).then(|| i % p.orders.len());
    match step {
        Step::Add(s, word) => {
            let service = &services[s % services.len()];
            // A cancel word on a service without cancel would run for ever.
            let word = if *word == Word::Cancel && !service.cancel {
                Word::Complete
            } else {
                *word
            };
            let order = NewOrder {
                word,
                ..smallest(service, word)
            };
            let cost = order.cost();
            if cost > *allowance || ctx.afford(cost).is_err() {
                p.unaffordable += 1;
                return Ok(());
            }
            *allowance -= cost;
            let exchange = ctx.send_add(&order, &ctx.client.target().key).await;
            let mut f = Findings::default();
            let booked = ctx.book(&mut f, "property.lifecycle", &order, cost, &exchange);
            let var = format!("O{}", p.orders.len() + 1);
            let placed = match booked {
                Ok(placed) => placed,
                Err(verdict) => {
                    p.line(ctx, &exchange, None);
                    return Err(format!("add: {}", verdict.message));
                }
            };
            if p.orders.iter().any(|o| o.id == placed.id) {
                p.line(ctx, &exchange, None);
                return Err(format!(
                    "add answered order {}, an id it gave before",
                    placed.id
                ));
            }
            p.orders.push(Known {
                id: placed.id,
                service: service.clone(),
                last: None,
            });
            p.line(ctx, &exchange, Some(var));
        }
        Step::Status(i) => {
            let Some(i) = order_at(p, *i) else {
                return Ok(());
            };
            let mut f = Findings::default();
            let polled = ctx.poll(&mut f, p.orders[i].id).await;
            let Some((value, exchange)) = polled else {
                let verdict = f.verdict(Mode::Tolerant, "");
                p.no_answer |= verdict.outcome == Outcome::Error;
                return Err(verdict.message);
            };
            p.line(ctx, &exchange, None);
            p.status_of(i, &value)?;
        }
        Step::Bulk(list) => {
            let Some(_) = order_at(p, 0) else {
                return Ok(());
            };
            let mut indices: Vec<usize> = list.iter().map(|i| i % p.orders.len()).collect();
            indices.sort_unstable();
            indices.dedup();
            let ids: Vec<String> = indices
                .iter()
                .map(|&i| p.orders[i].id.to_string())
                .collect();
            let exchange = ctx
                .client
                .call(Action::Status, &[(field::ORDERS, &ids.join(","))])
                .await;
            p.line(ctx, &exchange, None);
            let value = read(ctx, &exchange, Kind::StatusBulk)?;
            for (&i, id) in indices.iter().zip(&ids) {
                let item = &value[id];
                if schema::is_error(item) {
                    return Err(format!(
                        "bulk status: order {id} of this key answered {}",
                        super::brief(&ctx.client, item, 300)
                    ));
                }
                p.status_of(i, item)?;
            }
        }
        Step::Cancel(i) => {
            let Some(i) = order_at(p, *i) else {
                return Ok(());
            };
            let o = p.orders[i].clone();
            let exchange = ctx
                .client
                .call(Action::Cancel, &[(field::ORDERS, &o.id.to_string())])
                .await;
            p.line(ctx, &exchange, None);
            let value = read(ctx, &exchange, Kind::Cancel)?;
            if !refused(&value, "cancel") {
                if !o.service.cancel {
                    return Err(format!(
                        "cancel of order {} of service {} (cancel: false) accepted",
                        o.id, o.service.id
                    ));
                }
                if let Some(last) = o.last.filter(|s| s.is_terminal()) {
                    return Err(format!(
                        "cancel of order {}, already {last}, accepted",
                        o.id
                    ));
                }
            }
        }
        Step::Refill(i) => {
            let Some(i) = order_at(p, *i) else {
                return Ok(());
            };
            let o = p.orders[i].clone();
            let exchange = ctx
                .client
                .call(Action::Refill, &[(field::ORDER, &o.id.to_string())])
                .await;
            let value = match read(ctx, &exchange, Kind::Refill) {
                Ok(value) => value,
                Err(_) if exchange.json().is_some_and(schema::is_error) => {
                    p.line(ctx, &exchange, None);
                    return Ok(());
                }
                Err(why) => {
                    p.line(ctx, &exchange, None);
                    return Err(why);
                }
            };
            let id = value["refill"].as_str().unwrap_or("").to_owned();
            p.line(ctx, &exchange, Some(format!("R{}", p.refills.len() + 1)));
            if !o.service.refill {
                return Err(format!(
                    "refill of order {} of service {} (refill: false) accepted",
                    o.id, o.service.id
                ));
            }
            if !matches!(o.last, Some(OrderStatus::Completed | OrderStatus::Partial)) {
                // The model may be behind the panel: ask.
                let mut f = Findings::default();
                if let Some((value, exchange)) = ctx.poll(&mut f, o.id).await {
                    p.line(ctx, &exchange, None);
                    p.status_of(i, &value)?;
                }
                let now = p.orders[i].last;
                if !matches!(now, Some(OrderStatus::Completed | OrderStatus::Partial)) {
                    return Err(format!(
                        "refill of order {} accepted while it is {}",
                        o.id,
                        now.map_or("unread", OrderStatus::as_str)
                    ));
                }
            }
            if let Some(entry) = ctx.ledger().get_mut(o.id) {
                entry.refills.push(id.clone());
            }
            p.refills.push(KnownRefill { id, last: None });
        }
        Step::RefillStatus(j) => {
            if p.refills.is_empty() {
                return Ok(());
            }
            let j = j % p.refills.len();
            let id = p.refills[j].id.clone();
            let exchange = ctx
                .client
                .call(Action::RefillStatus, &[(field::REFILL, &id)])
                .await;
            p.line(ctx, &exchange, None);
            let value = read(ctx, &exchange, Kind::RefillStatus)?;
            let text = value["status"].as_str().unwrap_or("");
            let Some(now) = RefillStatus::parse(text) else {
                return Err(format!(
                    "refill {id} answered status `{text}`, outside the enum"
                ));
            };
            if let Some(last) = p.refills[j].last {
                if !last.may_become(now) {
                    return Err(format!("refill {id} went from {last} to {now}"));
                }
            }
            p.refills[j].last = Some(now);
        }
    }
    Ok(())
}

/// `property.lifecycle`. Generation and shrinking run on a blocking thread
/// (proptest's value trees stay on one thread), the requests on the runtime.
pub async fn lifecycle(ctx: Arc<Ctx>) -> Verdict {
    if let Some(why) = ctx.cannot_order() {
        return Verdict::skip(why);
    }
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || explore(&ctx, &handle))
        .await
        .unwrap_or_else(|e| {
            Verdict::with(
                Outcome::Error,
                format!("the property runner stopped: {e}"),
                Vec::new(),
            )
        })
}

fn explore(ctx: &Ctx, handle: &tokio::runtime::Handle) -> Verdict {
    let services = services(ctx);
    if services.is_empty() {
        return Verdict::skip("no Default service with its flags listed to order from");
    }
    let mut allowance = ctx.budget_left() / Decimal::TWO;
    let sequences_n = ctx.cases.min(MAX_SEQUENCES);
    let strategy = sequences();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: sequences_n,
            failure_persistence: None,
            ..Config::default()
        },
        // Its own stream of the seed: not the request properties' cases.
        TestRng::from_seed(
            RngAlgorithm::ChaCha,
            &super::property::seed_bytes(ctx.seed.rotate_left(17)),
        ),
    );
    let (mut placed, mut skipped) = (0, 0);
    for n in 0..sequences_n {
        ctx.step(
            "property.lifecycle",
            n.into(),
            sequences_n.into(),
            "sequences",
        );
        if ctx.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Verdict::with(
                Outcome::Error,
                "property.lifecycle: the run timeout passed",
                Vec::new(),
            );
        }
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            return Verdict::with(Outcome::Error, "no sequence could be generated", Vec::new());
        };
        let (play_one, broken) =
            handle.block_on(play(ctx, &services, &tree.current(), &mut allowance));
        placed += play_one.orders.len();
        skipped += play_one.unaffordable;
        let Some(mut why) = broken else { continue };
        if play_one.no_answer {
            return Verdict::with(
                Outcome::Error,
                format!(
                    "a request of a sequence got no answer: {why} (seed {})",
                    ctx.seed
                ),
                Vec::new(),
            );
        }
        let mut script = play_one.script;
        // Shrinking: simplify while the sequence still fails, complicate
        // when it passes, at most MAX_SHRINK sequences played.
        let mut tries = 0;
        if tree.simplify() {
            loop {
                if tries >= MAX_SHRINK {
                    break;
                }
                tries += 1;
                let (again, broken) =
                    handle.block_on(play(ctx, &services, &tree.current(), &mut allowance));
                match broken {
                    Some(failure) if !again.no_answer => {
                        why = failure;
                        script = again.script;
                        if !tree.simplify() {
                            break;
                        }
                    }
                    _ => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        let mut text = vec![format!(
            "# property.lifecycle, seed {}: {} (replay with --seed {} --only property.lifecycle)",
            ctx.seed, why, ctx.seed
        )];
        text.extend(script);
        return Verdict::with(
            Outcome::Fail,
            format!(
                "a sequence of {} requests breaks the model: {why} (seed {}; the script below replays it)",
                text.len() - 1,
                ctx.seed
            ),
            vec![Evidence {
                request: text.join("\n"),
                expected: "every answer as the model of the contract says".into(),
                actual: why,
                diff: None,
            }],
        );
    }
    if placed == 0 {
        return Verdict::skip(format!(
            "not enough budget: no order fit in half of what --max-spend left; {skipped} adds not sent"
        ));
    }
    let skipped = if skipped > 0 {
        format!(" ({skipped} adds not sent: past half of what the budget had left)")
    } else {
        String::new()
    };
    Verdict::pass(format!(
        "{sequences_n} sequences, {placed} orders, every answer as the model says (seed {}){skipped}",
        ctx.seed
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_start_with_an_add_and_place_few_orders() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..200 {
            let steps = sequences().new_tree(&mut runner).unwrap().current();
            assert!(matches!(steps[0], Step::Add(..)));
            assert!(steps.iter().filter(|s| matches!(s, Step::Add(..))).count() <= MAX_ADDS);
            assert!(steps.len() <= MAX_STEPS);
        }
    }
}
