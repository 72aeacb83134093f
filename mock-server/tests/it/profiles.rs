//! Deviation profiles: each one changes exactly what it says it does.

use serde_json::Value;
use smm_mock::profile::Profile;
use smm_mock::{Config, Fixture};

use crate::support::{encode, error_of, Mock};

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

/// The conforming mock and the mock under `profile`.
async fn with_and_without(profile: Profile) -> (Mock, Mock) {
    (Mock::start().await, mock_with(profile).await)
}

/// An `add` as `key`, its answer unchecked.
async fn add(mock: &Mock, key: &str, fields: &[(&str, &str)]) -> Value {
    let mut all = vec![("key", key), ("action", "add")];
    all.extend_from_slice(fields);
    post(mock, &all).await.1
}

/// The balance of `key`, its answer unchecked (a negative balance is no
/// valid `balance` answer).
async fn balance_of(mock: &Mock, key: &str) -> Value {
    post(mock, &[("key", key), ("action", "balance")]).await.1["balance"].clone()
}

/// Polls order `id` of `test-key` until it is Completed.
async fn complete(mock: &Mock, id: u64) {
    for _ in 0..10 {
        if mock.status(id).await["status"] == "Completed" {
            return;
        }
    }
    panic!("order {id} never completed");
}

#[tokio::test]
async fn no_refund_canceled_keeps_the_charge_of_a_canceled_order() {
    let (conforming, deviating) = with_and_without(Profile::NoRefundCanceled).await;
    for (mock, kept) in [(&conforming, false), (&deviating, true)] {
        // One order canceled by its lifecycle, one by `cancel`: 0.90 each.
        let by_panel = mock
            .order(&[
                ("service", "1"),
                ("link", "https://x.com/canceled"),
                ("quantity", "1000"),
            ])
            .await;
        assert_eq!(mock.status(by_panel).await["status"], "Pending");
        let by_client = mock
            .order(&[
                ("service", "1"),
                ("link", "https://x.com/cancel-me"),
                ("quantity", "1000"),
            ])
            .await;
        let cancel = mock
            .call(&[("action", "cancel"), ("orders", &by_client.to_string())])
            .await;
        assert_eq!(cancel[0]["cancel"], 1);
        for id in [by_panel, by_client] {
            let status = mock.status(id).await;
            assert_eq!(status["status"], "Canceled");
            let charge = if kept { "0.90000" } else { "0.00000" };
            assert_eq!(status["charge"], charge, "order {id}");
        }
        let balance = if kept { "998.20000" } else { "1000.00000" };
        assert_eq!(mock.balance("test-key").await, balance);
        // A partial order is still refunded its undelivered part.
        let partial = mock
            .order(&[
                ("service", "1"),
                ("link", "https://x.com/partial"),
                ("quantity", "1000"),
            ])
            .await;
        let statuses = [mock.status(partial).await, mock.status(partial).await];
        assert_eq!(statuses[1]["status"], "In progress");
        assert_eq!(mock.status(partial).await["charge"], "0.54000");
    }
}

/// Places `n` orders of 0.90 (service 1, quantity 1000) as `test-key`,
/// all at once, each on a connection of its own; returns their ids.
async fn concurrent_orders(mock: &Mock, n: usize) -> Vec<u64> {
    let url = mock.panel.url();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let url = url.clone();
        tasks.spawn(async move {
            let body = encode(&[
                ("key", "test-key"),
                ("action", "add"),
                ("service", "1"),
                ("link", &format!("https://x.com/race{i}")),
                ("quantity", "1000"),
            ]);
            let answer: Value = crate::support::client()
                .post(url)
                .body(body)
                .send()
                .await
                .expect("the mock answers")
                .bytes()
                .await
                .map(|body| serde_json::from_slice(&body).expect("JSON"))
                .expect("a body");
            answer["order"].as_u64().expect("an order id")
        });
    }
    let mut ids = tasks.join_all().await;
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn lost_debits_lose_concurrent_debits_and_only_those() {
    let (conforming, deviating) = with_and_without(Profile::LostDebits).await;
    // Sequential orders are exact under both: 8 × 0.90.
    for mock in [&conforming, &deviating] {
        for i in 0..8 {
            mock.order(&[
                ("service", "1"),
                ("link", &format!("https://x.com/one-by-one{i}")),
                ("quantity", "1000"),
            ])
            .await;
        }
        assert_eq!(mock.balance("test-key").await, "992.80000");
    }
    // 8 at once: exact on the conforming mock, higher under the profile
    // (every order placed and charged all the same).
    for (mock, lost) in [(&conforming, false), (&deviating, true)] {
        let ids = concurrent_orders(mock, 8).await;
        assert_eq!(ids.len(), 8);
        ids.windows(2)
            .for_each(|w| assert_ne!(w[0], w[1], "distinct orders"));
        for id in &ids {
            assert_eq!(mock.status(*id).await["charge"], "0.90000");
        }
        let balance = mock.balance("test-key").await;
        if lost {
            // At least one debit lost, at least one made: 985.60 < b < 992.80.
            let b: f64 = balance.parse().unwrap();
            assert!(b > 986.0 && b < 992.0, "{balance}");
        } else {
            assert_eq!(balance, "985.60000");
        }
    }
}

