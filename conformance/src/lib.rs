//! `smm-conformance`: checks an SMM panel (API v2) against its contract.
//!
//! A panel implementer points it at a panel's URL and key and gets a precise,
//! reproducible verdict: one record per check of the catalogue, each tied to
//! the contract section it enforces, with the request (key masked), what was
//! expected, what came back and a diff.
//!
//! ```no_run
//! # async fn demo() {
//! use smm_conformance::{execute, Options};
//!
//! // No URL: the built-in mock panel, started in-process.
//! let run = execute(Options::default()).await.expect("a run");
//! assert_eq!(run.report.counts.failed, 0);
//! # }
//! ```
//!
//! How the parts fit: [`client`] talks HTTP (timeouts, 429, no redirects,
//! keys masked); [`schema`] holds the contract's schemas and their strict and
//! tolerant readings; [`checks`] are the checks, [`suite`] their catalogue and
//! the run; [`outcome`] is the result model; [`report`] turns it into text,
//! JSON or JUnit; [`cli`] is the command line. [`snapshot`] records a
//! panel's observable contract and classes changes; [`clone`] turns a
//! snapshot or a proxy recording into a mock fixture that behaves alike.

pub mod admin;
pub mod checks;
pub mod cli;
pub mod client;
pub mod clone;
pub mod coverage;
pub mod ledger;
pub mod outcome;
pub mod preflight;
pub mod proxy;
pub mod replay;
pub mod report;
pub mod schema;
pub mod snapshot;
pub mod stop;
pub mod suite;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use smm_contract::{field, Action};
use smm_mock::profile::Profile;
use smm_mock::{Config, Fixture, MockPanel};

use crate::checks::{Budget, Ctx};
use crate::client::{Client, Target};
use crate::outcome::{Mode, Outcome, Report, StopCause, Stopped};
use crate::suite::Selection;

/// The User-Agent the reference client sends (CONTRACT §1).
pub const DEFAULT_USER_AGENT: &str = "Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0)";

/// What to check and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The endpoint; `None`: start the built-in mock in-process.
    pub url: Option<String>,
    /// The API key.
    pub key: Option<String>,
    /// A key of another account (isolation checks).
    pub second_key: Option<String>,
    /// Tolerant or strict.
    pub mode: Mode,
    /// Whether checks may place orders.
    pub allow_orders: bool,
    /// The most the run may spend.
    pub max_spend: Option<Decimal>,
    /// Cases per property.
    pub cases: u32,
    /// Seed of the properties.
    pub seed: u64,
    /// Which checks.
    pub selection: Selection,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Timeout of the whole run.
    pub run_timeout: Duration,
    /// Checks at once, and a property's cases at once.
    pub concurrency: usize,
    /// Existing orders of the key (`--order`).
    pub orders: Vec<u64>,
    /// The mock's admin API (`--mock-admin`).
    pub mock_admin: Option<String>,
    /// Deviation profiles of the in-process mock.
    pub mock_profiles: Vec<Profile>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// User-Agent.
    pub user_agent: String,
    /// Requests per second (0: no limit).
    pub rate: f64,
    /// Told of each check as it ends (a terminal's progress line).
    pub progress: Option<suite::Progress>,
    /// How long one order (or refill) is watched at most (`--watch`).
    pub watch: Duration,
    /// The link template of the run's orders (`--link`): `{word}` is the
    /// outcome an order asks for, `{num}` its number.
    pub link: String,
    /// Orders placed at once by `money.concurrency`.
    pub concurrent_orders: usize,
    /// The largest answer body read, in bytes (`--max-body`).
    pub max_body: usize,
    /// Stops the run early when asked (Ctrl-C): the report then holds what
    /// was checked.
    pub stop: stop::Stop,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            url: None,
            key: None,
            second_key: None,
            mode: Mode::Tolerant,
            allow_orders: false,
            max_spend: None,
            cases: 64,
            seed: 0,
            selection: Selection::default(),
            timeout: Duration::from_secs(10),
            run_timeout: Duration::from_secs(600),
            concurrency: 8,
            orders: Vec::new(),
            mock_admin: None,
            mock_profiles: Vec::new(),
            headers: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            rate: 0.0,
            progress: None,
            watch: Duration::from_secs(60),
            link: checks::drive::DEFAULT_LINK.to_owned(),
            concurrent_orders: 8,
            max_body: client::DEFAULT_MAX_BODY,
            stop: stop::Stop::new(),
        }
    }
}

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Wrong usage (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The target could not be reached (exit code 3).
    #[error("{0}")]
    Unreachable(String),
}

/// A finished run: its report, with every key masked.
#[derive(Debug)]
pub struct Run {
    /// The report, redacted: no key appears in any of its texts.
    pub report: Report,
    /// The keys that were masked (an output that adds text of its own masks
    /// them too).
    pub secrets: Vec<String>,
}

/// The keys `options` name: every output masks them.
pub fn secrets_of(options: &Options) -> Vec<String> {
    options
        .key
        .iter()
        .chain(&options.second_key)
        .filter(|k| !k.is_empty())
        .cloned()
        .collect()
}

