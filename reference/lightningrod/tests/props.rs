//! Properties: the codecs round-trip and never panic on untrusted bytes; the
//! machines keep LNROD-01's safety properties under arbitrary event scripts,
//! and leave their state unchanged when they report a caller bug.

use lightningrod_reference::lsp_a::{LspA, LspAAction, LspAConfig, LspAEvent};
use lightningrod_reference::lsp_b::{LspB, LspBAction, LspBConfig, LspBEvent};
use lightningrod_reference::payee::{Payee, PayeeAction, PayeeConfig, PayeeEvent};
use lightningrod_reference::payer::{Payer, PayerAction, PayerEvent};
use lightningrod_reference::profile::{FailBackReference, FailBackRule, Profile};
use lightningrod_reference::units::{
    BlockDelta, BlockHeight, HtlcId, MessageRef, Msat, PathRef, PaymentHash, Pid, Preimage, PublicKey, Seconds,
};
use lightningrod_reference::wire::blinded_path::{BlindedHop, BlindedMessagePath, Direction, IntroductionNode};
use lightningrod_reference::wire::features::Features;
use lightningrod_reference::wire::init::Init;
use lightningrod_reference::wire::onion_message::{AsyncKind, AsyncMessage, OnionMessagePayload};
use lightningrod_reference::wire::revoke_and_ack::RevokeAndAck;
use lightningrod_reference::wire::update_add_htlc::{OnionPacket, UpdateAddHtlc};
use lightningrod_reference::wire::{decode, Message, TlvRecord};
use proptest::prelude::*;

// ---- codec -------------------------------------------------------------------------------------

fn point(seed: u8) -> PublicKey {
    // Small multiples of G are valid points; derive them through secp256k1.
    use bitcoin::secp256k1::{Secp256k1, SecretKey};
    let mut sk = [0u8; 32];
    sk[31] = seed.max(1);
    PublicKey::from_secp(&SecretKey::from_slice(&sk).unwrap().public_key(&Secp256k1::signing_only()))
}

fn odd_unknown(above: u64) -> impl Strategy<Value = Vec<TlvRecord>> {
    proptest::collection::btree_map(0u64..1000, proptest::collection::vec(any::<u8>(), 0..8), 0..3).prop_map(move |m| {
        m.into_iter().map(|(k, value)| TlvRecord { typ: (above | 1) + 2 + 2 * k, value }).collect()
    })
}

