//! Every sidepool message this reference knows, and the one entry point that
//! decodes a whole BOLT 8 plaintext message.

use crate::peerswap::messages::{
    PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject, PeerswapSuccess,
};
use crate::units::{PoolId, Sat};
use crate::wire::envelope;
use crate::wire::features::FeatureSet;
use crate::wire::tlv::{self, Length, MessageDef, TlvDef, TlvRecord};
use crate::wire::DecodeError;

pub const MY_SIDEPOOL_FEATURES: MessageDef = MessageDef {
    name: "my_sidepool_features",
    sub_id: 101,
    tlvs: &[TlvDef { name: "my_sidepool_features_set", typ: 10100, length: Length::Variable, required: true }],
};

/// SIDEPOOL-04's `swap_party_begin`, which the runner sends as pool leader.
pub const SWAP_PARTY_BEGIN: MessageDef = MessageDef {
    name: "swap_party_begin",
    sub_id: 400,
    tlvs: &[
        TlvDef { name: "swap_party_begin_id", typ: 40000, length: Length::Exact(16), required: true },
        TlvDef {
            name: "swap_party_begin_irregular_authorization",
            typ: 40002,
            length: Length::Exact(104),
            required: false,
        },
    ],
};

/// All message definitions, in sub-id order.
pub const ALL: &[MessageDef] = &[
    MY_SIDEPOOL_FEATURES,
    SWAP_PARTY_BEGIN,
    crate::peerswap::messages::PEERSWAP_INIT,
    crate::peerswap::messages::PEERSWAP_ACCEPT,
    crate::peerswap::messages::PEERSWAP_LIGHTNING,
    crate::peerswap::messages::PEERSWAP_SUCCESS,
    crate::peerswap::messages::PEERSWAP_REJECT,
];

pub fn def_by_sub_id(sub_id: u16) -> Option<&'static MessageDef> {
    ALL.iter().find(|d| d.sub_id == sub_id)
}

pub fn def_by_name(name: &str) -> Option<&'static MessageDef> {
    ALL.iter().find(|d| d.name == name)
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MySidepoolFeatures {
    pub features: FeatureSet,
    pub unknown: Vec<TlvRecord>,
}

/// `swap_party_begin_irregular_authorization` (104 bytes), kept as its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IrregularAuthorization {
    pub xonly_pubkey: [u8; 32],
    pub amount: Sat,
    pub signature: [u8; 64],
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SwapPartyBegin {
    pub id: PoolId,
    pub irregular_authorization: Option<IrregularAuthorization>,
    pub unknown: Vec<TlvRecord>,
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MySidepoolFeatures {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let bits: Vec<u16> = u.arbitrary()?;
        Ok(MySidepoolFeatures {
            features: FeatureSet::from_bits(bits.into_iter().map(u64::from)),
            unknown: u.arbitrary()?,
        })
    }
}

