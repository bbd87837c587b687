//! "Accepting In-Lightning HTLCs": the offerrer's hold of incoming in-Lightning
//! HTLCs until they reach the agreed-upon amount, and its 60-second timer.
//!
//! Sans-IO: the caller reports each HTLC once it is irrevocably committed and
//! recognised as part of the peerswap (see [`super::HtlcRules`]), and reports
//! the passing of time as values; the machine never reads a clock. Each
//! [`HoldAction::KeepHolding`] carries the deadline so the caller knows when to
//! send the next [`HoldEvent::Tick`].
//!
//! Timer semantics (ERRATA E-64): the timer expires when `now >= first + 60 s`;
//! an event's time is applied before its content, so an HTLC committed at
//! exactly `first + 60 s` is late. After completion the timer no longer fails
//! anything: a forwarder then has HTLCs in flight upstream and resolves its
//! downstream HTLCs only from their outcome (see [`super::Forwarder`]). HTLCs
//! committed after completion or after the timeout are failed on arrival.

use crate::peerswap::choices::LateHtlc;
use crate::units::Msat;

use super::HtlcRef;

// Times here are caller-supplied whole seconds from any origin; the 60 s lives in constants.rs.
pub use crate::peerswap::constants::{Seconds, HOLD_TIMEOUT};

/// Whether the holder is the ultimate offerrer or a forwarder (which then pays upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HoldRole {
    UltimateOfferrer,
    Forwarder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HoldEvent {
    /// An incoming HTLC of this peerswap became irrevocably committed at `at`.
    Committed { htlc: HtlcRef, amount: Msat, at: Seconds },
    /// A held HTLC went away without the holder resolving it (for example its
    /// channel closed onchain); it no longer counts towards the amount.
    Removed { htlc: HtlcRef, at: Seconds },
    /// Time is now `at`.
    Tick { at: Seconds },
}

impl HoldEvent {
    pub fn at(&self) -> Seconds {
        match *self {
            HoldEvent::Committed { at, .. } | HoldEvent::Removed { at, .. } | HoldEvent::Tick { at } => at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HoldAction {
    /// Nothing to do yet; held `total` so far, timer expiring at `deadline`
    /// (`None` before the first HTLC).
    KeepHolding { total: Msat, deadline: Option<Seconds> },
    /// Ultimate offerrer: the held HTLCs reached the agreed-upon amount; go to
    /// the success path (send `peerswap_success`, fulfil `htlcs`).
    ProceedToSuccess { htlcs: Vec<HtlcRef>, total: Msat },
    /// Forwarder: the held HTLCs reached the agreed-upon amount; offer exactly
    /// `total` to its own local offerrer (0-fee). `htlcs` stay held until then.
    OfferUpstream { htlcs: Vec<HtlcRef>, total: Msat },
    /// The timer expired: fail every held HTLC (`update_fail_htlc`, any code).
    FailAll { htlcs: Vec<HtlcRef> },
    /// An HTLC arrived after the timeout or after completion: fail it.
    FailLate { htlc: HtlcRef },
    /// Ultimate offerrer whose choice is [`LateHtlc::Fulfil`]: an HTLC arrived
    /// after completion: fulfil it too.
    FulfilLate { htlc: HtlcRef },
}

/// Where the hold stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HoldState {
    /// No HTLC committed yet.
    Waiting,
    /// Holding `total`, the timer expiring at `deadline`.
    Holding { total: Msat, deadline: Seconds },
    /// Reached the agreed-upon amount with `total`.
    Completed { total: Msat },
    /// The timer expired before the amount was reached.
    TimedOut,
}

/// The hold of one peerswap's incoming in-Lightning HTLCs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IncomingHold {
    agreed: Msat,
    role: HoldRole,
    /// The hold time: [`HOLD_TIMEOUT`] unless the caller gave another ([`IncomingHold::with_timeout`]).
    timeout: Seconds,
    state: HoldState,
    now: Seconds,
    held: Vec<(HtlcRef, Msat)>,
    seen: Vec<HtlcRef>,
    late: LateHtlc,
}

impl IncomingHold {
    pub fn new(agreed: Msat, role: HoldRole) -> IncomingHold {
        IncomingHold::with_timeout(agreed, role, HOLD_TIMEOUT)
    }

