//! A run as `lnrod_script` vectors (vectors/lightningrod/scripts.yaml's format):
//! one group per machine of the run (`A`, `LSP_a`, `B`, all honest in this
//! model), its role and config as the group's `machine`, one test (the model has
//! no crashes), each step an event the machine got with the actions the
//! reference answers. Replayed by `conformance/src/vectors/kinds/lnrod_script.rs`.
//!
//! A mutant (`mutant=`) is a guard removed from around `LSP_a`: the model feeds
//! the reference `LspA` a rewritten event (the attacker's unblock taken as
//! valid) or none (a block it does not see). The `LSP_a` group is then the
//! reference `LSP_a` given the events as they reached it, with the reference's
//! answers expected; the test's comment says where the mutant answered
//! otherwise. So the file passes against the reference and shows, event by
//! event, what the guard the mutant lacks does.

use lightningrod_reference::lsp_a::{LspA, LspAAction, LspAEvent};
use lightningrod_reference::payee::{Payee, PayeeAction, PayeeEvent};
use lightningrod_reference::payer::{Payer, PayerAction, PayerEvent};
use lightningrod_reference::profile::{Misuse, Profile};
use lightningrod_reference::units::{BlockHeight, HtlcId};
use serde_json::{json, Value};
use stateright::Model;

use crate::framework::{PropertyDef, ScriptGroup, ScriptStep, ScriptTest, VectorFile};

use super::model::{a_setup_event, b_setup_event, Fed, LnrodModel, Step, World, START_HEIGHT};
use super::params::Mutant;

/// breez/LightningRod's commit LNROD-01 is written from (spec-mirror/lightningrod/PROVENANCE.md).
const LIGHTNINGROD_COMMIT: &str = "fdfa177a5944f198f62e67eb4b28b76616edf9ea";

fn hex32(b: &[u8; 32]) -> Value {
    json!(hex::encode(b))
}

// ---- events and actions in the kind's forms ----------------------------------------------

fn payer_event(e: &PayerEvent) -> Value {
    match e {
        PayerEvent::LspInit { features } => json!({"type": "lsp_init", "features": hex::encode(features.as_bytes())}),
        PayerEvent::Pay { payment_hash, parts, pid } => {
            let mut v = json!({
                "type": "pay", "payment_hash": hex32(&payment_hash.0),
                "parts": parts.iter().map(|(h, a)| json!({"htlc": h.0, "amount_msat": a.0})).collect::<Vec<_>>(),
            });
            if let Some(pid) = pid {
                v["pid"] = hex32(pid.expose_secret());
            }
            v
        }
        PayerEvent::HtlcCommitted { htlc } => json!({"type": "htlc_committed", "htlc": htlc.0}),
        PayerEvent::ReleasePath { htlc, path } => json!({"type": "release_path", "htlc": htlc.0, "path": path.0}),
        PayerEvent::HtlcFulfilled { htlc, preimage } => {
            json!({"type": "htlc_fulfilled", "htlc": htlc.0, "preimage": hex32(preimage.expose_secret())})
        }
        PayerEvent::HtlcFailed { htlc } => json!({"type": "htlc_failed", "htlc": htlc.0}),
    }
}

