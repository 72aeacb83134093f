//! Load benchmark of the mock panel: `cargo bench -p smm-mock --bench load`.
//!
//! Starts, in this process, a bare hyper server answering a constant body (the
//! physical limit of the machine) and the mock panel, both on a 2-worker
//! runtime, then drives each with `wrk` (Debian package `wrk`, a separate
//! process) and reports requests/s, requests per CPU-second of the servers
//! (this process's CPU time, read from /proc before and after each run) and
//! p50/p99 latency for `balance`, `status`, bulk status of 100 ids (at 4
//! connections) and `add`. Then it places 1,000,000 orders in a panel and
//! reports the memory they take. The mock runs without a log subscriber, as
//! `smm-mock --quiet` does. Options: `-- --rounds N --seconds N
//! --connections N --orders N --only NAME`.

#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rust_decimal::Decimal;
use smm_mock::request::Fields;
use smm_mock::router::ApiRequest;
use smm_mock::{Fixture, MockPanel, Panel, PanelOptions, Rules};
use tokio::net::TcpListener;

struct Options {
    /// Only the scenarios whose name contains this.
    only: Option<String>,
    rounds: usize,
    seconds: u64,
    connections: u64,
    orders: u64,
}

fn options() -> Options {
    let mut options = Options {
        only: None,
        rounds: 10,
        seconds: 4,
        connections: 32,
        orders: 1_000_000,
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        if pair[0] == "--only" {
            options.only = Some(pair[1].clone());
        }
        let value = pair[1].parse().ok();
        match (pair[0].as_str(), value) {
            ("--seconds", Some(v)) => options.seconds = v,
            ("--rounds", Some(v)) => options.rounds = v as usize,
            ("--connections", Some(v)) => options.connections = v,
            ("--orders", Some(v)) => options.orders = v,
            _ => {}
        }
    }
    options
}

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn rich_panel_fields(link: &str) -> Fields {
    Fields::from_pairs([
        ("key", "test-key"),
        ("action", "add"),
        ("service", "1"),
        ("link", link),
        ("quantity", "100"),
    ])
    .expect("fields")
}

fn memory(orders: u64) {
    let before = rss();
    let mut panel = Panel::new(Arc::new(Fixture::builtin()), PanelOptions::default());
    panel.set_balance("test-key", Decimal::from(1_000_000_000u64));
    let started = Instant::now();
    for i in 0..orders {
        let link = format!("https://instagram.com/user{i}");
        let request = ApiRequest::new(rich_panel_fields(&link));
        let reply = panel.handle(&request, Rules::CONTRACT);
        assert!(reply.error().is_none(), "{:?}", reply.error());
    }
    let elapsed = started.elapsed();
    let after = rss();
    println!(
        "memory: {orders} orders placed in {:.2} s ({:.0} orders/s in-process); RSS {:.1} MB → {:.1} MB ({:.0} bytes/order)",
        elapsed.as_secs_f64(),
        orders as f64 / elapsed.as_secs_f64(),
        before as f64 / 1e6,
        after as f64 / 1e6,
        after.saturating_sub(before) as f64 / orders.max(1) as f64,
    );
}

