//! LNROD-01 LightningRod async payments: `A` pays `B` through `LSP_a`, which
//! holds `A`'s HTLCs until `B`, online, unblocks them. `A`, `LSP_a` and `B` run
//! `lightningrod_reference`'s own machines (`Payer`, `LspA`, `Payee`); the chain,
//! the connections, `LSP_b`'s mailbox, `A` and `B` going on/offline and an
//! attacker injecting unblocks are the environment. Both profiles.

pub mod export;
pub mod liveness;
pub mod model;
pub mod params;
pub mod properties;

use crate::framework::{self, Bounds, CheckReport, CheckableModel, ParamDef, PropertyDef, Settings, System, Trace, TraceStep, Verdict, VectorFile};

pub use model::{LnrodModel, Step, World};
pub use params::Config;

impl CheckableModel for LnrodModel {
    fn property_defs(&self) -> Vec<PropertyDef> {
        properties::defs()
    }
    fn trace(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
        trace(self, property, path)
    }
    fn export(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
        export::export(self, property, path)
    }
}

fn actor(step: &Step) -> &'static str {
    match step {
        Step::APays | Step::AOnline(_) => "A",
        Step::DeliverToLspA | Step::DeliverUnblock(_) | Step::DeliverDownstream | Step::DownstreamExpires => "LSP_a",
        Step::DeliverToA => "A",
        Step::DeliverToB | Step::DeliverHtlcToB | Step::BComesOnline | Step::BTick => "B",
        Step::Block(_) => "chain",
        Step::Forge(_) => "attacker",
    }
}

fn what(step: &Step) -> String {
    match step {
        Step::APays => "A pays B".into(),
        Step::DeliverToLspA => "a message from A reaches LSP_a".into(),
        Step::DeliverToA => "a message from LSP_a reaches A".into(),
        Step::DeliverToB => "an onion message leaves LSP_b's mailbox for B".into(),
        Step::DeliverUnblock(i) => format!("B's unblock #{i} reaches LSP_a"),
        Step::DeliverHtlcToB => "a released HTLC reaches B".into(),
        Step::DeliverDownstream => "B's answer for an HTLC reaches LSP_a".into(),
        Step::DownstreamExpires => "the downstream HTLC times out unclaimed".into(),
        Step::AOnline(true) => "A comes back online".into(),
        Step::AOnline(false) => "A goes offline".into(),
        Step::BComesOnline => "B comes online".into(),
        Step::BTick => "B's clock passes mpp_timeout".into(),
        Step::Block(h) => format!("the chain reaches height {h}"),
        Step::Forge(_) => "the attacker injects an unblock".into(),
    }
}

/// A counterexample (or example) as text: one line per step, the machines'
/// answers as notes.
pub fn trace(m: &LnrodModel, def: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
    let mut t = Trace::default();
    let fb = m.fail_back_height().map_or("none".to_string(), |h| h.to_string());
    t.setup = vec![
        format!(
            "profile {}; A's payment: {} part(s), cltv_expiry {}, outgoing_cltv {}; fail-back height {fb} ({} - {}); max_held {}",
            m.cfg.profile.name(),
            m.cfg.parts,
            m.cltv_expiry().0,
            m.outgoing_cltv().0,
            m.cfg.fail_back.reference().name(),
            m.cfg.fail_back.margin().0,
            m.cfg.max_held
        ),
        format!("start height {}; attacker forgeries {}; mutant {}", model::START_HEIGHT, m.cfg.forgeries, m.cfg.mutant.name()),
    ];
    for (w, step) in path {
        let Some(step) = step else { continue };
        let mut after = w.clone();
        let notes = match stateright::Model::next_state(m, w, step.clone()) {
            Some(n) => {
                after = n;
                after.log.0.clone()
            }
            None => Vec::new(),
        };
        t.steps.push(TraceStep { at: format!("h={}", after.height), actor: actor(step).into(), what: what(step), notes });
    }
    if let Some((last, _)) = path.last() {
        t.outcome = outcome(m, def, last);
    }
    t
}

fn outcome(m: &LnrodModel, def: &PropertyDef, w: &World) -> Vec<String> {
    let mut out = Vec::new();
    match def.name {
        properties::RELEASE_ONLY_ON_VALID_UNBLOCK => {
            if let Some(h) = w.released_without_valid_unblock {
                out.push(format!("LSP_a released HTLC {} without a valid unblock for it", h.0));
            }
        }
        properties::NO_HELD_HTLC_AT_EXPIRY => out.extend(properties::held_past_expiry(w)),
        properties::A_PAYS_ONLY_IF_B_SETTLED => out.push("A counts the payment paid, B has not settled it".into()),
        properties::PREIMAGE_REACHES_A => out.push("B settled, nothing is in flight, A is not paid".into()),
        properties::B_PAID_WHEN_ONLINE => out.push(format!(
            "B came online at height {} (fail-back height {}) and is not paid",
            w.b_online_at.map_or("-".into(), |h| h.to_string()),
            m.fail_back_height().map_or("-".into(), |h| h.to_string())
        )),
        properties::RELEASE_REACHED => out.push("LSP_a released a held HTLC".into()),
        properties::FAIL_BACK_REACHED => out.push("LSP_a failed a held HTLC back at its fail-back height".into()),
        properties::A_PAID_REACHED => out.push("A is paid".into()),
        _ => {}
    }
    out
}

