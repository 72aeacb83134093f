//! The human report: one line per check, details of what went wrong, and a
//! closing line `N passed, N warned, N failed, N errored, N skipped`.

use std::io::{self, Write};

use crate::outcome::{Outcome, Report};

/// Writes the human report; `color` adds ANSI colours.
pub fn write(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = |outcome: Outcome| -> String {
        let label = match outcome {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::Skip => "SKIP",
        };
        if !color {
            return format!("{label:<5}");
        }
        let code = match outcome {
            Outcome::Pass => "32",
            Outcome::Warn => "33",
            Outcome::Fail => "31;1",
            Outcome::Error => "35",
            Outcome::Skip => "2",
        };
        format!("\x1b[{code}m{label:<5}\x1b[0m")
    };
    writeln!(
        out,
        "smm-conformance: {} ({} mode, seed {}, {} cases per property)",
        report.target,
        mode(report),
        report.seed,
        report.cases
    )?;
    writeln!(out)?;
    for check in &report.checks {
        writeln!(
            out,
            "{} {:<28} {}",
            paint(check.outcome),
            check.id,
            check.message
        )?;
    }
    let troubled: Vec<_> = report
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Warn | Outcome::Error))
        .collect();
    if !troubled.is_empty() {
        writeln!(out, "\nDetails")?;
    }
    for check in troubled {
        writeln!(
            out,
            "\n{} {} ({}: {})",
            paint(check.outcome),
            check.id,
            check.section,
            check.title
        )?;
        writeln!(out, "  {}", check.message)?;
        for e in &check.evidence {
            if !e.request.is_empty() {
                writeln!(out, "  request:  {}", e.request)?;
            }
            if !e.expected.is_empty() {
                writeln!(out, "  expected: {}", e.expected)?;
            }
            if !e.actual.is_empty() {
                writeln!(out, "  actual:   {}", e.actual)?;
            }
            if let Some(diff) = &e.diff {
                for line in diff.lines() {
                    writeln!(out, "    {line}")?;
                }
            }
        }
    }
    let c = report.counts;
    writeln!(out)?;
    writeln!(
        out,
        "{} passed, {} warned, {} failed, {} errored, {} skipped",
        c.passed, c.warned, c.failed, c.errored, c.skipped
    )
}

fn mode(report: &Report) -> &'static str {
    match report.mode {
        crate::outcome::Mode::Tolerant => "tolerant",
        crate::outcome::Mode::Strict => "strict",
    }
}
