//! The JSON field view of sidepool messages.
//!
//! One representation serves the `decode` command, the `message` vectors and
//! the runner's "send a message built from fields": TLV names from the spec as
//! keys, integers as JSON numbers, byte strings as lowercase hex, composite
//! TLVs as objects with named parts.

use serde_json::{json, Map, Value};
use sidepool_reference::messages::{IrregularAuthorization, MySidepoolFeatures, SwapPartyBegin};
use sidepool_reference::peerswap::messages::{
    ChannelView, EncryptedPrivkey, HtlcPubkeys, PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject,
    PeerswapSuccess, RejectCode, Timeouts,
};
use sidepool_reference::units::{
    BlockHeight, Hops, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter,
};
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::wire::tlv::TlvRecord;
use sidepool_reference::Message;

/// `{"message": name, "sub_id": n, "fields": {...}}`, plus `unknown_tlvs` when any were kept.
pub fn message_to_json(m: &Message) -> Value {
    let (fields, unknown) = fields_of(m);
    let mut out = Map::new();
    out.insert("message".into(), json!(m.name()));
    out.insert("sub_id".into(), json!(m.sub_id()));
    out.insert("fields".into(), Value::Object(fields));
    if !unknown.is_empty() {
        out.insert("unknown_tlvs".into(), unknown_to_json(unknown));
    }
    Value::Object(out)
}

fn hex(b: &[u8]) -> Value {
    Value::String(hex::encode(b))
}

fn pubkeys_json(k: &HtlcPubkeys) -> Value {
    json!({"ephemeral": hex::encode(k.ephemeral.as_bytes()), "persistent": hex::encode(k.persistent.as_bytes())})
}

fn view_json(v: &ChannelView) -> Value {
    json!({
        "owned_by_offerrer": v.owned_by_offerrer.0,
        "owned_by_acceptor": v.owned_by_acceptor.0,
        "total_capacity": v.total_capacity.0,
    })
}

pub fn unknown_to_json(records: &[TlvRecord]) -> Value {
    Value::Array(records.iter().map(|r| json!({"type": r.typ, "value": hex::encode(&r.value)})).collect())
}

fn fields_of(m: &Message) -> (Map<String, Value>, &[TlvRecord]) {
    let mut f = Map::new();
    let mut put = |k: &str, v: Value| {
        f.insert(k.to_owned(), v);
    };
    let unknown: &[TlvRecord] = match m {
        Message::MySidepoolFeatures(x) => {
            put(
                "my_sidepool_features_set",
                json!({"bits": x.features.bits().collect::<Vec<_>>(), "encoded": hex::encode(x.features.encode())}),
            );
            &x.unknown
        }
        Message::SwapPartyBegin(x) => {
            put("swap_party_begin_id", hex(&x.id.0));
            if let Some(a) = &x.irregular_authorization {
                put(
                    "swap_party_begin_irregular_authorization",
                    json!({
                        "xonly_pubkey": hex::encode(a.xonly_pubkey),
                        "amount_sat": a.amount.0,
                        "signature": hex::encode(a.signature),
                    }),
                );
            }
            &x.unknown
        }
        Message::PeerswapInit(x) => {
            put("peerswap_init_id", hex(&x.id.0));
            put("peerswap_init_pubkeys", pubkeys_json(&x.pubkeys));
            put("peerswap_init_timeouts", json!({"sidepool": x.timeouts.sidepool.0, "lightning": x.timeouts.lightning.0}));
            put("peerswap_init_hash", hex(&x.hash.0));
            put("peerswap_init_hops", json!(x.hops.0));
            put("peerswap_init_amount_sat", json!(x.amount.0));
            put("peerswap_init_channel_view_msat", view_json(&x.channel_view));
            put("peerswap_init_update_counter", json!(x.update_counter.get()));
            &x.unknown
        }
        Message::PeerswapAccept(x) => {
            put("peerswap_accept_id", hex(&x.id.0));
            put("peerswap_accept_hash", hex(&x.hash.0));
            put("peerswap_accept_pubkeys", pubkeys_json(&x.pubkeys));
            &x.unknown
        }
        Message::PeerswapLightning(x) => {
            put("peerswap_lightning_id", hex(&x.id.0));
            put("peerswap_lightning_hash", hex(&x.hash.0));
            if let Some(s) = &x.payment_secret {
                put("peerswap_lightning_payment_secret", hex(&s.0));
            }
            if let Some(md) = &x.payment_metadata {
                put("peerswap_lightning_payment_metadata", hex(md));
            }
            &x.unknown
        }
        Message::PeerswapSuccess(x) => {
            put("peerswap_success_id", hex(&x.id.0));
            put("peerswap_success_hash", hex(&x.hash.0));
            put(
                "peerswap_success_ephemeral_privkey",
                json!({
                    "encrypted_key": hex::encode(x.ephemeral_privkey.encrypted_key),
                    "encryption_pubkey": hex::encode(x.ephemeral_privkey.encryption_pubkey.as_bytes()),
                }),
            );
            &x.unknown
        }
        Message::PeerswapReject(x) => {
            put("peerswap_reject_id", hex(&x.id.0));
            put("peerswap_reject_hash", hex(&x.hash.0));
            put("peerswap_reject_reason_code", json!(x.reason_code.0));
            if let Some(t) = &x.reason_text {
                put("peerswap_reject_reason_text", json!(t));
            }
            put("peerswap_reject_channel_view_msat", view_json(&x.channel_view));
            &x.unknown
        }
    };
    (f, unknown)
}

