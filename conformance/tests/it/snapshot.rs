//! Snapshots and the drift gate: stable bytes, every visible profile classed
//! as its class, catalogue edits classed and gated, bad files refused.

use std::path::Path;

use serde_json::Value;

use crate::support::{conformance, conformance_async};

fn snapshot_to(path: &Path, extra: &[&str]) {
    assert_eq!(
        try_snapshot_to(path, extra),
        0,
        "snapshot {extra:?} refused"
    );
}

/// Takes a snapshot; returns the exit code (2: the panel answered no catalogue).
fn try_snapshot_to(path: &Path, extra: &[&str]) -> i32 {
    let file = path.display().to_string();
    let mut args = vec!["snapshot", "-o", file.as_str(), "--timeout", "2"];
    args.extend_from_slice(extra);
    conformance(&args).status.code().unwrap_or(-1)
}

fn diff_json(old: &Path, new: &Path, extra: &[&str]) -> (i32, Value) {
    let (old, new) = (old.display().to_string(), new.display().to_string());
    let mut args = vec!["diff", old.as_str(), new.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = conformance(&args);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn severities(report: &Value) -> Vec<String> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["severity"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_same_panel_snapshots_to_the_same_bytes_and_follows_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    snapshot_to(&a, &[]);
    snapshot_to(&b, &[]);
    let (first, second) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(first == second, "two snapshots of the same panel differ");
    let schema_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/snapshot.schema.json"
    ))
    .unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&schema_text).unwrap()).unwrap();
    let value: Value = serde_json::from_slice(&first).unwrap();
    assert!(schema.is_valid(&value), "{value}");
    assert_eq!(
        value["statuses"],
        serde_json::json!(["Canceled", "Completed", "Partial"]),
        "the seeded orders"
    );
    let (code, report) = diff_json(&a, &b, &[]);
    assert_eq!((code, severities(&report)), (0, Vec::<String>::new()));
}

