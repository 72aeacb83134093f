//! Determinism (issue point 6): the same fixture, seed and requests give
//! byte-identical answers. A recorded sequence of mixed requests
//! (`tests/data/replay.txt`, one form body per line) is replayed against two
//! fresh panels.

use smm_mock::{Config, Fixture};

use crate::support::{check_api_answer, Mock};

/// Replays the recorded sequence; returns every answer, status and body.
async fn replay(seed: u64) -> Vec<u8> {
    let mock = Mock::with(Config {
        seed,
        ..Config::new(Fixture::builtin())
    })
    .await;
    let sequence = include_str!("../data/replay.txt");
    let mut transcript = Vec::new();
    for line in sequence.lines().filter(|l| !l.is_empty()) {
        let raw = mock
            .raw(
                "POST",
                "/api/v2",
                Some("application/x-www-form-urlencoded"),
                line.as_bytes().to_vec(),
            )
            .await;
        let mut fields = smm_mock::request::Fields::default();
        fields.add_form(line.as_bytes()).expect("a readable line");
        let pairs: Vec<(&str, &str)> = fields.iter().collect();
        check_api_answer(&pairs, &raw);
        transcript.extend_from_slice(format!("{} {}\n", raw.status, raw.content_type).as_bytes());
        transcript.extend_from_slice(&raw.body);
        transcript.push(b'\n');
    }
    transcript
}

#[tokio::test]
async fn a_recorded_sequence_replays_byte_for_byte() {
    let sequence = include_str!("../data/replay.txt");
    assert!(sequence.lines().count() >= 300, "a few hundred requests");
    let first = replay(7).await;
    let second = replay(7).await;
    assert!(first == second, "two replays differ");
    // The sequence exercises the whole API, not only errors.
    let text = String::from_utf8(first).unwrap();
    for expected in [
        "\"order\":",
        "\"Completed\"",
        "\"Partial\"",
        "\"Canceled\"",
        "\"refill\":",
        "\"balance\":",
        "\"error\":",
    ] {
        assert!(
            text.contains(expected),
            "the replay never answered {expected}"
        );
    }
}

#[tokio::test]
async fn the_seed_changes_what_it_should() {
    let a = replay(7).await;
    let b = replay(8).await;
    assert!(a != b, "start_count does not depend on the seed");
}
