//! A run as `loop_script` vectors (vectors/loop/loop_out_scripts.yaml's format): one
//! group for the honest client, one test for its machine, each step an event it got
//! with the actions the reference answered. Replayed by
//! `conformance/src/vectors/kinds/loop_script.rs`, an implementation must answer every
//! event of the scenario as the reference did.
//!
//! A crash does not start a new test here: `LoopOutClient` and `LoopInClient` model the
//! crash themselves (`UnexpectedError` drops what the swap held in memory and keeps the
//! store, `Execute` resumes from it), so the run is one script for one machine.

use loop_reference::constants::Bounds as LoopBounds;
use loop_reference::loop_in::{LoopInAction, LoopInEvent};
use loop_reference::loop_out::{LoopOutAction, LoopOutEvent, LoopOutParams};
use loop_reference::htlc::SpendKind;
use serde_json::{json, Value};

use crate::framework::{PropertyDef, ScriptGroup, ScriptStep, ScriptTest, VectorFile};

use super::loop_in::LoopInModel;
use super::model::{LoopModel, Sink, Step, World};
use super::render;

/// LOOP-01's source commit (the spec's provenance, as in vectors/loop/).
const LOOP_COMMIT: &str = "f6b0253d708763c90b81b30159e5b3779d764931";

const FLAG: &str = "ModelCounterexample";
const FLAG_NOTE: &str = "A run the model checker (tools/model, --system loop) found violating a property: every event the honest client got, with the actions the reference machine answered.";

fn spend_name(k: SpendKind) -> &'static str {
    match k {
        SpendKind::Success => "success",
        SpendKind::Timeout => "timeout",
    }
}

/// The group's `params.bounds`: only the bounds the run loosened (the evaluator starts from LOOP-01's).
fn bounds_json(b: &LoopBounds) -> Option<Value> {
    let l = LoopBounds::LOOP01;
    let mut o = serde_json::Map::new();
    let mut put = |key: &str, v: u32, spec: u32| {
        if v != spec {
            o.insert(key.into(), json!(v));
        }
    };
    put("min_loop_out_preimage_reveal_delta", b.min_loop_out_preimage_reveal_delta.0, l.min_loop_out_preimage_reveal_delta.0);
    put("max_loop_in_accept_delta", b.max_loop_in_accept_delta.0, l.max_loop_in_accept_delta.0);
    put("min_loop_in_expiry_delta", b.min_loop_in_expiry_delta.0, l.min_loop_in_expiry_delta.0);
    put("min_loop_in_publish_delta", b.min_loop_in_publish_delta.0, l.min_loop_in_publish_delta.0);
    (!o.is_empty()).then_some(Value::Object(o))
}

// ---- Loop Out -------------------------------------------------------------------------------

/// The event forms of loop_script's Loop Out machine.
fn out_event_json(e: &LoopOutEvent) -> Value {
    match e {
        LoopOutEvent::ContractOffered { height, offer } => json!({
            "type": "contract_offered", "height": height.0,
            "swap_invoice": {"payment_hash": hex::encode(offer.swap_invoice_hash.0), "amount_msat": offer.swap_invoice_amount.map(|m| m.0)},
            "prepay_invoice": {"amount_msat": offer.prepay_invoice_amount.map(|m| m.0)},
        }),
        LoopOutEvent::Execute { height } => json!({"type": "execute", "height": height.0}),
        LoopOutEvent::Block { height } => json!({"type": "block", "height": height.0}),
        LoopOutEvent::PaymentSucceeded(i) => json!({"type": "payment_succeeded", "invoice": i.name()}),
        LoopOutEvent::PaymentFailed(i) => json!({"type": "payment_failed", "invoice": i.name()}),
        LoopOutEvent::HtlcConfirmed { value } => json!({"type": "htlc_confirmed", "value_sat": value.0}),
        LoopOutEvent::SweepTimer => json!({"type": "sweep_timer"}),
        LoopOutEvent::HtlcSpent(k) => json!({"type": "htlc_spent", "spend": spend_name(*k)}),
        LoopOutEvent::UnexpectedError => json!({"type": "unexpected_error"}),
    }
}

