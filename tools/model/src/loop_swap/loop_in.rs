//! One Loop In (LOOP-01 "Loop In"): the honest client is
//! `loop_reference::loop_in::LoopInClient`, fed what lnd and the chain report and its
//! actions carried out; the server, the chain and the swap invoice's payment are the
//! environment; one of client and server may be the adversary.
//!
//! The client funds the on-chain HTLC (it is the HTLC sender, `loop.htlc.2`); the
//! server pays the client's swap invoice, which reveals the preimage to it, and sweeps
//! the HTLC with the preimage (or through the key path once the client revealed its
//! internal key); an unpaid client takes the HTLC back through the timeout path after
//! the expiry.

use loop_reference::htlc::SpendKind;
use loop_reference::loop_in::{LoopInAction, LoopInClient, LoopInEvent, LoopInParams};
use loop_reference::protocol::ProtocolVersion;
use loop_reference::state::SwapState;
use loop_reference::units::{BlockHeight, Sat};
use stateright::{Model, Property};

use crate::framework::{CheckableModel, PropertyDef, PropertyKind, SpecQuote, Trace, TraceStep, VectorFile};

use super::model::START;
use super::params::{Adversary, Config, Mutant};

/// The requested amount, which the client's HTLC holds.
pub const IN_AMOUNT: Sat = Sat(1_000_000);
/// The server's quoted swap fee, and the client's maximum.
pub const IN_SWAP_FEE: Sat = Sat(2_000);
pub const IN_MAX_SWAP_FEE: Sat = Sat(3_000);
/// What the client's swap invoice asks: the amount minus the fee (loop.in.4).
pub const IN_INVOICE: Sat = Sat(IN_AMOUNT.0 - IN_SWAP_FEE.0);

/// How many blocks past the expiry a crashed client may stay down (it refunds late).
pub const DOWN_PAST_EXPIRY: u32 = 3;

/// The swap invoice in the client's lnd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvoiceState {
    Open,
    Settled,
    Canceled,
}

/// How the client's HTLC was spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InSpend {
    /// The client took it back through the timeout path.
    Timeout,
    /// The server swept it with the preimage.
    Preimage,
    /// The server swept it through the key path with the client's internal key.
    KeyPath,
}

impl InSpend {
    fn by_server(self) -> bool {
        self != InSpend::Timeout
    }
    fn kind(self) -> SpendKind {
        if self.by_server() {
            SpendKind::Success
        } else {
            SpendKind::Timeout
        }
    }
}

/// The client's on-chain HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InHtlc {
    Absent,
    Confirmed,
    Spent(InSpend),
}

/// One state of the Loop In world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InWorld {
    pub adversary: Adversary,
    pub height: u32,
    pub client: LoopInClient,
    pub client_down: bool,
    pub crashes_left: u8,
    pub htlc: InHtlc,
    pub invoice: InvoiceState,
    pub server_knows_preimage: bool,
    pub server_knows_key: bool,
    /// The honest client's timeout transaction is in the mempool; it confirms at the latest at this height.
    pub timeout_pending: Option<u32>,
    /// The honest server's sweep is in the mempool; it confirms at the latest at this height.
    pub sweep_pending: Option<u32>,
    /// The tip when the honest client first published its timeout transaction.
    pub first_timeout_at: Option<u32>,
    /// The honest client, running, saw the expiry with its HTLC unpaid and unspent and published no timeout.
    pub refund_missed: bool,
}

/// One step of the Loop In world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InStep {
    /// A block is found; a pending spend (the client's timeout or the honest server's sweep) confirms in it or not.
    Block { confirms: Option<InSpend> },
    /// The server pays the swap invoice (the honest one then publishes its sweep at once).
    PayInvoice,
    /// The adversarial server sweeps the HTLC (it confirms at once).
    AdversarySweep(InSpend),
    /// The adversarial client takes the HTLC back through the timeout path (it confirms at once).
    AdversaryTimeout,
    /// The client's user cancels the swap invoice by hand (lncli).
    UserCancelsInvoice,
    Crash,
    Restart,
}

