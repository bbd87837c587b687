//! The open choices (`peerswap::choices`): each alternative the spec allows
//! does what it says and nothing else, and the defaults are the reference's.

use proptest::prelude::*;
use sidepool_reference::peerswap::balance::{measure, Capacity, Channel, ChannelState};
use sidepool_reference::peerswap::choices::{CheckOrder, Choices, Rounding, SplitStyle};
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::lightning_htlcs::{plan_split, plan_split_with, ChannelRef, ChannelToOfferrer};
use sidepool_reference::peerswap::messages::{HtlcPubkeys, PeerswapInit, Timeouts};
use sidepool_reference::peerswap::offer::recommended_amount_rounded;
use sidepool_reference::peerswap::receive::{receive_init, receive_init_with, ReceiveContext, ReceiveDecision, RejectReason};
use sidepool_reference::units::{BlockDelta, BlockHeight, Hops, Msat, PaymentHash, PoolId, PublicKey, Sat, UpdateCounter};

fn channel(cap: u64, ours: u64, theirs: u64, max_ours: u64) -> Channel {
    Channel {
        state: ChannelState::Normal,
        capacity: Capacity::Msat(Msat(cap)),
        ours: Msat(ours),
        theirs: Msat(theirs),
        pending_htlcs: Msat(0),
        our_reserve: Msat(0),
        htlc_maximum_from_peer: Msat(max_ours),
        htlc_maximum_ours: Msat(max_ours),
    }
}

fn keys() -> HtlcPubkeys {
    let g: [u8; 33] = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap().try_into().unwrap();
    let k = PublicKey::from_bytes(g).unwrap();
    HtlcPubkeys { ephemeral: k, persistent: k }
}

fn init(amount: u64, hops: u8) -> PeerswapInit {
    PeerswapInit {
        id: PoolId([1; 16]),
        pubkeys: keys(),
        hash: PaymentHash([2; 32]),
        timeouts: Timeouts { sidepool: BlockHeight(104_032), lightning: BlockHeight(100_000) },
        hops: Hops(hops),
        amount: Sat(amount),
        channel_view: Default::default(),
        update_counter: UpdateCounter::new(1).unwrap(),
        unknown: vec![],
    }
}

#[test]
fn defaults_are_the_references_readings() {
    let c = Choices::default();
    assert_eq!((c.rounding, c.check_order, c.receiver_split_check, c.split, c.max_parts), (Rounding::Down, CheckOrder::Spec, true, SplitStyle::Fewest, Some(40)));
}

#[test]
fn another_check_order_names_another_broken_rule_but_still_rejects() {
    // 1e9 of 10e9 on our side: the sender is not a valid offerrer (code 2), and
    // hops 11 is out of range (code 7): either reason, never an accept.
    let b = measure(&[channel(10_000_000_000, 1_000_000_000, 9_000_000_000, 5_000_000_000)]).unwrap();
    let ctx = ReceiveContext {
        we_are_participant: true,
        sender_is_participant: true,
        is_leader: false,
        swap_party_counter: UpdateCounter::new(1),
        init_arrived_at: Timestamp(0),
        now: Timestamp(0),
        already_received_from_sender: false,
        balance: &b,
        height: BlockHeight(100_000),
        cltv_delta: BlockDelta(40),
        policy_objection: None,
    };
    let reason = |d: ReceiveDecision| match d {
        ReceiveDecision::Reject(r) => r.reason,
        other => panic!("expected a reject, got {other:?}"),
    };
    assert_eq!(reason(receive_init(&init(20_000, 11), &ctx)), RejectReason::NotValidOfferrer);
    let reversed = Choices { check_order: CheckOrder::Reversed, ..Choices::default() };
    assert_eq!(reason(receive_init_with(&init(20_000, 11), &ctx, &reversed)), RejectReason::HopsOutOfRange);
}

#[test]
fn without_the_split_check_the_receiver_accepts_what_it_would_pay_in_many_parts() {
    // Our own maximum towards the sender is 1,000,000 msat: 2,000,000 sat needs 2000 parts.
    let b = measure(&[channel(10_000_000_000, 9_000_000_000, 1_000_000_000, 1_000_000)]).unwrap();
    let ctx = ReceiveContext {
        we_are_participant: true,
        sender_is_participant: true,
        is_leader: false,
        swap_party_counter: UpdateCounter::new(1),
        init_arrived_at: Timestamp(0),
        now: Timestamp(0),
        already_received_from_sender: false,
        balance: &b,
        height: BlockHeight(100_000),
        cltv_delta: BlockDelta(40),
        policy_objection: None,
    };
    assert!(matches!(receive_init(&init(2_000_000, 5), &ctx), ReceiveDecision::Reject(r) if r.reason == RejectReason::TooManySplits));
    let lax = Choices { receiver_split_check: false, ..Choices::default() };
    assert_eq!(receive_init_with(&init(2_000_000, 5), &ctx, &lax), ReceiveDecision::Accept);
}

#[test]
fn rounding_either_way_differs_only_on_a_half_satoshi() {
    // Imbalance 7,999,999,000 msat: half is 3,999,999.5 sat.
    let b = measure(&[channel(10_000_000_000, 1_000_000_500, 8_999_999_500, 5_000_000_000)]).unwrap();
    assert_eq!(recommended_amount_rounded(&b, Rounding::Down), Ok(Sat(3_999_999)));
    assert_eq!(recommended_amount_rounded(&b, Rounding::Up), Ok(Sat(4_000_000)));
    // An even imbalance: both give the same amount.
    let even = measure(&[channel(10_000_000_000, 1_000_000_000, 9_000_000_000, 5_000_000_000)]).unwrap();
    assert_eq!(recommended_amount_rounded(&even, Rounding::Down), recommended_amount_rounded(&even, Rounding::Up));
}

fn one(max: u64) -> Vec<ChannelToOfferrer> {
    vec![ChannelToOfferrer { channel: ChannelRef(1), max_htlc: Msat(max), spendable: None }]
}

proptest! {
    /// Every style pays exactly the amount, each part within the maximum; the
    /// at-least-two style never pays in one part when two are possible.
    #[test]
    fn every_split_style_pays_the_whole_amount_within_the_maximum(agreed in 2u64..100_000_000, max in 1u64..200_000_000) {
        for (style, limit) in [(SplitStyle::Fewest, Some(40)), (SplitStyle::AtLeastTwo, Some(40)), (SplitStyle::Fewest, None)] {
            if let Ok(parts) = plan_split_with(Msat(agreed), &one(max), style, limit) {
                prop_assert_eq!(parts.iter().map(|p| p.amount.0).sum::<u64>(), agreed);
                prop_assert!(parts.iter().all(|p| p.amount.0 <= max && p.amount.0 > 0));
                if style == SplitStyle::AtLeastTwo {
                    prop_assert!(parts.len() >= 2);
                }
                prop_assert!(parts.len() as u64 <= limit.unwrap_or(483));
            }
        }
        // The default is plan_split's.
        prop_assert_eq!(plan_split(Msat(agreed), &one(max)), plan_split_with(Msat(agreed), &one(max), SplitStyle::Fewest, Some(40)));
    }
}
