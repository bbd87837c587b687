//! `init` (BOLT 1 type 16): where a node says it can hold HTLCs (bit 153).

use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::tlv::TlvRecord;
use sidepool_reference::wire::{DecodeError, ErrorClass};

use super::features::Features;
use super::fields::{tlvs, write_tlvs};
use crate::constants::{TlvType, INIT_NETWORKS, INIT_REMOTE_ADDR};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Init {
    pub globalfeatures: Features,
    pub features: Features,
    /// Chain hashes the sender is interested in (TLV 1), 32 bytes each.
    pub networks: Option<Vec<[u8; 32]>>,
    /// The address the sender sees the receiver at (TLV 3), as BOLT 1 encodes it.
    pub remote_addr: Option<Vec<u8>>,
    pub unknown: Vec<TlvRecord>,
}

fn u16_prefixed(r: &mut Reader<'_>, what: &str) -> Result<Vec<u8>, DecodeError> {
    let len = r.u16(what)?;
    Ok(r.bytes(usize::from(len), what)?.to_vec())
}

fn write_u16_prefixed(bytes: &[u8], out: &mut Vec<u8>) {
    // A feature bitfield longer than 65535 bytes would name bit 524280 and up: none exist.
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes.get(..usize::from(len)).unwrap_or(bytes));
}

impl Init {
    /// The union of both bitfields: what the peer offers (BOLT 1 readers OR them).
    pub fn offered(&self) -> Features {
        let bits = self.globalfeatures.bits().into_iter().chain(self.features.bits());
        Features::from_bits(bits)
    }

    pub fn decode(body: &[u8]) -> Result<Init, DecodeError> {
        let mut r = Reader::new(body);
        let globalfeatures = Features::from_wire(u16_prefixed(&mut r, "globalfeatures")?);
        let features = Features::from_wire(u16_prefixed(&mut r, "features")?);
        let mut networks = None;
        let mut remote_addr = None;
        let unknown = tlvs(r.rest(), &[INIT_NETWORKS, INIT_REMOTE_ADDR], |typ, value| {
            if typ == INIT_NETWORKS {
                if value.len() % 32 != 0 {
                    return Err(DecodeError::new(
                        ErrorClass::BadLength,
                        format!("networks has length {}, not a multiple of 32", value.len()),
                    ));
                }
                networks = Some(value.chunks_exact(32).filter_map(|c| <[u8; 32]>::try_from(c).ok()).collect());
            } else {
                remote_addr = Some(value.to_vec());
            }
            Ok(())
        })?;
        Ok(Init { globalfeatures, features, networks, remote_addr, unknown })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        write_u16_prefixed(self.globalfeatures.as_bytes(), out);
        write_u16_prefixed(self.features.as_bytes(), out);
        let mut known: Vec<(TlvType, Vec<u8>)> = Vec::new();
        if let Some(networks) = &self.networks {
            known.push((INIT_NETWORKS, networks.concat()));
        }
        if let Some(addr) = &self.remote_addr {
            known.push((INIT_REMOTE_ADDR, addr.clone()));
        }
        write_tlvs(&known, &self.unknown, out);
    }
}
