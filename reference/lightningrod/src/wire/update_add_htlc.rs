//! `update_add_htlc` (BOLT 2 type 128) with LDK 0.2's TLVs: `blinding_point`
//! (0), `skimmed_fee_msat` (65537) and `hold_htlc` (75537).

use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::tlv::TlvRecord;
use sidepool_reference::wire::{DecodeError, ErrorClass};

use super::fields::{exact, point_value, tlvs, write_tlvs};
use crate::constants::{TlvType, BLINDING_POINT, HOLD_HTLC, ONION_PACKET_LEN, SKIMMED_FEE_MSAT};
use crate::units::{BlockHeight, HtlcId, Msat, PaymentHash, PublicKey};

/// The 1366-byte BOLT 4 onion, kept as bytes (its key may be invalid: BOLT 4
/// wants the error reported by the onion layer, not the message decoder).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OnionPacket(Box<[u8; ONION_PACKET_LEN]>);

impl OnionPacket {
    pub fn new(bytes: [u8; ONION_PACKET_LEN]) -> OnionPacket {
        OnionPacket(Box::new(bytes))
    }
    pub fn from_slice(bytes: &[u8]) -> Option<OnionPacket> {
        <[u8; ONION_PACKET_LEN]>::try_from(bytes).ok().map(OnionPacket::new)
    }
    pub fn as_bytes(&self) -> &[u8; ONION_PACKET_LEN] {
        &self.0
    }
}

impl core::fmt::Debug for OnionPacket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "OnionPacket(version {}, ..)", self.0[0])
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateAddHtlc {
    pub channel_id: [u8; 32],
    pub id: HtlcId,
    pub amount: Msat,
    pub payment_hash: PaymentHash,
    pub cltv_expiry: BlockHeight,
    pub onion_routing_packet: OnionPacket,
    pub blinding_point: Option<PublicKey>,
    pub skimmed_fee: Option<Msat>,
    /// The sender asks the receiver to hold this HTLC until a `release_held_htlc`.
    pub hold_htlc: bool,
    /// Unknown odd records, kept for a byte-identical re-encode.
    pub unknown: Vec<TlvRecord>,
}

impl UpdateAddHtlc {
    /// Decodes the fields after the message type.
    pub fn decode(body: &[u8]) -> Result<UpdateAddHtlc, DecodeError> {
        let mut r = Reader::new(body);
        let channel_id = r.array("channel_id")?;
        let id = HtlcId(r.u64("id")?);
        let amount = Msat(r.u64("amount_msat")?);
        let payment_hash = PaymentHash(r.array("payment_hash")?);
        let cltv_expiry = BlockHeight(r.u32("cltv_expiry")?);
        let onion_routing_packet = OnionPacket::new(r.array("onion_routing_packet")?);
        let mut msg = UpdateAddHtlc {
            channel_id,
            id,
            amount,
            payment_hash,
            cltv_expiry,
            onion_routing_packet,
            blinding_point: None,
            skimmed_fee: None,
            hold_htlc: false,
            unknown: Vec::new(),
        };
        msg.unknown = tlvs(r.rest(), &[BLINDING_POINT, SKIMMED_FEE_MSAT, HOLD_HTLC], |typ, value| {
            match typ {
                BLINDING_POINT => msg.blinding_point = Some(point_value(value, "blinding_point")?),
                SKIMMED_FEE_MSAT => msg.skimmed_fee = Some(Msat(u64::from_be_bytes(exact(value, "skimmed_fee_msat")?))),
                _ => {
                    // LNROD-01: "A reader MUST reject an `update_add_htlc` whose `hold_htlc` record is not empty."
                    if !value.is_empty() {
                        return Err(DecodeError::new(
                            ErrorClass::BadLength,
                            format!("hold_htlc has length {}, expected 0", value.len()),
                        ));
                    }
                    msg.hold_htlc = true;
                }
            }
            Ok(())
        })?;
        Ok(msg)
    }

    /// Encodes the fields after the message type.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id);
        out.extend_from_slice(&self.id.0.to_be_bytes());
        out.extend_from_slice(&self.amount.0.to_be_bytes());
        out.extend_from_slice(&self.payment_hash.0);
        out.extend_from_slice(&self.cltv_expiry.0.to_be_bytes());
        out.extend_from_slice(self.onion_routing_packet.as_bytes());
        let mut known: Vec<(TlvType, Vec<u8>)> = Vec::new();
        if let Some(key) = self.blinding_point {
            known.push((BLINDING_POINT, key.as_bytes().to_vec()));
        }
        if let Some(fee) = self.skimmed_fee {
            known.push((SKIMMED_FEE_MSAT, fee.0.to_be_bytes().to_vec()));
        }
        if self.hold_htlc {
            // LNROD-01: "The `hold_htlc` record of `update_add_htlc` MUST have TLV type 75537 and an empty value."
            known.push((HOLD_HTLC, Vec::new()));
        }
        write_tlvs(&known, &self.unknown, out);
    }
}
