//! The acceptor's side of the in-Lightning HTLCs (ultimate acceptor, or a
//! forwarder paying upstream): what it offered and how those HTLCs ended.
//!
//! Outcomes (each reported once, on the event that decides it):
//! - [`OutgoingOutcome::AnyFulfilled`]: at least one offered HTLC was fulfilled;
//! - [`OutgoingOutcome::AllFailedAndRemoved`]: the acceptor has finished
//!   offering (it offered the whole amount, or it stopped) and every offered
//!   HTLC was failed and its removal irrevocably committed. With nothing
//!   offered at all this holds as soon as the acceptor stops (ERRATA E-62).

use core::fmt;

use crate::units::Msat;

use super::HtlcRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutgoingEvent {
    /// The acceptor sent `update_add_htlc` for `amount`.
    Offered { htlc: HtlcRef, amount: Msat },
    /// The local offerrer fulfilled the HTLC (`update_fulfill_htlc`).
    Fulfilled { htlc: HtlcRef },
    /// The local offerrer failed the HTLC (`update_fail_htlc` and friends).
    Failed { htlc: HtlcRef },
    /// The removal of a failed HTLC is irrevocably committed.
    RemovalCommitted { htlc: HtlcRef },
    /// The acceptor cannot send the remaining payments (for example, no capacity).
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutgoingOutcome {
    AnyFulfilled,
    AllFailedAndRemoved,
}

/// An event that cannot happen to a well-behaved acceptor; `name()` is stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutgoingError {
    /// An event names an HTLC that was never offered.
    UnknownHtlc(HtlcRef),
    /// The same HTLC handle offered twice.
    DuplicateHtlc(HtlcRef),
    /// An offer after [`OutgoingEvent::Stopped`] or after the outcome is decided.
    OfferAfterStop(HtlcRef),
    /// Offering more than the amount to send in total.
    OfferBeyondAmount { offered: Msat, to_send: Msat },
    /// A removal reported for an HTLC that was neither failed nor fulfilled.
    RemovalOfUnresolved(HtlcRef),
    /// Upstream events reported to a forwarder that has not started paying upstream.
    NotPaying,
}

impl OutgoingError {
    pub fn name(&self) -> &'static str {
        match self {
            OutgoingError::UnknownHtlc(_) => "unknown_htlc",
            OutgoingError::DuplicateHtlc(_) => "duplicate_htlc",
            OutgoingError::OfferAfterStop(_) => "offer_after_stop",
            OutgoingError::OfferBeyondAmount { .. } => "offer_beyond_amount",
            OutgoingError::RemovalOfUnresolved(_) => "removal_of_unresolved",
            OutgoingError::NotPaying => "not_paying",
        }
    }
}

impl fmt::Display for OutgoingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutgoingError::UnknownHtlc(h) => write!(f, "HTLC {} was never offered", h.0),
            OutgoingError::DuplicateHtlc(h) => write!(f, "HTLC {} offered twice", h.0),
            OutgoingError::OfferAfterStop(h) => write!(f, "HTLC {} offered after the acceptor stopped", h.0),
            OutgoingError::OfferBeyondAmount { offered, to_send } => {
                write!(f, "offered {offered} in total, more than the {to_send} to send")
            }
            OutgoingError::RemovalOfUnresolved(h) => write!(f, "HTLC {} removed before it was failed or fulfilled", h.0),
            OutgoingError::NotPaying => f.write_str("no upstream payment has started"),
        }
    }
}

impl std::error::Error for OutgoingError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PartStatus {
    InFlight,
    Fulfilled,
    Failed,
    FailedAndRemoved,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Part {
    htlc: HtlcRef,
    amount: Msat,
    status: PartStatus,
}

/// The HTLCs one acceptor offered to its local offerrer for one peerswap.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutgoingParts {
    to_send: Msat,
    parts: Vec<Part>,
    stopped: bool,
    outcome: Option<OutgoingOutcome>,
}

