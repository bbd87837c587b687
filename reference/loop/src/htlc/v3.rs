//! HTLC v3: a P2TR output whose internal key is the MuSig2 aggregate of both
//! parties (the cooperative key path) and whose script tree holds a success leaf
//! and a timeout leaf at depth 1.

use bitcoin::hashes::Hash as _;
use bitcoin::key::{TweakedPublicKey, XOnlyPublicKey};
use bitcoin::opcodes::all::{OP_CHECKSIGVERIFY, OP_CLTV, OP_CSV, OP_EQUALVERIFY, OP_HASH160, OP_SIZE};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{Parity, Scalar, Secp256k1};
use bitcoin::taproot::{LeafVersion, TapLeafHash, TapNodeHash, TapTweakHash};
use bitcoin::{Address, Network, ScriptBuf};

use super::musig::{aggregate_internal_key, parse_key};
use super::script::{hash_lock, push_number};
use super::{parse_swap_hash, HtlcError, KeyRole, SpendKind};
use crate::constants::TAPSCRIPT_LEAF_VERSION;
use crate::protocol::MuSig2Version;
use crate::units::Preimage;

/// What a v3 HTLC is built from (Loop's `NewHtlcV3` arguments), keys as 33 bytes.
#[derive(Clone, Copy, Debug)]
pub struct HtlcV3Inputs<'a> {
    pub musig2_version: MuSig2Version,
    pub cltv_expiry: i32,
    // The caller draws the client's internal key; the function only combines what it is given.
    // LOOP-01: "In a Loop In of protocol version 11 or later, the client's internal key MUST be a key it derives for this swap alone, and the server's internal key the receiver internal key the server returned."
    pub sender_internal_key: &'a [u8],
    pub receiver_internal_key: &'a [u8],
    pub sender_key: &'a [u8],
    pub receiver_key: &'a [u8],
    pub swap_hash: &'a [u8],
}

impl<'a> HtlcV3Inputs<'a> {
    /// A Loop Out's inputs: there each party's internal key is its script key.
    // LOOP-01: "In a Loop Out each party's internal key MUST be its script key."
    pub fn loop_out(musig2_version: MuSig2Version, cltv_expiry: i32, server_key: &'a [u8], client_key: &'a [u8], swap_hash: &'a [u8]) -> HtlcV3Inputs<'a> {
        HtlcV3Inputs {
            musig2_version,
            cltv_expiry,
            sender_internal_key: server_key,
            receiver_internal_key: client_key,
            sender_key: server_key,
            receiver_key: client_key,
            swap_hash,
        }
    }
}

/// A v3 HTLC with every intermediate of its construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HtlcV3 {
    pub success_script: Vec<u8>,
    pub timeout_script: Vec<u8>,
    pub success_leaf_hash: [u8; 32],
    pub timeout_leaf_hash: [u8; 32],
    pub merkle_root: [u8; 32],
    /// The MuSig2 aggregate `Q` before the tweak, compressed (Loop's `InternalPubKey`).
    pub aggregate_key: [u8; 33],
    /// `x(Q)`: the BIP-341 internal key.
    pub internal_key: [u8; 32],
    /// `hash_TapTweak(internal key || merkle root)`.
    pub tweak: [u8; 32],
    pub output_key: [u8; 32],
    /// 0 for an even-y output point, 1 for odd.
    pub output_key_parity: u8,
}

/// The success leaf: the receiver claims with a signature and the preimage.
// LOOP-01: "The v3 success leaf script MUST be exactly: the 32-byte x-only receiver key, OP_CHECKSIGVERIFY, OP_SIZE, 32, OP_EQUALVERIFY, OP_HASH160, the RIPEMD-160 of the swap hash, OP_EQUALVERIFY, OP_1, OP_CHECKSEQUENCEVERIFY."
pub fn success_leaf_script(receiver_xonly: &[u8; 32], swap_hash: &[u8; 32]) -> Vec<u8> {
    let builder = Builder::new().push_slice(receiver_xonly).push_opcode(OP_CHECKSIGVERIFY).push_opcode(OP_SIZE);
    let builder = push_number(builder, 32).push_opcode(OP_EQUALVERIFY).push_opcode(OP_HASH160).push_slice(hash_lock(swap_hash)).push_opcode(OP_EQUALVERIFY);
    push_number(builder, 1).push_opcode(OP_CSV).into_script().into_bytes()
}

