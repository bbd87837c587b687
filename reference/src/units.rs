//! Amounts, heights, identifiers and keys as distinct types.
//!
//! SIDEPOOL-10 mixes millisatoshi channel figures with satoshi pool amounts
//! (`peerswap_init_amount_sat` against an imbalance error in msat). Here the two
//! are different types with only explicit, checked conversions, so that slip
//! cannot compile.

use core::fmt;

/// An amount in millisatoshis (channel balances, capacities, HTLC amounts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Msat(pub u64);

/// An amount in whole satoshis (in-sidepool outputs, `peerswap_init_amount_sat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Sat(pub u64);

impl Msat {
    pub const ZERO: Msat = Msat(0);

    pub fn checked_add(self, other: Msat) -> Option<Msat> {
        self.0.checked_add(other.0).map(Msat)
    }
    pub fn checked_sub(self, other: Msat) -> Option<Msat> {
        self.0.checked_sub(other.0).map(Msat)
    }
    pub fn saturating_sub(self, other: Msat) -> Msat {
        Msat(self.0.saturating_sub(other.0))
    }
    /// The amount as whole satoshis, if it is an exact satoshi value.
    pub fn to_sat_exact(self) -> Option<Sat> {
        (self.0 % 1000 == 0).then_some(Sat(self.0 / 1000))
    }
    /// The amount in satoshis, rounded down.
    pub fn to_sat_floor(self) -> Sat {
        Sat(self.0 / 1000)
    }
    /// The amount in satoshis, rounded up.
    pub fn to_sat_ceil(self) -> Sat {
        Sat(self.0.div_ceil(1000))
    }
}

impl Sat {
    pub const ZERO: Sat = Sat(0);

    /// The amount in millisatoshis; `None` above `u64::MAX / 1000` sat.
    pub fn to_msat(self) -> Option<Msat> {
        self.0.checked_mul(1000).map(Msat)
    }
    pub fn checked_add(self, other: Sat) -> Option<Sat> {
        self.0.checked_add(other.0).map(Sat)
    }
    pub fn checked_sub(self, other: Sat) -> Option<Sat> {
        self.0.checked_sub(other.0).map(Sat)
    }
}

impl fmt::Display for Msat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} msat", self.0)
    }
}
impl fmt::Display for Sat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat", self.0)
    }
}

/// An absolute block height (HTLC timelocks, the current chain tip).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BlockHeight(pub u32);

/// A number of blocks (`cltv_delta`, `final_cltv_delta`, the 4032 margin).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BlockDelta(pub u32);

impl BlockHeight {
    pub fn checked_add(self, delta: BlockDelta) -> Option<BlockHeight> {
        self.0.checked_add(delta.0).map(BlockHeight)
    }
    /// `self - earlier`, or `None` when `earlier` is later than `self`.
    pub fn checked_since(self, earlier: BlockHeight) -> Option<BlockDelta> {
        self.0.checked_sub(earlier.0).map(BlockDelta)
    }
}

impl fmt::Display for BlockHeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "height {}", self.0)
    }
}
impl fmt::Display for BlockDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} blocks", self.0)
    }
}

/// A 16-byte sidepool identifier (`peerswap_init_id` and friends).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PoolId(pub [u8; 16]);

/// The 256-bit hash that locks the HTLCs of a peerswap (a Lightning `payment_hash`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PaymentHash(pub [u8; 32]);

/// A 32-byte `payment_secret` for the in-Lightning payment onion.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PaymentSecret(pub [u8; 32]);

macro_rules! hex_debug {
    ($($t:ident),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), crate::hex::encode(&self.0))
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&crate::hex::encode(&self.0))
            }
        }
    )*};
}
hex_debug!(PoolId, PaymentHash, PaymentSecret);

/// The 11-bit pool update counter (SIDEPOOL-02), carried zero-extended in 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UpdateCounter(u16);

impl UpdateCounter {
    /// SIDEPOOL-02: "The pool has an 11-bit counter."
    pub const MAX: u16 = (1 << 11) - 1;

