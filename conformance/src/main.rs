//! The `smm-conformance` binary: parses arguments, calls the library, exits.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use smm_conformance::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    if let Command::List = cli.command {
        return ExitCode::from(if cli::list(&mut out).is_ok() { 0 } else { 1 });
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(err, "smm-conformance: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        match &cli.command {
            Command::Run(args) => {
                let progress = std::io::IsTerminal::is_terminal(&err);
                let stop = smm_conformance::stop::Stop::on_signals();
                cli::run(args, &mut out, &mut err, progress, stop).await
            }
            Command::Snapshot(args) => cli::snapshot(args, &mut out, &mut err).await,
            Command::Diff(args) => cli::diff(args, &mut out, &mut err).await,
            Command::Clone(args) => cli::clone(args, &mut out, &mut err),
            Command::Proxy(args) => {
                let stop = smm_conformance::stop::Stop::on_signals();
                cli::proxy(args, &mut out, &mut err, Box::new(std::io::stderr()), stop).await
            }
            Command::List => 0,
        }
    });
    ExitCode::from(code)
}