impl MySidepoolFeatures {
    pub const DEF: MessageDef = MY_SIDEPOOL_FEATURES;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<MySidepoolFeatures, DecodeError> {
        let mut features = None;
        let unknown = Self::DEF.read(bytes, |_, v| {
            // SIDEPOOL-01: "MUST parse the features set as described above."
            features = Some(FeatureSet::decode(v)?);
            Ok(())
        })?;
        Ok(MySidepoolFeatures {
            features: crate::peerswap::messages::value::required(features, &Self::DEF, "my_sidepool_features_set")?,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let set = self.features.encode();
        tlv::write_merged(&[(10100, set.as_slice())], &self.unknown, out);
    }
}

impl SwapPartyBegin {
    pub const DEF: MessageDef = SWAP_PARTY_BEGIN;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<SwapPartyBegin, DecodeError> {
        use crate::peerswap::messages::value::{array, required};
        let (mut id, mut auth) = (None, None);
        let unknown = Self::DEF.read(bytes, |def, v| {
            match def.typ {
                40000 => id = Some(PoolId(array(def, v)?)),
                40002 => {
                    let raw: [u8; 104] = array(def, v)?;
                    let (key, rest) = raw.split_at(32);
                    let (amount, sig) = rest.split_at(8);
                    auth = Some(IrregularAuthorization {
                        xonly_pubkey: array(def, key)?,
                        amount: Sat(u64::from_be_bytes(array(def, amount)?)),
                        signature: array(def, sig)?,
                    });
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(SwapPartyBegin {
            id: required(id, &Self::DEF, "swap_party_begin_id")?,
            irregular_authorization: auth,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let auth = self.irregular_authorization.as_ref().map(|a| {
            let mut raw = [0u8; 104];
            let (key, rest) = raw.split_at_mut(32);
            let (amount, sig) = rest.split_at_mut(8);
            key.copy_from_slice(&a.xonly_pubkey);
            amount.copy_from_slice(&a.amount.0.to_be_bytes());
            sig.copy_from_slice(&a.signature);
            raw
        });
        let known: [Option<(u64, &[u8])>; 2] = [Some((40000, &self.id.0)), auth.as_ref().map(|a| (40002, a.as_slice()))];
        tlv::write_merged(tlv::Records::present(known).as_slice(), &self.unknown, out);
    }
}

/// A decoded sidepool message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Message {
    MySidepoolFeatures(MySidepoolFeatures),
    SwapPartyBegin(SwapPartyBegin),
    PeerswapInit(PeerswapInit),
    PeerswapAccept(PeerswapAccept),
    PeerswapLightning(PeerswapLightning),
    PeerswapSuccess(PeerswapSuccess),
    PeerswapReject(PeerswapReject),
}

/// The result of decoding a BOLT 8 message carrying a sidepool envelope.
// Decoded values are short-lived and moved rarely; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    Known(Message),
    /// An unknown odd sub-id: ignorable by the "it's ok to be odd" rule.
    IgnoredOdd { sub_id: u16 },
}

#[cfg(feature = "arbitrary")]
impl Message {
    /// Turns an `arbitrary` message into one a real encoder could produce:
    /// unknown records odd, not defined by the message, distinct and sorted;
    /// reason text 1..=255 bytes and metadata 1..=16384 bytes (or absent).
    /// Property tests and fuzz targets use it before `decode(encode(m)) == m`.
    pub fn make_encodable(&mut self) {
        let def = self.def();
        let unknown = self.unknown_mut();
        unknown.retain(|r| r.typ % 2 == 1 && def.tlv(r.typ).is_none());
        unknown.sort_by_key(|r| r.typ);
        unknown.dedup_by_key(|r| r.typ);
        match self {
            Message::PeerswapReject(x) => {
                if let Some(t) = &mut x.reason_text {
                    while t.len() > 255 {
                        t.pop();
                    }
                    if t.is_empty() {
                        x.reason_text = None;
                    }
                }
            }
            Message::PeerswapLightning(x) => {
                if let Some(md) = &mut x.payment_metadata {
                    md.truncate(16384);
                    if md.is_empty() {
                        x.payment_metadata = None;
                    }
                }
            }
            _ => {}
        }
    }
}

impl Message {
    pub fn def(&self) -> &'static MessageDef {
        match self {
            Message::MySidepoolFeatures(_) => &MY_SIDEPOOL_FEATURES,
            Message::SwapPartyBegin(_) => &SWAP_PARTY_BEGIN,
            Message::PeerswapInit(_) => &crate::peerswap::messages::PEERSWAP_INIT,
            Message::PeerswapAccept(_) => &crate::peerswap::messages::PEERSWAP_ACCEPT,
            Message::PeerswapLightning(_) => &crate::peerswap::messages::PEERSWAP_LIGHTNING,
            Message::PeerswapSuccess(_) => &crate::peerswap::messages::PEERSWAP_SUCCESS,
            Message::PeerswapReject(_) => &crate::peerswap::messages::PEERSWAP_REJECT,
        }
    }

    pub fn name(&self) -> &'static str {
        self.def().name
    }

    /// The unknown odd TLV records this message carries (kept for a byte-identical re-encode).
    pub fn unknown_mut(&mut self) -> &mut Vec<TlvRecord> {
        match self {
            Message::MySidepoolFeatures(x) => &mut x.unknown,
            Message::SwapPartyBegin(x) => &mut x.unknown,
            Message::PeerswapInit(x) => &mut x.unknown,
            Message::PeerswapAccept(x) => &mut x.unknown,
            Message::PeerswapLightning(x) => &mut x.unknown,
            Message::PeerswapSuccess(x) => &mut x.unknown,
            Message::PeerswapReject(x) => &mut x.unknown,
        }
    }

    pub fn sub_id(&self) -> u16 {
        self.def().sub_id
    }

    /// The TLV stream of this message.
    pub fn encode_tlvs(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_tlvs(&mut out);
        out
    }

    /// Appends the TLV stream of this message to `out`.
    pub fn write_tlvs(&self, out: &mut Vec<u8>) {
        match self {
            Message::MySidepoolFeatures(m) => m.encode_tlvs(out),
            Message::SwapPartyBegin(m) => m.encode_tlvs(out),
            Message::PeerswapInit(m) => m.encode_tlvs(out),
            Message::PeerswapAccept(m) => m.encode_tlvs(out),
            Message::PeerswapLightning(m) => m.encode_tlvs(out),
            Message::PeerswapSuccess(m) => m.encode_tlvs(out),
            Message::PeerswapReject(m) => m.encode_tlvs(out),
        }
    }

    /// The whole BOLT 8 plaintext message: 53609, sub-id, TLVs (as
    /// `envelope::seal` frames them, written in place).
    pub fn encode(&self) -> Vec<u8> {
        // Room for every fixed-size message; only long metadata or text grows it.
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&envelope::SIDEPOOL_MESSAGE_ID.to_be_bytes());
        out.extend_from_slice(&self.sub_id().to_be_bytes());
        self.write_tlvs(&mut out);
        out
    }

    /// Decodes the TLV stream of a known sub-id.
    pub fn decode_tlvs(sub_id: u16, tlvs: &[u8]) -> Result<Decoded, DecodeError> {
        let message = match sub_id {
            101 => Message::MySidepoolFeatures(MySidepoolFeatures::decode_tlvs(tlvs)?),
            400 => Message::SwapPartyBegin(SwapPartyBegin::decode_tlvs(tlvs)?),
            1000 => Message::PeerswapInit(PeerswapInit::decode_tlvs(tlvs)?),
            1002 => Message::PeerswapAccept(PeerswapAccept::decode_tlvs(tlvs)?),
            1004 => Message::PeerswapLightning(PeerswapLightning::decode_tlvs(tlvs)?),
            1010 => Message::PeerswapSuccess(PeerswapSuccess::decode_tlvs(tlvs)?),
            1098 => Message::PeerswapReject(PeerswapReject::decode_tlvs(tlvs)?),
            other => {
                envelope::unknown_sub_id(other)?;
                return Ok(Decoded::IgnoredOdd { sub_id: other });
            }
        };
        Ok(Decoded::Known(message))
    }

    /// Decodes a whole BOLT 8 plaintext message (2-byte type, then payload).
    pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
        let env = envelope::open(bytes)?;
        Message::decode_tlvs(env.sub_id, env.tlvs)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tlv_stream_is_the_message_after_its_envelope() {
        // README's example: my_sidepool_features with bits 1, 2 and 42.
        let bytes = hex::decode("d1690065fd277403010027").unwrap();
        let message = match Message::decode(&bytes).unwrap() {
            Decoded::Known(m) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(crate::hex::encode(&message.encode_tlvs()), "fd277403010027");
        assert_eq!(message.encode(), bytes);
    }

    #[test]
    fn every_definition_is_found_by_its_name_and_its_sub_id_only() {
        for def in ALL {
            assert_eq!(def_by_name(def.name).map(|d| d.sub_id), Some(def.sub_id), "{}", def.name);
            assert_eq!(def_by_sub_id(def.sub_id).map(|d| d.name), Some(def.name));
        }
        assert!(def_by_name("peerswap_fail").is_none());
        assert!(def_by_name("").is_none());
    }

    use super::*;
    use crate::wire::tlv::reserved_range;

    #[test]
    fn every_tlv_sits_in_its_messages_reserved_range() {
        for def in ALL {
            for t in def.tlvs {
                assert!(reserved_range(def.sub_id).contains(&t.typ), "{} type {}", t.name, t.typ);
                assert!(t.name.starts_with(def.name), "{} belongs to {}", t.name, def.name);
            }
            assert!(def.tlvs.windows(2).all(|w| w[0].typ < w[1].typ), "{} table is sorted", def.name);
        }
    }

    #[test]
    fn unknown_sub_ids_follow_its_ok_to_be_odd() {
        let odd = envelope::seal(1001, &[]);
        assert_eq!(Message::decode(&odd), Ok(Decoded::IgnoredOdd { sub_id: 1001 }));
        let even = envelope::seal(1006, &[]);
        assert_eq!(Message::decode(&even).unwrap_err().class, crate::wire::ErrorClass::UnknownEvenMessage);
    }
}
