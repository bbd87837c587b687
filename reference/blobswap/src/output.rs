//! BLOBSWAP-01 "The shared output": its three leaves, its Taproot output, the payout, claim and
//! refund transactions, their signature messages and witnesses, and telling a spend's leaf apart.

use bitcoin::hashes::Hash as _;
use bitcoin::key::{Keypair, Secp256k1, XOnlyPublicKey};
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CLTV, OP_DROP, OP_EQUALVERIFY, OP_SHA256, OP_SIZE};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{schnorr, Message};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{ControlBlock, LeafVersion, TapLeafHash, TaprootBuilder, TaprootSpendInfo};
use bitcoin::{absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use core::fmt;

use crate::timing::LOCKTIME_THRESHOLD;
use crate::units::{Height, PaymentHash, Preimage};

/// BIP-341's unspendable point H, the shared output's internal key.
pub const UNSPENDABLE_INTERNAL_KEY: [u8; 32] = [
    0x50, 0x92, 0x9b, 0x74, 0xc1, 0xa0, 0x49, 0x54, 0xb7, 0x8b, 0x4b, 0x60, 0x35, 0xe9, 0x7a, 0x5e, 0x07, 0x8a, 0x5a,
    0x0f, 0x28, 0xec, 0x96, 0xd5, 0x47, 0xbf, 0xee, 0x9a, 0xce, 0x80, 0x3a, 0xc0,
];

/// Why the shared output or one of its transactions cannot be built, or a spend not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputError {
    /// `blob.output.6`.
    NotABlockHeight,
    /// The fee is not below the value.
    FeeNotBelowValue,
    /// A witness of the wrong number of items.
    WitnessShape,
    /// A witness whose leaf is none of the three.
    UnknownLeaf,
    /// A claim whose preimage is not 32 bytes or not a preimage of h.
    NotAPreimage,
}

impl OutputError {
    pub fn name(&self) -> &'static str {
        match self {
            OutputError::NotABlockHeight => "not_a_block_height",
            OutputError::FeeNotBelowValue => "fee_not_below_value",
            OutputError::WitnessShape => "witness_shape",
            OutputError::UnknownLeaf => "unknown_leaf",
            OutputError::NotAPreimage => "not_a_preimage",
        }
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for OutputError {}

/// The leaves, by what they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leaf {
    Payout,
    Claim,
    Refund,
}

/// Everything the shared output's script depends on. Both parties build it from these alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SharedOutput {
    pub payment_hash: PaymentHash,
    pub user_key: XOnlyPublicKey,
    pub ssp_key: XOnlyPublicKey,
    pub refund_height: Height,
}

fn internal_key() -> XOnlyPublicKey {
    // A constant valid x coordinate: parsing cannot fail (tested below).
    XOnlyPublicKey::from_slice(&UNSPENDABLE_INTERNAL_KEY).unwrap_or_else(|_| unreachable!("H is a valid x-only key"))
}

impl SharedOutput {
    pub fn new(
        payment_hash: PaymentHash,
        user_key: XOnlyPublicKey,
        ssp_key: XOnlyPublicKey,
        refund_height: Height,
    ) -> Result<SharedOutput, OutputError> {
        // BLOBSWAP-01: "The refund height MUST be a block height below 500000000."
        if refund_height.0 >= LOCKTIME_THRESHOLD {
            return Err(OutputError::NotABlockHeight);
        }
        Ok(SharedOutput { payment_hash, user_key, ssp_key, refund_height })
    }

    /// The payout leaf.
    pub fn payout_leaf(&self) -> ScriptBuf {
        // BLOBSWAP-01: "The payout leaf MUST be `<user key> OP_CHECKSIGVERIFY <SSP key> OP_CHECKSIG`."
        Builder::new()
            .push_x_only_key(&self.user_key)
            .push_opcode(OP_CHECKSIGVERIFY)
            .push_x_only_key(&self.ssp_key)
            .push_opcode(OP_CHECKSIG)
            .into_script()
    }

