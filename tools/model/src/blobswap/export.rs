//! A Blobswap run as `blobswap_machine` vectors (vectors/blobswap/user_scripts.yaml's format, with
//! one compatible addition: the group setup's optional `remove`, the safeguard both machines
//! drop, and its optional `role`, the machine the group's tests run when a test names none): one
//! group per honest party, one test (no party restarts), each step an event its
//! reference machine got with the actions it answered. Replayed by
//! `conformance/src/vectors/kinds/blobswap_machine.rs`.

use bitcoin::{OutPoint, Transaction};
use serde_json::{json, Value};

use blobswap_reference::checks::{SspReason, UserReason};
use blobswap_reference::messages::Invoice;
use blobswap_reference::output::Spend;
use blobswap_reference::ssp::{SspAction, SspEvent};
use blobswap_reference::user::{UserAction, UserEvent};

use crate::framework::{PropertyDef, ScriptGroup, ScriptStep, ScriptTest, VectorFile};

use super::model::{Adv, BlobswapModel, Rec, Step, World, PREIMAGE, SSP_KEY, START, USER_KEY};

/// The BLOBSWAP-01 revision the hand-written Blobswap vectors name (vectors/blobswap/generate.py).
const SPEC_COMMIT: &str = "9d25c88afa430f9688265db154a72bfb33f9b9d5";

fn hx(b: &[u8]) -> Value {
    json!(hex::encode(b))
}

fn setup(m: &BlobswapModel) -> Value {
    let (u, s, p) = (m.user_terms(), m.ssp_terms(), m.params);
    let mut v = json!({
        "params": {
            "session_period": p.session_period.0, "confirmation_period": p.confirmation_period.0,
            "reveal_window": p.reveal_window.0, "chain_delay": p.chain_delay.0, "settle_margin": p.settle_margin.0,
        },
        "start_tip": START,
        "user": {
            "secret_key": hx(&[USER_KEY; 32]), "aux": hx(&[0; 32]), "preimage": hx(&PREIMAGE),
            "value_sat": u.value.to_sat(), "max_invoice_msat": u.max_invoice.0, "max_payout_fee_sat": u.max_payout_fee.to_sat(),
            "claim_fee_sat": u.claim_fee.to_sat(), "payout_script": hx(u.payout_script.as_bytes()),
        },
        "ssp": {
            "secret_key": hx(&[SSP_KEY; 32]), "aux": hx(&[0; 32]), "min_value_sat": s.min_value.to_sat(),
            "max_value_sat": s.max_value.to_sat(), "swap_fee_msat": s.swap_fee.0, "invoice_delta": s.invoice_delta.0,
            "payout_fee_sat": s.payout_fee.to_sat(), "refund_fee_sat": s.refund_fee.to_sat(), "refund_script": hx(s.refund_script.as_bytes()),
        },
    });
    if let Some(r) = m.removed {
        v["remove"] = json!(r);
    }
    v
}

fn invoice(kind: &str, key: &str, i: &Invoice) -> Value {
    json!({
        key: kind,
        "payment_hash": hx(&i.payment_hash.0),
        "amount_msat": i.amount.0,
        "min_final_cltv_expiry_delta": i.min_final_cltv_expiry_delta.0,
    })
}

fn spend(kind: &str, s: &Spend, at: u32) -> Value {
    let mut v = json!({"type": kind, "confirmed_at": at});
    match s {
        Spend::Payout => v["spend"] = json!("payout"),
        Spend::Refund => v["spend"] = json!("refund"),
        Spend::Claim(p) => {
            v["spend"] = json!("claim");
            v["preimage"] = hx(p.as_bytes());
        }
    }
    v
}

fn user_event(e: &UserEvent) -> Value {
    match e {
        UserEvent::Start => json!({"type": "start"}),
        UserEvent::Tick { tip } => json!({"type": "tick", "tip": tip.0}),
        UserEvent::Invoice(i) => invoice("invoice", "type", i),
        UserEvent::AskPresign(a) => json!({
            "type": "ask_presign", "funding_txid": a.funding.txid.to_string(), "funding_vout": a.funding.vout,
            "value_sat": a.value.to_sat(), "ssp_key": a.ssp_key.to_string(), "refund_height": a.refund_height.0,
            "payout_fee_sat": a.payout_fee.to_sat(),
        }),
        UserEvent::FundingSeen { script_pubkey, value, confirmed_at } => json!({
            "type": "funding_seen", "script_pubkey": hx(script_pubkey.as_bytes()), "value_sat": value.to_sat(),
            "confirmed_at": confirmed_at.map(|h| h.0),
        }),
        UserEvent::BlobPublished => json!({"type": "blob_published"}),
        UserEvent::SharedSpent { spend: s, confirmed_at } => spend("shared_spent", s, confirmed_at.0),
        UserEvent::PaymentFailed => json!({"type": "payment_failed"}),
        UserEvent::PaymentSettled => json!({"type": "payment_settled"}),
    }
}

