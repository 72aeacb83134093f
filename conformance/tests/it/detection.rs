//! Proof that the checks can fail: the conforming mock passes everything in
//! both modes, and each deviation profile is caught by the checks it breaks.

use crate::support::{json_run, report_schema, with_outcome};

#[test]
fn the_conforming_mock_passes_every_check_in_both_modes() {
    for mode in ["tolerant", "strict"] {
        let (code, report) = json_run(&["--mode", mode]);
        assert!(
            report_schema().is_valid(&report),
            "the report follows its schema"
        );
        assert_eq!(
            with_outcome(&report, "fail"),
            Vec::<String>::new(),
            "{mode}"
        );
        assert_eq!(
            with_outcome(&report, "warn"),
            Vec::<String>::new(),
            "{mode}"
        );
        assert_eq!(
            with_outcome(&report, "error"),
            Vec::<String>::new(),
            "{mode}"
        );
        assert_eq!(
            with_outcome(&report, "skip"),
            Vec::<String>::new(),
            "{mode}"
        );
        assert_eq!(code, 0);
    }
}

/// Each profile, the checks that must fail in tolerant mode, and those that
/// must warn in tolerant mode and fail in strict mode.
const CAUGHT: &[(&str, &[&str], &[&str])] = &[
    ("status-case", &[], &["lifecycle.transitions"]),
    (
        "bare-string-bulk-errors",
        &[
            "bulk.status.sizes",
            "bulk.status.per-id-errors",
            "bulk.status.whitespace",
            "isolation.cross-key",
            "property.status",
        ],
        &[],
    ),
    (
        "bulk-overflow-ignored",
        &[
            "bulk.status.over-limit",
            "bulk.lists.over-limit",
            "property.status",
        ],
        &[],
    ),
    ("http-4xx-errors", &["transport.http-200"], &[]),
    ("charge-on-error", &["add.validation"], &[]),
    (
        "wrong-charge",
        &["money.charge", "money.refund-partial"],
        &[],
    ),
];

#[test]
fn each_deviation_is_caught_by_exactly_the_checks_it_breaks() {
    for (profile, fails, drifts) in CAUGHT {
        let (code, tolerant) = json_run(&["--mock-profile", profile]);
        assert_eq!(
            with_outcome(&tolerant, "fail"),
            *fails,
            "{profile}, tolerant: failures"
        );
        assert_eq!(
            with_outcome(&tolerant, "warn"),
            *drifts,
            "{profile}, tolerant: warnings"
        );
        assert_eq!(
            code,
            if fails.is_empty() { 0 } else { 1 },
            "{profile}: exit code"
        );
        let (code, strict) = json_run(&["--mock-profile", profile, "--mode", "strict"]);
        let mut all: Vec<&str> = fails.iter().chain(drifts.iter()).copied().collect();
        let order: Vec<String> = smm_conformance::suite::catalogue()
            .iter()
            .map(|c| c.id.to_owned())
            .collect();
        all.sort_by_key(|id| order.iter().position(|o| o == id));
        assert_eq!(
            with_outcome(&strict, "fail"),
            all,
            "{profile}, strict: failures"
        );
        assert_eq!(code, 1, "{profile}, strict: exit code");
    }
}

#[test]
fn a_property_failure_prints_its_seed_and_a_replayable_request() {
    let (_, report) = json_run(&[
        "--mock-profile",
        "bare-string-bulk-errors",
        "--only",
        "property.status",
        "--seed",
        "42",
    ]);
    let check = &report["checks"][0];
    assert_eq!(check["outcome"], "fail");
    let message = check["message"].as_str().unwrap();
    assert!(message.contains("seed 42"), "{message}");
    let request = check["evidence"][0]["request"].as_str().unwrap();
    assert!(
        request.starts_with("curl -s http://127.0.0.1:8080/api/v2 "),
        "{request}"
    );
    assert!(request.contains("action=status"), "{request}");
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    let run = || {
        crate::support::conformance(&[
            "run",
            "--format",
            "json",
            "--cases",
            "32",
            "--seed",
            "7",
            "--mock-profile",
            "bare-string-bulk-errors",
        ])
        .stdout
    };
    let first = run();
    assert!(!first.is_empty());
    assert!(first == run(), "two runs with seed 7 differ");
}
