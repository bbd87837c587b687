//! `sidepool-model`: model checking for the SIDEPOOL systems with stateright.
//!
//! A conformance suite checks that an implementation follows the spec; this
//! crate checks that *following the spec keeps honest participants safe*. Each
//! system's honest participants run the reference crate's own sans-IO state
//! machine; the checker explores every interleaving of messages, timers,
//! blocks, faults and one adversary's choices within stated bounds, and reports
//! each property as holding, violated (with a counterexample trace, also as
//! replayable vectors) or not established.
//!
//! - [`framework`]: what a system provides ([`framework::System`],
//!   [`framework::CheckableModel`]), parameters, properties, the checker,
//!   traces and vector export.
//! - [`sidepool`]: SIDEPOOL-10 peerswaps over a path.
//! - [`loop_swap`]: LOOP-01 Lightning Loop, one Loop Out.
//! - [`lightningrod`]: LNROD-01 async payments (A, LSP_a, B).
//! - [`blobswap`]: BLOBSWAP-01, one swap between a user and an SSP.
//! - [`cli`]: `sidepool-conformance model check|list`.

#![forbid(unsafe_code)]

pub mod cli;
pub mod framework;
pub mod blobswap;
pub mod lightningrod;
pub mod loop_swap;
pub mod sidepool;

/// Every system the checker knows, for `--system`.
pub fn systems() -> Vec<&'static dyn framework::System> {
    vec![&sidepool::Sidepool, &loop_swap::Loop, &lightningrod::Lightningrod, &blobswap::Blobswap]
}
