//! Evaluator for `kind: session_script`: a node (the group's `node`) runs the
//! reference `PeerswapEngine`; each step feeds one event (JSON) and compares the
//! non-log actions with `expect`, in order, by kind and by the fields the
//! expectation names (fields it leaves out are not compared).
//!
//! The JSON forms of events and actions are documented in the `notes` of
//! vectors/peerswap/session_scripts.yaml (`EventForms`, `ActionForms`, `Keys`).

use serde_json::{json, Value};
use sidepool_reference::messages::{Message, SwapPartyBegin};
use sidepool_reference::peerswap::balance::{Capacity, Channel, ChannelState};
use sidepool_reference::peerswap::constants::{Seconds, SpecConstants, Timestamp};
use sidepool_reference::peerswap::lightning_htlcs::{HtlcRef, ObservedHtlc, OnionFinalHop};
use sidepool_reference::peerswap::messages::{
    ChannelView, EncryptedPrivkey, HtlcPubkeys, PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject,
    PeerswapSuccess, RejectCode, Timeouts,
};
use sidepool_reference::peerswap::resolution::PeerswapRef;
use sidepool_reference::peerswap::session::{
    Action, EngineConfig, Event, HtlcDetails, OutputKey, PeerswapEngine, PoolView, Record, Role, SessionKeys,
};
use sidepool_reference::pool::TaxInputs;
use sidepool_reference::SpecRevision;
use sidepool_reference::units::{
    BlockDelta, BlockHeight, Hops, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter,
};

use super::ln_common::{
    array_of, bytes32, expected_outcome, field, hex_of, opt_field, opt_hex, opt_u64, same, str_of, u32_of, u64_of,
};

type P = String;

/// The node's keys as the vector gives them (SIDEPOOL-06 itself is out of scope here).
struct VectorKeys {
    pubkeys: HtlcPubkeys,
    encrypted_key: [u8; 32],
    output_key: OutputKey,
    payment_secret: Option<PaymentSecret>,
    payment_metadata: Option<Vec<u8>>,
}

impl SessionKeys<P> for VectorKeys {
    fn htlc_pubkeys(&self, _swap: PeerswapRef, _peer: &P) -> HtlcPubkeys {
        self.pubkeys
    }
    fn encrypted_ephemeral_privkey(&self, _swap: PeerswapRef, _peer: &P, to: &PublicKey) -> Result<EncryptedPrivkey, String> {
        Ok(EncryptedPrivkey { encrypted_key: self.encrypted_key, encryption_pubkey: *to })
    }
    fn htlc_output_key(&self, _details: &HtlcDetails<P>) -> OutputKey {
        self.output_key
    }
    fn lightning_fields(&self, _swap: PeerswapRef, _peer: &P, _to_hop: Role) -> (Option<PaymentSecret>, Option<Vec<u8>>) {
        (self.payment_secret, self.payment_metadata.clone())
    }
}

fn pubkey(v: &Value, name: &str) -> Result<PublicKey, String> {
    let b: [u8; 33] = hex_of(v, name)?.try_into().map_err(|_| format!("`{name}` is not 33 bytes"))?;
    PublicKey::from_bytes(b).ok_or_else(|| format!("`{name}` is not a valid point"))
}

fn pubkeys(v: &Value) -> Result<HtlcPubkeys, String> {
    Ok(HtlcPubkeys { ephemeral: pubkey(v, "ephemeral")?, persistent: pubkey(v, "persistent")? })
}

fn opt_secret(v: &Value, name: &str) -> Result<Option<PaymentSecret>, String> {
    opt_hex(v, name)?.map(|b| bytes32(b, name).map(PaymentSecret)).transpose()
}

fn channel(v: &Value) -> Result<Channel, String> {
    let state = match opt_field(v, "state").and_then(Value::as_str) {
        None => ChannelState::Normal,
        Some(s) => ChannelState::from_name(s).ok_or_else(|| format!("unknown channel state `{s}`"))?,
    };
    Ok(Channel {
        state,
        capacity: Capacity::Msat(Msat(u64_of(v, "capacity_msat")?)),
        ours: Msat(u64_of(v, "ours_msat")?),
        theirs: Msat(u64_of(v, "theirs_msat")?),
        pending_htlcs: Msat(opt_u64(v, "pending_htlcs_msat")?.unwrap_or(0)),
        our_reserve: Msat(opt_u64(v, "reserve_msat")?.unwrap_or(0)),
        htlc_maximum_from_peer: Msat(u64_of(v, "max_htlc_from_peer_msat")?),
        htlc_maximum_ours: Msat(u64_of(v, "max_htlc_ours_msat")?),
    })
}

