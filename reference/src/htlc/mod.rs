//! SIDEPOOL-06 "HTLCs In Sidepools": the HTLC Taproot public key, the secure
//! private key handover, and the aggregate private key it enables.
//!
//! - [`taproot_key`]: "HTLC Taproot Public Key", one function per step.
//! - [`handover`]: "Secure Private Key Handover" (ECDH + SHA-256 + XOR).
//! - [`aggregate_key`]: the key-path private key once both ephemeral keys are known.
//! - [`musig`], [`taproot`]: the BIP-327 and BIP-341 pieces both of the above use,
//!   also driven directly by the converted external vectors.
//! - [`secret`]: zeroize-on-drop, never-printed secret types.

pub mod aggregate_key;
pub mod handover;
pub mod musig;
pub mod secret;
pub mod taproot;
pub mod taproot_key;

pub use aggregate_key::{aggregate_private_key, sign_key_path, verify_key_path, AggregateKeyError};
pub use handover::{decrypt, encrypt, HandoverError, HandoverTranscript};
pub use secret::{AggregateSecretKey, EncryptionSecretKey, EphemeralSecretKey, NotAScalar, SymmetricKey};
pub use taproot_key::{htlc_taproot_key, HtlcKeyError, HtlcKeyInputs, HtlcTaprootKey, KeyOrder, KeyRole};
