//! From the file's bytes to text.

use std::borrow::Cow;

use super::model::{FileError, Issue, Severity};

/// The UTF-8 byte order mark, dropped from the start of a file.
pub(super) const BOM: &[u8] = b"\xef\xbb\xbf";

/// Byte order marks of the encodings refused, longest first (UTF-32 LE starts as UTF-16 LE
/// does).
const OTHER_BOMS: [(&[u8], &str); 4] = [
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
];

/// Decodes file bytes: UTF-8 (a BOM is dropped), else Windows-1252 (as the WHATWG Encoding
/// Standard defines it, which browsers use) with a warning. A file that starts with the byte
/// order mark of UTF-16 or UTF-32 is refused, naming the encoding: read as Windows-1252 it
/// would be a header of NUL-separated bytes ("the mandatory column ID is missing").
pub(super) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Option<Issue>), FileError> {
    if let Some((_, encoding)) = OTHER_BOMS.iter().find(|(bom, _)| bytes.starts_with(bom)) {
        return Err(FileError::UnsupportedEncoding(encoding));
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((s.into(), None)),
        Err(_) => {
            let text = windows_1252(bytes);
            let warn = Issue {
                line: 1,
                column: None,
                severity: Severity::Warning,
                message: "the file is not UTF-8; it was read as Windows-1252 (ANSI)".into(),
            };
            Ok((text.into(), Some(warn)))
        }
    }
}

/// Windows-1252's characters for the bytes 0x80-0x9F, as the WHATWG Encoding Standard maps
/// them (0x81, 0x8D, 0x8F, 0x90 and 0x9D to the C1 control of the same value); every other
/// byte is the Latin-1 character of its value. A table of our own rather than `encoding_rs`,
/// whose decoder links every encoding's tables into the parser's worker (90 → 216 KB gzip);
/// tested against `encoding_rs` for all 256 bytes.
const WINDOWS_1252_0X80: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{02C6}',
    '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}',
    '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}',
    '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// Decodes Windows-1252 (every byte has a character: it cannot fail).
pub(super) fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => WINDOWS_1252_0X80[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_decodes_as_encoding_rs_decodes_it() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(super::windows_1252(&all), encoding_rs::WINDOWS_1252.decode_without_bom_handling(&all).0);
    }
}
