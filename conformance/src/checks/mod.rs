//! The checks, and what they share: the run's context and the way a check
//! gathers findings into a verdict.

pub mod auth;
pub mod bulk;
pub mod catalog;
pub mod drive;
pub mod lifecycle;
pub mod money;
pub mod property;
pub mod refill;
pub mod stateful;
pub mod transport;

use std::sync::Mutex;

use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::{Action, ServiceType};

use crate::client::{Client, Exchange, TransportError};
use crate::outcome::{Evidence, Mode, Outcome, Verdict};
use crate::schema::{self, Kind, Reading};

/// Ids no panel has: the runner asks about them to see the error answers.
pub const UNKNOWN_ID: u64 = 9_000_000_000_000_001;

/// A service as the catalogue lists it, read tolerantly.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Id.
    pub id: u64,
    /// Type.
    pub kind: String,
    /// Rate per 1000.
    pub rate: Decimal,
    /// Minimum quantity.
    pub min: u64,
    /// Maximum quantity.
    pub max: u64,
    /// Drip-feed flag.
    pub dripfeed: bool,
    /// Refill flag.
    pub refill: bool,
    /// Cancel flag.
    pub cancel: bool,
    /// Whether the panel listed all three flags (a missing one reads false,
    /// but nothing may be concluded from it).
    pub flags_known: bool,
}

impl Service {
    /// Whether the catalogue lists it with this type.
    pub fn is(&self, kind: ServiceType) -> bool {
        self.kind == kind.as_str()
    }
}

/// What spending is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The cap (`--max-spend`).
    pub cap: Decimal,
    /// What was reserved so far (the predicted charges of the orders sent).
    pub spent: Decimal,
}

/// Everything a check may use.
#[derive(Debug)]
pub struct Ctx {
    /// The client.
    pub client: Client,
    /// Tolerant or strict.
    pub mode: Mode,
    /// `None` without `--allow-orders`: no order may be placed.
    pub budget: Option<Mutex<Budget>>,
    /// The catalogue, read once before the checks.
    pub services: Vec<Service>,
    /// The `services` exchange itself.
    pub services_exchange: Exchange,
    /// Orders that exist (`--order`), for status-shaped checks.
    pub known_orders: Vec<u64>,
    /// The mock's admin API, when told to use it.
    pub admin: Option<String>,
    /// Cases per property.
    pub cases: u32,
    /// Requests at once (`--concurrency`): a property sends its cases this
    /// many at a time.
    pub concurrency: usize,
    /// Seed of the properties.
    pub seed: u64,
    /// When the whole run must end (`--run-timeout`).
    pub deadline: Option<std::time::Instant>,
    /// Every order the run placed.
    pub ledger: Mutex<crate::ledger::Ledger>,
    /// How long one order (or refill) is watched at most (`--watch`).
    pub watch: std::time::Duration,
    /// The link template (`--link`): `{word}` and `{num}` are filled in.
    pub link: String,
    /// Links made so far (the `{num}` of the next is one more).
    pub links: std::sync::atomic::AtomicU64,
    /// Whether the panel moves orders on each poll by itself (the mock in
    /// its `poll` clock mode, known through its admin API): no waiting.
    pub self_moving: bool,
    /// Orders placed at once by `money.concurrency` (`--concurrent-orders`).
    pub concurrent_orders: usize,
    /// Whether the run's orders were already watched to their end (or for
    /// `--watch`): a later settling polls them once more, and waits no more.
    pub settled: std::sync::atomic::AtomicBool,
    /// Told as long checks move on (a terminal's progress line).
    pub progress: Option<crate::suite::Progress>,
}

impl Ctx {
    /// Tells the progress line that check `id` has done `done` of `of`
    /// `unit`s.
    pub fn step(&self, id: &'static str, done: u64, of: u64, unit: &'static str) {
        if let Some(progress) = &self.progress {
            progress.tell(crate::suite::Event::Step { id, done, of, unit });
        }
    }

    /// Reserves `charge` of the budget; false (and nothing reserved) when
    /// orders are not allowed or the cap would be passed.
    pub fn reserve(&self, charge: Decimal) -> bool {
        let Some(budget) = &self.budget else {
            return false;
        };
        let mut budget = budget.lock().unwrap_or_else(|e| e.into_inner());
        if budget
            .spent
            .checked_add(charge)
            .is_none_or(|total| total > budget.cap)
        {
            return false;
        }
        budget.spent += charge;
        true
    }

