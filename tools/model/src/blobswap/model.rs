//! The world of one swap and its steps. Both honest parties run the reference crate's machines
//! (`blobswap_reference::user::UserMachine`, `ssp::SspMachine`); the world (Lightning HTLC,
//! chain, blob medium) is abstract; at most one party is adversarial.
//!
//! Steps the checker chooses: a block is found; a pending transaction confirms (any block after
//! its broadcast, at the latest `chain_delay` blocks after it: the chain delay bound); the
//! adversary goes silent (a crash without restart is the same to the other party), broadcasts
//! its own spend (user: the claim at any tip; SSP: the refund from R on), sends its presignature
//! late or reveals late (user), withholds, double-spends or reorganises away its funding, or
//! settles with a preimage from a blob (SSP). Messages and node answers between steps are
//! delivered at once, in order.

use bitcoin::hashes::Hash as _;
use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::SecretKey;
use bitcoin::{Amount, OutPoint, ScriptBuf, Txid};
use stateright::{Model, Property};

use blobswap_reference::keys::SigningKey;
use blobswap_reference::messages::{Invoice, RetPresign};
use blobswap_reference::output::Spend;
use blobswap_reference::ssp::{SspAction, SspEvent, SspMachine, SspTerms};
use blobswap_reference::timing;
use blobswap_reference::user::{UserAction, UserEvent, UserMachine, UserTerms};
use blobswap_reference::{Blocks, Height, Msat, Params, Preimage, Safeguards};

use super::properties::{ssp_safe, to_user, user_safe, SSP_CAN_BE_REFUNDED, SSP_SAFE, SWAP_CAN_COMPLETE, USER_SAFE};

/// V, in satoshis.
pub const V: u64 = 100_000;
/// The height at which the swap starts (and the SSP accepts the payment: h7).
pub const START: u32 = 100;

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
    /// The deepest reorganisation: an adversarial SSP may undo a funding with at most this many
    /// confirmations.
    pub reorg_depth: u32,
    pub adversaries: Vec<Adv>,
    pub safeguards: Safeguards,
    /// The `remove=` choice, for the vectors' setup.
    pub removed: Option<&'static str>,
    /// The last tip at which an adversarial user may send its presignature (`None`: any); not a
    /// setting, a test's probe of how much of `blob.timing.4` S2 needs.
    pub latest_presign: Option<u32>,
}

impl BlobswapModel {
    pub(crate) fn end(&self) -> u32 {
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
    /// An adversarial SSP double-spent its funding (unconfirmed, or in a reorganisation).
    pub funding_gone: bool,
    /// An adversarial user holds its `ret_presign` back until it sends it.
    pub presign_withheld: Option<RetPresign>,
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
    AdversaryReorgsFunding,
    AdversaryRevealsBlob,
    AdversarySendsPresign,
}

pub(crate) fn keypair(b: u8) -> Keypair {
    // A constant non-zero scalar below the curve order: never fails.
    match SecretKey::from_slice(&[b; 32]) {
        Ok(sk) => Keypair::from_secret_key(&Secp256k1::signing_only(), &sk),
        Err(_) => unreachable!("constant key"),
    }
}

/// The keys' bytes: the user's and the SSP's signing keys, and their payout and refund scripts'.
pub(crate) const USER_KEY: u8 = 1;
pub(crate) const SSP_KEY: u8 = 2;
pub(crate) const PAYOUT_KEY: u8 = 11;
pub(crate) const REFUND_KEY: u8 = 12;
pub(crate) const PREIMAGE: [u8; 32] = [7; 32];

pub(crate) fn the_preimage() -> Preimage {
    Preimage::new(PREIMAGE)
}

pub(crate) fn funding_outpoint() -> OutPoint {
    OutPoint { txid: Txid::from_byte_array([0x42; 32]), vout: 0 }
}

pub(crate) fn script(b: u8) -> ScriptBuf {
    ScriptBuf::new_p2tr(&Secp256k1::verification_only(), keypair(b).x_only_public_key().0, None)
}

pub(crate) enum Ev {
    U(UserEvent),
    S(SspEvent),
}

/// What a machine got and answered, for the vectors.
pub(crate) enum Rec {
    User(UserEvent, Vec<UserAction>),
    Ssp(SspEvent, Vec<SspAction>),
}

pub(crate) type Log<'a> = Option<&'a mut Vec<Rec>>;

impl BlobswapModel {
    pub(crate) fn user_terms(&self) -> UserTerms {
        UserTerms {
            params: self.params,
            value: Amount::from_sat(V),
            max_invoice: Msat(V * 1000 + 1000),
            max_payout_fee: Amount::from_sat(1000),
            claim_fee: Amount::from_sat(600),
            payout_script: script(PAYOUT_KEY),
            safeguards: self.safeguards,
        }
    }

