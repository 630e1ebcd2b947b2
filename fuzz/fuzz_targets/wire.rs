#![no_main]
//! See `anchorage_app::fuzzing::wire`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| anchorage_app::fuzzing::wire(data));
