//! `--record FILE`: the exchanges the proxy saw, keys masked, as JSON Lines
//! (`schemas/recording.schema.json`, README "The recording format").
//!
//! Line 1 is the [`Header`]; each further line is one [`Recorded`]
//! exchange, in the order the answers completed. The format is versioned:
//! [`VERSION`] changes when a field is removed, renamed or changes meaning;
//! a new optional field keeps the version, so a reader ignores fields it
//! does not know.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::{Failed, Seen};
use crate::report::redact;

/// The `format` of the header line.
pub const FORMAT: &str = "smm-conformance-recording";

/// The version of the format this build writes.
pub const VERSION: u32 = 1;

/// Line 1 of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when this build wrote it.
    pub version: u32,
    /// The upstream endpoint, keys masked.
    pub upstream: String,
}

/// One exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// 1-based, in the order the answers completed.
    pub n: u64,
    /// The `action` field as sent (masked), or `null` when none was.
    pub action: Option<String>,
    /// The request.
    pub request: RecordedRequest,
    /// The answer, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why there was no answer (instead of `response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A request as the client sent it, keys masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `POST`, `GET`, …
    pub method: String,
    /// `/api/v2` or `/api/v2/`.
    pub path: String,
    /// The raw query string (empty: none).
    pub query: String,
    /// The `Content-Type` as sent (empty: none).
    pub content_type: String,
    /// The fields read from the query string, then the form or JSON body,
    /// in order, repeated names kept.
    pub fields: Vec<(String, String)>,
}

/// An answer, keys masked in its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` as sent (empty: none).
    pub content_type: String,
    /// The body as text (UTF-8, invalid bytes replaced), up to the recording
    /// limit (`--max-body`).
    pub body: String,
    /// The whole body's size in bytes.
    pub size: u64,
    /// Whether `body` was cut at the recording limit.
    pub truncated: bool,
}

impl Recorded {
    /// The record of exchange `n`, every secret masked.
    pub fn of(n: u64, seen: &Seen, secrets: &[String]) -> Recorded {
        let mask = |text: &str| redact(text, secrets);
        let request = &seen.request;
        let (response, error) = match &seen.answer {
            Ok(answer) => (
                Some(RecordedResponse {
                    status: answer.status,
                    content_type: mask(&answer.content_type),
                    body: mask(&String::from_utf8_lossy(&answer.body)),
                    size: answer.size,
                    truncated: answer.truncated,
                }),
                None,
            ),
            Err(failed) => (None, Some(mask(&failed.to_string()))),
        };
        Recorded {
            n,
            action: request.action().map(mask),
            request: RecordedRequest {
                method: request.method.clone(),
                path: mask(&request.path),
                query: mask(&request.query),
                content_type: mask(&request.content_type),
                fields: request
                    .fields
                    .iter()
                    .map(|(name, value)| (mask(name), mask(value)))
                    .collect(),
            },
            response,
            error,
        }
    }
}

/// Why a recording could not be written.
#[derive(Debug, thiserror::Error)]
#[error("--record {path}: {source}")]
pub struct RecordError {
    /// The file.
    pub path: String,
    /// What failed.
    pub source: std::io::Error,
}

/// Writes a recording, one line per exchange, flushed line by line (a
/// recording cut short by a crash holds every exchange before it).
pub struct Recorder {
    out: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    /// A recording into `out`, its header written.
    pub fn new(mut out: Box<dyn Write + Send>, upstream: &str) -> std::io::Result<Recorder> {
        let header = Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            upstream: upstream.to_owned(),
        };
        line(&mut out, &header)?;
        Ok(Recorder { out })
    }

    /// Appends one exchange.
    pub fn write(&mut self, recorded: &Recorded) -> std::io::Result<()> {
        line(&mut self.out, recorded)
    }
}

fn line(out: &mut dyn Write, value: &impl Serialize) -> std::io::Result<()> {
    let mut text = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    text.push(b'\n');
    out.write_all(&text)?;
    out.flush()
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Timeout(after) => write!(
                f,
                "no answer within the timeout ({:.1} s)",
                after.as_secs_f64()
            ),
            Failed::Connection(why) => write!(f, "the upstream failed before an answer: {why}"),
            Failed::BrokeOff { status, after, why } => write!(
                f,
                "HTTP {status}: the answer broke off after {after} bytes: {why}"
            ),
        }
    }
}
