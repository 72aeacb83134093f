//! The request journal: the last N API requests and their answers, for the
//! admin API (`GET /__mock/journal`). A bounded ring, each entry bounded
//! too: a request's query string and its body are kept up to [`EXCERPT`]
//! bytes each, its answer up to [`ANSWER_EXCERPT`] (each with its whole
//! size), so a long run, a load test or a client that sends 64 KiB bodies or
//! URLs keeps the memory flat: [`Entry::retained_bytes`] is at most
//! [`ENTRY_BOUND`]. Entries keep the request as it came (bytes, not parsed
//! fields): recording costs one copy, and the fields are read only when the
//! journal is.

use std::collections::VecDeque;

use bytes::Bytes;
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Uri};

use crate::request::{BodyKind, Fields};

/// The default number of requests kept.
pub const DEFAULT_CAPACITY: usize = 1000;

/// How many bytes of each request's query string, and of its body, an
/// entry keeps.
pub const EXCERPT: usize = 4096;

/// How many bytes of each answer an entry keeps: a whole catalogue of a few
/// dozen services, an error message that quotes a long field name cut.
pub const ANSWER_EXCERPT: usize = 16 * 1024;

/// The most bytes an entry holds ([`Entry::retained_bytes`]): the excerpts
/// and the path (an API path, a few bytes) with room to spare.
pub const ENTRY_BOUND: usize = 2 * EXCERPT + ANSWER_EXCERPT + 512;

/// A request's body as the journal keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    /// How it is encoded.
    pub kind: BodyKind,
    /// The body.
    pub bytes: &'a [u8],
}

/// One API request and its answer. The request's path, the first
/// [`EXCERPT`] bytes of its query and of its body are copied into one buffer
/// of the entry's own (holding on to the request's bytes would keep the
/// connection's read buffer from being reused), and so is the answer when
/// it is over [`ANSWER_EXCERPT`] bytes.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its number among all API requests since start or reset, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: Method,
    /// The path and the query's excerpt (with its `?`), then the body's.
    request: Box<[u8]>,
    /// Where the query's excerpt ends and the path ends, in `request`.
    target: (usize, usize),
    /// The query's whole size, its `?` included.
    query_size: usize,
    /// How the body is encoded; `None` when the request could not be read.
    kind: Option<BodyKind>,
    /// The body's whole size.
    size: usize,
    /// The answer body, or its first [`ANSWER_EXCERPT`] bytes.
    response: Bytes,
    /// The answer's whole size.
    response_size: usize,
}

impl Entry {
    /// The request's path.
    pub fn path(&self) -> &str {
        std::str::from_utf8(&self.request[..self.target.1]).unwrap_or("/")
    }

    /// The answer body, or its first [`ANSWER_EXCERPT`] bytes.
    pub fn response(&self) -> &Bytes {
        &self.response
    }

    /// The bytes this entry holds: itself, its request's excerpts and its
    /// answer's; at most [`ENTRY_BOUND`].
    pub fn retained_bytes(&self) -> usize {
        std::mem::size_of::<Entry>() + self.request.len() + self.response.len()
    }

    /// The fields the request sent, read from the query string and the body
    /// kept. Of a query or a body cut at [`EXCERPT`] bytes, the whole pairs
    /// before the cut of a form (none of a JSON body); none when the request
    /// could not be read, and what reads of the rest.
    pub fn fields(&self) -> Fields {
        let mut fields = Fields::default();
        let Some(kind) = self.kind else {
            return fields;
        };
        let (end, path) = self.target;
        let query = &self.request[path..end];
        let cut = self.query_size > query.len();
        let _ = fields.add_form(whole_pairs(query.strip_prefix(b"?").unwrap_or(query), cut));
        let body = &self.request[end..];
        let cut = self.size > body.len();
        let _ = match kind {
            BodyKind::Form => fields.add_form(whole_pairs(body, cut)),
            BodyKind::Json if cut => Ok(()),
            BodyKind::Json => fields.add_json(body),
        };
        fields
    }
}

/// The form pairs of `excerpt`: all of them, or when it was `cut` the
/// whole ones before the cut.
fn whole_pairs(excerpt: &[u8], cut: bool) -> &[u8] {
    if cut {
        &excerpt[..excerpt.iter().rposition(|&b| b == b'&').unwrap_or(0)]
    } else {
        excerpt
    }
}