/// The report of a run that stopped before its first check (the target
/// could not be reached, or the user must fix something first): every
/// selected check an Error saying why, so CI still gets its report files,
/// and the exit code the cause gives.
pub fn stopped_report(options: &Options, cause: StopCause, why: &str) -> Report {
    let secrets = secrets_of(options);
    let target = options.url.as_deref().unwrap_or("in-process mock");
    let mut report = Report::new(
        target.to_owned(),
        options.mode,
        options.seed,
        options.cases,
        suite::not_run(&options.selection, Outcome::Error, why),
    );
    report.stopped = Some(Stopped {
        cause,
        reason: why.to_owned(),
    });
    report::redact_report(&report, &secrets)
}

/// The in-process mock's spending cap when none is given.
pub const MOCK_MAX_SPEND: u32 = 100;

/// A target reached: the client, what to call it, and the in-process mock
/// when there is one (kept alive as long as this is).
pub struct Connected {
    /// The options, completed for the in-process mock.
    pub options: Options,
    /// The client.
    pub client: Client,
    /// Keys every output masks.
    pub secrets: Vec<String>,
    /// The target as reports name it.
    pub target_name: String,
    /// The first exchange, `services`.
    pub services_exchange: client::Exchange,
    /// The in-process mock, when no URL was given.
    pub mock: Option<MockPanel>,
}

/// Reaches the target (or starts the in-process mock), checks the options
/// against it, and asks for the catalogue.
pub async fn connect(options: Options) -> Result<Connected, RunError> {
    let mut options = options;
    let mut mock = None;
    let (target_name, shown_url) = match &options.url {
        Some(url) => {
            if options.key.as_deref().is_none_or(str::is_empty) {
                return Err(RunError::Usage(
                    "no API key: give --key, --key-file or SMM_API_KEY".into(),
                ));
            }
            if options.allow_orders && options.max_spend.is_none() {
                return Err(RunError::Usage(
                    "--allow-orders needs --max-spend AMOUNT, the most the run may spend".into(),
                ));
            }
            if !options.allow_orders && options.max_spend.is_some() {
                return Err(RunError::Usage(
                    "--max-spend only counts with --allow-orders: without it no order is placed"
                        .into(),
                ));
            }
            if options.second_key.is_some() && options.second_key == options.key {
                return Err(RunError::Usage(
                    "--second-key is the key of another account: it must differ from --key".into(),
                ));
            }
            (url.clone(), url.clone())
        }
        None => {
            let config = Config {
                profiles: options.mock_profiles.iter().copied().collect(),
                ..Config::new(Fixture::builtin())
            };
            let fixture = config.fixture.clone();
            let panel = MockPanel::start_with(config).await.map_err(|e| {
                RunError::Unreachable(format!("cannot start the in-process mock: {e}"))
            })?;
            options.url = Some(panel.url());
            options.key = Some(fixture.accounts[0].key.clone());
            options.second_key = fixture.accounts.get(1).map(|a| a.key.clone());
            options.mock_admin = Some(panel.admin_url());
            options.allow_orders = true;
            options.max_spend = options.max_spend.or(Some(Decimal::from(MOCK_MAX_SPEND)));
            if options.orders.is_empty() {
                options.orders = (0..fixture.orders.len() as u64)
                    .map(|i| fixture.first_order_id + i)
                    .collect();
            }
            mock = Some(panel);
            let names: Vec<&str> = options.mock_profiles.iter().map(|p| p.name()).collect();
            let name = if names.is_empty() {
                "in-process mock".to_owned()
            } else {
                format!("in-process mock (profiles: {})", names.join(", "))
            };
            (name, "http://127.0.0.1:8080/api/v2".to_owned())
        }
    };
    let target = Target {
        url: options.url.clone().unwrap_or_default(),
        shown_url,
        key: options.key.clone().unwrap_or_default(),
        second_key: options.second_key.clone().filter(|k| !k.is_empty()),
        timeout: options.timeout,
        headers: options.headers.clone(),
        user_agent: options.user_agent.clone(),
        rate: options.rate,
        max_body: options.max_body,
    };
    let client = Client::new(target)
        .map_err(|e| RunError::Usage(e.to_string()))?
        .stopping_on(options.stop.clone());
    // The in-process mock's keys are the built-in fixture's, printed by
    // `smm-mock` itself: not secrets, and masking them would mask check ids.
    let secrets = if mock.is_some() {
        Vec::new()
    } else {
        client.secrets()
    };

    let services_exchange = client.call(Action::Services, &[]).await;
    if mock.is_none() {
        preflight::basics(&client, &services_exchange)
            .await
            .map_err(|e| match e {
                RunError::Usage(m) => RunError::Usage(report::redact(&m, &secrets)),
                RunError::Unreachable(m) => RunError::Unreachable(report::redact(&m, &secrets)),
            })?;
    }
    if mock.is_none() {
        for order in &options.orders {
            let exchange = client
                .call(Action::Status, &[(field::ORDER, &order.to_string())])
                .await;
            let refused = exchange.json().is_none_or(schema::is_error);
            if refused {
                let answered = exchange
                    .answer
                    .as_ref()
                    .map(|a| client.excerpt(&String::from_utf8_lossy(&a.body), 120))
                    .unwrap_or_else(|e| e.to_string());
                return Err(RunError::Usage(report::redact(
                    &format!("--order {order}: the panel has no such order for this key (status answered {answered})"),
                    &secrets,
                )));
            }
        }
    }
    Ok(Connected {
        options,
        client,
        secrets,
        target_name,
        services_exchange,
        mock,
    })
}

