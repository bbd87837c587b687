//! The committed codec vectors against LDK 0.2's own serialisation.
//!
//! For every test of `vectors/lightningrod/codec.yaml`:
//! - valid: LDK's message type (`Type::type_id`) and `Writeable::write` of the
//!   same message, built from the test's fields with LDK's own types, give
//!   exactly the test's bytes (with unknown odd records, which LDK drops, the
//!   bytes the reference writes without them);
//! - valid and acceptable: LDK's reader accepts the bytes and reads the same
//!   values the reference reads;
//! - invalid: LDK's reader rejects the bytes.
//!
//! The onion-message payload is written and read with LDK's exported TLV
//! macros and `AsyncPaymentsMessage`'s own `Writeable` / `ReadableArgs`, over
//! the records `onion_message/packet.rs` uses (reply path, recipient data,
//! one message record). The onion encryption around it is not compared.

use lightning::bitcoin::constants::ChainHash;
use lightning::bitcoin::secp256k1::PublicKey as LdkKey;
use lightning::blinded_path::message::BlindedMessagePath as LdkPath;
use lightning::blinded_path::{BlindedHop as LdkHop, Direction as LdkDirection, IntroductionNode as LdkIntro};
use lightning::ln::msgs::{self, DecodeError as LdkDecodeError, SocketAddress};
use lightning::ln::types::ChannelId;
use lightning::ln::wire::Type;
use lightning::onion_message::async_payments::{AsyncPaymentsMessage, HeldHtlcAvailable, ReleaseHeldHtlc};
use lightning::onion_message::packet::OnionMessageContents;
use lightning::types::features::InitFeatures;
use lightning::types::payment::PaymentHash as LdkHash;
use lightning::util::ser::{LengthReadable, Readable, ReadableArgs, WithoutLength, Writeable};
use lightningrod_ldk::CODEC_VECTORS;
use lightningrod_reference::units::{BlockHeight, HtlcId, Msat, PaymentHash, PublicKey};
use lightningrod_reference::wire::blinded_path::{BlindedHop, BlindedMessagePath, Direction, IntroductionNode};
use lightningrod_reference::wire::features::Features;
use lightningrod_reference::wire::init::Init;
use lightningrod_reference::wire::onion_message::{AsyncKind, AsyncMessage, OnionMessagePayload};
use lightningrod_reference::wire::revoke_and_ack::RevokeAndAck;
use lightningrod_reference::wire::update_add_htlc::{OnionPacket, UpdateAddHtlc};
use lightningrod_reference::wire::Message;
use serde_json::Value;
use sidepool_conformance::vectors::kinds::lnrod_codec::{decode, from_json, Decoded};
use std::path::Path;

/// An onion message's final-hop payload, with LDK's types.
struct LdkPayload {
    reply_path: Option<LdkPath>,
    encrypted_recipient_data: Vec<u8>,
    message: AsyncPaymentsMessage,
}

// A test value, made and dropped once per vector: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Ldk {
    Init(msgs::Init),
    Add(Box<msgs::UpdateAddHTLC>),
    Raa(msgs::RevokeAndACK),
    Onion(LdkPayload),
}

// ---- ours -> LDK (independent construction from the fields) --------------------------------

fn key(k: PublicKey) -> LdkKey {
    LdkKey::from_slice(&k.as_bytes()).expect("a valid point")
}

fn ldk_path(p: &BlindedMessagePath) -> LdkPath {
    let hops: Vec<LdkHop> = p
        .hops()
        .iter()
        .map(|h| LdkHop { blinded_node_id: key(h.blinded_node_id), encrypted_payload: h.encrypted_payload.clone() })
        .collect();
    match p.introduction_node() {
        IntroductionNode::NodeId(intro) => LdkPath::from_blinded_path(key(intro), key(p.blinding_point()), hops),
        IntroductionNode::DirectedScid { .. } => {
            // LDK has no public constructor for a short-channel-id introduction:
            // read the path with LDK's own reader from the reference's bytes.
            let mut bytes = Vec::new();
            p.write(&mut bytes);
            LdkPath::read(&mut &bytes[..]).expect("LDK reads the reference's path")
        }
    }
}

