//! The Loop Out client as a state machine (LOOP-01 "Loop Out phases", "Loop Out:
//! the server's terms", "Loop Out: execution").
//!
//! The machine is Loop's `loopOutSwap` with the goroutines, channels and timers
//! turned into events: the host (a node, a vector script, a model checker) feeds
//! it what lnd, the chain and the server report, and carries out the actions it
//! returns. It holds no key and no preimage: `PublishClaim` and `PushPreimage` tell
//! the host to use the preimage it keeps.

use crate::constants::Bounds;
use crate::htlc::SpendKind;
use crate::phase::LoopOutPhase;
use crate::state::SwapState;
use crate::terms::{
    check_htlc_wait, check_loop_out_htlc_value, check_preimage_reveal, claim_fee_policy, validate_loop_out_contract,
    ClaimFeePolicy, LoopOutContractError, LoopOutLimits, LoopOutOffer,
};
use crate::units::{BlockHeight, Sat, SwapHash};

/// What the client fixed before asking the server: its limits, the swap hash of the
/// preimage it drew, and the HTLC expiry it chose ([`crate::terms::loop_out_expiry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopOutParams {
    pub limits: LoopOutLimits,
    pub swap_hash: SwapHash,
    pub cltv_expiry: BlockHeight,
    /// LOOP-01's deadlines ([`Bounds::LOOP01`]), a parameter for model checking.
    pub bounds: Bounds,
}

/// The two off-chain payments of a Loop Out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invoice {
    /// The funding payment, locked to the swap hash.
    Swap,
    /// The prepay: the fee HTLC the server may settle at once.
    Prepay,
}

impl Invoice {
    pub fn name(self) -> &'static str {
        match self {
            Invoice::Swap => "swap",
            Invoice::Prepay => "prepay",
        }
    }
}

/// Where an off-chain payment stands, as far as the client knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    NotSent,
    InFlight,
    Succeeded,
    Failed,
}

impl PaymentStatus {
    fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Succeeded | PaymentStatus::Failed)
    }
}

/// What the client knows of the server's on-chain HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HtlcStatus {
    /// Not (yet) confirmed to the required depth.
    Unconfirmed,
    /// Confirmed, paying this much; the client now waits for its spend.
    Confirmed { value: Sat },
    /// A spend of it confirmed.
    Spent(SpendKind),
}

/// What happens to a Loop Out client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopOutEvent {
    /// The server answered the swap request at this height (its invoices decoded).
    ContractOffered { height: BlockHeight, offer: LoopOutOffer },
    /// Run the stored swap from its persisted state (Loop's `execute`): after the
    /// contract is stored, and again after an error or a restart.
    Execute { height: BlockHeight },
    /// A new block.
    Block { height: BlockHeight },
    /// lnd reports an off-chain payment settled by the server.
    PaymentSucceeded(Invoice),
    /// lnd reports an off-chain payment failed for good.
    PaymentFailed(Invoice),
    /// The server's HTLC reached the required confirmations, paying `value`. The host
    /// matches outputs against the client's own script ([`crate::htlc`]).
    // LOOP-01: "The client MUST recognise the server's HTLC only by the output script it computes itself from the swap hash, both script keys and the HTLC expiry."
    HtlcConfirmed { value: Sat },
    /// The claim timer fired (Loop re-arms it after each block).
    SweepTimer,
    /// A spend of the HTLC confirmed.
    HtlcSpent(SpendKind),
    /// An unexpected error (or a crash) stopped the swap's execution; memory is lost
    /// but the store is not.
    UnexpectedError,
}

/// What the client does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopOutAction {
    /// The server's contract is refused; the swap is not stored.
    Refuse(LoopOutContractError),
    /// Write this state to the store.
    Persist(SwapState),
    /// Report this state without storing it (FailTemporary).
    Report(SwapState),
    /// Pay this invoice (again, after a restart: lnd pays a hash once).
    PayInvoice(Invoice),
    /// Tell the server this payment failed.
    ReportPaymentFailure(Invoice),
    /// Publish (or re-publish) the claim of the HTLC with the preimage.
    PublishClaim(ClaimFeePolicy),
    /// Send the preimage to the server.
    PushPreimage,
    /// The outcome is final and stored; the machine ignores further events.
    Finish(SwapState),
}

