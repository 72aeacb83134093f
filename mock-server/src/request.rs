//! Reading a request into [`Fields`]: form bodies, query strings and JSON.
//!
//! Panels read `key`, `action` and the rest from a form body, and many also
//! from a GET query string or a JSON body (CONTRACT §1); the mock reads all
//! three alike. A JSON number and the same number in a string mean the same
//! (`"quantity": 100` = `"quantity": "100"`); `null` means absent; a list of
//! numbers or strings is read as a comma-separated list (`"orders": [1, 2]`).
//! A field sent twice is refused, and so is what cannot be read.

use std::fmt;

/// The most body bytes the panel reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The fields of one request, in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The body is over this many bytes ([`BODY_LIMIT`] on the API path).
    TooLarge(usize),
    /// The body, or a percent-decoded field, is not UTF-8.
    NotUtf8,
    /// A field came twice.
    Repeated(String),
    /// The JSON body is not a JSON object of scalars.
    BadJson(String),
    /// The content type is neither a form nor JSON.
    ContentType(String),
    /// The body could not be read (too slow, connection error).
    Unreadable(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(limit) => write!(f, "body over {limit} bytes"),
            Self::NotUtf8 => f.write_str("the request is not valid UTF-8"),
            Self::Repeated(name) => write!(f, "field `{name}` is sent more than once"),
            Self::BadJson(why) => write!(f, "invalid JSON body: {why}"),
            Self::Unreadable(why) => f.write_str(why),
            Self::ContentType(ct) => write!(
                f,
                "unsupported content type `{ct}`: send application/x-www-form-urlencoded or application/json"
            ),
        }
    }
}

/// How a body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/x-www-form-urlencoded`, or no content type at all.
    Form,
    /// `application/json` (or `text/json`, or any `+json`).
    Json,
}

impl BodyKind {
    /// The body kind a content type names; an unknown type is an error.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, ReadError> {
        let Some(raw) = content_type else {
            return Ok(Self::Form);
        };
        let essence = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "" | "application/x-www-form-urlencoded" => Ok(Self::Form),
            "application/json" | "text/json" => Ok(Self::Json),
            other if other.ends_with("+json") => Ok(Self::Json),
            _ => Err(ReadError::ContentType(essence)),
        }
    }
}

impl Fields {
    /// Fields from `(name, value)` pairs; a repeated name is an error.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, ReadError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut fields = Fields::default();
        for (name, value) in pairs {
            fields.push(name.into(), value.into())?;
        }
        Ok(fields)
    }

    fn push(&mut self, name: String, value: String) -> Result<(), ReadError> {
        if name.is_empty() {
            return Ok(());
        }
        if self.get(&name).is_some() {
            return Err(ReadError::Repeated(name));
        }
        self.0.push((name, value));
        Ok(())
    }

    /// The value of a field, if it was sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every field, in the order it came.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The `(name, value)` pairs, in the order they came.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field came.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds the fields of a form-encoded text (`a=1&b=x+y%21`).
    pub fn add_form(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        for pair in bytes.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &b""[..]),
            };
            self.push(form_decode(name)?, form_decode(value)?)?;
        }
        Ok(())
    }

    /// Adds the fields of a JSON object body.
    pub fn add_json(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)?;
        let Pairs(object) = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                ReadError::BadJson("the body must be a JSON object".into())
            } else {
                ReadError::BadJson(e.to_string())
            }
        })?;
        for (name, value) in object {
            let text = match scalar(&value) {
                Some(text) => text,
                None => match &value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|item| scalar(item).ok_or_else(|| not_scalar(&name)))
                        .collect::<Result<Vec<_>, _>>()?
                        .join(if LINE_LISTS.contains(&name.as_str()) {
                            "\n"
                        } else {
                            ","
                        }),
                    _ => return Err(not_scalar(&name)),
                },
            };
            self.push(name, text)?;
        }
        Ok(())
    }
}

/// Fields that are newline lists in a form (`comments`, …): a JSON list of
/// them is one item per line; any other list is comma-separated (`orders`).
const LINE_LISTS: [&str; 5] = ["comments", "usernames", "keywords", "hashtags", "groups"];

