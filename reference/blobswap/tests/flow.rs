//! Both machines against a small simulated world: the happy path, every timeout path, and, for each
//! safeguard of BLOBSWAP-01 "Safety", the counterexample with it removed and its absence with it on.
//!
//! This is not the model check (issue 19, item 4): each scenario is one interleaving chosen by hand,
//! with the adversary's choices written out. The world follows BLOBSWAP-01 "Model assumptions": a
//! transaction confirms after a delay of 1 to CHAIN_DELAY blocks (chosen per scenario), the
//! adversary picks between conflicting spends, an HTLC can be settled at tip t iff
//! `t + SETTLE_MARGIN <= E` and fails back at E, a blob is visible from the tip it is published at.

use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::SecretKey;
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, Txid};
use bitcoin::hashes::Hash as _;

use blobswap_reference::keys::SigningKey;
use blobswap_reference::messages::Invoice;
use blobswap_reference::output::{self, Leaf, SharedOutput, Spend};
use blobswap_reference::ssp::{SspAction, SspEvent, SspMachine, SspPhase, SspTerms};
use blobswap_reference::timing;
use blobswap_reference::user::{UserAction, UserEvent, UserMachine, UserPhase, UserTerms};
use blobswap_reference::{Blocks, Height, Msat, Params, PaymentHash, Preimage, Safeguards};

const V: u64 = 100_000;
const START: u32 = 100;
const EXPIRY: u32 = 120;

fn params() -> Params {
    Params {
        session_period: Blocks(2),
        confirmation_period: Blocks(2),
        reveal_window: Blocks(3),
        chain_delay: Blocks(2),
        settle_margin: Blocks(4),
    }
}

fn keypair(b: u8) -> Keypair {
    Keypair::from_secret_key(&Secp256k1::signing_only(), &SecretKey::from_slice(&[b; 32]).unwrap())
}

fn preimage() -> Preimage {
    Preimage::new([7; 32])
}

fn user_script() -> ScriptBuf {
    ScriptBuf::new_p2tr(&Secp256k1::verification_only(), keypair(11).x_only_public_key().0, None)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    User,
    Ssp,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Htlc {
    None,
    Held,
    Settled,
    Failed,
}

/// A transaction waiting for its block.
#[derive(Clone, Debug)]
struct Pending {
    spend: Spend,
    confirm_at: u32,
}

/// The adversary's choices and the chain's delays for one scenario.
#[derive(Clone)]
struct Scenario {
    params: Params,
    user_sg: Safeguards,
    ssp_sg: Safeguards,
    /// The user's actions that take effect (false: dropped, the user is silent or withholds).
    user_acts: fn(&UserAction, u32) -> bool,
    ssp_acts: fn(&SspAction, u32) -> bool,
    /// The (adversarial) user broadcasts its claim at this tip, whatever its machine says.
    user_claims_at: Option<u32>,
    /// The (adversarial) SSP settles as soon as a blob reveals the preimage.
    ssp_settles_on_blob: bool,
    /// The (adversarial) SSP broadcasts its refund at this tip, whatever its machine says.
    ssp_refunds_at: Option<u32>,
    /// The data-availability medium never shows the blob to the SSP.
    blob_hidden: bool,
    /// The (adversarial) SSP holds its funding back until this tip.
    funding_broadcast_at: Option<u32>,
    /// The (adversarial) SSP replaces its unconfirmed funding at this tip.
    funding_replaced_at: Option<u32>,
    /// The (adversarial) SSP invoices this hash (it knows the preimage) and settles at once.
    fake_invoice: bool,
    /// The (adversarial) SSP funds an output it alone can spend.
    fake_funding: bool,
    funding_delay: u32,
    payout_delay: u32,
    claim_delay: u32,
    refund_delay: u32,
    /// Who picks between conflicting spends that confirm in the same block.
    adversary: Who,
    /// From this tip on, the party's actions are dropped (it crashed or went silent).
    user_silent_from: Option<u32>,
    ssp_silent_from: Option<u32>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            params: params(),
            user_sg: Safeguards::SPEC,
            ssp_sg: Safeguards::SPEC,
            user_acts: |_, _| true,
            ssp_acts: |_, _| true,
            user_claims_at: None,
            ssp_settles_on_blob: false,
            ssp_refunds_at: None,
            blob_hidden: false,
            funding_broadcast_at: None,
            funding_replaced_at: None,
            fake_invoice: false,
            fake_funding: false,
            funding_delay: 1,
            payout_delay: 1,
            claim_delay: 1,
            refund_delay: 1,
            adversary: Who::Ssp,
            user_silent_from: None,
            ssp_silent_from: None,
        }
    }
}

