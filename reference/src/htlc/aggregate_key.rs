//! The aggregate private key: after a handover one participant holds both
//! ephemeral private keys and can sign the HTLC's key-path spend alone.
//!
//! SIDEPOOL-06 says the holder computes "the private key corresponding to the
//! aggregate ephemeral public key"; a key-path spend needs the key behind the
//! *tweaked* output key, so this module derives that one (ERRATA E-26):
//! `d = g·(a₁·x₁ + a₂·x₂) + t mod n`, with `aᵢ` the BIP-327 KeyAgg coefficients,
//! `g = -1` when the aggregate point `Q` has odd y (BIP-341 uses `lift_x(x(Q))`),
//! and `t` the BIP-341 TapTweak. Then `d·G` is the output point, parity included.

use core::fmt;

use bitcoin::key::XOnlyPublicKey;
use bitcoin::secp256k1::{schnorr, Message, Secp256k1};

use super::musig::KeyAggContext;
use super::secret::{with_keypair, AggregateSecretKey, EphemeralSecretKey, NotAScalar};
use super::taproot_key::{htlc_taproot_key, internal_public_key, HtlcKeyError, HtlcKeyInputs, HtlcTaprootKey};

/// Why the aggregate private key could not be formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateKeyError {
    /// The HTLC key itself could not be derived from the inputs.
    HtlcKey(HtlcKeyError),
    /// The offerrer ephemeral private key given is not the one behind the offerrer ephemeral public key.
    OfferrerKeyMismatch,
    /// The acceptor ephemeral private key given is not the one behind the acceptor ephemeral public key.
    AcceptorKeyMismatch,
    /// The aggregated scalar does not give the output key (or is zero): cannot happen with matching keys.
    OutputKeyMismatch,
}

impl AggregateKeyError {
    pub fn code(&self) -> &'static str {
        match self {
            AggregateKeyError::HtlcKey(e) => e.code(),
            AggregateKeyError::OfferrerKeyMismatch => "offerrer_ephemeral_privkey_mismatch",
            AggregateKeyError::AcceptorKeyMismatch => "acceptor_ephemeral_privkey_mismatch",
            AggregateKeyError::OutputKeyMismatch => "aggregate_key_mismatch",
        }
    }
}

impl fmt::Display for AggregateKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AggregateKeyError::HtlcKey(e) => e.fmt(f),
            AggregateKeyError::OfferrerKeyMismatch => f.write_str("offerrer ephemeral private key does not match its public key"),
            AggregateKeyError::AcceptorKeyMismatch => f.write_str("acceptor ephemeral private key does not match its public key"),
            AggregateKeyError::OutputKeyMismatch => f.write_str("aggregated private key does not give the HTLC output key"),
        }
    }
}

/// The private key behind the HTLC's tweaked Taproot output key.
// SIDEPOOL-06: "Participant B is now in possession of both participant A ephemeral private key and participant B ephemeral private key, and can compute MuSig homomorphically on the private keys to generate the private key corresponding to the aggregate ephemeral public key."
// SIDEPOOL-01: "In some contexts, there is a need to aggregate private keys; while not described in detail, operations homomorphic to public key (SECP256K1 curve points) operations can be performed in the private key (scalars of the SECP256K1 group order)."
pub fn aggregate_private_key(
    inputs: &HtlcKeyInputs,
    offerrer_ephemeral: &EphemeralSecretKey,
    acceptor_ephemeral: &EphemeralSecretKey,
) -> Result<AggregateSecretKey, AggregateKeyError> {
    if offerrer_ephemeral.public_key() != inputs.offerrer_ephemeral {
        return Err(AggregateKeyError::OfferrerKeyMismatch);
    }
    if acceptor_ephemeral.public_key() != inputs.acceptor_ephemeral {
        return Err(AggregateKeyError::AcceptorKeyMismatch);
    }
    let htlc = htlc_taproot_key(inputs).map_err(AggregateKeyError::HtlcKey)?;
    let ctx = internal_public_key(&inputs.offerrer_ephemeral, &inputs.acceptor_ephemeral).map_err(AggregateKeyError::HtlcKey)?;
    tweaked_secret(&ctx, &htlc, offerrer_ephemeral, acceptor_ephemeral)
}

/// Applies the BIP-341 tweak as a BIP-327 x-only tweak and aggregates the two
/// secrets in KeyAgg order; the result must give exactly the BIP-341 output key.
fn tweaked_secret(
    ctx: &KeyAggContext,
    htlc: &HtlcTaprootKey,
    offerrer_ephemeral: &EphemeralSecretKey,
    acceptor_ephemeral: &EphemeralSecretKey,
) -> Result<AggregateSecretKey, AggregateKeyError> {
    let tweaked = ctx.clone().apply_tweak(&htlc.taproot.tweak, true).map_err(|_| AggregateKeyError::OutputKeyMismatch)?;
    let secret = zeroize::Zeroizing::new(
        tweaked
            .aggregate_secret(&[offerrer_ephemeral.expose_secret(), acceptor_ephemeral.expose_secret()])
            .ok_or(AggregateKeyError::OutputKeyMismatch)?,
    );
    let key = AggregateSecretKey::from_bytes(&secret).map_err(|_| AggregateKeyError::OutputKeyMismatch)?;
    // Cross-check the musig2 tweak against the BIP-341 computation, parity included.
    let (xonly, parity) = key.public_key().to_secp().x_only_public_key();
    let parity_bit = match parity {
        bitcoin::secp256k1::Parity::Even => 0,
        bitcoin::secp256k1::Parity::Odd => 1,
    };
    if xonly.serialize() != htlc.output_key() || parity_bit != htlc.taproot.output_key_parity {
        return Err(AggregateKeyError::OutputKeyMismatch);
    }
    Ok(key)
}

