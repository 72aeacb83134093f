//! Golden reports: one report with a check of each outcome, a target's body
//! with control characters and the key in it, and injected times, rendered
//! by each reporter into a `Vec<u8>` and compared with the text written out
//! here by hand.

use std::time::Duration;

use smm_conformance::outcome::{CheckResult, Evidence, Mode, Outcome, Report};
use smm_conformance::report::{self, Format};

const KEY: &str = "sk_live_SECRET";

fn check(
    id: &'static str,
    section: &'static str,
    title: &'static str,
    outcome: Outcome,
    message: &str,
    evidence: Vec<Evidence>,
    millis: u64,
) -> CheckResult {
    CheckResult {
        id,
        section,
        title,
        outcome,
        message: message.to_owned(),
        evidence,
        duration: Duration::from_millis(millis),
    }
}

fn evidence(request: &str, expected: &str, actual: &str, diff: Option<&str>) -> Evidence {
    Evidence {
        request: request.to_owned(),
        expected: expected.to_owned(),
        actual: actual.to_owned(),
        diff: diff.map(str::to_owned),
    }
}

/// A report as `execute` returns it: redacted.
fn report() -> Report {
    let checks = vec![
        check(
            "services.schema",
            "§2, §3",
            "services follows its schema",
            Outcome::Pass,
            "18 services, each valid",
            vec![],
            10,
        ),
        check(
            "balance.schema",
            "§2, §3",
            "balance answers a decimal string",
            Outcome::Warn,
            "balance drifts: 12.3 is not a string",
            vec![evidence(
                "curl -s https://panel.example/api/v2 --data-urlencode action=balance",
                "a valid `balance` answer",
                r#"HTTP 200 application/json: {"balance":12.3}"#,
                None,
            )],
            20,
        ),
        check(
            "auth.wrong-key",
            "§1, §4",
            "a wrong key is refused",
            Outcome::Fail,
            "balance with a wrong key: answered without an error",
            vec![evidence(
                "curl -s https://panel.example/api/v2 --data-urlencode key=wrong",
                r#"{"error":"<message>"}"#,
                &format!("HTTP 200 text/html: <h1>{KEY}\x1b[2J\x07&</h1>"),
                Some("-a\n+b\n"),
            )],
            30,
        ),
        check(
            "transport.timeouts",
            "§1",
            "every request is answered in time",
            Outcome::Error,
            "1 request not answered",
            vec![evidence(
                "curl -s https://panel.example/api/v2",
                "",
                "",
                None,
            )],
            1200,
        ),
        check(
            "refill.flow",
            "§2, §3",
            "a refill answers in its shape",
            Outcome::Skip,
            "needs --allow-orders",
            vec![],
            0,
        ),
    ];
    let mut report = Report::new(
        format!("https://panel.example/api/v2?key={KEY}"),
        Mode::Strict,
        7,
        16,
        checks,
    );
    report.duration = Duration::from_millis(1500);
    report::redact_report(&report, &[KEY.to_owned()])
}

fn rendered(format: Format) -> String {
    String::from_utf8(report::render(&report(), format, false)).unwrap()
}

