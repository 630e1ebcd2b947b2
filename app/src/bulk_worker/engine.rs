//! The worker's side of bulk registration: parses a file with `anchorage_common::bulk`, keeps
//! it, and answers the page's requests about it. Compiled into the worker only.

use anchorage_common::bulk::{self, BulkFile};

use crate::protocol::{FIRST_ROWS, FLAG_ERROR, FLAG_WARNING, Overview, Reply, Request, RowView, now_ms, sentence};

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
    /// Answers one request; the second value is the reply's payload.
    pub fn handle(&mut self, request: Request, payload: Option<Vec<u8>>) -> (Reply, Option<Vec<u8>>) {
        match request {
            Request::Parse { file } => {
                self.file = file;
                self.stale = self.parsed.take();
                let started = now_ms();
                match bulk::parse(payload.as_deref().unwrap_or_default()) {
                    Ok(parsed) => {
                        let parse_ms = (now_ms() - started) as u32;
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
        }
    }
}

impl Engine {
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
        cells: r.cells.clone(),
        errors: r.errors,
        warnings: r.warnings,
        issues: parsed.issues_of(r.line).cloned().collect(),
    })
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
        let _ = writer.write_record(&row.cells);
    }
    writer.into_inner().unwrap_or_default()
}
