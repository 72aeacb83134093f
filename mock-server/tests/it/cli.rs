//! The binary (issue point 8): runs out of the box, prints its URL and keys,
//! refuses a bad fixture by name, and stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_smm-mock");

#[tokio::test]
async fn it_listens_prints_its_keys_and_stops_on_ctrl_c() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smm-mock starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line);
    }
    let url = lines[0]
        .trim()
        .strip_prefix("smm-mock listening on ")
        .unwrap_or_else(|| panic!("first line: {}", lines[0]))
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v2"),
        "{url}"
    );
    assert!(
        lines[2].contains("test-key (1000.00000 USD)")
            && lines[2].contains("empty-key (0.00000 USD)")
    );

    let bytes = crate::support::client()
        .post(&url)
        .body("key=test-key&action=balance")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["balance"], "1000.00000");

    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "smm-mock did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let logged: Vec<&str> = stderr.lines().filter(|l| l.contains("/api/v2")).collect();
    assert_eq!(logged.len(), 1, "one log line per request: {stderr}");
    assert!(
        logged[0].contains("POST /api/v2 action=balance -> ok"),
        "{stderr}"
    );
    assert!(!stderr.contains("test-key"), "the log never prints a key");
}

#[test]
fn a_bad_fixture_is_refused_with_file_field_and_problem() {
    let dir = std::env::temp_dir().join(format!("smm-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.json");
    let text =
        smm_mock::fixture::DEFAULT_FIXTURE.replacen("\"min\": \"50\"", "\"min\": \"50000\"", 1);
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .arg("--fixture")
        .arg(&path)
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.json: services[0].min: 50000 is greater than max 10000"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_accepts_every_shipped_fixture() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let out = Command::new(BIN)
                .arg("--fixture")
                .arg(&path)
                .arg("--check")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn help_describes_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--fixture",
        "--seed",
        "--clock",
        "--tick-ms",
        "--no-admin",
        "--journal",
        "--max-connections",
        "--check",
        "--quiet",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn no_connections_at_all_is_a_usage_error() {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--max-connections", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--max-connections must be at least 1"),
        "{stderr}"
    );
}

/// Reads the ready line of a started mock: its URL.
fn ready_url(child: &mut std::process::Child) -> String {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line.trim()
        .strip_prefix("smm-mock listening on ")
        .unwrap_or_else(|| panic!("first line: {line}"))
        .to_owned()
}

#[test]
fn listen_takes_a_host_name() {
    let mut child = Command::new(BIN)
        .args(["--listen", "localhost:0", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smm-mock starts");
    let url = ready_url(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v2"),
        "localhost serves 127.0.0.1 first: {url}"
    );
}

#[test]
fn a_busy_port_suggests_any_free_one() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    let out = Command::new(BIN)
        .args(["--listen", &addr.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{addr} is already in use"))
            && stderr.contains("--listen 127.0.0.1:0"),
        "{stderr}"
    );
}

#[test]
fn a_listen_address_that_is_not_host_and_port_is_a_usage_error() {
    let out = Command::new(BIN)
        .args(["--listen", "localhost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not HOST:PORT"), "{stderr}");
}
