//! A mock cloned from a panel behaves like it: for the default fixture and
//! every profile a snapshot can see (the detection matrix's `snapshot`
//! column), the mock under the profile is snapshotted, and recorded by a
//! scripted client (the snapshot's own requests) through `smm-conformance
//! proxy --record`; each is cloned (`clone::build`), the clone served, snapshotted
//! again, and the two snapshots compared (all but `target`). The exceptions
//! are listed, each with why, in `fixtures/expected/clone-round-trip.json`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use smm_conformance::clone::{self, recording, Observed};
use smm_conformance::snapshot::{self, Snapshot};
use smm_mock::profile::{Profile, Profiles};
use smm_mock::{Config, Fixture, MockPanel};

/// The key of the built-in fixture's first account.
const KEY: &str = "test-key";
/// The orders the built-in fixture seeds.
const ORDERS: [u64; 3] = [23501, 23502, 23503];
/// One request's timeout, for the client; the recording proxy gives up on
/// the upstream sooner, so a hung request is recorded before the client
/// moves on.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(1500);
const PROXY_TIMEOUT: Duration = Duration::from_millis(700);

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_json(relative: &str) -> Value {
    let text = std::fs::read_to_string(root().join(relative)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The profiles a snapshot can see, from the detection matrix.
fn visible_profiles() -> Vec<Profile> {
    read_json("fixtures/expected/detection-matrix.json")["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["snapshot"] == true)
        .map(|row| row["profile"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The endpoint of a panel on `addr` under `profiles` (the path profiles
/// move it).
fn endpoint(addr: std::net::SocketAddr, profiles: Profiles) -> String {
    format!("http://{addr}{}", smm_mock::router::api_path(profiles))
}

/// A snapshot of the panel at `url`, as `smm-conformance snapshot --url
/// URL --key test-key --order …` takes it (the basics first).
async fn snapshot_of(url: &str) -> Snapshot {
    let options = smm_conformance::Options {
        url: Some(url.to_owned()),
        key: Some(KEY.to_owned()),
        orders: ORDERS.to_vec(),
        timeout: CLIENT_TIMEOUT,
        ..smm_conformance::Options::default()
    };
    let taken = match smm_conformance::connect(options).await {
        Ok(connected) => snapshot::take(&connected.client, url, &ORDERS)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    // Refused: an empty snapshot that says why, compared like any other.
    taken.unwrap_or_else(|why| {
        let mut empty = Observed::new(clone::Source::Snapshot, url).snapshot;
        empty.content_types = vec![format!("(refused: {why})")];
        empty
    })
}

/// A writer into memory that a test reads afterwards.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The recording `smm-conformance proxy --record` writes of a snapshot taken
/// through it (the scripted client) in front of `upstream`.
async fn recorded_through_the_proxy(upstream: &str) -> String {
    let recording = Shared::default();
    let config = smm_conformance::proxy::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        timeout: PROXY_TIMEOUT,
        record: Some(Box::new(recording.clone())),
        ..smm_conformance::proxy::Config::new(upstream)
    };
    let proxy = smm_conformance::proxy::Proxy::start(config).await.unwrap();
    let _through = snapshot_of(&proxy.url()).await;
    proxy.stop().await;
    let text = recording.0.lock().unwrap().clone();
    String::from_utf8(text).unwrap()
}

/// The snapshot of a mock serving `fixture`.
async fn snapshot_of_fixture(fixture: Fixture) -> Snapshot {
    let profiles = fixture.profiles;
    let panel = MockPanel::start(fixture).await.unwrap();
    snapshot_of(&endpoint(panel.addr(), profiles)).await
}

/// The clone of `observed`, checked and parsed as `smm-mock --fixture` would.
fn cloned(observed: &Observed) -> Result<Fixture, String> {
    let made = clone::build(observed, "observed");
    Fixture::parse("clone.json", &made.to_json()).map_err(|e| e.to_string())
}

/// What differs between `original` and the snapshot of its clone.
async fn against_clone(original: &Snapshot, observed: &Observed) -> Vec<String> {
    match cloned(observed) {
        Ok(fixture) => differences(original, &snapshot_of_fixture(fixture).await),
        Err(e) => vec![format!("no clone: {e}")],
    }
}

/// What differs between two snapshots, `target` aside, as the JSON
/// pointers of the values that differ; empty: equal (byte for byte).
fn differences(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let text = |s: &Snapshot| {
        let mut s = s.clone();
        s.target = String::new();
        s.to_json()
    };
    if text(a) == text(b) {
        return Vec::new();
    }
    let value = |s: &Snapshot| serde_json::from_str::<Value>(&text(s)).unwrap();
    let mut found = Vec::new();
    pointers("", &value(a), &value(b), &mut found);
    if found.is_empty() {
        found.push("the same values in another order".into());
    }
    found
}

fn pointers(at: &str, a: &Value, b: &Value, found: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (p, q) = (
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                );
                pointers(&format!("{at}/{key}"), p, q, found);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                pointers(&format!("{at}/{i}"), p, q, found);
            }
        }
        _ if a != b => found.push(format!("{at}: {a} ≠ {b}")),
        _ => {}
    }
}

/// One round trip: what the original snapshot holds, and the differences
/// (via snapshot, via recording).
async fn round_trip(profiles: Profiles) -> (String, Vec<String>, Vec<String>) {
    // A fresh panel for each look, so seeded draws (random-5xx) line up.
    let fresh = || async {
        MockPanel::start_with(Config {
            profiles,
            ..Config::new(Fixture::builtin())
        })
        .await
        .unwrap()
    };
    let panel = fresh().await;
    let original = snapshot_of(&endpoint(panel.addr(), profiles)).await;
    let panel = fresh().await;

    let via_snapshot = against_clone(&original, &Observed::of_snapshot(original.clone())).await;

    let upstream = endpoint(panel.addr(), profiles);
    let text = recorded_through_the_proxy(&upstream).await;
    let observed = recording::read("recording.jsonl", &text).unwrap();
    let via_recording = against_clone(&original, &observed).await;
    let held = match original.content_types.first() {
        Some(refused) if refused.starts_with("(refused") => refused.clone(),
        _ => original.summary(),
    };
    (held, via_snapshot, via_recording)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_snapshots_as_the_panel_it_was_cloned_from() {
    let expected = read_json("fixtures/expected/clone-round-trip.json");
    let exception = |name: &str, via: &str| {
        expected["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["profile"] == name && e["via"] == via)
            .map(|e| e["why"].as_str().unwrap().to_owned())
    };
    let mut cases: Vec<(String, Profiles)> = vec![("default".into(), Profiles::NONE)];
    cases.extend(
        visible_profiles()
            .into_iter()
            .map(|p| (p.name().to_owned(), Profiles::NONE.with(p))),
    );
    let mut table = vec![format!(
        "{:<26} {:<10} {:<10} original snapshot",
        "profile", "snapshot", "recording"
    )];
    let mut wrong = Vec::new();
    for (name, profiles) in &cases {
        let (held, via_snapshot, via_recording) = round_trip(*profiles).await;
        if held.starts_with("(refused") {
            wrong.push(format!(
                "{name}: the original snapshot was refused, nothing to compare: {held}"
            ));
        }
        let mut cells = Vec::new();
        for (via, found) in [("snapshot", &via_snapshot), ("recording", &via_recording)] {
            let allowed = exception(name, via);
            cells.push(match (found.is_empty(), &allowed) {
                (true, None) => "equal".to_owned(),
                (false, Some(_)) => "differs*".to_owned(),
                (true, Some(_)) => {
                    wrong.push(format!(
                        "{name} via {via}: equal, but listed as an exception"
                    ));
                    "equal!".to_owned()
                }
                (false, None) => {
                    wrong.push(format!("{name} via {via}: {}", found.join("; ")));
                    "DIFFERS".to_owned()
                }
            });
        }
        table.push(format!(
            "{name:<26} {:<10} {:<10} {held}",
            cells[0], cells[1]
        ));
    }
    report(&format!(
        "{}\n(* an exception of fixtures/expected/clone-round-trip.json)",
        table.join("\n")
    ));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Prints the table: the test's report (`--nocapture`).
#[allow(clippy::print_stdout)]
fn report(table: &str) {
    println!("{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_clone_sample_runs_and_the_clone_diffs_as_its_provider() {
    let session = crate::snapshot::readme_session("<!-- Checked by conformance/tests/it/clone.rs");
    assert_eq!(session.len(), 2, "a snapshot and a clone");
    let dir = tempfile::tempdir().unwrap();
    for (args, printed) in &session {
        let (args, cwd) = (args.clone(), dir.path().to_owned());
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(crate::support::BIN)
                .args(&args)
                .current_dir(cwd)
                .env_remove("SMM_API_KEY")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!((out.status.code(), &shown), (Some(0), printed));
    }
    // Step 3 and 4 of the workflow: serve the clone, diff it against the
    // provider's snapshot.
    let fixture = Fixture::load(&dir.path().join("provider-mock.json")).unwrap();
    let panel = MockPanel::start(fixture).await.unwrap();
    let against = dir.path().join("provider.json").display().to_string();
    let out = crate::support::conformance_async(vec![
        "diff".into(),
        "--against".into(),
        against,
        "--url".into(),
        panel.url(),
        "--key".into(),
        KEY.into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.ends_with("0 breaking, 0 drift, 0 compatible\n"),
        "{stdout}"
    );
}

#[test]
fn a_file_that_is_neither_a_snapshot_nor_a_recording_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("fixture.json");
    std::fs::write(&other, "{\"name\": \"x\"}").unwrap();
    let other = other.display().to_string();
    let out = crate::support::conformance(&["clone", &other]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("expected a snapshot or a proxy recording"),
        "{stderr}"
    );
    let missing = crate::support::conformance(&["clone", "no-such-file.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-file.json: cannot read"));
}
