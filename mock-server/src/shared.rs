//! The state every connection shares, and the answer to one API request:
//! the profiles in force, a fault in place of the panel's answer, or the
//! panel's reply shaped by the profiles; each request recorded in the
//! journal under the same lock, so its order is the order requests were
//! answered in; and the balance write an `add` may leave for later
//! ([`crate::state::StaleWrite`]). No I/O here: [`crate::server`] reads and
//! writes the sockets, and waits before a stale write.

use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use hyper::{Method, Uri};
use smm_contract::Action;

use crate::deviations::Deviations;
use crate::error::{ApiError, Messages};
use crate::journal::{Body, Journal};
use crate::profile::Profiles;
use crate::reply::Answer;
use crate::request::{BodyKind, Fields};
use crate::router::ApiRequest;
use crate::state::{Panel, StaleWrite};

/// The panel, its deviations and its journal, behind one lock: an API
/// request takes it once.
#[derive(Debug)]
pub struct State {
    /// The panel.
    pub panel: Panel,
    /// The deviation profiles on.
    pub deviations: Deviations,
    /// The request journal.
    pub journal: Journal,
    /// How the panel words its errors (the fixture's `messages`).
    pub messages: Messages,
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
                let mut answer =
                    crate::deviate::answer(active.profiles, &request, reply, &self.messages);
                answer.stale_write = self.panel.take_stale_write();
                answer
            }
        };
        (action, answer)
    }

    /// Back to the state at start: the fixture's orders, refills, balances
    /// and clock, the profiles of the start (`--profile`, the fixture's) and
    /// no other, an empty journal.
    pub fn reset(&mut self) {
        self.panel.reset();
        self.deviations.reset();
        self.journal.clear();
    }
}

/// An API request as the server read it: its fields, and its body as the
/// journal keeps it; or why it could not be read.
pub type Read = Result<(Fields, BodyKind, Bytes), ApiError>;

/// The state every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The panel, deviations and journal.
    pub state: Mutex<State>,
    /// Whether `/__mock/` answers.
    pub admin: bool,
    /// The profiles that change paths (`api-v1-path`, `api-php-path`,
    /// `trailing-slash-redirect`), fixed at start.
    pub paths: Profiles,
    /// How long a client may take to send a request's headers (an idle
    /// keep-alive connection included), then its body.
    pub read_timeout: std::time::Duration,
    /// The address the server listens on (what an admin request's `Host`
    /// may name, see [`crate::admin::Own`]).
    pub listen: std::net::SocketAddr,
}

impl Shared {
    /// Locks the state. A poisoned lock is recovered: every change to the
    /// panel is made after all its checks, so no panic leaves it half done.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers one API request (or the error that it could not be read)
    /// and records it in the journal; also says which action it was, when it
    /// was a known one. The lock is taken once; a journal entry that falls
    /// out is freed after it is let go.
    pub fn answer(&self, method: &Method, uri: &Uri, read: Read) -> (Option<Action>, Answer) {
        let mut state = self.lock();
        let (action, answer, body) = match read {
            Ok((fields, kind, bytes)) => {
                let (action, answer) = state.answer(fields);
                (action, answer, Some((kind, bytes)))
            }
            Err(e) => {
                let body = crate::reply::ErrorBody::of(&e, &state.messages);
                let said = body.error.clone();
                (
                    None,
                    Answer::json(crate::reply::to_json(&body), Some(said)),
                    None,
                )
            }
        };
        let body = body
            .as_ref()
            .map(|(kind, bytes)| Body { kind: *kind, bytes });
        let evicted = state.journal.record(method, uri, body, answer.body.clone());
        drop(state);
        drop(evicted);
        (action, answer)
    }

    /// Back to the state at start (see [`State::reset`]).
    pub fn reset(&self) {
        self.lock().reset();
    }

    /// Makes the balance write an answer left for later (see
    /// [`crate::reply::Answer::stale_write`]), under the lock.
    pub fn write_back(&self, write: StaleWrite) {
        self.lock().panel.write_back(write);
    }
}
