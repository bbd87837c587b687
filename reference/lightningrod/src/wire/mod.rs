//! The messages LDK 0.2 sends for held HTLCs, encoded from their definitions
//! (LNROD-01 "Messages"): `init`'s `htlc_hold` bit, `update_add_htlc`'s
//! `hold_htlc`, `revoke_and_ack`'s `release_htlc_message_paths`, and the
//! `held_htlc_available` / `release_held_htlc` onion messages.
//!
//! Decoders take untrusted bytes and fail with one of the closed set of error
//! classes (`sidepool_reference::wire::ErrorClass`); encoders of decoded values
//! give back the same bytes (unknown odd TLV records are kept in place).

pub mod blinded_path;
pub mod features;
pub mod init;
pub mod message;
pub mod onion_message;
pub mod revoke_and_ack;
pub mod update_add_htlc;

mod fields;

pub use message::{decode, Message};
pub use sidepool_reference::wire::tlv::TlvRecord;
pub use sidepool_reference::wire::{DecodeError, ErrorClass};
