//! Sockets: the HTTP server around the shared state. The only module that
//! reads and writes them (the listener is bound by [`crate::MockPanel`]).
//!
//! [`crate::router`] says where a request goes: the API (`/api/v2` and
//! `/api/v2/`: HTTP 200 and JSON unless a deviation profile says otherwise),
//! the admin API (`/__mock/…`, see [`crate::admin`]) unless it is turned
//! off, or a JSON 404. No lock is held across an `.await`: the body is read
//! first, then the state is locked for the answer (and locked again for a
//! balance write the answer left for later, [`STALE_WRITE_DELAY`] on).
//!
//! At most [`Connections`]' limit are held at once, and accept errors
//! (out of file descriptors) are backed off, so a flood of sockets neither
//! starves the connections already in nor spins the server; a client that
//! half-closes after its request is answered all the same.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::admin::{AdminRequest, Own, ADMIN_BODY_LIMIT};
use crate::error::ApiError;
use crate::reply::{Answer, Delivery};
use crate::request::{BodyKind, Fields, ReadError, BODY_LIMIT};
use crate::router::Route;
use crate::shared::Shared;

/// How long shutdown waits for open connections before closing them.
pub const DRAIN: Duration = Duration::from_secs(2);

/// How long a client may take to send a request's headers, then its body
/// (the default of [`crate::Config::read_timeout`]).
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long after an `add` whose debit is not atomic the server writes the
/// balance that `add` computed, before it answers (see
/// [`crate::state::StaleWrite`]): requests of the same key handled
/// meanwhile have their debits overwritten.
pub const STALE_WRITE_DELAY: Duration = Duration::from_millis(20);

/// A JSON response.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(Answer::JSON));
    response
}

/// How many connections a server holds at once by default (the default of
/// [`crate::Config::max_connections`]): half the 1,024 open files a process
/// may have by default on Linux, so that connections alone never run it out
/// of file descriptors (the rest is the listener, the runtime's, a fixture,
/// stdio), and far more than a test suite or a load test opens.
pub const MAX_CONNECTIONS: usize = 512;

/// The first wait after an accept error, doubled after each one that follows.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The longest wait after an accept error.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The connections a server holds: at most its limit at once. Past the
/// limit the server stops accepting (new connections wait in the kernel's
/// queue) until one closes, so that the connections already in are still
/// answered, and a flood of idle sockets cannot run it out of file
/// descriptors.
#[derive(Debug)]
pub struct Connections {
    limit: usize,
    permits: Arc<Semaphore>,
    accepted: AtomicU64,
    closed: AtomicU64,
}

impl Connections {
    /// Room for `limit` connections at once (at least 1).
    pub fn new(limit: usize) -> Connections {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        Connections {
            limit,
            permits: Arc::new(Semaphore::new(limit)),
            accepted: AtomicU64::new(0),
            closed: AtomicU64::new(0),
        }
    }

    /// The most connections held at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The connections open now.
    pub fn open(&self) -> usize {
        let closed = self.closed.load(Ordering::Relaxed);
        let open = self.accepted().saturating_sub(closed);
        usize::try_from(open).unwrap_or(usize::MAX)
    }

