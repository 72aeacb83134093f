//! Which deviation profiles a panel's answers showed: each profile that a
//! snapshot (or a recording) can see, with the evidence that switches it on
//! ([`EVIDENCE`], README's inference table). A profile is inferred only
//! when its evidence is unambiguous; evidence that is mixed (some services
//! with string ids, others with numbers) or that no profile reproduces is a
//! note of what the clone cannot reproduce.

use std::collections::BTreeSet;

use smm_contract::drift::{self, Form, Shape};
use smm_contract::OrderStatus;
use smm_mock::profile::{Profile, Profiles};

use super::Observed;
use crate::snapshot::{self, request, BulkLimit, JsonType, Said, Types};

/// A profile inferred, and what showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// The profile.
    pub profile: Profile,
    /// What the answers showed.
    pub evidence: String,
}

/// The evidence each inferable profile needs, in the words of README's
/// inference table.
pub const EVIDENCE: &[(Profile, &str)] = &[
    (Profile::StringIds, "every service id is a JSON string"),
    (
        Profile::NumericFields,
        "rate, min, max, balance, charge, start_count, remains: each one seen is a JSON number, none a string",
    ),
    (Profile::NullStartCount, "`start_count` is `null` in every status seen"),
    (Profile::EmptyStartCount, "`start_count` is `\"\"` in every status seen (a recording)"),
    (Profile::RemainsUnknown, "`remains` is `\"Unknown\"` in every status seen (a recording)"),
    (
        Profile::StatusCase,
        "the order statuses seen are spelled as these four profiles together spell them (`In Progress`; lower case; `Cancelled`; `Refunded`/`Failed`): the fewest that spell every one",
    ),
    (Profile::StatusLowercase, "as status-case"),
    (Profile::CancelledSpelling, "as status-case"),
    (Profile::ExtraStatusValues, "as status-case"),
    (Profile::MissingCurrency, "status objects without `currency`"),
    (
        Profile::MissingServiceFlags,
        "services without `dripfeed`, `refill` and `cancel` (all three)",
    ),
    (
        Profile::SuccessEnvelope,
        "`\"status\"` beside `balance` (or beside `order` in a recording)",
    ),
    (Profile::RefillInt, "a single refill answered with a number (a recording)"),
    (Profile::BulkOverflowTruncated, "101 ids: the first 100 answered"),
    (Profile::BareStringBulkErrors, "an item of bulk status that is a bare string"),
    (Profile::BulkAsList, "bulk status answered as a list"),
    (
        Profile::CancelKeyedObject,
        "bulk cancel answered as an object keyed by id",
    ),
    (Profile::BulkOverflowIgnored, "101 ids: all answered"),
    (Profile::Http4xxErrors, "an error message that came with HTTP 4xx"),
    (
        Profile::HtmlErrors,
        "every bad request answered with a page that is not JSON, HTTP 5xx",
    ),
    (
        Profile::Random5xx,
        "by elimination: `text/html` beside `application/json` among the content types while the bad requests were answered in JSON (an HTML page answered a request that is no error)",
    ),
    (
        Profile::WrongContentType,
        "JSON answers, and `text/html` the only content type",
    ),
    (
        Profile::TruncatedJson,
        "bulk status and bulk refill both answered with something that is not JSON",
    ),
    (
        Profile::ConnectionReset,
        "bulk cancel answered with no JSON (a recording: no answer at all) while bulk status was",
    ),
    (Profile::Hang, "`refill_status` of an unknown refill got no answer within the timeout"),
    (Profile::ApiV1Path, "the endpoint's path is `/api/v1`"),
    (Profile::ApiPhpPath, "the endpoint's path is `/api.php`"),
    (
        Profile::InvalidKeyAccepted,
        "`balance` with a wrong key answered without an error",
    ),
    (
        Profile::RefillStatusUnknown,
        "a refill status read `Done` (a recording)",
    ),
];

/// The evidence text of `profile`.
fn evidence(profile: Profile) -> String {
    EVIDENCE
        .iter()
        .find(|(p, _)| *p == profile)
        .map_or("", |(_, e)| e)
        .to_owned()
}

/// The profiles that respell order statuses, in table order.
const SPELLINGS: [Profile; 4] = [
    Profile::StatusCase,
    Profile::StatusLowercase,
    Profile::CancelledSpelling,
    Profile::ExtraStatusValues,
];

/// The status shapes of a snapshot: the single status, and bulk items.
const STATUS_SHAPES: [&str; 2] = ["status", "status(orders)[]"];

