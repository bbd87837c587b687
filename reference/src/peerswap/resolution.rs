//! SIDEPOOL-10 "Peerswap Resolution": the success path (`peerswap_success` and
//! fulfilment), its forwarding, and the fail path the spec leaves TODO.
//!
//! The secure private key handover itself (SIDEPOOL-06: ECDH, SHA-256, XOR) is
//! another module's; here it is the [`KeyHandover`] trait, so this module never
//! sees a private key.
//!
//! Readings (spec-mirror/ERRATA.md):
//! - E-66: `peerswap_success` is forwarded as-is (every TLV, unknown odd ones
//!   included); its receiver ignores it unless it sent `peerswap_lightning` for
//!   that sidepool ID and hash to the sender.
//! - E-67: the fail path uses a *provisional* `peerswap_fail`
//!   ([`ProvisionalPeerswapFail`], sub-id [`PROVISIONAL_PEERSWAP_FAIL_SUB_ID`])
//!   shaped like `peerswap_success`; it is not part of the codec.
//! - E-68: in-sidepool HTLC claiming is reported as [`InSidepoolClaim`]; the
//!   Contraction Phase request itself is SIDEPOOL-04's.

use core::fmt;

use crate::peerswap::lightning_htlcs::HtlcRef;
use crate::peerswap::messages::{EncryptedPrivkey, PeerswapSuccess};
use crate::units::{PaymentHash, PoolId};

/// SIDEPOOL-06 Secure Private Key Handover, as this module needs it.
pub trait KeyHandover {
    type Error: fmt::Display;

    /// This endpoint's ephemeral private key for the in-sidepool HTLC, encrypted
    /// to the other endpoint's ephemeral public key: 32 encrypted bytes and the
    /// encryption public key (the 65-byte `..._ephemeral_privkey` value).
    fn encrypted_ephemeral_privkey(&self) -> Result<EncryptedPrivkey, Self::Error>;
}

/// Which peerswap: the sidepool and the hash (the pair every message carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerswapRef {
    pub id: PoolId,
    pub hash: PaymentHash,
}

/// One step of the ultimate offerrer's success path. The steps may be carried
/// out in any order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuccessStep {
    /// Send `peerswap_success` to the local acceptor.
    SendPeerswapSuccess(PeerswapSuccess),
    /// Fulfil this incoming in-Lightning HTLC (`update_fulfill_htlc` with the preimage).
    Fulfil(HtlcRef),
}

/// The ultimate offerrer's success path, once its hold completed with `htlcs`.
pub fn success_path<K: KeyHandover>(
    swap: PeerswapRef,
    htlcs: &[HtlcRef],
    handover: &K,
) -> Result<Vec<SuccessStep>, K::Error> {
    // SIDEPOOL-10: "In the success path, the ultimate offerrer hands over its ephemeral private key to the ultimate acceptor."
    let key = handover.encrypted_ephemeral_privkey()?;
    // The hold completed at the revision's amount (see `lightning_htlcs::in_lightning_amount`):
    // SIDEPOOL-10@seed: "In the success path (the ultimate offerrer receives total in-Lightning HTLCs equal or exceeding the agreed-upon amount), the ultimate offerrer MUST send `peerswap_success`."
    // SIDEPOOL-10@upstream-50799b4: "In the success path (the ultimate offerrer receives total in-Lightning HTLCs equal or exceeding the in-sidepool HTLC amount), the ultimate offerrer MUST send `peerswap_success`."
    let mut steps = vec![SuccessStep::SendPeerswapSuccess(PeerswapSuccess {
        id: swap.id,
        hash: swap.hash,
        ephemeral_privkey: key,
        unknown: Vec::new(),
    })];
    // SIDEPOOL-10: "The ultimate offerrer MUST also fulfill each of the incoming in-Lightning HTLCs."
    // SIDEPOOL-10: "i.e. there is no ordering requirement to `peerswap_success` with respect to the in-Lightning HTLCs being fulfilled."
    steps.extend(htlcs.iter().copied().map(SuccessStep::Fulfil));
    Ok(steps)
}

/// A resolution message that does not belong to the peerswap its receiver
/// looked up: the receiver logs and ignores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResolutionMismatch {
    PoolId,
    Hash,
}

impl ResolutionMismatch {
    pub fn name(&self) -> &'static str {
        match self {
            ResolutionMismatch::PoolId => "pool_id_mismatch",
            ResolutionMismatch::Hash => "hash_mismatch",
        }
    }
}

