//! SIDEPOOL-10 offering rules: "The rules for offering peerswap-in-sidepool"
//! (Balance Measurement) and the sender rules of "Initiating Peerswap".
//!
//! [`plan_offer`] decides whether, and with what amount, timeouts and hops, we
//! may send `peerswap_init` to one peer; [`build_init`] turns the plan into the
//! message. The forwarder reuses [`check_sender_rules`] towards its next hop.

use crate::peerswap::choices::Rounding;
use crate::peerswap::balance::{Balance, Offerrer};
use crate::peerswap::constants::{PEERSWAP_MAX_LN_SPLITS, SIDEPOOL_VERSION_1_MIN_AMOUNT, SpecConstants};
use crate::peerswap::messages::{ChannelView, HtlcPubkeys, PeerswapInit, Timeouts};
use crate::units::{BlockDelta, BlockHeight, Hops, Msat, PaymentHash, PoolId, Sat, UpdateCounter};
use core::fmt;

/// Why we must not send `peerswap_init` (to this peer, with these values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfferRefusal {
    /// The peer has not set the peerswap-in-sidepool feature bit.
    FeatureNotSupported,
    /// No swap party has begun (follower: no `swap_party_begin` received).
    NoSwapParty,
    /// The peer is not a participant of the sidepool.
    NotParticipant,
    /// We already sent `peerswap_init` to this peer in a swap party that has not ended.
    AlreadySent,
    /// Our "twice our-side funds" is not below the total capacity.
    NotValidOfferrer,
    /// The imbalance error is below `sidepool_version_1_min_amount`.
    ImbalanceBelowMinimum,
    /// The amount is below `sidepool_version_1_min_amount`.
    AmountBelowMinimum,
    /// The amount (in msat) is not below the imbalance error.
    AmountNotBelowImbalance,
    /// The in-Lightning payment would need more than `peerswap_max_ln_splits` HTLCs
    /// (`None`: the peer's `htlc_maximum_msat` is 0 or we have no channel at all).
    TooManySplits { splits: Option<u64> },
    /// Our `final_cltv_delta` is above 2016.
    FinalCltvDeltaTooLarge,
    /// The in-sidepool timeout is below height + 4032 + 1.
    SidepoolTimeoutTooEarly,
    /// The in-Lightning timeout is below height + `final_cltv_delta`.
    LightningTimeoutTooEarly,
    /// A height computation does not fit in 32 bits.
    HeightOverflow,
    /// `peerswap_init_update_counter` must be odd.
    UpdateCounterEven,
}

impl OfferRefusal {
    /// The stable machine name used in vectors.
    pub fn name(self) -> &'static str {
        match self {
            OfferRefusal::FeatureNotSupported => "feature_not_supported",
            OfferRefusal::NoSwapParty => "no_swap_party",
            OfferRefusal::NotParticipant => "not_participant",
            OfferRefusal::AlreadySent => "already_sent",
            OfferRefusal::NotValidOfferrer => "not_valid_offerrer",
            OfferRefusal::ImbalanceBelowMinimum => "imbalance_below_minimum",
            OfferRefusal::AmountBelowMinimum => "amount_below_minimum",
            OfferRefusal::AmountNotBelowImbalance => "amount_not_below_imbalance",
            OfferRefusal::TooManySplits { .. } => "too_many_splits",
            OfferRefusal::FinalCltvDeltaTooLarge => "final_cltv_delta_too_large",
            OfferRefusal::SidepoolTimeoutTooEarly => "sidepool_timeout_too_early",
            OfferRefusal::LightningTimeoutTooEarly => "lightning_timeout_too_early",
            OfferRefusal::HeightOverflow => "height_overflow",
            OfferRefusal::UpdateCounterEven => "update_counter_even",
        }
    }
}

impl fmt::Display for OfferRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            OfferRefusal::TooManySplits { splits: Some(n) } => {
                write!(f, " ({n} parts needed, at most {PEERSWAP_MAX_LN_SPLITS})")
            }
            OfferRefusal::TooManySplits { splits: None } => f.write_str(" (no channel can carry a part)"),
            _ => Ok(()),
        }
    }
}

/// What we know about the peer and the swap party, apart from the channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerStatus {
    pub supports_feature: bool,
    pub is_participant: bool,
    /// We already sent `peerswap_init` to this peer for a swap party not yet ended
    /// (see [`InitLedger`]).
    pub already_sent: bool,
}