// ---- JSON -> message ------------------------------------------------------------------------

/// Reads fields out of a JSON object, remembering which were used so that
/// unknown keys can be reported.
struct Fields<'a> {
    message: &'a str,
    map: &'a Map<String, Value>,
    used: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    fn get(&mut self, key: &'a str) -> Option<&'a Value> {
        self.used.push(key);
        self.map.get(key)
    }
    fn req(&mut self, key: &'a str) -> Result<&'a Value, String> {
        let message = self.message;
        self.get(key).ok_or_else(|| format!("{message}: missing field {key}"))
    }
    fn finish(self) -> Result<(), String> {
        match self.map.keys().find(|k| !self.used.contains(&k.as_str())) {
            Some(k) => Err(format!("{}: unknown field {k}", self.message)),
            None => Ok(()),
        }
    }
}

fn as_u64(v: &Value, what: &str) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| format!("{what}: expected a non-negative integer, got {v}"))
}
fn as_u32(v: &Value, what: &str) -> Result<u32, String> {
    u32::try_from(as_u64(v, what)?).map_err(|_| format!("{what}: {v} does not fit in 32 bits"))
}
fn as_u16(v: &Value, what: &str) -> Result<u16, String> {
    u16::try_from(as_u64(v, what)?).map_err(|_| format!("{what}: {v} does not fit in 16 bits"))
}
fn as_u8(v: &Value, what: &str) -> Result<u8, String> {
    u8::try_from(as_u64(v, what)?).map_err(|_| format!("{what}: {v} does not fit in 8 bits"))
}

/// Lowercase (or any-case) hex string to bytes.
pub fn hex_bytes(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or_else(|| format!("{what}: expected a hex string, got {v}"))?;
    hex::decode(s).map_err(|e| format!("{what}: bad hex ({e})"))
}

fn hex_array<const N: usize>(v: &Value, what: &str) -> Result<[u8; N], String> {
    let bytes = hex_bytes(v, what)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| format!("{what}: expected {N} bytes, got {}", bytes.len()))
}

fn point(v: &Value, what: &str) -> Result<PublicKey, String> {
    PublicKey::from_bytes(hex_array::<33>(v, what)?).ok_or_else(|| format!("{what}: not a valid compressed point"))
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| format!("{what}: expected an object, got {v}"))
}

