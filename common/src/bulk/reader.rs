//! The record reader: cuts the text into records and cells, and hands each row to the rules.

use super::MAX_ROWS;
use super::encoding::BOM;
use super::model::{AuthType, BulkFile, FileError, Issue, Row, Severity, Summary};
use super::rules::{Head, Seen, validate_row};

/// The separators accepted (the platform's: "Valid separator values are: `\t` (tab), `;`
/// (semicolon) and `,` (comma)"), in the order ties are decided.
pub const SEPARATORS: [char; 3] = [';', '\t', ','];

/// The separators accepted, for a sentence: `";" or a tab or ","`.
pub(super) fn separators_text() -> String {
    SEPARATORS.iter().map(|&c| shown_separator(c)).collect::<Vec<_>>().join(" or ")
}

/// A separator (or a character that looks like one) for a sentence.
pub(super) fn shown_separator(c: char) -> String {
    match c {
        '\t' => "a tab".into(),
        c => format!("\"{c}\""),
    }
}

/// The character that most looks like the separator of a header line that has no accepted
/// one (`|` in `ID|NAME|TYPE`): the most frequent ASCII punctuation that column names do not
/// use (`_`, `-` and `.` they do; quotes are quoting) and that is not an accepted separator;
/// ties go to the first one in the line. (Spaces are not taken for one: a custom column's
/// name may have them.)
pub(super) fn separator_look_alike(header_cell: &str) -> Option<char> {
    let mut counts: Vec<(char, usize)> = Vec::new();
    for c in header_cell.chars() {
        if c.is_ascii_punctuation() && !matches!(c, '_' | '-' | '.' | '"') && !SEPARATORS.contains(&c) {
            match counts.iter_mut().find(|(s, _)| *s == c) {
                Some(e) => e.1 += 1,
                None => counts.push((c, 1)),
            }
        }
    }
    counts
        .iter()
        .fold(None, |best: Option<(char, usize)>, &(c, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((c, n)),
        })
        .map(|(c, _)| c)
}

/// The separator of a file, from its header line: the most frequent of tab, `;` and `,`
/// outside quotes (ties: `;`, then tab, then `,`; none: `;`).
pub fn detect_separator(header_line: &str) -> char {
    let mut counts = SEPARATORS.map(|s| (s, 0usize));
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

/// The parser proper: cuts the text into records and cells into one buffer for the whole file
/// and checks each row as soon as it is complete.
///
/// Records are cut exactly as the `csv` crate (`csv_core`) cuts them with this module's
/// settings (tests/bulk_equivalence.rs compares them): `"` quotes, `""` in quotes is a quote,
/// a quote after text in a field is text, text after a closing quote joins the field; `\r`,
/// `\n` and `\r\n` end a record; blank lines are no record; a BOM at the very start is
/// dropped. A record's line is the line its first character is on, counting `\n`, `\r\n` and a
/// lone `\r` as one line break each (the `csv` crate's own line numbers are off by one after a
/// `\r\n` or a blank line). One difference on purpose: where the `csv` crate reads a quote
/// that is never closed to the end of the file as one cell, the file is refused
/// ([`FileError::UnclosedQuote`]).
#[derive(Debug)]
pub(super) struct Scan {
    separator: char,
    /// The separator as a byte.
    delimiter: u8,
    state: State,
    /// Whether any input was read (a BOM is dropped only at the very start).
    started: bool,
    /// Line breaks read so far (`\n`, `\r\n` and a lone `\r` are one each).
    newlines: u64,
    /// A quoted cell's `\r` ended the previous piece of input: a line break unless a `\n`
    /// starts this one.
    cr_at_end: bool,
    /// The line the quote of the quoted cell being read is on (an error if the file ends
    /// before it is closed).
    quote_line: u32,
    /// The cells read so far.
    text: String,
    /// The record being read: where it starts in `text`, the line it starts on, and where its
    /// fields end (relative to its start).
    record_start: usize,
    record_line: u32,
    record_ends: Vec<usize>,
    /// The header once read, and what the rules need of it.
    head: Option<Head>,
    ends: Vec<u32>,
    rows: Vec<Row>,
    issues: Vec<Issue>,
    summary: Summary,
    seen: Seen,
    /// Why the file is refused, once it is.
    refused: Option<FileError>,
}

/// Where the record reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a record: line breaks are skipped.
    StartRecord,
    /// After a separator (or at a record's start).
    StartField,
    /// In an unquoted cell.
    InField,
    /// In a quoted cell.
    InQuoted,
    /// After a quote in a quoted cell: a second quote is a quote, anything else ends the quotes.
    QuoteInQuoted,
    /// After a record ended by `\r`: a `\n` belongs to it.
    AfterCr,
    /// The end of the file was read.
    End,
}

