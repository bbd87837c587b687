//! LightningRod (LNROD-01) against LDK 0.2.
//!
//! - [`codec_cases`] builds the codec vectors (`vectors/lightningrod/codec.yaml`)
//!   with `lightningrod-reference`'s encoder; [`codec_vector_file`] writes them
//!   in the vectors format (the binary `lnrod-codec-vectors` writes or checks
//!   the committed file).
//! - `tests/ldk_bytes.rs` checks every committed codec vector against LDK 0.2's
//!   own serialisation: LDK writes the same bytes for the valid ones, reads
//!   every valid and acceptable one to the same values, and rejects every
//!   invalid one.
//!
//! LDK is a dev-dependency of this crate only, so `sidepool-conformance` (the
//! vectors' evaluator) never builds it (docs/DESIGN.md).

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use lightningrod_reference::constants::ONION_PACKET_LEN;
use lightningrod_reference::units::{BlockHeight, HtlcId, Msat, PaymentHash, PublicKey};
use lightningrod_reference::wire::blinded_path::{BlindedHop, BlindedMessagePath, Direction, IntroductionNode};
use lightningrod_reference::wire::features::{holding_node_features, Features};
use lightningrod_reference::wire::init::Init;
use lightningrod_reference::wire::onion_message::{AsyncKind, AsyncMessage, OnionMessagePayload};
use lightningrod_reference::wire::revoke_and_ack::RevokeAndAck;
use lightningrod_reference::wire::update_add_htlc::{OnionPacket, UpdateAddHtlc};
use lightningrod_reference::wire::{ErrorClass, Message, TlvRecord};
use serde_json::Value;
use sidepool_conformance::vectors::kinds::lnrod_codec::{decode, to_json, Decoded};

/// Where the codec vectors live, relative to the repository root.
pub const CODEC_VECTORS: &str = "vectors/lightningrod/codec.yaml";

/// The breez/LightningRod README commit LNROD-01 formalises: the `commit` of
/// the vectors' `spec`.
pub const LIGHTNINGROD_COMMIT: &str = "fdfa177a5944f198f62e67eb4b28b76616edf9ea";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    /// Decodes, but is not what an encoder writes.
    Acceptable,
    Invalid(ErrorClass),
}

#[derive(Clone, Debug)]
pub struct Case {
    pub comment: String,
    pub flags: Vec<&'static str>,
    pub message: &'static str,
    pub bytes: Vec<u8>,
    pub outcome: Outcome,
    pub covers: Vec<&'static str>,
}

pub struct Group {
    pub comment: &'static str,
    pub covers: Vec<&'static str>,
    pub cases: Vec<Case>,
}

/// Every flag the codec vectors use, and what it means.
pub const NOTES: &[(&str, &str)] = &[
    ("Valid", "Written by the reference encoder; decode gives the fields and the fields encode back to the same bytes. LDK 0.2 writes the same bytes (conformance/lnrod-ldk)."),
    ("UnknownOdd", "An unknown odd TLV record, kept and re-encoded; LDK 0.2 reads it and drops it."),
    ("UnknownEven", "An unknown even TLV record: rejected (unknown_even_type)."),
    ("NonEmptyHoldHtlc", "A hold_htlc record with a value: rejected (lnrod.wire.4)."),
    ("EarlierHoldHtlcType", "hold_htlc at type 2, the number an earlier revision of LDK #4045 used: an unknown even type to LDK 0.2."),
    ("BadPoint", "33 bytes that are not a point on the curve (invalid_value)."),
    ("BadLength", "A known record of the wrong length (bad_length)."),
    ("Truncated", "The input ends inside a field (truncated)."),
    ("PathShape", "A blinded path that breaks its encoding: no hops, or an unknown first byte (invalid_value)."),
    ("EmptyPathList", "An empty release_htlc_message_paths record: LDK 0.2 reads it as no paths and never writes it (lnrod.wire.6); acceptable, re-encoding omits it."),
    ("BareStreamFraming", "A message record whose value is the bare (empty) TLV stream, as the BOLT pull requests draw it, without LDK's length prefix: LDK 0.2 rejects it (lnrod.wire.9)."),
    ("TrailingBytesAfterStream", "Bytes after the length-prefixed stream of a message record: LDK 0.2 skips them (lnrod.wire.12); acceptable, re-encoding drops them."),
    ("TwoMessages", "Two message records (type 64 and above) in one onion message (lnrod.wire.10)."),
    ("MissingRecipientData", "No encrypted_recipient_data: a final hop's payload needs it (missing_required)."),
    ("HoldRequired", "htlc_hold offered with its required (even) bit 152."),
    ("NoHold", "No htlc_hold bit: the peer cannot hold HTLCs (lnrod.wire.2)."),
];

