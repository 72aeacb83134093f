//! The JSON report (`schemas/report.schema.json`).

use std::io::{self, Write};

use crate::outcome::Report;

/// Writes the report as pretty JSON with a final newline.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    writeln!(out)
}
