//! Connections: a flood of idle sockets past the limit starves neither the
//! connections in nor the process (issue: 1,100 idle sockets made `accept`
//! fail in a loop); a client that half-closes is still answered; a request
//! never answered (`hang`) lets its connection go with its client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use smm_mock::profile::{Profile, Profiles};
use smm_mock::{Config, Fixture};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::Mock;

/// Waits until `done` says so; panics after `patience` (a deadline for a
/// hang, not a measure: a slow machine only waits longer).
async fn wait_until(what: &str, patience: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + patience;
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A keep-alive connection that asks for the balance, again and again.
struct KeepAlive(tokio::net::TcpStream);

impl KeepAlive {
    async fn open(addr: SocketAddr) -> KeepAlive {
        KeepAlive(tokio::net::TcpStream::connect(addr).await.unwrap())
    }

    /// Asks once; whether the answer came (HTTP 200 with the balance).
    async fn balance(&mut self) -> bool {
        const BODY: &str = "key=test-key&action=balance";
        let request = format!(
            "POST /api/v2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        );
        if self.0.write_all(request.as_bytes()).await.is_err() {
            return false;
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        // The answer's head, then as many bytes as it says.
        loop {
            let Ok(n) = self.0.read(&mut buf).await else {
                return false;
            };
            if n == 0 {
                return false;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            let Some(head_end) = text.find("\r\n\r\n") else {
                continue;
            };
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            if answer.len() >= head_end + 4 + length {
                return text.starts_with("HTTP/1.1 200")
                    && text[head_end..].contains(r#""balance":"1000.00000""#);
            }
        }
    }
}

#[tokio::test]
async fn past_the_connection_limit_the_connections_in_are_still_answered() {
    const LIMIT: usize = 8;
    let mock = Mock::with(Config {
        max_connections: LIMIT,
        ..Config::new(Fixture::builtin())
    })
    .await;
    let addr = mock.panel.addr();
    let connections = mock.panel.connections();
    let mut working = KeepAlive::open(addr).await;
    assert!(working.balance().await);
    // The flood: five times the limit of idle sockets. The kernel completes
    // their handshakes; the mock accepts up to its limit and no more.
    let mut idle = Vec::new();
    for _ in 0..5 * LIMIT {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    wait_until("the limit reached", Duration::from_secs(10), || {
        connections.open() == LIMIT
    })
    .await;
    const ASKED: usize = 100;
    let mut answered = 0;
    for _ in 0..ASKED {
        answered += usize::from(working.balance().await);
    }
    assert_eq!(answered, ASKED, "the connection in is answered");
    assert_eq!(
        (connections.open(), connections.accepted()),
        (LIMIT, LIMIT as u64),
        "past the limit the mock waits: nothing more is accepted (and closed, or retried)"
    );
    // The idle sockets that got in close: as many waiting ones get in, in
    // order, and are served.
    drop(idle.drain(..LIMIT - 1));
    let mut waited = KeepAlive(idle.remove(0));
    assert!(waited.balance().await, "a connection that waited is served");
    assert!(connections.accepted() > LIMIT as u64);
    assert!(connections.open() <= LIMIT);
}

#[tokio::test]
async fn a_request_never_answered_lets_its_connection_go_with_its_client() {
    let mock = Mock::with(Config {
        profiles: Profiles::NONE.with(Profile::Hang),
        ..Config::new(Fixture::builtin())
    })
    .await;
    let mut client = tokio::net::TcpStream::connect(mock.panel.addr())
        .await
        .unwrap();
    let body = "key=test-key&action=refill_status&refill=1";
    let request = format!(
        "POST /api/v2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    let held = || mock.panel.with_journal(|j| j.total()) == 1;
    wait_until("the request held", Duration::from_secs(10), held).await;
    assert_eq!(mock.panel.connections().open(), 1);
    drop(client);
    wait_until("the connection let go", Duration::from_secs(10), || {
        mock.panel.connections().open() == 0
    })
    .await;
}

/// Sends `body` to the API on a fresh connection, in one write with its
/// head, shuts the write side, and returns what came back before the mock
/// closed. A blocking socket on a thread of its own: the client runs beside
/// the mock, as a client in another process would.
fn half_closed_post(addr: std::net::SocketAddr, body: &[u8]) -> Vec<u8> {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request = format!(
        "POST /api/v2 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_a_large_body_is_answered() {
    let mock = Mock::start().await;
    let mut body = b"key=test-key&action=balance&pad=".to_vec();
    body.resize(60 * 1024, b'a');
    const N: usize = 200;
    let addr = mock.panel.addr();
    let answered = tokio::task::spawn_blocking(move || {
        (0..N)
            .filter(|_| {
                let answer = half_closed_post(addr, &body);
                let text = String::from_utf8_lossy(&answer);
                text.starts_with("HTTP/1.1 200") && text.contains(r#""balance":"1000.00000""#)
            })
            .count()
    })
    .await
    .unwrap();
    assert_eq!(answered, N, "half-closed requests answered");
}

/// Kills the child on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Out of file descriptors (`ulimit -n 64`, a limit on connections above
/// it), the mock warns once, retries with a backoff instead of spinning,
/// answers the connections it holds, and accepts again once sockets close.
#[cfg(feature = "cli")]
#[test]
fn out_of_file_descriptors_it_backs_off_warns_once_and_still_answers() {
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {} --listen 127.0.0.1:0 --quiet --max-connections 1000",
            env!("CARGO_BIN_EXE_smm-mock")
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smm-mock starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("smm-mock listening on ").unwrap();
    let addr: SocketAddr = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/api/v2"))
        .unwrap()
        .parse()
        .unwrap();
    let (tx, log) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next_line = |what: &str| {
        log.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no log line: {what}"))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut working = KeepAlive::open(addr).await;
        assert!(working.balance().await);
        let mut idle = Vec::new();
        for _ in 0..100 {
            idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        let warning = next_line("accept failed");
        assert!(warning.contains("accept failed"), "{warning}");
        const ASKED: usize = 50;
        let mut answered = 0;
        for _ in 0..ASKED {
            answered += usize::from(working.balance().await);
        }
        assert_eq!(answered, ASKED);
        // Out of descriptors a while longer: the retries are spaced out.
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(idle);
        let again = next_line("accepting again");
        assert!(
            again.contains("accepting again after"),
            "one warning per burst: {again}"
        );
        let failures: u64 = again
            .split("after ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{again}"));
        // 50 ms doubling to 1 s: at most five tries in the first 1.55 s,
        // then one a second. Without the backoff: hundreds a second.
        let bound = 6 + started.elapsed().as_secs();
        assert!(
            failures <= bound,
            "{failures} failed accepts: it spins ({again})"
        );
        let mut fresh = KeepAlive::open(addr).await;
        assert!(fresh.balance().await, "a new connection is served again");
    });
    drop(server);
}

/// `--listen` without a process: a host name binds, and a busy port says
/// what to do, for the library's users too (first-contact point 9).
#[tokio::test]
async fn a_host_name_binds_and_a_busy_port_says_what_to_do() {
    let listener = "localhost:0"
        .parse::<smm_mock::ListenAddr>()
        .unwrap()
        .bind()
        .await
        .expect("localhost binds");
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback() && addr.is_ipv4(), "{addr}");

    let panel = smm_mock::MockPanel::start_on(listener, Config::new(Fixture::builtin()))
        .await
        .unwrap();
    let mut config = Config::new(Fixture::builtin());
    config.listen = panel.addr();
    let busy = smm_mock::MockPanel::start_with(config).await.unwrap_err();
    assert_eq!(busy.kind(), std::io::ErrorKind::AddrInUse);
    assert_eq!(
        busy.to_string(),
        format!(
            "{} is already in use (another smm-mock?); pick another port, or `--listen 127.0.0.1:0` for any free one",
            panel.addr()
        )
    );
}
