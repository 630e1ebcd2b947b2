//! What the fuzz targets check (`fuzz/fuzz_targets/`, issue 17), one function per parser that
//! takes outside bytes. Each must not panic on any input (a panic in the console's wasm aborts
//! the page), and where two ways of parsing must agree, it asserts they do: an assertion that
//! fails is a finding like a crash. The saved corpora (`fuzz/seeds/`, `fuzz/regressions/`) are
//! replayed through these functions by `common/tests/fuzz_corpus.rs`, an ordinary test.
//!
//! Not part of the API: for the fuzz targets and their replay only.

use time::OffsetDateTime;

use crate::{bulk, cert, chain, crl, est, pem, pkcs7, timefmt};

/// A fixed clock, so that a finding replays the same way whenever it is run.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Certificate inspection (the upload rules, the fields the API returns), the chain doctor's
/// path building, and reading the DER as any of the accepted encodings.
pub fn certificate(data: &[u8]) {
    if let Ok(inspection) = cert::inspect(data, now()) {
        let info = &inspection.info;
        // What the API and the console print of it.
        let _ = (info.not_after_text(), info.not_before_text(), inspection.acceptable());
        assert_eq!(info.der.as_slice(), data, "inspect keeps the bytes it read");
    }
    let _ = chain::build_path(&[data.to_vec()], &[], now());
    let _ = chain::decode_any(data);
}

/// PEM, bare base64, bundles and PKCS#7: every decoder of uploaded text.
pub fn pem(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(ders) = pem::decode_certificates(&text) {
        // A decoded certificate encodes back to PEM that decodes to itself.
        for der in ders.iter().take(4) {
            let again = pem::decode_certificates(&pem::to_pem(der)).expect("own PEM decodes");
            assert_eq!(again, vec![der.clone()], "PEM round trip");
        }
    }
    let _ = pem::decode_certificates_beside_key(&text);
    let _ = chain::decode_any(data);
    let _ = pkcs7::certificates(data);
}

/// The bulk registration CSV: the streaming parser the console's worker runs, fed in pieces
/// whose sizes come from the input's first bytes, gives what the whole-file parse gives.
pub fn bulk_stream(data: &[u8]) {
    let (sizes, file) = data.split_at(data.len().min(4));
    let whole = bulk::parse(file);
    let mut stream = bulk::StreamParser::new(file.len());
    let mut rest = file;
    let mut k = 0;
    while !rest.is_empty() {
        let size = usize::from(sizes.get(k % sizes.len().max(1)).copied().unwrap_or(255)).max(1);
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        stream.feed(piece);
        rest = tail;
        k += 1;
    }
    assert_eq!(stream.finish(), whole, "the streaming parse differs from the whole-file parse");
}

/// The platform's time format: what parses prints and parses back to the same instant.
pub fn time(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(t) = timefmt::parse(text) {
        let printed = timefmt::platform(t);
        let again = timefmt::parse(&printed).unwrap_or_else(|| panic!("{printed:?} (printed) does not parse"));
        assert_eq!(timefmt::platform(again), printed, "print, parse, print differ");
    }
}

/// The revocation list's CSV upload, serial numbers and revocation dates as typed.
pub fn crl(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crl::parse_csv(&text, now());
    if let Ok(serial) = crl::normalize_serial(&text) {
        assert_eq!(crl::normalize_serial(&serial).as_deref(), Ok(serial.as_str()), "normalizing is idempotent");
    }
    let _ = crl::normalize_serial_query(&text);
    let _ = crl::parse_revocation_date(Some(&text), now());
}

/// An EST request body: base64 (or PEM) PKCS#10, then its subject.
pub fn csr(data: &[u8]) {
    if let Ok(der) = est::decode_csr(data) {
        let _ = est::csr_subject(&der);
    }
    let _ = est::csr_subject(data);
}

/// Replays the saved corpus of `target` through `check`: `fuzz/seeds/<target>/`,
/// `fuzz/regressions/<target>/` (inputs of fixed findings) and, when there, the local corpus a
/// fuzzing run grew (`target/fuzz-corpus/<target>/`, `scripts/fuzz.sh`). Returns how many inputs
/// ran; a failing one panics with its file's name.
pub fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["fuzz/seeds", "fuzz/regressions", "target/fuzz-corpus"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            files.extend(entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("fuzz target {target}: the input {} fails (replay it with scripts/fuzz.sh)", path.display());
        }
    }
    files.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_takes_the_empty_and_a_few_odd_inputs() {
        let inputs: [&[u8]; 5] = [b"", b"\0", b"-----BEGIN CERTIFICATE-----\n", b"\xff\xfe,;\"", b"0\x82\xff\xff"];
        for data in inputs {
            certificate(data);
            pem(data);
            bulk_stream(data);
            time(data);
            crl(data);
            csr(data);
        }
    }
}
