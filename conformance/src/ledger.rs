//! The ledger: every order the run placed, what it was predicted to cost,
//! and every status it was seen in; every refill it asked for. The checks
//! that watch orders write to it, `lifecycle.transitions` judges its
//! histories, `money.ledger` reconciles it with the balance, and the report
//! lists its orders so the user knows what was spent.

use rust_decimal::Decimal;
use serde::Serialize;
use smm_contract::OrderStatus;

/// One status answer of an order, as the run saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The status, as the tolerant reading spells it.
    pub status: String,
    /// `remains`, when it was a number.
    pub remains: Option<u64>,
    /// `charge`, as written (tolerant reading).
    pub charge: Option<String>,
    /// The request, as a curl command (keys masked).
    pub request: String,
    /// The answer, shortened.
    pub actual: String,
}

/// An order the run placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The panel's id.
    pub id: u64,
    /// Its service.
    pub service: u64,
    /// Its quantity.
    pub quantity: u64,
    /// Its drip-feed runs.
    pub runs: Option<u32>,
    /// What it should cost (rate × quantity × runs / 1000, unrounded).
    pub predicted: Decimal,
    /// The check that placed it.
    pub check: &'static str,
    /// The `add` that placed it, as a curl command (keys masked).
    pub placed_by: String,
    /// Every status answer seen, in order.
    pub seen: Vec<Sighting>,
    /// The refills asked for it (their ids).
    pub refills: Vec<String>,
    /// What the panel showed it charging past the prediction, already
    /// counted against the budget.
    pub overcharge: Decimal,
}

impl Entry {
    /// The last status seen, parsed.
    pub fn last_status(&self) -> Option<OrderStatus> {
        self.seen.last().and_then(|s| OrderStatus::parse(&s.status))
    }

    /// Whether it was last seen in a final status.
    pub fn is_final(&self) -> bool {
        self.last_status().is_some_and(OrderStatus::is_terminal)
    }

    /// Notes a status answer; what it shows charged past the prediction and
    /// past what was counted before (to count against the budget).
    pub fn see(&mut self, sighting: Sighting) -> Decimal {
        let shown = sighting
            .charge
            .as_deref()
            .and_then(|c| c.parse::<Decimal>().ok());
        self.seen.push(sighting);
        let past = shown.map_or(Decimal::ZERO, |c| c - self.predicted - self.overcharge);
        if past > Decimal::ZERO {
            self.overcharge += past;
            past
        } else {
            Decimal::ZERO
        }
    }

    /// Its charge as the panel last wrote it (else the predicted one, at
    /// the panel's `places` when known).
    pub fn shown_charge(&self, places: Option<u32>) -> String {
        self.seen
            .iter()
            .rev()
            .find_map(|s| s.charge.clone().filter(|c| c.parse::<Decimal>().is_ok()))
            .unwrap_or_else(|| match places {
                Some(places) => crate::checks::at_places(self.predicted, places),
                None => self.predicted.normalize().to_string(),
            })
    }

    /// Its charge as last shown (else the predicted one).
    pub fn charge(&self) -> Decimal {
        self.seen
            .iter()
            .rev()
            .find_map(|s| s.charge.as_deref().and_then(|c| c.parse().ok()))
            .unwrap_or(self.predicted)
    }
}

/// What the run placed and asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// The balance before the first order (as written, and read).
    pub start: Option<(String, Decimal)>,
    /// Every order placed, in order.
    pub orders: Vec<Entry>,
    /// `add` requests that got no answer (the order may exist): their curl.
    pub unanswered: Vec<String>,
}

impl Ledger {
    /// The order with this id.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Entry> {
        self.orders.iter_mut().find(|e| e.id == id)
    }

    /// The orders as the report lists them.
    pub fn summary(&self) -> Vec<PlacedOrder> {
        // The panel's precision, as its balance was written.
        let places = self
            .start
            .as_ref()
            .map(|(text, _)| crate::checks::places_of(text));
        self.orders
            .iter()
            .map(|e| PlacedOrder {
                order: e.id,
                service: e.service,
                quantity: e.quantity,
                runs: e.runs,
                charge: e.shown_charge(places),
                status: e.seen.last().map(|s| s.status.clone()),
                running: !e.is_final(),
                check: e.check,
            })
            .collect()
    }
}

/// An order of the run, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedOrder {
    /// The panel's id.
    pub order: u64,
    /// Its service.
    pub service: u64,
    /// Its quantity.
    pub quantity: u64,
    /// Its drip-feed runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<u32>,
    /// Its charge as last shown (or as predicted).
    pub charge: String,
    /// Its status as last seen.
    pub status: Option<String>,
    /// Whether it was still running when the run ended.
    pub running: bool,
    /// The check that placed it.
    pub check: &'static str,
}
