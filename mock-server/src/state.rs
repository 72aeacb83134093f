//! The panel's state and the actions of CONTRACT §2 on it.
//!
//! [`Panel::handle`] is a function of (state, request, rules) → (state,
//! reply): no clock, no randomness, no I/O. Ids come from counters,
//! `start_count` from a hash of the seed and the order id. Every action checks
//! everything before it changes anything, so a refused request changes
//! nothing, and the balance is debited and checked under one `&mut self`, so
//! it never goes negative (unless the rules allow an overdraft, or leave the
//! debit to the caller: [`StaleWrite`]). The [`Rules`] come with each
//! request: the panel knows how a rule can be broken, not which deviation
//! profile breaks it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rust_decimal::Decimal;
use smm_contract::{field, BULK_LIMIT};

use crate::clock::ClockMode;
use crate::error::ApiError;
use crate::fixture::Fixture;
use crate::lifecycle::{ImpossibleStep, OrderStatus, RefillStatus, Step};
use crate::money::MAX_BALANCE;
use crate::reply::{
    BalanceBody, CancelItem, EchoId, Item, RefillItem, RefillStatusItem, Reply, StatusBody,
};
use crate::request::Fields;
use crate::router::{ApiRequest, Call, Ids};
use crate::rules::{Overflow, Rules};
use crate::service::{price_per, Service, ServiceType};

/// An order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Its id (see [`Order::children`] for the ids after it).
    pub id: u64,
    /// Index of the owning account.
    pub account: u32,
    /// Index of the service.
    pub service: u32,
    /// Index of the lifecycle.
    pub lifecycle: u16,
    /// Steps taken along the lifecycle (capped at its last step).
    pub position: u16,
    /// A step that replaced the lifecycle: set by `cancel` and by the admin API.
    pub forced: Option<Step>,
    /// Units delivered and charged in all.
    pub units: u64,
    /// Drip-feed runs (0 without drip-feed).
    pub runs: u32,
    /// The count before delivery.
    pub start_count: u32,
    /// What `add` charged.
    pub charge: Decimal,
    /// What was refunded since (Partial, Canceled).
    pub refunded: Decimal,
    /// The link (for Subscriptions, the username).
    pub link: Box<str>,
    /// Subscription posts and expiry.
    pub subscription: Option<Box<(Option<u32>, Option<String>)>>,
    /// Whether a poll has shown its final status (a panel that re-opens
    /// finished orders re-opens them after that).
    pub shown_final: bool,
}

impl Order {
    /// The child orders it has ids reserved for, right after its own
    /// (`id + 1 ..= id + children`): a drip-feed order's runs, a
    /// subscription's posts (1 when not given); 0 for any other order.
    pub fn children(&self) -> u32 {
        match (self.runs, self.subscription.as_deref()) {
            (0, Some((posts, _))) => posts.unwrap_or(1),
            (runs, _) => runs,
        }
    }
}

/// A refill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refill {
    /// The refilled order's id.
    pub order: u64,
    /// Index of the owning account.
    pub account: u32,
    /// Index of the refill lifecycle.
    pub lifecycle: u16,
    /// Steps taken along it.
    pub position: u16,
}

/// The write an `add` leaves to its caller when debits are not atomic
/// ([`Rules::atomic_debits`]): the account's balance as that `add` read it,
/// minus the charge. Made later, by [`Panel::write_back`], it overwrites
/// whatever was written in between, as a panel that reads, computes and
/// writes the balance without a lock does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleWrite {
    /// Index of the account.
    account: u32,
    /// The balance to write.
    balance: Decimal,
    /// The panel's reset count when it was read: a write from before a reset
    /// is dropped.
    epoch: u64,
}

impl StaleWrite {
    /// The balance it writes.
    pub fn balance(&self) -> Decimal {
        self.balance
    }
}

/// Settings of a panel that are not in the fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PanelOptions {
    /// Seed for `start_count`.
    pub seed: u64,
    /// When orders move.
    pub clock: ClockMode,
}

/// A panel: a fixture brought to life.
#[derive(Debug, Clone)]
pub struct Panel {
    fixture: Arc<Fixture>,
    options: PanelOptions,
    tick: u64,
    keys: Keys,
    balances: Vec<Decimal>,
    orders: Vec<Order>,
    refills: Vec<Refill>,
    /// The id the next order gets.
    next_id: u64,
    /// Indexes of the orders that have steps to go.
    active_orders: BTreeSet<usize>,
    active_refills: BTreeSet<u64>,
    /// Resets so far (see [`StaleWrite`]).
    epoch: u64,
    /// The write the last request left to its caller, if any.
    stale_write: Option<StaleWrite>,
}