/// A JSON object's members in order, duplicates kept (serde_json's map
/// would keep only the last, hiding a repeated field).
struct Pairs(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, serde_json::Value>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

fn not_scalar(name: &str) -> ReadError {
    ReadError::BadJson(format!(
        "field `{name}` must be a string, a number or a list of them"
    ))
}

fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; a `%` that is
/// not followed by two hex digits stays as it is (as PHP reads it).
fn form_decode(raw: &[u8]) -> Result<String, ReadError> {
    let spaced: std::borrow::Cow<'_, [u8]> = if raw.contains(&b'+') {
        raw.iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect::<Vec<u8>>()
            .into()
    } else {
        raw.into()
    };
    let decoded: std::borrow::Cow<'_, [u8]> = percent_encoding::percent_decode(&spaced).into();
    String::from_utf8(decoded.into_owned()).map_err(|_| ReadError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Result<Fields, ReadError> {
        let mut fields = Fields::default();
        fields.add_form(body.as_bytes())?;
        Ok(fields)
    }

    #[test]
    fn form_bodies_decode_plus_and_percent() {
        let f = form("key=a+b&link=https%3A%2F%2Fx.com%2F%3Fa%3D1&empty=&bare").unwrap();
        assert_eq!(f.get("key"), Some("a b"));
        assert_eq!(f.get("link"), Some("https://x.com/?a=1"));
        assert_eq!(f.get("empty"), Some(""));
        assert_eq!(f.get("bare"), Some(""));
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn a_stray_percent_is_kept() {
        let f = form("link=100%&q=%4").unwrap();
        assert_eq!(f.get("link"), Some("100%"));
        assert_eq!(f.get("q"), Some("%4"));
    }

    #[test]
    fn percent_decoded_invalid_utf8_is_refused() {
        assert_eq!(form("link=%FF%FE"), Err(ReadError::NotUtf8));
    }

    #[test]
    fn a_repeated_field_is_refused() {
        assert_eq!(form("key=a&key=b"), Err(ReadError::Repeated("key".into())));
    }

    #[test]
    fn json_numbers_and_strings_read_alike() {
        let mut f = Fields::default();
        f.add_json(
            br#"{"quantity": 100, "service": "1", "runs": null, "orders": [1, "2"], "ok": true}"#,
        )
        .unwrap();
        assert_eq!(f.get("quantity"), Some("100"));
        assert_eq!(f.get("service"), Some("1"));
        assert_eq!(f.get("runs"), None);
        assert_eq!(f.get("orders"), Some("1,2"));
        let mut lines = Fields::default();
        lines.add_json(br#"{"comments": ["a", "b"]}"#).unwrap();
        assert_eq!(lines.get("comments"), Some("a\nb"));
        assert_eq!(f.get("ok"), Some("1"));
    }

    #[test]
    fn a_field_repeated_in_json_is_refused() {
        let mut f = Fields::default();
        let repeated = f.add_json(br#"{"key": "a", "action": "balance", "key": "b"}"#);
        assert_eq!(repeated, Err(ReadError::Repeated("key".into())));
    }

    #[test]
    fn json_that_is_not_an_object_of_scalars_is_refused() {
        for body in [&b"[1]"[..], b"{\"a\": {\"b\": 1}}", b"{", b"\"x\""] {
            let mut f = Fields::default();
            assert!(
                matches!(f.add_json(body), Err(ReadError::BadJson(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn content_types() {
        use BodyKind::*;
        assert_eq!(BodyKind::from_content_type(None), Ok(Form));
        assert_eq!(
            BodyKind::from_content_type(Some("application/x-www-form-urlencoded; charset=UTF-8")),
            Ok(Form)
        );
        assert_eq!(
            BodyKind::from_content_type(Some("Application/JSON")),
            Ok(Json)
        );
        assert!(BodyKind::from_content_type(Some("multipart/form-data; boundary=x")).is_err());
    }
}