struct World {
    s: Scenario,
    tip: u32,
    user: UserMachine,
    ssp: SspMachine,
    queue: Vec<(Who, Event)>,
    htlc: Htlc,
    htlc_hash: Option<PaymentHash>,
    funding_script: Option<ScriptBuf>,
    funding_pending: Option<u32>,
    funding_confirmed: Option<u32>,
    funding_gone: bool,
    user_watching: bool,
    ssp_looking: bool,
    blob: Option<Vec<u8>>,
    blob_delivered: bool,
    pending: Vec<Pending>,
    spent: Option<(Spend, u32)>,
    refund_height: Option<Height>,
    log: Vec<String>,
}

#[derive(Clone, Debug)]
enum Event {
    User(UserEvent),
    Ssp(SspEvent),
}

fn funding_outpoint() -> OutPoint {
    OutPoint { txid: Txid::from_byte_array([0x42; 32]), vout: 0 }
}

impl World {
    fn new(s: Scenario) -> World {
        let user_terms = UserTerms {
            params: s.params,
            value: Amount::from_sat(V),
            max_invoice: Msat(V * 1000 + 1000),
            max_payout_fee: Amount::from_sat(1000),
            claim_fee: Amount::from_sat(600),
            payout_script: user_script(),
            safeguards: s.user_sg,
        };
        let ssp_terms = SspTerms {
            params: s.params,
            min_value: Amount::from_sat(10_000),
            max_value: Amount::from_sat(1_000_000),
            swap_fee: Msat(1000),
            invoice_delta: Blocks(u32::try_from(timing::required_invoice_delta(&s.params)).unwrap()),
            payout_fee: Amount::from_sat(500),
            refund_fee: Amount::from_sat(500),
            refund_script: ScriptBuf::new_p2tr(&Secp256k1::verification_only(), keypair(12).x_only_public_key().0, None),
            safeguards: s.ssp_sg,
        };
        let user = UserMachine::new(user_terms, preimage(), SigningKey::new(keypair(1), [0; 32]), Height(START));
        let ssp = SspMachine::new(ssp_terms, SigningKey::new(keypair(2), [0; 32]), Height(START));
        World {
            s,
            tip: START,
            user,
            ssp,
            queue: vec![(Who::User, Event::User(UserEvent::Start))],
            htlc: Htlc::None,
            htlc_hash: None,
            funding_script: None,
            funding_pending: None,
            funding_confirmed: None,
            funding_gone: false,
            user_watching: false,
            ssp_looking: false,
            blob: None,
            blob_delivered: false,
            pending: Vec::new(),
            spent: None,
            refund_height: None,
            log: Vec::new(),
        }
    }

    fn run(mut self) -> World {
        self.drain();
        while self.tip < EXPIRY + 6 {
            self.block();
        }
        self
    }

    fn block(&mut self) {
        self.tip += 1;
        let tip = self.tip;
        if self.s.funding_replaced_at == Some(tip) && self.funding_confirmed.is_none() {
            self.funding_pending = None;
            self.funding_gone = true;
            self.log.push(format!("{tip}: SSP replaces its funding"));
        }
        if self.s.funding_broadcast_at == Some(tip) && self.funding_script.is_some() && !self.funding_gone {
            self.funding_pending = Some(tip + self.s.funding_delay);
            self.deliver_funding_seen(None);
        }
        if self.funding_pending == Some(tip) {
            self.funding_pending = None;
            self.funding_confirmed = Some(tip);
            self.log.push(format!("{tip}: funding confirmed"));
            self.queue.push((Who::Ssp, Event::Ssp(SspEvent::FundingConfirmed { at: Height(tip) })));
            self.deliver_funding_seen(Some(tip));
        }
        self.confirm_spend(tip);
        if self.htlc == Htlc::Held && tip >= EXPIRY {
            self.fail_htlc("expired");
        }
        if self.s.user_claims_at == Some(tip) {
            self.user_claim();
        }
        if self.s.ssp_refunds_at == Some(tip) {
            self.ssp_refund();
        }
        self.queue.push((Who::User, Event::User(UserEvent::Tick { tip: Height(tip) })));
        self.queue.push((Who::Ssp, Event::Ssp(SspEvent::Tick { tip: Height(tip) })));
        self.drain();
    }

