//! Runs for humans: each step as "when, who, what", with what followed from it.

use sidepool_reference::peerswap::session::{Action, Event};

use crate::framework::{PropertyDef, Trace, TraceStep};

use super::dynamics::{next_height, Sink};
use super::ids::{NodeId, START_HEIGHT};
use super::model::{describe_message, SidepoolModel, Step};
use super::params::{ContractionReading, Script};
use super::properties::{self, losers, net, offerrer_unrefunded, pool_owner, uncovered_forwarders};
use super::world::{PoolHtlc, World};

fn who(w: &World, n: NodeId) -> String {
    if w.adversary == Some(n) {
        format!("{} (adversary)", n.name())
    } else {
        n.name().to_string()
    }
}

fn action_text(a: &Action<NodeId>) -> String {
    match a {
        Action::Send { to, msg } => format!("sends {} to {}", describe_message(msg), to.name()),
        Action::AddHtlc { to, fields, .. } => {
            format!("offers {} an HTLC of {} msat expiring at {}", to.name(), fields.amount_msat.0, fields.cltv_expiry.0)
        }
        Action::FulfilHtlc { peer, .. } => format!("fulfils the HTLC from {}", peer.name()),
        Action::FailHtlc { peer, .. } => format!("fails the HTLC from {}", peer.name()),
        Action::RequestExpansionOutput { amount, .. } => format!("asks for the in-sidepool HTLC output ({} sat)", amount.0),
        Action::ClaimInSidepool { .. } => "claims the in-sidepool HTLC with the key it received".into(),
        Action::AbortSidepool { reason, .. } => format!("aborts the sidepool ({reason})"),
        Action::PersistRecord(r) => format!("persists {}", r.name()),
        Action::DeleteRecord { .. } => "deletes its forwarding record".into(),
        Action::ForgetPeerswap { peer, .. } => format!("forgets the peerswap with {}", peer.name()),
        Action::Log { text, .. } => format!("logs: {text}"),
    }
}

/// What a step is, in words, and who does it.
pub fn describe(m: &SidepoolModel, w: &World, step: &Step) -> (String, String) {
    match *step {
        Step::PartyBegins => ("L".into(), "starts a swap party (swap_party_begin)".into()),
        Step::Begin { node, cut } => {
            let what = if node == NodeId::O { "receives swap_party_begin and offers a peerswap" } else { "receives swap_party_begin" };
            (who(w, node), crash_suffix(what, cut))
        }
        Step::CloseExpansion => ("L".into(), "completes the Expansion Phase (swap_party_expand_done)".into()),
        Step::Outcome { node, cut } => (who(w, node), crash_suffix("validates the Expansion Phase state", cut)),
        Step::CompleteContraction => ("L".into(), "completes the Contraction Phase (swap_party_contract_done)".into()),
        Step::Abort => ("pool".into(), "the sidepool aborts".into()),
        Step::Tick => (
            "clock".into(),
            m.next_deadline(w).map_or("time passes".into(), |t| format!("time passes to {t} s, a deadline")),
        ),
        Step::BlockFound => ("chain".into(), "a block is found during the swap party".into()),
        Step::AdvanceHeight => (
            "chain".into(),
            next_height(w).map_or("the chain moves on".into(), |h| format!("the chain reaches height {h}")),
        ),
        Step::Deliver { from, to, cut } => {
            let msg = w
                .conn_between(from, to)
                .and_then(|c| w.conns.get(c))
                .and_then(|c| c.queue(from))
                .and_then(|q| q.first())
                .map_or("a message".to_string(), describe_message);
            (who(w, to), crash_suffix(&format!("receives {msg} from {}", from.name()), cut))
        }
        Step::Disconnect { conn } => {
            let c = w.conns.get(usize::from(conn));
            ("net".into(), c.map_or("a connection drops".into(), |c| format!("the connection {}-{} drops", c.up.name(), c.down.name())))
        }
        Step::Commit { htlc, cut } => {
            let h = w.htlcs.get(usize::from(htlc));
            let what = h.map_or("an HTLC is irrevocably committed".into(), |h| {
                format!("the HTLC {} -> {} ({} msat, expiry {}) is irrevocably committed", h.payer.name(), h.payee.name(), h.amount().0, h.expiry())
            });
            (h.map_or("ln".into(), |h| who(w, h.payee)), crash_suffix(&what, cut))
        }
        Step::Crash { node } => (who(w, node), "crashes".into()),
        Step::Restart { node } => (who(w, node), "restarts".into()),
        Step::AdvPerform { item } => {
            let a = w.adversary.unwrap_or(NodeId::O);
            let what = w.node(a).and_then(|n| n.outbox.get(usize::from(item))).map_or("acts".into(), action_text);
            (who(w, a), format!("{what} (when it chooses)"))
        }
        Step::AdvFulfil { htlc } => {
            let a = w.adversary.unwrap_or(NodeId::O);
            let from = w.htlcs.get(usize::from(htlc)).map_or("?", |h| h.payer.name());
            (who(w, a), format!("claims the HTLC from {from} with the preimage"))
        }
        Step::AdvReclaim { htlc } => {
            let a = w.adversary.unwrap_or(NodeId::O);
            let to = w.htlcs.get(usize::from(htlc)).map_or("?", |h| h.payee.name());
            (who(w, a), format!("times out its expired HTLC to {to}"))
        }
        Step::AdvSpend => (who(w, w.adversary.unwrap_or(NodeId::O)), "spends the in-sidepool HTLC output onchain".into()),
    }
}

