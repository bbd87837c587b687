//! HTLC v2: a P2WSH script with a receiver-signature branch (success, with the
//! preimage) and a sender branch after the CLTV expiry (timeout).

use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::opcodes::all::{
    OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CLTV, OP_CSV, OP_DUP, OP_ELSE, OP_ENDIF, OP_EQUALVERIFY, OP_HASH160,
    OP_NOTIF, OP_PUSHNUM_1, OP_SIZE,
};
use bitcoin::script::Builder;
use bitcoin::{Address, Network, Script};

use super::script::{hash_lock, push_number};
use super::{key33, parse_swap_hash, HtlcError, KeyRole, SpendKind};
use crate::units::Preimage;

/// SIGHASH_ALL, the byte appended to every v2 signature.
pub const SIGHASH_ALL: u8 = 0x01;

/// A v2 HTLC with the intermediates of its construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HtlcV2 {
    pub sender_key: [u8; 33],
    /// HASH160 of the 33-byte sender key, as the script holds it.
    pub sender_key_hash160: [u8; 20],
    /// RIPEMD-160 of the swap hash, as the script holds it.
    pub swap_hash_ripemd160: [u8; 20],
    pub witness_script: Vec<u8>,
    /// SHA-256 of the witness script.
    pub witness_program: [u8; 32],
}

/// Builds the v2 HTLC. The keys are only checked for their length, as Loop does:
/// the script pushes the receiver key and hashes the sender key, and never parses them.
// LOOP-01: "An HTLC's CLTV expiry MUST be a block height that the timeout path enforces with OP_CHECKLOCKTIMEVERIFY."
pub fn htlc_v2(cltv_expiry: i32, sender_key: &[u8], receiver_key: &[u8], swap_hash: &[u8]) -> Result<HtlcV2, HtlcError> {
    let sender = key33(KeyRole::Sender, sender_key)?;
    let receiver = key33(KeyRole::Receiver, receiver_key)?;
    let swap_hash = parse_swap_hash(swap_hash)?;
    let sender_key_hash160 = hash160::Hash::hash(&sender).to_byte_array();
    let swap_hash_ripemd160 = hash_lock(&swap_hash);
    // LOOP-01: "The v2 witness script MUST be exactly: the 33-byte receiver key, OP_CHECKSIG, OP_NOTIF, OP_DUP, OP_HASH160, the 20-byte HASH160 of the 33-byte sender key, OP_EQUALVERIFY, OP_CHECKSIGVERIFY, the CLTV expiry, OP_CHECKLOCKTIMEVERIFY, OP_ELSE, OP_SIZE, 32, OP_EQUALVERIFY, OP_HASH160, the RIPEMD-160 of the swap hash, OP_EQUALVERIFY, OP_1, OP_CHECKSEQUENCEVERIFY, OP_ENDIF."
    let builder = Builder::new()
        .push_slice(receiver)
        .push_opcode(OP_CHECKSIG)
        .push_opcode(OP_NOTIF)
        .push_opcode(OP_DUP)
        .push_opcode(OP_HASH160)
        .push_slice(sender_key_hash160)
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_CHECKSIGVERIFY);
    let builder = push_number(builder, i64::from(cltv_expiry))
        .push_opcode(OP_CLTV)
        .push_opcode(OP_ELSE)
        .push_opcode(OP_SIZE);
    let witness_script = push_number(builder, 32)
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_HASH160)
        .push_slice(swap_hash_ripemd160)
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_PUSHNUM_1)
        .push_opcode(OP_CSV)
        .push_opcode(OP_ENDIF)
        .into_script()
        .into_bytes();
    let witness_program = sha256::Hash::hash(&witness_script).to_byte_array();
    Ok(HtlcV2 { sender_key: sender, sender_key_hash160, swap_hash_ripemd160, witness_script, witness_program })
}

impl HtlcV2 {
    /// `OP_0 <SHA-256(witness script)>`.
    // LOOP-01: "The v2 output MUST be the P2WSH output OP_0 followed by the 32-byte SHA-256 of the witness script, and its address the BIP-173 bech32 encoding of that version 0 witness program for the swap's network."
    pub fn pk_script(&self) -> Vec<u8> {
        let mut spk = Vec::with_capacity(34);
        spk.extend_from_slice(&[0x00, 0x20]);
        spk.extend_from_slice(&self.witness_program);
        spk
    }