/// A Loop Out client: `handle(event) -> actions`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LoopOutClient {
    params: LoopOutParams,
    phase: LoopOutPhase,
    /// `None` until the contract is accepted.
    state: Option<SwapState>,
    persisted: Option<SwapState>,
    height: BlockHeight,
    swap_payment: PaymentStatus,
    prepay: PaymentStatus,
    htlc: HtlcStatus,
    /// Whether the swap is running (between `Execute` and an error or the finish).
    executing: bool,
    refused: Option<LoopOutContractError>,
    finished: bool,
}

impl LoopOutClient {
    /// A client that has fixed its parameters and awaits the server's contract.
    pub fn new(params: LoopOutParams) -> LoopOutClient {
        LoopOutClient {
            params,
            phase: LoopOutPhase::Initiation,
            state: None,
            persisted: None,
            height: BlockHeight(0),
            swap_payment: PaymentStatus::NotSent,
            prepay: PaymentStatus::NotSent,
            htlc: HtlcStatus::Unconfirmed,
            executing: false,
            refused: None,
            finished: false,
        }
    }

    pub fn params(&self) -> &LoopOutParams {
        &self.params
    }
    pub fn phase(&self) -> LoopOutPhase {
        self.phase
    }
    pub fn state(&self) -> Option<SwapState> {
        self.state
    }
    pub fn persisted_state(&self) -> Option<SwapState> {
        self.persisted
    }
    pub fn height(&self) -> BlockHeight {
        self.height
    }
    pub fn htlc(&self) -> HtlcStatus {
        self.htlc
    }
    pub fn payment(&self, invoice: Invoice) -> PaymentStatus {
        match invoice {
            Invoice::Swap => self.swap_payment,
            Invoice::Prepay => self.prepay,
        }
    }
    pub fn refused(&self) -> Option<LoopOutContractError> {
        self.refused
    }
    pub fn is_finished(&self) -> bool {
        self.finished
    }
    /// Whether the client has published a claim, revealing the preimage.
    pub fn preimage_revealed(&self) -> bool {
        self.phase >= LoopOutPhase::Complete
    }

    /// Feeds one event; returns what to do, in order.
    pub fn handle(&mut self, event: LoopOutEvent) -> Vec<LoopOutAction> {
        let mut out = Vec::new();
        if self.finished || self.refused.is_some() {
            return out;
        }
        match event {
            LoopOutEvent::ContractOffered { height, offer } => self.on_contract(height, &offer, &mut out),
            LoopOutEvent::Execute { height } => self.on_execute(height, &mut out),
            _ if !self.executing => {}
            LoopOutEvent::Block { height } => self.on_block(height, &mut out),
            LoopOutEvent::PaymentSucceeded(invoice) => self.on_payment(invoice, PaymentStatus::Succeeded, &mut out),
            LoopOutEvent::PaymentFailed(invoice) => self.on_payment(invoice, PaymentStatus::Failed, &mut out),
            LoopOutEvent::HtlcConfirmed { value } => self.on_htlc_confirmed(value, &mut out),
            LoopOutEvent::SweepTimer => self.on_sweep_timer(&mut out),
            LoopOutEvent::HtlcSpent(kind) => self.on_spent(kind, &mut out),
            LoopOutEvent::UnexpectedError => self.on_error(&mut out),
        }
        out
    }

    fn pending(&self) -> bool {
        self.state.is_some_and(SwapState::is_pending)
    }