impl Scan {
    pub(super) fn new(separator: char, capacity: usize, encoding_warning: Option<Issue>) -> Self {
        let delimiter = u8::try_from(separator).unwrap_or(b';');
        Scan {
            separator,
            delimiter,
            state: State::StartRecord,
            started: false,
            newlines: 0,
            cr_at_end: false,
            quote_line: 1,
            // Cells are never longer than the text they are read from.
            text: String::with_capacity(capacity),
            record_start: 0,
            record_line: 1,
            record_ends: Vec::with_capacity(64),
            head: None,
            ends: Vec::new(),
            rows: Vec::new(),
            issues: encoding_warning.into_iter().collect(),
            summary: Summary::default(),
            seen: Seen::new(),
            refused: None,
        }
    }

    /// Reads the records of `input`, the text that follows what was fed before.
    pub(super) fn feed(&mut self, input: &str) {
        if !input.is_empty() {
            self.read(input);
        }
    }

    /// Reads to the end (the last record may have no line break) and returns the file.
    pub(super) fn finish(mut self) -> Result<BulkFile, FileError> {
        self.read_end();
        if let Some(e) = self.refused {
            return Err(e);
        }
        let Some(head) = self.head else { return Err(FileError::Empty) };
        self.summary.errors = self.issues.iter().filter(|i| i.severity == Severity::Error).count();
        self.summary.warnings = self.issues.len() - self.summary.errors;
        Ok(BulkFile {
            separator: self.separator,
            header: head.header,
            columns: head.columns,
            rows: self.rows,
            issues: self.issues,
            summary: self.summary,
            text: self.text,
            ends: self.ends,
        })
    }

    /// Cells are copied from `text` in runs cut at ASCII bytes (separators, quotes, line
    /// breaks), so they are text too.
    fn read(&mut self, text: &str) {
        let input = text.as_bytes();
        let mut i = 0;
        if !self.started {
            self.started = true;
            if input.len() >= BOM.len() && input.starts_with(BOM) {
                i = BOM.len();
            }
        }
        if std::mem::take(&mut self.cr_at_end) && input.get(i) != Some(&b'\n') {
            self.newlines += 1;
        }
        let n = input.len();
        while i < n && self.refused.is_none() {
            match self.state {
                State::StartRecord => {
                    let b = input[i];
                    if b == b'\n' {
                        self.newlines += 1;
                        i += 1;
                    } else if b == b'\r' {
                        i += 1;
                        self.state = State::AfterCr;
                    } else {
                        // The record starts on the line after every break read so far.
                        self.record_line = u32::try_from(self.newlines + 1).unwrap_or(u32::MAX);
                        self.state = State::StartField;
                    }
                }
                State::StartField => {
                    let b = input[i];
                    if b == b'"' {
                        i += 1;
                        // Every line break before the quote has been counted.
                        self.quote_line = u32::try_from(self.newlines + 1).unwrap_or(u32::MAX);
                        self.state = State::InQuoted;
                    } else if b == self.delimiter {
                        i += 1;
                        self.end_field();
                    } else if b == b'\n' || b == b'\r' {
                        i += 1;
                        self.end_record(b);
                    } else {
                        self.state = State::InField;
                    }
                }
                State::InField => {
                    let len = find3(&input[i..], self.delimiter, b'\r', b'\n');
                    self.text.push_str(text.get(i..i + len).unwrap_or_default());
                    i += len;
                    if let Some(&b) = input.get(i) {
                        i += 1;
                        if b == self.delimiter {
                            self.end_field();
                            self.state = State::StartField;
                        } else {
                            self.end_record(b);
                        }
                    }
                }
                State::InQuoted => {
                    let len = find3(&input[i..], b'"', b'"', b'"');
                    let quoted = text.get(i..i + len).unwrap_or_default();
                    // Line breaks in the cell: `\n`, and a `\r` not followed by `\n` (when it
                    // ends this piece of input, the next piece tells).
                    for (k, b) in quoted.bytes().enumerate() {
                        if b == b'\n' {
                            self.newlines += 1;
                        } else if b == b'\r' {
                            match input.get(i + k + 1) {
                                Some(b'\n') => {}
                                Some(_) => self.newlines += 1,
                                None => self.cr_at_end = true,
                            }
                        }
                    }
                    self.text.push_str(quoted);
                    i += len;
                    if i < n {
                        i += 1;
                        self.state = State::QuoteInQuoted;
                    }
                }
                State::QuoteInQuoted => {
                    let b = input[i];
                    if b == b'"' {
                        i += 1;
                        self.text.push('"');
                        self.state = State::InQuoted;
                    } else if b == self.delimiter {
                        i += 1;
                        self.end_field();
                        self.state = State::StartField;
                    } else if b == b'\n' || b == b'\r' {
                        i += 1;
                        self.end_record(b);
                    } else {
                        self.state = State::InField;
                    }
                }
                State::AfterCr => {
                    // `\r\n` is one line break, and so is a `\r` alone.
                    if input[i] == b'\n' {
                        i += 1;
                    }
                    self.newlines += 1;
                    self.state = State::StartRecord;
                }
                State::End => return,
            }
        }
    }