/// The profiles `observed` shows, and notes of what they cannot reproduce.
pub fn infer(observed: &Observed, notes: &mut Vec<String>) -> Vec<Inferred> {
    let snap = &observed.snapshot;
    let mut found: Vec<Inferred> = Vec::new();
    let mut on = |profile: Profile, why: Option<String>| {
        found.push(Inferred {
            profile,
            evidence: why.unwrap_or_else(|| evidence(profile)),
        });
    };
    let shape = |name: &str| snap.shapes.get(name);
    let types_of = |name: &str, field: &str| shape(name).and_then(|s| s.get(field));

    // The catalogue's forms.
    let strings = snap
        .services
        .iter()
        .filter(|s| s["service"].is_string())
        .count();
    if strings > 0 && strings == snap.services.len() {
        on(Profile::StringIds, None);
    } else if strings > 0 {
        notes.push(format!(
            "{strings} of {} service ids are strings, the others numbers: the clone sends them all as numbers",
            snap.services.len()
        ));
    }
    numeric(observed, notes, &mut on);
    if let Some(services) = shape(snapshot::SERVICES) {
        let missing: Vec<&str> = ["dripfeed", "refill", "cancel"]
            .into_iter()
            .filter(|f| !services.contains_key(*f))
            .collect();
        match missing.len() {
            0 => {}
            3 => on(Profile::MissingServiceFlags, None),
            _ => notes.push(format!(
                "services lack {} but not the other flags: the clone sends every flag",
                missing.join(" and ")
            )),
        }
    }

    // Status objects.
    let start_counts: BTreeSet<JsonType> = STATUS_SHAPES
        .iter()
        .filter_map(|s| types_of(s, "start_count"))
        .flat_map(|t| t.0.iter().copied())
        .collect();
    if start_counts.contains(&JsonType::Null) {
        if start_counts.len() == 1 {
            on(Profile::NullStartCount, None);
        } else {
            notes.push(
                "`start_count` is null in some statuses only: the clone never sends null".into(),
            );
        }
    }
    if observed.values.only_empty_start_counts() {
        on(Profile::EmptyStartCount, None);
    }
    if observed.values.only_unknown_remains() {
        on(Profile::RemainsUnknown, None);
    }
    let status_objects: Vec<&str> = STATUS_SHAPES
        .into_iter()
        .filter(|s| shape(s).is_some_and(|f| f.contains_key("status")))
        .collect();
    if !status_objects.is_empty()
        && status_objects
            .iter()
            .all(|s| shape(s).is_some_and(|f| !f.contains_key("currency")))
    {
        on(Profile::MissingCurrency, None);
    }
    spellings(observed, notes, &mut on);

    // Envelopes.
    let balance_status = shape(snapshot::BALANCE).is_some_and(|b| b.contains_key("status"));
    if balance_status || observed.values.add_status {
        on(Profile::SuccessEnvelope, None);
    }
    if observed.values.refill_integer {
        on(Profile::RefillInt, None);
    }
    if observed.values.refill_done {
        on(Profile::RefillStatusUnknown, None);
    }

    // Bulk answers.
    let is_string_answer = |name: &str| {
        shape(name).is_some_and(|s| {
            s.len() == 1 && s.get("(answer)") == Some(&Types::one(JsonType::String))
        })
    };
    match snap.bulk_limit {
        BulkLimit::First100 => on(Profile::BulkOverflowTruncated, None),
        BulkLimit::All => on(Profile::BulkOverflowIgnored, None),
        BulkLimit::Error | BulkLimit::Other => {}
    }
    if types_of("status(orders)[]", "(answer)").is_some_and(|t| t.contains(JsonType::String)) {
        on(Profile::BareStringBulkErrors, None);
    }
    if shape("status(orders)")
        .is_some_and(|s| s.get("(answer)") == Some(&Types::one(JsonType::Array)))
    {
        on(Profile::BulkAsList, None);
    }
    if shape("cancel(orders)")
        .is_some_and(|s| !s.is_empty() && !s.contains_key("(answer)") && !s.contains_key("error"))
    {
        on(Profile::CancelKeyedObject, None);
    }
    let truncated = is_string_answer("status(orders)") && is_string_answer("refill(orders)");
    if truncated {
        on(Profile::TruncatedJson, None);
    } else if is_string_answer("cancel(orders)") {
        on(Profile::ConnectionReset, None);
    }

    // Errors and transport.
    let errors = &snap.errors;
    let hung = errors
        .get(request::UNKNOWN_REFILL)
        .is_some_and(|a| matches!(&a.said, Said::NoAnswer(why) if why.contains("timeout")));
    if hung {
        on(Profile::Hang, None);
    }
    let answered: Vec<_> = errors
        .values()
        .filter(|a| !matches!(a.said, Said::NoAnswer(_) | Said::NoError))
        .collect();
    let html = !answered.is_empty()
        && answered
            .iter()
            .all(|a| matches!(a.said, Said::NotJson(s) if s >= 500));
    if html {
        on(Profile::HtmlErrors, None);
        if answered.iter().any(|a| a.said != Said::NotJson(503)) {
            notes.push(
                "bad requests got HTML pages with another status than 503: the clone answers 503"
                    .into(),
            );
        }
    }
    let four = answered
        .iter()
        .filter(|a| {
            matches!(a.said, Said::Error(_)) && a.status.is_some_and(|s| (400..500).contains(&s))
        })
        .count();
    if four > 0 {
        on(Profile::Http4xxErrors, None);
        for (name, answer) in errors {
            let want = if name == request::WRONG_KEY { 401 } else { 400 };
            if matches!(answer.said, Said::Error(_)) && answer.status != Some(want) {
                notes.push(format!(
                    "`{name}` came with HTTP {}: the clone answers {want}",
                    answer.status.unwrap_or(200)
                ));
            }
        }
    }
    let html_type = snap.content_types.iter().any(|c| c == "text/html");
    let json_type = snap.content_types.iter().any(|c| c == "application/json");
    if html_type && json_type && !html {
        on(Profile::Random5xx, None);
        notes.push("random-5xx was inferred by elimination; the clone fails one request in 10, drawn from its seed: the same requests the panel failed only when asked in the same order".into());
    }
    if html_type && !json_type && !snap.services.is_empty() {
        on(Profile::WrongContentType, None);
    }
    if errors
        .get(request::WRONG_KEY)
        .is_some_and(snapshot::ErrorAnswer::is_no_error)
    {
        on(Profile::InvalidKeyAccepted, None);
    }
    let path = snap
        .target
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    if path.ends_with("/api/v1") {
        on(Profile::ApiV1Path, None);
    } else if path.ends_with("/api.php") {
        on(Profile::ApiPhpPath, None);
    }
    found.sort_by_key(|i| i.profile);
    found.dedup_by_key(|i| i.profile);
    found
}

