//! A forwarder's in-Lightning HTLCs: it holds what its local acceptor
//! (downstream) offers, pays exactly that total to its local offerrer
//! (upstream), and resolves the downstream HTLCs from the upstream outcome.
//! Also the 0-fee rule ("0-Fee Forwarded Peerswaps").
//!
//! Downstream HTLCs are resolved only from the upstream outcome, so the
//! forwarder never fulfils downstream without being paid upstream, nor fails
//! downstream while an upstream HTLC may still be fulfilled:
//! SIDEPOOL-10: "The forwarder is not interested in any sidepool changes in state (unless it is acting as an endpoint peerswap offerrer or endpoint peerswap acceptor for a *different* peerswap), but MUST ensure that Lightning Network state is correct across different channels."

use core::fmt;

use crate::units::Msat;

use super::hold::{HoldAction, HoldEvent, HoldRole, IncomingHold, Seconds};
use super::outgoing::{OutgoingError, OutgoingEvent, OutgoingOutcome, OutgoingParts};
use super::HtlcRef;

/// Why an upstream total breaks the 0-fee rule. `name()` is stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZeroFeeViolation {
    /// Less goes upstream than came from downstream: a fee was deducted.
    FeeDeducted { from_downstream: Msat, to_upstream: Msat },
    /// More goes upstream than came from downstream.
    MoreThanReceived { from_downstream: Msat, to_upstream: Msat },
}

impl ZeroFeeViolation {
    pub fn name(&self) -> &'static str {
        match self {
            ZeroFeeViolation::FeeDeducted { .. } => "fee_deducted",
            ZeroFeeViolation::MoreThanReceived { .. } => "more_than_received",
        }
    }
}

impl fmt::Display for ZeroFeeViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZeroFeeViolation::FeeDeducted { from_downstream, to_upstream } => {
                write!(f, "forwarding {to_upstream} for {from_downstream} received deducts a fee")
            }
            ZeroFeeViolation::MoreThanReceived { from_downstream, to_upstream } => {
                write!(f, "forwarding {to_upstream} for {from_downstream} received pays more than received")
            }
        }
    }
}

impl std::error::Error for ZeroFeeViolation {}

