//! Deviation profiles: each one changes exactly what it says it does.

use serde_json::Value;
use smm_mock::profile::Profile;
use smm_mock::{Config, Fixture};

use crate::support::{encode, Mock};

async fn mock_with(profile: Profile) -> Mock {
    Mock::with(Config {
        profiles: [profile].into_iter().collect(),
        ..Config::new(Fixture::builtin())
    })
    .await
}

/// Posts a form and returns the HTTP status and the JSON body, unchecked.
async fn post(mock: &Mock, fields: &[(&str, &str)]) -> (u16, Value) {
    let raw = mock
        .raw("POST", "/api/v2", None, encode(fields).into_bytes())
        .await;
    (raw.status, raw.json())
}

#[tokio::test]
async fn status_case_spells_in_progress_with_a_capital_p() {
    let mock = mock_with(Profile::StatusCase).await;
    let (_, order) = post(
        &mock,
        &[
            ("key", "test-key"),
            ("action", "add"),
            ("service", "1"),
            ("link", "x"),
            ("quantity", "100"),
        ],
    )
    .await;
    let id = order["order"].to_string();
    let poll = [
        ("key", "test-key"),
        ("action", "status"),
        ("order", id.as_str()),
    ];
    assert_eq!(post(&mock, &poll).await.1["status"], "Pending");
    assert_eq!(post(&mock, &poll).await.1["status"], "In Progress");
}

#[tokio::test]
async fn bare_string_bulk_errors_drop_the_error_object() {
    let mock = mock_with(Profile::BareStringBulkErrors).await;
    let (_, body) = post(
        &mock,
        &[
            ("key", "test-key"),
            ("action", "status"),
            ("orders", "23501,7"),
        ],
    )
    .await;
    assert_eq!(body["7"], "Incorrect order ID");
    assert_eq!(body["23501"]["status"], "Completed");
}

#[tokio::test]
async fn bulk_overflow_ignored_answers_every_id() {
    let mock = mock_with(Profile::BulkOverflowIgnored).await;
    let ids: Vec<String> = (1..=150).map(|i| i.to_string()).collect();
    let (_, body) = post(
        &mock,
        &[
            ("key", "test-key"),
            ("action", "status"),
            ("orders", &ids.join(",")),
        ],
    )
    .await;
    assert_eq!(body.as_object().unwrap().len(), 150);
}

#[tokio::test]
async fn http_4xx_errors_change_the_status_code_only() {
    let mock = mock_with(Profile::Http4xxErrors).await;
    assert_eq!(
        post(&mock, &[("key", "bad"), ("action", "balance")])
            .await
            .0,
        401
    );
    assert_eq!(
        post(&mock, &[("key", "test-key"), ("action", "nope")])
            .await
            .0,
        400
    );
    let funds = [
        ("key", "empty-key"),
        ("action", "add"),
        ("service", "2"),
        ("link", "x"),
        ("quantity", "100"),
    ];
    assert_eq!(
        post(&mock, &funds).await,
        (
            402,
            serde_json::json!({"error": "Not enough funds on balance"})
        )
    );
    assert_eq!(
        post(&mock, &[("key", "test-key"), ("action", "balance")])
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn charge_on_error_debits_a_refused_order() {
    let mock = mock_with(Profile::ChargeOnError).await;
    let (_, refused) = post(
        &mock,
        &[
            ("key", "test-key"),
            ("action", "add"),
            ("service", "1"),
            ("link", "x"),
            ("quantity", "1"),
        ],
    )
    .await;
    assert_eq!(refused["error"], "Quantity less than minimal 50");
    // The price of the minimum: 0.90 × 50 / 1000.
    assert_eq!(mock.balance("test-key").await, "999.95500");
}

#[tokio::test]
async fn wrong_charge_costs_ten_times_the_price() {
    let mock = mock_with(Profile::WrongCharge).await;
    post(
        &mock,
        &[
            ("key", "test-key"),
            ("action", "add"),
            ("service", "1"),
            ("link", "x"),
            ("quantity", "1000"),
        ],
    )
    .await;
    assert_eq!(mock.balance("test-key").await, "991.00000");
}
