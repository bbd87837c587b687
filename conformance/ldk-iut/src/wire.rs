//! Message type 53609 as LDK sees it: a custom message whose payload stays raw
//! bytes. Decoding the sidepool envelope is left to the SIDEPOOL-01 session, so
//! a malformed sidepool message never reaches LDK's decoder (which would end the
//! connection) and is reported the way our own node reports it (ERRATA E-35).

use lightning::ln::msgs::DecodeError;
use lightning::ln::wire::{CustomMessageReader, Type};
use lightning::util::ser::{LengthLimitedRead, Writeable, Writer};
use sidepool_reference::wire::envelope::SIDEPOOL_MESSAGE_ID;

/// One 53609 message: everything after the 2-byte type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidepoolWire {
    pub payload: Vec<u8>,
}

impl SidepoolWire {
    /// From a whole Lightning message (type first), as the session produces it;
    /// `None` unless the type is 53609.
    pub fn from_message(bytes: &[u8]) -> Option<SidepoolWire> {
        let (ty, payload) = bytes.split_first_chunk::<2>()?;
        (u16::from_be_bytes(*ty) == SIDEPOOL_MESSAGE_ID).then(|| SidepoolWire { payload: payload.to_vec() })
    }

    /// The whole Lightning message, type first, as the session consumes it.
    pub fn to_message(&self) -> Vec<u8> {
        [&SIDEPOOL_MESSAGE_ID.to_be_bytes()[..], &self.payload].concat()
    }
}

impl Writeable for SidepoolWire {
    fn write<W: Writer>(&self, writer: &mut W) -> Result<(), lightning::io::Error> {
        writer.write_all(&self.payload)
    }
}

impl Type for SidepoolWire {
    fn type_id(&self) -> u16 {
        SIDEPOOL_MESSAGE_ID
    }
}

/// Reads type 53609 and nothing else: every other type stays LDK's (BOLT 1's
/// odd/even rule for unknown types is LDK's to apply).
#[derive(Clone, Copy, Debug, Default)]
pub struct SidepoolReader;

impl SidepoolReader {
    pub fn read_message<R: LengthLimitedRead>(message_type: u16, buffer: &mut R) -> Result<Option<SidepoolWire>, DecodeError> {
        if message_type != SIDEPOOL_MESSAGE_ID {
            return Ok(None);
        }
        let mut payload = Vec::new();
        let limit = buffer.remaining_bytes();
        buffer.read_to_limit(&mut payload, limit).map_err(|e| DecodeError::Io(e.kind()))?;
        Ok(Some(SidepoolWire { payload }))
    }
}

impl CustomMessageReader for SidepoolReader {
    type CustomMessage = SidepoolWire;

    fn read<R: LengthLimitedRead>(&self, message_type: u16, buffer: &mut R) -> Result<Option<SidepoolWire>, DecodeError> {
        Self::read_message(message_type, buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_53609_is_read_and_its_payload_is_kept_whole() {
        let payload = [0x00, 0x65, 0xfd, 0x27, 0x74, 0x01, 0x02];
        let got = SidepoolReader.read(SIDEPOOL_MESSAGE_ID, &mut &payload[..]).unwrap();
        assert_eq!(got, Some(SidepoolWire { payload: payload.to_vec() }));
        // Garbage is still read: the session judges it, not LDK's decoder.
        assert!(SidepoolReader.read(SIDEPOOL_MESSAGE_ID, &mut &[0xff][..]).unwrap().is_some());
        assert_eq!(SidepoolReader.read(32768, &mut &payload[..]).unwrap(), None);
        assert_eq!(SidepoolReader.read(53611, &mut &payload[..]).unwrap(), None);
    }

    #[test]
    fn a_message_round_trips_through_ldk_framing() {
        let whole = [&[0xd1, 0x69][..], &[0x00, 0x65, 0x01]].concat();
        let wire = SidepoolWire::from_message(&whole).unwrap();
        assert_eq!(wire.encode(), [0x00, 0x65, 0x01]);
        assert_eq!(wire.to_message(), whole);
        assert_eq!(SidepoolWire::from_message(&[0x00, 0x12, 0x00]), None);
        assert_eq!(SidepoolWire::from_message(&[0xd1]), None);
    }
}
