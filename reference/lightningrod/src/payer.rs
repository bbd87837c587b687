//! `A`, the payer (LNROD-01 "The payer, A"): registers or marks its HTLCs to
//! be held, tells `B` how to unblock them, may then go offline, and counts a
//! payment paid only on the right preimage.
//!
//! Every payment this machine makes is an async payment through `LSP_a`.
//! The `pid` of a `lightningrod` payment is the caller's randomness, given in
//! [`PayerEvent::Pay`]; the machine refuses one it has seen before.

use std::collections::BTreeMap;

use crate::profile::{Misuse, Profile};
use crate::units::{HtlcId, Msat, PathRef, PaymentHash, Pid, Preimage};
use crate::wire::features::{peer_can_hold_htlcs, Features};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PayerEvent {
    /// `LSP_a`'s `init` features.
    LspInit { features: Features },
    /// Pay `payment_hash` in these parts. `pid`: the fresh secret of a
    /// `lightningrod` payment (none in the `ldk` profile).
    Pay { payment_hash: PaymentHash, parts: Vec<(HtlcId, Msat)>, pid: Option<Pid> },
    /// The HTLC is irrevocably committed in the channel with `LSP_a`.
    HtlcCommitted { htlc: HtlcId },
    /// `ldk`: `LSP_a`'s `revoke_and_ack` gave a release path for `htlc`.
    ReleasePath { htlc: HtlcId, path: PathRef },
    HtlcFulfilled { htlc: HtlcId, preimage: Preimage },
    HtlcFailed { htlc: HtlcId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefusedReason {
    /// `ldk`: `LSP_a` did not offer `htlc_hold`.
    LspCannotHold,
}

impl RefusedReason {
    pub fn name(self) -> &'static str {
        match self {
            RefusedReason::LspCannotHold => "lsp_cannot_hold",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PayerAction {
    /// `lightningrod`: a one-hop onion message to `LSP_a` with `pid` and the hashes.
    SendBlockRequest { pid: Pid, hashes: Vec<PaymentHash> },
    /// Add the HTLC to the channel with `LSP_a`.
    AddHtlc { htlc: HtlcId, payment_hash: PaymentHash, amount: Msat, hold_htlc: bool },
    /// `lightningrod`: an onion message to `B` with the payment hash and `pid`.
    SendPidToB { payment_hash: PaymentHash, pid: Pid },
    /// `ldk`: a `held_htlc_available` to `B` with `reply_path` as its reply path.
    SendHeldHtlcAvailable { htlc: HtlcId, reply_path: PathRef },
    /// `ldk`: the release path names no HTLC `A` asked to hold.
    ReleasePathIgnored { htlc: HtlcId },
    /// `B` has all it needs: `A` may go offline.
    MayGoOffline { payment_hash: PaymentHash },
    PaymentRefused { payment_hash: PaymentHash, reason: RefusedReason },
    Paid { payment_hash: PaymentHash, preimage: Preimage },
    /// A fulfilment whose preimage does not hash to the payment hash.
    PreimageMismatch { htlc: HtlcId },
    PaymentFailed { payment_hash: PaymentHash },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PartState {
    Added,
    Committed,
    Fulfilled,
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    Paid,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Payment {
    pid: Option<Pid>,
    parts: BTreeMap<HtlcId, PartState>,
    /// `lightningrod`: `pid` sent to `B`; `ldk`: parts with a `held_htlc_available` sent.
    told_b: bool,
    released_parts: BTreeMap<HtlcId, u32>,
    outcome: Option<Outcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Payer {
    profile: Profile,
    lsp_can_hold: bool,
    used_pids: Vec<Pid>,
    payments: BTreeMap<PaymentHash, Payment>,
    part_of: BTreeMap<HtlcId, PaymentHash>,
}

impl Payer {
    pub fn new(profile: Profile) -> Payer {
        Payer {
            profile,
            lsp_can_hold: false,
            used_pids: Vec::new(),
            payments: BTreeMap::new(),
            part_of: BTreeMap::new(),
        }
    }

    /// Whether `A` has counted this payment paid.
    pub fn is_paid(&self, payment_hash: &PaymentHash) -> bool {
        self.payments.get(payment_hash).is_some_and(|p| p.outcome == Some(Outcome::Paid))
    }

    /// Applies one event. On `Err` the state is unchanged.
    pub fn handle(&mut self, event: PayerEvent) -> Result<Vec<PayerAction>, Misuse> {
        let mut next = self.clone();
        let actions = next.apply(event)?;
        *self = next;
        Ok(actions)
    }

    fn apply(&mut self, event: PayerEvent) -> Result<Vec<PayerAction>, Misuse> {
        match event {
            PayerEvent::LspInit { features } => {
                self.lsp_can_hold = peer_can_hold_htlcs(&features);
                Ok(Vec::new())
            }
            PayerEvent::Pay { payment_hash, parts, pid } => self.pay(payment_hash, parts, pid),
            PayerEvent::HtlcCommitted { htlc } => self.committed(htlc),
            PayerEvent::ReleasePath { htlc, path } => {
                if self.profile != Profile::Ldk {
                    return Err(Misuse::WrongProfile);
                }
                Ok(self.release_path(htlc, path))
            }
            PayerEvent::HtlcFulfilled { htlc, preimage } => self.fulfilled(htlc, preimage),
            PayerEvent::HtlcFailed { htlc } => self.failed(htlc),
        }
    }

    fn pay(&mut self, payment_hash: PaymentHash, parts: Vec<(HtlcId, Msat)>, pid: Option<Pid>) -> Result<Vec<PayerAction>, Misuse> {
        if self.payments.contains_key(&payment_hash) {
            return Err(Misuse::DuplicatePayment);
        }
        if parts.is_empty() {
            return Err(Misuse::NoParts);
        }
        let mut ids = parts.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        ids.sort();
        ids.dedup();
        if ids.len() != parts.len() || ids.iter().any(|id| self.part_of.contains_key(id)) {
            return Err(Misuse::DuplicateHtlc);
        }
        let mut out = Vec::new();
        let hold_htlc = match (self.profile, &pid) {
            (Profile::LightningRod, None) => return Err(Misuse::MissingPid),
            (Profile::LightningRod, Some(pid)) => {
                // LNROD-01: "In the `lightningrod` profile, A MUST use a `pid` it has never used for another payment."
                if self.used_pids.contains(pid) {
                    return Err(Misuse::PidReused);
                }
                self.used_pids.push(pid.clone());
                // LNROD-01: "In the `lightningrod` profile, A MUST send LSP_a the block request listing every payment hash of the payment before it adds any HTLC of the payment."
                // LNROD-01: "In the `lightningrod` profile, A MUST send the block request to LSP_a directly, as an onion message of which LSP_a is the first and only hop."
                out.push(PayerAction::SendBlockRequest { pid: pid.clone(), hashes: vec![payment_hash] });
                false
            }
            (Profile::Ldk, Some(_)) => return Err(Misuse::UnexpectedPid),
            (Profile::Ldk, None) => {
                // LNROD-01: "In the `ldk` profile, A MUST set `hold_htlc` on an HTLC only if LSP_a is able to hold HTLCs."
                if !self.lsp_can_hold {
                    return Ok(vec![PayerAction::PaymentRefused { payment_hash, reason: RefusedReason::LspCannotHold }]);
                }
                // LNROD-01: "In the `ldk` profile, A MUST set `hold_htlc` on every HTLC of an async payment it sends through LSP_a."
                true
            }
        };
        for (htlc, amount) in &parts {
            self.part_of.insert(*htlc, payment_hash);
            out.push(PayerAction::AddHtlc { htlc: *htlc, payment_hash, amount: *amount, hold_htlc });
        }
        self.payments.insert(
            payment_hash,
            Payment {
                pid,
                parts: parts.iter().map(|(id, _)| (*id, PartState::Added)).collect(),
                told_b: false,
                released_parts: BTreeMap::new(),
                outcome: None,
            },
        );
        Ok(out)
    }

    fn payment_of(&mut self, htlc: HtlcId) -> Result<(PaymentHash, &mut Payment), Misuse> {
        let hash = *self.part_of.get(&htlc).ok_or(Misuse::UnknownHtlc)?;
        let payment = self.payments.get_mut(&hash).ok_or(Misuse::UnknownHtlc)?;
        Ok((hash, payment))
    }

    fn committed(&mut self, htlc: HtlcId) -> Result<Vec<PayerAction>, Misuse> {
        let profile = self.profile;
        let (payment_hash, payment) = self.payment_of(htlc)?;
        if let Some(state @ PartState::Added) = payment.parts.get_mut(&htlc) {
            *state = PartState::Committed;
        }
        let all_committed = payment.parts.values().all(|s| *s != PartState::Added);
        match (&payment.pid, profile) {
            (Some(pid), Profile::LightningRod) if all_committed && !payment.told_b => {
                payment.told_b = true;
                // LNROD-01: "In the `lightningrod` profile, A MUST NOT send `pid` to B before every HTLC of the payment is irrevocably committed in its channel with LSP_a."
                // LNROD-01: "In the `lightningrod` profile, A MUST send B the payment hash together with `pid`."
                // LNROD-01: "In the `lightningrod` profile, A MUST NOT reveal `pid` to anyone but LSP_a and B."
                let send = PayerAction::SendPidToB { payment_hash, pid: pid.clone() };
                // LNROD-01: "A MAY go offline once it has sent B everything B needs to unblock the payment."
                Ok(vec![send, PayerAction::MayGoOffline { payment_hash }])
            }
            _ => Ok(Vec::new()),
        }
    }

    fn release_path(&mut self, htlc: HtlcId, path: PathRef) -> Vec<PayerAction> {
        let Ok((payment_hash, payment)) = self.payment_of(htlc) else {
            // LNROD-01: "In the `ldk` profile, A MUST ignore a release path for an HTLC it did not add with `hold_htlc`."
            return vec![PayerAction::ReleasePathIgnored { htlc }];
        };
        *payment.released_parts.entry(htlc).or_insert(0) += 1;
        // LNROD-01: "In the `ldk` profile, A MUST send B one `held_htlc_available` for each release path LSP_a gives it, with that path as the message's `reply_path`."
        let mut out = vec![PayerAction::SendHeldHtlcAvailable { htlc, reply_path: path }];
        if !payment.told_b && payment.parts.keys().all(|id| payment.released_parts.contains_key(id)) {
            payment.told_b = true;
            out.push(PayerAction::MayGoOffline { payment_hash });
        }
        out
    }

    fn fulfilled(&mut self, htlc: HtlcId, preimage: Preimage) -> Result<Vec<PayerAction>, Misuse> {
        let (payment_hash, payment) = self.payment_of(htlc)?;
        // LNROD-01: "A MUST consider the payment paid only once it holds a preimage whose SHA-256 is the payment hash."
        if preimage.payment_hash() != payment_hash {
            return Ok(vec![PayerAction::PreimageMismatch { htlc }]);
        }
        if let Some(state) = payment.parts.get_mut(&htlc) {
            *state = PartState::Fulfilled;
        }
        if payment.outcome == Some(Outcome::Paid) {
            return Ok(Vec::new());
        }
        payment.outcome = Some(Outcome::Paid);
        Ok(vec![PayerAction::Paid { payment_hash, preimage }])
    }

    fn failed(&mut self, htlc: HtlcId) -> Result<Vec<PayerAction>, Misuse> {
        let (payment_hash, payment) = self.payment_of(htlc)?;
        if let Some(state) = payment.parts.get_mut(&htlc) {
            *state = PartState::Failed;
        }
        // LNROD-01: "A MUST consider the payment failed once every HTLC of it has failed and none was fulfilled."
        if payment.outcome.is_none() && payment.parts.values().all(|s| *s == PartState::Failed) {
            payment.outcome = Some(Outcome::Failed);
            return Ok(vec![PayerAction::PaymentFailed { payment_hash }]);
        }
        Ok(Vec::new())
    }
}
