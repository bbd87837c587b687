//! JSON forms of the values the adapter carries.
//!
//! The reference's unit types stay free of serde (the reference is pure), so
//! this module supplies `#[serde(with = ...)]` helpers: money and heights as
//! JSON integers, byte strings as lowercase hex of a fixed length (uppercase
//! hex is accepted on input), node ids as 33-byte compressed keys checked to
//! be on the curve.

use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Decode `text` as exactly `N` bytes of hex, naming what was expected on failure.
pub(crate) fn fixed_hex<const N: usize>(text: &str, what: &str) -> Result<[u8; N], String> {
    let bytes = hex::decode(text).map_err(|e| format!("{what}: not hex ({e})"))?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "{what}: expected {N} bytes ({} hex digits), got {} bytes",
            N * 2,
            bytes.len()
        )
    })
}

/// serde helpers for the integer-valued unit newtypes.
macro_rules! integer_unit {
    ($module:ident, $opt_module:ident, $ty:path, $inner:ty) => {
        pub mod $module {
            use super::*;
            pub fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                v.0.serialize(s)
            }
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                <$inner>::deserialize(d).map($ty)
            }
        }
        pub mod $opt_module {
            use super::*;
            pub fn serialize<S: Serializer>(v: &Option<$ty>, s: S) -> Result<S::Ok, S::Error> {
                v.map(|x| x.0).serialize(s)
            }
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
                Option::<$inner>::deserialize(d).map(|o| o.map($ty))
            }
        }
    };
}

integer_unit!(msat, opt_msat, sidepool_reference::units::Msat, u64);
integer_unit!(sat, opt_sat, sidepool_reference::units::Sat, u64);
integer_unit!(height, opt_height, sidepool_reference::units::BlockHeight, u32);
integer_unit!(delta, opt_delta, sidepool_reference::units::BlockDelta, u32);

/// serde helpers for the fixed-length byte newtypes.
macro_rules! hex_unit {
    ($module:ident, $opt_module:ident, $ty:path, $len:expr, $what:expr) => {
        pub mod $module {
            use super::*;
            pub fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(v.0))
            }
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let text = String::deserialize(d)?;
                fixed_hex::<$len>(&text, $what)
                    .map($ty)
                    .map_err(serde::de::Error::custom)
            }
        }
        pub mod $opt_module {
            use super::*;
            pub fn serialize<S: Serializer>(v: &Option<$ty>, s: S) -> Result<S::Ok, S::Error> {
                v.map(|x| hex::encode(x.0)).serialize(s)
            }
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
                match Option::<String>::deserialize(d)? {
                    None => Ok(None),
                    Some(text) => fixed_hex::<$len>(&text, $what)
                        .map(|b| Some($ty(b)))
                        .map_err(serde::de::Error::custom),
                }
            }
        }
    };
}

hex_unit!(pool_id, opt_pool_id, sidepool_reference::units::PoolId, 16, "pool id");
hex_unit!(
    payment_hash,
    opt_payment_hash,
    sidepool_reference::units::PaymentHash,
    32,
    "payment hash"
);
hex_unit!(
    payment_secret,
    opt_payment_secret,
    sidepool_reference::units::PaymentSecret,
    32,
    "payment secret"
);

/// A node id: a 33-byte compressed public key, as hex.
pub mod node_id {
    use super::*;
    use sidepool_reference::units::PublicKey;
    pub fn serialize<S: Serializer>(v: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v.as_bytes()))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
    pub(crate) fn parse(text: &str) -> Result<PublicKey, String> {
        let bytes = fixed_hex::<33>(text, "node id")?;
        PublicKey::from_bytes(bytes).ok_or_else(|| "node id: not a compressed secp256k1 point".to_string())
    }
}

/// A list of node ids.
pub mod node_ids {
    use super::*;
    use sidepool_reference::units::PublicKey;
    pub fn serialize<S: Serializer>(v: &[PublicKey], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|k| hex::encode(k.as_bytes()))
            .collect::<Vec<_>>()
            .serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PublicKey>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| node_id::parse(t))
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom)
    }
}

/// A BOLT 7 short channel id in its usual text form `BLOCKxTXxOUTPUT`
/// (block: 24 bits, transaction index: 24 bits, output index: 16 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortChannelId {
    pub block: u32,
    pub tx_index: u32,
    pub output_index: u16,
}