/// SIDEPOOL-10: "If the imbalance error is less than the minimum amount mandated in [SIDEPOOL-02 Output States][], then the participant MUST NOT offer a peerswap-in-sidepool."
pub fn may_offer(balance: &Balance) -> Result<(), OfferRefusal> {
    // SIDEPOOL-10: "The "twice our-side funds" of this node is less than "total channel capacity"."
    if balance.offerrer() != Offerrer::Us {
        return Err(OfferRefusal::NotValidOfferrer);
    }
    if balance.imbalance_error() < min_amount_msat() {
        return Err(OfferRefusal::ImbalanceBelowMinimum);
    }
    Ok(())
}

/// The amount to offer when the caller does not pick one.
///
/// SIDEPOOL-10: "Otherwise, SHOULD offer an amount equal to half of the imbalance error, or the minimum amount specified, whichever is higher, rounded either way to an exact satoshi value."
///
/// The reference rounds half the imbalance error DOWN to a whole satoshi (ERRATA
/// E-41): that keeps the amount at or below the perfectly-balanced point and
/// always strictly below the imbalance error.
pub fn recommended_amount(balance: &Balance) -> Result<Sat, OfferRefusal> {
    recommended_amount_rounded(balance, Rounding::Down)
}

/// [`recommended_amount`], rounding half the imbalance error either way (a
/// conforming variant rounds up: "rounded either way to an exact satoshi value").
/// Rounded up, an amount that reaches the imbalance error is refused by the
/// MUST that it stays below it.
pub fn recommended_amount_rounded(balance: &Balance, rounding: Rounding) -> Result<Sat, OfferRefusal> {
    may_offer(balance)?;
    let half_msat = balance.imbalance_error().0 / 2;
    let half = match rounding {
        Rounding::Down => Sat(half_msat / 1000),
        Rounding::Up => Sat(half_msat.div_ceil(1000)),
    };
    let amount = half.max(SIDEPOOL_VERSION_1_MIN_AMOUNT);
    check_amount(balance, amount)?;
    Ok(amount)
}

/// SIDEPOOL-10: "It MAY offer anywhere from the [SIDEPOOL-02 Output States][] minimum amount, to one less than the imbalance error, inclusive, provided the offerred amount is an exact satoshi value."
pub fn check_amount(balance: &Balance, amount: Sat) -> Result<(), OfferRefusal> {
    // SIDEPOOL-10: "MUST set `peerswap_init_amount_sat` such that: ... It is greater than or equal to the minimum output amount specified in [SIDEPOOL-02 Output States][]."
    if amount < SIDEPOOL_VERSION_1_MIN_AMOUNT {
        return Err(OfferRefusal::AmountBelowMinimum);
    }
    // SIDEPOOL-10: "It is less than the "imbalance error" computed in [SIDEPOOL-10 Balance Measurement][]."
    // SIDEPOOL-10: "Note that the "imbalance error" is in millisatoshis and `peerswap_init_amount_sat` is in satoshis."
    match amount.to_msat() {
        Some(m) if m < balance.imbalance_error() => Ok(()),
        _ => Err(OfferRefusal::AmountNotBelowImbalance),
    }
}

/// The number of in-Lightning HTLCs needed for `amount` with HTLCs of at most `htlc_maximum`.
///
/// SIDEPOOL-10: "Compute `(peerswap_init_amount_sat * 1000) / htlc_maximum_msat`, rounded ***UP***."
/// `None` when `htlc_maximum` is 0 (no HTLC can carry anything) or the product overflows.
pub fn ln_splits(amount: Sat, htlc_maximum: Msat) -> Option<u64> {
    let msat = amount.to_msat()?;
    (htlc_maximum.0 > 0).then(|| msat.0.div_ceil(htlc_maximum.0))
}

/// SIDEPOOL-10: "If the result of the above division, rounded up, is 41 or more, then the node MUST NOT send this message."
///
/// `htlc_maximum` is the smallest maximum over the channels (`None`: no channel).
pub fn check_splits(amount: Sat, htlc_maximum: Option<Msat>) -> Result<u64, OfferRefusal> {
    match htlc_maximum.and_then(|max| ln_splits(amount, max)) {
        Some(n) if n <= PEERSWAP_MAX_LN_SPLITS => Ok(n),
        splits => Err(OfferRefusal::TooManySplits { splits }),
    }
}