    /// The claim leaf.
    pub fn claim_leaf(&self) -> ScriptBuf {
        // BLOBSWAP-01: "The claim leaf MUST be `OP_SIZE 32 OP_EQUALVERIFY OP_SHA256 <payment hash> OP_EQUALVERIFY <user key> OP_CHECKSIG`."
        Builder::new()
            .push_opcode(OP_SIZE)
            .push_int(32)
            .push_opcode(OP_EQUALVERIFY)
            .push_opcode(OP_SHA256)
            .push_slice(self.payment_hash.0)
            .push_opcode(OP_EQUALVERIFY)
            .push_x_only_key(&self.user_key)
            .push_opcode(OP_CHECKSIG)
            .into_script()
    }

    /// The refund leaf.
    pub fn refund_leaf(&self) -> ScriptBuf {
        // BLOBSWAP-01: "The refund leaf MUST be `<refund height> OP_CHECKLOCKTIMEVERIFY OP_DROP <SSP key> OP_CHECKSIG`, with the refund height pushed as a minimal script number."
        Builder::new()
            .push_int(i64::from(self.refund_height.0))
            .push_opcode(OP_CLTV)
            .push_opcode(OP_DROP)
            .push_x_only_key(&self.ssp_key)
            .push_opcode(OP_CHECKSIG)
            .into_script()
    }

    pub fn leaf(&self, leaf: Leaf) -> ScriptBuf {
        match leaf {
            Leaf::Payout => self.payout_leaf(),
            Leaf::Claim => self.claim_leaf(),
            Leaf::Refund => self.refund_leaf(),
        }
    }

    /// The Taproot tree and its output key.
    pub fn spend_info(&self) -> TaprootSpendInfo {
        // BLOBSWAP-01: "The script tree MUST have the payout leaf at depth 1 and the claim leaf and the refund leaf at depth 2, all with leaf version `0xc0`."
        let builder = TaprootBuilder::new()
            .add_leaf(1, self.payout_leaf())
            .and_then(|b| b.add_leaf(2, self.claim_leaf()))
            .and_then(|b| b.add_leaf(2, self.refund_leaf()));
        // BLOBSWAP-01: "The shared output MUST be a version 1 witness output (P2TR) whose internal key is the x-only key `50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0`, which has no known discrete logarithm, so that it can be spent only through its leaves."
        // Depths 1, 2, 2 always make a complete tree, so neither step can fail (tested below).
        builder
            .ok()
            .and_then(|b| b.finalize(&Secp256k1::verification_only(), internal_key()).ok())
            .unwrap_or_else(|| unreachable!("depths 1, 2, 2 form a complete tree"))
    }

    /// The shared output's scriptPubKey.
    pub fn script_pubkey(&self) -> ScriptBuf {
        ScriptBuf::new_p2tr_tweaked(self.spend_info().output_key())
    }

    pub fn control_block(&self, leaf: Leaf) -> ControlBlock {
        self.spend_info()
            .control_block(&(self.leaf(leaf), LeafVersion::TapScript))
            .unwrap_or_else(|| unreachable!("each of the three leaves is in the tree"))
    }

    pub fn leaf_hash(&self, leaf: Leaf) -> TapLeafHash {
        TapLeafHash::from_script(&self.leaf(leaf), LeafVersion::TapScript)
    }

    /// The signature message of `tx` (spending the shared output of `value` as its only input) for `leaf`.
    pub fn sighash(&self, tx: &Transaction, value: Amount, leaf: Leaf) -> [u8; 32] {
        // BLOBSWAP-01: "Every signature that spends the shared output MUST be a 64-byte BIP-340 signature over the BIP-341 signature message (SIGHASH_DEFAULT) of the spending transaction for the leaf it spends."
        let prevout = TxOut { value, script_pubkey: self.script_pubkey() };
        SighashCache::new(tx)
            .taproot_script_spend_signature_hash(0, &Prevouts::All(&[prevout]), self.leaf_hash(leaf), TapSighashType::Default)
            .map(|h| h.to_byte_array())
            // One input and one prevout: the only failure (index out of range) cannot happen.
            .unwrap_or_else(|_| unreachable!("input 0 with one prevout"))
    }

