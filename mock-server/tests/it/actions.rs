//! Every action of CONTRACT §2, and `add` for every service type of §2.1.

use crate::support::{check_api_answer, error_of, Mock};

/// For each service of the built-in fixture: the fields of a valid order, the
/// fields that order cannot do without, and its charge worked out by hand
/// (rate × units / 1000; packages cost their rate).
/// A service id, the fields of a valid order, the fields it needs, its charge.
type OrderCase = (
    u64,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static str,
);

const ORDERS: &[OrderCase] = &[
    (
        1,
        &[("link", "https://instagram.com/a"), ("quantity", "100")],
        &["link", "quantity"],
        "0.09000",
    ),
    (
        2,
        &[("link", "https://instagram.com/p/b"), ("quantity", "10")],
        &["link", "quantity"],
        "0.00300",
    ),
    (
        3,
        &[("link", "https://t.me/c/1"), ("quantity", "1000")],
        &["link", "quantity"],
        "0.00330",
    ),
    (
        4,
        &[("link", "https://youtube.com/@d")],
        &["link"],
        "12.50000",
    ),
    (
        5,
        &[
            ("link", "https://e.com"),
            ("quantity", "100"),
            ("keywords", "smm panel\nbuy followers"),
        ],
        &["link", "quantity", "keywords"],
        "0.24000",
    ),
    (
        6,
        &[
            ("link", "https://instagram.com/p/f"),
            ("comments", "one\ntwo\nthree\nfour\nfive"),
        ],
        &["link", "comments"],
        "0.04000",
    ),
    (
        7,
        &[
            ("link", "https://instagram.com/p/g"),
            ("comments", "nice\ngreat"),
        ],
        &["link", "comments"],
        "3.50000",
    ),
    (
        8,
        &[
            ("link", "https://instagram.com/p/h"),
            ("quantity", "100"),
            ("usernames", "ann\nbob"),
        ],
        &["link", "quantity", "usernames"],
        "0.18000",
    ),
    (
        9,
        &[
            ("link", "https://instagram.com/p/i"),
            ("quantity", "100"),
            ("usernames", "ann\nbob"),
            ("hashtags", "#a\n#b"),
        ],
        &["link", "quantity", "usernames", "hashtags"],
        "0.21000",
    ),
    (
        10,
        &[
            ("link", "https://instagram.com/p/j"),
            ("usernames", "u1\nu2\nu3\nu4\nu5\nu6\nu7\nu8\nu9\nu10"),
        ],
        &["link", "usernames"],
        "0.04000",
    ),
    (
        11,
        &[
            ("link", "https://instagram.com/p/k"),
            ("quantity", "100"),
            ("hashtag", "#smm"),
        ],
        &["link", "quantity", "hashtag"],
        "0.19000",
    ),
    (
        12,
        &[
            ("link", "https://instagram.com/p/l"),
            ("quantity", "100"),
            ("username", "celebrity"),
        ],
        &["link", "quantity", "username"],
        "0.22000",
    ),
    (
        13,
        &[
            ("link", "https://instagram.com/p/m"),
            ("quantity", "100"),
            ("media", "https://instagram.com/p/media"),
        ],
        &["link", "quantity", "media"],
        "0.23000",
    ),
    (
        14,
        &[
            ("link", "https://instagram.com/p/n"),
            ("quantity", "20"),
            ("username", "commenter"),
        ],
        &["link", "quantity", "username"],
        "0.03000",
    ),
    (
        15,
        &[
            ("link", "https://twitter.com/o/status/1"),
            ("quantity", "50"),
            ("answer_number", "2"),
        ],
        &["link", "quantity", "answer_number"],
        "0.15000",
    ),
    (
        16,
        &[
            ("link", "https://t.me/p"),
            ("quantity", "100"),
            ("groups", "g1\ng2"),
        ],
        &["link", "quantity", "groups"],
        "0.60000",
    ),
    (
        17,
        &[
            ("username", "subscriber"),
            ("min", "50"),
            ("max", "100"),
            ("posts", "2"),
            ("expiry", "31/12/2026"),
            ("delay", "30"),
        ],
        &["username", "min", "max"],
        "0.10000",
    ),
    (
        18,
        &[
            ("link", "https://q.com"),
            ("quantity", "100"),
            ("country", "US"),
            ("device", "1"),
            ("type_of_traffic", "1"),
            ("google_keyword", "buy"),
        ],
        &[
            "link",
            "quantity",
            "country",
            "device",
            "type_of_traffic",
            "google_keyword",
        ],
        "0.00500",
    ),
];