#[test]
fn the_human_report_is_one_line_per_check_then_the_details_then_the_counts() {
    let expected = "\
smm-conformance: https://panel.example/api/v2?key=*** (strict mode, seed 7, 16 cases per property)

PASS  services.schema              18 services, each valid
WARN  balance.schema               balance drifts: 12.3 is not a string
FAIL  auth.wrong-key               balance with a wrong key: answered without an error
ERROR transport.timeouts           1 request not answered
SKIP  refill.flow                  needs --allow-orders

Details

WARN  balance.schema (§2, §3: balance answers a decimal string)
  balance drifts: 12.3 is not a string
  request:  curl -s https://panel.example/api/v2 --data-urlencode action=balance
  expected: a valid `balance` answer
  actual:   HTTP 200 application/json: {\"balance\":12.3}

FAIL  auth.wrong-key (§1, §4: a wrong key is refused)
  balance with a wrong key: answered without an error
  request:  curl -s https://panel.example/api/v2 --data-urlencode key=wrong
  expected: {\"error\":\"<message>\"}
  actual:   HTTP 200 text/html: <h1>***\\u{1b}[2J\\u{7}&</h1>
    -a
    +b

ERROR transport.timeouts (§1: every request is answered in time)
  1 request not answered
  request:  curl -s https://panel.example/api/v2

1 passed, 1 warned, 1 failed, 1 errored, 1 skipped
";
    assert_eq!(rendered(Format::Human), expected);
}

#[test]
fn the_json_report_holds_every_field_but_the_times() {
    let text = rendered(Format::Json);
    assert!(text.starts_with("{\n  \"version\": 1,\n"), "{text}");
    assert!(text.ends_with("}\n"));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = serde_json::json!({
        "version": 1,
        "target": "https://panel.example/api/v2?key=***",
        "mode": "strict",
        "seed": 7,
        "cases": 16,
        "counts": {"passed": 1, "warned": 1, "failed": 1, "errored": 1, "skipped": 1},
        "checks": [
            {"id": "services.schema", "section": "§2, §3", "title": "services follows its schema",
             "outcome": "pass", "message": "18 services, each valid"},
            {"id": "balance.schema", "section": "§2, §3", "title": "balance answers a decimal string",
             "outcome": "warn", "message": "balance drifts: 12.3 is not a string",
             "evidence": [{"request": "curl -s https://panel.example/api/v2 --data-urlencode action=balance",
                           "expected": "a valid `balance` answer",
                           "actual": "HTTP 200 application/json: {\"balance\":12.3}"}]},
            {"id": "auth.wrong-key", "section": "§1, §4", "title": "a wrong key is refused",
             "outcome": "fail", "message": "balance with a wrong key: answered without an error",
             "evidence": [{"request": "curl -s https://panel.example/api/v2 --data-urlencode key=wrong",
                           "expected": "{\"error\":\"<message>\"}",
                           "actual": "HTTP 200 text/html: <h1>***\u{1b}[2J\u{7}&</h1>",
                           "diff": "-a\n+b\n"}]},
            {"id": "transport.timeouts", "section": "§1", "title": "every request is answered in time",
             "outcome": "error", "message": "1 request not answered",
             "evidence": [{"request": "curl -s https://panel.example/api/v2", "expected": "", "actual": ""}]},
            {"id": "refill.flow", "section": "§2, §3", "title": "a refill answers in its shape",
             "outcome": "skip", "message": "needs --allow-orders"},
        ],
    });
    assert_eq!(value, expected);
    assert!(crate::support::report_schema().is_valid(&value));
}

#[test]
fn junit_maps_fail_to_failure_error_to_error_skip_to_skipped_and_drops_control_characters() {
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="smm-conformance" tests="5" skipped="1" failures="1" errors="1" time="1.500">
    <testsuite name="https://panel.example/api/v2?key=***" tests="5" skipped="1" errors="1" failures="1" time="1.500">
        <testcase name="services.schema" classname="smm-conformance.services" time="0.010"/>
        <testcase name="balance.schema" classname="smm-conformance.balance" time="0.020">
            <system-out>WARN: balance drifts: 12.3 is not a string (§2, §3)
request: curl -s https://panel.example/api/v2 --data-urlencode action=balance
expected: a valid `balance` answer
actual: HTTP 200 application/json: {&quot;balance&quot;:12.3}
</system-out>
        </testcase>
        <testcase name="auth.wrong-key" classname="smm-conformance.auth" time="0.030">
            <failure message="balance with a wrong key: answered without an error">balance with a wrong key: answered without an error (§1, §4)
request: curl -s https://panel.example/api/v2 --data-urlencode key=wrong
expected: {&quot;error&quot;:&quot;&lt;message&gt;&quot;}
actual: HTTP 200 text/html: &lt;h1&gt;***&amp;&lt;/h1&gt;
-a
+b
</failure>
        </testcase>
        <testcase name="transport.timeouts" classname="smm-conformance.transport" time="1.200">
            <error message="1 request not answered">1 request not answered (§1)
request: curl -s https://panel.example/api/v2
expected: 
actual: 
</error>
        </testcase>
        <testcase name="refill.flow" classname="smm-conformance.refill" time="0.000">
            <skipped message="needs --allow-orders"/>
        </testcase>
    </testsuite>
</testsuites>
"#;
    assert_eq!(rendered(Format::Junit), expected);
}

#[test]
fn no_reporter_shows_the_key() {
    for format in [Format::Human, Format::Json, Format::Junit] {
        let text = rendered(format);
        assert!(!text.contains(KEY), "{format:?}: {text}");
        assert!(
            text.contains("***"),
            "{format:?}: the key is masked, not dropped"
        );
    }
}
