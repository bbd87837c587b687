//! # lightningrod-reference
//!
//! The reference implementation of LNROD-01, our specification of breez's
//! LightningRod async payments tied to the messages LDK 0.2 sends for them
//! (`spec-mirror/lightningrod/`).
//!
//! - [`wire`]: codecs for `init`'s `htlc_hold` bit, `update_add_htlc`'s
//!   `hold_htlc`, `revoke_and_ack`'s `release_htlc_message_paths`, and the
//!   `held_htlc_available` / `release_held_htlc` onion messages.
//! - one state machine per role: [`payer`] (A), [`lsp_a`], [`lsp_b`],
//!   [`payee`] (B). Each is `handle(&mut self, Event) -> Result<Vec<Action>, Misuse>`
//!   over a `Clone + Debug + Eq + Hash` state; time, heights and the secrets
//!   the protocol generates are inputs, so a model checker drives the same
//!   code. An `Err` is a caller bug and leaves the state unchanged.
//! - [`profile`]: the parameters every machine takes, among them the
//!   `lightningrod` / `ldk` profile (how an unblock is authenticated).
//!
//! Pure: no sockets, clock, disk or randomness. Every rule quotes its
//! LNROD-01 sentence in a comment (the document id, a colon, the sentence in
//! double quotes); `tests/quotes.rs` checks each quote occurs in the spec.
#![forbid(unsafe_code)]

pub mod constants;
pub mod lsp_a;
pub mod lsp_b;
pub mod payee;
pub mod payer;
pub mod profile;
pub mod units;
pub mod wire;