fn with_service<'a>(service: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("action", "add"), ("service", service)];
    all.extend_from_slice(fields);
    all
}

#[tokio::test]
async fn services_lists_every_type_of_the_contract() {
    let mock = Mock::start().await;
    let services = mock.call(&[("action", "services")]).await;
    let types: std::collections::BTreeSet<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    for t in smm_mock::service::ServiceType::ALL {
        assert!(
            types.contains(t.as_str()),
            "no service of type {}",
            t.as_str()
        );
    }
    let flag = |name: &str, value: bool| {
        services
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[name] == value)
    };
    for name in ["refill", "cancel", "dripfeed"] {
        assert!(flag(name, true) && flag(name, false), "{name} both ways");
    }
}

#[tokio::test]
async fn add_accepts_every_service_type_and_charges_what_the_type_costs() {
    let mock = Mock::start().await;
    for (service, fields, _, charge) in ORDERS {
        let id = service.to_string();
        let order = mock.order(&with_service(&id, fields)[1..]).await;
        let status = mock.status(order).await;
        assert_eq!(status["charge"], *charge, "service {service}");
        assert_eq!(status["status"], "Pending", "service {service}");
    }
}

#[tokio::test]
async fn add_refuses_an_order_without_a_field_its_type_needs_and_charges_nothing() {
    let mock = Mock::start().await;
    let before = mock.balance("test-key").await;
    for (service, fields, required, _) in ORDERS {
        let id = service.to_string();
        for missing in *required {
            let kept: Vec<(&str, &str)> = fields
                .iter()
                .copied()
                .filter(|(n, _)| n != missing)
                .collect();
            let body = mock.call(&with_service(&id, &kept)).await;
            let message = error_of(&body);
            assert!(
                message.starts_with("Incorrect") || message.starts_with("Quantity"),
                "service {service} without {missing}: {message}"
            );
        }
    }
    assert_eq!(mock.balance("test-key").await, before);
    mock.panel
        .with_panel(|p| assert_eq!(p.orders().len(), 3, "only the seeded orders"));
}

#[tokio::test]
async fn web_traffic_fields_depend_on_the_type_of_traffic() {
    let mock = Mock::start().await;
    let base = [
        ("link", "https://q.com"),
        ("quantity", "100"),
        ("country", "US"),
        ("device", "5"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut f = with_service("18", &base);
        f.extend_from_slice(extra);
        f
    };
    let referral = mock.call(&with(&[("type_of_traffic", "2")])).await;
    assert_eq!(error_of(&referral), "Incorrect referring_url");
    let ok = mock
        .call(&with(&[
            ("type_of_traffic", "2"),
            ("referring_url", "https://r.com"),
        ]))
        .await;
    assert!(ok["order"].is_u64(), "{ok}");
    assert!(mock.call(&with(&[("type_of_traffic", "3")])).await["order"].is_u64());
    let mut six = with_service("18", &base[..3]);
    six.extend_from_slice(&[("device", "6"), ("type_of_traffic", "3")]);
    assert_eq!(error_of(&mock.call(&six).await), "Incorrect device");
    let mut bad_type = with_service("18", &base);
    bad_type.push(("type_of_traffic", "4"));
    assert_eq!(
        error_of(&mock.call(&bad_type).await),
        "Incorrect type_of_traffic"
    );
}

#[tokio::test]
async fn subscriptions_check_min_max_expiry_and_delay() {
    let mock = Mock::start().await;
    let sub = |fields: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("action", "add"),
            ("service", "17"),
            ("username", "someone"),
        ];
        f.extend_from_slice(fields);
        f
    };
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("min", "100"), ("max", "50")], "Incorrect min"),
        (
            &[("min", "10"), ("max", "100")],
            "Quantity less than minimal 50",
        ),
        (
            &[("min", "50"), ("max", "9000")],
            "Quantity more than maximum 5000",
        ),
        (
            &[("min", "50"), ("max", "100"), ("expiry", "2026-12-31")],
            "Incorrect expiry",
        ),
        (
            &[("min", "50"), ("max", "100"), ("delay", "7")],
            "Incorrect delay",
        ),
        (
            &[("min", "50"), ("max", "100"), ("posts", "-1")],
            "Incorrect posts",
        ),
    ];
    for (fields, message) in cases {
        assert_eq!(
            error_of(&mock.call(&sub(fields)).await),
            *message,
            "{fields:?}"
        );
    }
    let ok = mock
        .call(&sub(&[("min", "50"), ("max", "100"), ("delay", "600")]))
        .await;
    assert!(ok["order"].is_u64(), "{ok}");
}

