//! Bulk registration files: the platform's CSV format, parsed and validated row by row.
//!
//! One implementation serves the browser's preview (every problem shown before anything is
//! sent) and the server's `POST /devicecontrol/bulkNewDeviceRequests` (the authority).
//!
//! Format: UTF-8 with or without BOM (else read as Windows-1252), CRLF or LF, the separator
//! (tab, `;` or `,`) detected from the header line, quoted fields with `""` escapes. Columns:
//! `ID` (mandatory), `CREDENTIALS` (mandatory unless `AUTH_TYPE=CERTIFICATES`, where it must be
//! empty), `AUTH_TYPE` (`BASIC` or `CERTIFICATES`), `TENANT`, `TYPE`, `NAME`, `ICCID`, `IDTYPE`
//! (default `c8y_Serial`), `PATH`, `SHELL` (`0`/`1`), `ENROLLMENT_OTP`, `external-<type>`, and
//! any other column as a custom property (dotted names nest).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::device::check_device_id;

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Most data rows accepted in one file.
pub const MAX_ROWS: usize = 200_000;
/// Most columns accepted.
pub const MAX_COLUMNS: usize = 256;
/// Longest cell accepted, in characters.
pub const MAX_CELL_CHARS: usize = 4096;
/// Default external id type.
pub const DEFAULT_ID_TYPE: &str = "c8y_Serial";

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
    fn parse(name: &str) -> Result<Column, String> {
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
    fn needs_type_and_name(&self) -> bool {
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

/// A data row: its cells as written, and how many problems it has. The cells live in one
/// buffer (two allocations a row, not one a cell: 100,000-row files are the normal case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u32,
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<u32>,
    pub errors: u32,
    pub warnings: u32,
}

impl Row {
    /// A row of `cells` on `line`, with no problems counted yet.
    pub fn new<'a>(line: u32, cells: impl IntoIterator<Item = &'a str>) -> Self {
        let mut text = String::new();
        let mut ends = Vec::new();
        for c in cells {
            text.push_str(c);
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Row { line, text, ends, errors: 0, warnings: 0 }
    }

    fn from_record(line: u32, record: &csv::StringRecord) -> Self {
        let text = record.as_slice().to_string();
        let ends = (0..record.len()).map(|i| record.range(i).map_or(0, |r| u32::try_from(r.end).unwrap_or(u32::MAX))).collect();
        Row { line, text, ends, errors: 0, warnings: 0 }
    }

    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// How many cells the row has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no cell.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Cell `i`, as written.
    pub fn cell(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    /// Every cell, in order.
    pub fn cells(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.cell(i).unwrap_or_default())
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
    /// Additional external ids: `(type, value)`.
    pub external_ids: Vec<(String, String)>,
    /// Custom properties, nested by dotted names; values stay strings.
    pub properties: Map<String, Value>,
}

/// Whether a cell would run as a formula in a spreadsheet (`=`, `+`, `-`, `@`).
pub fn is_formula(cell: &str) -> bool {
    matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@'))
}

/// A cell made safe for export to a spreadsheet: formulas are prefixed with `'`.
pub fn escape_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if is_formula(cell) { format!("'{cell}").into() } else { cell.into() }
}

/// The separator of a file, from its header line: the most frequent of tab, `;` and `,`
/// outside quotes (ties: `;`, then tab, then `,`; none: `;`).
pub fn detect_separator(header_line: &str) -> char {
    let mut counts = [(';', 0usize), ('\t', 0), (',', 0)];
    let mut quoted = false;
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            _ => {
                if let Some(e) = counts.iter_mut().find(|(s, _)| *s == c) {
                    e.1 += 1;
                }
            }
        }
    }
    let best = counts.iter().fold((';', 0), |best, &(s, n)| if n > best.1 { (s, n) } else { best });
    best.0
}

