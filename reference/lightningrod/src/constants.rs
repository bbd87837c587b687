//! Every number LNROD-01 uses, once, typed, with the spec's Constants table as
//! its provenance (LDK 0.2.7 unless the table names another source).

use crate::units::{BlockDelta, Seconds};

/// A BOLT 9 feature bit number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeatureBit(pub u16);

/// A BOLT 1 message type (the two bytes before a message's fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageType(pub u16);

/// A TLV record type within one message's or record's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TlvType(pub u64);

/// `htlc_hold`, required form (bolts#989's bit 52, plus 100 while experimental).
pub const HTLC_HOLD_REQUIRED: FeatureBit = FeatureBit(152);
/// `htlc_hold`, optional form: the bit LDK 0.2 sets.
pub const HTLC_HOLD_OPTIONAL: FeatureBit = FeatureBit(153);

pub const INIT: MessageType = MessageType(16);
pub const UPDATE_ADD_HTLC: MessageType = MessageType(128);
pub const REVOKE_AND_ACK: MessageType = MessageType(133);

/// `init` TLVs.
pub const INIT_NETWORKS: TlvType = TlvType(1);
pub const INIT_REMOTE_ADDR: TlvType = TlvType(3);

/// `update_add_htlc` TLVs.
pub const BLINDING_POINT: TlvType = TlvType(0);
pub const SKIMMED_FEE_MSAT: TlvType = TlvType(65537);
pub const HOLD_HTLC: TlvType = TlvType(75537);

/// `revoke_and_ack` TLV.
pub const RELEASE_HTLC_MESSAGE_PATHS: TlvType = TlvType(75537);

/// `onionmsg_tlv` records.
pub const REPLY_PATH: TlvType = TlvType(2);
pub const ENCRYPTED_RECIPIENT_DATA: TlvType = TlvType(4);
pub const HELD_HTLC_AVAILABLE: TlvType = TlvType(72);
pub const RELEASE_HELD_HTLC: TlvType = TlvType(74);
/// Records of this type and above carry the onion message itself.
pub const FIRST_MESSAGE_RECORD: TlvType = TlvType(64);

/// `onion_routing_packet`: version (1), ephemeral key (33), hop data (1300), HMAC (32).
pub const ONION_PACKET_LEN: usize = 1366;

/// LDK 0.2's `HTLC_FAIL_BACK_BUFFER`: `CLTV_CLAIM_BUFFER` (2 x 18) plus
/// `LATENCY_GRACE_PERIOD_BLOCKS` (3), counted back from `outgoing_cltv_value`.
pub const LDK_FAIL_BACK_MARGIN: BlockDelta = BlockDelta(2 * 18 + 3);

/// BOLT 4 `mpp_timeout`.
pub const MPP_TIMEOUT: Seconds = Seconds(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_bits_are_a_bolt9_pair() {
        assert_eq!(HTLC_HOLD_REQUIRED.0 % 2, 0);
        assert_eq!(HTLC_HOLD_OPTIONAL.0, HTLC_HOLD_REQUIRED.0 + 1);
        assert_eq!(LDK_FAIL_BACK_MARGIN, BlockDelta(39));
    }

    #[test]
    fn message_records_are_above_the_control_records() {
        for t in [HELD_HTLC_AVAILABLE, RELEASE_HELD_HTLC] {
            assert!(t >= FIRST_MESSAGE_RECORD && t.0 % 2 == 0);
        }
        for t in [REPLY_PATH, ENCRYPTED_RECIPIENT_DATA] {
            assert!(t < FIRST_MESSAGE_RECORD);
        }
    }
}
