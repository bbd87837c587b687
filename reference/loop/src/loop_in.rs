//! The Loop In client as a state machine (LOOP-01 "Loop In").
//!
//! Loop's `loopInSwap` with its select loops turned into events. The client funds
//! the on-chain HTLC (or the user does, externally), the server pays the client's
//! invoice and claims the HTLC with the preimage; if it does not, the client takes
//! the HTLC back after the expiry.

use core::fmt;

use crate::constants::Bounds;
use crate::htlc::SpendKind;
use crate::protocol::ProtocolVersion;
use crate::state::SwapState;
use crate::terms::{
    check_loop_in_htlc_value, check_loop_in_publish, check_loop_in_swap_fee, loop_in_timeout_due, validate_loop_in_contract,
    LoopInExpiryError, LoopInFeeError,
};
use crate::units::{BlockHeight, Sat};

/// What the client fixed before asking the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopInParams {
    pub amount: Sat,
    pub max_swap_fee: Sat,
    /// The user publishes the HTLC; the client does not.
    pub external_htlc: bool,
    pub protocol_version: ProtocolVersion,
    /// LOOP-01's bounds ([`Bounds::LOOP01`]), a parameter for model checking.
    pub bounds: Bounds,
}

/// Where the swap invoice stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvoiceStatus {
    Open,
    Settled,
    Canceled,
}

/// What the client knows of its HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HtlcStatus {
    Unconfirmed,
    Confirmed { value: Sat },
}

/// What happens to a Loop In client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopInEvent {
    /// The server quoted `swap_fee` and, for the swap, chose `cltv_expiry`, at this height.
    ContractOffered { height: BlockHeight, swap_fee: Sat, cltv_expiry: BlockHeight },
    /// Run the stored swap from its persisted state (Loop's `execute`): after the
    /// contract is stored, and again after an error or a restart.
    Execute { height: BlockHeight },
    Block { height: BlockHeight },
    /// The wallet could not fund the HTLC transaction.
    HtlcPublishFailed,
    /// The HTLC confirmed, holding `value`. The host reports only the client's own HTLC, matched by
    /// the transaction it published as well as by the script.
    // LOOP-01: "The client SHOULD recognise its own HTLC by the transaction it published as well as by the output script, so that a copy of the script with a lower value is not taken for it."
    HtlcConfirmed { value: Sat },
    /// The server paid the swap invoice.
    InvoiceSettled,
    /// The swap invoice was cancelled.
    InvoiceCanceled,
    /// A spend of the HTLC confirmed.
    HtlcSpent(SpendKind),
    /// The user abandons the swap.
    Abandon,
    /// An unexpected error (or a crash) stopped the swap's execution; memory is lost
    /// but the store is not.
    UnexpectedError,
}

/// Why the client refused the server's Loop In terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopInRefusal {
    Fee(LoopInFeeError),
    Expiry(LoopInExpiryError),
}

impl LoopInRefusal {
    pub fn name(&self) -> &'static str {
        match self {
            LoopInRefusal::Fee(e) => e.name(),
            LoopInRefusal::Expiry(e) => e.name(),
        }
    }
}

impl fmt::Display for LoopInRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopInRefusal::Fee(e) => e.fmt(f),
            LoopInRefusal::Expiry(e) => e.fmt(f),
        }
    }
}

/// What the client does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopInAction {
    Refuse(LoopInRefusal),
    Persist(SwapState),
    Report(SwapState),
    /// Broadcast the HTLC transaction paying the swap amount.
    PublishHtlc,
    /// Broadcast (or re-broadcast) the timeout transaction.
    PublishTimeout,
    /// Send the client's internal private key to the server.
    RevealInternalKey,
    CancelInvoice,
    /// The outcome is final and stored; the machine ignores further events.
    Finish(SwapState),
}

/// A Loop In client: `handle(event) -> actions`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LoopInClient {
    params: LoopInParams,
    cltv_expiry: BlockHeight,
    state: Option<SwapState>,
    persisted: Option<SwapState>,
    height: BlockHeight,
    htlc: HtlcStatus,
    htlc_spent: bool,
    invoice: InvoiceStatus,
    key_revealed: bool,
    /// Whether the swap is running (between `Execute` and an error or the finish).
    executing: bool,
    refused: Option<LoopInRefusal>,
    finished: bool,
}

