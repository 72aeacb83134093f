//! Driving orders on any panel with nothing but its API: placing them
//! (within the budget, into the ledger), polling them, and watching them to
//! their end with a bounded budget of time (`--watch`).
//!
//! Orders ask for an outcome with a word in their link (`complete`,
//! `partial`, `cancel`, `refill`): a test panel or sandbox can honour it
//! (the mock's default fixture does); `--link TEMPLATE` adapts the link to a
//! panel that validates links.

use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::{field, Action, OrderStatus, RefillStatus};

use super::{judge, price, Ctx, Findings, Service};
use crate::client::Exchange;
use crate::ledger::{Entry, Sighting};
use crate::outcome::{Outcome, Verdict};
use crate::schema::Kind;

/// The link template when none is given: `{word}` is the outcome the order
/// hopes for, `{num}` the order's number in the run (no two links alike).
pub const DEFAULT_LINK: &str = "https://example.com/smm-conformance/{word}-{num}";

/// The outcome an order's link asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    /// Delivered in full (`Completed`).
    Complete,
    /// Delivered in part (`Partial`).
    Partial,
    /// Kept running, so that it can be canceled.
    Cancel,
    /// Delivered in full, then refilled.
    Refill,
}

impl Word {
    /// The word as links carry it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Word::Complete => "complete",
            Word::Partial => "partial",
            Word::Cancel => "cancel",
            Word::Refill => "refill",
        }
    }
}

/// The longest a watch polls, whatever its time budget.
const MAX_POLLS: usize = 200;
/// The first wait between two polls that saw no change; it doubles up to
/// [`LONGEST_WAIT`], and starts again after a change.
const FIRST_WAIT: Duration = Duration::from_millis(100);
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// An order to place.
#[derive(Debug, Clone, Copy)]
pub struct NewOrder<'a> {
    /// Its service (a `Default` one: link and quantity).
    pub service: &'a Service,
    /// Its quantity.
    pub quantity: u64,
    /// Drip-feed runs (sent with `interval=5`).
    pub runs: Option<u32>,
    /// What its link asks for.
    pub word: Word,
}

impl NewOrder<'_> {
    /// What it should cost: rate × quantity × runs / 1000.
    pub fn cost(&self) -> Decimal {
        let runs = Decimal::from(self.runs.unwrap_or(1));
        price(self.service.rate, self.quantity)
            .checked_mul(runs)
            .unwrap_or(Decimal::MAX)
    }
}

/// An order placed.
#[derive(Debug, Clone)]
pub struct Placed {
    /// Its id.
    pub id: u64,
    /// What it should cost, unrounded.
    pub cost: Decimal,
}

/// How a watch ended.
#[derive(Debug, Clone)]
pub enum Watched {
    /// The order reached a final status (or the one asked for): its answer
    /// (tolerant reading) and the exchange.
    Reached(OrderStatus, Value, Box<Exchange>),
    /// Still running when the watch's budget ran out: its last status.
    Running(String),
    /// A status answer could not be read (the findings say why).
    Unreadable,
}

impl Watched {
    /// The Skip of a check that needed the order to end.
    pub fn skip(&self, id: u64, watch: Duration) -> Verdict {
        let last = match self {
            Watched::Running(last) => last.as_str(),
            _ => "unreadable",
        };
        Verdict::skip(format!(
            "order {id} was still {last} after --watch {}: the checks that needed it to end did not run",
            watch_text(watch)
        ))
    }
}

/// `--watch` as the user wrote it: `60s`, `0.5s`.
pub fn watch_text(watch: Duration) -> String {
    format!("{}s", watch.as_secs_f64())
}

/// The wait between polls: none on a mock whose clock the runner moves (or
/// that moves on each poll), none right after a change, else a backoff.
struct Pace {
    wait: Duration,
    deadline: Instant,
    /// Whether the mock's clock moved since the first poll.
    moved: bool,
}

