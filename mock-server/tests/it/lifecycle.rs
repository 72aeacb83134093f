//! Lifecycles and the logical clock (issue point 5): every status of the
//! enum and every refill status is reachable on demand, only legal
//! transitions happen, and the clock moves orders by poll, by the admin API
//! or by wall time.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use smm_mock::{ClockMode, Config, Fixture};

use crate::support::{error_of, Mock};

/// The statuses order `id` shows over `polls` polls.
async fn statuses(mock: &Mock, id: u64, polls: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..polls {
        seen.push(mock.status(id).await["status"].as_str().unwrap().to_owned());
    }
    seen
}

#[tokio::test]
async fn links_pick_lifecycles_that_reach_every_status() {
    let mock = Mock::start().await;
    let cases: &[(&str, &[&str])] = &[
        (
            "https://x.com/plain",
            &["Pending", "In progress", "Completed", "Completed"],
        ),
        (
            "https://x.com/processing",
            &["Pending", "Processing", "In progress", "Completed"],
        ),
        (
            "https://x.com/partial",
            &["Pending", "In progress", "Partial", "Partial"],
        ),
        (
            "https://x.com/canceled",
            &["Pending", "Canceled", "Canceled", "Canceled"],
        ),
        (
            "https://x.com/STUCK",
            &["Pending", "Pending", "Pending", "Pending"],
        ),
        (
            "https://x.com/cancel-me",
            &["Pending", "In progress", "In progress", "In progress"],
        ),
        (
            "https://x.com/slow",
            &["Pending", "Pending", "Pending", "In progress"],
        ),
    ];
    let mut all = BTreeSet::new();
    for (link, expected) in cases {
        let id = mock
            .order(&[("service", "1"), ("link", link), ("quantity", "100")])
            .await;
        let seen = statuses(&mock, id, expected.len()).await;
        assert_eq!(seen, *expected, "{link}");
        all.extend(seen);
    }
    let every: BTreeSet<String> = smm_mock::lifecycle::OrderStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(all, every);
}

#[tokio::test]
async fn remains_never_grow_and_terminal_states_stay() {
    let mock = Mock::start().await;
    for link in [
        "https://x.com/slow",
        "https://x.com/partial",
        "https://x.com/processing",
    ] {
        let id = mock
            .order(&[("service", "1"), ("link", link), ("quantity", "1000")])
            .await;
        let mut last_remains = u64::MAX;
        let mut terminal: Option<String> = None;
        for _ in 0..12 {
            let status = mock.status(id).await;
            let remains: u64 = status["remains"].as_str().unwrap().parse().unwrap();
            assert!(remains <= last_remains, "{link}: remains grew");
            last_remains = remains;
            let s = status["status"].as_str().unwrap().to_owned();
            if let Some(t) = &terminal {
                assert_eq!(&s, t, "{link}: left a terminal state");
            } else if ["Completed", "Partial", "Canceled"].contains(&s.as_str()) {
                terminal = Some(s);
            }
        }
        assert!(terminal.is_some(), "{link} never ended");
    }
}

#[tokio::test]
async fn start_count_is_zero_while_pending_then_fixed() {
    let mock = Mock::start().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/s"),
            ("quantity", "100"),
        ])
        .await;
    let counts: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(
                mock.status(id).await["start_count"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        v
    };
    assert_eq!(counts[0], "0");
    assert_ne!(counts[1], "0");
    assert_eq!(counts[1], counts[2]);
}

