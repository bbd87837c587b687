//! The pieces both HTLC versions share: minimal script numbers and the hash lock.

use bitcoin::hashes::{ripemd160, Hash};
use bitcoin::script::Builder;

/// Pushes `n` as a minimal script number.
// LOOP-01: "Every number an HTLC script pushes MUST be a minimal script number: OP_0 for 0, OP_1NEGATE for -1, OP_1 to OP_16 for 1 to 16, and otherwise the shortest little-endian sign-and-magnitude push."
pub fn push_number(builder: Builder, n: i64) -> Builder {
    // `Builder::push_int` is exactly this encoding (OP_0, OP_1NEGATE, OP_1..OP_16, else a minimal scriptint).
    builder.push_int(n)
}

/// The 20-byte hash the success path compares the preimage's HASH160 with.
// LOOP-01: "The hash an HTLC script compares with OP_HASH160 MUST be the RIPEMD-160 hash of the swap hash, which is the HASH160 of the preimage."
pub fn hash_lock(swap_hash: &[u8; 32]) -> [u8; 20] {
    ripemd160::Hash::hash(swap_hash).to_byte_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(n: i64) -> String {
        hex::encode(push_number(Builder::new(), n).into_script().as_bytes())
    }

    #[test]
    fn minimal_numbers_at_every_boundary() {
        let cases = [
            (0, "00"),
            (-1, "4f"),
            (1, "51"),
            (16, "60"),
            (17, "0111"),
            (127, "017f"),
            (128, "028000"),
            (-128, "028080"),
            (255, "02ff00"),
            (32767, "02ff7f"),
            (32768, "03008000"),
            (2147483647, "04ffffff7f"),
        ];
        for (n, want) in cases {
            assert_eq!(number(n), want, "{n}");
        }
    }

    #[test]
    fn hash_lock_is_hash160_of_the_preimage() {
        use bitcoin::hashes::{hash160, sha256};
        let preimage = [7u8; 32];
        let swap_hash = sha256::Hash::hash(&preimage).to_byte_array();
        assert_eq!(hash_lock(&swap_hash), hash160::Hash::hash(&preimage).to_byte_array());
    }
}
