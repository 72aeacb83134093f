//! Services and the fields `add` takes for each service type (CONTRACT §2.1).
//!
//! [`Service::order`] turns the fields of an `add` request into a [`NewOrder`]
//! or refuses it with the error a panel gives. It is pure: it reads the fields
//! and the service, and nothing else, so a refused order changes nothing.
//!
//! How each type is priced (CONTRACT leaves it to the panel):
//! units × rate / 1000, where the units are the quantity (× runs with
//! drip-feed), the number of comment lines (Custom Comments), the number of
//! usernames (Mentions Custom List) or `max` × `posts` (Subscriptions); the two
//! package types cost `rate` per order.

use rust_decimal::Decimal;
use smm_contract::field;
pub use smm_contract::ServiceType;

use crate::error::ApiError;
use crate::request::Fields;

/// How many units a service's `rate` is the price of: 1000, or 1 for the
/// package types (one package per order). CONTRACT §3 prices per 1000; the
/// packages' price is the mock's choice (README, "Fields of `add`").
pub fn price_per(kind: ServiceType) -> u64 {
    match kind {
        ServiceType::Package | ServiceType::CustomCommentsPackage => 1,
        _ => 1000,
    }
}

/// A service of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The service id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Which fields `add` takes.
    pub kind: ServiceType,
    /// Display category.
    pub category: String,
    /// Price per 1000 units (per package for package types).
    pub rate: Decimal,
    /// The rate as the fixture wrote it, printed unchanged by `services`.
    pub rate_text: String,
    /// Smallest quantity.
    pub min: u64,
    /// Largest quantity.
    pub max: u64,
    /// Whether `runs` + `interval` are accepted.
    pub dripfeed: bool,
    /// Whether `refill` is accepted.
    pub refill: bool,
    /// Whether `cancel` is accepted.
    pub cancel: bool,
    /// Optional description, printed as `desc`.
    pub desc: Option<String>,
}

/// An order as `add` accepted it, before it is charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The link (for Subscriptions, the username).
    pub link: String,
    /// Units delivered and charged in all (quantity × runs, lines, …).
    pub units: u64,
    /// Drip-feed runs, when drip-feed was asked for.
    pub runs: Option<u32>,
    /// Subscription posts, when given.
    pub posts: Option<u32>,
    /// Subscription expiry (d/m/Y), when given.
    pub expiry: Option<String>,
}

/// The drip-feed `runs` above which the mock refuses an order.
pub const MAX_RUNS: u64 = 100_000;
/// The longest link (or username) the mock accepts.
pub const MAX_LINK: usize = 2048;

/// What a quantity field holds.
enum Count {
    Value(u64),
    Negative,
    TooBig,
    NotANumber,
}

fn count(text: &str) -> Count {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Count::NotANumber;
    }
    if negative && digits.bytes().any(|b| b != b'0') {
        return Count::Negative;
    }
    match digits.parse::<u64>() {
        Ok(n) => Count::Value(n),
        Err(_) => Count::TooBig,
    }
}

/// A positive integer field (`runs`, `answer_number`, …); anything else is `None`.
pub fn positive(text: &str) -> Option<u64> {
    match count(text) {
        Count::Value(n) if n > 0 => Some(n),
        _ => None,
    }
}

fn text<'a>(fields: &'a Fields, name: &'static str) -> Result<&'a str, ApiError> {
    match fields.get(name).map(str::trim) {
        Some(value) if !value.is_empty() && value.len() <= MAX_LINK => Ok(value),
        _ => Err(ApiError::IncorrectField(name)),
    }
}

/// A newline list (`comments`, `usernames`, …): its non-blank lines.
fn lines<'a>(fields: &'a Fields, name: &'static str) -> Result<Vec<&'a str>, ApiError> {
    let list: Vec<&str> = text(fields, name)?
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    Ok(list)
}

impl Service {
    /// `value` checked against min and max.
    fn in_range(&self, value: u64) -> Result<u64, ApiError> {
        if value < self.min {
            Err(ApiError::QuantityLess(self.min))
        } else if value > self.max {
            Err(ApiError::QuantityMore(self.max))
        } else {
            Ok(value)
        }
    }

    /// A quantity-like field checked against min and max.
    fn bounded(&self, fields: &Fields, name: &'static str) -> Result<u64, ApiError> {
        let raw = fields.get(name).unwrap_or("");
        match count(raw) {
            Count::Value(n) => self.in_range(n),
            Count::Negative => Err(ApiError::QuantityLess(self.min)),
            Count::TooBig => Err(ApiError::QuantityMore(self.max)),
            Count::NotANumber => Err(ApiError::IncorrectField(name)),
        }
    }

    /// The number of lines of a list, checked against min and max.
    fn bounded_lines(&self, fields: &Fields, name: &'static str) -> Result<u64, ApiError> {
        let n = lines(fields, name)?.len() as u64;
        if n == 0 {
            return Err(ApiError::IncorrectField(name));
        }
        self.in_range(n)
    }