#[test]
fn a_stale_write_overwrites_what_came_between_but_not_a_reset() {
    use rust_decimal::Decimal;
    use smm_mock::profile::Profiles;
    use smm_mock::request::Fields;
    use smm_mock::router::ApiRequest;
    use smm_mock::{Panel, PanelOptions};

    let rules = Profiles::NONE.with(Profile::LostDebits).rules();
    let mut panel = Panel::new(
        std::sync::Arc::new(Fixture::builtin()),
        PanelOptions::default(),
    );
    let request = ApiRequest::new(
        Fields::from_pairs([
            ("key", "test-key"),
            ("action", "add"),
            ("service", "1"),
            ("link", "x"),
            ("quantity", "1000"),
        ])
        .unwrap(),
    );
    let balance = |panel: &Panel| panel.balance("test-key").unwrap();
    let start = balance(&panel);
    let price = Decimal::new(90, 2);
    // Two orders read the same balance: each leaves start − price to write.
    assert!(panel.handle(&request, rules).error().is_none());
    let first = panel.take_stale_write().expect("a write left for later");
    assert!(panel.handle(&request, rules).error().is_none());
    let second = panel.take_stale_write().expect("a write left for later");
    assert_eq!(panel.orders().len(), 5);
    assert_eq!(balance(&panel), start, "nothing written yet");
    assert_eq!(
        (first.balance(), second.balance()),
        (start - price, start - price)
    );
    panel.write_back(first);
    panel.write_back(second);
    assert_eq!(balance(&panel), start - price, "one debit lost");
    // A request that is no add leaves nothing; a reset drops what was left.
    let status =
        ApiRequest::new(Fields::from_pairs([("key", "test-key"), ("action", "balance")]).unwrap());
    panel.handle(&status, rules);
    assert_eq!(panel.take_stale_write(), None);
    assert!(panel.handle(&request, rules).error().is_none());
    let before_reset = panel.take_stale_write().unwrap();
    panel.reset();
    panel.write_back(before_reset);
    assert_eq!(balance(&panel), start);
    // Under the contract, the debit is made at once.
    assert!(panel
        .handle(&request, smm_mock::Rules::CONTRACT)
        .error()
        .is_none());
    assert_eq!(panel.take_stale_write(), None);
    assert_eq!(balance(&panel), start - price);
}

#[tokio::test]
async fn refill_not_enforced_refills_any_order() {
    let (conforming, deviating) = with_and_without(Profile::RefillNotEnforced).await;
    for (mock, accepted) in [(&conforming, false), (&deviating, true)] {
        // Pending, on a service with refill.
        let pending = mock
            .order(&[
                ("service", "1"),
                ("link", "https://x.com/r"),
                ("quantity", "100"),
            ])
            .await;
        // Completed, on a service without refill.
        let no_refill = mock
            .order(&[
                ("service", "2"),
                ("link", "https://x.com/r"),
                ("quantity", "100"),
            ])
            .await;
        complete(mock, no_refill).await;
        for id in [pending, no_refill] {
            let refill = mock
                .call(&[("action", "refill"), ("order", &id.to_string())])
                .await;
            if accepted {
                assert!(refill["refill"].is_string(), "order {id}: {refill}");
            } else {
                assert_eq!(error_of(&refill), "Order not eligible for refill");
            }
        }
        let bulk = mock
            .call(&[
                ("action", "refill"),
                ("orders", &format!("{pending},{no_refill},1")),
            ])
            .await;
        assert_eq!(bulk[0]["refill"].is_u64(), accepted, "{bulk}");
        assert_eq!(bulk[1]["refill"].is_u64(), accepted, "{bulk}");
        assert_eq!(bulk[2]["refill"]["error"], "Incorrect order ID");
    }
}

