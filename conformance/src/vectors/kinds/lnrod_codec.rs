//! `kind: lnrod_codec`: the messages LDK 0.2 sends for held HTLCs (LNROD-01
//! "Messages"), decoded and encoded by `lightningrod-reference`.
//!
//! A test gives `message` (`init`, `update_add_htlc`, `revoke_and_ack`: whole
//! BOLT messages, type first; `onionmsg_tlv`: a final hop's onion-message
//! payload stream) and `hex`. A valid test gives `fields` (the JSON view
//! below); decoding gives exactly those fields and the fields encode back to
//! exactly `hex`. An acceptable test decodes to its `fields`, but is not what
//! an encoder writes (the flag says why), so only the fields are compared. An
//! invalid test names the decode error class.
//!
//! The JSON view is public: `lightningrod-ldk` writes the vectors with it.

use lightningrod_reference::units::{BlockHeight, HtlcId, Msat, PaymentHash, PublicKey};
use lightningrod_reference::wire::blinded_path::{BlindedHop, BlindedMessagePath, Direction, IntroductionNode};
use lightningrod_reference::wire::features::Features;
use lightningrod_reference::wire::init::Init;
use lightningrod_reference::wire::onion_message::{AsyncKind, AsyncMessage, OnionMessagePayload};
use lightningrod_reference::wire::revoke_and_ack::RevokeAndAck;
use lightningrod_reference::wire::update_add_htlc::{OnionPacket, UpdateAddHtlc};
use lightningrod_reference::wire::{DecodeError, ErrorClass, Message, TlvRecord};
use serde_json::{json, Map, Value};

use super::ln_common::{array_of, field, hex_of, opt_field, str_of, u32_of, u64_of};

/// What a codec vector holds: a BOLT message, or an onion-message payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    Message(Message),
    Onion(OnionMessagePayload),
}

pub const ONION_PAYLOAD: &str = "onionmsg_tlv";

impl Decoded {
    pub fn name(&self) -> &'static str {
        match self {
            Decoded::Message(m) => m.name(),
            Decoded::Onion(_) => ONION_PAYLOAD,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            Decoded::Message(m) => m.encode(),
            Decoded::Onion(p) => {
                let mut out = Vec::new();
                p.encode(&mut out);
                out
            }
        }
    }
}

/// Decodes `bytes` as the test's `message`; a BOLT message of another type is
/// `invalid_value`.
pub fn decode(message: &str, bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if message == ONION_PAYLOAD {
        return OnionMessagePayload::decode(bytes).map(Decoded::Onion);
    }
    let m = lightningrod_reference::wire::decode(bytes)?;
    if m.name() != message {
        return Err(DecodeError::new(ErrorClass::InvalidValue, format!("a {}, not a {message}", m.name())));
    }
    Ok(Decoded::Message(m))
}

// ---- to JSON ---------------------------------------------------------------------------------

fn hex_str(bytes: &[u8]) -> Value {
    Value::String(hex::encode(bytes))
}

fn unknown_json(records: &[TlvRecord], out: &mut Map<String, Value>, key: &str) {
    if !records.is_empty() {
        let list: Vec<Value> = records.iter().map(|r| json!({"type": r.typ, "value": hex::encode(&r.value)})).collect();
        out.insert(key.into(), Value::Array(list));
    }
}

pub fn path_to_json(path: &BlindedMessagePath) -> Value {
    let mut out = Map::new();
    match path.introduction_node() {
        IntroductionNode::NodeId(key) => {
            out.insert("introduction_node_id".into(), hex_str(&key.as_bytes()));
        }
        IntroductionNode::DirectedScid { direction, scid } => {
            let direction = match direction {
                Direction::NodeOne => "node_one",
                Direction::NodeTwo => "node_two",
            };
            out.insert("introduction_scid".into(), json!({"direction": direction, "scid": scid}));
        }
    }
    out.insert("blinding_point".into(), hex_str(&path.blinding_point().as_bytes()));
    let hops: Vec<Value> = path
        .hops()
        .iter()
        .map(|h| json!({"blinded_node_id": hex::encode(h.blinded_node_id.as_bytes()), "encrypted_payload": hex::encode(&h.encrypted_payload)}))
        .collect();
    out.insert("hops".into(), Value::Array(hops));
    Value::Object(out)
}