/// The action forms of loop_script's Loop Out machine (what the evaluator compares).
pub fn out_action_json(a: &LoopOutAction) -> Value {
    match a {
        LoopOutAction::Refuse(r) => json!({"type": "refuse", "reason": r.name()}),
        LoopOutAction::Persist(s) => json!({"type": "persist", "state": s.name()}),
        LoopOutAction::Report(s) => json!({"type": "report", "state": s.name()}),
        LoopOutAction::PayInvoice(i) => json!({"type": "pay_invoice", "invoice": i.name()}),
        LoopOutAction::ReportPaymentFailure(i) => json!({"type": "report_payment_failure", "invoice": i.name()}),
        LoopOutAction::PublishClaim(p) => json!({"type": "publish_claim", "conf_target": p.conf_target, "urgent": p.urgent}),
        LoopOutAction::PushPreimage => json!({"type": "push_preimage"}),
        LoopOutAction::Finish(s) => json!({"type": "finish", "state": s.name()}),
    }
}

fn out_params_json(p: &LoopOutParams) -> Value {
    let mut v = json!({
        "amount_sat": p.limits.amount.0, "max_swap_fee_sat": p.limits.max_swap_fee.0,
        "max_prepay_amount_sat": p.limits.max_prepay_amount.0, "swap_hash": hex::encode(p.swap_hash.0),
        "cltv_expiry": p.cltv_expiry.0,
    });
    if let Some(b) = bounds_json(&p.bounds) {
        v["bounds"] = b;
    }
    v
}

/// The header: what the file is, the trace, the settings.
fn header(def: &PropertyDef, settings: String, trace: &crate::framework::Trace) -> Vec<String> {
    let mut text = vec![format!("A counterexample to `{}` found by `sidepool-conformance model check --system loop {settings}` (tools/model):", def.name)];
    text.push(def.words.to_string());
    text.extend(trace.render().lines().map(|l| l.trim_end().to_string()));
    text.push(String::new());
    text.push("The group is the honest client of that run; its test, the client's machine from the contract on (a crash".into());
    text.push("is the machine's own unexpected_error and execute). Replaying the events must give the reference's actions.".into());
    text
}

fn file(def: &PropertyDef, section: &str, header: Vec<String>, group: ScriptGroup) -> VectorFile {
    VectorFile {
        kind: "loop_script",
        title: format!("Model-checker counterexample: {}", def.name),
        spec: json!({"document": "LOOP-01", "section": section, "commit": LOOP_COMMIT}),
        extra: vec![],
        header,
        notes: vec![(FLAG.into(), FLAG_NOTE.into())],
        groups: vec![group],
    }
}

fn steps<E, A>(io: &[(E, Vec<A>)], event: impl Fn(&E) -> Value, action: impl Fn(&A) -> Value) -> Vec<ScriptStep> {
    io.iter().map(|(e, actions)| ScriptStep { event: event(e), expect: actions.iter().map(&action).collect() }).collect()
}

/// The Loop Out run `path` as a loop_script vector file; `None` when the client is the adversary
/// (no honest machine to replay).
pub fn export_out(m: &LoopModel, def: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
    let first = &path.first()?.0;
    if !m.honest_client(first) {
        return None;
    }
    let (_, mut io) = m.started_client();
    for (w, step) in path {
        let Some(step) = step else { continue };
        let mut sink = Sink::default();
        m.apply(w, *step, Some(&mut sink))?;
        io.extend(sink.io);
    }
    let trace = render::trace(m, def, path);
    let group = ScriptGroup {
        comment: format!("the honest Loop Out client in the counterexample to {} (adversary: {})", def.name, first.adversary.name()),
        setup_key: "",
        setup: json!({"machine": "loop_out_client", "params": out_params_json(&m.client_params())}),
        tests: vec![ScriptTest { comment: format!("loop_out_client: {}", def.name), flags: vec![FLAG.into()], steps: steps(&io, out_event_json, out_action_json) }],
    };
    Some(file(def, "Loop Out: execution", header(def, m.cfg.settings_line(), &trace), group))
}

