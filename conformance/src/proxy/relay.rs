//! Sockets: the proxy's HTTP server, and the forwarding of each request to
//! the upstream. The only part of the proxy that touches the network.
//!
//! A request to `/api/v2` or `/api/v2/` is read whole (at most
//! [`MAX_REQUEST`] bytes), sent unchanged to the upstream (the same method,
//! query string, body and headers, less the hop-by-hop ones; the Host is the
//! upstream's), and the answer's head is returned as soon as it comes, its
//! body streamed chunk by chunk while a copy of at most `--max-body` bytes
//! is kept. Once the answer is complete (or failed), the exchange goes to
//! the judge, off the client's path. The forwarding runs in a task of its
//! own: a client that goes away early still leaves an exchange to judge.
//!
//! When the upstream fails before an answer (refused, reset, no answer
//! within `--timeout`), the client's connection is closed without one, as
//! the upstream closed it: the proxy never makes up an answer of its own.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::{Failed, Seen, SeenAnswer, SeenRequest, Shared};

/// The largest request body relayed (a bulk request of 100 ids is some
/// 2 KiB); a larger one is refused with HTTP 413, never forwarded.
pub const MAX_REQUEST: usize = 1024 * 1024;

/// How many chunks of an answer wait for a slow client before the proxy
/// stops reading the upstream (the stream's back-pressure).
const CHUNKS_AHEAD: usize = 8;

/// The body of a relayed answer: the upstream's chunks as they come, of the
/// upstream's length when it gave one.
pub struct Streamed {
    chunks: mpsc::Receiver<Result<Bytes, std::io::Error>>,
    length: Option<u64>,
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.chunks
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| c.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// What the proxy answers: a relayed answer, or one of its own (a path it
/// does not relay, a request too large).
pub type Answer = Response<Either<Streamed, Full<Bytes>>>;

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Whether `name` is hop-by-hop, by the list or by the `Connection` header.
fn hop_by_hop(name: &HeaderName, connection: &[String]) -> bool {
    HOP_BY_HOP.contains(&name.as_str()) || connection.iter().any(|c| c == name.as_str())
}

/// The names a `Connection` header lists.
fn listed_in_connection(headers: &hyper::HeaderMap) -> Vec<String> {
    headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn own(status: StatusCode, message: &str) -> Answer {
    let body = serde_json::json!({ "error": message }).to_string();
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Serves one request: relays it, or answers itself when it cannot be.
/// An `Err` closes the client's connection without an answer.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Answer, Failed> {
    let path = request.uri().path().to_owned();
    let Some(upstream_url) = shared.upstream_for(&path, request.uri().query()) else {
        return Ok(own(
            StatusCode::NOT_FOUND,
            "smm-conformance proxy: only /api/v2 and /api/v2/ are relayed",
        ));
    };
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(own(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "smm-conformance proxy: a request body over {MAX_REQUEST} bytes is not relayed"
                ),
            ));
        }
        // The client went before its request was whole: nothing to relay.
        Err(e) => {
            return Err(Failed::Connection(format!(
                "the client's request broke off: {e}"
            )))
        }
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let seen_request = SeenRequest {
        method: parts.method.as_str().to_owned(),
        fields: super::fields_of(&query, &content_type, &body),
        path,
        query,
        content_type,
    };
    let connection = listed_in_connection(&parts.headers);
    let mut forward = shared.http.request(parts.method.clone(), upstream_url);
    for (name, value) in &parts.headers {
        // The Host is the upstream's; the length is the body's, set by the
        // client that forwards it; `Expect: 100-continue` was answered here
        // (the body is already read).
        if hop_by_hop(name, &connection)
            || name == hyper::header::HOST
            || name == hyper::header::CONTENT_LENGTH
            || name == hyper::header::EXPECT
        {
            continue;
        }
        forward = forward.header(name, value);
    }
    if !body.is_empty() || parts.headers.contains_key(hyper::header::CONTENT_LENGTH) {
        forward = forward.body(body);
    }
    let (head, answered) = oneshot::channel();
    shared.begun.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(exchange(Arc::clone(&shared), forward, seen_request, head));
    answered.await.unwrap_or_else(|_| {
        Err(Failed::Connection(
            "the exchange ended without an answer".into(),
        ))
    })
}

/// Forwards one request and streams its answer: the head to `head`, the
/// body chunk by chunk; then hands the exchange to the judge.
async fn exchange(
    shared: Arc<Shared>,
    forward: reqwest::RequestBuilder,
    request: SeenRequest,
    head: oneshot::Sender<Result<Answer, Failed>>,
) {
    let timeout = shared.timeout;
    let sent = tokio::time::timeout(timeout, forward.send()).await;
    let mut upstream = match sent {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(e)) => {
            let failed = Failed::Connection(crate::client::Dropped::of(&e).to_string());
            let _ = head.send(Err(failed.clone()));
            shared.judge(Seen {
                request,
                answer: Err(failed),
            });
            return;
        }
        Err(_) => {
            let failed = Failed::Timeout(timeout);
            let _ = head.send(Err(failed.clone()));
            shared.judge(Seen {
                request,
                answer: Err(failed),
            });
            return;
        }
    };
    let status = upstream.status();
    let connection = listed_in_connection(upstream.headers());
    let text = |name: HeaderName| {
        upstream
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let content_type = text(CONTENT_TYPE).unwrap_or_default();
    let encoding = text(hyper::header::CONTENT_ENCODING)
        .filter(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case("identity"));
    let (chunks, receiver) = mpsc::channel(CHUNKS_AHEAD);
    let mut response = Response::new(Either::Left(Streamed {
        chunks: receiver,
        length: upstream.content_length(),
    }));
    *response.status_mut() = status;
    for (name, value) in upstream.headers() {
        if !hop_by_hop(name, &connection) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    // The client may be gone already: the answer is read all the same, to
    // be judged.
    let mut listening = head.send(Ok(response)).is_ok();
    let limit = shared.max_body;
    let mut copy = BytesMut::new();
    let mut size: u64 = 0;
    let broke = loop {
        let chunk = match tokio::time::timeout(timeout, upstream.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break None,
            Ok(Err(e)) => break Some(crate::client::Dropped::of(&e).to_string()),
            Err(_) => break Some(format!("no more of it within the timeout ({timeout:?})")),
        };
        size += chunk.len() as u64;
        let room = limit.saturating_sub(copy.len());
        copy.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if listening {
            listening = matches!(
                tokio::time::timeout(timeout, chunks.send(Ok(chunk))).await,
                Ok(Ok(()))
            );
        }
    };
    let answer = match broke {
        Some(why) => {
            let _ = chunks.try_send(Err(std::io::Error::other(why.clone())));
            Err(Failed::BrokeOff {
                status: status.as_u16(),
                after: size,
                why,
            })
        }
        None => Ok(SeenAnswer {
            status: status.as_u16(),
            content_type,
            encoding,
            truncated: size > copy.len() as u64,
            body: copy.freeze(),
            size,
        }),
    };
    drop(chunks);
    shared.judge(Seen { request, answer });
}
