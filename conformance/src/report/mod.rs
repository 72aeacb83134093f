//! Reporters: the result model into human text, JSON or JUnit XML, and the
//! classed diff of two snapshots likewise, written to any `io::Write`.
//!
//! A report reaches them already redacted ([`crate::execute`] masks the keys
//! in every free text: messages, requests, answers, diffs, the target, even
//! a key a panel echoed back), while check ids, sections and titles stay as
//! they are.

pub mod diff;
pub mod human;
pub mod json;
pub mod junit;

use std::io::{self, Write};

use crate::outcome::Report;

/// What a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// JSON: for `run`, the report of schemas/report.schema.json; for `diff`, the changes.
    Json,
    /// JUnit XML.
    Junit,
}

/// Writes a run's report as `format`; `color` (human only) adds ANSI colours.
pub fn write(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, out, color),
        Format::Json => json::write(report, out),
        Format::Junit => junit::write(report, out),
    }
}

/// A run's report as `format`, in memory.
pub fn render(report: &Report, format: Format, color: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(report, format, color, &mut buf);
    buf
}

/// Replaces every secret in `text` with `***`, in every form a target can
/// echo it: raw; JSON-escaped (`\"`, `\/`, `\\`, `\uXXXX` in either case, and
/// escaped again); percent-encoded (either case, and encoded again);
/// form-encoded (`+` for a space); as HTML character references; and any mix
/// of these, character by character.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = mask(&out, secret);
    }
    out
}

/// The most alternatives tried for one place in a text (a text built to make
/// the search explode is masked there rather than searched further).
const MASK_STEPS: usize = 4096;

/// `text` with every occurrence of `secret` masked, whatever form each of
/// its characters takes (see [`redact`]).
fn mask(text: &str, secret: &str) -> String {
    let key: Vec<char> = secret.chars().collect();
    let bytes = text.as_bytes();
    // The bytes an encoding of the key's first character can start with.
    let mut first = [0u8; 4];
    let first = key
        .first()
        .map_or(0, |c| c.encode_utf8(&mut first).as_bytes()[0]);
    let may_start = |b: u8| b == first || matches!(b, b'\\' | b'%' | b'&' | b'+');
    // A short key ("k", "key") is masked only where it stands alone: inside
    // a word ("check", "--key-file") it is the word, not the key.
    let short = key.len() < SHORT_SECRET;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < bytes.len() {
        let mut steps = 0;
        let found = if may_start(bytes[at]) {
            encoded_at(bytes, at, &key, &mut steps)
                .filter(|&end| !short || (!word_char_before(text, at) && !word_char_at(text, end)))
        } else {
            None
        };
        if let Some(end) = found {
            out.push_str("***");
            at = end;
            continue;
        }
        let c = text[at..].chars().next().unwrap_or(' ');
        out.push(c);
        at += c.len_utf8();
    }
    out
}

/// Keys shorter than this many characters are masked only as whole words.
pub const SHORT_SECRET: usize = 8;

/// Whether the character before byte `at` is a letter or digit.
fn word_char_before(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

/// Whether the character at byte `at` is a letter or digit.
fn word_char_at(text: &str, at: usize) -> bool {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_alphanumeric)
}

/// Where the encoding of `key` that starts at `at` ends, if one does.
fn encoded_at(text: &[u8], at: usize, key: &[char], steps: &mut usize) -> Option<usize> {
    let Some((&c, rest)) = key.split_first() else {
        return Some(at);
    };
    *steps += 1;
    if *steps > MASK_STEPS {
        return Some(at);
    }
    for len in forms(text, at, c) {
        if let Some(end) = encoded_at(text, at + len, rest, steps) {
            return Some(end);
        }
    }
    None
}

