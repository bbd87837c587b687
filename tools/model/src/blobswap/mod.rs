//! BLOBSWAP-01: one swap between a user and an SSP. Both honest parties run the reference
//! crate's machines (`blobswap_reference::user::UserMachine`, `ssp::SspMachine`); the world
//! (Lightning HTLC, chain, blob medium) is abstract; at most one party is adversarial.
//!
//! Steps the checker chooses: a block is found; a pending transaction confirms (any block after
//! its broadcast, at the latest `chain_delay` blocks after it: the chain delay bound); the
//! adversary goes silent (a crash without restart is the same to the other party), broadcasts
//! its own spend (user: the claim at any tip; SSP: the refund from R on), reveals late (user),
//! withholds or double-spends its funding or settles with a preimage from a blob (SSP). Messages and node answers between steps are
//! delivered at once, in order.

use bitcoin::hashes::Hash as _;
use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::SecretKey;
use bitcoin::{Amount, OutPoint, ScriptBuf, Txid};
use stateright::{Model, Property};

use blobswap_reference::keys::SigningKey;
use blobswap_reference::messages::Invoice;
use blobswap_reference::output::Spend;
use blobswap_reference::ssp::{SspAction, SspEvent, SspMachine, SspTerms};
use blobswap_reference::timing;
use blobswap_reference::user::{UserAction, UserEvent, UserMachine, UserTerms};
use blobswap_reference::{Blocks, Height, Msat, Params, Preimage, Safeguards};

use crate::framework::{
    self, Bounds, CheckReport, CheckableModel, ParamDef, ParamKind, PropertyDef, PropertyKind, Settings, SpecQuote, System,
    Trace, TraceStep, VectorFile,
};

const V: u64 = 100_000;
const START: u32 = 100;
const DOC: &str = "BLOBSWAP-01";

const fn q(text: &'static str) -> SpecQuote {
    SpecQuote { doc: DOC, text }
}