fn sha(data: &[u8]) -> [u8; 32] {
    sha256::Hash::hash(data).to_byte_array()
}

/// Deterministic filler bytes (SHA-256 in counter mode over a label).
fn filler(label: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter = 0u32;
    while out.len() < len {
        let mut block = label.as_bytes().to_vec();
        block.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&sha(&block));
        counter += 1;
    }
    out.truncate(len);
    out
}

/// The public key of the secret key SHA-256(label): a valid point.
fn key(label: &str) -> PublicKey {
    let secp = Secp256k1::signing_only();
    let sk = SecretKey::from_slice(&sha(label.as_bytes())).expect("SHA-256 of a label is a valid scalar");
    PublicKey::from_secp(&sk.public_key(&secp))
}

fn b32(label: &str) -> [u8; 32] {
    sha(label.as_bytes())
}

fn onion(label: &str) -> OnionPacket {
    let mut bytes = [0u8; ONION_PACKET_LEN];
    bytes[1..34].copy_from_slice(&key(label).as_bytes());
    bytes[34..].copy_from_slice(&filler(label, ONION_PACKET_LEN - 34));
    OnionPacket::new(bytes)
}

/// LDK's `globalfeatures`: the features' two lowest bytes, bits 0 to 13 only.
fn ldk_global(features: &Features) -> Features {
    Features::from_wire(ldk_global_bytes(features.as_bytes()))
}

fn ldk_global_bytes(be: &[u8]) -> Vec<u8> {
    let n = be.len().min(2);
    let mut out = be[be.len() - n..].to_vec();
    if n == 2 {
        out[0] &= 0b0011_1111;
    }
    out
}

fn init(features: Features, networks: Option<Vec<[u8; 32]>>, remote_addr: Option<Vec<u8>>) -> Decoded {
    Decoded::Message(Message::Init(Init { globalfeatures: ldk_global(&features), features, networks, remote_addr, unknown: vec![] }))
}

fn add(label: &str, hold_htlc: bool) -> UpdateAddHtlc {
    UpdateAddHtlc {
        channel_id: b32(&format!("{label} channel")),
        id: HtlcId(7),
        amount: Msat(1_000_000),
        payment_hash: PaymentHash(b32(&format!("{label} preimage"))),
        cltv_expiry: BlockHeight(800_144),
        onion_routing_packet: onion(label),
        blinding_point: None,
        skimmed_fee: None,
        hold_htlc,
        unknown: vec![],
    }
}

fn path(label: &str, intro: IntroductionNode, hops: usize) -> BlindedMessagePath {
    let hops = (0..hops)
        .map(|i| BlindedHop {
            blinded_node_id: key(&format!("{label} hop {i}")),
            encrypted_payload: filler(&format!("{label} payload {i}"), 50 + 3 * i),
        })
        .collect();
    BlindedMessagePath::new(intro, key(&format!("{label} blinding")), hops).expect("1 to 255 hops")
}

fn raa(label: &str, paths: Vec<(HtlcId, BlindedMessagePath)>) -> RevokeAndAck {
    RevokeAndAck {
        channel_id: b32(&format!("{label} channel")),
        per_commitment_secret: b32(&format!("{label} secret")),
        next_per_commitment_point: key(&format!("{label} point")),
        release_htlc_message_paths: paths,
        unknown: vec![],
    }
}

fn onion_payload(label: &str, kind: AsyncKind, reply: Option<BlindedMessagePath>) -> OnionMessagePayload {
    OnionMessagePayload {
        reply_path: reply,
        encrypted_recipient_data: filler(&format!("{label} recipient data"), 49),
        message: AsyncMessage::new(kind),
        unknown: vec![],
    }
}