    /// The connections accepted since start.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

/// A connection's room among [`Connections`]: given back, and the
/// connection counted closed, when its task ends (or is aborted).
struct Room {
    _permit: OwnedSemaphorePermit,
    connections: Arc<Connections>,
}

impl Drop for Room {
    fn drop(&mut self) {
        self.connections.closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Accept errors waited out: out of file descriptors (`EMFILE`, `ENFILE`)
/// or of memory, the listener is retried after [`ACCEPT_BACKOFF`], doubling
/// to [`ACCEPT_BACKOFF_MAX`]; one warning when a burst of errors starts, one
/// line when accepting works again, never one per attempt.
#[derive(Debug, Default)]
struct Backoff {
    /// Errors in a row.
    failures: u64,
    /// When the burst started.
    since: Option<Instant>,
    /// The last wait.
    delay: Duration,
    /// When to try again.
    retry_at: Option<tokio::time::Instant>,
}

impl Backoff {
    /// An accept failed.
    fn failed(&mut self, e: &std::io::Error) {
        self.delay = if self.failures == 0 {
            tracing::warn!(
                "accept failed: {e}; retrying after {ACCEPT_BACKOFF:?}, doubling to {ACCEPT_BACKOFF_MAX:?}, until it works again (open connections are still served)"
            );
            self.since = Some(Instant::now());
            ACCEPT_BACKOFF
        } else {
            (self.delay * 2).min(ACCEPT_BACKOFF_MAX)
        };
        self.failures += 1;
        self.retry_at = Some(tokio::time::Instant::now() + self.delay);
    }

    /// An accept worked.
    fn worked(&mut self) {
        if self.failures > 0 {
            let took = self.since.map(|t| t.elapsed()).unwrap_or_default();
            tracing::warn!(
                "accepting again after {} failed accepts in {:.1} s",
                self.failures,
                took.as_secs_f64()
            );
        }
        *self = Backoff::default();
    }
}

/// Whether an accept error is the one connection's (it went before it was
/// accepted): the next accept is tried at once.
fn only_that_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    )
}

/// Serves HTTP on `listener` until `shutdown` resolves, then drains for at
/// most [`DRAIN`] and closes what is left. At most `connections`' limit are
/// held at once (see [`Connections`]); accept errors are backed off (see
/// [`Backoff`]).
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let retry_at = backoff.retry_at;
        // A room first, then a connection: past the limit nothing is
        // accepted until a connection ends.
        let next = async {
            if let Some(at) = retry_at {
                tokio::time::sleep_until(at).await;
            }
            let permit = Arc::clone(&connections.permits).acquire_owned().await;
            (permit, listener.accept().await)
        };
        let (permit, accepted) = tokio::select! {
            next = next => next,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else {
            break; // The semaphore is never closed.
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if only_that_connection(&e) => continue,
            Err(e) => {
                backoff.failed(&e);
                continue;
            }
        };
        backoff.worked();
        connections.accepted.fetch_add(1, Ordering::Relaxed);
        let room = Room {
            _permit: permit,
            connections: Arc::clone(&connections),
        };
        let _ = stream.set_nodelay(true);
        let own = Own {
            listen: shared.listen,
            local: stream.local_addr().unwrap_or(shared.listen),
        };
        let socket = Socket(Arc::new(stream));
        let shared = Arc::clone(&shared);
        let waiting = Arc::new(Waiting::new(shared.read_timeout));
        let watched = Arc::clone(&waiting);
        let client = socket.clone();
        let service = service_fn(move |req| {
            let (shared, waiting) = (Arc::clone(&shared), Arc::clone(&watched));
            let client = client.clone();
            async move {
                let before = waiting.busy();
                let answer = route(shared, own, client, req).await;
                waiting.done(before);
                answer
            }
        });
        // `half_close`: a client that shuts its write side once it has sent
        // its request (its end of the body) is still answered; hyper would
        // otherwise take that end for a close and drop the request unanswered.
        let connection = http1::Builder::new()
            .half_close(true)
            .serve_connection(TokioIo::new(socket), service);
        let connection = graceful.watch(connection);
        let (ended, end) = tokio::sync::oneshot::channel::<()>();
        let serving = tasks.spawn(async move {
            let _ = connection.await;
            drop(ended);
            drop(room);
        });
        // The watchdog is a task of its own, so that answering a request
        // never polls its timer; it ends with the connection.
        tokio::spawn(async move { waiting.close_when_too_long(serving, end).await });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!(
            "closing {} connection(s) still open after {DRAIN:?}",
            tasks.len()
        );
    }
    tasks.shutdown().await;
}

/// A connection's socket, shared: hyper reads and writes it, and a request
/// held without an answer (`hang`) watches it for the client to go, which
/// hyper, reading no further while a request is answered (`half_close`), no
/// longer sees.
#[derive(Debug, Clone)]
struct Socket(Arc<TcpStream>);