impl Pace {
    fn new(budget: Duration) -> Pace {
        Pace {
            wait: FIRST_WAIT,
            deadline: Instant::now() + budget,
            moved: false,
        }
    }

    /// Waits before the next poll; false when the budget is spent, or when
    /// the mock's clock moved and nothing changed (the order is on its last
    /// step: it will not move again).
    async fn next(&mut self, ctx: &Ctx, changed: bool) -> bool {
        if let Some(admin) = &ctx.admin {
            if !changed && self.moved {
                return false;
            }
            if !ctx.self_moving {
                let _ = crate::admin::advance(&ctx.client, admin, 1).await;
            }
            self.moved = true;
            return Instant::now() < self.deadline;
        }
        if changed {
            self.wait = FIRST_WAIT;
            return Instant::now() < self.deadline;
        }
        if Instant::now() + self.wait > self.deadline {
            return false;
        }
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(LONGEST_WAIT);
        true
    }
}

/// What a single status answer says, for a history.
pub fn sighting_of(ctx: &Ctx, value: &Value, exchange: &Exchange) -> Sighting {
    sighting(ctx, value, exchange, exchange.json())
}

/// What a status answer says, for the ledger.
fn sighting(ctx: &Ctx, value: &Value, exchange: &Exchange, raw: Option<&Value>) -> Sighting {
    // Only numbers are compared: a drifted "Unknown" says nothing.
    let remains = raw.and_then(|r| {
        r["remains"]
            .as_u64()
            .or_else(|| r["remains"].as_str().and_then(|s| s.trim().parse().ok()))
    });
    Sighting {
        status: value["status"].as_str().unwrap_or("").to_owned(),
        remains,
        charge: value["charge"].as_str().map(str::to_owned),
        request: ctx.client.curl(exchange),
        actual: exchange
            .answer
            .as_ref()
            .map(|a| ctx.client.excerpt(&String::from_utf8_lossy(&a.body), 600))
            .unwrap_or_default(),
    }
}

impl Ctx {
    /// The link of the next order, asking for `word`.
    pub fn link(&self, word: Word) -> String {
        let n = self
            .links
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.link
            .replace("{word}", word.as_str())
            .replace("{num}", &n.to_string())
    }

    /// Reserves `cost` of the budget, or the Skip that says what it would
    /// take to run the check.
    pub fn afford(&self, cost: Decimal) -> Result<(), Verdict> {
        if let Some(why) = self.cannot_order() {
            return Err(Verdict::skip(why));
        }
        if self.reserve(cost) {
            return Ok(());
        }
        self.can_afford(cost)
    }

    /// The Skip of a check whose orders, `total` in all, the budget cannot
    /// cover, or `Ok` if it can (nothing reserved: each order reserves its
    /// own when placed). A check that needs several orders asks first, so
    /// that it never spends on the first and skips for the second.
    pub fn can_afford(&self, total: Decimal) -> Result<(), Verdict> {
        if let Some(why) = self.cannot_order() {
            return Err(Verdict::skip(why));
        }
        let left = self.budget_left();
        if total <= left {
            return Ok(());
        }
        Err(Verdict::skip(format!(
            "not enough budget: this needs {}, and --max-spend leaves {} (this check alone needs it raised by {})",
            total.normalize(),
            left.normalize(),
            (total - left).normalize()
        )))
    }

    /// What is left of the budget.
    pub fn budget_left(&self) -> Decimal {
        self.budget.as_ref().map_or(Decimal::ZERO, |b| {
            let b = b.lock().unwrap_or_else(|e| e.into_inner());
            (b.cap - b.spent).max(Decimal::ZERO)
        })
    }

