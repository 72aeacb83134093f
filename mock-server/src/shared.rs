//! The state every connection shares, and the answer to one API request:
//! the profiles in force, a fault in place of the panel's answer, or the
//! panel's reply shaped by the profiles; each request recorded in the
//! journal, behind a lock of its own. No I/O here: [`crate::server`] reads
//! and writes the sockets.

use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use hyper::{Method, Uri};
use smm_contract::Action;

use crate::deviations::Deviations;
use crate::journal::{Body, Journal};
use crate::profile::Profiles;
use crate::reply::Answer;
use crate::request::Fields;
use crate::router::ApiRequest;
use crate::state::Panel;

/// The panel and its deviations, behind one lock: an API request takes it
/// once.
#[derive(Debug)]
pub struct State {
    /// The panel.
    pub panel: Panel,
    /// The deviation profiles on.
    pub deviations: Deviations,
}

impl State {
    /// Answers one API request; also says which action it was, when it was a
    /// known one.
    pub fn answer(&mut self, fields: Fields) -> (Option<Action>, Answer) {
        let request = ApiRequest::new(fields);
        let action = request.action();
        let active = self.deviations.for_request(request.key(), request.action());
        let answer = match crate::deviate::instead(&active, request.action()) {
            Some(fault) => fault,
            None => {
                let reply = self.panel.handle(&request, active.profiles.rules());
                crate::deviate::answer(active.profiles, &request, reply)
            }
        };
        (action, answer)
    }

    /// Back to the start: the fixture's state, no run-time override (the
    /// panel-wide profiles stay).
    pub fn reset(&mut self) {
        self.panel.reset();
        self.deviations.reset();
    }
}

/// The state every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The panel and deviations.
    pub state: Mutex<State>,
    /// The request journal.
    pub journal: Mutex<Journal>,
    /// Whether `/__mock/` answers.
    pub admin: bool,
    /// The profiles that change paths (`api-v1-path`, `api-php-path`,
    /// `trailing-slash-redirect`), fixed at start.
    pub paths: Profiles,
    /// How long a client may take to send a request's headers (an idle
    /// keep-alive connection included), then its body.
    pub read_timeout: std::time::Duration,
}

impl Shared {
    /// Locks the state. A poisoned lock is recovered: every change to the
    /// panel is made after all its checks, so no panic leaves it half done.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the journal.
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request and its answer in the journal (`body`: `None` when
    /// the request could not be read).
    pub fn record(&self, method: &Method, uri: &Uri, body: Option<Body<'_>>, response: Bytes) {
        let evicted = self.journal().record(method, uri, body, response);
        // The entry that fell out is freed here, after the lock.
        drop(evicted);
    }

    /// Back to the start: the fixture's state, an empty journal, no run-time
    /// override (the panel-wide profiles stay).
    pub fn reset(&self) {
        self.lock().reset();
        self.journal().clear();
    }
}
