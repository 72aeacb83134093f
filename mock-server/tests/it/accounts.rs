//! Accounts (issue point 3): each key has its own balance and currency, and
//! one key can neither see nor touch another key's orders or refills.

use serde_json::json;

use crate::support::{error_of, Mock};

#[tokio::test]
async fn another_keys_orders_and_refills_are_incorrect_ids() {
    let mock = Mock::start().await;
    let order = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/mine"),
            ("quantity", "100"),
        ])
        .await;
    let id = order.to_string();
    let refill = mock.call(&[("action", "refill"), ("order", "23501")]).await;
    assert_eq!(refill["refill"], "1");

    let other = |fields: Vec<(&'static str, String)>| {
        let mut all: Vec<(&str, String)> = vec![("key", "eur-key".to_owned())];
        all.extend(fields);
        all
    };
    for fields in [
        other(vec![("action", "status".into()), ("order", id.clone())]),
        other(vec![("action", "refill".into()), ("order", "23501".into())]),
    ] {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(error_of(&mock.api(&borrowed).await), "Incorrect order ID");
    }
    let status = mock
        .api(&[
            ("key", "eur-key"),
            ("action", "refill_status"),
            ("refill", "1"),
        ])
        .await;
    assert_eq!(error_of(&status), "Refill not found");
    let bulk = mock
        .api(&[("key", "eur-key"), ("action", "status"), ("orders", &id)])
        .await;
    assert_eq!(bulk[&id], json!({"error": "Incorrect order ID"}));
    let cancel = mock
        .api(&[("key", "eur-key"), ("action", "cancel"), ("orders", &id)])
        .await;
    assert_eq!(cancel[0]["cancel"]["error"], "Incorrect order ID");
    // The owner still sees an untouched order.
    assert_eq!(mock.status(order).await["status"], "Pending");
}

#[tokio::test]
async fn each_key_has_its_own_balance_and_currency() {
    let mock = Mock::start().await;
    assert_eq!(mock.balance("test-key").await, "1000.00000");
    assert_eq!(mock.balance("empty-key").await, "0.00000");
    let eur = mock.api(&[("key", "eur-key"), ("action", "balance")]).await;
    assert_eq!(eur, json!({"balance": "250.00000", "currency": "EUR"}));
    let order = mock
        .api(&[
            ("key", "eur-key"),
            ("action", "add"),
            ("service", "2"),
            ("link", "https://x.com/e"),
            ("quantity", "1000"),
        ])
        .await;
    let id = order["order"].as_u64().unwrap().to_string();
    let status = mock
        .api(&[("key", "eur-key"), ("action", "status"), ("order", &id)])
        .await;
    assert_eq!(status["currency"], "EUR");
    assert_eq!(mock.balance("eur-key").await, "249.70000");
    assert_eq!(mock.balance("test-key").await, "1000.00000");
}

#[tokio::test]
async fn a_wrong_empty_or_missing_key_is_refused_for_every_action() {
    let mock = Mock::start().await;
    let actions = smm_mock::Action::ALL.map(smm_mock::Action::as_str);
    for action in actions.into_iter().chain(["nope"]) {
        for key in [Some("wrong"), Some(""), None] {
            let mut fields = vec![("action", action), ("order", "23501"), ("orders", "23501")];
            if let Some(key) = key {
                fields.push(("key", key));
            }
            assert_eq!(
                error_of(&mock.api(&fields).await),
                "Invalid API key",
                "{action} {key:?}"
            );
        }
    }
}
