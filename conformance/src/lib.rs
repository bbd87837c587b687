//! # sidepool-conformance
//!
//! The conformance suite for SIDEPOOL-10: language-neutral vectors and their
//! evaluation against the reference, the JSON field view of messages shared by
//! the `decode` command, the vectors and the runner.

// The fuzz targets' checks (fuzz/src/checks.rs, compiled into the
// `fuzz_regression` vector kind) name this crate by its package name.
extern crate self as sidepool_conformance;

pub mod adapter;
pub mod cli;
pub mod fields;
pub mod htlc_fields;
pub mod node;
pub mod runner;
pub mod session;
pub mod transport;
pub mod vectors;
