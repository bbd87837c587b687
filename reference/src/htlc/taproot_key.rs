//! SIDEPOOL-06 "HTLC Taproot Public Key": the Taproot output an HTLC inside a sidepool pays to.
//!
//! One function per step of the spec's list, in order:
//! [`internal_public_key`] (BIP-327 KeyAgg of the two ephemeral keys, offerrer
//! first, ERRATA E-20), [`hashlock_leaf_script`] and [`timelock_leaf_script`]
//! (the two 0xC0 tapleaves exactly as written, keys x-only per E-21, numbers
//! minimally encoded per E-22), and [`tweak_internal_key`] (BIP-341).
//! [`htlc_taproot_key`] runs them and keeps every intermediate.

use core::fmt;

use bitcoin::hashes::{ripemd160, Hash};
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CLTV, OP_CSV, OP_DROP, OP_EQUALVERIFY, OP_HASH160};
use bitcoin::script::Builder;
use bitcoin::Network;

use super::musig::{key_agg, KeyAggContext, KeyAggError};
use super::taproot::{taproot_output, TapTree, TaprootError, TaprootOutput};
use crate::units::{BlockHeight, PaymentHash, PublicKey};

/// The tapscript leaf version of both HTLC leaves.
pub const TAPSCRIPT_LEAF_VERSION: u8 = 0xc0;

/// Lock times at or above this are Unix times, not block heights (BIP-65 / nLockTime).
pub const LOCKTIME_THRESHOLD: u32 = 500_000_000;

/// The order the two ephemeral keys enter KeyAgg (ERRATA E-20): as the spec lists them, no KeySort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    OfferrerThenAcceptor,
}

impl KeyOrder {
    pub fn name(&self) -> &'static str {
        match self {
            KeyOrder::OfferrerThenAcceptor => "offerrer_then_acceptor",
        }
    }
}

/// The four keys of an HTLC (SIDEPOOL-06: "An HTLC inside a sidepool involves four keypairs").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRole {
    OfferrerEphemeral,
    OfferrerPersistent,
    AcceptorEphemeral,
    AcceptorPersistent,
}

impl KeyRole {
    pub fn name(&self) -> &'static str {
        match self {
            KeyRole::OfferrerEphemeral => "offerrer_ephemeral",
            KeyRole::OfferrerPersistent => "offerrer_persistent",
            KeyRole::AcceptorEphemeral => "acceptor_ephemeral",
            KeyRole::AcceptorPersistent => "acceptor_persistent",
        }
    }
}

/// What is wrong with a public key given as bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    /// Not 33 bytes.
    WrongLength,
    /// First byte is not 0x02 or 0x03 (not a compressed encoding).
    BadPrefix,
    /// No curve point has this x coordinate (or x ≥ p).
    NotOnCurve,
}

/// Why an HTLC Taproot key could not be derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HtlcKeyError {
    InvalidKey { role: KeyRole, problem: KeyProblem },
    /// The hash is not 32 bytes.
    HashWrongLength,
    /// The lock time is not a block height (≥ 500,000,000 means a Unix time to CLTV).
    LockTimeNotABlockHeight,
    /// KeyAgg gave the point at infinity (negligible odds for honest keys).
    KeyAggregation,
    /// BIP-341 tweaking failed (negligible odds).
    Taproot(TaprootError),
}

impl HtlcKeyError {
    /// The machine-readable name used in vectors and by the `htlc-key` command.
    pub fn code(&self) -> &'static str {
        use KeyProblem::*;
        use KeyRole::*;
        match self {
            HtlcKeyError::InvalidKey { role, problem } => match (role, problem) {
                (OfferrerEphemeral, WrongLength) => "offerrer_ephemeral_wrong_length",
                (OfferrerEphemeral, BadPrefix) => "offerrer_ephemeral_bad_prefix",
                (OfferrerEphemeral, NotOnCurve) => "offerrer_ephemeral_not_on_curve",
                (OfferrerPersistent, WrongLength) => "offerrer_persistent_wrong_length",
                (OfferrerPersistent, BadPrefix) => "offerrer_persistent_bad_prefix",
                (OfferrerPersistent, NotOnCurve) => "offerrer_persistent_not_on_curve",
                (AcceptorEphemeral, WrongLength) => "acceptor_ephemeral_wrong_length",
                (AcceptorEphemeral, BadPrefix) => "acceptor_ephemeral_bad_prefix",
                (AcceptorEphemeral, NotOnCurve) => "acceptor_ephemeral_not_on_curve",
                (AcceptorPersistent, WrongLength) => "acceptor_persistent_wrong_length",
                (AcceptorPersistent, BadPrefix) => "acceptor_persistent_bad_prefix",
                (AcceptorPersistent, NotOnCurve) => "acceptor_persistent_not_on_curve",
            },
            HtlcKeyError::HashWrongLength => "hash_wrong_length",
            HtlcKeyError::LockTimeNotABlockHeight => "locktime_not_a_block_height",
            HtlcKeyError::KeyAggregation => "key_aggregation_failed",
            HtlcKeyError::Taproot(e) => e.code(),
        }
    }
}