/// What a step did, when it is rendered or exported.
#[derive(Clone, Debug, Default)]
pub struct InSink {
    pub notes: Vec<String>,
    pub io: Vec<(LoopInEvent, Vec<LoopInAction>)>,
}

/// The Loop In model for one configuration.
#[derive(Clone, Debug)]
pub struct LoopInModel {
    pub cfg: Config,
}

impl LoopInModel {
    pub fn new(cfg: Config) -> LoopInModel {
        LoopInModel { cfg }
    }

    pub fn expiry(&self) -> u32 {
        START + self.cfg.in_expiry_delta
    }

    pub fn at(&self, h: u32) -> String {
        let d = i64::from(h) - i64::from(self.expiry());
        match d {
            0 => format!("h={h} (expiry)"),
            d if d < 0 => format!("h={h} (expiry{d})"),
            d => format!("h={h} (expiry+{d})"),
        }
    }

    pub fn honest_client(&self, w: &InWorld) -> bool {
        w.adversary != Adversary::Client
    }

    pub fn honest_server(&self, w: &InWorld) -> bool {
        w.adversary != Adversary::Server
    }

    pub fn client_params(&self) -> LoopInParams {
        LoopInParams {
            amount: IN_AMOUNT,
            max_swap_fee: IN_MAX_SWAP_FEE,
            external_htlc: false,
            protocol_version: ProtocolVersion::MUSIG2,
            bounds: self.cfg.loop_bounds(),
        }
    }

    fn fresh(&self, adversary: Adversary) -> InWorld {
        InWorld {
            adversary,
            height: START,
            client: LoopInClient::new(self.client_params()),
            client_down: false,
            crashes_left: if adversary == Adversary::Client { 0 } else { self.cfg.crashes },
            htlc: InHtlc::Absent,
            invoice: InvoiceState::Open,
            server_knows_preimage: false,
            server_knows_key: false,
            timeout_pending: None,
            sweep_pending: None,
            first_timeout_at: None,
            refund_missed: false,
        }
    }

    /// The client is offered the contract and executes the swap (publishing its HTLC,
    /// which confirms at once); the adversarial client publishes it too, or nothing happens.
    fn start(&self, w: &mut InWorld, log: &mut Option<&mut InSink>) {
        let offered = LoopInEvent::ContractOffered { height: BlockHeight(START), swap_fee: IN_SWAP_FEE, cltv_expiry: BlockHeight(self.expiry()) };
        if self.honest_client(w) {
            self.feed(w, offered, log);
            self.feed(w, LoopInEvent::Execute { height: BlockHeight(START) }, log);
        } else {
            w.client.handle(offered);
            if w.client.refused().is_none() {
                w.htlc = InHtlc::Confirmed;
            }
        }
    }

    /// The honest client after it was offered the contract and executed the swap, with the
    /// events it got and its answers.
    pub fn started_client(&self) -> (LoopInClient, Vec<(LoopInEvent, Vec<LoopInAction>)>) {
        let mut w = self.fresh(Adversary::Nobody);
        let mut sink = InSink::default();
        self.start(&mut w, &mut Some(&mut sink));
        (w.client, sink.io)
    }

    fn initial(&self, adversary: Adversary) -> InWorld {
        let mut w = self.fresh(adversary);
        self.start(&mut w, &mut None);
        w
    }

    /// The run is over: the HTLC is spent, or it was never published, or the expiry has
    /// passed with nothing pending and the client running (an unspent HTLC then stays
    /// where it is: with a settled invoice it is the server's to take).
    pub fn over(&self, w: &InWorld) -> bool {
        match w.htlc {
            InHtlc::Spent(_) => true,
            InHtlc::Absent => !w.client_down,
            InHtlc::Confirmed => w.height >= self.expiry() && w.timeout_pending.is_none() && w.sweep_pending.is_none() && !w.client_down,
        }
    }

