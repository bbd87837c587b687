//! A run as `session_script` vectors (vectors/peerswap/session_scripts.yaml's format):
//! one group per honest node, one test per incarnation of its engine, each step an
//! event it got with the actions its engine answered. Replayed by
//! `conformance/src/vectors/kinds/session_script.rs`, an implementation must answer
//! every event of the scenario as the reference did.

use serde_json::{json, Value};
use sidepool_reference::messages::Message;
use sidepool_reference::peerswap::balance::Channel;
use sidepool_reference::peerswap::constants::SpecConstants;
use sidepool_reference::peerswap::session::{Action, Event, Record};
use sidepool_reference::SpecRevision;

use crate::framework::{PropertyDef, ScriptGroup, ScriptStep, ScriptTest, VectorFile};

use super::dynamics::{channel, engine_config, participants, EngineIo, Sink};
use super::ids::{output_key, ModelKeys, NodeId, HASH, POOL, START_HEIGHT};
use super::model::{SidepoolModel, Step};
use super::render;
use super::world::World;

fn hx(b: &[u8]) -> Value {
    json!(hex::encode(b))
}

fn channel_json(c: &Channel) -> Value {
    let cap = match c.capacity {
        sidepool_reference::peerswap::balance::Capacity::Msat(m) => m.0,
        sidepool_reference::peerswap::balance::Capacity::Sat(s) => s.0.saturating_mul(1000),
    };
    json!({
        "capacity_msat": cap, "ours_msat": c.ours.0, "theirs_msat": c.theirs.0, "reserve_msat": c.our_reserve.0,
        "pending_htlcs_msat": c.pending_htlcs.0, "max_htlc_from_peer_msat": c.htlc_maximum_from_peer.0,
        "max_htlc_ours_msat": c.htlc_maximum_ours.0, "state": c.state.name(),
    })
}

fn message_json(m: &Message) -> Value {
    match m {
        Message::PeerswapInit(i) => json!({
            "type": "peerswap_init",
            "pubkeys": {"ephemeral": hx(&i.pubkeys.ephemeral.as_bytes()), "persistent": hx(&i.pubkeys.persistent.as_bytes())},
            "timeouts": [i.timeouts.sidepool.0, i.timeouts.lightning.0], "hops": i.hops.0, "amount_sat": i.amount.0,
            "update_counter": i.update_counter.get(),
            "channel_view": [i.channel_view.owned_by_offerrer.0, i.channel_view.owned_by_acceptor.0, i.channel_view.total_capacity.0],
        }),
        Message::PeerswapAccept(a) => json!({
            "type": "peerswap_accept",
            "pubkeys": {"ephemeral": hx(&a.pubkeys.ephemeral.as_bytes()), "persistent": hx(&a.pubkeys.persistent.as_bytes())},
        }),
        Message::PeerswapReject(r) => json!({"type": "peerswap_reject", "reason_code": r.reason_code.0}),
        Message::PeerswapLightning(l) => {
            let mut v = json!({"type": "peerswap_lightning"});
            if let Some(s) = l.payment_secret {
                v["payment_secret"] = hx(&s.0);
            }
            if let Some(md) = &l.payment_metadata {
                v["payment_metadata"] = hx(md);
            }
            v
        }
        Message::PeerswapSuccess(s) => json!({
            "type": "peerswap_success",
            "encrypted_key": hx(&s.ephemeral_privkey.encrypted_key),
            "encryption_pubkey": hx(&s.ephemeral_privkey.encryption_pubkey.as_bytes()),
        }),
        other => json!({"type": other.name()}),
    }
}

