//! The world of one Loop Out and its steps: the honest client is
//! `loop_reference::loop_out::LoopOutClient`, fed what lnd and the chain report and
//! its actions carried out; the server, the chain and the Lightning payments are
//! the environment; one of client and server may be the adversary.

use loop_reference::htlc::SpendKind;
use loop_reference::loop_out::{Invoice, LoopOutAction, LoopOutClient, LoopOutEvent, LoopOutParams};
use loop_reference::phase::LoopOutPhase;
use loop_reference::terms::{LoopOutLimits, LoopOutOffer};
use loop_reference::units::{BlockHeight, Msat, Sat, SwapHash};
use stateright::{Model, Property};

use super::params::{Adversary, Config};
use super::properties;

/// The height at which the client accepts the contract.
pub const START: u32 = 800_000;
/// The requested amount.
pub const AMOUNT: Sat = Sat(1_000_000);
/// What the server's swap invoice asks (1 002 000 sat) and its prepay invoice (3 000 sat).
pub const SWAP_INVOICE: Sat = Sat(1_002_000);
pub const PREPAY: Sat = Sat(3_000);
/// The fees the client accepted: swap invoice plus prepay minus the amount (loop.out.8).
pub const ACCEPTED_FEES: Sat = Sat(SWAP_INVOICE.0 + PREPAY.0 - AMOUNT.0);
const SWAP_HASH: SwapHash = SwapHash([0x5a; 32]);

/// An off-chain payment from the client to the server (both are sent when the swap starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pay {
    InFlight,
    Settled,
    Failed,
}

/// The server's on-chain HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Htlc {
    Absent,
    Confirmed { value: Sat },
    Spent(SpendKind),
}

/// One state of the world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    pub adversary: Adversary,
    /// The chain tip.
    pub height: u32,
    pub client: LoopOutClient,
    /// The client is down after a crash, until it restarts.
    pub client_down: bool,
    pub crashes_left: u8,
    pub swap_payment: Pay,
    pub prepay: Pay,
    pub htlc: Htlc,
    /// What the HTLC pays, once published.
    pub htlc_value: Sat,
    /// An honest claim is in the mempool and confirms at the latest in the block at this height.
    pub claim_deadline: Option<u32>,
    pub server_knows_preimage: bool,
    /// The tip when the honest client first published a claim (revealing the preimage).
    pub first_reveal_at: Option<u32>,
    /// The server settled the swap payment while the client was before the Complete phase.
    pub settled_before_complete: bool,
}

/// One step of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// A block is found; a pending honest claim confirms in it or not (it must by its deadline).
    Block { claim_confirms: bool },
    /// The server publishes its HTLC (it confirms at once: the client waits for 1 confirmation).
    PublishHtlc { value: Sat },
    /// The server settles the prepay (it can at once).
    SettlePrepay,
    /// The server settles the swap payment with the preimage it learnt.
    SettleSwap,
    /// The adversarial server fails (rejects) an off-chain payment.
    FailPayment(Invoice),
    /// The server spends its HTLC through the timeout path (possible from the expiry on).
    TimeoutSpend,
    /// The adversarial client claims the HTLC whenever it likes (it confirms at once).
    AdversaryClaim,
    /// The honest client crashes (memory lost, store kept).
    Crash,
    /// The honest client restarts and resumes from its store.
    Restart,
}

/// What a step did, when it is rendered or exported: the trace's notes (the client's
/// actions, in words) and every event the honest client got with the actions it answered.
#[derive(Clone, Debug, Default)]
pub struct Sink {
    pub notes: Vec<String>,
    pub io: Vec<(LoopOutEvent, Vec<LoopOutAction>)>,
}

/// The Loop Out model for one configuration.
#[derive(Clone, Debug)]
pub struct LoopModel {
    pub cfg: Config,
}

impl LoopModel {
    pub fn new(cfg: Config) -> LoopModel {
        LoopModel { cfg }
    }

    pub fn expiry(&self) -> u32 {
        START + self.cfg.expiry_delta
    }

    /// A height relative to the expiry, for traces.
    pub fn at(&self, h: u32) -> String {
        let e = i64::from(self.expiry());
        let d = i64::from(h) - e;
        if d == 0 {
            format!("h={h} (expiry)")
        } else if d < 0 {
            format!("h={h} (expiry{d})")
        } else {
            format!("h={h} (expiry+{d})")
        }
    }

    pub fn honest_client(&self, w: &World) -> bool {
        w.adversary != Adversary::Client
    }

    pub fn honest_server(&self, w: &World) -> bool {
        w.adversary != Adversary::Server
    }

    /// What the client fixed before asking the server.
    pub fn client_params(&self) -> LoopOutParams {
        LoopOutParams {
            limits: LoopOutLimits { amount: AMOUNT, max_swap_fee: ACCEPTED_FEES, max_prepay_amount: PREPAY },
            swap_hash: SWAP_HASH,
            cltv_expiry: BlockHeight(self.expiry()),
            bounds: self.cfg.loop_bounds(),
        }
    }

