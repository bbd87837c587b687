//! What a forwarder does with a reloaded forward after a restart: a pure
//! function of the stored facts and the HTLC states its Lightning node (and
//! the chain) report now.
//!
//! Readings (spec-mirror/ERRATA.md):
//! - E-90: "irrevocably committed no HTLC" — an HTLC whose addition is still in
//!   flight (sent, neither irrevocably committed nor dropped at channel
//!   reestablishment) might still become committed and be fulfilled, so the
//!   forwarder waits for it rather than failing downstream.
//! - E-91: after a unilateral close, an upstream HTLC counts as "irrevocably
//!   committed to fail" only once the forwarder's timeout spend is buried beyond
//!   reorganisation; a preimage spend counts as fulfilled. Downstream HTLCs on a
//!   closed channel are fulfilled by claiming on-chain, failed by not claiming.
//! - E-92: a record with no HTLC from the direct acceptor is kept until the
//!   in-Lightning timelock given downstream has passed (HTLCs may still come;
//!   the record is what identifies them), then forgotten.

use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::units::BlockHeight;

use super::facts::{DownstreamHtlcState, StoredForward};

/// An upstream HTLC (forwarder to direct offerrer) as the Lightning node and
/// the chain report it after the restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpstreamHtlcNow {
    /// Not in the channel: `update_add_htlc` was never sent, or it was dropped
    /// at reestablishment without being committed.
    NeverCommitted,
    /// Sent, but neither irrevocably committed nor dropped yet.
    AddInFlight,
    /// Irrevocably committed and unresolved (channel open).
    Committed,
    /// Fulfilled by the direct offerrer (off-chain, or a preimage spend on-chain).
    Fulfilled,
    /// Failed by the direct offerrer; the removal is not yet irrevocably committed.
    FailPending,
    /// Failed, and the removal irrevocably committed.
    FailedAndRemoved,
    /// The channel was unilaterally closed with the HTLC in flight; its output is unresolved.
    OnchainUnresolved,
    /// After a unilateral close, our timeout spend is confirmed beyond reorganisation.
    OnchainTimedOut,
}

/// How a downstream HTLC is resolved: in its channel, or on-chain because that
/// channel was unilaterally closed with the HTLC in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// `update_fulfill_htlc` / `update_fail_htlc`.
    Channel,
    /// Fulfil: spend the HTLC output with the preimage. Fail: do not claim it
    /// (the direct acceptor reclaims it after its timeout).
    Onchain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DownstreamResolution {
    pub htlc: HtlcRef,
    pub via: Via,
}

/// Why the downstream HTLCs are failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailBecause {
    /// Nothing was ever committed towards the direct offerrer.
    NotForwarded,
    /// Something was, and all of it is now irrevocably failed.
    ForwardedThenFailed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RestartDecision {
    /// No HTLC from the direct acceptor yet: keep the record, HTLCs may still come.
    AwaitAcceptorHtlcs,
    /// No HTLC from the direct acceptor, and none can validly come any more.
    ForgetRecord,
    /// Every HTLC from the direct acceptor is already resolved: forget the forward.
    AlreadyResolved,
    /// Fail these HTLCs from the direct acceptor.
    FailDownstream { htlcs: Vec<DownstreamResolution>, because: FailBecause },
    /// Fulfil these HTLCs from the direct acceptor (the preimage comes with the
    /// upstream fulfilment the Lightning node or chain reports).
    FulfilDownstream { htlcs: Vec<DownstreamResolution> },
    /// Hold everything; these upstream HTLCs are not decided yet.
    Wait { undecided_upstream: Vec<HtlcRef> },
}

