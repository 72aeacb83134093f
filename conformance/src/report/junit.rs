//! JUnit XML, as CI systems read it: one `<testcase>` per check, a Fail as
//! `<failure>`, an Error as `<error>`, a Skip as `<skipped>`; a Warn passes
//! with its message in `<system-out>`.

use std::io::{self, Write};

use crate::outcome::{Outcome, Report};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes the JUnit report.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let c = report.counts;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="smm-conformance" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
        report.checks.len(),
        c.failed,
        c.errored,
        c.skipped
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
        escape(&report.target),
        report.checks.len(),
        c.failed,
        c.errored,
        c.skipped
    )?;
    for check in &report.checks {
        let (group, _) = check.id.split_once('.').unwrap_or((check.id, ""));
        write!(
            out,
            r#"    <testcase classname="smm-conformance.{}" name="{}""#,
            escape(group),
            escape(check.id)
        )?;
        let details: String = check
            .evidence
            .iter()
            .map(|e| {
                let mut d = format!(
                    "request: {}\nexpected: {}\nactual: {}\n",
                    e.request, e.expected, e.actual
                );
                if let Some(diff) = &e.diff {
                    d.push_str(diff);
                }
                d
            })
            .collect();
        let body = format!("{} ({})\n{}", check.message, check.section, details);
        match check.outcome {
            Outcome::Pass => writeln!(out, "/>")?,
            Outcome::Warn => writeln!(
                out,
                ">\n      <system-out>WARN: {}</system-out>\n    </testcase>",
                escape(&body)
            )?,
            Outcome::Fail => writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                escape(&check.message),
                escape(&body)
            )?,
            Outcome::Error => writeln!(
                out,
                ">\n      <error message=\"{}\">{}</error>\n    </testcase>",
                escape(&check.message),
                escape(&body)
            )?,
            Outcome::Skip => writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(&check.message)
            )?,
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn xml_is_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
