//! The HTTP client: form POSTs to the panel, with a timeout, a rate limit,
//! HTTP 429 retries within the timeout, no redirects followed, and every
//! exchange recorded for the transport checks. The API key is sent, never shown.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use smm_contract::{field, Action};

use crate::stop::Stop;

/// Where and how to reach the panel.
#[derive(Debug, Clone)]
pub struct Target {
    /// The API endpoint, exactly as the user gave it (`https://x/api/v2`).
    pub url: String,
    /// The endpoint as reports show it (the in-process mock's random port
    /// would make reports differ from run to run).
    pub shown_url: String,
    /// The API key.
    pub key: String,
    /// A second key of another account, for the isolation checks.
    pub second_key: Option<String>,
    /// Timeout of one request (429 retries included).
    pub timeout: Duration,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// User-Agent.
    pub user_agent: String,
    /// At most this many requests per second (0: no limit).
    pub rate: f64,
    /// The largest answer body read, in bytes (`--max-body`): past it the
    /// exchange is an error, and no more is read.
    pub max_body: usize,
}

/// The default of `--max-body`: 4 MiB, some hundred times a full bulk
/// answer and larger than the catalogues of the largest panels.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// How the fields of a request are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A POST with a form body (`application/x-www-form-urlencoded`): the contract's way.
    Form,
    /// A GET with the fields in the query string (a transport probe).
    Query,
    /// A POST with a JSON object body (a transport probe).
    Json,
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// How the fields were sent.
    pub method: Method,
    /// The fields sent, in order.
    pub fields: Vec<(String, String)>,
    /// What came back, or why nothing did.
    pub answer: Result<Answer, TransportError>,
}

impl Exchange {
    /// The answer's JSON body, if there was an answer and it was JSON.
    pub fn json(&self) -> Option<&Value> {
        self.answer.as_ref().ok().and_then(|a| a.json.as_ref())
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, as sent.
    pub content_type: String,
    /// `Location`, when a redirect sent one.
    pub location: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// The body as JSON, when it is JSON.
    pub json: Option<Value>,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No answer within the timeout.
    #[error("no answer within the timeout")]
    Timeout,
    /// Still HTTP 429 when the timeout ran out.
    #[error("still HTTP 429 (rate limited) when the timeout ran out")]
    RateLimited,
    /// Connection refused, reset, DNS, TLS, …
    #[error("connection failed: {0}")]
    Connection(Dropped),
    /// The run was stopped (Ctrl-C) before an answer.
    #[error("interrupted before an answer")]
    Interrupted,
    /// The answer's body is larger than `--max-body`: reading stopped there.
    #[error("the answer is larger than --max-body ({0} bytes): not read past it")]
    TooLarge(usize),
}

/// What went wrong with a connection, as far as it can be told: what a
/// user is told to fix depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing listens there (connection refused).
    Refused,
    /// The host name does not resolve.
    NoSuchHost,
    /// An `https://` URL, and the server does not speak TLS (a plain-HTTP port).
    NotTls,
    /// The server answered something that is not HTTP (a TLS port asked in
    /// plain HTTP, or another protocol).
    NotHttp,
    /// The server's TLS certificate was refused.
    Certificate,
    /// The connection was closed or reset before an answer.
    Closed,
    /// Anything else.
    Other,
}

/// A connection that failed: what kind of failure, and the client's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The kind of failure.
    pub failure: Failure,
    /// The error chain, the URL left out.
    pub detail: String,
}

impl Dropped {
    /// Reads a client error: its kind from the error chain (I/O errors,
    /// rustls errors, the HTTP parser's words), its text without the URL.
    pub fn of(e: &reqwest::Error) -> Dropped {
        let detail = without_url(e);
        Dropped {
            failure: classify(e, &detail),
            detail,
        }
    }

    /// The failure in plain words, for a user.
    pub fn plain(&self) -> &'static str {
        match self.failure {
            Failure::Refused => "connection refused: nothing listens there",
            Failure::NoSuchHost => "the host name does not resolve",
            Failure::NotTls => "the server does not speak TLS (HTTPS) on that port",
            Failure::NotHttp => "the server did not answer in HTTP",
            Failure::Certificate => "its TLS certificate was refused",
            Failure::Closed => "the connection was closed before an answer",
            Failure::Other => "the request could not be sent",
        }
    }
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.failure {
            Failure::Other => f.write_str(&self.detail),
            _ => write!(f, "{} ({})", self.plain(), self.detail),
        }
    }
}

