//! The comparison point for the codec benchmarks: each sidepool message as a
//! struct with the same fields and the same TLV types, (de)serialised by LDK's
//! own framework (`lightning::util::ser`, `impl_writeable_tlv_based!`).
//!
//! What each side does, so the figures compare like with like:
//! - both decode from bytes into an owned struct, walk the TLV stream with
//!   BigSize types and lengths, insist on strictly increasing types, reject
//!   unknown even types, check every required field is present and every
//!   fixed-size value has exactly its length, and validate public keys as
//!   secp256k1 points;
//! - the reference also keeps unknown odd records (for a byte-identical
//!   re-encode; LDK skips them), checks the 11-bit update counter, checks the
//!   length ranges of the variable fields, and parses `my_sidepool_features`
//!   into a bit set (LDK keeps the raw bytes);
//! - LDK frames the stream with a BigSize length prefix, the reference with the
//!   4-byte sidepool envelope (message type 53609 and sub-id).

// LDK's impl_writeable_tlv_based! expands to `drop(...)` calls on plain values.
#![allow(clippy::drop_non_drop)]

use lightning::bitcoin::secp256k1::PublicKey as SecpKey;
use lightning::impl_writeable_tlv_based;
use lightning::ln::msgs::DecodeError;
use lightning::util::ser::{LengthLimitedRead, LengthReadable, Readable, WithoutLength, Writeable, Writer};
use serde_json::Value;
use sidepool_reference::messages::{IrregularAuthorization, MySidepoolFeatures, SwapPartyBegin};
use sidepool_reference::peerswap::messages::{
    ChannelView, EncryptedPrivkey, HtlcPubkeys, PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject,
    PeerswapSuccess, RejectCode, Timeouts,
};
use sidepool_reference::units::{BlockHeight, Hops, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter};
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::{Decoded, Message};
use std::path::Path;

/// A variable-length value written as it is (its TLV record gives the length)
/// and read back with LDK's own `WithoutLength`, as LDK does for
/// `payment_metadata` in onion payloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Writeable for Bytes {
    fn write<W: Writer>(&self, w: &mut W) -> Result<(), lightning::io::Error> {
        WithoutLength(&self.0).write(w)
    }
}

impl LengthReadable for Bytes {
    fn read_from_fixed_length_buffer<R: LengthLimitedRead>(r: &mut R) -> Result<Self, DecodeError> {
        let v: WithoutLength<Vec<u8>> = LengthReadable::read_from_fixed_length_buffer(r)?;
        Ok(Bytes(v.0))
    }
}

/// UTF-8 text written as it is, read back (and UTF-8 checked) with LDK's own `WithoutLength`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl Writeable for Text {
    fn write<W: Writer>(&self, w: &mut W) -> Result<(), lightning::io::Error> {
        WithoutLength(&self.0).write(w)
    }
}

impl LengthReadable for Text {
    fn read_from_fixed_length_buffer<R: LengthLimitedRead>(r: &mut R) -> Result<Self, DecodeError> {
        let v: WithoutLength<String> = LengthReadable::read_from_fixed_length_buffer(r)?;
        Ok(Text(v.0))
    }
}