impl ShortChannelId {
    /// `None` when a part does not fit its bit width.
    pub fn new(block: u32, tx_index: u32, output_index: u16) -> Option<ShortChannelId> {
        (block < (1 << 24) && tx_index < (1 << 24)).then_some(ShortChannelId {
            block,
            tx_index,
            output_index,
        })
    }
    /// The 8-byte integer form used on the wire.
    /// The BOLT 7 64-bit form back (3 bytes block, 3 bytes transaction, 2 bytes output).
    pub fn from_u64(v: u64) -> ShortChannelId {
        ShortChannelId { block: (v >> 40) as u32 & 0xff_ffff, tx_index: (v >> 16) as u32 & 0xff_ffff, output_index: v as u16 }
    }

    pub fn to_u64(self) -> u64 {
        (u64::from(self.block) << 40) | (u64::from(self.tx_index) << 16) | u64::from(self.output_index)
    }
}

impl fmt::Display for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.block, self.tx_index, self.output_index)
    }
}

impl core::str::FromStr for ShortChannelId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("short channel id {s:?}: expected BLOCKxTXxOUTPUT, e.g. 800000x42x1");
        let mut parts = s.split('x');
        let (Some(b), Some(t), Some(o), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
        if !(digits(b) && digits(t) && digits(o)) {
            return Err(bad());
        }
        let (Ok(block), Ok(tx), Ok(out)) = (b.parse::<u32>(), t.parse::<u32>(), o.parse::<u16>()) else {
            return Err(bad());
        };
        ShortChannelId::new(block, tx, out).ok_or_else(bad)
    }
}

impl Serialize for ShortChannelId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for ShortChannelId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Declares a fixed-length byte string carried as hex.
macro_rules! hex_bytes_type {
    ($(#[$doc:meta])* $name:ident, $len:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), hex::encode(self.0))
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(self.0))
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                fixed_hex::<$len>(&String::deserialize(d)?, $what).map($name).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_bytes_type!(
    /// A BOLT 2 `channel_id` (32 bytes).
    ChannelId, 32, "channel id"
);
hex_bytes_type!(
    /// A BIP-340 x-only public key (32 bytes): the key of a taproot output.
    XOnlyKey, 32, "x-only output key"
);

/// Variable-length bytes as hex (`payment_metadata`), at most 16384 bytes
/// (SIDEPOOL-10 limits `peerswap_lightning_payment_metadata` to 1..=16384).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    pub const MAX_LEN: usize = 16384;
}

impl fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexBytes({})", hex::encode(&self.0))
    }
}
impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}
impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(|e| serde::de::Error::custom(format!("bytes: not hex ({e})")))?;
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(serde::de::Error::custom(format!(
                "bytes: length {} outside 1..={}",
                bytes.len(),
                Self::MAX_LEN
            )));
        }
        Ok(HexBytes(bytes))
    }
}

/// A payment preimage (32 bytes). Secret until it is revealed: zeroized on
/// drop and never printed by Debug.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Preimage(pub [u8; 32]);

impl fmt::Debug for Preimage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Preimage(<redacted>)")
    }
}
impl Serialize for Preimage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}
impl<'de> Deserialize<'de> for Preimage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut text = String::deserialize(d)?;
        let parsed = fixed_hex::<32>(&text, "preimage")
            .map(Preimage)
            .map_err(serde::de::Error::custom);
        text.zeroize();
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_channel_id_text_form() {
        let scid: ShortChannelId = "800000x42x1".parse().unwrap();
        assert_eq!(
            scid,
            ShortChannelId {
                block: 800000,
                tx_index: 42,
                output_index: 1
            }
        );
        assert_eq!(scid.to_string(), "800000x42x1");
        assert_eq!(scid.to_u64(), (800000u64 << 40) | (42 << 16) | 1);
        for bad in [
            "",
            "1x2",
            "1x2x3x4",
            "16777216x0x0",
            "0x16777216x0",
            "0x0x65536",
            "+1x2x3",
            "1x x3",
            "axbxc",
        ] {
            assert!(bad.parse::<ShortChannelId>().is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn preimage_debug_is_redacted() {
        let p = Preimage([0xab; 32]);
        assert!(!format!("{p:?}").contains("abab"));
    }

    #[test]
    fn fixed_hex_names_the_length() {
        let err = fixed_hex::<16>("00", "pool id").unwrap_err();
        assert!(err.contains("expected 16 bytes"), "{err}");
        assert!(fixed_hex::<1>("zz", "x").is_err());
        assert_eq!(fixed_hex::<1>("AB", "x").unwrap(), [0xab]);
    }
}