    /// The ledger, locked.
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, crate::ledger::Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Places `order` for `check` within the budget, and writes it in the
    /// ledger. Err: the verdict of a check that could not place it (Skip
    /// for the budget, Error when the panel refused or did not answer, the
    /// findings' verdict when the answer broke its schema).
    pub async fn place(
        &self,
        f: &mut Findings,
        check: &'static str,
        order: NewOrder<'_>,
    ) -> Result<Placed, Verdict> {
        let cost = order.cost();
        self.afford(cost)?;
        let exchange = self.send_add(&order, &self.client.target().key).await;
        self.book(f, check, &order, cost, &exchange)
    }

    /// Sends the `add` of `order` with `key`.
    pub async fn send_add(&self, order: &NewOrder<'_>, key: &str) -> Exchange {
        let mut fields = vec![
            (field::KEY.to_owned(), key.to_owned()),
            (field::ACTION.to_owned(), Action::Add.as_str().to_owned()),
            (field::SERVICE.to_owned(), order.service.id.to_string()),
            (field::LINK.to_owned(), self.link(order.word)),
            (field::QUANTITY.to_owned(), order.quantity.to_string()),
        ];
        if let Some(runs) = order.runs {
            fields.push((field::RUNS.to_owned(), runs.to_string()));
            fields.push((field::INTERVAL.to_owned(), "5".to_owned()));
        }
        self.client.post(fields).await
    }

    /// Reads the answer to the `add` of `order` and writes the order in the
    /// ledger (see [`Ctx::place`]).
    pub fn book(
        &self,
        f: &mut Findings,
        check: &'static str,
        order: &NewOrder<'_>,
        cost: Decimal,
        exchange: &Exchange,
    ) -> Result<Placed, Verdict> {
        if exchange.answer.is_err() {
            self.ledger().unanswered.push(self.client.curl(exchange));
        }
        if let Some(error) = exchange
            .json()
            .filter(|v| crate::schema::is_error(v))
            .and_then(|v| v["error"].as_str())
        {
            return Err(Verdict::with(
                Outcome::Error,
                format!(
                    "the panel refused a valid order on service {} ({error}); a panel that checks links needs --link TEMPLATE",
                    order.service.id
                ),
                Vec::new(),
            ));
        }
        let Some(value) = judge(self, f, exchange, Kind::Add) else {
            return Err(std::mem::take(f).verdict(self.mode, ""));
        };
        let Some(id) = value["order"].as_u64() else {
            return Err(std::mem::take(f).verdict(self.mode, ""));
        };
        self.ledger().orders.push(Entry {
            id,
            service: order.service.id,
            quantity: order.quantity,
            runs: order.runs,
            predicted: cost,
            check,
            placed_by: self.client.curl(exchange),
            seen: Vec::new(),
            refills: Vec::new(),
            overcharge: Decimal::ZERO,
        });
        Ok(Placed { id, cost })
    }

    /// Polls order `id` once; its answer (tolerant reading) and exchange,
    /// written in the ledger.
    pub async fn poll(&self, f: &mut Findings, id: u64) -> Option<(Value, Exchange)> {
        let exchange = self
            .client
            .call(Action::Status, &[(field::ORDER, &id.to_string())])
            .await;
        let value = judge(self, f, &exchange, Kind::Status)?;
        let seen = sighting(self, &value, &exchange, exchange.json());
        let past = self.ledger().get_mut(id).map(|e| e.see(seen));
        self.overspent(past.unwrap_or_default());
        Some((value, exchange))
    }

    /// Polls order `id` until it is final (or `stop` says its status is
    /// the one wanted), at most `--watch` long.
    pub async fn watch(
        &self,
        f: &mut Findings,
        id: u64,
        stop: impl Fn(OrderStatus) -> bool,
    ) -> Watched {
        let mut pace = Pace::new(self.watch);
        let mut last: Option<(String, Option<String>)> = None;
        for _ in 0..MAX_POLLS {
            let Some((value, exchange)) = self.poll(f, id).await else {
                return Watched::Unreadable;
            };
            let text = value["status"].as_str().unwrap_or("").to_owned();
            if let Some(status) = OrderStatus::parse(&text) {
                if status.is_terminal() || stop(status) {
                    return Watched::Reached(status, value, Box::new(exchange));
                }
            }
            let now = (text.clone(), value["remains"].as_str().map(str::to_owned));
            let changed = last.as_ref() != Some(&now);
            last = Some(now);
            if !pace.next(self, changed).await {
                return Watched::Running(text);
            }
        }
        Watched::Running(last.map(|l| l.0).unwrap_or_default())
    }