/// The earliest timeouts the offerrer may send.
///
/// SIDEPOOL-10: "MUST set the in-sidepool timeout to greater than or equal to the current blockheight + 4032 + 1."
/// SIDEPOOL-10: "MUST set the in-Lightning HTLC timeout to greater than or equal to the current blockheight + `final_cltv_delta`."
pub fn minimum_timeouts(height: BlockHeight, final_cltv_delta: BlockDelta) -> Result<Timeouts, OfferRefusal> {
    minimum_timeouts_with(height, final_cltv_delta, &SpecConstants::SPEC)
}

/// [`minimum_timeouts`] with the numbers `c` in place of the text's.
pub fn minimum_timeouts_with(
    height: BlockHeight,
    final_cltv_delta: BlockDelta,
    c: &SpecConstants,
) -> Result<Timeouts, OfferRefusal> {
    check_final_cltv_delta_with(final_cltv_delta, c)?;
    let sidepool_delta = c.offerrer_sidepool_timeout_delta().ok_or(OfferRefusal::HeightOverflow)?;
    Ok(Timeouts {
        sidepool: height.checked_add(sidepool_delta).ok_or(OfferRefusal::HeightOverflow)?,
        lightning: height.checked_add(final_cltv_delta).ok_or(OfferRefusal::HeightOverflow)?,
    })
}

/// Checks timeouts a sender chose (a forwarder's, or an offerrer's above the minimum).
pub fn check_timeouts(height: BlockHeight, final_cltv_delta: BlockDelta, t: Timeouts) -> Result<(), OfferRefusal> {
    check_timeouts_with(height, final_cltv_delta, t, &SpecConstants::SPEC)
}

/// [`check_timeouts`] with the numbers `c` in place of the text's.
pub fn check_timeouts_with(
    height: BlockHeight,
    final_cltv_delta: BlockDelta,
    t: Timeouts,
    c: &SpecConstants,
) -> Result<(), OfferRefusal> {
    let min = minimum_timeouts_with(height, final_cltv_delta, c)?;
    if t.sidepool < min.sidepool {
        return Err(OfferRefusal::SidepoolTimeoutTooEarly);
    }
    if t.lightning < min.lightning {
        return Err(OfferRefusal::LightningTimeoutTooEarly);
    }
    Ok(())
}

/// SIDEPOOL-10: "`cltv_expiry` MUST be less than or equal to 2016."
///
/// Read as a bound on `final_cltv_delta` (ERRATA E-42): `cltv_expiry` is an
/// absolute height, which is far above 2016 on any live chain.
pub fn check_final_cltv_delta(final_cltv_delta: BlockDelta) -> Result<(), OfferRefusal> {
    check_final_cltv_delta_with(final_cltv_delta, &SpecConstants::SPEC)
}

/// [`check_final_cltv_delta`] with the bound `c.max_cltv_delta` in place of 2016.
pub fn check_final_cltv_delta_with(final_cltv_delta: BlockDelta, c: &SpecConstants) -> Result<(), OfferRefusal> {
    if final_cltv_delta > c.max_cltv_delta {
        return Err(OfferRefusal::FinalCltvDeltaTooLarge);
    }
    Ok(())
}

/// SIDEPOOL-10: "The ultimate offerrer SHOULD set this to a random value from 5 to 10."
///
/// The randomness is an input so that the rule stays a pure function: any byte
/// maps onto 5..=10 (`5 + random % 6`; the slight modulo bias is harmless here).
pub fn choose_hops(random: u8) -> Hops {
    choose_hops_with(random, &SpecConstants::SPEC)
}

/// [`choose_hops`] over the range `c.ultimate_offerrer_hops` (its ends in either order).
pub fn choose_hops_with(random: u8, c: &SpecConstants) -> Hops {
    let (a, b) = c.ultimate_offerrer_hops;
    let (first, last) = (a.min(b), a.max(b));
    let span = u16::from(last - first) + 1;
    // `random % span` is below `span`, so the sum stays within `first..=last`.
    Hops(first + (u16::from(random) % span) as u8)
}

