//! The world and its steps: `A`, `LSP_a` and `B` are the reference crate's own
//! machines (`Payer`, `LspA`, `Payee`), wired as the crate's README says; the
//! chain, the connections, `LSP_b`'s mailbox, `A` and `B` going on/offline and
//! an attacker injecting unblocks are the environment.

use lightningrod_reference::constants::{HTLC_HOLD_OPTIONAL, MPP_TIMEOUT};
use lightningrod_reference::lsp_a::{FailReason, LspA, LspAAction, LspAConfig, LspAEvent};
use lightningrod_reference::payee::{Payee, PayeeAction, PayeeConfig, PayeeEvent};
use lightningrod_reference::payer::{Payer, PayerAction, PayerEvent};
use lightningrod_reference::profile::{Misuse, Profile};
use lightningrod_reference::units::{BlockHeight, HtlcId, Msat, PathRef, PaymentHash, Pid, Preimage, Seconds};
use lightningrod_reference::wire::features::Features;
use stateright::{Model, Property};

use super::params::{Config, Mutant};
use super::properties;

/// The chain height the world starts at.
pub const START_HEIGHT: u32 = 1_000;
/// What B is paid, in total.
pub const AMOUNT: Msat = Msat(10_000);

pub fn preimage() -> Preimage {
    Preimage::from_bytes([7; 32])
}
pub fn payment_hash() -> PaymentHash {
    preimage().payment_hash()
}
pub fn pid() -> Pid {
    Pid::from_bytes([5; 32])
}
/// The attacker's guess at the `pid`.
pub fn forged_pid() -> Pid {
    Pid::from_bytes([9; 32])
}

/// One step of the world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `A` starts its payment (`Pay`).
    APays,
    /// The next message from `A` reaches `LSP_a` (ordered channel).
    DeliverToLspA,
    /// The next message from `LSP_a` reaches `A` (ordered; `A` online).
    DeliverToA,
    /// The next onion message for `B` leaves `LSP_b`'s mailbox (`B` online).
    DeliverToB,
    /// `B`'s unblock number `i` reaches `LSP_a`.
    DeliverUnblock(usize),
    /// A released HTLC reaches `B` (`B` online).
    DeliverHtlcToB,
    /// `B`'s answer for an HTLC reaches `LSP_a`.
    DeliverDownstream,
    /// The downstream HTLC `B` never took times out: `LSP_b` fails it.
    DownstreamExpires,
    /// `A` goes offline / comes back.
    AOnline(bool),
    /// `B` comes online (once; it stays).
    BComesOnline,
    /// `B`'s clock passes `mpp_timeout`.
    BTick,
    /// The chain moves to the next height at which something can change.
    Block(u32),
    /// The attacker injects an unblock.
    Forge(Forgery),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Forgery {
    /// `lightningrod`: an unblock with a wrong `pid`; `ldk`: an unauthenticated
    /// `release_held_htlc` naming this part.
    Invalid(u8),
    /// A replay of an unblock `B` sent before.
    Replay(usize),
}

/// The state of the world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    pub a: Payer,
    pub lsp_a: LspA,
    pub b: Payee,
    pub height: u32,
    pub a_online: bool,
    pub a_paying: bool,
    pub a_offline_once: bool,
    pub b_online: bool,
    pub b_online_at: Option<u32>,
    pub to_lsp_a: Vec<LspAEvent>,
    pub to_a: Vec<PayerEvent>,
    pub to_b: Vec<PayeeEvent>,
    /// Unblocks `B` sent, on their way (`false`) or delivered (`true`, kept for replays).
    pub unblocks: Vec<(LspAEvent, bool)>,
    /// Released HTLCs on their way to `B`.
    pub downstream: Vec<HtlcId>,
    /// `B`'s answers on their way to `LSP_a`.
    pub upstream: Vec<LspAEvent>,
    pub forgeries_left: u8,
    /// Ghosts for the properties.
    pub released_without_valid_unblock: Option<HtlcId>,
    pub released_any: bool,
    pub failed_back_expired: bool,
    /// What happened in the last step, for the trace (not part of the state).
    pub log: Log,
}

/// The last step's lines for the trace, and (when the model records, for the
/// export) every event a machine got in it with its answer: ignored by `Hash`
/// and `Eq`, so two states that differ only in how they were reached are one state.
#[derive(Clone, Debug, Default)]
pub struct Log(pub Vec<String>, pub Vec<Fed>);