/// `*_channel_view_msat` as three u64 (24 bytes, big-endian, as on our wire).
type View = (u64, u64, u64);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkPeerswapInit {
    pub id: [u8; 16],
    pub pubkeys: (SecpKey, SecpKey),
    pub timeouts: (u32, u32),
    pub hash: [u8; 32],
    pub hops: u8,
    pub amount_sat: u64,
    pub channel_view: View,
    pub update_counter: u16,
}
impl_writeable_tlv_based!(LdkPeerswapInit, {
    (100000, id, required),
    (100002, pubkeys, required),
    (100004, timeouts, required),
    (100008, hash, required),
    (100010, hops, required),
    (100012, amount_sat, required),
    (100014, channel_view, required),
    (100016, update_counter, required),
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkPeerswapAccept {
    pub id: [u8; 16],
    pub hash: [u8; 32],
    pub pubkeys: (SecpKey, SecpKey),
}
impl_writeable_tlv_based!(LdkPeerswapAccept, {
    (100200, id, required),
    (100202, hash, required),
    (100204, pubkeys, required),
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkPeerswapLightning {
    pub id: [u8; 16],
    pub hash: [u8; 32],
    pub payment_secret: Option<[u8; 32]>,
    pub payment_metadata: Option<Bytes>,
}
impl_writeable_tlv_based!(LdkPeerswapLightning, {
    (100400, id, required),
    (100402, hash, required),
    (100404, payment_secret, option),
    (100406, payment_metadata, option),
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkPeerswapSuccess {
    pub id: [u8; 16],
    pub hash: [u8; 32],
    pub ephemeral_privkey: ([u8; 32], SecpKey),
}
impl_writeable_tlv_based!(LdkPeerswapSuccess, {
    (101000, id, required),
    (101002, hash, required),
    (101004, ephemeral_privkey, required),
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkPeerswapReject {
    pub id: [u8; 16],
    pub hash: [u8; 32],
    pub reason_code: u16,
    pub reason_text: Option<Text>,
    pub channel_view: View,
}
impl_writeable_tlv_based!(LdkPeerswapReject, {
    (109800, id, required),
    (109802, hash, required),
    (109804, reason_code, required),
    (109806, reason_text, option),
    (109808, channel_view, required),
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkSwapPartyBegin {
    pub id: [u8; 16],
    pub irregular_authorization: Option<([u8; 32], u64, [u8; 64])>,
}
impl_writeable_tlv_based!(LdkSwapPartyBegin, {
    (40000, id, required),
    (40002, irregular_authorization, option),
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdkMySidepoolFeatures {
    /// The encoded feature set, kept as bytes.
    pub features: Bytes,
}
impl_writeable_tlv_based!(LdkMySidepoolFeatures, {
    (10100, features, required),
});

/// One message as both sides hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ldk {
    MySidepoolFeatures(LdkMySidepoolFeatures),
    SwapPartyBegin(LdkSwapPartyBegin),
    PeerswapInit(LdkPeerswapInit),
    PeerswapAccept(LdkPeerswapAccept),
    PeerswapLightning(LdkPeerswapLightning),
    PeerswapSuccess(LdkPeerswapSuccess),
    PeerswapReject(LdkPeerswapReject),
}

fn key(k: PublicKey) -> SecpKey {
    k.to_secp()
}
fn view(v: &ChannelView) -> View {
    (v.owned_by_offerrer.0, v.owned_by_acceptor.0, v.total_capacity.0)
}
fn our_view(v: View) -> ChannelView {
    ChannelView { owned_by_offerrer: Msat(v.0), owned_by_acceptor: Msat(v.1), total_capacity: Msat(v.2) }
}

impl Ldk {
    /// The same logical content as `m` (unknown odd records are not carried: LDK skips them).
    pub fn from_message(m: &Message) -> Ldk {
        match m {
            Message::MySidepoolFeatures(f) => Ldk::MySidepoolFeatures(LdkMySidepoolFeatures { features: Bytes(f.features.encode()) }),
            Message::SwapPartyBegin(b) => Ldk::SwapPartyBegin(LdkSwapPartyBegin {
                id: b.id.0,
                irregular_authorization: b.irregular_authorization.map(|a| (a.xonly_pubkey, a.amount.0, a.signature)),
            }),
            Message::PeerswapInit(i) => Ldk::PeerswapInit(LdkPeerswapInit {
                id: i.id.0,
                pubkeys: (key(i.pubkeys.ephemeral), key(i.pubkeys.persistent)),
                timeouts: (i.timeouts.sidepool.0, i.timeouts.lightning.0),
                hash: i.hash.0,
                hops: i.hops.0,
                amount_sat: i.amount.0,
                channel_view: view(&i.channel_view),
                update_counter: i.update_counter.get(),
            }),
            Message::PeerswapAccept(a) => Ldk::PeerswapAccept(LdkPeerswapAccept {
                id: a.id.0,
                hash: a.hash.0,
                pubkeys: (key(a.pubkeys.ephemeral), key(a.pubkeys.persistent)),
            }),
            Message::PeerswapLightning(l) => Ldk::PeerswapLightning(LdkPeerswapLightning {
                id: l.id.0,
                hash: l.hash.0,
                payment_secret: l.payment_secret.map(|s| s.0),
                payment_metadata: l.payment_metadata.clone().map(Bytes),
            }),
            Message::PeerswapSuccess(s) => Ldk::PeerswapSuccess(LdkPeerswapSuccess {
                id: s.id.0,
                hash: s.hash.0,
                ephemeral_privkey: (s.ephemeral_privkey.encrypted_key, key(s.ephemeral_privkey.encryption_pubkey)),
            }),
            Message::PeerswapReject(r) => Ldk::PeerswapReject(LdkPeerswapReject {
                id: r.id.0,
                hash: r.hash.0,
                reason_code: r.reason_code.0,
                reason_text: r.reason_text.clone().map(Text),
                channel_view: view(&r.channel_view),
            }),
        }
    }

    /// Back to the reference's message (with no unknown records), to check both hold the same content.
    pub fn to_message(&self) -> Option<Message> {
        let pk = |k: &SecpKey| PublicKey::from_secp(k);
        Some(match self {
            Ldk::MySidepoolFeatures(f) => Message::MySidepoolFeatures(MySidepoolFeatures {
                features: FeatureSet::decode(&f.features.0).ok()?,
                unknown: Vec::new(),
            }),
            Ldk::SwapPartyBegin(b) => Message::SwapPartyBegin(SwapPartyBegin {
                id: PoolId(b.id),
                irregular_authorization: b
                    .irregular_authorization
                    .map(|(xonly_pubkey, amount, signature)| IrregularAuthorization { xonly_pubkey, amount: Sat(amount), signature }),
                unknown: Vec::new(),
            }),
            Ldk::PeerswapInit(i) => Message::PeerswapInit(PeerswapInit {
                id: PoolId(i.id),
                pubkeys: HtlcPubkeys { ephemeral: pk(&i.pubkeys.0), persistent: pk(&i.pubkeys.1) },
                timeouts: Timeouts { sidepool: BlockHeight(i.timeouts.0), lightning: BlockHeight(i.timeouts.1) },
                hash: PaymentHash(i.hash),
                hops: Hops(i.hops),
                amount: Sat(i.amount_sat),
                channel_view: our_view(i.channel_view),
                update_counter: UpdateCounter::new(i.update_counter)?,
                unknown: Vec::new(),
            }),
            Ldk::PeerswapAccept(a) => Message::PeerswapAccept(PeerswapAccept {
                id: PoolId(a.id),
                hash: PaymentHash(a.hash),
                pubkeys: HtlcPubkeys { ephemeral: pk(&a.pubkeys.0), persistent: pk(&a.pubkeys.1) },
                unknown: Vec::new(),
            }),
            Ldk::PeerswapLightning(l) => Message::PeerswapLightning(PeerswapLightning {
                id: PoolId(l.id),
                hash: PaymentHash(l.hash),
                payment_secret: l.payment_secret.map(PaymentSecret),
                payment_metadata: l.payment_metadata.as_ref().map(|m| m.0.clone()),
                unknown: Vec::new(),
            }),
            Ldk::PeerswapSuccess(s) => Message::PeerswapSuccess(PeerswapSuccess {
                id: PoolId(s.id),
                hash: PaymentHash(s.hash),
                ephemeral_privkey: EncryptedPrivkey { encrypted_key: s.ephemeral_privkey.0, encryption_pubkey: pk(&s.ephemeral_privkey.1) },
                unknown: Vec::new(),
            }),
            Ldk::PeerswapReject(r) => Message::PeerswapReject(PeerswapReject {
                id: PoolId(r.id),
                hash: PaymentHash(r.hash),
                reason_code: RejectCode(r.reason_code),
                reason_text: r.reason_text.as_ref().map(|t| t.0.clone()),
                channel_view: our_view(r.channel_view),
                unknown: Vec::new(),
            }),
        })
    }

    /// LDK's encoding (`Writeable::encode`: a BigSize length, then the TLV stream).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Ldk::MySidepoolFeatures(m) => m.encode(),
            Ldk::SwapPartyBegin(m) => m.encode(),
            Ldk::PeerswapInit(m) => m.encode(),
            Ldk::PeerswapAccept(m) => m.encode(),
            Ldk::PeerswapLightning(m) => m.encode(),
            Ldk::PeerswapSuccess(m) => m.encode(),
            Ldk::PeerswapReject(m) => m.encode(),
        }
    }

    /// LDK's decoding of `bytes` as the same kind of message as `self`.
    pub fn decode_like(&self, mut bytes: &[u8]) -> Result<Ldk, DecodeError> {
        let r = &mut bytes;
        Ok(match self {
            Ldk::MySidepoolFeatures(_) => Ldk::MySidepoolFeatures(Readable::read(r)?),
            Ldk::SwapPartyBegin(_) => Ldk::SwapPartyBegin(Readable::read(r)?),
            Ldk::PeerswapInit(_) => Ldk::PeerswapInit(Readable::read(r)?),
            Ldk::PeerswapAccept(_) => Ldk::PeerswapAccept(Readable::read(r)?),
            Ldk::PeerswapLightning(_) => Ldk::PeerswapLightning(Readable::read(r)?),
            Ldk::PeerswapSuccess(_) => Ldk::PeerswapSuccess(Readable::read(r)?),
            Ldk::PeerswapReject(_) => Ldk::PeerswapReject(Readable::read(r)?),
        })
    }
}

/// `m` without its unknown odd records (LDK does not keep them), and whether it had any.
pub fn without_unknown(m: &Message) -> (Message, bool) {
    let mut m = m.clone();
    let unknown = m.unknown_mut();
    let had = !unknown.is_empty();
    unknown.clear();
    (m, had)
}

/// The messages benchmarked, by vector file name.
pub const MESSAGES: &[&str] =
    &["my_sidepool_features", "swap_party_begin", "peerswap_init", "peerswap_accept", "peerswap_lightning", "peerswap_success", "peerswap_reject"];

/// The first valid case of `vectors/messages/<name>.yaml`: its bytes and the message they decode to.
pub fn sample(name: &str) -> Result<(Vec<u8>, Message), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/messages").join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value = serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let tests = doc.pointer("/testGroups/0/tests").and_then(Value::as_array).ok_or("no tests")?;
    let hex = tests
        .iter()
        .find(|t| t.get("result").and_then(Value::as_str) == Some("valid"))
        .and_then(|t| t.get("hex"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{name}: no valid case"))?;
    let bytes = hex::decode(hex).map_err(|e| e.to_string())?;
    match Message::decode(&bytes) {
        Ok(Decoded::Known(m)) => Ok((bytes, m)),
        other => Err(format!("{name}: the valid case decodes to {other:?}")),
    }
}
