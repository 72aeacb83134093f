//! Stopping a run early (Ctrl-C, SIGTERM): once asked, no request is sent,
//! the checks still running are abandoned, and the run ends with the report
//! of what was checked, every order placed listed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// A stop that can be asked for once, from anywhere, and awaited.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    asked: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// A stop nobody has asked for yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// A stop asked for by SIGINT (Ctrl-C) or SIGTERM. Call it inside a
    /// Tokio runtime: a task listens for the signals.
    pub fn on_signals() -> Stop {
        let stop = Stop::new();
        let asked = stop.clone();
        tokio::spawn(async move {
            signal().await;
            asked.ask();
        });
        stop
    }

    /// Asks for the stop.
    pub fn ask(&self) {
        self.0.asked.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether the stop was asked for.
    pub fn is_asked(&self) -> bool {
        self.0.asked.load(Ordering::SeqCst)
    }

    /// Returns once the stop is asked for.
    pub async fn asked(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            // Registered before the flag is read: an ask in between is not lost.
            notified.as_mut().enable();
            if self.is_asked() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(unix)]
async fn signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ask_wakes_every_waiter_even_one_that_comes_late() {
        let stop = Stop::new();
        let early = tokio::spawn({
            let stop = stop.clone();
            async move { stop.asked().await }
        });
        tokio::task::yield_now().await;
        assert!(!stop.is_asked());
        stop.ask();
        early.await.unwrap();
        // After the ask, waiting returns at once.
        stop.asked().await;
        assert!(stop.is_asked());
    }
}