    /// The client after it accepted the server's contract and executed the swap, with
    /// the events it got and its answers.
    pub fn started_client(&self) -> (LoopOutClient, Vec<(LoopOutEvent, Vec<LoopOutAction>)>) {
        let mut client = LoopOutClient::new(self.client_params());
        let offer = LoopOutOffer {
            swap_invoice_hash: SWAP_HASH,
            swap_invoice_amount: Some(Msat(SWAP_INVOICE.0 * 1000)),
            prepay_invoice_amount: Some(Msat(PREPAY.0 * 1000)),
        };
        let io = [LoopOutEvent::ContractOffered { height: BlockHeight(START), offer }, LoopOutEvent::Execute { height: BlockHeight(START) }]
            .into_iter()
            .map(|e| (e, client.handle(e)))
            .collect();
        (client, io)
    }

    fn initial(&self, adversary: Adversary) -> World {
        let (client, _) = self.started_client();
        World {
            adversary,
            height: START,
            client,
            client_down: false,
            crashes_left: if adversary == Adversary::Client { 0 } else { self.cfg.crashes },
            swap_payment: Pay::InFlight,
            prepay: Pay::InFlight,
            htlc: Htlc::Absent,
            htlc_value: Sat(0),
            claim_deadline: None,
            server_knows_preimage: false,
            first_reveal_at: None,
            settled_before_complete: false,
        }
    }

    /// The chain stops once the expiry has passed and no honest claim is pending: from
    /// there on nothing can change what anyone ends with (an unclaimed HTLC is the server's).
    pub fn over(&self, w: &World) -> bool {
        matches!(w.htlc, Htlc::Spent(_)) || (w.height > self.expiry() && w.claim_deadline.is_none())
    }

    /// Feeds one event to the client (unless it is down) and carries out its actions.
    fn feed(&self, w: &mut World, event: LoopOutEvent, log: &mut Option<&mut Sink>) {
        if w.client_down {
            return;
        }
        let actions = w.client.handle(event);
        if let Some(l) = log.as_deref_mut() {
            l.notes.extend(actions.iter().map(|a| format!("client: {}", describe_action(a))));
            l.io.push((event, actions.clone()));
        }
        for a in actions {
            self.carry_out(w, a);
        }
    }

    fn carry_out(&self, w: &mut World, action: LoopOutAction) {
        let honest = self.honest_client(w);
        match action {
            LoopOutAction::PublishClaim(_) if honest => {
                if let Htlc::Confirmed { .. } = w.htlc {
                    // The claim's witness holds the preimage: the server sees it in the mempool.
                    w.server_knows_preimage = true;
                    w.first_reveal_at.get_or_insert(w.height);
                    if w.claim_deadline.is_none() {
                        w.claim_deadline = Some(w.height + self.cfg.confirm_blocks);
                    }
                }
            }
            LoopOutAction::PushPreimage if honest => w.server_knows_preimage = true,
            // Payments were sent at the start; lnd pays a hash once, so a retry changes nothing.
            // Persist, Report, Finish, ReportPaymentFailure: bookkeeping.
            // The adversarial client withholds its claim and its preimage (it claims by `AdversaryClaim`).
            _ => {}
        }
    }

    /// After a restart the host re-registers with lnd and the chain: it reports what
    /// became final and what confirmed (Loop's `execute` waits for them again).
    fn resume(&self, w: &mut World, log: &mut Option<&mut Sink>) {
        let tip = BlockHeight(w.height);
        self.feed(w, LoopOutEvent::Execute { height: tip }, log);
        for (inv, pay) in [(Invoice::Swap, w.swap_payment), (Invoice::Prepay, w.prepay)] {
            match pay {
                Pay::Settled => self.feed(w, LoopOutEvent::PaymentSucceeded(inv), log),
                Pay::Failed => self.feed(w, LoopOutEvent::PaymentFailed(inv), log),
                Pay::InFlight => {}
            }
        }
        match w.htlc {
            Htlc::Absent => {}
            Htlc::Confirmed { value } => {
                self.feed(w, LoopOutEvent::HtlcConfirmed { value }, log);
                self.feed(w, LoopOutEvent::SweepTimer, log);
            }
            Htlc::Spent(kind) => {
                let value = w.htlc_value;
                self.feed(w, LoopOutEvent::HtlcConfirmed { value }, log);
                self.feed(w, LoopOutEvent::HtlcSpent(kind), log);
            }
        }
    }