/// One event a machine got in a step, with what it answered (recorded only by
/// a model made with [`LnrodModel::recording`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Fed {
    A(PayerEvent, Result<Vec<PayerAction>, Misuse>),
    B(PayeeEvent, Result<Vec<PayeeAction>, Misuse>),
    /// `sent` is the event as it reached `LSP_a`; `given` what the model's
    /// `LSP_a` was fed (a mutant's rewrite; `None`: a mutant that never sees
    /// it), `answer` what it answered to that.
    LspA { sent: LspAEvent, given: Option<LspAEvent>, answer: Option<Result<Vec<LspAAction>, Misuse>> },
}

impl Log {
    fn push(&mut self, line: String) {
        self.0.push(line);
    }
    fn clear(&mut self) {
        self.0.clear();
        self.1.clear();
    }
}

impl PartialEq for Log {
    fn eq(&self, _: &Log) -> bool {
        true
    }
}
impl Eq for Log {}
impl std::hash::Hash for Log {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl World {
    /// Whether nothing is on its way between the parties.
    pub fn quiet(&self) -> bool {
        self.to_lsp_a.is_empty()
            && self.to_a.is_empty()
            && self.to_b.is_empty()
            && self.unblocks.iter().all(|(_, d)| *d)
            && self.downstream.is_empty()
            && self.upstream.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct LnrodModel {
    pub cfg: Config,
    /// Whether each step records what the machines got ([`Fed`]), for the export.
    record: bool,
}

/// What `A` gets from its LSP before the run: `LSP_a`'s `init` features (`htlc_hold`).
pub fn a_setup_event() -> PayerEvent {
    PayerEvent::LspInit { features: Features::from_bits([HTLC_HOLD_OPTIONAL.0]) }
}

/// What `B` does before the run: creates the invoice it is paid on.
pub fn b_setup_event() -> PayeeEvent {
    PayeeEvent::InvoiceCreated { amount: AMOUNT, preimage: preimage() }
}

impl LnrodModel {
    pub fn new(cfg: Config) -> LnrodModel {
        LnrodModel { cfg, record: false }
    }

    /// The same model, recording what each machine gets in a step (for the export).
    pub fn recording(&self) -> LnrodModel {
        LnrodModel { cfg: self.cfg, record: true }
    }

    pub fn lsp_a_config(&self) -> LspAConfig {
        LspAConfig { profile: self.cfg.profile, fail_back: self.cfg.fail_back, max_held: self.cfg.max_held, advertises_hold: true }
    }

    pub fn payee_config(&self) -> PayeeConfig {
        PayeeConfig { profile: self.cfg.profile, mpp_timeout: MPP_TIMEOUT }
    }

    pub fn cltv_expiry(&self) -> BlockHeight {
        BlockHeight(START_HEIGHT + self.cfg.expiry_blocks)
    }
    pub fn outgoing_cltv(&self) -> BlockHeight {
        BlockHeight((START_HEIGHT + self.cfg.expiry_blocks).saturating_sub(self.cfg.cltv_delta))
    }
    /// The fail-back height `LSP_a` gives A's HTLCs (`None`: it cannot hold them).
    pub fn fail_back_height(&self) -> Option<u32> {
        self.cfg.fail_back.height(self.cltv_expiry(), self.outgoing_cltv()).map(|h| h.0)
    }
    fn part_ids(&self) -> Vec<HtlcId> {
        (0..self.cfg.parts).map(|i| HtlcId(u64::from(i) + 1)).collect()
    }

    /// Heights at which something can change, after `h`.
    fn next_height(&self, h: u32) -> Option<u32> {
        let expiry = self.cltv_expiry().0;
        let out = self.outgoing_cltv().0;
        let mut marks = vec![expiry.saturating_sub(1), expiry, out.saturating_sub(1), out];
        if let Some(fb) = self.fail_back_height() {
            marks.extend([fb.saturating_sub(1), fb]);
        }
        marks.into_iter().filter(|&m| m > h && m <= expiry).min()
    }

    fn payer(&self, w: &mut World, ev: PayerEvent) {
        w.log.push(format!("A <- {}", show_payer_event(&ev)));
        let sent = self.record.then(|| ev.clone());
        let answer = w.a.handle(ev);
        if let Some(sent) = sent {
            w.log.1.push(Fed::A(sent, answer.clone()));
        }
        match answer {
            Ok(actions) => {
                for a in actions {
                    w.log.push(format!("A: {}", show_payer_action(&a)));
                    match a {
                        PayerAction::SendBlockRequest { pid, hashes } => {
                            w.to_lsp_a.push(LspAEvent::BlockRequest { pid, hashes, direct_from_a: true })
                        }
                        PayerAction::AddHtlc { htlc, payment_hash, amount, hold_htlc } => w.to_lsp_a.push(LspAEvent::HtlcAdded {
                            htlc,
                            payment_hash,
                            amount,
                            cltv_expiry: self.cltv_expiry(),
                            outgoing_cltv: self.outgoing_cltv(),
                            hold_htlc,
                        }),
                        PayerAction::SendPidToB { payment_hash, pid } => w.to_b.push(PayeeEvent::PidReceived { payment_hash, pid }),
                        PayerAction::SendHeldHtlcAvailable { reply_path, .. } => w.to_b.push(PayeeEvent::HeldHtlcAvailable {
                            reply_path,
                            authenticated: true,
                            path_expiry: Seconds(u64::MAX),
                            now: Seconds(0),
                        }),
                        PayerAction::MayGoOffline { .. } => w.a_paying = false,
                        _ => {}
                    }
                }
            }
            Err(m) => w.log.push(format!("A: misuse {m:?}")),
        }
    }

    /// Feeds `LSP_a` an event; `valid` lists the HTLCs a valid unblock in
    /// this event would release (judged by the model, not by `LSP_a`).
    fn lsp_a(&self, w: &mut World, ev: LspAEvent, valid: &[HtlcId]) {
        w.log.push(format!("LSP_a <- {}", show_lsp_a_event(&ev)));
        let sent = self.record.then(|| ev.clone());
        let answer = w.lsp_a.handle(ev);
        if let Some(sent) = sent {
            w.log.1.push(Fed::LspA { sent: sent.clone(), given: Some(sent), answer: Some(answer.clone()) });
        }
        let actions = match answer {
            Ok(a) => a,
            Err(m) => {
                w.log.push(format!("LSP_a: misuse {m:?}"));
                return;
            }
        };
        for a in actions {
            w.log.push(format!("LSP_a: {a:?}"));
            match a {
                LspAAction::Hold { htlc } => w.to_a.push(PayerEvent::HtlcCommitted { htlc }),
                LspAAction::GiveReleasePath { htlc } => w.to_a.push(PayerEvent::ReleasePath { htlc, path: PathRef(htlc.0) }),
                LspAAction::Release { htlc } => {
                    w.released_any = true;
                    if !valid.contains(&htlc) && w.released_without_valid_unblock.is_none() {
                        w.released_without_valid_unblock = Some(htlc);
                    }
                    w.downstream.push(htlc);
                }
                LspAAction::Forward { htlc } => {
                    w.to_a.push(PayerEvent::HtlcCommitted { htlc });
                    w.downstream.push(htlc);
                }
                LspAAction::FailBack { htlc, reason } => {
                    if reason == FailReason::Expired {
                        w.failed_back_expired = true;
                    }
                    w.to_a.push(PayerEvent::HtlcFailed { htlc });
                }
                LspAAction::Fulfil { htlc, preimage } => w.to_a.push(PayerEvent::HtlcFulfilled { htlc, preimage }),
                _ => {}
            }
        }
    }

    fn payee(&self, w: &mut World, ev: PayeeEvent) {
        w.log.push(format!("B <- {}", show_payee_event(&ev)));
        let sent = self.record.then(|| ev.clone());
        let answer = w.b.handle(ev);
        if let Some(sent) = sent {
            w.log.1.push(Fed::B(sent, answer.clone()));
        }
        let actions = match answer {
            Ok(a) => a,
            Err(m) => {
                w.log.push(format!("B: misuse {m:?}"));
                return;
            }
        };
        for a in actions {
            w.log.push(format!("B: {}", show_payee_action(&a)));
            match a {
                PayeeAction::SendUnblock { pid } => w.unblocks.push((LspAEvent::Unblock { payment_unblock: pid }, false)),
                PayeeAction::SendRelease { reply_path } => {
                    w.unblocks.push((LspAEvent::ReleaseHeldHtlc { context: HtlcId(reply_path.0), authenticated: true }, false))
                }
                PayeeAction::Fulfil { htlcs, preimage } => {
                    for htlc in htlcs {
                        w.upstream.push(LspAEvent::DownstreamFulfilled { htlc, preimage: preimage.clone() });
                    }
                }
                PayeeAction::Fail { htlcs, .. } => {
                    for htlc in htlcs {
                        w.upstream.push(LspAEvent::DownstreamFailed { htlc });
                    }
                }
                _ => {}
            }
        }
    }

    /// The HTLCs a valid unblock carried by `ev` releases, by the spec's
    /// definition of valid, judged from what the model knows.
    fn valid_for(&self, w: &World, ev: &LspAEvent) -> Vec<HtlcId> {
        let held: Vec<HtlcId> = w.lsp_a.held().iter().map(|h| h.htlc).collect();
        match ev {
            LspAEvent::Unblock { payment_unblock } if *payment_unblock == pid() => held,
            LspAEvent::ReleaseHeldHtlc { context, authenticated: true } => held.into_iter().filter(|h| h == context).collect(),
            _ => Vec::new(),
        }
    }

    fn apply(&self, w: &mut World, step: &Step) {
        w.log.clear();
        match step {
            Step::APays => {
                w.a_paying = true;
                let parts = self.part_ids();
                let n = u64::try_from(parts.len()).unwrap_or(1).max(1);
                let parts = parts.into_iter().map(|id| (id, Msat(AMOUNT.0 / n))).collect();
                let pid = (self.cfg.profile == Profile::LightningRod).then(pid);
                self.payer(w, PayerEvent::Pay { payment_hash: payment_hash(), parts, pid });
            }
            Step::DeliverToLspA => {
                let ev = w.to_lsp_a.remove(0);
                self.lsp_a(w, ev, &[]);
            }
            Step::DeliverToA => {
                let ev = w.to_a.remove(0);
                self.payer(w, ev);
            }
            Step::DeliverToB => {
                let ev = w.to_b.remove(0);
                self.payee(w, ev);
            }
            Step::DeliverUnblock(i) => {
                if let Some(entry) = w.unblocks.get_mut(*i) {
                    entry.1 = true;
                    let ev = entry.0.clone();
                    let valid = self.valid_for(w, &ev);
                    self.lsp_a(w, ev, &valid);
                }
            }
            Step::DeliverHtlcToB => {
                let htlc = w.downstream.remove(0);
                let n = u64::from(self.cfg.parts).max(1);
                self.payee(w, PayeeEvent::HtlcArrived { htlc, payment_hash: payment_hash(), amount: Msat(AMOUNT.0 / n), at: Seconds(0) });
            }
            Step::DeliverDownstream => {
                let ev = w.upstream.remove(0);
                self.lsp_a(w, ev, &[]);
            }
            Step::DownstreamExpires => {
                let htlc = w.downstream.remove(0);
                w.log.push(format!("the HTLC forwarded for {} expires at B's LSP unclaimed", htlc.0));
                self.lsp_a(w, LspAEvent::DownstreamFailed { htlc }, &[]);
            }
            Step::AOnline(online) => {
                w.a_online = *online;
                if !online {
                    w.a_offline_once = true;
                }
                self.lsp_a(w, LspAEvent::APeer { online: *online }, &[]);
            }
            Step::BComesOnline => {
                w.b_online = true;
                w.b_online_at = Some(w.height);
                self.payee(w, PayeeEvent::Online { online: true });
            }
            Step::BTick => self.payee(w, PayeeEvent::Tick { now: MPP_TIMEOUT }),
            Step::Block(h) => {
                w.height = *h;
                if self.cfg.mutant == Mutant::NoFailBack {
                    w.log.push("(mutant: LSP_a does not see the block)".into());
                    if self.record {
                        w.log.1.push(Fed::LspA { sent: LspAEvent::Block { height: BlockHeight(*h) }, given: None, answer: None });
                    }
                } else {
                    self.lsp_a(w, LspAEvent::Block { height: BlockHeight(*h) }, &[]);
                }
            }
            Step::Forge(f) => {
                w.forgeries_left = w.forgeries_left.saturating_sub(1);
                let (sent, valid) = match f {
                    Forgery::Invalid(part) => {
                        let ev = match self.cfg.profile {
                            Profile::LightningRod => LspAEvent::Unblock { payment_unblock: forged_pid() },
                            Profile::Ldk => LspAEvent::ReleaseHeldHtlc { context: HtlcId(u64::from(*part) + 1), authenticated: false },
                        };
                        (ev, Vec::new())
                    }
                    Forgery::Replay(i) => {
                        let ev = w.unblocks.get(*i).map(|(e, _)| e.clone()).unwrap_or(LspAEvent::OnionMessageForA);
                        let valid = self.valid_for(w, &ev);
                        (ev, valid)
                    }
                };
                w.log.push(format!("attacker sends {}", show_lsp_a_event(&sent)));
                let given = match (self.cfg.mutant, &sent) {
                    (Mutant::ReleaseWithoutValidUnblock, LspAEvent::Unblock { .. }) => {
                        w.log.push("(mutant: LSP_a takes it as carrying the right pid)".into());
                        LspAEvent::Unblock { payment_unblock: pid() }
                    }
                    (Mutant::ReleaseWithoutValidUnblock, LspAEvent::ReleaseHeldHtlc { context, .. }) => {
                        w.log.push("(mutant: LSP_a skips the authentication check)".into());
                        LspAEvent::ReleaseHeldHtlc { context: *context, authenticated: true }
                    }
                    _ => sent.clone(),
                };
                let rewritten = given != sent;
                self.lsp_a(w, given, &valid);
                // What reached LSP_a is what the attacker sent, whatever the mutant made of it.
                if rewritten {
                    if let Some(Fed::LspA { sent: recorded, .. }) = w.log.1.last_mut() {
                        *recorded = sent;
                    }
                }
            }
        }
    }
}

impl Model for LnrodModel {
    type State = World;
    type Action = Step;

    fn init_states(&self) -> Vec<World> {
        let lsp_cfg = self.lsp_a_config();
        let mut a = Payer::new(self.cfg.profile);
        let mut b = Payee::new(self.payee_config(), false);
        let ready = a.handle(a_setup_event()).is_ok() && b.handle(b_setup_event()).is_ok();
        if !ready {
            return Vec::new();
        }
        vec![World {
            a,
            lsp_a: LspA::new(lsp_cfg, BlockHeight(START_HEIGHT), true),
            b,
            height: START_HEIGHT,
            a_online: true,
            a_paying: false,
            a_offline_once: false,
            b_online: false,
            b_online_at: None,
            to_lsp_a: Vec::new(),
            to_a: Vec::new(),
            to_b: Vec::new(),
            unblocks: Vec::new(),
            downstream: Vec::new(),
            upstream: Vec::new(),
            forgeries_left: self.cfg.forgeries,
            released_without_valid_unblock: None,
            released_any: false,
            failed_back_expired: false,
            log: Log::default(),
        }]
    }

    fn actions(&self, w: &World, out: &mut Vec<Step>) {
        let started = w.a_paying || !w.to_lsp_a.is_empty() || w.a.is_paid(&payment_hash()) || w.released_any || !w.to_a.is_empty();
        if !started && w.lsp_a.held().is_empty() && w.height == START_HEIGHT && !w.a_offline_once {
            out.push(Step::APays);
            return;
        }
        if !w.to_lsp_a.is_empty() {
            out.push(Step::DeliverToLspA);
        }
        if !w.to_a.is_empty() && w.a_online {
            out.push(Step::DeliverToA);
        }
        if !w.to_b.is_empty() && w.b_online {
            out.push(Step::DeliverToB);
        }
        for (i, (_, delivered)) in w.unblocks.iter().enumerate() {
            if !delivered {
                out.push(Step::DeliverUnblock(i));
            }
        }
        if !w.downstream.is_empty() {
            if w.b_online {
                out.push(Step::DeliverHtlcToB);
            } else if w.height >= self.outgoing_cltv().0 {
                out.push(Step::DownstreamExpires);
            }
        }
        if !w.upstream.is_empty() {
            out.push(Step::DeliverDownstream);
        }
        // A goes offline only once it may (after `MayGoOffline`), once; it comes
        // back when it likes (a notification wakes it).
        if w.a_online && !w.a_paying && !w.a_offline_once && w.to_lsp_a.is_empty() {
            out.push(Step::AOnline(false));
        }
        if !w.a_online {
            out.push(Step::AOnline(true));
        }
        if !w.b_online {
            out.push(Step::BComesOnline);
        }
        if w.b_online && self.cfg.parts > 1 {
            out.push(Step::BTick);
        }
        // Honest neighbours settle messages and commitments within a block: no
        // block while A's own messages to LSP_a are on their way.
        if w.to_lsp_a.is_empty() {
            if let Some(h) = self.next_height(w.height) {
                out.push(Step::Block(h));
            }
        }
        if w.forgeries_left > 0 {
            for part in 0..self.cfg.parts {
                out.push(Step::Forge(Forgery::Invalid(part)));
                if self.cfg.profile == Profile::LightningRod {
                    break;
                }
            }
            for i in 0..w.unblocks.len() {
                out.push(Step::Forge(Forgery::Replay(i)));
            }
        }
    }

    fn next_state(&self, w: &World, step: Step) -> Option<World> {
        let mut next = w.clone();
        self.apply(&mut next, &step);
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::stateright()
    }
}

fn show_payer_event(e: &PayerEvent) -> String {
    match e {
        PayerEvent::LspInit { .. } => "init".into(),
        PayerEvent::Pay { parts, .. } => format!("pay ({} part(s))", parts.len()),
        PayerEvent::HtlcCommitted { htlc } => format!("HTLC {} committed", htlc.0),
        PayerEvent::ReleasePath { htlc, .. } => format!("release path for HTLC {}", htlc.0),
        PayerEvent::HtlcFulfilled { htlc, .. } => format!("HTLC {} fulfilled (preimage)", htlc.0),
        PayerEvent::HtlcFailed { htlc } => format!("HTLC {} failed", htlc.0),
    }
}

fn show_payer_action(a: &PayerAction) -> String {
    match a {
        PayerAction::SendBlockRequest { .. } => "sends LSP_a the block request (pid, hash)".into(),
        PayerAction::AddHtlc { htlc, hold_htlc, .. } => format!("adds HTLC {} (hold_htlc={hold_htlc})", htlc.0),
        PayerAction::SendPidToB { .. } => "sends B the pid and hash (onion message via LSP_b)".into(),
        PayerAction::SendHeldHtlcAvailable { htlc, .. } => format!("sends B held_htlc_available for HTLC {}", htlc.0),
        PayerAction::MayGoOffline { .. } => "may go offline".into(),
        PayerAction::Paid { .. } => "PAID (holds the preimage)".into(),
        PayerAction::PaymentFailed { .. } => "payment failed".into(),
        other => format!("{other:?}"),
    }
}

fn show_payee_event(e: &PayeeEvent) -> String {
    match e {
        PayeeEvent::InvoiceCreated { .. } => "invoice".into(),
        PayeeEvent::Online { online } => format!("online={online}"),
        PayeeEvent::PidReceived { .. } => "pid and hash from A".into(),
        PayeeEvent::HeldHtlcAvailable { reply_path, .. } => format!("held_htlc_available (path {})", reply_path.0),
        PayeeEvent::HtlcArrived { htlc, .. } => format!("HTLC {} arrives", htlc.0),
        PayeeEvent::Tick { now } => format!("clock at {} s", now.0),
    }
}

fn show_payee_action(a: &PayeeAction) -> String {
    match a {
        PayeeAction::SendUnblock { .. } => "sends the unblock (payment_unblock = pid)".into(),
        PayeeAction::SendRelease { reply_path } => format!("sends release_held_htlc over path {}", reply_path.0),
        PayeeAction::Fulfil { htlcs, .. } => format!("fulfils HTLC(s) {:?}", htlcs.iter().map(|h| h.0).collect::<Vec<_>>()),
        PayeeAction::Fail { htlcs, reason } => format!("fails HTLC(s) {:?} ({})", htlcs.iter().map(|h| h.0).collect::<Vec<_>>(), reason.name()),
        PayeeAction::Settled { .. } => "SETTLED".into(),
        PayeeAction::NotUnblocked { reason } => format!("does not unblock ({})", reason.name()),
    }
}

pub fn show_lsp_a_event(e: &LspAEvent) -> String {
    match e {
        LspAEvent::APeer { online } => format!("A online={online}"),
        LspAEvent::BlockRequest { .. } => "block request".into(),
        LspAEvent::HtlcAdded { htlc, hold_htlc, .. } => format!("HTLC {} added (hold_htlc={hold_htlc})", htlc.0),
        LspAEvent::Unblock { payment_unblock } => {
            format!("unblock ({} pid)", if *payment_unblock == pid() { "the right" } else { "a wrong" })
        }
        LspAEvent::ReleaseHeldHtlc { context, authenticated } => {
            format!("release_held_htlc for HTLC {} ({})", context.0, if *authenticated { "authenticated" } else { "unauthenticated" })
        }
        LspAEvent::OnionMessageForA => "onion message for A".into(),
        LspAEvent::Block { height } => format!("block {}", height.0),
        LspAEvent::DownstreamFulfilled { htlc, .. } => format!("HTLC {} fulfilled downstream", htlc.0),
        LspAEvent::DownstreamFailed { htlc } => format!("HTLC {} failed downstream", htlc.0),
    }
}