/// The kind of a client error: typed where the chain holds a typed error
/// (I/O, rustls), else from the HTTP parser's and resolver's words.
fn classify(e: &reqwest::Error, detail: &str) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut closed = false;
    while let Some(s) = source {
        // An I/O error hides what it wraps from `source()`: look inside.
        let io = s.downcast_ref::<std::io::Error>();
        let tls = s
            .downcast_ref::<rustls::Error>()
            .or_else(|| io.and_then(|io| io.get_ref()?.downcast_ref::<rustls::Error>()));
        match tls {
            Some(rustls::Error::InvalidMessage(_)) => return Failure::NotTls,
            Some(
                rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType,
            ) => return Failure::Certificate,
            _ => {}
        }
        if let Some(io) = io {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Failure::Refused,
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof => closed = true,
                _ => {}
            }
        }
        source = s.source();
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        Failure::NoSuchHost
    } else if lower.contains("corrupt message")
        || lower.contains("invalidcontenttype")
        || lower.contains("tls handshake eof")
    {
        Failure::NotTls
    } else if lower.contains("invalid http version")
        || lower.contains("invalid http status")
        || lower.contains("invalid http header")
        || lower.contains("received unexpected message")
        || lower.contains("invalid message")
    {
        Failure::NotHttp
    } else if closed || lower.contains("connection closed") || lower.contains("connection reset") {
        Failure::Closed
    } else {
        Failure::Other
    }
}

/// What the transport checks need to know of every exchange.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// (request as curl, status, content type) of every answer.
    pub answers: Vec<(String, u16, String)>,
    /// Requests that got no answer.
    pub timeouts: Vec<String>,
    /// Requests that met HTTP 429 (and were retried).
    pub rate_limited: Vec<String>,
    /// Requests still answered HTTP 429 when their timeout ran out.
    pub still_limited: Vec<String>,
    /// Requests whose connection failed (refused, reset, closed early).
    pub dropped: Vec<(String, String)>,
    /// Requests whose answer was larger than `--max-body`.
    pub oversized: Vec<String>,
    /// What the answers showed, for the report's coverage.
    pub noted: crate::coverage::Noted,
}

