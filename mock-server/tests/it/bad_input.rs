//! Bad input (issue point 9): a clear error, nothing lost, never a panic.

use std::sync::Arc;

use proptest::prelude::*;
use rust_decimal::Decimal;
use smm_mock::profile::Profile;
use smm_mock::request::Fields;
use smm_mock::router::ApiRequest;
use smm_mock::{Config, Fixture, Panel, PanelOptions, Rules};

use crate::support::{check_api_answer, error_of, is_error, schema_for, schemas, Mock, Raw};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// Sends a raw body to the API and returns the error message (checking that
/// the answer is HTTP 200 and a valid error object).
async fn refused(mock: &Mock, method: &str, content_type: Option<&str>, body: &[u8]) -> String {
    let raw: Raw = mock
        .raw(method, "/api/v2", content_type, body.to_vec())
        .await;
    error_of(&check_api_answer(&[], &raw)).to_owned()
}

#[tokio::test]
async fn unreadable_requests_get_a_clear_error_and_change_nothing() {
    let mock = Mock::start().await;
    let add = b"key=test-key&action=add&service=1&link=x&quantity=100";
    let mut huge = add.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 70 * 1024));
    let cases: Vec<(&str, Option<&str>, Vec<u8>, &str)> = vec![
        ("POST", FORM, huge, "Request body too large: at most 65536 bytes"),
        ("POST", FORM, b"key=test-key&action=add&link=\xff\xfe".to_vec(), "Incorrect request: the request is not valid UTF-8"),
        ("POST", FORM, b"key=test-key&action=add&link=%C3%28".to_vec(), "Incorrect request: the request is not valid UTF-8"),
        ("POST", FORM, b"key=test-key&action=add&service=1&link=x&quantity=100&quantity=200".to_vec(), "Incorrect request: field `quantity` is sent more than once"),
        ("POST", Some("text/plain"), add.to_vec(), "Incorrect request: unsupported content type `text/plain`: send application/x-www-form-urlencoded or application/json"),
        ("POST", Some("multipart/form-data; boundary=x"), add.to_vec(), "Incorrect request: unsupported content type `multipart/form-data`: send application/x-www-form-urlencoded or application/json"),
        ("POST", Some("application/json"), b"{\"key\": \"test-key\",".to_vec(), "Incorrect request: invalid JSON body: EOF while parsing"),
        ("POST", Some("application/json"), b"[\"key\"]".to_vec(), "Incorrect request: invalid JSON body: the body must be a JSON object"),
        ("POST", Some("application/json"), br#"{"key":"test-key","action":"add","link":{"a":1}}"#.to_vec(), "Incorrect request: invalid JSON body: field `link` must be a string, a number or a list of them"),
        ("PUT", FORM, add.to_vec(), "Incorrect request: method PUT is not supported: use POST (or GET)"),
        ("DELETE", None, Vec::new(), "Incorrect request: method DELETE is not supported: use POST (or GET)"),
        ("POST", FORM, Vec::new(), "Invalid API key"),
        ("POST", FORM, b"key=test-key".to_vec(), "Incorrect request"),
        ("POST", FORM, b"key=test-key&action=ADD".to_vec(), "Incorrect request"),
        ("POST", FORM, b"key=test-key&action=".to_vec(), "Incorrect request"),
    ];
    for (method, content_type, body, message) in cases {
        let got = refused(&mock, method, content_type, &body).await;
        // serde_json words the JSON syntax errors; the prefix is ours.
        assert!(
            got == message || message.ends_with("EOF while parsing") && got.starts_with(message),
            "{method} {content_type:?}: {got}"
        );
    }
    assert_eq!(mock.balance("test-key").await, "1000.00000");
    mock.panel.with_panel(|p| assert_eq!(p.orders().len(), 3));
}