fn part<'a>(o: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value, String> {
    o.get(key).ok_or_else(|| format!("{what}: missing part {key}"))
}

fn pubkeys(v: &Value, what: &str) -> Result<HtlcPubkeys, String> {
    let o = obj(v, what)?;
    Ok(HtlcPubkeys {
        ephemeral: point(part(o, "ephemeral", what)?, what)?,
        persistent: point(part(o, "persistent", what)?, what)?,
    })
}

fn view(v: &Value, what: &str) -> Result<ChannelView, String> {
    let o = obj(v, what)?;
    Ok(ChannelView {
        owned_by_offerrer: Msat(as_u64(part(o, "owned_by_offerrer", what)?, what)?),
        owned_by_acceptor: Msat(as_u64(part(o, "owned_by_acceptor", what)?, what)?),
        total_capacity: Msat(as_u64(part(o, "total_capacity", what)?, what)?),
    })
}

/// Parses `[{"type": N, "value": hex}, ...]`.
pub fn unknown_from_json(v: Option<&Value>) -> Result<Vec<TlvRecord>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let items = v.as_array().ok_or("unknown_tlvs: expected an array")?;
    items
        .iter()
        .map(|item| {
            let o = obj(item, "unknown_tlvs entry")?;
            Ok(TlvRecord {
                typ: as_u64(part(o, "type", "unknown_tlvs entry")?, "type")?,
                value: hex_bytes(part(o, "value", "unknown_tlvs entry")?, "value")?,
            })
        })
        .collect()
}

