//! What the fuzz target of the `X-Ssl-Cert-Chain` header checks (`fuzz/fuzz_targets/`, issue
//! 17): the header's parse, then the inspection of each certificate it yields, as the token
//! endpoint does. Replayed over the saved corpus by `server/tests/fuzz_corpus.rs`.
//!
//! Not part of the API: for the fuzz target and its replay only.

use crate::device_trust;

/// `X-Ssl-Cert-Chain` (PEM certificates, line breaks as spaces) as a device may send it.
pub fn chain_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    if let Ok(ders) = device_trust::parse_chain_header("X-Ssl-Cert-Chain", text, device_trust::MAX_CHAIN) {
        assert!(ders.len() <= device_trust::MAX_CHAIN, "more certificates than the limit");
        for der in &ders {
            let _ = anchorage_common::cert::inspect(der, now);
        }
    }
}
