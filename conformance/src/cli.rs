//! The command line: its arguments (clap), turned into the library's
//! options, and each subcommand dispatched: `run`, `list`, `snapshot`,
//! `diff`. What a subcommand writes is rendered by [`crate::report`].

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use smm_mock::profile::Profile;

use crate::outcome::{exit_code, Mode, StopCause};
use crate::report::diff::DiffReport;
pub use crate::report::Format;
use crate::report::{self, human};
use crate::snapshot::{Severity, Snapshot};
use crate::suite::{catalogue, Event, Selection};
use crate::{Options, RunError};

/// Checks an SMM panel (API v2) against its contract.
#[derive(Debug, Parser)]
#[command(name = "smm-conformance", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks against a panel (or, without --url, the built-in mock).
    Run(Box<RunArgs>),
    /// Print every check: id, contract section, what it checks.
    List,
    /// Record a panel's observable contract (read-only: places no order).
    Snapshot(Box<SnapshotArgs>),
    /// Compare two snapshots, or a snapshot with the live panel, and class each change.
    Diff(Box<DiffArgs>),
    /// Write a mock fixture that behaves like the panel a snapshot or a proxy recording observed.
    Clone(Box<CloneArgs>),
    /// Relay a client's traffic to a panel unchanged, and judge each answer live.
    Proxy(Box<ProxyArgs>),
}

/// `clone`'s options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "FILE is a snapshot (smm-conformance snapshot -o FILE) or a proxy recording (smm-conformance proxy --record FILE), told apart by content. The fixture starts from the built-in one (keys test-key, empty-key, eur-key; its lifecycles and rules) and takes the observed catalogue, currency, precision, error messages, orders (seeded in the statuses seen) and the deviation profiles the answers showed. What it cannot reproduce is printed and written into the fixture's description.\n\nServe it with: smm-mock --fixture FIXTURE\n\nExit codes: 0 written, 2 usage error or a file that is neither a snapshot nor a recording."
)]
pub struct CloneArgs {
    /// The snapshot or recording.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// Write the fixture here (default: stdout).
    #[arg(long, short = 'o', value_name = "FIXTURE")]
    pub output: Option<PathBuf>,
}

/// Where a snapshot is taken.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The panel's API endpoint (for `snapshot`, and `diff --against`); without it, the built-in mock runs in-process.
    #[arg(long)]
    pub url: Option<String>,
    /// The API key (or SMM_API_KEY, or --key-file); never printed, never recorded.
    #[arg(long)]
    pub key: Option<String>,
    /// Read the API key from this file (first line).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Existing orders whose status shape to record (repeatable); best in a final state.
    #[arg(long = "order", value_name = "ID")]
    pub orders: Vec<u64>,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// The largest answer read, in bytes (K, M and G suffixes: KiB, MiB, GiB); a larger one is an error.
    #[arg(long, default_value = "4M", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: usize,
    /// An extra header, NAME:VALUE (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// A deviation profile for the in-process mock (repeatable; only without --url).
    #[arg(long = "mock-profile", value_name = "NAME")]
    pub mock_profiles: Vec<Profile>,
}

/// `snapshot`'s options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Read-only: besides services, balance and status, it sends only requests that cannot change anything (a wrong key, an unknown action, refill and cancel of ids that do not exist; never an add with your key).\n\nBefore it, the same basics as `run` (something listens, the protocol, the endpoint, the key), each mistake one message with its fix.\n\nExit codes: 0 written (and a one-line summary on stderr with -o), 2 usage error (a URL that is not the endpoint, a refused key, services not a list), 3 target unreachable."
)]
pub struct SnapshotArgs {
    /// The panel.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Write the snapshot here (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Which changes fail `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Breaking changes.
    Breaking,
    /// Drift and breaking changes.
    Drift,
    /// Any change.
    Any,
    /// Never.
    None,
}

