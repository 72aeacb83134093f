//! The command line: `smm-conformance run …` and `smm-conformance list`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use smm_mock::profile::Profile;

use crate::outcome::{exit_code, Mode};
use crate::report;
use crate::suite::{catalogue, Selection};
use crate::Options;

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
    after_help = "Read-only: besides services, balance and status, it sends only requests that cannot change anything (a wrong key, an unknown action, an add for a service that does not exist, refill and cancel of ids that do not exist).\n\nExit codes: 0 written, 2 usage error (or services not a list: a wrong key or path), 3 target unreachable."
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

/// What stdout gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// JSON: for `run`, the report of schemas/report.schema.json; for `diff`, the changes.
    Json,
    /// JUnit XML.
    Junit,
}

/// `run`'s options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The key may also come from SMM_API_KEY (and the second key from SMM_API_KEY_2); it is never printed.\n\nExit codes: 0 nothing failed, 1 contract failures, 2 usage error, 3 target unreachable or errors only."
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
    /// A key of another account, for the isolation checks (or SMM_API_KEY_2).
    #[arg(long)]
    pub second_key: Option<String>,
    /// tolerant: real-world drift (CONTRACT §6 items 1-4) warns; strict: it fails.
    #[arg(long, default_value = "tolerant", value_name = "MODE")]
    pub mode: Mode,
    /// Let checks place real orders (they are skipped otherwise). Needs --max-spend.
    #[arg(long)]
    pub allow_orders: bool,
    /// The most the run may spend, in the account's currency; no order is sent that could pass it.
    #[arg(long, value_name = "AMOUNT")]
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
    /// Timeout of the whole run, in seconds.
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS")]
    pub run_timeout: f64,
    /// How many checks run at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// At most this many requests per second (0: no limit), for panels behind a CDN.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// An extra header, NAME:VALUE (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The User-Agent to send.
    #[arg(long, default_value = crate::DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// The smm-mock admin API to use (e.g. http://127.0.0.1:8080/__mock); never probed otherwise.
    #[arg(long, value_name = "URL")]
    pub mock_admin: Option<String>,
    /// A deviation profile for the in-process mock (repeatable; only without --url).
    #[arg(long = "mock-profile", value_name = "NAME")]
    pub mock_profiles: Vec<Profile>,
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

fn usage(err: &mut dyn Write, message: &str) -> u8 {
    let _ = writeln!(err, "smm-conformance: {message}");
    exit_code::USAGE
}

/// Turns arguments into options, reading the key from a file or the environment.
pub fn options(args: &RunArgs) -> Result<Options, String> {
    let key = resolve_key(&args.key, &args.key_file)?;
    if args.url.is_none() && (args.key.is_some() || args.key_file.is_some() || args.allow_orders) {
        return Err("--key and --allow-orders are for a real panel: add --url (without it, the built-in mock runs)".into());
    }
    if let Some(url) = &args.url {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return Err(format!("--url `{url}`: expected the endpoint as you would paste it, like https://panel.example/api/v2"));
        }
    }
    if args.url.is_none() && args.second_key.is_some() {
        return Err(
            "--second-key is for a real panel: add --url (without it, the built-in mock runs)"
                .into(),
        );
    }
    if args.cases == 0 {
        return Err("--cases must be at least 1".into());
    }
    let ids: Vec<&str> = crate::suite::catalogue().iter().map(|c| c.id).collect();
    for pattern in args.only.iter().chain(&args.skip) {
        let selection = Selection {
            only: vec![pattern.clone()],
            skip: Vec::new(),
        };
        if !ids.iter().any(|id| selection.selects(id)) {
            return Err(format!(
                "no check is `{pattern}` or starts with `{pattern}.`: see `smm-conformance list`"
            ));
        }
    }
    if args.url.is_some() && !args.mock_profiles.is_empty() {
        return Err("--mock-profile only applies to the in-process mock (without --url)".into());
    }
    if args.max_spend.is_some_and(|m| m.is_sign_negative()) {
        return Err("--max-spend must be ≥ 0".into());
    }
    if !args.rate.is_finite() || args.rate < 0.0 {
        return Err(format!(
            "--rate {}: expected requests per second, 0 or more",
            args.rate
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
    })
}

