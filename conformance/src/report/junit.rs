//! JUnit XML, as CI systems read it (written with `quick-junit`, nextest's
//! writer, which also drops what XML cannot carry, such as control
//! characters): one `<testcase>` per check with its time, a Fail as
//! `<failure>`, an Error as `<error>`, a Skip as `<skipped>`; a Warn passes
//! with its message in `<system-out>`.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::{CheckResult, Outcome, Report};

/// What went wrong in a check, as one text: the message, its section, then
/// each piece of evidence.
fn details(check: &CheckResult) -> String {
    let mut text = format!("{} ({})\n", check.message, check.section);
    for e in &check.evidence {
        text.push_str(&format!(
            "request: {}\nexpected: {}\nactual: {}\n",
            e.request, e.expected, e.actual
        ));
        if let Some(diff) = &e.diff {
            text.push_str(diff);
        }
    }
    text
}

fn testcase(check: &CheckResult) -> TestCase {
    let non_success = |kind: NonSuccessKind| {
        let mut status = TestCaseStatus::non_success(kind);
        status
            .set_message(check.message.as_str())
            .set_description(details(check));
        status
    };
    let status = match check.outcome {
        Outcome::Pass | Outcome::Warn => TestCaseStatus::success(),
        Outcome::Fail => non_success(NonSuccessKind::Failure),
        Outcome::Error => non_success(NonSuccessKind::Error),
        Outcome::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(check.message.as_str());
            status
        }
    };
    let (group, _) = check.id.split_once('.').unwrap_or((check.id, ""));
    let mut case = TestCase::new(check.id, status);
    case.set_classname(format!("smm-conformance.{group}"))
        .set_time(check.duration);
    if check.outcome == Outcome::Warn {
        case.set_system_out(format!("WARN: {}", details(check)));
    }
    case
}

/// Writes the JUnit report.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut suite = TestSuite::new(report.target.as_str());
    suite.set_time(report.duration);
    if !report.orders.is_empty() {
        let running = report.orders.iter().filter(|o| o.running).count();
        suite.add_property(("orders.placed", report.orders.len().to_string().as_str()));
        suite.add_property(("orders.running", running.to_string().as_str()));
    }
    if let Some(coverage) = &report.coverage {
        for (name, d) in coverage.dimensions() {
            let name = name.replace(' ', "_");
            suite.add_property((
                format!("coverage.{name}.seen").as_str(),
                d.seen.join(", ").as_str(),
            ));
            suite.add_property((
                format!("coverage.{name}.never").as_str(),
                d.never.join(", ").as_str(),
            ));
        }
    }
    suite.add_test_cases(report.checks.iter().map(testcase));
    let mut junit = quick_junit::Report::new("smm-conformance");
    junit.set_time(report.duration).add_test_suite(suite);
    junit.serialize(out).map_err(io::Error::other)
}
