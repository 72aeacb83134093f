//! `services` and `balance` (CONTRACT §2, §3).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;
use smm_contract::{Action, ServiceType, SERVICE_FLAGS};

use super::{judge, Ctx, Findings};
use crate::outcome::Verdict;
use crate::schema::Kind;

/// The catalogue, read tolerantly, for the checks that need each service.
fn items(ctx: &Ctx, findings: &mut Findings) -> Option<Vec<Value>> {
    let value = judge(ctx, findings, &ctx.services_exchange, Kind::Services)?;
    value.as_array().cloned()
}

/// `services.schema`: the answer follows `schemas/services.schema.json`.
pub async fn schema(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let count = items(&ctx, &mut f).map_or(0, |i| i.len());
    f.verdict(ctx.mode, format!("{count} services, each valid"))
}

/// `services.unique-ids`.
pub async fn unique_ids(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let mut scratch = Findings::default();
    if let Some(items) = items(&ctx, &mut scratch) {
        let mut seen = HashSet::new();
        for item in &items {
            let id = item["service"].to_string();
            if !seen.insert(id.clone()) {
                f.fail(
                    &ctx.client,
                    &ctx.services_exchange,
                    format!("service id {id} is listed twice"),
                    "unique service ids",
                );
            }
        }
    } else if !scratch.is_clean() {
        return Verdict::skip("the catalogue cannot be read (see services.schema)");
    }
    f.verdict(ctx.mode, "every service id is unique")
}

/// `services.min-max`: min ≤ max, both positive integers.
pub async fn min_max(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    for s in &ctx.services {
        if s.min > s.max {
            f.fail(
                &ctx.client,
                &ctx.services_exchange,
                format!("service {}: min {} > max {}", s.id, s.min, s.max),
                "min ≤ max",
            );
        }
    }
    if ctx.services.is_empty() {
        return Verdict::skip("no service could be read (see services.schema)");
    }
    f.verdict(ctx.mode, "min ≤ max for every service")
}

/// `services.rate`: a rate ≥ 0.
pub async fn rate(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    for s in &ctx.services {
        if s.rate.is_sign_negative() {
            f.fail(
                &ctx.client,
                &ctx.services_exchange,
                format!("service {}: negative rate {}", s.id, s.rate),
                "rate ≥ 0",
            );
        }
    }
    if ctx.services.is_empty() {
        return Verdict::skip("no service could be read (see services.schema)");
    }
    f.verdict(ctx.mode, "every rate is ≥ 0")
}

/// `services.types`: types of §2.1 (others Warn).
pub async fn types(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    for s in &ctx.services {
        if ServiceType::parse(&s.kind).is_none() {
            f.warn(
                format!(
                    "service {}: type `{}` is not one of CONTRACT §2.1",
                    s.id, s.kind
                ),
                ctx.client.curl(&ctx.services_exchange),
                "a type of CONTRACT §2.1".into(),
                s.kind.clone(),
            );
        }
    }
    if ctx.services.is_empty() {
        return Verdict::skip("no service could be read (see services.schema)");
    }
    f.verdict(ctx.mode, "every type is one of CONTRACT §2.1")
}

/// `services.flags`: `dripfeed`, `refill`, `cancel` present as booleans.
pub async fn flags(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let Some(Value::Array(items)) = ctx
        .services_exchange
        .answer
        .as_ref()
        .ok()
        .and_then(|a| a.json.clone())
    else {
        return Verdict::skip("the catalogue cannot be read (see services.schema)");
    };
    for item in &items {
        for flag in SERVICE_FLAGS {
            match item.get(flag) {
                Some(Value::Bool(_)) => {}
                None => f.drift(
                    &ctx.client,
                    &ctx.services_exchange,
                    format!("service {}: no `{flag}` flag", item["service"]),
                    "dripfeed, refill and cancel booleans",
                ),
                Some(other) => f.fail(
                    &ctx.client,
                    &ctx.services_exchange,
                    format!(
                        "service {}: `{flag}` is {other}, not a boolean",
                        item["service"]
                    ),
                    "dripfeed, refill and cancel booleans",
                ),
            }
        }
    }
    f.verdict(ctx.mode, "every service has its three flags")
}

/// `balance.schema`.
pub async fn balance(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let exchange = ctx.client.call(Action::Balance, &[]).await;
    let shown = judge(&ctx, &mut f, &exchange, Kind::Balance).map(|v| v["balance"].to_string());
    f.verdict(ctx.mode, format!("balance {}", shown.unwrap_or_default()))
}
