//! Money (CONTRACT §3, §4): a rejected request costs nothing, the charge is
//! rate × quantity / 1000 at the panel's precision, a Canceled order is
//! refunded in full and a Partial one for what was not delivered; and one key
//! cannot see another key's orders. Checks that place an order run only with
//! `--allow-orders`, within `--max-spend`.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::Value;
use smm_contract::{field, Action, OrderStatus, ServiceType};

use super::drive::{NewOrder, Watched, Word};
use super::refill::{cheapest, smallest};
use super::{
    at_places, expect_error, expect_unmoved, judge, money_matches, places_of, price, Ctx, Findings,
    Service,
};
use crate::outcome::Verdict;
use crate::schema::Kind;

const LINK: &str = "https://example.com/smm-conformance";

/// The requests that must be refused without a charge. With orders allowed,
/// they include invalid orders for a real service.
fn rejected_requests(
    ctx: &Ctx,
    service: Option<&Service>,
) -> Vec<(String, Vec<(&'static str, String)>)> {
    let mut list = vec![("smm-conformance-no-such-action".to_owned(), vec![])];
    // An `add` with the real key only with consent (`--allow-orders`), even
    // for a service the catalogue does not list.
    if let Some(s) = service {
        list.push((
            Action::Add.as_str().to_owned(),
            vec![
                (field::SERVICE, ctx.unknown_service().to_string()),
                (field::LINK, LINK.to_owned()),
                (field::QUANTITY, "1000".to_owned()),
            ],
        ));
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
    let requests = rejected_requests(ctx, service);
    // The invalid orders for the real service (the budget holds each).
    // The invalid orders (each held against the budget).
    let probes = requests
        .iter()
        .filter(|(a, _)| a == Action::Add.as_str())
        .count();
    for (action, fields) in requests {
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
    let request = last.map(|e| ctx.client.curl(&e)).unwrap_or_default();
    if let Err(verdict) =
        expect_unmoved(ctx, &mut f, &before, "over refused requests", request).await
    {
        return verdict;
    }
    if with_orders && unaffordable == probes {
        return Verdict::skip(format!(
            "not enough budget: none of the {probes} invalid orders could be held against what --max-spend leaves (each at what it would cost if the panel took it)"
        ));
    }
    let pass = match (with_orders, unaffordable) {
        (false, _) => "refused requests changed nothing".to_owned(),
        (true, 0) => "invalid orders were refused and cost nothing".to_owned(),
        (true, n) => format!(
            "{} of {probes} invalid orders sent, refused, and cost nothing ({n} not sent: each could cost more than --max-spend leaves)",
            probes - n
        ),
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

/// An order placed by a money check, with the balances around it.
struct Placed {
    order: u64,
    quantity: u64,
    /// The predicted charge, unrounded.
    charge: Decimal,
    before: Decimal,
    after: Decimal,
    /// The decimal places the panel writes money with.
    places: u32,
}

/// Places a telling order on `service` (see [`telling_quantity`]) asking
/// for `word`; returns it with its predicted charge and the balances around
/// it, or a verdict saying why not.
async fn place(
    ctx: &Ctx,
    f: &mut Findings,
    check: &'static str,
    service: &Service,
    word: Word,
    runs: Option<u32>,
) -> Result<Placed, Verdict> {
    let before = ctx.balance().await?;
    let quantity = telling_quantity(service, places_of(&before.1));
    let order = NewOrder {
        service,
        quantity,
        runs,
        word,
    };
    let placed = ctx.place(f, check, order).await?;
    let after = ctx.balance().await?;
    Ok(Placed {
        order: placed.id,
        quantity,
        charge: placed.cost,
        before: before.0,
        after: after.0,
        places: places_of(&before.1),
    })
}

/// Whether a debit (or refund) of `amount` is `exact` at the panel's
/// precision (or at 5 places, for a balance written with fewer).
fn amount_matches(amount: Decimal, exact: Decimal) -> bool {
    money_matches(&amount.to_string(), exact) || money_matches(&format!("{amount:.5}"), exact)
}

/// Checks the debit of `placed` and the charge its status shows.
async fn debit_and_charge(ctx: &Ctx, f: &mut Findings, placed: &Placed, what: &str) {
    let Placed {
        order,
        charge,
        before,
        after,
        places,
        ..
    } = *placed;
    let debit = before - after;
    let charge_shown = at_places(charge, places);
    if !amount_matches(debit, charge) {
        f.fail_plain(
            format!("order {order} debited {debit}, not {charge_shown} ({what})"),
            ctx.ledger()
                .orders
                .iter()
                .find(|e| e.id == order)
                .map_or_else(|| format!("add order {order}"), |e| e.placed_by.clone()),
            format!("a debit of {charge_shown}"),
            format!("a debit of {debit}"),
        );
    }
    if let Some((status, exchange)) = ctx.poll(f, order).await {
        let shown = status["charge"].as_str().unwrap_or("").to_owned();
        let refunded = matches!(
            status["status"].as_str().and_then(OrderStatus::parse),
            Some(OrderStatus::Canceled | OrderStatus::Partial)
        );
        if !refunded && !money_matches(&shown, charge) {
            f.fail(
                &ctx.client,
                &exchange,
                format!("status shows charge {shown}, not {charge_shown} ({what})"),
                &format!("charge {charge_shown}"),
            );
        }
    }
}

/// `money.charge`: the debit and the status's charge are rate × quantity / 1000.
pub async fn charge(ctx: Arc<Ctx>) -> Verdict {
    let Some(service) = ctx.cheapest_default().first().copied().cloned() else {
        return Verdict::skip("the catalogue has no Default service");
    };
    let mut f = Findings::default();
    let placed = match place(&ctx, &mut f, "money.charge", &service, Word::Complete, None).await {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let what = format!("rate {} × {} / 1000", service.rate, placed.quantity);
    debit_and_charge(&ctx, &mut f, &placed, &what).await;
    f.verdict(
        ctx.mode,
        format!(
            "order {} cost {} as the rate says",
            placed.order,
            at_places(placed.charge, placed.places)
        ),
    )
}

/// `money.dripfeed`: an order with runs R on a drip-feed service costs
/// rate × quantity × R / 1000; runs on a service without drip-feed are
/// refused and cost nothing.
pub async fn dripfeed(ctx: Arc<Ctx>) -> Verdict {
    const RUNS: u32 = 2;
    let Some(service) = cheapest(&ctx, |s| s.dripfeed) else {
        return Verdict::skip("no Default service offers drip-feed");
    };
    let mut f = Findings::default();
    let placed = match place(
        &ctx,
        &mut f,
        "money.dripfeed",
        &service,
        Word::Complete,
        Some(RUNS),
    )
    .await
    {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let what = format!(
        "rate {} × {} × {RUNS} runs / 1000",
        service.rate, placed.quantity
    );
    debit_and_charge(&ctx, &mut f, &placed, &what).await;
    let mut refused = String::new();
    if let Some(plain) = cheapest(&ctx, |s| !s.dripfeed) {
        let order = NewOrder {
            service: &plain,
            quantity: plain.min,
            runs: Some(RUNS),
            word: Word::Complete,
        };
        if ctx.afford(order.cost()).is_ok() {
            let before = match ctx.balance().await {
                Ok(b) => b,
                Err(e) => return e.into(),
            };
            let exchange = ctx.send_add(&order, &ctx.client.target().key).await;
            if !expect_error(
                &ctx,
                &mut f,
                &exchange,
                "add with runs for a service without drip-feed",
            ) {
                let _ = ctx.book(&mut f, "money.dripfeed", &order, order.cost(), &exchange);
            }
            let request = ctx.client.curl(&exchange);
            let what = "over an order with runs on a service without drip-feed";
            if let Err(verdict) = expect_unmoved(&ctx, &mut f, &before, what, request).await {
                return verdict;
            }
            refused = format!("; runs on service {} refused", plain.id);
        }
    }
    f.verdict(
        ctx.mode,
        format!(
            "drip-feed order {} cost {} for {RUNS} runs{refused}",
            placed.order,
            at_places(placed.charge, placed.places)
        ),
    )
}

/// `money.concurrency`: N orders placed at once on one key lower the
/// balance by exactly the sum of their charges, with N distinct ids.
pub async fn concurrency(ctx: Arc<Ctx>) -> Verdict {
    let Some(service) = ctx.cheapest_default().first().copied().cloned() else {
        return Verdict::skip("the catalogue has no Default service");
    };
    let n = ctx.concurrent_orders.max(2);
    let one = NewOrder {
        service: &service,
        quantity: service.min,
        runs: None,
        word: Word::Complete,
    };
    let total = one.cost() * Decimal::from(n as u64);
    if let Err(verdict) = ctx.afford(total) {
        return verdict;
    }
    let mut f = Findings::default();
    let before = match ctx.balance().await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let mut sending = tokio::task::JoinSet::new();
    for i in 0..n {
        let (ctx, service) = (Arc::clone(&ctx), service.clone());
        sending.spawn(async move {
            let order = NewOrder {
                service: &service,
                ..smallest(&service, Word::Complete)
            };
            (i, ctx.send_add(&order, &ctx.client.target().key).await)
        });
    }
    let mut answers = Vec::new();
    while let Some(Ok(sent)) = sending.join_next().await {
        answers.push(sent);
    }
    // In the order of the ids the panel gave (which request got which id
    // depends on timing; the ledger and the report must not).
    answers.sort_by_key(|(i, exchange)| {
        let id = exchange.json().and_then(|v| v["order"].as_u64());
        (id.is_none(), id, *i)
    });
    let mut ids = Vec::new();
    let mut last = None;
    for (_, exchange) in answers {
        if let Ok(placed) = ctx.book(&mut f, "money.concurrency", &one, one.cost(), &exchange) {
            ids.push(placed.id);
        }
        last = Some(exchange);
    }
    let request = last.map(|e| ctx.client.curl(&e)).unwrap_or_default();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ids.len() {
        f.fail_plain(
            format!(
                "{} orders placed at once got only {} distinct ids",
                ids.len(),
                distinct.len()
            ),
            request.clone(),
            "distinct ids".into(),
            format!("{ids:?}"),
        );
    }
    let charged = one.cost() * Decimal::from(ids.len() as u64);
    match ctx.balance().await {
        Ok((after, text)) => {
            let debit = before.0 - after;
            let places = places_of(&before.1).min(28);
            let tolerance = Decimal::new(ids.len().max(1) as i64, places);
            if (debit - charged).abs() > tolerance {
                f.fail_plain(
                    format!(
                        "{} orders placed at once debited {debit}, not {} (from {} to {text})",
                        ids.len(),
                        at_places(charged, places),
                        before.1
                    ),
                    request,
                    format!("a debit of {}", at_places(charged, places)),
                    format!("a debit of {debit}"),
                );
            }
        }
        Err(e) => return e.into(),
    }
    if ids.len() != n && f.is_clean() {
        return f.verdict(ctx.mode, "");
    }
    f.verdict(
        ctx.mode,
        format!("{n} orders placed at once: {n} distinct ids, debited {charged} in all"),
    )
}

/// `money.refund-canceled`: a canceled order is refunded in full: its status
/// shows charge 0 and the balance is back where it was.
pub async fn refund_canceled(ctx: Arc<Ctx>) -> Verdict {
    let Some(service) = ctx
        .cheapest_default()
        .into_iter()
        .find(|s| s.cancel)
        .cloned()
    else {
        return Verdict::skip("no Default service offers cancel");
    };
    let mut f = Findings::default();
    let Placed { order, before, .. } = match place(
        &ctx,
        &mut f,
        "money.refund-canceled",
        &service,
        Word::Cancel,
        None,
    )
    .await
    {
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
    if let Some(error) = items
        .first()
        .map(|i| &i["cancel"])
        .filter(|c| crate::schema::is_error(c))
    {
        return Verdict::skip(format!(
            "the panel did not cancel order {order} of a cancel service ({}), so the refund cannot be checked",
            error["error"]
        ));
    }
    let (status, status_exchange) =
        match ctx.watch(&mut f, order, |s| s == OrderStatus::Canceled).await {
            Watched::Reached(OrderStatus::Canceled, value, exchange) => (value, exchange),
            Watched::Reached(other, ..) => {
                return Verdict::skip(format!(
                    "order {order} ended {other} although its cancel was accepted (it may have ended first)"
                ))
            }
            watched @ Watched::Running(_) => return watched.skip(order, ctx.watch),
            Watched::Unreadable => return f.verdict(ctx.mode, ""),
        };
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
/// delivered. Its link asks for a partial delivery; an order that ends
/// otherwise leaves the check skipped.
pub async fn refund_partial(ctx: Arc<Ctx>) -> Verdict {
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
    } = match place(
        &ctx,
        &mut f,
        "money.refund-partial",
        &service,
        Word::Partial,
        None,
    )
    .await
    {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let exchange = match ctx.watch(&mut f, order, |_| false).await {
        Watched::Reached(OrderStatus::Partial, _, exchange) => exchange,
        Watched::Reached(other, ..) => {
            return Verdict::skip(format!(
                "order {order} ended {other}, not Partial: the panel did not honour its link's `partial` (a test panel can: see the README)"
            ))
        }
        watched @ Watched::Running(_) => return watched.skip(order, ctx.watch),
        Watched::Unreadable => return f.verdict(ctx.mode, ""),
    };
    let Some(status) = judge(&ctx, &mut f, &exchange, Kind::Status) else {
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
            if !amount_matches(refund, charge - kept) {
                let due = at_places(charge - kept, places_of(&text));
                f.fail_plain(
                    format!("Partial order {order}: refunded {refund}, not {due}"),
                    ctx.client.curl(&exchange),
                    format!("balance {after} + {due}"),
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

/// `money.funds`: a key whose balance is below the cheapest order is
/// refused with an error, and its balance never goes below zero.
pub async fn funds(ctx: Arc<Ctx>) -> Verdict {
    let Some(second) = ctx.client.target().second_key.clone() else {
        return Verdict::skip(
            "needs the key of an account without funds: --second-key or SMM_API_KEY_2",
        );
    };
    let before = match ctx.balance_of(&second).await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    // An order that costs clearly more than the balance, at the panel's
    // precision: 100 units of its last decimal more (a panel that rounds
    // 0.005 to 0.00 may rightly take the cheapest order from an empty key).
    let want = before.0 + Decimal::new(100, places_of(&before.1).min(20));
    let services: Vec<Service> = ctx.cheapest_default().into_iter().cloned().collect();
    let Some((service, quantity)) = services.iter().find_map(|s| {
        let quantity = want
            .checked_mul(Decimal::from(1000))
            .and_then(|gross| gross.checked_div(s.rate))?
            .ceil()
            .to_string()
            .parse::<u64>()
            .ok()?
            .max(s.min);
        (quantity <= s.max).then_some((s, quantity))
    }) else {
        return Verdict::skip(format!(
            "the second key's balance ({}) covers every order the catalogue allows: give a key with less as --second-key to check funds",
            before.1
        ));
    };
    let order = NewOrder {
        service,
        quantity,
        runs: None,
        word: Word::Complete,
    };
    // Held against the budget in case the panel takes it.
    if let Err(verdict) = ctx.afford(order.cost()) {
        return verdict;
    }
    let mut f = Findings::default();
    let exchange = ctx.send_add(&order, &second).await;
    expect_error(
        &ctx,
        &mut f,
        &exchange,
        &format!(
            "an order of {} with a balance of {}",
            order.cost().normalize(),
            before.1
        ),
    );
    match ctx.balance_of(&second).await {
        Ok((after, text)) if after != before.0 || after < Decimal::ZERO => f.fail_plain(
            format!("the second key's balance went from {} to {text}", before.1),
            ctx.client.curl(&exchange),
            format!("balance {}", before.1),
            format!("balance {text}"),
        ),
        Ok(_) => {}
        Err(e) => return e.into(),
    }
    f.verdict(
        ctx.mode,
        format!(
            "an order the balance ({}) does not cover was refused",
            before.1
        ),
    )
}

/// `money.ledger`: every order the run placed, watched to its end where
/// `--watch` allows, reconciles with the balance: now = at start − Σ final
/// charges, within one unit of the panel's precision per order.
pub async fn ledger(ctx: Arc<Ctx>) -> Verdict {
    if let Some(why) = ctx.cannot_order() {
        return Verdict::skip(why);
    }
    let mut f = Findings::default();
    let Some((start_text, start)) = ctx.ledger().start.clone() else {
        return Verdict::skip("the balance could not be read before the first order");
    };
    if ctx.ledger().orders.is_empty() {
        return Verdict::skip("the run placed no order");
    }
    ctx.settle(&mut f).await;
    let unanswered = ctx.ledger().unanswered.len();
    if unanswered > 0 {
        return Verdict::with(
            crate::outcome::Outcome::Error,
            format!("{unanswered} add requests got no answer: the orders they may have placed cannot be reconciled"),
            Vec::new(),
        );
    }
    let (now, text) = match ctx.balance().await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let ledger = ctx.ledger().clone();
    let spent: Decimal = ledger.orders.iter().map(|e| e.charge()).sum();
    let running: Vec<String> = ledger
        .orders
        .iter()
        .filter(|e| !e.is_final())
        .map(|e| e.id.to_string())
        .collect();
    let places = places_of(&text).max(places_of(&start_text)).min(28);
    let tolerance = Decimal::new(ledger.orders.len() as i64, places);
    let expected = start - spent;
    if (now - expected).abs() > tolerance {
        let listed: Vec<String> = ledger
            .orders
            .iter()
            .map(|e| format!("{} {}", e.id, at_places(e.charge(), places)))
            .collect();
        let expected = at_places(expected, places);
        f.fail_plain(
            format!(
                "the balance is {text}, not {expected} = {start_text} − {} charged for {} orders",
                at_places(spent, places),
                ledger.orders.len()
            ),
            format!("the run's orders (id charge): {}", listed.join(", ")),
            format!("balance {expected} (± {tolerance})"),
            format!("balance {text}"),
        );
    }
    let still = if running.is_empty() {
        String::new()
    } else {
        format!("; still running: {}", running.join(", "))
    };
    f.verdict(
        ctx.mode,
        format!(
            "{} orders, {} charged: the balance went from {start_text} to {text} as they say{still}",
            ledger.orders.len(),
            spent.normalize()
        ),
    )
}

/// `isolation.cross-key`: a second key can neither see nor touch an order
/// (or refill) the run placed with the first: status, bulk status, refill,
/// cancel and refill_status, single and bulk, all answer errors, and the
/// order is not canceled.
pub async fn cross_key(ctx: Arc<Ctx>) -> Verdict {
    let Some(second) = ctx.client.target().second_key.clone() else {
        return Verdict::skip(
            "needs a second key of another account: --second-key or SMM_API_KEY_2",
        );
    };
    let mut f = Findings::default();
    // An order of the first key that a cancel would end: placed here, so
    // that a panel that lets the second key cancel it is seen doing so.
    let own = match cheapest(&ctx, |s| s.cancel) {
        Some(service) => match ctx
            .place(
                &mut f,
                "isolation.cross-key",
                smallest(&service, Word::Cancel),
            )
            .await
        {
            Ok(placed) => Some(placed.id),
            Err(verdict) if ctx.known_orders.is_empty() => return verdict,
            Err(_) => None,
        },
        None => None,
    };
    let Some(order) = own.or_else(|| ctx.known_orders.first().copied()) else {
        return Verdict::skip("needs an order of the first key: --allow-orders, or --order ID");
    };
    let before = ctx
        .poll(&mut f, order)
        .await
        .and_then(|(v, _)| v["status"].as_str().and_then(OrderStatus::parse));
    let refill = ctx
        .ledger()
        .orders
        .iter()
        .find_map(|e| e.refills.first().cloned());
    let id = order.to_string();
    let as_second = |action: Action, field: &str, value: &str| {
        vec![
            (field::KEY.to_owned(), second.clone()),
            (field::ACTION.to_owned(), action.as_str().to_owned()),
            (field.to_owned(), value.to_owned()),
        ]
    };
    let mut requests = vec![
        (Action::Status, field::ORDER, id.clone()),
        (Action::Refill, field::ORDER, id.clone()),
        (Action::Status, field::ORDERS, id.clone()),
        (Action::Refill, field::ORDERS, id.clone()),
        (Action::Cancel, field::ORDERS, id.clone()),
    ];
    if let Some(refill) = &refill {
        requests.push((Action::RefillStatus, field::REFILL, refill.clone()));
        requests.push((Action::RefillStatus, field::REFILLS, refill.clone()));
    }
    for (action, name, value) in requests {
        let exchange = ctx.client.post(as_second(action, name, &value)).await;
        let what = format!("{action} {name}={value} with the second key");
        let hidden = match exchange.json() {
            Some(v) if crate::schema::is_error(v) => true,
            Some(Value::Object(o)) if name == field::ORDERS => {
                o.values().all(crate::schema::is_error)
            }
            Some(Value::Array(items)) => {
                let slot = match action {
                    Action::Refill => "refill",
                    Action::Cancel => "cancel",
                    _ => "status",
                };
                items
                    .iter()
                    .all(|item| crate::schema::is_error(&item[slot]))
            }
            _ => false,
        };
        if !hidden {
            expect_error(&ctx, &mut f, &exchange, &what);
        }
    }
    if let Some(before) = before.filter(|s| !s.is_terminal()) {
        if let Some((value, exchange)) = ctx.poll(&mut f, order).await {
            if value["status"].as_str().and_then(OrderStatus::parse) == Some(OrderStatus::Canceled)
            {
                f.fail(
                    &ctx.client,
                    &exchange,
                    format!(
                        "order {id} went from {before} to Canceled after the second key's cancel"
                    ),
                    &format!("status {before}"),
                );
            }
        }
    }
    if own.is_some() {
        // Ended by its owner, so that it does not run on (when the panel
        // cancels it; `money.ledger` watches what still runs).
        let cancel = ctx
            .client
            .call(Action::Cancel, &[(field::ORDERS, &id)])
            .await;
        let accepted = cancel.json().is_some_and(|v| {
            v.as_array()
                .and_then(|items| items.first())
                .is_some_and(|item| !crate::schema::is_error(&item["cancel"]))
        });
        if accepted {
            let _ = ctx.watch(&mut f, order, |_| false).await;
        }
    }
    let refills = if refill.is_some() {
        " or its refill"
    } else {
        " (the run has no refill to try: refill.flow made none)"
    };
    f.verdict(
        ctx.mode,
        format!("a second key can neither see nor touch order {id}{refills}"),
    )
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
