//! Loop's on-chain HTLCs (LOOP-01 "HTLC v2 (P2WSH)", "HTLC v3 (P2TR)"): scripts,
//! outputs, addresses, witnesses and the success / timeout classification of a spend.
//!
//! - [`v2`]: the P2WSH script, one function per output piece.
//! - [`v3`]: the two tapleaves, the MuSig2 internal key ([`musig`]), the BIP-341 output.
//! - [`script`]: the minimal script numbers and the hash both versions lock to.

pub mod musig;
pub mod script;
pub mod v2;
pub mod v3;

use core::fmt;

use bitcoin::Network;

pub use v2::{htlc_v2, HtlcV2};
pub use v3::{htlc_v3, HtlcV3, HtlcV3Inputs};

/// Which key of an HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// The HTLC sender's script key (timeout path).
    Sender,
    /// The HTLC receiver's script key (success path).
    Receiver,
    /// The sender's MuSig2 internal key (v3).
    SenderInternal,
    /// The receiver's MuSig2 internal key (v3).
    ReceiverInternal,
}

/// Why an HTLC could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HtlcError {
    /// The key is not 33 bytes, or (v3) not a key of the swap's MuSig2 version.
    InvalidKey(KeyRole),
    /// The swap hash is not 32 bytes.
    InvalidSwapHash,
    /// Key aggregation gave the point at infinity (negligible odds for real keys).
    KeyAggregation,
    /// The BIP-341 tweak is not below n or gave infinity (negligible odds).
    InvalidTweak,
}

impl HtlcError {
    /// The stable machine name vectors use.
    pub fn name(&self) -> &'static str {
        match self {
            HtlcError::InvalidKey(KeyRole::Sender) => "invalid_sender_key",
            HtlcError::InvalidKey(KeyRole::Receiver) => "invalid_receiver_key",
            HtlcError::InvalidKey(KeyRole::SenderInternal) => "invalid_sender_internal_key",
            HtlcError::InvalidKey(KeyRole::ReceiverInternal) => "invalid_receiver_internal_key",
            HtlcError::InvalidSwapHash => "invalid_swap_hash",
            HtlcError::KeyAggregation => "key_aggregation_failed",
            HtlcError::InvalidTweak => "invalid_tweak",
        }
    }
}

impl fmt::Display for HtlcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HtlcError::InvalidKey(role) => write!(f, "{role:?} key is not a valid key for this HTLC"),
            HtlcError::InvalidSwapHash => f.write_str("swap hash is not 32 bytes"),
            HtlcError::KeyAggregation => f.write_str("MuSig2 key aggregation gave the point at infinity"),
            HtlcError::InvalidTweak => f.write_str("the BIP-341 tweak is not usable"),
        }
    }
}

/// How a confirmed spend of an HTLC resolved it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpendKind {
    /// The receiver claimed it (with the preimage, or through the v3 key path).
    Success,
    /// The sender took it back after the expiry.
    Timeout,
}

/// The network names vectors use.
pub fn parse_network(name: &str) -> Option<Network> {
    match name {
        "bitcoin" => Some(Network::Bitcoin),
        "testnet" => Some(Network::Testnet),
        "signet" => Some(Network::Signet),
        "regtest" => Some(Network::Regtest),
        _ => None,
    }
}

/// The 32-byte swap hash from bytes.
pub(crate) fn parse_swap_hash(bytes: &[u8]) -> Result<[u8; 32], HtlcError> {
    bytes.try_into().map_err(|_| HtlcError::InvalidSwapHash)
}

/// A 33-byte key from bytes (the length is all v2 checks).
pub(crate) fn key33(role: KeyRole, bytes: &[u8]) -> Result<[u8; 33], HtlcError> {
    bytes.try_into().map_err(|_| HtlcError::InvalidKey(role))
}