// ---- Loop In --------------------------------------------------------------------------------

/// The event forms of loop_script's Loop In machine.
fn in_event_json(e: &LoopInEvent) -> Value {
    use LoopInEvent as E;
    match *e {
        E::ContractOffered { height, swap_fee, cltv_expiry } => {
            json!({"type": "contract_offered", "height": height.0, "swap_fee_sat": swap_fee.0, "cltv_expiry": cltv_expiry.0})
        }
        E::Execute { height } => json!({"type": "execute", "height": height.0}),
        E::Block { height } => json!({"type": "block", "height": height.0}),
        E::HtlcPublishFailed => json!({"type": "htlc_publish_failed"}),
        E::HtlcConfirmed { value } => json!({"type": "htlc_confirmed", "value_sat": value.0}),
        E::InvoiceSettled => json!({"type": "invoice_settled"}),
        E::InvoiceCanceled => json!({"type": "invoice_canceled"}),
        E::HtlcSpent(k) => json!({"type": "htlc_spent", "spend": spend_name(k)}),
        E::Abandon => json!({"type": "abandon"}),
        E::UnexpectedError => json!({"type": "unexpected_error"}),
    }
}

/// The action forms of loop_script's Loop In machine.
pub fn in_action_json(a: &LoopInAction) -> Value {
    match a {
        LoopInAction::Refuse(r) => json!({"type": "refuse", "reason": r.name()}),
        LoopInAction::Persist(s) => json!({"type": "persist", "state": s.name()}),
        LoopInAction::Report(s) => json!({"type": "report", "state": s.name()}),
        LoopInAction::PublishHtlc => json!({"type": "publish_htlc"}),
        LoopInAction::PublishTimeout => json!({"type": "publish_timeout"}),
        LoopInAction::RevealInternalKey => json!({"type": "reveal_internal_key"}),
        LoopInAction::CancelInvoice => json!({"type": "cancel_invoice"}),
        LoopInAction::Finish(s) => json!({"type": "finish", "state": s.name()}),
    }
}

/// The Loop In run `path` as a loop_script vector file; `None` when the client is the adversary.
pub fn export_in(m: &LoopInModel, def: &PropertyDef, path: &[(super::loop_in::InWorld, Option<super::loop_in::InStep>)]) -> Option<VectorFile> {
    let first = &path.first()?.0;
    if !m.honest_client(first) {
        return None;
    }
    let (_, mut io) = m.started_client();
    for (w, step) in path {
        let Some(step) = step else { continue };
        let mut sink = super::loop_in::InSink::default();
        m.apply(w, *step, Some(&mut sink))?;
        io.extend(sink.io);
    }
    let trace = super::loop_in::trace(m, def, path);
    let p = m.client_params();
    let mut params = json!({
        "amount_sat": p.amount.0, "max_swap_fee_sat": p.max_swap_fee.0, "external_htlc": p.external_htlc,
        "protocol_version": p.protocol_version.0,
    });
    if let Some(b) = bounds_json(&p.bounds) {
        params["bounds"] = b;
    }
    let group = ScriptGroup {
        comment: format!("the honest Loop In client in the counterexample to {} (adversary: {})", def.name, first.adversary.name()),
        setup_key: "",
        setup: json!({"machine": "loop_in_client", "params": params}),
        tests: vec![ScriptTest { comment: format!("loop_in_client: {}", def.name), flags: vec![FLAG.into()], steps: steps(&io, in_event_json, in_action_json) }],
    };
    Some(file(def, "Loop In", header(def, m.cfg.settings_line(), &trace), group))
}