fn fields_to_json(d: &Decoded) -> Value {
    let mut out = Map::new();
    match d {
        Decoded::Message(Message::Init(m)) => {
            out.insert("globalfeatures".into(), hex_str(m.globalfeatures.as_bytes()));
            out.insert("features".into(), hex_str(m.features.as_bytes()));
            let offered = m.offered();
            out.insert("offered_bits".into(), json!(offered.bits()));
            out.insert("htlc_hold".into(), json!(offered.htlc_hold().name()));
            if let Some(networks) = &m.networks {
                out.insert("networks".into(), Value::Array(networks.iter().map(|n| hex_str(n)).collect()));
            }
            if let Some(addr) = &m.remote_addr {
                out.insert("remote_addr".into(), hex_str(addr));
            }
            unknown_json(&m.unknown, &mut out, "unknown_tlvs");
        }
        Decoded::Message(Message::UpdateAddHtlc(m)) => {
            out.insert("channel_id".into(), hex_str(&m.channel_id));
            out.insert("id".into(), json!(m.id.0));
            out.insert("amount_msat".into(), json!(m.amount.0));
            out.insert("payment_hash".into(), hex_str(&m.payment_hash.0));
            out.insert("cltv_expiry".into(), json!(m.cltv_expiry.0));
            out.insert("onion_routing_packet".into(), hex_str(m.onion_routing_packet.as_bytes()));
            if let Some(key) = m.blinding_point {
                out.insert("blinding_point".into(), hex_str(&key.as_bytes()));
            }
            if let Some(fee) = m.skimmed_fee {
                out.insert("skimmed_fee_msat".into(), json!(fee.0));
            }
            out.insert("hold_htlc".into(), json!(m.hold_htlc));
            unknown_json(&m.unknown, &mut out, "unknown_tlvs");
        }
        Decoded::Message(Message::RevokeAndAck(m)) => {
            out.insert("channel_id".into(), hex_str(&m.channel_id));
            out.insert("per_commitment_secret".into(), hex_str(&m.per_commitment_secret));
            out.insert("next_per_commitment_point".into(), hex_str(&m.next_per_commitment_point.as_bytes()));
            let paths: Vec<Value> = m
                .release_htlc_message_paths
                .iter()
                .map(|(id, path)| json!({"htlc_id": id.0, "path": path_to_json(path)}))
                .collect();
            out.insert("release_htlc_message_paths".into(), Value::Array(paths));
            unknown_json(&m.unknown, &mut out, "unknown_tlvs");
        }
        Decoded::Onion(p) => {
            if let Some(path) = &p.reply_path {
                out.insert("reply_path".into(), path_to_json(path));
            }
            out.insert("encrypted_recipient_data".into(), hex_str(&p.encrypted_recipient_data));
            out.insert("message".into(), json!(p.message.kind.name()));
            unknown_json(&p.message.unknown, &mut out, "message_unknown_tlvs");
            unknown_json(&p.unknown, &mut out, "unknown_tlvs");
        }
    }
    Value::Object(out)
}

/// The test's `fields` for a decoded value.
pub fn to_json(d: &Decoded) -> Value {
    fields_to_json(d)
}

// ---- from JSON -------------------------------------------------------------------------------

fn point_of(v: &Value, name: &str) -> Result<PublicKey, String> {
    let bytes: [u8; 33] = hex_of(v, name)?.try_into().map_err(|_| format!("`{name}` is not 33 bytes"))?;
    PublicKey::from_bytes(bytes).ok_or_else(|| format!("`{name}` is not a valid point"))
}

fn array32(v: &Value, name: &str) -> Result<[u8; 32], String> {
    hex_of(v, name)?.try_into().map_err(|_| format!("`{name}` is not 32 bytes"))
}

fn unknown_of(v: &Value, key: &str) -> Result<Vec<TlvRecord>, String> {
    match opt_field(v, key) {
        None => Ok(Vec::new()),
        Some(_) => array_of(v, key)?
            .iter()
            .map(|r| Ok(TlvRecord { typ: u64_of(r, "type")?, value: hex_of(r, "value")? }))
            .collect(),
    }
}

