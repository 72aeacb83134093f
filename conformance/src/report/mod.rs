//! Reporters: the result model into human text, JSON or JUnit XML, and the
//! classed diff of two snapshots likewise, written to any `io::Write`.
//!
//! A report reaches them already redacted ([`crate::execute`] masks the keys
//! in every free text: messages, requests, answers, diffs, the target, even
//! a key a panel echoed back), while check ids, sections and titles stay as
//! they are.

pub mod diff;
pub mod human;
pub mod json;
pub mod junit;

use std::io::{self, Write};

use crate::outcome::Report;

/// What a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// JSON: for `run`, the report of schemas/report.schema.json; for `diff`, the changes.
    Json,
    /// JUnit XML.
    Junit,
}

/// Writes a run's report as `format`; `color` (human only) adds ANSI colours.
pub fn write(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, out, color),
        Format::Json => json::write(report, out),
        Format::Junit => junit::write(report, out),
    }
}

/// A run's report as `format`, in memory.
pub fn render(report: &Report, format: Format, color: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(report, format, color, &mut buf);
    buf
}

/// Replaces every secret in `text` with `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

/// The report with every secret masked in its free texts.
pub fn redact_report(report: &Report, secrets: &[String]) -> Report {
    let mut shown = report.clone();
    shown.target = redact(&shown.target, secrets);
    for check in &mut shown.checks {
        check.message = redact(&check.message, secrets);
        for e in &mut check.evidence {
            e.request = redact(&e.request, secrets);
            e.expected = redact(&e.expected, secrets);
            e.actual = redact(&e.actual, secrets);
            e.diff = e.diff.as_deref().map(|d| redact(d, secrets));
        }
    }
    // A panel's own words reach the ledger (statuses, charges) and the
    // coverage (statuses, error messages).
    for order in &mut shown.orders {
        order.charge = redact(&order.charge, secrets);
        order.status = order.status.as_deref().map(|s| redact(s, secrets));
    }
    if let Some(coverage) = &mut shown.coverage {
        coverage.rewrite_seen(|seen| redact(seen, secrets));
    }
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ledger_and_the_coverage_are_redacted_too() {
        let key = "sk_live_abcd1234".to_owned();
        let mut report = crate::outcome::Report::new(
            "t".into(),
            crate::outcome::Mode::Tolerant,
            0,
            1,
            Vec::new(),
        );
        report.orders.push(crate::ledger::PlacedOrder {
            order: 1,
            service: 1,
            quantity: 1,
            runs: None,
            charge: format!("0 {key}"),
            status: Some(format!("Pending {key}")),
            running: true,
            check: "run",
        });
        let mut noted = crate::coverage::Noted::default();
        noted.errors.insert(format!("Invalid API key {key}"));
        noted.order_statuses.insert(key.clone());
        report.coverage = Some(crate::coverage::Coverage::of(&noted, &[]));
        let shown = super::redact_report(&report, std::slice::from_ref(&key));
        let text = serde_json::to_string(&shown).unwrap();
        assert!(!text.contains(&key), "{text}");
        assert!(text.contains("Pending ***"), "{text}");
    }

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let text = "key=abcd1234 and again abcd1234";
        assert_eq!(
            super::redact(text, &["abcd1234".into()]),
            "key=*** and again ***"
        );
    }
}
