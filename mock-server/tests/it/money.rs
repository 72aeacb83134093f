//! Money (issue point 4): charge = rate × quantity / 1000 at 5 decimals,
//! debited at `add`, refunds on Partial and Canceled, never negative.

use serde_json::json;
use tokio::task::JoinSet;

use crate::support::{encode, error_of, Mock};

/// Polls order `id` until it is terminal (at most 20 polls); returns the last status.
async fn poll_to_end(mock: &Mock, id: u64) -> serde_json::Value {
    for _ in 0..20 {
        let status = mock.status(id).await;
        if ["Completed", "Partial", "Canceled"].contains(&status["status"].as_str().unwrap()) {
            return status;
        }
    }
    panic!("order {id} never ended");
}

#[tokio::test]
async fn add_debits_the_charge() {
    let mock = Mock::start().await;
    // 0.90 per 1000 × 1234 = 1.1106
    mock.order(&[
        ("service", "1"),
        ("link", "https://x.com/m"),
        ("quantity", "1234"),
    ])
    .await;
    assert_eq!(mock.balance("test-key").await, "998.88940");
    // 0.0033 per 1000 × 10 = 0.000033 → 0.00003 at 5 decimals.
    let id = mock
        .order(&[
            ("service", "3"),
            ("link", "https://x.com/m"),
            ("quantity", "10"),
        ])
        .await;
    assert_eq!(mock.status(id).await["charge"], "0.00003");
    assert_eq!(mock.balance("test-key").await, "998.88937");
}

#[tokio::test]
async fn a_partial_order_is_refunded_for_what_was_not_delivered() {
    let mock = Mock::start().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/partial"),
            ("quantity", "1000"),
        ])
        .await;
    assert_eq!(mock.balance("test-key").await, "999.10000");
    let end = poll_to_end(&mock, id).await;
    // The partial lifecycle delivers 60%: 600 × 0.90 / 1000 = 0.54 kept.
    assert_eq!(end["status"], "Partial");
    assert_eq!(end["remains"], "400");
    assert_eq!(end["charge"], "0.54000");
    assert_eq!(mock.balance("test-key").await, "999.46000");
}

#[tokio::test]
async fn a_canceled_order_is_refunded_in_full() {
    let mock = Mock::start().await;
    let by_client = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/a"),
            ("quantity", "1000"),
        ])
        .await;
    let by_panel = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/canceled"),
            ("quantity", "1000"),
        ])
        .await;
    assert_eq!(mock.balance("test-key").await, "998.20000");
    let cancel = mock
        .call(&[("action", "cancel"), ("orders", &by_client.to_string())])
        .await;
    assert_eq!(cancel, json!([{"order": by_client, "cancel": 1}]));
    assert_eq!(mock.status(by_client).await["charge"], "0.00000");
    let end = poll_to_end(&mock, by_panel).await;
    assert_eq!(
        (end["status"].as_str(), end["charge"].as_str()),
        (Some("Canceled"), Some("0.00000"))
    );
    assert_eq!(mock.balance("test-key").await, "1000.00000");
}

#[tokio::test]
async fn an_order_over_the_balance_is_refused_and_costs_nothing() {
    let mock = Mock::start().await;
    let body = mock
        .api(&[
            ("key", "empty-key"),
            ("action", "add"),
            ("service", "2"),
            ("link", "https://x.com/f"),
            ("quantity", "100"),
        ])
        .await;
    assert_eq!(error_of(&body), "Not enough funds on balance");
    assert_eq!(mock.balance("empty-key").await, "0.00000");
    // Exactly the balance is enough; a cent more is not.
    let (code, _) = mock
        .admin(
            "PUT",
            "/accounts/test-key/balance",
            Some(json!({"balance": "0.09"})),
        )
        .await;
    assert_eq!(code, 200);
    mock.order(&[
        ("service", "1"),
        ("link", "https://x.com/f"),
        ("quantity", "100"),
    ])
    .await;
    assert_eq!(mock.balance("test-key").await, "0.00000");
    let again = mock
        .call(&[
            ("action", "add"),
            ("service", "1"),
            ("link", "https://x.com/f"),
            ("quantity", "100"),
        ])
        .await;
    assert_eq!(error_of(&again), "Not enough funds on balance");
}

#[tokio::test]
async fn many_concurrent_adds_on_one_key_never_overdraw_it() {
    let mock = Mock::start().await;
    mock.admin(
        "PUT",
        "/accounts/test-key/balance",
        Some(json!({"balance": "1.00"})),
    )
    .await;
    // Each order costs 0.90 × 50 / 1000 = 0.045: 22 fit in 1.00, leaving 0.01.
    let body = encode(&[
        ("key", "test-key"),
        ("action", "add"),
        ("service", "1"),
        ("link", "https://x.com/race"),
        ("quantity", "50"),
    ]);
    let client = crate::support::client();
    let mut tasks = JoinSet::new();
    for _ in 0..200 {
        let request = client
            .post(mock.panel.url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone());
        tasks.spawn(async move {
            let bytes = request.send().await.unwrap().bytes().await.unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        });
    }
    let mut placed = 0;
    let mut refused = 0;
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        if answer.get("order").is_some() {
            placed += 1;
        } else {
            assert_eq!(error_of(&answer), "Not enough funds on balance");
            refused += 1;
        }
    }
    assert_eq!((placed, refused), (22, 178));
    assert_eq!(mock.balance("test-key").await, "0.01000");
}