    /// Why an order cannot be placed, or `None` if it can.
    pub fn cannot_order(&self) -> Option<&'static str> {
        match self.budget {
            None => Some("places an order: run with --allow-orders --max-spend AMOUNT"),
            Some(_) => None,
        }
    }

    /// `Default` services, cheapest minimum order first.
    pub fn cheapest_default(&self) -> Vec<&Service> {
        let mut list: Vec<&Service> = self
            .services
            .iter()
            .filter(|s| s.is(ServiceType::Default))
            .collect();
        list.sort_by(|a, b| {
            price(a.rate, a.min)
                .cmp(&price(b.rate, b.min))
                .then(a.id.cmp(&b.id))
        });
        list
    }

    /// The id of a service that is not in the catalogue.
    pub fn unknown_service(&self) -> u64 {
        let max = self.services.iter().map(|s| s.id).max().unwrap_or(0);
        // Past the largest id; a catalogue that ends near u64::MAX gets an id
        // below its smallest instead.
        max.checked_add(1_000_000).unwrap_or_else(|| {
            self.services
                .iter()
                .map(|s| s.id)
                .min()
                .unwrap_or(1)
                .saturating_sub(1)
        })
    }

    /// The balance now, as the panel writes it, or why it could not be read.
    pub async fn balance(&self) -> Result<(Decimal, String), BalanceError> {
        self.balance_of(&self.client.target().key).await
    }

    /// The balance of `key` (the run's, or another account's), read as a
    /// number whatever its shape (a negative one included: `balance.schema`
    /// judges the shape), or why it could not be read.
    pub async fn balance_of(&self, key: &str) -> Result<(Decimal, String), BalanceError> {
        let exchange = self
            .client
            .post(vec![
                (smm_contract::field::KEY.to_owned(), key.to_owned()),
                (
                    smm_contract::field::ACTION.to_owned(),
                    Action::Balance.as_str().to_owned(),
                ),
            ])
            .await;
        let value = match &exchange.answer {
            Ok(a) => a.json.clone().ok_or(BalanceError::NotJson)?,
            Err(e) => return Err(BalanceError::NoAnswer(e.clone())),
        };
        let text = match &value["balance"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(BalanceError::NoBalance(value.to_string())),
        };
        let amount = text
            .parse::<Decimal>()
            .map_err(|_| BalanceError::NotANumber(text.clone()))?;
        Ok((amount, text))
    }
}

/// Reads the balance again and records a failure if it is no longer
/// `before` (as read earlier: amount and text): `what` says what should have
/// left it alone, `request` is the request to show. Err: the balance could
/// not be read.
pub async fn expect_unmoved(
    ctx: &Ctx,
    f: &mut Findings,
    before: &(Decimal, String),
    what: &str,
    request: String,
) -> Result<(), Verdict> {
    let (after, text) = ctx.balance().await?;
    if after != before.0 {
        f.fail_plain(
            format!("the balance went from {} to {text} {what}", before.1),
            request,
            format!("balance {}", before.1),
            format!("balance {text}"),
        );
    }
    Ok(())
}

/// Why the balance could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BalanceError {
    /// No answer.
    #[error("balance: {0}")]
    NoAnswer(TransportError),
    /// An answer that is not JSON.
    #[error("balance: not JSON")]
    NotJson,
    /// JSON without a balance.
    #[error("balance: no balance in {0}")]
    NoBalance(String),
    /// A balance that is not a number.
    #[error("balance: `{0}` is not a number")]
    NotANumber(String),
}

impl From<BalanceError> for Verdict {
    /// A check that cannot read the balance cannot check money: an Error.
    fn from(e: BalanceError) -> Verdict {
        Verdict::with(Outcome::Error, e.to_string(), Vec::new())
    }
}

/// `rate × quantity / 1000`, unrounded.
/// Saturates at `Decimal::MAX` (then no budget can hold it).
pub fn price(rate: Decimal, quantity: u64) -> Decimal {
    rate.checked_mul(Decimal::from(quantity))
        .and_then(|gross| gross.checked_div(Decimal::from(1000)))
        .unwrap_or(Decimal::MAX)
}

/// Whether `shown` (a decimal string at the panel's precision) is `exact`
/// within one unit in its last place.
pub fn money_matches(shown: &str, exact: Decimal) -> bool {
    let Ok(value) = shown.parse::<Decimal>() else {
        return false;
    };
    let places = shown.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
    let ulp = Decimal::new(1, places.min(28));
    (value - exact).abs() <= ulp
}

