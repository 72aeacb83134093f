//! The admin API (issue point 7): reset, clock, journal, balances, orders;
//! never on the API path, and off with a flag.

use serde_json::{json, Value};
use smm_mock::{Config, Fixture};

use crate::support::{error_of, http, Mock};

#[tokio::test]
async fn reset_goes_back_to_the_fixture() {
    let mock = Mock::start().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/r"),
            ("quantity", "100"),
        ])
        .await;
    mock.status(id).await;
    let (code, body) = mock.admin("POST", "/reset", None).await;
    assert_eq!((code, body), (200, json!({"reset": true})));
    assert_eq!(mock.balance("test-key").await, "1000.00000");
    assert_eq!(error_of(&mock.status(id).await), "Incorrect order ID");
    let (_, journal) = mock.admin("GET", "/journal", None).await;
    assert_eq!(
        journal["total"], 2,
        "the journal restarts: two balance/status calls since"
    );
    // Ids start over: the next order gets the same id again.
    let again = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/r"),
            ("quantity", "100"),
        ])
        .await;
    assert_eq!(again, id);
}

#[tokio::test]
async fn the_journal_keeps_the_last_requests_with_their_answers() {
    let mock = Mock::with(Config {
        journal: 3,
        ..Config::new(Fixture::builtin())
    })
    .await;
    for _ in 0..4 {
        mock.balance("test-key").await;
    }
    mock.call(&[("action", "nope")]).await;
    let (code, journal) = mock.admin("GET", "/journal", None).await;
    assert_eq!(code, 200);
    assert_eq!(journal["total"], 5);
    assert_eq!(journal["capacity"], 3);
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let last = &entries[2];
    assert_eq!(last["seq"], 5);
    assert_eq!(last["fields"], json!({"key": "test-key", "action": "nope"}));
    assert_eq!(last["response"], json!({"error": "Incorrect request"}));
    let (_, limited) = mock.admin("GET", "/journal?limit=1", None).await;
    assert_eq!(limited["entries"].as_array().unwrap().len(), 1);
}

/// A 64 KiB request can make the journal keep neither 64 KiB nor all its
/// fields: filled with them, the default journal stays a few MB, and a page
/// of it well under 1 MB.
#[tokio::test]
async fn a_journal_full_of_64_kib_requests_stays_small() {
    use smm_mock::journal::{DEFAULT_CAPACITY, ENTRY_BOUND, EXCERPT};
    let mock = Mock::start().await;
    // Short fields past the excerpt (the most a form can show per byte),
    // then one long one.
    let mut fields = String::from("key=test-key&action=balance");
    let mut i = 0;
    while fields.len() < 2 * EXCERPT {
        fields.push_str(&format!("&f{i}=x"));
        i += 1;
    }
    fields.push_str("&pad=");
    fields.extend(std::iter::repeat_n('x', 60_000 - fields.len()));
    let mut body = fields.clone().into_bytes();
    body.resize(smm_mock::request::BODY_LIMIT, b'x');
    for n in 0..DEFAULT_CAPACITY {
        // Every other request has its 60 KB in the query string instead.
        let raw = if n % 2 == 0 {
            let form = Some("application/x-www-form-urlencoded");
            mock.raw("POST", "/api/v2", form, body.clone()).await
        } else {
            mock.raw("GET", &format!("/api/v2?{fields}"), None, Vec::new())
                .await
        };
        assert_eq!(raw.json()["balance"], "1000.00000");
    }
    let (kept, retained, largest) = mock.panel.with_journal(|j| {
        let largest = j.entries().map(|e| e.retained_bytes()).max();
        (j.entries().len(), j.retained_bytes(), largest.unwrap_or(0))
    });
    assert_eq!(kept, DEFAULT_CAPACITY);
    assert!(largest <= ENTRY_BOUND, "an entry holds {largest} bytes");
    assert!(
        retained <= DEFAULT_CAPACITY * (EXCERPT + 512),
        "{retained} bytes for {kept} entries of 64 KiB requests"
    );
    let page = mock
        .raw("GET", "/__mock/journal?limit=50", None, Vec::new())
        .await;
    assert!(page.body.len() < 1_000_000, "{} bytes", page.body.len());
    let page = page.json();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 50);
    let (post, get) = (&entries[48], &entries[49]);
    assert_eq!(
        (&get["method"], &get["query_bytes"]),
        (&json!("GET"), &json!(fields.len()))
    );
    assert_eq!(
        (&post["method"], &post["body_bytes"]),
        (&json!("POST"), &json!(body.len()))
    );
    for entry in [get, post] {
        let shown = entry["fields"].as_object().unwrap();
        assert_eq!(shown["action"], "balance");
        assert!(shown.len() > 100 && shown.len() < 1_000, "{}", shown.len());
    }
}

