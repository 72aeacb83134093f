//! The library builds without the binary's dependencies (first-contact
//! point 13): a Rust client that adds `smm-mock` as a dev-dependency with
//! `default-features = false` compiles neither clap nor tracing-subscriber.

use std::process::Command;

/// The crates `cargo tree` lists as normal dependencies of smm-mock, with
/// the extra arguments given (features).
fn normal_dependencies(features: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(crate::support::root())
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "smm-mock",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(features)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_library_without_default_features_needs_no_clap_and_no_tracing_subscriber() {
    let lib = normal_dependencies(&["--no-default-features"]);
    assert!(lib.iter().any(|c| c == "hyper"), "{lib:?}");
    for binary_only in ["clap", "tracing-subscriber"] {
        assert!(
            !lib.iter().any(|c| c == binary_only),
            "{binary_only} is a dependency of the library alone: {lib:?}"
        );
    }
    // The binary's feature, on by default, brings them.
    let cli = normal_dependencies(&[]);
    for binary_only in ["clap", "tracing-subscriber"] {
        assert!(cli.iter().any(|c| c == binary_only), "{cli:?}");
    }
}
