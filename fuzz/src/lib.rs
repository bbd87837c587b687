//! Shared code of the fuzz targets. `checks` holds every target's logic; it is
//! also compiled into the main workspace's `conformance/tests/fuzz_regressions.rs`.

pub mod checks;
