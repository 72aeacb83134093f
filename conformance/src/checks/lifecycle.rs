//! Order lifecycles (CONTRACT §3): only legal transitions, remains never
//! grows, terminal states stay terminal. Watched by polling a bounded number
//! of times; on the mock, its clock is advanced between polls.

use std::sync::Arc;
use std::time::Duration;

use smm_contract::{field, Action, OrderStatus};

use super::{judge, price, Ctx, Findings};
use crate::outcome::Verdict;
use crate::schema::Kind;

/// How many times each order is polled.
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

/// `lifecycle.transitions`.
pub async fn transitions(ctx: Arc<Ctx>) -> Verdict {
    let mut orders = ctx.known_orders.clone();
    if ctx.cannot_order().is_none() {
        if let Some(service) = ctx.cheapest_default().first().copied().cloned() {
            let cost = price(service.rate, service.min);
            if ctx.reserve(cost) {
                let exchange = ctx
                    .client
                    .call(
                        Action::Add,
                        &[
                            (field::SERVICE, &service.id.to_string()),
                            (field::LINK, "https://example.com/smm-conformance/lifecycle"),
                            (field::QUANTITY, &service.min.to_string()),
                        ],
                    )
                    .await;
                if let Some(id) = exchange.json().and_then(|v| v["order"].as_u64()) {
                    orders.push(id);
                }
            }
        }
    }
    if orders.is_empty() {
        return Verdict::skip("no order to watch: pass --order ID, or --allow-orders");
    }
    let mut f = Findings::default();
    let mut history: Vec<Vec<(String, Option<u64>)>> = vec![Vec::new(); orders.len()];
    let self_moving = match &ctx.admin {
        Some(admin) => crate::admin::polls_advance(&ctx.client, admin)
            .await
            .unwrap_or(false),
        None => false,
    };
    for poll in 0..POLLS {
        if poll > 0 && !self_moving {
            match &ctx.admin {
                Some(admin) => {
                    let _ = crate::admin::advance(&ctx.client, admin, 1).await;
                }
                None => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        for (i, order) in orders.iter().enumerate() {
            let exchange = ctx
                .client
                .call(Action::Status, &[(field::ORDER, &order.to_string())])
                .await;
            let Some(value) = judge(&ctx, &mut f, &exchange, Kind::Status) else {
                continue;
            };
            let status = value["status"].as_str().unwrap_or("").to_owned();
            // Only numbers are compared: a drifted "Unknown" says nothing.
            let remains = value["remains"]
                .as_str()
                .and_then(|r| r.parse::<u64>().ok());
            if let Some((last, last_remains)) = history[i].last() {
                if !legal(last, &status) {
                    f.fail(
                        &ctx.client,
                        &exchange,
                        format!("order {order} went from {last} to {status}"),
                        &format!("a status that may follow {last}"),
                    );
                }
                if let (Some(remains), Some(last_remains)) = (remains, *last_remains) {
                    if remains > last_remains {
                        f.fail(
                            &ctx.client,
                            &exchange,
                            format!("order {order}: remains grew from {last_remains} to {remains}"),
                            &format!("remains ≤ {last_remains}"),
                        );
                    }
                }
            }
            history[i].push((status, remains));
        }
    }
    f.verdict(
        ctx.mode,
        format!(
            "{} orders watched over {POLLS} polls: every transition legal",
            orders.len()
        ),
    )
}
