//! Refills and cancels on any panel (CONTRACT §2, §3): an order of a
//! refill service, watched to Completed, is refilled and its refill watched
//! to its end; a refill the contract forbids (a service without refill, an
//! order not finished) and a cancel it forbids (a service without cancel)
//! are refused and change nothing.

use std::sync::Arc;

use serde_json::Value;
use smm_contract::{field, Action, OrderStatus};

use super::drive::{NewOrder, Watched, Word};
use super::{expect_error, expect_unmoved, judge, Ctx, Findings, Service, UNKNOWN_ID};
use crate::client::Exchange;
use crate::outcome::Verdict;
use crate::schema::{self, Kind};

/// The cheapest `Default` service (by its minimum order) that `wanted`
/// accepts, among those whose flags the catalogue lists.
pub fn cheapest(ctx: &Ctx, wanted: impl Fn(&Service) -> bool) -> Option<Service> {
    ctx.cheapest_default()
        .into_iter()
        .find(|s| s.flags_known && wanted(s))
        .cloned()
}

/// The smallest order on `service` that asks for `word`.
pub fn smallest(service: &Service, word: Word) -> NewOrder<'_> {
    NewOrder {
        service,
        quantity: service.min,
        runs: None,
        word,
    }
}

/// Whether an answer to a single or bulk refill or cancel refused the
/// order: a top-level error, or a list whose item for it is an error.
fn refused(exchange: &Exchange, slot: &str) -> bool {
    match exchange.json() {
        Some(v) if schema::is_error(v) => true,
        Some(Value::Array(items)) => items.iter().all(|i| schema::is_error(&i[slot])),
        Some(Value::Object(o)) => o.values().all(schema::is_error),
        _ => false,
    }
}

/// Asks for a refill of `order` with the run's key.
async fn refill_of(ctx: &Ctx, order: u64) -> Exchange {
    ctx.client
        .call(Action::Refill, &[(field::ORDER, &order.to_string())])
        .await
}

