//! `revoke_and_ack` (BOLT 2 type 133) with LDK 0.2's
//! `release_htlc_message_paths` (75537): the release paths `LSP_a` gives `A`.

use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::tlv::TlvRecord;
use sidepool_reference::wire::DecodeError;

use super::blinded_path::BlindedMessagePath;
use super::fields::{point, tlvs, write_tlvs};
use crate::constants::{TlvType, RELEASE_HTLC_MESSAGE_PATHS};
use crate::units::{HtlcId, PublicKey};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RevokeAndAck {
    pub channel_id: [u8; 32],
    /// The secret of a revoked commitment: public once sent, by design of BOLT 2.
    pub per_commitment_secret: [u8; 32],
    pub next_per_commitment_point: PublicKey,
    /// One release path per held HTLC, named by the HTLC's `id`.
    pub release_htlc_message_paths: Vec<(HtlcId, BlindedMessagePath)>,
    pub unknown: Vec<TlvRecord>,
}

/// Reads the record's value: `htlc_id` and path pairs back to back, no count.
fn read_paths(value: &[u8]) -> Result<Vec<(HtlcId, BlindedMessagePath)>, DecodeError> {
    let mut r = Reader::new(value);
    let mut out = Vec::new();
    while !r.is_empty() {
        let id = HtlcId(r.u64("release path htlc_id")?);
        out.push((id, BlindedMessagePath::read(&mut r)?));
    }
    Ok(out)
}

impl RevokeAndAck {
    pub fn decode(body: &[u8]) -> Result<RevokeAndAck, DecodeError> {
        let mut r = Reader::new(body);
        let channel_id = r.array("channel_id")?;
        let per_commitment_secret = r.array("per_commitment_secret")?;
        let next_per_commitment_point = point(&mut r, "next_per_commitment_point")?;
        let mut paths = Vec::new();
        let unknown = tlvs(r.rest(), &[RELEASE_HTLC_MESSAGE_PATHS], |_, value| {
            paths = read_paths(value)?;
            Ok(())
        })?;
        Ok(RevokeAndAck {
            channel_id,
            per_commitment_secret,
            next_per_commitment_point,
            release_htlc_message_paths: paths,
            unknown,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id);
        out.extend_from_slice(&self.per_commitment_secret);
        out.extend_from_slice(&self.next_per_commitment_point.as_bytes());
        let mut known: Vec<(TlvType, Vec<u8>)> = Vec::new();
        // LNROD-01: "A writer MUST omit the `release_htlc_message_paths` record when it has no path to give."
        if !self.release_htlc_message_paths.is_empty() {
            // LNROD-01: "The `release_htlc_message_paths` record of `revoke_and_ack` MUST have TLV type 75537 and hold, for each path, the 8-byte `htlc_id` followed by the encoded blinded message path, with no count before the list."
            let mut value = Vec::new();
            for (id, path) in &self.release_htlc_message_paths {
                value.extend_from_slice(&id.0.to_be_bytes());
                path.write(&mut value);
            }
            known.push((RELEASE_HTLC_MESSAGE_PATHS, value));
        }
        write_tlvs(&known, &self.unknown, out);
    }
}