    /// Feeds events to the honest client (unless it is down), carrying out its actions;
    /// an action may cause further events (the HTLC confirming, the invoice cancelled).
    fn feed(&self, w: &mut InWorld, event: LoopInEvent, log: &mut Option<&mut InSink>) {
        let mut queue = vec![event];
        while !queue.is_empty() {
            let event = queue.remove(0);
            if w.client_down || !self.honest_client(w) {
                return;
            }
            let actions = w.client.handle(event);
            if let Some(l) = log.as_deref_mut() {
                l.notes.extend(actions.iter().map(|a| format!("client: {}", describe_in_action(a))));
                l.io.push((event, actions.clone()));
            }
            for a in actions {
                match a {
                    LoopInAction::PublishHtlc if w.htlc == InHtlc::Absent => {
                        w.htlc = InHtlc::Confirmed;
                        queue.push(LoopInEvent::HtlcConfirmed { value: IN_AMOUNT });
                    }
                    LoopInAction::PublishTimeout if w.htlc == InHtlc::Confirmed => {
                        w.first_timeout_at.get_or_insert(w.height);
                        if w.timeout_pending.is_none() {
                            w.timeout_pending = Some(w.height + self.cfg.confirm_blocks);
                        }
                    }
                    LoopInAction::RevealInternalKey => w.server_knows_key = true,
                    LoopInAction::CancelInvoice if w.invoice == InvoiceState::Open => {
                        w.invoice = InvoiceState::Canceled;
                        queue.push(LoopInEvent::InvoiceCanceled);
                    }
                    // Persist, Report, Finish, Refuse: bookkeeping; a cancel of a settled invoice does nothing.
                    _ => {}
                }
            }
        }
    }

    fn spend(&self, w: &mut InWorld, how: InSpend, log: &mut Option<&mut InSink>) {
        w.htlc = InHtlc::Spent(how);
        w.timeout_pending = None;
        w.sweep_pending = None;
        self.feed(w, LoopInEvent::HtlcSpent(how.kind()), log);
    }

    /// Whether the honest client, running, has let the expiry pass with its HTLC unpaid,
    /// unspent and no timeout transaction published (judged after it saw a block or restarted).
    fn check_refund(&self, w: &mut InWorld) {
        if self.honest_client(w)
            && !w.client_down
            && w.height >= self.expiry()
            && w.htlc == InHtlc::Confirmed
            && w.invoice != InvoiceState::Settled
            && w.first_timeout_at.is_none()
        {
            w.refund_missed = true;
        }
    }

    /// After a restart the host re-registers with lnd and the chain: it reports the
    /// invoice's state and what confirmed.
    fn resume(&self, w: &mut InWorld, log: &mut Option<&mut InSink>) {
        let tip = BlockHeight(w.height);
        self.feed(w, LoopInEvent::Execute { height: tip }, log);
        match w.invoice {
            InvoiceState::Settled => self.feed(w, LoopInEvent::InvoiceSettled, log),
            InvoiceState::Canceled => self.feed(w, LoopInEvent::InvoiceCanceled, log),
            InvoiceState::Open => {}
        }
        match w.htlc {
            InHtlc::Absent => {}
            InHtlc::Confirmed => self.feed(w, LoopInEvent::HtlcConfirmed { value: IN_AMOUNT }, log),
            InHtlc::Spent(how) => {
                self.feed(w, LoopInEvent::HtlcConfirmed { value: IN_AMOUNT }, log);
                self.feed(w, LoopInEvent::HtlcSpent(how.kind()), log);
            }
        }
    }