fn to_ldk(d: &Decoded) -> Ldk {
    match d {
        Decoded::Message(Message::Init(m)) => Ldk::Init(msgs::Init {
            features: InitFeatures::from_be_bytes(m.features.as_bytes().to_vec()),
            networks: m.networks.as_ref().map(|n| n.iter().map(|h| ChainHash::from(*h)).collect()),
            remote_network_address: m
                .remote_addr
                .as_ref()
                .map(|a| SocketAddress::read(&mut &a[..]).expect("a valid BOLT 1 address")),
        }),
        Decoded::Message(Message::UpdateAddHtlc(m)) => {
            let onion = m.onion_routing_packet.as_bytes();
            let mut hop_data = [0u8; 1300];
            hop_data.copy_from_slice(&onion[34..1334]);
            let mut hmac = [0u8; 32];
            hmac.copy_from_slice(&onion[1334..]);
            Ldk::Add(Box::new(msgs::UpdateAddHTLC {
                channel_id: ChannelId(m.channel_id),
                htlc_id: m.id.0,
                amount_msat: m.amount.0,
                payment_hash: LdkHash(m.payment_hash.0),
                cltv_expiry: m.cltv_expiry.0,
                skimmed_fee_msat: m.skimmed_fee.map(|f| f.0),
                onion_routing_packet: msgs::OnionPacket {
                    version: onion[0],
                    public_key: LdkKey::from_slice(&onion[1..34]),
                    hop_data,
                    hmac,
                },
                blinding_point: m.blinding_point.map(key),
                hold_htlc: m.hold_htlc.then_some(()),
            }))
        }
        Decoded::Message(Message::RevokeAndAck(m)) => Ldk::Raa(msgs::RevokeAndACK {
            channel_id: ChannelId(m.channel_id),
            per_commitment_secret: m.per_commitment_secret,
            next_per_commitment_point: key(m.next_per_commitment_point),
            release_htlc_message_paths: m.release_htlc_message_paths.iter().map(|(id, p)| (id.0, ldk_path(p))).collect(),
        }),
        Decoded::Onion(p) => Ldk::Onion(LdkPayload {
            reply_path: p.reply_path.as_ref().map(ldk_path),
            encrypted_recipient_data: p.encrypted_recipient_data.clone(),
            message: match p.message.kind {
                AsyncKind::HeldHtlcAvailable => AsyncPaymentsMessage::HeldHtlcAvailable(HeldHtlcAvailable {}),
                AsyncKind::ReleaseHeldHtlc => AsyncPaymentsMessage::ReleaseHeldHtlc(ReleaseHeldHtlc {}),
            },
        }),
    }
}

// ---- LDK writes ------------------------------------------------------------------------------

fn typed<M: Type>(m: &M) -> Vec<u8> {
    let mut out = m.type_id().to_be_bytes().to_vec();
    out.extend(m.encode());
    out
}

fn ldk_write(l: &Ldk) -> Vec<u8> {
    match l {
        Ldk::Init(m) => typed(m),
        Ldk::Add(m) => typed(m.as_ref()),
        Ldk::Raa(m) => typed(m),
        Ldk::Onion(p) => {
            let mut out = Vec::new();
            let message = &p.message;
            let encrypted = &p.encrypted_recipient_data;
            let write = |w: &mut Vec<u8>| -> Result<(), lightning::io::Error> {
                lightning::encode_tlv_stream!(w, {
                    (2, p.reply_path, option),
                    (4, encrypted, required_vec),
                    (message.tlv_type(), message, required)
                });
                Ok(())
            };
            write(&mut out).expect("writing to a Vec cannot fail");
            out
        }
    }
}

// ---- LDK reads -------------------------------------------------------------------------------