/// `refill.flow`: an order of a refill service, watched to Completed, is
/// refilled: `{"refill": "<id>"}`, and the refill's status, polled to its
/// end, stays in the refill-status enum and moves only forward, single and
/// bulk.
pub async fn flow(ctx: Arc<Ctx>) -> Verdict {
    let Some(service) = cheapest(&ctx, |s| s.refill) else {
        return Verdict::skip("no Default service offers refill");
    };
    let mut f = Findings::default();
    let placed = match ctx
        .place(&mut f, "refill.flow", smallest(&service, Word::Refill))
        .await
    {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let order = placed.id;
    match ctx.watch(&mut f, order, |_| false).await {
        Watched::Reached(OrderStatus::Completed | OrderStatus::Partial, ..) => {}
        Watched::Reached(status, ..) => {
            return Verdict::skip(format!(
                "order {order} ended {status}, so it cannot be refilled"
            ))
        }
        watched @ Watched::Running(_) => return watched.skip(order, ctx.watch),
        Watched::Unreadable => return f.verdict(ctx.mode, ""),
    }
    let exchange = refill_of(&ctx, order).await;
    if let Some(error) = exchange.json().filter(|v| schema::is_error(v)) {
        return Verdict::skip(format!(
            "the panel did not refill completed order {order} of a refill service: {}",
            error["error"]
        ));
    }
    let Some(refill) = judge(&ctx, &mut f, &exchange, Kind::Refill)
        .and_then(|v| v["refill"].as_str().map(str::to_owned))
    else {
        return f.verdict(ctx.mode, "");
    };
    if let Some(entry) = ctx.ledger().get_mut(order) {
        entry.refills.push(refill.clone());
    }
    let ended = ctx.watch_refill(&mut f, &refill).await;
    let bulk = ctx
        .client
        .call(
            Action::RefillStatus,
            &[(field::REFILLS, &format!("{refill},{UNKNOWN_ID}"))],
        )
        .await;
    if let Some(Value::Array(items)) = judge(&ctx, &mut f, &bulk, Kind::RefillStatusBulk) {
        if items.len() != 2 {
            f.fail(
                &ctx.client,
                &bulk,
                format!("{} items for 2 ids", items.len()),
                "one item per id",
            );
        }
    }
    let end = match ended {
        Some(status) => format!("ended {status}"),
        None => format!(
            "still running after --watch {}",
            super::drive::watch_text(ctx.watch)
        ),
    };
    f.verdict(
        ctx.mode,
        format!("order {order} was refilled (refill {refill}, {end}); every answer in its shape"),
    )
}

/// `refill.refused`: a refill of an order not yet finished, and of a
/// finished order of a service without refill, is refused, and the order
/// stays as it was.
pub async fn refused_refills(ctx: Arc<Ctx>) -> Verdict {
    let with = cheapest(&ctx, |s| s.refill);
    let without = cheapest(&ctx, |s| !s.refill);
    let total: rust_decimal::Decimal = [&with, &without]
        .into_iter()
        .flatten()
        .map(|s| smallest(s, Word::Complete).cost())
        .sum();
    if let Err(verdict) = ctx.can_afford(total) {
        return verdict;
    }
    let mut f = Findings::default();
    let mut tried = Vec::new();
    let mut untried = String::new();
    if let Some(service) = with {
        // Refilled at once: not finished yet (unless the panel is that fast,
        // which its status then says).
        let placed = match ctx
            .place(&mut f, "refill.refused", smallest(&service, Word::Complete))
            .await
        {
            Ok(placed) => placed,
            Err(verdict) => return verdict,
        };
        let order = placed.id;
        let exchange = refill_of(&ctx, order).await;
        if !refused(&exchange, "refill") {
            let status = ctx.poll(&mut f, order).await;
            let finished = status.as_ref().is_some_and(|(v, _)| {
                matches!(
                    v["status"].as_str().and_then(OrderStatus::parse),
                    Some(OrderStatus::Completed | OrderStatus::Partial)
                )
            });
            if !finished {
                expect_error(
                    &ctx,
                    &mut f,
                    &exchange,
                    &format!("refill of order {order}, not finished"),
                );
            }
        }
        tried.push(format!("unfinished order {order}"));
    }
    if let Some(service) = without {
        let placed = match ctx
            .place(&mut f, "refill.refused", smallest(&service, Word::Complete))
            .await
        {
            Ok(placed) => placed,
            Err(verdict) => return verdict,
        };
        let order = placed.id;
        match ctx.watch(&mut f, order, |_| false).await {
            Watched::Reached(before, ..) => {
                let exchange = refill_of(&ctx, order).await;
                expect_error(
                    &ctx,
                    &mut f,
                    &exchange,
                    &format!(
                        "refill of order {order} of service {} (refill: false)",
                        service.id
                    ),
                );
                unchanged(&ctx, &mut f, order, before).await;
                tried.push(format!("order {order} of a service without refill"));
            }
            Watched::Running(last) => {
                untried = format!(
                    " (order {order} of a service without refill was still {last} after --watch {}: not tried)",
                    super::drive::watch_text(ctx.watch)
                );
            }
            Watched::Unreadable => return f.verdict(ctx.mode, ""),
        }
    }
    if tried.is_empty() {
        return Verdict::skip("no Default service with refill flags to try");
    }
    f.verdict(
        ctx.mode,
        format!("refills refused for {}{untried}", tried.join(" and ")),
    )
}

/// Polls `order` and records a failure if it is no longer `before`.
async fn unchanged(ctx: &Ctx, f: &mut Findings, order: u64, before: OrderStatus) {
    if let Some((value, exchange)) = ctx.poll(f, order).await {
        let now = value["status"].as_str().and_then(OrderStatus::parse);
        if now != Some(before) {
            f.fail(
                &ctx.client,
                &exchange,
                format!("order {order} went from {before} to {now:?} after a refused request"),
                &format!("status {before}"),
            );
        }
    }
}

/// `cancel.refused`: a cancel of an order of a service without cancel is
/// refused; the order is not canceled and the balance does not move.
pub async fn refused_cancel(ctx: Arc<Ctx>) -> Verdict {
    let Some(service) = cheapest(&ctx, |s| !s.cancel) else {
        return Verdict::skip("no Default service without cancel to try");
    };
    let mut f = Findings::default();
    let placed = match ctx
        .place(&mut f, "cancel.refused", smallest(&service, Word::Complete))
        .await
    {
        Ok(placed) => placed,
        Err(verdict) => return verdict,
    };
    let order = placed.id;
    let before = match ctx.balance().await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let exchange = ctx
        .client
        .call(Action::Cancel, &[(field::ORDERS, &order.to_string())])
        .await;
    if let Err(e) = &exchange.answer {
        f.error(
            &ctx.client,
            &exchange,
            format!("cancel of order {order}: {e}"),
        );
    } else if !refused(&exchange, "cancel") {
        f.fail(
            &ctx.client,
            &exchange,
            format!(
                "cancel of order {order} of service {} (cancel: false) was not refused",
                service.id
            ),
            r#"[{"order": <id>, "cancel": {"error": "..."}}]"#,
        );
    }
    let ended = match ctx.watch(&mut f, order, |_| false).await {
        Watched::Reached(OrderStatus::Canceled, value, exchange) => {
            f.fail(
                &ctx.client,
                &exchange,
                format!(
                    "order {order} of a service without cancel ended Canceled (charge {})",
                    value["charge"]
                ),
                "Completed or Partial",
            );
            None
        }
        Watched::Reached(status, ..) => Some(status),
        Watched::Running(_) => None,
        Watched::Unreadable => return f.verdict(ctx.mode, ""),
    };
    // Only a Completed order says the balance must not have moved (a
    // Partial one is refunded in part).
    if ended == Some(OrderStatus::Completed) {
        let what = "over a refused cancel and a Completed order";
        let request = ctx.client.curl(&exchange);
        if let Err(verdict) = expect_unmoved(&ctx, &mut f, &before, what, request).await {
            return verdict;
        }
    }
    f.verdict(
        ctx.mode,
        format!("cancel of order {order} (service without cancel) was refused and changed nothing"),
    )
}
