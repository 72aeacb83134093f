//! The request journal: the last N API requests and their answers, for the
//! admin API (`GET /__mock/journal`). A bounded ring, each entry bounded
//! too: a request's body is kept up to [`EXCERPT`] bytes (with its size), so
//! a long run, a load test or a client that sends 64 KiB bodies keeps the
//! memory flat. Entries keep the request as it came (bytes, not parsed
//! fields): recording costs one copy, and the fields are read only when the
//! journal is.

use std::collections::VecDeque;

use bytes::Bytes;
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Uri};

use crate::request::{BodyKind, Fields};

/// The default number of requests kept.
pub const DEFAULT_CAPACITY: usize = 1000;

/// How many bytes of each request body an entry keeps.
pub const EXCERPT: usize = 4096;

/// A request's body as the journal keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    /// How it is encoded.
    pub kind: BodyKind,
    /// The body.
    pub bytes: &'a [u8],
}

/// One API request and its answer. The request's path and query and the
/// first [`EXCERPT`] bytes of its body are copied into one buffer of the
/// entry's own: holding on to the request's bytes would keep the
/// connection's read buffer from being reused.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its number among all API requests since start or reset, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: Method,
    /// The path and query, then the body's excerpt.
    request: Box<[u8]>,
    /// Where the path and query end and the path ends, in `request`.
    target: (usize, usize),
    /// How the body is encoded; `None` when the request could not be read.
    kind: Option<BodyKind>,
    /// The body's whole size.
    size: usize,
    /// The answer body.
    pub response: Bytes,
}

impl Entry {
    /// The request's path.
    pub fn path(&self) -> &str {
        std::str::from_utf8(&self.request[..self.target.1]).unwrap_or("/")
    }

    /// The fields the request sent, read from the query string and the body
    /// kept. Of a body cut at [`EXCERPT`] bytes, the whole pairs before the
    /// cut of a form (none of a JSON body); none when the request could not
    /// be read, and what reads of the rest.
    pub fn fields(&self) -> Fields {
        let mut fields = Fields::default();
        let Some(kind) = self.kind else {
            return fields;
        };
        let (end, path) = self.target;
        let query = self.request[path..end]
            .strip_prefix(b"?")
            .unwrap_or_default();
        let _ = fields.add_form(query);
        let body = &self.request[end..];
        let cut = self.size > body.len();
        let _ = match (kind, cut) {
            (BodyKind::Form, false) => fields.add_form(body),
            (BodyKind::Form, true) => {
                let whole = body.iter().rposition(|&b| b == b'&').unwrap_or(0);
                fields.add_form(&body[..whole])
            }
            (BodyKind::Json, false) => fields.add_json(body),
            (BodyKind::Json, true) => Ok(()),
        };
        fields
    }
}

impl serde::Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields: serde_json::Map<String, serde_json::Value> = self
            .fields()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.into()))
            .collect();
        let response: serde_json::Value = serde_json::from_slice(&self.response)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.response).into_owned().into());
        let kept = self.request.len() - self.target.0;
        let mut s = serializer.serialize_struct("Entry", 6)?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("method", self.method.as_str())?;
        s.serialize_field("path", self.path())?;
        s.serialize_field("fields", &fields)?;
        if self.size > kept {
            s.serialize_field("body_bytes", &self.size)?;
        }
        s.serialize_field("response", &response)?;
        s.end()
    }
}

/// The ring of the last requests.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    total: u64,
    entries: VecDeque<Entry>,
}

impl Journal {
    /// A journal keeping the last `capacity` requests (0 keeps none).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            total: 0,
            entries: VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY)),
        }
    }

    /// Records a request; when the ring is full the oldest falls out and is
    /// handed back, for the caller to drop once it has let go of the lock.
    pub fn record(
        &mut self,
        method: &Method,
        uri: &Uri,
        body: Option<Body<'_>>,
        response: Bytes,
    ) -> Option<Entry> {
        self.total += 1;
        if self.capacity == 0 {
            return None;
        }
        let oldest = (self.entries.len() == self.capacity)
            .then(|| self.entries.pop_front())
            .flatten();
        let target = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let excerpt = body.map_or(&[][..], |b| &b.bytes[..b.bytes.len().min(EXCERPT)]);
        let mut request = Vec::with_capacity(target.len() + excerpt.len());
        request.extend_from_slice(target.as_bytes());
        request.extend_from_slice(excerpt);
        self.entries.push_back(Entry {
            seq: self.total,
            method: method.clone(),
            request: request.into_boxed_slice(),
            target: (target.len(), uri.path().len()),
            kind: body.map(|b| b.kind),
            size: body.map_or(0, |b| b.bytes.len()),
            response,
        });
        oldest
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.entries.iter()
    }

    /// Requests recorded since start or reset (kept or not).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many entries it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.total = 0;
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> Option<Body<'_>> {
        Some(Body {
            kind: BodyKind::Form,
            bytes: text.as_bytes(),
        })
    }

    #[test]
    fn the_ring_keeps_the_last_entries() {
        let mut journal = Journal::new(2);
        for i in 0..5 {
            let body = format!("n={i}");
            journal.record(
                &Method::POST,
                &Uri::from_static("/api/v2?q=1"),
                form(&body),
                Bytes::new(),
            );
        }
        let seqs: Vec<u64> = journal.entries().map(|e| e.seq).collect();
        assert_eq!(seqs, [4, 5]);
        assert_eq!(journal.total(), 5);
        let last = journal.entries().last().unwrap();
        assert_eq!(
            (last.fields().get("n"), last.fields().get("q")),
            (Some("4"), Some("1"))
        );
        assert_eq!(last.path(), "/api/v2");
    }

    #[test]
    fn of_a_long_body_the_whole_pairs_before_the_cut_are_kept_with_its_size() {
        let big = format!("key=k&action=add&comments={}", "a".repeat(EXCERPT * 3));
        let mut journal = Journal::new(1);
        journal.record(
            &Method::POST,
            &Uri::from_static("/api/v2?x=1"),
            form(&big),
            Bytes::new(),
        );
        let entry = serde_json::to_value(journal.entries().next().unwrap()).unwrap();
        assert_eq!(entry["body_bytes"], big.len());
        assert_eq!(
            entry["fields"],
            serde_json::json!({"x": "1", "key": "k", "action": "add"}),
            "the cut pair is left out, the query kept"
        );
    }
}
