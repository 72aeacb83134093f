//! The schemas (issue point 1): every fixture follows the fixture schema, the
//! built-in fixture has what the README promises, and each response schema
//! refuses the drift it exists to catch.

use serde_json::json;

use crate::support::{read_json, root, schemas, SCHEMAS};

#[test]
fn every_schema_is_a_valid_2020_12_schema() {
    for name in SCHEMAS {
        let schema = read_json(&format!("schemas/{name}.schema.json"));
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert!(
            jsonschema::meta::is_valid(&schema),
            "{name} is not a valid schema"
        );
    }
}

#[test]
fn every_fixture_file_follows_the_fixture_schema() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            schemas().assert_valid("fixture", &value);
            checked += 1;
        }
    }
    assert!(checked >= 1);
}

#[test]
fn the_fixture_schema_refuses_what_the_loader_refuses() {
    let mut fixture = read_json("fixtures/default.json");
    fixture["services"][0]["mn"] = json!("1");
    assert!(!schemas().errors("fixture", &fixture).is_empty());
}

#[test]
fn the_fixture_schema_names_every_message_kind_and_no_other() {
    let schema = read_json("schemas/fixture.schema.json");
    let names: Vec<&str> = schema["properties"]["messages"]["propertyNames"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let kinds: Vec<&str> = smm_mock::error::MessageKind::ALL
        .iter()
        .map(|k| k.name())
        .collect();
    assert_eq!(names, kinds);
    let mut fixture = read_json("fixtures/default.json");
    fixture["messages"] = json!({"invalid_key": "Incorrect API key"});
    schemas().assert_valid("fixture", &fixture);
    fixture["messages"] = json!({"invalid key": "Incorrect API key"});
    assert!(!schemas().errors("fixture", &fixture).is_empty());
    fixture["messages"] = json!({"invalid_key": " "});
    assert!(!schemas().errors("fixture", &fixture).is_empty());
}

#[test]
fn the_builtin_fixture_has_the_promised_keys() {
    let fixture = smm_mock::Fixture::builtin();
    let key = |k: &str| {
        fixture
            .accounts
            .iter()
            .find(|a| a.key == k)
            .map(|a| (a.balance.to_string(), a.currency.clone()))
    };
    assert_eq!(key("test-key"), Some(("1000.00".into(), "USD".into())));
    assert_eq!(key("empty-key"), Some(("0.00".into(), "USD".into())));
}

#[test]
fn response_schemas_refuse_the_drift_they_exist_for() {
    let bad: &[(&str, serde_json::Value)] = &[
        ("add", json!({"order": "23501"})),
        ("add", json!({"status": "success", "order": 1})),
        ("balance", json!({"balance": 100.84, "currency": "USD"})),
        ("balance", json!({"balance": "100.84"})),
        (
            "status",
            json!({"charge": "0.2", "start_count": "1", "status": "In Progress", "remains": "1", "currency": "USD"}),
        ),
        (
            "status",
            json!({"charge": "0.2", "start_count": null, "status": "Pending", "remains": "1", "currency": "USD"}),
        ),
        (
            "status",
            json!({"charge": "0.2", "start_count": "1", "status": "Pending", "remains": "Unknown", "currency": "USD"}),
        ),
        (
            "status",
            json!({"charge": "0.2", "start_count": "1", "status": "Pending", "remains": "1"}),
        ),
        ("status-bulk", json!({"1": "Incorrect order ID"})),
        (
            "status-bulk",
            json!([{"charge": "0.2", "status": "Pending", "remains": "1"}]),
        ),
        (
            "services",
            json!([{"service": "1", "name": "n", "type": "Default", "category": "c", "rate": "1", "min": "1", "max": "2", "dripfeed": false, "refill": false, "cancel": false}]),
        ),
        (
            "services",
            json!([{"service": 1, "name": "n", "type": "Default", "category": "c", "rate": "1", "min": "1", "max": "2"}]),
        ),
        ("cancel", json!({"9": {"cancel": 1}})),
        ("refill-bulk", json!([{"order": "1", "refill": 1}])),
        ("refill-status", json!({"status": "Cancelled"})),
        ("error", json!({"error": ""})),
        ("error", json!({"error": "x", "status": "fail"})),
    ];
    for (schema, instance) in bad {
        assert!(
            !schemas().errors(schema, instance).is_empty(),
            "{schema} accepted {instance}"
        );
    }
}
