//! Amounts, heights and hashes as types, so that satoshis never meet millisatoshis
//! and heights never meet deltas without a conversion that says so.

use core::fmt;

use bitcoin::hashes::{sha256, Hash};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An amount in satoshis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sat(pub u64);

/// A signed amount in satoshis: a difference of amounts, such as a swap fee that the
/// invoices make negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedSat(pub i64);

/// An amount in millisatoshis (invoice amounts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Msat(pub u64);

impl Msat {
    /// Whole satoshis, rounded down.
    // LOOP-01: "The client MUST round invoice amounts down from millisatoshis to whole satoshis before it checks fees."
    pub fn to_sat_floor(self) -> Sat {
        Sat(self.0 / 1000)
    }
}

impl fmt::Display for Sat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat", self.0)
    }
}

/// A block height.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockHeight(pub u32);

/// A number of blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockDelta(pub u32);

impl BlockHeight {
    /// `self - other` as a signed number of blocks, exactly (never wraps).
    // LOOP-01: "Heights, deltas and amounts MUST be compared with exact integer arithmetic, without wrap-around."
    pub fn blocks_until(self, other: BlockHeight) -> i64 {
        i64::from(other.0) - i64::from(self.0)
    }

    /// `self + delta`, exactly, as a wide integer (a height plus a delta may pass `u32::MAX`).
    pub fn plus(self, delta: BlockDelta) -> i64 {
        i64::from(self.0) + i64::from(delta.0)
    }
}

impl fmt::Display for BlockHeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "height {}", self.0)
    }
}

/// The swap hash: SHA-256 of the swap preimage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SwapHash(pub [u8; 32]);

impl SwapHash {
    pub fn from_slice(bytes: &[u8]) -> Option<SwapHash> {
        bytes.try_into().ok().map(SwapHash)
    }
}

/// The swap preimage: a secret until the client reveals it. Zeroized on drop and
/// never printed (no `Debug`, no `Display`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Preimage([u8; 32]);

impl Preimage {
    /// Wraps 32 bytes the caller drew at random (the reference draws no randomness).
    pub fn from_bytes(bytes: [u8; 32]) -> Preimage {
        Preimage(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Preimage> {
        bytes.try_into().ok().map(Preimage)
    }

    /// The preimage bytes, for the success witness.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The swap hash of this preimage.
    // LOOP-01: "The client MUST generate the swap preimage as 32 random bytes and use its SHA-256 hash as the swap hash."
    pub fn swap_hash(&self) -> SwapHash {
        SwapHash(sha256::Hash::hash(&self.0).to_byte_array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msat_round_down() {
        assert_eq!(Msat(1_999).to_sat_floor(), Sat(1));
        assert_eq!(Msat(2_000).to_sat_floor(), Sat(2));
        assert_eq!(Msat(999).to_sat_floor(), Sat(0));
    }

    #[test]
    fn height_arithmetic_is_exact() {
        assert_eq!(BlockHeight(10).blocks_until(BlockHeight(4)), -6);
        assert_eq!(BlockHeight(u32::MAX).plus(BlockDelta(u32::MAX)), 2 * i64::from(u32::MAX));
    }

    #[test]
    fn loop_test_preimage_hash() {
        // swap/htlc_test.go: preimage {1, 2, 3} then zeros.
        let mut p = [0u8; 32];
        p[..3].copy_from_slice(&[1, 2, 3]);
        assert_eq!(
            hex::encode(Preimage::from_bytes(p).swap_hash().0),
            "1ac2f192702849e03dfe5c31ec66a4f6408b5eb16cc02f1583ce713b22be92ed"
        );
    }
}