impl fmt::Display for ResolutionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolutionMismatch::PoolId => f.write_str("sidepool ID differs from the peerswap's; ignored"),
            ResolutionMismatch::Hash => f.write_str("hash differs from the peerswap's; ignored"),
        }
    }
}

impl std::error::Error for ResolutionMismatch {}

fn matches(expected: PeerswapRef, id: PoolId, hash: PaymentHash) -> Result<(), ResolutionMismatch> {
    if id != expected.id {
        return Err(ResolutionMismatch::PoolId);
    }
    if hash != expected.hash {
        return Err(ResolutionMismatch::Hash);
    }
    Ok(())
}

/// The role of a `peerswap_success` receiver in this peerswap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuccessReceiver {
    Forwarder,
    UltimateAcceptor,
}

/// Who now holds both ephemeral private keys and claims the in-sidepool HTLC
/// in the Contraction Phase (ERRATA E-68).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InSidepoolClaim {
    /// Success path: the ultimate acceptor claims, with the offerrer's key.
    AcceptorClaims { offerrer_key: EncryptedPrivkey },
    /// Fail path: the ultimate offerrer reclaims, with the acceptor's key.
    OfferrerReclaims { acceptor_key: EncryptedPrivkey },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuccessReceipt {
    /// Forwarder: send this to its local acceptor (the received message, as-is).
    Forward(PeerswapSuccess),
    /// Ultimate acceptor: decrypt the key (SIDEPOOL-06) and claim.
    Claim(InSidepoolClaim),
}

/// Handles a `peerswap_success` from the local offerrer of the peerswap `expected`
/// (the one this node sent `peerswap_lightning` to the sender for).
pub fn receive_success(
    expected: PeerswapRef,
    role: SuccessReceiver,
    msg: &PeerswapSuccess,
) -> Result<SuccessReceipt, ResolutionMismatch> {
    matches(expected, msg.id, msg.hash)?;
    Ok(match role {
        // SIDEPOOL-10: "The ultimate offerrer sends out `peerswap_success`, which forwarders then forward to the ultimate acceptor."
        // As-is: the key is encrypted to the ultimate acceptor and id and hash are the same on every hop (ERRATA E-66).
        SuccessReceiver::Forwarder => SuccessReceipt::Forward(msg.clone()),
        SuccessReceiver::UltimateAcceptor => {
            SuccessReceipt::Claim(InSidepoolClaim::AcceptorClaims { offerrer_key: msg.ephemeral_privkey })
        }
    })
}

/// PROVISIONAL (ERRATA E-67): the sub-id the reference would give `peerswap_fail`,
/// the next even id after `peerswap_success` (1010). Not registered in the codec.
pub const PROVISIONAL_PEERSWAP_FAIL_SUB_ID: u16 = 1012;

/// PROVISIONAL (ERRATA E-67): `peerswap_fail`, mirroring `peerswap_success`:
/// TLVs 101200 (id, 16 bytes), 101202 (hash, 32 bytes), 101204 (the encrypted
/// acceptor ephemeral private key and encryption public key, 65 bytes), all required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionalPeerswapFail {
    pub id: PoolId,
    pub hash: PaymentHash,
    pub ephemeral_privkey: EncryptedPrivkey,
}

/// The ultimate acceptor's fail path, once all its in-Lightning HTLCs have been
/// failed and their removal irrevocably committed.
pub fn fail_path<K: KeyHandover>(swap: PeerswapRef, handover: &K) -> Result<ProvisionalPeerswapFail, K::Error> {
    // SIDEPOOL-10: "The ultimate acceptor sends out `peerswap_fail`, which forwarders then forward to the ultimate offerrer."
    // SIDEPOOL-10: "In the fail path, the ultimate acceptor hands over its ephemeral private key to the ultimate offerrer."
    Ok(ProvisionalPeerswapFail { id: swap.id, hash: swap.hash, ephemeral_privkey: handover.encrypted_ephemeral_privkey()? })
}

/// The role of a `peerswap_fail` receiver in this peerswap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailReceiver {
    Forwarder,
    UltimateOfferrer,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailReceipt {
    /// Forwarder: send this to its local offerrer (as-is).
    Forward(ProvisionalPeerswapFail),
    /// Ultimate offerrer: decrypt the key (SIDEPOOL-06) and reclaim.
    Claim(InSidepoolClaim),
}