    pub fn apply(&self, w: &InWorld, step: InStep, mut log: Option<&mut InSink>) -> Option<InWorld> {
        let mut w = w.clone();
        match step {
            InStep::Block { confirms } => {
                w.height += 1;
                if let Some(how) = confirms {
                    self.spend(&mut w, how, &mut log);
                }
                let tip = BlockHeight(w.height);
                self.feed(&mut w, LoopInEvent::Block { height: tip }, &mut log);
                // Loop f6b0253d's block loop: `if invoiceFinalized && !htlcKeyRevealed { tryPushHtlcKey }`.
                if self.cfg.mutant == Mutant::KeyOnFinalInvoice
                    && self.honest_client(&w)
                    && !w.client_down
                    && !w.client.is_finished()
                    && w.htlc == InHtlc::Confirmed
                    && w.invoice != InvoiceState::Open
                    && !w.server_knows_key
                {
                    w.server_knows_key = true;
                    if let Some(l) = log.as_deref_mut() {
                        l.notes.push("client's host (mutant): pushes the internal key, the invoice being final".into());
                    }
                }
                self.check_refund(&mut w);
            }
            InStep::PayInvoice => {
                w.invoice = InvoiceState::Settled;
                w.server_knows_preimage = true;
                if self.honest_server(&w) && w.htlc == InHtlc::Confirmed {
                    w.sweep_pending = Some(w.height + self.cfg.confirm_blocks);
                }
                self.feed(&mut w, LoopInEvent::InvoiceSettled, &mut log);
            }
            InStep::AdversarySweep(how) => self.spend(&mut w, how, &mut log),
            InStep::AdversaryTimeout => self.spend(&mut w, InSpend::Timeout, &mut log),
            InStep::UserCancelsInvoice => {
                w.invoice = InvoiceState::Canceled;
                self.feed(&mut w, LoopInEvent::InvoiceCanceled, &mut log);
            }
            InStep::Crash => {
                self.feed(&mut w, LoopInEvent::UnexpectedError, &mut log);
                w.client_down = true;
                w.crashes_left -= 1;
            }
            InStep::Restart => {
                w.client_down = false;
                self.resume(&mut w, &mut log);
                self.check_refund(&mut w);
            }
        }
        Some(w)
    }

    fn steps(&self, w: &InWorld, out: &mut Vec<InStep>) {
        let expiry = self.expiry();
        let adv_server = w.adversary == Adversary::Server;
        // The chain: blocks until the expiry, and after it while a spend is pending.
        let pending: Vec<(InSpend, u32)> =
            [(InSpend::Timeout, w.timeout_pending), (InSpend::Preimage, w.sweep_pending)].into_iter().filter_map(|(k, d)| d.map(|d| (k, d))).collect();
        // A crashed client may stay down up to `DOWN_PAST_EXPIRY` blocks past the expiry.
        let down_late = w.client_down && w.height < expiry + DOWN_PAST_EXPIRY;
        if w.htlc != InHtlc::Absent && (w.height < expiry || !pending.is_empty() || down_late) && !matches!(w.htlc, InHtlc::Spent(_)) {
            let forced = pending.iter().any(|(_, d)| w.height + 1 >= *d);
            for (k, _) in &pending {
                out.push(InStep::Block { confirms: Some(*k) });
            }
            if !forced {
                out.push(InStep::Block { confirms: None });
            }
        }
        // The server.
        if w.invoice == InvoiceState::Open && w.htlc != InHtlc::Absent {
            let honest_pays = w.htlc == InHtlc::Confirmed && w.height + self.cfg.server_pay_margin <= expiry;
            if adv_server || honest_pays {
                out.push(InStep::PayInvoice);
            }
        }
        if adv_server && w.htlc == InHtlc::Confirmed {
            if w.server_knows_preimage {
                out.push(InStep::AdversarySweep(InSpend::Preimage));
            }
            if w.server_knows_key {
                out.push(InStep::AdversarySweep(InSpend::KeyPath));
            }
        }
        // The client.
        if w.adversary == Adversary::Client && w.htlc == InHtlc::Confirmed && w.height >= expiry {
            out.push(InStep::AdversaryTimeout);
        }
        if self.honest_client(w) {
            if w.client_down {
                out.push(InStep::Restart);
            } else {
                if w.invoice == InvoiceState::Open && w.htlc == InHtlc::Confirmed && !w.client.is_finished() {
                    out.push(InStep::UserCancelsInvoice);
                }
                if w.crashes_left > 0 && !w.client.is_finished() && !self.over(w) {
                    out.push(InStep::Crash);
                }
            }
        }
    }
}

/// An action in a trace line.
pub fn describe_in_action(a: &LoopInAction) -> String {
    match a {
        LoopInAction::Refuse(r) => format!("refuse ({})", r.name()),
        LoopInAction::Persist(s) => format!("persist {}", s.name()),
        LoopInAction::Report(s) => format!("report {}", s.name()),
        LoopInAction::PublishHtlc => "publish the HTLC (it confirms)".into(),
        LoopInAction::PublishTimeout => "publish the timeout transaction".into(),
        LoopInAction::RevealInternalKey => "reveal its internal key to the server".into(),
        LoopInAction::CancelInvoice => "cancel the swap invoice".into(),
        LoopInAction::Finish(s) => format!("finish: {}", s.name()),
    }
}