/// An event in the `EventForms` of session_scripts.yaml; `None` for events that form
/// has no place for (the setup ones, which the group's `node` gives instead).
fn event_json(e: &Event<NodeId>) -> Option<Value> {
    Some(match e {
        Event::SwapPartyBegun { at, .. } => json!({"type": "swap_party_begun", "at": at.0}),
        Event::ContractionDone { .. } => json!({"type": "contraction_done"}),
        Event::PoolRemoved { .. } => json!({"type": "pool_removed"}),
        Event::TimePassed { now } => json!({"type": "time", "now": now.0}),
        Event::BlockHeight(h) => json!({"type": "block_height", "height": h.0}),
        Event::Received { from, msg } => json!({"type": "receive", "from": from.vector_name(), "msg": message_json(msg)}),
        Event::OfferNow { peer, amount, hops_random, .. } => {
            let mut v = json!({"type": "offer_now", "peer": peer.vector_name(), "hops_random": hops_random});
            if let Some(a) = amount {
                v["amount_sat"] = json!(a.0);
            }
            v
        }
        Event::ExpansionOutcome { outputs, tax, .. } => json!({
            "type": "expansion_outcome",
            "outputs": outputs.iter().map(|(k, a)| json!({"output_key": hx(&k.0), "amount_sat": a.0})).collect::<Vec<_>>(),
            "tax": {"fees_sat": tax.total_offchain_fees.0, "outputs": tax.output_count},
        }),
        Event::IncomingHtlcAdded { peer, id, htlc } => {
            let mut v = json!({
                "type": "htlc_added", "peer": peer.vector_name(), "id": id, "amount_msat": htlc.amount_msat.0,
                "cltv_expiry": htlc.cltv_expiry.0,
            });
            if let Some(s) = htlc.onion.payment_secret {
                v["payment_secret"] = hx(&s.0);
            }
            if let Some(md) = &htlc.onion.payment_metadata {
                v["payment_metadata"] = hx(md);
            }
            v
        }
        Event::IncomingHtlcCommitted { peer, id } => json!({"type": "htlc_committed", "peer": peer.vector_name(), "id": id}),
        Event::IncomingHtlcGone { peer, id } => json!({"type": "htlc_gone", "peer": peer.vector_name(), "id": id}),
        Event::OutgoingHtlcFulfilled { htlc } => json!({"type": "outgoing_fulfilled", "htlc": htlc.0}),
        Event::OutgoingHtlcFailed { htlc } => json!({"type": "outgoing_failed", "htlc": htlc.0}),
        Event::OutgoingHtlcRemovalCommitted { htlc } => json!({"type": "outgoing_removal_committed", "htlc": htlc.0}),
        Event::OutgoingHtlcAddFailed { htlc } => json!({"type": "outgoing_add_failed", "htlc": htlc.0}),
        // The setup ones, and a malformed init (the model never sends one).
        Event::PoolUpdated(_) | Event::ChannelsUpdated { .. } | Event::ReceivedMalformedInit { .. } => return None,
    })
}


/// The `ActionForms` of session_scripts.yaml (the fields the evaluator compares).
fn action_json(a: &Action<NodeId>) -> Value {
    let mut v = match a {
        Action::Send { to, msg } => {
            let mut m = match msg {
                Message::PeerswapInit(i) => json!({
                    "hash": hx(&i.hash.0), "hops": i.hops.0, "amount_sat": i.amount.0,
                    "timeouts": [i.timeouts.sidepool.0, i.timeouts.lightning.0], "update_counter": i.update_counter.get(),
                }),
                Message::PeerswapAccept(m) => json!({"hash": hx(&m.hash.0), "ephemeral": hx(&m.pubkeys.ephemeral.as_bytes())}),
                Message::PeerswapReject(r) => json!({"hash": hx(&r.hash.0), "reason_code": r.reason_code.0}),
                Message::PeerswapLightning(l) => json!({"hash": hx(&l.hash.0)}),
                Message::PeerswapSuccess(s) => json!({"hash": hx(&s.hash.0), "encrypted_key": hx(&s.ephemeral_privkey.encrypted_key)}),
                _ => json!({}),
            };
            m["to"] = json!(to.vector_name());
            m["msg"] = json!(msg.name());
            m
        }
        Action::PersistRecord(r) => {
            let mut m = match r {
                Record::Forward(f) => json!({
                    "hash": hx(&f.hash.0), "upstream": f.upstream.vector_name(), "downstream": f.downstream.vector_name(),
                    "amount_sat": f.amount.0, "sidepool_timelock": f.sidepool_timelock.0,
                    "lightning_from_upstream": f.lightning_timelock_from_upstream.0,
                    "lightning_to_downstream": f.lightning_timelock_to_downstream.0,
                }),
                Record::SentInit { to, init } => json!({"to": to.vector_name(), "hash": hx(&init.hash.0), "amount_sat": init.amount.0}),
                Record::HtlcDetails(d) => json!({"hash": hx(&d.hash.0), "role": d.role.name(), "amount_sat": d.amount.0}),
                Record::Lightning { hash, peer, sent, .. } => json!({"hash": hx(&hash.0), "peer": peer.vector_name(), "sent": sent}),
                Record::ForwardedHtlcs { hash, from, to, total, .. } => {
                    json!({"hash": hx(&hash.0), "from": from.vector_name(), "to": to.vector_name(), "total_msat": total.0})
                }
            };
            m["record"] = json!(r.name());
            m
        }
        Action::DeleteRecord { hash, .. } => json!({"hash": hx(&hash.0)}),
        Action::AddHtlc { to, htlc, fields, .. } => json!({
            "to": to.vector_name(), "htlc": htlc.0, "amount_msat": fields.amount_msat.0, "cltv_expiry": fields.cltv_expiry.0,
        }),
        Action::FulfilHtlc { peer, id } | Action::FailHtlc { peer, id } => json!({"peer": peer.vector_name(), "id": id}),
        Action::RequestExpansionOutput { output_key, amount, .. } => json!({"output_key": hx(&output_key.0), "amount_sat": amount.0}),
        Action::ClaimInSidepool { offerrer_key, .. } => json!({"encrypted_key": hx(&offerrer_key.encrypted_key)}),
        Action::ForgetPeerswap { peer, .. } => json!({"peer": peer.vector_name()}),
        Action::AbortSidepool { .. } | Action::Log { .. } => json!({}),
    };
    v["action"] = json!(a.name());
    v
}