#[tokio::test]
async fn custom_comments_count_lines_as_the_quantity() {
    let mock = Mock::start().await;
    let four = mock
        .call(&with_service(
            "6",
            &[("link", "https://x.com/p"), ("comments", "a\nb\n\n c \nd")],
        ))
        .await;
    assert_eq!(error_of(&four), "Quantity less than minimal 5");
    let order = mock
        .order(&[
            ("service", "6"),
            ("link", "https://x.com/p"),
            ("comments", "a\r\nb\r\nc\r\nd\r\ne\r\nf"),
        ])
        .await;
    assert_eq!(mock.status(order).await["remains"], "6");
}

#[tokio::test]
async fn drip_feed_delivers_quantity_per_run_and_charges_every_run() {
    let mock = Mock::start().await;
    let order = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/d"),
            ("quantity", "100"),
            ("runs", "3"),
            ("interval", "10"),
        ])
        .await;
    let status = mock.status(order).await;
    assert_eq!(status["charge"], "0.27000");
    assert_eq!(status["remains"], "300");
    // Pending: no run started yet.
    assert_eq!(status["runs"], "0");
    assert_eq!(status["orders"], serde_json::json!([]));
    let no_drip = mock
        .call(&with_service(
            "2",
            &[
                ("link", "https://x.com/d"),
                ("quantity", "100"),
                ("runs", "3"),
                ("interval", "10"),
            ],
        ))
        .await;
    assert_eq!(
        error_of(&no_drip),
        "This service does not support drip-feed"
    );
    let no_interval = mock
        .call(&with_service(
            "1",
            &[
                ("link", "https://x.com/d"),
                ("quantity", "100"),
                ("runs", "3"),
            ],
        ))
        .await;
    assert_eq!(error_of(&no_interval), "Incorrect interval");
    for runs in ["100001", "18446744073709551616"] {
        let too_many = mock
            .call(&with_service(
                "1",
                &[
                    ("link", "https://x.com/d"),
                    ("quantity", "100"),
                    ("runs", runs),
                    ("interval", "10"),
                ],
            ))
            .await;
        assert_eq!(error_of(&too_many), "Incorrect runs", "runs={runs}");
    }
}