fn path() -> impl Strategy<Value = BlindedMessagePath> {
    (any::<bool>(), any::<u64>(), 1u8..20, proptest::collection::vec((1u8..30, proptest::collection::vec(any::<u8>(), 0..40)), 1..4))
        .prop_map(|(by_id, scid, blind, hops)| {
            let intro = if by_id {
                IntroductionNode::NodeId(point(blind + 1))
            } else {
                IntroductionNode::DirectedScid { direction: if scid % 2 == 0 { Direction::NodeOne } else { Direction::NodeTwo }, scid }
            };
            let hops = hops.into_iter().map(|(k, p)| BlindedHop { blinded_node_id: point(k), encrypted_payload: p }).collect();
            BlindedMessagePath::new(intro, point(blind), hops).unwrap()
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (proptest::collection::vec(0u16..300, 0..6), proptest::option::of(proptest::collection::vec(any::<[u8; 32]>(), 0..3)), odd_unknown(3))
            .prop_map(|(bits, networks, unknown)| {
                let features = Features::from_bits(bits);
                Message::Init(Init { globalfeatures: Features::from_wire(vec![]), features, networks, remote_addr: None, unknown })
            }),
        (any::<[u8; 32]>(), any::<u64>(), any::<u64>(), any::<u32>(), any::<u8>(), proptest::option::of(1u8..9), proptest::option::of(any::<u64>()), any::<bool>(), odd_unknown(75537))
            .prop_map(|(chan, id, amt, cltv, fill, blind, fee, hold, unknown)| {
                Message::UpdateAddHtlc(UpdateAddHtlc {
                    channel_id: chan,
                    id: HtlcId(id),
                    amount: Msat(amt),
                    payment_hash: PaymentHash(chan),
                    cltv_expiry: BlockHeight(cltv),
                    onion_routing_packet: OnionPacket::new([fill; 1366]),
                    blinding_point: blind.map(point),
                    skimmed_fee: fee.map(Msat),
                    hold_htlc: hold,
                    unknown,
                })
            }),
        (any::<[u8; 32]>(), proptest::collection::vec((any::<u64>(), path()), 0..3), odd_unknown(75537)).prop_map(|(chan, paths, unknown)| {
            Message::RevokeAndAck(RevokeAndAck {
                channel_id: chan,
                per_commitment_secret: chan,
                next_per_commitment_point: point(3),
                release_htlc_message_paths: paths.into_iter().map(|(i, p)| (HtlcId(i), p)).collect(),
                unknown,
            })
        }),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip(m in message()) {
        let bytes = m.encode();
        let back = decode(&bytes).unwrap();
        prop_assert_eq!(back.encode(), bytes);
        prop_assert_eq!(back, m);
    }

    #[test]
    fn onion_payloads_round_trip(reply in proptest::option::of(path()), data in proptest::collection::vec(any::<u8>(), 0..60),
                                 release in any::<bool>(), inner in odd_unknown(0), outer in odd_unknown(74)) {
        let kind = if release { AsyncKind::ReleaseHeldHtlc } else { AsyncKind::HeldHtlcAvailable };
        // Odd records above 64 would be a second message record: keep the outer ones below.
        let outer: Vec<TlvRecord> = outer.into_iter().map(|r| TlvRecord { typ: r.typ % 60 / 2 * 2 + 5, value: r.value }).collect();
        let mut outer = outer;
        outer.sort_by_key(|r| r.typ);
        outer.dedup_by_key(|r| r.typ);
        let p = OnionMessagePayload { reply_path: reply, encrypted_recipient_data: data, message: AsyncMessage { kind, unknown: inner }, unknown: outer };
        let mut bytes = Vec::new();
        p.encode(&mut bytes);
        let back = OnionMessagePayload::decode(&bytes).unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(m) = decode(&bytes) {
            // What decodes re-encodes to something that decodes to the same value.
            prop_assert_eq!(decode(&m.encode()).unwrap(), m);
        }
        if let Ok(p) = OnionMessagePayload::decode(&bytes) {
            let mut again = Vec::new();
            p.encode(&mut again);
            prop_assert_eq!(OnionMessagePayload::decode(&again).unwrap(), p);
        }
    }
}

// ---- LSP_a -------------------------------------------------------------------------------------

fn pid(i: u8) -> Pid {
    Pid::from_bytes([i; 32])
}
fn hash(i: u8) -> PaymentHash {
    Preimage::from_bytes([i; 32]).payment_hash()
}

fn lsp_a_event(profile: Profile) -> impl Strategy<Value = LspAEvent> {
    let _ = profile;
    prop_oneof![
        any::<bool>().prop_map(|online| LspAEvent::APeer { online }),
        (0u8..3, proptest::collection::vec(0u8..3, 0..3), any::<bool>()).prop_map(|(p, hs, direct)| LspAEvent::BlockRequest {
            pid: pid(p),
            hashes: hs.into_iter().map(hash).collect(),
            direct_from_a: direct,
        }),
        (0u64..6, 0u8..3, 100u32..400, 0u32..60, any::<bool>()).prop_map(|(h, p, cltv, delta, hold)| LspAEvent::HtlcAdded {
            htlc: HtlcId(h),
            payment_hash: hash(p),
            amount: Msat(1000),
            cltv_expiry: BlockHeight(cltv),
            outgoing_cltv: BlockHeight(cltv.saturating_sub(delta)),
            hold_htlc: hold,
        }),
        (0u8..4).prop_map(|p| LspAEvent::Unblock { payment_unblock: pid(p) }),
        (0u64..6, any::<bool>()).prop_map(|(h, authenticated)| LspAEvent::ReleaseHeldHtlc { context: HtlcId(h), authenticated }),
        Just(LspAEvent::OnionMessageForA),
        (100u32..420).prop_map(|h| LspAEvent::Block { height: BlockHeight(h) }),
        (0u64..6, 0u8..3).prop_map(|(h, p)| LspAEvent::DownstreamFulfilled { htlc: HtlcId(h), preimage: Preimage::from_bytes([p; 32]) }),
        (0u64..6).prop_map(|h| LspAEvent::DownstreamFailed { htlc: HtlcId(h) }),
    ]
}

fn lsp_a_config(profile: Profile, incoming: bool, max_held: u32, advertises_hold: bool) -> LspAConfig {
    let fail_back = if incoming {
        FailBackRule::new(FailBackReference::IncomingExpiry, BlockDelta(12)).unwrap()
    } else {
        FailBackRule::LDK
    };
    LspAConfig { profile, fail_back, max_held, advertises_hold }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// LNROD-01's properties 1 and 2. A held HTLC leaves the held set only by a
    /// release that a valid unblock caused, or by a fail-back; none is held at
    /// or past its fail-back height; every fail-back height is below the expiry.
    #[test]
    fn lsp_a_releases_only_on_a_valid_unblock_and_never_holds_past_the_fail_back_height(
        ldk in any::<bool>(), incoming in any::<bool>(), max_held in 1u32..4, advertises in any::<bool>(),
        events in proptest::collection::vec(lsp_a_event(Profile::Ldk), 1..40),
    ) {
        let profile = if ldk { Profile::Ldk } else { Profile::LightningRod };
        let mut m = LspA::new(lsp_a_config(profile, incoming, max_held, advertises), BlockHeight(100), true);
        // The pids of block requests LSP_a took and has not released, with the hashes they list.
        let mut open_requests: Vec<(Pid, Vec<PaymentHash>)> = Vec::new();
        for e in events {
            let before = m.clone();
            let held_before = before.held();
            match m.handle(e.clone()) {
                Err(_) => prop_assert_eq!(&m, &before, "a caller bug changed the state"),
                Ok(actions) => {
                    for a in &actions {
                        if let LspAAction::Release { htlc } = a {
                            let was = held_before.iter().find(|h| h.htlc == *htlc);
                            prop_assert!(was.is_some(), "released {htlc:?}, which was not held");
                            match &e {
                                LspAEvent::ReleaseHeldHtlc { context, authenticated } => {
                                    prop_assert!(ldk && *authenticated && context == htlc);
                                }
                                LspAEvent::Unblock { payment_unblock } => {
                                    let was = was.unwrap();
                                    prop_assert!(!ldk);
                                    prop_assert!(open_requests.iter().any(|(p, hs)| p == payment_unblock && hs.contains(&was.payment_hash)));
                                }
                                other => prop_assert!(false, "release on {other:?}"),
                            }
                        }
                    }
                    // Track which block requests LSP_a took (no "ignored" answer) and released.
                    match &e {
                        LspAEvent::BlockRequest { pid, hashes, .. } if !ldk && actions.is_empty() => {
                            open_requests.push((pid.clone(), hashes.clone()));
                        }
                        LspAEvent::Unblock { payment_unblock }
                            if !actions.iter().any(|a| matches!(a, LspAAction::UnblockIgnored { .. })) =>
                        {
                            open_requests.retain(|(p, _)| p != payment_unblock);
                        }
                        _ => {}
                    }
                    // An HTLC held before and not held now was released or failed back by this event.
                    for h in &held_before {
                        if !m.held().iter().any(|x| x.htlc == h.htlc) {
                            let accounted = actions.iter().any(|a| matches!(a,
                                LspAAction::Release { htlc } | LspAAction::FailBack { htlc, .. } if *htlc == h.htlc));
                            prop_assert!(accounted, "{:?} left the held set silently", h);
                        }
                    }
                }
            }
            for h in m.held() {
                prop_assert!(h.fail_back_height > m.height(), "{h:?} held at height {:?}", m.height());
                prop_assert!(h.fail_back_height < h.cltv_expiry, "{h:?}");
            }
            prop_assert!(m.held().len() <= max_held as usize);
        }
    }
}

// ---- A and B -----------------------------------------------------------------------------------

proptest! {
    /// Property 3: A counts a payment paid only on a preimage of its hash.
    #[test]
    fn a_is_paid_only_by_the_preimage(preimages in proptest::collection::vec(0u8..4, 1..6), fail_first in any::<bool>()) {
        let mut a = Payer::new(Profile::LightningRod);
        let h = hash(1);
        a.handle(PayerEvent::Pay { payment_hash: h, parts: vec![(HtlcId(0), Msat(1)), (HtlcId(1), Msat(1))], pid: Some(pid(9)) }).unwrap();
        if fail_first {
            a.handle(PayerEvent::HtlcFailed { htlc: HtlcId(0) }).unwrap();
        }
        for p in preimages {
            let out = a.handle(PayerEvent::HtlcFulfilled { htlc: HtlcId(1), preimage: Preimage::from_bytes([p; 32]) }).unwrap();
            for act in out {
                if let PayerAction::Paid { preimage, .. } = act {
                    prop_assert_eq!(preimage.payment_hash(), h);
                }
            }
            prop_assert_eq!(a.is_paid(&h), p == 1 || a.is_paid(&h));
        }
    }

    /// B fulfils a payment only once its parts reach the invoice amount, and
    /// never fails a part it fulfilled.
    #[test]
    fn b_settles_only_complete_payments(parts in proptest::collection::vec((1u64..600, 0u64..100), 1..6), ticks in proptest::collection::vec(0u64..200, 0..4)) {
        let mut b = Payee::new(PayeeConfig { profile: Profile::LightningRod, mpp_timeout: Seconds(60) }, true);
        b.handle(PayeeEvent::InvoiceCreated { amount: Msat(1000), preimage: Preimage::from_bytes([1; 32]) }).unwrap();
        let amounts: Vec<u64> = parts.iter().map(|(a, _)| *a).collect();
        let mut fulfilled = std::collections::BTreeSet::new();
        let mut failed = std::collections::BTreeSet::new();
        let mut events: Vec<PayeeEvent> = parts.iter().enumerate().map(|(i, (amt, at))| PayeeEvent::HtlcArrived {
            htlc: HtlcId(i as u64), payment_hash: hash(1), amount: Msat(*amt), at: Seconds(*at),
        }).collect();
        events.extend(ticks.into_iter().map(|t| PayeeEvent::Tick { now: Seconds(t) }));
        for e in events {
            for act in b.handle(e).unwrap() {
                match act {
                    PayeeAction::Fulfil { htlcs, .. } => {
                        if fulfilled.is_empty() {
                            let total: u64 = htlcs.iter().map(|h| amounts[h.0 as usize]).sum();
                            prop_assert!(total >= 1000, "settled {total} of 1000");
                        }
                        fulfilled.extend(htlcs);
                    }
                    PayeeAction::Fail { htlcs, .. } => failed.extend(htlcs),
                    _ => {}
                }
            }
        }
        prop_assert!(fulfilled.is_disjoint(&failed));
    }
}

#[test]
fn lsp_b_keeps_at_most_its_limit_and_delivers_in_order() {
    let mut b = LspB::new(LspBConfig { mailbox_limit: 2 }, false);
    for i in 0..4 {
        b.handle(LspBEvent::OnionMessageForB { msg: MessageRef(i) }).unwrap();
    }
    assert_eq!(b.kept(), &[MessageRef(0), MessageRef(1)]);
    let out = b.handle(LspBEvent::BPeer { online: true }).unwrap();
    assert_eq!(out, vec![LspBAction::ForwardToB { msg: MessageRef(0) }, LspBAction::ForwardToB { msg: MessageRef(1) }]);
    assert!(b.kept().is_empty());
}

#[test]
fn a_ldk_payment_tells_b_once_per_path_and_may_go_offline_once() {
    let mut a = Payer::new(Profile::Ldk);
    a.handle(PayerEvent::LspInit { features: Features::from_bits([153]) }).unwrap();
    a.handle(PayerEvent::Pay { payment_hash: hash(1), parts: vec![(HtlcId(0), Msat(5))], pid: None }).unwrap();
    let first = a.handle(PayerEvent::ReleasePath { htlc: HtlcId(0), path: PathRef(1) }).unwrap();
    let second = a.handle(PayerEvent::ReleasePath { htlc: HtlcId(0), path: PathRef(2) }).unwrap();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(second, vec![PayerAction::SendHeldHtlcAvailable { htlc: HtlcId(0), reply_path: PathRef(2) }]);
}