/// The LNROD-01 system for the command line.
pub struct Lightningrod;

/// What the state space is bounded by, and what the bounds leave out.
pub const BOUNDS: &[&str] = &[
    "One payer A, one payee B, one payment of 1 or 2 HTLCs (`parts`) for one payment hash; one LSP_a. Several payments, payers or payment hashes sharing LSP_a (and the hold limit across them) are not modelled beyond `max_held`.",
    "LSP_b is a reliable mailbox (its `LspB` machine and `mailbox_limit` are not driven): onion messages for B wait until B is online and then arrive in order. The HTLC hop from LSP_a to B is direct; a released HTLC B never takes fails back at `outgoing_cltv_value`.",
    "Heights are abstract: the chain jumps to the next height at which something can change (the fail-back height, `outgoing_cltv_value`, `cltv_expiry`, and the block before each), up to `cltv_expiry`. Honest neighbours settle messages and commitments within a block: no block while A's messages to LSP_a are in flight. Time (for `mpp_timeout`) is one tick past it.",
    "A goes offline at most once, after it may, and comes back when it likes; B comes online at most once and stays. No crashes.",
    "One attacker, outside the parties, with `forgeries` messages: an unblock with a wrong `pid` (`lightningrod`), an unauthenticated `release_held_htlc` naming a held HTLC (`ldk`), or a replay of an unblock B sent. It cannot forge an authenticated context or learn `pid` (the onion layer's and A's secrecy, tested by the codec vectors and the reference's own tests, are assumed). Release paths do not expire.",
    "A, LSP_a and B are honest; an adversarial A, B or LSP_a is not modelled (their own money is theirs to lose: LSP_a's safety against a dishonest A or B is BOLT 2's, not LNROD-01's).",
];

impl System for Lightningrod {
    fn name(&self) -> &'static str {
        "lightningrod"
    }
    fn title(&self) -> &'static str {
        "LNROD-01 LightningRod async payments: A, LSP_a holding A's HTLCs, B unblocking them, the chain and an attacker"
    }
    fn parameters(&self) -> &'static [ParamDef] {
        params::PARAMS
    }
    fn properties(&self) -> Vec<PropertyDef> {
        properties::defs()
    }
    fn bounds(&self) -> &'static [&'static str] {
        BOUNDS
    }
    fn revisions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("seed", &[])]
    }
    fn check(&self, settings: &Settings, bounds: &Bounds) -> Result<CheckReport, String> {
        let cfg = Config::from_settings(settings)?;
        let shown = settings.shown();
        let model = LnrodModel::new(cfg);
        let mut report = framework::check(model.clone(), self.name(), shown, bounds)?;
        second_look_at_liveness(&model, &mut report, bounds);
        Ok(report)
    }
}

/// When stateright reports `b_paid_when_online` as holding after a complete search, a
/// plain search of the terminal states judges it again ([`liveness`]): a run it finds
/// turns the verdict into a violation with that run as its trace, and a note says why.
fn second_look_at_liveness(model: &LnrodModel, report: &mut CheckReport, bounds: &Bounds) {
    let name = properties::B_PAID_WHEN_ONLINE;
    let holds = report.result(name).is_some_and(|p| p.verdict == Verdict::Holds);
    if report.cut.is_some() || !holds {
        return;
    }
    let Some(found) = liveness::terminal_states(model, bounds.max_states) else {
        report.notes.push(format!(
            "{name}: stateright's `eventually` check reports it as holding, but that check can miss runs (states are deduplicated); the plain search of the terminal states that would confirm it stopped at the state bound: not established"
        ));
        return;
    };
    let figures = format!("{} states, {} terminal, {:.2} s", found.states, found.terminal, found.elapsed.as_secs_f64());
    let said = format!("{name}: stateright's `eventually` check reports it as holding, but that check judges runs only where they end and loses runs when states are deduplicated;");
    match (found.terminal, found.unpaid, found.shortest) {
        (0, _, _) => {
            // No run ends (a step stays enabled forever, e.g. B's clock): nothing was judged.
            if let Some(p) = report.properties.iter_mut().find(|p| p.def.name == name) {
                p.verdict = Verdict::NotEstablished;
            }
            report.notes.push(format!("{said} a plain search ({figures}) finds no run that ends (a step stays enabled forever, e.g. B's clock), so nothing was judged: not established"));
        }
        (_, 0, _) | (_, _, None) => {
            report.notes.push(format!("{said} a plain search of the terminal states confirms it where runs end ({figures})"))
        }
        (_, unpaid, Some(path)) => {
            if let Some(p) = report.properties.iter_mut().find(|p| p.def.name == name) {
                p.verdict = Verdict::Violated;
                p.trace = Some(trace(model, &p.def, &path));
            }
            report.notes.push(format!(
                "{said} a plain search of the terminal states ({figures}) finds {unpaid} in which B came online before the fail-back height and is not paid, the trace above one of the shortest (advisory: the model lets blocks pass while B's unblock is on its way to LSP_a)"
            ));
        }
    }
}