    /// A hold of `timeout` in place of the text's 60 seconds (for the model checker's "what if").
    pub fn with_timeout(agreed: Msat, role: HoldRole, timeout: Seconds) -> IncomingHold {
        IncomingHold {
            agreed,
            role,
            timeout,
            state: HoldState::Waiting,
            now: Seconds(0),
            held: Vec::new(),
            seen: Vec::new(),
            late: LateHtlc::Fail,
        }
    }

    /// The same hold, treating HTLCs after completion as `late` says (an
    /// ultimate offerrer's choice; a forwarder always fails them: it never pays
    /// them upstream).
    pub fn with_late(mut self, late: LateHtlc) -> IncomingHold {
        self.late = late;
        self
    }

    pub fn state(&self) -> HoldState {
        self.state
    }
    pub fn agreed(&self) -> Msat {
        self.agreed
    }
    pub fn role(&self) -> HoldRole {
        self.role
    }
    /// The HTLCs currently held (after completion: the ones to fulfil or fail together).
    pub fn held(&self) -> Vec<HtlcRef> {
        self.held.iter().map(|(h, _)| *h).collect()
    }
    fn total(&self) -> Msat {
        // Saturating: a saturated sum is still >= any agreed amount, which is all that matters.
        Msat(self.held.iter().fold(0u64, |acc, (_, a)| acc.saturating_add(a.0)))
    }

    pub fn handle(&mut self, event: HoldEvent) -> Vec<HoldAction> {
        let mut actions = Vec::new();
        // Time never runs backwards here: an earlier timestamp counts as "now".
        self.now = self.now.max(event.at());

        if let HoldState::Holding { deadline, .. } = self.state {
            if self.now >= deadline {
                // SIDEPOOL-10: "Once this timer times out, the offerrer MUST fail (via `update_fail_htlc`) all incoming in-Lightning HTLCs for this peerswap-in-sidepool."
                // SIDEPOOL-10: "The offerrer MAY use any payment failure code."
                self.state = HoldState::TimedOut;
                actions.push(HoldAction::FailAll { htlcs: self.held() });
            }
        }

        match event {
            HoldEvent::Committed { htlc, amount, .. } => {
                if self.seen.contains(&htlc) {
                    // A repeated report of the same HTLC changes nothing.
                } else {
                    self.seen.push(htlc);
                    self.commit(htlc, amount, &mut actions);
                }
            }
            HoldEvent::Removed { htlc, .. } => {
                if matches!(self.state, HoldState::Holding { .. }) {
                    self.held.retain(|(h, _)| *h != htlc);
                }
            }
            HoldEvent::Tick { .. } => {}
        }

        match self.state {
            HoldState::Holding { deadline, .. } => {
                let total = self.total();
                self.state = HoldState::Holding { total, deadline };
                actions.push(HoldAction::KeepHolding { total, deadline: Some(deadline) });
            }
            HoldState::Waiting => actions.push(HoldAction::KeepHolding { total: Msat::ZERO, deadline: None }),
            HoldState::Completed { .. } | HoldState::TimedOut => {}
        }
        actions
    }

