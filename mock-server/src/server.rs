//! Sockets: the HTTP server around the shared state. The only module that
//! reads and writes them (the listener is bound by [`crate::MockPanel`]).
//!
//! [`crate::router`] says where a request goes: the API (`/api/v2` and
//! `/api/v2/`: HTTP 200 and JSON unless a deviation profile says otherwise),
//! the admin API (`/__mock/…`, see [`crate::admin`]) unless it is turned
//! off, or a JSON 404. No lock is held across an `.await`: the body is read
//! first, then the state is locked for the answer (and locked again for a
//! balance write the answer left for later, [`STALE_WRITE_DELAY`] on).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::admin::{AdminRequest, ADMIN_BODY_LIMIT};
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

/// Serves HTTP on `listener` until `shutdown` resolves, then drains for at
/// most [`DRAIN`] and closes what is left.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                let waiting = Arc::new(Waiting::new(shared.read_timeout));
                let watched = Arc::clone(&waiting);
                let service = service_fn(move |req| {
                    let (shared, waiting) = (Arc::clone(&shared), Arc::clone(&watched));
                    async move {
                        let before = waiting.busy();
                        let answer = route(shared, req).await;
                        waiting.done(before);
                        answer
                    }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                let (ended, end) = tokio::sync::oneshot::channel::<()>();
                let serving = connections.spawn(async move {
                    let _ = connection.await;
                    drop(ended);
                });
                // The watchdog is a task of its own, so that answering a
                // request never polls its timer; it ends with the connection.
                tokio::spawn(async move { waiting.close_when_too_long(serving, end).await });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!(
            "closing {} connection(s) still open after {DRAIN:?}",
            connections.len()
        );
    }
    connections.shutdown().await;
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

/// The connection is dropped without an answer (profile `connection-reset`).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (profile connection-reset)")
    }
}

impl std::error::Error for Dropped {}

async fn route(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    match crate::router::route(req.uri().path(), shared.paths, shared.admin) {
        Route::Api => api_answer(shared, req).await,
        Route::Redirect(target) => {
            let mut response = json(StatusCode::MOVED_PERMANENTLY, Bytes::new());
            let target =
                HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/api/v2"));
            response
                .headers_mut()
                .insert(hyper::header::LOCATION, target);
            Ok(response)
        }
        Route::Admin => Ok(admin_answer(&shared, req).await),
        Route::NotFound { api } => {
            let body = format!(
                r#"{{"error":"Not found: {}; the API is POST {api}"}}"#,
                req.uri().path().escape_default(),
            );
            Ok(json(StatusCode::NOT_FOUND, body))
        }
    }
}

/// Reads an admin request and answers it, as pretty JSON.
async fn admin_answer(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let (status, value) = async {
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
    .unwrap_or_else(|e| (StatusCode::BAD_REQUEST, serde_json::json!({ "error": e })));
    tracing::info!(target: "smm_mock::admin", "{method} {} -> {}", uri.path(), status.as_u16());
    let mut body = serde_json::to_vec_pretty(&value).unwrap_or_default();
    body.push(b'\n');
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
        Delivery::Never => std::future::pending::<()>().await,
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
