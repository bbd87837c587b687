//! # sidepool-reference
//!
//! The reference implementation of SIDEPOOL-10 "Peerswap In Sidepool", and the
//! parts of SIDEPOOL-01 (wire conventions), -02 (amounts, update counter,
//! post-tax amount), -04 (swap party) and -06 (HTLC key, key handover) that it
//! leans on.
//!
//! Everything here is pure: no sockets, no clock, no disk. Decisions are
//! functions from inputs to typed results; stateful parts are state machines
//! fed events and returning actions. Each rule quotes the spec sentence it
//! implements, and `sidepool-conformance spec quotes` checks those quotes
//! against the pinned texts in `spec-mirror/sidepool/<revision>/`. Where the
//! revisions of the texts differ, the rule takes a [`SpecRevision`].
#![forbid(unsafe_code)]

pub mod hex;
pub mod htlc;
pub mod messages;
pub mod peerswap;
pub mod pool;
pub mod revision;
pub mod units;
pub mod wire;

pub use messages::{Decoded, Message};
pub use revision::SpecRevision;
