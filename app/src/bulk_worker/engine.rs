//! The worker's side of bulk registration: parses a file with `anchorage_common::bulk`, keeps
//! it, and answers the page's requests about it. Compiled into the worker only.

use anchorage_common::bulk::{BulkFile, Column, FileError};

use crate::protocol::{FIRST_ROWS, FLAG_ERROR, FLAG_WARNING, Overview, Reply, Request, RowId, RowView, sentence};

/// Holds the parsed file and answers requests about it.
#[derive(Debug, Default)]
pub struct Engine {
    file: u32,
    parsed: Option<BulkFile>,
    /// The previous file, dropped after the reply about the new one is on its way (freeing
    /// a large file takes a while, and nobody waits for it then).
    stale: Option<BulkFile>,
}

impl Engine {
    /// Answers a question about the file kept; the second value is the reply's payload.
    /// `Parse` is answered by [`Engine::parsed`] once the worker has read the file.
    pub fn handle(&mut self, request: Request) -> (Reply, Option<Vec<u8>>) {
        match request {
            Request::Parse { file } => Self::unreadable(file, "The file could not be read."),
            Request::Rows { file, indices } => {
                let rows = match &self.parsed {
                    Some(parsed) if file == self.file => indices.iter().filter_map(|&i| row_view(parsed, i)).collect(),
                    _ => Vec::new(),
                };
                (Reply::Rows { file, rows }, None)
            }
            Request::ValidCsv { file } => {
                let csv = match &self.parsed {
                    Some(parsed) if file == self.file => valid_rows_csv(parsed),
                    _ => Vec::new(),
                };
                (Reply::Csv { file }, Some(csv))
            }
            Request::Ids { file } => {
                let ids = match &self.parsed {
                    Some(parsed) if file == self.file => row_ids(parsed),
                    _ => Vec::new(),
                };
                (Reply::Ids { file, ids }, None)
            }
        }
    }
}

impl Engine {
    /// Keeps file number `file`, parsed (in `parse_ms` of the parser's time, `worker_ms` in
    /// all), and answers with its overview, first rows and row flags.
    pub fn parsed(
        &mut self,
        file: u32,
        parsed: Result<BulkFile, FileError>,
        parse_ms: u32,
        worker_ms: u32,
    ) -> (Reply, Option<Vec<u8>>) {
        self.file = file;
        self.stale = self.parsed.take();
        match parsed {
            Ok(parsed) => {
                let flags = parsed
                    .rows
                    .iter()
                    .map(|r| (u8::from(r.errors > 0) * FLAG_ERROR) | (u8::from(r.warnings > 0) * FLAG_WARNING))
                    .collect();
                let overview = Overview {
                    header: parsed.header.clone(),
                    summary: parsed.summary.clone(),
                    file_issues: parsed.issues_of(1).cloned().collect(),
                    parse_ms,
                    worker_ms,
                };
                let first_rows = (0..FIRST_ROWS.min(u32::try_from(parsed.rows.len()).unwrap_or(u32::MAX)))
                    .filter_map(|i| row_view(&parsed, i))
                    .collect();
                self.parsed = Some(parsed);
                (Reply::Parsed { file, overview, first_rows }, Some(flags))
            }
            Err(e) => (Reply::Unreadable { file, message: sentence(&e.to_string()) }, None),
        }
    }

    /// The answer when file number `file` cannot be read at all.
    pub fn unreadable(file: u32, message: &str) -> (Reply, Option<Vec<u8>>) {
        (Reply::Unreadable { file, message: message.into() }, None)
    }

    /// Frees the previous file, if any.
    pub fn drop_stale(&mut self) {
        self.stale = None;
    }
}

fn row_view(parsed: &BulkFile, index: u32) -> Option<RowView> {
    let r = parsed.rows.get(index as usize)?;
    Some(RowView {
        index,
        line: r.line,
        cells: parsed.cells(r).map(str::to_string).collect(),
        errors: r.errors,
        warnings: r.warnings,
        issues: parsed.issues_of(r.line).cloned().collect(),
    })
}

