//! Money (CONTRACT §3, §4): a rejected request costs nothing, the charge is
//! rate × quantity / 1000 at the panel's precision, a Canceled order is
//! refunded in full and a Partial one for what was not delivered; and one key
//! cannot see another key's orders. Checks that place an order run only with
//! `--allow-orders`, within `--max-spend`.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::{field, Action, OrderStatus, ServiceType};

use super::{expect_error, judge, money_matches, price, Ctx, Findings, Service};
use crate::outcome::Verdict;
use crate::schema::Kind;

const LINK: &str = "https://example.com/smm-conformance";

/// The requests that must be refused without a charge. With orders allowed,
/// they include invalid orders for a real service.
fn rejected_requests(
    ctx: &Ctx,
    service: Option<&Service>,
) -> Vec<(String, Vec<(&'static str, String)>)> {
    let mut list = vec![
        (
            Action::Add.as_str().to_owned(),
            vec![
                (field::SERVICE, ctx.unknown_service().to_string()),
                (field::LINK, LINK.to_owned()),
                (field::QUANTITY, "1000".to_owned()),
            ],
        ),
        ("smm-conformance-no-such-action".to_owned(), vec![]),
    ];
    if let Some(s) = service {
        let id = s.id.to_string();
        let add = |extra: Vec<(&'static str, String)>| {
            let mut fields = vec![(field::SERVICE, id.clone())];
            fields.extend(extra);
            (Action::Add.as_str().to_owned(), fields)
        };
        list.push(add(vec![(field::QUANTITY, s.min.to_string())]));
        list.push(add(vec![(field::LINK, LINK.to_owned())]));
        list.push(add(vec![
            (field::LINK, LINK.to_owned()),
            (field::QUANTITY, "abc".to_owned()),
        ]));
        if s.min > 1 {
            list.push(add(vec![
                (field::LINK, LINK.to_owned()),
                (field::QUANTITY, (s.min - 1).to_string()),
            ]));
        }
        list.push(add(vec![
            (field::LINK, LINK.to_owned()),
            (field::QUANTITY, s.max.saturating_add(1).to_string()),
        ]));
        list.push(add(vec![
            (field::LINK, LINK.to_owned()),
            (field::QUANTITY, "-1".to_owned()),
        ]));
        if s.flags_known && !s.dripfeed {
            list.push(add(vec![
                (field::LINK, LINK.to_owned()),
                (field::QUANTITY, s.min.to_string()),
                (field::RUNS, "2".to_owned()),
                (field::INTERVAL, "5".to_owned()),
            ]));
        }
    }
    list
}

/// `add.validation` and `rejected.no-charge`: invalid requests are refused
/// with an error and leave the balance as it was.
async fn rejected(ctx: &Ctx, with_orders: bool) -> Verdict {
    let mut f = Findings::default();
    let service = if with_orders {
        ctx.cheapest_default().first().copied()
    } else {
        None
    };
    if with_orders {
        if let Some(why) = ctx.cannot_order() {
            return Verdict::skip(why);
        }
        if service.is_none() {
            return Verdict::skip("the catalogue has no Default service");
        }
    }
    let before = match ctx.balance().await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let mut last = None;
    let mut unaffordable = 0;
    for (action, fields) in rejected_requests(ctx, service) {
        // Invalid orders cost nothing on a conforming panel, but each is held
        // against the budget at what it would cost if the panel took it.
        if let (Some(s), true) = (service, action == Action::Add.as_str()) {
            let quantity = fields
                .iter()
                .find(|(k, _)| *k == "quantity")
                .and_then(|(_, v)| v.parse::<u64>().ok())
                .unwrap_or(s.min)
                .max(s.min);
            let runs = if fields.iter().any(|(k, _)| *k == "runs") {
                2
            } else {
                1
            };
            if !ctx.reserve(price(s.rate, quantity) * Decimal::from(runs)) {
                unaffordable += 1;
                continue;
            }
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let exchange = ctx.client.call_named(&action, &borrowed).await;
        expect_error(ctx, &mut f, &exchange, &format!("{action} {borrowed:?}"));
        last = Some(exchange);
    }
    if with_orders {
        other_types(ctx, &mut f).await;
    }
    match ctx.balance().await {
        Ok(after) if after.0 != before.0 => f.fail_plain(
            format!(
                "the balance went from {} to {} over refused requests",
                before.1, after.1
            ),
            last.map(|e| ctx.client.curl(&e)).unwrap_or_default(),
            format!("balance {}", before.1),
            format!("balance {}", after.1),
        ),
        Ok(_) => {}
        Err(e) => return e.into(),
    }
    let pass = match (with_orders, unaffordable) {
        (false, _) => "refused requests changed nothing".to_owned(),
        (true, 0) => "invalid orders were refused and cost nothing".to_owned(),
        (true, n) => format!("invalid orders were refused and cost nothing ({n} not sent: they could cost more than --max-spend leaves)"),
    };
    f.verdict(ctx.mode, pass)
}

/// For one service of each type other than Default, an `add` without the
/// fields its type needs (CONTRACT §2.1) is refused. Each is reserved at the
/// price of the service's minimum, in case the panel took it.
async fn other_types(ctx: &Ctx, f: &mut Findings) {
    let mut seen = Vec::new();
    for service in ctx.services.iter().filter(|s| !s.is(ServiceType::Default)) {
        if seen.contains(&service.kind) {
            continue;
        }
        seen.push(service.kind.clone());
        let worst = if service.kind.ends_with("Package") {
            service.rate
        } else {
            price(service.rate, service.min)
        };
        if !ctx.reserve(worst) {
            continue;
        }
        let id = service.id.to_string();
        let exchange = ctx.client.call(Action::Add, &[(field::SERVICE, &id)]).await;
        expect_error(
            ctx,
            f,
            &exchange,
            &format!("add for a {} service without its fields", service.kind),
        );
    }
}

/// `rejected.no-charge`: what needs no order.
pub async fn no_charge(ctx: Arc<Ctx>) -> Verdict {
    rejected(&ctx, false).await
}

/// `add.validation`: invalid orders for a real service (needs `--allow-orders`).
pub async fn validation(ctx: Arc<Ctx>) -> Verdict {
    rejected(&ctx, true).await
}

/// The quantity of a test order on `service`: its minimum, or more, so that
/// the charge is at least 100 units in the last decimal the panel shows
/// (`places`): then one unit of rounding is 1%, and a wrong price shows.
fn telling_quantity(service: &Service, places: u32) -> u64 {
    let target = Decimal::new(100, places.min(20))
        .checked_mul(Decimal::from(1000))
        .and_then(|gross| gross.checked_div(service.rate));
    let Some(target) = target else {
        // A rate of 0, or so small that the quantity overflows: the minimum.
        return service.min;
    };
    let quantity = target
        .ceil()
        .to_string()
        .parse::<u64>()
        .unwrap_or(service.max);
    // A catalogue may say min > max (services.min-max reports it).
    quantity.min(service.max).max(service.min)
}

/// An order placed by a money check.
struct Placed {
    order: u64,
    quantity: u64,
    /// The predicted charge, unrounded.
    charge: Decimal,
    before: Decimal,
    after: Decimal,
}

/// Places a telling order on `service` (see [`telling_quantity`]); returns
/// it with its predicted charge and the balances around it, or a verdict
/// saying why not.
async fn place(ctx: &Ctx, f: &mut Findings, service: &Service) -> Result<Placed, Verdict> {
    let before = ctx.balance().await?;
    let places = before
        .1
        .split_once('.')
        .map_or(0, |(_, frac)| frac.len() as u32);
    let quantity = telling_quantity(service, places);
    let charge = price(service.rate, quantity);
    if !ctx.reserve(charge) {
        return Err(Verdict::skip(format!(
            "the order would cost {charge}, past --max-spend"
        )));
    }
    let id = service.id.to_string();
    let q = quantity.to_string();
    let exchange = ctx
        .client
        .call(
            Action::Add,
            &[
                (field::SERVICE, &id),
                (field::LINK, LINK),
                (field::QUANTITY, &q),
            ],
        )
        .await;
    let Some(value) = judge(ctx, f, &exchange, Kind::Add) else {
        return Err(std::mem::take(f).verdict(ctx.mode, ""));
    };
    let order = value["order"].as_u64().unwrap_or(0);
    let after = ctx.balance().await?;
    Ok(Placed {
        order,
        quantity,
        charge,
        before: before.0,
        after: after.0,
    })
}

async fn status_of(
    ctx: &Ctx,
    f: &mut Findings,
    order: u64,
) -> Option<(Value, crate::client::Exchange)> {
    let exchange = ctx
        .client
        .call(Action::Status, &[(field::ORDER, &order.to_string())])
        .await;
    let value = judge(ctx, f, &exchange, Kind::Status)?;
    Some((value, exchange))
}

/// `money.charge`: the debit and the status's charge are rate × quantity / 1000.
pub async fn charge(ctx: Arc<Ctx>) -> Verdict {
    if let Some(why) = ctx.cannot_order() {
        return Verdict::skip(why);
    }
    let Some(service) = ctx.cheapest_default().first().copied().cloned() else {
        return Verdict::skip("the catalogue has no Default service");
    };
    let mut f = Findings::default();
    let Placed {
        order,
        quantity,
        charge,
        before,
        after,
    } = match place(&ctx, &mut f, &service).await {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let debit = (before - after).to_string();
    if !money_matches(&debit, charge) && !money_matches(&format!("{:.5}", before - after), charge) {
        f.fail_plain(
            format!(
                "order {order} debited {debit}, not {charge} (rate {} × {} / 1000)",
                service.rate, quantity
            ),
            format!("add service={} quantity={}", service.id, quantity),
            format!("a debit of {charge}"),
            format!("a debit of {debit}"),
        );
    }
    if let Some((status, exchange)) = status_of(&ctx, &mut f, order).await {
        let shown = status["charge"].as_str().unwrap_or("").to_owned();
        let refunded = matches!(
            status["status"].as_str().and_then(OrderStatus::parse),
            Some(OrderStatus::Canceled | OrderStatus::Partial)
        );
        if !refunded && !money_matches(&shown, charge) {
            f.fail(
                &ctx.client,
                &exchange,
                format!("status shows charge {shown}, not {charge}"),
                &format!("charge {charge}"),
            );
        }
    }
    f.verdict(
        ctx.mode,
        format!("order {order} cost {charge} as the rate says"),
    )
}

/// `money.refund-canceled`: a canceled order is refunded in full.
pub async fn refund_canceled(ctx: Arc<Ctx>) -> Verdict {
    if let Some(why) = ctx.cannot_order() {
        return Verdict::skip(why);
    }
    let Some(service) = ctx
        .cheapest_default()
        .into_iter()
        .find(|s| s.cancel)
        .cloned()
    else {
        return Verdict::skip("no Default service offers cancel");
    };
    let mut f = Findings::default();
    let Placed { order, before, .. } = match place(&ctx, &mut f, &service).await {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let exchange = ctx
        .client
        .call(Action::Cancel, &[(field::ORDERS, &order.to_string())])
        .await;
    let Some(Value::Array(items)) = judge(&ctx, &mut f, &exchange, Kind::Cancel) else {
        return f.verdict(ctx.mode, "");
    };
    if items
        .first()
        .is_some_and(|i| crate::schema::is_error(&i["cancel"]))
    {
        return Verdict::skip(format!(
            "the panel did not cancel order {order} at once, so the refund cannot be checked"
        ));
    }
    let Some((status, status_exchange)) = status_of(&ctx, &mut f, order).await else {
        return f.verdict(ctx.mode, "");
    };
    if status["status"].as_str().and_then(OrderStatus::parse) != Some(OrderStatus::Canceled) {
        return Verdict::skip(format!(
            "order {order} is {} after cancel; the refund comes later",
            status["status"]
        ));
    }
    if !money_matches(status["charge"].as_str().unwrap_or("x"), Decimal::ZERO) {
        f.fail(
            &ctx.client,
            &status_exchange,
            format!(
                "canceled order {order} still shows charge {}",
                status["charge"]
            ),
            "charge 0",
        );
    }
    match ctx.balance().await {
        Ok((after, text)) if after != before => f.fail_plain(
            format!("after cancel the balance is {text}, not {before}"),
            ctx.client.curl(&exchange),
            format!("balance {before}"),
            format!("balance {text}"),
        ),
        Ok(_) => {}
        Err(e) => return e.into(),
    }
    f.verdict(
        ctx.mode,
        format!("canceled order {order} was refunded in full"),
    )
}

/// `money.refund-partial`: a Partial order is refunded for what was not
/// delivered. Needs an order that ends Partial: on the mock, forced through
/// its admin API.
pub async fn refund_partial(ctx: Arc<Ctx>) -> Verdict {
    if let Some(why) = ctx.cannot_order() {
        return Verdict::skip(why);
    }
    let Some(admin) = ctx.admin.clone() else {
        return Verdict::skip(
            "needs an order that ends Partial: only on the mock (--mock-admin URL)",
        );
    };
    let Some(service) = ctx.cheapest_default().first().copied().cloned() else {
        return Verdict::skip("the catalogue has no Default service");
    };
    let mut f = Findings::default();
    let Placed {
        order,
        quantity,
        charge,
        after,
        ..
    } = match place(&ctx, &mut f, &service).await {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let forced =
        crate::admin::force_status(&ctx.client, &admin, order, OrderStatus::Partial, 50).await;
    if let Err(e) = forced {
        return Verdict::with(
            crate::outcome::Outcome::Error,
            format!("the mock's admin API: {e}"),
            Vec::new(),
        );
    }
    let Some((status, exchange)) = status_of(&ctx, &mut f, order).await else {
        return f.verdict(ctx.mode, "");
    };
    // The raw answer: a drifted `remains` ("Unknown") reads as 0 once
    // normalised, and nothing can be concluded from it.
    let raw_remains = exchange.json().map(|v| v["remains"].clone());
    let Some(remains) = raw_remains.and_then(|r| {
        r.as_u64()
            .or_else(|| r.as_str().and_then(|s| s.parse().ok()))
    }) else {
        return f.verdict(
            ctx.mode,
            format!(
                "Partial order {order}: remains is not a number, so the refund cannot be checked"
            ),
        );
    };
    let delivered = quantity.saturating_sub(remains);
    let kept = price(service.rate, delivered);
    let shown = status["charge"].as_str().unwrap_or("").to_owned();
    if !money_matches(&shown, kept) {
        f.fail(
            &ctx.client,
            &exchange,
            format!(
                "Partial order {order} shows charge {shown}, not {kept} for {delivered} delivered"
            ),
            &format!("charge {kept}"),
        );
    }
    match ctx.balance().await {
        Ok((now, text)) => {
            let refund = now - after;
            if !money_matches(&refund.to_string(), charge - kept)
                && !money_matches(&format!("{refund:.5}"), charge - kept)
            {
                f.fail_plain(
                    format!(
                        "Partial order {order}: refunded {refund}, not {}",
                        charge - kept
                    ),
                    ctx.client.curl(&exchange),
                    format!("balance {} + {}", after, charge - kept),
                    format!("balance {text}"),
                );
            }
        }
        Err(e) => return e.into(),
    }
    f.verdict(
        ctx.mode,
        format!("Partial order {order} was refunded for what was not delivered"),
    )
}

/// `isolation.cross-key`: a second key cannot see or touch the first key's orders.
pub async fn cross_key(ctx: Arc<Ctx>) -> Verdict {
    let Some(second) = ctx.client.target().second_key.clone() else {
        return Verdict::skip(
            "needs a second key of another account: --second-key or SMM_API_KEY_2",
        );
    };
    let Some(order) = ctx.known_orders.first().copied() else {
        return Verdict::skip("needs an existing order of the first key: --order ID");
    };
    let mut f = Findings::default();
    let id = order.to_string();
    for action in [Action::Status, Action::Refill] {
        let field = action.id_field().unwrap_or_default();
        let exchange = ctx
            .client
            .post(vec![
                (field::KEY.into(), second.clone()),
                (field::ACTION.into(), action.as_str().into()),
                (field.into(), id.clone()),
            ])
            .await;
        expect_error(
            &ctx,
            &mut f,
            &exchange,
            &format!("{action} of another key's order {id}"),
        );
    }
    let exchange = ctx
        .client
        .post(vec![
            (field::KEY.into(), second.clone()),
            (field::ACTION.into(), Action::Status.as_str().into()),
            (field::ORDERS.into(), id.clone()),
        ])
        .await;
    if let Some(value) = judge(&ctx, &mut f, &exchange, Kind::StatusBulk) {
        if !crate::schema::is_error(&value[&id]) {
            f.fail(
                &ctx.client,
                &exchange,
                format!("another key sees order {id} in bulk status"),
                "a per-id error",
            );
        }
    }
    f.verdict(ctx.mode, format!("a second key cannot see order {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(rate: &str, min: u64, max: u64) -> Service {
        Service {
            id: 1,
            kind: "Default".into(),
            rate: rate.parse().unwrap(),
            min,
            max,
            dripfeed: false,
            refill: false,
            cancel: false,
            flags_known: true,
        }
    }

    #[test]
    fn a_telling_quantity_is_found_whatever_the_catalogue_says() {
        // 100 units of the 5th decimal at 0.9 per 1000: 1.12 → 2 units.
        assert_eq!(telling_quantity(&service("0.9", 1, 10_000), 5), 2);
        assert_eq!(telling_quantity(&service("0.9", 50, 10_000), 5), 50);
        assert_eq!(telling_quantity(&service("0", 10, 100), 5), 10);
        // min > max and a rate too small to divide by: no panic.
        assert_eq!(telling_quantity(&service("0.9", 100, 10), 5), 100);
        let tiny = service("0.0000000000000000000000000001", 1, 9);
        assert_eq!(telling_quantity(&tiny, 0), 1, "overflows: the minimum");
        assert_eq!(
            telling_quantity(&tiny, 20),
            9,
            "past the maximum: the maximum"
        );
    }
}
