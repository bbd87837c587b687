//! # loop-reference
//!
//! The reference implementation of LOOP-01, our specification of Lightning Loop's
//! client (`spec-mirror/loop/`): Loop has no written specification, so LOOP-01 was
//! read from Loop's architecture document and source, with provenance per requirement.
//!
//! - [`htlc`]: the v2 (P2WSH) and v3 (P2TR, MuSig2) HTLC scripts, outputs, addresses,
//!   witnesses and spend classification.
//! - [`protocol`]: protocol versions and the HTLC / MuSig2 versions they select.
//! - [`terms`]: the client's checks of the server's terms and its deadlines, as
//!   decision functions with typed reasons.
//! - [`state`], [`phase`]: the swap states (pending / final) and the Loop Out phases.
//! - [`loop_out`], [`loop_in`]: the client state machines, `handle(event) -> actions`.
//!
//! Pure and sans-IO: no sockets, clock, disk or randomness. Heights, amounts, keys and
//! the preimage come in as inputs. Every rule quotes its LOOP-01 sentence in a
//! comment that starts with the document id; `tests/spec_quotes.rs` checks each
//! quote against the spec text.
#![forbid(unsafe_code)]

pub mod constants;
pub mod htlc;
pub mod loop_in;
pub mod loop_out;
pub mod phase;
pub mod protocol;
pub mod state;
pub mod terms;
pub mod units;