/// The device ids of the valid rows of `file`, with their indices and auth types.
fn row_ids(file: &BulkFile) -> Vec<RowId> {
    let at = |which: Column| file.columns.iter().position(|c| *c == which);
    let (Some(id), auth) = (at(Column::Id), at(Column::AuthType)) else { return Vec::new() };
    (0u32..)
        .zip(&file.rows)
        .filter(|(_, r)| r.is_valid())
        .filter_map(|(i, r)| {
            let certificate =
                auth.and_then(|a| file.cell(r, a)).is_some_and(|v| v.trim().eq_ignore_ascii_case("CERTIFICATES"));
            Some(RowId(i, file.cell(r, id)?.to_string(), certificate))
        })
        .collect()
}

/// The header and the valid rows of `file` as CSV with the file's separator; fields are
/// quoted where needed (separator, quote or line break inside), quotes doubled.
pub fn valid_rows_csv(file: &BulkFile) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(u8::try_from(file.separator).unwrap_or(b';'))
        .flexible(true)
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail; a failure would only drop the row.
    let _ = writer.write_record(&file.header);
    for row in file.rows.iter().filter(|r| r.is_valid()) {
        let _ = writer.write_record(file.cells(row));
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use anchorage_common::bulk;

    use super::*;

    #[test]
    fn the_valid_rows_csv_keeps_the_header_quotes_where_needed_and_reads_back_valid() {
        let file = bulk::parse(
            b"ID;NAME;AUTH_TYPE;CREDENTIALS\r\n\
              a-1;\"Hall; north\";CERTIFICATES;\r\n\
              bad id;z;CERTIFICATES;\r\n\
              c-3;\"say \"\"hi\"\"\";BASIC;pw-123456789\r\n",
        )
        .expect("the test file parses");
        assert_eq!(file.summary.invalid, 1);
        let csv = String::from_utf8(valid_rows_csv(&file)).expect("UTF-8");
        assert_eq!(
            csv,
            "ID;NAME;AUTH_TYPE;CREDENTIALS\na-1;\"Hall; north\";CERTIFICATES;\nc-3;\"say \"\"hi\"\"\";BASIC;pw-123456789\n"
        );
        let again = bulk::parse(csv.as_bytes()).expect("the valid rows parse");
        assert_eq!((again.summary.rows, again.summary.invalid), (2, 0));
        assert_eq!(again.cell(&again.rows[0], 1), Some("Hall; north"));
        assert_eq!(again.cell(&again.rows[1], 1), Some("say \"hi\""));
    }

    #[test]
    fn the_ids_of_the_valid_rows_come_with_their_indices_and_auth_types() {
        let parsed = bulk::parse(
            b"AUTH_TYPE;ID;CREDENTIALS\ncertificates;c-1;\nBASIC;b-1;pw-123456789\nCERTIFICATES;bad id;\n;b-2;pw-123456789\n",
        )
        .expect("parses");
        let mut engine = Engine { file: 3, parsed: Some(parsed), stale: None };
        let (reply, _) = engine.handle(Request::Ids { file: 3 });
        let Reply::Ids { file: 3, ids } = reply else { panic!("not ids: {reply:?}") };
        assert_eq!(
            ids,
            vec![RowId(0, "c-1".into(), true), RowId(1, "b-1".into(), false), RowId(3, "b-2".into(), false)]
        );
        let (reply, _) = engine.handle(Request::Ids { file: 2 });
        assert!(matches!(reply, Reply::Ids { file: 2, ids } if ids.is_empty()));
    }

    #[test]
    fn rows_are_answered_with_their_issues_only_for_the_current_file() {
        let parsed = bulk::parse(b"ID;CREDENTIALS\nok-1;pw-123456789\nbad id;pw-123456789\n").expect("parses");
        let mut engine = Engine { file: 7, parsed: Some(parsed), stale: None };
        let (reply, payload) = engine.handle(Request::Rows { file: 7, indices: vec![1, 0, 9] });
        assert!(payload.is_none());
        let Reply::Rows { file: 7, rows } = reply else { panic!("not rows: {reply:?}") };
        assert_eq!(rows.iter().map(|r| (r.index, r.line)).collect::<Vec<_>>(), vec![(1, 3), (0, 2)]);
        assert_eq!(rows[0].errors, 1);
        assert!(rows[0].issues[0].message.contains("whitespace"));
        let (reply, _) = engine.handle(Request::Rows { file: 6, indices: vec![0] });
        assert!(matches!(reply, Reply::Rows { file: 6, rows } if rows.is_empty()));
    }
}
