//! Where a panel listens: `--listen HOST:PORT`, a host name or an IP
//! address, bound with an error that says what to do.
//!
//! [`ListenAddr`] reads the text (`127.0.0.1:8080`, `localhost:18090`,
//! `[::1]:0`); [`ListenAddr::bind`] resolves the host and binds the first of
//! its addresses that can be bound, IPv4 ones first (so that `localhost`
//! serves `127.0.0.1`, which every client reaches). A port already in use is
//! refused with the hint to pick another, or port 0 for any free one.

use std::fmt;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::str::FromStr;

use tokio::net::TcpListener;

/// A `--listen` address: a host (name or IP address) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddr {
    /// The host as given: `localhost`, `127.0.0.1`, `::1` (without brackets).
    host: String,
    /// The port; 0 for any free one.
    port: u16,
}

/// Why a panel cannot listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The text is not `HOST:PORT`.
    #[error("`{0}` is not HOST:PORT (e.g. 127.0.0.1:8080, localhost:8080, [::1]:8080; port 0 picks a free one)")]
    Syntax(String),
    /// The host name does not resolve.
    #[error("cannot resolve `{host}`: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// What the resolver said.
        source: std::io::Error,
    },
    /// The host name resolves to no address.
    #[error("`{0}` resolves to no address")]
    NoAddress(String),
    /// Another process holds the port.
    #[error("{0} is already in use (another smm-mock?); pick another port, or `--listen 127.0.0.1:0` for any free one")]
    InUse(SocketAddr),
    /// Any other failure to bind.
    #[error("cannot listen on {addr}: {source}{}", hint(.source))]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A hint for a bind error the user can fix.
fn hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        ErrorKind::PermissionDenied => {
            " (ports below 1024 need privileges; pick another port, or `--listen 127.0.0.1:0` for any free one)"
        }
        ErrorKind::AddrNotAvailable => " (the address is not one of this machine's)",
        _ => "",
    }
}

impl ListenError {
    /// As an I/O error of the same kind (a port in use:
    /// [`ErrorKind::AddrInUse`]), with this message.
    pub fn into_io(self) -> std::io::Error {
        let kind = match &self {
            ListenError::Syntax(_) => ErrorKind::InvalidInput,
            ListenError::Resolve { source, .. } | ListenError::Bind { source, .. } => source.kind(),
            ListenError::NoAddress(_) => ErrorKind::NotFound,
            ListenError::InUse(_) => ErrorKind::AddrInUse,
        };
        std::io::Error::new(kind, self.to_string())
    }
}

impl ListenAddr {
    /// The host as given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (0: any free one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The addresses the host stands for, IPv4 ones first, in the
    /// resolver's order otherwise.
    pub async fn resolve(&self) -> Result<Vec<SocketAddr>, ListenError> {
        let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|source| ListenError::Resolve {
                host: self.host.clone(),
                source,
            })?
            .collect();
        addrs.dedup();
        addrs.sort_by_key(|a| a.is_ipv6());
        if addrs.is_empty() {
            return Err(ListenError::NoAddress(self.host.clone()));
        }
        Ok(addrs)
    }

    /// Binds the first of the host's addresses that can be bound (see
    /// [`ListenAddr::resolve`]). When none can, the error of the first
    /// address a port in use refused, else of the first address.
    pub async fn bind(&self) -> Result<TcpListener, ListenError> {
        let mut first_error: Option<ListenError> = None;
        for addr in self.resolve().await? {
            match TcpListener::bind(addr).await {
                Ok(listener) => return Ok(listener),
                Err(e) => {
                    let error = if e.kind() == ErrorKind::AddrInUse {
                        ListenError::InUse(addr)
                    } else {
                        ListenError::Bind { addr, source: e }
                    };
                    let in_use = matches!(error, ListenError::InUse(_));
                    match &first_error {
                        Some(ListenError::InUse(_)) => {}
                        Some(_) if !in_use => {}
                        _ => first_error = Some(error),
                    }
                }
            }
        }
        Err(first_error.unwrap_or_else(|| ListenError::NoAddress(self.host.clone())))
    }
}

impl FromStr for ListenAddr {
    type Err = ListenError;

    /// `HOST:PORT`, where HOST is a name, an IPv4 address or an IPv6 address
    /// in brackets (`[::1]:8080`).
    fn from_str(text: &str) -> Result<ListenAddr, ListenError> {
        let syntax = || ListenError::Syntax(text.to_owned());
        let (host, port) = text.rsplit_once(':').ok_or_else(syntax)?;
        let host = match host.strip_prefix('[') {
            Some(inner) => inner.strip_suffix(']').ok_or_else(syntax)?,
            // An IPv6 address needs its brackets: `::1:8080` is ambiguous.
            None if host.contains(':') => return Err(syntax()),
            None => host,
        };
        let port_ok = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        let port: u16 = port.parse().ok().filter(|_| port_ok).ok_or_else(syntax)?;
        let name_ok = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'%'));
        if host.is_empty() || !name_ok {
            return Err(syntax());
        }
        Ok(ListenAddr {
            host: host.to_owned(),
            port,
        })
    }
}

impl From<SocketAddr> for ListenAddr {
    fn from(addr: SocketAddr) -> ListenAddr {
        ListenAddr {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_names_and_addresses_are_read() {
        let read = |t: &str| t.parse::<ListenAddr>().map(|a| (a.host, a.port));
        assert_eq!(
            read("localhost:18090").unwrap(),
            ("localhost".into(), 18090)
        );
        assert_eq!(read("127.0.0.1:0").unwrap(), ("127.0.0.1".into(), 0));
        assert_eq!(read("[::1]:8080").unwrap(), ("::1".into(), 8080));
        for bad in [
            "localhost",
            ":8080",
            "localhost:",
            "localhost:65536",
            "localhost:+1",
            "::1:8080",
            "[::1:8080",
            "a b:80",
        ] {
            assert!(bad.parse::<ListenAddr>().is_err(), "{bad}");
        }
        assert_eq!(
            "[::1]:80".parse::<ListenAddr>().unwrap().to_string(),
            "[::1]:80"
        );
    }
}
