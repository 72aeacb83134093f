//! Proof that the checks can fail: the conforming mock passes everything in
//! both modes, and every deviation profile is caught exactly as the
//! detection matrix (`fixtures/expected/detection-matrix.json`) says.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use smm_conformance::outcome::{Mode, Outcome};
use smm_conformance::{execute, Options};
use smm_mock::profile::{Class, Profile, PROFILES};
use smm_mock::{Config, Fixture, MockPanel};

use crate::support::{conformance, json_run, report_schema, with_outcome};

#[test]
fn the_conforming_mock_passes_every_check_in_both_modes() {
    for mode in ["tolerant", "strict"] {
        let (code, report) = json_run(&["--mode", mode]);
        assert!(
            report_schema().is_valid(&report),
            "the report follows its schema"
        );
        for outcome in ["fail", "warn", "error", "skip"] {
            assert_eq!(
                with_outcome(&report, outcome),
                Vec::<String>::new(),
                "{mode}: {outcome}"
            );
        }
        assert_eq!(code, 0);
    }
}

fn matrix() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/expected/detection-matrix.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["profiles"].as_array().unwrap().clone()
}

fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// What a run under `profile` in `mode` fails, warns and errors, and its
/// exit code: the runner in-process, through `execute()`, as the binary
/// would run it with `--mock-profile P --mode M --timeout T --cases 16
/// --concurrency 1 --seed 0`.
///
/// Without `admin`, the mock is served apart with its admin API off, and
/// the runner gets what it would get from any panel: the URL, two keys (the
/// second without funds) and a budget, and no `--order`.
async fn observed(
    profile: &str,
    mode: &str,
    timeout: u64,
    admin: bool,
) -> (u8, BTreeMap<&'static str, Vec<String>>) {
    let base = Options {
        mode: mode.parse().unwrap(),
        timeout: Duration::from_secs(timeout),
        cases: 16,
        concurrency: 1,
        seed: 0,
        ..Options::default()
    };
    let profile: Profile = profile.parse().unwrap();
    let mut panel = None;
    let options = if admin {
        Options {
            mock_profiles: vec![profile],
            ..base
        }
    } else {
        let config = Config {
            admin: false,
            listen: "127.0.0.1:0".parse().unwrap(),
            profiles: std::iter::once(profile).collect(),
            ..Config::new(Fixture::builtin())
        };
        let mock = MockPanel::start_with(config).await.unwrap();
        let options = Options {
            url: Some(mock.url()),
            key: Some("test-key".into()),
            second_key: Some("empty-key".into()),
            allow_orders: true,
            max_spend: Some(50.into()),
            watch: Duration::from_secs(3),
            ..base
        };
        panel = Some(mock);
        options
    };
    let run = execute(options).await.unwrap();
    drop(panel);
    let outcomes = [
        ("fail", Outcome::Fail),
        ("warn", Outcome::Warn),
        ("error", Outcome::Error),
    ]
    .into_iter()
    .map(|(name, outcome)| {
        let ids = run
            .report
            .checks
            .iter()
            .filter(|c| c.outcome == outcome)
            .map(|c| c.id.to_owned())
            .collect();
        (name, ids)
    })
    .collect();
    (run.report.exit_code(), outcomes)
}

