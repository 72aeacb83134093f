//! The basics, checked before any check: is something listening, does it
//! speak the protocol the URL says, is the URL an SMM endpoint, does the
//! panel take the key. Each mistake gets one message that says what to fix,
//! instead of the same error once per check.
//!
//! What the user must fix (a wrong path, a refused key, a redirect to another
//! address) is a usage error (exit code 2); a target that cannot be reached
//! is exit code 3 (DECISIONS 7). A panel at the contract's own path that
//! answers badly is not refused here: that is for the checks to report.

use reqwest::Url;
use serde_json::Value;
use smm_contract::{field, Action};

use crate::client::{Answer, Client, Exchange, Failure, Method, TransportError};
use crate::schema;
use crate::RunError;

/// The contract's path (CONTRACT §1).
const API_PATH: &str = "/api/v2";

/// Reads the first answer (`services`) and asks `balance` with each key:
/// `Ok` when the checks can mean something, else the one message.
pub async fn basics(client: &Client, services: &Exchange) -> Result<(), RunError> {
    let url = client.target().url.clone();
    let answer = match &services.answer {
        Ok(answer) => answer,
        Err(TransportError::Connection(dropped)) => {
            return Err(RunError::Unreachable(unreachable(&url, dropped)));
        }
        Err(TransportError::Timeout) => {
            return Err(RunError::Unreachable(format!(
                "{url} did not answer `services` within {:?} (--timeout): is it the panel's API, and is the panel up?",
                client.target().timeout
            )));
        }
        // Too large or rate limited: the checks say so.
        Err(_) => return Ok(()),
    };
    if let Some(why) = redirected(&url, answer) {
        return Err(RunError::Usage(why));
    }
    if !at_contract_path(&url) && !looks_like_api(answer) {
        return Err(RunError::Usage(not_an_endpoint(client, &url, answer).await));
    }
    refused_key(client, "--key", &client.target().key).await?;
    if let Some(second) = &client.target().second_key {
        refused_key(client, "--second-key", second).await?;
    }
    Ok(())
}

/// `host:port` of a URL, as a user would recognise it.
fn authority(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => url.as_str().to_owned(),
    }
}

/// The same URL with the other scheme (`http` ↔ `https`).
fn other_scheme(url: &Url) -> Option<String> {
    let scheme = match url.scheme() {
        "http" => "https",
        "https" => "http",
        _ => return None,
    };
    let rest = url.as_str().split_once("://")?.1;
    Some(format!("{scheme}://{rest}"))
}

/// One message for a connection that failed, with what to try.
fn unreachable(url: &str, dropped: &crate::client::Dropped) -> String {
    let Ok(parsed) = Url::parse(url) else {
        return format!("cannot reach {url}: {dropped}");
    };
    let at = authority(&parsed);
    let other = other_scheme(&parsed).unwrap_or_default();
    match dropped.failure {
        Failure::Refused => format!(
            "cannot reach {url}: nothing listens at {at} (connection refused); is the panel running, and is the port right?"
        ),
        Failure::NoSuchHost => format!(
            "cannot reach {url}: the host name `{}` does not resolve; check the host in --url",
            parsed.host_str().unwrap_or_default()
        ),
        Failure::NotTls if dropped.detail.to_ascii_lowercase().contains("eof") => format!(
            "cannot reach {url}: {at} closed the connection in the TLS handshake (a plain-HTTP port?); try --url {other}"
        ),
        Failure::NotTls => format!(
            "cannot reach {url}: {at} does not speak TLS (it answers in plain HTTP); try --url {other}"
        ),
        Failure::NotHttp if parsed.scheme() == "http" => format!(
            "cannot reach {url}: {at} did not answer in HTTP (a TLS port?); try --url {other}"
        ),
        Failure::NotHttp => format!("cannot reach {url}: {at} did not answer in HTTP ({})", dropped.detail),
        Failure::Certificate => format!(
            "cannot reach {url}: the TLS certificate of {at} was refused ({})",
            dropped.detail
        ),
        Failure::Closed => format!(
            "cannot reach {url}: {at} closed the connection without an answer ({})",
            dropped.detail
        ),
        Failure::Other => format!("cannot reach {url}: {}", dropped.detail),
    }
}

/// A redirect to another scheme or host: the user should give its target
/// (the runner follows no redirect, as clients that post forms often do
/// not). A redirect within the same address is the panel's own doing, for
/// the checks to report.
fn redirected(url: &str, answer: &Answer) -> Option<String> {
    if !(300..400).contains(&answer.status) {
        return None;
    }
    let location = answer.location.as_deref()?;
    let from = Url::parse(url).ok()?;
    let to = from.join(location).ok()?;
    let elsewhere = to.scheme() != from.scheme() || to.host_str() != from.host_str();
    elsewhere.then(|| {
        format!(
            "{url} answers HTTP {} with a redirect to {to}: give that address as --url (the API is not followed through redirects)",
            answer.status
        )
    })
}

fn at_contract_path(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| u.path().trim_end_matches('/') == API_PATH)
}

/// Whether an answer could come from an SMM endpoint: JSON, and not a
/// "no such page" status.
fn looks_like_api(answer: &Answer) -> bool {
    answer.json.is_some() && !not_found(answer.status)
}

/// HTTP statuses that say there is no such page.
fn not_found(status: u16) -> bool {
    matches!(status, 404 | 405 | 410)
}

/// What an answer was, in a few words: `HTTP 404 text/html: <excerpt>`.
fn described(client: &Client, answer: &Answer) -> String {
    let kind = if answer.content_type.is_empty() {
        "no content type".to_owned()
    } else {
        client.excerpt(&answer.content_type, 60)
    };
    format!(
        "HTTP {} {kind}: {}",
        answer.status,
        client.excerpt(String::from_utf8_lossy(&answer.body).trim(), 80)
    )
}

/// The message for a URL that is not an SMM endpoint; when the same host
/// answers at the contract's path, it says so.
async fn not_an_endpoint(client: &Client, url: &str, answer: &Answer) -> String {
    let what = described(client, answer);
    let guess = Url::parse(url)
        .ok()
        .and_then(|u| u.join(API_PATH).ok())
        .map(String::from);
    if let Some(guess) = guess {
        let there = client.at(&guess).call(Action::Services, &[]).await;
        if there.json().is_some_and(Value::is_array) {
            return format!(
                "{url} is not the API endpoint (`services` answered {what}); the panel answers at {guess}: use --url {guess}"
            );
        }
    }
    format!(
        "{url} does not look like an SMM API endpoint (`services` answered {what}); give the endpoint as the panel's API page shows it, usually ending in {API_PATH}"
    )
}

/// `balance` with `key`: an error object means the panel refused it.
async fn refused_key(client: &Client, flag: &str, key: &str) -> Result<(), RunError> {
    let fields = vec![
        (field::KEY.to_owned(), key.to_owned()),
        (
            field::ACTION.to_owned(),
            Action::Balance.as_str().to_owned(),
        ),
    ];
    let exchange = client.send(Method::Form, fields).await;
    match (&exchange.answer, exchange.json()) {
        // A "no such page" status is the path's doing (a panel at another
        // path): the checks report it.
        (Ok(answer), Some(value)) if schema::is_error(value) && !not_found(answer.status) => {
            Err(RunError::Usage(format!(
                "the panel refused the key of {flag}: `balance` answered {}; check {flag} ({})",
                described(client, answer),
                if flag == "--key" {
                    "or --key-file, or SMM_API_KEY"
                } else {
                    "or SMM_API_KEY_2"
                }
            )))
        }
        _ => Ok(()),
    }
}
