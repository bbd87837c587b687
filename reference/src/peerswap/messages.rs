//! The SIDEPOOL-10 messages: `peerswap_init` (1000), `peerswap_accept` (1002),
//! `peerswap_lightning` (1004), `peerswap_success` (1010), `peerswap_reject` (1098).
//!
//! Each message has its TLV table (exactly as the spec lists it, checked against
//! the spec text by `sidepool-conformance spec extract`) and a typed struct.

use crate::units::{BlockHeight, Hops, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter};
use crate::wire::tlv::{self, Length, MessageDef, TlvDef, TlvRecord};
use crate::wire::{DecodeError, ErrorClass};

const fn req(name: &'static str, typ: u64, length: Length) -> TlvDef {
    TlvDef { name, typ, length, required: true }
}
const fn opt(name: &'static str, typ: u64, length: Length) -> TlvDef {
    TlvDef { name, typ, length, required: false }
}

pub const PEERSWAP_INIT: MessageDef = MessageDef {
    name: "peerswap_init",
    sub_id: 1000,
    tlvs: &[
        req("peerswap_init_id", 100000, Length::Exact(16)),
        req("peerswap_init_pubkeys", 100002, Length::Exact(66)),
        req("peerswap_init_timeouts", 100004, Length::Exact(8)),
        req("peerswap_init_hash", 100008, Length::Exact(32)),
        // The spec omits "Required." here; the reference reads it as required (ERRATA E-03).
        req("peerswap_init_hops", 100010, Length::Exact(1)),
        req("peerswap_init_amount_sat", 100012, Length::Exact(8)),
        req("peerswap_init_channel_view_msat", 100014, Length::Exact(24)),
        req("peerswap_init_update_counter", 100016, Length::Exact(2)),
    ],
};

pub const PEERSWAP_ACCEPT: MessageDef = MessageDef {
    name: "peerswap_accept",
    sub_id: 1002,
    tlvs: &[
        req("peerswap_accept_id", 100200, Length::Exact(16)),
        req("peerswap_accept_hash", 100202, Length::Exact(32)),
        req("peerswap_accept_pubkeys", 100204, Length::Exact(66)),
    ],
};

pub const PEERSWAP_LIGHTNING: MessageDef = MessageDef {
    name: "peerswap_lightning",
    sub_id: 1004,
    tlvs: &[
        req("peerswap_lightning_id", 100400, Length::Exact(16)),
        req("peerswap_lightning_hash", 100402, Length::Exact(32)),
        opt("peerswap_lightning_payment_secret", 100404, Length::Exact(32)),
        opt("peerswap_lightning_payment_metadata", 100406, Length::Range { min: 1, max: 16384 }),
    ],
};

pub const PEERSWAP_SUCCESS: MessageDef = MessageDef {
    name: "peerswap_success",
    sub_id: 1010,
    tlvs: &[
        req("peerswap_success_id", 101000, Length::Exact(16)),
        req("peerswap_success_hash", 101002, Length::Exact(32)),
        req("peerswap_success_ephemeral_privkey", 101004, Length::Exact(65)),
    ],
};

pub const PEERSWAP_REJECT: MessageDef = MessageDef {
    name: "peerswap_reject",
    sub_id: 1098,
    tlvs: &[
        req("peerswap_reject_id", 109800, Length::Exact(16)),
        req("peerswap_reject_hash", 109802, Length::Exact(32)),
        req("peerswap_reject_reason_code", 109804, Length::Exact(2)),
        opt("peerswap_reject_reason_text", 109806, Length::Range { min: 1, max: 255 }),
        req("peerswap_reject_channel_view_msat", 109808, Length::Exact(24)),
    ],
};

/// An ephemeral and a persistent public key for the in-sidepool HTLC (66 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct HtlcPubkeys {
    pub ephemeral: PublicKey,
    pub persistent: PublicKey,
}

/// `peerswap_init_timeouts`: the in-sidepool and in-Lightning HTLC timelocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Timeouts {
    pub sidepool: BlockHeight,
    pub lightning: BlockHeight,
}

