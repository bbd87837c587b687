//! Subcommands of `sidepool-conformance` that live in the library (so tests can call them).
pub mod htlc_key;
