//! Bulk forms (CONTRACT §5): at most 100 ids, one answer per distinct id,
//! per-id errors that never fail the batch, a top-level error past 100.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use smm_contract::{field, Action, BULK_LIMIT};

use super::{judge, Ctx, Findings, UNKNOWN_ID};
use crate::client::Exchange;
use crate::outcome::Verdict;
use crate::schema::{self, Kind};

/// `n` ids no panel has.
pub fn unknown_ids(n: u64) -> Vec<String> {
    (0..n).map(|i| (UNKNOWN_ID + i).to_string()).collect()
}

/// Checks a bulk status answer: exactly the `expected` keys, each answered
/// with a status object (for `known`) or an error object.
fn bulk_status_answer(
    ctx: &Ctx,
    f: &mut Findings,
    exchange: &Exchange,
    expected: &BTreeSet<String>,
    known: &BTreeSet<String>,
) {
    let Some(value) = judge(ctx, f, exchange, Kind::StatusBulk) else {
        return;
    };
    let Some(object) = value.as_object() else {
        return;
    };
    let got: BTreeSet<String> = object.keys().cloned().collect();
    if &got != expected {
        let missing: Vec<&String> = expected.difference(&got).take(5).collect();
        let extra: Vec<&String> = got.difference(expected).take(5).collect();
        f.fail(
            &ctx.client,
            exchange,
            format!(
                "{} answers for {} distinct ids (missing {missing:?}, unexpected {extra:?})",
                got.len(),
                expected.len()
            ),
            "one answer per distinct id, keyed by the id",
        );
    }
    for (id, item) in object {
        let is_known = known.contains(id);
        if is_known && schema::is_error(item) {
            f.fail(
                &ctx.client,
                exchange,
                format!("existing order {id} answered with an error"),
                "a status object",
            );
        }
        if !is_known && expected.contains(id) && !schema::is_error(item) {
            f.fail(
                &ctx.client,
                exchange,
                format!("unknown id {id} not answered with an error object"),
                r#"{"error": "..."}"#,
            );
        }
    }
}

async fn status_with(ctx: &Ctx, f: &mut Findings, raw: &str, known: &[u64]) {
    let exchange = ctx
        .client
        .call(Action::Status, &[(field::ORDERS, raw)])
        .await;
    let expected: BTreeSet<String> = field::distinct_ids(raw)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let known: BTreeSet<String> = known.iter().map(u64::to_string).collect();
    bulk_status_answer(ctx, f, &exchange, &expected, &known);
}

/// `bulk.status.sizes`: 1, 2 and 100 ids get 1, 2 and 100 answers.
pub async fn sizes(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    for n in [1, 2, BULK_LIMIT as u64] {
        let mut ids: Vec<String> = ctx
            .known_orders
            .iter()
            .take(n as usize)
            .map(u64::to_string)
            .collect();
        ids.extend(unknown_ids(n - ids.len() as u64));
        status_with(&ctx, &mut f, &ids.join(","), &ctx.known_orders).await;
    }
    f.verdict(
        ctx.mode,
        format!("1, 2 and {BULK_LIMIT} ids get 1, 2 and {BULK_LIMIT} answers"),
    )
}

/// `bulk.status.per-id-errors`: a bad id never fails the batch.
pub async fn per_id_errors(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let mut ids: Vec<String> = ctx
        .known_orders
        .iter()
        .take(3)
        .map(u64::to_string)
        .collect();
    ids.extend([
        "abc".to_owned(),
        UNKNOWN_ID.to_string(),
        "99999999999999999999999".to_owned(),
    ]);
    status_with(&ctx, &mut f, &ids.join(","), &ctx.known_orders).await;
    f.verdict(ctx.mode, "each bad id gets its own error object")
}

/// `bulk.status.duplicates`: a repeated id is answered once.
pub async fn duplicates(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let id = ctx
        .known_orders
        .first()
        .copied()
        .unwrap_or(UNKNOWN_ID)
        .to_string();
    status_with(&ctx, &mut f, &format!("{id},{id},{id}"), &ctx.known_orders).await;
    f.verdict(ctx.mode, "a repeated id is answered once")
}

/// `bulk.status.whitespace`: spaces and blanks in the list are tolerated.
pub async fn whitespace(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let ids = unknown_ids(3);
    status_with(
        &ctx,
        &mut f,
        &format!(" {}, ,{} ,,{}", ids[0], ids[1], ids[2]),
        &[],
    )
    .await;
    f.verdict(ctx.mode, "ids are trimmed and blanks dropped")
}