impl Model for LoopInModel {
    type State = InWorld;
    type Action = InStep;

    fn init_states(&self) -> Vec<InWorld> {
        self.cfg.adversaries.iter().map(|a| self.initial(*a)).collect()
    }

    fn actions(&self, w: &InWorld, out: &mut Vec<InStep>) {
        self.steps(w, out);
    }

    fn next_state(&self, w: &InWorld, step: InStep) -> Option<InWorld> {
        self.apply(w, step, None)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        stateright_properties()
    }
}

impl CheckableModel for LoopInModel {
    fn property_defs(&self) -> Vec<PropertyDef> {
        IN_DEFS.to_vec()
    }
    fn trace(&self, property: &PropertyDef, path: &[(InWorld, Option<InStep>)]) -> Trace {
        trace(self, property, path)
    }
    fn export(&self, property: &PropertyDef, path: &[(InWorld, Option<InStep>)]) -> Option<VectorFile> {
        super::export::export_in(self, property, path)
    }
}

// ---- Properties -----------------------------------------------------------------------------

const fn q(text: &'static str) -> SpecQuote {
    SpecQuote { doc: "LOOP-01", text }
}

pub const IN_CLIENT_LOSS_BOUNDED: &str = "in_client_loss_bounded";
pub const IN_CLIENT_REFUNDS_UNPAID: &str = "in_client_refunds_unpaid";
pub const IN_HONEST_SERVER_PAID: &str = "in_honest_server_paid";
pub const IN_SERVER_CAN_SWEEP: &str = "in_server_can_sweep";
pub const IN_CLIENT_CAN_REFUND: &str = "in_client_can_refund";
pub const IN_HONEST_SERVER_CAN_BE_PAID: &str = "in_honest_server_can_be_paid";

const ROLES: &str = "In a Loop In the client MUST be the HTLC sender and the server the HTLC receiver.";
const FEE: &str = "The client MUST refuse a Loop In whose quoted swap fee exceeds its maximum swap fee.";
const INVOICE: &str = "The client MUST invoice the requested amount minus the quoted swap fee, with the swap hash as the invoice's payment hash.";
const KEY_ONLY_IF_SETTLED: &str = "The client MUST NOT reveal its internal private key to the server unless the swap invoice is settled.";
const KEY_WHEN_SETTLED: &str = "With protocol version 11 or later, the client SHOULD reveal its internal private key to the server once the swap invoice is settled, so that the server can sweep the HTLC through the key path alone.";
const TIMEOUT: &str = "Unless the swap invoice is settled or the swap succeeded, the client MUST publish the timeout transaction once the height reaches the HTLC expiry.";
const SETTLED: &str = "When the swap invoice is settled while the swap is in state HtlcPublished, the client MUST record state InvoiceSettled.";
const SPENT: &str = "When a spend of the HTLC confirms, the client MUST end the swap in state Success if it is a success spend, in state FailIncorrectHtlcAmtSwept if the swap was in state FailIncorrectHtlcAmt, and in state FailTimeout otherwise.";
const RESUME: &str = "After a restart the client MUST resume a pending swap from its last persisted state.";