fn read_body<M: LengthReadable + Type>(bytes: &[u8], expected_type: u16) -> Result<M, LdkDecodeError> {
    if bytes.len() < 2 || u16::from_be_bytes([bytes[0], bytes[1]]) != expected_type {
        return Err(LdkDecodeError::UnknownVersion);
    }
    M::read_from_fixed_length_buffer(&mut &bytes[2..])
}

// LDK's macro drops a reader it borrowed, which clippy flags inside the expansion.
#[allow(dropping_references, clippy::drop_non_drop)]
fn read_onion(bytes: &[u8]) -> Result<LdkPayload, LdkDecodeError> {
    let mut reply_path: Option<LdkPath> = None;
    let mut encrypted: Option<Vec<u8>> = None;
    let mut message_type: Option<u64> = None;
    let mut message: Option<AsyncPaymentsMessage> = None;
    let mut reader = bytes;
    let stream = &mut reader;
    let rewind = |_, _| unreachable!("the whole range is read");
    // The shape of `onion_message/packet.rs`'s reader: records below 64 are
    // control records, one record of 64 or above is the message.
    lightning::_decode_tlv_stream_range!(stream, .., rewind, {
        (2, reply_path, option),
    }, |typ: u64, r: &mut lightning::util::ser::FixedLengthReader<_>| {
        if typ == 4 {
            let data: WithoutLength<Vec<u8>> = LengthReadable::read_from_fixed_length_buffer(r)?;
            encrypted = Some(data.0);
            return Ok(true);
        }
        if typ < 64 {
            return Ok(false);
        }
        if message_type.is_some() {
            return Err(LdkDecodeError::InvalidValue);
        }
        message_type = Some(typ);
        if AsyncPaymentsMessage::is_known_type(typ) {
            message = Some(AsyncPaymentsMessage::read(r, typ)?);
            return Ok(true);
        }
        Ok(false)
    });
    Ok(LdkPayload {
        reply_path,
        encrypted_recipient_data: encrypted.ok_or(LdkDecodeError::InvalidValue)?,
        message: message.ok_or(LdkDecodeError::InvalidValue)?,
    })
}

fn ldk_read(message: &str, bytes: &[u8]) -> Result<Ldk, LdkDecodeError> {
    Ok(match message {
        "init" => Ldk::Init(read_body(bytes, 16)?),
        "update_add_htlc" => Ldk::Add(Box::new(read_body(bytes, 128)?)),
        "revoke_and_ack" => Ldk::Raa(read_body(bytes, 133)?),
        "onionmsg_tlv" => Ldk::Onion(read_onion(bytes)?),
        other => panic!("unknown message {other}"),
    })
}

// ---- LDK -> ours (to compare what LDK read with what the reference read) ----------------------

fn ours_key(k: &LdkKey) -> PublicKey {
    PublicKey::from_bytes(k.serialize()).expect("LDK keys are valid points")
}

fn ours_path(p: &LdkPath) -> BlindedMessagePath {
    let intro = match p.introduction_node() {
        LdkIntro::NodeId(k) => IntroductionNode::NodeId(ours_key(k)),
        LdkIntro::DirectedShortChannelId(d, scid) => IntroductionNode::DirectedScid {
            direction: match d {
                LdkDirection::NodeOne => Direction::NodeOne,
                LdkDirection::NodeTwo => Direction::NodeTwo,
            },
            scid: *scid,
        },
    };
    let hops = p
        .blinded_hops()
        .iter()
        .map(|h| BlindedHop { blinded_node_id: ours_key(&h.blinded_node_id), encrypted_payload: h.encrypted_payload.clone() })
        .collect();
    BlindedMessagePath::new(intro, ours_key(&p.blinding_point()), hops).expect("LDK paths have 1 to 255 hops")
}