fn crash_suffix(what: &str, cut: u8) -> String {
    if cut == 0 {
        what.to_string()
    } else {
        let nth = match cut {
            1 => "first".to_string(),
            2 => "second".to_string(),
            3 => "third".to_string(),
            n => format!("{n}th"),
        };
        format!("{what}, and crashes right after carrying out its {nth} action")
    }
}

fn event_brief(e: &Event<NodeId>) -> Option<String> {
    match e {
        Event::OutgoingHtlcFulfilled { .. } => Some("learns its HTLC was fulfilled".into()),
        Event::OutgoingHtlcFailed { .. } => Some("learns its HTLC failed".into()),
        Event::PoolRemoved { .. } => Some("learns the sidepool is gone".into()),
        Event::ContractionDone { .. } => None,
        Event::IncomingHtlcGone { .. } => Some("learns an incoming HTLC went away".into()),
        _ => None,
    }
}

fn at(w: &World) -> String {
    format!("h={} t={}s", w.height, w.now)
}

/// The setup lines of a trace.
pub fn setup(m: &SidepoolModel, w: &World) -> Vec<String> {
    let cfg = &m.cfg;
    let path: Vec<&str> = cfg.path().iter().map(|n| n.name()).collect();
    vec![
        format!(
            "path {} (leader L); adversary: {}; start height {START_HEIGHT}",
            path.join(" - "),
            w.adversary.map_or("none".into(), |a| a.name().to_string())
        ),
        format!(
            "in-sidepool margin {}, forward gap {}, cltv_delta {}, final_cltv_delta {}, abort {} blocks, claims confirm within {} blocks",
            cfg.constants.sidepool_timeout_min_delta.0,
            cfg.constants.forward_min_timelock_gap.0,
            cfg.cltv_delta,
            cfg.final_cltv_delta,
            cfg.abort_blocks,
            cfg.confirm_blocks
        ),
        format!(
            "timelock leaf {}; amount rule {}; acceptor stays out of the contraction {}",
            match cfg.script {
                Script::AsWritten => "as written (ERRATA E-23: never spendable)",
                Script::Fixed => "fixed (E-23's proposal)",
            },
            match cfg.revision.in_lightning_amount() {
                sidepool_reference::revision::InLightningAmount::PostTax => format!("{} (the post-tax amount)", cfg.revision),
                sidepool_reference::revision::InLightningAmount::InSidepoolHtlc => format!("{} (the HTLC amount)", cfg.revision),
            },
            match cfg.contraction {
                ContractionReading::WhilePaying => "while paying",
                ContractionReading::AfterFulfilled => "once its payment was fulfilled",
            }
        ),
    ]
}

