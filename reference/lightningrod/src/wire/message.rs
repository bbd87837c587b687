//! Whole BOLT messages: the two-byte type, then the fields.

use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::{DecodeError, ErrorClass};

use super::init::Init;
use super::revoke_and_ack::RevokeAndAck;
use super::update_add_htlc::UpdateAddHtlc;
use crate::constants::{MessageType, INIT, REVOKE_AND_ACK, UPDATE_ADD_HTLC};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    Init(Init),
    UpdateAddHtlc(UpdateAddHtlc),
    RevokeAndAck(RevokeAndAck),
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Init(_) => INIT,
            Message::UpdateAddHtlc(_) => UPDATE_ADD_HTLC,
            Message::RevokeAndAck(_) => REVOKE_AND_ACK,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Message::Init(_) => "init",
            Message::UpdateAddHtlc(_) => "update_add_htlc",
            Message::RevokeAndAck(_) => "revoke_and_ack",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.message_type().0.to_be_bytes().to_vec();
        match self {
            Message::Init(m) => m.encode(&mut out),
            Message::UpdateAddHtlc(m) => m.encode(&mut out),
            Message::RevokeAndAck(m) => m.encode(&mut out),
        }
        out
    }
}

/// Decodes one whole message (type first). Types LNROD-01 does not define are
/// errors here: `unknown_even_message` when even, `invalid_value` when odd
/// (a BOLT 1 node would ignore those; this codec has nothing to return).
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader::new(bytes);
    let typ = MessageType(r.u16("message type")?);
    let body = r.rest();
    match typ {
        INIT => Init::decode(body).map(Message::Init),
        UPDATE_ADD_HTLC => UpdateAddHtlc::decode(body).map(Message::UpdateAddHtlc),
        REVOKE_AND_ACK => RevokeAndAck::decode(body).map(Message::RevokeAndAck),
        MessageType(other) => Err(DecodeError::new(
            if other % 2 == 0 { ErrorClass::UnknownEvenMessage } else { ErrorClass::InvalidValue },
            format!("message type {other} is not one LNROD-01 defines"),
        )),
    }
}