    // LOOP-01: "In the Initiation phase the client MUST obtain the server's terms and validate them before it pays anything."
    // LOOP-01: "The client MUST accept no swap before it has validated every term the server proposed for it."
    fn on_contract(&mut self, height: BlockHeight, offer: &LoopOutOffer, out: &mut Vec<LoopOutAction>) {
        if self.state.is_some() {
            return;
        }
        self.height = height;
        match validate_loop_out_contract(&self.params.limits, &self.params.swap_hash, offer) {
            Err(reason) => {
                self.refused = Some(reason);
                out.push(LoopOutAction::Refuse(reason));
            }
            Ok(_) => self.set_persisted(SwapState::Initiated, out),
        }
    }

    /// Loop's `execute` from the persisted state: pay both invoices (again), then wait for the HTLC.
    // LOOP-01: "After a restart the client MUST resume a pending swap from its last persisted state."
    fn on_execute(&mut self, height: BlockHeight, out: &mut Vec<LoopOutAction>) {
        let Some(persisted) = self.persisted else { return };
        if self.executing {
            return;
        }
        self.executing = true;
        self.height = height;
        self.state = Some(persisted);
        self.htlc = HtlcStatus::Unconfirmed;
        if persisted.is_final() {
            self.finish(persisted, out);
            return;
        }
        // LOOP-01: "In the Funding phase the client MUST pay the swap invoice, whose payment hash is the swap hash, so that the server can settle it only with the preimage."
        // LOOP-01: "In the Fee phase the client MUST pay the server's prepay invoice, a small off-chain payment that the server can settle at once."
        for invoice in [Invoice::Swap, Invoice::Prepay] {
            out.push(LoopOutAction::PayInvoice(invoice));
            let status = self.payment_mut(invoice);
            if *status == PaymentStatus::NotSent {
                *status = PaymentStatus::InFlight;
            }
        }
        self.enter_phase(LoopOutPhase::Funding);
        if self.state == Some(SwapState::Initiated) {
            self.check_wait_deadline(out);
        }
    }

    fn on_block(&mut self, height: BlockHeight, out: &mut Vec<LoopOutAction>) {
        self.height = height;
        if self.state == Some(SwapState::Initiated) && self.htlc == HtlcStatus::Unconfirmed {
            self.check_wait_deadline(out);
        }
    }

    fn check_wait_deadline(&mut self, out: &mut Vec<LoopOutAction>) {
        if check_htlc_wait(self.height, self.params.cltv_expiry, &self.params.bounds).is_err() {
            self.end(SwapState::FailTimeout, out);
        }
    }

    fn on_payment(&mut self, invoice: Invoice, status: PaymentStatus, out: &mut Vec<LoopOutAction>) {
        if self.payment(invoice).is_final() {
            return;
        }
        *self.payment_mut(invoice) = status;
        if invoice == Invoice::Swap && status == PaymentStatus::Succeeded {
            // LOOP-01: "In the Final phase the server MAY settle the swap invoice with the preimage revealed on chain."
            self.enter_phase(LoopOutPhase::Final);
        }
        // LOOP-01: "The client MUST end the swap in state FailOffchainPayments if the swap payment or the prepayment fails while it waits for the HTLC to confirm."
        if status == PaymentStatus::Failed && self.state == Some(SwapState::Initiated) && self.htlc == HtlcStatus::Unconfirmed {
            // LOOP-01: "The client SHOULD report an off-chain payment failure to the server."
            out.push(LoopOutAction::ReportPaymentFailure(invoice));
            self.end(SwapState::FailOffchainPayments, out);
            return;
        }
        self.maybe_finish(out);
    }

    // LOOP-01: "In the Payment phase the server MUST publish the on-chain HTLC with the client as receiver, locked to the swap hash."
    // LOOP-01: "The client MUST wait for the HTLC to reach the swap's required number of confirmations, 1 unless the user asked for more, before it claims the HTLC."
    fn on_htlc_confirmed(&mut self, value: Sat, out: &mut Vec<LoopOutAction>) {
        if !self.pending() || self.htlc != HtlcStatus::Unconfirmed {
            return;
        }
        self.enter_phase(LoopOutPhase::Payment);
        self.htlc = HtlcStatus::Confirmed { value };
        let revealed = self.state == Some(SwapState::PreimageRevealed);
        if check_loop_out_htlc_value(value, self.params.limits.amount, revealed).is_err() {
            self.end(SwapState::FailInsufficientValue, out);
        }
    }

