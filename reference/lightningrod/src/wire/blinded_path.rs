//! Blinded message paths as LDK 0.2 writes them (BOLT 4 `blinded_path`): the
//! introduction node (a node id, or a direction and a short channel id), the
//! blinding point, a hop count of at least one, and each hop's blinded node id
//! and encrypted payload (u16 length first).
//!
//! In the `ldk` profile this is the *release path*: `LSP_a` hands one to `A`
//! per held HTLC, and `A` passes it to `B` as a `reply_path`.

use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::{DecodeError, ErrorClass};

use super::fields::point;
use crate::units::PublicKey;

/// Which end of the channel the introduction node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    NodeOne,
    NodeTwo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntroductionNode {
    NodeId(PublicKey),
    DirectedScid { direction: Direction, scid: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlindedHop {
    pub blinded_node_id: PublicKey,
    pub encrypted_payload: Vec<u8>,
}

/// A blinded path: one to 255 hops (the count is one byte and zero is invalid).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlindedMessagePath {
    introduction_node: IntroductionNode,
    blinding_point: PublicKey,
    hops: Vec<BlindedHop>,
}

/// Why a path cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    NoHops,
    TooManyHops,
}

impl PathError {
    pub fn name(self) -> &'static str {
        match self {
            PathError::NoHops => "no_hops",
            PathError::TooManyHops => "too_many_hops",
        }
    }
}

/// A u16 length, or 0xffff followed by a u64 extension (LDK's `CollectionLength`).
fn write_collection_len(len: usize, out: &mut Vec<u8>) {
    match u16::try_from(len) {
        Ok(short) if short < 0xffff => out.extend_from_slice(&short.to_be_bytes()),
        _ => {
            out.extend_from_slice(&0xffffu16.to_be_bytes());
            out.extend_from_slice(&(len as u64 - 0xffff).to_be_bytes());
        }
    }
}

fn read_collection_len(r: &mut Reader<'_>, what: &str) -> Result<usize, DecodeError> {
    let short = r.u16(what)?;
    let len = if short == 0xffff { r.u64(what)?.saturating_add(0xffff) } else { u64::from(short) };
    // A length beyond what is left is `truncated` when the bytes are read.
    usize::try_from(len).map_err(|_| DecodeError::new(ErrorClass::Truncated, format!("{what}: length {len}")))
}

impl BlindedMessagePath {
    pub fn new(
        introduction_node: IntroductionNode,
        blinding_point: PublicKey,
        hops: Vec<BlindedHop>,
    ) -> Result<BlindedMessagePath, PathError> {
        match hops.len() {
            0 => Err(PathError::NoHops),
            1..=255 => Ok(BlindedMessagePath { introduction_node, blinding_point, hops }),
            _ => Err(PathError::TooManyHops),
        }
    }

    pub fn introduction_node(&self) -> IntroductionNode {
        self.introduction_node
    }
    pub fn blinding_point(&self) -> PublicKey {
        self.blinding_point
    }
    pub fn hops(&self) -> &[BlindedHop] {
        &self.hops
    }

    pub fn read(r: &mut Reader<'_>) -> Result<BlindedMessagePath, DecodeError> {
        let introduction_node = match r.u8("introduction node")? {
            first @ (0 | 1) => IntroductionNode::DirectedScid {
                direction: if first == 0 { Direction::NodeOne } else { Direction::NodeTwo },
                scid: r.u64("introduction short channel id")?,
            },
            first @ (2 | 3) => {
                let mut bytes = [first; 33];
                bytes[1..].copy_from_slice(r.bytes(32, "introduction node id")?);
                IntroductionNode::NodeId(PublicKey::from_bytes(bytes).ok_or_else(|| {
                    DecodeError::new(ErrorClass::InvalidValue, "introduction node id is not a valid point")
                })?)
            }
            other => {
                return Err(DecodeError::new(
                    ErrorClass::InvalidValue,
                    format!("introduction node starts with {other:#04x}, not 0, 1, 2 or 3"),
                ))
            }
        };
        let blinding_point = point(r, "blinding point")?;
        let count = r.u8("hop count")?;
        if count == 0 {
            return Err(DecodeError::new(ErrorClass::InvalidValue, "a blinded path has at least one hop"));
        }
        let mut hops = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let blinded_node_id = point(r, "blinded node id")?;
            let len = read_collection_len(r, "encrypted payload length")?;
            let encrypted_payload = r.bytes(len, "encrypted payload")?.to_vec();
            hops.push(BlindedHop { blinded_node_id, encrypted_payload });
        }
        Ok(BlindedMessagePath { introduction_node, blinding_point, hops })
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        match self.introduction_node {
            IntroductionNode::NodeId(key) => out.extend_from_slice(&key.as_bytes()),
            IntroductionNode::DirectedScid { direction, scid } => {
                out.push(match direction {
                    Direction::NodeOne => 0,
                    Direction::NodeTwo => 1,
                });
                out.extend_from_slice(&scid.to_be_bytes());
            }
        }
        out.extend_from_slice(&self.blinding_point.as_bytes());
        // `new` and `read` keep the count within 1..=255.
        out.push(u8::try_from(self.hops.len()).unwrap_or(u8::MAX));
        for hop in &self.hops {
            out.extend_from_slice(&hop.blinded_node_id.as_bytes());
            write_collection_len(hop.encrypted_payload.len(), out);
            out.extend_from_slice(&hop.encrypted_payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> PublicKey {
        let mut b = [0u8; 33];
        b.copy_from_slice(&hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap());
        PublicKey::from_bytes(b).unwrap()
    }

    #[test]
    fn a_path_round_trips_and_needs_a_hop() {
        let hop = BlindedHop { blinded_node_id: g(), encrypted_payload: vec![1, 2, 3] };
        assert_eq!(BlindedMessagePath::new(IntroductionNode::NodeId(g()), g(), vec![]), Err(PathError::NoHops));
        let path = BlindedMessagePath::new(
            IntroductionNode::DirectedScid { direction: Direction::NodeTwo, scid: 7 },
            g(),
            vec![hop],
        )
        .unwrap();
        let mut out = Vec::new();
        path.write(&mut out);
        assert_eq!(out.len(), 1 + 8 + 33 + 1 + 33 + 2 + 3);
        let mut r = Reader::new(&out);
        assert_eq!(BlindedMessagePath::read(&mut r).unwrap(), path);
        assert!(r.is_empty());
    }

    #[test]
    fn zero_hops_and_bad_first_bytes_are_invalid() {
        let mut out = vec![0u8; 9];
        out.extend_from_slice(&g().as_bytes());
        out.push(0);
        let e = BlindedMessagePath::read(&mut Reader::new(&out)).unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidValue);
        let e = BlindedMessagePath::read(&mut Reader::new(&[4u8; 80])).unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidValue);
    }

    #[test]
    fn long_payload_lengths_use_the_u64_escape() {
        let mut out = Vec::new();
        write_collection_len(0xfffe, &mut out);
        write_collection_len(0x1_0000, &mut out);
        assert_eq!(out, [0xff, 0xfe, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1]);
        let mut r = Reader::new(&out);
        assert_eq!(read_collection_len(&mut r, "a").unwrap(), 0xfffe);
        assert_eq!(read_collection_len(&mut r, "b").unwrap(), 0x1_0000);
    }
}
