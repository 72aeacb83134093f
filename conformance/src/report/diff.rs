//! The classed diff of two snapshots, as text, JSON or JUnit XML.
//!
//! The text has one line per change with its class (the same change made
//! to several services is one line naming them), then a unified diff per
//! area (its first [`UNIFIED_LINES`] lines), then the counts of changes. JSON lists every change and the lines
//! ([`group`]); JUnit has a test case per change.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde_json::Value;

use super::human::printable;
use super::Format;
use crate::snapshot::{group, Change, Severity, Snapshot};

/// The diff format's name, in every JSON diff.
pub const FORMAT: &str = "smm-conformance-diff";
/// The diff format's version.
pub const VERSION: u32 = 1;

/// A diff to report: what was compared, the changes, and which of them fail.
#[derive(Debug)]
pub struct DiffReport<'a> {
    /// The older snapshot, and its name (a file).
    pub old: (&'a Snapshot, &'a str),
    /// The newer snapshot, and its name (a file, or `live`).
    pub new: (&'a Snapshot, &'a str),
    /// The changes, classed.
    pub changes: &'a [Change],
    /// The least class that fails (`--fail-on`); `None`: none fails.
    pub fail_from: Option<Severity>,
}

impl DiffReport<'_> {
    /// Whether `change` fails the gate.
    pub fn fails(&self, change: &Change) -> bool {
        self.fail_from.is_some_and(|t| change.severity >= t)
    }

    fn count(&self, severity: Severity) -> usize {
        self.changes
            .iter()
            .filter(|c| c.severity == severity)
            .count()
    }
}

/// Writes the diff report as `format`.
pub fn write(diff: &DiffReport<'_>, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human(diff, out),
        Format::Json => json(diff, out),
        Format::Junit => junit(diff, out),
    }
}

fn human(diff: &DiffReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let (old, old_name) = diff.old;
    let (new, new_name) = diff.new;
    writeln!(out, "smm-conformance diff: {old_name} → {new_name}")?;
    let groups = group(diff.changes);
    for g in &groups {
        let what = match g.services.len() {
            0 | 1 => g.what.clone(),
            n => format!("{} ({n} services: {})", g.what, id_list(&g.services)),
        };
        writeln!(
            out,
            "{:<11} {:<10} {}",
            g.severity.as_str().to_uppercase(),
            g.area,
            printable(&what)
        )?;
    }
    let areas = unified_areas(old, new, old_name, new_name);
    if !areas.is_empty() {
        writeln!(out)?;
    }
    for area in &areas {
        write!(out, "{}", printable(&area.header))?;
        let mut room = UNIFIED_LINES.saturating_sub(area.header.lines().count());
        let mut left = 0;
        for (i, hunk) in area.hunks.iter().enumerate() {
            let lines = hunk.lines().count();
            if left == 0 && lines <= room {
                write!(out, "{}", printable(hunk))?;
                room -= lines;
            } else if i == 0 {
                // A first hunk longer than the room: its first lines.
                for line in hunk.lines().take(room) {
                    writeln!(out, "{}", printable(line))?;
                }
                left += lines - room;
            } else {
                left += lines;
            }
        }
        if left > 0 {
            writeln!(out, "… {left} more lines")?;
        }
    }
    writeln!(out)?;
    let counts: Vec<String> = [Severity::Breaking, Severity::Drift, Severity::Compatible]
        .into_iter()
        .map(|severity| {
            let changes = diff.count(severity);
            let lines = groups.iter().filter(|g| g.severity == severity).count();
            if lines == changes {
                format!("{changes} {}", severity.as_str())
            } else {
                format!("{changes} {} ({lines} lines)", severity.as_str())
            }
        })
        .collect();
    writeln!(out, "{}", counts.join(", "))
}

/// At most this many ids, or runs of ids, are named on a line of the human
/// diff; the rest are counted.
pub const IDS_NAMED: usize = 8;

