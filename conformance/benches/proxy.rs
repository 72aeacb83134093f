//! What the proxy costs: `cargo bench -p smm-conformance --bench proxy
//! [-- --requests N --concurrency C --seconds S]`.
//!
//! The built-in mock in-process as the upstream, the proxy in front of it
//! (in-process too, as tests run it: judging, lines to nowhere, no
//! recording), one keep-alive HTTP client:
//!
//! 1. latency: N sequential exchanges (balance and status, alternately),
//!    each sent straight to the mock and then through the proxy, in turn:
//!    p50 and p99 of each, and what the proxy adds;
//! 2. throughput: C clients at once for S seconds, straight and through
//!    the proxy: requests per second;
//! 3. a large answer: a 20 MiB body from a plain server, straight and
//!    through the proxy (which keeps 4 MiB of it to record, and streams the
//!    rest): the time to its first byte and to its last, the median of 5.

#![allow(clippy::print_stdout, missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use smm_conformance::proxy::{Config, Proxy};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

const BODIES: [&str; 2] = [
    "key=test-key&action=balance",
    "key=test-key&action=status&order=23501",
];

async fn exchange(client: &reqwest::Client, url: &str, body: &'static str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let _ = response.bytes().await.expect("a body");
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn throughput(client: &reqwest::Client, url: &str, clients: u64, seconds: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let (client, url, done) = (client.clone(), url.to_owned(), Arc::clone(&done));
        tasks.spawn(async move {
            let mut n = i as usize;
            while Instant::now() < end {
                exchange(&client, &url, BODIES[n % 2]).await;
                done.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        });
    }
    let started = Instant::now();
    while tasks.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// A server that answers every request with `size` bytes of JSON-typed
/// body, as fast as the reader takes them.
async fn large_server(size: usize) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    let body: Arc<Vec<u8>> = Arc::new(vec![b' '; size]);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    // The request's body is short: read with its head.
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).await.is_err()
                        || stream.write_all(&body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Time to the first byte and to the last of one large answer.
async fn large(client: &reqwest::Client, url: &str, size: usize) -> (Duration, Duration) {
    let started = Instant::now();
    let mut response = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("key=k&action=services")
        .send()
        .await
        .expect("an answer");
    let mut first = None;
    let mut got = 0;
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        first.get_or_insert_with(|| started.elapsed());
        got += chunk.len();
    }
    assert_eq!(got, size);
    (first.unwrap_or_default(), started.elapsed())
}

fn main() {
    let requests = arg("--requests", 5000) as usize;
    let clients = arg("--concurrency", 16);
    let seconds = arg("--seconds", 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let panel = smm_mock::MockPanel::start(smm_mock::Fixture::builtin())
            .await
            .expect("a mock");
        let proxy = Proxy::start(Config {
            listen: "127.0.0.1:0".parse().expect("an address"),
            ..Config::new(&panel.url())
        })
        .await
        .expect("a proxy");
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .build()
            .expect("a client");
        let (direct_url, proxied_url) = (panel.url(), proxy.url());
        for i in 0..200 {
            exchange(&client, &direct_url, BODIES[i % 2]).await;
            exchange(&client, &proxied_url, BODIES[i % 2]).await;
        }
        let (mut direct, mut proxied) = (Vec::new(), Vec::new());
        for i in 0..requests {
            direct.push(exchange(&client, &direct_url, BODIES[i % 2]).await);
            proxied.push(exchange(&client, &proxied_url, BODIES[i % 2]).await);
        }
        direct.sort();
        proxied.sort();
        let row = |name: &str, p: f64| {
            let (d, x) = (percentile(&direct, p), percentile(&proxied, p));
            println!(
                "{name:<5} {:>10.0} {:>14.0} {:>10.0}",
                micros(d),
                micros(x),
                micros(x) - micros(d)
            );
        };
        println!("latency of {requests} sequential exchanges (balance, status), µs, loopback");
        println!("{:<5} {:>10} {:>14} {:>10}", "", "direct", "through proxy", "added");
        row("p50", 0.50);
        row("p90", 0.90);
        row("p99", 0.99);
        let straight = throughput(&client, &direct_url, clients, seconds).await;
        let through = throughput(&client, &proxied_url, clients, seconds).await;
        println!();
        println!("throughput, {clients} clients at once for {seconds} s each");
        println!("{:<14} {:>12}", "", "requests/s");
        println!("{:<14} {:>12.0}", "direct", straight);
        println!("{:<14} {:>12.0}", "through proxy", through);
        let size = 20 << 20;
        let big = large_server(size).await;
        let big_proxy = Proxy::start(Config {
            listen: "127.0.0.1:0".parse().expect("an address"),
            ..Config::new(&format!("http://{big}/api/v2"))
        })
        .await
        .expect("a proxy");
        let (mut straight, mut relayed) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            straight.push(large(&client, &format!("http://{big}/api/v2"), size).await);
            relayed.push(large(&client, &big_proxy.url(), size).await);
        }
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!();
        println!("a 20 MiB answer, median of 5, ms");
        println!("{:<14} {:>12} {:>12}", "", "first byte", "last byte");
        for (name, runs) in [("direct", &straight), ("through proxy", &relayed)] {
            println!(
                "{name:<14} {:>12.1} {:>12.1}",
                ms(median(runs.iter().map(|r| r.0).collect())),
                ms(median(runs.iter().map(|r| r.1).collect()))
            );
        }
        drop(big_proxy.stop().await);
        proxy.settled().await;
        let report = proxy.stop().await;
        let traffic = report.exchanges.expect("traffic");
        println!();
        println!(
            "the proxy judged {} exchanges ({} not judged: the judge fell behind), {} failed checks",
            traffic.exchanges - traffic.unjudged,
            traffic.unjudged,
            report.counts.failed
        );
    });
}
