//! The drift real panels show (CONTRACT §6 items 1-4), as data.
//!
//! Each [`FieldDrift`] says: in this [`Shape`] of answer, this field is sent
//! in this [`Form`] instead of the contract's. The table is read in two
//! directions:
//! - a panel that drifts (the mock under a drift profile) writes the field
//!   in the form;
//! - a tolerant reader (the runner) undoes them before it applies the strict
//!   schema, and a snapshot classifier calls a change into one of these forms
//!   drift rather than breaking.
//!
//! Status spellings (§6.2) live with the enums: [`crate::OrderStatusDrift`],
//! [`crate::RefillStatusDrift`]. Bulk shapes (§6.5), HTTP errors (§6.6) and
//! paths (§6.7) are not drift: they break clients.

/// Which answer, or which item of one, a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// An entry of `services`.
    Service,
    /// The answer to `add`.
    Add,
    /// The answer to `balance`.
    Balance,
    /// An order's status object: the answer to `status`, or an item of bulk
    /// `status`.
    Status,
    /// The answer to a single `refill`.
    Refill,
    /// An item of the lists bulk `refill`, bulk `refill_status` and
    /// `cancel` answer.
    ListItem,
}

/// How a drifting panel sends a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// A decimal or integer string sent as a JSON number (`"rate": 0.9`).
    Number,
    /// An integer id sent as a string of digits (`"service": "1"`).
    DigitString,
    /// An id the contract sends as a string, sent as a JSON integer
    /// (`{"refill": 1}`).
    Integer,
    /// A count sent as `null`.
    Null,
    /// A count sent as `""`.
    Empty,
    /// A count sent as the text [`UNKNOWN`].
    Unknown,
    /// Left out (§6.3).
    Missing,
    /// Sent beside the contract's fields (§6.4).
    Extra,
}

/// The text a drifting panel sends for a count it does not know.
pub const UNKNOWN: &str = "Unknown";

/// A JSON scalar of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Literal {
    /// `true` or `false`.
    Bool(bool),
    /// A string.
    Text(&'static str),
}

/// One row of the table: `field` of `shape` sent in `form`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldDrift {
    /// Where the field is.
    pub shape: Shape,
    /// Its name.
    pub field: &'static str,
    /// How it is sent.
    pub form: Form,
    /// For [`Form::Extra`]: the one value that is drift (`"status":
    /// "success"`), or `None` for any value. For [`Form::Missing`],
    /// [`Form::Null`], [`Form::Empty`] and [`Form::Unknown`]: what a tolerant
    /// reader supposes in its place (a count of 0, a flag off, USD).
    pub literal: Option<Literal>,
    /// The evidence (REAL-WORLD.md).
    pub seen: &'static str,
}

const fn row(
    shape: Shape,
    field: &'static str,
    form: Form,
    literal: Option<Literal>,
    seen: &'static str,
) -> FieldDrift {
    FieldDrift {
        shape,
        field,
        form,
        literal,
        seen,
    }
}

const ZERO: Option<Literal> = Some(Literal::Text("0"));

/// The table of CONTRACT §6 items 1, 3 and 4.
pub const FIELD_DRIFT: [FieldDrift; 24] = {
    use Form::*;
    use Shape::*;
    [
        // §6.1: types.
        row(Service, "service", DigitString, None, "D1"),
        row(Service, "rate", Number, None, "D2"),
        row(Service, "min", Number, None, "D2"),
        row(Service, "max", Number, None, "D2"),
        row(Balance, "balance", Number, None, "D2"),
        row(Status, "charge", Number, None, "D2"),
        row(Status, "start_count", Number, None, "D2"),
        row(Status, "remains", Number, None, "D2, D4"),
        row(Status, "start_count", Null, ZERO, "D3"),
        row(Status, "start_count", Empty, ZERO, "D3"),
        row(Status, "remains", Unknown, ZERO, "D4"),
        row(Add, "order", DigitString, None, "D8"),
        row(Refill, "refill", Integer, None, "D9"),
        row(ListItem, "order", DigitString, None, "D8, D9"),
        row(ListItem, "refill", DigitString, None, "D9"),
        // §6.3: missing fields.
        row(
            Status,
            "currency",
            Missing,
            Some(Literal::Text("USD")),
            "D6",
        ),
        row(
            Service,
            "dripfeed",
            Missing,
            Some(Literal::Bool(false)),
            "D6",
        ),
        row(Service, "refill", Missing, Some(Literal::Bool(false)), "D6"),
        row(Service, "cancel", Missing, Some(Literal::Bool(false)), "D6"),
        // §6.4: extra fields.
        row(Add, "status", Extra, Some(Literal::Text("success")), "D7"),
        row(
            Balance,
            "status",
            Extra,
            Some(Literal::Text("success")),
            "D7",
        ),
        row(Status, "order", Extra, None, "D7"),
        row(Status, "created_at", Extra, None, "D7"),
        row(Status, "service_name", Extra, None, "D7"),
    ]
};

/// The rows of the table for `shape`.
pub fn of(shape: Shape) -> impl Iterator<Item = &'static FieldDrift> {
    FIELD_DRIFT.iter().filter(move |d| d.shape == shape)
}

/// The rows of the table for `shape` and `field`.
pub fn of_field(shape: Shape, field: &str) -> impl Iterator<Item = &'static FieldDrift> + '_ {
    of(shape).filter(move |d| d.field == field)
}

/// Whether leaving `field` out of `shape` is drift (§6.3).
pub fn may_be_missing(shape: Shape, field: &str) -> bool {
    of_field(shape, field).any(|d| d.form == Form::Missing)
}

/// Whether `field` beside the contract's fields of `shape` is drift (§6.4),
/// whatever its value.
pub fn named_extra(shape: Shape, field: &str) -> bool {
    of_field(shape, field).any(|d| d.form == Form::Extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_once_in_the_table() {
        for (i, a) in FIELD_DRIFT.iter().enumerate() {
            for b in &FIELD_DRIFT[i + 1..] {
                assert!(
                    (a.shape, a.field, a.form) != (b.shape, b.field, b.form),
                    "{a:?} twice"
                );
            }
        }
    }

    #[test]
    fn what_a_tolerant_reader_supposes_is_given_where_it_must_be() {
        for d in FIELD_DRIFT {
            let needs = matches!(
                d.form,
                Form::Missing | Form::Null | Form::Empty | Form::Unknown
            );
            assert!(!needs || d.literal.is_some(), "{d:?}");
        }
    }

    #[test]
    fn missing_flags_and_named_extras() {
        assert!(may_be_missing(Shape::Service, "refill"));
        assert!(!may_be_missing(Shape::Service, "rate"));
        assert!(named_extra(Shape::Status, "created_at"));
        assert!(!named_extra(Shape::Status, "charge"));
    }
}