/// Runs `run` and writes the reports; returns the exit code.
pub async fn run(args: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if args.list {
        let _ = list(out);
        return exit_code::OK;
    }
    let mut options = match options(args) {
        Ok(options) => options,
        Err(message) => return usage(err, &message),
    };
    if err_is_terminal() {
        let _ = writeln!(
            err,
            "smm-conformance: checking {} …",
            report::redact(
                options.url.as_deref().unwrap_or("the in-process mock"),
                &options
                    .key
                    .iter()
                    .chain(&options.second_key)
                    .cloned()
                    .collect::<Vec<_>>()
            )
        );
        // Progress goes to the terminal only; reports stay byte-stable.
        let on_check = |done: usize, total: usize, id: &str, outcome: crate::outcome::Outcome| {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K[{done}/{total}] {id}: {}", outcome.as_str());
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
        };
        options.progress = Some(crate::suite::Progress(std::sync::Arc::new(on_check)));
    }
    let target = options
        .url
        .clone()
        .unwrap_or_else(|| "in-process mock".into());
    let (mode, seed, cases, selection) = (
        options.mode,
        options.seed,
        options.cases,
        options.selection.clone(),
    );
    let known_secrets: Vec<String> = options
        .key
        .iter()
        .chain(&options.second_key)
        .cloned()
        .collect();
    let run = match crate::execute(options).await {
        Ok(run) => run,
        Err(crate::RunError::Usage(message)) => return usage(err, &message),
        Err(crate::RunError::Unreachable(message)) => {
            let _ = writeln!(err, "smm-conformance: {message}");
            // CI still gets its report files: every check an Error, saying why.
            let checks = catalogue()
                .into_iter()
                .filter(|c| selection.selects(c.id))
                .map(|c| crate::outcome::CheckResult {
                    id: c.id,
                    section: c.section,
                    title: c.title,
                    outcome: crate::outcome::Outcome::Error,
                    message: message.clone(),
                    evidence: Vec::new(),
                })
                .collect();
            let secrets = known_secrets;
            crate::Run {
                report: crate::outcome::Report::new(
                    report::redact(&target, &secrets),
                    mode,
                    seed,
                    cases,
                    checks,
                ),
                secrets,
            }
        }
    };
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none()
        && args.format == Format::Human;
    let shown = report::redact_report(&run.report, &run.secrets);
    let render = |format: Format| -> Vec<u8> {
        let mut buf = Vec::new();
        let _ = match format {
            Format::Human => report::human::write(&shown, &mut buf, color),
            Format::Json => report::json::write(&shown, &mut buf),
            Format::Junit => report::junit::write(&shown, &mut buf),
        };
        buf
    };
    for (path, format) in [
        (&args.report_json, Format::Json),
        (&args.report_junit, Format::Junit),
    ] {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(path, render(format)) {
                let _ = writeln!(err, "smm-conformance: cannot write {}: {e}", path.display());
                return exit_code::USAGE;
            }
        }
    }
    let _ = out.write_all(&render(args.format));
    run.report.exit_code()
}

fn err_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A positive, finite number of seconds that a `Duration` can hold.
fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag} {value}: expected a positive number of seconds"))
}

fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>, String> {
    headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("--header `{h}`: expected NAME:VALUE"))
        })
        .collect()
}

fn resolve_key(key: &Option<String>, key_file: &Option<PathBuf>) -> Result<Option<String>, String> {
    match (key, key_file) {
        (Some(_), Some(_)) => Err("give --key or --key-file, not both".into()),
        (Some(k), None) => Ok(Some(k.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--key-file {}: {e}", path.display()))?;
            Ok(Some(text.lines().next().unwrap_or("").trim().to_owned()))
        }
        (None, None) => Ok(std::env::var("SMM_API_KEY").ok()),
    }
}

fn target_options(args: &TargetArgs) -> Result<Options, String> {
    let key = resolve_key(&args.key, &args.key_file)?;
    if let Some(url) = &args.url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("--url `{url}`: expected the endpoint as you would paste it, like https://panel.example/api/v2"));
        }
        if !args.mock_profiles.is_empty() {
            return Err(
                "--mock-profile only applies to the in-process mock (without --url)".into(),
            );
        }
    } else if args.key.is_some() {
        return Err(
            "--key is for a real panel: add --url (without it, the built-in mock runs)".into(),
        );
    }
    let headers = parse_headers(&args.headers)?;
    Ok(Options {
        url: args.url.clone(),
        key: if args.url.is_some() { key } else { None },
        orders: args.orders.clone(),
        timeout: seconds("--timeout", args.timeout)?,
        headers,
        mock_profiles: args.mock_profiles.clone(),
        ..Options::default()
    })
}

async fn live_snapshot(args: &TargetArgs) -> Result<crate::snapshot::Snapshot, (u8, String)> {
    let options = target_options(args).map_err(|m| (exit_code::USAGE, m))?;
    let connected = crate::connect(options).await.map_err(|e| match e {
        crate::RunError::Usage(m) => (exit_code::USAGE, m),
        crate::RunError::Unreachable(m) => (exit_code::UNREACHABLE, m),
    })?;
    let target = if connected.mock.is_some() {
        connected.target_name.clone()
    } else {
        connected.options.url.clone().unwrap_or_default()
    };
    let snapshot = crate::snapshot::take(&connected.client, &target, &connected.options.orders)
        .await
        .map_err(|m| (exit_code::USAGE, report::redact(&m, &connected.secrets)))?;
    // Nothing secret may reach the file, even a key a panel echoed.
    let text = report::redact(&snapshot.to_json(), &connected.secrets);
    serde_json::from_str(&text).map_err(|e| (exit_code::UNREACHABLE, e.to_string()))
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
    let text = snapshot.to_json();
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                let _ = writeln!(err, "smm-conformance: cannot write {}: {e}", path.display());
                return exit_code::USAGE;
            }
        }
        None => {
            let _ = out.write_all(text.as_bytes());
        }
    }
    exit_code::OK
}

