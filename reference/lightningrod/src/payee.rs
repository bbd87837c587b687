//! `B`, the payee (LNROD-01 "The payee, B"): unblocks payments it can settle
//! once it is online, then settles multi-part payments when they are complete.
//!
//! Invoices are created from a preimage the caller generated (randomness is an
//! input); messages reach `B` only while it is online (`LSP_b` keeps them).

use std::collections::BTreeMap;

use crate::profile::{Misuse, Profile};
use crate::units::{HtlcId, Msat, PathRef, PaymentHash, Pid, Preimage, Seconds};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayeeConfig {
    pub profile: Profile,
    pub mpp_timeout: Seconds,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PayeeEvent {
    /// `B` issues an invoice for `amount` locked to `preimage`'s hash.
    InvoiceCreated { amount: Msat, preimage: Preimage },
    /// `B` connected to `LSP_b` (`true`) or disconnected.
    Online { online: bool },
    /// `lightningrod`: `A`'s onion message with the payment hash and `pid`.
    PidReceived { payment_hash: PaymentHash, pid: Pid },
    /// `ldk`: a `held_htlc_available`; `authenticated` is the onion layer's
    /// check of the context of the path it came over, which expires at
    /// `path_expiry`; `now` is the current time.
    HeldHtlcAvailable { reply_path: PathRef, authenticated: bool, path_expiry: Seconds, now: Seconds },
    /// An HTLC from `LSP_b` arrived (committed) at time `at`.
    HtlcArrived { htlc: HtlcId, payment_hash: PaymentHash, amount: Msat, at: Seconds },
    /// The clock reads `now`.
    Tick { now: Seconds },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayeeFailReason {
    UnknownPayment,
    MppTimeout,
}

impl PayeeFailReason {
    pub fn name(self) -> &'static str {
        match self {
            PayeeFailReason::UnknownPayment => "unknown_payment",
            PayeeFailReason::MppTimeout => "mpp_timeout",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotUnblocked {
    /// `lightningrod`: no invoice of this hash, or it is settled already.
    CannotSettle,
    /// `ldk`: the context did not authenticate.
    Unauthenticated,
    /// `ldk`: the path has expired.
    PathExpired,
}

impl NotUnblocked {
    pub fn name(self) -> &'static str {
        match self {
            NotUnblocked::CannotSettle => "cannot_settle",
            NotUnblocked::Unauthenticated => "unauthenticated",
            NotUnblocked::PathExpired => "path_expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PayeeAction {
    /// `lightningrod`: an onion message to `A` with `pid` in `payment_unblock`
    /// of the data for `LSP_a`.
    SendUnblock { pid: Pid },
    /// `ldk`: an empty `release_held_htlc` over `reply_path`.
    SendRelease { reply_path: PathRef },
    NotUnblocked { reason: NotUnblocked },
    Fulfil { htlcs: Vec<HtlcId>, preimage: Preimage },
    Fail { htlcs: Vec<HtlcId>, reason: PayeeFailReason },
    Settled { payment_hash: PaymentHash },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Invoice {
    amount: Msat,
    preimage: Preimage,
    settled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PartSet {
    htlcs: BTreeMap<HtlcId, Msat>,
    first_at: Seconds,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Payee {
    config: PayeeConfig,
    online: bool,
    invoices: BTreeMap<PaymentHash, Invoice>,
    sets: BTreeMap<PaymentHash, PartSet>,
    known_htlcs: BTreeMap<HtlcId, PaymentHash>,
}

impl Payee {
    pub fn new(config: PayeeConfig, online: bool) -> Payee {
        Payee { config, online, invoices: BTreeMap::new(), sets: BTreeMap::new(), known_htlcs: BTreeMap::new() }
    }

    /// Whether `B` has settled the invoice of this hash.
    pub fn is_settled(&self, payment_hash: &PaymentHash) -> bool {
        self.invoices.get(payment_hash).is_some_and(|i| i.settled)
    }

    /// Applies one event. On `Err` the state is unchanged.
    pub fn handle(&mut self, event: PayeeEvent) -> Result<Vec<PayeeAction>, Misuse> {
        let mut next = self.clone();
        let actions = next.apply(event)?;
        *self = next;
        Ok(actions)
    }

    fn apply(&mut self, event: PayeeEvent) -> Result<Vec<PayeeAction>, Misuse> {
        match event {
            PayeeEvent::InvoiceCreated { amount, preimage } => {
                let hash = preimage.payment_hash();
                if self.invoices.contains_key(&hash) {
                    return Err(Misuse::DuplicateInvoice);
                }
                self.invoices.insert(hash, Invoice { amount, preimage, settled: false });
                Ok(Vec::new())
            }
            PayeeEvent::Online { online } => {
                self.online = online;
                Ok(Vec::new())
            }
            PayeeEvent::PidReceived { payment_hash, pid } => {
                self.expect(Profile::LightningRod)?;
                Ok(self.pid_received(payment_hash, pid))
            }
            PayeeEvent::HeldHtlcAvailable { reply_path, authenticated, path_expiry, now } => {
                self.expect(Profile::Ldk)?;
                // LNROD-01: "In the `ldk` profile, B MUST NOT answer a `held_htlc_available` whose context it cannot authenticate or whose path has expired."
                let reason = if !authenticated {
                    NotUnblocked::Unauthenticated
                } else if now > path_expiry {
                    NotUnblocked::PathExpired
                } else {
                    // LNROD-01: "In the `ldk` profile, B MUST answer a `held_htlc_available` with a `release_held_htlc` sent over the message's `reply_path`."
                    return Ok(vec![PayeeAction::SendRelease { reply_path }]);
                };
                Ok(vec![PayeeAction::NotUnblocked { reason }])
            }
            PayeeEvent::HtlcArrived { htlc, payment_hash, amount, at } => {
                if !self.online {
                    return Err(Misuse::Offline);
                }
                if self.known_htlcs.contains_key(&htlc) {
                    return Err(Misuse::DuplicateHtlc);
                }
                self.known_htlcs.insert(htlc, payment_hash);
                Ok(self.htlc_arrived(htlc, payment_hash, amount, at))
            }
            PayeeEvent::Tick { now } => Ok(self.tick(now)),
        }
    }

    /// Messages reach `B` only while it is online, and only its profile's.
    fn expect(&self, profile: Profile) -> Result<(), Misuse> {
        if self.config.profile != profile {
            return Err(Misuse::WrongProfile);
        }
        if !self.online {
            return Err(Misuse::Offline);
        }
        Ok(())
    }

    fn pid_received(&mut self, payment_hash: PaymentHash, pid: Pid) -> Vec<PayeeAction> {
        // LNROD-01: "In the `lightningrod` profile, B MUST send an unblock only for the payment hash of an invoice it issued and whose preimage it holds."
        let can_settle = self.invoices.get(&payment_hash).is_some_and(|i| !i.settled);
        if !can_settle {
            return vec![PayeeAction::NotUnblocked { reason: NotUnblocked::CannotSettle }];
        }
        // LNROD-01: "In the `lightningrod` profile, B MUST send the unblock as soon as it is online and has received `pid`."
        // LNROD-01: "In the `lightningrod` profile, B MUST carry `pid` in the `payment_unblock` field of the `encrypted_data_tlv` for LSP_a of an onion message to A."
        vec![PayeeAction::SendUnblock { pid }]
    }

    fn htlc_arrived(&mut self, htlc: HtlcId, payment_hash: PaymentHash, amount: Msat, at: Seconds) -> Vec<PayeeAction> {
        let Some(invoice) = self.invoices.get_mut(&payment_hash) else {
            // LNROD-01: "B MUST fail back an HTLC whose payment hash is not that of an invoice it can settle."
            return vec![PayeeAction::Fail { htlcs: vec![htlc], reason: PayeeFailReason::UnknownPayment }];
        };
        if invoice.settled {
            // A late part of a set already fulfilled belongs to it: fulfil it too.
            return vec![PayeeAction::Fulfil { htlcs: vec![htlc], preimage: invoice.preimage.clone() }];
        }
        let set = self.sets.entry(payment_hash).or_insert_with(|| PartSet { htlcs: BTreeMap::new(), first_at: at });
        set.htlcs.insert(htlc, amount);
        let total = set.htlcs.values().fold(Msat(0), |acc, a| acc.checked_add(*a).unwrap_or(Msat(u64::MAX)));
        // LNROD-01: "B MUST NOT fulfil the HTLCs of a payment before their total reaches the invoice amount."
        if total < invoice.amount {
            return Vec::new();
        }
        let htlcs: Vec<HtlcId> = set.htlcs.keys().copied().collect();
        self.sets.remove(&payment_hash);
        invoice.settled = true;
        // LNROD-01: "B MUST fulfil every HTLC of a payment whose total reaches the invoice amount, with the invoice's preimage."
        vec![PayeeAction::Fulfil { htlcs, preimage: invoice.preimage.clone() }, PayeeAction::Settled { payment_hash }]
    }

    fn tick(&mut self, now: Seconds) -> Vec<PayeeAction> {
        let timeout = self.config.mpp_timeout;
        // LNROD-01: "B SHOULD fail back every HTLC of an incomplete payment once its first HTLC has waited `mpp_timeout`."
        let expired: Vec<PaymentHash> = self
            .sets
            .iter()
            .filter(|(_, s)| now.0.saturating_sub(s.first_at.0) >= timeout.0)
            .map(|(h, _)| *h)
            .collect();
        let mut out = Vec::new();
        for hash in expired {
            if let Some(set) = self.sets.remove(&hash) {
                out.push(PayeeAction::Fail { htlcs: set.htlcs.into_keys().collect(), reason: PayeeFailReason::MppTimeout });
            }
        }
        out
    }
}
