//! Inference and building, one observation at a time.

use serde_json::json;
use smm_mock::profile::Profile;

use super::*;
use crate::snapshot::{BulkLimit, ErrorAnswer, JsonType, Types};

/// What a snapshot of the built-in mock holds, in brief: two services,
/// the contract's shapes and errors, three orders.
fn conforming() -> Observed {
    let service = |id: u64, kind: &str| {
        json!({"service": id, "name": format!("S{id}"), "type": kind, "category": "C",
               "rate": "0.90", "min": "50", "max": "10000",
               "dripfeed": false, "refill": true, "cancel": true})
    };
    let shape = |fields: &[(&str, JsonType)]| -> BTreeMap<String, Types> {
        fields
            .iter()
            .map(|(f, t)| ((*f).to_owned(), Types::one(*t)))
            .collect()
    };
    let status = shape(&[
        ("charge", JsonType::String),
        ("start_count", JsonType::String),
        ("status", JsonType::String),
        ("remains", JsonType::String),
        ("currency", JsonType::String),
    ]);
    let mut observed = Observed::of_snapshot(Snapshot {
        target: "https://panel.example/api/v2".into(),
        services: vec![service(1, "Default"), service(2, "Package")],
        shapes: BTreeMap::from([
            (
                "services[]".to_owned(),
                shape(&[
                    ("service", JsonType::Integer),
                    ("rate", JsonType::String),
                    ("min", JsonType::String),
                    ("max", JsonType::String),
                    ("dripfeed", JsonType::Boolean),
                    ("refill", JsonType::Boolean),
                    ("cancel", JsonType::Boolean),
                ]),
            ),
            (
                "balance".to_owned(),
                shape(&[
                    ("balance", JsonType::String),
                    ("currency", JsonType::String),
                ]),
            ),
            ("status".to_owned(), status.clone()),
            ("status(orders)[]".to_owned(), status),
        ]),
        statuses: vec!["Canceled".into(), "Completed".into(), "Partial".into()],
        errors: BTreeMap::from([
            (
                request::WRONG_KEY.to_owned(),
                "Invalid API key".parse().unwrap(),
            ),
            (
                request::NO_ACTION.to_owned(),
                "Incorrect request".parse().unwrap(),
            ),
            (
                request::UNKNOWN_ACTION.to_owned(),
                "Incorrect request".parse().unwrap(),
            ),
            (
                request::UNKNOWN_ORDER.to_owned(),
                "Incorrect order ID".parse().unwrap(),
            ),
            (
                request::UNKNOWN_REFILL.to_owned(),
                "Refill not found".parse().unwrap(),
            ),
        ]),
        orders: vec![23501, 23502, 23503],
        content_types: vec!["application/json".into()],
        ..Observed::new(Source::Snapshot, "").snapshot
    });
    observed.source = Source::Snapshot;
    observed
}

fn profiles(observed: &Observed) -> (Vec<Profile>, Vec<String>) {
    let mut notes = Vec::new();
    let found = infer::infer(observed, &mut notes);
    (found.into_iter().map(|i| i.profile).collect(), notes)
}

fn set_type(observed: &mut Observed, shape: &str, field: &str, kind: JsonType) {
    observed
        .snapshot
        .shapes
        .get_mut(shape)
        .unwrap()
        .insert(field.into(), Types::one(kind));
}

#[test]
fn a_conforming_panel_shows_no_profile_and_its_clone_parses() {
    let observed = conforming();
    assert_eq!(profiles(&observed), (vec![], vec![]));
    let cloned = build(&observed, "s.json");
    let fixture = smm_mock::Fixture::parse("c.json", &cloned.to_json()).unwrap();
    assert_eq!(fixture.services.len(), 2);
    assert_eq!(fixture.first_order_id, 23501);
    assert_eq!(fixture.orders.len(), 3);
    assert!(fixture.messages.is_empty());
    assert!(cloned.fixture["description"]
        .as_str()
        .unwrap()
        .starts_with("A clone of https://panel.example/api/v2, made by `smm-conformance clone` from the snapshot s.json"));
}

#[test]
fn numbers_everywhere_are_numeric_fields_and_numbers_in_some_places_a_note() {
    let mut observed = conforming();
    for field in ["rate", "min", "max"] {
        set_type(&mut observed, "services[]", field, JsonType::Number);
    }
    set_type(&mut observed, "balance", "balance", JsonType::Number);
    // The statuses' amounts are still strings: mixed evidence, no profile.
    let (found, notes) = profiles(&observed);
    assert!(found.is_empty(), "{found:?}");
    assert!(
        notes[0].starts_with("numbers in services[].rate, services[].min, services[].max, balance.balance but strings in status.charge"),
        "{notes:?}"
    );
    for shape in ["status", "status(orders)[]"] {
        for field in ["charge", "start_count", "remains"] {
            set_type(&mut observed, shape, field, JsonType::Integer);
        }
    }
    assert_eq!(profiles(&observed), (vec![Profile::NumericFields], vec![]));
}

