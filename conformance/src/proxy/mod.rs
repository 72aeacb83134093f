//! The validating proxy (`smm-conformance proxy`): a client points at it
//! instead of the panel; each request is relayed unchanged and each answer
//! returned unchanged (status, headers, body, streamed), and judged live
//! with the checks of `run` that one exchange can decide.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use smm_conformance::proxy::{Config, Proxy};
//!
//! let proxy = Proxy::start(Config::new("https://panel.example/api/v2")).await?;
//! println!("point the client at {}", proxy.url());
//! // … the client's traffic passes …
//! let report = proxy.stop().await; // one record per check the proxy judges
//! assert_eq!(report.counts.failed, 0);
//! # Ok(()) }
//! ```
//!
//! How the parts fit: [`relay`] is the server and the forwarding (the only
//! part with sockets); each exchange, once complete, goes through a bounded
//! queue to a thread of its own that [`watch`]es: it numbers the exchange,
//! [`judge`]s it (pure), writes one line per violation, appends it to the
//! [`record`]ing, and keeps the counts the report is made of. The proxy
//! places nothing on its own: every request the upstream gets is one a
//! client sent.

pub mod judge;
pub mod record;
pub mod relay;
pub mod watch;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::outcome::{Mode, Report};
pub use watch::{ActionCount, Traffic};

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// How many complete exchanges wait to be judged at most; past it, an
/// exchange is relayed but not judged (counted as such in the report).
pub const JUDGE_QUEUE: usize = 4096;

/// The most client connections held at once; past it, new ones wait in the
/// kernel's queue.
pub const MAX_CONNECTIONS: usize = 512;

/// How long stopping waits for open exchanges before closing them.
pub const DRAIN: Duration = Duration::from_secs(2);

/// How to run a proxy.
pub struct Config {
    /// The panel's endpoint, as the user pastes it (`https://x/api/v2`).
    pub upstream: String,
    /// Where to listen (port 0: any free port).
    pub listen: smm_mock::listen::ListenAddr,
    /// Tolerant or strict (drift warns or fails).
    pub mode: Mode,
    /// The most of one answer kept to judge and record (`--max-body`); a
    /// larger answer is relayed whole, and not judged.
    pub max_body: usize,
    /// The longest wait for the upstream: for its answer to start, and
    /// between two pieces of it.
    pub timeout: Duration,
    /// Where one line per violation goes (stderr for the binary).
    pub lines: Box<dyn Write + Send>,
    /// Where the recording goes (`--record FILE`), if anywhere.
    pub record: Option<Box<dyn Write + Send>>,
}

impl Config {
    /// Defaults for `upstream`: listen on [`DEFAULT_LISTEN`], tolerant,
    /// `--max-body` 4 MiB, a 30 s timeout, lines to nowhere, no recording.
    pub fn new(upstream: &str) -> Config {
        Config {
            upstream: upstream.to_owned(),
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8081)).into()),
            mode: Mode::Tolerant,
            max_body: crate::client::DEFAULT_MAX_BODY,
            timeout: Duration::from_secs(30),
            lines: Box::new(std::io::sink()),
            record: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("mode", &self.mode)
            .field("max_body", &self.max_body)
            .field("timeout", &self.timeout)
            .field("record", &self.record.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a proxy cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The upstream is not an http(s) URL.
    #[error("--upstream `{0}`: expected the endpoint as you would paste it, like https://panel.example/api/v2")]
    Upstream(String),
    /// The address cannot be listened on (a port in use, a host name that
    /// does not resolve), with what to do.
    #[error("{0}")]
    Listen(#[from] smm_mock::listen::ListenError),
    /// The HTTP client cannot be built (TLS set-up).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The recording cannot be written.
    #[error("cannot write the recording: {0}")]
    Record(std::io::Error),
}

/// A request as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// `POST`, `GET`, …
    pub method: String,
    /// The path (`/api/v2` or `/api/v2/`).
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// `Content-Type`, as sent (empty: none).
    pub content_type: String,
    /// The fields: the query string's, then the body's (form or JSON), in
    /// order, repeated names kept.
    pub fields: Vec<(String, String)>,
}

