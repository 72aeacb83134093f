//! Reporters: the result model into human text, JSON or JUnit XML, written
//! to any `io::Write`. The report they get has passed through
//! [`redact_report`]: every free text in it (messages, requests, answers,
//! diffs, the target) has the keys masked, even one a panel echoed back,
//! while check ids, sections and titles stay as they are.

pub mod human;
pub mod json;
pub mod junit;

/// Replaces every secret in `text` with `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

/// The report with every secret masked in its free texts.
pub fn redact_report(
    report: &crate::outcome::Report,
    secrets: &[String],
) -> crate::outcome::Report {
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
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let text = "key=abcd1234 and again abcd1234";
        assert_eq!(
            super::redact(text, &["abcd1234".into()]),
            "key=*** and again ***"
        );
    }
}
