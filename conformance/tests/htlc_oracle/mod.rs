//! An independent computation of SIDEPOOL-06 values, used to produce the expected
//! outputs of the HTLC vectors. It deliberately shares no code with the reference:
//! KeyAgg from BIP-327's tagged hashes on libsecp256k1 points (the reference uses
//! the `musig2` crate), scripts as literal bytes (the reference uses a script
//! builder), BIP-341 hashes written out by hand (the reference uses `bitcoin::taproot`),
//! ECDH through libsecp256k1's own ECDH module, and scalar arithmetic on secret keys.
#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use bitcoin::bech32;
use bitcoin::hashes::{ripemd160, sha256, Hash, HashEngine};
use bitcoin::secp256k1::{ecdh::SharedSecret, Keypair, Message, Parity, PublicKey, Scalar, Secp256k1, SecretKey};

pub fn sha(text: &str) -> [u8; 32] {
    sha256::Hash::hash(text.as_bytes()).to_byte_array()
}

pub fn tagged(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let t = sha256::Hash::hash(tag.as_bytes());
    let mut e = sha256::Hash::engine();
    e.input(t.as_ref());
    e.input(t.as_ref());
    for p in parts {
        e.input(p);
    }
    sha256::Hash::from_engine(e).to_byte_array()
}

pub fn secret(bytes: [u8; 32]) -> SecretKey {
    SecretKey::from_slice(&bytes).expect("test seed is a valid scalar")
}

pub fn public(sk: &SecretKey) -> PublicKey {
    sk.public_key(&Secp256k1::new())
}

pub struct KeyAgg {
    pub q: PublicKey,
    pub coefficients: Vec<[u8; 32]>,
}

/// BIP-327 KeyAgg, list order as given.
pub fn key_agg(keys: &[PublicKey]) -> KeyAgg {
    let secp = Secp256k1::new();
    let ser: Vec<[u8; 33]> = keys.iter().map(PublicKey::serialize).collect();
    let list: Vec<u8> = ser.concat();
    let l = tagged("KeyAgg list", &[&list]);
    let second = ser.iter().find(|k| **k != ser[0]).copied();
    let mut one = [0u8; 32];
    one[31] = 1;
    let coefficients: Vec<[u8; 32]> =
        ser.iter().map(|k| if Some(*k) == second { one } else { tagged("KeyAgg coefficient", &[&l, k]) }).collect();
    let parts: Vec<PublicKey> = keys
        .iter()
        .zip(&coefficients)
        .map(|(k, a)| k.mul_tweak(&secp, &Scalar::from_be_bytes(*a).unwrap()).unwrap())
        .collect();
    let refs: Vec<&PublicKey> = parts.iter().collect();
    KeyAgg { q: PublicKey::combine_keys(&refs).unwrap(), coefficients }
}

/// Minimal script-number push.
pub fn push_num(n: u32) -> Vec<u8> {
    match n {
        0 => vec![0x00],
        1..=16 => vec![0x50 + n as u8],
        _ => {
            let mut le: Vec<u8> = n.to_le_bytes().to_vec();
            while le.last() == Some(&0) {
                le.pop();
            }
            if le.last().is_some_and(|b| b & 0x80 != 0) {
                le.push(0x00);
            }
            let mut out = vec![le.len() as u8];
            out.extend(le);
            out
        }
    }
}

pub fn xonly(k: &PublicKey) -> [u8; 32] {
    k.serialize()[1..].try_into().unwrap()
}

pub fn hashlock_script(hash: &[u8; 32], acceptor_persistent: &PublicKey) -> Vec<u8> {
    let mut s = vec![0xa9, 0x14];
    s.extend(ripemd160::Hash::hash(hash).to_byte_array());
    s.extend([0x88, 0x20]);
    s.extend(xonly(acceptor_persistent));
    s.push(0xac);
    s
}

pub fn timelock_script(locktime: u32, offerrer_persistent: &PublicKey) -> Vec<u8> {
    let mut s = vec![0x51, 0xb2];
    s.extend(push_num(locktime));
    s.extend([0xb1, 0x75, 0x20]);
    s.extend(xonly(offerrer_persistent));
    s.push(0xad);
    s
}