/// The checks that ask about an existing order of the key.
const STATUS_SHAPED: [&str; 4] = [
    "bulk.status.sizes",
    "bulk.status.per-id-errors",
    "bulk.status.duplicates",
    "property.status",
];

/// Before the checks of a run that may order: the balance at the start (for
/// the ledger), and, when no `--order` was given and a status-shaped check
/// is selected, one order of the cheapest `Default` service for them to ask
/// about (listed as placed by `setup`).
async fn prepare(ctx: &mut Ctx, selection: &Selection) {
    if let Ok((amount, text)) = ctx.balance().await {
        ctx.ledger().start = Some((text, amount));
    }
    if !ctx.known_orders.is_empty() || !STATUS_SHAPED.iter().any(|id| selection.selects(id)) {
        return;
    }
    let Some(service) = ctx.cheapest_default().first().copied().cloned() else {
        return;
    };
    let order = checks::refill::smallest(&service, checks::drive::Word::Complete);
    let mut findings = checks::Findings::default();
    if let Ok(placed) = ctx.place(&mut findings, "setup", order).await {
        ctx.known_orders.push(placed.id);
    }
}

/// Runs the checks as `options` say.
pub async fn execute(options: Options) -> Result<Run, RunError> {
    let started = std::time::Instant::now();
    let Connected {
        options,
        client,
        secrets,
        target_name,
        services_exchange,
        mock: _mock,
    } = connect(options).await?;
    let services = suite::services_of(services_exchange.json());
    let self_moving = match &options.mock_admin {
        Some(admin) => admin::polls_advance(&client, admin).await.unwrap_or(false),
        None => false,
    };
    let mut ctx = Ctx {
        client,
        mode: options.mode,
        budget: options.allow_orders.then(|| {
            Mutex::new(Budget {
                cap: options.max_spend.unwrap_or_default(),
                spent: Decimal::ZERO,
            })
        }),
        services,
        services_exchange,
        known_orders: options.orders.clone(),
        admin: options.mock_admin.clone(),
        cases: options.cases,
        concurrency: options.concurrency,
        seed: options.seed,
        deadline: std::time::Instant::now().checked_add(options.run_timeout),
        ledger: Mutex::new(ledger::Ledger::default()),
        watch: options.watch,
        link: options.link.clone(),
        links: std::sync::atomic::AtomicU64::new(0),
        self_moving,
        concurrent_orders: options.concurrent_orders,
        settled: std::sync::atomic::AtomicBool::new(false),
        progress: options.progress.clone(),
    };
    if ctx.budget.is_some() {
        prepare(&mut ctx, &options.selection).await;
    }
    let ctx = Arc::new(ctx);
    let results = suite::run(
        Arc::clone(&ctx),
        &options.selection,
        options.concurrency,
        options.run_timeout,
        options.progress.clone(),
        &options.stop,
    )
    .await;
    let placed: Vec<(u64, String)> = ctx
        .ledger()
        .orders
        .iter()
        .map(|e| (e.id, e.placed_by.clone()))
        .collect();
    let mut results = results;
    for e in results.iter_mut().flat_map(|c| c.evidence.iter_mut()) {
        e.request = replay::with_orders(&e.request, &placed);
    }
    let mut report = Report::new(
        target_name,
        options.mode,
        options.seed,
        options.cases,
        results,
    );
    report.duration = started.elapsed();
    report.orders = ctx.ledger().summary();
    if options.stop.is_asked() {
        let unfinished = report
            .checks
            .iter()
            .filter(|c| c.message.starts_with(outcome::INTERRUPTED))
            .count();
        report.stopped = Some(Stopped {
            cause: StopCause::Interrupted,
            reason: format!(
                "interrupted (Ctrl-C or SIGTERM): {unfinished} of {} checks not finished; {} order{} placed",
                report.checks.len(),
                report.orders.len(),
                if report.orders.len() == 1 { "" } else { "s" }
            ),
        });
    }
    let types: Vec<(u64, String)> = ctx
        .services
        .iter()
        .map(|s| (s.id, s.kind.clone()))
        .collect();
    report.coverage = Some(coverage::Coverage::of(
        &ctx.client.observations().noted,
        &types,
    ));
    Ok(Run {
        report: report::redact_report(&report, &secrets),
        secrets,
    })
}