#[tokio::test]
async fn balances_can_be_read_and_set() {
    let mock = Mock::start().await;
    let (code, accounts) = mock.admin("GET", "/accounts", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        accounts[0],
        json!({"key": "test-key", "balance": "1000.00000", "currency": "USD", "orders": 3})
    );
    let (code, set) = mock
        .admin(
            "PUT",
            "/accounts/empty-key/balance",
            Some(json!({"balance": "12.5"})),
        )
        .await;
    assert_eq!((code, &set["balance"]), (200, &json!("12.50000")));
    assert_eq!(mock.balance("empty-key").await, "12.50000");
    for bad in [
        json!({"balance": "-1"}),
        json!({"balance": "abc"}),
        json!({}),
        json!({"balance": "0.123456"}),
    ] {
        let (code, _) = mock
            .admin("PUT", "/accounts/empty-key/balance", Some(bad))
            .await;
        assert_eq!(code, 400);
    }
    assert_eq!(mock.admin("GET", "/accounts/nobody", None).await.0, 404);
    assert_eq!(
        mock.admin(
            "PUT",
            "/accounts/nobody/balance",
            Some(json!({"balance": "1"}))
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn orders_can_be_listed_read_and_forced() {
    let mock = Mock::start().await;
    let id = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/cancel"),
            ("quantity", "1000"),
        ])
        .await;
    mock.api(&[
        ("key", "eur-key"),
        ("action", "add"),
        ("service", "2"),
        ("link", "https://x.com/e"),
        ("quantity", "100"),
    ])
    .await;
    let (_, all) = mock.admin("GET", "/orders", None).await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    let (_, mine) = mock
        .admin("GET", "/orders?key=test-key&after=23502&limit=5", None)
        .await;
    let ids: Vec<u64> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [23503, id]);
    let (code, view) = mock.admin("GET", &format!("/orders/{id}"), None).await;
    assert_eq!(code, 200);
    assert_eq!(
        (view["lifecycle"].as_str(), view["status"].as_str()),
        (Some("cancelable"), Some("Pending"))
    );

    let (code, forced) = mock
        .admin(
            "POST",
            &format!("/orders/{id}/status"),
            Some(json!({"status": "Partial", "delivered": 60})),
        )
        .await;
    assert_eq!(
        (code, forced["status"].as_str(), forced["refunded"].as_str()),
        (200, Some("Partial"), Some("0.36000"))
    );
    let status = mock.status(id).await;
    assert_eq!(
        (status["status"].as_str(), status["remains"].as_str()),
        (Some("Partial"), Some("400"))
    );
    assert_eq!(mock.balance("test-key").await, "999.46000");
    let (code, _) = mock
        .admin(
            "POST",
            &format!("/orders/{id}/status"),
            Some(json!({"status": "In progress"})),
        )
        .await;
    assert_eq!(code, 409, "a terminal order cannot be forced back");
    assert_eq!(mock.admin("GET", "/orders/1", None).await.0, 404);
    assert_eq!(
        mock.admin("POST", "/orders/1/status", Some(json!({"status": "Nope"})))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_plain_http_errors() {
    let mock = Mock::start().await;
    let (code, index) = mock.admin("GET", "/", None).await;
    assert_eq!(code, 200);
    assert_eq!(index["fixture"], "default");
    assert_eq!(mock.admin("GET", "/nope", None).await.0, 404);
    assert_eq!(mock.admin("DELETE", "/reset", None).await.0, 405);
    let typo = mock
        .admin("POST", "/clock/advance", Some(json!({"tick": 3})))
        .await;
    assert_eq!(typo.0, 400, "an unknown field is refused, not ignored");
    assert_eq!(mock.admin("GET", "/journal?limit=abc", None).await.0, 400);
    assert_eq!(mock.admin("GET", "/orders?after=x", None).await.0, 400);
    let raw = mock
        .raw(
            "POST",
            "/__mock/clock/advance",
            Some("application/json"),
            b"{".to_vec(),
        )
        .await;
    assert_eq!(raw.status, 400);
}

#[tokio::test]
async fn no_admin_turns_the_admin_api_off() {
    let mock = Mock::with(Config {
        admin: false,
        ..Config::new(Fixture::builtin())
    })
    .await;
    let raw = mock.raw("POST", "/__mock/reset", None, Vec::new()).await;
    assert_eq!(raw.status, 404);
    assert!(raw.json()["error"].is_string());
    assert_eq!(
        mock.balance("test-key").await,
        "1000.00000",
        "the API still answers"
    );
}

#[tokio::test]
async fn the_admin_api_is_never_on_the_api_path() {
    let mock = Mock::start().await;
    let body = mock.call(&[("action", "reset")]).await;
    assert_eq!(error_of(&body), "Incorrect request");
}

/// An admin request with these headers (and the mock's own `Host` unless
/// one is among them): the status, and the error if it is one.
async fn admin_with(
    mock: &Mock,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let own_host = mock.panel.addr().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        all.push(("Host", &own_host));
    }
    let (status, body) = http(mock.panel.addr(), method, path, &all, body.as_bytes()).await;
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, value["error"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn only_requests_for_the_mocks_own_address_reach_the_admin_api() {
    let mock = Mock::manual().await;
    let port = mock.panel.addr().port();
    let json = ("Content-Type", "application/json");
    let own = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "localhost:9".to_owned(),
    ];
    for host in &own {
        let (status, error) = admin_with(
            &mock,
            "POST",
            "/__mock/clock/advance",
            &[("Host", host), json],
            "{}",
        )
        .await;
        assert_eq!((status, error.as_str()), (200, ""), "Host {host}");
    }
    let foreign = [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("10.1.2.3:{port}"),
        format!("user@localhost:{port}"),
        String::new(),
    ];
    for host in &foreign {
        let (status, error) = admin_with(
            &mock,
            "POST",
            "/__mock/clock/advance",
            &[("Host", host), json],
            "{}",
        )
        .await;
        assert_eq!(status, 403, "Host {host}: {error}");
        assert!(error.contains("own address"), "{error}");
    }
    let no_host = http(mock.panel.addr(), "POST", "/__mock/reset", &[json], b"").await;
    assert_eq!(no_host.0, 403, "no Host at all");
    let (_, clock) = mock.admin("GET", "/clock", None).await;
    assert_eq!(
        clock["tick"],
        own.len(),
        "only the allowed requests moved the clock"
    );
}

#[tokio::test]
async fn a_web_page_of_another_origin_cannot_use_the_admin_api() {
    let mock = Mock::manual().await;
    let port = mock.panel.addr().port();
    let json = ("Content-Type", "application/json");
    let own = [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}"),
    ];
    for origin in &own {
        let headers = [("Origin", origin.as_str()), json];
        let (status, error) =
            admin_with(&mock, "POST", "/__mock/clock/advance", &headers, "{}").await;
        assert_eq!((status, error.as_str()), (200, ""), "Origin {origin}");
    }
    let foreign = [
        "http://evil.example".to_owned(),
        format!("http://evil.example:{port}"),
        "null".to_owned(),
        format!("http://localhost:{}", port.wrapping_add(1)),
        format!("https://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/x"),
        format!("http://127.0.0.1:{port}.evil.example"),
    ];
    for origin in &foreign {
        for (method, path) in [("POST", "/__mock/clock/advance"), ("GET", "/__mock/clock")] {
            let headers = [("Origin", origin.as_str()), json];
            let (status, error) = admin_with(&mock, method, path, &headers, "").await;
            assert_eq!(status, 403, "{method} with Origin {origin}: {error}");
            assert!(error.contains("web page"), "{error}");
        }
    }
    let (_, clock) = mock.admin("GET", "/clock", None).await;
    assert_eq!(
        clock["tick"],
        own.len(),
        "only the allowed requests moved the clock"
    );
}

#[tokio::test]
async fn admin_requests_that_change_the_panel_must_be_json() {
    let mock = Mock::manual().await;
    for (content_type, expected) in [
        (Some("application/json"), 200),
        (Some("Application/JSON; charset=utf-8"), 200),
        (Some("text/plain"), 415),
        (Some("application/x-www-form-urlencoded"), 415),
        (Some("multipart/form-data; boundary=x"), 415),
        (None, 415),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .iter()
            .map(|ct| ("Content-Type", *ct))
            .collect();
        for (method, path, body) in [
            ("POST", "/__mock/clock/advance", r#"{"ticks": 2}"#),
            (
                "PUT",
                "/__mock/accounts/empty-key/balance",
                r#"{"balance": "7"}"#,
            ),
            ("POST", "/__mock/reset", ""),
            ("PATCH", "/__mock/profiles", "{}"),
        ] {
            let (status, error) = admin_with(&mock, method, path, &headers, body).await;
            let expected = match (expected, method) {
                (200, "PATCH") => 405,
                _ => expected,
            };
            assert_eq!(
                status, expected,
                "{method} {path} as {content_type:?}: {error}"
            );
            if status == 415 {
                assert!(error.contains("Content-Type: application/json"), "{error}");
            }
        }
    }
    // GET and DELETE carry no body: no content type needed.
    let (status, _) = admin_with(&mock, "GET", "/__mock/clock", &[], "").await;
    assert_eq!(status, 200);
    let (status, _) = admin_with(&mock, "DELETE", "/__mock/profiles", &[], "").await;
    assert_eq!(status, 200);
    let (_, clock) = mock.admin("GET", "/clock", None).await;
    assert_eq!(clock["tick"], 0, "the last allowed request was a reset");
}

#[tokio::test]
async fn the_api_path_is_not_guarded() {
    let mock = Mock::start().await;
    let headers = [
        ("Host", "evil.example"),
        ("Origin", "http://evil.example"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let (status, body) = http(
        mock.panel.addr(),
        "POST",
        "/api/v2",
        &headers,
        b"key=test-key&action=balance",
    )
    .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, body),
        (200, json!({"balance": "1000.00000", "currency": "USD"}))
    );
}

#[tokio::test]
async fn an_admin_body_over_the_limit_is_refused_with_the_real_limit() {
    let mock = Mock::start().await;
    let big = json!({ "profiles": ["x".repeat(smm_mock::admin::ADMIN_BODY_LIMIT)] });
    let (status, body) = mock.admin("PUT", "/profiles", Some(big)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        format!("body over {} bytes", smm_mock::admin::ADMIN_BODY_LIMIT)
    );
    assert_eq!(
        smm_mock::admin::ADMIN_BODY_LIMIT,
        16 * 1024,
        "as README says"
    );
}

#[tokio::test]
async fn account_keys_in_admin_paths_are_percent_decoded() {
    let mut fixture: Value = serde_json::from_str(smm_mock::fixture::DEFAULT_FIXTURE).unwrap();
    for key in ["k2/x", "k%3?#"] {
        fixture["accounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": key, "balance": "1.00", "currency": "USD"}));
    }
    let fixture = Fixture::parse("keys.json", &fixture.to_string()).unwrap();
    let mock = Mock::with(Config::new(fixture)).await;
    for (key, path) in [("k2/x", "k2%2Fx"), ("k%3?#", "k%253%3F%23")] {
        let (code, account) = mock.admin("GET", &format!("/accounts/{path}"), None).await;
        assert_eq!((code, &account["key"]), (200, &json!(key)), "{path}");
        let (code, set) = mock
            .admin(
                "PUT",
                &format!("/accounts/{path}/balance"),
                Some(json!({"balance": "3"})),
            )
            .await;
        assert_eq!((code, &set["balance"]), (200, &json!("3.00000")), "{path}");
        assert_eq!(mock.balance(key).await, "3.00000");
    }
}