/// Decodes file bytes: UTF-8 (a BOM is dropped), else Windows-1252 read as Latin-1 with a
/// warning.
fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Option<Issue>) {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.into(), None),
        Err(_) => {
            let text: String = bytes.iter().map(|&b| b as char).collect();
            let warn = Issue {
                line: 1,
                column: None,
                severity: Severity::Warning,
                message: "the file is not UTF-8; it was read as Windows-1252 (ANSI)".into(),
            };
            (text.into(), Some(warn))
        }
    }
}

/// Parses and validates a whole file.
pub fn parse(bytes: &[u8]) -> Result<BulkFile, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge);
    }
    let (text, encoding_warning) = decode(bytes);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let first_line = text.lines().next().unwrap_or_default();
    let separator = detect_separator(first_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator as u8)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(FileError::Empty),
        Err(e) => return Err(FileError::Malformed(e.to_string())),
    }
    let header_record = record.clone();
    let header: Vec<String> = header_record.iter().map(|h| h.trim().to_string()).collect();
    if header.len() > MAX_COLUMNS {
        return Err(FileError::Header(format!("it has {} columns; at most {MAX_COLUMNS} are accepted", header.len())));
    }
    let columns = header.iter().map(|h| Column::parse(h)).collect::<Result<Vec<_>, _>>().map_err(FileError::Header)?;
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(FileError::Header(format!("column '{}' appears twice", header[i])));
        }
    }
    if !columns.contains(&Column::Id) {
        return Err(FileError::Header("the mandatory column ID is missing".into()));
    }

    let at = Indices::of(&columns);
    let mut file = BulkFile { separator, header, columns, rows: Vec::new(), issues: Vec::new(), summary: Summary::default() };
    file.issues.extend(encoding_warning);
    // A fast hasher with a random seed: the server parses untrusted files too.
    let mut seen: Seen = HashMap::with_hasher(foldhash::fast::RandomState::default());
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(FileError::Malformed(e.to_string())),
        }
        let line = record.position().map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        // Blank lines (a trailing one included) are not rows.
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        if file.rows.len() >= MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let mut row = Row::from_record(line, &record);
        let auth = validate_row(&at, &file.header, &mut row, &mut seen, &mut file.issues);
        file.summary.rows += 1;
        if row.is_valid() {
            file.summary.valid += 1;
            match auth {
                Some(AuthType::Certificates) => file.summary.certificates += 1,
                _ => file.summary.basic += 1,
            }
        } else {
            file.summary.invalid += 1;
        }
        file.rows.push(row);
    }
    file.summary.errors = file.issues.iter().filter(|i| i.severity == Severity::Error).count();
    file.summary.warnings = file.issues.len() - file.summary.errors;
    Ok(file)
}

fn cell<'r>(columns: &[Column], row: &'r Row, which: &Column) -> Option<&'r str> {
    columns.iter().position(|c| c == which).and_then(|i| row.cell(i))
}

/// Where the columns the rules look at are, found once per file.
struct Indices {
    count: usize,
    id: Option<usize>,
    auth_type: Option<usize>,
    credentials: Option<usize>,
    type_: Option<usize>,
    name: Option<usize>,
    shell: Option<usize>,
    tenant: Option<usize>,
    enrollment_otp: Option<usize>,
    /// ICCID, IDTYPE, PATH, SHELL: using one makes TYPE and NAME required.
    needing_type_and_name: Vec<usize>,
}

impl Indices {
    fn of(columns: &[Column]) -> Self {
        let at = |which: Column| columns.iter().position(|c| *c == which);
        Indices {
            count: columns.len(),
            id: at(Column::Id),
            auth_type: at(Column::AuthType),
            credentials: at(Column::Credentials),
            type_: at(Column::Type),
            name: at(Column::Name),
            shell: at(Column::Shell),
            tenant: at(Column::Tenant),
            enrollment_otp: at(Column::EnrollmentOtp),
            needing_type_and_name: columns.iter().enumerate().filter(|(_, c)| c.needs_type_and_name()).map(|(i, _)| i).collect(),
        }
    }
}