    fn deliver_funding_seen(&mut self, confirmed_at: Option<u32>) {
        if let (true, Some(script)) = (self.user_watching, self.funding_script.clone()) {
            self.queue.push((
                Who::User,
                Event::User(UserEvent::FundingSeen {
                    script_pubkey: script,
                    value: Amount::from_sat(V),
                    confirmed_at: confirmed_at.map(Height),
                }),
            ));
        }
    }

    fn confirm_spend(&mut self, tip: u32) {
        if self.spent.is_some() || self.funding_confirmed.is_none() {
            return;
        }
        let refund_valid = |p: &Pending| match p.spend {
            Spend::Refund => self.refund_height.is_some_and(|r| tip > r.0),
            _ => true,
        };
        let ready: Vec<Pending> = self.pending.iter().filter(|p| p.confirm_at <= tip && refund_valid(p)).cloned().collect();
        let favours = |p: &Pending| match (self.s.adversary, &p.spend) {
            (Who::Ssp, Spend::Refund) | (Who::User, Spend::Claim(_)) => 0,
            _ => 1,
        };
        if let Some(win) = ready.iter().min_by_key(|p| favours(p)).cloned() {
            self.log.push(format!("{tip}: shared output spent by {:?}", win.spend));
            self.spent = Some((win.spend.clone(), tip));
            self.pending.clear();
            let ev = |spend: Spend| (spend, Height(tip));
            let (spend, at) = ev(win.spend);
            self.queue.push((Who::User, Event::User(UserEvent::SharedSpent { spend: spend.clone(), confirmed_at: at })));
            self.queue.push((Who::Ssp, Event::Ssp(SspEvent::SharedSpent { spend, confirmed_at: at })));
        }
    }

    fn fail_htlc(&mut self, why: &str) {
        if self.htlc == Htlc::Held {
            self.htlc = Htlc::Failed;
            self.log.push(format!("{}: HTLC failed ({why})", self.tip));
            self.queue.push((Who::User, Event::User(UserEvent::PaymentFailed)));
        }
    }

    fn settle_htlc(&mut self, preimage: &Preimage, who: &str) {
        let m = self.s.params.settle_margin.0;
        if self.htlc == Htlc::Held && self.htlc_hash == Some(preimage.payment_hash()) && self.tip + m <= EXPIRY {
            self.htlc = Htlc::Settled;
            self.log.push(format!("{}: HTLC settled by {who}", self.tip));
            self.queue.push((Who::User, Event::User(UserEvent::PaymentSettled)));
            self.queue.push((Who::Ssp, Event::Ssp(SspEvent::InvoiceSettled)));
        } else {
            self.log.push(format!("{}: settle by {who} failed ({:?})", self.tip, self.htlc));
        }
    }

    fn user_claim(&mut self) {
        let (Some(_), Some(r)) = (self.funding_confirmed, self.refund_height) else { return };
        if self.spent.is_some() {
            return;
        }
        let output = SharedOutput::new(preimage().payment_hash(), keypair(1).x_only_public_key().0, keypair(2).x_only_public_key().0, r).unwrap();
        let mut tx = output::claim_tx(funding_outpoint(), Amount::from_sat(V), Amount::from_sat(600), &user_script()).unwrap();
        let sig = output::sign(&keypair(1), output.sighash(&tx, Amount::from_sat(V), Leaf::Claim), &[0; 32]);
        tx.input[0].witness = output.claim_witness(&sig, &preimage());
        self.broadcast_spend(&tx, "user (adversary)", self.s.claim_delay);
    }

    fn ssp_refund(&mut self) {
        let Some(r) = self.refund_height else { return };
        if self.spent.is_some() {
            return;
        }
        let output = SharedOutput::new(preimage().payment_hash(), keypair(1).x_only_public_key().0, keypair(2).x_only_public_key().0, r).unwrap();
        let mut tx = output::refund_tx(funding_outpoint(), Amount::from_sat(V), Amount::from_sat(500), r, &ScriptBuf::new()).unwrap();
        let sig = output::sign(&keypair(2), output.sighash(&tx, Amount::from_sat(V), Leaf::Refund), &[0; 32]);
        tx.input[0].witness = output.refund_witness(&sig);
        self.broadcast_spend(&tx, "SSP (adversary)", self.s.refund_delay);
    }