/// `diff`'s options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no change at the --fail-on level, 1 such changes, 2 usage error or unreadable snapshot, 3 target unreachable."
)]
pub struct DiffArgs {
    /// The older snapshot.
    #[arg(value_name = "OLD", required_unless_present = "against")]
    pub old: Option<PathBuf>,
    /// The newer snapshot.
    #[arg(value_name = "NEW", required_unless_present = "against")]
    pub new: Option<PathBuf>,
    /// Compare this stored snapshot with the live panel (--url, --key).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["old", "new"])]
    pub against: Option<PathBuf>,
    /// The live panel, with --against.
    #[command(flatten)]
    pub target: TargetArgs,
    /// A rate rising by more than this percentage is breaking (default: any rise is compatible).
    #[arg(long, value_name = "PCT")]
    pub max_rate_increase: Option<Decimal>,
    /// Which changes make the exit code 1.
    #[arg(long, default_value = "breaking")]
    pub fail_on: FailOn,
    /// What stdout gets.
    #[arg(long, default_value = "human")]
    pub format: Format,
}

/// `run`'s options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The key may also come from SMM_API_KEY (and the second key from SMM_API_KEY_2); it is never printed.\n\nBefore any check, the basics: something listens, it speaks the URL's protocol, the URL is an SMM endpoint, the panel takes the key; a mistake there is one message with the fix.\n\nExit codes: 0 nothing failed, 1 contract failures, 2 usage error (a URL that is no endpoint, a refused key included), 3 target unreachable or errors only, 130 interrupted (Ctrl-C or SIGTERM: the checks done are reported, the orders placed listed, every report file written)."
)]
pub struct RunArgs {
    /// The panel's API endpoint as you would paste it (https://panel.example/api/v2). Without it, the built-in mock runs in-process.
    #[arg(long)]
    pub url: Option<String>,
    /// The API key (or SMM_API_KEY, or --key-file).
    #[arg(long)]
    pub key: Option<String>,
    /// Read the API key from this file (first line).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// A key of another account (or SMM_API_KEY_2): isolation.cross-key checks it cannot see the run's orders; money.funds, when its balance is low, that it cannot overdraw.
    #[arg(long)]
    pub second_key: Option<String>,
    /// tolerant: real-world drift (CONTRACT §6 items 1-4) warns; strict: it fails.
    #[arg(long, default_value = "tolerant", value_name = "MODE")]
    pub mode: Mode,
    /// Let checks place real orders (they are skipped otherwise). Needs --max-spend.
    #[arg(long)]
    pub allow_orders: bool,
    /// The most the run may spend, in the account's currency; no order is sent that could pass it.
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub max_spend: Option<Decimal>,
    /// Existing order ids of the key, for the status-shaped checks (repeatable).
    #[arg(long = "order", value_name = "ID")]
    pub orders: Vec<u64>,
    /// Cases per property-based check.
    #[arg(long, default_value_t = 64)]
    pub cases: u32,
    /// Seed of the property-based checks; the same seed replays the same requests.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run only these checks (ids or prefixes such as `bulk`; repeatable).
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
    /// Skip these checks (ids or prefixes; repeatable).
    #[arg(long, value_name = "ID")]
    pub skip: Vec<String>,
    /// Timeout of one request, in seconds (HTTP 429 retries included).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// The largest answer read, in bytes (K, M and G suffixes: KiB, MiB, GiB); a larger one is an error, and no more of it is read.
    #[arg(long, default_value = "4M", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: usize,
    /// Timeout of the whole run, in seconds.
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS")]
    pub run_timeout: f64,
    /// How many checks run at once, and how many cases a property sends at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// At most this many requests per second (0: no limit), for panels behind a CDN.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// An extra header, NAME:VALUE (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The User-Agent to send. The default is the one the API's reference PHP client sends (an old Internet Explorer string, CONTRACT §1): panels and their firewalls see it from most real clients, and some refuse agents they do not know.
    #[arg(long, default_value = crate::DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// The smm-mock admin API to use (e.g. http://127.0.0.1:8080/__mock); never probed otherwise.
    #[arg(long, value_name = "URL")]
    pub mock_admin: Option<String>,
    /// A deviation profile for the in-process mock (repeatable; only without --url).
    #[arg(long = "mock-profile", value_name = "NAME")]
    pub mock_profiles: Vec<Profile>,
    /// How long to watch one order (or refill) to its end, in seconds; a check whose order is still running then is skipped.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub watch: f64,
    /// The link of the run's orders: `{word}` becomes the outcome an order asks for (complete, partial, cancel, refill) and `{num}` the order's number in the run.
    #[arg(long, default_value = crate::checks::drive::DEFAULT_LINK, value_name = "TEMPLATE")]
    pub link: String,
    /// How many orders money.concurrency places at once on one key (2 to 100).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrent_orders: usize,
    /// What stdout gets.
    #[arg(long, default_value = "human")]
    pub format: Format,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Also write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,
    /// Print the catalogue of checks and exit.
    #[arg(long)]
    pub list: bool,
}