impl LoopInClient {
    pub fn new(params: LoopInParams) -> LoopInClient {
        LoopInClient {
            params,
            cltv_expiry: BlockHeight(0),
            state: None,
            persisted: None,
            height: BlockHeight(0),
            htlc: HtlcStatus::Unconfirmed,
            htlc_spent: false,
            invoice: InvoiceStatus::Open,
            key_revealed: false,
            executing: false,
            refused: None,
            finished: false,
        }
    }

    pub fn params(&self) -> &LoopInParams {
        &self.params
    }
    pub fn cltv_expiry(&self) -> BlockHeight {
        self.cltv_expiry
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
    pub fn invoice(&self) -> InvoiceStatus {
        self.invoice
    }
    pub fn key_revealed(&self) -> bool {
        self.key_revealed
    }
    pub fn refused(&self) -> Option<LoopInRefusal> {
        self.refused
    }
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn handle(&mut self, event: LoopInEvent) -> Vec<LoopInAction> {
        let mut out = Vec::new();
        if self.finished || self.refused.is_some() {
            return out;
        }
        match event {
            LoopInEvent::ContractOffered { height, swap_fee, cltv_expiry } => self.on_contract(height, swap_fee, cltv_expiry, &mut out),
            LoopInEvent::Execute { height } => self.on_execute(height, &mut out),
            // Invoice updates are remembered even while stopped: lnd replays the state.
            LoopInEvent::InvoiceSettled => self.on_invoice(InvoiceStatus::Settled, &mut out),
            LoopInEvent::InvoiceCanceled => self.on_invoice(InvoiceStatus::Canceled, &mut out),
            _ if !self.executing => {}
            LoopInEvent::Block { height } => self.on_block(height, &mut out),
            LoopInEvent::HtlcPublishFailed => self.on_publish_failed(&mut out),
            LoopInEvent::HtlcConfirmed { value } => self.on_htlc_confirmed(value, &mut out),
            LoopInEvent::HtlcSpent(kind) => self.on_spent(kind, &mut out),
            LoopInEvent::Abandon => self.on_abandon(&mut out),
            LoopInEvent::UnexpectedError => self.on_error(&mut out),
        }
        out
    }

    fn pending(&self) -> bool {
        self.state.is_some_and(SwapState::is_pending)
    }

    /// In the completion wait: the HTLC confirmed, the swap not finished (its state may
    /// already be final after a spend, while the invoice's fate is awaited).
    fn completing(&self) -> bool {
        self.executing && !self.finished && matches!(self.htlc, HtlcStatus::Confirmed { .. })
    }

    // LOOP-01: "The client MUST accept no swap before it has validated every term the server proposed for it."
    fn on_contract(&mut self, height: BlockHeight, swap_fee: Sat, cltv_expiry: BlockHeight, out: &mut Vec<LoopInAction>) {
        if self.state.is_some() {
            return;
        }
        self.height = height;
        let checked = check_loop_in_swap_fee(self.params.amount, swap_fee, self.params.max_swap_fee)
            .map_err(LoopInRefusal::Fee)
            .and_then(|_| validate_loop_in_contract(height, cltv_expiry, &self.params.bounds).map_err(LoopInRefusal::Expiry));
        if let Err(reason) = checked {
            self.refused = Some(reason);
            out.push(LoopInAction::Refuse(reason));
            return;
        }
        self.cltv_expiry = cltv_expiry;
        self.set_persisted(SwapState::Initiated, out);
    }

    /// Loop's `execute` from the persisted state: publish the HTLC unless already done,
    /// then wait for it.
    // LOOP-01: "After a restart the client MUST resume a pending swap from its last persisted state."
    fn on_execute(&mut self, height: BlockHeight, out: &mut Vec<LoopInAction>) {
        let Some(persisted) = self.persisted else { return };
        if self.executing {
            return;
        }
        self.executing = true;
        self.height = height;
        self.state = Some(persisted);
        self.htlc = HtlcStatus::Unconfirmed;
        self.htlc_spent = false;
        self.key_revealed = false;
        if persisted.is_final() {
            self.finish(persisted, out);
            return;
        }
        if persisted != SwapState::Initiated {
            return;
        }
        // LOOP-01: "With an HTLC the user publishes externally, the client MUST go to state HtlcPublished at once, without publishing an HTLC itself."
        if self.params.external_htlc {
            self.set_persisted(SwapState::HtlcPublished, out);
            return;
        }
        // LOOP-01: "A client that may no longer publish the HTLC MUST end the swap in state FailTimeout."
        if check_loop_in_publish(self.height, self.cltv_expiry, &self.params.bounds).is_err() {
            self.finish(SwapState::FailTimeout, out);
            return;
        }
        // LOOP-01: "The client MUST record state HtlcPublished before it broadcasts the HTLC transaction."
        self.set_persisted(SwapState::HtlcPublished, out);
        out.push(LoopInAction::PublishHtlc);
    }

    // LOOP-01: "The client MUST end the swap in state FailInsufficientConfirmedBalance if its wallet cannot fund the HTLC transaction."
    fn on_publish_failed(&mut self, out: &mut Vec<LoopInAction>) {
        if self.state == Some(SwapState::HtlcPublished) && self.htlc == HtlcStatus::Unconfirmed && !self.params.external_htlc {
            self.finish(SwapState::FailInsufficientConfirmedBalance, out);
        }
    }

    fn on_block(&mut self, height: BlockHeight, out: &mut Vec<LoopInAction>) {
        self.height = height;
        if self.completing() {
            self.publish_timeout_if_due(out);
            self.try_reveal_key(out);
            self.check_done(out);
        }
    }

    fn on_htlc_confirmed(&mut self, value: Sat, out: &mut Vec<LoopInAction>) {
        if !self.pending() || self.htlc != HtlcStatus::Unconfirmed || self.state == Some(SwapState::Initiated) {
            return;
        }
        self.htlc = HtlcStatus::Confirmed { value };
        if self.state != Some(SwapState::FailIncorrectHtlcAmt) && check_loop_in_htlc_value(value, self.params.amount).is_err() {
            self.set_persisted(SwapState::FailIncorrectHtlcAmt, out);
        }
        // The completion wait starts: a settled invoice is seen now, then the timeout checked.
        if self.invoice == InvoiceStatus::Settled {
            self.apply_settled(out);
        }
        self.publish_timeout_if_due(out);
        self.check_done(out);
    }

    fn on_invoice(&mut self, status: InvoiceStatus, out: &mut Vec<LoopInAction>) {
        if self.invoice != InvoiceStatus::Open || self.state.is_none() {
            return;
        }
        self.invoice = status;
        if self.completing() {
            if status == InvoiceStatus::Settled {
                self.apply_settled(out);
            }
            self.check_done(out);
        }
    }

    fn apply_settled(&mut self, out: &mut Vec<LoopInAction>) {
        // LOOP-01: "When the swap invoice is settled while the swap is in state HtlcPublished, the client MUST record state InvoiceSettled."
        if self.state == Some(SwapState::HtlcPublished) {
            self.set_persisted(SwapState::InvoiceSettled, out);
        }
        self.try_reveal_key(out);
    }

    // LOOP-01: "With protocol version 11 or later, the client SHOULD reveal its internal private key to the server once the swap invoice is settled, so that the server can sweep the HTLC through the key path alone."
    // LOOP-01: "The client MUST NOT reveal its internal private key to the server unless the swap invoice is settled."
    fn try_reveal_key(&mut self, out: &mut Vec<LoopInAction>) {
        if !self.key_revealed && self.invoice == InvoiceStatus::Settled && self.params.protocol_version >= ProtocolVersion::MUSIG2 {
            self.key_revealed = true;
            out.push(LoopInAction::RevealInternalKey);
        }
    }

    fn publish_timeout_if_due(&mut self, out: &mut Vec<LoopInAction>) {
        let settled_or_success = matches!(self.state, Some(SwapState::InvoiceSettled | SwapState::Success));
        // A spent HTLC needs no timeout transaction (Loop re-publishes it, to no effect).
        if !self.htlc_spent && loop_in_timeout_due(self.height, self.cltv_expiry, settled_or_success) {
            out.push(LoopInAction::PublishTimeout);
        }
    }

    // LOOP-01: "When a spend of the HTLC confirms, the client MUST end the swap in state Success if it is a success spend, in state FailIncorrectHtlcAmtSwept if the swap was in state FailIncorrectHtlcAmt, and in state FailTimeout otherwise."
    fn on_spent(&mut self, kind: SpendKind, out: &mut Vec<LoopInAction>) {
        if !self.completing() || self.htlc_spent {
            return;
        }
        self.htlc_spent = true;
        match kind {
            SpendKind::Success => self.state = Some(SwapState::Success),
            SpendKind::Timeout => {
                self.state = Some(if self.state == Some(SwapState::FailIncorrectHtlcAmt) {
                    SwapState::FailIncorrectHtlcAmtSwept
                } else {
                    SwapState::FailTimeout
                });
                // LOOP-01: "After its timeout spend confirms, the client MUST cancel the swap invoice."
                out.push(LoopInAction::CancelInvoice);
            }
        }
        self.check_done(out);
    }

    // LOOP-01: "The client MUST end its wait for the swap once it has seen both a confirmed spend of the HTLC and a final state of the swap invoice."
    // LOOP-01: "The client MUST end the swap in state Success once the swap invoice is settled and the height has reached the HTLC expiry, even if it has seen no spend."
    fn check_done(&mut self, out: &mut Vec<LoopInAction>) {
        if self.finished {
            return;
        }
        if self.htlc_spent && self.invoice != InvoiceStatus::Open {
            if let Some(state) = self.state {
                self.finish(state, out);
            }
        } else if self.state == Some(SwapState::InvoiceSettled) && self.height >= self.cltv_expiry {
            self.finish(SwapState::Success, out);
        }
    }

    // LOOP-01: "The client MAY abandon a Loop In while it waits, ending it in state FailAbandoned."
    fn on_abandon(&mut self, out: &mut Vec<LoopInAction>) {
        if self.pending() && self.state != Some(SwapState::Initiated) {
            self.finish(SwapState::FailAbandoned, out);
        }
    }

    fn on_error(&mut self, out: &mut Vec<LoopInAction>) {
        if !self.pending() {
            return;
        }
        self.executing = false;
        self.state = Some(SwapState::FailTemporary);
        out.push(LoopInAction::Report(SwapState::FailTemporary));
    }

    fn set_persisted(&mut self, state: SwapState, out: &mut Vec<LoopInAction>) {
        self.state = Some(state);
        self.persisted = Some(state);
        out.push(LoopInAction::Persist(state));
    }

    // LOOP-01: "A swap in a final state MUST NOT change state again."
    fn finish(&mut self, state: SwapState, out: &mut Vec<LoopInAction>) {
        self.state = Some(state);
        self.persisted = Some(state);
        self.finished = true;
        self.executing = false;
        out.push(LoopInAction::Finish(state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoopInAction::*;
    use LoopInEvent::*;

    fn client(protocol: u32) -> LoopInClient {
        LoopInClient::new(LoopInParams { amount: Sat(500_000), max_swap_fee: Sat(1_500), external_htlc: false, protocol_version: ProtocolVersion(protocol), bounds: Bounds::LOOP01 })
    }

    fn offered(c: &mut LoopInClient) -> Vec<LoopInAction> {
        let mut a = c.handle(ContractOffered { height: BlockHeight(800_000), swap_fee: Sat(1_000), cltv_expiry: BlockHeight(800_500) });
        a.extend(c.handle(Execute { height: BlockHeight(800_000) }));
        a
    }

    #[test]
    fn happy_path_reveals_the_key_after_settlement() {
        let mut c = client(11);
        assert_eq!(offered(&mut c), vec![Persist(SwapState::Initiated), Persist(SwapState::HtlcPublished), PublishHtlc]);
        assert_eq!(c.handle(HtlcConfirmed { value: Sat(500_000) }), vec![]);
        assert_eq!(c.handle(InvoiceSettled), vec![Persist(SwapState::InvoiceSettled), RevealInternalKey]);
        assert_eq!(c.handle(HtlcSpent(SpendKind::Success)), vec![Finish(SwapState::Success)]);
    }

    #[test]
    fn a_cancelled_invoice_never_reveals_the_key() {
        let mut c = client(11);
        offered(&mut c);
        c.handle(HtlcConfirmed { value: Sat(500_000) });
        assert_eq!(c.handle(InvoiceCanceled), vec![]);
        assert_eq!(c.handle(Block { height: BlockHeight(800_001) }), vec![]);
        assert!(!c.key_revealed());
        assert_eq!(c.handle(Block { height: BlockHeight(800_500) }), vec![PublishTimeout]);
        assert_eq!(c.handle(HtlcSpent(SpendKind::Timeout)), vec![CancelInvoice, Finish(SwapState::FailTimeout)]);
    }

    #[test]
    fn refusals_name_their_reason() {
        let mut c = client(11);
        let a = c.handle(ContractOffered { height: BlockHeight(800_000), swap_fee: Sat(1_000), cltv_expiry: BlockHeight(801_501) });
        assert_eq!(a, vec![Refuse(LoopInRefusal::Expiry(LoopInExpiryError::ExpiryTooFar))]);
        assert_eq!(c.refused().map(|r| r.name()), Some("expiry_too_far"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = LoopInEvent> {
        let height = (800_000u32..800_520).prop_map(BlockHeight);
        prop_oneof![
            (height.clone(), 900u64..1_600, 800_050u32..801_600).prop_map(|(height, fee, expiry)| LoopInEvent::ContractOffered {
                height,
                swap_fee: Sat(fee),
                cltv_expiry: BlockHeight(expiry)
            }),
            height.clone().prop_map(|height| LoopInEvent::Execute { height }),
            height.prop_map(|height| LoopInEvent::Block { height }),
            Just(LoopInEvent::HtlcPublishFailed),
            (499_999u64..500_002).prop_map(|v| LoopInEvent::HtlcConfirmed { value: Sat(v) }),
            Just(LoopInEvent::InvoiceSettled),
            Just(LoopInEvent::InvoiceCanceled),
            prop_oneof![Just(SpendKind::Success), Just(SpendKind::Timeout)].prop_map(LoopInEvent::HtlcSpent),
            Just(LoopInEvent::Abandon),
            Just(LoopInEvent::UnexpectedError),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn loop_in_invariants(events in prop::collection::vec(event(), 1..40), protocol in 9u32..13) {
            let mut c = LoopInClient::new(LoopInParams {
                amount: Sat(500_000),
                max_swap_fee: Sat(1_500),
                external_htlc: false,
                protocol_version: ProtocolVersion(protocol),
                bounds: Bounds::LOOP01,
            });
            let mut finishes = 0;
            for e in events {
                let before = c.clone();
                for a in c.handle(e) {
                    match a {
                        // loop.in.20: the key goes out only for a settled invoice, and only with MuSig2.
                        LoopInAction::RevealInternalKey => {
                            prop_assert_eq!(c.invoice(), InvoiceStatus::Settled);
                            prop_assert!(protocol >= 11);
                        }
                        // loop.in.7: never published with fewer than 10 blocks left.
                        LoopInAction::PublishHtlc => prop_assert!(c.cltv_expiry().0 - c.height().0 >= 10),
                        LoopInAction::PublishTimeout => prop_assert!(c.height() >= c.cltv_expiry()),
                        LoopInAction::Finish(s) => {
                            finishes += 1;
                            prop_assert!(s.is_final());
                        }
                        LoopInAction::Persist(s) => prop_assert_ne!(s, SwapState::FailTemporary),
                        _ => {}
                    }
                }
                prop_assert!(finishes <= 1);
                if before.is_finished() || before.refused().is_some() {
                    prop_assert_eq!(&before, &c);
                }
            }
        }
    }
}
