//! Bulk registration files: the platform's CSV format, parsed and validated row by row.
//!
//! One implementation serves the browser's preview (every problem shown before anything is
//! sent) and the server's `POST /devicecontrol/bulkNewDeviceRequests` (the authority).
//!
//! Format: UTF-8 with or without BOM (else read as Windows-1252; UTF-16 and UTF-32 are
//! refused), CRLF or LF, the separator (tab, `;` or `,`) detected from the header line (a
//! header of one column with another separator-like character in it, `ID|NAME`, is refused
//! naming the separators accepted), quoted
//! fields with `""` escapes (a quote never closed refuses the file). Columns: `ID` (mandatory),
//! `CREDENTIALS` (mandatory unless `AUTH_TYPE=CERTIFICATES`, where it must be empty),
//! `AUTH_TYPE` (`BASIC` or `CERTIFICATES`), `TENANT`, `TYPE`, `NAME`, `ICCID`, `IDTYPE`
//! (default `c8y_Serial`), `PATH`, `SHELL` (`0`/`1`), `ENROLLMENT_OTP`, `external-<type>`, and
//! any other column as a custom property (dotted names nest).
//!
//! By concern: `model` (the parsed file: `BulkFile`, `Row`, `Issue`, `FileError`, …),
//! `encoding` (bytes to text), `reader` (records and cells, cut as the `csv` crate cuts them),
//! `rules` (the header's columns and every row rule), `stream` ([`StreamParser`]) and
//! [`templates`].

mod encoding;
mod model;
mod reader;
mod rules;
mod stream;
pub mod templates;

pub use model::{AuthType, BulkFile, Column, DeviceEntry, FileError, Issue, Row, Severity, Summary};
pub use reader::{SEPARATORS, detect_separator};
pub use rules::{escape_formula, is_formula};
pub use stream::StreamParser;

use encoding::decode;
use reader::Scan;

/// Largest file accepted, in bytes: a 1,000,000-row file of certificate devices with a type, a
/// name and an extra id or two fits (docs/decisions.md, "Bulk registration's bounds").
pub const MAX_FILE_BYTES: usize = 128 * 1024 * 1024;
/// Most data rows accepted in one file.
pub const MAX_ROWS: usize = 1_000_000;
/// Most columns accepted.
pub const MAX_COLUMNS: usize = 256;
/// Longest cell accepted, in characters.
pub const MAX_CELL_CHARS: usize = 4096;
/// Default external id type.
pub const DEFAULT_ID_TYPE: &str = "c8y_Serial";

/// Parses and validates a whole file.
pub fn parse(bytes: &[u8]) -> Result<BulkFile, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge);
    }
    let (text, encoding_warning) = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let first_line = text.lines().next().unwrap_or_default();
    let mut scan = Scan::new(detect_separator(first_line), text.len(), encoding_warning);
    scan.feed(&text);
    scan.finish()
}