    /// Checks a spend of the shared output like a node would (signatures, leaf) and queues it.
    fn broadcast_spend(&mut self, tx: &Transaction, who: &str, delay: u32) {
        let Some(r) = self.refund_height else { return };
        let output = SharedOutput::new(preimage().payment_hash(), keypair(1).x_only_public_key().0, keypair(2).x_only_public_key().0, r).unwrap();
        let spend = output.classify_spend(&tx.input[0].witness).expect("a spend of the shared output");
        let items: Vec<&[u8]> = tx.input[0].witness.iter().collect();
        let value = Amount::from_sat(V);
        let sig = |i: usize| bitcoin::secp256k1::schnorr::Signature::from_slice(items[i]).unwrap();
        let valid = match spend {
            Spend::Payout => {
                let m = output.sighash(tx, value, Leaf::Payout);
                output::verify(&output.ssp_key, m, &sig(0)) && output::verify(&output.user_key, m, &sig(1))
            }
            Spend::Claim(_) => output::verify(&output.user_key, output.sighash(tx, value, Leaf::Claim), &sig(0)),
            Spend::Refund => {
                output::verify(&output.ssp_key, output.sighash(tx, value, Leaf::Refund), &sig(0))
                    && tx.lock_time.to_consensus_u32() == r.0
                    && self.tip >= r.0
            }
        };
        assert!(valid, "{who} broadcast an invalid {spend:?}");
        if self.s.fake_funding && spend.pays_user() {
            // The output the SSP funded has no such leaf: only the SSP can spend it.
            self.log.push(format!("{}: {who}'s {spend:?} is invalid for the output actually funded", self.tip));
            return;
        }
        self.log.push(format!("{}: {who} broadcasts {spend:?}", self.tip));
        if self.spent.is_none() {
            self.pending.push(Pending { spend, confirm_at: self.tip + delay });
        }
    }

    fn drain(&mut self) {
        while !self.queue.is_empty() {
            let (who, ev) = self.queue.remove(0);
            match (who, ev) {
                (Who::User, Event::User(e)) => {
                    for a in self.user.handle(e) {
                        let silent = self.s.user_silent_from.is_some_and(|t| self.tip >= t);
                        if (self.s.user_acts)(&a, self.tip) && !silent {
                            self.user_action(a);
                        }
                    }
                }
                (Who::Ssp, Event::Ssp(e)) => {
                    for a in self.ssp.handle(e) {
                        let silent = self.s.ssp_silent_from.is_some_and(|t| self.tip >= t);
                        if (self.s.ssp_acts)(&a, self.tip) && !silent {
                            self.ssp_action(a);
                        }
                    }
                }
                _ => unreachable!(),
            }
        }
    }

    fn user_action(&mut self, a: UserAction) {
        match a {
            UserAction::SendRequest(r) => self.queue.push((Who::Ssp, Event::Ssp(SspEvent::Request { request: r, hash_seen: false }))),
            UserAction::PayInvoice(inv) => {
                self.htlc = Htlc::Held;
                self.htlc_hash = Some(inv.payment_hash);
                self.log.push(format!("{}: user pays", self.tip));
                if self.s.fake_invoice {
                    // The adversary knows the preimage of its own hash and settles at once.
                    self.settle_htlc(&Preimage::new([0x99; 32]), "SSP (adversary, own hash)");
                } else {
                    self.queue.push((Who::Ssp, Event::Ssp(SspEvent::InvoiceAccepted { held: inv.amount, expiry: Height(EXPIRY) })));
                }
            }
            UserAction::SendRetPresign(r) => self.queue.push((Who::Ssp, Event::Ssp(SspEvent::RetPresign(r)))),
            UserAction::LookupShared { .. } => {
                self.user_watching = true;
                if self.funding_pending.is_some() {
                    self.deliver_funding_seen(None);
                }
            }
            UserAction::PublishBlob { blob } => {
                self.log.push(format!("{}: user reveals", self.tip));
                self.blob = Some(blob);
                self.queue.push((Who::User, Event::User(UserEvent::BlobPublished)));
                self.deliver_blob();
                if self.s.ssp_settles_on_blob {
                    self.settle_htlc(&preimage(), "SSP (adversary, from the blob)");
                }
            }
            UserAction::LookupRedeem { .. } => {}
            UserAction::BroadcastClaim { tx } => {
                let d = self.s.claim_delay;
                self.broadcast_spend(&tx, "user", d);
            }
            UserAction::GiveUp { reason } => self.log.push(format!("{}: user gives up ({reason})", self.tip)),
        }
    }