fn peer_of(v: &Value, name: &str) -> Result<P, String> {
    str_of(v, name).map(str::to_string)
}

struct Defaults {
    pool: PoolId,
    hash: PaymentHash,
}

impl Defaults {
    fn hash(&self, v: &Value) -> Result<PaymentHash, String> {
        match opt_field(v, "hash") {
            None => Ok(self.hash),
            Some(_) => Ok(PaymentHash(bytes32(hex_of(v, "hash")?, "hash")?)),
        }
    }
    fn pool(&self, v: &Value) -> Result<PoolId, String> {
        match opt_field(v, "id") {
            None => Ok(self.pool),
            Some(_) => hex_of(v, "id")?.try_into().map(PoolId).map_err(|_| "`id` is not 16 bytes".to_string()),
        }
    }
}

fn view3(v: &Value, name: &str) -> Result<ChannelView, String> {
    let a = array_of(v, name)?;
    let n = |i: usize| a.get(i).and_then(Value::as_u64).map(Msat).ok_or_else(|| format!("`{name}` needs 3 integers"));
    Ok(ChannelView { owned_by_offerrer: n(0)?, owned_by_acceptor: n(1)?, total_capacity: n(2)? })
}

fn message(v: &Value, d: &Defaults) -> Result<Message, String> {
    let id = d.pool(v)?;
    let hash = d.hash(v)?;
    Ok(match str_of(v, "type")? {
        "peerswap_init" => {
            let t = array_of(v, "timeouts")?;
            let h = |i: usize| {
                t.get(i)
                    .and_then(Value::as_u64)
                    .and_then(|x| u32::try_from(x).ok())
                    .map(BlockHeight)
                    .ok_or("`timeouts` needs 2 heights")
            };
            Message::PeerswapInit(PeerswapInit {
                id,
                pubkeys: pubkeys(field(v, "pubkeys")?)?,
                timeouts: Timeouts { sidepool: h(0)?, lightning: h(1)? },
                hash,
                hops: Hops(u8::try_from(u64_of(v, "hops")?).map_err(|_| "`hops` is not a byte")?),
                amount: Sat(u64_of(v, "amount_sat")?),
                channel_view: match opt_field(v, "channel_view") {
                    None => ChannelView::default(),
                    Some(_) => view3(v, "channel_view")?,
                },
                update_counter: UpdateCounter::new(u16::try_from(u64_of(v, "update_counter")?).map_err(|_| "counter")?)
                    .ok_or("`update_counter` does not fit in 11 bits")?,
                unknown: vec![],
            })
        }
        "peerswap_accept" => Message::PeerswapAccept(PeerswapAccept {
            id,
            hash,
            pubkeys: pubkeys(field(v, "pubkeys")?)?,
            unknown: vec![],
        }),
        "peerswap_reject" => Message::PeerswapReject(PeerswapReject {
            id,
            hash,
            reason_code: RejectCode(
                u16::try_from(u64_of(v, "reason_code")?).map_err(|_| "`reason_code` is not 16 bits")?,
            ),
            reason_text: None,
            channel_view: ChannelView::default(),
            unknown: vec![],
        }),
        "peerswap_lightning" => Message::PeerswapLightning(PeerswapLightning {
            id,
            hash,
            payment_secret: opt_secret(v, "payment_secret")?,
            payment_metadata: opt_hex(v, "payment_metadata")?,
            unknown: vec![],
        }),
        "peerswap_success" => Message::PeerswapSuccess(PeerswapSuccess {
            id,
            hash,
            ephemeral_privkey: EncryptedPrivkey {
                encrypted_key: bytes32(hex_of(v, "encrypted_key")?, "encrypted_key")?,
                encryption_pubkey: pubkey(v, "encryption_pubkey")?,
            },
            unknown: vec![],
        }),
        "swap_party_begin" => {
            Message::SwapPartyBegin(SwapPartyBegin { id, irregular_authorization: None, unknown: vec![] })
        }
        other => return Err(format!("unknown message type `{other}`")),
    })
}