    fn on_sweep_timer(&mut self, out: &mut Vec<LoopOutAction>) {
        if !self.pending() || !matches!(self.htlc, HtlcStatus::Confirmed { .. }) {
            return;
        }
        let revealed = self.state == Some(SwapState::PreimageRevealed);
        // LOOP-01: "A client that has not revealed the preimage and may no longer reveal it MUST end the swap in state FailTimeout."
        if check_preimage_reveal(self.height, self.params.cltv_expiry, revealed, &self.params.bounds).is_err() {
            self.state = Some(SwapState::FailTimeout);
            self.persisted = Some(SwapState::FailTimeout);
            out.push(LoopOutAction::Persist(SwapState::FailTimeout));
            self.maybe_finish(out);
            return;
        }
        // LOOP-01: "In the Complete phase the client MUST claim the confirmed on-chain HTLC with the preimage, which reveals the preimage on chain."
        // LOOP-01: "The client MUST NOT disclose the Loop Out preimage, on chain or to the server, before it publishes its claim of a confirmed HTLC that pays it at least the requested amount."
        out.push(LoopOutAction::PublishClaim(claim_fee_policy(self.height, self.params.cltv_expiry)));
        // LOOP-01: "The client MUST record state PreimageRevealed before or when it first publishes a claim of the HTLC."
        if !revealed {
            self.set_persisted(SwapState::PreimageRevealed, out);
        }
        self.enter_phase(LoopOutPhase::Complete);
        // LOOP-01: "After revealing the preimage, the client SHOULD push the preimage to the server until it sees the swap payment succeed."
        if self.swap_payment != PaymentStatus::Succeeded {
            out.push(LoopOutAction::PushPreimage);
        }
    }

    // LOOP-01: "When a spend of the HTLC confirms, the client MUST end the swap in state Success if it is a success spend and in state FailSweepTimeout otherwise."
    fn on_spent(&mut self, kind: SpendKind, out: &mut Vec<LoopOutAction>) {
        if !self.pending() || !matches!(self.htlc, HtlcStatus::Confirmed { .. }) {
            return;
        }
        self.htlc = HtlcStatus::Spent(kind);
        let state = match kind {
            SpendKind::Success => SwapState::Success,
            SpendKind::Timeout => SwapState::FailSweepTimeout,
        };
        self.end(state, out);
    }

    fn on_error(&mut self, out: &mut Vec<LoopOutAction>) {
        if !self.pending() {
            return;
        }
        self.executing = false;
        self.state = Some(SwapState::FailTemporary);
        out.push(LoopOutAction::Report(SwapState::FailTemporary));
    }

    fn set_persisted(&mut self, state: SwapState, out: &mut Vec<LoopOutAction>) {
        self.state = Some(state);
        self.persisted = Some(state);
        out.push(LoopOutAction::Persist(state));
    }

    /// A final outcome: stored once both payments are final.
    fn end(&mut self, state: SwapState, out: &mut Vec<LoopOutAction>) {
        self.state = Some(state);
        self.maybe_finish(out);
    }

    // LOOP-01: "The client MUST record a final state as the swap's outcome only once both off-chain payments have a final result."
    fn maybe_finish(&mut self, out: &mut Vec<LoopOutAction>) {
        let Some(state) = self.state else { return };
        if state.is_final() && self.swap_payment.is_final() && self.prepay.is_final() {
            self.finish(state, out);
        }
    }

    // LOOP-01: "A swap in a final state MUST NOT change state again."
    fn finish(&mut self, state: SwapState, out: &mut Vec<LoopOutAction>) {
        self.state = Some(state);
        self.persisted = Some(state);
        self.finished = true;
        self.executing = false;
        out.push(LoopOutAction::Finish(state));
    }

