#![no_main]
//! See `anchorage_common::fuzzing::certificate`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_common::fuzzing::certificate(data));