    /// The bech32 P2WSH address on `network`.
    pub fn address(&self, network: Network) -> String {
        Address::p2wsh(Script::from_bytes(&self.witness_script), network).to_string()
    }

    /// The stack that claims the HTLC with the preimage; `receiver_signature` is the
    /// DER signature without its sighash byte.
    // LOOP-01: "A v2 success witness MUST be the stack: the preimage, the receiver's signature with its SIGHASH_ALL byte, the witness script."
    pub fn success_witness(&self, receiver_signature: &[u8], preimage: &Preimage) -> Vec<Vec<u8>> {
        vec![preimage.as_bytes().to_vec(), with_sighash_all(receiver_signature), self.witness_script.clone()]
    }

    /// The stack that takes the HTLC back after the expiry.
    // LOOP-01: "A v2 timeout witness MUST be the stack: the sender's signature with its SIGHASH_ALL byte, the 33-byte sender key, an empty element, the witness script."
    pub fn timeout_witness(&self, sender_signature: &[u8]) -> Vec<Vec<u8>> {
        vec![with_sighash_all(sender_signature), self.sender_key.to_vec(), Vec::new(), self.witness_script.clone()]
    }
}

fn with_sighash_all(signature: &[u8]) -> Vec<u8> {
    let mut sig = signature.to_vec();
    sig.push(SIGHASH_ALL);
    sig
}

/// Whether a confirmed spend of a v2 HTLC, with this many witness elements, was a success.
// LOOP-01: "A spend of a v2 HTLC MUST be classified as a success spend exactly when its witness does not have four elements."
pub fn classify_spend(witness_elements: usize) -> SpendKind {
    if witness_elements == 4 {
        SpendKind::Timeout
    } else {
        SpendKind::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: u8) -> [u8; 33] {
        let secp = bitcoin::secp256k1::Secp256k1::signing_only();
        let mut sk = [0u8; 32];
        sk[31] = secret;
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&sk).unwrap();
        bitcoin::secp256k1::PublicKey::from_secret_key(&secp, &sk).serialize()
    }

    /// Loop's TestHtlcV2 inputs (test.CreateKey(1) = secret 2, CreateKey(2) = secret 3,
    /// preimage {1,2,3}, cltv 24); the expected bytes are the Python generator's
    /// (vectors/loop/htlc_v2.yaml), an independent implementation.
    #[test]
    fn loop_test_htlc_v2() {
        let mut p = [0u8; 32];
        p[..3].copy_from_slice(&[1, 2, 3]);
        let preimage = Preimage::from_bytes(p);
        let htlc = htlc_v2(24, &key(2), &key(3), &preimage.swap_hash().0).unwrap();
        assert_eq!(
            hex::encode(&htlc.witness_script),
            "2102f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9ac6476a91406afd46bcdfd22ef94ac122aa11f241244a37ecc88ad0118b16782012088a9142b0752737359b2a5eed526850ae0e39a63eac6f28851b268"
        );
        assert_eq!(hex::encode(htlc.witness_program), "35c7f30052a2da20bc8a1d8b08aacfc8600db17f9153b87a34d9b73b771499a2");
        assert_eq!(htlc.pk_script()[..2], [0x00, 0x20]);
        assert_eq!(htlc.address(Network::Bitcoin), "bc1qxhrlxqzj5tdzp0y2rk9s32k0epsqmvtlj9fms735mxmnkac5nx3q45y804");
        assert_eq!(htlc.success_witness(&[0x30], &preimage).len(), 3);
        let timeout = htlc.timeout_witness(&[0x30]);
        assert_eq!((timeout.len(), timeout[0].as_slice(), timeout[2].len()), (4, &[0x30, SIGHASH_ALL][..], 0));
        assert_eq!(classify_spend(timeout.len()), SpendKind::Timeout);
        assert_eq!(classify_spend(3), SpendKind::Success);
    }

    #[test]
    fn only_lengths_are_checked() {
        let h = [0u8; 32];
        assert!(htlc_v2(24, &[0x0b; 33], &[0x0a; 33], &h).is_ok());
        assert_eq!(htlc_v2(24, &[2; 32], &key(3), &h).err(), Some(HtlcError::InvalidKey(KeyRole::Sender)));
        assert_eq!(htlc_v2(24, &key(2), &[2; 34], &h).err(), Some(HtlcError::InvalidKey(KeyRole::Receiver)));
        assert_eq!(htlc_v2(24, &key(2), &key(3), &h[..31]).err(), Some(HtlcError::InvalidSwapHash));
    }
}
