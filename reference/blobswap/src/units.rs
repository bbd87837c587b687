//! Heights, block counts, amounts and the swap's hash and preimage, as types.
//!
//! Heights and block counts are distinct types: a height plus blocks is a height, two heights are never
//! added. Sums are computed in `u64`, so no comparison of the timing rules can wrap.

use bitcoin::hashes::{sha256, Hash as _};
use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A block height (a party's tip, a confirmation height, an HTLC expiry, a refund height).
// BLOBSWAP-01: "Every period, delay and margin of a swap MUST be counted in blocks, and heights MUST be compared with exact integer arithmetic, without wrap-around."
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u32);

/// A number of blocks (a period, a delay, a margin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blocks(pub u32);

impl Height {
    /// `self + blocks`, or `None` past `u32::MAX`.
    pub fn checked_add(self, blocks: Blocks) -> Option<Height> {
        self.0.checked_add(blocks.0).map(Height)
    }
    /// `self - blocks`, or `None` below 0.
    pub fn checked_sub(self, blocks: Blocks) -> Option<Height> {
        self.0.checked_sub(blocks.0).map(Height)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Millisatoshis (Lightning amounts). Satoshis are `bitcoin::Amount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Msat(pub u64);

/// The payment hash h: the SHA-256 of the preimage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaymentHash(pub [u8; 32]);

impl PaymentHash {
    /// The SHA-256 of `bytes` (of any length: a claim witness may carry a wrong-sized "preimage").
    pub fn of_bytes(bytes: &[u8]) -> PaymentHash {
        PaymentHash(sha256::Hash::hash(bytes).to_byte_array())
    }
}

/// The preimage p. Secret until the user reveals it: zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct Preimage([u8; 32]);

impl Preimage {
    pub fn new(bytes: [u8; 32]) -> Preimage {
        Preimage(bytes)
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// h = SHA-256(p).
    pub fn payment_hash(&self) -> PaymentHash {
        PaymentHash::of_bytes(&self.0)
    }
}

impl fmt::Debug for Preimage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Preimage(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preimage_is_never_printed() {
        let p = Preimage::new([0xab; 32]);
        assert_eq!(format!("{p:?}"), "Preimage(..)");
    }

    #[test]
    fn payment_hash_is_sha256_of_the_preimage() {
        // SHA-256 of 32 zero bytes.
        let h = Preimage::new([0; 32]).payment_hash();
        assert_eq!(h.0[..4], [0x66, 0x68, 0x7a, 0xad]);
    }

    #[test]
    fn heights_do_not_wrap() {
        assert_eq!(Height(u32::MAX).checked_add(Blocks(1)), None);
        assert_eq!(Height(0).checked_sub(Blocks(1)), None);
        assert_eq!(Height(10).checked_add(Blocks(5)), Some(Height(15)));
    }
}