/// Service ids for a line of the human diff, in the order given: runs of
/// three or more consecutive numbers as `first–last`, at most [`IDS_NAMED`]
/// ids or runs, then how many more (`1–6, 9, 12, … 30 more`).
pub fn id_list(ids: &[String]) -> String {
    // An id that is a number written plainly (`7`, not `007`).
    let number = |id: &str| id.parse::<u64>().ok().filter(|n| n.to_string() == id);
    let mut items: Vec<(String, usize)> = Vec::new();
    let mut rest = ids;
    while let Some(first) = rest.first() {
        let run = match number(first) {
            Some(start) => rest
                .iter()
                .enumerate()
                .take_while(|(i, id)| {
                    let next = u64::try_from(*i).ok().and_then(|i| start.checked_add(i));
                    next.is_some() && number(id) == next
                })
                .count(),
            None => 1,
        };
        if run >= 3 {
            items.push((format!("{first}–{}", rest[run - 1]), run));
            rest = &rest[run..];
        } else {
            items.push((first.clone(), 1));
            rest = &rest[1..];
        }
    }
    let named: usize = items.iter().take(IDS_NAMED).map(|(_, n)| n).sum();
    let mut text: Vec<String> = items.into_iter().take(IDS_NAMED).map(|(t, _)| t).collect();
    if named < ids.len() {
        text.push(format!("… {} more", ids.len() - named));
    }
    text.join(", ")
}