/// Why a client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// An extra header that HTTP cannot carry.
    #[error("header `{name}`: {reason}")]
    Header {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client itself (TLS set-up).
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Why the mock's admin API did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No answer.
    #[error("{url}: {reason}")]
    Transport {
        /// The admin URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// An answer that is not a success.
    #[error("{url}: HTTP {status}: {body}")]
    Refused {
        /// The admin URL.
        url: String,
        /// Its HTTP status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// A success that is not JSON.
    #[error("{url}: {reason}")]
    NotJson {
        /// The admin URL.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
}

/// A body past this size is large (see [`Client::body`]).
const LARGE_BODY: usize = 256 * 1024;
/// How many large bodies are read at once.
const LARGE_AT_ONCE: usize = 2;

/// The client of one run.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    target: Arc<Target>,
    large_bodies: Arc<tokio::sync::Semaphore>,
    next_slot: Arc<tokio::sync::Mutex<Instant>>,
    observations: Arc<Mutex<Observations>>,
    stop: Stop,
}

impl Client {
    /// The same client, sending nothing once `stop` is asked for.
    pub fn stopping_on(self, stop: Stop) -> Client {
        Client { stop, ..self }
    }

    /// A client for `target`.
    pub fn new(target: Target) -> Result<Client, ClientError> {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &target.headers {
            let invalid = |reason: String| ClientError::Header {
                name: name.clone(),
                reason,
            };
            let header = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| invalid(e.to_string()))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| invalid(e.to_string()))?;
            headers.insert(header, value);
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(target.user_agent.clone())
            .default_headers(headers)
            .timeout(target.timeout)
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Client {
            http,
            target: Arc::new(target),
            large_bodies: Arc::new(tokio::sync::Semaphore::new(LARGE_AT_ONCE)),
            next_slot: Arc::new(tokio::sync::Mutex::new(Instant::now())),
            observations: Arc::new(Mutex::new(Observations::default())),
            stop: Stop::new(),
        })
    }

    /// The same client, sending to another URL (and seen as that URL).
    pub fn at(&self, url: &str) -> Client {
        let mut target = (*self.target).clone();
        target.url = url.to_owned();
        target.shown_url = url.to_owned();
        Client {
            target: Arc::new(target),
            ..self.clone()
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// A copy of what was observed so far.
    pub fn observations(&self) -> Observations {
        self.observations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `text` as a report may show it: the keys masked (in every form, see
    /// [`crate::report::redact`]), then cut to about `limit` bytes. Masked
    /// before cut: a cut never leaves part of a key to see.
    pub fn excerpt(&self, text: &str, limit: usize) -> String {
        crate::report::excerpt(&crate::report::redact(text, &self.secrets()), limit)
    }

    /// The secrets no output may show: the keys.
    pub fn secrets(&self) -> Vec<String> {
        std::iter::once(self.target.key.clone())
            .chain(self.target.second_key.clone())
            .filter(|k| !k.is_empty())
            .collect()
    }

    /// Posts `action` and `fields` with the main key.
    pub async fn call(&self, action: Action, fields: &[(&str, &str)]) -> Exchange {
        self.call_named(action.as_str(), fields).await
    }

    /// Posts an action by name (one the contract may not know) and `fields`
    /// with the main key.
    pub async fn call_named(&self, action: &str, fields: &[(&str, &str)]) -> Exchange {
        self.post(self.fields(action, fields)).await
    }

    /// The main key, the action by name, and `fields`: a request's fields.
    pub fn fields(&self, action: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vec![
            (field::KEY.to_owned(), self.target.key.clone()),
            (field::ACTION.to_owned(), action.to_owned()),
        ];
        all.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        all
    }

    /// Posts exactly these fields.
    pub async fn post(&self, fields: Vec<(String, String)>) -> Exchange {
        self.send(Method::Form, fields).await
    }

    /// Sends the fields as a form body, a query string or a JSON object body.
    pub async fn send(&self, method: Method, fields: Vec<(String, String)>) -> Exchange {
        let mut limited = false;
        // Once the run is stopped, nothing more is sent, and a request
        // under way is abandoned.
        let answer = if self.stop.is_asked() {
            Err(TransportError::Interrupted)
        } else {
            tokio::select! {
                answer = self.answer(method, &fields, &mut limited) => answer,
                () = self.stop.asked() => Err(TransportError::Interrupted),
            }
        };
        let exchange = Exchange {
            method,
            fields,
            answer,
        };
        self.observe(&exchange, limited);
        exchange
    }

    /// Sends one request (again while HTTP 429 and the timeout allow) and
    /// reads its answer.
    async fn answer(
        &self,
        method: Method,
        fields: &[(String, String)],
        limited: &mut bool,
    ) -> Result<Answer, TransportError> {
        // The timeout starts once the rate limit lets the request go: the
        // runner's own pacing is not the panel's slowness.
        self.wait_for_slot().await;
        let started = Instant::now();
        let mut first = true;
        loop {
            if !std::mem::take(&mut first) {
                self.wait_for_slot().await;
            }
            let form = encode(fields);
            let request = match method {
                Method::Query => {
                    let sep = if self.target.url.contains('?') {
                        '&'
                    } else {
                        '?'
                    };
                    self.http.get(format!("{}{sep}{form}", self.target.url))
                }
                Method::Json => self
                    .http
                    .post(&self.target.url)
                    .header("content-type", "application/json")
                    .body(json_object(fields).to_string()),
                Method::Form => self
                    .http
                    .post(&self.target.url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form),
            };
            let left = self.target.timeout.saturating_sub(started.elapsed());
            let response = match tokio::time::timeout(left, request.send()).await {
                Err(_) => return Err(TransportError::Timeout),
                Ok(Err(e)) if e.is_timeout() => return Err(TransportError::Timeout),
                Ok(Err(e)) => return Err(TransportError::Connection(Dropped::of(&e))),
                Ok(Ok(response)) => response,
            };
            let status = response.status().as_u16();
            if status == 429 {
                *limited = true;
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .unwrap_or(Duration::from_secs(1));
                if started.elapsed() + wait >= self.target.timeout {
                    return Err(TransportError::RateLimited);
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let left = self.target.timeout.saturating_sub(started.elapsed());
            let body = match tokio::time::timeout(left, self.body(response)).await {
                Err(_) => return Err(TransportError::Timeout),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(body)) => body,
            };
            let json = serde_json::from_slice(&body).ok();
            return Ok(Answer {
                status,
                content_type,
                location,
                body,
                json,
            });
        }
    }

    /// Reads an answer's body, at most `max_body` bytes of it (a body that
    /// says it is larger is not read at all). A body that stops coming in
    /// time is a timeout, like an answer that never starts.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, TransportError> {
        let limit = self.target.max_body;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(TransportError::TooLarge(limit));
        }
        let mut body = Vec::new();
        // Past LARGE_BODY, a body is read only while it holds one of the few
        // permits: however many requests are in flight, only so many large
        // bodies take memory at once.
        let mut large = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let needed = body.len() + chunk.len();
                    if needed > limit {
                        return Err(TransportError::TooLarge(limit));
                    }
                    if needed > LARGE_BODY && large.is_none() {
                        large = Some(self.large_bodies.acquire().await);
                    }
                    // Doubling, but never past the limit: a body at the
                    // limit holds the limit, not twice it.
                    if needed > body.capacity() {
                        let want = (body.capacity() * 2).max(needed).min(limit);
                        body.reserve_exact(want - body.len());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) if e.is_timeout() => return Err(TransportError::Timeout),
                Err(e) => return Err(TransportError::Connection(Dropped::of(&e))),
            }
        }
    }

    fn observe(&self, exchange: &Exchange, limited: bool) {
        let curl = self.curl(exchange);
        let mut seen = self.observations.lock().unwrap_or_else(|e| e.into_inner());
        seen.noted
            .note(&exchange.fields, &self.target.key, exchange.json());
        if limited {
            seen.rate_limited.push(curl.clone());
        }
        match &exchange.answer {
            Ok(answer) => seen
                .answers
                .push((curl, answer.status, answer.content_type.clone())),
            Err(TransportError::Timeout) => seen.timeouts.push(curl),
            Err(TransportError::Connection(e)) => seen.dropped.push((curl, e.to_string())),
            Err(TransportError::RateLimited) => seen.still_limited.push(curl),
            Err(TransportError::TooLarge(_)) => seen.oversized.push(curl),
            Err(TransportError::Interrupted) => {}
        }
    }

    /// GETs from the mock's admin API; the answer's JSON, or why not.
    pub async fn admin_get(&self, url: &str) -> Result<Value, AdminError> {
        self.admin(self.http.get(url), url).await
    }

    /// POSTs JSON to the mock's admin API; the answer's JSON, or why not.
    pub async fn admin_post(&self, url: &str, body: &Value) -> Result<Value, AdminError> {
        let request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.admin(request, url).await
    }

    async fn admin(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Value, AdminError> {
        let transport = |e: reqwest::Error| AdminError::Transport {
            url: url.to_owned(),
            reason: without_url(&e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(AdminError::Refused {
                url: url.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| AdminError::NotJson {
            url: url.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn wait_for_slot(&self) {
        if self.target.rate <= 0.0 {
            return;
        }
        let Ok(gap) = Duration::try_from_secs_f64(1.0 / self.target.rate) else {
            return;
        };
        let wake = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let wake = (*next).max(now);
            *next = wake + gap;
            wake
        };
        tokio::time::sleep_until(wake.into()).await;
    }

    /// A curl command that replays an exchange, with every key masked.
    pub fn curl(&self, exchange: &Exchange) -> String {
        // Each secret becomes a shell variable the reader sets; any other
        // value (a deliberately wrong key included) is shown as sent.
        let placeholder = |value: &str| -> Option<&'static str> {
            if value.is_empty() {
                None
            } else if value == self.target.key {
                Some("$SMM_API_KEY")
            } else if self.target.second_key.as_deref() == Some(value) {
                Some("$SMM_API_KEY_2")
            } else {
                None
            }
        };
        // A word with a secret goes in double quotes so the shell expands it.
        let word = |name: &str, value: &str| match (placeholder(value), run_of_ids(value)) {
            (Some(var), _) => format!("\"{name}={var}\""),
            // A long run of ids (1,2,…,150) as the shell makes it: short, and exact.
            (None, Some((first, last))) => format!("\"{name}=$(seq -s, {first} {last})\""),
            (None, None) => quote(&format!("{name}={value}")),
        };
        let mut parts = vec!["curl -s".to_owned(), quote(&self.target.shown_url)];
        // Extra headers may carry tokens or cookies: their values are never shown.
        for (name, _) in &self.target.headers {
            parts.push(format!("-H {}", quote(&format!("{name}: ***"))));
        }
        match exchange.method {
            Method::Json => {
                parts.push("-H 'Content-Type: application/json'".to_owned());
                let members: Vec<String> = exchange
                    .fields
                    .iter()
                    .map(|(k, v)| {
                        let value = placeholder(v).map_or_else(
                            || Value::String(v.clone()).to_string(),
                            |var| format!("\"{var}\""),
                        );
                        format!("{}:{value}", Value::String(k.clone()))
                    })
                    .collect();
                let body = format!("{{{}}}", members.join(","));
                // Double quotes: escape what the shell would read in them, but
                // leave the placeholders' `$` alone.
                let escaped = body
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('`', "\\`")
                    .replace('$', "\\$")
                    .replace("\\$SMM_API_KEY", "$SMM_API_KEY");
                parts.push(format!("-d \"{escaped}\""));
            }
            method => {
                if method == Method::Query {
                    parts.push("--get".to_owned());
                }
                for (k, v) in &exchange.fields {
                    parts.push(format!("--data-urlencode {}", word(k, v)));
                }
            }
        }
        parts.join(" ")
    }
}

/// The first and last id of a comma list of ten or more consecutive
/// ascending integers (written plainly: no sign, no leading zero, no space).
fn run_of_ids(value: &str) -> Option<(u64, u64)> {
    let mut items = value.split(',');
    let first: u64 = plain_number(items.next()?)?;
    let mut last = first;
    let mut count = 1;
    for item in items {
        let n = plain_number(item)?;
        if Some(n) != last.checked_add(1) {
            return None;
        }
        last = n;
        count += 1;
    }
    (count >= 10).then_some((first, last))
}

fn plain_number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// A reqwest error and its causes, without the URL (it may hold a key in a
/// query string).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    match e.url() {
        Some(url) => text.replace(url.as_str(), "<url>"),
        None => text,
    }
}

/// Fields as a JSON object of strings.
fn json_object(fields: &[(String, String)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Form-encodes fields (`application/x-www-form-urlencoded`).
pub fn encode(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// Quotes a shell word.
fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_of_ids_are_written_as_seq() {
        let run: Vec<String> = (9_000_000_000_000_001u64..=9_000_000_000_000_101)
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            run_of_ids(&run.join(",")),
            Some((9_000_000_000_000_001, 9_000_000_000_000_101))
        );
        assert_eq!(run_of_ids("1,2,3"), None, "short lists stay as they are");
        assert_eq!(run_of_ids("1,2,3,4,5,6,7,8,9,11"), None, "a gap");
        assert_eq!(run_of_ids("01,2,3,4,5,6,7,8,9,10"), None, "a leading zero");
        assert_eq!(run_of_ids("1,2,3,4,5,6,7,8,9,10, 11"), None, "a space");
        assert_eq!(run_of_ids("1,2,3,4,5,6,7,8,9,10"), Some((1, 10)));
    }

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(quote("orders=1,2"), "orders=1,2");
        assert_eq!(quote("link=a b"), "'link=a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    fn client(headers: Vec<(String, String)>) -> Client {
        Client::new(Target {
            url: "http://127.0.0.1:9/api/v2".into(),
            shown_url: "http://127.0.0.1:9/api/v2".into(),
            key: "sk_live_secret".into(),
            second_key: Some("sk_other".into()),
            timeout: Duration::from_secs(1),
            headers,
            user_agent: "t".into(),
            rate: 0.0,
            max_body: DEFAULT_MAX_BODY,
        })
        .unwrap()
    }

    fn exchange(method: Method, fields: &[(&str, &str)]) -> Exchange {
        Exchange {
            method,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            answer: Err(TransportError::Timeout),
        }
    }

    #[test]
    fn curl_commands_mask_the_secrets_and_nothing_else() {
        let c = client(vec![("X-Token".into(), "sk_live_secret".into())]);
        let post = c.curl(&exchange(
            Method::Form,
            &[
                (field::KEY, "sk_live_secret"),
                (field::ACTION, "status"),
                (field::ORDERS, "1, 2"),
            ],
        ));
        assert_eq!(
            post,
            r#"curl -s http://127.0.0.1:9/api/v2 -H 'X-Token: ***' --data-urlencode "key=$SMM_API_KEY" --data-urlencode action=status --data-urlencode 'orders=1, 2'"#
        );
        let wrong = c.curl(&exchange(
            Method::Form,
            &[(field::KEY, "wrong-key-1"), (field::ACTION, "balance")],
        ));
        assert!(wrong.contains("key=wrong-key-1"), "{wrong}");
        let second = c.curl(&exchange(
            Method::Query,
            &[(field::KEY, "sk_other"), (field::ACTION, "balance")],
        ));
        assert!(
            second.contains("--get") && second.contains("\"key=$SMM_API_KEY_2\""),
            "{second}"
        );
        let json = c.curl(&exchange(
            Method::Json,
            &[(field::KEY, "sk_live_secret"), (field::LINK, "a$b")],
        ));
        assert!(
            json.ends_with(r#"-d "{\"key\":\"$SMM_API_KEY\",\"link\":\"a\$b\"}""#),
            "{json}"
        );
        for text in [post, wrong, second, json] {
            assert!(
                !text.contains("sk_live_secret") && !text.contains("sk_other"),
                "{text}"
            );
        }
    }

    #[test]
    fn forms_are_percent_encoded() {
        let fields = vec![(field::LINK.to_owned(), "https://x.com/?a=1&b".to_owned())];
        assert_eq!(encode(&fields), "link=https%3A%2F%2Fx.com%2F%3Fa%3D1%26b");
    }
}