/// Every Loop In property.
pub const IN_DEFS: &[PropertyDef] = &[
    PropertyDef {
        name: IN_CLIENT_LOSS_BOUNDED,
        kind: PropertyKind::Safety,
        words: "The server takes the honest client's HTLC only if it paid the client's swap invoice, and the client loses at most the swap fee it accepted (LOOP-01's Safety: in a Loop In the server can claim the HTLC only with the preimage, after paying the invoice, or with the client's internal key).",
        rests_on: &[q(ROLES), q(FEE), q(INVOICE), q(KEY_ONLY_IF_SETTLED), q(TIMEOUT), q(RESUME)],
    },
    PropertyDef {
        name: IN_CLIENT_REFUNDS_UNPAID,
        kind: PropertyKind::Safety,
        words: "An honest client whose swap invoice is not settled takes its HTLC back: running, it publishes the timeout transaction at the first block at or past the expiry it sees (or on restart), and once the run is over the HTLC went back to it.",
        rests_on: &[q(TIMEOUT), q(KEY_ONLY_IF_SETTLED), q(RESUME)],
    },
    PropertyDef {
        name: IN_HONEST_SERVER_PAID,
        kind: PropertyKind::Safety,
        words: "An honest server that paid the client's swap invoice gets the HTLC: once the run is over, it swept it.",
        rests_on: &[q(TIMEOUT), q(SETTLED), q(KEY_WHEN_SETTLED)],
    },
    PropertyDef {
        name: IN_SERVER_CAN_SWEEP,
        kind: PropertyKind::Reachable,
        words: "Some run has the server sweep the honest client's HTLC after paying its invoice (so in_client_loss_bounded is not vacuous).",
        rests_on: &[q(SPENT)],
    },
    PropertyDef {
        name: IN_CLIENT_CAN_REFUND,
        kind: PropertyKind::Reachable,
        words: "Some run has the honest client take its unpaid HTLC back through the timeout path (so in_client_refunds_unpaid is not vacuous).",
        rests_on: &[q(TIMEOUT)],
    },
    PropertyDef {
        name: IN_HONEST_SERVER_CAN_BE_PAID,
        kind: PropertyKind::Reachable,
        words: "Some run has an honest server pay the invoice and sweep the HTLC (so in_honest_server_paid is not vacuous).",
        rests_on: &[q(SETTLED), q(SPENT)],
    },
];

fn taken_by_server(w: &InWorld) -> bool {
    matches!(w.htlc, InHtlc::Spent(how) if how.by_server())
}

/// The client's gains minus what it gave, in sat: the HTLC it funded, back to it only
/// through the timeout path; the invoice, if the server paid it.
pub fn in_client_net(w: &InWorld) -> i64 {
    let mut net: i64 = 0;
    if w.htlc != InHtlc::Absent {
        net -= IN_AMOUNT.0 as i64;
    }
    if w.htlc == InHtlc::Spent(InSpend::Timeout) {
        net += IN_AMOUNT.0 as i64;
    }
    if w.invoice == InvoiceState::Settled {
        net += IN_INVOICE.0 as i64;
    }
    net
}

pub fn stateright_properties() -> Vec<Property<LoopInModel>> {
    vec![
        Property::always(IN_CLIENT_LOSS_BOUNDED, |m: &LoopInModel, w: &InWorld| {
            !m.honest_client(w)
                || (!(taken_by_server(w) && w.invoice != InvoiceState::Settled) && (!m.over(w) || in_client_net(w) >= -(IN_SWAP_FEE.0 as i64)))
        }),
        Property::always(IN_CLIENT_REFUNDS_UNPAID, |m: &LoopInModel, w: &InWorld| {
            !m.honest_client(w)
                || (!w.refund_missed && (!m.over(w) || w.htlc == InHtlc::Absent || w.invoice == InvoiceState::Settled || w.htlc == InHtlc::Spent(InSpend::Timeout)))
        }),
        Property::always(IN_HONEST_SERVER_PAID, |m: &LoopInModel, w: &InWorld| {
            !m.honest_server(w) || !m.over(w) || w.invoice != InvoiceState::Settled || taken_by_server(w)
        }),
        Property::sometimes(IN_SERVER_CAN_SWEEP, |m: &LoopInModel, w: &InWorld| m.honest_client(w) && taken_by_server(w) && w.invoice == InvoiceState::Settled),
        Property::sometimes(IN_CLIENT_CAN_REFUND, |m: &LoopInModel, w: &InWorld| {
            m.honest_client(w) && w.htlc == InHtlc::Spent(InSpend::Timeout) && w.client.state() == Some(SwapState::FailTimeout)
        }),
        Property::sometimes(IN_HONEST_SERVER_CAN_BE_PAID, |m: &LoopInModel, w: &InWorld| {
            m.honest_server(w) && w.invoice == InvoiceState::Settled && taken_by_server(w)
        }),
    ]
}