#[tokio::test]
async fn junk_runs_and_interval_mean_no_drip_feed_as_on_php_panels() {
    let mock = Mock::start().await;
    for junk in ["undefined", "", "0", "None", "-2"] {
        let order = mock
            .order(&[
                ("service", "2"),
                ("link", "https://x.com/j"),
                ("quantity", "100"),
                ("runs", junk),
                ("interval", junk),
            ])
            .await;
        let status = mock.status(order).await;
        assert_eq!(status["remains"], "100", "runs={junk}");
        assert!(status.get("runs").is_none());
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let mock = Mock::start().await;
    let order = mock
        .order(&[
            ("service", "2"),
            ("link", "https://x.com/u"),
            ("quantity", "10"),
            ("b", "2"),
            ("utm", "x"),
        ])
        .await;
    assert!(order > 0);
}

#[tokio::test]
async fn get_query_strings_and_json_bodies_are_read_like_forms() {
    let mock = Mock::start().await;
    let get = mock
        .raw(
            "GET",
            "/api/v2/?key=test-key&action=balance",
            None,
            Vec::new(),
        )
        .await;
    let balance = check_api_answer(&[("action", "balance")], &get);
    assert_eq!(balance["balance"], "1000.00000");
    let json = mock
        .raw(
            "POST",
            "/api/v2",
            Some("application/json"),
            br#"{"key":"test-key","action":"add","service":2,"link":"https://x.com/json","quantity":100}"#.to_vec(),
        )
        .await;
    let id = check_api_answer(&[("action", "add")], &json)["order"]
        .as_u64()
        .expect("an order");
    let status = mock.status(id).await;
    assert_eq!(status["charge"], "0.03000");
    let none = mock
        .raw(
            "POST",
            "/api/v2",
            None,
            b"key=test-key&action=balance".to_vec(),
        )
        .await;
    assert_eq!(none.json()["currency"], "USD", "no content type is a form");
}

#[tokio::test]
async fn the_trailing_slash_path_is_served_directly() {
    let mock = Mock::start().await;
    let raw = mock
        .raw(
            "POST",
            "/api/v2/",
            Some("application/x-www-form-urlencoded"),
            b"key=test-key&action=balance".to_vec(),
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json()["balance"], "1000.00000");
}

#[tokio::test]
async fn refill_and_refill_status_single() {
    let mock = Mock::start().await;
    // Seeded order 23501 is Completed on service 1, which has refill.
    let refill = mock.call(&[("action", "refill"), ("order", "23501")]).await;
    assert_eq!(refill["refill"], "1");
    let status = mock
        .call(&[("action", "refill_status"), ("refill", "1")])
        .await;
    assert_eq!(status["status"], "Pending");
    let unknown = mock
        .call(&[("action", "refill_status"), ("refill", "999")])
        .await;
    assert_eq!(error_of(&unknown), "Refill not found");
    // 23503 is on service 2, which has no refill.
    let refused = mock.call(&[("action", "refill"), ("order", "23503")]).await;
    assert_eq!(error_of(&refused), "Order not eligible for refill");
}

#[tokio::test]
async fn cancel_a_running_order_once() {
    let mock = Mock::start().await;
    let order = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/c"),
            ("quantity", "100"),
        ])
        .await;
    let id = order.to_string();
    let first = mock.call(&[("action", "cancel"), ("orders", &id)]).await;
    assert_eq!(first, serde_json::json!([{"order": order, "cancel": 1}]));
    assert_eq!(mock.status(order).await["status"], "Canceled");
    let again = mock.call(&[("action", "cancel"), ("orders", &id)]).await;
    assert_eq!(again[0]["cancel"]["error"], "Order cannot be canceled");
    // A service without cancel.
    let no_cancel = mock
        .order(&[
            ("service", "2"),
            ("link", "https://x.com/c"),
            ("quantity", "100"),
        ])
        .await;
    let refused = mock
        .call(&[("action", "cancel"), ("order", &no_cancel.to_string())])
        .await;
    assert_eq!(
        refused[0]["cancel"]["error"], "Order cannot be canceled",
        "singular `order` is read too"
    );
}