impl OutgoingParts {
    /// `to_send` is the total to pay: the agreed-upon amount (ultimate
    /// acceptor) or exactly what the forwarder holds from downstream.
    pub fn new(to_send: Msat) -> OutgoingParts {
        OutgoingParts { to_send, parts: Vec::new(), stopped: false, outcome: None }
    }

    pub fn to_send(&self) -> Msat {
        self.to_send
    }
    pub fn outcome(&self) -> Option<OutgoingOutcome> {
        self.outcome
    }
    pub fn offered_total(&self) -> Msat {
        Msat(self.parts.iter().fold(0u64, |acc, p| acc.saturating_add(p.amount.0)))
    }
    fn finished_offering(&self) -> bool {
        self.stopped || self.offered_total() >= self.to_send
    }
    /// Whether the acceptor may still offer another part.
    pub fn may_offer(&self) -> bool {
        self.outcome.is_none() && !self.finished_offering()
    }

    /// Applies `event`; returns the outcome if this event decided it.
    pub fn handle(&mut self, event: OutgoingEvent) -> Result<Option<OutgoingOutcome>, OutgoingError> {
        match event {
            OutgoingEvent::Offered { htlc, amount } => {
                if self.parts.iter().any(|p| p.htlc == htlc) {
                    return Err(OutgoingError::DuplicateHtlc(htlc));
                }
                // SIDEPOOL-10: "If an acceptor is unable to send out all the payments (for example, due to a lack of capacity) then the acceptor MUST stop offerring payments, and MUST wait for *all* the previously-offerred in-Lightning HTLCs to be failed by the local offerrer."
                if self.stopped || self.outcome.is_some() {
                    return Err(OutgoingError::OfferAfterStop(htlc));
                }
                let offered = self.offered_total().checked_add(amount).unwrap_or(Msat(u64::MAX));
                if offered > self.to_send {
                    return Err(OutgoingError::OfferBeyondAmount { offered, to_send: self.to_send });
                }
                self.parts.push(Part { htlc, amount, status: PartStatus::InFlight });
            }
            OutgoingEvent::Fulfilled { htlc } => {
                let part = self.part(htlc)?;
                if part.status == PartStatus::InFlight {
                    part.status = PartStatus::Fulfilled;
                }
                if self.outcome.is_none() && part_fulfilled(&self.parts) {
                    self.outcome = Some(OutgoingOutcome::AnyFulfilled);
                    return Ok(self.outcome);
                }
            }
            OutgoingEvent::Failed { htlc } => {
                let part = self.part(htlc)?;
                if part.status == PartStatus::InFlight {
                    part.status = PartStatus::Failed;
                }
            }
            OutgoingEvent::RemovalCommitted { htlc } => {
                let part = self.part(htlc)?;
                match part.status {
                    PartStatus::InFlight => return Err(OutgoingError::RemovalOfUnresolved(htlc)),
                    PartStatus::Failed => part.status = PartStatus::FailedAndRemoved,
                    PartStatus::Fulfilled | PartStatus::FailedAndRemoved => {}
                }
            }
            OutgoingEvent::Stopped => self.stopped = true,
        }
        // SIDEPOOL-10: "If *all* in-Lightning HTLCs it offerred to the local offerrer are failed, *AND* all of them are irrevocably committed to be removed from their channels, then ..."
        if self.outcome.is_none()
            && self.finished_offering()
            && self.parts.iter().all(|p| p.status == PartStatus::FailedAndRemoved)
        {
            self.outcome = Some(OutgoingOutcome::AllFailedAndRemoved);
            return Ok(self.outcome);
        }
        Ok(None)
    }

    fn part(&mut self, htlc: HtlcRef) -> Result<&mut Part, OutgoingError> {
        self.parts.iter_mut().find(|p| p.htlc == htlc).ok_or(OutgoingError::UnknownHtlc(htlc))
    }
}

