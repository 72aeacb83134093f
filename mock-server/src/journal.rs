//! The request journal: the last N API requests and their answers, for the
//! admin API (`GET /__mock/journal`). A bounded ring, so a
//! long run or a load test keeps its memory flat.

use std::collections::VecDeque;

use bytes::Bytes;
use hyper::{Method, Uri};

/// The default number of requests kept.
pub const DEFAULT_CAPACITY: usize = 1000;

/// One API request and its answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its number among all API requests since start or reset, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: Method,
    /// The request URI (path and query).
    pub uri: Uri,
    /// The fields, in the order they came (empty when the request was unreadable).
    pub fields: Vec<(String, String)>,
    /// The answer body.
    pub response: Bytes,
}

impl serde::Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields: serde_json::Map<String, serde_json::Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        let response: serde_json::Value = serde_json::from_slice(&self.response)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.response).into_owned().into());
        let mut s = serializer.serialize_struct("Entry", 5)?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("method", self.method.as_str())?;
        s.serialize_field("path", self.uri.path())?;
        s.serialize_field("fields", &fields)?;
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

    /// Records a request; the oldest falls out when the ring is full.
    pub fn record(
        &mut self,
        method: &Method,
        uri: &Uri,
        fields: Vec<(String, String)>,
        response: Bytes,
    ) {
        self.total += 1;
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            seq: self.total,
            method: method.clone(),
            uri: uri.clone(),
            fields,
            response,
        });
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

    #[test]
    fn the_ring_keeps_the_last_entries() {
        let mut journal = Journal::new(2);
        for i in 0..5 {
            journal.record(
                &Method::POST,
                &Uri::from_static("/api/v2"),
                vec![("n".into(), i.to_string())],
                Bytes::new(),
            );
        }
        let seqs: Vec<u64> = journal.entries().map(|e| e.seq).collect();
        assert_eq!(seqs, [4, 5]);
        assert_eq!(journal.total(), 5);
    }
}
