//! The SIDEPOOL feature set and its run-length encoding (SIDEPOOL-01).
//!
//! SIDEPOOL-01: "Briefly, it is the varsize-encoded run-length-encoding of an array of bits."

use super::bigsize;
use super::error::{DecodeError, ErrorClass};
use super::reader::Reader;
use std::collections::BTreeSet;

/// SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST set feature bit 1263 (`sidepool_bolt_feature_bit`) in their `init` messages and in their `node_annoucement`s."
pub const SIDEPOOL_BOLT_FEATURE_BIT: u16 = 1263;

/// SIDEPOOL-10: "Peerswap-in-sidepool has the SIDEPOOL feature bit 1 (`peerswap_in_sidepool_feature_bit`)."
pub const PEERSWAP_IN_SIDEPOOL_FEATURE_BIT: u64 = 1;

/// The SIDEPOOL feature bits this implementation recognises.
pub const KNOWN_FEATURE_BITS: &[u64] = &[PEERSWAP_IN_SIDEPOOL_FEATURE_BIT];

/// A set of SIDEPOOL feature bits (separate from BOLT feature bits).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FeatureSet {
    bits: BTreeSet<u64>,
}

impl FeatureSet {
    pub fn new() -> FeatureSet {
        FeatureSet::default()
    }

    pub fn from_bits(bits: impl IntoIterator<Item = u64>) -> FeatureSet {
        FeatureSet { bits: bits.into_iter().collect() }
    }

    pub fn with(mut self, bit: u64) -> FeatureSet {
        self.bits.insert(bit);
        self
    }

    pub fn has(&self, bit: u64) -> bool {
        self.bits.contains(&bit)
    }

    pub fn bits(&self) -> impl Iterator<Item = u64> + '_ {
        self.bits.iter().copied()
    }

    /// Even bits set here that `known` does not contain.
    pub fn unknown_even_bits(&self, known: &[u64]) -> Vec<u64> {
        self.bits().filter(|b| b % 2 == 0 && !known.contains(b)).collect()
    }

    /// SIDEPOOL-01: "If the counterparty has an even feature bit that you do not recognize, you MUST NOT send any `sidepool_message_id` messages to that counterparty."
    pub fn allows_sidepool_messages(&self) -> bool {
        self.unknown_even_bits(KNOWN_FEATURE_BITS).is_empty()
    }

    /// SIDEPOOL-01: "Count the number of 0s, then emit it as a `varsize`:"
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut next: u128 = 0; // the first bit position not yet emitted
        for &bit in &self.bits {
            // Bits are sorted and distinct, so `bit >= next` and the difference fits in u64.
            let zeros = u64::try_from(u128::from(bit) - next).unwrap_or(u64::MAX);
            bigsize::encode(zeros, &mut out);
            // SIDEPOOL-01: "Skip over the 1."
            next = u128::from(bit) + 1;
        }
        out
    }

    /// SIDEPOOL-01: "Read a `varsize` from the encoding. Emit that number of 0s, then emit a 1."
    pub fn decode(bytes: &[u8]) -> Result<FeatureSet, DecodeError> {
        let mut r = Reader::new(bytes);
        let mut bits = BTreeSet::new();
        // Counted in u128 so that a run past bit 2^64 - 1 is a typed error, not a wrap.
        let mut next: u128 = 0;
        // SIDEPOOL-01: "If we are at the end of the encoding, stop, otherwise repeat the above step."
        while !r.is_empty() {
            let zeros = bigsize::read(&mut r, "feature-set run")?;
            let bit = next + u128::from(zeros);
            let bit = u64::try_from(bit).map_err(|_| {
                DecodeError::new(ErrorClass::InvalidValue, format!("feature-set bit index {bit} exceeds 2^64 - 1"))
            })?;
            bits.insert(bit);
            next = u128::from(bit) + 1;
        }
        Ok(FeatureSet { bits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn has_answers_for_exactly_the_bits_set() {
        let set = FeatureSet::from_bits([1, 7]).with(64);
        assert!(set.has(1) && set.has(7) && set.has(64));
        assert!(!set.has(0) && !set.has(6) && !set.has(63) && !FeatureSet::default().has(1));
    }

    #[test]
    fn the_specs_own_example() {
        // SIDEPOOL-01: "So a feature set with feature bits 1, 2, and 42 will be encoded as the following hex dump:"
        let set = FeatureSet::from_bits([1, 2, 42]);
        assert_eq!(set.encode(), vec![0x01, 0x00, 0x27]);
        assert_eq!(FeatureSet::decode(&[0x01, 0x00, 0x27]), Ok(set));
        // SIDEPOOL-01: "If the set of feature bits is empty, then the encoding is a 0-length sequence of bytes, i.e. the encoding is also empty."
        assert_eq!(FeatureSet::new().encode(), Vec::<u8>::new());
        assert_eq!(FeatureSet::decode(&[]), Ok(FeatureSet::new()));
    }

    #[test]
    fn unknown_even_bits_forbid_talking() {
        assert!(FeatureSet::from_bits([1, 3]).allows_sidepool_messages());
        assert!(!FeatureSet::from_bits([1, 4]).allows_sidepool_messages());
        assert!(!FeatureSet::from_bits([0]).allows_sidepool_messages());
    }

    proptest! {
        #[test]
        fn round_trip(bits in proptest::collection::btree_set(0u64..100_000, 0..20)) {
            let set = FeatureSet { bits };
            prop_assert_eq!(FeatureSet::decode(&set.encode()), Ok(set));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes: Vec<u8>) {
            let _ = FeatureSet::decode(&bytes);
        }
    }
}