/// The sender rules about the peer and the swap party (not the channels).
pub fn check_status(peer: PeerStatus, swap_party_begun: bool) -> Result<(), OfferRefusal> {
    // SIDEPOOL-10: "Pool participants that support peerswap-in-sidepool MUST NOT send peerswap-in-sidepool messages unless the counterparty has indicated support of the above feature bit."
    if !peer.supports_feature {
        return Err(OfferRefusal::FeatureNotSupported);
    }
    // SIDEPOOL-10: "MAY send this message only after `swap_party_begin`:"
    if !swap_party_begun {
        return Err(OfferRefusal::NoSwapParty);
    }
    // SIDEPOOL-10: "MUST NOT send this message to a peer that is not a participant of the sidepool it wants to use."
    if !peer.is_participant {
        return Err(OfferRefusal::NotParticipant);
    }
    // SIDEPOOL-10: "MUST NOT send this message more than once to a peer until the swap party of the sidepool has completed, or the sidepool has aborted."
    // SIDEPOOL-10: "the only requirement this specification has is that a sender MUST NOT send `peerswap_init` twice (whether hash is the same or not) to a peer until the swap party has completed or the sidepool has aborted."
    if peer.already_sent {
        return Err(OfferRefusal::AlreadySent);
    }
    Ok(())
}

/// The sender rules of "Initiating Peerswap" that hold for any sender, the
/// ultimate offerrer and a forwarder alike, towards one peer (all but the
/// timeouts). Returns the number of in-Lightning splits.
pub fn check_sender_rules(
    peer: PeerStatus,
    swap_party_begun: bool,
    balance: &Balance,
    amount: Sat,
) -> Result<u64, OfferRefusal> {
    check_status(peer, swap_party_begun)?;
    // SIDEPOOL-10: "MUST NOT send this message if it is not a valid offerrer to the peer."
    may_offer(balance)?;
    check_amount(balance, amount)?;
    // SIDEPOOL-10: "Determine the maximum HTLC of the channel(s) from the peer to itself, such as by getting the smallest `htlc_maximum_msat` from the [BOLT #7 `channel_update` Message][] from the peer, among all channels with that peer."
    check_splits(amount, balance.min_htlc_maximum_from_peer)
}

/// The ultimate offerrer's inputs for one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfferRequest<'a> {
    pub peer: PeerStatus,
    pub swap_party_begun: bool,
    /// Our measurement of the channels with this peer.
    pub balance: &'a Balance,
    pub height: BlockHeight,
    /// Our `final_cltv_delta` (BOLT #11 `min_final_cltv_expiry_delta`).
    pub final_cltv_delta: BlockDelta,
    /// The amount to offer; `None` for [`recommended_amount`].
    pub amount: Option<Sat>,
    /// A random byte for [`choose_hops`].
    pub hops_random: u8,
}

/// Everything of a `peerswap_init` the offering rules decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OfferPlan {
    pub amount: Sat,
    pub timeouts: Timeouts,
    pub hops: Hops,
    /// In-Lightning HTLCs the acceptor will need at most (≤ 40).
    pub splits: u64,
    pub channel_view: ChannelView,
}

/// SIDEPOOL-10: "If the node cannot achieve all of the above, the node MUST NOT send this message."
pub fn plan_offer(req: &OfferRequest<'_>) -> Result<OfferPlan, OfferRefusal> {
    plan_offer_rounded(req, Rounding::Down)
}

/// [`plan_offer`], rounding the recommended amount as `rounding` says.
pub fn plan_offer_rounded(req: &OfferRequest<'_>, rounding: Rounding) -> Result<OfferPlan, OfferRefusal> {
    plan_offer_with(req, rounding, &SpecConstants::SPEC)
}

/// [`plan_offer_rounded`] with the numbers `c` in place of the text's.
pub fn plan_offer_with(req: &OfferRequest<'_>, rounding: Rounding, c: &SpecConstants) -> Result<OfferPlan, OfferRefusal> {
    check_status(req.peer, req.swap_party_begun)?;
    let amount = match req.amount {
        Some(a) => a,
        None => recommended_amount_rounded(req.balance, rounding)?,
    };
    let splits = check_sender_rules(req.peer, req.swap_party_begun, req.balance, amount)?;
    let timeouts = minimum_timeouts_with(req.height, req.final_cltv_delta, c)?;
    Ok(OfferPlan {
        amount,
        timeouts,
        hops: choose_hops_with(req.hops_random, c),
        splits,
        channel_view: req.balance.view_as_offerrer(),
    })
}

/// The parts of `peerswap_init` that do not come from the offering rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitIdentity {
    pub id: PoolId,
    pub pubkeys: HtlcPubkeys,
    pub hash: PaymentHash,
    pub update_counter: UpdateCounter,
}

