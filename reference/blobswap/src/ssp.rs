//! The SSP's machine: steps (1) to (4), (7), (8) to (11), (16) to (19), (22) and (23), the funding
//! it builds before asking, its refund, and cancelling the hold invoice.
//!
//! Sans-IO, like the user's: the caller reports its Bitcoin node's tip (`Tick`), the user's
//! messages and what its own nodes return, and carries out the actions. After every event the
//! machine re-evaluates its deadlines at the current tip.

use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction};

use crate::blob;
use crate::checks::{self, SspReason};
use crate::keys::SigningKey;
use crate::messages::{AskPresign, Invoice, RetPresign, SwapRequest};
use crate::output::{self, Leaf, SharedOutput, Spend};
use crate::params::Params;
use crate::safeguards::Safeguards;
use crate::timing::{self, TimingError};
use crate::units::{Blocks, Height, Msat, PaymentHash, Preimage};

/// The SSP's published terms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SspTerms {
    pub params: Params,
    pub min_value: Amount,
    pub max_value: Amount,
    /// A = V (in msat) + this.
    pub swap_fee: Msat,
    /// The invoice's `min_final_cltv_expiry_delta`.
    pub invoice_delta: Blocks,
    pub payout_fee: Amount,
    pub refund_fee: Amount,
    pub refund_script: ScriptBuf,
    /// `Safeguards::SPEC` in every real swap.
    pub safeguards: Safeguards,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SspEvent {
    /// The Bitcoin node's tip.
    Tick { tip: Height },
    /// Step (1) `send_bolt11_h`; `hash_seen` says whether the SSP's store already holds the hash.
    Request { request: SwapRequest, hash_seen: bool },
    /// Step (3) `ret_hodl_inv`.
    InvoiceCreated(Invoice),
    /// Step (7) `check_hodl_inv`: the HTLCs held for the hash, and E.
    InvoiceAccepted { held: Msat, expiry: Height },
    /// The wallet built and signed the funding transaction (not broadcast).
    FundingBuilt { funding: OutPoint },
    /// Step (9) `ret_presign`.
    RetPresign(RetPresign),
    /// Step (11) `fund_shared_res`.
    FundingBroadcast,
    /// The Bitcoin node: the funding confirmed in block `at`.
    FundingConfirmed { at: Height },
    /// Step (17) `lookup_res`: a blob found for the hash.
    BlobFound { blob: Vec<u8> },
    /// Step (19) `redeem_res`.
    PayoutBroadcast,
    /// The Bitcoin node: a spend of the shared output confirmed in block `confirmed_at`.
    SharedSpent { spend: Spend, confirmed_at: Height },
    /// Step (23) `claim_res`.
    InvoiceSettled,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SspAction {
    /// No invoice for this request.
    Refuse { reason: SspReason },
    /// Step (2) `cre_hodl_inv`.
    CreateInvoice { payment_hash: PaymentHash, amount: Msat, min_final_cltv_expiry_delta: Blocks },
    /// Step (4) `res_hodl_inv`.
    SendInvoice(Invoice),
    /// Build and sign, but do not broadcast, the funding transaction.
    BuildFunding { script_pubkey: ScriptBuf, value: Amount },
    /// Step (8) `ask_presign`.
    SendAskPresign(AskPresign),
    /// Step (10) `fund_shared`.
    BroadcastFunding,
    /// Step (16) `reveal_lookup`: look blobs for the hash up (and keep looking).
    LookupBlob { payment_hash: PaymentHash },
    /// Step (18) `redeem_shared`: the payout, with both signatures.
    BroadcastPayout { tx: Transaction },
    /// Step (22) `claim_hodl`.
    SettleInvoice { preimage: Preimage },
    /// The refund, signed.
    BroadcastRefund { tx: Transaction },
    /// Fail the HTLCs back.
    CancelInvoice { reason: SspReason },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SspPhase {
    Idle,
    CreatingInvoice,
    AwaitingPayment,
    /// The payment is held; the session runs.
    Session,
    BuildingFunding,
    AwaitingPresign,
    Funded,
    /// The invoice is settled.
    Completed,
    /// The refund confirmed and the invoice is cancelled.
    Refunded,
    /// Cancelled before funding.
    Cancelled,
    Refused,
}

/// The swap once the request is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Swap {
    request: SwapRequest,
    invoice: Option<Invoice>,
    checked_at: Height,
    expiry: Height,
    output: Option<SharedOutput>,
    funding: Option<OutPoint>,
    user_signature: Option<bitcoin::secp256k1::schnorr::Signature>,
    confirmed_at: Option<Height>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SspMachine {
    terms: SspTerms,
    key: SigningKey,
    phase: SspPhase,
    tip: Height,
    swap: Option<Swap>,
    preimage: Option<Preimage>,
    lookup_sent: bool,
    payout_sent: bool,
    refund_sent: bool,
    settle_sent: bool,
    cancel_sent: bool,
    spent: Option<Spend>,
}

impl SspMachine {
    pub fn new(terms: SspTerms, key: SigningKey, tip: Height) -> SspMachine {
        SspMachine {
            terms,
            key,
            phase: SspPhase::Idle,
            tip,
            swap: None,
            preimage: None,
            lookup_sent: false,
            payout_sent: false,
            refund_sent: false,
            settle_sent: false,
            cancel_sent: false,
            spent: None,
        }
    }

    pub fn phase(&self) -> SspPhase {
        self.phase
    }
    pub fn tip(&self) -> Height {
        self.tip
    }
    /// The shared output, once the SSP has chosen its refund height.
    pub fn shared_output(&self) -> Option<SharedOutput> {
        self.swap.as_ref().and_then(|s| s.output)
    }
    pub fn settle_sent(&self) -> bool {
        self.settle_sent
    }

    pub fn handle(&mut self, event: SspEvent) -> Vec<SspAction> {
        let mut actions = Vec::new();
        match event {
            SspEvent::Tick { tip } => self.tip = self.tip.max(tip),
            SspEvent::Request { request, hash_seen } => {
                if self.phase == SspPhase::Idle {
                    self.request(request, hash_seen, &mut actions);
                }
            }
            SspEvent::InvoiceCreated(invoice) => {
                if let (SspPhase::CreatingInvoice, Some(swap)) = (self.phase, self.swap.as_mut()) {
                    swap.invoice = Some(invoice);
                    actions.push(SspAction::SendInvoice(invoice));
                    self.phase = SspPhase::AwaitingPayment;
                }
            }
            SspEvent::InvoiceAccepted { held, expiry } => {
                if self.phase == SspPhase::AwaitingPayment {
                    self.accepted(held, expiry, &mut actions);
                }
            }
            SspEvent::FundingBuilt { funding } => {
                if self.phase == SspPhase::BuildingFunding {
                    self.ask(funding, &mut actions);
                }
            }
            SspEvent::RetPresign(ret) => {
                if self.phase == SspPhase::AwaitingPresign {
                    self.presigned(ret, &mut actions);
                }
            }
            SspEvent::FundingBroadcast => {}
            SspEvent::FundingConfirmed { at } => {
                if let (SspPhase::Funded, Some(swap)) = (self.phase, self.swap.as_mut()) {
                    swap.confirmed_at = Some(at);
                }
            }
            SspEvent::BlobFound { blob } => {
                if let (SspPhase::Funded, Some(swap), None) = (self.phase, self.swap.as_ref(), self.preimage.as_ref()) {
                    // A blob that is not the reveal is ignored: the SSP keeps looking.
                    if let Ok(preimage) = blob::check_blob(&blob, &swap.request.payment_hash) {
                        self.preimage = Some(preimage);
                    }
                }
            }
            SspEvent::PayoutBroadcast => {
                // The reference settles after the payout; settling first is the other open order.
                // BLOBSWAP-01: "The SSP MAY settle the hold invoice before it broadcasts the payout transaction once it holds the preimage."
                if self.phase == SspPhase::Funded {
                    // BLOBSWAP-01: "After `redeem_res` (step 19) reports the payout broadcast, the SSP MUST settle the hold invoice with the preimage (step 22)."
                    self.settle(&mut actions);
                }
            }
            SspEvent::SharedSpent { spend, .. } => {
                if self.phase == SspPhase::Funded && self.spent.is_none() {
                    self.spent_by(spend, &mut actions);
                }
            }
            SspEvent::InvoiceSettled => {
                if self.phase == SspPhase::Funded && self.settle_sent {
                    self.phase = SspPhase::Completed;
                }
            }
        }
        self.poll(&mut actions);
        actions
    }

    fn request(&mut self, request: SwapRequest, hash_seen: bool, actions: &mut Vec<SspAction>) {
        let t = &self.terms;
        let checked = checks::check_request(&request, t.min_value, t.max_value, hash_seen)
            .and_then(|()| timing::check_invoice_delta(t.invoice_delta, &t.params).map_err(SspReason::Timing));
        if let Err(reason) = checked {
            actions.push(SspAction::Refuse { reason });
            self.phase = SspPhase::Refused;
            return;
        }
        let amount = Msat(request.value.to_sat().saturating_mul(1000).saturating_add(t.swap_fee.0));
        // BLOBSWAP-01: "The SSP MUST create the hold invoice of `cre_hodl_inv` for exactly the payment hash of `send_bolt11_h`."
        actions.push(SspAction::CreateInvoice {
            payment_hash: request.payment_hash,
            amount,
            min_final_cltv_expiry_delta: t.invoice_delta,
        });
        self.swap = Some(Swap {
            request,
            invoice: None,
            checked_at: self.tip,
            expiry: self.tip,
            output: None,
            funding: None,
            user_signature: None,
            confirmed_at: None,
        });
        self.phase = SspPhase::CreatingInvoice;
    }

    fn accepted(&mut self, held: Msat, expiry: Height, actions: &mut Vec<SspAction>) {
        let (tip, params, sg) = (self.tip, self.terms.params, self.terms.safeguards);
        let ssp_key = self.key.x_only();
        let Some(swap) = self.swap.as_mut() else { return };
        let Some(invoice) = swap.invoice else { return };
        let held_ok = match sg.held_amount_check {
            true => checks::check_held(held, invoice.amount),
            false => Ok(()),
        };
        let checked = held_ok
            .and_then(|()| timing::check_session(tip, expiry, &params).map_err(SspReason::Timing))
            .and_then(|()| match sg.refund_margin {
                true => timing::refund_height(expiry, &params).map_err(SspReason::Timing),
                // T1 removed: the latest refund height below E.
                false => expiry.checked_sub(Blocks(1)).ok_or(SspReason::Timing(TimingError::NoRefundHeight)),
            })
            .and_then(|refund| {
                SharedOutput::new(swap.request.payment_hash, swap.request.user_key, ssp_key, refund)
                    .map_err(|_| SspReason::Timing(TimingError::NotABlockHeight))
            });
        match checked {
            Ok(output) => {
                swap.checked_at = tip;
                // BLOBSWAP-01: "The SSP MUST take as the HTLC expiry E the lowest `cltv_expiry` among the HTLCs it holds for the payment hash."
                swap.expiry = expiry;
                swap.output = Some(output);
                self.phase = SspPhase::Session;
            }
            Err(reason) => self.cancel(reason, actions),
        }
    }

    fn ask(&mut self, funding: OutPoint, actions: &mut Vec<SspAction>) {
        let payout_fee = self.terms.payout_fee;
        let Some(swap) = self.swap.as_mut() else { return };
        let Some(output) = swap.output else { return };
        swap.funding = Some(funding);
        actions.push(SspAction::SendAskPresign(AskPresign {
            funding,
            value: swap.request.value,
            ssp_key: output.ssp_key,
            refund_height: output.refund_height,
            payout_fee,
        }));
        self.phase = SspPhase::AwaitingPresign;
    }

    fn presigned(&mut self, ret: RetPresign, actions: &mut Vec<SspAction>) {
        let (tip, payout_fee) = (self.tip, self.terms.payout_fee);
        let Some(swap) = self.swap.as_mut() else { return };
        let (Some(output), Some(funding)) = (swap.output, swap.funding) else { return };
        let valid = output::payout_tx(funding, swap.request.value, payout_fee, &swap.request.payout_script)
            .map(|tx| output::verify(&output.user_key, output.sighash(&tx, swap.request.value, Leaf::Payout), &ret.signature))
            .unwrap_or(false);
        // BLOBSWAP-01: "The SSP MUST verify the user's signature of `ret_presign` and, if it is not valid, MUST cancel the hold invoice without broadcasting its funding."
        if !valid {
            self.cancel(SspReason::InvalidPresign, actions);
            return;
        }
        // BLOBSWAP-01: "The SSP MUST broadcast its funding (step 10) only after a valid `ret_presign`, while it still holds the HTLCs, and only if the funding check of `blob.timing.4` passes."
        if let Err(t) = self.funding_check(tip, output.refund_height) {
            self.cancel(SspReason::Timing(t), actions);
            return;
        }
        let Some(swap) = self.swap.as_mut() else { return };
        swap.user_signature = Some(ret.signature);
        actions.push(SspAction::BroadcastFunding);
        self.phase = SspPhase::Funded;
    }

    /// `blob.timing.4` at `tip`, unless a model removed it (`Safeguards::funding_deadline`).
    fn funding_check(&self, tip: Height, refund: Height) -> Result<(), TimingError> {
        match self.terms.safeguards.funding_deadline {
            true => timing::check_funding(tip, refund, &self.terms.params),
            false => Ok(()),
        }
    }

    fn spent_by(&mut self, spend: Spend, actions: &mut Vec<SspAction>) {
        match &spend {
            Spend::Claim(preimage) => {
                if self.preimage.is_none() {
                    self.preimage = Some(preimage.clone());
                }
                // BLOBSWAP-01: "An SSP that sees the shared output spent through the claim leaf MUST settle the hold invoice with the preimage from that witness."
                self.settle(actions);
            }
            Spend::Payout => {}
            Spend::Refund => {
                // BLOBSWAP-01: "The SSP MUST cancel the hold invoice once its refund has confirmed."
                // BLOBSWAP-01: "The SSP MUST NOT settle the hold invoice once its refund has confirmed."
                if !self.cancel_sent {
                    actions.push(SspAction::CancelInvoice { reason: SspReason::Refunded });
                    self.cancel_sent = true;
                }
                self.phase = SspPhase::Refunded;
            }
        }
        self.spent = Some(spend);
    }

    fn settle(&mut self, actions: &mut Vec<SspAction>) {
        if let (Some(preimage), false, false) = (self.preimage.as_ref(), self.settle_sent, self.cancel_sent) {
            actions.push(SspAction::SettleInvoice { preimage: preimage.clone() });
            self.settle_sent = true;
        }
    }

    /// Cancelling before funding; once funded, only `spent_by` cancels (after the refund confirmed).
    // BLOBSWAP-01: "Once it has broadcast its funding, the SSP MUST NOT cancel the hold invoice until its refund has confirmed or a transaction conflicting with its funding has confirmed."
    fn cancel(&mut self, reason: SspReason, actions: &mut Vec<SspAction>) {
        // BLOBSWAP-01: "An SSP that has cancelled the hold invoice MUST NOT broadcast its funding."
        actions.push(SspAction::CancelInvoice { reason });
        self.cancel_sent = true;
        self.phase = SspPhase::Cancelled;
    }

    /// The deadlines at the current tip.
    fn poll(&mut self, actions: &mut Vec<SspAction>) {
        let (tip, params) = (self.tip, self.terms.params);
        let Some(swap) = self.swap.as_ref() else { return };
        let Some(output) = swap.output else { return };
        match self.phase {
            SspPhase::Session => {
                let closes = swap.checked_at.checked_add(params.session_period);
                // BLOBSWAP-01: "When SESSION_PERIOD blocks have passed since step (7), the SSP MUST either send `ask_presign` or cancel the hold invoice."
                if closes.is_some_and(|c| tip >= c) {
                    match self.funding_check(tip, output.refund_height) {
                        Ok(()) => {
                            // BLOBSWAP-01: "Before sending `ask_presign`, the SSP MUST build and sign, but not broadcast, a funding transaction that spends only segwit outputs and has an output of the value to the shared output."
                            actions.push(SspAction::BuildFunding {
                                script_pubkey: output.script_pubkey(),
                                value: swap.request.value,
                            });
                            self.phase = SspPhase::BuildingFunding;
                        }
                        Err(t) => self.cancel(SspReason::Timing(t), actions),
                    }
                }
            }
            SspPhase::BuildingFunding | SspPhase::AwaitingPresign => {
                // BLOBSWAP-01: "When the funding check of `blob.timing.4` fails before the SSP has received a valid `ret_presign`, the SSP MUST cancel the hold invoice and MUST NOT broadcast its funding."
                if let Err(t) = self.funding_check(tip, output.refund_height) {
                    self.cancel(SspReason::Timing(t), actions);
                }
            }
            SspPhase::Funded => self.poll_funded(actions),
            _ => {}
        }
    }

    fn poll_funded(&mut self, actions: &mut Vec<SspAction>) {
        let (tip, params, sg) = (self.tip, self.terms.params, self.terms.safeguards);
        let Some(swap) = self.swap.as_ref() else { return };
        let (Some(output), Some(funding)) = (swap.output, swap.funding) else { return };
        let value = swap.request.value;
        if self.spent.is_some() {
            return;
        }
        if let Some(hc) = swap.confirmed_at {
            let window = timing::reveal_window(hc, &params);
            let at = u64::from(tip.0);
            if at >= window.opens && !self.lookup_sent && self.preimage.is_none() {
                // BLOBSWAP-01: "From the tip at which the funding has CONFIRMATION_PERIOD confirmations, the SSP MUST look up (step 16) blobs for the payment hash until it holds the preimage or has broadcast its refund."
                actions.push(SspAction::LookupBlob { payment_hash: swap.request.payment_hash });
                self.lookup_sent = true;
            }
            // BLOBSWAP-01: "The SSP MUST NOT broadcast the payout transaction before it holds the preimage."
            // The reference waits for the window to close; redeeming earlier is the open choice.
            // BLOBSWAP-01: "The SSP MAY broadcast the payout transaction before the reveal window has run out once it holds the preimage."
            // BLOBSWAP-01: "When the reveal window has run out, an SSP that holds the preimage MUST broadcast the payout transaction (step 18) unless the shared output is already spent or it has broadcast its refund."
            // BLOBSWAP-01: "An SSP that obtains the preimage after the reveal window has run out MUST broadcast the payout transaction at once, unless the shared output is already spent or it has broadcast its refund."
            if at >= window.closes && self.preimage.is_some() && !self.payout_sent && !self.refund_sent {
                // BLOBSWAP-01: "The SSP MUST NOT broadcast the payout transaction at a tip t with `t + SETTLE_MARGIN > E`."
                let margin_ok = !sg.payout_margin || timing::check_payout(tip, swap.expiry, &params).is_ok();
                if margin_ok {
                    if let Some(tx) = self.payout(&output, funding, swap) {
                        actions.push(SspAction::BroadcastPayout { tx });
                        self.payout_sent = true;
                    }
                }
            }
            if !sg.cancel_after_refund && at >= window.closes && self.preimage.is_none() && !self.cancel_sent {
                // Reading U3, a model's counterexample only: cancel when the window runs out.
                actions.push(SspAction::CancelInvoice { reason: SspReason::Timing(TimingError::RevealWindowClosed) });
                self.cancel_sent = true;
            }
        }
        // BLOBSWAP-01: "An SSP whose shared output is unspent at tip R and that has not broadcast the payout transaction MUST broadcast the refund transaction."
        if !self.payout_sent && !self.refund_sent && timing::check_refund(tip, output.refund_height).is_ok() {
            let t = &self.terms;
            if let Ok(mut tx) = output::refund_tx(funding, value, t.refund_fee, output.refund_height, &t.refund_script) {
                let signature = self.key.sign(output.sighash(&tx, value, Leaf::Refund));
                if let Some(input) = tx.input.first_mut() {
                    input.witness = output.refund_witness(&signature);
                }
                actions.push(SspAction::BroadcastRefund { tx });
                self.refund_sent = true;
            }
        }
    }

    fn payout(&self, output: &SharedOutput, funding: OutPoint, swap: &Swap) -> Option<Transaction> {
        let user_signature = swap.user_signature?;
        let value = swap.request.value;
        let mut tx = output::payout_tx(funding, value, self.terms.payout_fee, &swap.request.payout_script).ok()?;
        let signature = self.key.sign(output.sighash(&tx, value, Leaf::Payout));
        tx.input.first_mut()?.witness = output.payout_witness(&signature, &user_signature);
        Some(tx)
    }
}
