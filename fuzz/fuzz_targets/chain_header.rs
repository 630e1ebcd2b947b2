#![no_main]
//! See `anchorage_server::fuzzing::chain_header`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_server::fuzzing::chain_header(data));
