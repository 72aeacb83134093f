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
    let (panel, key) = secret_mock().await;
    // Service 3 costs 0.0033 per 1000, so a minimum order of 10 costs 0.000033:
    // 0.0001 pays for three such orders and nothing bigger.
    let cap = "0.0001";
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
    assert!(
        spent > Decimal::ZERO,
        "nothing was spent: the money checks did not run"
    );
    let placed = panel.with_panel(|p| p.orders().len()) - 3;
    assert_eq!(placed, 3, "three orders fit under the cap");
    assert!(
        with_outcome(&report, "skip").contains(&"add.validation".to_owned()),
        "the invalid-order check could cost more than the cap"
    );
    assert_eq!(with_outcome(&report, "fail"), Vec::<String>::new());
}
