#![no_main]
//! See `anchorage_common::fuzzing::crl`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_common::fuzzing::crl(data));