impl fmt::Display for HtlcKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HtlcKeyError::InvalidKey { role, problem } => {
                let what = match problem {
                    KeyProblem::WrongLength => "is not 33 bytes",
                    KeyProblem::BadPrefix => "does not start with 02 or 03 (not a compressed key)",
                    KeyProblem::NotOnCurve => "is not a point on secp256k1",
                };
                write!(f, "{} public key {what}", role.name().replace('_', " "))
            }
            HtlcKeyError::HashWrongLength => f.write_str("hash is not 32 bytes"),
            HtlcKeyError::LockTimeNotABlockHeight => write!(f, "lock time is not a block height (must be below {LOCKTIME_THRESHOLD})"),
            HtlcKeyError::KeyAggregation => f.write_str("MuSig key aggregation gave the point at infinity"),
            HtlcKeyError::Taproot(e) => write!(f, "BIP-341 tweak failed: {e}"),
        }
    }
}

/// Parses a 33-byte compressed public key, naming the key and the problem on failure.
pub fn parse_public_key(role: KeyRole, bytes: &[u8]) -> Result<PublicKey, HtlcKeyError> {
    let invalid = |problem| HtlcKeyError::InvalidKey { role, problem };
    let arr: [u8; 33] = bytes.try_into().map_err(|_| invalid(KeyProblem::WrongLength))?;
    if !matches!(arr[0], 0x02 | 0x03) {
        return Err(invalid(KeyProblem::BadPrefix));
    }
    PublicKey::from_bytes(arr).ok_or(invalid(KeyProblem::NotOnCurve))
}

/// Parses the 32-byte HTLC hash.
pub fn parse_hash(bytes: &[u8]) -> Result<PaymentHash, HtlcKeyError> {
    bytes.try_into().map(PaymentHash).map_err(|_| HtlcKeyError::HashWrongLength)
}

/// The network names the vectors and the `htlc-key` command accept.
pub fn parse_network(name: &str) -> Option<Network> {
    match name {
        "bitcoin" => Some(Network::Bitcoin),
        "testnet" => Some(Network::Testnet),
        "signet" => Some(Network::Signet),
        "regtest" => Some(Network::Regtest),
        _ => None,
    }
}

/// What the offerrer and acceptor agree on during HTLC setup.
// SIDEPOOL-06: "During HTLC setup, the offerrer and acceptor exchange the public keys of their keypairs, and agree on the hash and absolute lock time."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HtlcKeyInputs {
    pub offerrer_ephemeral: PublicKey,
    pub offerrer_persistent: PublicKey,
    pub acceptor_ephemeral: PublicKey,
    pub acceptor_persistent: PublicKey,
    pub hash: PaymentHash,
    pub lock_time: BlockHeight,
}

/// The HTLC Taproot public key and every intermediate of its derivation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HtlcTaprootKey {
    pub key_order: KeyOrder,
    /// BIP-327 KeyAgg coefficient of the offerrer ephemeral key.
    pub offerrer_key_coefficient: [u8; 32],
    /// BIP-327 KeyAgg coefficient of the acceptor ephemeral key (1 when it differs from the offerrer's).
    pub acceptor_key_coefficient: [u8; 32],
    /// The KeyAgg result `Q` with its parity (compressed).
    pub aggregate_key: [u8; 33],
    /// The hashlock tapleaf script, then the timelock one.
    pub hashlock_script: Vec<u8>,
    pub timelock_script: Vec<u8>,
    /// BIP-341 construction: internal key = x(Q), leaf hashes (hashlock, timelock),
    /// Merkle root, tweak, output key and parity, control blocks (hashlock, timelock).
    pub taproot: TaprootOutput,
}

impl HtlcTaprootKey {
    /// The x-only internal key (x coordinate of the aggregate key).
    pub fn internal_key(&self) -> [u8; 32] {
        self.taproot.internal_key
    }
    /// The 32-byte x-only output key.
    pub fn output_key(&self) -> [u8; 32] {
        self.taproot.output_key
    }
    /// `OP_1 <output key>`.
    pub fn script_pubkey(&self) -> Vec<u8> {
        self.taproot.script_pubkey()
    }
    /// The bech32m address on `network`.
    pub fn address(&self, network: Network) -> Result<String, HtlcKeyError> {
        self.taproot.address(network).map_err(HtlcKeyError::Taproot)
    }
}