/// Prints the catalogue.
pub fn list(out: &mut dyn Write) -> std::io::Result<()> {
    for check in catalogue() {
        writeln!(
            out,
            "{:<28} {:<11} {}",
            check.id, check.section, check.title
        )?;
    }
    Ok(())
}

/// Something the user must fix before a check means anything (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// A key file that cannot be read.
    #[error("--key-file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// Both `--key` and `--key-file`.
    #[error("give --key or --key-file, not both")]
    TwoKeys,
    /// An option that needs `--url`.
    #[error("{0} is for a real panel: add --url (without it, the built-in mock runs)")]
    NeedsUrl(&'static str),
    /// `--mock-profile` with `--url`.
    #[error("--mock-profile only applies to the in-process mock (without --url)")]
    ProfileWithUrl,
    /// A URL that is not an http(s) endpoint.
    #[error("--url `{0}`: expected the endpoint as you would paste it, like https://panel.example/api/v2")]
    Url(String),
    /// A selection that names no check.
    #[error("no check is `{0}` or starts with `{0}.`: see `smm-conformance list`")]
    NoSuchCheck(String),
    /// A number out of its range, or a malformed option value.
    #[error("{0}")]
    Value(String),
}

fn usage(err: &mut dyn Write, message: &dyn std::fmt::Display) -> u8 {
    let _ = writeln!(err, "smm-conformance: {message}");
    exit_code::USAGE
}

/// Turns arguments into options, reading the key from a file or the environment.
pub fn options(args: &RunArgs) -> Result<Options, UsageError> {
    let key = resolve_key(&args.key, &args.key_file)?;
    if args.url.is_none() && (args.key.is_some() || args.key_file.is_some() || args.allow_orders) {
        return Err(UsageError::NeedsUrl("--key and --allow-orders"));
    }
    if let Some(url) = &args.url {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return Err(UsageError::Url(url.clone()));
        }
    }
    if args.url.is_none() && args.second_key.is_some() {
        return Err(UsageError::NeedsUrl("--second-key"));
    }
    if args.cases == 0 {
        return Err(UsageError::Value("--cases must be at least 1".into()));
    }
    let ids: Vec<&str> = catalogue().iter().map(|c| c.id).collect();
    let chosen = Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    if !ids.iter().any(|id| chosen.selects(id)) {
        return Err(UsageError::Value(
            "--only and --skip leave no check to run: see `smm-conformance list`".into(),
        ));
    }
    for pattern in args.only.iter().chain(&args.skip) {
        let selection = Selection {
            only: vec![pattern.clone()],
            skip: Vec::new(),
        };
        if !ids.iter().any(|id| selection.selects(id)) {
            return Err(UsageError::NoSuchCheck(pattern.clone()));
        }
    }
    if args.url.is_some() && !args.mock_profiles.is_empty() {
        return Err(UsageError::ProfileWithUrl);
    }
    if args.max_spend.is_some_and(|m| m.is_sign_negative()) {
        return Err(UsageError::Value("--max-spend must be ≥ 0".into()));
    }
    if !args.rate.is_finite() || args.rate < 0.0 {
        return Err(UsageError::Value(format!(
            "--rate {}: expected requests per second, 0 or more",
            args.rate
        )));
    }
    if !args.link.contains("{word}") {
        return Err(UsageError::Value(format!(
            "--link `{}`: the template needs {{word}}, where each order's hoped-for outcome goes",
            args.link
        )));
    }
    let filled = args.link.replace("{word}", "").replace("{num}", "");
    if let Some(at) = filled.find('{') {
        let rest: String = filled[at..].chars().take(12).collect();
        return Err(UsageError::Value(format!(
            "--link `{}`: unknown placeholder `{rest}` (the template knows {{word}} and {{num}})",
            args.link
        )));
    }
    if !(2..=100).contains(&args.concurrent_orders) {
        return Err(UsageError::Value(
            "--concurrent-orders must be between 2 and 100".into(),
        ));
    }
    let headers = parse_headers(&args.headers)?;
    Ok(Options {
        url: args.url.clone(),
        key: if args.url.is_some() { key } else { None },
        second_key: args
            .second_key
            .clone()
            .or_else(|| std::env::var("SMM_API_KEY_2").ok())
            .filter(|_| args.url.is_some()),
        mode: args.mode,
        allow_orders: args.allow_orders,
        max_spend: args.max_spend,
        cases: args.cases,
        seed: args.seed,
        selection: Selection {
            only: args.only.clone(),
            skip: args.skip.clone(),
        },
        timeout: seconds("--timeout", args.timeout)?,
        run_timeout: seconds("--run-timeout", args.run_timeout)?,
        concurrency: args.concurrency,
        orders: args.orders.clone(),
        mock_admin: args.mock_admin.clone(),
        mock_profiles: args.mock_profiles.clone(),
        headers,
        user_agent: args.user_agent.clone(),
        rate: args.rate,
        progress: None,
        watch: seconds("--watch", args.watch)?,
        max_body: args.max_body,
        link: args.link.clone(),
        concurrent_orders: args.concurrent_orders,
        stop: crate::stop::Stop::new(),
    })
}