#[test]
fn a_profiles_snapshot_diffs_as_the_profiles_class() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    snapshot_to(&base, &[]);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/expected/detection-matrix.json"
    );
    let matrix: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut wrong = Vec::new();
    for row in matrix["profiles"].as_array().unwrap() {
        let profile = row["profile"].as_str().unwrap();
        let file = dir.path().join(format!("{profile}.json"));
        let want = if row["snapshot"] == true {
            row["class"].as_str()
        } else {
            None
        };
        if try_snapshot_to(&file, &["--mock-profile", profile]) == 2 {
            // No catalogue at all (the API moved): the snapshot itself is
            // refused, which a CI job sees as loudly as a breaking diff.
            if want != Some("breaking") {
                wrong.push(format!(
                    "{profile}: the snapshot was refused, expected {want:?}"
                ));
            }
            continue;
        }
        let (code, report) = diff_json(&base, &file, &[]);
        let found = severities(&report);
        let top = ["breaking", "drift", "compatible"]
            .into_iter()
            .find(|s| found.iter().any(|f| f == s));
        if top != want {
            wrong.push(format!(
                "{profile}: diff says {top:?}, expected {want:?}: {}",
                report["changes"]
            ));
        }
        let want_code = if top == Some("breaking") { 1 } else { 0 };
        if code != want_code {
            wrong.push(format!("{profile}: exit {code}, expected {want_code}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A snapshot of a mock serving the built-in fixture edited by `edit`.
async fn edited_snapshot(path: &Path, edit: impl FnOnce(&mut smm_mock::Fixture)) {
    let mut fixture = smm_mock::Fixture::builtin();
    edit(&mut fixture);
    let panel = smm_mock::MockPanel::start(fixture).await.unwrap();
    let out = conformance_async(vec![
        "snapshot".into(),
        "--url".into(),
        panel.url(),
        "--key".into(),
        "test-key".into(),
        "--order".into(),
        "23501".into(),
        "-o".into(),
        path.display().to_string(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_edits_are_classed_and_gate_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    edited_snapshot(&base, |_| {}).await;
    let removed = dir.path().join("removed.json");
    edited_snapshot(&removed, |f| {
        f.services.retain(|s| s.id != 2);
    })
    .await;
    let pricier = dir.path().join("pricier.json");
    edited_snapshot(&pricier, |f| {
        f.services[0].rate_text = "1.08".into();
        f.services[0].rate = "1.08".parse().unwrap();
    })
    .await;
    let smaller = dir.path().join("smaller.json");
    edited_snapshot(&smaller, |f| {
        f.services[0].max = 5000;
    })
    .await;
    let renamed = dir.path().join("renamed.json");
    edited_snapshot(&renamed, |f| {
        f.services[0].name = "Followers, renamed".into();
    })
    .await;

    let cases: Vec<(&Path, Vec<&str>, i32, &str, &str)> = vec![
        (&removed, vec![], 1, "breaking", "service 2 removed"),
        (
            &pricier,
            vec![],
            0,
            "compatible",
            "service 1: rate 0.90 → 1.08 (+20%)",
        ),
        (
            &pricier,
            vec!["--max-rate-increase", "10"],
            1,
            "breaking",
            "service 1: rate 0.90 → 1.08 (+20%)",
        ),
        (
            &pricier,
            vec!["--max-rate-increase", "25"],
            0,
            "compatible",
            "+20%",
        ),
        (
            &smaller,
            vec![],
            1,
            "breaking",
            "service 1: max 10000 → 5000",
        ),
        (&renamed, vec![], 0, "compatible", "service 1: name"),
        (
            &renamed,
            vec!["--fail-on", "any"],
            1,
            "compatible",
            "service 1: name",
        ),
        (
            &removed,
            vec!["--fail-on", "none"],
            0,
            "breaking",
            "service 2 removed",
        ),
    ];
    for (new, extra, code, severity, what) in cases {
        let (got_code, report) = diff_json(&base, new, &extra);
        let change = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["what"].as_str().unwrap().contains(what));
        let change = change.unwrap_or_else(|| panic!("{what}: not reported in {report}"));
        assert_eq!(change["severity"], severity, "{what} {extra:?}");
        assert_eq!(got_code, code, "{what} {extra:?}");
    }
    // The human form names the change and shows a unified diff.
    let out = conformance(&["diff", base.to_str().unwrap(), smaller.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BREAKING    services   service 1: max 10000 → 5000"),
        "{text}"
    );
    assert!(
        text.contains("-    \"max\": \"10000\",") && text.contains("+    \"max\": \"5000\","),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("1 breaking, 0 drift, 0 compatible"),
        "{text}"
    );
}

#[test]
fn malformed_or_foreign_snapshots_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    snapshot_to(&good, &[]);
    let cases = [
        ("not-json.json", "{".to_owned(), "not JSON"),
        (
            "report.json",
            r#"{"version": 1, "checks": []}"#.to_owned(),
            "not an smm-conformance snapshot",
        ),
        (
            "other.json",
            r#"{"format": "openapi", "version": 1}"#.to_owned(),
            "a `openapi` file",
        ),
        (
            "future.json",
            r#"{"format": "smm-conformance-snapshot", "version": 9}"#.to_owned(),
            "snapshot version 9",
        ),
        (
            "broken.json",
            r#"{"format": "smm-conformance-snapshot", "version": 1, "services": 3}"#.to_owned(),
            "malformed snapshot",
        ),
    ];
    for (name, text, problem) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = conformance(&["diff", good.to_str().unwrap(), path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{}: ", path.display())) && stderr.contains(problem),
            "{name}: {stderr}"
        );
    }
    let missing = conformance(&["diff", good.to_str().unwrap(), "/nonexistent/contract.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_against_compares_a_stored_snapshot_with_the_live_panel() {
    let dir = tempfile::tempdir().unwrap();
    let stored = dir.path().join("contract.json");
    edited_snapshot(&stored, |_| {}).await;
    let mut fixture = smm_mock::Fixture::builtin();
    fixture.services.retain(|s| s.id != 5);
    let panel = smm_mock::MockPanel::start(fixture).await.unwrap();
    let out = conformance_async(vec![
        "diff".into(),
        "--against".into(),
        stored.display().to_string(),
        "--url".into(),
        panel.url(),
        "--key".into(),
        "test-key".into(),
        "--order".into(),
        "23501".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("service 5 removed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_or_path_gets_no_snapshot() {
    let panel = smm_mock::MockPanel::start(smm_mock::Fixture::builtin())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("contract.json");
    let base = panel.url().trim_end_matches("/api/v2").to_owned();
    for (url, key, says) in [
        (
            panel.url(),
            "wrong-key-0000",
            "the panel refused the key of --key",
        ),
        (format!("{base}/"), "test-key", "is not the API endpoint"),
    ] {
        let out = conformance_async(vec![
            "snapshot".into(),
            "--url".into(),
            url.clone(),
            "--key".into(),
            key.into(),
            "-o".into(),
            file.display().to_string(),
        ])
        .await;
        assert_eq!(out.status.code(), Some(2), "{url} {key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{stderr}");
        assert!(!file.exists(), "no file for a refused snapshot");
    }
}

#[test]
fn service_edits_the_catalogue_checks_miss_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    snapshot_to(&base, &[]);
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    edited["services"][4]["rate"] = "abc".into();
    edited["services"][3]
        .as_object_mut()
        .unwrap()
        .remove("cancel");
    edited["services"][0]
        .as_object_mut()
        .unwrap()
        .remove("desc");
    let file = dir.path().join("edited.json");
    std::fs::write(&file, edited.to_string()).unwrap();
    let (code, report) = diff_json(&base, &file, &[]);
    let found: Vec<(String, String)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["severity"].as_str().unwrap().to_owned(),
                c["what"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (severity, what) in [
        ("breaking", "service 5: rate 2.40 → abc"),
        ("drift", "service 4: cancel missing"),
        ("compatible", "service 1: desc missing"),
    ] {
        assert!(
            found
                .iter()
                .any(|(s, w)| s == severity && w.starts_with(what)),
            "{what}: {found:?}"
        );
    }
    assert_eq!(code, 1);
    let duplicated = dir.path().join("duplicated.json");
    let mut twice: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let first = twice["services"][0].clone();
    twice["services"].as_array_mut().unwrap().push(first);
    std::fs::write(&duplicated, twice.to_string()).unwrap();
    let out = conformance(&["diff", base.to_str().unwrap(), duplicated.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("service 1 is listed twice"));
    let with_url = conformance(&[
        "diff",
        base.to_str().unwrap(),
        base.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:9/api/v2",
    ]);
    assert_eq!(with_url.status.code(), Some(2), "--url goes with --against");
}

/// The lines of `text` that mention one of `names`, as the first name each holds.
fn order_of<'a>(text: &str, names: &[&'a str]) -> Vec<&'a str> {
    text.lines()
        .filter_map(|line| names.iter().find(|n| line.contains(*n)).copied())
        .collect()
}

#[test]
fn services_are_reported_by_number_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    snapshot_to(&base, &[]);
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let services = edited["services"].as_array_mut().unwrap();
    for (id, name) in [(1, "Renamed one"), (2, "Renamed two"), (10, "Renamed ten")] {
        let service = services.iter_mut().find(|s| s["service"] == id).unwrap();
        service["name"] = name.into();
    }
    let file = dir.path().join("renamed.json");
    std::fs::write(&file, edited.to_string()).unwrap();
    let names = ["Renamed one", "Renamed two", "Renamed ten"];

    let (_, report) = diff_json(&base, &file, &[]);
    let whats: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        order_of(&whats.join("\n"), &names),
        names,
        "json: {whats:?}"
    );
    for format in ["human", "junit"] {
        let out = conformance(&[
            "diff",
            base.to_str().unwrap(),
            file.to_str().unwrap(),
            "--format",
            format,
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        let mentioned = order_of(&text, &names);
        assert_eq!(&mentioned[..3], names, "{format}: {text}");
    }
}

#[test]
fn one_change_to_many_services_is_one_line_naming_them_and_counted_per_service() {
    let dir = tempfile::tempdir().unwrap();
    let (base, numeric) = (dir.path().join("base.json"), dir.path().join("num.json"));
    snapshot_to(&base, &[]);
    snapshot_to(&numeric, &["--mock-profile", "numeric-fields"]);
    let (old, new) = (base.to_str().unwrap(), numeric.to_str().unwrap());

    let out = conformance(&["diff", old, new]);
    assert_eq!(out.status.code(), Some(0), "drift does not fail by default");
    let text = String::from_utf8_lossy(&out.stdout);
    let services: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("DRIFT       services"))
        .collect();
    assert_eq!(
        services,
        [
            "DRIFT       services   rate string → number (18 services: 1–18)",
            "DRIFT       services   min string → integer (18 services: 1–18)",
            "DRIFT       services   max string → integer (18 services: 1–18)",
        ],
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("0 breaking, 64 drift (13 lines), 0 compatible"),
        "{text}"
    );

    let (code, report) = diff_json(&base, &numeric, &["--fail-on", "drift"]);
    assert_eq!(code, 1, "the gate counts each change");
    let changes = report["changes"].as_array().unwrap();
    assert_eq!(
        (changes.len(), &report["counts"]["drift"]),
        (64, &64.into())
    );
    let rate: Vec<&str> = changes
        .iter()
        .filter(|c| {
            c["what"]
                .as_str()
                .unwrap()
                .ends_with(": rate string → number")
        })
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    let all: Vec<String> = (1..=18).map(|n| n.to_string()).collect();
    assert_eq!(rate, all, "each change stays, with its service, by number");
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 13);
    assert_eq!(groups[0]["what"], "rate string → number");
    assert_eq!(groups[0]["services"], serde_json::json!(all));
    let grouped: usize = groups
        .iter()
        .map(|g| g["services"].as_array().map_or(1, Vec::len))
        .sum();
    assert_eq!(grouped, changes.len(), "each change in one group");
}

/// The console block after `marker` in README.md: each `$ smm-conformance …`
/// command, and the lines it printed (to stdout or stderr).
pub(crate) fn readme_session(marker: &str) -> Vec<(Vec<String>, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let from = readme.find(marker).expect("the marker is in README.md");
    let block = readme[from..]
        .split_once("```console\n")
        .and_then(|(_, rest)| rest.split_once("\n```\n"))
        .expect("a console block follows the marker")
        .0;
    let mut session: Vec<(Vec<String>, String)> = Vec::new();
    for line in block.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            assert_eq!(words[0], "smm-conformance", "{line}");
            session.push((words[1..].to_vec(), String::new()));
        } else {
            let (_, printed) = session.last_mut().expect("a command before its output");
            printed.push_str(line);
            printed.push('\n');
        }
    }
    session
}

#[test]
fn the_readme_diff_sample_is_what_its_commands_print() {
    let session = readme_session("<!-- Checked by conformance/tests/it/snapshot.rs");
    assert_eq!(session.len(), 3, "two snapshots and a diff");
    let dir = tempfile::tempdir().unwrap();
    let mut codes = Vec::new();
    for (args, printed) in &session {
        let out = std::process::Command::new(crate::support::BIN)
            .args(args)
            .current_dir(dir.path())
            .env_remove("SMM_API_KEY")
            .env_remove("SMM_API_KEY_2")
            .output()
            .unwrap();
        // What the terminal shows: each of these commands writes to one
        // stream only, so the order of the two is not in question.
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(stdout.is_empty() || stderr.is_empty(), "{stdout}{stderr}");
        assert_eq!(
            format!("{stderr}{stdout}"),
            *printed,
            "smm-conformance {}",
            args.join(" ")
        );
        codes.push(out.status.code());
    }
    assert_eq!(codes, [Some(0), Some(0), Some(1)], "as the README says");
}