/// Builds the `peerswap_init` for a plan.
///
/// SIDEPOOL-10: "The value is the counter *before* the expansion phase of the swap party, and must be odd."
pub fn build_init(plan: &OfferPlan, who: &InitIdentity) -> Result<PeerswapInit, OfferRefusal> {
    if !who.update_counter.is_odd() {
        return Err(OfferRefusal::UpdateCounterEven);
    }
    Ok(PeerswapInit {
        id: who.id,
        pubkeys: who.pubkeys,
        timeouts: plan.timeouts,
        hash: who.hash,
        hops: plan.hops,
        amount: plan.amount,
        channel_view: plan.channel_view,
        update_counter: who.update_counter,
        unknown: Vec::new(),
    })
}

fn min_amount_msat() -> Msat {
    // 10,000 sat always fits in msat.
    Msat(SIDEPOOL_VERSION_1_MIN_AMOUNT.0 * 1000)
}

/// Which peers a `peerswap_init` went to (or came from) in swap parties that
/// have not ended. One ledger serves both directions: the sender's "not more
/// than once" rule and the receiver's reject code 1.
///
/// SIDEPOOL-10: "In case the node is a participant of multiple sidepools, and the peer is also a participant of multiple sidepools, the node MUST NOT send this message to a peer more than once until the swap party that triggered the first send has completed or that specific sidepool has aborted."
///
/// Keyed by peer across pools, remembering the pool whose swap party triggered
/// the entry; ending that party (or aborting that pool) frees the peer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InitLedger<P> {
    entries: Vec<(P, PoolId)>,
}