    /// `None` when `value` does not fit in 11 bits.
    pub fn new(value: u16) -> Option<UpdateCounter> {
        (value <= Self::MAX).then_some(UpdateCounter(value))
    }
    pub fn get(self) -> u16 {
        self.0
    }
    /// SIDEPOOL-10: "The value is the counter *before* the expansion phase of the swap party, and must be odd."
    pub fn is_odd(self) -> bool {
        self.0 % 2 == 1
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for UpdateCounter {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(UpdateCounter(u.int_in_range(0..=Self::MAX)?))
    }
}

/// `peerswap_init_hops`: forwarding hops remaining.
///
/// The wire carries any 8-bit value; the 0..=10 range is a protocol rule whose
/// violation the receiver answers with reject code 7, so decoding keeps the raw
/// value (see ERRATA.md, "hops out of range decodes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Hops(pub u8);

impl Hops {
    /// SIDEPOOL-10: "It MUST be a value between 0 to 10."
    pub const MAX: u8 = 10;

    pub fn is_in_range(self) -> bool {
        self.0 <= Self::MAX
    }
}

/// A public key as sent on the wire: 33-byte compressed SEC encoding of a
/// valid secp256k1 point (checked on construction, so holding one is proof).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(bitcoin::secp256k1::PublicKey);

impl PublicKey {
    /// `None` unless `bytes` is the compressed encoding of a point on the curve.
    pub fn from_bytes(bytes: [u8; 33]) -> Option<PublicKey> {
        // from_slice also takes 33-byte input only in compressed form (0x02/0x03 prefix).
        bitcoin::secp256k1::PublicKey::from_slice(&bytes).ok().map(PublicKey)
    }
    pub fn from_secp(key: &bitcoin::secp256k1::PublicKey) -> PublicKey {
        PublicKey(*key)
    }
    pub fn to_secp(&self) -> bitcoin::secp256k1::PublicKey {
        self.0
    }
    pub fn as_bytes(&self) -> [u8; 33] {
        self.0.serialize()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", crate::hex::encode(&self.as_bytes()))
    }
}
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(&self.as_bytes()))
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for PublicKey {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // Derive a valid point from arbitrary secret bytes.
        let bytes: [u8; 32] = u.arbitrary()?;
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&bytes)
            .map_err(|_| arbitrary::Error::IncorrectFormat)?;
        let secp = bitcoin::secp256k1::Secp256k1::signing_only();
        Ok(PublicKey(bitcoin::secp256k1::PublicKey::from_secret_key(&secp, &sk)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sat_msat_conversions_are_exact_or_explicit() {
        assert_eq!(Sat(10_000).to_msat(), Some(Msat(10_000_000)));
        assert_eq!(Sat(u64::MAX).to_msat(), None);
        assert_eq!(Msat(1_500).to_sat_exact(), None);
        assert_eq!(Msat(2_000).to_sat_exact(), Some(Sat(2)));
        assert_eq!(Msat(1_500).to_sat_floor(), Sat(1));
        assert_eq!(Msat(1_500).to_sat_ceil(), Sat(2));
    }

    #[test]
    fn update_counter_is_eleven_bits() {
        assert_eq!(UpdateCounter::new(2047).map(UpdateCounter::get), Some(2047));
        assert_eq!(UpdateCounter::new(2048), None);
        assert!(UpdateCounter::new(1).is_some_and(UpdateCounter::is_odd));
    }

    #[test]
    fn public_key_rejects_non_points() {
        let mut bad = [0u8; 33];
        bad[0] = 0x02;
        assert!(PublicKey::from_bytes(bad).is_none(), "x = 0 is not on the curve");
        let g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        let mut g_bytes = [0u8; 33];
        g_bytes.copy_from_slice(&hex::decode(g).unwrap());
        assert_eq!(PublicKey::from_bytes(g_bytes).map(|k| k.as_bytes()), Some(g_bytes));
        let mut uncompressed_prefix = g_bytes;
        uncompressed_prefix[0] = 0x04;
        assert!(PublicKey::from_bytes(uncompressed_prefix).is_none());
    }
}
