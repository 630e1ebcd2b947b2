//! The parsed file and what it is made of: columns, rows, issues, entries to register.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{DEFAULT_ID_TYPE, MAX_FILE_BYTES, MAX_ROWS};

/// How a device authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthType {
    Basic,
    Certificates,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Basic => "BASIC",
            AuthType::Certificates => "CERTIFICATES",
        }
    }
}

/// What a header cell means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Id,
    Credentials,
    AuthType,
    Tenant,
    Type,
    Name,
    Iccid,
    IdType,
    Path,
    Shell,
    EnrollmentOtp,
    /// `external-<type>`: an additional external id of that type.
    External(String),
    /// Any other column: a custom property; dotted names nest.
    Custom(Vec<String>),
}

impl Column {
    pub(super) fn parse(name: &str) -> Result<Column, String> {
        let upper = name.to_ascii_uppercase();
        Ok(match upper.as_str() {
            "ID" => Column::Id,
            "CREDENTIALS" => Column::Credentials,
            "AUTH_TYPE" => Column::AuthType,
            "TENANT" => Column::Tenant,
            "TYPE" => Column::Type,
            "NAME" => Column::Name,
            "ICCID" => Column::Iccid,
            "IDTYPE" => Column::IdType,
            "PATH" => Column::Path,
            "SHELL" => Column::Shell,
            "ENROLLMENT_OTP" => Column::EnrollmentOtp,
            _ if upper.starts_with("EXTERNAL-") => {
                let t = &name["external-".len()..];
                if t.is_empty() {
                    return Err("column 'external-' needs an id type after the dash".into());
                }
                Column::External(t.to_string())
            }
            _ => {
                if name.is_empty() {
                    return Err("a column has an empty name".into());
                }
                let path: Vec<String> = name.split('.').map(str::to_string).collect();
                if path.iter().any(String::is_empty) {
                    return Err(format!("column '{name}' has an empty part in its dotted name"));
                }
                Column::Custom(path)
            }
        })
    }

    /// Whether using this column in a row makes `TYPE` and `NAME` required.
    pub(super) fn needs_type_and_name(&self) -> bool {
        matches!(self, Column::Iccid | Column::IdType | Column::Path | Column::Shell)
    }
}

/// How serious an issue is: errors make a row invalid; warnings are shown, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located by line (1 = the header) and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub line: u32,
    pub column: Option<String>,
    pub severity: Severity,
    pub message: String,
}

/// A data row: where its cells are in the file's text, and how many problems it has. The
/// cells of every row live in one buffer of the [`BulkFile`] (no allocation per row or cell:
/// 100,000-row files are the normal case); read them with [`BulkFile::cell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u32,
    /// Where the row's first cell starts in the file's text.
    pub(super) start: u32,
    /// Index of the row's first cell end in the file's `ends`.
    pub(super) first: u32,
    /// How many cells the row has.
    pub(super) count: u32,
    pub errors: u32,
    pub warnings: u32,
}

impl Row {
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// How many cells the row has.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the row has no cell.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Counts for the preview and the server's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
    pub certificates: usize,
    pub basic: usize,
}

/// A parsed and validated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkFile {
    pub separator: char,
    pub header: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Every problem, in line order; file-level problems have line 1.
    pub issues: Vec<Issue>,
    pub summary: Summary,
    /// The cells of every row, one after another.
    pub(super) text: String,
    /// Where each cell ends in `text`, row after row.
    pub(super) ends: Vec<u32>,
}

/// Why a file cannot be read at all (no row can be judged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("the header line is invalid: {0}")]
    Header(String),
    #[error("the CSV is malformed: {0}")]
    Malformed(String),
    /// A quoted cell is still open at the end of the file: it would take every line after
    /// its quote (the line given) into one cell.
    #[error("the quote opened on line {line} is never closed")]
    UnclosedQuote { line: u32 },
    /// The file starts with the byte order mark of an encoding other than UTF-8 (`UTF-16`,
    /// `UTF-32`).
    #[error("the file is {0} encoded; save it as UTF-8 (or Windows-1252) and try again")]
    UnsupportedEncoding(&'static str),
    /// The header line is one column that holds a character that looks like a separator
    /// (`ID|NAME`): the file uses a separator the platform does not accept.
    #[error(
        "the separator was not recognised: the header line must separate the column names with {} (found {})",
        super::reader::separators_text(),
        super::reader::shown_separator(*.found)
    )]
    UnknownSeparator { found: char },
}

