#![no_main]
//! See `anchorage_common::fuzzing::csr`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_common::fuzzing::csr(data));