/// IDs seen so far and the line of each.
type Seen = HashMap<String, u32, foldhash::fast::RandomState>;

/// Checks one row, counts its problems into it and `issues`; returns its auth type when the
/// row names a valid one.
fn validate_row(at: &Indices, header: &[String], row: &mut Row, seen: &mut Seen, issues: &mut Vec<Issue>) -> Option<AuthType> {
    let line = row.line;
    let mut problems: Vec<(Option<usize>, Severity, String)> = Vec::new();
    let mut warnings: Vec<(Option<usize>, Severity, String)> = Vec::new();
    let mut error = |col: Option<usize>, m: String| problems.push((col, Severity::Error, m));
    if row.len() != at.count {
        error(None, format!("the row has {} fields but the header has {}", row.len(), at.count));
    }
    let get = |index: Option<usize>| index.map(|i| (i, row.cell(i).unwrap_or_default()));

    // ID
    if let Some((i, id)) = get(at.id) {
        match check_device_id(id) {
            Err(e) => error(Some(i), capitalize(&e)),
            Ok(()) => match seen.get(id) {
                Some(first) => error(Some(i), format!("The ID '{id}' is a duplicate of line {first}")),
                None => {
                    seen.insert(id.to_string(), line);
                }
            },
        }
    }
    // AUTH_TYPE and CREDENTIALS
    let auth = match get(at.auth_type).map(|(i, v)| (i, v, v.trim())) {
        None => Some(AuthType::Basic),
        Some((_, _, t)) if t.is_empty() || t.eq_ignore_ascii_case("BASIC") => Some(AuthType::Basic),
        Some((_, _, t)) if t.eq_ignore_ascii_case("CERTIFICATES") => Some(AuthType::Certificates),
        Some((i, v, _)) => {
            error(Some(i), format!("AUTH_TYPE must be BASIC or CERTIFICATES, not '{v}'"));
            None
        }
    };
    let credentials = get(at.credentials);
    match (auth, credentials) {
        (Some(AuthType::Certificates), Some((i, c))) if !c.is_empty() => {
            error(Some(i), "CREDENTIALS must be empty when AUTH_TYPE is CERTIFICATES".into())
        }
        (Some(AuthType::Basic), None) => {
            error(None, "CREDENTIALS is required for password (BASIC) devices; for certificate devices set AUTH_TYPE to CERTIFICATES".into())
        }
        (Some(AuthType::Basic), Some((i, ""))) => {
            error(Some(i), "CREDENTIALS is required for password (BASIC) devices; for certificate devices set AUTH_TYPE to CERTIFICATES".into())
        }
        _ => {}
    }
    // TYPE and NAME when ICCID, IDTYPE, PATH or SHELL are used.
    let used = |i: &&usize| row.cell(**i).is_some_and(|v| !v.is_empty());
    let missing_type_or_name = [at.type_, at.name].iter().any(|c| !get(*c).is_some_and(|(_, v)| !v.trim().is_empty()));
    if missing_type_or_name && at.needing_type_and_name.iter().any(|i| used(&i)) {
        let uses_extras: Vec<&str> = at.needing_type_and_name.iter().filter(used).map(|i| header[*i].as_str()).collect();
        for (which, label) in [(at.type_, "TYPE"), (at.name, "NAME")] {
            let present = get(which).is_some_and(|(_, v)| !v.trim().is_empty());
            if !present {
                let col = which;
                error(col, format!("{label} is required when {} is used", uses_extras.join(", ")));
            }
        }
    }
    if let Some((i, v)) = get(at.shell)
        && !matches!(v.trim(), "" | "0" | "1")
    {
        error(Some(i), format!("SHELL must be 0 or 1, not '{v}'"));
    }
    if let Some((i, v)) = get(at.tenant)
        && !v.trim().is_empty()
    {
        error(Some(i), "TENANT can only be used from the management tenant".into());
    }
    if let Some((i, v)) = get(at.enrollment_otp)
        && !v.trim().is_empty()
    {
        error(Some(i), "ENROLLMENT_OTP (certificate enrollment with a one-time password) is not supported by anchorage".into());
    }
    for (i, v) in row.cells().enumerate() {
        if v.len() > MAX_CELL_CHARS && v.chars().count() > MAX_CELL_CHARS {
            error(Some(i), format!("the value is longer than {MAX_CELL_CHARS} characters"));
        } else if is_formula(v) {
            let warning = format!("'{}' starts with '{}': a spreadsheet would run it as a formula", shorten(v), &v[..1]);
            warnings.push((Some(i), Severity::Warning, warning));
        }
    }
    for (col, severity, message) in problems.into_iter().chain(warnings) {
        match severity {
            Severity::Error => row.errors += 1,
            Severity::Warning => row.warnings += 1,
        }
        issues.push(Issue { line, column: col.and_then(|i| header.get(i).cloned()), severity, message });
    }
    auth
}

