//! The human report: one line per check, details of what went wrong, and a
//! closing line `N passed, N warned, N failed, N errored, N skipped`.
//!
//! A target's bytes reach this report (its answers, its messages): every
//! control character is written escaped (`\u{1b}`), so no panel can move the
//! cursor, clear the screen or set the terminal's title.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::outcome::{Mode, Outcome, Report};

/// `text` with every control character but newlines and tabs escaped.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

fn label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "PASS",
        Outcome::Warn => "WARN",
        Outcome::Fail => "FAIL",
        Outcome::Error => "ERROR",
        Outcome::Skip => "SKIP",
    }
}

fn paint(outcome: Outcome, color: bool) -> String {
    let label = label(outcome);
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
}

/// Writes the human report; `color` adds ANSI colours.
pub fn write(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    writeln!(
        out,
        "smm-conformance: {} ({} mode, seed {}, {} cases per property)",
        printable(&report.target),
        match report.mode {
            Mode::Tolerant => "tolerant",
            Mode::Strict => "strict",
        },
        report.seed,
        report.cases
    )?;
    writeln!(out)?;
    for check in &report.checks {
        writeln!(
            out,
            "{} {:<28} {}",
            paint(check.outcome, color),
            check.id,
            printable(&check.message)
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
            paint(check.outcome, color),
            check.id,
            check.section,
            check.title
        )?;
        writeln!(out, "  {}", printable(&check.message))?;
        for e in &check.evidence {
            if !e.request.is_empty() {
                // A script (a replayable sequence) keeps its lines, indented.
                let request = e.request.replace('\n', "\n            ");
                writeln!(out, "  request:  {}", printable(&request))?;
            }
            if !e.expected.is_empty() {
                writeln!(out, "  expected: {}", printable(&e.expected))?;
            }
            if !e.actual.is_empty() {
                writeln!(out, "  actual:   {}", printable(&e.actual))?;
            }
            if let Some(diff) = &e.diff {
                for line in diff.lines() {
                    writeln!(out, "    {}", printable(line))?;
                }
            }
        }
    }
    write_orders(report, out)?;
    write_coverage(report, out)?;
    let c = report.counts;
    writeln!(out)?;
    writeln!(
        out,
        "{} passed, {} warned, {} failed, {} errored, {} skipped",
        c.passed, c.warned, c.failed, c.errored, c.skipped
    )
}

/// The ledger: every order the run placed, so the user knows what was spent.
fn write_orders(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.orders.is_empty() {
        return Ok(());
    }
    let running = report.orders.iter().filter(|o| o.running).count();
    writeln!(
        out,
        "\nOrders placed: {} ({running} still running)",
        report.orders.len()
    )?;
    for o in &report.orders {
        let runs = o.runs.map(|r| format!(" × {r} runs")).unwrap_or_default();
        let (status, predicted) = match o.status.as_deref() {
            Some(status) => (status, ""),
            None => ("status never read", " (predicted)"),
        };
        let running = if o.running { ", still running" } else { "" };
        writeln!(
            out,
            "  {:<10} service {:<6} quantity {}{runs}, charge {}{predicted}, {}{running} ({})",
            o.order,
            o.service,
            o.quantity,
            printable(&o.charge),
            printable(status),
            o.check
        )?;
    }
    Ok(())
}

/// What of the contract the run exercised or observed, and never saw.
fn write_coverage(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let Some(coverage) = &report.coverage else {
        return Ok(());
    };
    writeln!(out, "\nCoverage (seen / never seen)")?;
    for (name, d) in coverage.dimensions() {
        let list = |items: &[String]| {
            if items.is_empty() {
                "-".to_owned()
            } else {
                printable(&items.join(", ")).into_owned()
            }
        };
        writeln!(
            out,
            "  {:<16} {} / never: {}",
            name,
            list(&d.seen),
            list(&d.never)
        )?;
    }
    Ok(())
}

/// Writes the progress line of a terminal: `[done/total] id: outcome`,
/// rewritten in place, and cleared when the last check is done.
pub fn progress(
    out: &mut dyn Write,
    done: usize,
    total: usize,
    id: &str,
    outcome: Outcome,
) -> io::Result<()> {
    write!(out, "\r\x1b[2K[{done}/{total}] {id}: {}", outcome.as_str())?;
    if done == total {
        write!(out, "\r\x1b[2K")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_lines_kept() {
        assert_eq!(printable("a\x1b[2Jb\x07\0"), "a\\u{1b}[2Jb\\u{7}\\u{0}");
        assert_eq!(printable("one\ntwo\tthree"), "one\ntwo\tthree");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