/// Builds a message from its name and JSON fields (the inverse of [`message_to_json`]).
pub fn message_from_json(name: &str, fields: &Value, unknown: Option<&Value>) -> Result<Message, String> {
    let map = obj(fields, "fields")?;
    let mut f = Fields { message: name, map, used: Vec::new() };
    let unknown = unknown_from_json(unknown)?;
    let m = match name {
        "my_sidepool_features" => {
            let v = f.req("my_sidepool_features_set")?;
            let o = obj(v, "my_sidepool_features_set")?;
            let features = match (o.get("bits"), o.get("encoded")) {
                (Some(bits), _) => {
                    let bits = bits.as_array().ok_or("my_sidepool_features_set.bits: expected an array")?;
                    FeatureSet::from_bits(bits.iter().map(|b| as_u64(b, "bit")).collect::<Result<Vec<_>, _>>()?)
                }
                (None, Some(enc)) => FeatureSet::decode(&hex_bytes(enc, "my_sidepool_features_set.encoded")?)
                    .map_err(|e| format!("my_sidepool_features_set.encoded: {e}"))?,
                (None, None) => return Err("my_sidepool_features_set: needs bits or encoded".into()),
            };
            Message::MySidepoolFeatures(MySidepoolFeatures { features, unknown })
        }
        "swap_party_begin" => {
            let id = PoolId(hex_array(f.req("swap_party_begin_id")?, "swap_party_begin_id")?);
            let irregular_authorization = match f.get("swap_party_begin_irregular_authorization") {
                None => None,
                Some(v) => {
                    let w = "swap_party_begin_irregular_authorization";
                    let o = obj(v, w)?;
                    Some(IrregularAuthorization {
                        xonly_pubkey: hex_array(part(o, "xonly_pubkey", w)?, w)?,
                        amount: Sat(as_u64(part(o, "amount_sat", w)?, w)?),
                        signature: hex_array(part(o, "signature", w)?, w)?,
                    })
                }
            };
            Message::SwapPartyBegin(SwapPartyBegin { id, irregular_authorization, unknown })
        }
        "peerswap_init" => {
            let t = obj(f.req("peerswap_init_timeouts")?, "peerswap_init_timeouts")?;
            let timeouts = Timeouts {
                sidepool: BlockHeight(as_u32(part(t, "sidepool", "timeouts")?, "timeouts.sidepool")?),
                lightning: BlockHeight(as_u32(part(t, "lightning", "timeouts")?, "timeouts.lightning")?),
            };
            let counter = as_u16(f.req("peerswap_init_update_counter")?, "peerswap_init_update_counter")?;
            Message::PeerswapInit(PeerswapInit {
                id: PoolId(hex_array(f.req("peerswap_init_id")?, "peerswap_init_id")?),
                pubkeys: pubkeys(f.req("peerswap_init_pubkeys")?, "peerswap_init_pubkeys")?,
                timeouts,
                hash: PaymentHash(hex_array(f.req("peerswap_init_hash")?, "peerswap_init_hash")?),
                hops: Hops(as_u8(f.req("peerswap_init_hops")?, "peerswap_init_hops")?),
                amount: Sat(as_u64(f.req("peerswap_init_amount_sat")?, "peerswap_init_amount_sat")?),
                channel_view: view(f.req("peerswap_init_channel_view_msat")?, "peerswap_init_channel_view_msat")?,
                update_counter: UpdateCounter::new(counter)
                    .ok_or_else(|| format!("peerswap_init_update_counter: {counter} does not fit in 11 bits"))?,
                unknown,
            })
        }
        "peerswap_accept" => Message::PeerswapAccept(PeerswapAccept {
            id: PoolId(hex_array(f.req("peerswap_accept_id")?, "peerswap_accept_id")?),
            hash: PaymentHash(hex_array(f.req("peerswap_accept_hash")?, "peerswap_accept_hash")?),
            pubkeys: pubkeys(f.req("peerswap_accept_pubkeys")?, "peerswap_accept_pubkeys")?,
            unknown,
        }),
        "peerswap_lightning" => Message::PeerswapLightning(PeerswapLightning {
            id: PoolId(hex_array(f.req("peerswap_lightning_id")?, "peerswap_lightning_id")?),
            hash: PaymentHash(hex_array(f.req("peerswap_lightning_hash")?, "peerswap_lightning_hash")?),
            payment_secret: f
                .get("peerswap_lightning_payment_secret")
                .map(|v| hex_array(v, "peerswap_lightning_payment_secret").map(PaymentSecret))
                .transpose()?,
            payment_metadata: f
                .get("peerswap_lightning_payment_metadata")
                .map(|v| hex_bytes(v, "peerswap_lightning_payment_metadata"))
                .transpose()?,
            unknown,
        }),
        "peerswap_success" => {
            let w = "peerswap_success_ephemeral_privkey";
            let o = obj(f.req(w)?, w)?;
            Message::PeerswapSuccess(PeerswapSuccess {
                id: PoolId(hex_array(f.req("peerswap_success_id")?, "peerswap_success_id")?),
                hash: PaymentHash(hex_array(f.req("peerswap_success_hash")?, "peerswap_success_hash")?),
                ephemeral_privkey: EncryptedPrivkey {
                    encrypted_key: hex_array(part(o, "encrypted_key", w)?, w)?,
                    encryption_pubkey: point(part(o, "encryption_pubkey", w)?, w)?,
                },
                unknown,
            })
        }
        "peerswap_reject" => Message::PeerswapReject(PeerswapReject {
            id: PoolId(hex_array(f.req("peerswap_reject_id")?, "peerswap_reject_id")?),
            hash: PaymentHash(hex_array(f.req("peerswap_reject_hash")?, "peerswap_reject_hash")?),
            reason_code: RejectCode(as_u16(f.req("peerswap_reject_reason_code")?, "peerswap_reject_reason_code")?),
            reason_text: f
                .get("peerswap_reject_reason_text")
                .map(|v| v.as_str().map(str::to_owned).ok_or("peerswap_reject_reason_text: expected a string"))
                .transpose()?,
            channel_view: view(f.req("peerswap_reject_channel_view_msat")?, "peerswap_reject_channel_view_msat")?,
            unknown,
        }),
        other => return Err(format!("unknown message name {other}")),
    };
    f.finish()?;
    Ok(m)
}
