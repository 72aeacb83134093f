//! `smm-conformance proxy`: transparent (what the client gets through it is
//! what it gets without it, large answers streamed), silent (it sends no
//! request of its own), discreet (no key in any line, report or
//! recording), and right: in front of the mock under each deviation
//! profile, it reports exactly the check ids the proxy matrix
//! (`fixtures/expected/proxy-matrix.json`) says; in front of the
//! conforming mock, nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use smm_conformance::outcome::{Mode, Outcome, Report};
use smm_conformance::proxy::{Config, Proxy};
use smm_mock::profile::{Profile, PROFILES};
use smm_mock::{Fixture, MockPanel};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{echoing, secret_mock, serve, BIN};

/// A writer into memory that tests read afterwards.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A proxy in front of `upstream` on a free port, its lines and recording
/// kept in memory.
async fn start_proxy(upstream: &str, mode: Mode, timeout: Duration) -> (Proxy, Sink, Sink) {
    let (lines, record) = (Sink::default(), Sink::default());
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        mode,
        timeout,
        lines: Box::new(lines.clone()),
        record: Some(Box::new(record.clone())),
        ..Config::new(upstream)
    };
    (Proxy::start(config).await.unwrap(), lines, record)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// How a scripted request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Form,
    Query,
    Json,
    Slash,
}

/// Sends `fields` to `url` as `how` says.
fn request(
    client: &reqwest::Client,
    url: &str,
    how: How,
    fields: &[(&str, String)],
) -> reqwest::RequestBuilder {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    match how {
        How::Form => form(client, url, &pairs),
        How::Slash => form(client, &format!("{url}/"), &pairs),
        How::Query => client.get(format!("{url}?{}", encode(&pairs))),
        How::Json => {
            let object: serde_json::Map<String, Value> = pairs
                .iter()
                .map(|(n, v)| (n.to_string(), Value::from(*v)))
                .collect();
            client
                .post(url)
                .header("content-type", "application/json")
                .body(Value::Object(object).to_string())
        }
    }
}

fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A form POST, as the contract sends one.
fn form(client: &reqwest::Client, url: &str, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(pairs))
}

/// Status, headers (less `date`, whose value moves with the clock) and body.
async fn observed(response: reqwest::Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            let value = if n == "date" {
                "<date>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (n.as_str().to_owned(), value)
        })
        .collect();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn answers_come_back_byte_for_byte_in_every_form_a_client_sends() {
    let panel = MockPanel::start(Fixture::builtin()).await.unwrap();
    let (proxy, lines, _) = start_proxy(&panel.url(), Mode::Tolerant, Duration::from_secs(5)).await;
    let client = http();
    let key = ("key", "test-key".to_owned());
    for how in [How::Form, How::Query, How::Json, How::Slash] {
        for action in ["services", "balance", "no-such-action"] {
            let fields = [key.clone(), ("action", action.to_owned())];
            let direct = observed(
                request(&client, &panel.url(), how, &fields)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            let relayed = observed(
                request(&client, &proxy.url(), how, &fields)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(relayed, direct, "{how:?} {action}");
        }
    }
    // An error of the mock's own (404 on another path) is not relayed: the
    // proxy serves the API path only, and says so in JSON.
    let other = client
        .post(proxy.url().replace("/api/v2", "/admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    proxy.settled().await;
    let report = proxy.stop().await;
    assert_eq!(report.counts.failed, 0, "{}", lines.text());
    assert_eq!(report.exchanges.unwrap().exchanges, 12);
}

/// A server that answers one request with `size` bytes of JSON-typed
/// pattern: the first MiB at once, the rest only once `go` is told (or
/// after 10 s, so that a proxy that buffers fails rather than hangs).
async fn slow_server(size: usize, go: Arc<tokio::sync::Notify>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let first = 1 << 20;
        stream.write_all(&body[..first]).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(10), go.notified()).await;
        let _ = stream.write_all(&body[first..]).await;
    });
    addr
}

#[tokio::test]
async fn a_large_answer_is_streamed_whole_its_first_bytes_before_the_upstream_ends() {
    let size = 20 << 20;
    let go = Arc::new(tokio::sync::Notify::new());
    let addr = slow_server(size, Arc::clone(&go)).await;
    let (proxy, lines, record) = start_proxy(
        &format!("http://{addr}/api/v2"),
        Mode::Tolerant,
        Duration::from_secs(20),
    )
    .await;
    let started = std::time::Instant::now();
    let mut response = form(
        &http(),
        &proxy.url(),
        &[("key", "k"), ("action", "services")],
    )
    .send()
    .await
    .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    // The upstream is still holding 19 MiB back: these bytes were streamed.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "first bytes after {:?}",
        started.elapsed()
    );
    go.notify_one();
    let mut body = first.to_vec();
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body.len(), size);
    assert!(body.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    proxy.settled().await;
    let report = proxy.stop().await;
    // Too large to judge: no violation, counted apart.
    assert_eq!(report.counts.failed, 0, "{}", lines.text());
    assert_eq!(report.exchanges.unwrap().bodies_not_judged, 1);
    let recorded: Vec<Value> = record
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recorded[1]["response"]["size"], size as u64);
    assert_eq!(recorded[1]["response"]["truncated"], true);
    assert!(recorded[1]["response"]["body"].as_str().unwrap().len() >= 4 << 20);
}

