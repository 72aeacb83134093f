//! Speed of the full default suite against the in-process mock:
//! `cargo bench -p smm-conformance --bench suite [-- --cases N --runs N]`.
//! Reports the wall time of each run and the property cases per second.

#![allow(clippy::print_stdout, missing_docs)]

use std::time::Instant;

use smm_conformance::{execute, Options};

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

fn main() {
    let cases = arg("--cases", 256);
    let runs = arg("--runs", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut walls = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let run = runtime
            .block_on(execute(Options {
                cases,
                ..Options::default()
            }))
            .expect("a run");
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(
            run.report.counts.failed, 0,
            "the conforming mock failed a check"
        );
        walls.push(wall);
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let properties = smm_conformance::suite::catalogue()
        .iter()
        .filter(|c| c.id.starts_with("property."))
        .count();
    println!(
        "full suite, {} checks, {cases} cases per property ({} property cases): median {:.2} s wall over {runs} runs (min {:.2} s, max {:.2} s); {:.0} property cases/s",
        smm_conformance::suite::catalogue().len(),
        cases as usize * properties,
        median,
        walls[0],
        walls[walls.len() - 1],
        (cases as usize * properties) as f64 / median,
    );
}
