//! Shared helpers: run the binary, start mocks to point it at.

use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_smm-conformance");

/// Runs `smm-conformance` with these arguments, fewer property cases.
pub fn conformance(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SMM_API_KEY")
        .env_remove("SMM_API_KEY_2")
        .output()
        .expect("smm-conformance runs")
}

/// The JSON report of a run against the in-process mock.
pub fn json_run(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["run", "--format", "json", "--cases", "16"];
    all.extend_from_slice(args);
    let out = conformance(&all);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// The ids of checks with this outcome.
pub fn with_outcome(report: &serde_json::Value, outcome: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == outcome)
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The report schema, compiled.
pub fn report_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/report.schema.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// A canned HTTP server on loopback: every request gets `response` (then the
/// connection closes); with `None`, connections are held and never answered.
pub fn canned(response: Option<&'static [u8]>) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            match response {
                None => held.push(stream),
                Some(response) => {
                    let mut buf = [0u8; 65536];
                    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
                    let _ = stream.read(&mut buf);
                    let _ = stream.write_all(response);
                }
            }
        }
    });
    addr
}

/// A mock panel whose first key looks like a real secret, for tests that
/// point the binary at a URL. Returns the panel and its key.
pub async fn secret_mock() -> (smm_mock::MockPanel, String) {
    let mut fixture = smm_mock::Fixture::builtin();
    let key = "sk_live_4f9a8b7c6d5e4f3a2b1c".to_owned();
    fixture.accounts[0].key = key.clone();
    for order in &mut fixture.orders {
        order.account = 0;
    }
    let panel = smm_mock::MockPanel::start(fixture).await.unwrap();
    (panel, key)
}

/// Runs the binary off the async runtime (the mock it talks to runs on it).
pub async fn conformance_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        conformance(&args)
    })
    .await
    .unwrap()
}
