//! Transport (CONTRACT §1): JSON content type on every answer, errors with
//! HTTP 200, every action answered within the timeout; GET and JSON bodies
//! probed for information. These run last, over everything the run saw.

use std::sync::Arc;

use smm_contract::Action;

use super::{Ctx, Findings};
use crate::client::Method;
use crate::outcome::{Evidence, Outcome, Verdict};

fn listed(title: &str, requests: &[String]) -> Verdict {
    let evidence = requests
        .iter()
        .take(5)
        .map(|r| Evidence {
            request: r.clone(),
            expected: String::new(),
            actual: String::new(),
            diff: None,
        })
        .collect();
    Verdict::with(
        Outcome::Fail,
        format!("{title} ({} requests)", requests.len()),
        evidence,
    )
}

/// `transport.content-type`: `application/json` on every answer.
pub async fn content_type(ctx: Arc<Ctx>) -> Verdict {
    let seen = ctx.client.observations();
    let bad: Vec<String> = seen
        .answers
        .iter()
        .filter(|(_, _, ct)| {
            !ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .map(|(r, _, ct)| format!("{r}  # Content-Type: {ct:?}"))
        .collect();
    if bad.is_empty() {
        Verdict::pass(format!(
            "{} answers, all application/json",
            seen.answers.len()
        ))
    } else {
        listed("answers without Content-Type application/json", &bad)
    }
}

/// `transport.http-200`: every answer, errors included, is HTTP 200.
pub async fn http_200(ctx: Arc<Ctx>) -> Verdict {
    let seen = ctx.client.observations();
    let bad: Vec<String> = seen
        .answers
        .iter()
        .filter(|(_, status, _)| *status != 200)
        .map(|(r, status, _)| format!("{r}  # HTTP {status}"))
        .collect();
    if bad.is_empty() {
        Verdict::pass(format!("{} answers, all HTTP 200", seen.answers.len()))
    } else {
        listed("answers with an HTTP status other than 200", &bad)
    }
}

/// `transport.timeouts`: every request answered within the timeout.
pub async fn timeouts(ctx: Arc<Ctx>) -> Verdict {
    let seen = ctx.client.observations();
    if seen.timeouts.is_empty() {
        Verdict::pass(format!(
            "every request answered within {:?}",
            ctx.client.target().timeout
        ))
    } else {
        listed("requests not answered within the timeout", &seen.timeouts)
    }
}

/// `transport.rate-limit`: HTTP 429 met (and retried) is a warning.
pub async fn rate_limit(ctx: Arc<Ctx>) -> Verdict {
    let seen = ctx.client.observations();
    if !seen.still_limited.is_empty() {
        return listed(
            "requests still answered HTTP 429 when their timeout ran out",
            &seen.still_limited,
        );
    }
    if seen.rate_limited.is_empty() {
        return Verdict::pass("no HTTP 429");
    }
    let mut f = Findings::default();
    for r in seen.rate_limited.iter().take(5) {
        f.warn(
            "HTTP 429 met; retried after Retry-After",
            r.clone(),
            "no rate limit within the run's pace".into(),
            "HTTP 429".into(),
        );
    }
    f.verdict(ctx.mode, "")
}

/// Asks for the balance with `method` (`GET` or `JSON`): a balance passes,
/// anything else warns (information, not a contract failure).
async fn probe(ctx: Arc<Ctx>, method: Method, accepted: &str, refused: &str) -> Verdict {
    let fields = ctx.client.fields(Action::Balance.as_str(), &[]);
    let exchange = ctx.client.send(method, fields).await;
    let answered = exchange.json().is_some_and(|v| v.get("balance").is_some());
    if answered {
        return Verdict::pass(accepted);
    }
    let actual = match &exchange.answer {
        Ok(a) => format!(
            "HTTP {}: {}",
            a.status,
            ctx.client.excerpt(&String::from_utf8_lossy(&a.body), 200)
        ),
        Err(e) => e.to_string(),
    };
    let mut f = Findings::default();
    f.warn(
        refused,
        ctx.client.curl(&exchange),
        "a balance".into(),
        actual,
    );
    f.verdict(ctx.mode, "")
}

/// `transport.get`: GET with a query string (information: clients that only GET).
pub async fn get(ctx: Arc<Ctx>) -> Verdict {
    probe(
        ctx,
        Method::Query,
        "GET with a query string is answered like POST",
        "GET with a query string is not answered like POST (two public clients only send GET)",
    )
    .await
}

/// `transport.json-body`: a JSON body (information: many clients send one).
pub async fn json_body(ctx: Arc<Ctx>) -> Verdict {
    probe(
        ctx,
        Method::Json,
        "a JSON body is answered like a form",
        "a JSON body is not answered like a form (clients that send JSON get no balance)",
    )
    .await
}

/// `transport.connection`: no connection refused, reset or closed early once
/// the run had started.
pub async fn connection(ctx: Arc<Ctx>) -> Verdict {
    let seen = ctx.client.observations();
    if seen.dropped.is_empty() {
        return Verdict::pass("no connection failed");
    }
    let requests: Vec<String> = seen
        .dropped
        .iter()
        .map(|(r, e)| format!("{r}  # {e}"))
        .collect();
    listed("connections that failed before an answer", &requests)
}

/// `transport.trailing-slash`: `/api/v2/` is served like `/api/v2`, not
/// redirected (a redirect breaks clients that do not follow it, and those
/// that do turn the POST into a GET without its body).
pub async fn trailing_slash(ctx: Arc<Ctx>) -> Verdict {
    let url = ctx.client.target().url.clone();
    let other = if let Some(bare) = url.strip_suffix("/api/v2/") {
        format!("{bare}/api/v2")
    } else if url.ends_with("/api/v2") {
        format!("{url}/")
    } else {
        return Verdict::skip("the URL does not end in /api/v2: no conventional variant to try");
    };
    let client = ctx.client.at(&other);
    let exchange = client
        .send(Method::Form, client.fields(Action::Balance.as_str(), &[]))
        .await;
    let mut f = Findings::default();
    match &exchange.answer {
        Ok(answer)
            if answer.status == 200
                && answer
                    .json
                    .as_ref()
                    .is_some_and(|v| v.get("balance").is_some()) => {}
        Ok(answer) => f.fail(
            &client,
            &exchange,
            format!(
                "{other} answered HTTP {} instead of the balance",
                answer.status
            ),
            "the same answer as without (or with) the trailing slash, HTTP 200",
        ),
        Err(e) => f.error(&client, &exchange, format!("{other}: {e}")),
    }
    f.verdict(
        ctx.mode,
        "the path is served with and without a trailing slash",
    )
}
