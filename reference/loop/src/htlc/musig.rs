//! The v3 internal key: MuSig2 key aggregation, with key sorting, in the version the
//! swap's protocol version picks (LOOP-01 `loop.v3.4` to `loop.v3.6`).
//!
//! 1.0.0-rc2 is BIP-327 KeySort + KeyAgg (the `musig2` crate's arithmetic). 0.4.0 is
//! the older draft over x-only keys, written out here from lnd's description of it:
//! the `musig2` crate implements only BIP-327. The two meet `bitcoin`'s secp256k1
//! as bytes.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::key::XOnlyPublicKey;
use musig2::secp::{MaybePoint, MaybeScalar, Point};

use super::{HtlcError, KeyRole};
use crate::protocol::MuSig2Version;

/// A key as a MuSig2 version reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParsedKey {
    /// The point as a 33-byte compressed key (for 0.4.0 always the even-y point).
    pub compressed: [u8; 33],
    /// Its 32-byte x-only encoding, as the tapleaves push it.
    pub xonly: [u8; 32],
}

/// Reads a 33-byte key as Loop's `parsePubKey` does for `version`: a compressed point
/// for 1.0.0-rc2; for 0.4.0 only bytes 1 to 33, as the even-y point on that x.
pub fn parse_key(version: MuSig2Version, role: KeyRole, bytes: &[u8]) -> Result<ParsedKey, HtlcError> {
    let invalid = HtlcError::InvalidKey(role);
    let arr: [u8; 33] = bytes.try_into().map_err(|_| invalid)?;
    let mut xonly = [0u8; 32];
    xonly.copy_from_slice(&arr[1..]);
    match version {
        MuSig2Version::V100Rc2 => {
            if !matches!(arr[0], 0x02 | 0x03) {
                return Err(invalid);
            }
            Point::from_slice(&arr).map_err(|_| invalid)?;
            Ok(ParsedKey { compressed: arr, xonly })
        }
        MuSig2Version::V040 => {
            XOnlyPublicKey::from_slice(&xonly).map_err(|_| invalid)?;
            let mut compressed = [0x02; 33];
            compressed[1..].copy_from_slice(&xonly);
            Ok(ParsedKey { compressed, xonly })
        }
    }
}

/// The aggregate point `Q` (compressed) of the sender and receiver internal keys.
// LOOP-01: "The v3 internal key MUST be the MuSig2 aggregate, with key sorting, of the sender internal key and the receiver internal key, in the key aggregation of the swap's MuSig2 version."
pub fn aggregate_internal_key(version: MuSig2Version, sender: &ParsedKey, receiver: &ParsedKey) -> Result<[u8; 33], HtlcError> {
    match version {
        MuSig2Version::V100Rc2 => key_agg_rc2(&[sender.compressed, receiver.compressed]),
        MuSig2Version::V040 => key_agg_v040(&[sender.xonly, receiver.xonly], true),
    }
}

/// BIP-327 KeySort then KeyAgg.
// LOOP-01: "With MuSig2 version 1.0.0-rc2 the aggregate MUST be BIP-327 KeyAgg over the two 33-byte compressed keys in BIP-327 KeySort order."
pub fn key_agg_rc2(keys: &[[u8; 33]]) -> Result<[u8; 33], HtlcError> {
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    let mut points = Vec::with_capacity(sorted.len());
    for k in &sorted {
        points.push(Point::from_slice(k).map_err(|_| HtlcError::KeyAggregation)?);
    }
    let ctx = musig2::KeyAggContext::new(points).map_err(|_| HtlcError::KeyAggregation)?;
    Ok(ctx.aggregated_pubkey::<Point>().serialize())
}

/// The MuSig2 0.4.0 key aggregation over x-only keys, sorted first when `sort`.
// LOOP-01: "With MuSig2 version 0.4.0 the aggregate MUST be the 0.4.0 key aggregation: each key taken as the point with even y on its x coordinate, the keys sorted by their 32-byte x-only encodings, L the tagged hash KeyAgg list of the concatenated x-only keys, the coefficient 1 for every key equal to the first key that differs from the first sorted key and the tagged hash KeyAgg coefficient of L and the x-only key reduced modulo n for every other key, and the aggregate the sum of each key times its coefficient."
pub fn key_agg_v040(xkeys: &[[u8; 32]], sort: bool) -> Result<[u8; 33], HtlcError> {
    let mut keys = xkeys.to_vec();
    if sort {
        keys.sort_unstable();
    }
    let first = *keys.first().ok_or(HtlcError::KeyAggregation)?;
    let list_hash = tagged_hash(b"KeyAgg list", &keys.concat());
    let second = keys.iter().find(|k| **k != first).copied();
    let mut sum = MaybePoint::Infinity;
    for k in &keys {
        let point = Point::lift_x(*k).map_err(|_| HtlcError::KeyAggregation)?;
        let coefficient = if Some(*k) == second {
            MaybeScalar::one()
        } else {
            MaybeScalar::reduce_from(&tagged_hash(b"KeyAgg coefficient", &[list_hash.as_slice(), k.as_slice()].concat()))
        };
        sum += coefficient * point;
    }
    match sum {
        MaybePoint::Valid(q) => Ok(q.serialize()),
        MaybePoint::Infinity => Err(HtlcError::KeyAggregation),
    }
}