impl serde::Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        /// The fields as a JSON object, written as they are read (never
        /// repeated: [`Fields`] refuses a name sent twice).
        struct Shown(Fields);
        impl serde::Serialize for Shown {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter())
            }
        }
        let fields = Shown(self.fields());
        let response: serde_json::Value = serde_json::from_slice(&self.response)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.response).into_owned().into());
        let kept = self.request.len() - self.target.0;
        let query_kept = self.target.0 - self.target.1;
        let mut s = serializer.serialize_struct("Entry", 9)?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("method", self.method.as_str())?;
        s.serialize_field("path", self.path())?;
        s.serialize_field("fields", &fields)?;
        if self.query_size > query_kept {
            s.serialize_field("query_bytes", &self.query_size.saturating_sub(1))?;
        }
        if self.size > kept {
            s.serialize_field("body_bytes", &self.size)?;
        }
        s.serialize_field("response", &response)?;
        if self.response_size > self.response.len() {
            s.serialize_field("response_bytes", &self.response_size)?;
        }
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
        let target = uri
            .path_and_query()
            .map_or(&b"/"[..], |t| PathAndQuery::as_str(t).as_bytes());
        // The path is an API path (`/api/v2`), the only one journaled.
        let path = uri.path().len().min(target.len());
        let query = &target[path..];
        let query_excerpt = &query[..query.len().min(EXCERPT + 1)];
        let excerpt = body.map_or(&[][..], |b| &b.bytes[..b.bytes.len().min(EXCERPT)]);
        let mut request = Vec::with_capacity(path + query_excerpt.len() + excerpt.len());
        request.extend_from_slice(&target[..path]);
        request.extend_from_slice(query_excerpt);
        request.extend_from_slice(excerpt);
        let response_size = response.len();
        let response = if response_size > ANSWER_EXCERPT {
            // A copy: a slice would keep the whole answer alive.
            Bytes::copy_from_slice(&response[..ANSWER_EXCERPT])
        } else {
            response
        };
        self.entries.push_back(Entry {
            seq: self.total,
            method: method.clone(),
            request: request.into_boxed_slice(),
            target: (path + query_excerpt.len(), path),
            query_size: query.len(),
            kind: body.map(|b| b.kind),
            size: body.map_or(0, |b| b.bytes.len()),
            response,
            response_size,
        });
        oldest
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.entries.iter()
    }

    /// The bytes the kept entries hold ([`Entry::retained_bytes`]), the
    /// ring's own slots included.
    pub fn retained_bytes(&self) -> usize {
        let slots = self.entries.capacity() * std::mem::size_of::<Entry>();
        slots
            + self
                .entries()
                .map(|e| e.retained_bytes() - std::mem::size_of::<Entry>())
                .sum::<usize>()
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

    #[test]
    fn a_long_query_and_a_long_answer_are_cut_too() {
        let query = format!("key=k&action=balance&pad={}", "q".repeat(EXCERPT * 3));
        let uri: Uri = format!("/api/v2?{query}").parse().unwrap();
        let answer = format!(r#"{{"error":"{}"}}"#, "e".repeat(ANSWER_EXCERPT * 3));
        let mut journal = Journal::new(1);
        journal.record(&Method::GET, &uri, form(""), Bytes::from(answer.clone()));
        let entry = journal.entries().next().unwrap();
        assert!(
            entry.retained_bytes() <= ENTRY_BOUND,
            "{} bytes",
            entry.retained_bytes()
        );
        assert_eq!(entry.response().len(), ANSWER_EXCERPT);
        let json = serde_json::to_value(entry).unwrap();
        assert_eq!(json["path"], "/api/v2");
        assert_eq!(json["query_bytes"], query.len());
        assert_eq!(json["response_bytes"], answer.len());
        assert!(json.get("body_bytes").is_none(), "{json}");
        assert_eq!(
            json["fields"],
            serde_json::json!({"key": "k", "action": "balance"}),
            "the whole pairs before the cut"
        );
        assert!(json["response"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"error":"eee"#));
    }
}