#[tokio::test]
async fn wrong_values_get_the_panels_messages() {
    let mock = Mock::start().await;
    let add = |service: &'static str, quantity: &'static str| {
        vec![
            ("action", "add"),
            ("service", service),
            ("link", "https://x.com/v"),
            ("quantity", quantity),
        ]
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (add("1", "abc"), "Incorrect quantity"),
        (add("1", "1.5"), "Incorrect quantity"),
        (add("1", ""), "Incorrect quantity"),
        (add("1", "0"), "Quantity less than minimal 50"),
        (add("1", "-5"), "Quantity less than minimal 50"),
        (add("1", "49"), "Quantity less than minimal 50"),
        (add("1", "10001"), "Quantity more than maximum 10000"),
        (
            add("1", "99999999999999999999999999"),
            "Quantity more than maximum 10000",
        ),
        (add("999", "100"), "Incorrect service ID"),
        (add("abc", "100"), "Incorrect service ID"),
        (add("-1", "100"), "Incorrect service ID"),
        (add("18446744073709551616", "100"), "Incorrect service ID"),
        (
            vec![
                ("action", "add"),
                ("service", "1"),
                ("link", "   "),
                ("quantity", "100"),
            ],
            "Incorrect link",
        ),
        (
            vec![("action", "status"), ("order", "9223372036854775808")],
            "Incorrect order ID",
        ),
        (
            vec![("action", "status"), ("order", "99999999999999999999999")],
            "Incorrect order ID",
        ),
        (
            vec![("action", "status"), ("order", "-23501")],
            "Incorrect order ID",
        ),
        (
            vec![("action", "status"), ("order", "23501.0")],
            "Incorrect order ID",
        ),
        (vec![("action", "status")], "Incorrect order ID"),
        (vec![("action", "refill")], "Incorrect order ID"),
        (vec![("action", "refill_status")], "Refill not found"),
        (vec![("action", "cancel")], "Incorrect order ID"),
    ];
    for (fields, message) in cases {
        assert_eq!(error_of(&mock.call(&fields).await), message, "{fields:?}");
    }
    assert_eq!(mock.balance("test-key").await, "1000.00000");
    mock.panel.with_panel(|p| assert_eq!(p.orders().len(), 3));
}

/// The built-in fixture with its errors worded as a fixture's `messages` say.
fn worded(profiles: &[Profile]) -> Config {
    let mut fixture: serde_json::Value =
        serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    fixture["messages"] = serde_json::json!({
        "invalid_key": "Incorrect API key",
        "incorrect_request": "Bad request",
        "incorrect_order": "Order not found",
        "refill_not_found": "No such refill",
        "quantity_less": "Minimum quantity is",
        "too_many_ids": "Max 100 orders",
    });
    Config {
        profiles: profiles.iter().copied().collect(),
        ..Config::new(Fixture::parse("worded.json", &fixture.to_string()).unwrap())
    }
}

#[tokio::test]
async fn a_fixture_s_messages_word_its_errors_wherever_they_are_answered() {
    let mock = Mock::with(worded(&[])).await;
    let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let many = many.join(",");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("action", "nope")], "Bad request"),
        (
            vec![("action", "status"), ("order", "9")],
            "Order not found",
        ),
        (
            vec![("action", "refill_status"), ("refill", "9")],
            "No such refill",
        ),
        (
            vec![("action", "status"), ("orders", &many)],
            "Max 100 orders",
        ),
        (
            vec![
                ("action", "add"),
                ("service", "1"),
                ("link", "https://x.com/v"),
                ("quantity", "10"),
            ],
            "Minimum quantity is 50",
        ),
        // Not given: the reference panels' words.
        (
            vec![
                ("action", "add"),
                ("service", "999"),
                ("link", "https://x.com/v"),
                ("quantity", "100"),
            ],
            "Incorrect service ID",
        ),
    ];
    for (fields, message) in cases {
        assert_eq!(error_of(&mock.call(&fields).await), message, "{fields:?}");
    }
    let wrong_key = mock.api(&[("key", "nope"), ("action", "balance")]).await;
    assert_eq!(error_of(&wrong_key), "Incorrect API key");
    // Per id, in every bulk answer.
    let bulk = mock
        .call(&[("action", "status"), ("orders", "23501,9")])
        .await;
    assert_eq!(bulk["9"]["error"], "Order not found");
    let cancel = mock.call(&[("action", "cancel"), ("orders", "9")]).await;
    assert_eq!(cancel[0]["cancel"]["error"], "Order not found");
    // A request the panel cannot read opens with the words of a bad request.
    let unreadable = mock
        .raw("POST", "/api/v2", Some("application/json"), b"{".to_vec())
        .await;
    let said = unreadable.json()["error"].as_str().unwrap().to_owned();
    assert!(said.starts_with("Bad request: "), "{said}");
    // The profiles reshape the worded errors as they do the contract's.
    let bare = Mock::with(worded(&[
        Profile::BareStringBulkErrors,
        Profile::Http4xxErrors,
    ]))
    .await;
    let answer = bare
        .raw(
            "POST",
            "/api/v2",
            Some("application/x-www-form-urlencoded"),
            b"key=test-key&action=status&orders=23501,9".to_vec(),
        )
        .await;
    assert_eq!(answer.json()["9"], "Order not found");
    let refused = bare
        .raw(
            "POST",
            "/api/v2",
            Some("application/x-www-form-urlencoded"),
            b"key=nope&action=balance".to_vec(),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json()["error"].clone()),
        (401, "Incorrect API key".into())
    );
}