    fn deliver_blob(&mut self) {
        if let (true, Some(blob), false, false) = (self.ssp_looking, self.blob.clone(), self.blob_delivered, self.s.blob_hidden) {
            self.blob_delivered = true;
            self.queue.push((Who::Ssp, Event::Ssp(SspEvent::BlobFound { blob })));
        }
    }

    fn ssp_action(&mut self, a: SspAction) {
        match a {
            SspAction::Refuse { reason } => self.log.push(format!("{}: SSP refuses ({reason})", self.tip)),
            SspAction::CreateInvoice { payment_hash, amount, min_final_cltv_expiry_delta } => {
                let payment_hash = match self.s.fake_invoice {
                    true => Preimage::new([0x99; 32]).payment_hash(),
                    false => payment_hash,
                };
                let inv = Invoice { payment_hash, amount, min_final_cltv_expiry_delta };
                self.queue.push((Who::Ssp, Event::Ssp(SspEvent::InvoiceCreated(inv))));
            }
            SspAction::SendInvoice(inv) => self.queue.push((Who::User, Event::User(UserEvent::Invoice(inv)))),
            SspAction::BuildFunding { script_pubkey, .. } => {
                self.refund_height = self.ssp.shared_output().map(|o| o.refund_height);
                self.funding_script = Some(match self.s.fake_funding {
                    true => ScriptBuf::new_p2tr(&Secp256k1::verification_only(), keypair(2).x_only_public_key().0, None),
                    false => script_pubkey,
                });
                self.queue.push((Who::Ssp, Event::Ssp(SspEvent::FundingBuilt { funding: funding_outpoint() })));
            }
            SspAction::SendAskPresign(ask) => self.queue.push((Who::User, Event::User(UserEvent::AskPresign(ask)))),
            SspAction::BroadcastFunding => {
                self.log.push(format!("{}: SSP funds", self.tip));
                if self.s.funding_broadcast_at.is_none() {
                    self.funding_pending = Some(self.tip + self.s.funding_delay);
                    self.deliver_funding_seen(None);
                }
                self.queue.push((Who::Ssp, Event::Ssp(SspEvent::FundingBroadcast)));
            }
            SspAction::LookupBlob { .. } => {
                self.ssp_looking = true;
                self.deliver_blob();
            }
            SspAction::BroadcastPayout { tx } => {
                let d = self.s.payout_delay;
                self.broadcast_spend(&tx, "SSP", d);
                self.queue.push((Who::Ssp, Event::Ssp(SspEvent::PayoutBroadcast)));
            }
            SspAction::SettleInvoice { preimage } => self.settle_htlc(&preimage, "SSP"),
            SspAction::BroadcastRefund { tx } => {
                let d = self.s.refund_delay;
                self.broadcast_spend(&tx, "SSP", d);
            }
            SspAction::CancelInvoice { reason } => {
                self.log.push(format!("{}: SSP cancels ({reason})", self.tip));
                self.fail_htlc("cancelled");
            }
        }
    }

    // ---- the properties -----------------------------------------------------------------

    fn to_user(&self) -> bool {
        self.spent.as_ref().is_some_and(|(s, _)| s.pays_user())
    }
    fn funded(&self) -> bool {
        self.funding_confirmed.is_some()
    }
    /// S1: the user's payment is settled only if the user got the shared output.
    fn s1(&self) -> bool {
        self.htlc != Htlc::Settled || self.to_user()
    }
    /// S2: the shared output goes to the user only if the SSP settled.
    fn s2(&self) -> bool {
        !self.to_user() || self.htlc == Htlc::Settled
    }
    /// Neither party ends with an open position: the HTLC is resolved, a funded output is spent.
    fn resolved(&self) -> bool {
        matches!(self.htlc, Htlc::Settled | Htlc::Failed | Htlc::None) && (!self.funded() || self.spent.is_some())
    }
    fn report(&self) -> String {
        self.log.join("\n")
    }
}