    /// The payout witness.
    pub fn payout_witness(&self, ssp_sig: &schnorr::Signature, user_sig: &schnorr::Signature) -> Witness {
        // BLOBSWAP-01: "The witness of a payout MUST be the SSP's signature, the user's signature, the payout leaf and its control block; ..."
        witness(&[ssp_sig.as_ref(), user_sig.as_ref()], self.payout_leaf(), self.control_block(Leaf::Payout))
    }

    /// The claim witness.
    pub fn claim_witness(&self, user_sig: &schnorr::Signature, preimage: &Preimage) -> Witness {
        // BLOBSWAP-01: "... of a claim, the user's signature, the preimage, the claim leaf and its control block; ..."
        witness(&[user_sig.as_ref(), preimage.as_bytes()], self.claim_leaf(), self.control_block(Leaf::Claim))
    }

    /// The refund witness.
    pub fn refund_witness(&self, ssp_sig: &schnorr::Signature) -> Witness {
        // BLOBSWAP-01: "... and of a refund, the SSP's signature, the refund leaf and its control block."
        witness(&[ssp_sig.as_ref()], self.refund_leaf(), self.control_block(Leaf::Refund))
    }

    /// Which leaf a witness spending the shared output used; a claim's preimage.
    pub fn classify_spend(&self, witness: &Witness) -> Result<Spend, OutputError> {
        let items: Vec<&[u8]> = witness.iter().collect();
        let (script, rest) = match items.as_slice() {
            [rest @ .., script, _control] => (*script, rest),
            _ => return Err(OutputError::WitnessShape),
        };
        let leaf = [Leaf::Payout, Leaf::Claim, Leaf::Refund]
            .into_iter()
            .find(|l| self.leaf(*l).as_bytes() == script)
            .ok_or(OutputError::UnknownLeaf)?;
        match (leaf, rest) {
            (Leaf::Payout, [_, _]) => Ok(Spend::Payout),
            (Leaf::Refund, [_]) => Ok(Spend::Refund),
            (Leaf::Claim, [_, preimage]) => {
                let bytes: [u8; 32] = (*preimage).try_into().map_err(|_| OutputError::NotAPreimage)?;
                let preimage = Preimage::new(bytes);
                if preimage.payment_hash() != self.payment_hash {
                    return Err(OutputError::NotAPreimage);
                }
                Ok(Spend::Claim(preimage))
            }
            _ => Err(OutputError::WitnessShape),
        }
    }
}

fn witness(items: &[&[u8]], script: ScriptBuf, control: ControlBlock) -> Witness {
    let mut w = Witness::new();
    for item in items {
        w.push(item);
    }
    w.push(script.as_bytes());
    w.push(control.serialize());
    w
}

/// A spend of the shared output, as the parties see it on chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Spend {
    /// The presigned payout to the user.
    Payout,
    /// The user's claim, which reveals the preimage.
    Claim(Preimage),
    /// The SSP's refund.
    Refund,
}

impl Spend {
    /// Whether the value went to the user.
    pub fn pays_user(&self) -> bool {
        matches!(self, Spend::Payout | Spend::Claim(_))
    }
}

