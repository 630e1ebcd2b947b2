//! The rules: the header's columns, and every check of a row.

use std::collections::HashMap;

use super::model::{AuthType, Column, FileError, Issue, Severity};
use super::reader::{Cells, separator_look_alike};
use super::{MAX_CELL_CHARS, MAX_COLUMNS};
use crate::device::check_device_id;

/// Whether a cell would run as a formula in a spreadsheet (`=`, `+`, `-`, `@`).
pub fn is_formula(cell: &str) -> bool {
    matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@'))
}

/// A cell made safe for export to a spreadsheet: formulas are prefixed with `'`.
pub fn escape_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if is_formula(cell) { format!("'{cell}").into() } else { cell.into() }
}

#[derive(Debug)]
pub(super) struct Head {
    pub(super) header: Vec<String>,
    pub(super) columns: Vec<Column>,
    at: Indices,
}

impl Head {
    pub(super) fn of(cells: &Cells<'_>) -> Result<Head, FileError> {
        let header: Vec<String> = cells.iter().map(|h| h.trim().to_string()).collect();
        if header.len() > MAX_COLUMNS {
            return Err(FileError::Header(format!(
                "it has {} columns; at most {MAX_COLUMNS} are accepted",
                header.len()
            )));
        }
        // One column with a look-alike separator in it (`ID|NAME`): say so, not "ID is missing".
        if let [only] = header.as_slice()
            && let Some(found) = separator_look_alike(only)
        {
            return Err(FileError::UnknownSeparator { found });
        }
        let columns =
            header.iter().map(|h| Column::parse(h)).collect::<Result<Vec<_>, _>>().map_err(FileError::Header)?;
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(FileError::Header(format!("column '{}' appears twice", header[i])));
            }
        }
        if !columns.contains(&Column::Id) {
            return Err(FileError::Header("the mandatory column ID is missing".into()));
        }
        let at = Indices::of(&columns);
        Ok(Head { header, columns, at })
    }
}

/// Where the columns the rules look at are, found once per file.
#[derive(Debug)]
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
            needing_type_and_name: columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.needs_type_and_name())
                .map(|(i, _)| i)
                .collect(),
        }
    }
}

/// The valid IDs seen so far, by a hash of the ID (a fast hasher with a random seed: the
/// server parses untrusted files too). An entry points at the ID in the file's text, so no
/// ID is copied; IDs whose hash an earlier, different ID has are kept apart, in full.
#[derive(Debug)]
pub(super) struct Seen {
    hasher: foldhash::fast::RandomState,
    /// Hash → where the first ID with that hash is in the text, and its line.
    pub(super) first: HashMap<u64, (u32, u32, u32), foldhash::fast::RandomState>,
    /// IDs whose hash was taken by another ID → line.
    collided: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Seen {
    pub(super) fn new() -> Self {
        Seen { hasher: Default::default(), first: HashMap::default(), collided: HashMap::default() }
    }

    /// The line of an earlier row with ID `id`; else records `id`, which is at `at` in the
    /// text, on `line`. `text` is the text of the earlier rows.
    fn check(&mut self, id: &str, at: usize, line: u32, text: &[u8]) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(id);
        self.check_hashed(hash, id, at, line, text)
    }

    fn check_hashed(&mut self, hash: u64, id: &str, at: usize, line: u32, text: &[u8]) -> Option<u32> {
        use std::collections::hash_map::Entry;
        match self.first.entry(hash) {
            Entry::Vacant(e) => {
                let at = u32::try_from(at).unwrap_or(u32::MAX);
                e.insert((at, u32::try_from(id.len()).unwrap_or(u32::MAX), line));
                None
            }
            Entry::Occupied(e) => {
                let (start, len, first_line) = *e.get();
                let (start, len) = (start as usize, len as usize);
                if text.get(start..start + len) == Some(id.as_bytes()) {
                    return Some(first_line);
                }
                match self.collided.get(id) {
                    Some(&first_line) => Some(first_line),
                    None => {
                        self.collided.insert(id.to_string(), line);
                        None
                    }
                }
            }
        }
    }
}

