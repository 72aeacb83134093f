//! Speed of the runner: `cargo bench -p smm-conformance --bench suite
//! [-- --cases N --runs N --property-cases N]`.
//!
//! 1. The full default suite against the in-process mock: the wall time of
//!    each run and the property cases per second.
//! 2. The two request properties alone (`property.status`,
//!    `property.invalid`), `--property-cases` cases each, against the
//!    in-process mock and against a mock in another process (this benchmark
//!    started again as a plain server), as a user would run
//!    `smm-conformance run --url http://127.0.0.1:8080/api/v2 --only
//!    property.status --only property.invalid`: property cases per second,
//!    the median of the runs.
//! 3. The full suite against the mock in another process, as against any
//!    panel: its URL, two keys, `--allow-orders --max-spend 50`, no admin
//!    API: the wall time, the orders placed and what they cost.

#![allow(clippy::print_stdout, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use smm_conformance::suite::Selection;
use smm_conformance::{execute, Options};

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

fn median(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

/// Serves the built-in mock until stdin closes; prints its URL first.
fn serve() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let panel = smm_mock::MockPanel::start(smm_mock::Fixture::builtin())
            .await
            .expect("a mock");
        println!("{}", panel.url());
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .expect("stdin");
    });
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        serve();
        return;
    }
    let cases = arg("--cases", 256);
    let runs = arg("--runs", 5);
    let property_cases = arg("--property-cases", 4000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The properties of single requests; `property.lifecycle` plays at most
    // 16 sequences of orders whatever --cases says.
    let request_properties = ["property.status", "property.invalid"];
    let properties = request_properties.len();

    let mut walls = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let run = runtime
            .block_on(execute(Options {
                cases,
                ..Options::default()
            }))
            .expect("a run");
        assert_eq!(
            run.report.counts.failed, 0,
            "the conforming mock failed a check"
        );
        walls.push(started.elapsed().as_secs_f64());
    }
    let (wall, min, max) = median(walls);
    println!(
        "full suite, {} checks, {cases} cases per property ({} property cases), in-process mock: median {wall:.2} s wall over {runs} runs (min {min:.2} s, max {max:.2} s); {:.0} property cases/s",
        smm_conformance::suite::catalogue().len(),
        cases as usize * properties,
        (cases as usize * properties) as f64 / wall,
    );

    let mut child = Command::new(std::env::current_exe().expect("this benchmark"))
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("a mock in another process");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut url)
        .expect("its URL");
    let only_properties = |url: Option<String>| Options {
        url: url.clone(),
        key: url.as_ref().map(|_| "test-key".to_owned()),
        cases: property_cases,
        selection: Selection {
            only: request_properties.iter().map(|p| (*p).to_owned()).collect(),
            skip: Vec::new(),
        },
        ..Options::default()
    };
    for (label, url) in [
        ("in-process mock", None),
        ("mock in another process", Some(url.trim().to_owned())),
    ] {
        let mut rates = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let run = runtime
                .block_on(execute(only_properties(url.clone())))
                .expect("a run");
            assert_eq!(run.report.counts.failed, 0, "{label}: a property failed");
            let total = property_cases as usize * properties;
            rates.push(total as f64 / started.elapsed().as_secs_f64());
        }
        let (rate, min, max) = median(rates);
        println!(
            "--only property.status --only property.invalid --cases {property_cases}, {label}: median {rate:.0} property cases/s over {runs} runs (min {min:.0}, max {max:.0})"
        );
    }

    // 3. Against the other process's mock as against any panel. Each run
    // spends on the same panel: the cost is the ledger's, per run.
    let mut walls = Vec::new();
    let mut cost = (0, String::new());
    for _ in 0..runs {
        let started = Instant::now();
        let run = runtime
            .block_on(execute(Options {
                url: Some(url.trim().to_owned()),
                key: Some("test-key".into()),
                second_key: Some("empty-key".into()),
                allow_orders: true,
                max_spend: Some(50.into()),
                ..Options::default()
            }))
            .expect("a run");
        walls.push(started.elapsed().as_secs_f64());
        assert_eq!(run.report.counts.failed, 0, "a check failed without admin");
        let spent: rust_decimal::Decimal = run
            .report
            .orders
            .iter()
            .filter_map(|o| o.charge.parse::<rust_decimal::Decimal>().ok())
            .sum();
        cost = (run.report.orders.len(), spent.normalize().to_string());
    }
    let (wall, min, max) = median(walls);
    println!(
        "full suite with --allow-orders --max-spend 50, no admin API, mock in another process: median {wall:.2} s wall over {runs} runs (min {min:.2} s, max {max:.2} s); {} orders, {} spent per run",
        cost.0, cost.1
    );
    drop(child.stdin.take());
    let _ = child.wait();
}