    /// `log`: where the trace's notes and the client's events and answers go, when rendering or exporting.
    pub fn apply(&self, w: &World, step: Step, mut log: Option<&mut Sink>) -> Option<World> {
        let mut w = w.clone();
        match step {
            Step::Block { claim_confirms } => {
                w.height += 1;
                if claim_confirms {
                    if let Htlc::Confirmed { .. } = w.htlc {
                        w.htlc = Htlc::Spent(SpendKind::Success);
                        self.feed(&mut w, LoopOutEvent::HtlcSpent(SpendKind::Success), &mut log);
                    }
                    w.claim_deadline = None;
                }
                let tip = BlockHeight(w.height);
                self.feed(&mut w, LoopOutEvent::Block { height: tip }, &mut log);
                // Loop re-arms the claim timer after each block.
                self.feed(&mut w, LoopOutEvent::SweepTimer, &mut log);
            }
            Step::PublishHtlc { value } => {
                w.htlc = Htlc::Confirmed { value };
                w.htlc_value = value;
                self.feed(&mut w, LoopOutEvent::HtlcConfirmed { value }, &mut log);
                self.feed(&mut w, LoopOutEvent::SweepTimer, &mut log);
            }
            Step::SettlePrepay => {
                w.prepay = Pay::Settled;
                self.feed(&mut w, LoopOutEvent::PaymentSucceeded(Invoice::Prepay), &mut log);
            }
            Step::SettleSwap => {
                w.swap_payment = Pay::Settled;
                if w.client.phase() < LoopOutPhase::Complete {
                    w.settled_before_complete = true;
                }
                self.feed(&mut w, LoopOutEvent::PaymentSucceeded(Invoice::Swap), &mut log);
            }
            Step::FailPayment(inv) => {
                match inv {
                    Invoice::Swap => w.swap_payment = Pay::Failed,
                    Invoice::Prepay => w.prepay = Pay::Failed,
                }
                self.feed(&mut w, LoopOutEvent::PaymentFailed(inv), &mut log);
            }
            Step::TimeoutSpend => {
                w.htlc = Htlc::Spent(SpendKind::Timeout);
                w.claim_deadline = None;
                self.feed(&mut w, LoopOutEvent::HtlcSpent(SpendKind::Timeout), &mut log);
            }
            Step::AdversaryClaim => {
                w.htlc = Htlc::Spent(SpendKind::Success);
                w.server_knows_preimage = true;
            }
            Step::Crash => {
                self.feed(&mut w, LoopOutEvent::UnexpectedError, &mut log);
                w.client_down = true;
                w.crashes_left -= 1;
            }
            Step::Restart => {
                w.client_down = false;
                self.resume(&mut w, &mut log);
            }
        }
        Some(w)
    }

    fn steps(&self, w: &World, out: &mut Vec<Step>) {
        let expiry = self.expiry();
        let adv_server = w.adversary == Adversary::Server;
        // The chain.
        if w.height <= expiry || w.claim_deadline.is_some() {
            match w.claim_deadline {
                Some(d) if w.height + 1 >= d => out.push(Step::Block { claim_confirms: true }),
                Some(_) => {
                    out.push(Step::Block { claim_confirms: true });
                    out.push(Step::Block { claim_confirms: false });
                }
                None => out.push(Step::Block { claim_confirms: false }),
            }
        }
        // The server.
        if w.htlc == Htlc::Absent && w.height < expiry {
            out.push(Step::PublishHtlc { value: AMOUNT });
            if adv_server {
                out.push(Step::PublishHtlc { value: Sat(AMOUNT.0 - 1) });
            }
        }
        if w.prepay == Pay::InFlight {
            out.push(Step::SettlePrepay);
            if adv_server {
                out.push(Step::FailPayment(Invoice::Prepay));
            }
        }
        if w.swap_payment == Pay::InFlight {
            if w.server_knows_preimage {
                out.push(Step::SettleSwap);
            }
            if adv_server {
                out.push(Step::FailPayment(Invoice::Swap));
            }
        }
        if matches!(w.htlc, Htlc::Confirmed { .. }) && w.height >= expiry {
            out.push(Step::TimeoutSpend);
        }
        // The client.
        if w.adversary == Adversary::Client && matches!(w.htlc, Htlc::Confirmed { .. }) {
            out.push(Step::AdversaryClaim);
        }
        if self.honest_client(w) {
            if w.client_down {
                out.push(Step::Restart);
            } else if w.crashes_left > 0 && !w.client.is_finished() && !self.over(w) {
                out.push(Step::Crash);
            }
        }
    }
}

/// An action in a trace line.
pub fn describe_action(a: &LoopOutAction) -> String {
    match a {
        LoopOutAction::Refuse(r) => format!("refuse ({})", r.name()),
        LoopOutAction::Persist(s) => format!("persist {}", s.name()),
        LoopOutAction::Report(s) => format!("report {}", s.name()),
        LoopOutAction::PayInvoice(i) => format!("pay the {} invoice", i.name()),
        LoopOutAction::ReportPaymentFailure(i) => format!("report the {} payment failed", i.name()),
        LoopOutAction::PublishClaim(p) => format!("publish the claim (conf target {}{}), revealing the preimage", p.conf_target, if p.urgent { ", urgent" } else { "" }),
        LoopOutAction::PushPreimage => "push the preimage to the server".into(),
        LoopOutAction::Finish(s) => format!("finish: {}", s.name()),
    }
}

impl Model for LoopModel {
    type State = World;
    type Action = Step;

    fn init_states(&self) -> Vec<World> {
        self.cfg.adversaries.iter().map(|a| self.initial(*a)).collect()
    }

    fn actions(&self, w: &World, out: &mut Vec<Step>) {
        self.steps(w, out);
    }

    fn next_state(&self, w: &World, step: Step) -> Option<World> {
        self.apply(w, step, None)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::stateright_properties()
    }
}
