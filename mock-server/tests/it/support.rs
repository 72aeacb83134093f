//! What every test area shares: a running panel, a client that checks every
//! answer against `schemas/`, and the admin API.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;
use smm_mock::{ClockMode, Config, Fixture, MockPanel};

/// The response schemas of `schemas/`, compiled once.
pub struct Schemas(HashMap<&'static str, jsonschema::Validator>);

/// The repository root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reads a JSON file of the repository.
pub fn read_json(relative: &str) -> Value {
    let path = root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The schema names, as in `schemas/<name>.schema.json`.
pub const SCHEMAS: [&str; 12] = [
    "services",
    "add",
    "status",
    "status-bulk",
    "refill",
    "refill-bulk",
    "refill-status",
    "refill-status-bulk",
    "cancel",
    "balance",
    "error",
    "fixture",
];

/// The compiled schemas.
pub fn schemas() -> &'static Schemas {
    static SCHEMAS_CELL: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS_CELL.get_or_init(|| {
        Schemas(
            SCHEMAS
                .iter()
                .map(|name| {
                    let schema = read_json(&format!("schemas/{name}.schema.json"));
                    let validator = jsonschema::validator_for(&schema)
                        .unwrap_or_else(|e| panic!("schemas/{name}.schema.json: {e}"));
                    (*name, validator)
                })
                .collect(),
        )
    })
}

impl Schemas {
    /// The errors of `instance` against schema `name` (empty: valid).
    pub fn errors(&self, name: &str, instance: &Value) -> Vec<String> {
        self.0[name]
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// Panics unless `instance` is valid against schema `name`.
    pub fn assert_valid(&self, name: &str, instance: &Value) {
        let errors = self.errors(name, instance);
        assert!(
            errors.is_empty(),
            "{instance} is not a valid `{name}`: {errors:#?}"
        );
    }
}

/// Whether a body is a top-level error (`{"error": …}` and nothing else).
pub fn is_error(body: &Value) -> bool {
    body.as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key("error"))
}

/// The schema an answer to these fields must follow.
pub fn schema_for(fields: &[(&str, &str)], body: &Value) -> &'static str {
    let has = |name: &str| fields.iter().any(|(n, _)| *n == name);
    let action = fields.iter().find(|(n, _)| *n == "action").map(|(_, v)| *v);
    if is_error(body) {
        return "error";
    }
    match action {
        Some("services") => "services",
        Some("add") => "add",
        Some("status") if has("orders") => "status-bulk",
        Some("status") => "status",
        Some("refill") if has("orders") => "refill-bulk",
        Some("refill") => "refill",
        Some("refill_status") if has("refills") => "refill-status-bulk",
        Some("refill_status") => "refill-status",
        Some("cancel") => "cancel",
        Some("balance") => "balance",
        other => panic!("no schema for action {other:?}: {body}"),
    }
}

/// Form-encodes fields.
pub fn encode(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// An HTTP client. In a workspace build reqwest has rustls without a built-in
/// crypto provider (the runner's choice: ring, no aws-lc), so install ring.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Redirects are what a test looks at, never what it follows.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// A raw HTTP answer.
pub struct Raw {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Raw {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A running mock panel and a client for it.
pub struct Mock {
    /// The panel.
    pub panel: MockPanel,
    client: reqwest::Client,
}

impl Mock {
    /// The built-in fixture, default settings.
    pub async fn start() -> Mock {
        Mock::with(Config::new(Fixture::builtin())).await
    }

    /// The built-in fixture with the clock moved only by the admin API.
    pub async fn manual() -> Mock {
        Mock::with(Config {
            clock: ClockMode::Manual,
            ..Config::new(Fixture::builtin())
        })
        .await
    }

    /// A panel as `config` says.
    pub async fn with(config: Config) -> Mock {
        let panel = MockPanel::start_with(config)
            .await
            .expect("the mock starts");
        Mock {
            panel,
            client: client(),
        }
    }

    /// A raw request to `path` (`/api/v2`, `/__mock/…`).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Raw {
        let url = format!("http://{}{path}", self.panel.addr());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, url).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send().await.expect("the mock answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.bytes().await.expect("a body").to_vec();
        Raw {
            status,
            content_type,
            body,
        }
    }

    /// Posts a form body to the API; checks HTTP 200, the JSON content type
    /// and the schema of the answer, and returns it.
    pub async fn api(&self, fields: &[(&str, &str)]) -> Value {
        let raw = self
            .raw(
                "POST",
                "/api/v2",
                Some("application/x-www-form-urlencoded"),
                encode(fields).into_bytes(),
            )
            .await;
        check_api_answer(fields, &raw)
    }

    /// `api` with `key=test-key` first.
    pub async fn call(&self, fields: &[(&str, &str)]) -> Value {
        let mut all = vec![("key", "test-key")];
        all.extend_from_slice(fields);
        self.api(&all).await
    }

    /// Places an order and returns its id; panics if refused.
    pub async fn order(&self, fields: &[(&str, &str)]) -> u64 {
        let mut all = vec![("action", "add")];
        all.extend_from_slice(fields);
        let body = self.call(&all).await;
        body["order"]
            .as_u64()
            .unwrap_or_else(|| panic!("order refused: {body}"))
    }

    /// The status of order `id`, as `key=test-key`.
    pub async fn status(&self, id: u64) -> Value {
        self.call(&[("action", "status"), ("order", &id.to_string())])
            .await
    }

    /// The balance of `key`, as a string.
    pub async fn balance(&self, key: &str) -> String {
        let body = self.api(&[("key", key), ("action", "balance")]).await;
        body["balance"].as_str().expect("a balance").to_owned()
    }

    /// An admin request; returns the status and the JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let raw = self
            .raw(
                method,
                &format!("/__mock{path}"),
                Some("application/json"),
                bytes,
            )
            .await;
        (raw.status, raw.json())
    }
}

/// Checks what every API answer must be: HTTP 200, JSON, valid against its schema.
pub fn check_api_answer(fields: &[(&str, &str)], raw: &Raw) -> Value {
    assert_eq!(raw.status, 200, "the API always answers 200");
    assert_eq!(raw.content_type, "application/json");
    let body = raw.json();
    let schema = schema_for(fields, &body);
    schemas().assert_valid(schema, &body);
    if schema == "status-bulk" {
        // The mock sends full status objects in bulk answers too.
        for item in body.as_object().into_iter().flat_map(|o| o.values()) {
            if !is_error(item) {
                schemas().assert_valid("status", item);
            }
        }
    }
    body
}

/// The error message of an answer; panics if it is not an error.
pub fn error_of(body: &Value) -> &str {
    assert!(is_error(body), "expected an error, got {body}");
    body["error"].as_str().unwrap_or_default()
}

/// One request over a fresh connection, as raw HTTP/1.1: `headers` as
/// given (no `Host` unless among them), then `Content-Length` and
/// `Connection: close`; returns the status and the body. For what reqwest
/// would not send: any `Host`, or none.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("an answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {}", String::from_utf8_lossy(&answer)));
    let status = std::str::from_utf8(&answer[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {}", String::from_utf8_lossy(&answer)));
    (status, answer[split + 4..].to_vec())
}