#[tokio::test]
async fn the_upstream_gets_exactly_the_requests_the_client_sent() {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    let addr = serve(move |_, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        r#"{"error":"Incorrect request"}"#.to_owned()
    });
    let (proxy, _, _) = start_proxy(
        &format!("http://{addr}/api/v2"),
        Mode::Tolerant,
        Duration::from_secs(5),
    )
    .await;
    let client = http();
    for i in 0..7 {
        let fields = [("key", "k".to_owned()), ("action", format!("a{i}"))];
        request(&client, &proxy.url(), How::Form, &fields)
            .send()
            .await
            .unwrap();
    }
    proxy.settled().await;
    // Time for a request of its own, had it any to send.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = proxy.stop().await;
    assert_eq!(count.load(Ordering::SeqCst), 7);
    assert_eq!(report.exchanges.unwrap().exchanges, 7);
}

/// Every text a proxy produced: its lines, its recording, its reports.
fn outputs(report: &Report, lines: &Sink, record: &Sink) -> String {
    let mut all = lines.text();
    all.push_str(&record.text());
    for format in [
        smm_conformance::report::Format::Json,
        smm_conformance::report::Format::Junit,
        smm_conformance::report::Format::Human,
    ] {
        all.push_str(&String::from_utf8_lossy(&smm_conformance::report::render(
            report, format, false,
        )));
    }
    let mut summary = Vec::new();
    smm_conformance::proxy::watch::summary(report, &mut summary).unwrap();
    all.push_str(&String::from_utf8_lossy(&summary));
    all
}