fn json(diff: &DiffReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = serde_json::json!({
        "format": FORMAT,
        "version": VERSION,
        "old": diff.old.1, "new": diff.new.1,
        "counts": {
            "breaking": diff.count(Severity::Breaking),
            "drift": diff.count(Severity::Drift),
            "compatible": diff.count(Severity::Compatible),
        },
        "changes": diff.changes,
        "groups": group(diff.changes),
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

fn junit(diff: &DiffReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut suite = TestSuite::new(format!("{} → {}", diff.old.1, diff.new.1));
    if diff.changes.is_empty() {
        let mut case = TestCase::new("no change", TestCaseStatus::success());
        case.set_classname("smm-conformance.diff");
        suite.add_test_case(case);
    }
    for c in diff.changes {
        let status = if diff.fails(c) {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{}: {}", c.severity.as_str(), c.what));
            status
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(c.what.as_str(), status);
        case.set_classname(format!("smm-conformance.diff.{}", c.area));
        suite.add_test_case(case);
    }
    let mut report = quick_junit::Report::new("smm-conformance diff");
    report.add_test_suite(suite);
    report.serialize(out).map_err(io::Error::other)
}

/// At most this many lines of each area's unified diff are shown in the
/// human diff (its two header lines included): whole hunks while they fit
/// (at least the first one's start); the rest are counted. The change lines
/// above it name every change; `diff -u` of the snapshot files shows all.
pub const UNIFIED_LINES: usize = 20;

/// A unified diff of two snapshots, area by area.
pub fn unified(old: &Snapshot, new: &Snapshot, old_name: &str, new_name: &str) -> String {
    unified_areas(old, new, old_name, new_name)
        .into_iter()
        .map(|area| area.header + &area.hunks.concat())
        .collect()
}

/// The unified diff of one area of two snapshots.
struct AreaDiff {
    /// `--- OLD area` and `+++ NEW area`, each with its newline.
    header: String,
    /// Each hunk, from its `@@` line, with its newlines.
    hunks: Vec<String>,
}

/// The unified diff of each area that differs, in a fixed order of areas.
fn unified_areas(old: &Snapshot, new: &Snapshot, old_name: &str, new_name: &str) -> Vec<AreaDiff> {
    let area = |s: &Snapshot| -> Value { serde_json::to_value(s).unwrap_or(Value::Null) };
    let (a, b) = (area(old), area(new));
    let mut out = Vec::new();
    for key in [
        "services",
        "shapes",
        "statuses",
        "errors",
        "bulk_limit",
        "content_types",
    ] {
        let before = serde_json::to_string_pretty(&a[key]).unwrap_or_default() + "\n";
        let after = serde_json::to_string_pretty(&b[key]).unwrap_or_default() + "\n";
        if before != after {
            let diff = similar::TextDiff::from_lines(&before as &str, &after as &str);
            let mut unified = diff.unified_diff();
            unified.context_radius(2);
            out.push(AreaDiff {
                header: format!("--- {old_name} {key}\n+++ {new_name} {key}\n"),
                hunks: unified.iter_hunks().map(|h| h.to_string()).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(services: Vec<Value>) -> Snapshot {
        Snapshot {
            format: crate::snapshot::FORMAT.into(),
            version: crate::snapshot::VERSION,
            target: "t".into(),
            services,
            shapes: Default::default(),
            statuses: Vec::new(),
            errors: Default::default(),
            bulk_limit: crate::snapshot::BulkLimit::Error,
            orders: Vec::new(),
            content_types: Vec::new(),
        }
    }

    /// The human diff of two catalogues of 30 services, each service made
    /// by `service(id, new)`.
    fn human_diff(service: impl Fn(u64, bool) -> Value) -> (String, String) {
        let old = snapshot((1..=30).map(|id| service(id, false)).collect());
        let new = snapshot((1..=30).map(|id| service(id, true)).collect());
        let changes = crate::snapshot::diff(&old, &new, rust_decimal::Decimal::MAX);
        let report = DiffReport {
            old: (&old, "a"),
            new: (&new, "b"),
            changes: &changes,
            fail_from: None,
        };
        let mut out = Vec::new();
        human(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        (text, unified(&old, &new, "a", "b"))
    }

    /// The unified diff shown in a human diff, and the count it ends with.
    fn shown(text: &str) -> (Vec<&str>, usize) {
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("--- "))
            .take_while(|l| !l.is_empty())
            .collect();
        let (last, shown) = lines.split_last().unwrap();
        let left = last
            .strip_prefix("… ")
            .and_then(|l| l.strip_suffix(" more lines"))
            .unwrap_or_else(|| panic!("no count: {text}"));
        (shown.to_vec(), left.parse().unwrap())
    }

    #[test]
    fn a_long_unified_diff_shows_whole_hunks_that_fit_and_counts_the_rest() {
        // Far apart changes: one hunk per service.
        let (text, full) = human_diff(|id, new| {
            let name = if new { "new" } else { "old" };
            serde_json::json!({"service": id, "a": 1, "b": 2, "c": 3, "d": 4, "name": name, "e": 5, "f": 6})
        });
        let (lines, left) = shown(&text);
        assert!(lines.len() <= UNIFIED_LINES, "{text}");
        let full: Vec<&str> = full.lines().collect();
        assert_eq!(lines, full[..lines.len()], "the diff's start");
        assert!(full[lines.len()].starts_with("@@"), "whole hunks: {text}");
        assert_eq!(lines.len() + left, full.len());
        assert!(
            text.contains("COMPATIBLE  services   name \"old\" → \"new\" (30 services: 1–30)\n"),
            "{text}"
        );

        // Adjacent changes: one hunk longer than the room.
        let (text, full) = human_diff(
            |id, new| serde_json::json!({"service": id, "x": if new { id + 1 } else { id }}),
        );
        let (lines, left) = shown(&text);
        assert_eq!(lines.len(), UNIFIED_LINES, "{text}");
        assert_eq!(lines.len() + left, full.lines().count());
    }

    fn ids(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn id_lists_name_runs_and_count_what_they_leave_out() {
        let run: Vec<String> = (1..=18).map(|n| n.to_string()).collect();
        assert_eq!(id_list(&run), "1–18");
        assert_eq!(
            id_list(&ids(&["1", "2", "4", "5", "6", "9"])),
            "1, 2, 4–6, 9"
        );
        assert_eq!(
            id_list(&ids(&["7", "007", "8", "9", "x"])),
            "7, 007, 8, 9, x"
        );
        let top = u64::MAX.to_string();
        assert_eq!(
            id_list(&ids(&["18446744073709551614", &top])),
            format!("18446744073709551614, {top}")
        );
        let odd: Vec<String> = (0..20).map(|n| (2 * n + 1).to_string()).collect();
        assert_eq!(id_list(&odd), "1, 3, 5, 7, 9, 11, 13, 15, … 12 more");
    }
}