fn ssp_event(e: &SspEvent) -> Value {
    match e {
        SspEvent::Tick { tip } => json!({"type": "tick", "tip": tip.0}),
        SspEvent::Request { request: r, hash_seen } => json!({
            "type": "request", "payment_hash": hx(&r.payment_hash.0), "value_sat": r.value.to_sat(),
            "user_key": r.user_key.to_string(), "payout_script": hx(r.payout_script.as_bytes()), "hash_seen": hash_seen,
        }),
        SspEvent::InvoiceCreated(i) => invoice("invoice_created", "type", i),
        SspEvent::InvoiceAccepted { held, expiry } => json!({"type": "invoice_accepted", "held_msat": held.0, "expiry": expiry.0}),
        SspEvent::FundingBuilt { funding } => json!({"type": "funding_built", "funding_txid": funding.txid.to_string(), "funding_vout": funding.vout}),
        SspEvent::RetPresign(r) => json!({"type": "ret_presign", "signature": hx(r.signature.as_ref())}),
        SspEvent::FundingBroadcast => json!({"type": "funding_broadcast"}),
        SspEvent::FundingConfirmed { at } => json!({"type": "funding_confirmed", "at": at.0}),
        SspEvent::BlobFound { blob } => json!({"type": "blob_found", "blob": hx(blob)}),
        SspEvent::PayoutBroadcast => json!({"type": "payout_broadcast"}),
        SspEvent::SharedSpent { spend: s, confirmed_at } => spend("shared_spent", s, confirmed_at.0),
        SspEvent::InvoiceSettled => json!({"type": "invoice_settled"}),
    }
}

fn outpoint(action: &str, o: &OutPoint) -> Value {
    json!({"action": action, "funding_txid": o.txid.to_string(), "funding_vout": o.vout})
}

fn tx(action: &str, tx: &Transaction) -> Value {
    let witness: Vec<String> = tx.input.first().map(|i| i.witness.iter().map(hex::encode).collect()).unwrap_or_default();
    json!({"action": action, "txid": tx.compute_txid().to_string(), "witness": witness})
}

/// The actions as the evaluator shows them (the fields it compares).
pub fn user_action(a: &UserAction) -> Value {
    match a {
        UserAction::SendRequest(r) => json!({
            "action": "send_request", "payment_hash": hx(&r.payment_hash.0), "value_sat": r.value.to_sat(),
            "user_key": r.user_key.to_string(), "payout_script": hx(r.payout_script.as_bytes()),
        }),
        UserAction::PayInvoice(i) => json!({"action": "pay_invoice", "payment_hash": hx(&i.payment_hash.0), "amount_msat": i.amount.0}),
        UserAction::SendRetPresign(r) => json!({"action": "send_ret_presign", "signature": hx(r.signature.as_ref())}),
        UserAction::LookupShared { funding } => outpoint("lookup_shared", funding),
        UserAction::PublishBlob { blob } => json!({"action": "publish_blob", "blob": hx(blob)}),
        UserAction::LookupRedeem { funding } => outpoint("lookup_redeem", funding),
        UserAction::BroadcastClaim { tx: t } => tx("broadcast_claim", t),
        UserAction::GiveUp { reason } => json!({"action": "give_up", "reason": UserReason::name(reason)}),
    }
}

pub fn ssp_action(a: &SspAction) -> Value {
    match a {
        SspAction::Refuse { reason } => json!({"action": "refuse", "reason": SspReason::name(reason)}),
        SspAction::CreateInvoice { payment_hash, amount, min_final_cltv_expiry_delta } => invoice(
            "create_invoice",
            "action",
            &Invoice { payment_hash: *payment_hash, amount: *amount, min_final_cltv_expiry_delta: *min_final_cltv_expiry_delta },
        ),
        SspAction::SendInvoice(i) => invoice("send_invoice", "action", i),
        SspAction::BuildFunding { script_pubkey, value } => {
            json!({"action": "build_funding", "script_pubkey": hx(script_pubkey.as_bytes()), "value_sat": value.to_sat()})
        }
        SspAction::SendAskPresign(a) => json!({
            "action": "send_ask_presign", "funding_txid": a.funding.txid.to_string(), "funding_vout": a.funding.vout,
            "value_sat": a.value.to_sat(), "ssp_key": a.ssp_key.to_string(), "refund_height": a.refund_height.0,
            "payout_fee_sat": a.payout_fee.to_sat(),
        }),
        SspAction::BroadcastFunding => json!({"action": "broadcast_funding"}),
        SspAction::LookupBlob { payment_hash } => json!({"action": "lookup_blob", "payment_hash": hx(&payment_hash.0)}),
        SspAction::BroadcastPayout { tx: t } => tx("broadcast_payout", t),
        SspAction::SettleInvoice { preimage } => json!({"action": "settle_invoice", "preimage": hx(preimage.as_bytes())}),
        SspAction::BroadcastRefund { tx: t } => tx("broadcast_refund", t),
        SspAction::CancelInvoice { reason } => json!({"action": "cancel_invoice", "reason": SspReason::name(reason)}),
    }
}

