//! The final hop's `onionmsg_tlv` stream (BOLT 4) carrying one of the two
//! async-payment messages: `held_htlc_available` (72) or `release_held_htlc`
//! (74), with `reply_path` (2) and `encrypted_recipient_data` (4).
//!
//! This is the payload after onion decryption, without the BigSize length
//! BOLT 4 puts before each hop's payload.

use sidepool_reference::wire::bigsize;
use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::tlv::{read_stream, Known, TlvRecord};
use sidepool_reference::wire::{DecodeError, ErrorClass};

use super::blinded_path::BlindedMessagePath;
use super::fields::write_tlvs;
use crate::constants::{
    TlvType, ENCRYPTED_RECIPIENT_DATA, FIRST_MESSAGE_RECORD, HELD_HTLC_AVAILABLE, RELEASE_HELD_HTLC, REPLY_PATH,
};

/// Which of the two messages a payload carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsyncKind {
    HeldHtlcAvailable,
    ReleaseHeldHtlc,
}

impl AsyncKind {
    pub fn record_type(self) -> TlvType {
        match self {
            AsyncKind::HeldHtlcAvailable => HELD_HTLC_AVAILABLE,
            AsyncKind::ReleaseHeldHtlc => RELEASE_HELD_HTLC,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            AsyncKind::HeldHtlcAvailable => "held_htlc_available",
            AsyncKind::ReleaseHeldHtlc => "release_held_htlc",
        }
    }
}

/// One of the two messages: no fields of its own in LDK 0.2, only the kept
/// unknown odd records of its inner stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsyncMessage {
    pub kind: AsyncKind,
    pub unknown: Vec<TlvRecord>,
}

impl AsyncMessage {
    pub fn new(kind: AsyncKind) -> AsyncMessage {
        AsyncMessage { kind, unknown: Vec::new() }
    }

    /// The record's value: a BigSize length, then the inner TLV stream.
    ///
    /// LNROD-01: "A reader MUST reject a `held_htlc_available` or `release_held_htlc` record whose value is empty or whose length prefix is larger than the rest of the value."
    fn decode_value(kind: AsyncKind, value: &[u8]) -> Result<AsyncMessage, DecodeError> {
        let mut r = Reader::new(value);
        let len = bigsize::read(&mut r, &format!("{} length prefix", kind.name()))?;
        let len = usize::try_from(len).map_err(|_| {
            DecodeError::new(ErrorClass::Truncated, format!("{} length prefix {len} exceeds the record", kind.name()))
        })?;
        let stream = r.bytes(len, &format!("{} stream", kind.name()))?;
        let unknown = read_stream(stream, |_, _| Ok(Known::No))?;
        // LNROD-01: "A reader MAY ignore bytes that follow the length-prefixed stream in a `held_htlc_available` or `release_held_htlc` record."
        let _ignored = r.rest();
        Ok(AsyncMessage { kind, unknown })
    }

    fn encode_value(&self) -> Vec<u8> {
        let mut stream = Vec::new();
        write_tlvs(&[], &self.unknown, &mut stream);
        let mut value = bigsize::to_vec(stream.len() as u64);
        value.extend_from_slice(&stream);
        value
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OnionMessagePayload {
    pub reply_path: Option<BlindedMessagePath>,
    /// The final hop's encrypted data (the release context, in the `ldk` profile).
    pub encrypted_recipient_data: Vec<u8>,
    pub message: AsyncMessage,
    /// Unknown odd records (below 64, or an odd message type after ours).
    pub unknown: Vec<TlvRecord>,
}

impl OnionMessagePayload {
    pub fn decode(stream: &[u8]) -> Result<OnionMessagePayload, DecodeError> {
        let mut reply_path = None;
        let mut encrypted = None;
        let mut message: Option<AsyncMessage> = None;
        let mut message_records = 0u32;
        let unknown = read_stream(stream, |typ, value| {
            let typ = TlvType(typ);
            if typ >= FIRST_MESSAGE_RECORD {
                // LNROD-01: "A reader MUST reject an `onionmsg_tlv` stream that carries more than one record of type 64 or above."
                message_records += 1;
                if message_records > 1 {
                    return Err(DecodeError::new(
                        ErrorClass::InvalidValue,
                        format!("second message record (type {}) in one onion message", typ.0),
                    ));
                }
            }
            match typ {
                REPLY_PATH => {
                    let mut r = Reader::new(value);
                    let path = BlindedMessagePath::read(&mut r)?;
                    if !r.is_empty() {
                        return Err(DecodeError::new(ErrorClass::InvalidValue, "bytes after reply_path"));
                    }
                    reply_path = Some(path);
                }
                ENCRYPTED_RECIPIENT_DATA => encrypted = Some(value.to_vec()),
                HELD_HTLC_AVAILABLE => message = Some(AsyncMessage::decode_value(AsyncKind::HeldHtlcAvailable, value)?),
                RELEASE_HELD_HTLC => message = Some(AsyncMessage::decode_value(AsyncKind::ReleaseHeldHtlc, value)?),
                _ => return Ok(Known::No),
            }
            Ok(Known::Yes)
        })?;
        let encrypted_recipient_data = encrypted.ok_or_else(|| {
            DecodeError::new(ErrorClass::MissingRequired, "no encrypted_recipient_data (type 4)")
        })?;
        let message = message.ok_or_else(|| {
            DecodeError::new(ErrorClass::MissingRequired, "no held_htlc_available (72) or release_held_htlc (74)")
        })?;
        Ok(OnionMessagePayload { reply_path, encrypted_recipient_data, message, unknown })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut known: Vec<(TlvType, Vec<u8>)> = Vec::new();
        if let Some(path) = &self.reply_path {
            let mut value = Vec::new();
            path.write(&mut value);
            known.push((REPLY_PATH, value));
        }
        known.push((ENCRYPTED_RECIPIENT_DATA, self.encrypted_recipient_data.clone()));
        // LNROD-01: "A `held_htlc_available` MUST be sent as the `onionmsg_tlv` record of type 72 whose value is a BigSize length followed by a TLV stream of that many bytes."
        // LNROD-01: "A `release_held_htlc` MUST be sent as the `onionmsg_tlv` record of type 74 whose value is a BigSize length followed by a TLV stream of that many bytes."
        known.push((self.message.kind.record_type(), self.message.encode_value()));
        write_tlvs(&known, &self.unknown, out);
    }
}