fn constants_json(c: &SpecConstants) -> Value {
    json!({
        "sidepool_timeout_min_delta": c.sidepool_timeout_min_delta.0,
        "max_cltv_delta": c.max_cltv_delta.0,
        "forward_min_timelock_gap": c.forward_min_timelock_gap.0,
        "hold_timeout": c.hold_timeout.0,
        "swap_party_begin_deferral": c.swap_party_begin_deferral.0,
        "ultimate_offerrer_hops": [c.ultimate_offerrer_hops.0, c.ultimate_offerrer_hops.1],
    })
}

/// The output key every node derives in this run (the session_script keys give one per node).
fn scenario_output_key(io: &[EngineIo]) -> [u8; 32] {
    for e in io {
        for a in &e.actions {
            match a {
                Action::RequestExpansionOutput { output_key: k, .. } => return k.0,
                Action::PersistRecord(Record::HtlcDetails(d)) => {
                    return output_key(&d.offerrer_pubkeys, &d.acceptor_pubkeys, d.hash, d.timeouts.sidepool.0).0
                }
                _ => {}
            }
        }
    }
    [0; 32]
}

fn node_setup(m: &SidepoolModel, w: &World, n: NodeId, out_key: [u8; 32]) -> Option<Value> {
    let cfg = &m.cfg;
    let keys = ModelKeys::new(n)?;
    let ec = engine_config(cfg, n, w.adversary);
    let path = cfg.path();
    let i = path.iter().position(|x| *x == n)?;
    let mut peers = Vec::new();
    if let Some(up) = i.checked_sub(1).and_then(|j| path.get(j)) {
        peers.push(json!({"peer": up.vector_name(), "supports_feature": true, "channels": [channel_json(&channel(cfg, false))]}));
    }
    if let Some(down) = path.get(i + 1) {
        peers.push(json!({"peer": down.vector_name(), "supports_feature": true, "channels": [channel_json(&channel(cfg, true))]}));
    }
    let mut v = json!({
        "me": n.vector_name(), "forward": ec.forward, "cltv_delta": ec.cltv_delta.0, "final_cltv_delta": ec.final_cltv_delta.0,
        "height": START_HEIGHT, "now": 0, "hash": hx(&HASH.0),
        "pool": {"id": hx(&POOL.0), "participants": participants(cfg).iter().map(|p| p.vector_name()).collect::<Vec<_>>(), "leader": NodeId::L.vector_name(), "update_counter": 1},
        "keys": {
            "ephemeral": hx(&keys.pubkeys.ephemeral.as_bytes()), "persistent": hx(&keys.pubkeys.persistent.as_bytes()),
            "encrypted_key": hx(&ModelKeys::handover_bytes(n)), "output_key": hx(&out_key), "payment_secret": hx(&keys.secret.0),
        },
        "peers": peers,
    });
    if cfg.constants != SpecConstants::SPEC {
        v["constants"] = constants_json(&cfg.constants);
    }
    Some(v)
}