/// `*_channel_view_msat`: one side's view of all channels between offerrer and acceptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ChannelView {
    pub owned_by_offerrer: Msat,
    pub owned_by_acceptor: Msat,
    pub total_capacity: Msat,
}

/// `peerswap_reject_reason_code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RejectCode(pub u16);

impl RejectCode {
    /// "Some policy or rule of this node was violated."
    pub const POLICY: RejectCode = RejectCode(65535);
    /// "No `swap_party_begin` received before timeout."
    pub const NO_SWAP_PARTY: RejectCode = RejectCode(0);
    /// "`peerswap_init` already previously sent"
    pub const ALREADY_SENT: RejectCode = RejectCode(1);
    /// "Sender is not a valid offerrer."
    pub const NOT_VALID_OFFERRER: RejectCode = RejectCode(2);
    /// "`peerswap_init_amount_sat` too small."
    pub const AMOUNT_TOO_SMALL: RejectCode = RejectCode(3);
    /// "`peerswap_init_amount_sat` too large."
    pub const AMOUNT_TOO_LARGE: RejectCode = RejectCode(4);
    /// "Timeouts too tight."
    pub const TIMEOUTS_TOO_TIGHT: RejectCode = RejectCode(5);
    /// "Too many splits."
    pub const TOO_MANY_SPLITS: RejectCode = RejectCode(6);
    /// "`peerswap_init_hops` out-of-range."
    pub const HOPS_OUT_OF_RANGE: RejectCode = RejectCode(7);

    /// The table's meaning, or `None` for a code the table does not list.
    pub fn meaning(self) -> Option<&'static str> {
        Some(match self.0 {
            65535 => "Some policy or rule of this node was violated.",
            0 => "No `swap_party_begin` received before timeout.",
            1 => "`peerswap_init` already previously sent",
            2 => "Sender is not a valid offerrer.",
            3 => "`peerswap_init_amount_sat` too small.",
            4 => "`peerswap_init_amount_sat` too large.",
            5 => "Timeouts too tight.",
            6 => "Too many splits.",
            7 => "`peerswap_init_hops` out-of-range.",
            _ => return None,
        })
    }
}

