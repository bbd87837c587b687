//! The user's machine: steps (1), (4), (5), (8), (9), (12) to (15), (20) and (21), and the claim.
//!
//! Sans-IO: the caller reports its Bitcoin node's tip (`Tick`), the SSP's messages, what its nodes
//! return, and carries out the actions. After every event the machine re-evaluates its deadlines at
//! the current tip, so a `Tick` and any other event are handled alike.

use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction};

use crate::blob;
use crate::checks::{self, UserReason};
use crate::keys::SigningKey;
use crate::messages::{AskPresign, Invoice, RetPresign, SwapRequest};
use crate::output::{self, Leaf, SharedOutput, Spend};
use crate::params::Params;
use crate::safeguards::Safeguards;
use crate::timing::{self, TimingError};
use crate::units::{Height, Msat, Preimage};

/// What the user asks for and accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserTerms {
    pub params: Params,
    /// V.
    pub value: Amount,
    /// The most it pays for V (A, fees included).
    pub max_invoice: Msat,
    /// The most payout fee it accepts.
    pub max_payout_fee: Amount,
    /// The fee of its claim transaction.
    pub claim_fee: Amount,
    /// Where the payout and its claim pay.
    pub payout_script: ScriptBuf,
    /// `Safeguards::SPEC` in every real swap.
    pub safeguards: Safeguards,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UserEvent {
    /// Begin the swap (send step 1).
    Start,
    /// The Bitcoin node's tip.
    Tick { tip: Height },
    /// Step (4) `res_hodl_inv`.
    Invoice(Invoice),
    /// Step (8) `ask_presign`.
    AskPresign(AskPresign),
    /// Step (13) `ret_shared`: the output at the funding outpoint, and the block that confirmed it.
    FundingSeen { script_pubkey: ScriptBuf, value: Amount, confirmed_at: Option<Height> },
    /// Step (15) `reveal_res`.
    BlobPublished,
    /// Step (21) `lookup_res`: a spend of the shared output, confirmed in block `confirmed_at`.
    SharedSpent { spend: Spend, confirmed_at: Height },
    /// The Lightning node: the payment's HTLCs failed back.
    PaymentFailed,
    /// The Lightning node: the payment was settled.
    PaymentSettled,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UserAction {
    /// Step (1) `send_bolt11_h`.
    SendRequest(SwapRequest),
    /// Step (5) `pay_hodl_inv`.
    PayInvoice(Invoice),
    /// Step (9) `ret_presign`.
    SendRetPresign(RetPresign),
    /// Step (12) `lookup_shared`: watch the funding outpoint.
    LookupShared { funding: OutPoint },
    /// Step (14) `reveal_blob`.
    PublishBlob { blob: Vec<u8> },
    /// Step (20) `redeem_lookup`: watch the spend of the shared output.
    LookupRedeem { funding: OutPoint },
    /// The claim through the claim leaf, signed.
    BroadcastClaim { tx: Transaction },
    /// The user gives the swap up: no further step; its payment, if made, fails back.
    GiveUp { reason: UserReason },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserPhase {
    Idle,
    AwaitingInvoice,
    AwaitingAsk,
    AwaitingFunding,
    Revealed,
    Claimed,
    /// A payout or a claim confirmed: the user has the value.
    Paid,
    /// Gave up after paying; waits for the payment to fail back.
    GaveUp,
    /// Over without a reveal: nothing paid, or the payment failed back.
    Aborted,
}

/// What the user learned from `ask_presign`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Funding {
    ask: AskPresign,
    output: SharedOutput,
    checked: bool,
    /// The tip at which the output was first seen with the agreed script and value.
    seen_at: Option<Height>,
    confirmed_at: Option<Height>,
}

impl Funding {
    /// The block the reveal window counts from: the confirming block, or, with a
    /// CONFIRMATION_PERIOD of 0 (a model removing T0), the block after the output was first seen.
    fn window_base(&self, params: &Params) -> Option<Height> {
        if !self.checked {
            return None;
        }
        match (self.confirmed_at, params.confirmation_period.0) {
            (Some(hc), _) => Some(hc),
            (None, 0) => self.seen_at.map(|t| Height(t.0.saturating_add(1))),
            (None, _) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserMachine {
    terms: UserTerms,
    // Leaves the machine only in `PublishBlob` and in the claim's witness; no Debug prints it.
    // BLOBSWAP-01: "The user MUST NOT disclose the preimage except in the blob of step (14) or in the witness of its claim transaction."
    preimage: Preimage,
    key: SigningKey,
    phase: UserPhase,
    tip: Height,
    funding: Option<Funding>,
    revealed: bool,
    redeem_lookup_sent: bool,
    payment_failed: bool,
    payment_settled: bool,
}

impl UserMachine {
    /// `preimage` must be 32 fresh random bytes and `key` a fresh key: the caller draws both.
    pub fn new(terms: UserTerms, preimage: Preimage, key: SigningKey, tip: Height) -> UserMachine {
        UserMachine {
            terms,
            preimage,
            key,
            phase: UserPhase::Idle,
            tip,
            funding: None,
            revealed: false,
            redeem_lookup_sent: false,
            payment_failed: false,
            payment_settled: false,
        }
    }

    pub fn phase(&self) -> UserPhase {
        self.phase
    }
    pub fn tip(&self) -> Height {
        self.tip
    }
    pub fn payment_settled(&self) -> bool {
        self.payment_settled
    }
    pub fn payment_failed(&self) -> bool {
        self.payment_failed
    }
    /// Whether the user has published the preimage (the blob, or a claim).
    pub fn revealed(&self) -> bool {
        self.revealed
    }

    pub fn handle(&mut self, event: UserEvent) -> Vec<UserAction> {
        let mut actions = Vec::new();
        match event {
            UserEvent::Start => {
                if self.phase == UserPhase::Idle {
                    // BLOBSWAP-01: "The user MUST generate the preimage as 32 fresh random bytes and send its SHA-256 hash as the payment hash of `send_bolt11_h`."
                    actions.push(UserAction::SendRequest(SwapRequest {
                        payment_hash: self.preimage.payment_hash(),
                        value: self.terms.value,
                        user_key: self.key.x_only(),
                        payout_script: self.terms.payout_script.clone(),
                    }));
                    self.phase = UserPhase::AwaitingInvoice;
                }
            }
            UserEvent::Tick { tip } => self.tip = self.tip.max(tip),
            UserEvent::Invoice(invoice) => {
                if self.phase == UserPhase::AwaitingInvoice {
                    let expected = match self.terms.safeguards.invoice_hash_check {
                        true => self.preimage.payment_hash(),
                        false => invoice.payment_hash,
                    };
                    match checks::check_invoice(&invoice, &expected, self.terms.max_invoice) {
                        Ok(()) => {
                            actions.push(UserAction::PayInvoice(invoice));
                            self.phase = UserPhase::AwaitingAsk;
                        }
                        Err(reason) => {
                            // Nothing was paid: the swap is simply over.
                            actions.push(UserAction::GiveUp { reason });
                            self.phase = UserPhase::Aborted;
                        }
                    }
                }
            }
            UserEvent::AskPresign(ask) => {
                // Only the first ask_presign is answered: the user signs one payout, never two.
                if self.phase == UserPhase::AwaitingAsk {
                    self.presign(ask, &mut actions);
                }
            }
            UserEvent::FundingSeen { script_pubkey, value, confirmed_at } => {
                if self.phase == UserPhase::AwaitingFunding {
                    self.funding_seen(&script_pubkey, value, confirmed_at, &mut actions);
                }
            }
            UserEvent::BlobPublished => {}
            UserEvent::SharedSpent { spend, .. } => {
                if spend.pays_user() {
                    if !matches!(self.phase, UserPhase::Idle | UserPhase::AwaitingInvoice | UserPhase::Aborted) {
                        self.phase = UserPhase::Paid;
                    }
                } else if matches!(self.phase, UserPhase::AwaitingFunding | UserPhase::Revealed | UserPhase::Claimed) {
                    // Refunded: nothing more to do but wait for the payment to fail back.
                    self.phase = UserPhase::GaveUp;
                }
            }
            UserEvent::PaymentFailed => {
                self.payment_failed = true;
                // BLOBSWAP-01: "The user MUST NOT reveal after its payment has failed."
                if matches!(self.phase, UserPhase::AwaitingAsk | UserPhase::AwaitingFunding | UserPhase::GaveUp) {
                    self.phase = UserPhase::Aborted;
                }
            }
            UserEvent::PaymentSettled => self.payment_settled = true,
        }
        self.poll(&mut actions);
        actions
    }

    fn presign(&mut self, ask: AskPresign, actions: &mut Vec<UserAction>) {
        let t = &self.terms;
        let terms_ok = match t.safeguards.presign_check {
            true => checks::check_presign_terms(&ask, t.value, t.max_payout_fee),
            false => Ok(()),
        };
        let timing_ok = match t.safeguards.reveal_deadline {
            true => timing::check_presign(self.tip, ask.refund_height, &t.params).map_err(UserReason::Timing),
            false => Ok(()),
        };
        let checked = terms_ok.and(timing_ok).and_then(|()| {
            let output = SharedOutput::new(self.preimage.payment_hash(), self.key.x_only(), ask.ssp_key, ask.refund_height)
                .map_err(|_| UserReason::Timing(TimingError::NotABlockHeight))?;
            let tx = output::payout_tx(ask.funding, ask.value, ask.payout_fee, &t.payout_script)
                .map_err(|_| UserReason::PayoutFeeTooHigh)?;
            Ok((output, tx))
        });
        match checked {
            Ok((output, tx)) => {
                // BLOBSWAP-01: "The user MUST NOT sign any transaction spending the shared output other than the payout transaction built from `ask_presign` and its own claim transaction."
                let signature = self.key.sign(output.sighash(&tx, ask.value, Leaf::Payout));
                actions.push(UserAction::SendRetPresign(RetPresign { signature }));
                // BLOBSWAP-01: "After presigning, the user MUST look up (step 12) the funding outpoint of `ask_presign`."
                actions.push(UserAction::LookupShared { funding: ask.funding });
                self.funding = Some(Funding { ask, output, checked: false, seen_at: None, confirmed_at: None });
                self.phase = UserPhase::AwaitingFunding;
            }
            Err(reason) => {
                actions.push(UserAction::GiveUp { reason });
                self.phase = UserPhase::GaveUp;
            }
        }
    }

    fn funding_seen(&mut self, script_pubkey: &ScriptBuf, value: Amount, confirmed_at: Option<Height>, actions: &mut Vec<UserAction>) {
        let tip = self.tip;
        let check = self.terms.safeguards.funding_output_check;
        let Some(funding) = self.funding.as_mut() else { return };
        let checked = match check {
            true => checks::check_funding_output(script_pubkey, value, &funding.output, self.terms.value),
            false => Ok(()),
        };
        match checked {
            Ok(()) => {
                funding.checked = true;
                funding.seen_at = funding.seen_at.or(Some(tip));
                funding.confirmed_at = confirmed_at;
            }
            Err(reason) => {
                actions.push(UserAction::GiveUp { reason });
                self.phase = UserPhase::GaveUp;
            }
        }
    }

    /// The deadlines at the current tip.
    fn poll(&mut self, actions: &mut Vec<UserAction>) {
        let Some(funding) = self.funding else { return };
        let params = self.terms.params;
        let deadline = self.terms.safeguards.reveal_deadline;
        let refund = funding.ask.refund_height;
        match self.phase {
            UserPhase::AwaitingFunding => match funding.window_base(&params) {
                Some(hc) => {
                    let allowed = match deadline {
                        true => timing::check_reveal(self.tip, hc, refund, &params),
                        false => timing::check_reveal_window(self.tip, hc, &params),
                    };
                    match allowed {
                        Ok(()) => {
                            // BLOBSWAP-01: "The user SHOULD reveal (step 14) at the first tip at which `blob.reveal.1`, `blob.reveal.2`, `blob.reveal.3`, `blob.fund.3` and `blob.timing.6` allow it."
                            actions.push(UserAction::PublishBlob { blob: blob::reveal_blob(&self.preimage) });
                            self.revealed = true;
                            self.phase = UserPhase::Revealed;
                            self.after_reveal(funding, hc, actions);
                        }
                        Err(TimingError::NotConfirmedEnough) => {}
                        Err(other) => {
                            actions.push(UserAction::GiveUp { reason: UserReason::Timing(other) });
                            self.phase = UserPhase::GaveUp;
                        }
                    }
                }
                None => {
                    // Not confirmed yet: the earliest it can confirm is the next block. Give up once
                    // even that would be too late for a safe reveal.
                    let next = Height(self.tip.0.saturating_add(1));
                    if deadline && timing::check_reveal_deadline(next, refund, &params).is_err() {
                        actions.push(UserAction::GiveUp { reason: UserReason::Timing(TimingError::TooCloseToRefund) });
                        self.phase = UserPhase::GaveUp;
                    }
                }
            },
            UserPhase::Revealed => {
                if let Some(hc) = funding.window_base(&params) {
                    self.after_reveal(funding, hc, actions);
                }
            }
            _ => {}
        }
    }

    fn after_reveal(&mut self, funding: Funding, hc: Height, actions: &mut Vec<UserAction>) {
        let params = self.terms.params;
        let window = timing::reveal_window(hc, &params);
        if u64::from(self.tip.0) >= window.closes && !self.redeem_lookup_sent {
            // BLOBSWAP-01: "Once the reveal window has run out, a user that has revealed MUST look up (step 20) the spend of the shared output."
            actions.push(UserAction::LookupRedeem { funding: funding.ask.funding });
            self.redeem_lookup_sent = true;
        }
        // The reference claims only when `blob.redeem.7` requires it; claiming earlier is the open choice.
        // BLOBSWAP-01: "The user MAY broadcast its claim transaction at any tip after it has revealed."
        if timing::claim_due(self.tip, hc, &params) {
            if let Some(tx) = self.claim_tx(&funding) {
                actions.push(UserAction::BroadcastClaim { tx });
                self.phase = UserPhase::Claimed;
            }
        }
    }

    fn claim_tx(&self, funding: &Funding) -> Option<Transaction> {
        let ask = &funding.ask;
        let mut tx = output::claim_tx(ask.funding, ask.value, self.terms.claim_fee, &self.terms.payout_script).ok()?;
        let signature = self.key.sign(funding.output.sighash(&tx, ask.value, Leaf::Claim));
        let witness = funding.output.claim_witness(&signature, &self.preimage);
        tx.input.first_mut()?.witness = witness;
        Some(tx)
    }
}