/// A BIP-340 signature for a key-path spend, with caller-given auxiliary randomness
/// (fixed in vectors so signatures are reproducible).
///
/// `Err` cannot happen for a constructed [`AggregateSecretKey`] (it holds a valid
/// scalar); it is returned rather than a placeholder signature all the same.
pub fn sign_key_path(key: &AggregateSecretKey, message: &[u8; 32], aux_rand: &[u8; 32]) -> Result<[u8; 64], NotAScalar> {
    let secp = Secp256k1::signing_only();
    let msg = Message::from_digest(*message);
    with_keypair(key.expose_secret(), |kp| secp.sign_schnorr_with_aux_rand(&msg, kp, aux_rand).serialize())
}

/// BIP-340 verification of a key-path signature against a 32-byte x-only output key.
pub fn verify_key_path(output_key: &[u8; 32], message: &[u8; 32], signature: &[u8; 64]) -> bool {
    let secp = Secp256k1::verification_only();
    let (Ok(key), Ok(sig)) = (XOnlyPublicKey::from_slice(output_key), schnorr::Signature::from_slice(signature)) else {
        return false;
    };
    secp.verify_schnorr(&sig, &Message::from_digest(*message), &key).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{BlockHeight, PaymentHash};

    fn eph(seed: u8) -> EphemeralSecretKey {
        EphemeralSecretKey::from_bytes(&[seed; 32]).unwrap()
    }

    #[test]
    fn aggregate_key_signs_for_the_output_key() {
        for (o, a) in [(1u8, 3u8), (5, 6), (7, 7), (9, 2), (11, 12), (13, 14)] {
            let (off, acc) = (eph(o), eph(a));
            let inputs = HtlcKeyInputs {
                offerrer_ephemeral: off.public_key(),
                offerrer_persistent: eph(100).public_key(),
                acceptor_ephemeral: acc.public_key(),
                acceptor_persistent: eph(101).public_key(),
                hash: PaymentHash([o; 32]),
                lock_time: BlockHeight(1000),
            };
            let key = aggregate_private_key(&inputs, &off, &acc).unwrap();
            let out = htlc_taproot_key(&inputs).unwrap().output_key();
            let sig = sign_key_path(&key, &[0x5a; 32], &[0u8; 32]).unwrap();
            assert!(verify_key_path(&out, &[0x5a; 32], &sig));
            assert!(!verify_key_path(&out, &[0x5b; 32], &sig));
            assert_eq!(aggregate_private_key(&inputs, &acc, &off).err().map(|e| e.code()), if o == a { None } else { Some("offerrer_ephemeral_privkey_mismatch") });
        }
    }

    #[test]
    fn acceptor_mismatch_is_named() {
        let (off, acc) = (eph(1), eph(2));
        let inputs = HtlcKeyInputs {
            offerrer_ephemeral: off.public_key(),
            offerrer_persistent: eph(3).public_key(),
            acceptor_ephemeral: acc.public_key(),
            acceptor_persistent: eph(4).public_key(),
            hash: PaymentHash([0; 32]),
            lock_time: BlockHeight(1),
        };
        assert_eq!(aggregate_private_key(&inputs, &off, &eph(3)).err(), Some(AggregateKeyError::AcceptorKeyMismatch));
    }

    /// The musig2 / BIP-341 cross-check refuses a key that matches the output key's x
    /// coordinate but not its parity, and one that matches the parity but not x: each half
    /// of the check on its own (a check that needs both to differ would pass either).
    #[test]
    fn cross_check_refuses_a_wrong_parity_and_a_wrong_x_each_alone() {
        let (off, acc) = (eph(21), eph(22));
        let inputs = HtlcKeyInputs {
            offerrer_ephemeral: off.public_key(),
            offerrer_persistent: eph(23).public_key(),
            acceptor_ephemeral: acc.public_key(),
            acceptor_persistent: eph(24).public_key(),
            hash: PaymentHash([9; 32]),
            lock_time: BlockHeight(800_000),
        };
        let htlc = htlc_taproot_key(&inputs).unwrap();
        let ctx = internal_public_key(&inputs.offerrer_ephemeral, &inputs.acceptor_ephemeral).unwrap();
        assert!(tweaked_secret(&ctx, &htlc, &off, &acc).is_ok());

        let mut wrong_parity = htlc.clone();
        wrong_parity.taproot.output_key_parity ^= 1;
        assert_eq!(tweaked_secret(&ctx, &wrong_parity, &off, &acc).err(), Some(AggregateKeyError::OutputKeyMismatch));

        let mut wrong_x = htlc.clone();
        wrong_x.taproot.output_key[31] ^= 1;
        assert_eq!(tweaked_secret(&ctx, &wrong_x, &off, &acc).err(), Some(AggregateKeyError::OutputKeyMismatch));
    }
}