pub fn payer_action(a: &PayerAction) -> Value {
    match a {
        PayerAction::SendBlockRequest { pid, hashes } => json!({
            "action": "send_block_request", "pid": hex32(pid.expose_secret()),
            "hashes": hashes.iter().map(|h| hex32(&h.0)).collect::<Vec<_>>(),
        }),
        PayerAction::AddHtlc { htlc, payment_hash, amount, hold_htlc } => json!({
            "action": "add_htlc", "htlc": htlc.0, "payment_hash": hex32(&payment_hash.0), "amount_msat": amount.0, "hold_htlc": hold_htlc,
        }),
        PayerAction::SendPidToB { payment_hash, pid } => {
            json!({"action": "send_pid_to_b", "payment_hash": hex32(&payment_hash.0), "pid": hex32(pid.expose_secret())})
        }
        PayerAction::SendHeldHtlcAvailable { htlc, reply_path } => {
            json!({"action": "send_held_htlc_available", "htlc": htlc.0, "reply_path": reply_path.0})
        }
        PayerAction::ReleasePathIgnored { htlc } => json!({"action": "release_path_ignored", "htlc": htlc.0}),
        PayerAction::MayGoOffline { payment_hash } => json!({"action": "may_go_offline", "payment_hash": hex32(&payment_hash.0)}),
        PayerAction::PaymentRefused { payment_hash, reason } => {
            json!({"action": "payment_refused", "payment_hash": hex32(&payment_hash.0), "reason": reason.name()})
        }
        PayerAction::Paid { payment_hash, preimage } => {
            json!({"action": "paid", "payment_hash": hex32(&payment_hash.0), "preimage": hex32(preimage.expose_secret())})
        }
        PayerAction::PreimageMismatch { htlc } => json!({"action": "preimage_mismatch", "htlc": htlc.0}),
        PayerAction::PaymentFailed { payment_hash } => json!({"action": "payment_failed", "payment_hash": hex32(&payment_hash.0)}),
    }
}

fn lsp_a_event(e: &LspAEvent) -> Value {
    match e {
        LspAEvent::APeer { online } => json!({"type": "a_peer", "online": online}),
        LspAEvent::BlockRequest { pid, hashes, direct_from_a } => json!({
            "type": "block_request", "pid": hex32(pid.expose_secret()),
            "hashes": hashes.iter().map(|h| hex32(&h.0)).collect::<Vec<_>>(), "direct_from_a": direct_from_a,
        }),
        LspAEvent::HtlcAdded { htlc, payment_hash, amount, cltv_expiry, outgoing_cltv, hold_htlc } => json!({
            "type": "htlc_added", "htlc": htlc.0, "payment_hash": hex32(&payment_hash.0), "amount_msat": amount.0,
            "cltv_expiry": cltv_expiry.0, "outgoing_cltv": outgoing_cltv.0, "hold_htlc": hold_htlc,
        }),
        LspAEvent::Unblock { payment_unblock } => json!({"type": "unblock", "payment_unblock": hex32(payment_unblock.expose_secret())}),
        LspAEvent::ReleaseHeldHtlc { context, authenticated } => {
            json!({"type": "release_held_htlc", "context": context.0, "authenticated": authenticated})
        }
        LspAEvent::OnionMessageForA => json!({"type": "onion_message_for_a"}),
        LspAEvent::Block { height } => json!({"type": "block", "height": height.0}),
        LspAEvent::DownstreamFulfilled { htlc, preimage } => {
            json!({"type": "downstream_fulfilled", "htlc": htlc.0, "preimage": hex32(preimage.expose_secret())})
        }
        LspAEvent::DownstreamFailed { htlc } => json!({"type": "downstream_failed", "htlc": htlc.0}),
    }
}

pub fn lsp_a_action(a: &LspAAction) -> Value {
    match a {
        LspAAction::Hold { htlc } => json!({"action": "hold", "htlc": htlc.0}),
        LspAAction::GiveReleasePath { htlc } => json!({"action": "give_release_path", "htlc": htlc.0}),
        LspAAction::Release { htlc } => json!({"action": "release", "htlc": htlc.0}),
        LspAAction::Forward { htlc } => json!({"action": "forward", "htlc": htlc.0}),
        LspAAction::FailBack { htlc, reason } => json!({"action": "fail_back", "htlc": htlc.0, "reason": reason.name()}),
        LspAAction::Fulfil { htlc, preimage } => json!({"action": "fulfil", "htlc": htlc.0, "preimage": hex32(preimage.expose_secret())}),
        LspAAction::NotifyA { reason } => json!({"action": "notify_a", "reason": reason.name()}),
        LspAAction::ForwardOnionMessageToA => json!({"action": "forward_onion_message_to_a"}),
        LspAAction::UnblockIgnored { reason } => json!({"action": "unblock_ignored", "reason": reason.name()}),
        LspAAction::BlockRequestIgnored { reason } => json!({"action": "block_request_ignored", "reason": reason.name()}),
    }
}

