//! Reading a request into [`Fields`]: form bodies, query strings and JSON.
//!
//! Panels read `key`, `action` and the rest from a form body, and many also
//! from a GET query string or a JSON body (CONTRACT §1); the mock reads all
//! three alike. A JSON number and the same number in a string mean the same
//! (`"quantity": 100` = `"quantity": "100"`); `null` means absent; a list of
//! numbers or strings is read as a comma-separated list (`"orders": [1, 2]`).
//! A field sent twice is refused, and so is what cannot be read.

use std::collections::HashMap;
use std::fmt;

/// The most body bytes the panel reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The fields of one request, in the order they came: every decoded name
/// and value in one text, and where each pair lies in it (so reading a
/// request of up to [`SCAN`] fields costs two allocations). A name is found
/// by a scan of those few; past them, by an index of names built then, so
/// reading n fields is O(n) whatever n (a 64 KiB body holds some 16,000).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    text: String,
    pairs: Vec<(Span, Span)>,
    /// Each name's pair, once there are more than [`SCAN`] fields.
    index: Option<HashMap<Box<str>, u32>>,
}

/// Up to this many fields a name is found by a scan (cheaper than hashing
/// for the dozen fields of a real request); past it, by the index.
pub const SCAN: usize = 16;

/// Where a name or value lies in [`Fields`]' text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span(u32, u32);

impl Span {
    fn of(self, text: &str) -> &str {
        text.get(self.0 as usize..self.1 as usize).unwrap_or("")
    }
}

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
        const FORM: &str = "application/x-www-form-urlencoded";
        if raw == FORM {
            return Ok(Self::Form);
        }
        let essence = raw.split(';').next().unwrap_or("").trim();
        let is = |name: &str| essence.eq_ignore_ascii_case(name);
        let json_suffix = essence
            .len()
            .checked_sub(5)
            .and_then(|at| essence.get(at..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case("+json"));
        if essence.is_empty() || is(FORM) {
            Ok(Self::Form)
        } else if is("application/json") || is("text/json") || json_suffix {
            Ok(Self::Json)
        } else {
            Err(ReadError::ContentType(essence.to_ascii_lowercase()))
        }
    }
}