fn valid(comment: &str, flags: &[&'static str], d: &Decoded) -> Case {
    let mut all = vec!["Valid"];
    all.extend_from_slice(flags);
    Case { comment: comment.into(), flags: all, message: d.name(), bytes: d.encode(), outcome: Outcome::Valid, covers: vec![] }
}

fn acceptable(comment: &str, flag: &'static str, message: &'static str, bytes: Vec<u8>) -> Case {
    Case { comment: comment.into(), flags: vec![flag], message, bytes, outcome: Outcome::Acceptable, covers: vec![] }
}

fn invalid(comment: &str, flag: &'static str, message: &'static str, bytes: Vec<u8>, class: ErrorClass) -> Case {
    Case { comment: comment.into(), flags: vec![flag], message, bytes, outcome: Outcome::Invalid(class), covers: vec![] }
}

fn with_record(mut bytes: Vec<u8>, typ_and_len_and_value: &str) -> Vec<u8> {
    bytes.extend(hex::decode(typ_and_len_and_value).expect("literal hex"));
    bytes
}

fn msg(m: Message) -> Decoded {
    Decoded::Message(m)
}

fn covers(mut case: Case, ids: &[&'static str]) -> Case {
    case.covers = ids.to_vec();
    case
}

/// The codec vectors, in groups.
pub fn codec_cases() -> Vec<Group> {
    let regtest = b32("regtest chain hash stand-in");
    let ldk_like = [1u16, 5, 7, 9, 13, 15, 17, 19, 23, 27, 45, 47, 51, 55];

    let init_group = Group {
        comment: "init: the htlc_hold feature bit (153 optional, 152 required)",
        covers: vec!["lnrod.wire.1", "lnrod.wire.2"],
        cases: vec![
            valid("a holding node: only bit 153", &[], &init(holding_node_features([]), None, None)),
            valid(
                "a holding node with the usual LDK bits, networks and remote_addr",
                &[],
                &init(holding_node_features(ldk_like), Some(vec![regtest]), Some(hex::decode("017f0000012607").expect("hex"))),
            ),
            valid("htlc_hold required (bit 152)", &["HoldRequired"], &init(Features::from_bits([152]), None, None)),
            valid("a node that does not hold HTLCs", &["NoHold"], &init(Features::from_bits(ldk_like), Some(vec![regtest]), None)),
            {
                let mut m = Init {
                    globalfeatures: Features::from_wire(vec![]),
                    features: holding_node_features([]),
                    networks: None,
                    remote_addr: None,
                    unknown: vec![TlvRecord { typ: 5, value: vec![1, 2, 3] }],
                };
                m.globalfeatures = ldk_global(&m.features);
                valid("an unknown odd TLV after the features", &["UnknownOdd"], &msg(Message::Init(m)))
            },
            invalid(
                "networks of 31 bytes",
                "BadLength",
                "init",
                with_record(init(holding_node_features([]), None, None).encode(), &format!("011f{}", "00".repeat(31))),
                ErrorClass::BadLength,
            ),
            invalid("features cut short", "Truncated", "init", hex::decode("001000000014").expect("hex"), ErrorClass::Truncated),
        ],
    };

    let plain = msg(Message::UpdateAddHtlc(add("plain", false)));
    let held = msg(Message::UpdateAddHtlc(add("held", true)));
    let mut all_tlvs = add("all tlvs", true);
    all_tlvs.blinding_point = Some(key("all tlvs blinding"));
    all_tlvs.skimmed_fee = Some(Msat(1_234));
    let mut odd = add("odd", true);
    odd.unknown = vec![TlvRecord { typ: 75539, value: vec![0xab] }];
    let add_group = Group {
        comment: "update_add_htlc: hold_htlc (75537, empty)",
        covers: vec!["lnrod.wire.3", "lnrod.wire.4", "lnrod.wire.11"],
        cases: vec![
            valid("no TLVs: an HTLC nobody is asked to hold", &[], &plain),
            valid("hold_htlc set", &[], &held),
            valid("blinding_point, skimmed_fee_msat and hold_htlc", &[], &msg(Message::UpdateAddHtlc(all_tlvs))),
            valid("hold_htlc then an unknown odd TLV", &["UnknownOdd"], &msg(Message::UpdateAddHtlc(odd))),
            invalid("hold_htlc with a one-byte value", "NonEmptyHoldHtlc", "update_add_htlc", with_record(plain.encode(), "fe000127110100"), ErrorClass::BadLength),
            invalid("hold_htlc at type 2", "EarlierHoldHtlcType", "update_add_htlc", with_record(plain.encode(), "0200"), ErrorClass::UnknownEvenType),
            invalid("an unknown even TLV above hold_htlc", "UnknownEven", "update_add_htlc", with_record(held.encode(), "fe000127120100"), ErrorClass::UnknownEvenType),
            invalid(
                "blinding_point not on the curve",
                "BadPoint",
                "update_add_htlc",
                with_record(plain.encode(), &format!("0021{}", "02".to_string() + &"00".repeat(32))),
                ErrorClass::InvalidValue,
            ),
            invalid("skimmed_fee_msat of 4 bytes", "BadLength", "update_add_htlc", with_record(plain.encode(), "fe0001000104000004d2"), ErrorClass::BadLength),
            {
                let mut b = plain.encode();
                b.truncate(2 + 32 + 8 + 8 + 32 + 4 + 1000);
                invalid("onion_routing_packet cut short", "Truncated", "update_add_htlc", b, ErrorClass::Truncated)
            },
        ],
    };

    let node_path = path("one", IntroductionNode::NodeId(key("lsp_a")), 2);
    let scid_path = path("two", IntroductionNode::DirectedScid { direction: Direction::NodeTwo, scid: 0x000c_3500_000a_0001 }, 1);
    let scid_path2 = path("three", IntroductionNode::DirectedScid { direction: Direction::NodeOne, scid: 42 }, 1);
    let no_paths = msg(Message::RevokeAndAck(raa("none", vec![])));
    let one = msg(Message::RevokeAndAck(raa("one", vec![(HtlcId(0), node_path.clone())])));
    let two = msg(Message::RevokeAndAck(raa("two", vec![(HtlcId(3), scid_path.clone()), (HtlcId(4), scid_path2)])));
    let raa_group = Group {
        comment: "revoke_and_ack: release_htlc_message_paths (75537)",
        covers: vec!["lnrod.wire.5", "lnrod.wire.6"],
        cases: vec![
            valid("no held HTLC: no record", &[], &no_paths),
            valid("one release path, introduced by node id, two hops", &[], &one),
            valid("two release paths, introduced by short channel id", &[], &two),
            acceptable("an empty release_htlc_message_paths record", "EmptyPathList", "revoke_and_ack", with_record(no_paths.encode(), "fe0001271100")),
            {
                let mut b = one.encode();
                b.truncate(b.len() - 10);
                invalid("the last hop's payload cut short", "Truncated", "revoke_and_ack", b, ErrorClass::Truncated)
            },
            {
                // htlc_id, a node-id introduction, the blinding point, a hop count of 0.
                let mut value = 9u64.to_be_bytes().to_vec();
                value.extend_from_slice(&key("x").as_bytes());
                value.extend_from_slice(&key("y").as_bytes());
                value.push(0);
                let mut rec = hex::decode("fe00012711").expect("hex");
                rec.push(value.len() as u8);
                rec.extend(value);
                let mut b = no_paths.encode();
                b.extend(rec);
                invalid("a release path with no hops", "PathShape", "revoke_and_ack", b, ErrorClass::InvalidValue)
            },
            {
                let mut value = 9u64.to_be_bytes().to_vec();
                value.push(4);
                value.extend_from_slice(&[0u8; 40]);
                let mut rec = hex::decode("fe00012711").expect("hex");
                rec.push(value.len() as u8);
                rec.extend(value);
                let mut b = no_paths.encode();
                b.extend(rec);
                invalid("a release path whose introduction starts with 0x04", "PathShape", "revoke_and_ack", b, ErrorClass::InvalidValue)
            },
        ],
    };

    let available = Decoded::Onion(onion_payload("available", AsyncKind::HeldHtlcAvailable, Some(node_path)));
    let release = Decoded::Onion(onion_payload("release", AsyncKind::ReleaseHeldHtlc, None));
    let mut inner_odd = onion_payload("inner odd", AsyncKind::HeldHtlcAvailable, Some(scid_path));
    inner_odd.message.unknown = vec![TlvRecord { typ: 1, value: vec![0x55] }];
    let enc = filler("bare recipient data", 49);
    let rec4 = {
        let mut r = vec![0x04, enc.len() as u8];
        r.extend_from_slice(&enc);
        r
    };
    let payload = |tail: &str| {
        let mut b = rec4.clone();
        b.extend(hex::decode(tail).expect("hex"));
        b
    };
    let om_group = Group {
        comment: "onionmsg_tlv: held_htlc_available (72) and release_held_htlc (74)",
        covers: vec!["lnrod.wire.7", "lnrod.wire.8", "lnrod.wire.9", "lnrod.wire.10", "lnrod.wire.12"],
        cases: vec![
            valid("held_htlc_available with its reply path (a release path)", &[], &available),
            valid("release_held_htlc, no reply path", &[], &release),
            valid("held_htlc_available whose inner stream has an unknown odd record", &["UnknownOdd"], &Decoded::Onion(inner_odd)),
            acceptable("release_held_htlc with a byte after its empty stream", "TrailingBytesAfterStream", "onionmsg_tlv", payload("4a020000")),
            invalid("held_htlc_available as a bare empty stream", "BareStreamFraming", "onionmsg_tlv", payload("4800"), ErrorClass::Truncated),
            invalid("release_held_htlc as a bare empty stream", "BareStreamFraming", "onionmsg_tlv", payload("4a00"), ErrorClass::Truncated),
            invalid("a length prefix longer than the record", "Truncated", "onionmsg_tlv", payload("4a0101"), ErrorClass::Truncated),
            invalid("held_htlc_available and release_held_htlc together", "TwoMessages", "onionmsg_tlv", payload("480100 4a0100".replace(' ', "").as_str()), ErrorClass::InvalidValue),
            invalid("an unknown odd message record, then held_htlc_available", "TwoMessages", "onionmsg_tlv", payload("410100480100"), ErrorClass::InvalidValue),
            invalid("no encrypted_recipient_data", "MissingRecipientData", "onionmsg_tlv", hex::decode("480100").expect("hex"), ErrorClass::MissingRequired),
            invalid("an unknown even record inside the message", "UnknownEven", "onionmsg_tlv", payload("4803020200"), ErrorClass::UnknownEvenType),
            invalid("an unknown even message record", "UnknownEven", "onionmsg_tlv", payload("4c0100"), ErrorClass::UnknownEvenType),
        ],
    };
    let mut groups = vec![init_group, add_group, raa_group, om_group];
    // Per-test covers where a group's list is too coarse.
    for g in &mut groups {
        for c in &mut g.cases {
            if c.flags.contains(&"NonEmptyHoldHtlc") {
                *c = covers(c.clone(), &["lnrod.wire.4"]);
            }
        }
    }
    groups
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The committed file's text for these groups.
pub fn codec_vector_file(groups: &[Group]) -> Result<String, String> {
    let count: usize = groups.iter().map(|g| g.cases.len()).sum();
    let mut y = String::new();
    y.push_str("# Generated by `cargo run -p lightningrod-ldk --bin lnrod-codec-vectors`; edit conformance/lnrod-ldk/src/lib.rs, then rerun it.\n");
    y.push_str("# Checked byte for byte against LDK 0.2's own serialisation by conformance/lnrod-ldk/tests/ldk_bytes.rs.\n");
    y.push_str("formatVersion: 1\nkind: \"lnrod_codec\"\n");
    y.push_str("title: \"LNROD-01 messages as LDK 0.2.7 sends them: init (htlc_hold), update_add_htlc (hold_htlc), revoke_and_ack (release paths), held_htlc_available / release_held_htlc\"\n");
    y.push_str(&format!("spec:\n  document: \"LNROD-01\"\n  section: \"Messages\"\n  commit: \"{LIGHTNINGROD_COMMIT}\"\n"));
    y.push_str(&format!("numberOfTests: {count}\nnotes:\n"));
    for (flag, note) in NOTES {
        y.push_str(&format!("  {flag}: {}\n", quoted(note)));
    }
    y.push_str("testGroups:\n");
    let mut tc = 0u32;
    for g in groups {
        y.push_str(&format!("  - comment: {}\n", quoted(g.comment)));
        if !g.covers.is_empty() {
            y.push_str(&format!("    covers: {}\n", serde_json::to_string(&g.covers).map_err(|e| e.to_string())?));
        }
        y.push_str("    tests:\n");
        for c in &g.cases {
            tc += 1;
            y.push_str(&format!("      - tcId: {tc}\n        comment: {}\n", quoted(&c.comment)));
            y.push_str(&format!("        flags: {}\n", serde_json::to_string(&c.flags).map_err(|e| e.to_string())?));
            if !c.covers.is_empty() {
                y.push_str(&format!("        covers: {}\n", serde_json::to_string(&c.covers).map_err(|e| e.to_string())?));
            }
            y.push_str(&format!("        message: {}\n        hex: \"{}\"\n", quoted(c.message), hex::encode(&c.bytes)));
            match &c.outcome {
                Outcome::Valid | Outcome::Acceptable => {
                    let d = decode(c.message, &c.bytes).map_err(|e| format!("case {tc} ({}) does not decode: {e}", c.comment))?;
                    let fields: Value = to_json(&d);
                    y.push_str(&format!("        fields: {fields}\n"));
                    let result = if c.outcome == Outcome::Valid { "valid" } else { "acceptable" };
                    y.push_str(&format!("        result: \"{result}\"\n"));
                }
                Outcome::Invalid(class) => {
                    y.push_str(&format!("        result: \"invalid\"\n        error: \"{}\"\n", class.name()));
                }
            }
        }
    }
    Ok(y)
}