/// Handles a provisional `peerswap_fail` from the local acceptor of `expected`.
pub fn receive_fail(
    expected: PeerswapRef,
    role: FailReceiver,
    msg: &ProvisionalPeerswapFail,
) -> Result<FailReceipt, ResolutionMismatch> {
    matches(expected, msg.id, msg.hash)?;
    Ok(match role {
        FailReceiver::Forwarder => FailReceipt::Forward(msg.clone()),
        FailReceiver::UltimateOfferrer => {
            FailReceipt::Claim(InSidepoolClaim::OfferrerReclaims { acceptor_key: msg.ephemeral_privkey })
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn mismatches_have_their_log_names() {
        // The names the node logs and the session engine reports for an ignored resolution.
        assert_eq!(ResolutionMismatch::PoolId.name(), "pool_id_mismatch");
        assert_eq!(ResolutionMismatch::Hash.name(), "hash_mismatch");
    }

    use super::*;
    use crate::units::PublicKey;

    struct FixedKey(Option<EncryptedPrivkey>);
    impl KeyHandover for FixedKey {
        type Error = &'static str;
        fn encrypted_ephemeral_privkey(&self) -> Result<EncryptedPrivkey, &'static str> {
            self.0.ok_or("no key")
        }
    }

    fn key() -> EncryptedPrivkey {
        let mut g = [0u8; 33];
        g.copy_from_slice(&hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap());
        EncryptedPrivkey { encrypted_key: [0x5a; 32], encryption_pubkey: PublicKey::from_bytes(g).unwrap() }
    }
    fn swap() -> PeerswapRef {
        PeerswapRef { id: PoolId([1; 16]), hash: PaymentHash([2; 32]) }
    }

    #[test]
    fn success_sends_message_and_fulfils_every_htlc() {
        let steps = success_path(swap(), &[HtlcRef(4), HtlcRef(5)], &FixedKey(Some(key()))).unwrap();
        assert_eq!(steps.len(), 3);
        let SuccessStep::SendPeerswapSuccess(msg) = &steps[0] else { panic!("first step is the message") };
        assert_eq!((msg.id, msg.hash, msg.ephemeral_privkey), (swap().id, swap().hash, key()));
        assert_eq!(steps[1..], [SuccessStep::Fulfil(HtlcRef(4)), SuccessStep::Fulfil(HtlcRef(5))]);
        assert_eq!(success_path(swap(), &[], &FixedKey(None)), Err("no key"));
    }

    #[test]
    fn success_is_forwarded_as_is_and_claimed_at_the_end() {
        let mut msg = PeerswapSuccess { id: swap().id, hash: swap().hash, ephemeral_privkey: key(), unknown: vec![] };
        msg.unknown.push(crate::wire::tlv::TlvRecord { typ: 101_005, value: vec![9] });
        assert_eq!(receive_success(swap(), SuccessReceiver::Forwarder, &msg), Ok(SuccessReceipt::Forward(msg.clone())));
        assert_eq!(
            receive_success(swap(), SuccessReceiver::UltimateAcceptor, &msg),
            Ok(SuccessReceipt::Claim(InSidepoolClaim::AcceptorClaims { offerrer_key: key() }))
        );
        let other = PeerswapRef { hash: PaymentHash([3; 32]), ..swap() };
        assert_eq!(receive_success(other, SuccessReceiver::Forwarder, &msg), Err(ResolutionMismatch::Hash));
        let other = PeerswapRef { id: PoolId([9; 16]), ..swap() };
        assert_eq!(receive_success(other, SuccessReceiver::Forwarder, &msg), Err(ResolutionMismatch::PoolId));
    }

    #[test]
    fn fail_path_hands_acceptor_key_to_offerrer() {
        let fail = fail_path(swap(), &FixedKey(Some(key()))).unwrap();
        assert_eq!(receive_fail(swap(), FailReceiver::Forwarder, &fail), Ok(FailReceipt::Forward(fail.clone())));
        assert_eq!(
            receive_fail(swap(), FailReceiver::UltimateOfferrer, &fail),
            Ok(FailReceipt::Claim(InSidepoolClaim::OfferrerReclaims { acceptor_key: key() }))
        );
        assert_eq!(PROVISIONAL_PEERSWAP_FAIL_SUB_ID % 2, 0);
    }
}
