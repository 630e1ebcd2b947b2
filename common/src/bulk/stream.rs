//! The parser fed piece by piece, as a browser reads a file.

use super::encoding::BOM;
use super::model::{BulkFile, FileError};
use super::reader::{Scan, detect_separator};
use super::{MAX_FILE_BYTES, parse};

/// Parses and validates a file that arrives in pieces (a browser reads a file as a stream):
/// each piece is parsed and checked as it comes, so reading and parsing overlap. The result
/// is the one [`parse`] gives for the whole file, always: files that are not UTF-8, too
/// large, or refused as a whole are parsed again from their bytes by [`parse`] at the end
/// (the rare case; those bytes are kept until then).
#[derive(Debug)]
pub struct StreamParser {
    /// Every byte fed so far (up to [`MAX_FILE_BYTES`]).
    bytes: Vec<u8>,
    /// More than [`MAX_FILE_BYTES`] were fed.
    too_large: bool,
    /// `bytes[..utf8_up_to]` is valid UTF-8; what follows may end in the middle of a character.
    utf8_up_to: usize,
    /// `bytes` are not UTF-8: only [`parse`] at the end can read them.
    not_utf8: bool,
    /// The parser, once the header line (and so the separator) is known; it has been given
    /// `bytes[..utf8_up_to]`.
    scan: Option<Scan>,
}

impl StreamParser {
    /// A parser for a file of about `size` bytes.
    pub fn new(size: usize) -> Self {
        StreamParser {
            bytes: Vec::with_capacity(size.min(MAX_FILE_BYTES)),
            too_large: false,
            utf8_up_to: 0,
            not_utf8: false,
            scan: None,
        }
    }

    /// The next piece of the file.
    pub fn feed(&mut self, piece: &[u8]) {
        self.feed_with(piece.len(), |space| space.copy_from_slice(piece));
    }

    /// The next piece of the file, `len` bytes that `fill` writes straight into the parser's
    /// copy of the file (e.g. from a JS `Uint8Array`, saving a copy).
    pub fn feed_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) {
        if self.too_large || len == 0 {
            return;
        }
        if self.bytes.len() + len > MAX_FILE_BYTES {
            self.too_large = true;
            self.bytes = Vec::new();
            self.scan = None;
            return;
        }
        let at = self.bytes.len();
        self.bytes.resize(at + len, 0);
        fill(&mut self.bytes[at..]);
        if self.not_utf8 {
            return;
        }
        // The text is checked once, here, and the parser reads it as checked text.
        let from = self.utf8_up_to;
        let valid = match std::str::from_utf8(&self.bytes[from..]) {
            Ok(valid) => {
                if let Some(scan) = &mut self.scan {
                    scan.feed(valid);
                }
                valid.len()
            }
            // A character cut at the end of the piece: the next piece completes it.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                if let Some(scan) = &mut self.scan {
                    scan.feed(std::str::from_utf8(&self.bytes[from..from + valid]).unwrap_or_default());
                }
                valid
            }
            Err(_) => {
                self.not_utf8 = true;
                self.scan = None;
                return;
            }
        };
        self.utf8_up_to += valid;
        if self.scan.is_none() {
            // The header line decides the separator: wait for all of it.
            let Some(newline) = find_newline(&self.bytes[..self.utf8_up_to]) else { return };
            self.start_scan(newline);
        }
    }

    /// The parsed and checked file, once every piece was fed.
    pub fn finish(mut self) -> Result<BulkFile, FileError> {
        if self.too_large {
            return Err(FileError::TooLarge);
        }
        if self.not_utf8 || self.utf8_up_to != self.bytes.len() {
            return parse(&self.bytes);
        }
        if self.scan.is_none() {
            self.start_scan(self.bytes.len());
        }
        match self.scan.take().map(Scan::finish) {
            Some(Ok(file)) => Ok(file),
            // Refused: `parse` tells exactly why (e.g. an empty file before a bad header).
            _ => parse(&self.bytes),
        }
    }

    /// Starts the parser on the text so far, whose header line ends at `line_end` (or the file
    /// does).
    fn start_scan(&mut self, line_end: usize) {
        let start = if self.bytes.starts_with(BOM) { BOM.len() } else { 0 };
        // Valid UTF-8 up to `utf8_up_to`: checked before.
        let text = std::str::from_utf8(self.bytes.get(start..self.utf8_up_to).unwrap_or_default()).unwrap_or_default();
        let first_line = text.get(..line_end.saturating_sub(start)).unwrap_or_default();
        let capacity = self.bytes.capacity().saturating_sub(start);
        let mut scan = Scan::new(detect_separator(first_line), capacity, None);
        scan.feed(text);
        self.scan = Some(scan);
    }
}

fn find_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}
