//! The sidepool envelope inside a BOLT 8 message: type 53609, sub-id, TLVs.

use super::error::{DecodeError, ErrorClass};
use super::reader::Reader;

/// SIDEPOOL-01: "Sidepool messages have a message ID of 53609 (`sidepool_message_id`) in the BOLT 8 message."
pub const SIDEPOOL_MESSAGE_ID: u16 = 53609;

/// An opened envelope: the sub-id and the (not yet parsed) TLV stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub sub_id: u16,
    pub tlvs: &'a [u8],
}

/// Opens a whole BOLT 8 plaintext message (2-byte type, then payload).
pub fn open(message: &[u8]) -> Result<Envelope<'_>, DecodeError> {
    let mut r = Reader::new(message);
    // SIDEPOOL-01: "Each BOLT 8 message is composed of two bytes of a 16-bit big-endian message ID."
    let typ = r.u16("BOLT 8 message type")?;
    if typ != SIDEPOOL_MESSAGE_ID {
        return Err(DecodeError::new(
            ErrorClass::NotSidepool,
            format!("BOLT 8 message type {typ} is not sidepool_message_id {SIDEPOOL_MESSAGE_ID}"),
        ));
    }
    // SIDEPOOL-01: "The next two bytes after the message ID, equivalently the first two bytes of the payload, are then the sidepool message sub-ID, as a big-endian 16-bit number."
    let sub_id = r.u16("sidepool sub-id")?;
    Ok(Envelope { sub_id, tlvs: r.rest() })
}

/// Builds a whole BOLT 8 plaintext message around an encoded TLV stream.
pub fn seal(sub_id: u16, tlvs: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + tlvs.len());
    out.extend_from_slice(&SIDEPOOL_MESSAGE_ID.to_be_bytes());
    out.extend_from_slice(&sub_id.to_be_bytes());
    out.extend_from_slice(tlvs);
    out
}

/// SIDEPOOL-01: "sidepool implementations may ignore unrecognized odd message IDs or TLV types, but in case of even message IDs or TLV types, should raise some kind of warning or alarm to the human operator."
pub fn unknown_sub_id(sub_id: u16) -> Result<(), DecodeError> {
    if sub_id % 2 == 1 {
        Ok(())
    } else {
        Err(DecodeError::new(ErrorClass::UnknownEvenMessage, format!("unknown even sidepool sub-id {sub_id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_checks_type_then_sub_id() {
        assert_eq!(open(&[0xd1]).unwrap_err().class, ErrorClass::Truncated);
        assert_eq!(open(&[0x00, 0x10, 0, 0]).unwrap_err().class, ErrorClass::NotSidepool);
        assert_eq!(open(&[0xd1, 0x69, 0x03]).unwrap_err().class, ErrorClass::Truncated);
        let env = open(&[0xd1, 0x69, 0x03, 0xe8, 0x01]).unwrap();
        assert_eq!((env.sub_id, env.tlvs), (1000, &[0x01][..]));
        assert_eq!(seal(1000, &[0x01]), vec![0xd1, 0x69, 0x03, 0xe8, 0x01]);
    }
}
