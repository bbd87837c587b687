//! Random inputs: the reference agrees with the independent oracle on every HTLC
//! key intermediate, the handover ciphertext and the aggregate private key.

mod htlc_oracle;

use bitcoin::secp256k1::SecretKey;
use htlc_oracle as o;
use proptest::prelude::*;
use sidepool_reference::htlc::handover::{encode_handover_value, encrypt};
use sidepool_reference::htlc::{aggregate_private_key, htlc_taproot_key, EncryptionSecretKey, EphemeralSecretKey, HtlcKeyInputs};
use sidepool_reference::units::{BlockHeight, PaymentHash, PublicKey};

fn sk() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("not a scalar", |b| SecretKey::from_slice(&b).ok())
}

fn pk(k: &SecretKey) -> PublicKey {
    PublicKey::from_bytes(o::public(k).serialize()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn htlc_key_matches_oracle(oe in sk(), op in sk(), ae in sk(), ap in sk(), hash in any::<[u8; 32]>(), lt in 0u32..500_000_000, same in any::<bool>()) {
        let ae = if same { oe } else { ae };
        let inputs = HtlcKeyInputs {
            offerrer_ephemeral: pk(&oe), offerrer_persistent: pk(&op), acceptor_ephemeral: pk(&ae), acceptor_persistent: pk(&ap),
            hash: PaymentHash(hash), lock_time: BlockHeight(lt),
        };
        let r = htlc_taproot_key(&inputs).unwrap();
        let agg = o::key_agg(&[o::public(&oe), o::public(&ae)]);
        prop_assert_eq!(r.aggregate_key, agg.q.serialize());
        prop_assert_eq!(r.offerrer_key_coefficient, agg.coefficients[0]);
        prop_assert_eq!(r.acceptor_key_coefficient, agg.coefficients[1]);
        let hl = o::hashlock_script(&hash, &o::public(&ap));
        let tl = o::timelock_script(lt, &o::public(&op));
        prop_assert_eq!(&r.hashlock_script, &hl);
        prop_assert_eq!(&r.timelock_script, &tl);
        let (hlh, tlh) = (o::leaf_hash(0xc0, &hl), o::leaf_hash(0xc0, &tl));
        prop_assert_eq!(&r.taproot.leaf_hashes, &vec![hlh, tlh]);
        let root = o::branch_hash(&hlh, &tlh);
        prop_assert_eq!(r.taproot.merkle_root, Some(root));
        let out = o::tweak(&o::xonly(&agg.q), Some(&root));
        prop_assert_eq!(r.taproot.tweak, out.tweak);
        prop_assert_eq!(r.output_key(), out.key);
        prop_assert_eq!(r.taproot.output_key_parity, out.parity);
        prop_assert_eq!(r.address(bitcoin::Network::Regtest).unwrap(), o::address(&out.key, "regtest"));

        let d = o::aggregate_secret(&[oe, ae], &agg, &out.tweak);
        let key = aggregate_private_key(
            &inputs,
            &EphemeralSecretKey::from_bytes(&oe.secret_bytes()).unwrap(),
            &EphemeralSecretKey::from_bytes(&ae.secret_bytes()).unwrap(),
        ).unwrap();
        prop_assert_eq!(key.expose_secret(), &d.secret_bytes());
    }

    #[test]
    fn handover_matches_oracle(a in sk(), b in sk(), e in sk()) {
        let want = o::handover(&a, &o::public(&b), &e);
        let t = encrypt(
            EphemeralSecretKey::from_bytes(&a.secret_bytes()).unwrap(),
            &pk(&b),
            &EncryptionSecretKey::from_bytes(&e.secret_bytes()).unwrap(),
        ).unwrap();
        prop_assert_eq!(t.shared_point.as_bytes(), want.shared_point);
        prop_assert_eq!(t.symmetric_key.expose_secret(), &want.symmetric_key);
        prop_assert_eq!(encode_handover_value(&t.value), want.value);
    }
}