impl<P: PartialEq + Clone> InitLedger<P> {
    pub fn new() -> Self {
        InitLedger { entries: Vec::new() }
    }
    /// The pool whose swap party holds this peer, if any.
    pub fn holder(&self, peer: &P) -> Option<PoolId> {
        self.entries.iter().find(|(p, _)| p == peer).map(|(_, pool)| *pool)
    }
    pub fn contains(&self, peer: &P) -> bool {
        self.holder(peer).is_some()
    }
    /// Records one `peerswap_init` to/from `peer` for `pool`'s current swap party;
    /// `Err(pool)` names the pool that already holds the peer.
    pub fn record(&mut self, peer: P, pool: PoolId) -> Result<(), PoolId> {
        match self.holder(&peer) {
            Some(held) => Err(held),
            None => {
                self.entries.push((peer, pool));
                Ok(())
            }
        }
    }
    /// The swap party of `pool` completed or `pool` aborted: its peers are free again.
    pub fn party_ended(&mut self, pool: PoolId) {
        self.entries.retain(|(_, p)| *p != pool);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peerswap::balance::{measure, Capacity, Channel, ChannelState};

    fn chan(capacity: u64, ours: u64, theirs: u64) -> Channel {
        Channel {
            state: ChannelState::Normal,
            capacity: Capacity::Msat(Msat(capacity)),
            ours: Msat(ours),
            theirs: Msat(theirs),
            pending_htlcs: Msat(0),
            our_reserve: Msat(0),
            htlc_maximum_from_peer: Msat(capacity),
            htlc_maximum_ours: Msat(capacity),
        }
    }
    const OK_PEER: PeerStatus = PeerStatus { supports_feature: true, is_participant: true, already_sent: false };

    #[test]
    fn spec_example_997_and_499_are_allowed_amounts() {
        // A = 1, B = 999 of a 1000 msat channel: imbalance 998. The example works
        // in msat; scale by 1000 * 1000 so the 10,000 sat minimum does not bite.
        let k = 1_000_000;
        let a = measure(&[chan(1000 * k, k, 999 * k)]).unwrap();
        assert_eq!(a.imbalance_error(), Msat(998 * k));
        assert_eq!(check_amount(&a, Sat(997 * k / 1000)), Ok(()));
        assert_eq!(recommended_amount(&a), Ok(Sat(499 * k / 1000)));
        assert_eq!(check_amount(&a, Sat(998 * k / 1000)), Err(OfferRefusal::AmountNotBelowImbalance));
    }

    #[test]
    fn imbalance_equal_to_minimum_admits_no_amount() {
        let b = measure(&[chan(20_000_000, 5_000_000, 15_000_000)]).unwrap();
        assert_eq!(b.imbalance_error(), Msat(10_000_000));
        assert_eq!(may_offer(&b), Ok(()));
        assert_eq!(recommended_amount(&b), Err(OfferRefusal::AmountNotBelowImbalance));
    }

    #[test]
    fn splits_round_up_and_stop_at_forty() {
        assert_eq!(ln_splits(Sat(40), Msat(1000)), Some(40));
        assert_eq!(ln_splits(Sat(40), Msat(999)), Some(41));
        assert_eq!(ln_splits(Sat(1), Msat(0)), None);
        assert_eq!(check_splits(Sat(40_001), Some(Msat(1_000_000))), Err(OfferRefusal::TooManySplits { splits: Some(41) }));
        assert_eq!(check_splits(Sat(40_000), Some(Msat(1_000_000))), Ok(40));
        assert_eq!(check_splits(Sat(40_000), None), Err(OfferRefusal::TooManySplits { splits: None }));
    }

    #[test]
    fn hops_cover_five_to_ten() {
        let all: std::collections::BTreeSet<u8> = (0..=255u8).map(|r| choose_hops(r).0).collect();
        assert_eq!(all.into_iter().collect::<Vec<_>>(), vec![5, 6, 7, 8, 9, 10]);
        // Other ranges (the model checker turns this number), ends in either order, the widest too.
        let with = |range| {
            let c = SpecConstants { ultimate_offerrer_hops: range, ..SpecConstants::SPEC };
            (0..=255u8).map(|r| choose_hops_with(r, &c).0).collect::<std::collections::BTreeSet<u8>>()
        };
        assert_eq!(with((1, 1)).into_iter().collect::<Vec<_>>(), vec![1]);
        assert_eq!(with((3, 0)).into_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert_eq!(with((0, 255)).len(), 256);
    }

    #[test]
    fn other_numbers_move_the_timeouts_and_the_bound() {
        let c = SpecConstants { sidepool_timeout_min_delta: BlockDelta(100), max_cltv_delta: BlockDelta(20), ..SpecConstants::SPEC };
        let t = minimum_timeouts_with(BlockHeight(1_000), BlockDelta(18), &c).unwrap();
        assert_eq!(t, Timeouts { sidepool: BlockHeight(1_101), lightning: BlockHeight(1_018) });
        assert_eq!(check_final_cltv_delta_with(BlockDelta(21), &c), Err(OfferRefusal::FinalCltvDeltaTooLarge));
        assert_eq!(check_timeouts_with(BlockHeight(1_000), BlockDelta(18), t, &c), Ok(()));
        let early = Timeouts { sidepool: BlockHeight(1_100), ..t };
        assert_eq!(check_timeouts_with(BlockHeight(1_000), BlockDelta(18), early, &c), Err(OfferRefusal::SidepoolTimeoutTooEarly));
    }

    #[test]
    fn plan_uses_minimum_timeouts_and_offerrer_view() {
        let b = measure(&[chan(100_000_000, 20_000_000, 80_000_000)]).unwrap();
        let req = OfferRequest {
            peer: OK_PEER,
            swap_party_begun: true,
            balance: &b,
            height: BlockHeight(800_000),
            final_cltv_delta: BlockDelta(18),
            amount: None,
            hops_random: 0,
        };
        let p = plan_offer(&req).unwrap();
        assert_eq!(p.amount, Sat(30_000));
        assert_eq!(p.timeouts, Timeouts { sidepool: BlockHeight(804_033), lightning: BlockHeight(800_018) });
        assert_eq!(p.hops, Hops(5));
        assert_eq!(p.splits, 1);
        assert_eq!(p.channel_view, ChannelView { owned_by_offerrer: Msat(20_000_000), owned_by_acceptor: Msat(80_000_000), total_capacity: Msat(100_000_000) });
        let too_big = OfferRequest { final_cltv_delta: BlockDelta(2017), ..req };
        assert_eq!(plan_offer(&too_big), Err(OfferRefusal::FinalCltvDeltaTooLarge));
        let not_us = measure(&[chan(100_000_000, 80_000_000, 20_000_000)]).unwrap();
        assert_eq!(plan_offer(&OfferRequest { balance: &not_us, ..req }), Err(OfferRefusal::NotValidOfferrer));
    }

    #[test]
    fn ledger_is_per_peer_across_pools_until_the_party_ends() {
        let (x, y) = (PoolId([1; 16]), PoolId([2; 16]));
        let mut l = InitLedger::new();
        assert_eq!(l.record("carol", x), Ok(()));
        assert_eq!(l.record("carol", y), Err(x), "a second pool does not free the peer");
        assert_eq!(l.record("dave", y), Ok(()));
        l.party_ended(y);
        assert!(l.contains(&"carol") && !l.contains(&"dave"));
        l.party_ended(x);
        assert_eq!(l.record("carol", y), Ok(()));
    }
}