/// Step 1: the internal public key.
// SIDEPOOL-06: "The internal public key is the MuSig combination of the offerrer ephemeral public key, and the acceptor ephemeral public key, as per [BIP-327 Public Key Aggregation][]."
// ERRATA E-20: the keys enter KeyAgg unsorted, offerrer first, then acceptor.
pub fn internal_public_key(offerrer_ephemeral: &PublicKey, acceptor_ephemeral: &PublicKey) -> Result<KeyAggContext, HtlcKeyError> {
    let keys = [offerrer_ephemeral.as_bytes(), acceptor_ephemeral.as_bytes()];
    key_agg(&[&keys[0], &keys[1]]).map_err(|e| match e {
        // Both keys are valid points (PublicKey), so only Infinity can happen here.
        KeyAggError::NoKeys | KeyAggError::InvalidContribution { .. } | KeyAggError::Infinity => HtlcKeyError::KeyAggregation,
    })
}

/// The 32-byte x-only form of a key, as tapscript's OP_CHECKSIG takes it (ERRATA E-21).
fn xonly(key: &PublicKey) -> bitcoin::key::XOnlyPublicKey {
    key.to_secp().x_only_public_key().0
}

/// Step 2a: the hashlock tapleaf.
// SIDEPOOL-06: "Generate two 0xC0 Tapleaf SCRIPTs:"
// SIDEPOOL-06: "`OP_HASH160 <RIPEMD160(hash)> OP_EQUALVERIFY <acceptor persistent public key> OP_CHECKSIG`."
pub fn hashlock_leaf_script(hash: &PaymentHash, acceptor_persistent: &PublicKey) -> Vec<u8> {
    // OP_HASH160 of a preimage is RIPEMD160(SHA256(preimage)) = RIPEMD160(hash).
    let hash160 = ripemd160::Hash::hash(&hash.0).to_byte_array();
    Builder::new()
        .push_opcode(OP_HASH160)
        .push_slice(hash160)
        .push_opcode(OP_EQUALVERIFY)
        .push_x_only_key(&xonly(acceptor_persistent))
        .push_opcode(OP_CHECKSIG)
        .into_bytes()
}

/// Step 2b: the timelock tapleaf, exactly as written (ERRATA E-23: as written it cannot be satisfied).
// SIDEPOOL-06: "`<1> OP_CHECKSEQUENCEVERIFY <absolute lock time> OP_CHECKLOCKTIMEVERIFY OP_DROP <offerrer persistent public key> OP_CHECKSIGVERIFY`."
// SIDEPOOL-06: "hashlocked timelocked contracts also require a hash and an absolute block height lock time."
pub fn timelock_leaf_script(lock_time: BlockHeight, offerrer_persistent: &PublicKey) -> Result<Vec<u8>, HtlcKeyError> {
    if lock_time.0 >= LOCKTIME_THRESHOLD {
        return Err(HtlcKeyError::LockTimeNotABlockHeight);
    }
    // push_int writes minimal script numbers (ERRATA E-22): OP_0, OP_1..OP_16, else the shortest CScriptNum push.
    Ok(Builder::new()
        .push_int(1)
        .push_opcode(OP_CSV)
        .push_int(i64::from(lock_time.0))
        .push_opcode(OP_CLTV)
        .push_opcode(OP_DROP)
        .push_x_only_key(&xonly(offerrer_persistent))
        .push_opcode(OP_CHECKSIGVERIFY)
        .into_bytes())
}

/// Step 3: the script tree (both leaves at depth 1) and the BIP-341 tweak of the internal key.
// SIDEPOOL-06: "Combine the above Tapleaf SCRIPTs into a Taproot Merkle Abstract Syntax Tree and tweak the internal public key, as per [BIP-341 Constructing And Spending Taproot Outputs][]."
pub fn tweak_internal_key(internal_key: &[u8; 32], hashlock_script: &[u8], timelock_script: &[u8]) -> Result<TaprootOutput, HtlcKeyError> {
    let leaf = |script: &[u8]| Box::new(TapTree::Leaf { script: script.to_vec(), version: TAPSCRIPT_LEAF_VERSION });
    let tree = TapTree::Branch(leaf(hashlock_script), leaf(timelock_script));
    taproot_output(internal_key, Some(&tree)).map_err(HtlcKeyError::Taproot)
}