    fn enter_phase(&mut self, next: LoopOutPhase) {
        // A phase the swap may not enter yet leaves the phase where it is; the model
        // checker judges that from the world, not from here.
        if let Ok(p) = self.phase.advance(next) {
            self.phase = p;
        }
    }

    fn payment_mut(&mut self, invoice: Invoice) -> &mut PaymentStatus {
        match invoice {
            Invoice::Swap => &mut self.swap_payment,
            Invoice::Prepay => &mut self.prepay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Msat;
    use LoopOutAction::*;
    use LoopOutEvent::*;

    const HASH: SwapHash = SwapHash([7; 32]);

    fn client() -> LoopOutClient {
        LoopOutClient::new(LoopOutParams {
            limits: LoopOutLimits { amount: Sat(1_000_000), max_swap_fee: Sat(5_000), max_prepay_amount: Sat(3_000) },
            swap_hash: HASH,
            cltv_expiry: BlockHeight(800_100),
            bounds: Bounds::LOOP01,
        })
    }

    fn offer() -> LoopOutOffer {
        LoopOutOffer { swap_invoice_hash: HASH, swap_invoice_amount: Some(Msat(1_002_000_000)), prepay_invoice_amount: Some(Msat(3_000_000)) }
    }

    #[test]
    fn happy_path_goes_through_the_six_phases() {
        let mut c = client();
        assert_eq!(c.phase(), LoopOutPhase::Initiation);
        assert_eq!(c.handle(ContractOffered { height: BlockHeight(800_000), offer: offer() }), vec![Persist(SwapState::Initiated)]);
        assert_eq!(c.handle(Execute { height: BlockHeight(800_000) }), vec![PayInvoice(Invoice::Swap), PayInvoice(Invoice::Prepay)]);
        assert_eq!(c.phase(), LoopOutPhase::Funding);
        assert_eq!(c.handle(PaymentSucceeded(Invoice::Prepay)), vec![]);
        assert_eq!(c.handle(HtlcConfirmed { value: Sat(1_000_000) }), vec![]);
        assert_eq!(c.phase(), LoopOutPhase::Payment);
        let a = c.handle(SweepTimer);
        assert_eq!(a, vec![PublishClaim(ClaimFeePolicy { conf_target: 100, urgent: false }), Persist(SwapState::PreimageRevealed), PushPreimage]);
        assert_eq!(c.phase(), LoopOutPhase::Complete);
        assert_eq!(c.handle(PaymentSucceeded(Invoice::Swap)), vec![]);
        assert_eq!(c.phase(), LoopOutPhase::Final);
        assert_eq!(c.handle(HtlcSpent(SpendKind::Success)), vec![Finish(SwapState::Success)]);
        assert!(c.is_finished());
        assert_eq!(c.handle(Block { height: BlockHeight(800_001) }), vec![]);
    }

    #[test]
    fn refused_contract_stores_nothing() {
        let mut c = client();
        let bad = LoopOutOffer { swap_invoice_hash: SwapHash([8; 32]), ..offer() };
        assert_eq!(c.handle(ContractOffered { height: BlockHeight(800_000), offer: bad }), vec![Refuse(LoopOutContractError::SwapHashMismatch)]);
        assert_eq!((c.state(), c.persisted_state()), (None, None));
        assert_eq!(c.handle(HtlcConfirmed { value: Sat(1_000_000) }), vec![]);
    }

    #[test]
    fn server_cannot_finish_before_complete() {
        let mut c = client();
        c.handle(ContractOffered { height: BlockHeight(800_000), offer: offer() });
        c.handle(Execute { height: BlockHeight(800_000) });
        // An impossible settlement (the server lacks the preimage) does not move the phase.
        c.handle(PaymentSucceeded(Invoice::Swap));
        assert_eq!(c.phase(), LoopOutPhase::Funding);
    }
}

#[cfg(test)]
mod properties {
    //! Invariants over arbitrary event sequences: the safety side of LOOP-01 that a
    //! model checker will explore exhaustively (issue 17 item 4); here sampled.
    use super::*;
    use crate::terms::check_preimage_reveal;
    use crate::units::Msat;
    use proptest::prelude::*;

    const HASH: SwapHash = SwapHash([7; 32]);
    const EXPIRY: u32 = 800_100;

    fn event() -> impl Strategy<Value = LoopOutEvent> {
        let invoice = prop_oneof![Just(Invoice::Swap), Just(Invoice::Prepay)];
        let height = (800_000u32..800_130).prop_map(BlockHeight);
        prop_oneof![
            (height.clone(), 1_001_990_000u64..1_002_010_000, prop::option::weighted(0.9, 0u64..4_000_000), any::<bool>()).prop_map(
                |(height, swap, prepay, right_hash)| LoopOutEvent::ContractOffered {
                    height,
                    offer: LoopOutOffer {
                        swap_invoice_hash: if right_hash { HASH } else { SwapHash([8; 32]) },
                        swap_invoice_amount: Some(Msat(swap)),
                        prepay_invoice_amount: prepay.map(Msat),
                    }
                }
            ),
            height.clone().prop_map(|height| LoopOutEvent::Execute { height }),
            height.prop_map(|height| LoopOutEvent::Block { height }),
            invoice.clone().prop_map(LoopOutEvent::PaymentSucceeded),
            invoice.prop_map(LoopOutEvent::PaymentFailed),
            (999_990u64..1_000_010).prop_map(|v| LoopOutEvent::HtlcConfirmed { value: Sat(v) }),
            Just(LoopOutEvent::SweepTimer),
            prop_oneof![Just(SpendKind::Success), Just(SpendKind::Timeout)].prop_map(LoopOutEvent::HtlcSpent),
            Just(LoopOutEvent::UnexpectedError),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn loop_out_invariants(events in prop::collection::vec(event(), 1..40)) {
            let mut c = LoopOutClient::new(LoopOutParams {
                limits: LoopOutLimits { amount: Sat(1_000_000), max_swap_fee: Sat(5_000), max_prepay_amount: Sat(3_000) },
                swap_hash: HASH,
                cltv_expiry: BlockHeight(EXPIRY),
                bounds: Bounds::LOOP01,
            });
            let mut revealed = false;
            let mut finishes = 0;
            for e in events {
                let before = c.clone();
                let actions = c.handle(e);
                for a in &actions {
                    match a {
                        LoopOutAction::PublishClaim(_) => {
                            // A first claim only with a confirmed HTLC of enough value, in time.
                            if !revealed {
                                let HtlcStatus::Confirmed { value } = c.htlc() else { panic!("claim without a confirmed HTLC") };
                                prop_assert!(value >= Sat(1_000_000));
                                prop_assert!(check_preimage_reveal(c.height(), BlockHeight(EXPIRY), false, &Bounds::LOOP01).is_ok());
                            }
                            revealed = true;
                        }
                        LoopOutAction::PushPreimage => prop_assert!(revealed, "preimage pushed before any claim"),
                        LoopOutAction::PayInvoice(_) => prop_assert!(c.persisted_state().is_some(), "paid before accepting"),
                        LoopOutAction::Finish(s) => {
                            finishes += 1;
                            prop_assert!(s.is_final());
                            prop_assert!(c.payment(Invoice::Swap) != PaymentStatus::InFlight && c.payment(Invoice::Prepay) != PaymentStatus::InFlight);
                        }
                        LoopOutAction::Persist(s) => prop_assert_ne!(*s, SwapState::FailTemporary),
                        _ => {}
                    }
                }
                prop_assert!(finishes <= 1);
                // A finished or refused machine never changes.
                if before.is_finished() || before.refused().is_some() {
                    prop_assert_eq!(&before, &c);
                }
                // Phases only move forward; Complete exactly when a claim went out.
                prop_assert!(c.phase() >= before.phase());
                prop_assert_eq!(c.preimage_revealed(), revealed);
            }
        }
    }
}
