//! Order lifecycles (CONTRACT §3): only legal transitions, remains never
//! grows, terminal states stay terminal. The check watches an order of its
//! own (and the `--order`s) over a bounded number of polls, then judges the
//! history of every order the run placed: each status any check saw went
//! through the ledger.

use std::sync::Arc;
use std::time::Duration;

use smm_contract::OrderStatus;

use super::drive::Word;
use super::refill::smallest;
use super::{judge, Ctx, Findings};
use crate::ledger::Sighting;
use crate::outcome::Verdict;
use crate::schema::Kind;

/// How many times the check's own orders are polled (past their end too:
/// a final status must stay).
pub const POLLS: usize = 8;

/// Whether an order may go from status `last` to `next`, as the tolerant
/// reading spells them; a status outside the enum says nothing here (the
/// schema checks report it).
fn legal(last: &str, next: &str) -> bool {
    match (OrderStatus::parse(last), OrderStatus::parse(next)) {
        (Some(a), Some(b)) => a.may_become(b),
        (Some(a), None) => !a.is_terminal(),
        _ => true,
    }
}

/// Records every illegal step of one order's history.
fn judge_history(f: &mut Findings, order: u64, history: &[Sighting]) {
    for pair in history.windows(2) {
        let (last, now) = (&pair[0], &pair[1]);
        if !legal(&last.status, &now.status) {
            f.fail_plain(
                format!("order {order} went from {} to {}", last.status, now.status),
                now.request.clone(),
                format!("a status that may follow {}", last.status),
                now.actual.clone(),
            );
        }
        if let (Some(before), Some(after)) = (last.remains, now.remains) {
            if after > before {
                f.fail_plain(
                    format!("order {order}: remains grew from {before} to {after}"),
                    now.request.clone(),
                    format!("remains ≤ {before}"),
                    now.actual.clone(),
                );
            }
        }
    }
}

/// `lifecycle.transitions`.
pub async fn transitions(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let mut own = None;
    let mut no_own =
        "no order to watch: pass --order ID, or --allow-orders --max-spend AMOUNT".to_owned();
    if ctx.cannot_order().is_none() {
        if let Some(service) = ctx.cheapest_default().first().copied().cloned() {
            let order = smallest(&service, Word::Complete);
            match ctx.afford(order.cost()) {
                Ok(()) => {
                    let exchange = ctx.send_add(&order, &ctx.client.target().key).await;
                    own = ctx
                        .book(
                            &mut f,
                            "lifecycle.transitions",
                            &order,
                            order.cost(),
                            &exchange,
                        )
                        .ok()
                        .map(|p| p.id);
                }
                Err(skip) => no_own = skip.message,
            }
        }
    }
    // The `--order`s; an order of the run is judged from the ledger.
    let known: Vec<u64> = {
        let ledger = ctx.ledger();
        ctx.known_orders
            .iter()
            .copied()
            .filter(|id| ledger.orders.iter().all(|e| e.id != *id))
            .collect()
    };
    if own.is_none() && known.is_empty() && ctx.ledger().orders.is_empty() {
        return Verdict::skip(no_own);
    }
    let mut others: Vec<Vec<Sighting>> = vec![Vec::new(); known.len()];
    for poll in 0..POLLS {
        if poll > 0 {
            match &ctx.admin {
                Some(admin) if !ctx.self_moving => {
                    let _ = crate::admin::advance(&ctx.client, admin, 1).await;
                }
                Some(_) => {}
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        if let Some(id) = own {
            ctx.poll(&mut f, id).await;
        }
        for (i, order) in known.iter().enumerate() {
            let exchange = ctx
                .client
                .call(
                    smm_contract::Action::Status,
                    &[(smm_contract::field::ORDER, &order.to_string())],
                )
                .await;
            if let Some(value) = judge(&ctx, &mut f, &exchange, Kind::Status) {
                others[i].push(super::drive::sighting_of(&ctx, &value, &exchange));
            }
        }
    }
    // Every order of the run watched to its end, so that its whole history
    // is judged.
    ctx.settle(&mut f).await;
    let ledger = ctx.ledger().clone();
    for entry in &ledger.orders {
        judge_history(&mut f, entry.id, &entry.seen);
    }
    for (order, history) in known.iter().zip(&others) {
        judge_history(&mut f, *order, history);
    }
    let sightings: usize = ledger.orders.iter().map(|e| e.seen.len()).sum::<usize>()
        + others.iter().map(Vec::len).sum::<usize>();
    f.verdict(
        ctx.mode,
        format!(
            "{} orders, {sightings} status answers: every transition legal",
            ledger.orders.len() + known.len()
        ),
    )
}