#[test]
fn string_ids_need_every_id_a_string() {
    let mut observed = conforming();
    observed.snapshot.services[0]["service"] = json!("1");
    let (found, notes) = profiles(&observed);
    assert!(found.is_empty());
    assert_eq!(
        notes,
        ["1 of 2 service ids are strings, the others numbers: the clone sends them all as numbers"]
    );
    observed.snapshot.services[1]["service"] = json!("2");
    assert_eq!(profiles(&observed).0, [Profile::StringIds]);
    let cloned = build(&observed, "s.json");
    assert_eq!(cloned.fixture["services"][0]["service"], json!(1));
}

#[test]
fn status_spellings_take_the_fewest_profiles_that_spell_them_all() {
    let case = |statuses: &[&str]| {
        let mut observed = conforming();
        observed.snapshot.statuses = statuses.iter().map(|s| (*s).to_owned()).collect();
        profiles(&observed)
    };
    assert_eq!(case(&["In Progress"]).0, [Profile::StatusCase]);
    assert_eq!(
        case(&["completed", "partial"]).0,
        [Profile::StatusLowercase]
    );
    assert_eq!(
        case(&["cancelled", "completed"]).0,
        [Profile::StatusLowercase, Profile::CancelledSpelling]
    );
    assert_eq!(
        case(&["Failed", "Refunded"]).0,
        [Profile::ExtraStatusValues]
    );
    // Refunded for Canceled, but Partial as the contract spells it: no
    // profile does both; the spelling that explains most stays, and on a
    // tie the contract's.
    let refunded = ["no profile spells the statuses Refunded as the panel does"];
    let (found, notes) = case(&["Partial", "Refunded", "Completed"]);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(notes, refunded);
    let (found, notes) = case(&["Partial", "Refunded", "Cancelled", "Completed"]);
    assert_eq!(found, [Profile::CancelledSpelling]);
    assert_eq!(notes, refunded);
    assert_eq!(case(&["Completed"]), (vec![], vec![]));
}

#[test]
fn shapes_of_bulk_answers_and_errors_give_their_profiles() {
    let case = |edit: &dyn Fn(&mut Snapshot)| {
        let mut observed = conforming();
        edit(&mut observed.snapshot);
        profiles(&observed).0
    };
    let string_answer = || BTreeMap::from([("(answer)".to_owned(), Types::one(JsonType::String))]);
    assert_eq!(
        case(&|s| s.bulk_limit = BulkLimit::First100),
        [Profile::BulkOverflowTruncated]
    );
    assert_eq!(
        case(&|s| s.bulk_limit = BulkLimit::All),
        [Profile::BulkOverflowIgnored]
    );
    assert_eq!(
        case(&|s| {
            s.shapes.insert("cancel(orders)".into(), string_answer());
        }),
        [Profile::ConnectionReset]
    );
    assert_eq!(
        case(&|s| {
            for name in ["cancel(orders)", "status(orders)", "refill(orders)"] {
                s.shapes.insert(name.into(), string_answer());
            }
        }),
        [Profile::TruncatedJson]
    );
    assert_eq!(
        case(&|s| {
            s.shapes.insert(
                "cancel(orders)".into(),
                BTreeMap::from([("12".to_owned(), Types::one(JsonType::Object))]),
            );
        }),
        [Profile::CancelKeyedObject]
    );
    assert_eq!(
        case(&|s| {
            s.errors
                .insert(request::WRONG_KEY.into(), "(no error)".parse().unwrap());
        }),
        [Profile::InvalidKeyAccepted]
    );
    assert_eq!(
        case(&|s| {
            s.errors.insert(
                request::UNKNOWN_REFILL.into(),
                ErrorAnswer::unanswered("no answer within the timeout"),
            );
        }),
        [Profile::Hang]
    );
    assert_eq!(
        case(&|s| s.target = "https://panel.example/api/v1".into()),
        [Profile::ApiV1Path]
    );
    assert_eq!(
        case(&|s| s.content_types = vec!["text/html".into()]),
        [Profile::WrongContentType]
    );
    assert_eq!(
        case(&|s| {
            for answer in s.errors.values_mut() {
                *answer = "(HTTP 503) (not JSON: HTTP 503)".parse().unwrap();
            }
            s.content_types.push("text/html".into());
        }),
        [Profile::HtmlErrors]
    );
    assert_eq!(
        case(&|s| s.content_types.push("text/html".into())),
        [Profile::Random5xx]
    );
}