/// What LDK read, in the reference's types; unknown records are empty (LDK
/// drops them) and `init`'s features are LDK's union of both bitfields.
fn from_ldk(l: &Ldk) -> Decoded {
    match l {
        Ldk::Init(m) => {
            let mut be = m.features.le_flags().to_vec();
            be.reverse();
            Decoded::Message(Message::Init(Init {
                globalfeatures: Features::from_wire(vec![]),
                features: Features::from_wire(be),
                networks: m.networks.as_ref().map(|n| n.iter().map(|h| *AsRef::<[u8; 32]>::as_ref(h)).collect()),
                remote_addr: m.remote_network_address.as_ref().map(|a| a.encode()),
                unknown: vec![],
            }))
        }
        Ldk::Add(m) => {
            let mut onion = Vec::with_capacity(1366);
            onion.push(m.onion_routing_packet.version);
            match &m.onion_routing_packet.public_key {
                Ok(k) => onion.extend(k.serialize()),
                Err(_) => panic!("the vectors' onion keys are valid points"),
            }
            onion.extend(m.onion_routing_packet.hop_data);
            onion.extend(m.onion_routing_packet.hmac);
            Decoded::Message(Message::UpdateAddHtlc(UpdateAddHtlc {
                channel_id: m.channel_id.0,
                id: HtlcId(m.htlc_id),
                amount: Msat(m.amount_msat),
                payment_hash: PaymentHash(m.payment_hash.0),
                cltv_expiry: BlockHeight(m.cltv_expiry),
                onion_routing_packet: OnionPacket::from_slice(&onion).expect("1366 bytes"),
                blinding_point: m.blinding_point.as_ref().map(ours_key),
                skimmed_fee: m.skimmed_fee_msat.map(Msat),
                hold_htlc: m.hold_htlc.is_some(),
                unknown: vec![],
            }))
        }
        Ldk::Raa(m) => Decoded::Message(Message::RevokeAndAck(RevokeAndAck {
            channel_id: m.channel_id.0,
            per_commitment_secret: m.per_commitment_secret,
            next_per_commitment_point: ours_key(&m.next_per_commitment_point),
            release_htlc_message_paths: m.release_htlc_message_paths.iter().map(|(id, p)| (HtlcId(*id), ours_path(p))).collect(),
            unknown: vec![],
        })),
        Ldk::Onion(p) => Decoded::Onion(OnionMessagePayload {
            reply_path: p.reply_path.as_ref().map(ours_path),
            encrypted_recipient_data: p.encrypted_recipient_data.clone(),
            message: AsyncMessage::new(match &p.message {
                AsyncPaymentsMessage::HeldHtlcAvailable(_) => AsyncKind::HeldHtlcAvailable,
                AsyncPaymentsMessage::ReleaseHeldHtlc(_) => AsyncKind::ReleaseHeldHtlc,
                other => panic!("not an async-payment hold message: {other:?}"),
            }),
            unknown: vec![],
        }),
    }
}

/// The value without its unknown records (LDK drops them).
fn without_unknown(d: &Decoded) -> Decoded {
    let mut d = d.clone();
    match &mut d {
        Decoded::Message(Message::Init(m)) => m.unknown.clear(),
        Decoded::Message(Message::UpdateAddHtlc(m)) => m.unknown.clear(),
        Decoded::Message(Message::RevokeAndAck(m)) => m.unknown.clear(),
        Decoded::Onion(p) => {
            p.unknown.clear();
            p.message.unknown.clear();
        }
    }
    d
}

/// The reference's view as LDK keeps it: no unknown records, and `init`'s two
/// bitfields merged into one (LDK ORs them on reading).
fn comparable(d: &Decoded) -> Decoded {
    match without_unknown(d) {
        Decoded::Message(Message::Init(mut m)) => {
            m.features = m.offered();
            m.globalfeatures = Features::from_wire(vec![]);
            Decoded::Message(Message::Init(m))
        }
        other => other,
    }
}

/// LDK's features compared as a set of bits (their byte length is LDK's business).
fn normalise_ldk(d: Decoded) -> Decoded {
    match d {
        Decoded::Message(Message::Init(mut m)) => {
            m.features = Features::from_bits(m.features.bits());
            Decoded::Message(Message::Init(m))
        }
        other => other,
    }
}

// ---- the tests -------------------------------------------------------------------------------