/// Checks one row (its `cells`, on `line`, starting at `start` in the text whose earlier rows
/// are `previous`), adds its problems to `issues`; returns how many errors and warnings it
/// has, and its auth type when the row names a valid one.
pub(super) fn validate_row(
    head: &Head,
    line: u32,
    cells: &Cells<'_>,
    seen: &mut Seen,
    previous: &[u8],
    start: usize,
    issues: &mut Vec<Issue>,
) -> (u32, u32, Option<AuthType>) {
    let (at, header) = (&head.at, &head.header);
    let mut problems: Vec<(Option<usize>, Severity, String)> = Vec::new();
    let mut warnings: Vec<(Option<usize>, Severity, String)> = Vec::new();
    let mut error = |col: Option<usize>, m: String| problems.push((col, Severity::Error, m));
    if cells.len() != at.count {
        error(None, format!("the row has {} fields but the header has {}", cells.len(), at.count));
    }
    let get = |index: Option<usize>| index.map(|i| (i, cells.get(i).unwrap_or_default()));

    // ID
    if let Some((i, id)) = get(at.id) {
        match check_device_id(id) {
            Err(e) => error(Some(i), capitalize(&e)),
            Ok(()) => {
                let offset = if i == 0 { 0 } else { cells.ends[i - 1] };
                if let Some(first) = seen.check(id, start + offset, line, previous) {
                    error(Some(i), format!("The ID '{id}' is a duplicate of line {first}"));
                }
            }
        }
    }
    // AUTH_TYPE and CREDENTIALS
    let auth = match get(at.auth_type).map(|(i, v)| (i, v, trim(v))) {
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
    let used = |i: &&usize| cells.get(**i).is_some_and(|v| !v.is_empty());
    let missing = |which: Option<usize>| get(which).is_none_or(|(_, v)| trim(v).is_empty());
    if (missing(at.type_) || missing(at.name)) && at.needing_type_and_name.iter().any(|i| used(&i)) {
        let uses_extras: Vec<&str> =
            at.needing_type_and_name.iter().filter(used).map(|i| header[*i].as_str()).collect();
        for (which, label) in [(at.type_, "TYPE"), (at.name, "NAME")] {
            if missing(which) {
                error(which, format!("{label} is required when {} is used", uses_extras.join(", ")));
            }
        }
    }
    if let Some((i, v)) = get(at.shell)
        && !matches!(trim(v), "" | "0" | "1")
    {
        error(Some(i), format!("SHELL must be 0 or 1, not '{v}'"));
    }
    if let Some((i, v)) = get(at.tenant)
        && !trim(v).is_empty()
    {
        error(Some(i), "TENANT can only be used from the management tenant".into());
    }
    // ENROLLMENT_OTP: the one-time password of EST enrollment, for certificate devices only.
    if let Some((i, v)) = get(at.enrollment_otp)
        && !v.is_empty()
    {
        if auth != Some(AuthType::Certificates) {
            error(Some(i), "ENROLLMENT_OTP needs AUTH_TYPE CERTIFICATES (the device enrolls for a certificate)".into());
        } else if let Err(e) = crate::est::check_otp(v) {
            error(Some(i), format!("ENROLLMENT_OTP: {e}"));
        }
    }
    for (i, v) in cells.iter().enumerate() {
        if v.len() > MAX_CELL_CHARS && v.chars().count() > MAX_CELL_CHARS {
            error(Some(i), format!("The value is longer than {MAX_CELL_CHARS} characters"));
        } else if is_formula(v) {
            let warning =
                format!("'{}' starts with '{}': a spreadsheet would run it as a formula", shorten(v), &v[..1]);
            warnings.push((Some(i), Severity::Warning, warning));
        }
    }
    let (mut errors, mut warning_count) = (0, 0);
    for (col, severity, message) in problems.into_iter().chain(warnings) {
        match severity {
            Severity::Error => errors += 1,
            Severity::Warning => warning_count += 1,
        }
        issues.push(Issue { line, column: col.and_then(|i| header.get(i).cloned()), severity, message });
    }
    (errors, warning_count, auth)
}

/// `s.trim()`, at once for the usual cell that starts and ends with a visible ASCII character.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

fn shorten(v: &str) -> String {
    if v.chars().count() > 24 { format!("{}…", v.chars().take(24).collect::<String>()) } else { v.to_string() }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_trim_is_str_trim() {
        for v in ["", " ", "a", " a", "a ", "\ta\n", "x y", "\u{a0}x", "x\u{3000}", "é", " é ", "\u{85}", "-", "a\r"]
        {
            assert_eq!(trim(v), v.trim(), "{v:?}");
        }
    }

    #[test]
    fn ids_whose_hashes_collide_are_still_told_apart() {
        let mut seen = Seen::new();
        let text = b"first|second|";
        // Two different IDs given the same hash on purpose.
        assert_eq!(seen.check_hashed(7, "first", 0, 2, text), None);
        assert_eq!(seen.check_hashed(7, "second", 6, 3, text), None);
        assert_eq!(seen.check_hashed(7, "second", 13, 4, text), Some(3));
        assert_eq!(seen.check_hashed(7, "first", 13, 5, text), Some(2));
        assert_eq!(seen.check_hashed(8, "third", 13, 6, text), None);
    }
}
