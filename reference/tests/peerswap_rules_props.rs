//! Property tests for the SIDEPOOL-10 decision rules: balance symmetry, offers
//! accepted by the mirrored receiver, accepted amounts lowering the imbalance.

use proptest::prelude::*;
use sidepool_reference::peerswap::balance::{measure, Capacity, Channel, ChannelState, Offerrer};
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::messages::HtlcPubkeys;
use sidepool_reference::peerswap::offer::{build_init, plan_offer, InitIdentity, OfferRequest, PeerStatus};
use sidepool_reference::peerswap::receive::{receive_init, ReceiveContext, ReceiveDecision};
use sidepool_reference::units::{BlockDelta, BlockHeight, Msat, PaymentHash, PoolId, PublicKey, Sat, UpdateCounter};

/// A channel as our side sees it, with its mirror (the peer's view).
fn channel_pair() -> impl Strategy<Value = (Channel, Channel)> {
    (
        1u64..=2_000_000_000_000, // up to 20 BTC in msat
        0u32..=1000,
        0u32..=1000,
        0u32..=1000,
        prop_oneof![4 => Just(ChannelState::Normal), 1 => Just(ChannelState::ShuttingDown), 1 => Just(ChannelState::AwaitingChannelReady)],
        1u64..=2_000_000_000_000,
        1u64..=2_000_000_000_000,
    )
        .prop_map(|(cap, a, b, h, state, max_a, max_b)| {
            // Split the capacity into ours / theirs / HTLCs / the rest by weights.
            let total = u64::from(a) + u64::from(b) + u64::from(h) + 1;
            let part = |w: u32| (u128::from(cap) * u128::from(w) / u128::from(total)) as u64;
            let (ours, theirs, htlcs) = (part(a), part(b), part(h));
            let ch = |ours, theirs, from_peer, mine| Channel {
                state,
                capacity: Capacity::Msat(Msat(cap)),
                ours: Msat(ours),
                theirs: Msat(theirs),
                pending_htlcs: Msat(htlcs),
                our_reserve: Msat(0),
                htlc_maximum_from_peer: Msat(from_peer),
                htlc_maximum_ours: Msat(mine),
            };
            (ch(ours, theirs, max_b, max_a), ch(theirs, ours, max_a, max_b))
        })
}

fn keys() -> HtlcPubkeys {
    let g: [u8; 33] = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap().try_into().unwrap();
    let k = PublicKey::from_bytes(g).unwrap();
    HtlcPubkeys { ephemeral: k, persistent: k }
}

const OK_PEER: PeerStatus = PeerStatus { supports_feature: true, is_participant: true, already_sent: false };