/// A valid row, ready to register.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEntry {
    pub line: u32,
    pub id: String,
    pub auth_type: AuthType,
    /// The password of a BASIC device.
    pub credentials: Option<String>,
    pub device_type: Option<String>,
    pub name: Option<String>,
    pub iccid: Option<String>,
    pub id_type: String,
    pub path: Option<String>,
    pub shell: bool,
    /// The one-time password for EST enrollment (`ENROLLMENT_OTP`, certificate devices).
    pub enrollment_otp: Option<String>,
    /// Additional external ids: `(type, value)`.
    pub external_ids: Vec<(String, String)>,
    /// Custom properties, nested by dotted names; values stay strings.
    pub properties: Map<String, Value>,
}

fn cell<'f>(file: &'f BulkFile, row: &Row, which: &Column) -> Option<&'f str> {
    file.columns.iter().position(|c| c == which).and_then(|i| file.cell(row, i))
}

impl BulkFile {
    /// The valid rows as entries to register (invalid rows are skipped).
    pub fn entries(&self) -> impl Iterator<Item = DeviceEntry> + '_ {
        self.rows.iter().filter(|r| r.is_valid()).map(|r| self.entry(r))
    }

    /// The entry of a valid row.
    pub fn entry(&self, row: &Row) -> DeviceEntry {
        let get = |which: &Column| cell(self, row, which).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let auth_type = match get(&Column::AuthType) {
            Some(a) if a.eq_ignore_ascii_case("CERTIFICATES") => AuthType::Certificates,
            _ => AuthType::Basic,
        };
        let mut properties = Map::new();
        let mut external_ids = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            let Some(v) = self.cell(row, i).filter(|v| !v.is_empty()) else { continue };
            match c {
                Column::External(t) => external_ids.push((t.clone(), v.to_string())),
                Column::Custom(path) => insert_nested(&mut properties, path, v.to_string()),
                _ => {}
            }
        }
        DeviceEntry {
            line: row.line,
            id: cell(self, row, &Column::Id).unwrap_or_default().to_string(),
            auth_type,
            credentials: if auth_type == AuthType::Basic {
                cell(self, row, &Column::Credentials).map(str::to_string)
            } else {
                None
            },
            device_type: get(&Column::Type),
            name: get(&Column::Name),
            iccid: get(&Column::Iccid),
            id_type: get(&Column::IdType).unwrap_or_else(|| DEFAULT_ID_TYPE.to_string()),
            path: get(&Column::Path),
            shell: get(&Column::Shell).as_deref() == Some("1"),
            enrollment_otp: if auth_type == AuthType::Certificates {
                cell(self, row, &Column::EnrollmentOtp).filter(|v| !v.is_empty()).map(str::to_string)
            } else {
                None
            },
            external_ids,
            properties,
        }
    }

    /// Cell `i` of `row` (a row of this file), as written.
    pub fn cell(&self, row: &Row, i: usize) -> Option<&str> {
        if i >= row.len() {
            return None;
        }
        let at = row.first as usize + i;
        let end = *self.ends.get(at)? as usize;
        let start = if i == 0 { row.start as usize } else { self.ends[at - 1] as usize };
        self.text.get(start..end)
    }

    /// Every cell of `row` (a row of this file), in order.
    pub fn cells<'a>(&'a self, row: &'a Row) -> impl Iterator<Item = &'a str> + 'a {
        (0..row.len()).map(move |i| self.cell(row, i).unwrap_or_default())
    }

    /// The issues of one line.
    pub fn issues_of(&self, line: u32) -> impl Iterator<Item = &Issue> {
        let start = self.issues.partition_point(|i| i.line < line);
        self.issues[start..].iter().take_while(move |i| i.line == line)
    }
}

fn insert_nested(map: &mut Map<String, Value>, path: &[String], value: String) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), Value::String(value));
        }
        [first, rest @ ..] => {
            let child = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(m) = child {
                insert_nested(m, rest, value);
            }
        }
    }
}