/// The timeout leaf: the sender takes the HTLC back from the CLTV expiry on.
// LOOP-01: "The v3 timeout leaf script MUST be exactly: the 32-byte x-only sender key, OP_CHECKSIGVERIFY, the CLTV expiry, OP_CHECKLOCKTIMEVERIFY."
pub fn timeout_leaf_script(sender_xonly: &[u8; 32], cltv_expiry: i32) -> Vec<u8> {
    let builder = Builder::new().push_slice(sender_xonly).push_opcode(OP_CHECKSIGVERIFY);
    push_number(builder, i64::from(cltv_expiry)).push_opcode(OP_CLTV).into_script().into_bytes()
}

/// Builds the v3 HTLC. Keys are read in Loop's order (sender, receiver, sender
/// internal, receiver internal), so the first bad one is the one reported.
pub fn htlc_v3(inputs: &HtlcV3Inputs<'_>) -> Result<HtlcV3, HtlcError> {
    let version = inputs.musig2_version;
    let sender = parse_key(version, KeyRole::Sender, inputs.sender_key)?;
    let receiver = parse_key(version, KeyRole::Receiver, inputs.receiver_key)?;
    let swap_hash = parse_swap_hash(inputs.swap_hash)?;
    let success_script = success_leaf_script(&receiver.xonly, &swap_hash);
    let timeout_script = timeout_leaf_script(&sender.xonly, inputs.cltv_expiry);
    // LOOP-01: "Both leaves MUST have leaf version 0xc0 and sit at depth 1, so that the script tree's root is the BIP-341 TapBranch hash of the two TapLeaf hashes in lexicographic order."
    let leaf_version = LeafVersion::from_consensus(TAPSCRIPT_LEAF_VERSION).map_err(|_| HtlcError::InvalidTweak)?;
    let success_leaf = TapLeafHash::from_script(&ScriptBuf::from_bytes(success_script.clone()), leaf_version);
    let timeout_leaf = TapLeafHash::from_script(&ScriptBuf::from_bytes(timeout_script.clone()), leaf_version);
    let root = TapNodeHash::from_node_hashes(success_leaf.into(), timeout_leaf.into());
    let sender_internal = parse_key(version, KeyRole::SenderInternal, inputs.sender_internal_key)?;
    let receiver_internal = parse_key(version, KeyRole::ReceiverInternal, inputs.receiver_internal_key)?;
    let aggregate_key = aggregate_internal_key(version, &sender_internal, &receiver_internal)?;
    let mut internal_key = [0u8; 32];
    internal_key.copy_from_slice(&aggregate_key[1..]);
    // LOOP-01: "The v3 output key MUST be the BIP-341 tweak of the x-only internal key with the script tree's root: the even-y point on the internal key's x coordinate plus the tagged hash TapTweak of the x-only internal key and the root, times G."
    let internal = XOnlyPublicKey::from_slice(&internal_key).map_err(|_| HtlcError::KeyAggregation)?;
    let tweak = TapTweakHash::from_key_and_tweak(internal, Some(root));
    let scalar = Scalar::from_be_bytes(tweak.to_byte_array()).map_err(|_| HtlcError::InvalidTweak)?;
    let (output, parity) = internal.add_tweak(&Secp256k1::verification_only(), &scalar).map_err(|_| HtlcError::InvalidTweak)?;
    Ok(HtlcV3 {
        success_leaf_hash: success_leaf.to_byte_array(),
        timeout_leaf_hash: timeout_leaf.to_byte_array(),
        merkle_root: root.to_byte_array(),
        success_script,
        timeout_script,
        aggregate_key,
        internal_key,
        tweak: tweak.to_byte_array(),
        output_key: output.serialize(),
        output_key_parity: match parity {
            Parity::Even => 0,
            Parity::Odd => 1,
        },
    })
}