/// A drip-feed parent lists its runs' child orders, and a subscription its
/// posts' orders, as real panels do (CONTRACT §3; first-contact point 12):
/// ids reserved right after the parent's, each child answering `status`.
#[tokio::test]
async fn parents_list_their_child_orders_and_children_answer_status() {
    use serde_json::json;
    let mock = Mock::start().await;
    let parent = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/d"),
            ("quantity", "100"),
            ("runs", "3"),
            ("interval", "10"),
        ])
        .await;
    let ids = |n: u64| -> Vec<String> { (1..=n).map(|k| (parent + k).to_string()).collect() };
    // Pending (no run yet), In progress (40% of 300: run 2 delivering), Completed.
    let seen: Vec<(serde_json::Value, serde_json::Value, serde_json::Value)> = {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let s = mock.status(parent).await;
            seen.push((s["status"].clone(), s["runs"].clone(), s["orders"].clone()));
        }
        seen
    };
    assert_eq!(
        seen,
        [
            (json!("Pending"), json!("0"), json!([])),
            (json!("In progress"), json!("2"), json!(ids(2))),
            (json!("Completed"), json!("3"), json!(ids(3))),
        ]
    );
    let child = mock.status(parent + 2).await;
    assert_eq!(
        (&child["status"], &child["remains"], &child["charge"]),
        (&json!("Completed"), &json!("0"), &json!("0.09000"))
    );
    assert!(child.get("orders").is_none(), "{child}");
    // The next order's id comes after the reserved ones.
    let next = mock
        .order(&[
            ("service", "2"),
            ("link", "https://x.com/n"),
            ("quantity", "100"),
        ])
        .await;
    assert_eq!(next, parent + 4);
    // A child is refilled and canceled through its parent.
    let refill = mock
        .call(&[("action", "refill"), ("order", &(parent + 1).to_string())])
        .await;
    assert_eq!(error_of(&refill), "Order not eligible for refill");
    let bulk = mock
        .call(&[
            ("action", "status"),
            ("orders", &format!("{},{}", parent + 3, parent + 4)),
        ])
        .await;
    assert_eq!(bulk[(parent + 3).to_string()]["status"], "Completed");
    assert_eq!(bulk[(parent + 4).to_string()]["status"], "Pending");

    // A subscription: 2 posts, each an order of `max`.
    let sub = mock
        .order(&[
            ("service", "17"),
            ("username", "someone"),
            ("min", "50"),
            ("max", "100"),
            ("posts", "2"),
            ("expiry", "20/07/2026"),
        ])
        .await;
    let first = mock.status(sub).await;
    assert_eq!(
        (
            &first["posts"],
            &first["orders"],
            &first["old_orders"],
            &first["expiry"]
        ),
        (&json!("0"), &json!([]), &json!([]), &json!("20/07/2026"))
    );
    mock.status(sub).await;
    let done = mock.status(sub).await;
    assert_eq!(done["status"], "Completed");
    assert_eq!(
        (&done["posts"], &done["orders"]),
        (
            &json!("2"),
            &json!([(sub + 1).to_string(), (sub + 2).to_string()])
        )
    );
    assert_eq!(mock.status(sub + 2).await["remains"], "0");
    // The admin API forces parents, not children.
    let (code, body) = mock
        .admin(
            "POST",
            &format!("/orders/{}/status", sub + 1),
            Some(json!({"status": "Canceled"})),
        )
        .await;
    assert_eq!(
        (code, body["error"].as_str()),
        (
            409,
            Some(
                format!(
                    "order {} is a child order of {sub}: force its parent",
                    sub + 1
                )
                .as_str()
            )
        )
    );
    // Another key sees no child either.
    let other = mock
        .api(&[
            ("key", "eur-key"),
            ("action", "status"),
            ("order", &(sub + 1).to_string()),
        ])
        .await;
    assert_eq!(error_of(&other), "Incorrect order ID");
}

/// A child order whose run has not started is no order yet; one of a
/// parent that stopped part-way ends Partial or Canceled with it.
#[tokio::test]
async fn children_follow_where_their_parent_stops() {
    let mock = Mock::start().await;
    let parent = mock
        .order(&[
            ("service", "1"),
            ("link", "https://x.com/partial"),
            ("quantity", "100"),
            ("runs", "5"),
            ("interval", "10"),
        ])
        .await;
    let unstarted = mock.status(parent + 1).await;
    assert_eq!(error_of(&unstarted), "Incorrect order ID");
    for _ in 0..3 {
        mock.status(parent).await;
    }
    // Partial at 60% of 500: runs 1-3 delivered, 4 and 5 never started.
    let status = mock.status(parent).await;
    assert_eq!(
        (status["status"].as_str(), status["runs"].as_str()),
        (Some("Partial"), Some("3"))
    );
    assert_eq!(mock.status(parent + 3).await["status"], "Completed");
    assert_eq!(
        error_of(&mock.status(parent + 4).await),
        "Incorrect order ID"
    );
}