/// The lengths of the encodings of `c` that start at `at`: the character
/// itself; JSON escapes (`\"`, `\/`, `\\`, `\uXXXX` in either case, each
/// also escaped once or twice more); percent-encoding (either case, also of
/// its `%`), `+` for a space; HTML character references.
fn forms(text: &[u8], at: usize, c: char) -> Vec<usize> {
    let rest = &text[at.min(text.len())..];
    let mut found = Vec::new();
    let mut utf8 = [0u8; 4];
    let literal = c.encode_utf8(&mut utf8).as_bytes();
    if rest.starts_with(literal) {
        found.push(literal.len());
    }
    // Enough to see every escape below (a run of backslashes may be long).
    let backslashes = rest.iter().take(16).take_while(|b| **b == b'\\').count();
    // A `"` or `/` behind any number of backslashes (escaped once, twice,
    // …); a backslash as a run of them (longest first).
    if matches!(c, '"' | '/') && backslashes > 0 && rest.get(backslashes) == Some(&(c as u8)) {
        found.push(backslashes + 1);
    }
    if c == '\\' {
        found.extend((1..=backslashes).rev());
    }
    // \uXXXX (one or two code units), each behind one or more backslashes.
    let mut units = [0u16; 2];
    let units = c.encode_utf16(&mut units);
    for k in 1..=backslashes {
        let mut len = 0;
        let ok = units.iter().all(|unit| {
            let part = &rest[len.min(rest.len())..];
            let escaped = part.len() >= k + 5
                && part[..k].iter().all(|b| *b == b'\\')
                && part[k] == b'u'
                && std::str::from_utf8(&part[k + 1..k + 5])
                    .ok()
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    == Some(*unit);
            len += k + 5;
            escaped
        });
        if ok {
            found.push(len);
        }
    }
    // %XX for each byte, or %25XX.
    for prefix in [&b"%"[..], &b"%25"[..]] {
        let mut len = 0;
        let ok = literal.iter().all(|byte| {
            let part = &rest[len.min(rest.len())..];
            let hex = part
                .strip_prefix(prefix)
                .and_then(|p| p.get(..2))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            len += prefix.len() + 2;
            hex == Some(*byte)
        });
        if ok {
            found.push(len);
        }
    }
    if c == ' ' && rest.first() == Some(&b'+') {
        found.push(1);
    }
    // &#NN; &#xHH; (leading zeros, `;` or not) and named references.
    if let Some(reference) = rest.strip_prefix(b"&") {
        if let Some((code, len)) = html_reference(reference) {
            if code == c as u32 {
                found.push(len + 1);
            }
        }
    }
    found
}

/// The character an HTML reference stands for (after its `&`), and its
/// length: `#NN` and `#xHH` with any number of digits, `;` optional; the
/// named ones of ASCII punctuation and a few more, `;` needed except for the
/// legacy four.
fn html_reference(text: &[u8]) -> Option<(u32, usize)> {
    let end = |digits: usize, start: usize| {
        start + digits + usize::from(text.get(start + digits) == Some(&b';'))
    };
    // #xHH or #NN: any number of digits (zeros first included), `;` or not.
    let (digits, radix, start) = match text {
        [b'#', b'x' | b'X', rest @ ..] => (rest, 16, 2),
        [b'#', rest @ ..] => (rest, 10, 1),
        _ => (&[][..], 0, 0),
    };
    if radix > 0 {
        let count = digits
            .iter()
            .take(32)
            .take_while(|b| char::from(**b).is_digit(radix))
            .count();
        let value = std::str::from_utf8(&digits[..count])
            .ok()?
            .trim_start_matches('0');
        let code = if value.is_empty() {
            0
        } else {
            u32::from_str_radix(value, radix).ok()?
        };
        return (count > 0).then(|| (code, end(count, start)));
    }
    let letters = text
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = std::str::from_utf8(&text[..letters]).ok()?;
    const NAMED: [(&str, char); 36] = [
        ("quot", '"'),
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("apos", '\''),
        ("excl", '!'),
        ("num", '#'),
        ("dollar", '$'),
        ("percnt", '%'),
        ("lpar", '('),
        ("rpar", ')'),
        ("ast", '*'),
        ("midast", '*'),
        ("plus", '+'),
        ("comma", ','),
        ("period", '.'),
        ("sol", '/'),
        ("colon", ':'),
        ("semi", ';'),
        ("equals", '='),
        ("quest", '?'),
        ("commat", '@'),
        ("lsqb", '['),
        ("lbrack", '['),
        ("bsol", '\\'),
        ("rsqb", ']'),
        ("rbrack", ']'),
        ("Hat", '^'),
        ("lowbar", '_'),
        ("UnderBar", '_'),
        ("grave", '`'),
        ("lcub", '{'),
        ("lbrace", '{'),
        ("verbar", '|'),
        ("rcub", '}'),
        ("euro", '€'),
    ];
    let &(_, c) = NAMED.iter().find(|(n, _)| *n == name)?;
    let closed = text.get(letters) == Some(&b';');
    let legacy = matches!(name, "quot" | "amp" | "lt" | "gt");
    (closed || legacy).then(|| (c as u32, letters + usize::from(closed)))
}

/// `text` cut to about `limit` bytes: its start and its end, with its size
/// between them. What a target sends can be huge; a report grows with the
/// number of checks, not with that.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let half = limit / 2;
    let mut head = half;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - half;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{} … ({} bytes in all; {} left out) … {}",
        &text[..head],
        text.len(),
        tail - head,
        &text[tail..]
    )
}