fn part_fulfilled(parts: &[Part]) -> bool {
    parts.iter().any(|p| p.status == PartStatus::Fulfilled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutgoingEvent as E;

    /// A fulfil reported for a part that already failed is stale news: it is not a payment,
    /// and the acceptor still waits for the failed parts to be removed.
    #[test]
    fn a_fulfil_after_a_failure_does_not_count() {
        let mut out = OutgoingParts::new(Msat(1_000));
        assert_eq!(out.handle(offer(1, 1_000)), Ok(None));
        assert_eq!(out.handle(E::Failed { htlc: HtlcRef(1) }), Ok(None));
        assert_eq!(out.handle(E::Fulfilled { htlc: HtlcRef(1) }), Ok(None));
        assert_eq!(out.handle(E::RemovalCommitted { htlc: HtlcRef(1) }), Ok(Some(OutgoingOutcome::AllFailedAndRemoved)));
    }

    fn offer(h: u64, a: u64) -> OutgoingEvent {
        E::Offered { htlc: HtlcRef(h), amount: Msat(a) }
    }

    #[test]
    fn all_failed_needs_removal_and_finished_offering() {
        let mut o = OutgoingParts::new(Msat(1_000));
        assert_eq!(o.handle(offer(1, 500)), Ok(None));
        assert_eq!(o.handle(E::Failed { htlc: HtlcRef(1) }), Ok(None));
        assert_eq!(o.handle(E::RemovalCommitted { htlc: HtlcRef(1) }), Ok(None), "half still to offer");
        assert!(o.may_offer());
        assert_eq!(o.handle(E::Stopped), Ok(Some(OutgoingOutcome::AllFailedAndRemoved)));
        assert_eq!(o.handle(offer(2, 500)), Err(OutgoingError::OfferAfterStop(HtlcRef(2))));
    }

    #[test]
    fn one_fulfil_decides_success() {
        let mut o = OutgoingParts::new(Msat(1_000));
        o.handle(offer(1, 500)).unwrap();
        o.handle(offer(2, 500)).unwrap();
        assert!(!o.may_offer());
        o.handle(E::Failed { htlc: HtlcRef(1) }).unwrap();
        assert_eq!(o.outcome(), None, "undecided until the fulfil");
        assert_eq!(o.handle(E::Fulfilled { htlc: HtlcRef(2) }), Ok(Some(OutgoingOutcome::AnyFulfilled)));
        assert_eq!(o.handle(E::RemovalCommitted { htlc: HtlcRef(1) }), Ok(None));
        assert_eq!(o.outcome(), Some(OutgoingOutcome::AnyFulfilled), "the decision is kept");
    }

    #[test]
    fn stopping_with_nothing_offered_fails_at_once() {
        let mut o = OutgoingParts::new(Msat(1_000));
        assert_eq!(o.handle(E::Stopped), Ok(Some(OutgoingOutcome::AllFailedAndRemoved)));
        assert_eq!(o.outcome(), Some(OutgoingOutcome::AllFailedAndRemoved));
    }

    #[test]
    fn misuse_is_reported() {
        let mut o = OutgoingParts::new(Msat(1_000));
        assert_eq!(o.handle(offer(1, 1_001)).map_err(|e| e.name()), Err("offer_beyond_amount"));
        o.handle(offer(1, 10)).unwrap();
        assert_eq!(o.handle(offer(1, 10)), Err(OutgoingError::DuplicateHtlc(HtlcRef(1))));
        assert_eq!(o.handle(E::Failed { htlc: HtlcRef(9) }), Err(OutgoingError::UnknownHtlc(HtlcRef(9))));
        assert_eq!(o.handle(E::RemovalCommitted { htlc: HtlcRef(1) }), Err(OutgoingError::RemovalOfUnresolved(HtlcRef(1))));
    }
}