    /// The end of the file: the last record may have no line break. A quoted cell still open
    /// took every line after its quote: the file is refused (unless it already was, earlier
    /// in the file), naming the quote's line.
    fn read_end(&mut self) {
        match self.state {
            State::InQuoted => {
                self.refused.get_or_insert(FileError::UnclosedQuote { line: self.quote_line });
            }
            State::StartField | State::InField | State::QuoteInQuoted => {
                self.end_field();
                self.record();
            }
            State::StartRecord | State::AfterCr | State::End => {}
        }
        self.state = State::End;
    }

    fn end_field(&mut self) {
        self.record_ends.push(self.text.len() - self.record_start);
    }

    /// The record ends with line break `b` (read).
    fn end_record(&mut self, b: u8) {
        // A `\r` is counted once it is known whether a `\n` follows it (`AfterCr`).
        self.newlines += u64::from(b == b'\n');
        self.end_field();
        self.record();
        self.state = if b == b'\r' { State::AfterCr } else { State::StartRecord };
    }

    /// The record just read: the header, a blank line, or a row to check. Then the next
    /// record starts.
    fn record(&mut self) {
        self.check_record();
        self.record_start = self.text.len();
        self.record_ends.clear();
    }

    fn check_record(&mut self) {
        let text = self.text.get(self.record_start..).unwrap_or_default();
        let cells = Cells { text, ends: &self.record_ends };
        let Some(head) = &self.head else {
            match Head::of(&cells) {
                Ok(head) => self.head = Some(head),
                Err(e) => self.refused = Some(e),
            }
            // The header's cells are not kept in the text.
            self.text.truncate(self.record_start);
            return;
        };
        // Blank lines (a trailing one included) are not rows.
        if cells.len() == 1 && text.trim().is_empty() {
            self.text.truncate(self.record_start);
            return;
        }
        if self.rows.len() >= MAX_ROWS {
            self.refused = Some(FileError::TooManyRows);
            return;
        }
        let line = self.record_line;
        let start = self.record_start;
        let previous = self.text.as_bytes().get(..start).unwrap_or_default();
        let (errors, warnings, auth) =
            validate_row(head, line, &cells, &mut self.seen, previous, start, &mut self.issues);
        let row = Row {
            line,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            first: u32::try_from(self.ends.len()).unwrap_or(u32::MAX),
            count: u32::try_from(cells.len()).unwrap_or(u32::MAX),
            errors,
            warnings,
        };
        self.ends.extend(cells.ends.iter().map(|&e| u32::try_from(start + e).unwrap_or(u32::MAX)));
        self.summary.rows += 1;
        if row.is_valid() {
            self.summary.valid += 1;
            match auth {
                Some(AuthType::Certificates) => self.summary.certificates += 1,
                _ => self.summary.basic += 1,
            }
        } else {
            self.summary.invalid += 1;
        }
        self.rows.push(row);
        if self.rows.len() == 1 {
            self.expect_rows_like(self.text.len() - start + cells.len());
        }
    }

