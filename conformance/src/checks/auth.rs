//! Authentication and request errors (CONTRACT §1, §4): a wrong, empty or
//! missing key gets an error and reveals nothing; unknown and missing actions
//! get an error; unknown ids get errors.

use std::sync::Arc;

use smm_contract::{field, Action};

use super::{expect_error, Ctx, Findings, UNKNOWN_ID};
use crate::outcome::Verdict;

/// Fields for each action that would read or change something with a real key.
/// With a bad key every one of them must be refused; none can place an order.
fn probes(ctx: &Ctx) -> Vec<(Action, Vec<(String, String)>)> {
    let service = ctx.services.first().map_or(1, |s| s.id).to_string();
    let order = ctx
        .known_orders
        .first()
        .copied()
        .unwrap_or(UNKNOWN_ID)
        .to_string();
    vec![
        (Action::Services, vec![]),
        (Action::Balance, vec![]),
        (
            Action::Add,
            vec![
                (field::SERVICE.into(), service),
                (field::LINK.into(), "https://example.com/conformance".into()),
                (field::QUANTITY.into(), "1000".into()),
            ],
        ),
        (Action::Status, vec![(field::ORDER.into(), order.clone())]),
        (Action::Status, vec![(field::ORDERS.into(), order.clone())]),
        (Action::Refill, vec![(field::ORDER.into(), order.clone())]),
        (
            Action::RefillStatus,
            vec![(field::REFILL.into(), "1".into())],
        ),
        (Action::Cancel, vec![(field::ORDERS.into(), order)]),
    ]
}

async fn with_key(ctx: Arc<Ctx>, key: Option<&str>, label: &str) -> Verdict {
    let mut f = Findings::default();
    for (action, fields) in probes(&ctx) {
        let mut all = Vec::new();
        if let Some(key) = key {
            all.push((field::KEY.to_owned(), key.to_owned()));
        }
        all.push((field::ACTION.to_owned(), action.as_str().to_owned()));
        all.extend(fields);
        let exchange = ctx.client.post(all).await;
        expect_error(&ctx, &mut f, &exchange, &format!("{action} with {label}"));
    }
    f.verdict(ctx.mode, format!("every action refuses {label}"))
}

/// `auth.wrong-key`.
pub async fn wrong_key(ctx: Arc<Ctx>) -> Verdict {
    with_key(ctx, Some("smm-conformance-wrong-key-0000"), "a wrong key").await
}

/// `auth.empty-key`.
pub async fn empty_key(ctx: Arc<Ctx>) -> Verdict {
    with_key(ctx, Some(""), "an empty key").await
}

/// `auth.missing-key`.
pub async fn missing_key(ctx: Arc<Ctx>) -> Verdict {
    with_key(ctx, None, "no key").await
}

/// `request.unknown-action`.
pub async fn unknown_action(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    for action in [
        "smm-conformance-no-such-action",
        // Never a case of `add`: a panel that folds case would read an order.
        "STATUS",
        "Balance",
        " balance",
    ] {
        let exchange = ctx.client.call_named(action, &[]).await;
        expect_error(&ctx, &mut f, &exchange, &format!("action `{action}`"));
    }
    f.verdict(ctx.mode, "unknown actions are refused")
}

/// `request.missing-action`.
pub async fn missing_action(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let key = ctx.client.target().key.clone();
    for fields in [
        vec![(field::KEY.to_owned(), key.clone())],
        vec![
            (field::KEY.to_owned(), key),
            (field::ACTION.to_owned(), String::new()),
        ],
    ] {
        let exchange = ctx.client.post(fields).await;
        expect_error(&ctx, &mut f, &exchange, "no action");
    }
    f.verdict(ctx.mode, "a request without an action is refused")
}

/// `add.unknown-service`: `add` for a service that does not exist is refused.
pub async fn unknown_service(ctx: Arc<Ctx>) -> Verdict {
    // An `add` with the real key could create an order if the panel had the
    // service after all (or its catalogue could not be read): only with
    // consent.
    if let Some(why) = ctx.cannot_order() {
        return Verdict::skip(why);
    }
    let mut f = Findings::default();
    let service = ctx.unknown_service().to_string();
    for service in [service.as_str(), "abc", "-1"] {
        let exchange = ctx
            .client
            .call(
                Action::Add,
                &[
                    (field::SERVICE, service),
                    (field::LINK, "https://example.com/conformance"),
                    (field::QUANTITY, "1000"),
                ],
            )
            .await;
        expect_error(
            &ctx,
            &mut f,
            &exchange,
            &format!("add for service `{service}`"),
        );
    }
    f.verdict(ctx.mode, "orders for unknown services are refused")
}

/// `status.unknown-order`.
pub async fn unknown_order(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let unknown = UNKNOWN_ID.to_string();
    for order in [
        unknown.as_str(),
        "abc",
        "-5",
        "99999999999999999999999",
        "1.5",
    ] {
        let exchange = ctx
            .client
            .call(Action::Status, &[(field::ORDER, order)])
            .await;
        expect_error(
            &ctx,
            &mut f,
            &exchange,
            &format!("status of order `{order}`"),
        );
    }
    f.verdict(ctx.mode, "status of unknown or malformed ids is an error")
}

/// `refill.unknown`: refill and refill_status of unknown ids.
pub async fn unknown_refill(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let unknown = UNKNOWN_ID.to_string();
    for action in [Action::Refill, Action::RefillStatus] {
        let field = action.id_field().unwrap_or_default();
        for id in [unknown.as_str(), "abc"] {
            let exchange = ctx.client.call(action, &[(field, id)]).await;
            expect_error(&ctx, &mut f, &exchange, &format!("{action} of `{id}`"));
        }
    }
    f.verdict(
        ctx.mode,
        "refill and refill_status of unknown ids are errors",
    )
}