fn payee_event(e: &PayeeEvent) -> Value {
    match e {
        PayeeEvent::InvoiceCreated { amount, preimage } => {
            json!({"type": "invoice_created", "amount_msat": amount.0, "preimage": hex32(preimage.expose_secret())})
        }
        PayeeEvent::Online { online } => json!({"type": "online", "online": online}),
        PayeeEvent::PidReceived { payment_hash, pid } => {
            json!({"type": "pid_received", "payment_hash": hex32(&payment_hash.0), "pid": hex32(pid.expose_secret())})
        }
        PayeeEvent::HeldHtlcAvailable { reply_path, authenticated, path_expiry, now } => json!({
            "type": "held_htlc_available", "reply_path": reply_path.0, "authenticated": authenticated,
            "path_expiry": path_expiry.0, "now": now.0,
        }),
        PayeeEvent::HtlcArrived { htlc, payment_hash, amount, at } => json!({
            "type": "htlc_arrived", "htlc": htlc.0, "payment_hash": hex32(&payment_hash.0), "amount_msat": amount.0, "at": at.0,
        }),
        PayeeEvent::Tick { now } => json!({"type": "tick", "now": now.0}),
    }
}

pub fn payee_action(a: &PayeeAction) -> Value {
    let ids = |htlcs: &[HtlcId]| htlcs.iter().map(|h| h.0).collect::<Vec<_>>();
    match a {
        PayeeAction::SendUnblock { pid } => json!({"action": "send_unblock", "pid": hex32(pid.expose_secret())}),
        PayeeAction::SendRelease { reply_path } => json!({"action": "send_release", "reply_path": reply_path.0}),
        PayeeAction::NotUnblocked { reason } => json!({"action": "not_unblocked", "reason": reason.name()}),
        PayeeAction::Fulfil { htlcs, preimage } => {
            json!({"action": "fulfil", "htlcs": ids(htlcs), "preimage": hex32(preimage.expose_secret())})
        }
        PayeeAction::Fail { htlcs, reason } => json!({"action": "fail", "htlcs": ids(htlcs), "reason": reason.name()}),
        PayeeAction::Settled { payment_hash } => json!({"action": "settled", "payment_hash": hex32(&payment_hash.0)}),
    }
}

// ---- one machine's script ----------------------------------------------------------------

/// A machine's answer in the kind's form: its actions, or the name of the misuse it reports.
type Answer = Result<Vec<Value>, &'static str>;

/// What the model's machine was given instead of the event (`None`: the event itself), and answered.
type ModelAnswer = (Option<Value>, Answer);

fn answer<A>(r: &Result<Vec<A>, Misuse>, to_json: fn(&A) -> Value) -> Answer {
    r.as_ref().map(|v| v.iter().map(to_json).collect()).map_err(|m| m.name())
}

fn show(r: &Answer) -> String {
    match r {
        Ok(v) if v.is_empty() => "nothing".into(),
        Ok(v) => v.iter().map(Value::to_string).collect::<Vec<_>>().join(", "),
        Err(m) => format!("the misuse `{m}`"),
    }
}

/// One machine's script, built by replaying a fresh reference machine on the
/// events the run gave it.
#[derive(Default)]
struct Script {
    steps: Vec<ScriptStep>,
    /// Where the model's machine answered otherwise than the reference (a mutant).
    differences: Vec<String>,
    /// Set when the reference reports a misuse: the framework's steps carry actions
    /// only, so the script stops there (and says so).
    stopped: Option<String>,
}