/// What is wrong (or reached) at the end of a run.
pub fn outcome(m: &SidepoolModel, def: &PropertyDef, w: &World) -> Vec<String> {
    let mut out = Vec::new();
    let owner = pool_owner(m, w).map_or("nobody".to_string(), |n| n.name().to_string());
    match w.pool.htlc {
        PoolHtlc::Absent => out.push("the in-sidepool HTLC was never created".into()),
        PoolHtlc::Spent { to: Some(to), path } => out.push(format!("the in-sidepool HTLC went to {} ({})", to.name(), path.map_or("?".into(), |p| format!("{p:?}")))),
        _ => out.push(format!("the in-sidepool HTLC can be spent by: {owner}")),
    }
    match def.name {
        properties::NO_HONEST_LOSS => {
            for (n, v) in losers(m, w) {
                out.push(format!("honest {} ends {} msat down", n.name(), -v));
            }
        }
        properties::FORWARDER_COVERED => {
            for (n, paid, got) in uncovered_forwarders(m, w) {
                out.push(format!("honest forwarder {} paid {paid} msat upstream and got {got} msat from downstream", n.name()));
            }
        }
        properties::OFFERRER_REFUNDED => {
            if let Some(o) = offerrer_unrefunded(m, w) {
                out.push(format!(
                    "the honest offerrer was not paid and its HTLC went to {} (net {} msat)",
                    o.map_or("nobody", |n| n.name()),
                    net(m, w, NodeId::O)
                ));
            }
        }
        properties::KEY_AFTER_COMMITMENT => out.push("the honest offerrer handed its key over too early".into()),
        _ => {}
    }
    out
}

/// The whole run.
pub fn trace(m: &SidepoolModel, def: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
    let mut t = Trace::default();
    if let Some((first, _)) = path.first() {
        t.setup = setup(m, first);
    }
    for (w, step) in path {
        let Some(step) = step else { continue };
        let (actor, what) = describe(m, w, step);
        let mut sink = Sink::default();
        let after = m.apply(w, *step, Some(&mut sink));
        let mut notes = Vec::new();
        for &(is_io, i) in &sink.order {
            if !is_io {
                if let Some(n) = sink.notes.get(i) {
                    if !n.contains(" logs: ") || n.contains("hold timed out") || n.contains("ignored") {
                        notes.push(n.clone());
                    }
                }
                continue;
            }
            let Some(io) = sink.io.get(i) else { continue };
            let adversary = w.adversary == Some(io.node);
            let name = io.node.name();
            let mut lines: Vec<String> = Vec::new();
            for (i, a) in io.actions.iter().enumerate() {
                // Logs, HTLCs and output requests show up as notes, where they take effect.
                if matches!(a, Action::Log { .. } | Action::AddHtlc { .. } | Action::RequestExpansionOutput { .. }) && !adversary {
                    continue;
                }
                if matches!(a, Action::Log { .. }) {
                    continue;
                }
                let text = action_text(a);
                let internal = matches!(a, Action::PersistRecord(_) | Action::DeleteRecord { .. } | Action::ForgetPeerswap { .. });
                lines.push(if adversary && !internal {
                    format!("{name}'s engine: {text} (the adversary may hold it back)")
                } else if io.carried.is_some_and(|c| i >= c) {
                    format!("{name}: {text} (lost in the crash)")
                } else {
                    format!("{name}: {text}")
                });
            }
            if let (Some(b), false) = (event_brief(&io.event), lines.is_empty()) {
                notes.push(format!("{name} {b}"));
            }
            notes.extend(lines);
        }
        notes.retain(|n| !n.starts_with("time is now") && n != "the leader sends swap_party_begin");
        let at_text = after.as_ref().map_or_else(|| at(w), at);
        // Heights at which nothing happens read as one line.
        if let (Step::AdvanceHeight, true, Some(last)) = (step, notes.is_empty(), t.steps.last_mut()) {
            if last.actor == "chain" && last.notes.is_empty() && last.what.starts_with("the chain reaches height") {
                let h = next_height(w).map_or(String::new(), |h| h.to_string());
                last.what = format!("{}, {h}", last.what.replacen("reaches height ", "reaches heights ", 1));
                last.at = at_text;
                continue;
            }
        }
        t.steps.push(TraceStep { at: at_text, actor, what, notes });
    }
    if let Some((last, _)) = path.last() {
        t.outcome = outcome(m, def, last);
    }
    t
}