fn shorten(v: &str) -> String {
    if v.chars().count() > 24 { format!("{}…", v.chars().take(24).collect::<String>()) } else { v.to_string() }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl BulkFile {
    /// The valid rows as entries to register (invalid rows are skipped).
    pub fn entries(&self) -> impl Iterator<Item = DeviceEntry> + '_ {
        self.rows.iter().filter(|r| r.is_valid()).map(|r| self.entry(r))
    }

    /// The entry of a valid row.
    pub fn entry(&self, row: &Row) -> DeviceEntry {
        let get = |which: &Column| cell(&self.columns, row, which).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let auth_type = match get(&Column::AuthType) {
            Some(a) if a.eq_ignore_ascii_case("CERTIFICATES") => AuthType::Certificates,
            _ => AuthType::Basic,
        };
        let mut properties = Map::new();
        let mut external_ids = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            let Some(v) = row.cell(i).filter(|v| !v.is_empty()) else { continue };
            match c {
                Column::External(t) => external_ids.push((t.clone(), v.to_string())),
                Column::Custom(path) => insert_nested(&mut properties, path, v.to_string()),
                _ => {}
            }
        }
        DeviceEntry {
            line: row.line,
            id: cell(&self.columns, row, &Column::Id).unwrap_or_default().to_string(),
            auth_type,
            credentials: if auth_type == AuthType::Basic { cell(&self.columns, row, &Column::Credentials).map(str::to_string) } else { None },
            device_type: get(&Column::Type),
            name: get(&Column::Name),
            iccid: get(&Column::Iccid),
            id_type: get(&Column::IdType).unwrap_or_else(|| DEFAULT_ID_TYPE.to_string()),
            path: get(&Column::Path),
            shell: get(&Column::Shell).as_deref() == Some("1"),
            external_ids,
            properties,
        }
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

/// The templates the console offers, as the platform's bulk registration dialog does.
pub mod templates {
    /// Simple registration: certificate devices by id alone. (The platform's simple template,
    /// `ID;PATH`, creates device requests awaiting acceptance, which anchorage does not have.)
    pub const SIMPLE: &str = "ID;AUTH_TYPE\nsimple-device-01;CERTIFICATES\nsimple-device-02;CERTIFICATES\n";
    /// Full registration with passwords, the platform's header, quoted.
    pub const FULL: &str = "\"ID\";\"TYPE\";\"NAME\";\"ICCID\";\"IDTYPE\";\"PATH\";\"SHELL\";\"AUTH_TYPE\";\"CREDENTIALS\"\n\
\"device-01\";\"c8y_Device\";\"Device 01\";\"\";\"c8y_Serial\";\"Group A\";\"1\";\"BASIC\";\"a-long-device-password-01\"\n";
    /// Certificate devices: `AUTH_TYPE=CERTIFICATES`, empty `CREDENTIALS`.
    pub const CERTIFICATES: &str = "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\"\n\"cert-device-01\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Certificate device 01\"\n";
}