impl HtlcV3 {
    /// `OP_1 <x-only output key>`.
    // LOOP-01: "The v3 output MUST be OP_1 followed by the 32-byte x-only output key, and its address the BIP-350 bech32m encoding of that version 1 witness program for the swap's network."
    pub fn pk_script(&self) -> Vec<u8> {
        let mut spk = Vec::with_capacity(34);
        spk.extend_from_slice(&[0x51, 0x20]);
        spk.extend_from_slice(&self.output_key);
        spk
    }

    /// The bech32m P2TR address on `network`.
    pub fn address(&self, network: Network) -> Result<String, HtlcError> {
        let key = XOnlyPublicKey::from_slice(&self.output_key).map_err(|_| HtlcError::InvalidTweak)?;
        Ok(Address::p2tr_tweaked(TweakedPublicKey::dangerous_assume_tweaked(key), network).to_string())
    }

    fn control_block(&self, sibling_leaf_hash: &[u8; 32]) -> Vec<u8> {
        let mut cb = Vec::with_capacity(65);
        cb.push(TAPSCRIPT_LEAF_VERSION | self.output_key_parity);
        cb.extend_from_slice(&self.internal_key);
        cb.extend_from_slice(sibling_leaf_hash);
        cb
    }

    /// The control block that reveals the success leaf (its sibling is the timeout leaf).
    pub fn success_control_block(&self) -> Vec<u8> {
        self.control_block(&self.timeout_leaf_hash)
    }

    /// The control block that reveals the timeout leaf (its sibling is the success leaf).
    pub fn timeout_control_block(&self) -> Vec<u8> {
        self.control_block(&self.success_leaf_hash)
    }

    /// The script-path claim with the preimage; `receiver_signature` is a 64-byte
    /// BIP-340 signature.
    // LOOP-01: "A v3 success witness MUST be the stack: the preimage, the receiver's signature, the success leaf script, and a control block made of the leaf version 0xc0 combined with the output key's parity bit, the x-only internal key and the timeout leaf's hash."
    pub fn success_witness(&self, receiver_signature: &[u8], preimage: &Preimage) -> Vec<Vec<u8>> {
        vec![preimage.as_bytes().to_vec(), receiver_signature.to_vec(), self.success_script.clone(), self.success_control_block()]
    }

    /// The script-path refund after the expiry.
    // LOOP-01: "A v3 timeout witness MUST be the stack: the sender's signature, the timeout leaf script, and a control block made of the leaf version 0xc0 combined with the output key's parity bit, the x-only internal key and the success leaf's hash."
    pub fn timeout_witness(&self, sender_signature: &[u8]) -> Vec<Vec<u8>> {
        vec![sender_signature.to_vec(), self.timeout_script.clone(), self.timeout_control_block()]
    }
}

/// A v3 signature's length: SIGHASH_DEFAULT, so no sighash byte.
// LOOP-01: "Signatures spending a v3 HTLC MUST use SIGHASH_DEFAULT, so that they are 64 bytes without a sighash byte."
pub const SIGNATURE_LEN: usize = 64;