/// Why an order cannot be forced into a status. Each says what the order
/// can become instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForceError {
    /// No such order.
    #[error("no order {0}")]
    NoOrder(u64),
    /// A child order: it moves with its parent.
    #[error("order {id} is a child order of {parent}: force its parent")]
    Child {
        /// The child order.
        id: u64,
        /// Its parent.
        parent: u64,
    },
    /// The order has ended: nothing can change it.
    #[error("order {id} is {status} (final): a final order cannot change")]
    Final {
        /// The order.
        id: u64,
        /// Its final status.
        status: OrderStatus,
    },
    /// A move the lifecycle rules forbid, from a status that is not final.
    #[error("order {id} is {} with {}% delivered, so it cannot become {}{}; it can go to: {}", .from.status, .from.delivered, .to, .delivered.map(|d| format!(" with {d}% delivered")).unwrap_or_default(), allowed_from(*.from))]
    Illegal {
        /// The order.
        id: u64,
        /// Where it is.
        from: Step,
        /// The status it was asked to take.
        to: OrderStatus,
        /// The percent delivered it was asked to have, if given.
        delivered: Option<u8>,
    },
    /// A step that cannot be.
    #[error("{0}; from where the order is, it can go to: {1}")]
    Impossible(ImpossibleStep, String),
}

/// What an order on `from` (not final) may be forced into, in words:
/// `In progress, Processing, Canceled (delivered 40-100%), Completed (100%),
/// Partial (40-99%)`.
pub fn allowed_from(from: Step) -> String {
    let d = from.delivered;
    let range = |top: u8| {
        if d >= top {
            format!("{top}%")
        } else {
            format!("{d}-{top}%")
        }
    };
    let mut allowed = Vec::new();
    if from.status == OrderStatus::Pending {
        allowed.push("Pending (0%)".to_owned());
    }
    allowed.push(format!(
        "In progress, Processing, Canceled ({})",
        range(100)
    ));
    allowed.push("Completed (100%)".to_owned());
    if d < 100 {
        allowed.push(format!("Partial ({})", range(99)));
    }
    allowed.join(", ")
}

/// The accounts by key: a short list searched in order (cheaper than
/// hashing the key of every request), or a hash map for a long one.
#[derive(Debug, Clone)]
enum Keys {
    Few(Vec<(Box<str>, u32)>),
    Many(HashMap<String, u32>),
}

impl Keys {
    fn of(fixture: &Fixture) -> Keys {
        let pairs = fixture
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.key.clone(), i as u32));
        if fixture.accounts.len() <= 8 {
            Keys::Few(pairs.map(|(k, i)| (k.into_boxed_str(), i)).collect())
        } else {
            Keys::Many(pairs.collect())
        }
    }

    fn get(&self, key: &str) -> Option<&u32> {
        match self {
            Keys::Few(list) => list.iter().find(|(k, _)| &**k == key).map(|(_, i)| i),
            Keys::Many(map) => map.get(key),
        }
    }
}

/// What an order id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The order at this index.
    Order(usize),
    /// Child order `k` (from 1) of the order at index `parent`.
    Child {
        /// The parent's index.
        parent: usize,
        /// Which child.
        k: u32,
    },
}

/// What a status request found: an order, polled (the step it showed), or
/// a child order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polled {
    Order(usize, Step),
    Child(usize, u32),
}

/// A view of an order for the admin API and tests.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrderView {
    /// Order id.
    pub order: u64,
    /// Owning key.
    pub key: String,
    /// Service id.
    pub service: u64,
    /// Link.
    pub link: String,
    /// Units in all.
    pub units: u64,
    /// Drip-feed runs, 0 without.
    pub runs: u32,
    /// Child order ids reserved after its own (drip-feed runs, subscription
    /// posts): `order + 1 ..= order + children`.
    pub children: u32,
    /// Current status.
    pub status: OrderStatus,
    /// Units not delivered.
    pub remains: u64,
    /// What `add` charged.
    pub charge: String,
    /// What was refunded.
    pub refunded: String,
    /// Lifecycle name.
    pub lifecycle: String,
    /// Step index on it.
    pub step: u16,
}

impl Panel {
    /// A panel in the state the fixture describes.
    pub fn new(fixture: Arc<Fixture>, options: PanelOptions) -> Panel {
        let mut panel = Panel {
            keys: Keys::of(&fixture),
            balances: fixture.accounts.iter().map(|a| a.balance).collect(),
            fixture,
            options,
            tick: 0,
            orders: Vec::new(),
            refills: Vec::new(),
            next_id: 0,
            active_orders: BTreeSet::new(),
            active_refills: BTreeSet::new(),
            epoch: 0,
            stale_write: None,
        };
        panel.next_id = panel.fixture.first_order_id;
        panel.seed_orders();
        panel
    }

    /// Back to the state the fixture describes.
    pub fn reset(&mut self) {
        let epoch = self.epoch.wrapping_add(1);
        *self = Panel::new(Arc::clone(&self.fixture), self.options);
        self.epoch = epoch;
    }