/// `diff`: compares, reports, and returns the exit code.
pub async fn diff(args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    use crate::snapshot::{Severity, Snapshot};
    let load = |path: &PathBuf| Snapshot::load(path).map_err(|e| e.to_string());
    let pair = match (&args.against, &args.old, &args.new) {
        (Some(stored), _, _) => match load(stored) {
            Ok(old) => match live_snapshot(&TargetArgs {
                // The same orders as the stored snapshot, unless told otherwise.
                orders: if args.target.orders.is_empty() {
                    old.orders.clone()
                } else {
                    args.target.orders.clone()
                },
                ..args.target.clone()
            })
            .await
            {
                Ok(new) => Ok((old, new, stored.display().to_string(), "live".to_owned())),
                Err((code, message)) => {
                    let _ = writeln!(err, "smm-conformance: {message}");
                    return code;
                }
            },
            Err(e) => Err(e),
        },
        (None, Some(old), Some(new)) => load(old).and_then(|o| {
            Ok((
                o,
                load(new)?,
                old.display().to_string(),
                new.display().to_string(),
            ))
        }),
        _ => Err("give OLD and NEW snapshots, or --against FILE with --url".into()),
    };
    if args.against.is_none()
        && (args.target.url.is_some()
            || args.target.key.is_some()
            || args.target.key_file.is_some()
            || !args.target.orders.is_empty())
    {
        return usage(
            err,
            "--url, --key and --order go with --against FILE (OLD and NEW are both files)",
        );
    }
    let (old, new, old_name, new_name) = match pair {
        Ok(pair) => pair,
        Err(message) => return usage(err, &message),
    };
    let limit = args.max_rate_increase.unwrap_or(Decimal::MAX);
    let changes = crate::snapshot::diff(&old, &new, limit);
    let count = |s: Severity| changes.iter().filter(|c| c.severity == s).count();
    let (breaking, drift, compatible) = (
        count(Severity::Breaking),
        count(Severity::Drift),
        count(Severity::Compatible),
    );
    let threshold = match args.fail_on {
        FailOn::Breaking => Some(Severity::Breaking),
        FailOn::Drift => Some(Severity::Drift),
        FailOn::Any => Some(Severity::Compatible),
        FailOn::None => None,
    };
    let failing = |c: &crate::snapshot::Change| threshold.is_some_and(|t| c.severity >= t);
    let _ = match args.format {
        Format::Human => (|| -> std::io::Result<()> {
            writeln!(out, "smm-conformance diff: {old_name} → {new_name}")?;
            for c in &changes {
                writeln!(
                    out,
                    "{:<11} {:<10} {}",
                    c.severity.as_str().to_uppercase(),
                    c.area,
                    c.what
                )?;
            }
            let unified = crate::snapshot::unified(&old, &new, &old_name, &new_name);
            if !unified.is_empty() {
                writeln!(out)?;
                write!(out, "{unified}")?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{breaking} breaking, {drift} drift, {compatible} compatible"
            )
        })(),
        Format::Json => {
            let doc = serde_json::json!({
                "format": "smm-conformance-diff",
                "version": 1,
                "old": old_name, "new": new_name,
                "counts": {"breaking": breaking, "drift": drift, "compatible": compatible},
                "changes": changes,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        Format::Junit => (|| -> std::io::Result<()> {
            let esc = |t: &str| {
                t.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
            };
            let failures = changes.iter().filter(|c| failing(c)).count();
            writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
            writeln!(
                out,
                r#"<testsuites name="smm-conformance diff" tests="{}" failures="{failures}">"#,
                changes.len().max(1)
            )?;
            writeln!(
                out,
                r#"  <testsuite name="{} → {}" tests="{}" failures="{failures}">"#,
                esc(&old_name),
                esc(&new_name),
                changes.len().max(1)
            )?;
            if changes.is_empty() {
                writeln!(
                    out,
                    r#"    <testcase classname="smm-conformance.diff" name="no change"/>"#
                )?;
            }
            for c in &changes {
                write!(
                    out,
                    r#"    <testcase classname="smm-conformance.diff.{}" name="{}""#,
                    c.area,
                    esc(&c.what)
                )?;
                if failing(c) {
                    writeln!(
                        out,
                        ">\n      <failure message=\"{}: {}\"/>\n    </testcase>",
                        c.severity.as_str(),
                        esc(&c.what)
                    )?;
                } else {
                    writeln!(out, "/>")?;
                }
            }
            writeln!(out, "  </testsuite>\n</testsuites>")
        })(),
    };
    if changes.iter().any(failing) {
        exit_code::FAILED
    } else {
        exit_code::OK
    }
}