impl Script {
    /// Adds `event` with the reference's answer `reference`; `model` is what the
    /// model's machine was given (`None`: nothing) and answered.
    fn step(&mut self, event: Value, reference: Answer, model: Option<ModelAnswer>) {
        if self.stopped.is_some() {
            return;
        }
        let n = self.steps.len() + 1;
        let kind = event["type"].as_str().unwrap_or("?").to_string();
        match &model {
            None => self.differences.push(format!("step {n} (`{kind}`): the mutant never sees it; the reference answers {}", show(&reference))),
            Some((given, got)) => {
                let rewritten = given.as_ref().filter(|g| **g != event);
                if rewritten.is_some() || *got != reference {
                    let fed = rewritten.map_or(String::new(), |g| format!(" is given {g} instead and"));
                    self.differences.push(format!("step {n} (`{kind}`): the mutant{fed} answers {}; the reference answers {}", show(got), show(&reference)));
                }
            }
        }
        match reference {
            Ok(expect) => self.steps.push(ScriptStep { event, expect }),
            Err(m) => self.stopped = Some(format!("stops before step {n} (`{kind}`), where the reference reports the misuse `{m}`")),
        }
    }
}

fn replay_a(m: &LnrodModel, fed: &[Fed]) -> Script {
    let mut s = Script::default();
    let mut a = Payer::new(m.cfg.profile);
    let setup = a_setup_event();
    let got = answer(&a.handle(setup.clone()), payer_action);
    s.step(payer_event(&setup), got.clone(), Some((None, got)));
    for f in fed {
        if let Fed::A(ev, model) = f {
            s.step(payer_event(ev), answer(&a.handle(ev.clone()), payer_action), Some((None, answer(model, payer_action))));
        }
    }
    s
}

fn replay_b(m: &LnrodModel, fed: &[Fed]) -> Script {
    let mut s = Script::default();
    let mut b = Payee::new(m.payee_config(), false);
    let setup = b_setup_event();
    let got = answer(&b.handle(setup.clone()), payee_action);
    s.step(payee_event(&setup), got.clone(), Some((None, got)));
    for f in fed {
        if let Fed::B(ev, model) = f {
            s.step(payee_event(ev), answer(&b.handle(ev.clone()), payee_action), Some((None, answer(model, payee_action))));
        }
    }
    s
}

fn replay_lsp_a(m: &LnrodModel, fed: &[Fed]) -> Script {
    let mut s = Script::default();
    let mut lsp = LspA::new(m.lsp_a_config(), BlockHeight(START_HEIGHT), true);
    for f in fed {
        if let Fed::LspA { sent, given, answer: model } = f {
            let reference = answer(&lsp.handle(sent.clone()), lsp_a_action);
            let model = match (given, model) {
                (Some(g), Some(r)) => Some((Some(lsp_a_event(g)), answer(r, lsp_a_action))),
                _ => None,
            };
            s.step(lsp_a_event(sent), reference, model);
        }
    }
    s
}

// ---- the file ----------------------------------------------------------------------------

fn profile_flag(p: Profile) -> &'static str {
    match p {
        Profile::LightningRod => "Lightningrod",
        Profile::Ldk => "Ldk",
    }
}

/// Every parameter of the run, as `model check --set` takes them.
pub fn settings_line(m: &LnrodModel) -> String {
    let c = &m.cfg;
    format!(
        "profile={} fail_back_reference={} fail_back_margin={} cltv_delta={} expiry_blocks={} max_held={} parts={} forgeries={} mutant={}",
        c.profile.name(),
        c.fail_back.reference().name(),
        c.fail_back.margin().0,
        c.cltv_delta,
        c.expiry_blocks,
        c.max_held,
        c.parts,
        c.forgeries,
        c.mutant.name()
    )
}