impl Socket {
    /// Resolves once the client has closed its side of the connection (or
    /// it failed). Bytes the client sent after its request (a pipelined
    /// one, unread) hide the close: then it never resolves.
    async fn client_gone(&self) {
        let mut byte = [0u8; 1];
        match self.0.peek(&mut byte).await {
            Ok(0) | Err(_) => {}
            Ok(_) => std::future::pending().await,
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read_buf(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                read => return Poll::Ready(read.map(drop)),
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                written => return Poll::Ready(written),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write_vectored(bufs) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                written => return Poll::Ready(written),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(shutdown_write(&self.0))
    }
}

/// Shuts the write side of a shared stream (tokio does it only through
/// `&mut`): through a duplicate of its handle, for a moment. Without one (out
/// of file descriptors) the socket is closed all the same when the
/// connection ends.
fn shutdown_write(stream: &TcpStream) -> std::io::Result<()> {
    #[cfg(unix)]
    let handle = std::os::fd::AsFd::as_fd(stream).try_clone_to_owned();
    #[cfg(windows)]
    let handle = std::os::windows::io::AsSocket::as_socket(stream).try_clone_to_owned();
    #[cfg(any(unix, windows))]
    if let Ok(handle) = handle {
        let shared = std::net::TcpStream::from(handle);
        match shared.shutdown(std::net::Shutdown::Write) {
            Err(e) if e.kind() == std::io::ErrorKind::NotConnected => {}
            done => return done,
        }
    }
    Ok(())
}

/// Whether a connection has been waiting too long for, or reading, its next
/// request's head: the mock's header-read timeout. A connection that waits
/// longer than the read timeout (an idle keep-alive, a client that sends its
/// headers byte by byte) is closed within a third of that more. One timer per
/// connection, woken three times per timeout; per request, two atomic
/// stores and no clock: a timer armed for each request's head would cost the
/// hot path a lock on the runtime's timer wheel.
#[derive(Debug)]
struct Waiting {
    /// Requests answered so far; [`BUSY`] while one is being answered.
    answered: AtomicU64,
    limit: Duration,
}

/// [`Waiting`] while a request is being answered.
const BUSY: u64 = u64::MAX;

impl Waiting {
    fn new(limit: Duration) -> Waiting {
        Waiting {
            answered: AtomicU64::new(0),
            limit,
        }
    }

    /// A request's head has arrived: it is being answered. Returns the count
    /// to hand back to [`Waiting::done`].
    fn busy(&self) -> u64 {
        self.answered.swap(BUSY, Ordering::Relaxed)
    }

    /// Answered: waiting for the next request.
    fn done(&self, before: u64) {
        self.answered
            .store(before.wrapping_add(1) % BUSY, Ordering::Relaxed);
    }

    /// Closes the connection `serving` serves once it has waited longer
    /// than its limit: seen waiting, with no request answered in between, at
    /// four checks a third of the limit apart. Ends when `ended` says the
    /// connection has.
    async fn close_when_too_long(
        &self,
        serving: tokio::task::AbortHandle,
        mut ended: tokio::sync::oneshot::Receiver<()>,
    ) {
        let mut idle_checks = 0;
        let mut last = None;
        // Never a busy loop, whatever the limit.
        let period = (self.limit / 3).max(Duration::from_millis(10));
        loop {
            tokio::select! {
                _ = &mut ended => return,
                () = tokio::time::sleep(period) => {}
            }
            let now = self.answered.load(Ordering::Relaxed);
            if now != BUSY && last == Some(now) {
                idle_checks += 1;
            } else {
                idle_checks = 0;
            }
            last = Some(now);
            if idle_checks >= 3 {
                serving.abort();
                return;
            }
        }
    }
}

/// The connection is closed without an answer: on purpose
/// (`connection-reset`), or once the client of a request never answered
/// (`hang`) has gone.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (profile connection-reset or hang)")
    }
}

impl std::error::Error for Dropped {}

async fn route(
    shared: Arc<Shared>,
    own: Own,
    client: Socket,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    match crate::router::route(req.uri().path(), shared.paths, shared.admin) {
        Route::Api => api_answer(shared, client, req).await,
        Route::Redirect(target) => {
            let mut response = json(StatusCode::MOVED_PERMANENTLY, Bytes::new());
            let target =
                HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/api/v2"));
            response
                .headers_mut()
                .insert(hyper::header::LOCATION, target);
            Ok(response)
        }
        Route::Admin => Ok(admin_answer(&shared, own, req).await),
        Route::NotFound { api } => {
            let body = format!(
                r#"{{"error":"Not found: {}; the API is POST {api}"}}"#,
                req.uri().path().escape_default(),
            );
            Ok(json(StatusCode::NOT_FOUND, body))
        }
    }
}

/// Reads an admin request and answers it, as pretty JSON; refuses it
/// unread unless it comes from the mock's own origin
/// ([`crate::admin::refuse_foreign`]).
async fn admin_answer(shared: &Shared, own: Own, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let refused = crate::admin::refuse_foreign(&method, req.headers(), own);
    let (status, body) = async {
        if let Some((status, value)) = refused {
            return Ok((status, crate::admin::pretty(&value)));
        }
        let body = if method == Method::POST || method == Method::PUT {
            read_body(req, ADMIN_BODY_LIMIT, shared.read_timeout)
                .await
                .map_err(|e| e.to_string())?
        } else {
            Bytes::new()
        };
        let request = AdminRequest::new(method.clone(), uri.path(), uri.query(), body)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(crate::admin::handle(shared, &request))
    }
    .await
    .unwrap_or_else(|e| {
        let error = serde_json::json!({ "error": e });
        (StatusCode::BAD_REQUEST, crate::admin::pretty(&error))
    });
    tracing::info!(target: "smm_mock::admin", "{method} {} -> {}", uri.path(), status.as_u16());
    json(status, body)
}

