//! Property tests for SIDEPOOL-06: handover round trip, aggregate key signs, output key sensitivity.

use proptest::prelude::*;
use sidepool_reference::htlc::{
    aggregate_private_key, decrypt, encrypt, htlc_taproot_key, sign_key_path, verify_key_path, EncryptionSecretKey,
    EphemeralSecretKey, HandoverError, HtlcKeyInputs,
};
use sidepool_reference::units::{BlockHeight, PaymentHash};

fn eph_key() -> impl Strategy<Value = EphemeralSecretKey> {
    any::<[u8; 32]>().prop_filter_map("not a scalar", |b| EphemeralSecretKey::from_bytes(&b).ok())
}
fn enc_key() -> impl Strategy<Value = EncryptionSecretKey> {
    any::<[u8; 32]>().prop_filter_map("not a scalar", |b| EncryptionSecretKey::from_bytes(&b).ok())
}

/// HTLC inputs together with the two ephemeral private keys behind them.
fn htlc_case() -> impl Strategy<Value = (HtlcKeyInputs, EphemeralSecretKey, EphemeralSecretKey)> {
    (eph_key(), eph_key(), eph_key(), eph_key(), any::<[u8; 32]>(), 0u32..500_000_000).prop_map(|(oe, op, ae, ap, hash, lt)| {
        let inputs = HtlcKeyInputs {
            offerrer_ephemeral: oe.public_key(),
            offerrer_persistent: op.public_key(),
            acceptor_ephemeral: ae.public_key(),
            acceptor_persistent: ap.public_key(),
            hash: PaymentHash(hash),
            lock_time: BlockHeight(lt),
        };
        (inputs, oe, ae)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decrypt_of_encrypt_is_the_sender_key(a in eph_key(), b in eph_key(), e in enc_key()) {
        let t = encrypt(a.clone(), &b.public_key(), &e).unwrap();
        let got = decrypt(&t.value, &b, &a.public_key()).unwrap();
        prop_assert_eq!(got.expose_secret(), a.expose_secret());
    }

    #[test]
    fn a_wrong_receiver_key_never_yields_a_key(a in eph_key(), b in eph_key(), c in eph_key(), e in enc_key()) {
        prop_assume!(b != c);
        let t = encrypt(a.clone(), &b.public_key(), &e).unwrap();
        let err = decrypt(&t.value, &c, &a.public_key()).unwrap_err();
        prop_assert!(matches!(err, HandoverError::HandedOverKeyMismatch | HandoverError::HandedOverKeyNotAScalar));
    }

    #[test]
    fn aggregate_private_key_signs_for_the_output_key((inputs, off, acc) in htlc_case(), msg in any::<[u8; 32]>(), aux in any::<[u8; 32]>()) {
        let key = aggregate_private_key(&inputs, &off, &acc).unwrap();
        let output_key = htlc_taproot_key(&inputs).unwrap().output_key();
        let sig = sign_key_path(&key, &msg, &aux).unwrap();
        prop_assert!(verify_key_path(&output_key, &msg, &sig));
    }

    #[test]
    fn changing_any_single_input_changes_the_output_key(
        (inputs, _off, _acc) in htlc_case(),
        other in eph_key(),
        which in 0usize..6,
        flip in 0usize..32,
        lt_delta in 1u32..1000,
    ) {
        let base = htlc_taproot_key(&inputs).unwrap().output_key();
        let mut changed = inputs;
        match which {
            0 => changed.offerrer_ephemeral = other.public_key(),
            1 => changed.offerrer_persistent = other.public_key(),
            2 => changed.acceptor_ephemeral = other.public_key(),
            3 => changed.acceptor_persistent = other.public_key(),
            4 => changed.hash.0[flip] ^= 0x01,
            _ => changed.lock_time = BlockHeight((inputs.lock_time.0 + lt_delta) % 500_000_000),
        }
        prop_assume!(changed != inputs);
        prop_assert_ne!(htlc_taproot_key(&changed).unwrap().output_key(), base);
    }
}
