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

/// Reads one HTTP/1.1 request from `stream`: its target (path and query)
/// and its body (`Content-Length` bytes).
pub fn read_request(stream: &std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use std::io::{BufRead, BufReader, Read};
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((target, body))
}

/// A server on loopback that answers every request HTTP 200 with the JSON
/// `answer` gives for its target (path and query) and body.
pub fn serve(
    answer: impl Fn(&str, &[u8]) -> String + Send + Sync + 'static,
) -> std::net::SocketAddr {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let answer = std::sync::Arc::clone(&answer);
            std::thread::spawn(move || {
                let Some((target, body)) = read_request(&stream) else {
                    return;
                };
                let json = answer(&target, &body);
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                        json.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    addr
}

/// A hostile target on loopback: every request is answered HTTP 200 with
/// JSON that echoes the request's query string and body (the key in them),
/// and is no answer the contract knows.
pub fn echoing() -> std::net::SocketAddr {
    serve(|target, body| {
        serde_json::json!({
            "echo": format!("{target} {}", String::from_utf8_lossy(body))
        })
        .to_string()
    })
}