    /// The write the last request handled left to its caller (an `add`
    /// whose debit is not atomic), taken: the caller makes it later with
    /// [`Panel::write_back`].
    pub fn take_stale_write(&mut self) -> Option<StaleWrite> {
        self.stale_write.take()
    }

    /// Makes a write an `add` left to its caller: the account's balance
    /// becomes what that `add` computed, whatever happened since, unless the
    /// panel was reset since.
    pub fn write_back(&mut self, write: StaleWrite) {
        if write.epoch != self.epoch {
            return;
        }
        if let Some(balance) = self.balances.get_mut(write.account as usize) {
            *balance = write.balance;
        }
    }

    fn seed_orders(&mut self) {
        let fixture = Arc::clone(&self.fixture);
        for seed in &fixture.orders {
            let svc = &fixture.services[seed.service];
            let lifecycle = seed
                .lifecycle
                .unwrap_or_else(|| fixture.lifecycle_for(seed.service, &seed.link));
            let last = fixture.lifecycles[lifecycle].last();
            let charge = fixture
                .precision
                .price(svc.rate, seed.quantity, price_per(svc.kind))
                .unwrap_or_default();
            let id = self.next_id;
            self.next_id += 1;
            let mut order = Order {
                id,
                account: seed.account as u32,
                service: seed.service as u32,
                lifecycle: lifecycle as u16,
                position: last as u16,
                forced: None,
                units: seed.quantity,
                runs: 0,
                start_count: self.start_count(id),
                charge,
                refunded: Decimal::ZERO,
                link: seed.link.clone().into_boxed_str(),
                subscription: None,
                shown_final: false,
            };
            // Seeded orders were paid and settled, by the contract's rules,
            // before the panel started: the fixture's balances account for them.
            order.refunded = self.refund_for(&order, self.current_step(&order), Rules::CONTRACT);
            self.orders.push(order);
        }
    }

    /// The fixture this panel serves.
    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    /// The logical clock.
    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// The clock mode.
    pub fn clock_mode(&self) -> ClockMode {
        self.options.clock
    }

    /// The balance of the account with this key.
    pub fn balance(&self, key: &str) -> Option<Decimal> {
        self.keys.get(key).map(|&i| self.balances[i as usize])
    }

    /// Sets the balance of the account with this key; false if there is
    /// none, or the balance is negative or above [`MAX_BALANCE`].
    pub fn set_balance(&mut self, key: &str, balance: Decimal) -> bool {
        match self.keys.get(key) {
            Some(&i) if balance >= Decimal::ZERO && balance <= Decimal::from(MAX_BALANCE) => {
                self.balances[i as usize] = balance;
                true
            }
            _ => false,
        }
    }

    /// The orders placed or seeded so far.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// The refills asked for so far.
    pub fn refills(&self) -> &[Refill] {
        &self.refills
    }

    /// What id `id` names: an order, or a child order of one.
    fn locate(&self, id: u64) -> Option<Target> {
        let index = self.orders.partition_point(|o| o.id <= id).checked_sub(1)?;
        let order = &self.orders[index];
        let k = id - order.id;
        match u32::try_from(k) {
            Ok(0) => Some(Target::Order(index)),
            Ok(k) if k <= order.children() => Some(Target::Child { parent: index, k }),
            _ => None,
        }
    }

    /// What id `id` names, if the account may see it: an order, or a child
    /// order whose run or post has started.
    fn visible(&self, account: u32, id: u64, rules: Rules) -> Option<Target> {
        let target = self.locate(id)?;
        let (index, child) = match target {
            Target::Order(index) => (index, None),
            Target::Child { parent, k } => (parent, Some(k)),
        };
        let order = &self.orders[index];
        let own = order.account == account || !rules.isolate_keys;
        let started = child.is_none_or(|k| k <= self.started(order, self.current_step(order)));
        (own && started).then_some(target)
    }

    /// Index of order `id` if the account may see it; a child order is
    /// refused with `child` (refill and cancel are for the parent).
    fn order_index(
        &self,
        account: u32,
        id: u64,
        rules: Rules,
        child: ApiError,
    ) -> Result<usize, ApiError> {
        match self.visible(account, id, rules) {
            Some(Target::Order(index)) => Ok(index),
            Some(Target::Child { .. }) => Err(child),
            None => Err(ApiError::IncorrectOrder),
        }
    }

    /// The index of the order with id `id` (not a child's).
    fn index_of(&self, id: u64) -> Option<usize> {
        match self.locate(id)? {
            Target::Order(index) => Some(index),
            Target::Child { .. } => None,
        }
    }