/// The HTLC Taproot public key with all intermediates.
// SIDEPOOL-06: "The HTLC Taproot Public Key is then derived as follows:"
pub fn htlc_taproot_key(inputs: &HtlcKeyInputs) -> Result<HtlcTaprootKey, HtlcKeyError> {
    let ctx = internal_public_key(&inputs.offerrer_ephemeral, &inputs.acceptor_ephemeral)?;
    let hashlock_script = hashlock_leaf_script(&inputs.hash, &inputs.acceptor_persistent);
    let timelock_script = timelock_leaf_script(inputs.lock_time, &inputs.offerrer_persistent)?;
    let taproot = tweak_internal_key(&ctx.aggregate_xonly(), &hashlock_script, &timelock_script)?;
    Ok(HtlcTaprootKey {
        key_order: KeyOrder::OfferrerThenAcceptor,
        offerrer_key_coefficient: ctx.key_coefficient(0).ok_or(HtlcKeyError::KeyAggregation)?,
        acceptor_key_coefficient: ctx.key_coefficient(1).ok_or(HtlcKeyError::KeyAggregation)?,
        aggregate_key: ctx.aggregate_point(),
        hashlock_script,
        timelock_script,
        taproot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PublicKey {
        crate::htlc::secret::EphemeralSecretKey::from_bytes(&[seed; 32]).unwrap().public_key()
    }

    fn inputs() -> HtlcKeyInputs {
        HtlcKeyInputs {
            offerrer_ephemeral: key(1),
            offerrer_persistent: key(2),
            acceptor_ephemeral: key(3),
            acceptor_persistent: key(4),
            hash: PaymentHash([0x42; 32]),
            lock_time: BlockHeight(800_000),
        }
    }

    #[test]
    fn leaf_scripts_have_the_spec_shape() {
        let i = inputs();
        let h = hashlock_leaf_script(&i.hash, &i.acceptor_persistent);
        assert_eq!(h.len(), 1 + 21 + 1 + 33 + 1);
        assert_eq!((h[0], h[1], h[22], h[23], h[56]), (0xa9, 0x14, 0x88, 0x20, 0xac));
        assert_eq!(&h[24..56], &i.acceptor_persistent.as_bytes()[1..]);
        let t = timelock_leaf_script(i.lock_time, &i.offerrer_persistent).unwrap();
        // OP_1 OP_CSV <3-byte 800000 = 00 35 0c> OP_CLTV OP_DROP <32> OP_CHECKSIGVERIFY
        assert_eq!(&t[..8], &[0x51, 0xb2, 0x03, 0x00, 0x35, 0x0c, 0xb1, 0x75]);
        assert_eq!(t[8], 0x20);
        assert_eq!(t.last(), Some(&0xad));
    }

    #[test]
    fn lock_time_numbers_are_minimal() {
        let k = key(2);
        let enc = |h: u32| {
            let s = timelock_leaf_script(BlockHeight(h), &k).unwrap();
            s[2..s.len() - 36].to_vec()
        };
        assert_eq!(enc(0), vec![0x00]);
        assert_eq!(enc(1), vec![0x51]);
        assert_eq!(enc(16), vec![0x60]);
        assert_eq!(enc(17), vec![0x01, 0x11]);
        assert_eq!(enc(128), vec![0x02, 0x80, 0x00]);
        assert_eq!(enc(499_999_999), vec![0x04, 0xff, 0x64, 0xcd, 0x1d]);
        assert_eq!(timelock_leaf_script(BlockHeight(500_000_000), &k), Err(HtlcKeyError::LockTimeNotABlockHeight));
    }

    #[test]
    fn key_order_matters_and_is_offerrer_first() {
        let i = inputs();
        let a = htlc_taproot_key(&i).unwrap();
        let swapped = HtlcKeyInputs { offerrer_ephemeral: i.acceptor_ephemeral, acceptor_ephemeral: i.offerrer_ephemeral, ..i };
        let b = htlc_taproot_key(&swapped).unwrap();
        assert_ne!(a.aggregate_key, b.aggregate_key);
        assert_eq!(a.key_order.name(), "offerrer_then_acceptor");
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(a.acceptor_key_coefficient, one);
    }

    #[test]
    fn key_parse_errors_name_role_and_problem() {
        let good = key(1).as_bytes();
        assert_eq!(parse_public_key(KeyRole::AcceptorPersistent, &good[1..]).unwrap_err().code(), "acceptor_persistent_wrong_length");
        let mut bad_prefix = good;
        bad_prefix[0] = 0x04;
        assert_eq!(parse_public_key(KeyRole::OfferrerPersistent, &bad_prefix).unwrap_err().code(), "offerrer_persistent_bad_prefix");
        let mut off_curve = [0u8; 33];
        off_curve[0] = 0x02;
        off_curve[32] = 0x05;
        assert_eq!(parse_public_key(KeyRole::OfferrerEphemeral, &off_curve).unwrap_err().code(), "offerrer_ephemeral_not_on_curve");
        assert_eq!(parse_hash(&[0u8; 31]).unwrap_err().code(), "hash_wrong_length");
        assert_eq!(parse_network("mainnet"), None);
        assert_eq!(parse_network("regtest"), Some(Network::Regtest));
    }
}
