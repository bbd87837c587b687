//! The `sidepool-conformance` subcommands that live in the library, so tests
//! can call them without spawning the binary.

pub mod decode;
pub mod htlc_key;
pub mod node;
pub mod report;
pub mod run;
pub mod vectors;
