//! The `smm-conformance` binary: parses arguments, calls the library, exits.

use std::process::ExitCode;

use clap::Parser;
use smm_conformance::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let code = match cli.command {
        Command::List => match cli::list(&mut out) {
            Ok(()) => 0,
            Err(_) => 1,
        },
        Command::Run(args) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    use std::io::Write;
                    let _ = writeln!(err, "smm-conformance: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(cli::run(&args, &mut out, &mut err))
        }
    };
    ExitCode::from(code)
}
