//! A `peerswap_init` that does not decode, but still names a peerswap.
//!
//! The codec reads `peerswap_init_hops` as required (ERRATA E-03) and the update
//! counter as an 11-bit value (ERRATA E-05), so an init without hops, or with a
//! counter above 2047, fails to decode. The receiving rules still apply to it:
//! SIDEPOOL-10: "MUST check that the `peerswap_init_hops` value is between 0 to 10, inclusive."
//! SIDEPOOL-10: "MUST check that the pool update counter specified is correct for the current swap party."
//! SIDEPOOL-10: "If the above validation fails, the receiver MUST reject the peerswap."
//! A reject needs the sidepool ID and hash, so whenever those two records can be
//! read the receiver rejects; otherwise there is nothing to answer (the message
//! is reported and dropped, SIDEPOOL-01's "it's ok to be odd" warning).

use crate::peerswap::messages::PEERSWAP_INIT;
use crate::units::{PaymentHash, PoolId};
use crate::wire::bigsize;
use crate::wire::reader::Reader;

const ID_TYPE: u64 = 100_000;
const HASH_TYPE: u64 = 100_008;
const HOPS_TYPE: u64 = 100_010;
const COUNTER_TYPE: u64 = 100_016;

/// Why the init did not decode, as far as the receiving rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MalformedInitProblem {
    /// No `peerswap_init_hops` record (its value is not between 0 and 10).
    HopsMissing,
    /// An update counter above 2047 (not the current swap party's counter).
    UpdateCounterOutOfRange,
    /// Anything else (a duplicate or out-of-order record, an unknown even type, a bad point, ...).
    Other,
}

impl MalformedInitProblem {
    pub fn name(self) -> &'static str {
        match self {
            MalformedInitProblem::HopsMissing => "hops_missing",
            MalformedInitProblem::UpdateCounterOutOfRange => "update_counter_out_of_range",
            MalformedInitProblem::Other => "malformed",
        }
    }
}

/// The peerswap a malformed `peerswap_init` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MalformedInit {
    pub id: PoolId,
    pub hash: PaymentHash,
    pub problem: MalformedInitProblem,
}

/// Reads the sidepool ID and hash out of a `peerswap_init` TLV stream that did
/// not decode: records are walked as far as their framing allows, the first
/// well-sized id and hash are taken. `None` when either cannot be read.
pub fn read_malformed_init(tlvs: &[u8]) -> Option<MalformedInit> {
    let mut r = Reader::new(tlvs);
    let (mut id, mut hash, mut hops, mut counter_out_of_range) = (None, None, false, false);
    while !r.is_empty() {
        let Ok(t) = bigsize::read(&mut r, "type") else { break };
        let Ok(len) = bigsize::read(&mut r, "length") else { break };
        let Some(value) = usize::try_from(len).ok().and_then(|n| r.bytes(n, "value").ok()) else { break };
        match t {
            ID_TYPE if id.is_none() => id = <[u8; 16]>::try_from(value).ok().map(PoolId),
            HASH_TYPE if hash.is_none() => hash = <[u8; 32]>::try_from(value).ok().map(PaymentHash),
            HOPS_TYPE => hops = true,
            COUNTER_TYPE => {
                if let Ok(b) = <[u8; 2]>::try_from(value) {
                    counter_out_of_range |= u16::from_be_bytes(b) > 2047;
                }
            }
            _ => {}
        }
    }
    let problem = if !hops {
        MalformedInitProblem::HopsMissing
    } else if counter_out_of_range {
        MalformedInitProblem::UpdateCounterOutOfRange
    } else {
        MalformedInitProblem::Other
    };
    Some(MalformedInit { id: id?, hash: hash?, problem })
}

/// Whether `sub_id` is `peerswap_init`'s.
pub fn is_init(sub_id: u16) -> bool {
    sub_id == PEERSWAP_INIT.sub_id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: u64, v: &[u8], out: &mut Vec<u8>) {
        bigsize::encode(t, out);
        bigsize::encode(v.len() as u64, out);
        out.extend_from_slice(v);
    }

    #[test]
    fn id_and_hash_are_read_and_the_problem_named() {
        let mut s = Vec::new();
        rec(ID_TYPE, &[7; 16], &mut s);
        rec(HASH_TYPE, &[9; 32], &mut s);
        rec(COUNTER_TYPE, &2048u16.to_be_bytes(), &mut s);
        let m = read_malformed_init(&s).unwrap();
        assert_eq!((m.id, m.hash, m.problem), (PoolId([7; 16]), PaymentHash([9; 32]), MalformedInitProblem::HopsMissing));
        rec(HOPS_TYPE, &[3], &mut s);
        assert_eq!(read_malformed_init(&s).unwrap().problem, MalformedInitProblem::UpdateCounterOutOfRange);
    }

    #[test]
    fn without_id_or_hash_there_is_nothing_to_answer() {
        let mut s = Vec::new();
        rec(ID_TYPE, &[7; 16], &mut s);
        assert_eq!(read_malformed_init(&s), None);
        let mut t = Vec::new();
        rec(ID_TYPE, &[7; 15], &mut t);
        rec(HASH_TYPE, &[9; 32], &mut t);
        assert_eq!(read_malformed_init(&t), None, "a 15-byte id is no id");
        assert_eq!(read_malformed_init(&[0xff, 0x00]), None, "truncated framing");
    }

    #[test]
    fn a_record_after_broken_framing_is_not_read() {
        let mut s = Vec::new();
        rec(ID_TYPE, &[7; 16], &mut s);
        s.extend_from_slice(&[0xfe, 0x00]); // a truncated type
        rec(HASH_TYPE, &[9; 32], &mut s);
        assert_eq!(read_malformed_init(&s), None);
    }
}
