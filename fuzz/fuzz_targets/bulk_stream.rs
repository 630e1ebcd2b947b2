#![no_main]
//! See `anchorage_common::fuzzing::bulk_stream`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_common::fuzzing::bulk_stream(data));