#[tokio::test]
async fn keys_pass_to_the_panel_and_are_masked_everywhere_else() {
    // A panel whose key looks real, and an upstream that echoes it back.
    let (panel, key) = secret_mock().await;
    let echo = echoing();
    for upstream in [panel.url(), format!("http://{echo}/api/v2")] {
        let (proxy, lines, record) =
            start_proxy(&upstream, Mode::Strict, Duration::from_secs(5)).await;
        let client = http();
        for how in [How::Form, How::Query, How::Json] {
            for action in ["balance", "status", "services"] {
                let fields = [
                    ("key", key.clone()),
                    ("action", action.to_owned()),
                    ("order", "23501".to_owned()),
                ];
                let answer = request(&client, &proxy.url(), how, &fields)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200);
            }
        }
        proxy.settled().await;
        let report = proxy.stop().await;
        let all = outputs(&report, &lines, &record);
        assert!(!all.contains(&key), "{upstream}: {all}");
        assert!(!all.contains("4f9a8b7c6d5e"), "{upstream}");
        assert!(all.contains(r#"["key","***"]"#), "{all}");
        if upstream.contains(&echo.to_string()) {
            // The echo is no answer the contract knows: violations were
            // written, the key masked in them.
            assert!(report.counts.failed > 0);
            assert!(lines.text().contains("FAIL"), "{}", lines.text());
        } else {
            // The mock with the secret key conforms.
            assert_eq!(report.counts.failed, 0, "{}", lines.text());
        }
    }
}

#[tokio::test]
async fn recordings_follow_their_schema() {
    let panel = MockPanel::start(Fixture::builtin()).await.unwrap();
    let (proxy, _, record) =
        start_proxy(&panel.url(), Mode::Tolerant, Duration::from_secs(5)).await;
    let _ = script(&proxy.url()).await;
    proxy.settled().await;
    drop(proxy.stop().await);
    // And one whose upstream fails: the exchange has an `error`.
    let (down, _, down_record) = start_proxy(
        "http://127.0.0.1:9/api/v2",
        Mode::Tolerant,
        Duration::from_secs(5),
    )
    .await;
    assert!(
        form(&http(), &down.url(), &[("key", "k"), ("action", "balance")])
            .send()
            .await
            .is_err()
    );
    down.settled().await;
    let down_report = down.stop().await;
    assert_eq!(
        down_report.outcome("transport.connection"),
        Some(Outcome::Fail)
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../schemas/recording.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut errors = Vec::new();
    for text in [record.text(), down_record.text()] {
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["format"], "smm-conformance-recording");
        assert_eq!(lines[0]["version"], 1);
        for (i, line) in lines.iter().enumerate() {
            for e in validator.iter_errors(line) {
                errors.push(format!("line {}: {e}: {line}", i + 1));
            }
            if i > 0 {
                assert_eq!(line["n"], i as u64);
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(down_record.text().contains(r#""error":"#));
    // A line is the header or an exchange, nothing else.
    assert!(!validator.is_valid(&json!({"format": "other", "version": 1, "upstream": "x"})));
    assert!(!validator.is_valid(&json!({"n": 1, "action": null})));
}

// ---- the detection matrix of the proxy ----

/// Ids no panel has.
const UNKNOWN: &str = "9000000000000001";

fn many(n: u64) -> String {
    (0..n)
        .map(|i| (9_000_000_000_000_001 + i).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The id in an answer (`{"order": 1}`, `{"refill": "1"}`), or `UNKNOWN`.
async fn id_in(response: Result<reqwest::Response, reqwest::Error>, name: &str) -> String {
    let Ok(response) = response else {
        return UNKNOWN.to_owned();
    };
    let body = response.bytes().await.unwrap_or_default();
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match &value[name] {
        Value::Number(n) => n.to_string(),
        Value::String(s) if !s.is_empty() => s.clone(),
        _ => UNKNOWN.to_owned(),
    }
}

/// A bot's session through the proxy at `url`, one request at a time:
/// every action, single and bulk, with unknown ids and 101 ids, orders
/// placed (one below the minimum, one with runs where drip-feed is not
/// offered), a wrong key, an unknown and a missing action, and the
/// transports (GET, JSON, trailing slash). Returns how many requests it sent.
async fn script(url: &str) -> usize {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(8))
        .build()
        .unwrap();
    let key = || ("key", "test-key".to_owned());
    let action = |a: &str| ("action", a.to_owned());
    let mut sent = 0;
    let mut send = |how: How, fields: Vec<(&'static str, String)>| {
        sent += 1;
        request(&client, url, how, &fields).send()
    };
    let form = How::Form;
    let _ = send(form, vec![key(), action("services")]).await;
    let _ = send(form, vec![key(), action("balance")]).await;
    let add = |service: &str, link: &str, quantity: &str| {
        vec![
            key(),
            action("add"),
            ("service", service.to_owned()),
            ("link", format!("https://example.com/{link}")),
            ("quantity", quantity.to_owned()),
        ]
    };
    let a = id_in(send(form, add("1", "proxy", "100")).await, "order").await;
    let mut drip = add("3", "proxy-drip", "100");
    drip.extend([("runs", "3".to_owned()), ("interval", "5".to_owned())]);
    let b = id_in(send(form, drip).await, "order").await;
    let plain = id_in(send(form, add("2", "proxy-plain", "100")).await, "order").await;
    let cancelable = id_in(send(form, add("1", "proxy-cancel", "100")).await, "order").await;
    let _ = send(form, add("2", "proxy-below-min", "5")).await;
    let mut runs = add("2", "proxy-runs", "100");
    runs.extend([("runs", "2".to_owned()), ("interval", "5".to_owned())]);
    let _ = send(form, runs).await;
    for order in [&a, &b] {
        let _ = send(
            form,
            vec![key(), action("status"), ("order", order.clone())],
        )
        .await;
    }
    let mixed = format!("{a},{b},{UNKNOWN},{a}");
    let _ = send(form, vec![key(), action("status"), ("orders", mixed)]).await;
    let _ = send(form, vec![key(), action("status"), ("orders", many(101))]).await;
    let _ = send(
        form,
        vec![key(), action("status"), ("order", UNKNOWN.into())],
    )
    .await;
    let refill = id_in(
        send(
            form,
            vec![key(), action("refill"), ("order", "23501".into())],
        )
        .await,
        "refill",
    )
    .await;
    let two = format!("23501,{UNKNOWN}");
    let _ = send(form, vec![key(), action("refill"), ("orders", two)]).await;
    let _ = send(form, vec![key(), action("refill"), ("orders", many(101))]).await;
    for _ in 0..3 {
        // Polled until it ends.
        let _ = send(
            form,
            vec![key(), action("refill_status"), ("refill", refill.clone())],
        )
        .await;
    }
    let refills = format!("{refill},{UNKNOWN}");
    let _ = send(
        form,
        vec![key(), action("refill_status"), ("refills", refills)],
    )
    .await;
    let _ = send(
        form,
        vec![key(), action("refill_status"), ("refills", many(101))],
    )
    .await;
    // Services without refill (3) and without cancel (2).
    let _ = send(form, vec![key(), action("refill"), ("order", b.clone())]).await;
    let cancel = format!("{cancelable},{plain},{UNKNOWN}");
    let _ = send(form, vec![key(), action("cancel"), ("orders", cancel)]).await;
    let _ = send(form, vec![key(), action("cancel"), ("orders", many(101))]).await;
    let _ = send(
        form,
        vec![("key", "wrong-key-0000".into()), action("balance")],
    )
    .await;
    let _ = send(form, vec![key(), action("no-such-action")]).await;
    let _ = send(form, vec![key()]).await;
    let _ = send(How::Query, vec![key(), action("balance")]).await;
    let _ = send(How::Json, vec![key(), action("balance")]).await;
    let _ = send(How::Slash, vec![key(), action("balance")]).await;
    for order in ["23503", a.as_str(), b.as_str(), cancelable.as_str()] {
        let _ = send(form, vec![key(), action("status"), ("order", order.into())]).await;
    }
    sent
}

/// The checks that fail and warn when the script runs through a proxy in
/// front of the mock under `profiles`, in `mode`; and the lines written.
async fn caught(profiles: &[Profile], mode: Mode) -> (BTreeMap<&'static str, Vec<String>>, String) {
    let config = smm_mock::Config {
        profiles: profiles.iter().copied().collect(),
        ..smm_mock::Config::new(Fixture::builtin())
    };
    let panel = MockPanel::start_with(config).await.unwrap();
    let (proxy, lines, _) = start_proxy(&panel.url(), mode, Duration::from_millis(1500)).await;
    let sent = script(&proxy.url()).await;
    proxy.settled().await;
    let report = proxy.stop().await;
    assert_eq!(report.exchanges.as_ref().unwrap().exchanges, sent as u64);
    let ids = |outcome: Outcome| {
        report
            .checks
            .iter()
            .filter(|c| c.outcome == outcome)
            .map(|c| c.id.to_owned())
            .collect::<Vec<_>>()
    };
    let mut found = BTreeMap::new();
    found.insert("fail", ids(Outcome::Fail));
    found.insert("warn", ids(Outcome::Warn));
    found.insert("skip", ids(Outcome::Skip));
    (found, lines.text())
}

fn matrix_path() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/expected/proxy-matrix.json"
    )
}

#[tokio::test]
async fn in_front_of_the_conforming_mock_the_proxy_reports_nothing() {
    for mode in [Mode::Tolerant, Mode::Strict] {
        let (found, lines) = caught(&[], mode).await;
        assert_eq!(found["fail"], Vec::<String>::new(), "{lines}");
        assert_eq!(found["warn"], Vec::<String>::new(), "{lines}");
        // Every check the proxy knows applied to some exchange of the script.
        assert_eq!(found["skip"], Vec::<String>::new());
        assert_eq!(lines, "");
    }
}

/// Runs every profile through the proxy in both modes, a few at a time.
async fn every_profile() -> Vec<(
    Profile,
    BTreeMap<&'static str, Vec<String>>,
    BTreeMap<&'static str, Vec<String>>,
)> {
    let gate = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, d) in PROFILES.iter().enumerate() {
        let gate = Arc::clone(&gate);
        let profile = d.profile;
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let (tolerant, _) = caught(&[profile], Mode::Tolerant).await;
            let (strict, _) = caught(&[profile], Mode::Strict).await;
            (i, profile, tolerant, strict)
        });
    }
    let mut rows = Vec::new();
    while let Some(row) = tasks.join_next().await {
        rows.push(row.unwrap());
    }
    rows.sort_by_key(|r| r.0);
    rows.into_iter().map(|(_, p, t, s)| (p, t, s)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_front_of_each_profile_the_proxy_reports_what_the_matrix_says() {
    let rows = every_profile().await;
    let text = std::fs::read_to_string(matrix_path()).unwrap_or_default();
    let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if std::env::var_os("SMM_WRITE_PROXY_MATRIX").is_some() {
        // Regenerates the table, keeping the notes written by hand.
        let notes: BTreeMap<String, Value> = doc["profiles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["profile"].as_str().unwrap_or("").to_owned(),
                    r["note"].clone(),
                )
            })
            .collect();
        let profiles: Vec<Value> = rows
            .iter()
            .map(|(p, t, s)| {
                json!({
                    "profile": p.name(),
                    "class": p.describe().class,
                    "tolerant": t,
                    "strict": s,
                    "note": notes.get(p.name()).cloned().unwrap_or(Value::String(String::new())),
                })
            })
            .collect();
        let mut doc = doc.clone();
        if !doc.is_object() {
            doc = json!({"description": ""});
        }
        doc["profiles"] = Value::Array(profiles);
        let mut out = serde_json::to_string_pretty(&doc).unwrap();
        out.push('\n');
        std::fs::write(matrix_path(), out).unwrap();
        return;
    }
    let expected = doc["profiles"].as_array().expect("the proxy matrix");
    assert_eq!(expected.len(), PROFILES.len(), "one row per profile");
    let mut wrong = Vec::new();
    for ((profile, tolerant, strict), row) in rows.iter().zip(expected) {
        assert_eq!(row["profile"], profile.name());
        let want = |mode: &str, outcome: &str| -> Vec<String> {
            row[mode][outcome]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        for (mode, found) in [("tolerant", tolerant), ("strict", strict)] {
            for outcome in ["fail", "warn"] {
                if found[outcome] != want(mode, outcome) {
                    wrong.push(format!(
                        "{} {mode} {outcome}: expected {:?}, got {:?}",
                        profile.name(),
                        want(mode, outcome),
                        found[outcome]
                    ));
                }
            }
        }
        let empty = want("tolerant", "fail").is_empty() && want("tolerant", "warn").is_empty();
        if empty {
            assert!(
                row["note"].as_str().is_some_and(|n| !n.is_empty()),
                "{}: a profile the proxy cannot see says why",
                profile.name()
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---- the binary ----

#[tokio::test]
async fn the_binary_prints_a_ready_line_and_at_ctrl_c_a_summary_and_the_reports() {
    let panel = MockPanel::start(Fixture::builtin()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (json_path, junit_path, record_path) = (
        dir.path().join("proxy.json"),
        dir.path().join("proxy.xml"),
        dir.path().join("traffic.jsonl"),
    );
    let mut child = std::process::Command::new(BIN)
        .args([
            "proxy",
            "--upstream",
            &panel.url(),
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--record")
        .arg(&record_path)
        .arg("--report-json")
        .arg(&json_path)
        .arg("--report-junit")
        .arg(&junit_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (ready, stderr) = tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::BufReader::new(stderr);
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut stderr, &mut ready).unwrap();
        (ready, stderr)
    })
    .await
    .unwrap();
    assert!(
        ready.starts_with("smm-conformance proxy: http://127.0.0.1:"),
        "{ready}"
    );
    assert!(ready.contains("(Ctrl-C to stop)"), "{ready}");
    let url = ready.split_whitespace().nth(2).unwrap().to_owned();
    assert!(!url.ends_with(":0/api/v2"), "{url}");
    let client = http();
    for fields in [
        [("key", "test-key"), ("action", "balance")],
        [("key", "test-key"), ("action", "services")],
    ] {
        let answer = form(&client, &url, &fields).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (out, lines) = tokio::task::spawn_blocking(move || {
        let mut stderr = stderr;
        let mut lines = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut lines).unwrap();
        (child.wait_with_output().unwrap(), lines)
    })
    .await
    .unwrap();
    assert!(!lines.contains("FAIL"), "{lines}");
    assert_eq!(out.status.code(), Some(0));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("2 exchanges"), "{summary}");
    assert!(summary.contains("balance.schema"), "{summary}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert!(
        crate::support::report_schema().is_valid(&report),
        "{report}"
    );
    assert_eq!(report["exchanges"]["exchanges"], 2);
    assert!(std::fs::read_to_string(&junit_path)
        .unwrap()
        .contains("<testsuite"));
    assert_eq!(
        std::fs::read_to_string(&record_path)
            .unwrap()
            .lines()
            .count(),
        3
    );
}

/// The console blocks of the README's proxy section, in order.
fn readme_blocks() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("## Watching a client's traffic: smm-conformance proxy")
        .expect("the proxy section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .split("```console\n")
        .skip(1)
        .map(|b| {
            b[..b.find("```").unwrap()]
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// A port free now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `want`'s lines (but `...`) appear in `got`, in order.
fn in_order(want: &[String], got: &str, what: &str) {
    let mut lines = got.lines();
    for line in want.iter().filter(|l| *l != "...") {
        assert!(
            lines.any(|l| l == line),
            "{what}: `{line}` is not in the output (in order):\n{got}"
        );
    }
}

#[tokio::test]
async fn the_readme_walkthrough_runs_and_prints_what_it_shows() {
    let blocks = readme_blocks();
    let [mock, proxy_block, bot, summary] = &blocks[..4] else {
        panic!("four console blocks: {blocks:?}");
    };
    assert_eq!(mock[0], "$ smm-mock --profile wrong-charge");
    let profile: Profile = "wrong-charge".parse().unwrap();
    let panel = MockPanel::start_with(smm_mock::Config {
        profiles: std::iter::once(profile).collect(),
        ..smm_mock::Config::new(Fixture::builtin())
    })
    .await
    .unwrap();
    let upstream_port = panel.addr().port().to_string();
    let proxy_port = free_port().to_string();
    let ports = |text: &str| {
        text.replace("8080", &upstream_port)
            .replace("8081", &proxy_port)
    };
    let dir = tempfile::tempdir().unwrap();
    let command = proxy_block[0]
        .strip_prefix("$ smm-conformance ")
        .expect("the proxy command");
    let mut args: Vec<String> = ports(command)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    args.extend(["--listen".into(), format!("127.0.0.1:{proxy_port}")]);
    let mut child = std::process::Command::new(BIN)
        .args(&args)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (ready, stderr) = tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::BufReader::new(stderr);
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut stderr, &mut ready).unwrap();
        (ready, stderr)
    })
    .await
    .unwrap();
    assert_eq!(ready.trim_end(), ports(&proxy_block[1]));
    // The bot's commands, each with the answer the README shows.
    let mut i = 0;
    while i < bot.len() {
        let command = bot[i].strip_prefix("$ ").expect("a command");
        let shown = bot.get(i + 1).filter(|l| !l.starts_with("$ "));
        let out = tokio::task::spawn_blocking({
            let script = ports(command);
            move || {
                std::process::Command::new("bash")
                    .args(["-c", &script])
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{command}");
        if let Some(shown) = shown {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim_end(),
                shown.as_str()
            );
            i += 1;
        }
        i += 1;
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let (out, lines) = tokio::task::spawn_blocking(move || {
        let mut stderr = stderr;
        let mut lines = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut lines).unwrap();
        (child.wait_with_output().unwrap(), lines)
    })
    .await
    .unwrap();
    let shown: Vec<String> = proxy_block[2..].iter().map(|l| ports(l)).collect();
    in_order(&shown, &lines, "the proxy's lines");
    let summary: Vec<String> = summary.iter().map(|l| ports(l)).collect();
    in_order(
        &summary,
        &String::from_utf8_lossy(&out.stdout),
        "the summary",
    );
    assert_eq!(out.status.code(), Some(1), "a check failed");
    for file in ["traffic.jsonl", "proxy.json", "proxy.xml"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}