#[tokio::test]
async fn other_paths_are_json_404s() {
    let mock = Mock::start().await;
    for path in ["/", "/api/v1", "/api.php", "/api/v2/x", "/api/v3"] {
        let raw = mock
            .raw("POST", path, FORM, b"key=test-key&action=balance".to_vec())
            .await;
        assert_eq!(raw.status, 404, "{path}");
        assert_eq!(raw.content_type, "application/json");
        assert!(raw.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Not found"));
    }
}

/// Each mistake in a fixture, and the field and problem the error names.
#[test]
fn a_fixture_with_a_mistake_is_refused_with_field_and_problem() {
    let base: serde_json::Value = serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let cases: &[(Edit, &str)] = &[
        (
            |f| f["services"][1]["min"] = "x".into(),
            "services[1].min: `x` is not an integer string",
        ),
        (
            |f| f["services"][2]["service"] = 1.into(),
            "services[2].service: id 1 is used twice",
        ),
        (
            |f| f["services"][0]["type"] = "Followers".into(),
            "services[0].type: unknown type `Followers`",
        ),
        (
            |f| f["services"][0]["rate"] = "-1".into(),
            "services[0].rate: `-1` is not a decimal string",
        ),
        (
            |f| f["services"][3]["dripfeed"] = true.into(),
            "services[3].dripfeed: type `Package` has no drip-feed",
        ),
        (
            |f| f["services"][0]["mn"] = "1".into(),
            "services[0].mn: unknown field `mn`, expected one of `service`",
        ),
        (
            |f| f["accounts"][1]["key"] = "test-key".into(),
            "accounts[1].key: `test-key` is used twice",
        ),
        (
            |f| f["accounts"][0]["currency"] = "usd".into(),
            "accounts[0].currency: `usd` is not a three-letter code",
        ),
        (
            |f| f["accounts"][0]["balance"] = "1,000".into(),
            "accounts[0].balance: `1,000` is not a decimal string",
        ),
        (
            |f| f["accounts"][0]["balance"] = "0.1234567".into(),
            "with at most 5 decimals",
        ),
        (
            |f| f["lifecycles"]["standard"][2]["delivered"] = 90.into(),
            "lifecycles.standard: step 2: Completed cannot have delivered 90",
        ),
        (
            |f| f["lifecycles"]["partial"][0]["status"] = "Partial".into(),
            "lifecycles.partial: the first step must be Pending",
        ),
        (
            |f| f["lifecycles"]["standard"][1]["status"] = "Done".into(),
            "lifecycles.standard[1].status: unknown variant `Done`",
        ),
        (
            |f| f["rules"][0]["lifecycle"] = "nope".into(),
            "rules[0].lifecycle: no lifecycle is named `nope`",
        ),
        (
            |f| {
                f["rules"].as_array_mut().unwrap().pop();
            },
            "the last rule must match every order",
        ),
        (
            |f| f["refill_rules"][0]["service"] = 404.into(),
            "refill_rules[0].service: no service has id 404",
        ),
        (
            |f| f["orders"][0]["key"] = "ghost".into(),
            "orders[0].key: no account has key `ghost`",
        ),
        (
            |f| f["precision"] = 13.into(),
            "precision: 13 is over the maximum 12",
        ),
        (
            |f| f["messages"] = serde_json::json!({"invalid key": "Bad key"}),
            "messages.invalid key: unknown message `invalid key` (known: invalid_key, ",
        ),
        (
            |f| f["messages"] = serde_json::json!({"incorrect_order": "  "}),
            "messages.incorrect_order: must not be empty",
        ),
        (
            |f| {
                f.as_object_mut().unwrap().remove("services");
            },
            "missing field `services`",
        ),
    ];
    for (edit, expected) in cases {
        let mut fixture = base.clone();
        edit(&mut fixture);
        let error = Fixture::parse("bad.json", &fixture.to_string()).expect_err(expected);
        let text = error.to_string();
        assert!(text.starts_with("bad.json: "), "{text}");
        assert!(text.contains(expected), "expected `{expected}` in `{text}`");
    }
    let not_json = Fixture::parse("bad.json", "{").unwrap_err().to_string();
    assert!(
        not_json.starts_with("bad.json: ") && not_json.contains("EOF"),
        "{not_json}"
    );
}

/// A field name the router knows, or noise.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("key".to_owned()),
        Just("action".to_owned()),
        Just("service".to_owned()),
        Just("link".to_owned()),
        Just("quantity".to_owned()),
        Just("order".to_owned()),
        Just("orders".to_owned()),
        Just("refill".to_owned()),
        Just("refills".to_owned()),
        Just("runs".to_owned()),
        Just("interval".to_owned()),
        Just("comments".to_owned()),
        "[a-z_]{1,8}",
    ]
}