#[tokio::test]
async fn cancel_not_enforced_cancels_orders_of_services_without_cancel() {
    let (conforming, deviating) = with_and_without(Profile::CancelNotEnforced).await;
    for (mock, accepted) in [(&conforming, false), (&deviating, true)] {
        // Service 2 has no cancel: 0.30 × 1000 / 1000.
        let id = mock
            .order(&[
                ("service", "2"),
                ("link", "https://x.com/c"),
                ("quantity", "1000"),
            ])
            .await;
        assert_eq!(mock.balance("test-key").await, "999.70000");
        let cancel = mock
            .call(&[("action", "cancel"), ("orders", &id.to_string())])
            .await;
        let status = mock.status(id).await;
        if accepted {
            assert_eq!(cancel[0]["cancel"], 1);
            assert_eq!(status["status"], "Canceled");
            assert_eq!(status["charge"], "0.00000");
            assert_eq!(mock.balance("test-key").await, "1000.00000");
        } else {
            assert_eq!(cancel[0]["cancel"]["error"], "Order cannot be canceled");
            assert_eq!(status["status"], "Pending");
            assert_eq!(mock.balance("test-key").await, "999.70000");
        }
        // A terminal order cannot be canceled under either: 23501 is
        // Completed, 23503 (service 2) Canceled.
        let terminal = mock
            .call(&[("action", "cancel"), ("orders", "23501,23503")])
            .await;
        for item in terminal.as_array().unwrap() {
            assert_eq!(item["cancel"]["error"], "Order cannot be canceled");
        }
    }
}

/// A drip-feed order of `service`: 100 per run, 5 runs.
const DRIP: [(&str, &str); 4] = [
    ("link", "https://x.com/drip"),
    ("quantity", "100"),
    ("runs", "5"),
    ("interval", "10"),
];

#[tokio::test]
async fn dripfeed_runs_ignored_charges_one_run() {
    let (conforming, deviating) = with_and_without(Profile::DripfeedRunsIgnored).await;
    // Service 1: 0.90 per 1000; 500 units in all.
    for (mock, charge, balance, then) in [
        (&conforming, "0.45000", "999.55000", "998.65000"),
        (&deviating, "0.09000", "999.91000", "999.01000"),
    ] {
        let mut fields = vec![("service", "1")];
        fields.extend_from_slice(&DRIP);
        let id = mock.order(&fields).await;
        let status = mock.status(id).await;
        assert_eq!(status["charge"], charge);
        assert_eq!(status["remains"], "500");
        assert_eq!(status["runs"], "0", "Pending: no run started");
        assert_eq!(mock.balance("test-key").await, balance);
        // Without runs, the price is the contract's under both: 0.90 more.
        mock.order(&[
            ("service", "1"),
            ("link", "https://x.com/d"),
            ("quantity", "1000"),
        ])
        .await;
        assert_eq!(mock.balance("test-key").await, then);
    }
}

#[tokio::test]
async fn dripfeed_not_enforced_takes_runs_on_any_service_and_charges_them() {
    let (conforming, deviating) = with_and_without(Profile::DripfeedNotEnforced).await;
    // Service 2 has no drip-feed: 0.30 per 1000, 500 units.
    let mut fields = vec![("action", "add"), ("service", "2")];
    fields.extend_from_slice(&DRIP);
    let refused = conforming.call(&fields).await;
    assert_eq!(
        error_of(&refused),
        "This service does not support drip-feed"
    );
    assert_eq!(conforming.balance("test-key").await, "1000.00000");
    let id = deviating.call(&fields).await["order"].as_u64().unwrap();
    let status = deviating.status(id).await;
    assert_eq!(status["charge"], "0.15000");
    assert_eq!(status["remains"], "500");
    assert_eq!(status["runs"], "0", "Pending: no run started");
    assert_eq!(deviating.balance("test-key").await, "999.85000");
    // The catalogue still says no drip-feed; `interval` is still needed.
    let services = deviating.call(&[("action", "services")]).await;
    assert_eq!(services[1]["dripfeed"], false);
    let no_interval = deviating
        .call(&[
            ("action", "add"),
            ("service", "2"),
            ("link", "https://x.com/d"),
            ("quantity", "100"),
            ("runs", "5"),
        ])
        .await;
    assert_eq!(error_of(&no_interval), "Incorrect interval");
}