fn vectors() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(CODEC_VECTORS);
    let text = std::fs::read_to_string(&path).expect("the codec vectors are readable");
    let doc: Value = serde_yaml::from_str(&text).expect("the codec vectors are YAML");
    let mut out = Vec::new();
    for g in doc["testGroups"].as_array().expect("testGroups") {
        for t in g["tests"].as_array().expect("tests") {
            out.push(t.clone());
        }
    }
    out
}

#[test]
fn ldk_writes_the_same_bytes_and_reads_the_same_values() {
    let tests = vectors();
    assert!(tests.len() >= 30, "only {} codec vectors", tests.len());
    let (mut written, mut read, mut rejected) = (0, 0, 0);
    for t in &tests {
        let id = t["tcId"].as_u64().expect("tcId");
        let message = t["message"].as_str().expect("message");
        let bytes = hex::decode(t["hex"].as_str().expect("hex")).expect("hex");
        let flags: Vec<&str> = t["flags"].as_array().expect("flags").iter().filter_map(Value::as_str).collect();
        match t["result"].as_str().expect("result") {
            "invalid" => {
                assert!(ldk_read(message, &bytes).is_err(), "tcId {id}: LDK 0.2 accepts what the vector calls invalid");
                rejected += 1;
            }
            result => {
                let ours = decode(message, &bytes).unwrap_or_else(|e| panic!("tcId {id}: the reference rejects it: {e}"));
                let theirs = ldk_read(message, &bytes).unwrap_or_else(|e| panic!("tcId {id}: LDK 0.2 rejects it: {e:?}"));
                assert_eq!(normalise_ldk(from_ldk(&theirs)), comparable(&ours), "tcId {id}: LDK reads other values");
                read += 1;
                if result == "valid" {
                    let fields = from_json(message, &t["fields"]).expect("fields");
                    let expected = if flags.contains(&"UnknownOdd") { without_unknown(&fields).encode() } else { bytes.clone() };
                    let ldk_bytes = ldk_write(&to_ldk(&fields));
                    assert_eq!(hex::encode(&ldk_bytes), hex::encode(&expected), "tcId {id}: LDK 0.2 writes other bytes");
                    written += 1;
                }
            }
        }
    }
    assert!(written >= 15 && read >= written && rejected >= 15, "written {written}, read {read}, rejected {rejected}");
}

#[test]
fn an_ldk_node_configured_to_hold_offers_bit_153_and_only_then() {
    use lightning::ln::channelmanager::provided_init_features;
    use lightning::util::config::UserConfig;
    let mut config = UserConfig::default();
    assert!(!provided_init_features(&config).supports_htlc_hold(), "LDK 0.2 holds nothing by default");
    config.enable_htlc_hold = true;
    let features = provided_init_features(&config);
    assert!(features.supports_htlc_hold() && !features.requires_htlc_hold());
    // LDK's own `init` with those features, read by the reference.
    let init = msgs::Init { features, networks: None, remote_network_address: None };
    let Ok(Decoded::Message(Message::Init(ours))) = decode("init", &typed(&init)) else {
        panic!("the reference cannot read LDK's init")
    };
    let offered = ours.offered();
    assert!(offered.bits().contains(&153) && !offered.bits().contains(&152));
    assert!(lightningrod_reference::wire::features::peer_can_hold_htlcs(&offered));
}

#[test]
fn ldk_writes_the_hold_messages_as_one_byte_records() {
    for (msg, record) in [
        (AsyncPaymentsMessage::HeldHtlcAvailable(HeldHtlcAvailable {}), "480100"),
        (AsyncPaymentsMessage::ReleaseHeldHtlc(ReleaseHeldHtlc {}), "4a0100"),
    ] {
        let mut out = Vec::new();
        let write = |w: &mut Vec<u8>| -> Result<(), lightning::io::Error> {
            lightning::encode_tlv_stream!(w, { (msg.tlv_type(), msg, required) });
            Ok(())
        };
        write(&mut out).expect("writing to a Vec cannot fail");
        assert_eq!(hex::encode(out), record);
    }
}
