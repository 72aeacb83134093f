//! The command line: list, usage errors, exit codes, report formats, and the
//! key that never appears in any output.

use crate::support::{conformance, conformance_async, echoing, secret_mock, BIN};

#[test]
fn list_prints_every_check_with_its_section() {
    let out = conformance(&["list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for check in smm_conformance::suite::catalogue() {
        let line = text
            .lines()
            .find(|l| l.starts_with(check.id))
            .unwrap_or_else(|| panic!("{} missing", check.id));
        assert!(
            line.contains(check.section) && line.contains(check.title),
            "{line}"
        );
    }
    assert_eq!(conformance(&["run", "--list"]).stdout, text.as_bytes());
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let cases: &[&[&str]] = &[
        &["run", "--url", "http://127.0.0.1:9/api/v2"],
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/api/v2",
            "--key",
            "k",
            "--allow-orders",
        ],
        &["run", "--mode", "lenient"],
        &["run", "--mock-profile", "nope"],
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/api/v2",
            "--key",
            "k",
            "--mock-profile",
            "wrong-charge",
        ],
        &["run", "--key", "k"],
        &["nope"],
        // The stateful options: the same key twice, a budget without
        // orders, link templates without {word} or with another placeholder,
        // too few orders at once, a watch of nothing.
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/api/v2",
            "--key",
            "k",
            "--second-key",
            "k",
        ],
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/api/v2",
            "--key",
            "k",
            "--max-spend",
            "1",
        ],
        &["run", "--link", "https://x.com/a"],
        &["run", "--link", "https://x.com/{word}/{id}"],
        &["run", "--concurrent-orders", "1"],
        &["run", "--watch", "0"],
    ];
    for args in cases {
        let out = conformance(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
}

#[test]
fn an_unreachable_target_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = conformance(&[
        "run",
        "--url",
        "http://127.0.0.1:9/api/v2",
        "--key",
        "secret-key-123",
        "--timeout",
        "2",
        "--report-json",
        report.to_str().unwrap(),
    ]);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        written["counts"]["errored"],
        smm_conformance::suite::catalogue().len(),
        "CI gets a report of errors"
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach http://127.0.0.1:9/api/v2"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret-key-123"));
}

#[test]
fn the_human_report_ends_with_the_counts() {
    let out = conformance(&["run", "--cases", "8"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last().unwrap();
    let n = smm_conformance::suite::catalogue().len();
    assert_eq!(
        last,
        format!("{n} passed, 0 warned, 0 failed, 0 errored, 0 skipped")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_appears_in_any_output() {
    let (panel, key) = secret_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let keyfile = dir.path().join("key");
    std::fs::write(&keyfile, format!("{key}\n")).unwrap();
    // The wrong-charge profile is off, but isolation and money checks run; use
    // a profile-free mock and make failures appear by asking for strict mode
    // on checks that print requests: every evidence carries the request.
    let mut outputs = Vec::new();
    for format in ["human", "json", "junit"] {
        let out = conformance_async(vec![
            "run".into(),
            "--url".into(),
            panel.url(),
            "--key-file".into(),
            keyfile.display().to_string(),
            "--allow-orders".into(),
            "--max-spend".into(),
            "1".into(),
            "--format".into(),
            format.into(),
            "--report-json".into(),
            json.display().to_string(),
            "--report-junit".into(),
            junit.display().to_string(),
            "--cases".into(),
            "8".into(),
            "--header".into(),
            format!("X-Echo:{key}"),
        ])
        .await;
        outputs.push(out.stdout);
        outputs.push(out.stderr);
        outputs.push(std::fs::read(&json).unwrap());
        outputs.push(std::fs::read(&junit).unwrap());
    }
    for output in &outputs {
        let text = String::from_utf8_lossy(output);
        assert!(!text.contains(&key), "the key leaked: {text}");
    }
    let report: serde_json::Value = serde_json::from_slice(&outputs[2]).unwrap();
    assert!(crate::support::report_schema().is_valid(&report));
    let xml = String::from_utf8_lossy(&outputs[3]).into_owned();
    assert!(
        xml.starts_with("<?xml")
            && xml.matches("<testcase ").count() == smm_conformance::suite::catalogue().len()
    );
    let _ = BIN;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failures_curl_command_replays_the_request() {
    let mut fixture = smm_mock::Fixture::builtin();
    let key = "sk_live_replay_0123456789".to_owned();
    fixture.accounts[0].key = key.clone();
    let config = smm_mock::Config {
        profiles: [smm_mock::profile::Profile::BareStringBulkErrors]
            .into_iter()
            .collect(),
        ..smm_mock::Config::new(fixture)
    };
    let panel = smm_mock::MockPanel::start_with(config).await.unwrap();
    let out = conformance_async(vec![
        "run".into(),
        "--url".into(),
        panel.url(),
        "--key".into(),
        key.clone(),
        "--only".into(),
        "bulk.status.per-id-errors".into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let request = report["checks"][0]["evidence"][0]["request"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!request.contains(&key), "{request}");
    let replay = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&request)
            .env("SMM_API_KEY", &key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(
        answer["abc"], "Incorrect order ID",
        "the replay reproduces the bare-string error: {answer}"
    );
}

#[test]
fn a_target_that_echoes_the_key_never_gets_it_into_an_output() {
    let addr = echoing();
    let key = "sk_live_echo_9f8e7d6c5b4a";
    let second = "sk_live_second_0a1b2c3d";
    let dir = tempfile::tempdir().unwrap();
    let (json, junit) = (dir.path().join("r.json"), dir.path().join("r.xml"));
    let mut outputs = Vec::new();
    for format in ["human", "json", "junit"] {
        let out = conformance(&[
            "run",
            "--url",
            &format!("http://{addr}/api/v2"),
            "--key",
            key,
            "--second-key",
            second,
            "--order",
            "1",
            "--cases",
            "4",
            "--timeout",
            "2",
            "--format",
            format,
            "--report-json",
            json.to_str().unwrap(),
            "--report-junit",
            junit.to_str().unwrap(),
        ]);
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
        outputs.push(std::fs::read_to_string(&json).unwrap_or_default());
        outputs.push(std::fs::read_to_string(&junit).unwrap_or_default());
    }
    for text in &outputs {
        assert!(
            !text.contains(key) && !text.contains(second),
            "a key leaked: {text}"
        );
    }
    // The echoes reached the reports, masked: the test would see a key that
    // redaction missed.
    let report = &outputs[0];
    assert!(report.contains("key=***"), "no echo was reported: {report}");
}