/// `reset` is the state at start, profiles included, and `DELETE
/// /__mock/profiles` drops every profile switched on at run time, panel-wide
/// ones too (first-contact point 11).
#[tokio::test]
async fn reset_and_delete_profiles_go_back_to_the_profiles_of_the_start() {
    use smm_mock::profile::{Profile, Profiles};
    let mock = Mock::with(Config {
        profiles: Profiles::NONE.with(Profile::StatusCase),
        ..Config::new(Fixture::builtin())
    })
    .await;
    let on = |body: &serde_json::Value| body["profiles"].clone();
    let run_time = || json!({"profiles": ["wrong-charge"]});
    let override_ = || json!({"profile": "html-errors", "key": "test-key"});

    mock.admin("PUT", "/profiles", Some(run_time())).await;
    mock.admin("POST", "/profiles", Some(override_())).await;
    let (code, body) = mock.admin("DELETE", "/profiles", None).await;
    assert_eq!(code, 200);
    assert_eq!(on(&body), json!(["status-case"]), "{body}");
    assert_eq!(body["start"], json!(["status-case"]));
    assert_eq!(body["overrides"], json!([]));

    mock.admin("PUT", "/profiles", Some(json!({"profiles": []})))
        .await;
    mock.admin("POST", "/profiles", Some(override_())).await;
    let (code, _) = mock.admin("POST", "/reset", None).await;
    assert_eq!(code, 200);
    let (_, body) = mock.admin("GET", "/profiles", None).await;
    assert_eq!(on(&body), json!(["status-case"]), "{body}");
    assert_eq!(body["overrides"], json!([]));
    // And it answers as at start: an order costs its price, not ten times it.
    mock.order(&[("service", "1"), ("link", "x"), ("quantity", "1000")])
        .await;
    assert_eq!(mock.balance("test-key").await, "999.10000");
}

