//! The admin API (issue point 7): reset, clock, journal, balances, orders;
//! never on the API path, and off with a flag.

use serde_json::json;
use smm_mock::{Config, Fixture};

use crate::support::{error_of, Mock};

#[tokio::test]
async fn reset_goes_back_to_the_fixture() {
    let mock = Mock::start().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/r"),
            ("quantity", "100"),
        ])
        .await;
    mock.status(id).await;
    let (code, body) = mock.admin("POST", "/reset", None).await;
    assert_eq!((code, body), (200, json!({"reset": true})));
    assert_eq!(mock.balance("test-key").await, "1000.00000");
    assert_eq!(error_of(&mock.status(id).await), "Incorrect order ID");
    let (_, journal) = mock.admin("GET", "/journal", None).await;
    assert_eq!(
        journal["total"], 2,
        "the journal restarts: two balance/status calls since"
    );
    // Ids start over: the next order gets the same id again.
    let again = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/r"),
            ("quantity", "100"),
        ])
        .await;
    assert_eq!(again, id);
}

#[tokio::test]
async fn the_journal_keeps_the_last_requests_with_their_answers() {
    let mock = Mock::with(Config {
        journal: 3,
        ..Config::new(Fixture::builtin())
    })
    .await;
    for _ in 0..4 {
        mock.balance("test-key").await;
    }
    mock.call(&[("action", "nope")]).await;
    let (code, journal) = mock.admin("GET", "/journal", None).await;
    assert_eq!(code, 200);
    assert_eq!(journal["total"], 5);
    assert_eq!(journal["capacity"], 3);
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let last = &entries[2];
    assert_eq!(last["seq"], 5);
    assert_eq!(last["fields"], json!({"key": "test-key", "action": "nope"}));
    assert_eq!(last["response"], json!({"error": "Incorrect request"}));
    let (_, limited) = mock.admin("GET", "/journal?limit=1", None).await;
    assert_eq!(limited["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn balances_can_be_read_and_set() {
    let mock = Mock::start().await;
    let (code, accounts) = mock.admin("GET", "/accounts", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        accounts[0],
        json!({"key": "test-key", "balance": "1000.00000", "currency": "USD", "orders": 3})
    );
    let (code, set) = mock
        .admin(
            "PUT",
            "/accounts/empty-key/balance",
            Some(json!({"balance": "12.5"})),
        )
        .await;
    assert_eq!((code, &set["balance"]), (200, &json!("12.50000")));
    assert_eq!(mock.balance("empty-key").await, "12.50000");
    for bad in [
        json!({"balance": "-1"}),
        json!({"balance": "abc"}),
        json!({}),
        json!({"balance": "0.123456"}),
    ] {
        let (code, _) = mock
            .admin("PUT", "/accounts/empty-key/balance", Some(bad))
            .await;
        assert_eq!(code, 400);
    }
    assert_eq!(mock.admin("GET", "/accounts/nobody", None).await.0, 404);
    assert_eq!(
        mock.admin(
            "PUT",
            "/accounts/nobody/balance",
            Some(json!({"balance": "1"}))
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn orders_can_be_listed_read_and_forced() {
    let mock = Mock::start().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/cancel"),
            ("quantity", "1000"),
        ])
        .await;
    mock.api(&[
        ("key", "eur-key"),
        ("action", "add"),
        ("service", "2"),
        ("link", "https://x.com/e"),
        ("quantity", "100"),
    ])
    .await;
    let (_, all) = mock.admin("GET", "/orders", None).await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    let (_, mine) = mock
        .admin("GET", "/orders?key=test-key&after=23502&limit=5", None)
        .await;
    let ids: Vec<u64> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [23503, id]);
    let (code, view) = mock.admin("GET", &format!("/orders/{id}"), None).await;
    assert_eq!(code, 200);
    assert_eq!(
        (view["lifecycle"].as_str(), view["status"].as_str()),
        (Some("cancelable"), Some("Pending"))
    );

    let (code, forced) = mock
        .admin(
            "POST",
            &format!("/orders/{id}/status"),
            Some(json!({"status": "Partial", "delivered": 60})),
        )
        .await;
    assert_eq!(
        (code, forced["status"].as_str(), forced["refunded"].as_str()),
        (200, Some("Partial"), Some("0.36000"))
    );
    let status = mock.status(id).await;
    assert_eq!(
        (status["status"].as_str(), status["remains"].as_str()),
        (Some("Partial"), Some("400"))
    );
    assert_eq!(mock.balance("test-key").await, "999.46000");
    let (code, _) = mock
        .admin(
            "POST",
            &format!("/orders/{id}/status"),
            Some(json!({"status": "In progress"})),
        )
        .await;
    assert_eq!(code, 409, "a terminal order cannot be forced back");
    assert_eq!(mock.admin("GET", "/orders/1", None).await.0, 404);
    assert_eq!(
        mock.admin("POST", "/orders/1/status", Some(json!({"status": "Nope"})))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_plain_http_errors() {
    let mock = Mock::start().await;
    let (code, index) = mock.admin("GET", "/", None).await;
    assert_eq!(code, 200);
    assert_eq!(index["fixture"], "default");
    assert_eq!(mock.admin("GET", "/nope", None).await.0, 404);
    assert_eq!(mock.admin("DELETE", "/reset", None).await.0, 405);
    let typo = mock
        .admin("POST", "/clock/advance", Some(json!({"tick": 3})))
        .await;
    assert_eq!(typo.0, 400, "an unknown field is refused, not ignored");
    assert_eq!(mock.admin("GET", "/journal?limit=abc", None).await.0, 400);
    assert_eq!(mock.admin("GET", "/orders?after=x", None).await.0, 400);
    let raw = mock
        .raw(
            "POST",
            "/__mock/clock/advance",
            Some("application/json"),
            b"{".to_vec(),
        )
        .await;
    assert_eq!(raw.status, 400);
}

#[tokio::test]
async fn no_admin_turns_the_admin_api_off() {
    let mock = Mock::with(Config {
        admin: false,
        ..Config::new(Fixture::builtin())
    })
    .await;
    let raw = mock.raw("POST", "/__mock/reset", None, Vec::new()).await;
    assert_eq!(raw.status, 404);
    assert!(raw.json()["error"].is_string());
    assert_eq!(
        mock.balance("test-key").await,
        "1000.00000",
        "the API still answers"
    );
}

#[tokio::test]
async fn the_admin_api_is_never_on_the_api_path() {
    let mock = Mock::start().await;
    let body = mock.call(&[("action", "reset")]).await;
    assert_eq!(error_of(&body), "Incorrect request");
}
