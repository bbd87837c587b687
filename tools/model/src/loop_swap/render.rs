//! A run of the Loop model as a trace: one line per step, the client's actions below it.

use loop_reference::htlc::SpendKind;

use crate::framework::{PropertyDef, Trace, TraceStep};

use super::model::{Htlc, LoopModel, Pay, Sink, Step, World, ACCEPTED_FEES, AMOUNT, PREPAY, SWAP_INVOICE};
use super::properties::{client_net, late_reveal, server_has_swap_payment};

fn actor(w: &World, step: &Step) -> &'static str {
    let server = if w.adversary == super::params::Adversary::Server { "server (adversary)" } else { "server" };
    match step {
        Step::Block { .. } => "chain",
        Step::PublishHtlc { .. } | Step::SettlePrepay | Step::SettleSwap | Step::FailPayment(_) | Step::TimeoutSpend => server,
        Step::AdversaryClaim => "client (adversary)",
        Step::Crash | Step::Restart => "client",
    }
}

fn what(step: &Step) -> String {
    match step {
        Step::Block { claim_confirms: true } => "a block; the client's claim confirms in it".into(),
        Step::Block { claim_confirms: false } => "a block".into(),
        Step::PublishHtlc { value } => format!("publishes the HTLC paying {} sat (confirmed)", value.0),
        Step::SettlePrepay => "settles the prepay".into(),
        Step::SettleSwap => "settles the swap payment with the preimage".into(),
        Step::FailPayment(i) => format!("fails the {} payment", i.name()),
        Step::TimeoutSpend => "spends the HTLC through the timeout path".into(),
        Step::AdversaryClaim => "claims the HTLC with the preimage (confirmed)".into(),
        Step::Crash => "crashes (memory lost, store kept)".into(),
        Step::Restart => "restarts and resumes the stored swap".into(),
    }
}

fn pay(p: Pay) -> &'static str {
    match p {
        Pay::InFlight => "in flight",
        Pay::Settled => "settled",
        Pay::Failed => "failed",
    }
}

pub fn trace(m: &LoopModel, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
    let mut steps = Vec::new();
    for (w, step) in path {
        let Some(step) = step else { continue };
        let mut sink = Sink::default();
        let after = m.apply(w, *step, Some(&mut sink));
        let notes = sink.notes;
        let at = m.at(after.as_ref().map_or(w.height, |a| a.height));
        steps.push(TraceStep { at, actor: actor(w, step).into(), what: what(step), notes });
    }
    let mut setup = Vec::new();
    if let Some((w, _)) = path.first() {
        setup.push(format!(
            "Loop Out of {} sat: swap invoice {} sat, prepay {} sat (fees accepted: {} sat); HTLC expiry {}; adversary: {}",
            AMOUNT.0,
            SWAP_INVOICE.0,
            PREPAY.0,
            ACCEPTED_FEES.0,
            m.expiry(),
            w.adversary.name()
        ));
        setup.push(format!(
            "reveal_delta={} confirm_blocks={} expiry_delta={}; the client accepted the contract and paid both invoices at h={}",
            m.cfg.reveal_delta.0,
            m.cfg.confirm_blocks,
            m.cfg.expiry_delta,
            super::model::START
        ));
    }
    let mut outcome = vec![format!("property {}", property.name)];
    if let Some((w, _)) = path.last() {
        let htlc = match w.htlc {
            Htlc::Absent => "never published".to_string(),
            Htlc::Confirmed { value } => format!("unspent ({} sat)", value.0),
            Htlc::Spent(SpendKind::Success) => format!("claimed by the client ({} sat)", w.htlc_value.0),
            Htlc::Spent(SpendKind::Timeout) => format!("taken back by the server ({} sat)", w.htlc_value.0),
        };
        outcome.push(format!(
            "HTLC {htlc}; swap payment {}{}; prepay {}; client state {}",
            pay(w.swap_payment),
            if server_has_swap_payment(w) && w.swap_payment == Pay::InFlight { " (the server knows the preimage)" } else { "" },
            pay(w.prepay),
            w.client.state().map_or("none", |s| s.name())
        ));
        outcome.push(format!("client net {} sat (the fees it accepted: {} sat)", client_net(w), ACCEPTED_FEES.0));
        if let Some(h) = late_reveal(m, w) {
            outcome.push(format!("first reveal at {}: fewer than confirm_blocks={} blocks before the expiry", m.at(h), m.cfg.confirm_blocks));
        }
    }
    Trace { setup, steps, outcome }
}
