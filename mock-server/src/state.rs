//! The panel's state and the actions of CONTRACT §2 on it.
//!
//! [`Panel::handle`] is a function of (state, request fields) → (state,
//! answer): no clock, no randomness, no I/O. Ids come from counters,
//! `start_count` from a hash of the seed and the order id. Every action checks
//! everything before it changes anything, so a refused request changes
//! nothing, and the balance is debited and checked under one `&mut self`, so
//! it never goes negative.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::clock::ClockMode;
use crate::error::ApiError;
use crate::fixture::Fixture;
use crate::lifecycle::{OrderStatus, RefillStatus, Step};
use crate::profile::{Profile, Profiles};
use crate::reply::{
    bulk_status, to_json, AddBody, BalanceBody, CancelItem, EchoId, ErrorBody, RefillBody,
    RefillItem, RefillStatusBody, RefillStatusItem, ServiceBody, StatusBody,
};
use crate::request::Fields;
use crate::service::Service;

/// The actions of CONTRACT §2.
pub const ACTIONS: [&str; 7] = [
    "services",
    "add",
    "status",
    "refill",
    "refill_status",
    "cancel",
    "balance",
];

/// The largest balance an account may hold (so refunds can never overflow).
pub const MAX_BALANCE: u64 = 1_000_000_000_000_000;

/// The most distinct ids `orders` / `refills` take (CONTRACT §5).
pub const BULK_LIMIT: usize = 100;

/// An order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
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
    /// Whether a poll has shown its final status (for `illegal-transition`).
    pub shown_final: bool,
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

/// Settings of a panel that are not in the fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PanelOptions {
    /// Seed for `start_count` (and, later, faults).
    pub seed: u64,
    /// When orders move.
    pub clock: ClockMode,
    /// Deviations switched on (none: the conforming panel).
    pub profiles: Profiles,
}

/// A panel: a fixture brought to life.
#[derive(Debug, Clone)]
pub struct Panel {
    fixture: Arc<Fixture>,
    options: PanelOptions,
    tick: u64,
    keys: HashMap<String, u32>,
    balances: Vec<Decimal>,
    orders: Vec<Order>,
    refills: Vec<Refill>,
    active_orders: BTreeSet<u64>,
    active_refills: BTreeSet<u64>,
    /// Profiles switched on at run time, for some keys and actions, or for
    /// the next N matching requests (admin API).
    overrides: Vec<Override>,
    /// The profiles in force for the request being answered.
    active: Profiles,
    /// Requests answered so far per action (the ordinal faults are drawn from).
    ordinals: [u64; ACTIONS.len() + 1],
}

/// A profile switched on through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Override {
    /// The profile.
    pub profile: Profile,
    /// Only for this key.
    pub key: Option<String>,
    /// Only for this action.
    pub action: Option<String>,
    /// Only for this many more matching requests (`None`: until removed).
    pub remaining: Option<u32>,
}

/// How the server must deliver an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// At once.
    Now,
    /// After this many milliseconds (`slow`).
    After(u64),
    /// Never (`hang`).
    Never,
    /// Close the connection instead (`connection-reset`).
    Reset,
}