// ---- Trace ----------------------------------------------------------------------------------

fn actor(w: &InWorld, step: &InStep) -> &'static str {
    let server = if w.adversary == Adversary::Server { "server (adversary)" } else { "server" };
    match step {
        InStep::Block { .. } => "chain",
        InStep::PayInvoice | InStep::AdversarySweep(_) => server,
        InStep::AdversaryTimeout => "client (adversary)",
        InStep::UserCancelsInvoice => "client's user",
        InStep::Crash | InStep::Restart => "client",
    }
}

fn what(w: &InWorld, step: &InStep) -> String {
    match step {
        InStep::Block { confirms: None } => "a block".into(),
        InStep::Block { confirms: Some(InSpend::Timeout) } => "a block; the client's timeout transaction confirms in it".into(),
        InStep::Block { confirms: Some(_) } => "a block; the server's sweep confirms in it".into(),
        InStep::PayInvoice if w.adversary != Adversary::Server => "pays the swap invoice (learning the preimage) and publishes its sweep".into(),
        InStep::PayInvoice => "pays the swap invoice (learning the preimage)".into(),
        InStep::AdversarySweep(InSpend::KeyPath) => "sweeps the HTLC through the key path with the client's internal key (confirmed)".into(),
        InStep::AdversarySweep(_) => "sweeps the HTLC with the preimage (confirmed)".into(),
        InStep::AdversaryTimeout => "takes the HTLC back through the timeout path (confirmed)".into(),
        InStep::UserCancelsInvoice => "cancels the swap invoice by hand".into(),
        InStep::Crash => "crashes (memory lost, store kept)".into(),
        InStep::Restart => "restarts and resumes the stored swap".into(),
    }
}

pub fn trace(m: &LoopInModel, property: &PropertyDef, path: &[(InWorld, Option<InStep>)]) -> Trace {
    let mut steps = Vec::new();
    for (w, step) in path {
        let Some(step) = step else { continue };
        let mut sink = InSink::default();
        let after = m.apply(w, *step, Some(&mut sink));
        let at = m.at(after.as_ref().map_or(w.height, |a| a.height));
        steps.push(TraceStep { at, actor: actor(w, step).into(), what: what(w, step), notes: sink.notes });
    }
    let mut setup = Vec::new();
    if let Some((w, _)) = path.first() {
        setup.push(format!(
            "Loop In of {} sat: swap fee {} sat (maximum {}), invoice {} sat; HTLC expiry {}; adversary: {}",
            IN_AMOUNT.0,
            IN_SWAP_FEE.0,
            IN_MAX_SWAP_FEE.0,
            IN_INVOICE.0,
            m.expiry(),
            w.adversary.name()
        ));
        setup.push(format!(
            "{}; the client accepted the contract and published its HTLC (confirmed) at h={START}",
            m.cfg.settings_line().replace("--set ", "")
        ));
    }
    let mut outcome = vec![format!("property {}", property.name)];
    if let Some((w, _)) = path.last() {
        let htlc = match w.htlc {
            InHtlc::Absent => "never published",
            InHtlc::Confirmed => "unspent",
            InHtlc::Spent(InSpend::Timeout) => "taken back by the client (timeout path)",
            InHtlc::Spent(InSpend::Preimage) => "swept by the server with the preimage",
            InHtlc::Spent(InSpend::KeyPath) => "swept by the server through the key path",
        };
        let invoice = match w.invoice {
            InvoiceState::Open => "open (unpaid)",
            InvoiceState::Settled => "settled (paid)",
            InvoiceState::Canceled => "cancelled (unpaid)",
        };
        let state = if m.honest_client(w) { w.client.state().map_or("none", |s| s.name()) } else { "(adversary)" };
        outcome.push(format!("HTLC {htlc}; swap invoice {invoice}; client state {state}"));
        outcome.push(format!("client net {} sat (the swap fee it accepted: {} sat)", in_client_net(w), IN_SWAP_FEE.0));
        if w.refund_missed {
            outcome.push("the client let the expiry pass without publishing its timeout transaction".into());
        }
    }
    Trace { setup, steps, outcome }
}