/// Checks an answer to more than 100 ids: a top-level error passes; exactly
/// the first 100 answered is drift; anything else fails.
/// The ids a bulk answer answers: the keys of an object, or the `order`
/// (or `refill`) of each item of a list (as written, quotes left out).
pub fn answered_ids(value: &Value) -> Vec<String> {
    match value {
        Value::Object(o) => o.keys().cloned().collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                let id = i
                    .get("order")
                    .or_else(|| i.get("refill"))
                    .cloned()
                    .unwrap_or(Value::Null);
                id.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| id.to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn over_limit_answer(
    ctx: &Ctx,
    f: &mut Findings,
    exchange: &Exchange,
    ids: &[String],
    action: Action,
) {
    let Ok(answer) = &exchange.answer else {
        f.error(
            &ctx.client,
            exchange,
            format!("{action} with {} ids: no answer", ids.len()),
        );
        return;
    };
    let Some(value) = &answer.json else {
        f.fail(
            &ctx.client,
            exchange,
            format!("{action} with {} ids: not JSON", ids.len()),
            r#"{"error": "..."}"#,
        );
        return;
    };
    if schema::is_error(value) {
        return;
    }
    let answered = answered_ids(value);
    let first: BTreeSet<&String> = ids.iter().take(BULK_LIMIT).collect();
    if answered.len() == BULK_LIMIT && answered.iter().all(|a| first.contains(a)) {
        f.drift(
            &ctx.client,
            exchange,
            format!(
                "{action} with {} ids: answered the first {BULK_LIMIT} instead of an error",
                ids.len()
            ),
            &past_the_limit(),
        );
    } else {
        f.fail(
            &ctx.client,
            exchange,
            format!(
                "{action} with {} ids: {} answers instead of an error",
                ids.len(),
                answered.len()
            ),
            &past_the_limit(),
        );
    }
}

/// What past the limit gets.
fn past_the_limit() -> String {
    format!(r#"{{"error": "..."}} past {BULK_LIMIT} ids"#)
}

/// The numbers of ids past the limit the checks send: one more, and 50 more.
const OVER: [usize; 2] = [BULK_LIMIT + 1, BULK_LIMIT + 50];

/// `bulk.status.over-limit`: 101 and 150 ids get a top-level error.
pub async fn status_over_limit(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    over_limit_into(&ctx, &mut f, Action::Status).await;
    f.verdict(
        ctx.mode,
        format!(
            "status refuses {} and {} ids with one error",
            OVER[0], OVER[1]
        ),
    )
}

/// `bulk.lists.over-limit`: refill, refill_status and cancel refuse 101 and
/// 150 ids with one error.
pub async fn others_over_limit(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    for action in LISTS {
        over_limit_into(&ctx, &mut f, action).await;
    }
    f.verdict(
        ctx.mode,
        format!(
            "refill, refill_status and cancel refuse {} and {} ids with one error",
            OVER[0], OVER[1]
        ),
    )
}

/// The actions whose bulk form answers a list.
const LISTS: [Action; 3] = [Action::Refill, Action::RefillStatus, Action::Cancel];

async fn over_limit_into(ctx: &Ctx, f: &mut Findings, action: Action) {
    let field = action.bulk_field().unwrap_or_default();
    for n in OVER {
        let ids = unknown_ids(n as u64);
        let exchange = ctx.client.call(action, &[(field, &ids.join(","))]).await;
        over_limit_answer(ctx, f, &exchange, &ids, action);
    }
}

/// `bulk.lists`: unknown ids get per-id
/// errors in a list, one item per distinct id.
pub async fn lists(ctx: Arc<Ctx>) -> Verdict {
    let mut f = Findings::default();
    let ids = unknown_ids(3);
    let raw = format!("{},{},{},abc", ids[0], ids[1], ids[0]);
    for (action, kind, slot) in [
        (Action::Refill, Kind::RefillBulk, "refill"),
        (Action::RefillStatus, Kind::RefillStatusBulk, "status"),
        (Action::Cancel, Kind::Cancel, "cancel"),
    ] {
        let field = action.bulk_field().unwrap_or_default();
        let exchange = ctx.client.call(action, &[(field, &raw)]).await;
        let Some(Value::Array(items)) = judge(&ctx, &mut f, &exchange, kind) else {
            continue;
        };
        if items.len() != 3 {
            f.fail(
                &ctx.client,
                &exchange,
                format!("{action}: {} items for 3 distinct ids", items.len()),
                "one item per distinct id",
            );
        }
        for item in &items {
            if !schema::is_error(&item[slot]) {
                f.fail(
                    &ctx.client,
                    &exchange,
                    format!("{action}: unknown id {} not answered with an error", item),
                    "a per-id error object",
                );
            }
        }
    }
    f.verdict(ctx.mode, "refill, refill_status and cancel answer per id")
}
