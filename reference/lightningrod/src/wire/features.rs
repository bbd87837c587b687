//! BOLT 9 feature bitfields (`init`'s `globalfeatures` and `features`): a
//! big-endian byte string in which bit 0 is the lowest bit of the last byte.
//!
//! The bytes are kept exactly as received, leading zero bytes included, so a
//! decoded `init` re-encodes to the same bytes (LDK, for one, writes a
//! two-byte `globalfeatures` even when both bytes are zero).

use crate::constants::{FeatureBit, HTLC_HOLD_OPTIONAL, HTLC_HOLD_REQUIRED};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Features {
    bytes: Vec<u8>,
}

/// How a peer offers a feature pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Support {
    None,
    Optional,
    Required,
}

impl Support {
    pub fn name(self) -> &'static str {
        match self {
            Support::None => "none",
            Support::Optional => "optional",
            Support::Required => "required",
        }
    }
}

impl Features {
    /// The bitfield as it appeared on the wire.
    pub fn from_wire(bytes: Vec<u8>) -> Features {
        Features { bytes }
    }

    /// The shortest bitfield with exactly these bits set.
    pub fn from_bits(bits: impl IntoIterator<Item = u16>) -> Features {
        let bits: Vec<u16> = bits.into_iter().collect();
        let len = bits.iter().map(|b| usize::from(*b) / 8 + 1).max().unwrap_or(0);
        let mut bytes = vec![0u8; len];
        for bit in bits {
            let from_end = usize::from(bit) / 8;
            if let Some(byte) = len.checked_sub(from_end + 1).and_then(|i| bytes.get_mut(i)) {
                *byte |= 1 << (bit % 8);
            }
        }
        Features { bytes }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn has(&self, bit: FeatureBit) -> bool {
        let from_end = usize::from(bit.0) / 8;
        self.bytes
            .len()
            .checked_sub(from_end + 1)
            .and_then(|i| self.bytes.get(i))
            .is_some_and(|byte| byte & (1 << (bit.0 % 8)) != 0)
    }

    /// Every set bit, lowest first.
    pub fn bits(&self) -> Vec<u16> {
        let mut out = Vec::new();
        for (from_end, byte) in self.bytes.iter().rev().enumerate() {
            for i in 0..8u16 {
                if byte & (1 << i) != 0 {
                    if let Ok(base) = u16::try_from(from_end * 8) {
                        out.push(base + i);
                    }
                }
            }
        }
        out
    }

    /// How these features offer `htlc_hold` (bits 152 / 153).
    pub fn htlc_hold(&self) -> Support {
        if self.has(HTLC_HOLD_REQUIRED) {
            Support::Required
        } else if self.has(HTLC_HOLD_OPTIONAL) {
            Support::Optional
        } else {
            Support::None
        }
    }
}

/// Whether a peer that sent these `init` features can hold HTLCs.
///
/// LNROD-01: "A node MUST consider a peer able to hold HTLCs only if the `features` of the peer's `init` set bit 152 or bit 153."
pub fn peer_can_hold_htlcs(init_features: &Features) -> bool {
    init_features.htlc_hold() != Support::None
}

/// The `init` features of a node that holds HTLCs for its peers: `extra` plus
/// the optional `htlc_hold` bit.
///
/// LNROD-01: "A node that holds HTLCs for its channel peers MUST set feature bit 153 (`htlc_hold`, optional) in the `features` field of every `init` message it sends."
pub fn holding_node_features(extra: impl IntoIterator<Item = u16>) -> Features {
    Features::from_bits(extra.into_iter().chain([HTLC_HOLD_OPTIONAL.0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_153_is_bit_1_of_the_twentieth_byte_from_the_end() {
        let f = Features::from_bits([153]);
        assert_eq!(f.as_bytes().len(), 20);
        assert_eq!(f.as_bytes().first(), Some(&0x02));
        assert_eq!(f.bits(), vec![153]);
        assert_eq!(f.htlc_hold(), Support::Optional);
        assert!(peer_can_hold_htlcs(&f));
    }

    #[test]
    fn either_bit_of_the_pair_offers_the_feature() {
        assert_eq!(Features::from_bits([152]).htlc_hold(), Support::Required);
        assert!(peer_can_hold_htlcs(&Features::from_bits([152])));
        assert!(!peer_can_hold_htlcs(&Features::from_bits([150, 154])));
        assert!(!peer_can_hold_htlcs(&Features::from_wire(vec![])));
    }

    #[test]
    fn leading_zero_bytes_are_kept() {
        let f = Features::from_wire(vec![0, 0, 0x01]);
        assert_eq!(f.bits(), vec![0]);
        assert_eq!(f.as_bytes(), &[0, 0, 1]);
        assert_eq!(Features::from_bits([0]).as_bytes(), &[1]);
    }
}