#[tokio::test]
async fn overdraft_accepts_orders_the_balance_does_not_cover() {
    let (conforming, deviating) = with_and_without(Profile::Overdraft).await;
    // empty-key has 0.00; service 2 costs 0.30 per 1000.
    let order = [
        ("service", "2"),
        ("link", "https://x.com/o"),
        ("quantity", "10"),
    ];
    let refused = add(&conforming, "empty-key", &order).await;
    assert_eq!(error_of(&refused), "Not enough funds on balance");
    assert_eq!(conforming.balance("empty-key").await, "0.00000");

    let id = add(&deviating, "empty-key", &order).await["order"]
        .as_u64()
        .expect("accepted");
    assert_eq!(balance_of(&deviating, "empty-key").await, "-0.00300");
    let (_, account) = deviating.admin("GET", "/accounts/empty-key", None).await;
    assert_eq!(account["balance"], "-0.00300");
    let status = deviating
        .api(&[
            ("key", "empty-key"),
            ("action", "status"),
            ("order", &id.to_string()),
        ])
        .await;
    assert_eq!(status["charge"], "0.00300");
    // Further down, and back up by a cancel's refund: 0.90 × 50 / 1000.
    let cancelable = add(
        &deviating,
        "empty-key",
        &[
            ("service", "1"),
            ("link", "https://x.com/cancel"),
            ("quantity", "50"),
        ],
    )
    .await["order"]
        .as_u64()
        .expect("accepted");
    assert_eq!(balance_of(&deviating, "empty-key").await, "-0.04800");
    let cancel = deviating
        .api(&[
            ("key", "empty-key"),
            ("action", "cancel"),
            ("orders", &cancelable.to_string()),
        ])
        .await;
    assert_eq!(cancel[0]["cancel"], 1);
    assert_eq!(balance_of(&deviating, "empty-key").await, "-0.00300");
}

#[tokio::test]
async fn overdraft_stops_at_minus_the_largest_balance() {
    let mut fixture: Value = serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    fixture["accounts"][0]["balance"] = "50000.00".into();
    fixture["services"][0]["rate"] = "1000000".into();
    fixture["services"][0]["max"] = "1000000000000".into();
    let fixture = Fixture::parse("dear.json", &fixture.to_string()).unwrap();
    let mock = Mock::with(Config {
        profiles: [Profile::Overdraft].into_iter().collect(),
        ..Config::new(fixture)
    })
    .await;
    // 1000 a unit: 10¹² units cost 10¹⁵, 50 units (the minimum) 50000.
    let order = |quantity| {
        vec![
            ("service", "1"),
            ("link", "https://x.com/o"),
            ("quantity", quantity),
        ]
    };
    let mut last = 0;
    for (quantity, balance) in [
        ("1000000000000", "-999999999950000.00000"),
        ("50", "-1000000000000000.00000"),
    ] {
        let placed = add(&mock, "test-key", &order(quantity)).await;
        last = placed["order"].as_u64().expect("accepted");
        assert_eq!(balance_of(&mock, "test-key").await, balance);
    }
    // At −10¹⁵ (−MAX_BALANCE) it stops: refused, nothing changed; so is
    // 10⁵ runs of the first order (10²⁰).
    let mut runs = order("1000000000000");
    runs.extend([("runs", "100000"), ("interval", "1")]);
    for fields in [order("50"), runs] {
        let refused = add(&mock, "test-key", &fields).await;
        assert_eq!(error_of(&refused), "Not enough funds on balance");
        assert_eq!(
            balance_of(&mock, "test-key").await,
            "-1000000000000000.00000"
        );
    }
    // Refunds from there stay exact: cancel the last order (50000 back).
    let cancel = mock
        .call(&[("action", "cancel"), ("orders", &last.to_string())])
        .await;
    assert_eq!(cancel[0]["cancel"], 1);
    assert_eq!(
        balance_of(&mock, "test-key").await,
        "-999999999950000.00000"
    );
}

