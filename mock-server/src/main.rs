//! The `smm-mock` binary: parses arguments, starts the panel, waits for Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use smm_mock::profile::{Profile, PROFILES};
use smm_mock::{ClockMode, Config, Fixture, ListenAddr, MockPanel};

/// A deterministic mock SMM panel (API v2) for testing clients.
///
/// With no arguments it serves the built-in fixture on http://127.0.0.1:8080/api/v2
/// with the keys `test-key` (1000.00000 USD), `empty-key` (0.00000 USD) and
/// `eur-key` (250.00000 EUR).
#[derive(Debug, Parser)]
#[command(name = "smm-mock", version, about, long_about)]
struct Args {
    /// HOST:PORT to listen on: an IP address or a host name (`localhost:8080`,
    /// `[::1]:8080`); port 0 picks a free port (the first line printed says which).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    listen: ListenAddr,
    /// Fixture file to serve instead of the built-in one (format: fixtures/README.md).
    #[arg(long, value_name = "PATH")]
    fixture: Option<PathBuf>,
    /// Seed for everything that looks random (start_count); same seed, same answers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// When orders move: `poll` (each status poll moves the order one step) or
    /// `manual` (only the admin API and --tick-ms move them).
    #[arg(long, default_value = "poll", value_name = "MODE")]
    clock: ClockMode,
    /// Also advance the clock one step every N milliseconds of wall time (demos; not deterministic).
    #[arg(long, value_name = "N")]
    tick_ms: Option<u64>,
    /// Turn off the admin API under /__mock/.
    #[arg(long)]
    no_admin: bool,
    /// The most connections held at once; past it, new ones wait to be accepted until one closes.
    #[arg(long, default_value_t = smm_mock::server::MAX_CONNECTIONS, value_name = "N")]
    max_connections: usize,
    /// How many requests the journal (GET /__mock/journal) keeps.
    #[arg(long, default_value_t = smm_mock::journal::DEFAULT_CAPACITY, value_name = "N")]
    journal: usize,
    /// Switch on a deviation profile (repeatable); see --list-profiles.
    #[arg(long = "profile", value_name = "NAME")]
    profiles: Vec<Profile>,
    /// Print every deviation profile with its class and what it simulates, and exit.
    #[arg(long)]
    list_profiles: bool,
    /// Check the fixture and exit (0 if it is valid) without serving.
    #[arg(long)]
    check: bool,
    /// Log only warnings, not one line per request (SMM_MOCK_LOG, a tracing filter, overrides this).
    #[arg(long, short)]
    quiet: bool,
}

/// Prints a line to stdout, ignoring a closed stdout: a script that read the
/// ready line and closed the pipe must not take the panel down.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args = Args::parse();
    let level = if args.quiet { "warn" } else { "info" };
    let filter = match std::env::var("SMM_MOCK_LOG") {
        Ok(spec) => match tracing_subscriber::EnvFilter::try_new(&spec) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("smm-mock: SMM_MOCK_LOG=`{spec}` is not a tracing filter: {e}");
                return ExitCode::from(2);
            }
        },
        Err(_) => tracing_subscriber::EnvFilter::new(level),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    if args.list_profiles {
        for d in PROFILES {
            say!("{:<26} {:<8} {}", d.name, d.class, d.simulates);
            say!("{:<26} {:<8} seen: {}", "", "", d.seen);
        }
        return ExitCode::SUCCESS;
    }
    let fixture = match &args.fixture {
        Some(path) => Fixture::load(path),
        None => Ok(Fixture::builtin()),
    };
    let fixture = match fixture {
        Ok(fixture) => fixture,
        Err(e) => {
            eprintln!("smm-mock: fixture refused: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        println!(
            "fixture `{}` is valid: {} services, {} accounts, {} lifecycles",
            fixture.name,
            fixture.services.len(),
            fixture.accounts.len(),
            fixture.lifecycles.len()
        );
        return ExitCode::SUCCESS;
    }
    if args.tick_ms == Some(0) {
        eprintln!("smm-mock: --tick-ms must be at least 1");
        return ExitCode::from(2);
    }
    if args.max_connections == 0 {
        eprintln!("smm-mock: --max-connections must be at least 1");
        return ExitCode::from(2);
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("smm-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let accounts: Vec<String> = fixture
            .accounts
            .iter()
            .map(|a| {
                format!(
                    "{} ({} {})",
                    a.key,
                    fixture.precision.format(a.balance),
                    a.currency
                )
            })
            .collect();
        let name = fixture.name.clone();
        // Registered before the ready line, so a signal sent right after it is not lost.
        let stop = match stop_signal() {
            Ok(stop) => stop,
            Err(e) => {
                eprintln!("smm-mock: cannot listen for signals: {e}");
                return ExitCode::FAILURE;
            }
        };
        let listener = match args.listen.bind().await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("smm-mock: {e}");
                return ExitCode::FAILURE;
            }
        };
        let config = Config {
            seed: args.seed,
            clock: args.clock,
            tick: args.tick_ms.map(Duration::from_millis),
            admin: !args.no_admin,
            journal: args.journal,
            max_connections: args.max_connections,
            profiles: args.profiles.iter().copied().collect(),
            ..Config::new(fixture)
        };
        let panel = match MockPanel::start_on(listener, config).await {
            Ok(panel) => panel,
            Err(e) => {
                eprintln!("smm-mock: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        say!("smm-mock listening on {}", panel.url());
        say!(
            "  fixture: {name} (seed {}, clock {})",
            args.seed,
            args.clock
        );
        say!("  keys:    {}", accounts.join(", "));
        if !args.profiles.is_empty() {
            let names: Vec<&str> = args.profiles.iter().map(|p| p.name()).collect();
            say!(
                "  profiles: {} (deviating from the contract on purpose)",
                names.join(", ")
            );
        }
        if args.no_admin {
            say!("  admin:   off");
        } else {
            say!("  admin:   {}/", panel.admin_url());
        }
        say!("  stop:    Ctrl-C");
        stop.await;
        eprintln!("smm-mock: shutting down");
        panel.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; the handlers exist once this returns.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