/// The decimal places of an amount as the panel writes it.
pub fn places_of(text: &str) -> u32 {
    text.split_once('.')
        .map_or(0, |(_, fraction)| fraction.len() as u32)
}

/// `amount` as a panel writing `places` decimals shows it (rounded half
/// away from zero, every place written): what a user compares with the
/// panel's own strings.
pub fn at_places(amount: Decimal, places: u32) -> String {
    let places = places.min(28);
    let rounded =
        amount.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{rounded:.prec$}", prec = places as usize)
}

/// What a check found, turned into a verdict at the end.
#[derive(Debug, Default)]
pub struct Findings {
    fails: Vec<(String, Evidence)>,
    drifts: Vec<(String, Evidence)>,
    errors: Vec<(String, Evidence)>,
    warns: Vec<(String, Evidence)>,
}

/// The largest answer a failure shows a JSON diff of.
const DIFF_LIMIT: usize = 64 * 1024;

/// A JSON value as a message may quote it: written only up to about `limit`
/// bytes (a huge answer is never written out whole), keys masked.
pub fn brief(client: &Client, value: &Value, limit: usize) -> String {
    /// Takes bytes until it is full, then refuses more.
    struct Upto(Vec<u8>, usize);
    impl std::io::Write for Upto {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() >= self.1 {
                return Err(std::io::Error::other("full"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Upto(Vec::new(), limit + 64);
    let whole = serde_json::to_writer(&mut out, value).is_ok();
    let text = String::from_utf8_lossy(&out.0).into_owned();
    if whole {
        client.excerpt(&text, limit)
    } else {
        format!("{}…", client.excerpt(&text, limit))
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

impl Findings {
    fn evidence(
        client: &Client,
        exchange: &Exchange,
        expected: &str,
        expected_json: Option<&Value>,
    ) -> Evidence {
        let (actual, diff) = match &exchange.answer {
            Ok(answer) => {
                let actual = format!(
                    "HTTP {} {}: {}",
                    answer.status,
                    client.excerpt(&answer.content_type, 200),
                    client.excerpt(&String::from_utf8_lossy(&answer.body), 600)
                );
                // A diff only of answers small enough to read (a huge one
                // would cost more than it shows).
                let small = answer.body.len() <= DIFF_LIMIT;
                let diff = match (expected_json, &answer.json) {
                    (Some(want), Some(got)) if want != got && small => Some(
                        similar::TextDiff::from_lines(&pretty(want) as &str, &pretty(got) as &str)
                            .unified_diff()
                            .header("expected", "actual")
                            .to_string(),
                    ),
                    _ => None,
                };
                (actual, diff)
            }
            Err(e) => (e.to_string(), None),
        };
        Evidence {
            request: client.curl(exchange),
            expected: expected.to_owned(),
            actual,
            diff,
        }
    }

    /// The panel broke the contract on this exchange.
    pub fn fail(
        &mut self,
        client: &Client,
        exchange: &Exchange,
        why: impl Into<String>,
        expected: &str,
    ) {
        let e = Self::evidence(client, exchange, expected, None);
        self.fails.push((why.into(), e));
    }

    /// Like `fail`, with the expected JSON, so the report shows a diff.
    pub fn fail_json(
        &mut self,
        client: &Client,
        exchange: &Exchange,
        why: impl Into<String>,
        expected: &Value,
    ) {
        let e = Self::evidence(client, exchange, &expected.to_string(), Some(expected));
        self.fails.push((why.into(), e));
    }

    /// A failure not tied to one exchange (money, lifecycle).
    pub fn fail_plain(
        &mut self,
        why: impl Into<String>,
        request: String,
        expected: String,
        actual: String,
    ) {
        self.fails.push((
            why.into(),
            Evidence {
                request,
                expected,
                actual,
                diff: None,
            },
        ));
    }

    /// Drift of CONTRACT §6 items 1-4.
    pub fn drift(
        &mut self,
        client: &Client,
        exchange: &Exchange,
        why: impl Into<String>,
        expected: &str,
    ) {
        let e = Self::evidence(client, exchange, expected, None);
        self.drifts.push((why.into(), e));
    }

    /// A warning in both modes (a service type outside §2.1, rate limiting met).
    pub fn warn(
        &mut self,
        why: impl Into<String>,
        request: String,
        expected: String,
        actual: String,
    ) {
        self.warns.push((
            why.into(),
            Evidence {
                request,
                expected,
                actual,
                diff: None,
            },
        ));
    }

    /// Could not check this exchange.
    pub fn error(&mut self, client: &Client, exchange: &Exchange, why: impl Into<String>) {
        let e = Self::evidence(client, exchange, "an answer", None);
        self.errors.push((why.into(), e));
    }

    /// Whether anything went wrong so far.
    pub fn is_clean(&self) -> bool {
        self.fails.is_empty()
            && self.drifts.is_empty()
            && self.errors.is_empty()
            && self.warns.is_empty()
    }

    /// The verdict: Fail > Error > Warn (drift: Fail in strict mode) > Pass.
    pub fn verdict(self, mode: Mode, pass: impl Into<String>) -> Verdict {
        let collect = |list: Vec<(String, Evidence)>| -> (String, Vec<Evidence>) {
            let first = list.first().map(|(w, _)| w.clone()).unwrap_or_default();
            let more = list.len().saturating_sub(1);
            let message = if more > 0 {
                format!("{first} (and {more} more)")
            } else {
                first
            };
            (message, list.into_iter().map(|(_, e)| e).take(5).collect())
        };
        let strict = mode == Mode::Strict;
        let mut fails = self.fails;
        if strict {
            fails.extend(self.drifts.iter().cloned());
        }
        if !fails.is_empty() {
            let (m, e) = collect(fails);
            return Verdict::with(Outcome::Fail, m, e);
        }
        if !self.errors.is_empty() {
            let (m, e) = collect(self.errors);
            return Verdict::with(Outcome::Error, m, e);
        }
        let mut warns = self.warns;
        if !strict {
            warns.extend(self.drifts);
        }
        if !warns.is_empty() {
            let (m, e) = collect(warns);
            return Verdict::with(Outcome::Warn, m, e);
        }
        Verdict::pass(pass)
    }
}

/// Reads an exchange as a `kind`: the JSON value (with §6 1-4 drift undone),
/// or `None` after recording why it could not be read.
pub fn judge(ctx: &Ctx, findings: &mut Findings, exchange: &Exchange, kind: Kind) -> Option<Value> {
    let answer = match &exchange.answer {
        Ok(answer) => answer,
        Err(e) => {
            findings.error(&ctx.client, exchange, format!("{}: {e}", kind.name()));
            return None;
        }
    };
    let Some(value) = &answer.json else {
        findings.fail(
            &ctx.client,
            exchange,
            format!("{}: the answer is not JSON", kind.name()),
            "a JSON body",
        );
        return None;
    };
    let expected = format!(
        "a valid `{}` answer (schemas/{}.schema.json)",
        kind.name(),
        kind.name()
    );
    match schema::read(kind, value) {
        Reading::Conforms => Some(value.clone()),
        Reading::Drift(errors) => {
            findings.drift(
                &ctx.client,
                exchange,
                format!("{} drifts: {}", kind.name(), errors[0]),
                &expected,
            );
            Some(schema::normalize(kind, value.clone()))
        }
        Reading::Broken(errors) => {
            findings.fail(
                &ctx.client,
                exchange,
                format!("{} breaks its schema: {}", kind.name(), errors[0]),
                &expected,
            );
            None
        }
    }
}

/// Expects a top-level error object; records a failure otherwise. True if it was one.
pub fn expect_error(ctx: &Ctx, findings: &mut Findings, exchange: &Exchange, what: &str) -> bool {
    let answer = match &exchange.answer {
        Ok(answer) => answer,
        Err(e) => {
            findings.error(&ctx.client, exchange, format!("{what}: {e}"));
            return false;
        }
    };
    let expected = json_error_example();
    match &answer.json {
        Some(value) if schema::is_error(value) => true,
        Some(value) if schema::mentions_error(value) => {
            findings.fail_json(
                &ctx.client,
                exchange,
                format!("{what}: the error object has other keys beside `error`"),
                &expected,
            );
            false
        }
        Some(_) => {
            findings.fail_json(
                &ctx.client,
                exchange,
                format!("{what}: answered without an error"),
                &expected,
            );
            false
        }
        None => {
            findings.fail(
                &ctx.client,
                exchange,
                format!("{what}: the answer is not JSON"),
                r#"{"error": "<message>"}"#,
            );
            false
        }
    }
}

fn json_error_example() -> Value {
    serde_json::json!({"error": "<message>"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_shown_at_the_panels_places() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(at_places(d("0.0010032"), 5), "0.00100");
        assert_eq!(at_places(d("0.000035"), 5), "0.00004");
        assert_eq!(at_places(d("1.2"), 2), "1.20");
        assert_eq!(at_places(d("7"), 0), "7");
    }
}
