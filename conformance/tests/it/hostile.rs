//! Targets written to break the runner: one that streams a body without
//! end, one whose every answer is 100,000 entries long, one that trickles
//! its body, one that echoes the key in every encoding, one that answers
//! control characters, one whose catalogue cannot be read. The runner must
//! stay bounded in what it reads and writes, mask the key in every form,
//! escape what a terminal would obey, and never send an `add` with the key
//! without `--allow-orders`.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{conformance, read_request, serve};

/// A server that handles each connection with `handle` on its own thread.
fn raw_server(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handle = Arc::clone(&handle);
            std::thread::spawn(move || handle(stream));
        }
    });
    addr
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/api/v2")
}

#[test]
fn a_body_without_end_is_cut_at_max_body_and_an_error() {
    // The most any one connection got written before the runner let go.
    let most = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&most);
    let addr = raw_server(move |mut stream| {
        if read_request(&stream).is_none() {
            return;
        }
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[",
        );
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0u64;
        // Up to 1 GiB, as fast as the runner reads it.
        while sent < 1 << 30 && stream.write_all(&chunk).is_ok() {
            sent += chunk.len() as u64;
        }
        seen.fetch_max(sent, Ordering::Relaxed);
    });
    let out = conformance(&[
        "run",
        "--url",
        &url(addr),
        "--key",
        "k-123456",
        "--only",
        "services.schema",
        "--format",
        "json",
        "--timeout",
        "20",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The target is unreachable for `services`: every check an Error that
    // says why (the answer is too large).
    let message = report["checks"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("--max-body") || out.status.code() == Some(3),
        "{report}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--max-body") || message.contains("--max-body"),
        "{stderr} {report}"
    );
    // What was written before the runner stopped reading: its 4 MiB, and
    // what the sockets' buffers hold; never the gigabyte.
    let written = most.load(Ordering::Relaxed);
    assert!(written < 64 << 20, "{written} bytes written");
}