/// BIP-340 `hash_tag(data) = SHA256(SHA256(tag) || SHA256(tag) || data)`.
pub fn tagged_hash(tag: &[u8], data: &[u8]) -> [u8; 32] {
    let tag_hash = sha256::Hash::hash(tag);
    let mut engine = sha256::Hash::engine();
    engine.input(tag_hash.as_byte_array());
    engine.input(tag_hash.as_byte_array());
    engine.input(data);
    sha256::Hash::from_engine(engine).to_byte_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    const K1: &str = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
    const K2: &str = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";
    const K3: &str = "3590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66";

    /// lnd internal/musig2v040/musig2_test.go TestMuSig2KeyAggTestVectors (the 0.4.0 draft's
    /// key aggregation vectors, unsorted).
    #[test]
    fn musig2_v040_published_vectors() {
        let (k1, k2, k3) = (arr::<32>(K1), arr::<32>(K2), arr::<32>(K3));
        let x = |keys: &[[u8; 32]]| hex::encode(&key_agg_v040(keys, false).unwrap()[1..]);
        assert_eq!(x(&[k1, k2, k3]), "e5830140512195d74c8307e39637cbe5fb730ebeab80ec514cf88a877ceeee0b");
        assert_eq!(x(&[k3, k2, k1]), "d70cd69a2647f7390973df48cbfa2ccc407b8b2d60b08c5f1641185c7998a290");
        assert_eq!(x(&[k1, k1, k1]), "81a8b093912c9e481408d09776cefb48aeb8b65481b6baafb3c5810106717beb");
        assert_eq!(x(&[k1, k1, k2, k2]), "2eb18851887e7bdc5e830e89b19ddbc28078f1fa88aad0ad01ca06fe4f80210b");
        // Sorted: the order of the input no longer matters.
        assert_eq!(key_agg_v040(&[k1, k2, k3], true), key_agg_v040(&[k3, k1, k2], true));
        assert_eq!(key_agg_v040(&[], true), Err(HtlcError::KeyAggregation));
    }

    /// BIP-327 key_agg_vectors.json, valid case 1 and 2 keys: after KeySort both orders agree,
    /// and equal the published aggregate of the sorted order.
    #[test]
    fn bip327_sorted() {
        let k = [
            arr::<33>("02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"),
            arr::<33>("03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"),
            arr::<33>("023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66"),
        ];
        // KeySort gives 023590.., 02f930.., 03dff1.. = [k2, k0, k1].
        let sorted = key_agg_rc2(&[k[2], k[0], k[1]]).unwrap();
        assert_eq!(key_agg_rc2(&[k[1], k[2], k[0]]).unwrap(), sorted);
        let direct = musig2::KeyAggContext::new([k[2], k[0], k[1]].map(|b| Point::from_slice(&b).unwrap())).unwrap();
        assert_eq!(direct.aggregated_pubkey::<Point>().serialize(), sorted);
    }

    #[test]
    fn parsing_differs_between_versions() {
        let mut key = [0u8; 33];
        key[0] = 0x04;
        key[1..].copy_from_slice(&arr::<32>(K1));
        assert_eq!(parse_key(MuSig2Version::V100Rc2, KeyRole::Sender, &key), Err(HtlcError::InvalidKey(KeyRole::Sender)));
        let p = parse_key(MuSig2Version::V040, KeyRole::Sender, &key).unwrap();
        assert_eq!((p.compressed[0], p.xonly), (0x02, arr::<32>(K1)));
        key[0] = 0x03;
        assert_eq!(parse_key(MuSig2Version::V100Rc2, KeyRole::Sender, &key).unwrap().compressed[0], 0x03);
        assert!(parse_key(MuSig2Version::V040, KeyRole::Receiver, &key[..32]).is_err());
        // x = 5: 5^3 + 7 = 132 is not a square modulo p.
        let mut not_a_point = [0u8; 33];
        not_a_point[0] = 0x02;
        not_a_point[32] = 5;
        for v in [MuSig2Version::V100Rc2, MuSig2Version::V040] {
            assert_eq!(parse_key(v, KeyRole::ReceiverInternal, &not_a_point), Err(HtlcError::InvalidKey(KeyRole::ReceiverInternal)));
        }
    }
}