/// `numeric-fields`: every field of the drift table's numeric forms that
/// was seen is a number, and at least one was.
fn numeric(
    observed: &Observed,
    notes: &mut Vec<String>,
    on: &mut impl FnMut(Profile, Option<String>),
) {
    let snap = &observed.snapshot;
    let mut numbers = Vec::new();
    let mut strings = Vec::new();
    for (shape, names) in [
        (Shape::Service, vec![snapshot::SERVICES]),
        (Shape::Balance, vec![snapshot::BALANCE]),
        (Shape::Status, STATUS_SHAPES.to_vec()),
    ] {
        for row in drift::of(shape).filter(|d| d.form == Form::Number) {
            for name in &names {
                let Some(types) = snap.shapes.get(*name).and_then(|s| s.get(row.field)) else {
                    continue;
                };
                let place = format!("{name}.{}", row.field);
                if types.contains(JsonType::String) {
                    strings.push(place);
                } else if types.contains(JsonType::Number) || types.contains(JsonType::Integer) {
                    numbers.push(place);
                }
            }
        }
    }
    if !numbers.is_empty() && strings.is_empty() {
        on(Profile::NumericFields, None);
    } else if !numbers.is_empty() {
        notes.push(format!(
            "numbers in {} but strings in {}: no profile writes only some of them as numbers, so the clone sends strings",
            numbers.join(", "),
            strings.join(", ")
        ));
    }
}

/// The status spellings: the fewest of [`SPELLINGS`] that spell every
/// status seen as it was seen (the mock's own spelling function decides).
fn spellings(
    observed: &Observed,
    notes: &mut Vec<String>,
    on: &mut impl FnMut(Profile, Option<String>),
) {
    let seen: Vec<(&str, Option<OrderStatus>)> = observed
        .snapshot
        .statuses
        .iter()
        .map(|s| (s.as_str(), OrderStatus::read_drifted(s)))
        .collect();
    if seen.is_empty() {
        return;
    }
    let spelled = |set: Profiles, (text, status): &(&str, Option<OrderStatus>)| {
        status.is_some_and(|s| {
            smm_mock::deviate::order_status(set, s.as_str()).as_deref() == Some(*text)
        })
    };
    let best = (0u32..1 << SPELLINGS.len())
        .map(|bits| {
            let set = spelling_set(bits);
            let hits = seen.iter().filter(|s| spelled(set, s)).count();
            (std::cmp::Reverse(hits), bits.count_ones(), bits)
        })
        .min();
    let Some((_, _, bits)) = best else {
        return;
    };
    let set = spelling_set(bits);
    for profile in set.iter() {
        let words: Vec<&str> = seen
            .iter()
            .filter(|(text, status)| status.is_some_and(|s| Some(s.as_str()) != Some(*text)))
            .map(|(text, _)| *text)
            .collect();
        on(
            profile,
            Some(format!("order statuses spelled {}", words.join(", "))),
        );
    }
    let missed: Vec<&str> = seen
        .iter()
        .filter(|s| !spelled(set, s))
        .map(|(text, _)| *text)
        .collect();
    if !missed.is_empty() {
        notes.push(format!(
            "no profile spells the statuses {} as the panel does",
            missed.join(", ")
        ));
    }
}

/// The profiles of [`SPELLINGS`] whose bits are set.
fn spelling_set(bits: u32) -> Profiles {
    SPELLINGS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect()
}
