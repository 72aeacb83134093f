//! A user's first mistakes, each answered once with what to fix: nothing
//! listening, TLS spoken to a plain port (and the reverse), a URL that is
//! not the endpoint, a refused key, a redirect elsewhere; and Ctrl-C, which
//! ends a run with its report, not without one.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{canned, conformance, report_schema, secret_mock, serve, BIN};

/// A run with a JSON report file: exit code, stdout, stderr, the report.
fn run_with_report(args: &[&str]) -> (i32, String, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let mut all = vec!["run", "--report-json", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = conformance(&all);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("the report file is written")).unwrap();
    assert!(
        report_schema().is_valid(&report),
        "the report is schema-valid"
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        report,
    )
}

/// One message on stderr, the report's one line for all its checks, the
/// cause in the JSON report; the message must hold each of `says`.
fn assert_one_message(
    args: &[&str],
    code: i32,
    cause: &str,
    says: &[&str],
) -> (String, serde_json::Value) {
    let (got, stdout, stderr, report) = run_with_report(args);
    assert_eq!(got, code, "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    for part in says {
        assert!(stderr.contains(part), "`{part}` missing: {stderr}");
    }
    assert_eq!(report["stopped"]["cause"], cause, "{report}");
    let checks = report["checks"].as_array().unwrap().len();
    assert!(checks > 40, "every check is in the report");
    let troubled: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ERROR") || l.starts_with("FAIL"))
        .collect();
    assert_eq!(
        troubled,
        [format!(
            "ERROR {:<28} {}",
            format!("{checks} checks"),
            stderr.trim().trim_start_matches("smm-conformance: ")
        )],
        "one line for one cause:\n{stdout}"
    );
    (stderr, report)
}