/// Reads a body of at most `limit` bytes, within `timeout`. A body that has
/// already arrived (the common case) is taken at once, with no timer armed.
pub async fn read_body(
    req: Request<Incoming>,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ReadError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge(limit));
    }
    // With a declared length hyper reads exactly that much: the limit is
    // already kept. Only a body of unknown length needs counting.
    let body = req.into_body();
    let mut collect = std::pin::pin!(async {
        match declared {
            Some(_) => collect(body).await,
            None => collect(Limited::new(body, limit)).await,
        }
    });
    let at_once = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match collect.as_mut().poll(cx) {
            std::task::Poll::Ready(read) => Some(read),
            std::task::Poll::Pending => None,
        })
    })
    .await;
    let read = match at_once {
        Some(read) => read,
        None => match tokio::time::timeout(timeout, collect).await {
            Ok(read) => read,
            Err(_) => {
                return Err(ReadError::Unreadable(format!(
                    "the body did not arrive within {timeout:?}"
                )))
            }
        },
    };
    read.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            ReadError::TooLarge(limit)
        } else {
            ReadError::Unreadable(format!("the body could not be read: {e}"))
        }
    })
}

/// A body's error, boxed.
type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The data of a body, in one piece: the one frame as it came (no copy), or
/// the frames joined.
async fn collect<B>(mut body: B) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BodyError>,
{
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    // A body that knows it has ended is not polled again: that poll would
    // wait for its sender to go, a wake-up and a poll of the connection more.
    while !body.is_end_stream() {
        let Some(frame) = body.frame().await else {
            break;
        };
        let Ok(data) = frame.map_err(Into::<BodyError>::into)?.into_data() else {
            continue;
        };
        if let Some(joined) = &mut joined {
            joined.extend_from_slice(&data);
        } else if let Some(first) = first.take() {
            let mut both = BytesMut::with_capacity(first.len() + data.len());
            both.extend_from_slice(&first);
            both.extend_from_slice(&data);
            joined = Some(both);
        } else {
            first = Some(data);
        }
    }
    Ok(joined.map(BytesMut::freeze).or(first).unwrap_or_default())
}

/// Reads the fields of an API request (the query string, then the body),
/// and the body as the journal keeps it.
async fn read_fields(
    req: Request<Incoming>,
    timeout: Duration,
) -> Result<(Fields, BodyKind, Bytes), ApiError> {
    let malformed = |e: ReadError| match e {
        ReadError::TooLarge(limit) => ApiError::BodyTooLarge(limit),
        other => ApiError::Malformed(other.to_string()),
    };
    let method = req.method().clone();
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::Malformed(format!(
            "method {method} is not supported: use POST (or GET)"
        )));
    }
    let mut fields = Fields::default();
    if let Some(query) = req.uri().query() {
        fields.add_form(query.as_bytes()).map_err(malformed)?;
    }
    if method == Method::GET {
        return Ok((fields, BodyKind::Form, Bytes::new()));
    }
    let kind = BodyKind::from_content_type(
        req.headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("(not text)")),
    );
    let body = read_body(req, BODY_LIMIT, timeout)
        .await
        .map_err(malformed)?;
    if body.is_empty() {
        return Ok((fields, BodyKind::Form, body));
    }
    let kind = kind.map_err(malformed)?;
    match kind {
        BodyKind::Form => fields.add_form(&body).map_err(malformed)?,
        BodyKind::Json => fields.add_json(&body).map_err(malformed)?,
    }
    Ok((fields, kind, body))
}

async fn api_answer(
    shared: Arc<Shared>,
    client: Socket,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started =
        tracing::enabled!(target: "smm_mock::request", tracing::Level::INFO).then(Instant::now);
    let method = req.method().clone();
    let uri = req.uri().clone();
    let read = read_fields(req, shared.read_timeout).await;
    let (action, answer) = shared.answer(&method, &uri, read);
    if let Some(write) = answer.stale_write {
        // A task of its own, so that the write is made even if the client
        // goes away meanwhile; the answer waits for it.
        let _ = tokio::spawn(async move {
            tokio::time::sleep(STALE_WRITE_DELAY).await;
            shared.write_back(write);
        })
        .await;
    }
    if let Some(started) = started {
        let action = action.map_or("-", smm_contract::Action::as_str);
        tracing::info!(
            target: "smm_mock::request",
            "{method} {} action={action} -> {} ({:.2} ms)",
            uri.path(),
            answer.error.as_deref().unwrap_or("ok"),
            started.elapsed().as_secs_f64() * 1000.0,
        );
    }
    match answer.delivery {
        Delivery::Now => {}
        Delivery::After(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Delivery::Never => {
            // Never answered; the connection is let go once the client is.
            client.client_gone().await;
            return Err(Dropped);
        }
        Delivery::Reset => return Err(Dropped),
    }
    let mut response = json(
        StatusCode::from_u16(answer.http_status).unwrap_or(StatusCode::OK),
        answer.body,
    );
    if answer.content_type != Answer::JSON {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    }
    if let Some(seconds) = answer.retry_after {
        response
            .headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// The address a server is reachable on, as a URL base (`http://127.0.0.1:8080`).
pub fn base_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}