pub fn leaf_hash(version: u8, script: &[u8]) -> [u8; 32] {
    assert!(script.len() < 253, "oracle handles one-byte compact sizes only");
    tagged("TapLeaf", &[&[version], &[script.len() as u8], script])
}

pub fn branch_hash(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    tagged("TapBranch", &[lo, hi])
}

pub struct Output {
    pub tweak: [u8; 32],
    pub key: [u8; 32],
    pub parity: u8,
}

/// BIP-341 taproot_tweak_pubkey: Q = lift_x(p) + t·G.
pub fn tweak(internal: &[u8; 32], merkle_root: Option<&[u8; 32]>) -> Output {
    let t = match merkle_root {
        Some(r) => tagged("TapTweak", &[internal, r]),
        None => tagged("TapTweak", &[internal]),
    };
    let mut even = [0x02u8; 33];
    even[1..].copy_from_slice(internal);
    let p = PublicKey::from_slice(&even).unwrap();
    let q = p.add_exp_tweak(&Secp256k1::new(), &Scalar::from_be_bytes(t).unwrap()).unwrap();
    let ser = q.serialize();
    Output { tweak: t, key: ser[1..].try_into().unwrap(), parity: ser[0] - 2 }
}

pub fn address(output_key: &[u8; 32], network: &str) -> String {
    let hrp = match network {
        "bitcoin" => "bc",
        "testnet" | "signet" => "tb",
        "regtest" => "bcrt",
        other => panic!("unknown network {other}"),
    };
    bech32::segwit::encode_v1(bech32::Hrp::parse(hrp).unwrap(), output_key).unwrap()
}

pub struct Handover {
    pub shared_point: [u8; 33],
    pub symmetric_key: [u8; 32],
    pub encryption_pubkey: [u8; 33],
    pub value: [u8; 65],
}

/// ECDH (libsecp256k1's module hashes the compressed point with SHA-256) and XOR.
pub fn handover(sender: &SecretKey, receiver_pub: &PublicKey, encryption: &SecretKey) -> Handover {
    let secp = Secp256k1::new();
    let shared = receiver_pub.mul_tweak(&secp, &Scalar::from(*encryption)).unwrap().serialize();
    let symmetric_key = SharedSecret::new(receiver_pub, encryption).secret_bytes();
    assert_eq!(symmetric_key, sha256::Hash::hash(&shared).to_byte_array(), "libsecp ECDH is SHA-256 of the compressed point");
    let encryption_pubkey = public(encryption).serialize();
    let mut value = [0u8; 65];
    for (i, (s, k)) in sender.secret_bytes().iter().zip(symmetric_key).enumerate() {
        value[i] = s ^ k;
    }
    value[32..].copy_from_slice(&encryption_pubkey);
    Handover { shared_point: shared, symmetric_key, encryption_pubkey, value }
}

/// d = g·Σ aᵢ·xᵢ + t, g = −1 when Q has odd y.
pub fn aggregate_secret(secrets: &[SecretKey], agg: &KeyAgg, tweak: &[u8; 32]) -> SecretKey {
    let mut sum: Option<SecretKey> = None;
    for (x, a) in secrets.iter().zip(&agg.coefficients) {
        let term = x.mul_tweak(&Scalar::from_be_bytes(*a).unwrap()).unwrap();
        sum = Some(match sum {
            None => term,
            Some(s) => s.add_tweak(&Scalar::from(term)).unwrap(),
        });
    }
    let mut s = sum.unwrap();
    if agg.q.x_only_public_key().1 == Parity::Odd {
        s = s.negate();
    }
    s.add_tweak(&Scalar::from_be_bytes(*tweak).unwrap()).unwrap()
}

pub fn sign(d: &SecretKey, message: &[u8; 32], aux: &[u8; 32]) -> [u8; 64] {
    let secp = Secp256k1::new();
    secp.sign_schnorr_with_aux_rand(&Message::from_digest(*message), &Keypair::from_secret_key(&secp, d), aux).serialize()
}