/// A status that cannot be forced is refused with what the order can
/// become instead.
#[tokio::test]
async fn a_refused_forced_status_says_what_is_allowed() {
    let mock = Mock::manual().await;
    let force = |id: u64, body: serde_json::Value| {
        let mock = &mock;
        async move {
            let (code, body) = mock
                .admin("POST", &format!("/orders/{id}/status"), Some(body))
                .await;
            (code, body["error"].as_str().unwrap_or_default().to_owned())
        }
    };
    assert_eq!(
        force(23501, json!({"status": "Pending"})).await,
        (
            409,
            "order 23501 is Completed (final): a final order cannot change".to_owned()
        )
    );
    let id = mock
        .order(&[("service", "1"), ("link", "x"), ("quantity", "1000")])
        .await;
    let (code, _) = force(id, json!({"status": "In progress", "delivered": 40})).await;
    assert_eq!(code, 200);
    let allowed = "it can go to: In progress, Processing, Canceled (40-100%), Completed (100%), Partial (40-99%)";
    assert_eq!(
        force(id, json!({"status": "Pending"})).await,
        (
            409,
            format!("order {id} is In progress with 40% delivered, so it cannot become Pending; {allowed}")
        )
    );
    assert_eq!(
        force(id, json!({"status": "Partial", "delivered": 20})).await,
        (
            409,
            format!("order {id} is In progress with 40% delivered, so it cannot become Partial with 20% delivered; {allowed}")
        )
    );
    let (code, message) = force(id, json!({"status": "Completed", "delivered": 50})).await;
    assert_eq!(code, 409);
    assert!(
        message.starts_with("Completed cannot have delivered 50")
            && message.ends_with(&format!("from where the order is, {allowed}")),
        "{message}"
    );
}

/// `paths` lists only the profiles that move the API's path, not every
/// profile switched on at start.
#[tokio::test]
async fn paths_name_only_the_path_profiles() {
    use smm_mock::profile::{Profile, Profiles};
    let mock = Mock::with(Config {
        profiles: Profiles::NONE
            .with(Profile::StatusCase)
            .with(Profile::TrailingSlashRedirect),
        ..Config::new(Fixture::builtin())
    })
    .await;
    let (_, body) = mock.admin("GET", "/profiles", None).await;
    assert_eq!(body["paths"], json!(["trailing-slash-redirect"]), "{body}");
}