/// Whether a confirmed spend of a v3 HTLC, with this many witness elements, was a success.
// LOOP-01: "A spend of a v3 HTLC MUST be classified as a success spend exactly when its witness has four elements (the success script path) or one element (the key path)."
pub fn classify_spend(witness_elements: usize) -> SpendKind {
    if witness_elements == 4 || witness_elements == 1 {
        SpendKind::Success
    } else {
        SpendKind::Timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::taproot::ControlBlock;

    fn key(secret: u8) -> [u8; 33] {
        let secp = Secp256k1::signing_only();
        let mut sk = [0u8; 32];
        sk[31] = secret;
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&sk).unwrap();
        bitcoin::secp256k1::PublicKey::from_secret_key(&secp, &sk).serialize()
    }

    fn loop_test(version: MuSig2Version) -> HtlcV3 {
        let mut p = [0u8; 32];
        p[..3].copy_from_slice(&[1, 2, 3]);
        let hash = Preimage::from_bytes(p).swap_hash().0;
        let (s, r) = (key(2), key(3));
        htlc_v3(&HtlcV3Inputs::loop_out(version, 10, &s, &r, &hash)).unwrap()
    }

    /// Loop's TestHtlcV3 inputs with MuSig2 1.0.0-rc2; expected values from the Python
    /// generator (vectors/loop/htlc_v3.yaml tcId 1).
    #[test]
    fn loop_test_htlc_v3_rc2() {
        let h = loop_test(MuSig2Version::V100Rc2);
        assert_eq!(hex::encode(&h.timeout_script), "20c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5ad5ab1");
        assert_eq!(hex::encode(h.internal_key), "f89c20245de19bd2889af0b0b4bad84bfa99e7e181ac8e9549aeebfcbb10fb1b");
        assert_eq!(hex::encode(h.output_key), "5e7de317e05fdd415afcb43ee19d786c33a673b6fc2bdd3a7c78a23ca9ec16d1");
        assert_eq!(h.address(Network::Bitcoin).unwrap(), "bc1pte77x9lqtlw5zkhukslwr8tcdse6vuakls4a6wnu0z3re20vzmgsfude9e");
    }

    /// The musig2 crate's own BIP-341 tweak of the aggregate agrees with ours (rc2).
    #[test]
    fn taproot_tweak_agrees_with_musig2_crate() {
        use musig2::secp::Point;
        let h = loop_test(MuSig2Version::V100Rc2);
        let mut keys = [key(2), key(3)];
        keys.sort_unstable();
        let ctx = musig2::KeyAggContext::new(keys.map(|k| Point::from_slice(&k).unwrap())).unwrap();
        let tweaked = ctx.with_taproot_tweak(&h.merkle_root).unwrap();
        assert_eq!(tweaked.aggregated_pubkey::<Point>().serialize_xonly(), h.output_key);
    }

    /// Both control blocks verify against the output key with bitcoin's own BIP-341 check.
    #[test]
    fn control_blocks_verify() {
        for version in [MuSig2Version::V100Rc2, MuSig2Version::V040] {
            let h = loop_test(version);
            let secp = Secp256k1::verification_only();
            let out = XOnlyPublicKey::from_slice(&h.output_key).unwrap();
            for (cb, script) in [(h.success_control_block(), &h.success_script), (h.timeout_control_block(), &h.timeout_script)] {
                let cb = ControlBlock::decode(&cb).unwrap();
                assert!(cb.verify_taproot_commitment(&secp, out, &ScriptBuf::from_bytes(script.clone())));
            }
        }
    }

    #[test]
    fn versions_give_different_internal_keys_but_the_same_leaves() {
        let (a, b) = (loop_test(MuSig2Version::V100Rc2), loop_test(MuSig2Version::V040));
        assert_eq!((&a.success_script, &a.timeout_script), (&b.success_script, &b.timeout_script));
        assert_ne!(a.internal_key, b.internal_key);
    }

    #[test]
    fn witness_shapes_and_classification() {
        let h = loop_test(MuSig2Version::V100Rc2);
        let p = Preimage::from_bytes([9; 32]);
        let sig = [1u8; SIGNATURE_LEN];
        let success = h.success_witness(&sig, &p);
        let timeout = h.timeout_witness(&sig);
        assert_eq!((success.len(), timeout.len()), (4, 3));
        assert_eq!(classify_spend(success.len()), SpendKind::Success);
        assert_eq!(classify_spend(timeout.len()), SpendKind::Timeout);
        assert_eq!(classify_spend(1), SpendKind::Success);
        assert_eq!(classify_spend(2), SpendKind::Timeout);
    }
}