impl SeenRequest {
    /// The value of field `name`; sent more than once, the last (as PHP
    /// panels read it, the body's over the query string's).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `action` field.
    pub fn action(&self) -> Option<&str> {
        self.field(smm_contract::field::ACTION)
    }
}

/// An answer as the upstream sent it (its body kept up to `--max-body`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenAnswer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` (empty: none).
    pub content_type: String,
    /// `Content-Encoding`, when not identity (the body is then not judged).
    pub encoding: Option<String>,
    /// The body, up to `--max-body` bytes.
    pub body: Bytes,
    /// The whole body's size.
    pub size: u64,
    /// Whether `body` is cut short of `size`.
    pub truncated: bool,
}

/// Why an exchange got no (whole) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// No answer (or no more of it) within the timeout.
    Timeout(Duration),
    /// The connection to the upstream failed before an answer.
    Connection(String),
    /// The answer started, then broke off.
    BrokeOff {
        /// Its HTTP status.
        status: u16,
        /// Bytes of body received.
        after: u64,
        /// Why.
        why: String,
    },
}

impl std::error::Error for Failed {}

/// One complete exchange: what was asked and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The request.
    pub request: SeenRequest,
    /// The answer, or why none came.
    pub answer: Result<SeenAnswer, Failed>,
}

/// The fields of a request: the query string's, then the body's (a form,
/// or a JSON object whose scalars are read as text, lists of scalars
/// joined with commas and `null`s left out, as the mock reads them), in
/// order, repeated names kept. A body of another content type adds none.
pub fn fields_of(query: &str, content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if body.is_empty() {
        return fields;
    }
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if essence.is_empty() || essence == "application/x-www-form-urlencoded" {
        fields.extend(form_urlencoded::parse(body).into_owned());
    } else if essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
    {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            for (name, value) in object {
                let text = match &value {
                    Value::Null => continue,
                    Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
                    other => scalar(other),
                };
                fields.push((name, text));
            }
        }
    }
    fields
}

/// What the server and the judge share.
pub(crate) struct Shared {
    http: reqwest::Client,
    upstream: String,
    timeout: Duration,
    max_body: usize,
    /// Exchanges begun (relayed to the upstream).
    begun: AtomicU64,
    /// Exchanges judged, or dropped for a full queue.
    heard: AtomicU64,
    settled: Notify,
    queue: Mutex<Option<mpsc::Sender<Seen>>>,
    dropped: AtomicU64,
}

impl Shared {
    /// The upstream URL a request to `path` goes to: `/api/v2` to the
    /// upstream as given, `/api/v2/` to it with a trailing slash; other
    /// paths are not relayed.
    fn upstream_for(&self, path: &str, query: Option<&str>) -> Option<String> {
        let mut url = match path {
            "/api/v2" => self.upstream.clone(),
            "/api/v2/" if self.upstream.ends_with('/') => self.upstream.clone(),
            "/api/v2/" => format!("{}/", self.upstream),
            _ => return None,
        };
        if let Some(query) = query {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(query);
        }
        Some(url)
    }

    /// Hands a complete exchange to the judge (never waits: a full queue
    /// drops it from judging).
    fn judge(&self, seen: Seen) {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let queued = queue.is_some_and(|q| q.try_send(seen).is_ok());
        if !queued {
            self.dropped.fetch_add(1, Ordering::SeqCst);
            self.heard();
        }
    }

    fn heard(&self) {
        self.heard.fetch_add(1, Ordering::SeqCst);
        self.settled.notify_waiters();
    }
}

/// A running proxy. Dropped, it stops listening.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    watch: Arc<Mutex<watch::Watch>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    judge: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish()
    }
}

