#![no_main]
//! See `anchorage_common::fuzzing::pem`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_common::fuzzing::pem(data));
