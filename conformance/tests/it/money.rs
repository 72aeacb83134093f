//! Money safety: without --allow-orders nothing is ordered; with it, the
//! run never spends more than --max-spend.

use rust_decimal::Decimal;

use crate::support::{conformance_async, secret_mock, with_outcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allow_orders_no_order_is_placed() {
    let (panel, key) = secret_mock().await;
    let seeded = panel.with_panel(|p| p.orders().len());
    let out = conformance_async(vec![
        "run".into(),
        "--url".into(),
        panel.url(),
        "--key".into(),
        key.clone(),
        "--format".into(),
        "json".into(),
        "--cases".into(),
        "16".into(),
    ])
    .await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        panel.with_panel(|p| p.orders().len()),
        seeded,
        "an order was placed"
    );
    assert_eq!(
        panel.with_panel(|p| p.balance(&key)),
        Some(Decimal::from(1000))
    );
    let skipped = with_outcome(&report, "skip");
    for id in [
        "add.validation",
        "money.charge",
        "money.refund-canceled",
        "money.refund-partial",
    ] {
        assert!(
            skipped.contains(&id.to_owned()),
            "{id} not skipped: {skipped:?}"
        );
    }
    let reason = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "money.charge")
        .unwrap()["message"]
        .clone();
    assert!(
        reason.as_str().unwrap().contains("--allow-orders"),
        "{reason}"
    );
    assert_eq!(with_outcome(&report, "fail"), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_allow_orders_the_run_stays_within_max_spend() {
    // Service 3 costs 0.0033 per 1000. A money check's order is sized to cost
    // 100 units of the balance's last decimal (0.001 here); the lifecycle
    // check's is the minimum (10 for 0.000033).
    for (cap, charge_runs) in [("0.0001", false), ("0.005", true)] {
        let (panel, key) = secret_mock().await;
        let out = conformance_async(vec![
            "run".into(),
            "--url".into(),
            panel.url(),
            "--key".into(),
            key.clone(),
            "--allow-orders".into(),
            "--max-spend".into(),
            cap.into(),
            "--mock-admin".into(),
            panel.admin_url(),
            "--format".into(),
            "json".into(),
            "--cases".into(),
            "16".into(),
        ])
        .await;
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let balance = panel.with_panel(|p| p.balance(&key)).unwrap();
        let spent = Decimal::from(1000) - balance;
        assert!(
            spent <= cap.parse::<Decimal>().unwrap(),
            "spent {spent}, cap {cap}"
        );
        if charge_runs {
            assert!(spent > Decimal::ZERO, "cap {cap}: nothing was spent");
        }
        assert_eq!(
            with_outcome(&report, "fail"),
            Vec::<String>::new(),
            "cap {cap}"
        );
        let skipped = with_outcome(&report, "skip").contains(&"money.charge".to_owned());
        assert_eq!(skipped, !charge_runs, "cap {cap}: money.charge skipped?");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_price_shows_even_on_a_panel_that_rounds_to_cents() {
    let mut fixture = smm_mock::Fixture::builtin();
    fixture.precision = smm_mock::money::Precision::new(2);
    fixture.accounts[0].balance = Decimal::from(1000);
    let config = smm_mock::Config {
        profiles: [smm_mock::profile::Profile::WrongCharge]
            .into_iter()
            .collect(),
        ..smm_mock::Config::new(fixture)
    };
    let panel = smm_mock::MockPanel::start_with(config).await.unwrap();
    let out = conformance_async(vec![
        "run".into(),
        "--url".into(),
        panel.url(),
        "--key".into(),
        "test-key".into(),
        "--allow-orders".into(),
        "--max-spend".into(),
        "50".into(),
        "--only".into(),
        "money.charge".into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(with_outcome(&report, "fail"), ["money.charge"], "{report}");
}

/// Every path that orders (the money, refill, cancel, isolation and funds
/// checks, the concurrent orders, the stateful property, the order placed
/// for the status checks) spends within the cap: read off the mock's own
/// balance, against the mock served without its admin API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_admin_api_every_ordering_path_stays_within_max_spend() {
    for cap in ["0.0001", "0.001", "0.01", "0.05", "0.2"] {
        let config = smm_mock::Config {
            admin: false,
            listen: "127.0.0.1:0".parse().unwrap(),
            ..smm_mock::Config::new(smm_mock::Fixture::builtin())
        };
        let panel = smm_mock::MockPanel::start_with(config).await.unwrap();
        let cap: Decimal = cap.parse().unwrap();
        let run = smm_conformance::execute(smm_conformance::Options {
            url: Some(panel.url()),
            key: Some("test-key".into()),
            second_key: Some("empty-key".into()),
            allow_orders: true,
            max_spend: Some(cap),
            cases: 16,
            ..smm_conformance::Options::default()
        })
        .await
        .unwrap();
        let spent = Decimal::from(1000) - panel.with_panel(|p| p.balance("test-key")).unwrap();
        assert!(spent <= cap, "spent {spent}, cap {cap}");
        assert_eq!(
            panel.with_panel(|p| p.balance("empty-key")),
            Some(Decimal::ZERO),
            "cap {cap}: the second key spent"
        );
        let skipped: Vec<&str> = run
            .report
            .checks
            .iter()
            .filter(|c| c.outcome == smm_conformance::outcome::Outcome::Skip)
            .map(|c| c.id)
            .collect();
        if cap >= Decimal::new(2, 1) {
            assert_eq!(skipped, Vec::<&str>::new(), "cap {cap}: everything runs");
        } else {
            assert!(!skipped.is_empty(), "cap {cap}: something must not fit");
            let money_skip = run.report.checks.iter().find(|c| {
                c.outcome == smm_conformance::outcome::Outcome::Skip
                    && c.message.starts_with("not enough budget")
            });
            if let Some(check) = money_skip {
                assert!(
                    check.message.contains("needs it raised by"),
                    "{}",
                    check.message
                );
            }
        }
        assert_eq!(run.report.counts.failed, 0, "cap {cap}");
        panel.shutdown().await;
    }
}
