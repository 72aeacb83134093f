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