/// A bare hyper server answering a constant body; with `read_body`, it reads
/// the request body first (as any API server must).
async fn bare_server(read_body: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| async move {
                    if read_body {
                        let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                    }
                    let mut response = Response::new(Full::new(Bytes::from_static(
                        br#"{"balance":"1000.00000","currency":"USD"}"#,
                    )));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

struct Result {
    rps: f64,
    /// Requests answered per CPU-second of this process (the servers).
    per_cpu: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// CPU time of this process so far (user + system), in seconds (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime and
    // stime are the 14th and 15th fields of the line, in clock ticks.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / clock_ticks_per_second()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn duration_ms(text: &str) -> f64 {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}

fn wrk(url: &str, body: &str, connections: u64, options: &Options) -> Result {
    let script = std::env::temp_dir().join(format!("smm-bench-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n"
        ),
    )
    .expect("write the wrk script");
    let cpu_before = cpu_seconds();
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{}s", options.seconds),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(url)
        .output();
    let cpu = cpu_seconds() - cpu_before;
    let _ = std::fs::remove_file(&script);
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!("wrk failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(e) => {
            eprintln!("cannot run wrk ({e}): install it with `apt-get install wrk`");
            std::process::exit(2);
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .unwrap_or("")
            .to_owned()
    };
    let errors = field("Non-2xx or 3xx responses:").parse().unwrap_or(0)
        + text.lines().filter(|l| l.contains("Socket errors")).count() as u64;
    let requests: f64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    Result {
        rps: field("Requests/sec:").parse().unwrap_or(0.0),
        per_cpu: if cpu > 0.0 { requests / cpu } else { 0.0 },
        p50_ms: duration_ms(&field("50%")),
        p99_ms: duration_ms(&field("99%")),
        errors,
    }
}

/// The median of each figure over rounds (errors summed).
fn median(results: Vec<Result>) -> Result {
    let pick = |f: fn(&Result) -> f64| {
        let mut values: Vec<f64> = results.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Result {
        rps: pick(|r| r.rps),
        per_cpu: pick(|r| r.per_cpu),
        p50_ms: pick(|r| r.p50_ms),
        p99_ms: pick(|r| r.p99_ms),
        errors: results.iter().map(|r| r.errors).sum(),
    }
}

fn main() {
    let options = options();
    if std::env::args().any(|a| a == "--memory-only") {
        memory(options.orders);
        return;
    }
    println!(
        "smm-mock load benchmark: wrk -t2 -c{} (bulk: -c4) -d{}s per scenario and round, {} rounds (medians; ratios paired within rounds), servers on 2 tokio workers",
        options.connections, options.seconds, options.rounds
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (bare, bare_read, mock) = runtime.block_on(async {
        let bare = bare_server(false).await;
        let bare_read = bare_server(true).await;
        let mock = MockPanel::start(Fixture::builtin()).await.expect("mock");
        mock.with_panel(|p| p.set_balance("test-key", Decimal::from(1_000_000_000_000u64)));
        (bare, bare_read, mock)
    });
    // 100 orders for the bulk scenario.
    let ids: Vec<String> = (0..100)
        .map(|i| {
            mock.with_panel(|p| {
                let request = ApiRequest::new(rich_panel_fields(&format!("https://x.com/bulk{i}")));
                let body = p
                    .handle(&request, Rules::CONTRACT)
                    .to_json(&smm_mock::error::Messages::CONTRACT);
                let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
                value["order"].to_string()
            })
        })
        .collect();
    let bulk = format!("key=test-key&action=status&orders={}", ids.join("%2C"));
    let c = options.connections;
    let scenarios: Vec<(&str, String, String, u64)> = vec![
        (
            "bare hyper (constant body)",
            format!("http://{bare}/"),
            "key=test-key&action=balance".into(),
            c,
        ),
        (
            "bare hyper, reading the body",
            format!("http://{bare_read}/"),
            "key=test-key&action=balance".into(),
            c,
        ),
        (
            "balance",
            mock.url(),
            "key=test-key&action=balance".into(),
            c,
        ),
        (
            "status",
            mock.url(),
            "key=test-key&action=status&order=23501".into(),
            c,
        ),
        ("bulk status, 100 ids", mock.url(), bulk, 4),
        (
            "add",
            mock.url(),
            "key=test-key&action=add&service=1&link=https%3A%2F%2Fx.com%2Fa&quantity=100".into(),
            c,
        ),
    ];
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .filter(|(name, ..)| options.only.as_deref().is_none_or(|o| name.contains(o)))
        .collect();
    // Rounds interleave the scenarios, each round starting one scenario
    // further on, so a noisy moment of the machine (a shared VM whose speed
    // drifts by tens of percent) hits them all alike. Each ratio to bare hyper
    // is taken within a round, then the median of the rounds' ratios is shown:
    // paired, so the drift between rounds cancels out.
    let mut runs: Vec<Vec<Result>> = scenarios.iter().map(|_| Vec::new()).collect();
    let n = scenarios.len();
    for round in 0..options.rounds.max(1) {
        for k in 0..n {
            let i = (round + k) % n;
            let (_, url, body, connections) = &scenarios[i];
            runs[i].push(wrk(url, body, *connections, &options));
        }
    }
    let ratios = |i: usize, f: fn(&Result) -> f64| -> f64 {
        let mut values: Vec<f64> = runs[i]
            .iter()
            .zip(&runs[0])
            .map(|(r, bare)| f(r) / f(bare))
            .collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let paired: Vec<(f64, f64)> = (0..n)
        .map(|i| (ratios(i, |r| r.rps), ratios(i, |r| r.per_cpu)))
        .collect();
    println!("\n| scenario | requests/s | per CPU-second | p50 ms | p99 ms | vs bare: requests/s | vs bare: per CPU-second |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (((name, _, _, _), results), (rps_ratio, cpu_ratio)) in
        scenarios.iter().zip(runs).zip(paired)
    {
        let result = median(results);
        println!(
            "| {name} | {:.0} | {:.0} | {:.3} | {:.3} | {rps_ratio:.2}× | {cpu_ratio:.2}× |{}",
            result.rps,
            result.per_cpu,
            result.p50_ms,
            result.p99_ms,
            if result.errors > 0 {
                format!(" ({} errors)", result.errors)
            } else {
                String::new()
            }
        );
    }
    let orders = mock.with_panel(|p| p.orders().len());
    println!("\n{orders} orders held by the mock at the end");
    drop(mock);
    runtime.shutdown_background();
    // A fresh process: this one's heap holds what the load runs left.
    let status = Command::new(std::env::current_exe().expect("this benchmark"))
        .args(["--memory-only", "--orders", &options.orders.to_string()])
        .status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        eprintln!("the memory measurement failed: {status:?}");
    }
}
