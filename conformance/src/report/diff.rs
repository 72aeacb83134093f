//! The classed diff of two snapshots, as text, JSON or JUnit XML: one line
//! per change with its class, then a unified diff per area, then the counts.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde_json::Value;

use super::human::printable;
use super::Format;
use crate::snapshot::{Change, Severity, Snapshot};

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
    for c in diff.changes {
        writeln!(
            out,
            "{:<11} {:<10} {}",
            c.severity.as_str().to_uppercase(),
            c.area,
            printable(&c.what)
        )?;
    }
    let unified = unified(old, new, old_name, new_name);
    if !unified.is_empty() {
        writeln!(out)?;
        write!(out, "{}", printable(&unified))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} breaking, {} drift, {} compatible",
        diff.count(Severity::Breaking),
        diff.count(Severity::Drift),
        diff.count(Severity::Compatible)
    )
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

/// A unified diff of two snapshots, area by area.
pub fn unified(old: &Snapshot, new: &Snapshot, old_name: &str, new_name: &str) -> String {
    let area = |s: &Snapshot| -> Value { serde_json::to_value(s).unwrap_or(Value::Null) };
    let (a, b) = (area(old), area(new));
    let mut out = String::new();
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
            out.push_str(
                &similar::TextDiff::from_lines(&before as &str, &after as &str)
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("{old_name} {key}"), &format!("{new_name} {key}"))
                    .to_string(),
            );
        }
    }
    out
}