#[tokio::test]
async fn refill_status_unknown_answers_done_for_a_completed_refill() {
    let (conforming, deviating) = with_and_without(Profile::RefillStatusUnknown).await;
    for (mock, completed) in [(&conforming, "Completed"), (&deviating, "Done")] {
        // Seeded order 23501 is Completed on service 1, which has refill.
        let refill = mock.call(&[("action", "refill"), ("order", "23501")]).await;
        assert_eq!(refill["refill"], "1");
        let single = [
            ("key", "test-key"),
            ("action", "refill_status"),
            ("refill", "1"),
        ];
        let bulk = [
            ("key", "test-key"),
            ("action", "refill_status"),
            ("refills", "1,9"),
        ];
        assert_eq!(post(mock, &single).await.1["status"], "Pending");
        assert_eq!(post(mock, &bulk).await.1[0]["status"], "In progress");
        assert_eq!(post(mock, &single).await.1["status"], completed);
        let (_, answer) = post(mock, &bulk).await;
        assert_eq!(
            answer[0],
            serde_json::json!({"refill": 1, "status": completed})
        );
        assert_eq!(answer[1]["status"]["error"], "Refill not found");
    }
    // With lower case on too, the word is lowered like any status.
    let both = Mock::with(Config {
        profiles: [Profile::RefillStatusUnknown, Profile::StatusLowercase]
            .into_iter()
            .collect(),
        ..Config::new(Fixture::builtin())
    })
    .await;
    both.call(&[("action", "refill"), ("order", "23501")]).await;
    let single = [
        ("key", "test-key"),
        ("action", "refill_status"),
        ("refill", "1"),
    ];
    let seen: Vec<Value> = [
        post(&both, &single).await.1,
        post(&both, &single).await.1,
        post(&both, &single).await.1,
    ]
    .map(|a| a["status"].clone())
    .into();
    assert_eq!(seen, ["pending", "in progress", "done"]);
}

/// The breaking profiles that change what the panel does (its money, its
/// checks, a refill status word) rather than how it is reached.
const LOGIC_PROFILES: [Profile; 8] = [
    Profile::NoRefundCanceled,
    Profile::LostDebits,
    Profile::RefillNotEnforced,
    Profile::CancelNotEnforced,
    Profile::DripfeedRunsIgnored,
    Profile::DripfeedNotEnforced,
    Profile::Overdraft,
    Profile::RefillStatusUnknown,
];

/// Every action, with the edge cases of money (orders no balance covers,
/// drip-feed at the most runs, cancels, refills and polls of every order and
/// refill placed), as form fields: each must be answered HTTP 200 with JSON.
fn every_action() -> Vec<Vec<(&'static str, &'static str)>> {
    const ORDERS: &str = "23501,23502,23503,23504,23505,23506,23507,23508,23509,x";
    const REFILLS: &str = "1,2,3,4,5,6,7,8,x";
    let add = |key, service, link, quantity| {
        vec![
            ("key", key),
            ("action", "add"),
            ("service", service),
            ("link", link),
            ("quantity", quantity),
        ]
    };
    let call = |key, action, field, value| vec![("key", key), ("action", action), (field, value)];
    let mut drip = add("test-key", "2", "https://x.com/d", "100");
    drip.extend([("runs", "100000"), ("interval", "1")]);
    let mut drip_max = add("test-key", "3", "https://x.com/d", "3000000");
    drip_max.extend([("runs", "100000"), ("interval", "1")]);
    vec![
        vec![("key", "test-key"), ("action", "services")],
        add("test-key", "1", "https://x.com/a", "1000"),
        add("test-key", "2", "https://x.com/canceled", "50000"),
        add("test-key", "1", "https://x.com/partial", "10000"),
        add("empty-key", "3", "https://x.com/cancel", "3000000"),
        add("empty-key", "1", "https://x.com/a", "10000"),
        drip,
        drip_max,
        add("test-key", "1", "https://x.com/a", "1"),
        vec![("key", "empty-key"), ("action", "balance")],
        vec![("key", "test-key"), ("action", "balance")],
        call("test-key", "status", "order", "23504"),
        call("test-key", "status", "orders", ORDERS),
        call("test-key", "status", "orders", ORDERS),
        call("empty-key", "status", "orders", ORDERS),
        call("test-key", "refill", "orders", ORDERS),
        call("test-key", "refill", "order", "23504"),
        call("test-key", "refill_status", "refills", REFILLS),
        call("test-key", "refill_status", "refill", "1"),
        call("test-key", "refill_status", "refills", REFILLS),
        call("test-key", "refill_status", "refills", REFILLS),
        call("test-key", "cancel", "orders", ORDERS),
        call("empty-key", "cancel", "orders", ORDERS),
        call("empty-key", "status", "orders", ORDERS),
        vec![("key", "empty-key"), ("action", "balance")],
        vec![("key", "test-key"), ("action", "balance")],
    ]
}