/// `FLOW_LOG=1 cargo nextest run -p blobswap-reference --no-capture -E 'test(NAME)'` prints each
/// scenario's trace.
fn run(s: Scenario) -> World {
    let w = World::new(s).run();
    if std::env::var_os("FLOW_LOG").is_some() {
        eprintln!("---\n{}", w.report());
    }
    w
}

fn assert_safe(w: &World) {
    assert!(w.s1(), "S1 violated:\n{}", w.report());
    assert!(w.s2(), "S2 violated:\n{}", w.report());
    assert!(w.resolved(), "left open:\n{}", w.report());
}

// ---- the completed swap ---------------------------------------------------------------------

#[test]
fn happy_path_completes_with_the_payout() {
    let w = run(Scenario::default());
    assert_safe(&w);
    assert_eq!(w.htlc, Htlc::Settled, "{}", w.report());
    assert!(matches!(w.spent, Some((Spend::Payout, 108))), "{}", w.report());
    assert_eq!(w.user.phase(), UserPhase::Paid);
    assert_eq!(w.ssp.phase(), SspPhase::Completed);
}

#[test]
fn happy_path_completes_with_every_delay_at_its_bound() {
    let w = run(Scenario { funding_delay: 2, payout_delay: 2, claim_delay: 2, refund_delay: 2, ..Scenario::default() });
    assert_safe(&w);
    assert_eq!(w.htlc, Htlc::Settled, "{}", w.report());
    assert!(matches!(w.spent, Some((Spend::Payout, _))), "{}", w.report());
}

// ---- timeouts: a silent party ---------------------------------------------------------------

#[test]
fn an_ssp_silent_after_the_payment_lets_the_htlc_expire() {
    let w = run(Scenario {
        ssp_acts: |a, _| !matches!(a, SspAction::BuildFunding { .. }),
        ..Scenario::default()
    });
    assert_safe(&w);
    assert_eq!(w.htlc, Htlc::Failed);
    assert!(!w.funded());
    assert_eq!(w.user.phase(), UserPhase::Aborted);
}

#[test]
fn a_user_silent_at_presigning_gets_its_invoice_cancelled() {
    let w = run(Scenario { user_acts: |a, _| !matches!(a, UserAction::SendRetPresign(_)), ..Scenario::default() });
    assert_safe(&w);
    assert_eq!(w.htlc, Htlc::Failed);
    assert!(!w.funded());
    assert_eq!(w.ssp.phase(), SspPhase::Cancelled);
    // The funding check fails at 105 (105 + 6 + 2 + 3 - 1 > 114).
    assert!(w.log.iter().any(|l| l.starts_with("105: SSP cancels (too_late_to_fund)")), "{}", w.report());
}

#[test]
fn a_user_that_never_reveals_gets_refunded_then_cancelled() {
    let w = run(Scenario { user_acts: |a, _| !matches!(a, UserAction::PublishBlob { .. } | UserAction::BroadcastClaim { .. }), ..Scenario::default() });
    assert_safe(&w);
    assert!(matches!(w.spent, Some((Spend::Refund, 115))), "{}", w.report());
    assert_eq!(w.htlc, Htlc::Failed);
    assert_eq!(w.ssp.phase(), SspPhase::Refunded);
}

#[test]
fn a_blob_the_ssp_never_sees_ends_with_the_users_claim() {
    let w = run(Scenario { blob_hidden: true, ..Scenario::default() });
    assert_safe(&w);
    // Window closes at 107; the user claims at 107 + CHAIN_DELAY = 109.
    assert!(matches!(w.spent, Some((Spend::Claim(_), 110))), "{}", w.report());
    assert_eq!(w.htlc, Htlc::Settled, "{}", w.report());
}

#[test]
fn an_ssp_that_withholds_the_payout_and_settles_loses_the_output_to_the_claim() {
    let w = run(Scenario {
        ssp_acts: |a, _| !matches!(a, SspAction::BroadcastPayout { .. }),
        ssp_settles_on_blob: true,
        ssp_refunds_at: Some(114),
        claim_delay: 2,
        refund_delay: 1,
        ..Scenario::default()
    });
    assert_safe(&w);
    assert!(matches!(w.spent, Some((Spend::Claim(_), 111))), "{}", w.report());
}