/// The run `path` as a session_script vector file, one group per honest node.
pub fn export(m: &SidepoolModel, def: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
    let first = &path.first()?.0;
    let mut io: Vec<EngineIo> = Vec::new();
    let mut text = Vec::new();
    for (w, step) in path {
        let Some(step) = step else { continue };
        let mut sink = Sink::default();
        m.apply(w, *step, Some(&mut sink))?;
        io.extend(sink.io);
    }
    let trace = render::trace(m, def, path);
    text.push(format!("A counterexample to `{}` found by `sidepool-conformance model check` (tools/model):", def.name));
    text.push(def.words.to_string());
    text.extend(trace.render().lines().map(|l| l.trim_end().to_string()));
    text.push(String::new());
    text.push("Each group is one honest node of that run; each test one incarnation of its engine (a crash starts".into());
    text.push("another). Replaying the events must give the reference's actions: the scenario, step by step.".into());
    text.push(format!(
        "Names: {}.",
        [NodeId::O, NodeId::F1, NodeId::F2, NodeId::A, NodeId::L].iter().map(|n| format!("{} = {}", n.name(), n.vector_name())).collect::<Vec<_>>().join(", ")
    ));
    let out_key = scenario_output_key(&io);
    let mut groups = Vec::new();
    for n in m.cfg.path() {
        if !first.is_honest(n) {
            continue;
        }
        let mine: Vec<&EngineIo> = io.iter().filter(|e| e.node == n).collect();
        if mine.is_empty() {
            continue;
        }
        let incarnations: Vec<u8> = {
            let mut v: Vec<u8> = mine.iter().map(|e| e.incarnation).collect();
            v.dedup();
            v
        };
        let tests = incarnations
            .iter()
            .map(|inc| ScriptTest {
                comment: format!("{}: {} ({}){}", n.vector_name(), def.name, m.cfg.path().iter().map(|p| p.vector_name()).collect::<Vec<_>>().join("-"), if *inc > 0 { format!(", after restart {inc}") } else { String::new() }),
                flags: vec!["ModelCounterexample".into()],
                steps: mine
                    .iter()
                    .filter(|e| e.incarnation == *inc)
                    .filter_map(|e| {
                        Some(ScriptStep {
                            event: event_json(&e.event)?,
                            expect: e.actions.iter().filter(|a| !matches!(a, Action::Log { .. })).map(action_json).collect(),
                        })
                    })
                    .collect(),
            })
            .collect();
        groups.push(ScriptGroup {
            comment: format!("honest {} in the counterexample to {}", n.vector_name(), def.name),
            setup_key: "node",
            setup: node_setup(m, first, n, out_key)?,
            tests,
        });
    }
    Some(VectorFile {
        kind: "session_script",
        title: format!("Model-checker counterexample: {}", def.name),
        spec: json!({"document": "SIDEPOOL-10", "section": "Peerswap In Sidepool", "commit": m.cfg.revision.sidepool_10_commit()}),
        extra: {
            let mut extra = vec![("revisions".to_string(), json!([m.cfg.revision.name()]))];
            if m.cfg.revision == SpecRevision::Seed {
                // The amounts in Lightning come from the post-tax amount (spec-mirror/sidepool/definitions.yaml).
                extra.push((
                    "depends_on".to_string(),
                    json!(["sp10.def.agreed-upon-amount", "sp02.def.post-tax-amount", "sp02.def.onchain-fee-contribution-tax"]),
                ));
            }
            extra
        },
        header: text,
        notes: vec![(
            "ModelCounterexample".into(),
            "A run the model checker (tools/model) found violating a property: every event an honest node got, with the actions the reference engine answered.".into(),
        )],
        groups,
    })
}