/// The report with every secret masked in its free texts.
pub fn redact_report(report: &Report, secrets: &[String]) -> Report {
    let mut shown = report.clone();
    shown.target = excerpt(&redact(&shown.target, secrets), 512);
    // Masked first, then cut: a cut never leaves part of a key to see.
    for check in &mut shown.checks {
        check.message = excerpt(&redact(&check.message, secrets), 2048);
        for e in &mut check.evidence {
            e.request = excerpt(&redact(&e.request, secrets), 16 * 1024);
            e.expected = excerpt(&redact(&e.expected, secrets), 2048);
            e.actual = excerpt(&redact(&e.actual, secrets), 4096);
            e.diff = e
                .diff
                .as_deref()
                .map(|d| excerpt(&redact(d, secrets), 8192));
        }
    }
    // A panel's own words reach the ledger (statuses, charges) and the
    // coverage (statuses, error messages).
    for order in &mut shown.orders {
        order.charge = redact(&order.charge, secrets);
        order.status = order.status.as_deref().map(|s| redact(s, secrets));
    }
    if let Some(coverage) = &mut shown.coverage {
        coverage.rewrite_seen(|seen| redact(seen, secrets));
    }
    if let Some(stopped) = &mut shown.stopped {
        stopped.reason = excerpt(&redact(&stopped.reason, secrets), 2048);
    }
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ledger_and_the_coverage_are_redacted_too() {
        let key = "sk_live_abcd1234".to_owned();
        let mut report = crate::outcome::Report::new(
            "t".into(),
            crate::outcome::Mode::Tolerant,
            0,
            1,
            Vec::new(),
        );
        report.orders.push(crate::ledger::PlacedOrder {
            order: 1,
            service: 1,
            quantity: 1,
            runs: None,
            charge: format!("0 {key}"),
            status: Some(format!("Pending {key}")),
            running: true,
            check: "run",
        });
        let mut noted = crate::coverage::Noted::default();
        noted.errors.insert(format!("Invalid API key {key}"));
        noted.order_statuses.insert(key.clone());
        report.coverage = Some(crate::coverage::Coverage::of(&noted, &[]));
        let shown = super::redact_report(&report, std::slice::from_ref(&key));
        let text = serde_json::to_string(&shown).unwrap();
        assert!(!text.contains(&key), "{text}");
        assert!(text.contains("Pending ***"), "{text}");
    }

    #[test]
    fn a_short_key_is_masked_where_it_stands_alone_not_inside_words() {
        let short = vec!["k".to_owned()];
        assert_eq!(
            super::redact("check the host; key=k; {\"key\":\"k\"}", &short),
            "check the host; key=***; {\"key\":\"***\"}"
        );
        let long = vec!["sk_live_abc".to_owned()];
        assert_eq!(
            super::redact("xsk_live_abcx", &long),
            "x***x",
            "a long key is masked anywhere"
        );
    }

    #[test]
    fn a_secret_is_masked_in_every_form_a_target_can_echo_it() {
        let key = r#"Ab/C "d\e+é"#.to_owned();
        let json = serde_json::to_string(&key).unwrap();
        let json = &json[1..json.len() - 1];
        let ascii_json: String = key.encode_utf16().map(|u| format!("\\u{u:04X}")).collect();
        let percent: String = key.bytes().map(|b| format!("%{b:02x}")).collect();
        let form = form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>();
        let twice = serde_json::to_string(&json).unwrap();
        let twice = &twice[1..twice.len() - 1];
        let html: String = key.chars().map(|c| format!("&#x{:X};", c as u32)).collect();
        let mixed = r#"A\u0062\/C%20&quot;d\\e%2B\u00e9"#;
        let named = "Ab&sol;C&#32;&quot;d&bsol;e&plus;&#x000000E9";
        for form in [
            key.as_str(),
            json,
            &json.replace('/', "\\/"),
            &ascii_json,
            &ascii_json.to_lowercase(),
            &percent,
            &percent.to_uppercase(),
            &form,
            twice,
            &html,
            mixed,
            named,
        ] {
            let text = format!("before {form} after");
            assert_eq!(
                super::redact(&text, std::slice::from_ref(&key)),
                "before *** after",
                "{form}"
            );
        }
        // Other text is left alone, and a part of the key is not the key.
        assert_eq!(
            super::redact("Ab/C d", std::slice::from_ref(&key)),
            "Ab/C d"
        );
    }

    #[test]
    fn a_text_built_to_make_the_search_explode_is_masked_not_searched_for_ever() {
        let key = "\\".repeat(64);
        let text = "\\".repeat(100_000);
        let shown = super::redact(&text, &[key]);
        assert!(!shown.contains(&"\\".repeat(64)));
    }

    #[test]
    fn excerpts_keep_both_ends_and_the_size() {
        let text = format!("{}{}", "a".repeat(10_000), "é".repeat(10_000));
        let cut = super::excerpt(&text, 1000);
        assert!(cut.len() < 1200, "{}", cut.len());
        assert!(cut.starts_with("aaa") && cut.ends_with("ééé"));
        assert!(cut.contains("30000 bytes in all"), "{cut}");
        assert_eq!(super::excerpt("short", 1000), "short");
    }

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let text = "key=abcd1234 and again abcd1234";
        assert_eq!(
            super::redact(text, &["abcd1234".into()]),
            "key=*** and again ***"
        );
    }
}