#[test]
fn a_late_funding_makes_the_user_give_up_and_nobody_loses() {
    // The SSP holds its funding back until 107: confirmed at 108, window [109, 112), 112 + 4 > 114.
    let w = run(Scenario { funding_broadcast_at: Some(107), ssp_settles_on_blob: true, ..Scenario::default() });
    assert_safe(&w);
    assert!(!w.user.revealed());
    assert!(w.log.iter().any(|l| l.contains("user gives up (too_close_to_refund)")), "{}", w.report());
}

#[test]
fn a_last_moment_claim_still_lets_the_ssp_settle() {
    // The user never reveals and claims at R = 114 with the longest delay; the SSP's refund, sent at
    // 114, is delayed too; the adversary (the user) picks the claim at 116 = R + CHAIN_DELAY.
    let w = run(Scenario {
        user_acts: |a, _| !matches!(a, UserAction::PublishBlob { .. } | UserAction::BroadcastClaim { .. }),
        user_claims_at: Some(114),
        claim_delay: 2,
        refund_delay: 2,
        adversary: Who::User,
        ..Scenario::default()
    });
    assert_safe(&w);
    assert!(matches!(w.spent, Some((Spend::Claim(_), 116))), "{}", w.report());
    assert_eq!(w.htlc, Htlc::Settled, "{}", w.report());
}

// ---- each safeguard removed: its counterexample ---------------------------------------------

fn without(f: fn(&mut Safeguards)) -> Safeguards {
    let mut s = Safeguards::SPEC;
    f(&mut s);
    s
}

#[test]
fn t1_removed_a_last_moment_claim_takes_the_output_unpaid() {
    let s = Scenario {
        user_acts: |a, _| !matches!(a, UserAction::PublishBlob { .. } | UserAction::BroadcastClaim { .. }),
        user_claims_at: Some(118),
        claim_delay: 2,
        adversary: Who::User,
        ..Scenario::default()
    };
    let broken = run(Scenario { ssp_sg: without(|g| g.refund_margin = false), ..s.clone() });
    assert!(!broken.s2(), "expected the T1 counterexample:\n{}", broken.report());
    let kept = run(s);
    assert_safe(&kept);
}

#[test]
fn t2_removed_a_reveal_too_close_to_the_refund_loses_the_payment() {
    let s = Scenario {
        funding_broadcast_at: Some(107),
        ssp_acts: |a, _| !matches!(a, SspAction::BroadcastPayout { .. }),
        ssp_settles_on_blob: true,
        ssp_refunds_at: Some(114),
        claim_delay: 2,
        refund_delay: 1,
        ..Scenario::default()
    };
    let broken = run(Scenario { user_sg: without(|g| g.reveal_deadline = false), ..s.clone() });
    assert!(!broken.s1(), "expected the T2 counterexample:\n{}", broken.report());
    let kept = run(s);
    assert_safe(&kept);
}

#[test]
fn t0_removed_a_reveal_over_an_unconfirmed_funding_loses_the_payment() {
    let s = Scenario {
        funding_delay: 2,
        funding_replaced_at: Some(103),
        ssp_settles_on_blob: true,
        ..Scenario::default()
    };
    let zero = Params { confirmation_period: Blocks(0), ..params() };
    let broken = run(Scenario { params: zero, ..s.clone() });
    assert!(!broken.s1(), "expected the T0 counterexample:\n{}", broken.report());
    let kept = run(s);
    assert_safe(&kept);
    assert!(!kept.user.revealed());
}

#[test]
fn cancelling_at_the_window_end_loses_the_output_to_a_later_claim() {
    let s = Scenario {
        user_acts: |a, _| !matches!(a, UserAction::PublishBlob { .. } | UserAction::BroadcastClaim { .. }),
        user_claims_at: Some(108),
        adversary: Who::User,
        ..Scenario::default()
    };
    let broken = run(Scenario { ssp_sg: without(|g| g.cancel_after_refund = false), ..s.clone() });
    assert!(!broken.s2(), "expected the U3 counterexample:\n{}", broken.report());
    let kept = run(s);
    assert_safe(&kept);
}

#[test]
fn paying_an_invoice_for_another_hash_loses_the_payment() {
    let s = Scenario { fake_invoice: true, ..Scenario::default() };
    let broken = run(Scenario { user_sg: without(|g| g.invoice_hash_check = false), ..s.clone() });
    assert!(!broken.s1(), "expected the hash-check counterexample:\n{}", broken.report());
    let kept = run(s);
    assert_safe(&kept);
    assert_eq!(kept.htlc, Htlc::None);
}