    pub(crate) fn ssp_terms(&self) -> SspTerms {
        let p = self.params;
        SspTerms {
            params: p,
            min_value: Amount::from_sat(10_000),
            max_value: Amount::from_sat(1_000_000),
            swap_fee: Msat(1000),
            invoice_delta: Blocks(u32::try_from(timing::required_invoice_delta(&p)).unwrap_or(u32::MAX)),
            payout_fee: Amount::from_sat(500),
            refund_fee: Amount::from_sat(500),
            refund_script: script(REFUND_KEY),
            safeguards: self.safeguards,
        }
    }

    pub(crate) fn world(&self, adv: Adv, log: Log) -> World {
        let mut w = World {
            adv,
            silent: false,
            tip: START,
            user: UserMachine::new(self.user_terms(), the_preimage(), SigningKey::new(keypair(USER_KEY), [0; 32]), Height(START)),
            ssp: SspMachine::new(self.ssp_terms(), SigningKey::new(keypair(SSP_KEY), [0; 32]), Height(START)),
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
            presign_withheld: None,
        };
        self.drain(&mut w, vec![Ev::U(UserEvent::Start)], log);
        w
    }

    fn drain(&self, w: &mut World, mut queue: Vec<Ev>, mut log: Log) {
        let mut i = 0;
        while i < queue.len() {
            let ev = std::mem::replace(&mut queue[i], Ev::U(UserEvent::BlobPublished));
            i += 1;
            match ev {
                Ev::U(e) => {
                    let actions = match log.as_deref_mut() {
                        Some(l) => {
                            let a = w.user.handle(e.clone());
                            l.push(Rec::User(e, a.clone()));
                            a
                        }
                        None => w.user.handle(e),
                    };
                    for a in actions {
                        if !(w.adv == Adv::User && w.silent) {
                            self.user_action(w, a, &mut queue);
                        }
                    }
                }
                Ev::S(e) => {
                    let actions = match log.as_deref_mut() {
                        Some(l) => {
                            let a = w.ssp.handle(e.clone());
                            l.push(Rec::Ssp(e, a.clone()));
                            a
                        }
                        None => w.ssp.handle(e),
                    };
                    for a in actions {
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

    /// The honest SSP's settle succeeds only at `t + SETTLE_MARGIN <= E` (later, the adversary
    /// decides, and decides against it).
    fn settle(&self, w: &mut World, preimage: &Preimage, queue: &mut Vec<Ev>) {
        if w.htlc == Htlc::Held && *preimage == the_preimage() && w.tip + self.params.settle_margin.0 <= self.expiry {
            Self::settled(w, queue);
        }
    }

    fn settled(w: &mut World, queue: &mut Vec<Ev>) {
        w.htlc = Htlc::Settled;
        queue.push(Ev::U(UserEvent::PaymentSettled));
        queue.push(Ev::S(SspEvent::InvoiceSettled));
    }

    fn fail(w: &mut World, queue: &mut Vec<Ev>) {
        if w.htlc == Htlc::Held {
            w.htlc = Htlc::Failed;
            queue.push(Ev::U(UserEvent::PaymentFailed));
        }
    }

    /// A spend of the shared output enters the mempool, unless the output is spent or can never
    /// exist (its funding double-spent).
    fn broadcast(w: &mut World, spend: Spend) {
        if w.spent.is_none() && !w.funding_gone && !w.pending.iter().any(|(s, _)| *s == spend) {
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
            // An adversarial user sends its presignature when it likes (`AdversarySendsPresign`).
            UserAction::SendRetPresign(r) if w.adv == Adv::User => w.presign_withheld = Some(r),
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

    /// The run is over: the last block is found and nothing is still to confirm (a spend of a
    /// funding that was double-spent never confirms).
    pub fn over(&self, w: &World) -> bool {
        w.tip >= self.end() && w.funding_pending.is_none() && (w.pending.is_empty() || w.spent.is_some() || w.funding_gone)
    }

    /// The step from `w`, recording what each machine got and answered.
    pub(crate) fn step(&self, w: &World, step: &Step, log: Log) -> Option<World> {
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
                let (spend, _) = w.pending.get(*i)?.clone();
                w.pending.clear();
                w.spent = Some((spend.clone(), w.tip));
                queue.push(Ev::U(UserEvent::SharedSpent { spend: spend.clone(), confirmed_at: Height(w.tip) }));
                queue.push(Ev::S(SspEvent::SharedSpent { spend, confirmed_at: Height(w.tip) }));
            }
            Step::GoSilent => w.silent = true,
            Step::AdversaryClaims => Self::broadcast(&mut w, Spend::Claim(the_preimage())),
            Step::AdversaryRefunds => Self::broadcast(&mut w, Spend::Refund),
            // Between E - SETTLE_MARGIN and E the adversary decides: for itself, in its favour.
            Step::AdversarySettlesFromBlob => {
                if w.htlc == Htlc::Held && w.tip < self.expiry {
                    Self::settled(&mut w, &mut queue);
                }
            }
            Step::AdversaryReleasesFunding => {
                w.funding_withheld = false;
                w.funding_pending = Some(w.tip);
                Self::funding_seen(&w, None, &mut queue);
            }
            Step::AdversaryReplacesFunding => {
                w.funding_pending = None;
                w.funding_gone = true;
                w.pending.clear();
            }
            // The blocks since the funding's are replaced by a branch in which a conflicting
            // transaction of the SSP's confirms; nothing spending the output survives. The user's
            // node reports the output unconfirmed again (the only report its machine takes; the
            // output never confirms again, so a user that has not revealed waits and gives up).
            Step::AdversaryReorgsFunding => {
                w.funding_confirmed = None;
                w.funding_gone = true;
                w.pending.clear();
                Self::funding_seen(&w, None, &mut queue);
            }
            Step::AdversaryRevealsBlob => {
                w.blob = Some(blobswap_reference::blob::reveal_blob(&the_preimage()));
                Self::deliver_blob(&mut w, &mut queue);
            }
            Step::AdversarySendsPresign => {
                let r = w.presign_withheld.take()?;
                queue.push(Ev::S(SspEvent::RetPresign(r)));
            }
        }
        self.drain(&mut w, queue, log);
        Some(w)
    }
}

impl Model for BlobswapModel {
    type State = World;
    type Action = Step;

    fn init_states(&self) -> Vec<World> {
        self.adversaries.iter().map(|a| self.world(*a, None)).collect()
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
        // A reorganisation of depth k undoes a block with at most k confirmations.
        if w.adv == Adv::Ssp && w.spent.is_none() && w.funding_confirmed.is_some_and(|hc| w.tip + 1 - hc <= self.reorg_depth) {
            out.push(Step::AdversaryReorgsFunding);
        }
        if w.adv == Adv::User && w.presign_withheld.is_some() && !w.silent && self.latest_presign.is_none_or(|l| w.tip <= l) {
            out.push(Step::AdversarySendsPresign);
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
        if w.adv == Adv::Ssp && w.blob.is_some() && w.htlc == Htlc::Held && w.tip < self.expiry {
            out.push(Step::AdversarySettlesFromBlob);
        }
    }

    fn next_state(&self, w: &World, step: Step) -> Option<World> {
        self.step(w, &step, None)
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