    /// Makes room at once for as many rows as the text would hold if every row took `bytes`
    /// bytes as the first did (instead of growing and copying as they come).
    fn expect_rows_like(&mut self, bytes: usize) {
        let rows = (self.text.capacity() / bytes.max(1)).min(MAX_ROWS);
        let cells = self.ends.len().max(1);
        self.rows.reserve(rows);
        self.ends.reserve((rows * cells).min(self.text.capacity()));
        self.seen.first.reserve(rows);
    }
}

/// Where the first of the bytes `a`, `b` and `c` is in `bytes` (its length if none is): eight
/// bytes at a time, with the bit tricks for finding a zero byte in a word (the lowest flagged
/// byte is always a true match).
fn find3(bytes: &[u8], a: u8, b: u8, c: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let (a8, b8, c8) = (ONES * u64::from(a), ONES * u64::from(b), ONES * u64::from(c));
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let found = zero(x ^ a8) | zero(x ^ b8) | zero(x ^ c8);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + words.remainder().iter().position(|&x| x == a || x == b || x == c).unwrap_or(words.remainder().len())
}

/// The cells of the record being checked: `text` cut at `ends`.
pub(super) struct Cells<'a> {
    pub(super) text: &'a str,
    pub(super) ends: &'a [usize],
}

impl<'a> Cells<'a> {
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_without_an_accepted_separator_names_the_one_found_and_the_ones_accepted() {
        for (text, found) in [
            ("ID|AUTH_TYPE|CREDENTIALS\nd-1|CERTIFICATES|\n", "\"|\""),
            ("\"ID\":\"NAME\":\"TYPE\"\nd-1:a:b\n", "\":\""),
            ("c8y_Hardware.model|external-c8y_Imei\nx|y\n", "\"|\""),
        ] {
            let err = super::super::parse(text.as_bytes()).expect_err("refused");
            let stream = {
                let mut p = super::super::StreamParser::new(text.len());
                p.feed(text.as_bytes());
                p.finish().expect_err("refused in pieces too")
            };
            assert_eq!(err, stream);
            let message = err.to_string();
            assert_eq!(
                message,
                format!(
                    "the separator was not recognised: the header line must separate the column names with \
                     \";\" or a tab or \",\" (found {found})"
                ),
                "{text:?}"
            );
            // Every separator the parser accepts is named.
            for s in SEPARATORS {
                assert!(message.contains(&shown_separator(s)), "{message}");
            }
        }
    }

    #[test]
    fn a_header_with_an_accepted_separator_or_one_plain_column_is_judged_as_before() {
        // One column, no look-alike: the usual header errors.
        assert!(matches!(super::super::parse(b"NAME\nx\n"), Err(FileError::Header(m)) if m.contains("ID is missing")));
        assert!(super::super::parse(b"ID\nx\n").is_ok());
        // Accepted separators with `|` inside a column name: that is a custom column.
        let f = super::super::parse(b"ID;a|b\nx;y\n").expect("parses");
        assert_eq!(f.header, ["ID", "a|b"]);
        assert!(
            matches!(super::super::parse(b"NAME;TYPE\nx;y\n"), Err(FileError::Header(m)) if m.contains("ID is missing"))
        );
        assert_eq!(separator_look_alike("c8y_Hardware.model"), None);
        assert_eq!(separator_look_alike("my property"), None);
        assert_eq!(separator_look_alike("\"ID\",\"NAME\""), None);
        assert_eq!(separator_look_alike("a|b:c|d"), Some('|'));
        assert_eq!(separator_look_alike("a:b|c"), Some(':'));
    }

    #[test]
    fn find3_finds_the_first_of_three_bytes_at_every_offset() {
        let text = b"abc;defgh\rijklmnopq\nrstuvwxyz0123456789;;\n";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let bytes = &text[start..end];
                let naive = bytes.iter().position(|&b| b == b';' || b == b'\r' || b == b'\n').unwrap_or(bytes.len());
                assert_eq!(find3(bytes, b';', b'\r', b'\n'), naive, "{start}..{end}");
            }
        }
        // Bytes just above and below the ones sought (borrows between bytes in the word trick).
        let tricky = [0x3a, 0x3c, 0x0b, 0x0c, 0x0e, 0x80, 0xff, 0x00, 0x01, 0x3b];
        assert_eq!(find3(&tricky, b';', b'\r', b'\n'), 9);
        assert_eq!(find3(&[0x00, 0x3b], b';', b'\r', b'\n'), 1);
    }
}