impl Fields {
    /// Fields from `(name, value)` pairs; a repeated name is an error.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, ReadError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut fields = Fields::default();
        for (name, value) in pairs {
            fields.push(
                |t| {
                    t.push_str(name.as_ref());
                    Ok(())
                },
                |t| {
                    t.push_str(value.as_ref());
                    Ok(())
                },
            )?;
        }
        Ok(fields)
    }

    /// Appends a field whose name and value `name` and `value` write at the
    /// end of the text; an empty name is dropped, a repeated one refused.
    fn push(
        &mut self,
        name: impl FnOnce(&mut String) -> Result<(), ReadError>,
        value: impl FnOnce(&mut String) -> Result<(), ReadError>,
    ) -> Result<(), ReadError> {
        let start = self.text.len();
        let written = name(&mut self.text).and_then(|()| {
            let middle = self.text.len();
            value(&mut self.text).map(|()| middle)
        });
        let middle = match written {
            Ok(middle) => middle,
            Err(e) => {
                self.text.truncate(start);
                return Err(e);
            }
        };
        let end = self.text.len();
        let (Ok(a), Ok(b), Ok(c)) = (
            u32::try_from(start),
            u32::try_from(middle),
            u32::try_from(end),
        ) else {
            return Err(ReadError::Unreadable("the fields are too long".into()));
        };
        let (name, value) = (Span(a, b), Span(b, c));
        let new = name.of(&self.text);
        if new.is_empty() || self.position(new).is_some() {
            let repeated = (!new.is_empty()).then(|| new.to_owned());
            self.text.truncate(start);
            return match repeated {
                Some(name) => Err(ReadError::Repeated(name)),
                None => Ok(()),
            };
        }
        let at = self.pairs.len();
        self.pairs.push((name, value));
        if let Some(index) = &mut self.index {
            index.insert(new.into(), at as u32);
        } else if self.pairs.len() > SCAN {
            let text = &self.text;
            let index = self.pairs.iter().zip(0..);
            self.index = Some(index.map(|((n, _), i)| (n.of(text).into(), i)).collect());
        }
        Ok(())
    }

    /// Where the field `name` is among the pairs, if it was sent.
    fn position(&self, name: &str) -> Option<usize> {
        if let Some(index) = &self.index {
            probed();
            return index.get(name).map(|&at| at as usize);
        }
        let bytes = self.text.as_bytes();
        self.pairs.iter().position(|(n, _)| {
            probed();
            bytes.get(n.0 as usize..n.1 as usize) == Some(name.as_bytes())
        })
    }

    /// The value of a field, if it was sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        let (_, value) = self.pairs.get(self.position(name)?)?;
        Some(value.of(&self.text))
    }

    /// Every field, in the order it came.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(n, v)| (n.of(&self.text), v.of(&self.text)))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no field came.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Adds the fields of a form-encoded text (`a=1&b=x+y%21`).
    pub fn add_form(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            // Raw bytes that are not UTF-8 may still decode to UTF-8 with the
            // `%XX` beside them (`\xC3%A9` is `é`): read them pair by pair.
            return self.add_raw_form(bytes);
        };
        if self.text.is_empty() {
            self.text.reserve(text.len());
        }
        // Byte scans: `&` and `=` are ASCII, so every cut is on a character
        // boundary (and cheaper than a `char` pattern on short fields).
        let bytes = text.as_bytes();
        let mut start = 0;
        while start <= bytes.len() {
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'&')
                .map_or(bytes.len(), |at| start + at);
            let pair = &text[start..end];
            if !pair.is_empty() {
                let (name, value) = match pair.bytes().position(|b| b == b'=') {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, ""),
                };
                self.push(|t| form_decode(name, t), |t| form_decode(value, t))?;
            }
            start = end + 1;
        }
        Ok(())
    }

    /// [`Fields::add_form`] for a text that is not UTF-8 as it came.
    fn add_raw_form(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        for pair in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let decode = |raw: &[u8], out: &mut String| {
                let spaced: Vec<u8> = raw
                    .iter()
                    .map(|&b| if b == b'+' { b' ' } else { b })
                    .collect();
                let decoded: std::borrow::Cow<'_, [u8]> =
                    percent_encoding::percent_decode(&spaced).into();
                out.push_str(std::str::from_utf8(&decoded).map_err(|_| ReadError::NotUtf8)?);
                Ok(())
            };
            self.push(|t| decode(name, t), |t| decode(value, t))?;
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
            self.push(
                |t| {
                    t.push_str(&name);
                    Ok(())
                },
                |t| {
                    t.push_str(&text);
                    Ok(())
                },
            )?;
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

/// Decodes one form component onto the end of `out`: `+` is a space, `%XX`
/// a byte; a `%` that is not followed by two hex digits stays as it is (as
/// PHP reads it). Decoded bytes that are not UTF-8 are an error (and `out`
/// keeps what came before them).
fn form_decode(raw: &str, out: &mut String) -> Result<(), ReadError> {
    if !raw.bytes().any(|b| b == b'+' || b == b'%') {
        out.push_str(raw);
        return Ok(());
    }
    let spaced = raw.replace('+', " ");
    let decoded: std::borrow::Cow<'_, [u8]> =
        percent_encoding::percent_decode(spaced.as_bytes()).into();
    let text = std::str::from_utf8(&decoded).map_err(|_| ReadError::NotUtf8)?;
    out.push_str(text);
    Ok(())
}

/// Counts one look at a name (a name compared, or a lookup in the index):
/// the work of reading fields, which the tests bound.
#[inline]
fn probed() {
    #[cfg(test)]
    tests::PROBES.with(|p| p.set(p.get() + 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Names looked at on this thread (see [`probed`]).
        pub(super) static PROBES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// The names looked at to read a form of `n` distinct fields and then
    /// get each of them once.
    fn probes_for(n: usize) -> u64 {
        let body: Vec<String> = (0..n).map(|i| format!("f{i}={i}")).collect();
        let body = body.join("&");
        PROBES.with(|p| p.set(0));
        let fields = form(&body).unwrap();
        assert_eq!(fields.len(), n);
        for i in (0..n).step_by(7) {
            assert_eq!(fields.get(&format!("f{i}")), Some(i.to_string().as_str()));
        }
        assert_eq!(fields.get("absent"), None);
        PROBES.with(std::cell::Cell::get)
    }

    #[test]
    fn reading_fields_is_linear_in_their_number() {
        let (small, large) = (probes_for(1_000), probes_for(16_000));
        // Each field is looked up once when it is added (is it repeated?),
        // and once more when it is read: 2n, plus the first fields' scans.
        assert!(small <= 2 * 1_000 + 200, "1,000 fields: {small} looks");
        assert!(large <= 2 * 16_000 + 200, "16,000 fields: {large} looks");
    }

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
    fn raw_bytes_that_decode_to_utf8_are_read() {
        let f = form_bytes(b"link=caf\xC3%A9&q=1").unwrap();
        assert_eq!((f.get("link"), f.get("q")), (Some("café"), Some("1")));
        assert_eq!(form_bytes(b"link=\xFF"), Err(ReadError::NotUtf8));
    }

    fn form_bytes(body: &[u8]) -> Result<Fields, ReadError> {
        let mut fields = Fields::default();
        fields.add_form(body)?;
        Ok(fields)
    }

    #[test]
    fn percent_decoded_invalid_utf8_is_refused() {
        assert_eq!(form("link=%FF%FE"), Err(ReadError::NotUtf8));
    }

    #[test]
    fn a_repeated_field_is_refused() {
        assert_eq!(form("key=a&key=b"), Err(ReadError::Repeated("key".into())));
        // Past the scan, the index finds it too.
        let many: Vec<String> = (0..=SCAN + 4).map(|i| format!("f{i}=1")).collect();
        let repeated = format!("{}&f3=2", many.join("&"));
        assert_eq!(form(&repeated), Err(ReadError::Repeated("f3".into())));
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