    fn commit(&mut self, htlc: HtlcRef, amount: Msat, actions: &mut Vec<HoldAction>) {
        match self.state {
            HoldState::TimedOut => {
                // SIDEPOOL-10: "If the 60-second hold timeout is reached, as noted above, the local offerrer (which accepts in-Lightning HTLCs) MUST fail *all* HTLCs of the peerswap-in-sidepool, including those that arrive after the timeout."
                // SIDEPOOL-10: "This holds for both forwarders and the ultimate offerrer."
                actions.push(HoldAction::FailLate { htlc });
                return;
            }
            HoldState::Completed { .. } => {
                // Beyond what completed the hold: the reference fails it (ERRATA E-64);
                // an ultimate offerrer may fulfil it instead:
                // SIDEPOOL-10: "The ultimate offerrer MUST also fulfill each of the incoming in-Lightning HTLCs."
                if self.role == HoldRole::UltimateOfferrer && self.late == LateHtlc::Fulfil {
                    actions.push(HoldAction::FulfilLate { htlc });
                } else {
                    actions.push(HoldAction::FailLate { htlc });
                }
                return;
            }
            HoldState::Waiting => {
                let deadline = Seconds(self.now.0.saturating_add(self.timeout.0));
                self.state = HoldState::Holding { total: Msat::ZERO, deadline };
            }
            HoldState::Holding { .. } => {}
        }
        self.held.push((htlc, amount));
        let total = self.total();
        // `agreed` is what the revision says the HTLCs total (see `in_lightning_amount`):
        // SIDEPOOL-10@seed: "Until the amount reaches the agreed-upon amount, the offerrer MUST hold the incoming in-Lightning HTLCs."
        // SIDEPOOL-10@upstream-50799b4: "Until the amount reaches the in-sidepool HTLC amount, the offerrer MUST hold the incoming in-Lightning HTLCs."
        if total >= self.agreed {
            // SIDEPOOL-10: "Once the total in-Lightning HTLCs of the peerswap-in-sidepool have been irrevocably committed, and the total amount equals or exceeds the ..."
            self.state = HoldState::Completed { total };
            let htlcs = self.held();
            actions.push(match self.role {
                // SIDEPOOL-10: "If the offerrer is the ultimate offerrer, it proceeds to peerswap resolution below, in the success path."
                HoldRole::UltimateOfferrer => HoldAction::ProceedToSuccess { htlcs, total },
                // SIDEPOOL-10: "It then offers in-Lightning HTLCs to its own local offerrer, as above."
                HoldRole::Forwarder => HoldAction::OfferUpstream { htlcs, total },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(h: u64, amount: u64, at: u64) -> HoldEvent {
        HoldEvent::Committed { htlc: HtlcRef(h), amount: Msat(amount), at: Seconds(at) }
    }
    fn hold(total: u64, deadline: u64) -> HoldAction {
        HoldAction::KeepHolding { total: Msat(total), deadline: Some(Seconds(deadline)) }
    }

    #[test]
    fn an_ultimate_offerrer_may_fulfil_a_late_htlc_but_a_forwarder_never_does() {
        for (role, want) in [
            (HoldRole::UltimateOfferrer, HoldAction::FulfilLate { htlc: HtlcRef(3) }),
            (HoldRole::Forwarder, HoldAction::FailLate { htlc: HtlcRef(3) }),
        ] {
            let mut m = IncomingHold::new(Msat(1_000), role).with_late(LateHtlc::Fulfil);
            m.handle(commit(1, 1_000, 10));
            assert_eq!(m.handle(commit(3, 1, 20)), vec![want]);
        }
    }

    #[test]
    fn completes_at_agreed_amount() {
        let mut m = IncomingHold::new(Msat(1_000), HoldRole::UltimateOfferrer);
        assert_eq!((m.agreed(), m.role()), (Msat(1_000), HoldRole::UltimateOfferrer));
        assert_eq!(m.handle(commit(1, 600, 10)), vec![hold(600, 70)]);
        assert_eq!(
            m.handle(commit(2, 400, 69)),
            vec![HoldAction::ProceedToSuccess { htlcs: vec![HtlcRef(1), HtlcRef(2)], total: Msat(1_000) }]
        );
        assert_eq!(m.state(), HoldState::Completed { total: Msat(1_000) });
        assert_eq!(m.handle(commit(3, 1, 70)), vec![HoldAction::FailLate { htlc: HtlcRef(3) }]);
        assert_eq!(m.handle(HoldEvent::Tick { at: Seconds(500) }), vec![]);
    }

    #[test]
    fn another_hold_time_moves_the_deadline() {
        let mut m = IncomingHold::with_timeout(Msat(1_000), HoldRole::Forwarder, Seconds(10));
        assert_eq!(m.handle(commit(1, 600, 5)), vec![hold(600, 15)]);
        assert_eq!(m.handle(HoldEvent::Tick { at: Seconds(15) }), vec![HoldAction::FailAll { htlcs: vec![HtlcRef(1)] }]);
        let mut f = super::super::Forwarder::with_hold_timeout(Msat(1_000), Seconds(10));
        f.handle(super::super::ForwarderEvent::Downstream(commit(1, 600, 5))).unwrap();
        assert_eq!(f.hold().state(), HoldState::Holding { total: Msat(600), deadline: Seconds(15) });
    }

    #[test]
    fn exactly_sixty_seconds_times_out() {
        let mut m = IncomingHold::new(Msat(1_000), HoldRole::Forwarder);
        m.handle(commit(1, 600, 0));
        assert_eq!(m.handle(HoldEvent::Tick { at: Seconds(59) }), vec![hold(600, 60)]);
        assert_eq!(
            m.handle(commit(2, 400, 60)),
            vec![HoldAction::FailAll { htlcs: vec![HtlcRef(1)] }, HoldAction::FailLate { htlc: HtlcRef(2) }]
        );
        assert_eq!(m.state(), HoldState::TimedOut);
    }

    #[test]
    fn removal_lowers_total_but_not_timer() {
        let mut m = IncomingHold::new(Msat(1_000), HoldRole::Forwarder);
        m.handle(commit(1, 600, 5));
        assert_eq!(m.handle(HoldEvent::Removed { htlc: HtlcRef(1), at: Seconds(6) }), vec![hold(0, 65)]);
        assert_eq!(
            m.handle(commit(2, 1_000, 7)),
            vec![HoldAction::OfferUpstream { htlcs: vec![HtlcRef(2)], total: Msat(1_000) }]
        );
    }

    #[test]
    fn duplicates_and_backwards_time_are_harmless() {
        let mut m = IncomingHold::new(Msat(1_000), HoldRole::UltimateOfferrer);
        m.handle(commit(1, 600, 30));
        assert_eq!(m.handle(commit(1, 600, 31)), vec![hold(600, 90)]);
        assert_eq!(m.handle(HoldEvent::Tick { at: Seconds(3) }), vec![hold(600, 90)]);
        assert_eq!(m.handle(HoldEvent::Tick { at: Seconds(0) }), vec![hold(600, 90)]);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn event() -> impl Strategy<Value = (u8, u64, u64, u64)> {
            // (kind, htlc, amount, seconds since previous event)
            (0u8..3, 0u64..6, 0u64..=600, 0u64..=40)
        }

        proptest! {
            #[test]
            fn never_completes_below_agreed_nor_after_fail_all(agreed in 0u64..=2_000, events in proptest::collection::vec(event(), 0..30), forwarder in any::<bool>()) {
                let role = if forwarder { HoldRole::Forwarder } else { HoldRole::UltimateOfferrer };
                let mut m = IncomingHold::new(Msat(agreed), role);
                let mut amounts = std::collections::HashMap::new();
                let (mut now, mut failed_all, mut completed) = (0u64, false, false);
                for (kind, h, amount, dt) in events {
                    now += dt;
                    let at = Seconds(now);
                    let ev = match kind {
                        0 => HoldEvent::Committed { htlc: HtlcRef(h), amount: Msat(amount), at },
                        1 => HoldEvent::Removed { htlc: HtlcRef(h), at },
                        _ => HoldEvent::Tick { at },
                    };
                    if let HoldEvent::Committed { htlc, amount, .. } = ev {
                        amounts.entry(htlc).or_insert(amount);
                    }
                    for a in m.handle(ev) {
                        match a {
                            HoldAction::ProceedToSuccess { htlcs, total } | HoldAction::OfferUpstream { htlcs, total } => {
                                prop_assert!(!failed_all && !completed);
                                completed = true;
                                prop_assert!(total >= Msat(agreed));
                                let sum: u64 = htlcs.iter().map(|h| amounts[h].0).sum();
                                prop_assert_eq!(Msat(sum), total);
                            }
                            HoldAction::FailAll { .. } => {
                                prop_assert!(!completed && !failed_all);
                                failed_all = true;
                            }
                            HoldAction::KeepHolding { total, .. } => prop_assert!(total < Msat(agreed) || agreed == 0 && total == Msat::ZERO),
                            HoldAction::FailLate { .. } => prop_assert!(failed_all || completed),
                            HoldAction::FulfilLate { .. } => prop_assert!(completed && !failed_all),
                        }
                    }
                }
            }
        }
    }
}