#[test]
fn nothing_listening_is_one_message_that_asks_whether_the_panel_runs() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/api/v2");
    assert_one_message(
        &["--url", &url, "--key", "sk_test_123456"],
        3,
        "unreachable",
        &[
            &format!("nothing listens at 127.0.0.1:{port}"),
            "is the panel running",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_suggests_http() {
    // A plain-HTTP server answers the TLS hello in HTTP (the mock: 400)...
    let (panel, key) = secret_mock().await;
    let plain = panel.url().replace("http://", "https://");
    let addr = panel.url()["http://".len()..].to_owned();
    // ... or closes the connection without a word.
    let silent = serve(|_, _| "[]".to_owned());
    tokio::task::spawn_blocking(move || {
        assert_one_message(
            &["--url", &plain, "--key", &key],
            3,
            "unreachable",
            &["does not speak TLS", &format!("try --url http://{addr}")],
        );
        let url = format!("https://{silent}/api/v2");
        assert_one_message(
            &["--url", &url, "--key", "sk_test_123456"],
            3,
            "unreachable",
            &[
                "a plain-HTTP port?",
                &format!("try --url http://{silent}/api/v2"),
            ],
        );
    })
    .await
    .unwrap();
}

#[test]
fn http_to_a_tls_port_suggests_https() {
    // What a TLS server answers to plain HTTP: a fatal alert record
    // (unexpected message), then it closes.
    let addr = canned(Some(b"\x15\x03\x03\x00\x02\x02\x0a"));
    let url = format!("http://{addr}/api/v2");
    assert_one_message(
        &["--url", &url, "--key", "sk_test_123456"],
        3,
        "unreachable",
        &[
            "did not answer in HTTP",
            &format!("try --url https://{addr}/api/v2"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panels_root_is_not_the_endpoint_and_the_message_names_the_one_that_is() {
    let (panel, key) = secret_mock().await;
    let root = panel.url().trim_end_matches("/api/v2").to_owned();
    let (code_and_text, report) = tokio::task::spawn_blocking(move || {
        assert_one_message(
            &["--url", &root, "--key", &key],
            2,
            "usage",
            &["is not the API endpoint", "use --url http://127.0.0.1:"],
        )
    })
    .await
    .unwrap();
    assert!(
        code_and_text.contains(&format!("use --url {}", panel.url())),
        "{code_and_text}"
    );
    assert!(
        !report.to_string().contains("sk_live"),
        "no key in the report"
    );
}

#[test]
fn an_html_page_is_not_an_smm_endpoint() {
    let addr = canned(Some(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 25\r\nConnection: close\r\n\r\n<html>Welcome home</html>",
    ));
    let url = format!("http://{addr}/panel");
    assert_one_message(
        &["--url", &url, "--key", "sk_test_123456"],
        2,
        "usage",
        &[
            "does not look like an SMM API endpoint",
            "text/html",
            "usually ending in /api/v2",
        ],
    );
}

#[test]
fn a_redirect_to_https_asks_for_the_https_address() {
    let addr = canned(Some(
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://panel.example/api/v2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ));
    let url = format!("http://{addr}/api/v2");
    assert_one_message(
        &["--url", &url, "--key", "sk_test_123456"],
        2,
        "usage",
        &[
            "redirect to https://panel.example/api/v2",
            "give that address as --url",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_a_usage_error_not_a_broken_panel() {
    let (panel, key) = secret_mock().await;
    let url = panel.url();
    tokio::task::spawn_blocking(move || {
        assert_one_message(
            &["--url", &url, "--key", "sk_live_not_this_one"],
            2,
            "usage",
            &["refused the key of --key", "Invalid API key", "check --key"],
        );
        let (_, report) = assert_one_message(
            &[
                "--url",
                &url,
                "--key",
                &key,
                "--second-key",
                "sk_live_nor_this",
            ],
            2,
            "usage",
            &["refused the key of --second-key", "SMM_API_KEY_2"],
        );
        assert!(!report.to_string().contains(&key), "no key in the report");
    })
    .await
    .unwrap();
}

#[test]
fn ctrl_c_ends_the_run_with_every_report_and_the_orders_placed() {
    let (url, panel) = crate::stateful::fake_panel(false);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let child = Command::new(BIN)
        .args([
            "run",
            "--url",
            &url,
            "--key",
            "fake-key",
            "--allow-orders",
            "--max-spend",
            "20",
            "--watch",
            "600",
            "--report-json",
            json.to_str().unwrap(),
            "--report-junit",
            junit.to_str().unwrap(),
        ])
        .env_remove("SMM_API_KEY")
        .env_remove("SMM_API_KEY_2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its orders never end: once one is placed, the run is watching it.
    let waiting = Instant::now();
    while panel.lock().unwrap().placed() == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "no order placed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("Stopped: interrupted"), "{stdout}");
    assert!(stdout.contains("Orders placed: "), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(report_schema().is_valid(&report));
    assert_eq!(report["stopped"]["cause"], "interrupted");
    let placed = panel.lock().unwrap().placed();
    assert_eq!(
        report["orders"].as_array().map_or(0, Vec::len),
        placed,
        "every order placed is listed"
    );
    let interrupted = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["outcome"] == "skip" && c["message"].as_str().unwrap().starts_with("interrupted")
        })
        .count();
    assert!(interrupted > 0, "{report}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite"), "{xml}");
    // Nothing is sent after the signal: the panel's orders stay as they were.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(panel.lock().unwrap().placed(), placed);
}

/// A panel under `profile` whose first key looks like a secret.
async fn mock_with(profile: smm_mock::profile::Profile, key: &str) -> smm_mock::MockPanel {
    let mut fixture = smm_mock::Fixture::builtin();
    fixture.accounts[0].key = key.to_owned();
    let config = smm_mock::Config {
        profiles: [profile].into_iter().collect(),
        ..smm_mock::Config::new(fixture)
    };
    smm_mock::MockPanel::start_with(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failures_replay_places_the_order_it_needs_on_a_fresh_panel() {
    let key = "sk_live_replay_fresh_0123456789";
    let profile = smm_mock::profile::Profile::WrongCharge;
    let used = mock_with(profile, key).await;
    // The run's panel has orders of its own before the failing one.
    let out = crate::support::conformance_async(
        [
            "run",
            "--url",
            &used.url(),
            "--key",
            key,
            "--allow-orders",
            "--max-spend",
            "5",
            "--only",
            "money",
            "--format",
            "json",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "money.charge")
        .unwrap();
    assert_eq!(check["outcome"], "fail", "{check}");
    // Money at the panel's precision (5 places), not the unrounded 0.0010032.
    let message = check["message"].as_str().unwrap();
    assert!(message.contains("not 0.00100 ("), "{message}");
    let requests: Vec<&str> = check["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request"].as_str().unwrap())
        .collect();
    assert!(
        requests.iter().all(|r| r.contains("curl -s")),
        "every request is a curl command: {requests:?}"
    );
    let status = requests
        .iter()
        .find(|r| r.contains("action=status"))
        .expect("the status that showed the charge");
    assert!(
        status.starts_with("A=$(curl"),
        "the add comes first: {status}"
    );
    assert!(!status.contains(key));
    // Pasted against a fresh panel: it places its order and asks about it.
    let fresh = mock_with(profile, key).await;
    let script = status.replace(&used.url(), &fresh.url());
    let key = key.to_owned();
    let replay = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["-c", &script])
            .env("SMM_API_KEY", &key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8(replay.stdout).unwrap();
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().unwrap_or("")).unwrap_or_default();
    assert!(
        last.get("charge").is_some(),
        "the fresh panel knows the order: {text}"
    );
}

#[test]
fn a_property_failure_shrinks_to_small_ids_quietly_and_prints_short() {
    let args = [
        "run",
        "--mock-profile",
        "bulk-overflow-ignored",
        "--only",
        "property.status",
    ];
    let (_, report) = crate::support::json_run(&args[1..]);
    let request = report["checks"][0]["evidence"][0]["request"]
        .as_str()
        .unwrap();
    let longest = request
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest <= 19, "ids shrink to small ones: {request}");
    let human = conformance(&args);
    assert!(
        human.stderr.is_empty(),
        "nothing of a library's on stderr: {}",
        String::from_utf8_lossy(&human.stderr)
    );
    let text = String::from_utf8(human.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("request:")).unwrap();
    assert!(line.len() < 600, "a long id list is shortened: {line}");
    assert!(line.contains("ids; the JSON report has them all"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_property_tells_the_progress_line_its_cases() {
    use smm_conformance::suite::{Event, Progress, Selection};
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&heard);
    let options = smm_conformance::Options {
        cases: 300,
        selection: Selection {
            only: vec!["property.status".into()],
            skip: Vec::new(),
        },
        progress: Some(Progress(std::sync::Arc::new(move |event| {
            log.lock().unwrap().push(event);
        }))),
        ..smm_conformance::Options::default()
    };
    smm_conformance::execute(options).await.unwrap();
    let steps: Vec<(u64, u64)> = heard
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match *e {
            Event::Step {
                id: "property.status",
                done,
                of,
                unit: "cases",
            } => Some((done, of)),
            _ => None,
        })
        .collect();
    assert_eq!(steps, [(0, 300), (128, 300), (256, 300)]);
}

#[test]
fn snapshot_to_a_file_says_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("contract.json");
    let out = conformance(&["snapshot", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "smm-conformance: wrote {} (18 services, 7 answer shapes, 5 error answers, 3 orders)\n",
            file.display()
        )
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn an_empty_key_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key.txt");
    std::fs::write(&file, "\n").unwrap();
    let report = dir.path().join("report.json");
    let out = conformance(&[
        "run",
        "--url",
        "http://127.0.0.1:9/api/v2",
        "--key-file",
        file.to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // The report file is written all the same.
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(written["stopped"]["cause"], "usage");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "--key-file {}: its first line is empty",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn the_default_user_agent_is_explained_in_help() {
    let out = conformance(&["run", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("reference PHP client") && help.contains("MSIE 5.01"),
        "{help}"
    );
}

/// Every `$ smm-conformance run …` sample of the README (against the
/// in-process mock) is what the command prints: its lines, but for `...`,
/// appear in the output in that order.
#[test]
fn the_readmes_run_samples_are_the_real_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let mut samples = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let mut lines = block.lines();
        let Some(command) = lines
            .next()
            .and_then(|l| l.strip_prefix("$ smm-conformance run "))
        else {
            continue;
        };
        samples += 1;
        let args: Vec<&str> = std::iter::once("run")
            .chain(command.split_whitespace())
            .collect();
        let out = conformance(&args);
        let text = String::from_utf8(out.stdout).unwrap();
        let mut got = text.lines();
        for want in lines.filter(|l| *l != "...") {
            assert!(
                got.any(|l| l == want),
                "README sample of `{command}`: `{want}` is not in the output (in order):\n{text}"
            );
        }
    }
    assert!(samples >= 2, "the README's run samples were found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_key_is_masked_as_a_word_not_inside_the_messages_words() {
    let (panel, _) = secret_mock().await;
    let url = panel.url();
    let out = crate::support::conformance_async(
        ["run", "--url", &url, "--key", "k"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("check --key (or --key-file, or SMM_API_KEY)"),
        "{stderr}"
    );
}

#[test]
fn a_selection_of_no_check_is_a_usage_error() {
    let out = conformance(&["run", "--only", "bulk", "--skip", "bulk"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("leave no check to run"), "{stderr}");
}

#[test]
fn a_clone_of_a_recording_without_a_catalogue_keeps_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("traffic.jsonl");
    std::fs::write(
        &recording,
        "{\"format\":\"smm-conformance-recording\",\"version\":1,\"upstream\":\"http://127.0.0.1:9/api/v2\"}\n",
    )
    .unwrap();
    let fixture = dir.path().join("clone.json");
    let out = conformance(&[
        "clone",
        recording.to_str().unwrap(),
        "-o",
        fixture.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no catalogue was observed"), "{stderr}");
    let text = std::fs::read_to_string(&fixture).unwrap();
    assert!(smm_mock::Fixture::parse("clone.json", &text).is_ok());
}

#[test]
fn the_proxy_refuses_a_report_file_it_could_not_write_before_it_starts() {
    let out = conformance(&[
        "proxy",
        "--upstream",
        "http://127.0.0.1:9/api/v2",
        "--listen",
        "127.0.0.1:0",
        "--report-json",
        "/nonexistent-dir/report.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot write /nonexistent-dir/report.json"),
        "{stderr}"
    );
}

#[test]
fn the_proxy_listens_on_a_host_name() {
    use std::io::BufRead;
    let mut child = Command::new(BIN)
        .args([
            "proxy",
            "--upstream",
            "http://127.0.0.1:9/api/v2",
            "--listen",
            "localhost:0",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("smm-conformance proxy: http://127.0.0.1:"),
        "{line}"
    );
}

#[test]
fn a_negative_budget_gets_the_runners_own_message() {
    let out = conformance(&[
        "run",
        "--url",
        "http://127.0.0.1:9/api/v2",
        "--key",
        "sk_test_123456",
        "--allow-orders",
        "--max-spend",
        "-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--max-spend must be ≥ 0"), "{stderr}");
}