#[tokio::test]
async fn the_mock_answers_every_action_under_the_logic_profiles_alone_and_together() {
    let sets = LOGIC_PROFILES
        .iter()
        .map(|p| vec![*p])
        .chain([LOGIC_PROFILES.to_vec()])
        .chain([vec![
            Profile::Overdraft,
            Profile::NumericFields,
            Profile::StatusLowercase,
        ]]);
    for set in sets {
        let mock = Mock::with(Config {
            profiles: set.iter().copied().collect(),
            ..Config::new(Fixture::builtin())
        })
        .await;
        for fields in every_action() {
            let (code, body) = post(&mock, &fields).await;
            assert_eq!(code, 200, "{set:?} {fields:?}: {body}");
        }
        concurrent_orders(&mock, 4).await;
        mock.admin(
            "POST",
            "/clock/advance",
            Some(serde_json::json!({"ticks": 10})),
        )
        .await;
        for path in ["/orders", "/accounts", "/journal", "/profiles"] {
            let (code, body) = mock.admin("GET", path, None).await;
            assert_eq!(code, 200, "{set:?} {path}: {body}");
        }
        // Everything but the orders again, the clock moved on.
        let adds = |fields: &Vec<(&str, &str)>| fields.contains(&("action", "add"));
        for fields in every_action().into_iter().filter(|f| !adds(f)) {
            let (code, body) = post(&mock, &fields).await;
            assert_eq!(code, 200, "{set:?} {fields:?}: {body}");
        }
    }
}

/// One active order per link (first-contact point 12): off by default; on
/// (a profile, so also a fixture's `profiles`), a second order of a key on a
/// link with one still running is refused with the message of CONTRACT §4
/// and changes nothing; once that order has ended, or for another key or
/// link, an order is taken.
#[tokio::test]
async fn one_active_order_per_link_is_refused_only_where_switched_on() {
    const ACTIVE: &str =
        "You have active order with this link. Please wait until order being completed.";
    let link = "https://instagram.com/p/abc";
    let order = [("service", "1"), ("link", link), ("quantity", "100")];
    let (conforming, _) = with_and_without(Profile::ActiveOrderPerLink).await;
    conforming.order(&order).await;
    conforming.order(&order).await;

    let mut fixture: Value = serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    fixture["profiles"] = serde_json::json!(["active-order-per-link"]);
    let fixture = Fixture::parse("one-per-link.json", &fixture.to_string()).unwrap();
    let mock = Mock::with(Config::new(fixture)).await;
    let first = mock.order(&order).await;
    let balance = mock.balance("test-key").await;
    let second = mock
        .call(&[&[("action", "add")][..], &order].concat())
        .await;
    assert_eq!(error_of(&second), ACTIVE);
    assert_eq!(mock.balance("test-key").await, balance, "a refusal is free");
    // Another link, another key: taken.
    mock.order(&[
        ("service", "1"),
        ("link", "https://instagram.com/p/other"),
        ("quantity", "100"),
    ])
    .await;
    let other_key = add(&mock, "eur-key", &order).await;
    assert!(other_key["order"].is_u64(), "{other_key}");
    // Once the first has ended (Pending, In progress, Completed), taken again.
    for _ in 0..3 {
        mock.status(first).await;
    }
    mock.order(&order).await;
}