pub fn path_from_json(v: &Value) -> Result<BlindedMessagePath, String> {
    let introduction = match (opt_field(v, "introduction_node_id"), opt_field(v, "introduction_scid")) {
        (Some(_), None) => IntroductionNode::NodeId(point_of(v, "introduction_node_id")?),
        (None, Some(s)) => IntroductionNode::DirectedScid {
            direction: match str_of(s, "direction")? {
                "node_one" => Direction::NodeOne,
                "node_two" => Direction::NodeTwo,
                other => return Err(format!("unknown direction `{other}`")),
            },
            scid: u64_of(s, "scid")?,
        },
        _ => return Err("a path has exactly one of `introduction_node_id` and `introduction_scid`".into()),
    };
    let hops = array_of(v, "hops")?
        .iter()
        .map(|h| {
            Ok(BlindedHop {
                blinded_node_id: point_of(h, "blinded_node_id")?,
                encrypted_payload: hex_of(h, "encrypted_payload")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    BlindedMessagePath::new(introduction, point_of(v, "blinding_point")?, hops).map_err(|e| e.name().to_string())
}

/// The value a test's `fields` describe.
pub fn from_json(message: &str, f: &Value) -> Result<Decoded, String> {
    Ok(match message {
        "init" => Decoded::Message(Message::Init(Init {
            globalfeatures: Features::from_wire(hex_of(f, "globalfeatures")?),
            features: Features::from_wire(hex_of(f, "features")?),
            networks: match opt_field(f, "networks") {
                None => None,
                Some(_) => Some(
                    array_of(f, "networks")?
                        .iter()
                        .map(|n| {
                            let bytes = hex::decode(n.as_str().ok_or("a network is not a string")?)
                                .map_err(|e| format!("network: {e}"))?;
                            <[u8; 32]>::try_from(bytes).map_err(|_| "a network is not 32 bytes".to_string())
                        })
                        .collect::<Result<Vec<_>, String>>()?,
                ),
            },
            remote_addr: opt_field(f, "remote_addr").map(|_| hex_of(f, "remote_addr")).transpose()?,
            unknown: unknown_of(f, "unknown_tlvs")?,
        })),
        "update_add_htlc" => Decoded::Message(Message::UpdateAddHtlc(UpdateAddHtlc {
            channel_id: array32(f, "channel_id")?,
            id: HtlcId(u64_of(f, "id")?),
            amount: Msat(u64_of(f, "amount_msat")?),
            payment_hash: PaymentHash(array32(f, "payment_hash")?),
            cltv_expiry: BlockHeight(u32_of(f, "cltv_expiry")?),
            onion_routing_packet: OnionPacket::from_slice(&hex_of(f, "onion_routing_packet")?)
                .ok_or("`onion_routing_packet` is not 1366 bytes")?,
            blinding_point: opt_field(f, "blinding_point").map(|_| point_of(f, "blinding_point")).transpose()?,
            skimmed_fee: opt_field(f, "skimmed_fee_msat").map(|_| u64_of(f, "skimmed_fee_msat").map(Msat)).transpose()?,
            hold_htlc: field(f, "hold_htlc")?.as_bool().ok_or("`hold_htlc` is not a boolean")?,
            unknown: unknown_of(f, "unknown_tlvs")?,
        })),
        "revoke_and_ack" => Decoded::Message(Message::RevokeAndAck(RevokeAndAck {
            channel_id: array32(f, "channel_id")?,
            per_commitment_secret: array32(f, "per_commitment_secret")?,
            next_per_commitment_point: point_of(f, "next_per_commitment_point")?,
            release_htlc_message_paths: array_of(f, "release_htlc_message_paths")?
                .iter()
                .map(|p| Ok((HtlcId(u64_of(p, "htlc_id")?), path_from_json(field(p, "path")?)?)))
                .collect::<Result<Vec<_>, String>>()?,
            unknown: unknown_of(f, "unknown_tlvs")?,
        })),
        ONION_PAYLOAD => Decoded::Onion(OnionMessagePayload {
            reply_path: opt_field(f, "reply_path").map(path_from_json).transpose()?,
            encrypted_recipient_data: hex_of(f, "encrypted_recipient_data")?,
            message: AsyncMessage {
                kind: match str_of(f, "message")? {
                    "held_htlc_available" => AsyncKind::HeldHtlcAvailable,
                    "release_held_htlc" => AsyncKind::ReleaseHeldHtlc,
                    other => return Err(format!("unknown onion message `{other}`")),
                },
                unknown: unknown_of(f, "message_unknown_tlvs")?,
            },
            unknown: unknown_of(f, "unknown_tlvs")?,
        }),
        other => return Err(format!("unknown message `{other}`")),
    })
}

// ---- the evaluator -----------------------------------------------------------------------------

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let message = str_of(test, "message")?;
    let bytes = hex_of(test, "hex")?;
    let got = decode(message, &bytes);
    match (str_of(test, "result")?, got) {
        ("invalid", Ok(_)) => Err(format!("expected {}, the reference decoded it", str_of(test, "error")?)),
        ("invalid", Err(e)) => {
            let want = str_of(test, "error")?;
            if e.class.name() == want {
                Ok(())
            } else {
                Err(format!("expected error {want}, the reference said {} ({e})", e.class.name()))
            }
        }
        (want @ ("valid" | "acceptable"), Err(e)) => Err(format!("expected {want}, the reference rejected it: {e}")),
        (want @ ("valid" | "acceptable"), Ok(decoded)) => {
            let expected = field(test, "fields")?;
            let view = to_json(&decoded);
            if &view != expected {
                return Err(format!("fields: decoded {view}, expected {expected}"));
            }
            let rebuilt = from_json(message, expected)?;
            let encoded = rebuilt.encode();
            if want == "valid" && encoded != bytes {
                return Err(format!("the fields encode to {}, not the test's hex", hex::encode(&encoded)));
            }
            // Either way, what the fields encode to decodes to the same fields.
            let again = decode(message, &encoded).map_err(|e| format!("the fields' encoding does not decode: {e}"))?;
            if to_json(&again) != view {
                return Err("the fields' encoding decodes to other fields".into());
            }
            Ok(())
        }
        (other, _) => Err(format!("unknown result `{other}`")),
    }
}