/// The parameters; the defaults are the example values of BLOBSWAP-01 "Parameters".
pub const PARAMS: &[ParamDef] = &[
    ParamDef { name: "session_period", default: "2", kind: ParamKind::Int { min: 0, max: 20 }, doc: "SESSION_PERIOD, blocks from step (7) to ask_presign", spec: Some(q("When SESSION_PERIOD blocks have passed since step (7), the SSP MUST either send `ask_presign` or cancel the hold invoice.")) },
    ParamDef { name: "confirmation_period", default: "2", kind: ParamKind::Int { min: 0, max: 20 }, doc: "CONFIRMATION_PERIOD (0 removes T0)", spec: Some(q("CONFIRMATION_PERIOD MUST be at least 1 and greater than the depth of any chain reorganisation the parties guard against.")) },
    ParamDef { name: "reveal_window", default: "3", kind: ParamKind::Int { min: 1, max: 20 }, doc: "REVEAL_WINDOW", spec: Some(q("REVEAL_WINDOW and CHAIN_DELAY MUST each be at least 1.")) },
    ParamDef { name: "chain_delay", default: "2", kind: ParamKind::Int { min: 1, max: 6 }, doc: "CHAIN_DELAY: a transaction confirms 1 to chain_delay blocks after its broadcast", spec: Some(q("REVEAL_WINDOW and CHAIN_DELAY MUST each be at least 1.")) },
    ParamDef { name: "settle_margin", default: "4", kind: ParamKind::Int { min: 0, max: 20 }, doc: "SETTLE_MARGIN: the HTLC can be settled at tip t iff t + SETTLE_MARGIN <= E", spec: Some(q("The SSP MUST NOT broadcast the payout transaction at a tip t with `t + SETTLE_MARGIN > E`.")) },
    ParamDef { name: "expiry_delta", default: "20", kind: ParamKind::Int { min: 1, max: 60 }, doc: "E - h7: the HTLC expiry above the height at which the SSP accepts the payment", spec: Some(q("The SSP MUST create the hold invoice with a `min_final_cltv_expiry_delta` of at least `SESSION_PERIOD + CONFIRMATION_PERIOD + REVEAL_WINDOW + 4 * CHAIN_DELAY + SETTLE_MARGIN - 1`.")) },
    ParamDef { name: "adversary", default: "each", kind: ParamKind::Choice(&["each", "none", "user", "ssp"]), doc: "which party is adversarial (each: one run per choice)", spec: None },
    ParamDef { name: "remove", default: "none", kind: ParamKind::Choice(&["none", "refund_margin", "reveal_deadline", "cancel_after_refund", "payout_margin"]), doc: "a safeguard of BLOBSWAP-01 \"Safety\" both honest parties drop (blobswap_reference::Safeguards)", spec: None },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Adv {
    None,
    User,
    Ssp,
}

#[derive(Clone, Debug)]
pub struct BlobswapModel {
    pub params: Params,
    pub expiry: u32,
    pub adversaries: Vec<Adv>,
    pub safeguards: Safeguards,
}

impl BlobswapModel {
    pub fn from_settings(s: &Settings) -> Result<BlobswapModel, String> {
        let int = |n: &str| -> Result<u32, String> {
            let v = s.int(n).ok_or_else(|| format!("missing parameter {n}"))?;
            u32::try_from(v).map_err(|_| format!("{n} out of range"))
        };
        let params = Params {
            session_period: Blocks(int("session_period")?),
            confirmation_period: Blocks(int("confirmation_period")?),
            reveal_window: Blocks(int("reveal_window")?),
            chain_delay: Blocks(int("chain_delay")?),
            settle_margin: Blocks(int("settle_margin")?),
        };
        let adversaries = match s.choice("adversary") {
            Some("none") => vec![Adv::None],
            Some("user") => vec![Adv::User],
            Some("ssp") => vec![Adv::Ssp],
            _ => vec![Adv::None, Adv::User, Adv::Ssp],
        };
        let mut safeguards = Safeguards::SPEC;
        match s.choice("remove") {
            Some("refund_margin") => safeguards.refund_margin = false,
            Some("reveal_deadline") => safeguards.reveal_deadline = false,
            Some("cancel_after_refund") => safeguards.cancel_after_refund = false,
            Some("payout_margin") => safeguards.payout_margin = false,
            _ => {}
        }
        Ok(BlobswapModel { params, expiry: START + int("expiry_delta")?, adversaries, safeguards })
    }

    fn end(&self) -> u32 {
        self.expiry + 2 * self.params.chain_delay.0 + 2
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Htlc {
    None,
    Held,
    Settled,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    pub adv: Adv,
    pub silent: bool,
    pub tip: u32,
    pub user: UserMachine,
    pub ssp: SspMachine,
    pub htlc: Htlc,
    pub funding_script: Option<ScriptBuf>,
    /// Broadcast at this tip, not yet confirmed.
    pub funding_pending: Option<u32>,
    pub funding_confirmed: Option<u32>,
    pub user_watching: bool,
    pub ssp_looking: bool,
    pub blob: Option<Vec<u8>>,
    pub blob_delivered: bool,
    /// Spends of the shared output: what, broadcast at which tip.
    pub pending: Vec<(Spend, u32)>,
    pub spent: Option<(Spend, u32)>,
    pub refund_height: Option<u32>,
    /// An adversarial SSP holds its signed funding back until it releases it.
    pub funding_withheld: bool,
    /// An adversarial SSP double-spent its unconfirmed funding.
    pub funding_gone: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Block,
    ConfirmFunding,
    ConfirmSpend(usize),
    GoSilent,
    AdversaryClaims,
    AdversaryRefunds,
    AdversarySettlesFromBlob,
    AdversaryReleasesFunding,
    AdversaryReplacesFunding,
    AdversaryRevealsBlob,
}

fn keypair(b: u8) -> Keypair {
    // A constant non-zero scalar below the curve order: never fails.
    match SecretKey::from_slice(&[b; 32]) {
        Ok(sk) => Keypair::from_secret_key(&Secp256k1::signing_only(), &sk),
        Err(_) => unreachable!("constant key"),
    }
}

fn the_preimage() -> Preimage {
    Preimage::new([7; 32])
}

fn funding_outpoint() -> OutPoint {
    OutPoint { txid: Txid::from_byte_array([0x42; 32]), vout: 0 }
}

enum Ev {
    U(UserEvent),
    S(SspEvent),
}

impl BlobswapModel {
    fn world(&self, adv: Adv) -> World {
        let script = |b| ScriptBuf::new_p2tr(&Secp256k1::verification_only(), keypair(b).x_only_public_key().0, None);
        let p = self.params;
        let user_terms = UserTerms {
            params: p,
            value: Amount::from_sat(V),
            max_invoice: Msat(V * 1000 + 1000),
            max_payout_fee: Amount::from_sat(1000),
            claim_fee: Amount::from_sat(600),
            payout_script: script(11),
            safeguards: self.safeguards,
        };
        let ssp_terms = SspTerms {
            params: p,
            min_value: Amount::from_sat(10_000),
            max_value: Amount::from_sat(1_000_000),
            swap_fee: Msat(1000),
            invoice_delta: Blocks(u32::try_from(timing::required_invoice_delta(&p)).unwrap_or(u32::MAX)),
            payout_fee: Amount::from_sat(500),
            refund_fee: Amount::from_sat(500),
            refund_script: script(12),
            safeguards: self.safeguards,
        };
        let mut w = World {
            adv,
            silent: false,
            tip: START,
            user: UserMachine::new(user_terms, the_preimage(), SigningKey::new(keypair(1), [0; 32]), Height(START)),
            ssp: SspMachine::new(ssp_terms, SigningKey::new(keypair(2), [0; 32]), Height(START)),
            htlc: Htlc::None,
            funding_script: None,
            funding_pending: None,
            funding_confirmed: None,
            user_watching: false,
            ssp_looking: false,
            blob: None,
            blob_delivered: false,
            pending: Vec::new(),
            spent: None,
            refund_height: None,
            funding_withheld: false,
            funding_gone: false,
        };
        self.drain(&mut w, vec![Ev::U(UserEvent::Start)]);
        w
    }

    fn drain(&self, w: &mut World, mut queue: Vec<Ev>) {
        let mut i = 0;
        while i < queue.len() {
            let ev = std::mem::replace(&mut queue[i], Ev::U(UserEvent::BlobPublished));
            i += 1;
            match ev {
                Ev::U(e) => {
                    for a in w.user.handle(e) {
                        if !(w.adv == Adv::User && w.silent) {
                            self.user_action(w, a, &mut queue);
                        }
                    }
                }
                Ev::S(e) => {
                    for a in w.ssp.handle(e) {
                        if !(w.adv == Adv::Ssp && w.silent) {
                            self.ssp_action(w, a, &mut queue);
                        }
                    }
                }
            }
        }
    }

    fn funding_seen(w: &World, confirmed_at: Option<u32>, queue: &mut Vec<Ev>) {
        if let (true, Some(script)) = (w.user_watching, w.funding_script.clone()) {
            queue.push(Ev::U(UserEvent::FundingSeen { script_pubkey: script, value: Amount::from_sat(V), confirmed_at: confirmed_at.map(Height) }));
        }
    }

    fn settle(&self, w: &mut World, preimage: &Preimage, queue: &mut Vec<Ev>) {
        if w.htlc == Htlc::Held && *preimage == the_preimage() && w.tip + self.params.settle_margin.0 <= self.expiry {
            w.htlc = Htlc::Settled;
            queue.push(Ev::U(UserEvent::PaymentSettled));
            queue.push(Ev::S(SspEvent::InvoiceSettled));
        }
    }

    fn fail(w: &mut World, queue: &mut Vec<Ev>) {
        if w.htlc == Htlc::Held {
            w.htlc = Htlc::Failed;
            queue.push(Ev::U(UserEvent::PaymentFailed));
        }
    }

    fn broadcast(w: &mut World, spend: Spend) {
        if w.spent.is_none() && !w.pending.iter().any(|(s, _)| *s == spend) {
            w.pending.push((spend, w.tip));
        }
    }

    fn deliver_blob(w: &mut World, queue: &mut Vec<Ev>) {
        if let (true, Some(blob), false) = (w.ssp_looking, w.blob.clone(), w.blob_delivered) {
            w.blob_delivered = true;
            queue.push(Ev::S(SspEvent::BlobFound { blob }));
        }
    }

    fn user_action(&self, w: &mut World, a: UserAction, queue: &mut Vec<Ev>) {
        match a {
            UserAction::SendRequest(r) => queue.push(Ev::S(SspEvent::Request { request: r, hash_seen: false })),
            UserAction::PayInvoice(inv) => {
                w.htlc = Htlc::Held;
                queue.push(Ev::S(SspEvent::InvoiceAccepted { held: inv.amount, expiry: Height(self.expiry) }));
            }
            UserAction::SendRetPresign(r) => queue.push(Ev::S(SspEvent::RetPresign(r))),
            UserAction::LookupShared { .. } => {
                w.user_watching = true;
                if w.funding_pending.is_some() {
                    Self::funding_seen(w, None, queue);
                }
            }
            UserAction::PublishBlob { blob } => {
                w.blob = Some(blob);
                queue.push(Ev::U(UserEvent::BlobPublished));
                Self::deliver_blob(w, queue);
            }
            UserAction::LookupRedeem { .. } | UserAction::GiveUp { .. } => {}
            UserAction::BroadcastClaim { .. } => Self::broadcast(w, Spend::Claim(the_preimage())),
        }
    }

    fn ssp_action(&self, w: &mut World, a: SspAction, queue: &mut Vec<Ev>) {
        match a {
            SspAction::Refuse { .. } => {}
            SspAction::CreateInvoice { payment_hash, amount, min_final_cltv_expiry_delta } => {
                queue.push(Ev::S(SspEvent::InvoiceCreated(Invoice { payment_hash, amount, min_final_cltv_expiry_delta })))
            }
            SspAction::SendInvoice(inv) => queue.push(Ev::U(UserEvent::Invoice(inv))),
            SspAction::BuildFunding { script_pubkey, .. } => {
                w.refund_height = w.ssp.shared_output().map(|o| o.refund_height.0);
                w.funding_script = Some(script_pubkey);
                queue.push(Ev::S(SspEvent::FundingBuilt { funding: funding_outpoint() }));
            }
            SspAction::SendAskPresign(ask) => queue.push(Ev::U(UserEvent::AskPresign(ask))),
            SspAction::BroadcastFunding if w.adv == Adv::Ssp => {
                w.funding_withheld = true;
                queue.push(Ev::S(SspEvent::FundingBroadcast));
            }
            SspAction::BroadcastFunding => {
                if w.funding_pending.is_none() && w.funding_confirmed.is_none() {
                    w.funding_pending = Some(w.tip);
                    Self::funding_seen(w, None, queue);
                }
                queue.push(Ev::S(SspEvent::FundingBroadcast));
            }
            SspAction::LookupBlob { .. } => {
                w.ssp_looking = true;
                Self::deliver_blob(w, queue);
            }
            SspAction::BroadcastPayout { .. } => {
                Self::broadcast(w, Spend::Payout);
                queue.push(Ev::S(SspEvent::PayoutBroadcast));
            }
            SspAction::SettleInvoice { preimage } => self.settle(w, &preimage, queue),
            SspAction::BroadcastRefund { .. } => Self::broadcast(w, Spend::Refund),
            SspAction::CancelInvoice { .. } => Self::fail(w, queue),
        }
    }

    fn spend_ready(&self, w: &World, spend: &Spend, at: u32) -> bool {
        let Some(hc) = w.funding_confirmed else { return false };
        let after = w.tip > at && w.tip > hc;
        match spend {
            // The refund's lock time R: in a block above R.
            Spend::Refund => after && w.refund_height.is_some_and(|r| w.tip > r),
            _ => after,
        }
    }

    /// The run is over: the last block is found and nothing is still to confirm.
    pub fn over(&self, w: &World) -> bool {
        w.tip >= self.end() && w.funding_pending.is_none() && (w.pending.is_empty() || w.spent.is_some())
    }
}

impl Model for BlobswapModel {
    type State = World;
    type Action = Step;

    fn init_states(&self) -> Vec<World> {
        self.adversaries.iter().map(|a| self.world(*a)).collect()
    }

    fn actions(&self, w: &World, out: &mut Vec<Step>) {
        let d = self.params.chain_delay.0;
        // The chain delay bound: nothing broadcast waits more than chain_delay blocks.
        let overdue = w.funding_pending.is_some_and(|b| b + d <= w.tip)
            || (w.spent.is_none() && w.funding_confirmed.is_some() && w.pending.iter().any(|(s, b)| b + d <= w.tip && self.spend_ready(w, s, *b)));
        if w.tip < self.end() && !overdue {
            out.push(Step::Block);
        }
        if w.funding_pending.is_some_and(|b| w.tip > b) {
            out.push(Step::ConfirmFunding);
        }
        if w.spent.is_none() {
            for (i, (s, b)) in w.pending.iter().enumerate() {
                if self.spend_ready(w, s, *b) {
                    out.push(Step::ConfirmSpend(i));
                }
            }
        }
        if w.adv != Adv::None && !w.silent && w.tip < self.end() {
            out.push(Step::GoSilent);
        }
        if w.adv == Adv::Ssp && w.funding_withheld {
            out.push(Step::AdversaryReleasesFunding);
        }
        if w.adv == Adv::Ssp && w.funding_pending.is_some() {
            out.push(Step::AdversaryReplacesFunding);
        }
        if w.adv == Adv::User && w.blob.is_none() && w.funding_confirmed.is_some() {
            out.push(Step::AdversaryRevealsBlob);
        }
        let unspent = w.funding_confirmed.is_some() && w.spent.is_none();
        if w.adv == Adv::User && unspent && !w.pending.iter().any(|(s, _)| matches!(s, Spend::Claim(_))) {
            out.push(Step::AdversaryClaims);
        }
        if w.adv == Adv::Ssp && unspent && w.refund_height.is_some_and(|r| w.tip >= r) && !w.pending.iter().any(|(s, _)| *s == Spend::Refund) {
            out.push(Step::AdversaryRefunds);
        }
        if w.adv == Adv::Ssp && w.blob.is_some() && w.htlc == Htlc::Held && w.tip + self.params.settle_margin.0 <= self.expiry {
            out.push(Step::AdversarySettlesFromBlob);
        }
    }

    fn next_state(&self, w: &World, step: Step) -> Option<World> {
        let mut w = w.clone();
        let mut queue = Vec::new();
        match step {
            Step::Block => {
                w.tip += 1;
                if w.htlc == Htlc::Held && w.tip >= self.expiry {
                    Self::fail(&mut w, &mut queue);
                }
                queue.push(Ev::U(UserEvent::Tick { tip: Height(w.tip) }));
                queue.push(Ev::S(SspEvent::Tick { tip: Height(w.tip) }));
            }
            Step::ConfirmFunding => {
                w.funding_pending = None;
                w.funding_confirmed = Some(w.tip);
                queue.push(Ev::S(SspEvent::FundingConfirmed { at: Height(w.tip) }));
                Self::funding_seen(&w, Some(w.tip), &mut queue);
            }
            Step::ConfirmSpend(i) => {
                let (spend, _) = w.pending.get(i)?.clone();
                w.pending.clear();
                w.spent = Some((spend.clone(), w.tip));
                queue.push(Ev::U(UserEvent::SharedSpent { spend: spend.clone(), confirmed_at: Height(w.tip) }));
                queue.push(Ev::S(SspEvent::SharedSpent { spend, confirmed_at: Height(w.tip) }));
            }
            Step::GoSilent => w.silent = true,
            Step::AdversaryClaims => Self::broadcast(&mut w, Spend::Claim(the_preimage())),
            Step::AdversaryRefunds => Self::broadcast(&mut w, Spend::Refund),
            Step::AdversarySettlesFromBlob => self.settle(&mut w, &the_preimage(), &mut queue),
            Step::AdversaryReleasesFunding => {
                w.funding_withheld = false;
                w.funding_pending = Some(w.tip);
                Self::funding_seen(&w, None, &mut queue);
            }
            Step::AdversaryReplacesFunding => {
                w.funding_pending = None;
                w.funding_gone = true;
            }
            Step::AdversaryRevealsBlob => {
                w.blob = Some(blobswap_reference::blob::reveal_blob(&the_preimage()));
                Self::deliver_blob(&mut w, &mut queue);
            }
        }
        self.drain(&mut w, queue);
        Some(w)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always(USER_SAFE, |m: &BlobswapModel, w: &World| w.adv == Adv::User || user_safe(m, w)),
            Property::always(SSP_SAFE, |m: &BlobswapModel, w: &World| w.adv == Adv::Ssp || ssp_safe(m, w)),
            Property::sometimes(SWAP_CAN_COMPLETE, |_, w: &World| w.htlc == Htlc::Settled && to_user(w)),
            Property::sometimes(SSP_CAN_BE_REFUNDED, |_, w: &World| matches!(w.spent, Some((Spend::Refund, _))) && w.htlc == Htlc::Failed),
        ]
    }

    fn within_boundary(&self, w: &World) -> bool {
        w.tip <= self.end()
    }
}

fn to_user(w: &World) -> bool {
    w.spent.as_ref().is_some_and(|(s, _)| s.pays_user())
}

/// The user's payment is settled only if the shared output went to it (judged at any moment: a
/// settled HTLC is final, so it must be matched by the end).
fn user_safe(m: &BlobswapModel, w: &World) -> bool {
    !m.over(w) || w.htlc != Htlc::Settled || to_user(w)
}

/// The shared output goes to the user only if the SSP was paid; a funded output not taken by
/// the user comes back to the SSP.
fn ssp_safe(m: &BlobswapModel, w: &World) -> bool {
    !m.over(w) || ((!to_user(w) || w.htlc == Htlc::Settled) && (w.funding_confirmed.is_none() || w.spent.is_some()))
}

pub const USER_SAFE: &str = "user_paid_only_for_value";
pub const SSP_SAFE: &str = "ssp_output_only_if_paid";
pub const SWAP_CAN_COMPLETE: &str = "swap_can_complete";
pub const SSP_CAN_BE_REFUNDED: &str = "ssp_can_be_refunded";

pub const DEFS: &[PropertyDef] = &[
    PropertyDef {
        name: USER_SAFE,
        kind: PropertyKind::Safety,
        words: "An honest user's hold-invoice payment is settled only if the shared output (the value the swap promised) confirms to it, by payout or claim.",
        rests_on: &[
            q("The user MUST NOT presign at a tip t with `t + CONFIRMATION_PERIOD + REVEAL_WINDOW + 2 * CHAIN_DELAY > R`."),
            q("The user MUST NOT reveal if `hc + CONFIRMATION_PERIOD - 1 + REVEAL_WINDOW + 2 * CHAIN_DELAY > R`."),
            q("A user that has revealed and sees no confirmed spend of the shared output at tip `hW + CHAIN_DELAY` MUST broadcast its claim transaction."),
        ],
    },
    PropertyDef {
        name: SSP_SAFE,
        kind: PropertyKind::Safety,
        words: "An honest SSP's shared output goes to the user only if the SSP settled the hold invoice, and a funded output the user does not take comes back to the SSP.",
        rests_on: &[
            q("The SSP MUST choose a refund height R with `R + CHAIN_DELAY + SETTLE_MARGIN <= E`."),
            q("The SSP MUST NOT broadcast the payout transaction at a tip t with `t + SETTLE_MARGIN > E`."),
            q("An SSP that sees the shared output spent through the claim leaf MUST settle the hold invoice with the preimage from that witness."),
            q("An SSP whose shared output is unspent at tip R and that has not broadcast the payout transaction MUST broadcast the refund transaction."),
        ],
    },
    PropertyDef {
        name: SWAP_CAN_COMPLETE,
        kind: PropertyKind::Reachable,
        words: "Some run settles the payment and gives the user the shared output (the safety verdicts are not vacuous).",
        rests_on: &[q("The SSP MUST NOT broadcast the payout transaction before it holds the preimage.")],
    },
    PropertyDef {
        name: SSP_CAN_BE_REFUNDED,
        kind: PropertyKind::Reachable,
        words: "Some run ends with the SSP refunded and the payment failed back.",
        rests_on: &[q("The SSP MUST cancel the hold invoice once its refund has confirmed.")],
    },
];

impl CheckableModel for BlobswapModel {
    fn property_defs(&self) -> Vec<PropertyDef> {
        DEFS.to_vec()
    }
    fn trace(&self, _property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
        let mut t = Trace::default();
        if let Some((w0, _)) = path.first() {
            t.setup.push(format!("adversary: {:?}; E = {}; R = {:?}; params {:?}", w0.adv, self.expiry, path.last().and_then(|(w, _)| w.refund_height), self.params));
        }
        for (w, step) in path {
            if let Some(step) = step {
                let actor = match step {
                    Step::Block | Step::ConfirmFunding | Step::ConfirmSpend(_) => "chain".to_string(),
                    _ => format!("{:?} (adversary)", w.adv),
                };
                let what = match step {
                    Step::ConfirmSpend(i) => format!("confirms {:?}", w.pending.get(*i).map(|(s, _)| s)),
                    other => format!("{other:?}"),
                };
                t.steps.push(TraceStep { at: format!("h={}", w.tip), actor, what, notes: vec![] });
            }
        }
        if let Some((w, _)) = path.last() {
            t.outcome.push(format!(
                "h={}: HTLC {:?}; funding confirmed {:?}; shared output {:?}; user {:?}; SSP {:?}",
                w.tip, w.htlc, w.funding_confirmed, w.spent, w.user.phase(), w.ssp.phase()
            ));
        }
        t
    }
    fn export(&self, _property: &PropertyDef, _path: &[(World, Option<Step>)]) -> Option<VectorFile> {
        None
    }
}

/// The Blobswap system for the command line.
pub struct Blobswap;

pub const BOUNDS: &[&str] = &[
    "One swap, one user, one SSP; one hold invoice paid in one HTLC of expiry E = 100 + `expiry_delta` (the SSP accepts at height 100).",
    "At most one adversarial party (`adversary`): it runs the reference machine but may go silent at any step (a crash without restart is the same to the other party), broadcast its own spend whenever its leaf allows (user: the claim at any tip once funded; SSP: the refund from R on); as user, publish the blob at any tip once funded; as SSP, hold its signed funding back and broadcast it at any later tip, double-spend it while unconfirmed, and settle the hold invoice with the preimage from a blob. It never forges messages (fake invoices, fake funding outputs and wrong presigned values are covered by the reference crate's checks and flow tests, not here).",
    "Chain: abstract heights from 100 to E + 2*chain_delay + 2; a broadcast transaction confirms in any block from the next to chain_delay blocks later, in any order (the checker picks which of two conflicting spends wins). No reorganisations (CONFIRMATION_PERIOD is taken as deeper than any).",
    "Lightning: the HTLC can be settled at tip t iff t + SETTLE_MARGIN <= E and fails back at E; messages between the parties and node answers arrive within the step that caused them.",
    "Blob medium: a published blob is visible to the SSP once it looks up.",
];

impl System for Blobswap {
    fn name(&self) -> &'static str {
        "blobswap"
    }
    fn title(&self) -> &'static str {
        "BLOBSWAP-01 Blobswap: one swap between a user and an SSP, Lightning, the chain and the blob medium"
    }
    fn parameters(&self) -> &'static [ParamDef] {
        PARAMS
    }
    fn properties(&self) -> Vec<PropertyDef> {
        DEFS.to_vec()
    }
    fn bounds(&self) -> &'static [&'static str] {
        BOUNDS
    }
    fn check(&self, settings: &Settings, bounds: &Bounds) -> Result<CheckReport, String> {
        let model = BlobswapModel::from_settings(settings)?;
        let shown = settings.values().iter().map(|(n, v)| format!("{n}={v}")).collect();
        framework::check(model, self.name(), shown, bounds)
    }
}
