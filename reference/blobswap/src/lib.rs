//! # blobswap-reference
//!
//! The reference implementation of BLOBSWAP-01, our specification of the Blobswap diagram
//! (`spec-mirror/blobswap/01-blobswap.md`): a swap of a Lightning payment for an on-chain value,
//! through a hold invoice on a hash the user chose, a shared output the SSP funds, and a blob in
//! which the user reveals the preimage.
//!
//! - [`user::UserMachine`] and [`ssp::SspMachine`]: one sans-IO machine per party,
//!   `handle(&mut self, Event) -> Vec<Action>`, with heights, keys and randomness as inputs. Their
//!   state is `Clone + Debug + Eq + Hash`, so a model checker can drive and store them.
//! - [`timing`]: each timing constraint as a decision function with a typed reason.
//! - [`checks`]: what each party checks of the other's messages.
//! - [`output`]: the shared output's leaves, Taproot output, transactions, signatures and witnesses.
//! - [`blob`]: the blob's content and the SSP's check of it.
//!
//! Nothing here touches a socket, a clock, a disk or a random number generator. Each rule quotes
//! the BLOBSWAP-01 sentence it implements (`// BLOBSWAP-01: "..."`); a test checks every quote
//! against the spec.
#![forbid(unsafe_code)]

pub mod blob;
pub mod checks;
pub mod keys;
pub mod messages;
pub mod output;
pub mod params;
pub mod safeguards;
pub mod ssp;
pub mod timing;
pub mod units;
pub mod user;

pub use params::Params;
pub use safeguards::Safeguards;
pub use units::{Blocks, Height, Msat, PaymentHash, Preimage};