impl Proxy {
    /// Listens, and relays until stopped.
    pub async fn start(config: Config) -> Result<Proxy, ProxyError> {
        let upstream = config.upstream.trim().to_owned();
        if !(upstream.starts_with("http://") || upstream.starts_with("https://"))
            || reqwest::Url::parse(&upstream).is_err()
        {
            return Err(ProxyError::Upstream(upstream));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ProxyError::Client(e.to_string()))?;
        let listener = config.listen.bind().await?;
        let addr = listener.local_addr().map_err(|source| {
            ProxyError::Listen(smm_mock::listen::ListenError::Bind {
                addr: SocketAddr::from(([127, 0, 0, 1], config.listen.port())),
                source,
            })
        })?;
        let (queue, mut queued) = mpsc::channel::<Seen>(JUDGE_QUEUE);
        let shared = Arc::new(Shared {
            http,
            upstream: upstream.clone(),
            timeout: config.timeout,
            max_body: config.max_body,
            begun: AtomicU64::new(0),
            heard: AtomicU64::new(0),
            settled: Notify::new(),
            queue: Mutex::new(Some(queue)),
            dropped: AtomicU64::new(0),
        });
        let watch = watch::Watch::new(&upstream, config.mode, config.lines, config.record)
            .map_err(ProxyError::Record)?;
        let watch = Arc::new(Mutex::new(watch));
        // Judging is CPU work (schemas, masking): a thread of its own, off
        // the runtime that relays.
        let judge = std::thread::Builder::new()
            .name("smm-proxy-judge".into())
            .spawn({
                let (watch, shared) = (Arc::clone(&watch), Arc::clone(&shared));
                move || {
                    while let Some(seen) = queued.blocking_recv() {
                        watch.lock().unwrap_or_else(|e| e.into_inner()).hear(seen);
                        shared.heard();
                    }
                }
            })
            .map_err(|e| ProxyError::Client(format!("cannot start the judge: {e}")))?;
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(Proxy {
            addr,
            shared,
            watch,
            stop: Some(stop),
            server: Some(server),
            judge: Some(judge),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint a client points at: `http://<addr>/api/v2`.
    pub fn url(&self) -> String {
        format!("http://{}/api/v2", self.addr)
    }

    /// Returns once every exchange begun so far has been judged.
    pub async fn settled(&self) {
        loop {
            let notified = self.shared.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let begun = self.shared.begun.load(Ordering::SeqCst);
            if self.shared.heard.load(Ordering::SeqCst) >= begun {
                return;
            }
            notified.await;
        }
    }

    /// The report of what was judged so far.
    pub fn report(&self) -> Report {
        let dropped = self.shared.dropped.load(Ordering::SeqCst);
        self.watch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .report(dropped)
    }

    /// Writes the summary of what was judged so far: per check, its
    /// outcome and count; per action, exchanges and violations.
    pub fn summary(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let report = self.report();
        watch::summary(&report, out)
    }

    /// Stops listening, lets the open exchanges end (at most [`DRAIN`],
    /// then the upstream's timeout for those already relayed), judges
    /// them, and returns the report.
    pub async fn stop(mut self) -> Report {
        self.shut().await;
        let _ = tokio::time::timeout(self.shared.timeout + DRAIN, self.settled()).await;
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(judge) = self.judge.take() {
            let _ = tokio::task::spawn_blocking(move || judge.join()).await;
        }
        self.report()
    }

    async fn shut(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Ok(mut queue) = self.shared.queue.lock() {
            queue.take();
        }
    }
}

/// Accepts connections until `stopped`, then drains for at most [`DRAIN`].
async fn serve(listener: TcpListener, shared: Arc<Shared>, stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let rooms = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stopped);
    loop {
        let next = async {
            let room = Arc::clone(&rooms).acquire_owned().await;
            (room, listener.accept().await)
        };
        let (room, accepted) = tokio::select! {
            next = next => next,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = &mut stopped => break,
        };
        let (Ok(room), Ok((stream, _))) = (room, accepted) else {
            // An accept error (out of descriptors): wait a little, go on.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let service =
            hyper::service::service_fn(move |request| relay::serve(Arc::clone(&shared), request));
        let connection = http1::Builder::new()
            .half_close(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            let _ = connection.await;
            drop(room);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    connections.shutdown().await;
}