    /// Reads the fields of an `add` for this service, or refuses them.
    pub fn order(&self, fields: &Fields) -> Result<NewOrder, ApiError> {
        use ServiceType as T;
        let mut posts = None;
        let mut expiry = None;
        let (link, units) = match self.kind {
            T::Default => (
                text(fields, field::LINK)?,
                self.bounded(fields, field::QUANTITY)?,
            ),
            T::Package => (text(fields, field::LINK)?, 1),
            T::CustomCommentsPackage => {
                let link = text(fields, field::LINK)?;
                lines(fields, "comments")?;
                (link, 1)
            }
            T::Seo => {
                let link = text(fields, field::LINK)?;
                let q = self.bounded(fields, field::QUANTITY)?;
                lines(fields, "keywords")?;
                (link, q)
            }
            T::CustomComments => (
                text(fields, field::LINK)?,
                self.bounded_lines(fields, "comments")?,
            ),
            T::MentionsCustomList => (
                text(fields, field::LINK)?,
                self.bounded_lines(fields, "usernames")?,
            ),
            T::Mentions | T::MentionsWithHashtags => {
                let link = text(fields, field::LINK)?;
                let q = self.bounded(fields, field::QUANTITY)?;
                lines(fields, "usernames")?;
                if self.kind == T::MentionsWithHashtags {
                    lines(fields, "hashtags")?;
                }
                (link, q)
            }
            T::MentionsHashtag
            | T::MentionsUserFollowers
            | T::MentionsMediaLikers
            | T::CommentLikes
            | T::InvitesFromGroups => {
                let link = text(fields, field::LINK)?;
                let q = self.bounded(fields, field::QUANTITY)?;
                let extra = match self.kind {
                    T::MentionsHashtag => "hashtag",
                    T::MentionsMediaLikers => "media",
                    T::InvitesFromGroups => "groups",
                    _ => "username",
                };
                text(fields, extra)?;
                (link, q)
            }
            T::Poll => {
                let link = text(fields, field::LINK)?;
                let q = self.bounded(fields, field::QUANTITY)?;
                positive(fields.get("answer_number").unwrap_or(""))
                    .ok_or(ApiError::IncorrectField("answer_number"))?;
                (link, q)
            }
            T::Subscriptions => {
                let username = text(fields, "username")?;
                let min = self.bounded(fields, "min")?;
                let max = self.bounded(fields, "max")?;
                if min > max {
                    return Err(ApiError::IncorrectField("min"));
                }
                posts = optional_positive(fields, "posts")?;
                optional_positive(fields, "old_posts")?;
                if let Some(raw) = non_blank(fields, "expiry") {
                    if !is_dmy(raw) {
                        return Err(ApiError::IncorrectField("expiry"));
                    }
                    expiry = Some(raw.to_owned());
                }
                if let Some(raw) = non_blank(fields, "delay") {
                    if !matches!(count(raw), Count::Value(d) if is_delay(d)) {
                        return Err(ApiError::IncorrectField("delay"));
                    }
                }
                let posts_n = u64::from(posts.unwrap_or(1));
                let units = max
                    .checked_mul(posts_n)
                    .ok_or(ApiError::IncorrectField("posts"))?;
                (username, units)
            }
            T::WebTraffic => {
                let link = text(fields, field::LINK)?;
                let q = self.bounded(fields, field::QUANTITY)?;
                text(fields, "country")?;
                match positive(fields.get("device").unwrap_or("")) {
                    Some(1..=5) => {}
                    _ => return Err(ApiError::IncorrectField("device")),
                }
                match positive(fields.get("type_of_traffic").unwrap_or("")) {
                    Some(1) => {
                        text(fields, "google_keyword")?;
                    }
                    Some(2) => {
                        text(fields, "referring_url")?;
                    }
                    Some(3) => {}
                    _ => return Err(ApiError::IncorrectField("type_of_traffic")),
                }
                (link, q)
            }
        };
        let runs = self.runs(fields)?;
        let units = match runs {
            Some(r) => units
                .checked_mul(u64::from(r))
                .ok_or(ApiError::IncorrectField(field::RUNS))?,
            None => units,
        };
        Ok(NewOrder {
            link: link.to_owned(),
            units,
            runs,
            posts,
            expiry,
        })
    }

    /// The drip-feed runs asked for. Like PHP panels, `runs` that is missing,
    /// empty, 0 or not a number means "no drip-feed" (CONTRACT §1: a Node SDK
    /// sends `runs=undefined` on every order).
    fn runs(&self, fields: &Fields) -> Result<Option<u32>, ApiError> {
        let raw = fields.get(field::RUNS).map(str::trim).unwrap_or("");
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && raw.parse::<u64>().is_err()
        {
            return Err(ApiError::IncorrectField(field::RUNS));
        }
        let Some(runs) = positive(raw) else {
            return Ok(None);
        };
        if !self.dripfeed {
            return Err(ApiError::DripfeedNotSupported);
        }
        if runs > MAX_RUNS {
            return Err(ApiError::IncorrectField(field::RUNS));
        }
        if fields.get(field::INTERVAL).and_then(positive).is_none() {
            return Err(ApiError::IncorrectField(field::INTERVAL));
        }
        Ok(Some(runs as u32))
    }
}

fn non_blank<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.get(name).map(str::trim).filter(|v| !v.is_empty())
}

fn optional_positive(fields: &Fields, name: &'static str) -> Result<Option<u32>, ApiError> {
    match non_blank(fields, name) {
        None => Ok(None),
        Some(raw) => match positive(raw) {
            Some(n) if n <= u64::from(u32::MAX) => Ok(Some(n as u32)),
            _ => Err(ApiError::IncorrectField(name)),
        },
    }
}

/// `d/m/Y`, e.g. `31/12/2026`.
fn is_dmy(text: &str) -> bool {
    let parts: Vec<&str> = text.split('/').collect();
    let number = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.len() != 3
        || !number(parts[0], 1..=2)
        || !number(parts[1], 1..=2)
        || !number(parts[2], 4..=4)
    {
        return false;
    }
    let (day, month): (u32, u32) = (parts[0].parse().unwrap_or(0), parts[1].parse().unwrap_or(0));
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

/// The subscription delays (minutes) panels offer: 0-60 in the listed steps,
/// then every 30 minutes up to 600.
fn is_delay(minutes: u64) -> bool {
    matches!(minutes, 0 | 5 | 10 | 15 | 20 | 30 | 40 | 50 | 60)
        || (90..=600).contains(&minutes) && minutes % 30 == 0
}
