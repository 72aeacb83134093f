//! `smm-mock`: a deterministic mock SMM panel speaking the whole API v2.
//!
//! Client authors run it instead of a real panel: no money is spent, and every
//! status, refill status and error is reachable on demand. The same fixture,
//! seed and requests always give the same bytes.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use smm_mock::{Fixture, MockPanel};
//!
//! let panel = MockPanel::start(Fixture::builtin()).await?;
//! let url = panel.url(); // http://127.0.0.1:<port>/api/v2
//! // … point a client at `url` with key `test-key` …
//! panel.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! How the parts fit: [`listen`] binds where the panel listens (host names
//! resolved); [`server`] is the only part with sockets; it reads a
//! request ([`request`]: forms, query strings, JSON) and [`router`] says where
//! it goes and types it. [`shared`] answers an API request: [`deviations`]
//! says which profiles are on, [`state`] holds the panel and answers by the
//! [`rules`] they imply (pure, no I/O; [`service`] for the fields of `add`,
//! [`lifecycle`] and [`clock`] for how orders move, [`money`] for charges and
//! refunds), [`deviate`] turns its typed [`reply`] into the answer the
//! profiles make, and [`journal`] keeps it. [`admin`] is the control API;
//! [`fixture`] reads the data a panel serves; [`profile`] lists the
//! deviations. The contract's words come from `smm-contract`.

pub mod admin;
pub mod clock;
pub mod deviate;
pub mod deviations;
pub mod error;
pub mod fixture;
pub mod journal;
pub mod lifecycle;
pub mod listen;
pub mod money;
pub mod profile;
pub mod reply;
pub mod request;
pub mod router;
pub mod rules;
pub mod server;
pub mod service;
pub mod shared;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::ClockMode;
pub use error::ApiError;
pub use fixture::{Fixture, FixtureError};
pub use listen::{ListenAddr, ListenError};
pub use rules::Rules;
pub use smm_contract::Action;
pub use state::{Panel, PanelOptions};

/// How to run a mock panel.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data it serves.
    pub fixture: Fixture,
    /// Where [`MockPanel::start_with`] listens (port 0: any free port); a
    /// host name is bound with [`ListenAddr::bind`] and [`MockPanel::start_on`].
    pub listen: SocketAddr,
    /// The seed (`start_count`, and the faults' draws).
    pub seed: u64,
    /// When orders move.
    pub clock: ClockMode,
    /// Also advance the clock every so often on wall time.
    pub tick: Option<Duration>,
    /// Whether the admin API answers.
    pub admin: bool,
    /// How many requests the journal keeps.
    pub journal: usize,
    /// Deviation profiles switched on.
    pub profiles: profile::Profiles,
    /// How long a client may take to send a request's headers (an idle
    /// keep-alive connection included), then its body; past it, the
    /// connection is closed.
    pub read_timeout: Duration,
    /// The most connections held at once; past it, new ones wait to be
    /// accepted until one closes (default [`server::MAX_CONNECTIONS`]).
    pub max_connections: usize,
}

impl Config {
    /// Defaults for `fixture`: a free loopback port, seed 0, poll clock, admin on.
    pub fn new(fixture: Fixture) -> Self {
        Self {
            fixture,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            clock: ClockMode::Poll,
            tick: None,
            admin: true,
            journal: journal::DEFAULT_CAPACITY,
            profiles: profile::Profiles::NONE,
            read_timeout: server::READ_TIMEOUT,
            max_connections: server::MAX_CONNECTIONS,
        }
    }
}

/// A running mock panel, shut down when dropped.
#[derive(Debug)]
pub struct MockPanel {
    addr: SocketAddr,
    shared: Arc<shared::Shared>,
    connections: Arc<server::Connections>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockPanel {
    /// Starts a panel serving `fixture` on a free loopback port.
    pub async fn start(fixture: Fixture) -> std::io::Result<MockPanel> {
        Self::start_with(Config::new(fixture)).await
    }

    /// Starts a panel as `config` says. A port already in use is an error
    /// of kind [`std::io::ErrorKind::AddrInUse`] that says what to do
    /// ([`ListenError::InUse`]).
    pub async fn start_with(config: Config) -> std::io::Result<MockPanel> {
        let listener = ListenAddr::from(config.listen)
            .bind()
            .await
            .map_err(ListenError::into_io)?;
        Self::start_on(listener, config).await
    }

    /// Starts a panel as `config` says on a listener already bound (such as
    /// [`ListenAddr::bind`] gives); `config.listen` is not read.
    pub async fn start_on(listener: TcpListener, config: Config) -> std::io::Result<MockPanel> {
        let addr = listener.local_addr()?;
        let profiles = config.profiles.union(config.fixture.profiles);
        let options = PanelOptions {
            seed: config.seed,
            clock: config.clock,
        };
        let shared = Arc::new(shared::Shared {
            state: Mutex::new(shared::State {
                messages: config.fixture.messages.clone(),
                panel: Panel::new(Arc::new(config.fixture), options),
                deviations: deviations::Deviations::new(profiles, config.seed),
                journal: journal::Journal::new(config.journal),
            }),
            admin: config.admin,
            paths: profiles,
            read_timeout: config.read_timeout,
            listen: addr,
        });
        let connections = Arc::new(server::Connections::new(config.max_connections));
        let (stop, stopped) = oneshot::channel::<()>();
        let ticker = config.tick.filter(|t| !t.is_zero()).map(|every| {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(every);
                interval.tick().await;
                loop {
                    interval.tick().await;
                    let mut state = shared.lock();
                    let rules = state.deviations.profiles().rules();
                    state.panel.advance_clock(1, rules);
                }
            })
        });
        let serving = Arc::clone(&shared);
        let held = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            server::serve(listener, serving, held, async {
                let _ = stopped.await;
            })
            .await;
            if let Some(ticker) = ticker {
                ticker.abort();
            }
        });
        Ok(MockPanel {
            addr,
            shared,
            connections,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API endpoint, `http://127.0.0.1:<port>/api/v2`.
    pub fn url(&self) -> String {
        format!("{}/api/v2", server::base_url(self.addr))
    }

    /// The admin API base, `http://127.0.0.1:<port>/__mock`.
    pub fn admin_url(&self) -> String {
        format!("{}/__mock", server::base_url(self.addr))
    }

    /// Runs `f` on the panel's state (for tests that look inside).
    pub fn with_panel<T>(&self, f: impl FnOnce(&mut Panel) -> T) -> T {
        f(&mut self.shared.lock().panel)
    }

    /// Runs `f` on the request journal (for tests that look inside).
    pub fn with_journal<T>(&self, f: impl FnOnce(&journal::Journal) -> T) -> T {
        f(&self.shared.lock().journal)
    }

    /// The connections it holds: how many are open, and were accepted.
    pub fn connections(&self) -> &server::Connections {
        &self.connections
    }

    /// Stops accepting, drains open connections for at most 2 s, and returns
    /// when the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockPanel {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