fn event(v: &Value, d: &Defaults) -> Result<Event<P>, String> {
    let ts = |name: &str| u64_of(v, name).map(Timestamp);
    Ok(match str_of(v, "type")? {
        "swap_party_begun" => Event::SwapPartyBegun { pool: d.pool(v)?, at: ts("at")? },
        "contraction_done" => Event::ContractionDone { pool: d.pool(v)? },
        "pool_removed" => Event::PoolRemoved { pool: d.pool(v)? },
        "time" => Event::TimePassed { now: ts("now")? },
        "block_height" => Event::BlockHeight(BlockHeight(u32_of(v, "height")?)),
        "channels" => Event::ChannelsUpdated {
            peer: peer_of(v, "peer")?,
            channels: array_of(v, "channels")?.iter().map(channel).collect::<Result<_, _>>()?,
            supports_feature: field(v, "supports_feature")?.as_bool().ok_or("`supports_feature` is not a boolean")?,
        },
        "receive" => Event::Received { from: peer_of(v, "from")?, msg: message(field(v, "msg")?, d)? },
        "offer_now" => Event::OfferNow {
            peer: peer_of(v, "peer")?,
            pool: d.pool(v)?,
            hash: d.hash(v)?,
            amount: opt_u64(v, "amount_sat")?.map(Sat),
            hops_random: u8::try_from(u64_of(v, "hops_random")?).map_err(|_| "`hops_random` is not a byte")?,
        },
        "expansion_outcome" => {
            let outputs = array_of(v, "outputs")?
                .iter()
                .map(|o| {
                    Ok((OutputKey(bytes32(hex_of(o, "output_key")?, "output_key")?), Sat(u64_of(o, "amount_sat")?)))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let tax = field(v, "tax")?;
            Event::ExpansionOutcome {
                pool: d.pool(v)?,
                outputs,
                tax: TaxInputs {
                    total_offchain_fees: Sat(u64_of(tax, "fees_sat")?),
                    output_count: u32_of(tax, "outputs")?,
                },
            }
        }
        "htlc_added" => {
            let amount = Msat(u64_of(v, "amount_msat")?);
            let cltv = BlockHeight(u32_of(v, "cltv_expiry")?);
            let secret = opt_secret(v, "payment_secret")?;
            Event::IncomingHtlcAdded {
                peer: peer_of(v, "peer")?,
                id: u64_of(v, "id")?,
                htlc: ObservedHtlc {
                    payment_hash: d.hash(v)?,
                    amount_msat: amount,
                    cltv_expiry: cltv,
                    onion: OnionFinalHop {
                        amt_to_forward: opt_u64(v, "amt_to_forward_msat")?.map_or(amount, Msat),
                        outgoing_cltv_value: opt_u64(v, "outgoing_cltv_value")?
                            .map(|x| u32::try_from(x).map(BlockHeight).map_err(|_| "`outgoing_cltv_value`"))
                            .transpose()?
                            .unwrap_or(cltv),
                        total_msat: secret.map(|_| amount),
                        payment_secret: secret,
                        payment_metadata: opt_hex(v, "payment_metadata")?,
                        short_channel_id: opt_u64(v, "short_channel_id")?,
                    },
                },
            }
        }
        "htlc_committed" => Event::IncomingHtlcCommitted { peer: peer_of(v, "peer")?, id: u64_of(v, "id")? },
        "htlc_gone" => Event::IncomingHtlcGone { peer: peer_of(v, "peer")?, id: u64_of(v, "id")? },
        "outgoing_fulfilled" => Event::OutgoingHtlcFulfilled { htlc: HtlcRef(u64_of(v, "htlc")?) },
        "outgoing_failed" => Event::OutgoingHtlcFailed { htlc: HtlcRef(u64_of(v, "htlc")?) },
        "outgoing_removal_committed" => Event::OutgoingHtlcRemovalCommitted { htlc: HtlcRef(u64_of(v, "htlc")?) },
        "outgoing_add_failed" => Event::OutgoingHtlcAddFailed { htlc: HtlcRef(u64_of(v, "htlc")?) },
        other => return Err(format!("unknown event type `{other}`")),
    })
}

fn hx(b: &[u8]) -> Value {
    json!(hex::encode(b))
}

fn view_json(c: &ChannelView) -> Value {
    json!([c.owned_by_offerrer.0, c.owned_by_acceptor.0, c.total_capacity.0])
}


/// The full JSON description of an action (expectations compare a subset of it).
fn action_json(a: &Action<P>) -> Value {
    let mut v = match a {
        Action::Send { to, msg } => {
            let mut m = match msg {
                Message::PeerswapInit(i) => json!({
                    "hash": hx(&i.hash.0), "hops": i.hops.0, "amount_sat": i.amount.0,
                    "timeouts": [i.timeouts.sidepool.0, i.timeouts.lightning.0], "update_counter": i.update_counter.get(),
                    "channel_view": view_json(&i.channel_view), "ephemeral": hx(&i.pubkeys.ephemeral.as_bytes()),
                }),
                Message::PeerswapAccept(m) => {
                    json!({"hash": hx(&m.hash.0), "ephemeral": hx(&m.pubkeys.ephemeral.as_bytes())})
                }
                Message::PeerswapReject(r) => {
                    json!({"hash": hx(&r.hash.0), "reason_code": r.reason_code.0, "channel_view": view_json(&r.channel_view)})
                }
                Message::PeerswapLightning(l) => json!({
                    "hash": hx(&l.hash.0), "payment_secret": l.payment_secret.map(|s| hex::encode(s.0)),
                    "payment_metadata": l.payment_metadata.as_ref().map(hex::encode),
                }),
                Message::PeerswapSuccess(s) => json!({
                    "hash": hx(&s.hash.0), "encrypted_key": hx(&s.ephemeral_privkey.encrypted_key),
                    "encryption_pubkey": hx(&s.ephemeral_privkey.encryption_pubkey.as_bytes()),
                }),
                _ => json!({}),
            };
            m["msg"] = json!(msg.name());
            m["to"] = json!(to);
            m
        }
        Action::PersistRecord(r) => {
            let mut m = match r {
                Record::Forward(f) => json!({
                    "hash": hx(&f.hash.0), "upstream": f.upstream, "downstream": f.downstream, "amount_sat": f.amount.0,
                    "sidepool_timelock": f.sidepool_timelock.0, "lightning_from_upstream": f.lightning_timelock_from_upstream.0,
                    "lightning_to_downstream": f.lightning_timelock_to_downstream.0,
                }),
                Record::SentInit { to, init } => {
                    json!({"to": to, "hash": hx(&init.hash.0), "amount_sat": init.amount.0})
                }
                Record::HtlcDetails(d) => {
                    json!({"hash": hx(&d.hash.0), "role": d.role.name(), "amount_sat": d.amount.0})
                }
                Record::Lightning { hash, peer, sent, payment_secret, .. } => json!({
                    "hash": hx(&hash.0), "peer": peer, "sent": sent, "payment_secret": payment_secret.map(|s| hex::encode(s.0)),
                }),
                Record::ForwardedHtlcs { hash, from, to, total, .. } => {
                    json!({"hash": hx(&hash.0), "from": from, "to": to, "total_msat": total.0})
                }
            };
            m["record"] = json!(r.name());
            m
        }
        Action::DeleteRecord { hash, .. } => json!({"hash": hx(&hash.0)}),
        Action::AddHtlc { to, channel, htlc, fields } => json!({
            "to": to, "channel": channel.0, "htlc": htlc.0, "amount_msat": fields.amount_msat.0,
            "cltv_expiry": fields.cltv_expiry.0, "hash": hx(&fields.payment_hash.0),
            "payment_secret": fields.onion.payment_secret.map(|s| hex::encode(s.0)),
        }),
        Action::FulfilHtlc { peer, id } | Action::FailHtlc { peer, id } => json!({"peer": peer, "id": id}),
        Action::RequestExpansionOutput { hash, output_key, amount, .. } => {
            json!({"hash": hx(&hash.0), "output_key": hx(&output_key.0), "amount_sat": amount.0})
        }
        Action::ClaimInSidepool { hash, offerrer_key, .. } => {
            json!({"hash": hx(&hash.0), "encrypted_key": hx(&offerrer_key.encrypted_key)})
        }
        Action::ForgetPeerswap { hash, peer, .. } => json!({"hash": hx(&hash.0), "peer": peer}),
        Action::AbortSidepool { reason, .. } => json!({"reason": reason}),
        Action::Log { level, text } => json!({"level": level.to_string(), "text": text}),
    };
    v["action"] = json!(a.name());
    v
}

/// Every field the expectation names must equal the reference's.
fn matches(expected: &Value, got: &Value) -> Result<(), String> {
    let obj = expected.as_object().ok_or("an expected action is not an object")?;
    for (k, want) in obj {
        let have = got.get(k).unwrap_or(&Value::Null);
        if have != want {
            return Err(format!("`{k}`: expected {want}, reference gives {have} (in {got})"));
        }
    }
    Ok(())
}

/// The optional `constants` of a node: the spec's numbers in place of the text's (model-checker runs).
fn constants(c: &Value) -> Result<SpecConstants, String> {
    let hops = array_of(c, "ultimate_offerrer_hops")?;
    let hop = |i: usize| {
        hops.get(i).and_then(Value::as_u64).and_then(|h| u8::try_from(h).ok()).ok_or("`ultimate_offerrer_hops` needs two bytes")
    };
    Ok(SpecConstants {
        sidepool_timeout_min_delta: BlockDelta(u32_of(c, "sidepool_timeout_min_delta")?),
        max_cltv_delta: BlockDelta(u32_of(c, "max_cltv_delta")?),
        forward_min_timelock_gap: BlockDelta(u32_of(c, "forward_min_timelock_gap")?),
        hold_timeout: Seconds(u64_of(c, "hold_timeout")?),
        swap_party_begin_deferral: Seconds(u64_of(c, "swap_party_begin_deferral")?),
        ultimate_offerrer_hops: (hop(0)?, hop(1)?),
    })
}

fn engine(rev: SpecRevision, node: &Value) -> Result<(PeerswapEngine<P, VectorKeys>, Defaults), String> {
    let pool = field(node, "pool")?;
    let id = PoolId(hex_of(pool, "id")?.try_into().map_err(|_| "`pool.id` is not 16 bytes")?);
    let keys = field(node, "keys")?;
    let vk = VectorKeys {
        pubkeys: pubkeys(keys)?,
        encrypted_key: bytes32(hex_of(keys, "encrypted_key")?, "encrypted_key")?,
        output_key: OutputKey(bytes32(hex_of(keys, "output_key")?, "output_key")?),
        payment_secret: opt_secret(keys, "payment_secret")?,
        payment_metadata: opt_hex(keys, "payment_metadata")?,
    };
    let cfg = EngineConfig {
        me: peer_of(node, "me")?,
        forward: field(node, "forward")?.as_bool().ok_or("`forward` is not a boolean")?,
        cltv_delta: BlockDelta(u32_of(node, "cltv_delta")?),
        final_cltv_delta: BlockDelta(u32_of(node, "final_cltv_delta")?),
        revision: rev,
        choices: Default::default(),
    };
    let mut e = PeerswapEngine::new(cfg, vk, BlockHeight(u32_of(node, "height")?), Timestamp(u64_of(node, "now")?));
    if let Some(c) = opt_field(node, "constants") {
        e = e.with_constants(constants(c)?);
    }
    let counter =
        u16::try_from(u64_of(pool, "update_counter")?).ok().and_then(UpdateCounter::new).ok_or("`update_counter`")?;
    let participants = array_of(pool, "participants")?
        .iter()
        .map(|p| p.as_str().map(str::to_string).ok_or("a participant is not a string"))
        .collect::<Result<Vec<_>, _>>()?;
    e.handle(Event::PoolUpdated(PoolView {
        id,
        participants,
        leader: peer_of(pool, "leader")?,
        update_counter: counter,
    }));
    for p in array_of(node, "peers")? {
        let mut ev = p.clone();
        ev["type"] = json!("channels");
        let d = Defaults { pool: id, hash: PaymentHash([0; 32]) };
        e.handle(event(&ev, &d)?);
    }
    let hash = PaymentHash(bytes32(hex_of(node, "hash")?, "hash")?);
    Ok((e, Defaults { pool: id, hash }))
}

/// At the newest upstream revision.
pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    check_at(SpecRevision::NEWEST_UPSTREAM, group, test)
}

/// The node runs the engine at revision `rev`.
pub fn check_at(rev: SpecRevision, group: &Value, test: &Value) -> Result<(), String> {
    same("error", expected_outcome(test)?, None)?;
    let (mut e, defaults) = engine(rev, field(group, "node")?)?;
    for (i, s) in array_of(test, "steps")?.iter().enumerate() {
        let ev = event(field(s, "event")?, &defaults).map_err(|x| format!("step {i}: {x}"))?;
        let got: Vec<Value> =
            e.handle(ev).iter().filter(|a| !matches!(a, Action::Log { .. })).map(action_json).collect();
        let want = array_of(s, "expect").map_err(|x| format!("step {i}: {x}"))?;
        if want.len() != got.len() {
            return Err(format!(
                "step {i}: expected {} actions, reference gives {}: {}",
                want.len(),
                got.len(),
                json!(got)
            ));
        }
        for (j, (w, g)) in want.iter().zip(&got).enumerate() {
            matches(w, g).map_err(|x| format!("step {i}, action {j}: {x}"))?;
        }
    }
    Ok(())
}
