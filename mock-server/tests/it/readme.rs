//! The README's examples really run: every ```sh block is run with bash
//! against a freshly started `smm-mock`, in order, and its output must be the
//! JSON of the ```json block that follows it (or at least JSON, when none does).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `sh` example and the answer the README shows for it.
struct Example {
    line: usize,
    script: String,
    expected: Option<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let block = |start: usize| -> (String, usize) {
        let end = (start + 1..lines.len())
            .find(|&i| lines[i].trim_end() == "```")
            .unwrap_or_else(|| panic!("README line {}: unclosed block", start + 1));
        (lines[start + 1..end].join("\n"), end)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() == "```sh" {
            let (script, end) = block(i);
            let mut next = end + 1;
            while next < lines.len() && lines[next].trim().is_empty() {
                next += 1;
            }
            let expected = (next < lines.len() && lines[next].trim_end() == "```json").then(|| {
                let (json, json_end) = block(next);
                i = json_end;
                json
            });
            out.push(Example {
                line: i + 1,
                script,
                expected,
            });
        }
        i += 1;
    }
    out
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_readme_example_runs_and_answers_what_it_shows() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(
        examples.len() >= 20,
        "found only {} examples",
        examples.len()
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_smm-mock"))
        .args(["--listen", "127.0.0.1:0", "--quiet"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("smm-mock starts");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("smm-mock listening on ")
        .expect("ready line");
    let base = url.strip_suffix("/api/v2").unwrap();

    for example in &examples {
        let script = example.script.replace("http://127.0.0.1:8080", base);
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "README line {}: {script}",
            example.line
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "README line {}: not JSON ({e}): {}",
                example.line,
                String::from_utf8_lossy(&out.stdout)
            )
        });
        if let Some(expected) = &example.expected {
            let expected: serde_json::Value = serde_json::from_str(expected).unwrap_or_else(|e| {
                panic!(
                    "README line {}: the shown answer is not JSON: {e}",
                    example.line
                )
            });
            assert_eq!(got, expected, "README line {}: {script}", example.line);
        }
    }
    drop(server);
}
