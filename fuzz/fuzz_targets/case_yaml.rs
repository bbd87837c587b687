#![no_main]
// The check lives in src/checks.rs, shared with the regression replay test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sidepool_fuzz::checks::case_yaml(data));