#[test]
fn four_hundreds_are_http_4xx_errors_and_other_codes_a_note() {
    let mut observed = conforming();
    let errors = &mut observed.snapshot.errors;
    errors.insert(
        request::WRONG_KEY.into(),
        "(HTTP 403) Invalid API key".parse().unwrap(),
    );
    errors.insert(
        request::UNKNOWN_ORDER.into(),
        "(HTTP 400) Incorrect order ID".parse().unwrap(),
    );
    let (found, notes) = profiles(&observed);
    assert_eq!(found, [Profile::Http4xxErrors]);
    assert!(
        notes.contains(
            &"`balance with a wrong key` came with HTTP 403: the clone answers 401".to_owned()
        ),
        "{notes:?}"
    );
}

#[test]
fn error_words_become_messages_where_they_differ_from_the_contract_s() {
    let mut observed = conforming();
    let errors = &mut observed.snapshot.errors;
    errors.insert(
        request::WRONG_KEY.into(),
        "(HTTP 401) Incorrect API key".parse().unwrap(),
    );
    errors.insert(
        request::NO_ACTION.into(),
        "Action is required".parse().unwrap(),
    );
    let mut notes = Vec::new();
    let messages = messages(&observed, &mut notes);
    assert_eq!(
        Value::Object(messages),
        json!({"invalid_key": "Incorrect API key"})
    );
    assert_eq!(
        notes,
        ["no action was answered `Action is required`, an unknown action `Incorrect request`: the clone answers both `Incorrect request`"]
    );
}

#[test]
fn orders_are_seeded_in_their_statuses_and_gaps_filled() {
    let mut observed = conforming();
    observed.snapshot.orders = vec![7, 10];
    observed.order_statuses =
        BTreeMap::from([(7, "In Progress".into()), (10, "processing".into())]);
    let cloned = build(&observed, "r.jsonl");
    let fixture = smm_mock::Fixture::parse("c.json", &cloned.to_json()).unwrap();
    assert_eq!(fixture.first_order_id, 7);
    let lifecycles: Vec<&str> = fixture
        .orders
        .iter()
        .map(|o| fixture.lifecycles[o.lifecycle.unwrap()].name.as_str())
        .collect();
    assert_eq!(
        lifecycles,
        ["cancelable", "standard", "standard", "held-processing"]
    );
    assert!(
        cloned
            .notes
            .iter()
            .any(|n| n.contains("2 orders in Completed fill the ids")),
        "{:?}",
        cloned.notes
    );
    // Far apart: a run from the first id, the others said lost.
    observed.snapshot.orders = vec![7, 5000];
    let cloned = build(&observed, "r.jsonl");
    assert_eq!(cloned.orders, 2);
    assert!(
        cloned
            .notes
            .iter()
            .any(|n| n.contains("orders 5000 do not exist")),
        "{:?}",
        cloned.notes
    );
}

#[test]
fn services_the_fixture_cannot_hold_are_left_out_with_why() {
    let mut observed = conforming();
    observed
        .snapshot
        .services
        .push(json!({"service": "abc", "name": "X", "type": "Default",
        "category": "C", "rate": "1", "min": "1", "max": "2"}));
    observed
        .snapshot
        .services
        .push(json!({"service": 9, "name": "Y", "type": "Followers",
        "category": "C", "rate": "1", "min": "1", "max": "2", "average_time": "1h"}));
    observed
        .snapshot
        .services
        .push(json!({"service": 10, "name": "Z", "type": "Default",
        "category": "C", "rate": 1e-5, "min": 1, "max": 2}));
    let cloned = build(&observed, "s.json");
    assert_eq!(cloned.services, 3);
    assert_eq!(cloned.fixture["services"][2]["rate"], "0.00001");
    assert!(cloned.notes.contains(&"services left out, the fixture format cannot hold them: abc (an id that is not a number), 9 (type `Followers` is not one of CONTRACT §2.1)".to_owned()), "{:?}", cloned.notes);
    assert!(cloned.notes.contains(
        &"service fields the mock does not send: `average_time` (1 services)".to_owned()
    ));
}

#[test]
fn a_recording_s_currency_precision_and_balance_reach_the_accounts() {
    let mut observed = conforming();
    observed.source = Source::Recording;
    observed.currency = Some("EUR".into());
    observed.precision = Some(2);
    observed.balance = Some("12.34".into());
    let fixture = smm_mock::Fixture::parse("c.json", &build(&observed, "r").to_json()).unwrap();
    assert_eq!(fixture.precision.decimals(), 2);
    assert!(fixture.accounts.iter().all(|a| a.currency == "EUR"));
    assert_eq!(fixture.accounts[0].balance.to_string(), "12.34");
}

#[test]
fn every_profile_a_snapshot_can_see_has_its_evidence_written_down() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/expected/detection-matrix.json"
    );
    let matrix: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for row in matrix["profiles"].as_array().unwrap() {
        if row["snapshot"] == true {
            let profile: Profile = row["profile"].as_str().unwrap().parse().unwrap();
            assert!(
                infer::EVIDENCE.iter().any(|(p, _)| *p == profile),
                "{profile}"
            );
        }
    }
}