#[tokio::test]
async fn refills_reach_every_refill_status() {
    let mock = Mock::start().await;
    let mut seen = BTreeSet::new();
    for (link, expected) in [
        (
            "https://x.com/r",
            ["Pending", "In progress", "Completed", "Completed"],
        ),
        (
            "https://x.com/refill-rejected",
            ["Pending", "Rejected", "Rejected", "Rejected"],
        ),
    ] {
        let id = mock
            .order(&[("service", "1"), ("link", link), ("quantity", "100")])
            .await;
        let early = mock
            .call(&[("action", "refill"), ("order", &id.to_string())])
            .await;
        assert_eq!(
            error_of(&early),
            "Order not eligible for refill",
            "not completed yet"
        );
        statuses(&mock, id, 3).await;
        let refill = mock
            .call(&[("action", "refill"), ("order", &id.to_string())])
            .await;
        let refill_id = refill["refill"].as_str().unwrap().to_owned();
        for want in expected {
            let status = mock
                .call(&[("action", "refill_status"), ("refill", &refill_id)])
                .await;
            assert_eq!(status["status"], want, "{link}");
            seen.insert(want);
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from(["Pending", "In progress", "Completed", "Rejected"])
    );
}

#[tokio::test]
async fn in_manual_mode_polls_do_not_move_orders_but_the_admin_clock_does() {
    let mock = Mock::manual().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/slow"),
            ("quantity", "100"),
        ])
        .await;
    assert_eq!(statuses(&mock, id, 5).await, ["Pending"; 5]);
    let (code, clock) = mock
        .admin("POST", "/clock/advance", Some(json!({"ticks": 4})))
        .await;
    assert_eq!((code, clock), (200, json!({"tick": 4, "mode": "manual"})));
    assert_eq!(mock.status(id).await["status"], "In progress");
    assert_eq!(mock.status(id).await["remains"], "50");
    mock.admin("POST", "/clock/advance", Some(json!({"ticks": 100})))
        .await;
    assert_eq!(mock.status(id).await["status"], "Completed");
}

#[tokio::test]
async fn the_admin_clock_settles_refunds_of_orders_nobody_polls() {
    let mock = Mock::manual().await;
    mock.order(&[
        ("service", "1"),
        ("link", "https://x.com/partial"),
        ("quantity", "1000"),
    ])
    .await;
    assert_eq!(mock.balance("test-key").await, "999.10000");
    mock.admin("POST", "/clock/advance", Some(json!({"ticks": 2})))
        .await;
    assert_eq!(mock.balance("test-key").await, "999.46000");
}

#[tokio::test]
async fn tick_ms_moves_orders_on_wall_time() {
    let mock = Mock::with(Config {
        clock: ClockMode::Manual,
        tick: Some(Duration::from_millis(5)),
        ..Config::new(Fixture::builtin())
    })
    .await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/t"),
            ("quantity", "100"),
        ])
        .await;
    let mut completed = false;
    for _ in 0..500 {
        if mock.status(id).await["status"] == "Completed" {
            completed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(completed, "the ticker never completed the order");
}

/// Link words never shadow one another (first-contact point 10): a link
/// with `refill-stuck` drives only its refill (the order completes, so the
/// refill can be asked for), `stuck` inside a longer word is no word, and a
/// `cancel` hold is only for services that can be canceled.
#[tokio::test]
async fn link_words_are_whole_and_never_shadow_one_another() {
    let mock = Mock::start().await;
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "1",
            "https://x.com/refill-stuck",
            &["Pending", "In progress", "Completed"],
        ),
        (
            "1",
            "https://instagram.com/stuckinthemud",
            &["Pending", "In progress", "Completed"],
        ),
        (
            "1",
            "https://instagram.com/p/partially",
            &["Pending", "In progress", "Completed"],
        ),
        (
            "1",
            "https://instagram.com/p/Partial3/?utm=stuck",
            &["Pending", "In progress", "Partial"],
        ),
        (
            "2",
            "https://x.com/cancel-me",
            &["Pending", "In progress", "Completed"],
        ),
        (
            "1",
            "https://example.com/smm-conformance/cancel-7",
            &["Pending", "In progress", "In progress"],
        ),
        (
            "1",
            "https://stuck.com/slow/complete-1",
            &["Pending", "In progress", "Completed"],
        ),
    ];
    for (service, link, expected) in cases {
        let id = mock
            .order(&[("service", service), ("link", link), ("quantity", "100")])
            .await;
        let seen = statuses(&mock, id, expected.len()).await;
        assert_eq!(seen, *expected, "service {service}, {link}");
    }

    // The refill the README promises for `refill-stuck`: asked for, Pending for ever.
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/refill-stuck-2"),
            ("quantity", "100"),
        ])
        .await;
    statuses(&mock, id, 3).await;
    let refill = mock
        .call(&[("action", "refill"), ("order", &id.to_string())])
        .await;
    let refill = refill["refill"].as_str().expect("a refill id").to_owned();
    for _ in 0..3 {
        let status = mock
            .call(&[("action", "refill_status"), ("refill", &refill)])
            .await;
        assert_eq!(status["status"], "Pending");
    }
}