/// What one API request gave: the body, and what the log line says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The JSON body.
    pub body: Vec<u8>,
    /// The action, when it was a known one.
    pub action: Option<&'static str>,
    /// The top-level error, when the request was refused.
    pub error: Option<String>,
    /// The HTTP status to answer with: 200 on a conforming panel.
    pub http_status: u16,
    /// The content type: `application/json` on a conforming panel.
    pub content_type: &'static str,
    /// How the server delivers it.
    pub delivery: Delivery,
    /// A `Retry-After` header (seconds), with HTTP 429.
    pub retry_after: Option<u32>,
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
    /// Current status.
    pub status: &'static str,
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
            keys: fixture
                .accounts
                .iter()
                .enumerate()
                .map(|(i, a)| (a.key.clone(), i as u32))
                .collect(),
            balances: fixture.accounts.iter().map(|a| a.balance).collect(),
            fixture,
            options,
            tick: 0,
            orders: Vec::new(),
            refills: Vec::new(),
            active_orders: BTreeSet::new(),
            active_refills: BTreeSet::new(),
            overrides: Vec::new(),
            active: Profiles::NONE,
            ordinals: [0; ACTIONS.len() + 1],
        };
        panel.seed_orders();
        panel
    }

    /// Back to the state the fixture describes.
    pub fn reset(&mut self) {
        *self = Panel::new(Arc::clone(&self.fixture), self.options);
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
                .price(svc.rate, seed.quantity, svc.kind.price_per())
                .unwrap_or_default();
            let id = self.next_order_id();
            let mut order = Order {
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
            // Seeded orders were paid and settled before the panel started:
            // the fixture's balances already account for them.
            order.refunded = self.refund_for(&order, self.current_step(&order));
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

    fn next_order_id(&self) -> u64 {
        self.fixture.first_order_id + self.orders.len() as u64
    }

    /// Index of order `id` if the account may see it.
    fn order_index(&self, account: u32, id: u64) -> Option<usize> {
        let index = usize::try_from(id.checked_sub(self.fixture.first_order_id)?).ok()?;
        let visible = self.orders.get(index)?.account == account
            || self.active.has(Profile::OrdersVisibleAcrossKeys);
        visible.then_some(index)
    }

    /// Index of refill `id` if the account may see it.
    fn refill_index(&self, account: u32, id: u64) -> Option<usize> {
        let index = usize::try_from(id.checked_sub(self.fixture.first_refill_id)?).ok()?;
        let visible = self.refills.get(index)?.account == account
            || self.active.has(Profile::OrdersVisibleAcrossKeys);
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
    /// Canceled, the undelivered part when Partial, else nothing.
    fn refund_for(&self, order: &Order, step: Step) -> Decimal {
        match step.status {
            OrderStatus::Canceled => order.charge,
            OrderStatus::Partial if self.active.has(Profile::NoRefundPartial) => Decimal::ZERO,
            OrderStatus::Partial => {
                let svc = &self.fixture.services[order.service as usize];
                let delivered = step.delivered_of(order.units);
                let kept = self
                    .fixture
                    .precision
                    .price(svc.rate, delivered, svc.kind.price_per())
                    .unwrap_or(order.charge)
                    .min(order.charge);
                order.charge - kept
            }
            _ => Decimal::ZERO,
        }
    }

    /// Refunds what is due on order `index` and not yet refunded.
    fn settle(&mut self, index: usize) {
        let order = &self.orders[index];
        let due = self.refund_for(order, self.current_step(order));
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
    fn advance_order(&mut self, index: usize, steps: u64) {
        let order = &self.orders[index];
        let last = self.fixture.lifecycles[order.lifecycle as usize].last() as u64;
        if order.forced.is_some() || u64::from(order.position) >= last {
            return;
        }
        let position = (u64::from(order.position) + steps).min(last);
        self.orders[index].position = position as u16;
        if position == last {
            self.active_orders
                .remove(&(self.fixture.first_order_id + index as u64));
            self.settle(index);
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

    /// Advances the clock: every order and refill moves `steps` steps.
    pub fn advance_clock(&mut self, steps: u64) {
        self.tick = self.tick.saturating_add(steps);
        let first = self.fixture.first_order_id;
        let active: Vec<u64> = self.active_orders.iter().copied().collect();
        for id in active {
            self.advance_order((id - first) as usize, steps);
        }
        let first = self.fixture.first_refill_id;
        let active: Vec<u64> = self.active_refills.iter().copied().collect();
        for id in active {
            self.advance_refill((id - first) as usize, steps);
        }
    }

    /// Forces order `id` into `status` with `delivered` percent (by default
    /// 100 for Completed, else what it has delivered so far). The move must be
    /// legal: no way back from a terminal status, delivered never goes down.
    pub fn force_status(
        &mut self,
        id: u64,
        status: OrderStatus,
        delivered: Option<u8>,
    ) -> Result<(), String> {
        let index = id
            .checked_sub(self.fixture.first_order_id)
            .map(|i| i as usize)
            .filter(|&i| i < self.orders.len())
            .ok_or_else(|| format!("no order {id}"))?;
        let current = self.step_of(index);
        let delivered = delivered.unwrap_or(match status {
            OrderStatus::Completed => 100,
            _ => current.delivered,
        });
        let step = Step { status, delivered };
        if !current.status.may_become(step.status) || step.delivered < current.delivered {
            return Err(format!(
                "order {id} cannot go from {} ({}%) to {} ({}%)",
                current.status, current.delivered, step.status, step.delivered
            ));
        }
        step.check()?;
        self.orders[index].forced = Some(step);
        self.active_orders.remove(&id);
        self.settle(index);
        Ok(())
    }

    /// A view of order `id`, whoever owns it.
    pub fn order_view(&self, id: u64) -> Option<OrderView> {
        let index = usize::try_from(id.checked_sub(self.fixture.first_order_id)?).ok()?;
        let order = self.orders.get(index)?;
        let step = self.step_of(index);
        let precision = self.fixture.precision;
        Some(OrderView {
            order: id,
            key: self.fixture.accounts[order.account as usize].key.clone(),
            service: self.fixture.services[order.service as usize].id,
            link: order.link.to_string(),
            units: order.units,
            runs: order.runs,
            status: step.status.as_str(),
            remains: order.units - step.delivered_of(order.units),
            charge: precision.format(order.charge),
            refunded: precision.format(order.refunded),
            lifecycle: self.fixture.lifecycles[order.lifecycle as usize]
                .name
                .clone(),
            step: order.position,
        })
    }

    /// The profiles switched on for the whole panel.
    pub fn profiles(&self) -> Profiles {
        self.options.profiles
    }

    /// Switches the panel-wide profiles.
    pub fn set_profiles(&mut self, profiles: Profiles) {
        self.options.profiles = profiles;
    }

    /// The run-time overrides.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Adds a run-time override.
    pub fn add_override(&mut self, o: Override) {
        self.overrides.push(o);
    }

    /// Removes every run-time override.
    pub fn clear_overrides(&mut self) {
        self.overrides.clear();
    }

    /// The profiles in force for a request of `key` and `action`; uses up one
    /// of each matching override's remaining requests.
    fn profiles_for(&mut self, key: &str, action: &str) -> Profiles {
        let mut active = self.options.profiles;
        for o in &mut self.overrides {
            let matches = o.key.as_deref().is_none_or(|k| k == key)
                && o.action.as_deref().is_none_or(|a| a == action);
            if matches && o.remaining != Some(0) {
                active = active.with(o.profile);
                if let Some(n) = &mut o.remaining {
                    *n -= 1;
                }
            }
        }
        self.overrides.retain(|o| o.remaining != Some(0));
        active
    }

    /// Answers one API request.
    pub fn handle(&mut self, fields: &Fields) -> Answer {
        let action = fields.get("action");
        let known = action.and_then(|a| ACTIONS.into_iter().find(|k| *k == a));
        let slot = known
            .and_then(|k| ACTIONS.iter().position(|a| *a == k))
            .unwrap_or(ACTIONS.len());
        self.ordinals[slot] += 1;
        let ordinal = self.ordinals[slot];
        self.active = if self.options.profiles == Profiles::NONE && self.overrides.is_empty() {
            Profiles::NONE
        } else {
            self.profiles_for(fields.get("key").unwrap_or(""), action.unwrap_or(""))
        };
        let active = self.active;
        if active != Profiles::NONE {
            let draw = splitmix64(
                self.options.seed
                    ^ (slot as u64).wrapping_mul(0x9E37_79B9)
                    ^ ordinal.rotate_left(17),
            );
            if let Some(answer) = crate::deviate::instead(active, known, draw, ordinal) {
                self.active = self.options.profiles;
                return answer;
            }
        }
        let result = self.act(fields, known);
        let mut answer = match result {
            Ok(body) => Answer {
                body,
                action: known,
                error: None,
                http_status: 200,
                content_type: "application/json",
                delivery: Delivery::Now,
                retry_after: None,
            },
            Err(e) => Answer {
                body: to_json(&ErrorBody::from(&e)),
                action: known,
                error: Some(e.to_string()),
                http_status: if active.has(Profile::Http4xxErrors) {
                    match e {
                        ApiError::InvalidKey => 401,
                        ApiError::NotEnoughFunds => 402,
                        _ => 400,
                    }
                } else {
                    200
                },
                content_type: "application/json",
                delivery: Delivery::Now,
                retry_after: None,
            },
        };
        if active != Profiles::NONE {
            crate::deviate::reshape(active, fields, known, &mut answer);
        }
        // Between requests (clock ticks, admin changes) only the panel-wide
        // profiles apply.
        self.active = self.options.profiles;
        answer
    }

    fn act(&mut self, fields: &Fields, action: Option<&'static str>) -> Result<Vec<u8>, ApiError> {
        let key = fields.get("key").unwrap_or("");
        let account = match self.keys.get(key) {
            Some(account) => *account,
            None if self.active.has(Profile::InvalidKeyAccepted) => 0,
            None => return Err(ApiError::InvalidKey),
        };
        match action {
            Some("services") => Ok(self.services()),
            Some("add") => self.add(account, fields),
            Some("status") => self.status(account, fields),
            Some("refill") => self.refill(account, fields),
            Some("refill_status") => self.refill_status(account, fields),
            Some("cancel") => self.cancel(account, fields),
            Some("balance") => Ok(self.balance_body(account)),
            _ => Err(ApiError::IncorrectRequest),
        }
    }

    fn services(&self) -> Vec<u8> {
        let list: Vec<ServiceBody<'_>> = self
            .fixture
            .services
            .iter()
            .map(|s| ServiceBody {
                service: s.id,
                name: &s.name,
                kind: s.kind.as_str(),
                category: &s.category,
                rate: &s.rate_text,
                min: s.min.to_string(),
                max: s.max.to_string(),
                dripfeed: s.dripfeed,
                refill: s.refill,
                cancel: s.cancel,
                desc: s.desc.as_deref(),
            })
            .collect();
        to_json(&list)
    }

    fn balance_body(&self, account: u32) -> Vec<u8> {
        to_json(&BalanceBody {
            balance: self
                .fixture
                .precision
                .format(self.balances[account as usize]),
            currency: &self.fixture.accounts[account as usize].currency,
        })
    }

    fn add(&mut self, account: u32, fields: &Fields) -> Result<Vec<u8>, ApiError> {
        let service = fields
            .get("service")
            .and_then(parse_id)
            .and_then(|id| self.fixture.service_index(id))
            .ok_or(ApiError::IncorrectService)?;
        let profiles = self.active;
        let lowered;
        let svc = if profiles.has(Profile::MinNotEnforced) {
            lowered = Service {
                min: 1,
                ..self.fixture.services[service].clone()
            };
            &lowered
        } else {
            &self.fixture.services[service]
        };
        let per = svc.kind.price_per();
        // `wrong-charge`: ten times the price, for every type.
        let factor = if profiles.has(Profile::WrongCharge) {
            Decimal::TEN
        } else {
            Decimal::ONE
        };
        let new = match svc.order(fields) {
            Ok(new) => new,
            Err(e) => {
                if profiles.has(Profile::ChargeOnError) {
                    let fee = self.fixture.precision.price(svc.rate, svc.min, per);
                    let balance = &mut self.balances[account as usize];
                    if let Some(fee) = fee.filter(|fee| *fee <= *balance) {
                        *balance -= fee;
                    }
                }
                return Err(e);
            }
        };
        let charge = self
            .fixture
            .precision
            .price(svc.rate * factor, new.units, per)
            .ok_or(ApiError::IncorrectField("quantity"))?;
        let balance = &mut self.balances[account as usize];
        if *balance < charge {
            return Err(ApiError::NotEnoughFunds);
        }
        *balance -= charge;

        let lifecycle = self.fixture.lifecycle_for(service, &new.link);
        let id = self.next_order_id();
        let subscription = (new.posts.is_some() || new.expiry.is_some())
            .then(|| Box::new((new.posts, new.expiry)));
        self.orders.push(Order {
            account,
            service: service as u32,
            lifecycle: lifecycle as u16,
            position: 0,
            forced: None,
            units: new.units,
            runs: new.runs.unwrap_or(0),
            start_count: self.start_count(id),
            charge,
            refunded: Decimal::ZERO,
            link: new.link.into_boxed_str(),
            subscription,
            shown_final: false,
        });
        if self.fixture.lifecycles[lifecycle].last() > 0 {
            self.active_orders.insert(id);
        }
        Ok(to_json(&AddBody { order: id }))
    }

    /// The step order `index` shows to a status poll; in poll mode the order
    /// then moves one step on.
    fn poll_order(&mut self, index: usize) -> Step {
        let mut step = self.step_of(index);
        if step.status == OrderStatus::Completed {
            if self.active.has(Profile::IllegalTransition) && self.orders[index].shown_final {
                step.status = OrderStatus::InProgress;
            }
            self.orders[index].shown_final = true;
        }
        if self.options.clock == ClockMode::Poll {
            self.advance_order(index, 1);
        }
        step
    }

    /// The status object of order `index` as it was on `step`.
    fn status_body(&self, index: usize, step: Step) -> StatusBody<'_> {
        let order = &self.orders[index];
        let (posts, expiry) = match order.subscription.as_deref() {
            Some((posts, expiry)) => (*posts, expiry.as_deref()),
            None => (None, None),
        };
        StatusBody {
            charge: order.charge - self.refund_for(order, step),
            precision: self.fixture.precision,
            start_count: if step.status == OrderStatus::Pending {
                0
            } else {
                order.start_count
            },
            status: step.status.as_str(),
            remains: match step.status {
                OrderStatus::InProgress | OrderStatus::Processing
                    if self.active.has(Profile::RemainsGrows) =>
                {
                    order.units + order.units / 10
                }
                _ => order.units - step.delivered_of(order.units),
            },
            currency: &self.fixture.accounts[order.account as usize].currency,
            runs: (order.runs > 0).then_some(order.runs),
            posts,
            expiry,
        }
    }

    fn status(&mut self, account: u32, fields: &Fields) -> Result<Vec<u8>, ApiError> {
        if let Some(raw) = fields.get("orders") {
            let ids = self.bulk_ids(raw)?;
            let polled: Vec<(&str, Option<(usize, Step)>)> = ids
                .into_iter()
                .map(|id| {
                    let index = parse_id(id).and_then(|n| self.order_index(account, n));
                    (id, index.map(|i| (i, self.poll_order(i))))
                })
                .collect();
            let answers: Vec<(&str, Result<StatusBody<'_>, ApiError>)> = polled
                .into_iter()
                .map(|(id, polled)| {
                    let item = polled
                        .map(|(index, step)| self.status_body(index, step))
                        .ok_or(ApiError::IncorrectOrder);
                    (id, item)
                })
                .collect();
            return Ok(bulk_status(&answers));
        }
        let index = fields
            .get("order")
            .and_then(parse_id)
            .and_then(|n| self.order_index(account, n))
            .ok_or(ApiError::IncorrectOrder)?;
        let step = self.poll_order(index);
        Ok(self.status_body(index, step).to_json())
    }

    /// Creates a refill of order `id`, or says why not.
    fn refill_one(&mut self, account: u32, id: Option<u64>) -> Result<u64, ApiError> {
        let index = id
            .and_then(|n| self.order_index(account, n))
            .ok_or(ApiError::IncorrectOrder)?;
        let order = &self.orders[index];
        let svc = &self.fixture.services[order.service as usize];
        let status = self.step_of(index).status;
        if !svc.refill || !matches!(status, OrderStatus::Completed | OrderStatus::Partial) {
            return Err(ApiError::RefillNotEligible);
        }
        let lifecycle = self
            .fixture
            .refill_lifecycle_for(order.service as usize, &order.link);
        let refill_id = self.fixture.first_refill_id + self.refills.len() as u64;
        self.refills.push(Refill {
            order: self.fixture.first_order_id + index as u64,
            account,
            lifecycle: lifecycle as u16,
            position: 0,
        });
        if self.fixture.refill_lifecycles[lifecycle].last() > 0 {
            self.active_refills.insert(refill_id);
        }
        Ok(refill_id)
    }

    fn refill(&mut self, account: u32, fields: &Fields) -> Result<Vec<u8>, ApiError> {
        if let Some(raw) = fields.get("orders") {
            let ids = self.bulk_ids(raw)?;
            let items: Vec<RefillItem> = ids
                .into_iter()
                .map(|id| RefillItem {
                    order: echo(id),
                    refill: self.refill_one(account, parse_id(id)).into(),
                })
                .collect();
            return Ok(to_json(&items));
        }
        let id = fields.get("order").and_then(parse_id);
        let refill = self.refill_one(account, id)?;
        Ok(to_json(&RefillBody {
            refill: refill.to_string(),
        }))
    }

    /// The status of refill `id`; in poll mode the refill then moves on.
    fn refill_status_one(
        &mut self,
        account: u32,
        id: Option<u64>,
    ) -> Result<&'static str, ApiError> {
        let index = id
            .and_then(|n| self.refill_index(account, n))
            .ok_or(ApiError::RefillNotFound)?;
        let refill = &self.refills[index];
        let status: RefillStatus = self.fixture.refill_lifecycles[refill.lifecycle as usize]
            .step(refill.position as usize);
        if self.options.clock == ClockMode::Poll {
            self.advance_refill(index, 1);
        }
        Ok(status.as_str())
    }

    fn refill_status(&mut self, account: u32, fields: &Fields) -> Result<Vec<u8>, ApiError> {
        if let Some(raw) = fields.get("refills") {
            let ids = self.bulk_ids(raw)?;
            let items: Vec<RefillStatusItem> = ids
                .into_iter()
                .map(|id| RefillStatusItem {
                    refill: echo(id),
                    status: self.refill_status_one(account, parse_id(id)).into(),
                })
                .collect();
            return Ok(to_json(&items));
        }
        let id = fields.get("refill").and_then(parse_id);
        let status = self.refill_status_one(account, id)?;
        Ok(to_json(&RefillStatusBody { status }))
    }

    /// The ids of a bulk field, with the limit unless `bulk-overflow-ignored`.
    fn bulk_ids<'a>(&self, raw: &'a str) -> Result<Vec<&'a str>, ApiError> {
        let overflow = self.active.has(Profile::BulkOverflowIgnored);
        let mut ids = bulk_ids(raw, (!overflow).then_some(BULK_LIMIT));
        if self.active.has(Profile::BulkOverflowTruncated) {
            ids = bulk_ids(raw, None).map(|mut all| {
                all.truncate(BULK_LIMIT);
                all
            });
        }
        ids
    }

    /// Cancels order `id`, or says why not.
    fn cancel_one(&mut self, account: u32, id: Option<u64>) -> Result<u8, ApiError> {
        let index = id
            .and_then(|n| self.order_index(account, n))
            .ok_or(ApiError::IncorrectOrder)?;
        let step = self.step_of(index);
        let svc = &self.fixture.services[self.orders[index].service as usize];
        if !svc.cancel || step.status.is_terminal() {
            return Err(ApiError::CancelNotAllowed);
        }
        self.orders[index].forced = Some(Step {
            status: OrderStatus::Canceled,
            delivered: step.delivered,
        });
        self.active_orders
            .remove(&(self.fixture.first_order_id + index as u64));
        self.settle(index);
        Ok(1)
    }

    /// `cancel` takes `orders`; like real panels, the mock also reads a single
    /// `order` (two public clients send it, REAL-WORLD D18) and answers the list.
    fn cancel(&mut self, account: u32, fields: &Fields) -> Result<Vec<u8>, ApiError> {
        let raw = fields
            .get("orders")
            .or_else(|| fields.get("order"))
            .ok_or(ApiError::IncorrectOrder)?;
        let ids = self.bulk_ids(raw)?;
        let items: Vec<CancelItem> = ids
            .into_iter()
            .map(|id| CancelItem {
                order: echo(id),
                cancel: self.cancel_one(account, parse_id(id)).into(),
            })
            .collect();
        Ok(to_json(&items))
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
/// duplicates answered once, in request order.
pub fn bulk_ids(raw: &str, limit: Option<usize>) -> Result<Vec<&str>, ApiError> {
    let mut ids: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if seen.insert(id) {
            if limit == Some(ids.len()) {
                return Err(ApiError::TooManyIds(BULK_LIMIT));
            }
            ids.push(id);
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