#[test]
fn answers_of_100000_entries_give_reports_that_grow_with_the_checks_not_the_answers() {
    let huge: Arc<String> = Arc::new({
        let entries: Vec<String> = (0..100_000)
            .map(|i| {
                format!(
                    "\"{}\":{{\"error\":\"Incorrect order ID {i}\"}}",
                    9_000_000 + i
                )
            })
            .collect();
        format!("{{{}}}", entries.join(","))
    });
    assert!(huge.len() > 4 << 20, "{}", huge.len());
    let body = Arc::clone(&huge);
    let addr = serve(move |_, _| (*body).clone());
    let dir = tempfile::tempdir().unwrap();
    let (json, junit) = (dir.path().join("r.json"), dir.path().join("r.xml"));
    let out = conformance(&[
        "run",
        "--url",
        &url(addr),
        "--key",
        "k-123456",
        "--max-body",
        "16M",
        "--only",
        "services.schema",
        "--only",
        "bulk.status.sizes",
        "--timeout",
        "20",
        "--report-json",
        json.to_str().unwrap(),
        "--report-junit",
        junit.to_str().unwrap(),
    ]);
    let sizes = [
        out.stdout.len(),
        std::fs::metadata(&json).unwrap().len() as usize,
        std::fs::metadata(&junit).unwrap().len() as usize,
    ];
    // Every check failed on what it was sent, with evidence…
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("FAIL"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // …in excerpts: the reports stay small (the answers were 7.6 MB each).
    for size in sizes {
        assert!(size < 512 * 1024, "{sizes:?}");
    }
}

#[test]
fn a_body_that_trickles_is_a_timeout_not_a_dropped_connection() {
    // `services` answers at once; every other action's body trickles.
    let addr = raw_server(|mut stream| {
        let Some((_, body)) = read_request(&stream) else {
            return;
        };
        if String::from_utf8_lossy(&body).contains("action=services") {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]",
            );
            return;
        }
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{",
        );
        for _ in 0..99 {
            std::thread::sleep(Duration::from_millis(200));
            if stream.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let out = conformance(&[
        "run",
        "--url",
        &url(addr),
        "--key",
        "k-123456",
        "--format",
        "json",
        "--timeout",
        "1",
        "--only",
        "balance.schema",
        "--only",
        "transport.timeouts",
        "--only",
        "transport.connection",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| {
                (
                    c["outcome"].as_str().unwrap().to_owned(),
                    c["message"].to_string(),
                )
            })
            .unwrap()
    };
    let (timeouts, message) = outcome("transport.timeouts");
    assert_ne!(timeouts, "pass", "{message}");
    let (connection, message) = outcome("transport.connection");
    assert_eq!(connection, "pass", "{message}");
}

/// Every form a target could echo `key` in.
fn encodings(key: &str) -> Vec<String> {
    let json = serde_json::to_string(key).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    vec![
        key.to_owned(),
        json.clone(),
        json.replace('/', "\\/"),
        key.encode_utf16().map(|u| format!("\\u{u:04x}")).collect(),
        key.bytes().map(|b| format!("%{b:02X}")).collect(),
        form_urlencoded::byte_serialize(key.as_bytes()).collect(),
        key.chars().map(|c| format!("&#{};", c as u32)).collect(),
    ]
}

#[test]
fn a_target_that_echoes_the_key_in_any_encoding_never_gets_it_shown() {
    let key = r#"sk/live"9f8e\7d+6c 5b"#;
    let second = "sk_second/0a1b";
    let forms: Vec<String> = encodings(key)
        .into_iter()
        .chain(encodings(second))
        .collect();
    let echoed = forms.join(" | ");
    let addr = serve(move |_, _| {
        serde_json::json!({ "error": format!("Invalid API key: {echoed}") }).to_string()
    });
    let dir = tempfile::tempdir().unwrap();
    let (json, junit) = (dir.path().join("r.json"), dir.path().join("r.xml"));
    let mut outputs = Vec::new();
    for format in ["human", "json", "junit"] {
        let out = conformance(&[
            "run",
            "--url",
            &url(addr),
            "--key",
            key,
            "--second-key",
            second,
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
        outputs.push(std::fs::read_to_string(&json).unwrap());
        outputs.push(std::fs::read_to_string(&junit).unwrap());
    }
    for output in &outputs {
        // The JSON and XML writers escape again what they write: look for
        // every form of every form.
        for form in encodings(key).iter().chain(&encodings(second)) {
            for shown in encodings(form) {
                assert!(!output.contains(&shown), "`{shown}` in {output}");
            }
        }
    }
    assert!(
        outputs[0].contains("Invalid API key: ***"),
        "{}",
        outputs[0]
    );
}

#[test]
fn control_characters_of_a_target_reach_the_terminal_escaped() {
    // The key is taken (its balance answers); every other answer is an
    // error full of control characters.
    let addr = serve(|_, body| {
        if String::from_utf8_lossy(body).contains("action=balance") {
            return r#"{"balance":"1.00","currency":"USD"}"#.to_owned();
        }
        serde_json::json!({ "error": "\u{1b}[2J\u{1b}]0;owned\u{7}\u{0}bad" }).to_string()
    });
    let out = conformance(&[
        "run",
        "--url",
        &url(addr),
        "--key",
        "k-123456",
        "--cases",
        "4",
        "--timeout",
        "2",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\\u{1b}[2J"), "{text}");
    for raw in ['\u{1b}', '\u{7}', '\u{0}'] {
        assert!(!text.contains(raw), "a raw {raw:?} reached the terminal");
    }
}

#[test]
fn without_allow_orders_no_add_is_sent_with_the_key_whatever_the_catalogue_says() {
    let key = "k-real-0123";
    let adds = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&adds);
    for catalogue in ["<html>not a catalogue</html>", "[]"] {
        let seen = Arc::clone(&seen);
        let addr = serve(move |target, body| {
            let query = target.split_once('?').map_or("", |(_, q)| q);
            let fields: Vec<(String, String)> = form_urlencoded::parse(body)
                .chain(form_urlencoded::parse(query.as_bytes()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let get = |name: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            if get("action").as_deref() == Some("add") && get("key").as_deref() == Some(key) {
                seen.lock().unwrap().push(fields.clone());
            }
            match get("action").as_deref() {
                Some("services") => catalogue.to_owned(),
                _ => r#"{"error":"Incorrect request"}"#.to_owned(),
            }
        });
        let _ = conformance(&[
            "run",
            "--url",
            &url(addr),
            "--key",
            key,
            "--second-key",
            "k-other",
            "--cases",
            "4",
            "--timeout",
            "2",
        ]);
    }
    assert_eq!(*adds.lock().unwrap(), Vec::<Vec<(String, String)>>::new());
}

#[test]
fn a_key_across_the_place_an_answer_is_cut_is_masked_whole() {
    let key = "sk_live_0123456789abcdefghijKLMNOP";
    // The key starts just before the 600th character, where evidence is cut.
    let mut outputs = Vec::new();
    for pad in [560, 567, 590, 599] {
        let body = format!("{}{key}", "A".repeat(pad));
        let addr = serve(move |_, _| body.clone());
        let out = conformance(&[
            "run",
            "--url",
            &url(addr),
            "--key",
            key,
            "--only",
            "auth",
            "--only",
            "status",
            "--order",
            "6",
            "--timeout",
            "2",
            "--format",
            "json",
        ]);
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    for output in &outputs {
        assert!(
            !output.contains(&key[..12]),
            "part of the key shown: {output}"
        );
    }
}