/// The forwarder's restart decision for one reloaded forward.
///
/// `upstream_now` reports each recorded upstream HTLC (they are recorded
/// before `update_add_htlc` is sent, so none is missing); `downstream_onchain`
/// says whether a downstream HTLC's channel was unilaterally closed with it in
/// flight; `height` is the chain tip.
///
/// SIDEPOOL-10: "In case the forwarder restarts and finds this fact in its persistent store:"
pub fn restart_decision(
    forward: &StoredForward,
    upstream_now: impl Fn(HtlcRef) -> UpstreamHtlcNow,
    downstream_onchain: impl Fn(HtlcRef) -> bool,
    height: BlockHeight,
) -> RestartDecision {
    if !forward.lightning.acceptor_has_given_htlc() {
        // Not "this fact": the restart rules do not apply (ERRATA E-92).
        return if height >= forward.record.lightning_timelock_to_downstream {
            RestartDecision::ForgetRecord
        } else {
            RestartDecision::AwaitAcceptorHtlcs
        };
    }
    let held: Vec<DownstreamResolution> = forward
        .lightning
        .downstream
        .iter()
        .filter(|h| h.state == DownstreamHtlcState::Held)
        .map(|h| DownstreamResolution {
            htlc: h.htlc,
            // SIDEPOOL-10: "The forwarder MUST handle the above even if the channel(s) with the direct peerswap offerrer, or the direct peerswap acceptor, have been unilaterally closed with the HTLCs in-flight."
            via: if downstream_onchain(h.htlc) { Via::Onchain } else { Via::Channel },
        })
        .collect();
    if held.is_empty() {
        return RestartDecision::AlreadyResolved;
    }
    let upstream: Vec<(HtlcRef, UpstreamHtlcNow)> =
        forward.lightning.upstream.iter().map(|h| (h.htlc, upstream_now(h.htlc))).collect();

    // SIDEPOOL-10: "If *any* in-Lightning HTLC it offerred to the local offerrer is fulfilled, then the forwarder MUST stop the above 60-second hold timeout, then fulfill *all* in-Lightning HTLCs it accepted from the local acceptor."
    if upstream.iter().any(|(_, s)| *s == UpstreamHtlcNow::Fulfilled) {
        return RestartDecision::FulfilDownstream { htlcs: held };
    }
    let undecided: Vec<HtlcRef> = upstream
        .iter()
        .filter(|(_, s)| {
            matches!(
                s,
                UpstreamHtlcNow::AddInFlight
                    | UpstreamHtlcNow::Committed
                    | UpstreamHtlcNow::FailPending
                    | UpstreamHtlcNow::OnchainUnresolved
            )
        })
        .map(|(h, _)| *h)
        .collect();
    if undecided.is_empty() {
        // SIDEPOOL-10: "If there is irrevocably committed no HTLC from the forwarder to the direct peerswap offerrer, the forwarder SHOULD fail the in-Lightning HTLC from the direct peerswap acceptor."
        // SIDEPOOL-10: "This condition is either the in-Lightning HTLC was not forwarded at all before the restart (i.e. `update_add_htlc` was never sent), or the HTLC was forwarded but then failed."
        let never = upstream.iter().all(|(_, s)| *s == UpstreamHtlcNow::NeverCommitted);
        let because = if never { FailBecause::NotForwarded } else { FailBecause::ForwardedThenFailed };
        return RestartDecision::FailDownstream { htlcs: held, because };
    }
    // SIDEPOOL-10: "Otherwise, the forwarder MUST wait for the in-Lightning HTLC to the direct peerswap offerrer to be either fulfilled, or irrevocably committed to fail, before fulfilling or failing the in-Lightning HTLC from the direct peerswap aceptor."
    // An addition still in flight may yet commit (ERRATA E-90); an on-chain output waits for its spend (E-91).
    RestartDecision::Wait { undecided_upstream: undecided }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::store::facts::{ForwardedLightning, StoredHtlc, UpstreamHtlcState};
    use crate::node::store::tests::record;
    use sidepool_reference::units::Msat;
    use std::collections::BTreeMap;
    use UpstreamHtlcNow::*;

    fn forward(downstream: &[(u64, DownstreamHtlcState)], upstream: &[u64]) -> StoredForward {
        StoredForward {
            record: record(1),
            lightning: ForwardedLightning {
                downstream: downstream
                    .iter()
                    .map(|(h, s)| StoredHtlc { htlc: HtlcRef(*h), amount: Msat(500), state: *s })
                    .collect(),
                upstream: upstream
                    .iter()
                    .map(|h| StoredHtlc { htlc: HtlcRef(*h), amount: Msat(1_000), state: UpstreamHtlcState::Offering })
                    .collect(),
            },
        }
    }

    /// Two held HTLCs from the acceptor (1, 2); upstream HTLCs 10, 11 in `now`.
    fn decide(now: &[UpstreamHtlcNow]) -> RestartDecision {
        let ups: Vec<u64> = (10..).take(now.len()).collect();
        let f = forward(&[(1, DownstreamHtlcState::Held), (2, DownstreamHtlcState::Held)], &ups);
        let map: BTreeMap<HtlcRef, UpstreamHtlcNow> = ups.iter().map(|h| HtlcRef(*h)).zip(now.iter().copied()).collect();
        restart_decision(&f, |h| map.get(&h).copied().unwrap_or(NeverCommitted), |_| false, BlockHeight(800_000))
    }

    fn both(via: Via) -> Vec<DownstreamResolution> {
        vec![DownstreamResolution { htlc: HtlcRef(1), via }, DownstreamResolution { htlc: HtlcRef(2), via }]
    }

    #[test]
    fn nothing_committed_upstream_fails_the_acceptors_htlcs() {
        let not_forwarded = RestartDecision::FailDownstream { htlcs: both(Via::Channel), because: FailBecause::NotForwarded };
        assert_eq!(decide(&[]), not_forwarded, "update_add_htlc never sent (not even recorded)");
        assert_eq!(decide(&[NeverCommitted]), not_forwarded, "recorded, but never reached the channel");
        let then_failed = RestartDecision::FailDownstream { htlcs: both(Via::Channel), because: FailBecause::ForwardedThenFailed };
        assert_eq!(decide(&[FailedAndRemoved, NeverCommitted]), then_failed);
        assert_eq!(decide(&[FailedAndRemoved, FailedAndRemoved]), then_failed);
        assert_eq!(decide(&[OnchainTimedOut, FailedAndRemoved]), then_failed, "an irrevocable on-chain timeout is a failure");
    }

    #[test]
    fn anything_still_open_upstream_is_waited_for() {
        for open in [AddInFlight, Committed, FailPending, OnchainUnresolved] {
            assert_eq!(
                decide(&[FailedAndRemoved, open]),
                RestartDecision::Wait { undecided_upstream: vec![HtlcRef(11)] },
                "{open:?}"
            );
        }
        assert_eq!(
            decide(&[Committed, AddInFlight]),
            RestartDecision::Wait { undecided_upstream: vec![HtlcRef(10), HtlcRef(11)] }
        );
    }

    #[test]
    fn any_upstream_fulfilment_fulfils_every_held_htlc() {
        let fulfil = RestartDecision::FulfilDownstream { htlcs: both(Via::Channel) };
        assert_eq!(decide(&[Fulfilled]), fulfil);
        assert_eq!(decide(&[Committed, Fulfilled]), fulfil, "one fulfilled is enough");
        assert_eq!(decide(&[FailedAndRemoved, Fulfilled]), fulfil);
    }

    #[test]
    fn unilaterally_closed_channels_resolve_on_chain() {
        let f = forward(&[(1, DownstreamHtlcState::Held), (2, DownstreamHtlcState::Held)], &[10]);
        let on_chain_downstream = |h: HtlcRef| h == HtlcRef(2);
        let mixed =
            vec![DownstreamResolution { htlc: HtlcRef(1), via: Via::Channel }, DownstreamResolution { htlc: HtlcRef(2), via: Via::Onchain }];
        let height = BlockHeight(800_000);
        // Upstream output on chain: wait for its spend; a preimage spend fulfils; our timeout spend fails.
        assert_eq!(
            restart_decision(&f, |_| OnchainUnresolved, on_chain_downstream, height),
            RestartDecision::Wait { undecided_upstream: vec![HtlcRef(10)] }
        );
        assert_eq!(
            restart_decision(&f, |_| Fulfilled, on_chain_downstream, height),
            RestartDecision::FulfilDownstream { htlcs: mixed.clone() }
        );
        assert_eq!(
            restart_decision(&f, |_| OnchainTimedOut, on_chain_downstream, height),
            RestartDecision::FailDownstream { htlcs: mixed, because: FailBecause::ForwardedThenFailed }
        );
    }

    #[test]
    fn only_htlcs_still_held_are_resolved() {
        let f = forward(&[(1, DownstreamHtlcState::Fulfilled), (2, DownstreamHtlcState::Held)], &[10]);
        assert_eq!(
            restart_decision(&f, |_| Fulfilled, |_| false, BlockHeight(1)),
            RestartDecision::FulfilDownstream { htlcs: vec![DownstreamResolution { htlc: HtlcRef(2), via: Via::Channel }] }
        );
        let done = forward(&[(1, DownstreamHtlcState::Fulfilled), (2, DownstreamHtlcState::Failed)], &[10]);
        assert_eq!(restart_decision(&done, |_| Committed, |_| false, BlockHeight(1)), RestartDecision::AlreadyResolved);
    }

    #[test]
    fn a_record_without_the_acceptors_htlc_waits_until_its_timelock() {
        let f = forward(&[], &[]);
        let t = f.record.lightning_timelock_to_downstream;
        assert_eq!(restart_decision(&f, |_| Committed, |_| false, BlockHeight(t.0 - 1)), RestartDecision::AwaitAcceptorHtlcs);
        assert_eq!(restart_decision(&f, |_| Committed, |_| false, t), RestartDecision::ForgetRecord);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn now() -> impl Strategy<Value = UpstreamHtlcNow> {
            prop_oneof![
                Just(NeverCommitted),
                Just(AddInFlight),
                Just(Committed),
                Just(Fulfilled),
                Just(FailPending),
                Just(FailedAndRemoved),
                Just(OnchainUnresolved),
                Just(OnchainTimedOut),
            ]
        }

        proptest! {
            #[test]
            fn never_fails_downstream_while_upstream_can_still_be_fulfilled(states in proptest::collection::vec(now(), 0..6)) {
                let fulfilled = states.contains(&Fulfilled);
                let open = states.iter().any(|s| matches!(s, AddInFlight | Committed | FailPending | OnchainUnresolved));
                match decide(&states) {
                    RestartDecision::FulfilDownstream { .. } => prop_assert!(fulfilled),
                    RestartDecision::FailDownstream { .. } => prop_assert!(!fulfilled && !open),
                    RestartDecision::Wait { undecided_upstream } => {
                        prop_assert!(!fulfilled && open && !undecided_upstream.is_empty())
                    }
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
    }
}