    /// How many of an order's child orders have started when it is on
    /// `step`: none while Pending, all once Completed; while it runs, those
    /// delivered and the one delivering; once Partial or Canceled, those
    /// that delivered anything.
    fn started(&self, order: &Order, step: Step) -> u32 {
        if order.children() == 0 {
            return 0;
        }
        let each = (order.units / u64::from(order.children())).max(1);
        let delivered = step.delivered_of(order.units);
        let done = u32::try_from(delivered / each).unwrap_or(u32::MAX);
        let started = match step.status {
            OrderStatus::Pending => 0,
            OrderStatus::Completed => order.children(),
            OrderStatus::InProgress | OrderStatus::Processing => done.saturating_add(1),
            OrderStatus::Partial | OrderStatus::Canceled => {
                done.saturating_add(u32::from(delivered % each > 0))
            }
        };
        started.min(order.children())
    }

    /// The status of child order `k` (from 1) of order `parent`, as its
    /// parent's progress makes it: its share of the units, delivered in
    /// turn; Completed once all of it is, Partial or Canceled where the
    /// parent stopped first. Its charge is its share at the service's rate
    /// (the parent's charge is what the balance paid).
    fn child_body(&self, parent: usize, k: u32) -> StatusBody<'_> {
        let order = &self.orders[parent];
        let step = self.current_step(order);
        let each = (order.units / u64::from(order.children().max(1))).max(1);
        let before = u64::from(k - 1).saturating_mul(each);
        let delivered = step
            .delivered_of(order.units)
            .saturating_sub(before)
            .min(each);
        let status = if delivered == each {
            OrderStatus::Completed
        } else if !step.status.is_terminal() {
            OrderStatus::InProgress
        } else if delivered > 0 {
            OrderStatus::Partial
        } else {
            OrderStatus::Canceled
        };
        let svc = &self.fixture.services[order.service as usize];
        let charged = match status {
            OrderStatus::Canceled => 0,
            OrderStatus::Partial => delivered,
            _ => each,
        };
        let charge = self
            .fixture
            .precision
            .price(svc.rate, charged, price_per(svc.kind))
            .unwrap_or_default();
        StatusBody {
            charge,
            precision: self.fixture.precision,
            start_count: self.start_count(order.id + u64::from(k)),
            status,
            remains: each - delivered,
            currency: &self.fixture.accounts[order.account as usize].currency,
            runs: None,
            posts: None,
            expiry: None,
            orders: None,
            old_orders: false,
        }
    }

    /// Index of refill `id` if the account may see it.
    fn refill_index(&self, account: u32, id: u64, rules: Rules) -> Option<usize> {
        let index = usize::try_from(id.checked_sub(self.fixture.first_refill_id)?).ok()?;
        let visible = self.refills.get(index)?.account == account || !rules.isolate_keys;
        visible.then_some(index)
    }

    /// A deterministic `start_count` for order `id`.
    fn start_count(&self, id: u64) -> u32 {
        (splitmix64(self.options.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 50_000) as u32
    }

    /// The step order `index` is on now.
    pub fn step_of(&self, index: usize) -> Step {
        self.current_step(&self.orders[index])
    }

    /// The step an order is on now.
    fn current_step(&self, order: &Order) -> Step {
        order.forced.unwrap_or_else(|| {
            self.fixture.lifecycles[order.lifecycle as usize].step(order.position as usize)
        })
    }

    /// What is refunded on an order once it is on `step`: everything when
    /// Canceled, the undelivered part when Partial, else nothing (and
    /// nothing where the rules keep a refund).
    fn refund_for(&self, order: &Order, step: Step, rules: Rules) -> Decimal {
        match step.status {
            OrderStatus::Canceled if !rules.refund_canceled => Decimal::ZERO,
            OrderStatus::Canceled => order.charge,
            OrderStatus::Partial if !rules.refund_partial => Decimal::ZERO,
            OrderStatus::Partial => {
                let svc = &self.fixture.services[order.service as usize];
                let delivered = step.delivered_of(order.units);
                let kept = self
                    .fixture
                    .precision
                    .price(svc.rate, delivered, price_per(svc.kind))
                    .unwrap_or(order.charge)
                    .min(order.charge);
                order.charge - kept
            }
            _ => Decimal::ZERO,
        }
    }

    /// Refunds what is due on order `index` and not yet refunded.
    fn settle(&mut self, index: usize, rules: Rules) {
        let order = &self.orders[index];
        let due = self.refund_for(order, self.current_step(order), rules);
        let order = &mut self.orders[index];
        if due > order.refunded {
            let more = due - order.refunded;
            let balance = &mut self.balances[order.account as usize];
            // Balances are capped far below Decimal's range (MAX_BALANCE), so
            // this cannot overflow; if it ever could, nothing changes.
            if let Some(sum) = balance.checked_add(more) {
                *balance = sum;
                order.refunded = due;
            }
        }
    }

    /// Moves order `index` up to `steps` steps along its lifecycle.
    fn advance_order(&mut self, index: usize, steps: u64, rules: Rules) {
        let order = &self.orders[index];
        let last = self.fixture.lifecycles[order.lifecycle as usize].last() as u64;
        if order.forced.is_some() || u64::from(order.position) >= last {
            return;
        }
        let position = (u64::from(order.position) + steps).min(last);
        self.orders[index].position = position as u16;
        if position == last {
            self.active_orders.remove(&index);
            self.settle(index, rules);
        }
    }

    /// Moves refill `index` up to `steps` steps along its lifecycle.
    fn advance_refill(&mut self, index: usize, steps: u64) {
        let refill = &self.refills[index];
        let last = self.fixture.refill_lifecycles[refill.lifecycle as usize].last() as u64;
        let position = (u64::from(refill.position) + steps).min(last);
        self.refills[index].position = position as u16;
        if position == last {
            self.active_refills
                .remove(&(self.fixture.first_refill_id + index as u64));
        }
    }

    /// Advances the clock: every order and refill moves `steps` steps; an
    /// order that ends is settled by `rules`.
    pub fn advance_clock(&mut self, steps: u64, rules: Rules) {
        self.tick = self.tick.saturating_add(steps);
        let active: Vec<usize> = self.active_orders.iter().copied().collect();
        for index in active {
            self.advance_order(index, steps, rules);
        }
        let first = self.fixture.first_refill_id;
        let active: Vec<u64> = self.active_refills.iter().copied().collect();
        for id in active {
            self.advance_refill((id - first) as usize, steps);
        }
    }

    /// Forces order `id` into `status` with `delivered` percent (by default
    /// 100 for Completed, else what it has delivered so far), settled by
    /// `rules`. The move must be legal: no way back from a terminal status,
    /// delivered never goes down.
    pub fn force_status(
        &mut self,
        id: u64,
        status: OrderStatus,
        delivered: Option<u8>,
        rules: Rules,
    ) -> Result<(), ForceError> {
        let index = match self.locate(id) {
            Some(Target::Order(index)) => index,
            Some(Target::Child { parent, .. }) => {
                return Err(ForceError::Child {
                    id,
                    parent: self.orders[parent].id,
                })
            }
            None => return Err(ForceError::NoOrder(id)),
        };
        let current = self.step_of(index);
        if current.status.is_terminal() {
            return Err(ForceError::Final {
                id,
                status: current.status,
            });
        }
        let asked = delivered;
        let delivered = delivered.unwrap_or(match status {
            OrderStatus::Completed => 100,
            OrderStatus::Pending => 0,
            _ => current.delivered,
        });
        let step = Step { status, delivered };
        if !current.status.may_become(step.status) || step.delivered < current.delivered {
            return Err(ForceError::Illegal {
                id,
                from: current,
                to: status,
                delivered: asked,
            });
        }
        step.check()
            .map_err(|e| ForceError::Impossible(e, allowed_from(current)))?;
        self.orders[index].forced = Some(step);
        self.active_orders.remove(&index);
        self.settle(index, rules);
        Ok(())
    }

    /// A view of order `id`, whoever owns it.
    pub fn order_view(&self, id: u64) -> Option<OrderView> {
        let index = self.index_of(id)?;
        let order = &self.orders[index];
        let step = self.step_of(index);
        let precision = self.fixture.precision;
        Some(OrderView {
            order: id,
            key: self.fixture.accounts[order.account as usize].key.clone(),
            service: self.fixture.services[order.service as usize].id,
            link: order.link.to_string(),
            units: order.units,
            runs: order.runs,
            children: order.children(),
            status: step.status,
            remains: order.units - step.delivered_of(order.units),
            charge: precision.format(order.charge),
            refunded: precision.format(order.refunded),
            lifecycle: self.fixture.lifecycles[order.lifecycle as usize]
                .name
                .clone(),
            step: order.position,
        })
    }

    /// Answers one API request by `rules`.
    pub fn handle<'a>(&'a mut self, request: &'a ApiRequest, rules: Rules) -> Reply<'a> {
        self.stale_write = None;
        match self.act(request, rules) {
            Ok(reply) => reply,
            Err(e) => Reply::Error(e),
        }
    }

    fn act<'a>(&'a mut self, request: &'a ApiRequest, rules: Rules) -> Result<Reply<'a>, ApiError> {
        let account = match self.keys.get(request.key()) {
            Some(account) => *account,
            None if !rules.check_key => 0,
            None => return Err(ApiError::InvalidKey),
        };
        match request.call().ok_or(ApiError::IncorrectRequest)? {
            Call::Services => Ok(Reply::Services(&self.fixture.services)),
            Call::Balance => Ok(Reply::Balance(self.balance_body(account))),
            Call::Add(fields) => self.add(account, fields, rules).map(Reply::Order),
            Call::Status(ids) => self.status(account, ids, rules),
            Call::Refill(ids) => self.refill(account, ids, rules),
            Call::RefillStatus(ids) => self.refill_status(account, ids, rules),
            Call::Cancel(ids) => self.cancel(account, ids, rules).map(Reply::Cancel),
        }
    }

    fn balance_body(&self, account: u32) -> BalanceBody<'_> {
        BalanceBody {
            balance: self.balances[account as usize],
            precision: self.fixture.precision,
            currency: &self.fixture.accounts[account as usize].currency,
        }
    }

    fn add(&mut self, account: u32, fields: &Fields, rules: Rules) -> Result<u64, ApiError> {
        let service = fields
            .get(field::SERVICE)
            .and_then(parse_id)
            .and_then(|id| self.fixture.service_index(id))
            .ok_or(ApiError::IncorrectService)?;
        let listed = &self.fixture.services[service];
        let relaxed;
        let svc = if rules.enforce_min && rules.enforce_dripfeed {
            listed
        } else {
            relaxed = Service {
                min: if rules.enforce_min { listed.min } else { 1 },
                dripfeed: listed.dripfeed || !rules.enforce_dripfeed,
                ..listed.clone()
            };
            &relaxed
        };
        let per = price_per(svc.kind);
        let factor = if rules.fair_price {
            Decimal::ONE
        } else {
            Decimal::TEN
        };
        let new = match svc.order(fields) {
            Ok(new) => new,
            Err(e) => {
                if !rules.free_refusals {
                    let fee = self.fixture.precision.price(svc.rate, svc.min, per);
                    let balance = &mut self.balances[account as usize];
                    if let Some(fee) = fee.filter(|fee| *fee <= *balance) {
                        *balance -= fee;
                    }
                }
                return Err(e);
            }
        };
        if rules.one_active_order_per_link && self.has_active_order(account, &new.link) {
            return Err(ApiError::ActiveOrderWithLink);
        }
        // The units charged: all of them, or one run's where the rules
        // ignore drip-feed runs (`runs` is at least 1 when set).
        let charged = match new.runs {
            Some(runs) if !rules.charge_all_runs => new.units / u64::from(runs.max(1)),
            _ => new.units,
        };
        let charge = svc
            .rate
            .checked_mul(factor)
            .and_then(|rate| self.fixture.precision.price(rate, charged, per))
            .ok_or(ApiError::IncorrectField(field::QUANTITY))?;
        let balance = self.balances[account as usize];
        if rules.enforce_funds && balance < charge {
            return Err(ApiError::NotEnoughFunds);
        }
        // An overdraft stops at −MAX_BALANCE, so refunds and sums stay far
        // inside Decimal's range.
        let after = balance
            .checked_sub(charge)
            .filter(|after| *after >= -Decimal::from(MAX_BALANCE))
            .ok_or(ApiError::NotEnoughFunds)?;
        if rules.atomic_debits {
            self.balances[account as usize] = after;
        } else {
            self.stale_write = Some(StaleWrite {
                account,
                balance: after,
                epoch: self.epoch,
            });
        }

        let lifecycle = self.fixture.lifecycle_for(service, &new.link);
        let id = self.next_id;
        let is_subscription = svc.kind == ServiceType::Subscriptions;
        let runs = new.runs.unwrap_or(0);
        let subscription = is_subscription.then(|| Box::new((new.posts, new.expiry)));
        let index = self.orders.len();
        self.orders.push(Order {
            id,
            account,
            service: service as u32,
            lifecycle: lifecycle as u16,
            position: 0,
            forced: None,
            units: new.units,
            runs,
            start_count: self.start_count(id),
            charge,
            refunded: Decimal::ZERO,
            link: new.link.into_boxed_str(),
            subscription,
            shown_final: false,
        });
        self.next_id = id + 1 + u64::from(self.orders[index].children());
        if self.fixture.lifecycles[lifecycle].last() > 0 {
            self.active_orders.insert(index);
        }
        Ok(id)
    }

    /// Whether the account has an order for `link` (exactly as sent) that is
    /// still running: not Completed, Partial or Canceled. A scan of the
    /// orders, newest first: made only where the rule is on.
    fn has_active_order(&self, account: u32, link: &str) -> bool {
        self.orders.iter().rev().any(|o| {
            o.account == account && *o.link == *link && !self.current_step(o).status.is_terminal()
        })
    }

    /// The step order `index` shows to a status poll; in poll mode the order
    /// then moves one step on.
    fn poll_order(&mut self, index: usize, rules: Rules) -> Step {
        let mut step = self.step_of(index);
        if step.status == OrderStatus::Completed {
            if !rules.final_stays_final && self.orders[index].shown_final {
                step.status = OrderStatus::InProgress;
            }
            self.orders[index].shown_final = true;
        }
        if self.options.clock == ClockMode::Poll {
            self.advance_order(index, 1, rules);
        }
        step
    }

    /// The status object of order `index` as it was on `step`: a drip-feed
    /// order adds `runs` (started) and `orders` (their child ids); a
    /// subscription `expiry` (when given), `posts` (started), `orders` and
    /// `old_orders` (the mock handles no old posts: always empty).
    fn status_body(&self, index: usize, step: Step, rules: Rules) -> StatusBody<'_> {
        let order = &self.orders[index];
        let started = self.started(order, step);
        let children = (order.children() > 0).then_some((order.id + 1, started));
        let (runs, posts, expiry) = match order.subscription.as_deref() {
            Some((_, expiry)) if order.runs == 0 => (None, Some(started), expiry.as_deref()),
            _ => ((order.runs > 0).then_some(started), None, None),
        };
        StatusBody {
            charge: order.charge - self.refund_for(order, step, rules),
            precision: self.fixture.precision,
            start_count: if step.status == OrderStatus::Pending {
                0
            } else {
                order.start_count
            },
            status: step.status,
            remains: match step.status {
                OrderStatus::InProgress | OrderStatus::Processing if !rules.steady_remains => {
                    order.units + order.units / 10
                }
                _ => order.units - step.delivered_of(order.units),
            },
            currency: &self.fixture.accounts[order.account as usize].currency,
            runs,
            posts,
            expiry,
            orders: children,
            old_orders: posts.is_some(),
        }
    }

    /// The status object of what id `id` names, if the account may see it:
    /// an order's (polled: in poll mode it then moves on) or a child order's
    /// (which moves with its parent only).
    fn status_of(&mut self, account: u32, id: &str, rules: Rules) -> Option<Polled> {
        match self.visible(account, parse_id(id)?, rules)? {
            Target::Order(index) => Some(Polled::Order(index, self.poll_order(index, rules))),
            Target::Child { parent, k } => Some(Polled::Child(parent, k)),
        }
    }

    /// The status object of what [`Panel::status_of`] found.
    fn polled_body(&self, polled: Polled, rules: Rules) -> StatusBody<'_> {
        match polled {
            Polled::Order(index, step) => self.status_body(index, step, rules),
            Polled::Child(parent, k) => self.child_body(parent, k),
        }
    }

    fn status<'a>(
        &'a mut self,
        account: u32,
        ids: Ids<'a>,
        rules: Rules,
    ) -> Result<Reply<'a>, ApiError> {
        let raw = match ids {
            Ids::Many(raw) => raw,
            Ids::One(id) => {
                let polled = id
                    .and_then(|id| self.status_of(account, id, rules))
                    .ok_or(ApiError::IncorrectOrder)?;
                return Ok(Reply::Status(self.polled_body(polled, rules)));
            }
        };
        let ids = bulk_ids(raw, rules.overflow)?;
        let polled: Vec<(&str, Option<Polled>)> = ids
            .into_iter()
            .map(|id| (id, self.status_of(account, id, rules)))
            .collect();
        let this = &*self;
        Ok(Reply::StatusBulk(
            polled
                .into_iter()
                .map(|(id, polled)| {
                    let item = polled
                        .map(|polled| this.polled_body(polled, rules))
                        .ok_or(ApiError::IncorrectOrder);
                    (id, item)
                })
                .collect(),
        ))
    }

    /// Creates a refill of order `id`, or says why not.
    fn refill_one(&mut self, account: u32, id: Option<u64>, rules: Rules) -> Result<u64, ApiError> {
        let index = self.order_index(
            account,
            id.ok_or(ApiError::IncorrectOrder)?,
            rules,
            ApiError::RefillNotEligible,
        )?;
        let order = &self.orders[index];
        let svc = &self.fixture.services[order.service as usize];
        let status = self.step_of(index).status;
        let eligible =
            svc.refill && matches!(status, OrderStatus::Completed | OrderStatus::Partial);
        if rules.enforce_refill && !eligible {
            return Err(ApiError::RefillNotEligible);
        }
        let lifecycle = self
            .fixture
            .refill_lifecycle_for(order.service as usize, &order.link);
        let refill_id = self.fixture.first_refill_id + self.refills.len() as u64;
        self.refills.push(Refill {
            order: self.orders[index].id,
            account,
            lifecycle: lifecycle as u16,
            position: 0,
        });
        if self.fixture.refill_lifecycles[lifecycle].last() > 0 {
            self.active_refills.insert(refill_id);
        }
        Ok(refill_id)
    }

    fn refill<'a>(
        &mut self,
        account: u32,
        ids: Ids<'_>,
        rules: Rules,
    ) -> Result<Reply<'a>, ApiError> {
        match ids {
            Ids::Many(raw) => self
                .each_id(raw, rules, |p, id| p.refill_one(account, id, rules))
                .map(|items| {
                    Reply::RefillBulk(
                        items
                            .into_iter()
                            .map(|(order, refill)| RefillItem { order, refill })
                            .collect(),
                    )
                }),
            Ids::One(id) => self
                .refill_one(account, id.and_then(parse_id), rules)
                .map(Reply::Refill),
        }
    }

    /// The status of refill `id`; in poll mode the refill then moves on.
    fn refill_status_one(
        &mut self,
        account: u32,
        id: Option<u64>,
        rules: Rules,
    ) -> Result<RefillStatus, ApiError> {
        let index = id
            .and_then(|n| self.refill_index(account, n, rules))
            .ok_or(ApiError::RefillNotFound)?;
        let refill = &self.refills[index];
        let status = self.fixture.refill_lifecycles[refill.lifecycle as usize]
            .step(refill.position as usize);
        if self.options.clock == ClockMode::Poll {
            self.advance_refill(index, 1);
        }
        Ok(status)
    }

    fn refill_status<'a>(
        &mut self,
        account: u32,
        ids: Ids<'_>,
        rules: Rules,
    ) -> Result<Reply<'a>, ApiError> {
        match ids {
            Ids::Many(raw) => self
                .each_id(raw, rules, |p, id| p.refill_status_one(account, id, rules))
                .map(|items| {
                    Reply::RefillStatusBulk(
                        items
                            .into_iter()
                            .map(|(refill, status)| RefillStatusItem { refill, status })
                            .collect(),
                    )
                }),
            Ids::One(id) => self
                .refill_status_one(account, id.and_then(parse_id), rules)
                .map(Reply::RefillStatus),
        }
    }

    /// Cancels order `id`, or says why not.
    fn cancel_one(&mut self, account: u32, id: Option<u64>, rules: Rules) -> Result<u8, ApiError> {
        let index = self.order_index(
            account,
            id.ok_or(ApiError::IncorrectOrder)?,
            rules,
            ApiError::CancelNotAllowed,
        )?;
        let step = self.step_of(index);
        let svc = &self.fixture.services[self.orders[index].service as usize];
        if (rules.enforce_cancel && !svc.cancel) || step.status.is_terminal() {
            return Err(ApiError::CancelNotAllowed);
        }
        self.orders[index].forced = Some(Step {
            status: OrderStatus::Canceled,
            delivered: step.delivered,
        });
        self.active_orders.remove(&index);
        self.settle(index, rules);
        Ok(1)
    }

    /// `cancel` takes `orders`; like real panels, the mock also reads a single
    /// `order` (two public clients send it, REAL-WORLD D18) and answers the list.
    fn cancel(
        &mut self,
        account: u32,
        ids: Ids<'_>,
        rules: Rules,
    ) -> Result<Vec<CancelItem>, ApiError> {
        let raw = match ids {
            Ids::Many(raw) | Ids::One(Some(raw)) => raw,
            Ids::One(None) => return Err(ApiError::IncorrectOrder),
        };
        let items = self.each_id(raw, rules, |p, id| p.cancel_one(account, id, rules))?;
        Ok(items
            .into_iter()
            .map(|(order, cancel)| CancelItem { order, cancel })
            .collect())
    }

    /// Does `one` for each id of a bulk field (see [`bulk_ids`]), in order:
    /// the ids echoed, each with its result or its own error.
    fn each_id<T>(
        &mut self,
        raw: &str,
        rules: Rules,
        mut one: impl FnMut(&mut Self, Option<u64>) -> Result<T, ApiError>,
    ) -> Result<Vec<(EchoId, Item<T>)>, ApiError> {
        Ok(bulk_ids(raw, rules.overflow)?
            .into_iter()
            .map(|id| {
                let result = one(self, parse_id(id));
                (echo(id), Item::of(result, &self.fixture.messages))
            })
            .collect())
    }
}

/// A numeric id: digits only, fits in a u64.
pub fn parse_id(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn echo(id: &str) -> EchoId {
    match parse_id(id) {
        Some(n) => EchoId::Number(n),
        None => EchoId::Text(id.to_owned()),
    }
}

/// The ids of a bulk field: split on commas, trimmed, blanks dropped,
/// duplicates answered once, in request order; past [`BULK_LIMIT`] distinct
/// ids, what `overflow` says.
pub fn bulk_ids(raw: &str, overflow: Overflow) -> Result<Vec<&str>, ApiError> {
    let mut ids = smm_contract::field::distinct_ids(raw);
    if ids.len() > BULK_LIMIT {
        match overflow {
            Overflow::Refuse => return Err(ApiError::TooManyIds(BULK_LIMIT)),
            Overflow::Truncate => ids.truncate(BULK_LIMIT),
            Overflow::AnswerAll => {}
        }
    }
    if ids.is_empty() {
        return Err(ApiError::IncorrectRequest);
    }
    Ok(ids)
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser).
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
