//! Any target, however broken, gives findings: never a panic, never a hang.

use std::time::{Duration, Instant};

use crate::support::{canned, conformance, with_outcome};

fn run_against(
    addr: std::net::SocketAddr,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let url = format!("http://{addr}/api/v2");
    let mut args = vec![
        "run",
        "--url",
        url.as_str(),
        "--key",
        "k-123456",
        "--format",
        "json",
        "--cases",
        "4",
        "--timeout",
        "1",
    ];
    args.extend_from_slice(extra);
    let out = conformance(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, stderr)
}

#[test]
fn an_html_error_page_is_a_finding() {
    let addr = canned(Some(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 37\r\nConnection: close\r\n\r\n<html><title>Just a moment</title>...</html>"));
    let (code, report, _) = run_against(addr, &[]);
    assert_eq!(code, Some(1));
    let failed = with_outcome(&report, "fail");
    for id in [
        "services.schema",
        "balance.schema",
        "transport.content-type",
        "transport.http-200",
    ] {
        assert!(
            failed.contains(&id.to_owned()),
            "{id} not failed: {failed:?}"
        );
    }
}

#[test]
fn empty_and_invalid_bodies_and_redirects_are_findings() {
    for response in [
        &b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"order\":",
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: /api/v2/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ] {
        let (code, report, _) = run_against(canned(Some(response)), &[]);
        assert_eq!(code, Some(1), "{}", String::from_utf8_lossy(response));
        assert!(with_outcome(&report, "fail").contains(&"services.schema".to_owned()));
    }
}

#[test]
fn a_target_that_never_answers_is_unreachable_within_the_timeout() {
    let addr = canned(None);
    let started = Instant::now();
    let (code, _, stderr) = run_against(addr, &[]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "the run hung");
}
