//! Sockets: the HTTP server around a [`Panel`]. The only module that does I/O.
//!
//! Routes: `/api/v2` and `/api/v2/` are the panel (HTTP 200 and JSON unless a
//! deviation profile says otherwise);
//! `/__mock/…` is the admin API (see [`crate::admin`]) unless it is turned off; every other path is a JSON 404. No lock is held across an
//! `.await`: the body is read first, then the panel is locked for the answer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::error::ApiError;
use crate::journal::Journal;
use crate::profile::{Profile, Profiles};
use crate::request::{BodyKind, Fields, ReadError, BODY_LIMIT};
use crate::state::{Delivery, Panel};

/// How long shutdown waits for open connections before closing them.
pub const DRAIN: Duration = Duration::from_secs(2);

/// How long a client may take to send a request's headers, then its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The panel and its journal, behind one lock: an API request takes it once.
#[derive(Debug)]
pub struct State {
    /// The panel.
    pub panel: Panel,
    /// The request journal.
    pub journal: Journal,
}

/// The state every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The panel and journal.
    pub state: Mutex<State>,
    /// Whether `/__mock/` answers.
    pub admin: bool,
    /// The profiles that change paths (`api-v1-path`, `trailing-slash-redirect`),
    /// fixed at start.
    pub paths: Profiles,
}

impl Shared {
    /// Locks the state. A poisoned lock is recovered: every change to the
    /// panel is made after all its checks, so no panic leaves it half done.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The API paths a panel answers on.
pub fn is_api_path(path: &str) -> bool {
    path == "/api/v2" || path == "/api/v2/"
}

/// A JSON response.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
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
                let service = service_fn(move |req| route(Arc::clone(&shared), req));
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(READ_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    let _ = connection.await;
                });
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
    let path = req.uri().path();
    let v1 = shared.paths.has(Profile::ApiV1Path);
    let php = shared.paths.has(Profile::ApiPhpPath);
    let api = if v1 {
        path == "/api/v1" || path == "/api/v1/"
    } else if php {
        path == "/api.php"
    } else {
        is_api_path(path)
    };

    if api && path.ends_with('/') && shared.paths.has(Profile::TrailingSlashRedirect) {
        let mut response = json(StatusCode::MOVED_PERMANENTLY, Bytes::new());
        let target = HeaderValue::from_str(path.trim_end_matches('/'))
            .unwrap_or(HeaderValue::from_static("/api/v2"));
        response
            .headers_mut()
            .insert(hyper::header::LOCATION, target);
        return Ok(response);
    }
    if api {
        return api_answer(&shared, req).await;
    }
    if shared.admin && (path == "/__mock" || path.starts_with("/__mock/")) {
        return Ok(crate::admin::handle(&shared, req).await);
    }
    let body = format!(
        r#"{{"error":"Not found: {}; the API is POST {}"}}"#,
        path.escape_default(),
        if v1 {
            "/api/v1"
        } else if php {
            "/api.php"
        } else {
            "/api/v2"
        }
    );
    Ok(json(StatusCode::NOT_FOUND, body))
}

/// Reads a body of at most `limit` bytes.
pub async fn read_body(req: Request<Incoming>, limit: usize) -> Result<Bytes, ReadError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    let collect = Limited::new(req.into_body(), limit).collect();
    match tokio::time::timeout(READ_TIMEOUT, collect).await {
        Err(_) => Err(ReadError::Unreadable(format!(
            "the body did not arrive within {READ_TIMEOUT:?}"
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ReadError::TooLarge),
        Ok(Err(e)) => Err(ReadError::Unreadable(format!(
            "the body could not be read: {e}"
        ))),
    }
}

/// Reads the fields of an API request: the query string, then the body.
async fn read_fields(req: Request<Incoming>) -> Result<Fields, ApiError> {
    let malformed = |e: ReadError| match e {
        ReadError::TooLarge => ApiError::BodyTooLarge(BODY_LIMIT),
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
        return Ok(fields);
    }
    let kind = BodyKind::from_content_type(
        req.headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("(not text)")),
    );
    let body = read_body(req, BODY_LIMIT).await.map_err(malformed)?;
    if body.is_empty() {
        return Ok(fields);
    }
    match kind.map_err(malformed)? {
        BodyKind::Form => fields.add_form(&body).map_err(malformed)?,
        BodyKind::Json => fields.add_json(&body).map_err(malformed)?,
    }
    Ok(fields)
}

async fn api_answer(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started =
        tracing::enabled!(target: "smm_mock::request", tracing::Level::INFO).then(Instant::now);
    let method = req.method().clone();
    let uri = req.uri().clone();
    let mut delivery = Delivery::Now;
    let mut content_type = "application/json";
    let mut retry_after = None;
    let (body, action, error, status) = match read_fields(req).await {
        Ok(fields) => {
            let mut state = shared.lock();
            let answer = state.panel.handle(&fields);
            let body = Bytes::from(answer.body);
            state
                .journal
                .record(&method, &uri, fields.into_pairs(), body.clone());
            delivery = answer.delivery;
            content_type = answer.content_type;
            retry_after = answer.retry_after;
            (body, answer.action, answer.error, answer.http_status)
        }
        Err(e) => {
            let body = Bytes::from(crate::reply::to_json(&crate::reply::ErrorBody::from(&e)));
            shared
                .lock()
                .journal
                .record(&method, &uri, Vec::new(), body.clone());
            (body, None, Some(e.to_string()), 200)
        }
    };
    tracing::info!(
        target: "smm_mock::request",
        "{method} {} action={} -> {} ({:.2} ms)",
        uri.path(),
        action.unwrap_or("-"),
        error.as_deref().unwrap_or("ok"),
        started.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0),
    );
    match delivery {
        Delivery::Now => {}
        Delivery::After(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Delivery::Never => std::future::pending::<()>().await,
        Delivery::Reset => return Err(Dropped),
    }
    let mut response = json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
    if content_type != "application/json" {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Some(seconds) = retry_after {
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