/// The 65-byte `peerswap_success_ephemeral_privkey`: the encrypted key, then the
/// encryption public key (SIDEPOOL-06 Secure Private Key Handover).
// The message carries this type, never a bare key:
// SIDEPOOL-06: "All SIDEPOOL protocols which require private key handover MUST have messages that use the secure private key handover protocol describe here, and MUST NOT have messages with a field, TLV, or any part of its payload that has the private key in cleartext after BOLT #8 decryption."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EncryptedPrivkey {
    pub encrypted_key: [u8; 32],
    pub encryption_pubkey: PublicKey,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PeerswapInit {
    pub id: PoolId,
    pub pubkeys: HtlcPubkeys,
    pub timeouts: Timeouts,
    pub hash: PaymentHash,
    pub hops: Hops,
    pub amount: Sat,
    pub channel_view: ChannelView,
    pub update_counter: UpdateCounter,
    /// Unknown odd TLVs, kept so a re-encode is byte-identical.
    pub unknown: Vec<TlvRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PeerswapAccept {
    pub id: PoolId,
    pub hash: PaymentHash,
    pub pubkeys: HtlcPubkeys,
    pub unknown: Vec<TlvRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PeerswapLightning {
    pub id: PoolId,
    pub hash: PaymentHash,
    pub payment_secret: Option<PaymentSecret>,
    /// 1..=16384 bytes when present.
    pub payment_metadata: Option<Vec<u8>>,
    pub unknown: Vec<TlvRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PeerswapSuccess {
    pub id: PoolId,
    pub hash: PaymentHash,
    pub ephemeral_privkey: EncryptedPrivkey,
    pub unknown: Vec<TlvRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PeerswapReject {
    pub id: PoolId,
    pub hash: PaymentHash,
    pub reason_code: RejectCode,
    /// 1..=255 bytes of UTF-8 when present.
    pub reason_text: Option<String>,
    pub channel_view: ChannelView,
    pub unknown: Vec<TlvRecord>,
}

// ---- value codecs shared by the messages -------------------------------------------------

pub(crate) mod value {
    use super::*;
    use crate::wire::reader::Reader;

    pub fn invalid(def: &TlvDef, why: impl core::fmt::Display) -> DecodeError {
        DecodeError::new(ErrorClass::InvalidValue, format!("{}: {why}", def.name))
    }

    #[inline]
    pub fn array<const N: usize>(def: &TlvDef, v: &[u8]) -> Result<[u8; N], DecodeError> {
        Reader::new(v).array::<N>(def.name)
    }

    #[inline]
    pub fn point(def: &TlvDef, bytes: [u8; 33], which: &str) -> Result<PublicKey, DecodeError> {
        PublicKey::from_bytes(bytes).ok_or_else(|| invalid(def, format!("{which} is not a valid compressed secp256k1 point")))
    }

    pub fn pubkeys(def: &TlvDef, v: &[u8]) -> Result<HtlcPubkeys, DecodeError> {
        let mut r = Reader::new(v);
        let eph = r.array::<33>(def.name)?;
        let per = r.array::<33>(def.name)?;
        Ok(HtlcPubkeys { ephemeral: point(def, eph, "ephemeral key")?, persistent: point(def, per, "persistent key")? })
    }
    pub fn pubkeys_bytes(k: &HtlcPubkeys) -> [u8; 66] {
        let mut out = [0u8; 66];
        let (eph, per) = out.split_at_mut(33);
        eph.copy_from_slice(&k.ephemeral.as_bytes());
        per.copy_from_slice(&k.persistent.as_bytes());
        out
    }

    #[inline]
    pub fn channel_view(def: &TlvDef, v: &[u8]) -> Result<ChannelView, DecodeError> {
        let mut r = Reader::new(v);
        Ok(ChannelView {
            owned_by_offerrer: Msat(r.u64(def.name)?),
            owned_by_acceptor: Msat(r.u64(def.name)?),
            total_capacity: Msat(r.u64(def.name)?),
        })
    }
    pub fn channel_view_bytes(c: &ChannelView) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (chunk, v) in out.chunks_exact_mut(8).zip([c.owned_by_offerrer, c.owned_by_acceptor, c.total_capacity]) {
            chunk.copy_from_slice(&v.0.to_be_bytes());
        }
        out
    }

    /// Takes a required field that the stream reader has already seen.
    pub fn required<T>(slot: Option<T>, def: &MessageDef, name: &str) -> Result<T, DecodeError> {
        slot.ok_or_else(|| DecodeError::new(ErrorClass::MissingRequired, format!("{} lacks required {name}", def.name)))
    }
}

use value::{array, channel_view, channel_view_bytes, invalid, pubkeys, pubkeys_bytes, required};

impl PeerswapInit {
    pub const DEF: MessageDef = PEERSWAP_INIT;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<PeerswapInit, DecodeError> {
        let (mut id, mut keys, mut timeouts, mut hash, mut hops, mut amount, mut view, mut counter) =
            (None, None, None, None, None, None, None, None);
        let unknown = Self::DEF.read(bytes, |def, v| {
            match def.typ {
                100000 => id = Some(PoolId(array(def, v)?)),
                100002 => keys = Some(pubkeys(def, v)?),
                100004 => {
                    let t: [u8; 8] = array(def, v)?;
                    let (s, l) = t.split_at(4);
                    timeouts = Some(Timeouts {
                        sidepool: BlockHeight(u32::from_be_bytes(array(def, s)?)),
                        lightning: BlockHeight(u32::from_be_bytes(array(def, l)?)),
                    });
                }
                100008 => hash = Some(PaymentHash(array(def, v)?)),
                100010 => hops = Some(Hops(u8::from_be_bytes(array(def, v)?))),
                100012 => amount = Some(Sat(u64::from_be_bytes(array(def, v)?))),
                100014 => view = Some(channel_view(def, v)?),
                100016 => {
                    let raw = u16::from_be_bytes(array(def, v)?);
                    // SIDEPOOL-10: "the zero-extended value of the 11-bit update counter of the sidepool"
                    counter = Some(UpdateCounter::new(raw).ok_or_else(|| invalid(def, format!("{raw} does not fit in 11 bits")))?);
                }
                _ => {}
            }
            Ok(())
        })?;
        let d = &Self::DEF;
        Ok(PeerswapInit {
            id: required(id, d, "peerswap_init_id")?,
            pubkeys: required(keys, d, "peerswap_init_pubkeys")?,
            timeouts: required(timeouts, d, "peerswap_init_timeouts")?,
            hash: required(hash, d, "peerswap_init_hash")?,
            hops: required(hops, d, "peerswap_init_hops")?,
            amount: required(amount, d, "peerswap_init_amount_sat")?,
            channel_view: required(view, d, "peerswap_init_channel_view_msat")?,
            update_counter: required(counter, d, "peerswap_init_update_counter")?,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let mut timeouts = [0u8; 8];
        let (s, l) = timeouts.split_at_mut(4);
        s.copy_from_slice(&self.timeouts.sidepool.0.to_be_bytes());
        l.copy_from_slice(&self.timeouts.lightning.0.to_be_bytes());
        let known: [(u64, &[u8]); 8] = [
            (100000, &self.id.0),
            (100002, &pubkeys_bytes(&self.pubkeys)),
            (100004, &timeouts),
            (100008, &self.hash.0),
            (100010, &[self.hops.0]),
            (100012, &self.amount.0.to_be_bytes()),
            (100014, &channel_view_bytes(&self.channel_view)),
            (100016, &self.update_counter.get().to_be_bytes()),
        ];
        tlv::write_merged(&known, &self.unknown, out);
    }
}

impl PeerswapAccept {
    pub const DEF: MessageDef = PEERSWAP_ACCEPT;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<PeerswapAccept, DecodeError> {
        let (mut id, mut hash, mut keys) = (None, None, None);
        let unknown = Self::DEF.read(bytes, |def, v| {
            match def.typ {
                100200 => id = Some(PoolId(array(def, v)?)),
                100202 => hash = Some(PaymentHash(array(def, v)?)),
                100204 => keys = Some(pubkeys(def, v)?),
                _ => {}
            }
            Ok(())
        })?;
        let d = &Self::DEF;
        Ok(PeerswapAccept {
            id: required(id, d, "peerswap_accept_id")?,
            hash: required(hash, d, "peerswap_accept_hash")?,
            pubkeys: required(keys, d, "peerswap_accept_pubkeys")?,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let known: [(u64, &[u8]); 3] = [(100200, &self.id.0), (100202, &self.hash.0), (100204, &pubkeys_bytes(&self.pubkeys))];
        tlv::write_merged(&known, &self.unknown, out);
    }
}

impl PeerswapLightning {
    pub const DEF: MessageDef = PEERSWAP_LIGHTNING;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<PeerswapLightning, DecodeError> {
        let (mut id, mut hash, mut secret, mut metadata) = (None, None, None, None);
        let unknown = Self::DEF.read(bytes, |def, v| {
            match def.typ {
                100400 => id = Some(PoolId(array(def, v)?)),
                100402 => hash = Some(PaymentHash(array(def, v)?)),
                100404 => secret = Some(PaymentSecret(array(def, v)?)),
                100406 => metadata = Some(v.to_vec()),
                _ => {}
            }
            Ok(())
        })?;
        let d = &Self::DEF;
        Ok(PeerswapLightning {
            id: required(id, d, "peerswap_lightning_id")?,
            hash: required(hash, d, "peerswap_lightning_hash")?,
            payment_secret: secret,
            payment_metadata: metadata,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let known: [Option<(u64, &[u8])>; 4] = [
            Some((100400, &self.id.0)),
            Some((100402, &self.hash.0)),
            self.payment_secret.as_ref().map(|s| (100404, s.0.as_slice())),
            self.payment_metadata.as_ref().map(|m| (100406, m.as_slice())),
        ];
        tlv::write_merged(tlv::Records::present(known).as_slice(), &self.unknown, out);
    }
}

impl PeerswapSuccess {
    pub const DEF: MessageDef = PEERSWAP_SUCCESS;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<PeerswapSuccess, DecodeError> {
        let (mut id, mut hash, mut key) = (None, None, None);
        let unknown = Self::DEF.read(bytes, |def, v| {
            match def.typ {
                101000 => id = Some(PoolId(array(def, v)?)),
                101002 => hash = Some(PaymentHash(array(def, v)?)),
                101004 => {
                    let raw: [u8; 65] = array(def, v)?;
                    let (enc, pk) = raw.split_at(32);
                    key = Some(EncryptedPrivkey {
                        encrypted_key: array(def, enc)?,
                        encryption_pubkey: value::point(def, array(def, pk)?, "encryption public key")?,
                    });
                }
                _ => {}
            }
            Ok(())
        })?;
        let d = &Self::DEF;
        Ok(PeerswapSuccess {
            id: required(id, d, "peerswap_success_id")?,
            hash: required(hash, d, "peerswap_success_hash")?,
            ephemeral_privkey: required(key, d, "peerswap_success_ephemeral_privkey")?,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let mut key = [0u8; 65];
        let (enc, pk) = key.split_at_mut(32);
        enc.copy_from_slice(&self.ephemeral_privkey.encrypted_key);
        pk.copy_from_slice(&self.ephemeral_privkey.encryption_pubkey.as_bytes());
        let known: [(u64, &[u8]); 3] = [(101000, &self.id.0), (101002, &self.hash.0), (101004, &key)];
        tlv::write_merged(&known, &self.unknown, out);
    }
}

impl PeerswapReject {
    pub const DEF: MessageDef = PEERSWAP_REJECT;

    pub fn decode_tlvs(bytes: &[u8]) -> Result<PeerswapReject, DecodeError> {
        let (mut id, mut hash, mut code, mut text, mut view) = (None, None, None, None, None);
        let unknown = Self::DEF.read(bytes, |def, v| {
            match def.typ {
                109800 => id = Some(PoolId(array(def, v)?)),
                109802 => hash = Some(PaymentHash(array(def, v)?)),
                109804 => code = Some(RejectCode(u16::from_be_bytes(array(def, v)?))),
                109806 => {
                    // SIDEPOOL-10: "Value: A human-readable string encoded in UTF-8."
                    let s = core::str::from_utf8(v).map_err(|e| invalid(def, format!("not UTF-8 ({e})")))?;
                    text = Some(s.to_owned());
                }
                109808 => view = Some(channel_view(def, v)?),
                _ => {}
            }
            Ok(())
        })?;
        let d = &Self::DEF;
        Ok(PeerswapReject {
            id: required(id, d, "peerswap_reject_id")?,
            hash: required(hash, d, "peerswap_reject_hash")?,
            reason_code: required(code, d, "peerswap_reject_reason_code")?,
            reason_text: text,
            channel_view: required(view, d, "peerswap_reject_channel_view_msat")?,
            unknown,
        })
    }

    pub fn encode_tlvs(&self, out: &mut Vec<u8>) {
        let code = self.reason_code.0.to_be_bytes();
        let view = channel_view_bytes(&self.channel_view);
        let known: [Option<(u64, &[u8])>; 5] = [
            Some((109800, &self.id.0)),
            Some((109802, &self.hash.0)),
            Some((109804, &code)),
            self.reason_text.as_ref().map(|t| (109806, t.as_bytes())),
            Some((109808, &view)),
        ];
        tlv::write_merged(tlv::Records::present(known).as_slice(), &self.unknown, out);
    }
}