/// Checks a forwarder's totals: what it pays upstream must be exactly what it
/// holds from downstream (totals, as each hop splits by its own limits; ERRATA E-65).
pub fn check_zero_fee(from_downstream: Msat, to_upstream: Msat) -> Result<(), ZeroFeeViolation> {
    // SIDEPOOL-10: "Forwarders MUST NOT deduct a fee between the in-Lightning HTLC from the direct peerswap acceptor and the in-Lightning HTLC to the direct peerswap offerrer."
    // SIDEPOOL-10: "That is, the in-Lightning HTLC to the direct peerswap offerrer MUST exactly equal the in-Lightning HTLC from the direct peerswap acceptor."
    match to_upstream.cmp(&from_downstream) {
        core::cmp::Ordering::Less => Err(ZeroFeeViolation::FeeDeducted { from_downstream, to_upstream }),
        core::cmp::Ordering::Greater => Err(ZeroFeeViolation::MoreThanReceived { from_downstream, to_upstream }),
        core::cmp::Ordering::Equal => Ok(()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForwarderEvent {
    /// About an HTLC from the local acceptor (downstream).
    Downstream(HoldEvent),
    /// About an HTLC the forwarder offered to its local offerrer (upstream).
    Upstream(OutgoingEvent),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ForwarderAction {
    /// What the downstream hold asks for (keep holding, fail all / late, or
    /// [`HoldAction::OfferUpstream`]: plan and offer exactly that total upstream).
    Hold(HoldAction),
    /// An upstream HTLC was fulfilled: fulfil every downstream HTLC with the preimage.
    FulfilAllDownstream { htlcs: Vec<HtlcRef> },
    /// Every upstream HTLC failed and was removed: fail every downstream HTLC.
    FailAllDownstream { htlcs: Vec<HtlcRef> },
}

/// One forwarded peerswap's in-Lightning side at a forwarder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Forwarder {
    hold: IncomingHold,
    upstream: Option<OutgoingParts>,
}

impl Forwarder {
    pub fn new(agreed: Msat) -> Forwarder {
        Forwarder { hold: IncomingHold::new(agreed, HoldRole::Forwarder), upstream: None }
    }

    /// A forwarder whose hold lasts `hold_timeout` in place of the text's 60 seconds.
    pub fn with_hold_timeout(agreed: Msat, hold_timeout: Seconds) -> Forwarder {
        Forwarder { hold: IncomingHold::with_timeout(agreed, HoldRole::Forwarder, hold_timeout), upstream: None }
    }

    pub fn hold(&self) -> &IncomingHold {
        &self.hold
    }
    pub fn upstream(&self) -> Option<&OutgoingParts> {
        self.upstream.as_ref()
    }

    pub fn handle(&mut self, event: ForwarderEvent) -> Result<Vec<ForwarderAction>, OutgoingError> {
        match event {
            ForwarderEvent::Downstream(e) => {
                let actions = self.hold.handle(e);
                for a in &actions {
                    if let HoldAction::OfferUpstream { total, .. } = a {
                        // SIDEPOOL-10: "A forwarder MUST instead wait for its own local acceptor to offer *all* in-Lightning HTLCs before itself offerring *any* HTLCs to the local offerrer."
                        // 0-fee: upstream carries exactly the downstream total (check_zero_fee holds by construction).
                        self.upstream = Some(OutgoingParts::new(*total));
                    }
                }
                Ok(actions.into_iter().map(ForwarderAction::Hold).collect())
            }
            ForwarderEvent::Upstream(e) => {
                let upstream = self.upstream.as_mut().ok_or(OutgoingError::NotPaying)?;
                Ok(match upstream.handle(e)? {
                    // SIDEPOOL-10: "If *any* in-Lightning HTLC it offerred to the local offerrer is fulfilled, then the forwarder MUST stop the above 60-second hold timeout, then fulfill *all* in-Lightning HTLCs it accepted from the local acceptor."
                    // The hold is already complete, and a complete hold's timer fails nothing (ERRATA E-64).
                    Some(OutgoingOutcome::AnyFulfilled) => {
                        vec![ForwarderAction::FulfilAllDownstream { htlcs: self.hold.held() }]
                    }
                    // SIDEPOOL-10: "If *all* in-Lightning HTLCs it offerred to the local offerrer are failed, *AND* all of them are irrevocably committed to be removed from their channels, then the forwarder MUST fail *all* in-Lightning HTLCs it accepted from the local acceptor."
                    Some(OutgoingOutcome::AllFailedAndRemoved) => {
                        vec![ForwarderAction::FailAllDownstream { htlcs: self.hold.held() }]
                    }
                    None => vec![],
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peerswap::lightning_htlcs::Seconds;

    fn down(h: u64, a: u64, at: u64) -> ForwarderEvent {
        ForwarderEvent::Downstream(HoldEvent::Committed { htlc: HtlcRef(h), amount: Msat(a), at: Seconds(at) })
    }
    fn up(e: OutgoingEvent) -> ForwarderEvent {
        ForwarderEvent::Upstream(e)
    }

    #[test]
    fn zero_fee_is_exact() {
        assert_eq!(check_zero_fee(Msat(10), Msat(10)), Ok(()));
        assert_eq!(check_zero_fee(Msat(10), Msat(9)).map_err(|e| e.name()), Err("fee_deducted"));
        assert_eq!(check_zero_fee(Msat(10), Msat(11)).map_err(|e| e.name()), Err("more_than_received"));
    }

    #[test]
    fn fulfils_downstream_when_upstream_fulfils_even_after_sixty_seconds() {
        let mut f = Forwarder::new(Msat(1_000));
        f.handle(down(1, 400, 0)).unwrap();
        let a = f.handle(down(2, 600, 10)).unwrap();
        assert_eq!(
            a,
            vec![ForwarderAction::Hold(HoldAction::OfferUpstream { htlcs: vec![HtlcRef(1), HtlcRef(2)], total: Msat(1_000) })]
        );
        assert_eq!(f.upstream().map(|u| u.to_send()), Some(Msat(1_000)));
        f.handle(up(OutgoingEvent::Offered { htlc: HtlcRef(10), amount: Msat(1_000) })).unwrap();
        assert_eq!(f.handle(ForwarderEvent::Downstream(HoldEvent::Tick { at: Seconds(120) })).unwrap(), vec![]);
        assert_eq!(
            f.handle(up(OutgoingEvent::Fulfilled { htlc: HtlcRef(10) })).unwrap(),
            vec![ForwarderAction::FulfilAllDownstream { htlcs: vec![HtlcRef(1), HtlcRef(2)] }]
        );
    }

    #[test]
    fn fails_downstream_only_after_all_upstream_failed_and_removed() {
        let mut f = Forwarder::new(Msat(1_000));
        assert_eq!(f.handle(up(OutgoingEvent::Stopped)), Err(OutgoingError::NotPaying));
        f.handle(down(1, 1_000, 0)).unwrap();
        f.handle(up(OutgoingEvent::Offered { htlc: HtlcRef(10), amount: Msat(500) })).unwrap();
        f.handle(up(OutgoingEvent::Offered { htlc: HtlcRef(11), amount: Msat(500) })).unwrap();
        f.handle(up(OutgoingEvent::Failed { htlc: HtlcRef(10) })).unwrap();
        f.handle(up(OutgoingEvent::Failed { htlc: HtlcRef(11) })).unwrap();
        assert_eq!(f.handle(up(OutgoingEvent::RemovalCommitted { htlc: HtlcRef(10) })).unwrap(), vec![]);
        assert_eq!(
            f.handle(up(OutgoingEvent::RemovalCommitted { htlc: HtlcRef(11) })).unwrap(),
            vec![ForwarderAction::FailAllDownstream { htlcs: vec![HtlcRef(1)] }]
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn event() -> impl Strategy<Value = (u8, u64, u64, u64)> {
            (0u8..7, 0u64..5, 0u64..=700, 0u64..=40)
        }

        proptest! {
            #[test]
            fn never_fulfils_after_fail_all_and_forwards_at_zero_fee(agreed in 1u64..=1_500, events in proptest::collection::vec(event(), 0..40)) {
                let mut f = Forwarder::new(Msat(agreed));
                let mut now = 0u64;
                let (mut failed, mut fulfilled, mut downstream_total) = (false, false, None);
                for (kind, h, amount, dt) in events {
                    now += dt;
                    let at = Seconds(now);
                    let ev = match kind {
                        0 => ForwarderEvent::Downstream(HoldEvent::Committed { htlc: HtlcRef(h), amount: Msat(amount), at }),
                        1 => ForwarderEvent::Downstream(HoldEvent::Tick { at }),
                        2 => ForwarderEvent::Upstream(OutgoingEvent::Offered { htlc: HtlcRef(h), amount: Msat(amount) }),
                        3 => ForwarderEvent::Upstream(OutgoingEvent::Fulfilled { htlc: HtlcRef(h) }),
                        4 => ForwarderEvent::Upstream(OutgoingEvent::Failed { htlc: HtlcRef(h) }),
                        5 => ForwarderEvent::Upstream(OutgoingEvent::RemovalCommitted { htlc: HtlcRef(h) }),
                        _ => ForwarderEvent::Upstream(OutgoingEvent::Stopped),
                    };
                    let Ok(actions) = f.handle(ev) else { continue };
                    for a in actions {
                        match a {
                            ForwarderAction::Hold(HoldAction::FailAll { .. }) | ForwarderAction::FailAllDownstream { .. } => {
                                prop_assert!(!fulfilled && !failed);
                                failed = true;
                            }
                            ForwarderAction::FulfilAllDownstream { .. } => {
                                prop_assert!(!failed && !fulfilled);
                                fulfilled = true;
                            }
                            ForwarderAction::Hold(HoldAction::OfferUpstream { total, .. }) => {
                                prop_assert!(total >= Msat(agreed));
                                downstream_total = Some(total);
                            }
                            _ => {}
                        }
                    }
                    if let (Some(total), Some(up)) = (downstream_total, f.upstream()) {
                        prop_assert_eq!(check_zero_fee(total, up.to_send()), Ok(()));
                        prop_assert!(up.offered_total() <= total);
                    }
                }
            }
        }
    }
}