/// Runs `run` and writes the reports; returns the exit code. Progress goes
/// to `err`, and only when `progress` is set (a terminal). When `stop` is
/// asked for (Ctrl-C), the run ends early with the report of what it checked.
pub async fn run(
    args: &RunArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: bool,
    stop: crate::stop::Stop,
) -> u8 {
    if args.list {
        let _ = list(out);
        return exit_code::OK;
    }
    let mut options = match options(args) {
        Ok(options) => options,
        Err(e) => {
            // The report files are written all the same, so a CI job has
            // one to show (an unreadable key file, a bad option value).
            let shown = Options {
                url: args.url.clone(),
                ..Options::default()
            };
            let report = crate::stopped_report(&shown, StopCause::Usage, &e.to_string());
            let _ = write_reports(&report, &args.report_json, &args.report_junit, err);
            return usage(err, &e);
        }
    };
    options.stop = stop;
    let secrets = crate::secrets_of(&options);
    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel::<Event>();
    if progress {
        let _ = writeln!(
            err,
            "smm-conformance: checking {} …",
            report::redact(
                options.url.as_deref().unwrap_or("the in-process mock"),
                &secrets
            )
        );
        options.progress = Some(crate::suite::Progress(std::sync::Arc::new(move |event| {
            let _ = events.send(event);
        })));
    } else {
        drop(events);
    }
    // Progress is written as it comes, to the injected writer; reports stay
    // byte-stable.
    // The listener ends when the last sender is gone: the copy kept for the
    // fallback report holds none.
    let mut kept = options.clone();
    kept.progress = None;
    let execution = crate::execute(options);
    let listening = async {
        let mut line = human::ProgressLine::default();
        while let Some(event) = heard.recv().await {
            let _ = line.hear(err, event);
        }
    };
    let (result, ()) = tokio::join!(execution, listening);
    let report = match result {
        Ok(run) => run.report,
        Err(e) => {
            let (cause, message) = match e {
                RunError::Usage(m) => (StopCause::Usage, m),
                RunError::Unreachable(m) => (StopCause::Unreachable, m),
            };
            let _ = writeln!(err, "smm-conformance: {message}");
            crate::stopped_report(&kept, cause, &message)
        }
    };
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none()
        && args.format == Format::Human;
    if let Err(code) = write_reports(&report, &args.report_json, &args.report_junit, err) {
        return code;
    }
    let _ = report::write(&report, args.format, color, out);
    report.exit_code()
}

/// A positive, finite number of seconds that a `Duration` can hold.
fn seconds(flag: &str, value: f64) -> Result<Duration, UsageError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            UsageError::Value(format!(
                "{flag} {value}: expected a positive number of seconds"
            ))
        })
}

fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| UsageError::Value(format!("--header `{h}`: expected NAME:VALUE")))
        })
        .collect()
}

fn resolve_key(
    key: &Option<String>,
    key_file: &Option<PathBuf>,
) -> Result<Option<String>, UsageError> {
    match (key, key_file) {
        (Some(_), Some(_)) => Err(UsageError::TwoKeys),
        (Some(k), None) => Ok(Some(k.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| UsageError::KeyFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let key = text.lines().next().unwrap_or("").trim();
            if key.is_empty() {
                return Err(UsageError::KeyFile {
                    path: path.display().to_string(),
                    reason: "its first line is empty: the API key goes there".into(),
                });
            }
            Ok(Some(key.to_owned()))
        }
        (None, None) => Ok(std::env::var("SMM_API_KEY").ok()),
    }
}

/// A size in bytes: a number, or one with a K, M or G suffix (binary), at
/// least 1 KiB.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        other => {
            return Err(format!(
                "`{other}`: expected a size such as 4194304, 512K or 4M"
            ))
        }
    };
    let bytes = number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{text}`: expected a size such as 4194304, 512K or 4M"))?;
    if bytes < 1024 {
        return Err(format!(
            "`{text}`: at least 1K (an answer of the API is rarely shorter)"
        ));
    }
    Ok(bytes)
}

fn target_options(args: &TargetArgs) -> Result<Options, UsageError> {
    let key = resolve_key(&args.key, &args.key_file)?;
    if let Some(url) = &args.url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(UsageError::Url(url.clone()));
        }
        if !args.mock_profiles.is_empty() {
            return Err(UsageError::ProfileWithUrl);
        }
    } else if args.key.is_some() {
        return Err(UsageError::NeedsUrl("--key"));
    }
    let headers = parse_headers(&args.headers)?;
    Ok(Options {
        url: args.url.clone(),
        key: if args.url.is_some() { key } else { None },
        orders: args.orders.clone(),
        timeout: seconds("--timeout", args.timeout)?,
        max_body: args.max_body,
        headers,
        mock_profiles: args.mock_profiles.clone(),
        ..Options::default()
    })
}

/// Takes a live snapshot; on failure, the exit code and the message.
async fn live_snapshot(args: &TargetArgs) -> Result<Snapshot, (u8, String)> {
    let options = target_options(args).map_err(|e| (exit_code::USAGE, e.to_string()))?;
    let connected = crate::connect(options).await.map_err(|e| match e {
        RunError::Usage(m) => (exit_code::USAGE, m),
        RunError::Unreachable(m) => (exit_code::UNREACHABLE, m),
    })?;
    let target = if connected.mock.is_some() {
        connected.target_name.clone()
    } else {
        connected.options.url.clone().unwrap_or_default()
    };
    let snapshot = crate::snapshot::take(&connected.client, &target, &connected.options.orders)
        .await
        .map_err(|e| {
            (
                exit_code::USAGE,
                report::redact(&e.to_string(), &connected.secrets),
            )
        })?;
    // Nothing secret may reach the file, even a key a panel echoed.
    Ok(snapshot.redacted(&connected.secrets))
}

/// Writes the report files asked for (`--report-json`, `--report-junit`);
/// one that cannot be written is the usage exit code, said on `err`.
fn write_reports(
    report: &crate::outcome::Report,
    json: &Option<PathBuf>,
    junit: &Option<PathBuf>,
    err: &mut dyn Write,
) -> Result<(), u8> {
    for (path, format) in [(json, Format::Json), (junit, Format::Junit)] {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(path, report::render(report, format, false)) {
                let _ = writeln!(err, "smm-conformance: cannot write {}: {e}", path.display());
                return Err(exit_code::USAGE);
            }
        }
    }
    Ok(())
}

/// Writes `text` to `path` and says so in one line with `summary`, or
/// writes it to `out` when no path is given; a file that cannot be written
/// is the usage exit code.
fn write_output(
    path: Option<&Path>,
    text: &str,
    summary: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), u8> {
    match path {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                let _ = writeln!(err, "smm-conformance: cannot write {}: {e}", path.display());
                return Err(exit_code::USAGE);
            }
            let _ = writeln!(err, "smm-conformance: wrote {} ({summary})", path.display());
        }
        None => {
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(())
}

/// `snapshot`: writes the snapshot; returns the exit code.
pub async fn snapshot(args: &SnapshotArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let snapshot = match live_snapshot(&args.target).await {
        Ok(s) => s,
        Err((code, message)) => {
            let _ = writeln!(err, "smm-conformance: {message}");
            return code;
        }
    };
    if let Err(code) = write_output(
        args.output.as_deref(),
        &snapshot.to_json(),
        &snapshot.summary(),
        out,
        err,
    ) {
        return code;
    }
    exit_code::OK
}

/// The two snapshots `diff` compares, with their names; or the exit code and
/// why not.
async fn snapshots(args: &DiffArgs) -> Result<(Snapshot, Snapshot, String, String), (u8, String)> {
    let load = |path: &Path| Snapshot::load(path).map_err(|e| (exit_code::USAGE, e.to_string()));
    if args.against.is_none()
        && (args.target.url.is_some()
            || args.target.key.is_some()
            || args.target.key_file.is_some()
            || !args.target.orders.is_empty())
    {
        return Err((
            exit_code::USAGE,
            "--url, --key and --order go with --against FILE (OLD and NEW are both files)".into(),
        ));
    }
    match (&args.against, &args.old, &args.new) {
        (Some(stored), _, _) => {
            let old = load(stored)?;
            // The same orders as the stored snapshot, unless told otherwise.
            let target = TargetArgs {
                orders: if args.target.orders.is_empty() {
                    old.orders.clone()
                } else {
                    args.target.orders.clone()
                },
                ..args.target.clone()
            };
            let new = live_snapshot(&target).await?;
            Ok((old, new, stored.display().to_string(), "live".to_owned()))
        }
        (None, Some(old), Some(new)) => Ok((
            load(old)?,
            load(new)?,
            old.display().to_string(),
            new.display().to_string(),
        )),
        _ => Err((
            exit_code::USAGE,
            "give OLD and NEW snapshots, or --against FILE with --url".into(),
        )),
    }
}

/// `diff`: compares, reports, and returns the exit code.
pub async fn diff(args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (old, new, old_name, new_name) = match snapshots(args).await {
        Ok(pair) => pair,
        Err((code, message)) => {
            let _ = writeln!(err, "smm-conformance: {message}");
            return code;
        }
    };
    let limit = args.max_rate_increase.unwrap_or(Decimal::MAX);
    let changes = crate::snapshot::diff(&old, &new, limit);
    let diff = DiffReport {
        old: (&old, &old_name),
        new: (&new, &new_name),
        changes: &changes,
        fail_from: match args.fail_on {
            FailOn::Breaking => Some(Severity::Breaking),
            FailOn::Drift => Some(Severity::Drift),
            FailOn::Any => Some(Severity::Compatible),
            FailOn::None => None,
        },
    };
    let _ = report::diff::write(&diff, args.format, out);
    if changes.iter().any(|c| diff.fails(c)) {
        exit_code::FAILED
    } else {
        exit_code::OK
    }
}

/// `clone`: writes the fixture; returns the exit code. What the clone
/// cannot reproduce goes to `err`.
pub fn clone(args: &CloneArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let observed = match crate::clone::Observed::load(&args.input) {
        Ok(observed) => observed,
        Err(e) => return usage(err, &e),
    };
    let file = args.input.display().to_string();
    let cloned = crate::clone::build(&observed, &file);
    let text = cloned.to_json();
    // The fixture must be one the mock serves: a refusal here is a bug of
    // `clone`, said as such.
    if let Err(e) = smm_mock::Fixture::parse("<clone>", &text) {
        let _ = writeln!(
            err,
            "smm-conformance: the clone is not a valid fixture (a bug): {e}"
        );
        return exit_code::FAILED;
    }
    if let Err(code) = write_output(args.output.as_deref(), &text, &cloned.summary(), out, err) {
        return code;
    }
    for inferred in &cloned.profiles {
        let _ = writeln!(
            err,
            "  profile {}: {}",
            inferred.profile.name(),
            inferred.evidence
        );
    }
    for note in &cloned.notes {
        let _ = writeln!(err, "  not reproduced: {note}");
    }
    exit_code::OK
}

/// `proxy`'s options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Point the client at the proxy's URL instead of the panel's. Every request is relayed unchanged (form, query string or JSON body; /api/v2 and /api/v2/), every answer returned unchanged and judged with the checks of `run` that one exchange can decide; one line per violation on stderr. The proxy places nothing on its own: it only relays what the client sends. Keys pass through to the panel and are masked in every line, report and recording.\n\nCtrl-C (or SIGTERM) stops it: the summary on stdout, the report files written.\n\nExit codes: 0 no violation failed, 1 a check failed, 2 usage error (a bad --upstream, a port in use, a file that cannot be written)."
)]
pub struct ProxyArgs {
    /// The panel's API endpoint, as you would paste it (https://panel.example/api/v2).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Where to listen, HOST:PORT (a host name or an IP address); port 0 picks a free port (the ready line shows it).
    #[arg(long, default_value = crate::proxy::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: smm_mock::listen::ListenAddr,
    /// tolerant: real-world drift (CONTRACT §6 items 1-4) warns; strict: it fails.
    #[arg(long, default_value = "tolerant", value_name = "MODE")]
    pub mode: Mode,
    /// Write the exchanges seen to this file, keys masked (JSON Lines, schemas/recording.schema.json).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The most of one answer kept to judge and record (K, M and G suffixes); a larger answer is relayed whole and not judged.
    #[arg(long, default_value = "4M", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: usize,
    /// The longest wait for the panel, in seconds: for its answer to start, and between two pieces of it. Past it, the client's connection is closed.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// At the end, write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// At the end, write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,
}

/// `proxy`: relays and judges until `stop` is asked for (Ctrl-C), then
/// writes the summary to `out` and the report files; returns the exit code.
/// The ready line and any usage error go to `err`; one line per violation
/// to `lines`.
pub async fn proxy(
    args: &ProxyArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    lines: Box<dyn Write + Send>,
    stop: crate::stop::Stop,
) -> u8 {
    let timeout = match seconds("--timeout", args.timeout) {
        Ok(timeout) => timeout,
        Err(e) => return usage(err, &e),
    };
    // The report files are checked now, not after the session they report.
    for path in [&args.report_json, &args.report_junit]
        .into_iter()
        .flatten()
    {
        if let Err(e) = std::fs::write(path, "") {
            return usage(err, &format!("cannot write {}: {e}", path.display()));
        }
    }
    let record: Option<Box<dyn Write + Send>> = match &args.record {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Some(Box::new(std::io::BufWriter::new(file))),
            Err(e) => {
                return usage(err, &format!("--record {}: {e}", path.display()));
            }
        },
        None => None,
    };
    let config = crate::proxy::Config {
        upstream: args.upstream.clone(),
        listen: args.listen.clone(),
        mode: args.mode,
        max_body: args.max_body,
        timeout,
        lines,
        record,
    };
    let proxy = match crate::proxy::Proxy::start(config).await {
        Ok(proxy) => proxy,
        Err(e) => return usage(err, &e),
    };
    let _ = writeln!(
        err,
        "smm-conformance proxy: {} → {} (Ctrl-C to stop)",
        proxy.url(),
        human::printable(args.upstream.trim())
    );
    let at_contract_path = reqwest::Url::parse(args.upstream.trim())
        .is_ok_and(|u| u.path().trim_end_matches('/') == "/api/v2");
    if !at_contract_path {
        let _ = writeln!(
            err,
            "smm-conformance proxy: note: --upstream does not end in /api/v2, the contract's path; if the panel's API is there, add it (every answer of another page fails transport.http-200)"
        );
    }
    let _ = err.flush();
    stop.asked().await;
    let report = proxy.stop().await;
    let _ = crate::proxy::watch::summary(&report, out);
    if let Err(code) = write_reports(&report, &args.report_json, &args.report_junit, err) {
        return code;
    }
    if report.counts.failed > 0 {
        exit_code::FAILED
    } else {
        exit_code::OK
    }
}