proptest! {
    #[test]
    fn both_sides_compute_the_same_imbalance_error(pairs in prop::collection::vec(channel_pair(), 0..6)) {
        let (ours, theirs): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        let a = measure(&ours).unwrap();
        let b = measure(&theirs).unwrap();
        prop_assert_eq!(a.total_capacity, b.total_capacity);
        prop_assert_eq!(a.imbalance_error(), b.imbalance_error());
        // The two "twice our-side funds" add up to twice the total capacity.
        prop_assert_eq!(u128::from(a.twice_our_side.0) + u128::from(b.twice_our_side.0), 2 * u128::from(a.total_capacity.0));
        if a.imbalance_error() != Msat(0) {
            prop_assert_ne!(a.offerrer(), b.offerrer());
        } else {
            prop_assert_eq!((a.offerrer(), b.offerrer()), (Offerrer::Them, Offerrer::Them));
        }
    }

    #[test]
    fn an_offer_is_accepted_by_the_mirrored_receiver(
        pair in channel_pair(),
        extra in prop::collection::vec(channel_pair(), 0..4),
        height in 0u32..=3_000_000,
        final_cltv in 0u32..=2016,
        cltv in 0u32..=2016,
        hops_random: u8,
        pick in 0.0f64..1.0,
        counter in (0u16..1024).prop_map(|c| 2 * c + 1),
    ) {
        let (mut a_side, mut b_side): (Vec<_>, Vec<_>) = extra.into_iter().unzip();
        a_side.insert(0, pair.0);
        b_side.insert(0, pair.1);
        let a = measure(&a_side).unwrap();
        let b = measure(&b_side).unwrap();
        let mut req = OfferRequest {
            peer: OK_PEER, swap_party_begun: true, balance: &a, height: BlockHeight(height),
            final_cltv_delta: BlockDelta(final_cltv), amount: None, hops_random,
        };
        // Sometimes the recommended amount, sometimes any allowed one.
        if pick < 0.5 {
            let top = a.imbalance_error().0.saturating_sub(1) / 1000;
            if top >= 10_000 {
                req.amount = Some(Sat(10_000 + ((top - 10_000) as f64 * pick * 2.0) as u64));
            }
        }
        let plan = plan_offer(&req);
        prop_assume!(plan.is_ok(), "we may not offer here: {:?}", plan);
        let plan = plan.unwrap();
        // The acceptor must hold the amount in one channel: true for the first
        // channel alone; with several channels it is a precondition.
        prop_assume!(b.max_ours_above_reserve.is_some_and(|m| Some(m) >= plan.amount.to_msat()));
        let counter = UpdateCounter::new(counter).unwrap();
        let who = InitIdentity { id: PoolId([7; 16]), pubkeys: keys(), hash: PaymentHash([9; 32]), update_counter: counter };
        let init = build_init(&plan, &who).unwrap();
        let ctx = ReceiveContext {
            we_are_participant: true, sender_is_participant: true, is_leader: false,
            swap_party_counter: Some(counter), init_arrived_at: Timestamp(0), now: Timestamp(0),
            already_received_from_sender: false, balance: &b, height: BlockHeight(height),
            cltv_delta: BlockDelta(cltv), policy_objection: None,
        };
        prop_assert_eq!(receive_init(&init, &ctx), ReceiveDecision::Accept);
    }

    #[test]
    fn an_accepted_amount_strictly_lowers_the_imbalance_error(
        pairs in prop::collection::vec(channel_pair(), 1..5),
        frac in 0.0f64..1.0,
    ) {
        // The acceptor's view: whichever side of the pair may accept.
        let ours: Vec<Channel> = pairs.iter().map(|p| p.0).collect();
        let acceptor = if measure(&ours).unwrap().offerrer() == Offerrer::Them { ours } else { pairs.iter().map(|p| p.1).collect() };
        let b = measure(&acceptor).unwrap();
        // An amount from the minimum up to just below the imbalance error.
        let top = b.imbalance_error().0.saturating_sub(1) / 1000;
        prop_assume!(top >= 10_000);
        let amount_sat = 10_000 + ((top - 10_000) as f64 * frac) as u64;
        let init = sidepool_reference::peerswap::messages::PeerswapInit {
            id: PoolId([1; 16]), pubkeys: keys(), hash: PaymentHash([2; 32]),
            timeouts: sidepool_reference::peerswap::messages::Timeouts { sidepool: BlockHeight(104_032), lightning: BlockHeight(100_000) },
            hops: sidepool_reference::units::Hops(0), amount: Sat(amount_sat), channel_view: Default::default(),
            update_counter: UpdateCounter::new(1).unwrap(), unknown: vec![],
        };
        let ctx = ReceiveContext {
            we_are_participant: true, sender_is_participant: true, is_leader: false,
            swap_party_counter: UpdateCounter::new(1), init_arrived_at: Timestamp(0), now: Timestamp(0),
            already_received_from_sender: false, balance: &b, height: BlockHeight(100_000),
            cltv_delta: BlockDelta(40), policy_objection: None,
        };
        prop_assume!(receive_init(&init, &ctx) == ReceiveDecision::Accept);
        // Move the amount from us to them in the normal channel that holds it.
        let m = amount_sat * 1000;
        let mut after = acceptor.clone();
        let i = after.iter().position(|c| c.state == ChannelState::Normal && c.ours.0 >= m).unwrap();
        after[i].ours = Msat(after[i].ours.0 - m);
        after[i].theirs = Msat(after[i].theirs.0 + m);
        let b2 = measure(&after).unwrap();
        prop_assert!(b2.imbalance_error() < b.imbalance_error(), "{:?} -> {:?}", b.imbalance_error(), b2.imbalance_error());
    }
}
