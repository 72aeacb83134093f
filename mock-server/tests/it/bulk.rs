//! Bulk forms (CONTRACT §5): at most 100 distinct ids, one
//! answer per distinct id in request order, per-id errors, top-level error
//! past the limit.

use serde_json::json;

use crate::support::{error_of, Mock};

/// Places `n` orders as test-key and returns their ids.
async fn orders(mock: &Mock, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            mock.order(&[
                ("service", "3"),
                ("link", "https://t.me/x/1"),
                ("quantity", "10"),
            ])
            .await,
        );
    }
    ids
}

fn join(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn a_hundred_distinct_ids_get_a_hundred_answers_in_request_order() {
    let mock = Mock::start().await;
    let mut ids = orders(&mock, 100).await;
    ids.reverse();
    let body = mock
        .call(&[("action", "status"), ("orders", &join(&ids))])
        .await;
    assert_eq!(body.as_object().unwrap().len(), 100);
    // serde_json's map sorts keys, so read the order from the bytes.
    let raw = mock
        .raw(
            "POST",
            "/api/v2",
            None,
            format!("key=test-key&action=status&orders={}", join(&ids)).into_bytes(),
        )
        .await;
    let text = String::from_utf8(raw.body).unwrap();
    let positions: Vec<usize> = ids
        .iter()
        .map(|id| {
            text.find(&format!("\"{id}\":"))
                .unwrap_or_else(|| panic!("{id} missing"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "answers are not in request order"
    );
}

#[tokio::test]
async fn one_bad_id_never_fails_the_batch() {
    let mock = Mock::start().await;
    let body = mock
        .call(&[
            ("action", "status"),
            ("orders", "23501,abc,99999999999999999999999,7,23502"),
        ])
        .await;
    assert_eq!(body["23501"]["status"], "Completed");
    assert_eq!(body["23502"]["status"], "Partial");
    for bad in ["abc", "99999999999999999999999", "7"] {
        assert_eq!(body[bad], json!({"error": "Incorrect order ID"}), "{bad}");
    }
}

#[tokio::test]
async fn duplicates_blanks_and_spaces_are_tolerated() {
    let mock = Mock::start().await;
    let body = mock
        .call(&[("action", "status"), ("orders", " 23502, ,23501,,23502 ,")])
        .await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["23502", "23501"],
        "each id once, trimmed, in request order"
    );
}

#[tokio::test]
async fn past_a_hundred_distinct_ids_the_answer_is_one_top_level_error() {
    let mock = Mock::start().await;
    let ids: Vec<u64> = (1..=101).collect();
    for (action, field) in [
        ("status", "orders"),
        ("refill", "orders"),
        ("refill_status", "refills"),
        ("cancel", "orders"),
    ] {
        let body = mock.call(&[("action", action), (field, &join(&ids))]).await;
        assert_eq!(
            error_of(&body),
            "Too many IDs: at most 100 per request",
            "{action}"
        );
        let body = mock
            .call(&[
                ("action", action),
                (field, &join(&[ids.clone(), (1..=150).collect()].concat())),
            ])
            .await;
        assert!(
            error_of(&body).starts_with("Too many IDs"),
            "{action} with 250 ids"
        );
    }
}

#[tokio::test]
async fn the_limit_counts_distinct_ids() {
    let mock = Mock::start().await;
    let mut ids: Vec<u64> = (1..=100).collect();
    ids.extend(1..=50);
    let body = mock
        .call(&[("action", "status"), ("orders", &join(&ids))])
        .await;
    assert_eq!(body.as_object().unwrap().len(), 100);
}

#[tokio::test]
async fn an_empty_id_list_is_an_incorrect_request() {
    let mock = Mock::start().await;
    for list in ["", " , ,"] {
        let body = mock.call(&[("action", "status"), ("orders", list)]).await;
        assert_eq!(error_of(&body), "Incorrect request", "orders={list:?}");
    }
}

#[tokio::test]
async fn orders_wins_over_order() {
    let mock = Mock::start().await;
    let body = mock
        .call(&[
            ("action", "status"),
            ("order", "23501"),
            ("orders", "23502"),
        ])
        .await;
    assert!(body.get("23502").is_some(), "{body}");
}

#[tokio::test]
async fn bulk_refill_refill_status_and_cancel_answer_per_id() {
    let mock = Mock::start().await;
    let refills = mock
        .call(&[("action", "refill"), ("orders", "23501,23503,x")])
        .await;
    assert_eq!(
        refills,
        json!([
            {"order": 23501, "refill": 1},
            {"order": 23503, "refill": {"error": "Order not eligible for refill"}},
            {"order": "x", "refill": {"error": "Incorrect order ID"}},
        ])
    );
    let statuses = mock
        .call(&[("action", "refill_status"), ("refills", "1,2")])
        .await;
    assert_eq!(
        statuses,
        json!([
            {"refill": 1, "status": "Pending"},
            {"refill": 2, "status": {"error": "Refill not found"}},
        ])
    );
    let running = orders(&mock, 2).await;
    let cancel = mock
        .call(&[
            ("action", "cancel"),
            ("orders", &format!("{},{},23501,9", running[0], running[1])),
        ])
        .await;
    assert_eq!(
        cancel,
        json!([
            {"order": running[0], "cancel": 1},
            {"order": running[1], "cancel": 1},
            {"order": 23501, "cancel": {"error": "Order cannot be canceled"}},
            {"order": 9, "cancel": {"error": "Incorrect order ID"}},
        ])
    );
}
