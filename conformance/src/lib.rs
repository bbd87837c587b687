//! # sidepool-conformance
//!
//! The conformance suite for SIDEPOOL-10: language-neutral vectors and their
//! evaluation against the reference, the JSON field view of messages shared by
//! the `decode` command, the vectors and the runner.

pub mod cli;
pub mod fields;
pub mod node;
pub mod vectors;