    /// Polls refill `id` until its status is final, at most `--watch` long;
    /// every status must be in the refill-status enum and follow the one
    /// before. Its last status, when it ended.
    pub async fn watch_refill(&self, f: &mut Findings, id: &str) -> Option<RefillStatus> {
        let mut pace = Pace::new(self.watch);
        let mut last: Option<RefillStatus> = None;
        for _ in 0..MAX_POLLS {
            let exchange = self
                .client
                .call(Action::RefillStatus, &[(field::REFILL, id)])
                .await;
            let value = judge(self, f, &exchange, Kind::RefillStatus)?;
            let status = value["status"].as_str().and_then(RefillStatus::parse)?;
            if let Some(before) = last {
                if !before.may_become(status) {
                    f.fail(
                        &self.client,
                        &exchange,
                        format!("refill {id} went from {before} to {status}"),
                        &format!("a refill status that may follow {before}"),
                    );
                    return None;
                }
            }
            if status.is_terminal() {
                return Some(status);
            }
            let changed = last != Some(status);
            last = Some(status);
            if !pace.next(self, changed).await {
                return None;
            }
        }
        None
    }

    /// Polls every order of the ledger not yet seen final, in bulk, until
    /// all are final or `--watch` has passed. The second time in a run, it
    /// polls them once and waits no more: `--watch` is spent once.
    pub async fn settle(&self, f: &mut Findings) {
        let again = self
            .settled
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        let mut pace = Pace::new(if again { Duration::ZERO } else { self.watch });
        loop {
            let running: Vec<u64> = self
                .ledger()
                .orders
                .iter()
                .filter(|e| !e.is_final())
                .map(|e| e.id)
                .collect();
            if running.is_empty() {
                break;
            }
            let before = self.ledger().summary();
            self.poll_bulk(f, &running).await;
            let changed = self.ledger().summary() != before;
            if !pace.next(self, changed).await {
                break;
            }
        }
    }

    /// Polls `ids` with bulk status (100 at a time), written in the ledger.
    pub async fn poll_bulk(&self, f: &mut Findings, ids: &[u64]) {
        for chunk in ids.chunks(smm_contract::BULK_LIMIT) {
            let list: Vec<String> = chunk.iter().map(u64::to_string).collect();
            let exchange = self
                .client
                .call(Action::Status, &[(field::ORDERS, &list.join(","))])
                .await;
            let Some(value) = judge(self, f, &exchange, Kind::StatusBulk) else {
                continue;
            };
            let raw = exchange.json().cloned().unwrap_or(Value::Null);
            let mut past = Decimal::ZERO;
            let mut ledger = self.ledger();
            for id in chunk {
                let key = id.to_string();
                let item = &value[&key];
                if item.get("status").is_none() {
                    continue;
                }
                let seen = sighting(self, item, &exchange, raw.get(&key));
                if let Some(entry) = ledger.get_mut(*id) {
                    past += entry.see(seen);
                }
            }
            drop(ledger);
            self.overspent(past);
        }
    }

    /// Counts what orders were seen charging past their prediction against
    /// the budget, so that a panel that overcharges cannot make the run
    /// spend past `--max-spend` for long.
    fn overspent(&self, past: Decimal) {
        if past > Decimal::ZERO {
            if let Some(budget) = &self.budget {
                let mut budget = budget.lock().unwrap_or_else(|e| e.into_inner());
                budget.spent = budget.spent.saturating_add(past);
            }
        }
    }
}