#[test]
fn revealing_over_the_wrong_output_loses_the_payment() {
    let s = Scenario { fake_funding: true, ssp_settles_on_blob: true, ..Scenario::default() };
    let broken = run(Scenario { user_sg: without(|g| g.funding_output_check = false), ..s.clone() });
    assert!(!broken.s1(), "expected the output-check counterexample:\n{}", broken.report());
    let kept = run(s);
    assert_safe(&kept);
    assert!(!kept.user.revealed());
}

// ---- many interleavings: the safeguards on, one party adversarial ----------------------------

mod interleavings {
    use super::*;
    use proptest::prelude::*;

    fn delays() -> impl Strategy<Value = (u32, u32, u32, u32)> {
        (1u32..=2, 1u32..=2, 1u32..=2, 1u32..=2)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// S2: whatever the user does, and however the chain delays, an honest SSP whose shared
        /// output goes to the user has settled, and nothing is left open.
        #[test]
        fn an_honest_ssp_is_never_left_unpaid(
            (fd, pd, cd, rd) in delays(),
            silent in proptest::option::of(100u32..=116),
            claims_at in proptest::option::of(100u32..=124),
            drop_reveal in any::<bool>(),
            drop_presign in any::<bool>(),
            blob_hidden in any::<bool>(),
        ) {
            let user_acts: fn(&UserAction, u32) -> bool = match (drop_reveal, drop_presign) {
                (false, false) => |_, _| true,
                (true, false) => |a, _| !matches!(a, UserAction::PublishBlob { .. }),
                (false, true) => |a, _| !matches!(a, UserAction::SendRetPresign(_)),
                (true, true) => |a, _| !matches!(a, UserAction::PublishBlob { .. } | UserAction::SendRetPresign(_)),
            };
            let w = run(Scenario {
                user_acts,
                user_silent_from: silent,
                user_claims_at: claims_at,
                blob_hidden,
                funding_delay: fd, payout_delay: pd, claim_delay: cd, refund_delay: rd,
                adversary: Who::User,
                ..Scenario::default()
            });
            prop_assert!(w.s2(), "S2 violated:\n{}", w.report());
            prop_assert!(w.resolved(), "left open:\n{}", w.report());
        }

        /// S1: whatever the SSP does, and however the chain delays, an honest user whose payment
        /// is settled has the shared output.
        #[test]
        fn an_honest_user_is_never_left_unpaid(
            (fd, pd, cd, rd) in delays(),
            silent in proptest::option::of(100u32..=116),
            withhold_payout in any::<bool>(),
            settles_on_blob in any::<bool>(),
            refunds_at in proptest::option::of(114u32..=120),
            funding_at in proptest::option::of(103u32..=110),
            replaced_at in proptest::option::of(103u32..=106),
            fake in 0u8..3,
            blob_hidden in any::<bool>(),
        ) {
            let ssp_acts: fn(&SspAction, u32) -> bool = match withhold_payout {
                false => |_, _| true,
                true => |a, _| !matches!(a, SspAction::BroadcastPayout { .. }),
            };
            let w = run(Scenario {
                ssp_acts,
                ssp_silent_from: silent,
                ssp_settles_on_blob: settles_on_blob,
                ssp_refunds_at: refunds_at,
                funding_broadcast_at: funding_at,
                funding_replaced_at: replaced_at,
                fake_invoice: fake == 1,
                fake_funding: fake == 2,
                blob_hidden,
                funding_delay: fd, payout_delay: pd, claim_delay: cd, refund_delay: rd,
                adversary: Who::Ssp,
                ..Scenario::default()
            });
            prop_assert!(w.s1(), "S1 violated:\n{}", w.report());
        }

        /// L1: both honest, every delay within CHAIN_DELAY: the swap completes with the payout.
        #[test]
        fn honest_parties_complete((fd, pd, cd, rd) in delays()) {
            let w = run(Scenario { funding_delay: fd, payout_delay: pd, claim_delay: cd, refund_delay: rd, ..Scenario::default() });
            prop_assert!(w.s1() && w.s2() && w.resolved(), "{}", w.report());
            prop_assert_eq!(w.htlc, Htlc::Settled);
            prop_assert!(matches!(w.spent, Some((Spend::Payout, _))), "{}", w.report());
        }
    }
}