/// The requirements a counterexample of these settings bears on.
fn covers(m: &BlobswapModel) -> Vec<&'static str> {
    let mut c: Vec<&'static str> = match m.removed {
        Some("refund_margin") => vec!["blob.timing.3"],
        Some("reveal_deadline") => vec!["blob.timing.5", "blob.timing.6"],
        Some("cancel_after_refund") => vec!["blob.settle.4"],
        Some("payout_margin") => vec!["blob.timing.7"],
        Some("funding_deadline") => vec!["blob.timing.4", "blob.presign.9", "blob.fund.1"],
        _ => vec![],
    };
    if m.params.confirmation_period.0 <= m.reorg_depth {
        c.extend(["blob.conv.3", "blob.reveal.1"]);
    }
    c
}

/// The run `path` (each state with the step taken from it) replayed with every machine's answers
/// recorded; `None` if it cannot be replayed.
pub fn export(m: &BlobswapModel, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
    let (w0, _) = path.first()?;
    let mut log = Vec::new();
    let mut w = m.world(w0.adv, Some(&mut log));
    for (_, step) in path {
        if let Some(step) = step {
            w = m.step(&w, step, Some(&mut log))?;
        }
    }
    let (mut user, mut ssp) = (Vec::new(), Vec::new());
    for r in &log {
        match r {
            Rec::User(e, a) => user.push(ScriptStep { event: user_event(e), expect: a.iter().map(user_action).collect() }),
            Rec::Ssp(e, a) => ssp.push(ScriptStep { event: ssp_event(e), expect: a.iter().map(ssp_action).collect() }),
        }
    }
    let mut flags = vec!["ModelCounterexample".to_string()];
    let mut notes = vec![(
        "ModelCounterexample".to_string(),
        "A run the model checker (tools/model) found violating a property: every event an honest party's machine got, with the actions the reference machine answered.".to_string(),
    )];
    if m.removed.is_some() {
        flags.push("SafeguardRemoved".into());
        notes.push(("SafeguardRemoved".into(), "Both machines run with the setup's `remove` safeguard off (blobswap_reference::Safeguards): not a BLOBSWAP-01 swap, the counterexample that shows the safeguard is needed.".into()));
    }
    if m.params.confirmation_period.0 <= m.reorg_depth {
        flags.push("ConfirmationPeriodTooShort".into());
        notes.push(("ConfirmationPeriodTooShort".into(), "CONFIRMATION_PERIOD is not greater than the reorganisation depth the run allows (blob.conv.3): the SSP undoes its funding after the reveal.".into()));
    }
    let setup = setup(m);
    let mut groups = Vec::new();
    for (who, adv, steps) in [("user", Adv::User, user), ("ssp", Adv::Ssp, ssp)] {
        if w0.adv == adv || steps.is_empty() {
            continue;
        }
        // The machine the group's tests run: the setup's `role` (the framework's tests carry no role).
        let mut s = setup.clone();
        s["role"] = json!(who);
        groups.push(ScriptGroup {
            comment: format!("the honest {}", if who == "user" { "user" } else { "SSP" }),
            setup_key: "setup",
            setup: s,
            tests: vec![ScriptTest { comment: "the run of the counterexample, from the start to its end".into(), flags: flags.clone(), steps }],
        });
    }
    let trace = super::render::trace(m, property, path);
    let mut header = vec![format!("A counterexample to `{}` found by `sidepool-conformance model check --system blobswap` (tools/model):", property.name), property.words.to_string()];
    header.extend(trace.render().lines().map(|l| format!("    {l}")));
    header.push(String::new());
    header.push("Each group is the honest party of that run; its test, every event its reference machine got and the".into());
    header.push("actions it answered (a block's tick comes before what confirms in it here).".into());
    Some(VectorFile {
        kind: "blobswap_machine",
        title: format!("BLOBSWAP-01 model counterexample: {}", property.name),
        spec: json!({"document": "BLOBSWAP-01", "section": "Safety", "commit": SPEC_COMMIT}),
        extra: vec![("covers".into(), json!(covers(m)))],
        header,
        notes,
        groups,
    })
}