#[test]
fn every_profile_is_in_the_matrix_and_the_matrix_follows_the_class_rules() {
    let rows = matrix();
    let listed: Vec<&str> = rows
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    for d in PROFILES {
        let in_matrix = listed.contains(&d.name);
        assert_eq!(
            in_matrix,
            d.class != Class::Fault,
            "{}: faults are outside the matrix, the rest inside",
            d.name
        );
    }
    for row in &rows {
        let name = row["profile"].as_str().unwrap();
        let class = PROFILES
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.class.to_string());
        assert_eq!(class.as_deref(), row["class"].as_str(), "{name}: class");
        for (matrix, part) in [
            ("admin", row.clone()),
            ("without admin", row["without_admin"].clone()),
        ] {
            let name = format!("{name} ({matrix})");
            let (t_fail, t_warn) = (
                ids(&part["tolerant"]["fail"]),
                ids(&part["tolerant"]["warn"]),
            );
            let s_fail = ids(&part["strict"]["fail"]);
            match row["class"].as_str() {
                Some("breaking") => {
                    assert!(
                        !t_fail.is_empty() && !s_fail.is_empty(),
                        "{name}: a breaking profile no check fails"
                    )
                }
                Some("drift") => {
                    assert!(t_fail.is_empty(), "{name}: drift fails in tolerant mode");
                    assert!(!t_warn.is_empty(), "{name}: drift no check warns about");
                    assert_eq!(
                        s_fail, t_warn,
                        "{name}: strict must fail exactly where tolerant warned"
                    );
                }
                other => panic!("{name}: class {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the summary the README quotes
async fn every_deviation_is_caught_exactly_as_the_matrix_says_with_and_without_admin() {
    let started = Instant::now();
    let mut rows = matrix();
    // Several runs at once, the slowest (those that wait on timeouts) first;
    // not all at once, so that no answer is late only because the machine is
    // busy.
    rows.sort_by_key(|r| std::cmp::Reverse(r["timeout"].as_u64().is_some()));
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
    let mut runs = tokio::task::JoinSet::new();
    for row in &rows {
        for admin in [true, false] {
            for mode in ["tolerant", "strict"] {
                let row = row.clone();
                let gate = std::sync::Arc::clone(&gate);
                runs.spawn(async move {
                    let _permit = gate.acquire_owned().await.unwrap();
                    let name = row["profile"].as_str().unwrap().to_owned();
                    let timeout = row["timeout"].as_u64().unwrap_or(5);
                    let (code, got) = observed(&name, mode, timeout, admin).await;
                    let (want, label) = if admin {
                        (&row[mode], format!("{name} {mode}"))
                    } else {
                        (
                            &row["without_admin"][mode],
                            format!("{name} {mode} without admin"),
                        )
                    };
                    compare(&label, want, code, &got)
                });
            }
        }
    }
    let mut failures: Vec<String> = Vec::new();
    while let Some(done) = runs.join_next().await {
        failures.extend(done.unwrap());
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "the matrix does not hold:\n{}",
        failures.join("\n")
    );
    let count = |class: &str| rows.iter().filter(|r| r["class"] == class).count();
    eprintln!(
        "detection matrix, with and without the admin API: {}/{} breaking profiles fail the run, {}/{} drift profiles warn (tolerant) and fail (strict); {} runs in {:.1} s",
        count("breaking"),
        count("breaking"),
        count("drift"),
        count("drift"),
        rows.len() * 4,
        started.elapsed().as_secs_f64()
    );
}

/// What differs between a run's outcomes and exit code and the matrix's.
fn compare(
    label: &str,
    want: &Value,
    code: u8,
    got: &BTreeMap<&'static str, Vec<String>>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for outcome in ["fail", "warn", "error"] {
        let expected = ids(&want[outcome]);
        if got[outcome] != expected {
            failures.push(format!(
                "{label} {outcome}: expected {expected:?}, got {:?}",
                got[outcome]
            ));
        }
    }
    let want_code = if !ids(&want["fail"]).is_empty() {
        1
    } else if !ids(&want["error"]).is_empty() {
        3
    } else {
        0
    };
    if code != want_code {
        failures.push(format!("{label}: exit code {code}, expected {want_code}"));
    }
    failures
}

/// The conforming mock, without its admin API and without `--order`, as a
/// panel implementer would point the runner at a panel: nothing fails,
/// warns, errs or is skipped, and the four checks that used to need the
/// admin API pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conforming_mock_without_admin_passes_every_check_in_both_modes() {
    for mode in [Mode::Tolerant, Mode::Strict] {
        let config = Config {
            admin: false,
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::new(Fixture::builtin())
        };
        let mock = MockPanel::start_with(config).await.unwrap();
        let run = execute(Options {
            url: Some(mock.url()),
            key: Some("test-key".into()),
            second_key: Some("empty-key".into()),
            allow_orders: true,
            max_spend: Some(50.into()),
            mode,
            ..Options::default()
        })
        .await
        .unwrap();
        let not_passed: Vec<(&str, &str)> = run
            .report
            .checks
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .map(|c| (c.id, c.message.as_str()))
            .collect();
        assert_eq!(not_passed, Vec::<(&str, &str)>::new(), "{mode:?}");
        for id in [
            "money.refund-partial",
            "money.refund-canceled",
            "refill.flow",
            "isolation.cross-key",
        ] {
            assert_eq!(run.report.outcome(id), Some(Outcome::Pass), "{id}");
        }
        // Every order the run placed is in its report, and none runs on.
        let orders = &run.report.orders;
        assert!(orders.len() > 20, "{} orders", orders.len());
        assert!(orders.iter().all(|o| !o.running), "{orders:?}");
        let spent: rust_decimal::Decimal = orders
            .iter()
            .map(|o| o.charge.parse::<rust_decimal::Decimal>().unwrap())
            .sum();
        let left = mock.with_panel(|p| p.balance("test-key")).unwrap();
        assert_eq!(left, rust_decimal::Decimal::from(1000) - spent);
        mock.shutdown().await;
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

/// A broken lifecycle rule is caught by the stateful property, shrunk, and
/// printed as a script that replays it: each answer echoed, each id the
/// sequence goes on with kept in a variable, the key a placeholder.
#[test]
fn a_stateful_failure_prints_a_replayable_script_with_its_seed() {
    let (_, report) = json_run(&[
        "--mock-profile",
        "refill-not-enforced",
        "--only",
        "property.lifecycle",
        "--seed",
        "3",
    ]);
    let check = &report["checks"][0];
    assert_eq!(check["outcome"], "fail", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("seed 3") && message.contains("refill"),
        "{message}"
    );
    let script = check["evidence"][0]["request"].as_str().unwrap();
    let lines: Vec<&str> = script.lines().collect();
    assert!(
        lines[0].starts_with("# property.lifecycle, seed 3"),
        "{script}"
    );
    assert!(
        lines[1].starts_with("A=$(curl -s http://127.0.0.1:8080/api/v2 "),
        "{script}"
    );
    assert!(
        lines[1].contains("action=add") && lines[1].contains("O1=$("),
        "{script}"
    );
    assert!(script.contains("order=$O1"), "{script}");
    assert!(script.contains("\"key=$SMM_API_KEY\""), "{script}");
    // Shrunk: no longer than the longest generated sequence and its poll.
    assert!(lines.len() <= 10, "{script}");
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    let run = || {
        conformance(&[
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