/// The run `path` as an `lnrod_script` vector file: one group per machine.
pub fn export(m: &LnrodModel, def: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
    let recording = m.recording();
    let mut fed = Vec::new();
    for (w, step) in path {
        let Some(step) = step else { continue };
        fed.extend(recording.next_state(w, step.clone())?.log.1);
    }
    let profile = m.cfg.profile.name();
    let mutant = m.cfg.mutant;
    let lsp_config = m.lsp_a_config();
    let machines = [
        (
            "a",
            "A, the payer (`Payer`)",
            json!({"profile": profile}),
            replay_a(m, &fed),
        ),
        (
            "lsp_a",
            "LSP_a, A's LSP holding its HTLCs (`LspA`)",
            json!({
                "profile": profile, "fail_back_reference": lsp_config.fail_back.reference().name(),
                "fail_back_margin": lsp_config.fail_back.margin().0, "max_held": lsp_config.max_held,
                "advertises_hold": lsp_config.advertises_hold, "height": START_HEIGHT, "a_online": true,
            }),
            replay_lsp_a(m, &fed),
        ),
        (
            "b",
            "B, the payee (`Payee`)",
            json!({"profile": profile, "mpp_timeout": m.payee_config().mpp_timeout.0, "online": false}),
            replay_b(m, &fed),
        ),
    ];
    let mut groups = Vec::new();
    for (role, who, config, script) in machines {
        if script.steps.is_empty() {
            continue;
        }
        let mut flags = vec!["ModelCounterexample".to_string(), profile_flag(m.cfg.profile).to_string()];
        let mut comment = format!("{who}: the run of the counterexample to {} ({profile} profile)", def.name);
        if role == "lsp_a" && mutant != Mutant::None {
            flags.push("MutantLspA".into());
            comment.push_str(&format!(
                "; the model's LSP_a was the mutant `{}`, these are the reference's answers to the same events",
                mutant.name()
            ));
            if script.differences.is_empty() {
                comment.push_str(" (it answered alike)");
            } else {
                comment.push_str(&format!(": {}", script.differences.join("; ")));
            }
        } else if !script.differences.is_empty() {
            // An honest machine the export replays differently than the model ran it: a bug.
            comment.push_str(&format!("; NOTE the model's machine answered otherwise: {}", script.differences.join("; ")));
        }
        if let Some(stop) = &script.stopped {
            comment.push_str(&format!("; the script {stop}"));
        }
        groups.push(ScriptGroup {
            comment: format!("{who} in the counterexample to {}", def.name),
            setup_key: "machine",
            setup: json!({"role": role, "config": config}),
            tests: vec![ScriptTest { comment, flags, steps: script.steps }],
        });
    }
    let trace = super::trace(m, def, path);
    let mut header = vec![
        format!("A counterexample to `{}` found by `sidepool-conformance model check --system lightningrod` (tools/model):", def.name),
        def.words.to_string(),
        format!("Settings: {}", settings_line(m)),
    ];
    header.extend(trace.render().lines().map(|l| l.trim_end().to_string()));
    header.push(String::new());
    header.push("Each group is one machine of that run (its role and config in `machine`), with one test: every event".into());
    header.push("the machine got, in order, and the actions the reference answers. Replaying them is the scenario.".into());
    if mutant != Mutant::None {
        header.push(format!(
            "The model's LSP_a was the mutant `{}` (a guard removed around the reference LspA). The LSP_a group",
            mutant.name()
        ));
        header.push("is the reference LSP_a given the events as they reached LSP_a: its expected actions are the".into());
        header.push("reference's, and the test's comment says where the mutant answered otherwise.".into());
    }
    let notes = vec![
        (
            "ModelCounterexample".to_string(),
            "A run the model checker (tools/model) found violating a property: every event a machine got, with the actions the reference machine answers (readings included, as in scripts.yaml).".to_string(),
        ),
        (profile_flag(m.cfg.profile).to_string(), match m.cfg.profile {
            Profile::LightningRod => "The `lightningrod` profile (breez's README: block request, pid, payment_unblock).".to_string(),
            Profile::Ldk => "The `ldk` profile (LDK 0.2: hold_htlc, release paths, release_held_htlc).".to_string(),
        }),
    ]
    .into_iter()
    .chain((mutant != Mutant::None).then(|| {
        (
            "MutantLspA".to_string(),
            "The model ran LSP_a with a guard removed (`mutant=`); this test gives the reference LSP_a the same events and expects its answers; the comment names each step where the mutant answered otherwise.".to_string(),
        )
    }))
    .collect();
    Some(VectorFile {
        kind: "lnrod_script",
        title: format!("Model-checker counterexample: {} ({profile} profile, mutant={})", def.name, mutant.name()),
        spec: json!({"document": "LNROD-01", "section": "Requirements", "commit": LIGHTNINGROD_COMMIT}),
        extra: Vec::new(),
        header,
        notes,
        groups,
    })
}
