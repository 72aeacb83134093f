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

#[tokio::test]
async fn a_profile_can_be_switched_on_for_one_key_one_action_and_the_next_n_requests() {
    let mock = Mock::start().await;
    let (code, _) = mock
        .admin("POST", "/profiles", Some(serde_json::json!({"profile": "html-errors", "key": "test-key", "action": "add", "next": 2})))
        .await;
    assert_eq!(code, 200);
    const BAD_ADD: [(&str, &str); 3] = [("key", "test-key"), ("action", "add"), ("service", "999")];
    const OTHER_KEY: [(&str, &str); 3] =
        [("key", "eur-key"), ("action", "add"), ("service", "999")];
    const OTHER_ACTION: [(&str, &str); 2] = [("key", "test-key"), ("action", "nope")];
    let html =
        |raw: &crate::support::Raw| raw.status == 503 && raw.content_type.starts_with("text/html");
    let send = |fields: &'static [(&'static str, &'static str)]| {
        mock.raw("POST", "/api/v2", None, encode(fields).into_bytes())
    };
    assert!(
        !html(&send(&OTHER_KEY).await),
        "another key is not affected"
    );
    assert!(
        !html(&send(&OTHER_ACTION).await),
        "another action is not affected"
    );
    assert!(html(&send(&BAD_ADD).await));
    assert!(html(&send(&BAD_ADD).await));
    assert!(!html(&send(&BAD_ADD).await), "only the next 2");
    let (_, listed) = mock.admin("GET", "/profiles", None).await;
    assert_eq!(listed["overrides"], serde_json::json!([]));
    for bad in [
        serde_json::json!({"profile": "html-errors", "action": "bogus"}),
        serde_json::json!({"profile": "html-errors", "key": "no-such-key"}),
        serde_json::json!({"profile": "html-errors", "next": 0}),
    ] {
        assert_eq!(
            mock.admin("POST", "/profiles", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn profiles_can_be_set_panel_wide_at_run_time_but_not_path_profiles() {
    let mock = Mock::start().await;
    let (code, body) = mock
        .admin(
            "PUT",
            "/profiles",
            Some(serde_json::json!({"profiles": ["wrong-charge"]})),
        )
        .await;
    assert_eq!(
        (code, &body["profiles"]),
        (200, &serde_json::json!(["wrong-charge"]))
    );
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
    let (code, _) = mock
        .admin(
            "PUT",
            "/profiles",
            Some(serde_json::json!({"profiles": ["api-v1-path"]})),
        )
        .await;
    assert_eq!(code, 400, "path profiles are fixed at start");
    let (code, _) = mock
        .admin(
            "PUT",
            "/profiles",
            Some(serde_json::json!({"profiles": ["nope"]})),
        )
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn a_fixture_can_switch_profiles_on() {
    let mut fixture: serde_json::Value =
        serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    fixture["profiles"] = serde_json::json!(["success-envelope"]);
    let fixture = Fixture::parse("drifting.json", &fixture.to_string()).unwrap();
    let mock = Mock::with(Config::new(fixture)).await;
    let (_, balance) = post(&mock, &[("key", "test-key"), ("action", "balance")]).await;
    assert_eq!(
        balance,
        serde_json::json!({"status": "success", "balance": "1000.00000", "currency": "USD"})
    );
    fixture_error_names_the_profile();
}

fn fixture_error_names_the_profile() {
    let mut fixture: serde_json::Value =
        serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    fixture["profiles"] = serde_json::json!(["nope"]);
    let error = Fixture::parse("bad.json", &fixture.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("bad.json: profiles[0]: unknown profile `nope`"),
        "{error}"
    );
}

/// The HTTP statuses of 40 balance requests under `random-5xx` with `seed`.
async fn faults(seed: u64) -> Vec<u16> {
    let mock = Mock::with(Config {
        seed,
        profiles: [Profile::Random5xx].into_iter().collect(),
        ..Config::new(Fixture::builtin())
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(post_status(&mock).await);
    }
    statuses
}

async fn post_status(mock: &Mock) -> u16 {
    mock.raw(
        "POST",
        "/api/v2",
        None,
        b"key=test-key&action=balance".to_vec(),
    )
    .await
    .status
}

#[tokio::test]
async fn faults_are_drawn_from_the_seed_and_the_request_never_from_time() {
    let first = faults(3).await;
    assert_eq!(first, faults(3).await);
    assert!(first.contains(&502) && first.contains(&200), "{first:?}");
    assert_ne!(
        first,
        faults(4).await,
        "the seed decides which requests fail"
    );
}

#[tokio::test]
async fn path_profiles_move_or_redirect_the_api() {
    let v1 = mock_with(Profile::ApiV1Path).await;
    assert_eq!(
        v1.raw(
            "POST",
            "/api/v2",
            None,
            b"key=test-key&action=balance".to_vec()
        )
        .await
        .status,
        404
    );
    assert_eq!(
        v1.raw(
            "POST",
            "/api/v1",
            None,
            b"key=test-key&action=balance".to_vec()
        )
        .await
        .status,
        200
    );
    let php = mock_with(Profile::ApiPhpPath).await;
    let balance = b"key=test-key&action=balance".to_vec();
    assert_eq!(
        php.raw("POST", "/api.php", None, balance.clone())
            .await
            .status,
        200
    );
    assert_eq!(php.raw("POST", "/api/v2", None, balance).await.status, 404);
    let redirect = mock_with(Profile::TrailingSlashRedirect).await;
    assert_eq!(
        redirect
            .raw(
                "POST",
                "/api/v2/",
                None,
                b"key=test-key&action=balance".to_vec()
            )
            .await
            .status,
        301
    );
    assert_eq!(
        redirect
            .raw(
                "POST",
                "/api/v2",
                None,
                b"key=test-key&action=balance".to_vec()
            )
            .await
            .status,
        200
    );
}
