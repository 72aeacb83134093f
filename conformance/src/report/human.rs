//! The human report: one line per check, details of what went wrong, and a
//! closing line `N passed, N warned, N failed, N errored, N skipped`.
//!
//! A target's bytes reach this report (its answers, its messages): every
//! control character is written escaped (`\u{1b}`), so no panel can move the
//! cursor, clear the screen or set the terminal's title.

use std::borrow::Cow;
use std::io::{self, Write};

use std::collections::HashMap;

use crate::outcome::{CheckResult, Mode, Outcome, Report, StopCause, INTERRUPTED};
use crate::suite::Event;

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
    let lines = lines(report);
    for line in &lines {
        let first = line[0];
        let name = match line.len() {
            1 => first.id.to_owned(),
            n => format!("{n} checks"),
        };
        writeln!(
            out,
            "{} {:<28} {}",
            paint(first.outcome, color),
            name,
            printable(&first.message)
        )?;
        if line.len() > 1 {
            writeln!(out, "      {}", ids(line))?;
        }
    }
    let troubled: Vec<_> = lines
        .iter()
        .filter(|l| {
            let c = l[0];
            matches!(c.outcome, Outcome::Fail | Outcome::Warn | Outcome::Error)
                && (l.len() == 1 || !c.evidence.is_empty())
        })
        .collect();
    if !troubled.is_empty() {
        writeln!(out, "\nDetails")?;
    }
    for line in troubled {
        let check = line[0];
        let name = match line.len() {
            1 => check.id.to_owned(),
            n => format!("{n} checks: {}; evidence of the first", ids(line)),
        };
        writeln!(
            out,
            "\n{} {} ({}: {})",
            paint(check.outcome, color),
            name,
            check.section,
            check.title
        )?;
        writeln!(out, "  {}", printable(&check.message))?;
        for e in &check.evidence {
            if !e.request.is_empty() {
                // A script (a replayable sequence) keeps its lines, indented.
                let request = e.request.replace('\n', "\n            ");
                writeln!(out, "  request:  {}", printable(&shorten_lists(&request)))?;
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
    if let Some(stopped) = report
        .stopped
        .as_ref()
        .filter(|s| s.cause == StopCause::Interrupted)
    {
        writeln!(out, "\nStopped: {}", printable(&stopped.reason))?;
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

/// The report's lines: one per check, except that checks of one cause are
/// one line: Errors with the same message (a target that went away), and in
/// a stopped run the checks it never finished.
fn lines(report: &Report) -> Vec<Vec<&CheckResult>> {
    let shared = |c: &CheckResult| {
        c.outcome == Outcome::Error
            || report
                .stopped
                .as_ref()
                .is_some_and(|_| c.outcome == Outcome::Skip && c.message.starts_with(INTERRUPTED))
    };
    let mut lines: Vec<Vec<&CheckResult>> = Vec::new();
    let mut cause: HashMap<(Outcome, &str), usize> = HashMap::new();
    for check in &report.checks {
        if shared(check) {
            if let Some(&at) = cause.get(&(check.outcome, check.message.as_str())) {
                lines[at].push(check);
                continue;
            }
            cause.insert((check.outcome, check.message.as_str()), lines.len());
        }
        lines.push(vec![check]);
    }
    lines
}

/// The most ids of a bulk request a line shows.
const LIST_SHOWN: usize = 12;

/// `text` (a request, a script) with each long id list of a bulk field
/// (`orders=`, `refills=`) shortened to its first and last ids and its
/// count: the human report stays readable; the JSON report has them all.
pub fn shorten_lists(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = ["orders=", "refills="]
        .iter()
        .filter_map(|f| rest.find(f).map(|i| i + f.len()))
        .min()
    {
        let quoted = rest[..at].trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '=');
        let end = if quoted.ends_with('\'') {
            rest[at..].find('\'').map_or(rest.len(), |i| at + i)
        } else {
            rest[at..]
                .find(char::is_whitespace)
                .map_or(rest.len(), |i| at + i)
        };
        let list = &rest[at..end];
        let items: Vec<&str> = list.split(',').collect();
        out.push_str(&rest[..at]);
        if items.len() > LIST_SHOWN {
            changed = true;
            out.push_str(&items[..LIST_SHOWN - 2].join(","));
            out.push_str(&format!(",…,{}", items[items.len() - 1]));
            let close = if quoted.ends_with('\'') { "'" } else { "" };
            out.push_str(close);
            out.push_str(&format!(
                " [{} ids; the JSON report has them all]",
                items.len()
            ));
            rest = &rest[end + close.len()..];
        } else {
            out.push_str(list);
            rest = &rest[end..];
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The ids of a line's checks, the first few and how many more.
fn ids(line: &[&CheckResult]) -> String {
    const SHOWN: usize = 4;
    let names: Vec<&str> = line.iter().map(|c| c.id).collect();
    if names.len() <= SHOWN + 1 {
        names.join(", ")
    } else {
        format!(
            "{}, … and {} more",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
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

/// The progress line of a terminal: `[done/total] id: outcome` as checks
/// end, `[done/total] id: 5120/100000 cases` as a long one moves on,
/// rewritten in place and cleared when the last check is done.
#[derive(Debug, Default)]
pub struct ProgressLine {
    done: usize,
    total: usize,
}

impl ProgressLine {
    /// Writes what `event` says.
    pub fn hear(&mut self, out: &mut dyn Write, event: Event) -> io::Result<()> {
        match event {
            Event::Ended {
                done,
                total,
                id,
                outcome,
            } => {
                (self.done, self.total) = (done, total);
                write!(out, "\r\x1b[2K[{done}/{total}] {id}: {}", outcome.as_str())?;
                if done == total {
                    write!(out, "\r\x1b[2K")?;
                }
            }
            Event::Step { id, done, of, unit } => {
                write!(
                    out,
                    "\r\x1b[2K[{}/{}] {id}: {done}/{of} {unit}",
                    self.done, self.total
                )?;
            }
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_id_lists_are_shortened_and_short_ones_kept() {
        let ids: Vec<String> = (1..=150).map(|i| i.to_string()).collect();
        let quoted = format!("curl -d 'orders={}' -d x=1", ids.join(","));
        assert_eq!(
            shorten_lists(&quoted),
            "curl -d 'orders=1,2,3,4,5,6,7,8,9,10,…,150' [150 ids; the JSON report has them all] -d x=1"
        );
        let bare = format!("-d refills={}\nnext", ids[..20].join(","));
        assert_eq!(
            shorten_lists(&bare),
            "-d refills=1,2,3,4,5,6,7,8,9,10,…,20 [20 ids; the JSON report has them all]\nnext"
        );
        let short = "curl -d orders=1,2,3 -d 'orders=4'";
        assert!(matches!(shorten_lists(short), Cow::Borrowed(_)));
    }

    #[test]
    fn the_progress_line_moves_with_a_long_check() {
        let mut line = ProgressLine::default();
        let mut out = Vec::new();
        let ended = Event::Ended {
            done: 3,
            total: 47,
            id: "auth.wrong-key",
            outcome: Outcome::Pass,
        };
        line.hear(&mut out, ended).unwrap();
        let step = Event::Step {
            id: "property.status",
            done: 5120,
            of: 100_000,
            unit: "cases",
        };
        line.hear(&mut out, step).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("\r\x1b[2K[3/47] property.status: 5120/100000 cases"),
            "{text:?}"
        );
    }

    #[test]
    fn control_characters_are_escaped_and_lines_kept() {
        assert_eq!(printable("a\x1b[2Jb\x07\0"), "a\\u{1b}[2Jb\\u{7}\\u{0}");
        assert_eq!(printable("one\ntwo\tthree"), "one\ntwo\tthree");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