/// A value: the meaningful ones, numbers of every size, and any text.
fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "test-key",
            "eur-key",
            "empty-key",
            "services",
            "add",
            "status",
            "refill",
            "refill_status",
            "cancel",
            "balance",
            "1",
            "2",
            "3",
            "17",
            "18",
            "23501",
            "23502",
            "23503",
            "23504",
            "23505",
            "https://x.com/partial",
            "https://x.com/canceled",
            "https://x.com/cancel",
            "50",
            "100",
            "10000",
            "a\nb\nc\nd\ne",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| n.to_string()),
        prop::collection::vec(23500u64..23520, 0..120).prop_map(|ids| ids
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")),
        any::<String>(),
    ]
}

/// A form body: mostly meaningful pairs, sometimes arbitrary bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec((field_name(), field_value()), 0..8).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace('%', "%25").replace('&', "%26").replace('+', "%2B")))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// The money invariant: each balance is its starting balance, minus what its
/// placed orders were charged, plus what was refunded; never negative.
fn assert_money_invariant(panel: &Panel, initial: &[Decimal]) {
    let fixture = panel.fixture();
    let seeded = fixture.orders.len();
    for (i, account) in fixture.accounts.iter().enumerate() {
        let net: Decimal = panel.orders()[seeded..]
            .iter()
            .filter(|o| o.account as usize == i)
            .map(|o| o.charge - o.refunded)
            .sum();
        let balance = panel.balance(&account.key).unwrap();
        assert_eq!(balance, initial[i] - net, "balance of {}", account.key);
        assert!(balance >= Decimal::ZERO, "{} went negative", account.key);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    /// Arbitrary form bodies never panic the router, every answer is valid
    /// JSON of the right schema, and the money invariant always holds.
    #[test]
    fn arbitrary_bodies_keep_the_state_invariants(bodies in prop::collection::vec(body(), 1..40)) {
        let fixture = Arc::new(Fixture::builtin());
        let initial: Vec<Decimal> = fixture.accounts.iter().map(|a| a.balance).collect();
        let mut panel = Panel::new(fixture, PanelOptions::default());
        for bytes in bodies {
            let mut fields = Fields::default();
            if fields.add_form(&bytes).is_err() {
                continue;
            }
            let request = ApiRequest::new(fields);
            let body = panel
                .handle(&request, Rules::CONTRACT)
                .to_json(&smm_mock::error::Messages::CONTRACT);
            let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            let pairs: Vec<(&str, &str)> = request.fields().iter().collect();
            let schema = if is_error(&value) { "error" } else { schema_for(&pairs, &value) };
            let errors = schemas().errors(schema, &value);
            prop_assert!(errors.is_empty(), "{} against {}: {:?}", value, schema, errors);
            assert_money_invariant(&panel, &initial);
        }
    }
}

/// A connection that sends nothing, or its headers a byte at a time, is
/// closed once the read timeout has passed; one that keeps asking is served.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_after_the_read_timeout() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let timeout = Duration::from_millis(300);
    let panel = smm_mock::MockPanel::start_with(smm_mock::Config {
        read_timeout: timeout,
        ..smm_mock::Config::new(Fixture::builtin())
    })
    .await
    .unwrap();
    let addr = panel.addr();
    let closed_after = move |trickle: bool| {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let started = Instant::now();
        if trickle {
            for byte in b"POST /api/v2 HTTP/1.1\r\nHost: x\r\n".iter().take(20) {
                if stream.write_all(&[*byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(40));
            }
        }
        let mut buf = [0u8; 64];
        let read = stream.read(&mut buf);
        (read.map_err(|e| e.kind()), started.elapsed())
    };
    let (idle, trickled) =
        tokio::task::spawn_blocking(move || (closed_after(false), closed_after(true)))
            .await
            .unwrap();
    for (what, (read, took)) in [("idle", idle), ("trickling", trickled)] {
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "{what}: the connection answered instead of closing ({read:?})"
        );
        assert!(
            took >= timeout && took < Duration::from_secs(2),
            "{what}: closed after {took:?}"
        );
    }
    // A client that keeps asking on one connection is answered every time.
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let body = client
            .post(panel.url())
            .body("key=test-key&action=balance")
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("balance"), "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