fn one_in_one_out(funding: OutPoint, lock_time: absolute::LockTime, value: Amount, fee: Amount, to: &ScriptBuf) -> Result<Transaction, OutputError> {
    let out_value = value.checked_sub(fee).filter(|v| *v > Amount::ZERO).ok_or(OutputError::FeeNotBelowValue)?;
    Ok(Transaction {
        version: transaction::Version::TWO,
        lock_time,
        input: vec![TxIn {
            previous_output: funding,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut { value: out_value, script_pubkey: to.clone() }],
    })
}

/// The payout transaction, unsigned.
pub fn payout_tx(funding: OutPoint, value: Amount, payout_fee: Amount, payout_script: &ScriptBuf) -> Result<Transaction, OutputError> {
    // BLOBSWAP-01: "The payout transaction MUST be a version 2 transaction with lock time 0 whose only input spends the shared output with sequence `0xfffffffd` and whose only output pays the shared output's value minus the payout fee to the user's payout script."
    one_in_one_out(funding, absolute::LockTime::ZERO, value, payout_fee, payout_script)
}

/// The refund transaction, unsigned: value minus `fee` to `refund_script`.
pub fn refund_tx(funding: OutPoint, value: Amount, fee: Amount, refund_height: Height, refund_script: &ScriptBuf) -> Result<Transaction, OutputError> {
    // BLOBSWAP-01: "The refund transaction MUST be a version 2 transaction with lock time equal to the refund height whose only input spends the shared output with sequence `0xfffffffd`."
    let lock_time = absolute::LockTime::from_height(refund_height.0).map_err(|_| OutputError::NotABlockHeight)?;
    one_in_one_out(funding, lock_time, value, fee, refund_script)
}

/// The claim transaction, unsigned: value minus `fee` to `to`, lock time 0.
pub fn claim_tx(funding: OutPoint, value: Amount, fee: Amount, to: &ScriptBuf) -> Result<Transaction, OutputError> {
    // BLOBSWAP-01: "The claim transaction MUST be a version 2 transaction whose only input spends the shared output through the claim leaf with sequence `0xfffffffd`."
    one_in_one_out(funding, absolute::LockTime::ZERO, value, fee, to)
}

/// A BIP-340 signature of `sighash` with `aux` as the auxiliary randomness.
pub fn sign(key: &Keypair, sighash: [u8; 32], aux: &[u8; 32]) -> schnorr::Signature {
    Secp256k1::signing_only().sign_schnorr_with_aux_rand(&Message::from_digest(sighash), key, aux)
}

/// Whether `sig` is `key`'s BIP-340 signature of `sighash`.
pub fn verify(key: &XOnlyPublicKey, sighash: [u8; 32], sig: &schnorr::Signature) -> bool {
    Secp256k1::verification_only().verify_schnorr(sig, &Message::from_digest(sighash), key).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::SecretKey;

    fn key(byte: u8) -> Keypair {
        let sk = SecretKey::from_slice(&[byte; 32]).unwrap();
        Keypair::from_secret_key(&Secp256k1::signing_only(), &sk)
    }

    fn output() -> SharedOutput {
        let h = Preimage::new([7; 32]).payment_hash();
        SharedOutput::new(h, key(1).x_only_public_key().0, key(2).x_only_public_key().0, Height(114)).unwrap()
    }

    #[test]
    fn the_internal_key_is_h() {
        assert_eq!(internal_key().serialize(), UNSPENDABLE_INTERNAL_KEY);
        assert_eq!(output().spend_info().internal_key(), internal_key());
    }

    #[test]
    fn leaves_are_the_documented_scripts() {
        let o = output();
        let user = o.user_key.serialize();
        let ssp = o.ssp_key.serialize();
        let mut payout = vec![0x20];
        payout.extend_from_slice(&user);
        payout.push(0xad);
        payout.push(0x20);
        payout.extend_from_slice(&ssp);
        payout.push(0xac);
        assert_eq!(o.payout_leaf().as_bytes(), payout.as_slice());

        let mut claim = vec![0x82, 0x01, 0x20, 0x88, 0xa8, 0x20];
        claim.extend_from_slice(&o.payment_hash.0);
        claim.extend_from_slice(&[0x88, 0x20]);
        claim.extend_from_slice(&user);
        claim.push(0xac);
        assert_eq!(o.claim_leaf().as_bytes(), claim.as_slice());

        // 114 = 0x72: a one-byte minimal script number.
        let mut refund = vec![0x01, 0x72, 0xb1, 0x75, 0x20];
        refund.extend_from_slice(&ssp);
        refund.push(0xac);
        assert_eq!(o.refund_leaf().as_bytes(), refund.as_slice());
    }

    #[test]
    fn control_blocks_verify_against_the_output_key() {
        let o = output();
        let info = o.spend_info();
        let secp = Secp256k1::verification_only();
        for leaf in [Leaf::Payout, Leaf::Claim, Leaf::Refund] {
            let cb = o.control_block(leaf);
            assert!(cb.verify_taproot_commitment(&secp, info.output_key().to_x_only_public_key(), &o.leaf(leaf)));
        }
        // Depth 1 for the payout: one hash in its path; depth 2 for the others.
        assert_eq!(o.control_block(Leaf::Payout).merkle_branch.len(), 1);
        assert_eq!(o.control_block(Leaf::Claim).merkle_branch.len(), 2);
        assert_eq!(o.control_block(Leaf::Refund).merkle_branch.len(), 2);
    }

    #[test]
    fn timestamps_are_not_refund_heights() {
        let o = output();
        let r = SharedOutput::new(o.payment_hash, o.user_key, o.ssp_key, Height(LOCKTIME_THRESHOLD));
        assert_eq!(r, Err(OutputError::NotABlockHeight));
    }

    #[test]
    fn spends_are_told_apart_and_the_preimage_checked() {
        let o = output();
        let funding = OutPoint::null();
        let tx = payout_tx(funding, Amount::from_sat(100_000), Amount::from_sat(500), &ScriptBuf::new()).unwrap();
        let u = sign(&key(1), o.sighash(&tx, Amount::from_sat(100_000), Leaf::Payout), &[0; 32]);
        let s = sign(&key(2), o.sighash(&tx, Amount::from_sat(100_000), Leaf::Payout), &[0; 32]);
        assert!(verify(&o.user_key, o.sighash(&tx, Amount::from_sat(100_000), Leaf::Payout), &u));
        assert!(!verify(&o.ssp_key, o.sighash(&tx, Amount::from_sat(100_000), Leaf::Payout), &u));
        assert_eq!(o.classify_spend(&o.payout_witness(&s, &u)), Ok(Spend::Payout));
        assert_eq!(o.classify_spend(&o.refund_witness(&s)), Ok(Spend::Refund));
        assert_eq!(o.classify_spend(&o.claim_witness(&u, &Preimage::new([7; 32]))), Ok(Spend::Claim(Preimage::new([7; 32]))));
        assert_eq!(o.classify_spend(&o.claim_witness(&u, &Preimage::new([8; 32]))), Err(OutputError::NotAPreimage));
        assert_eq!(o.classify_spend(&Witness::new()), Err(OutputError::WitnessShape));
        let mut odd = Witness::new();
        odd.push([1u8]);
        odd.push([2u8]);
        assert_eq!(o.classify_spend(&odd), Err(OutputError::UnknownLeaf));
    }

    #[test]
    fn fees_must_leave_value() {
        let f = OutPoint::null();
        let s = ScriptBuf::new();
        assert_eq!(payout_tx(f, Amount::from_sat(500), Amount::from_sat(500), &s), Err(OutputError::FeeNotBelowValue));
        assert_eq!(payout_tx(f, Amount::from_sat(500), Amount::from_sat(501), &s), Err(OutputError::FeeNotBelowValue));
        let tx = refund_tx(f, Amount::from_sat(500), Amount::from_sat(100), Height(114), &s).unwrap();
        assert_eq!(tx.lock_time, absolute::LockTime::from_height(114).unwrap());
        assert_eq!(tx.input[0].sequence, Sequence(0xffff_fffd));
        assert_eq!(tx.output[0].value, Amount::from_sat(400));
    }
}
