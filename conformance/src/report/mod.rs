//! Reporters: the result model into human text, JSON or JUnit XML, written
//! to any `io::Write`. Every reporter's output passes through [`redact`], so
//! no API key reaches a terminal or a file, even one a panel echoed back.

pub mod human;
pub mod json;
pub mod junit;

/// Replaces every secret in `text` with `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let text = "key=abcd1234 and again abcd1234";
        assert_eq!(
            super::redact(text, &["abcd1234".into()]),
            "key=*** and again ***"
        );
    }
}
