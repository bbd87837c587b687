//! Scenario tests: engines wired to each other by a harness that passes
//! messages and simulates the in-Lightning HTLCs; proptests that drive them
//! with arbitrary event sequences and check the invariants on the action stream.

use std::collections::{BTreeMap, VecDeque};

use bitcoin::secp256k1::{Secp256k1, SecretKey};

use super::*;
use crate::messages::{Message, SwapPartyBegin};
use crate::peerswap::balance::{Capacity, Channel, ChannelState};
use crate::peerswap::lightning_htlcs::HtlcRef;
use crate::peerswap::messages::{ChannelView, EncryptedPrivkey, HtlcPubkeys, PeerswapInit, RejectCode, Timeouts};
use crate::peerswap::resolution::PeerswapRef;
use crate::units::{
    BlockDelta, BlockHeight, Hops, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter,
};

pub(crate) type P = &'static str;
pub(crate) const POOL: PoolId = PoolId([1; 16]);
pub(crate) const HASH: PaymentHash = PaymentHash([7; 32]);
pub(crate) const HEIGHT: BlockHeight = BlockHeight(800_000);
pub(crate) const TAX: crate::pool::TaxInputs =
    crate::pool::TaxInputs { total_offchain_fees: Sat(4_000), output_count: 8 };

fn point(seed: u8) -> PublicKey {
    let sk = SecretKey::from_slice(&[seed; 32]).unwrap();
    PublicKey::from_secp(&sk.public_key(&Secp256k1::new()))
}

/// Test keys: the "ephemeral private key" of a node is `[seed; 32]`; its
/// handover is that XOR 0x5a (a stand-in for SIDEPOOL-06, never the raw key).
/// With `per_hop`, the seed is first XORed with the peer's name length, so
/// each hop has its own key and a test can tell which hop a key was asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TestKeys {
    pub seed: u8,
    pub per_hop: bool,
}

impl TestKeys {
    pub fn secret(&self, peer: &P) -> [u8; 32] {
        [self.hop_seed(peer); 32]
    }
    fn hop_seed(&self, peer: &P) -> u8 {
        if self.per_hop {
            self.seed ^ peer.len() as u8
        } else {
            self.seed
        }
    }
}

impl SessionKeys<P> for TestKeys {
    fn htlc_pubkeys(&self, _swap: PeerswapRef, peer: &P) -> HtlcPubkeys {
        HtlcPubkeys { ephemeral: point(self.hop_seed(peer)), persistent: point(self.seed.wrapping_add(100)) }
    }
    fn encrypted_ephemeral_privkey(&self, _swap: PeerswapRef, peer: &P, to: &PublicKey) -> Result<EncryptedPrivkey, String> {
        let mut enc = self.secret(peer);
        enc.iter_mut().for_each(|b| *b ^= 0x5a);
        Ok(EncryptedPrivkey { encrypted_key: enc, encryption_pubkey: *to })
    }
    fn htlc_output_key(&self, d: &HtlcDetails<P>) -> OutputKey {
        output_key(d)
    }
    fn lightning_fields(&self, _swap: PeerswapRef, _peer: &P, _to_hop: Role) -> (Option<PaymentSecret>, Option<Vec<u8>>) {
        (Some(PaymentSecret([!self.seed; 32])), None)
    }
}

/// A deterministic stand-in for the SIDEPOOL-06 output key: the same on every node.
pub(crate) fn output_key<Q>(d: &HtlcDetails<Q>) -> OutputKey {
    let mut k = d.hash.0;
    let (o, a) = (d.offerrer_pubkeys.ephemeral.as_bytes(), d.acceptor_pubkeys.ephemeral.as_bytes());
    for i in 0..32 {
        k[i] ^= o[i + 1] ^ a[i + 1].rotate_left(1);
    }
    k[0] ^= d.amount.0 as u8;
    OutputKey(k)
}

/// One direction of a channel, `ours`/`theirs` in msat, capacity 100,000,000 msat.
pub(crate) fn chan(ours: u64, max_htlc: u64) -> Channel {
    Channel {
        state: ChannelState::Normal,
        capacity: Capacity::Msat(Msat(100_000_000)),
        ours: Msat(ours),
        theirs: Msat(100_000_000 - ours),
        pending_htlcs: Msat(0),
        our_reserve: Msat(1_000_000),
        htlc_maximum_from_peer: Msat(max_htlc),
        htlc_maximum_ours: Msat(max_htlc),
    }
}

pub(crate) type Engine = PeerswapEngine<P, TestKeys>;

pub(crate) fn engine(me: P, seed: u8, forward: bool, participants: &[P]) -> Engine {
    engine_with(me, TestKeys { seed, per_hop: false }, forward, participants)
}

/// The scenario tests follow the seed revision (their amounts are post-tax, see [`AGREED`]);
/// [`engine_at`] picks another.
pub(crate) fn engine_with(me: P, keys: TestKeys, forward: bool, participants: &[P]) -> Engine {
    engine_at(crate::revision::SpecRevision::Seed, me, keys, forward, participants)
}

pub(crate) fn engine_at(revision: crate::revision::SpecRevision, me: P, keys: TestKeys, forward: bool, participants: &[P]) -> Engine {
    let cfg = EngineConfig { me, forward, cltv_delta: BlockDelta(40), final_cltv_delta: BlockDelta(18), revision, choices: Default::default() };
    let mut e = PeerswapEngine::new(cfg, keys, HEIGHT, crate::peerswap::constants::Timestamp(1_000));
    let view = PoolView {
        id: POOL,
        participants: participants.to_vec(),
        leader: "leader",
        update_counter: UpdateCounter::new(5).unwrap(),
    };
    e.handle(Event::PoolUpdated(view));
    e
}

pub(crate) fn link(e: &mut Engine, peer: P, ours: u64, max_htlc: u64) {
    e.handle(Event::ChannelsUpdated { peer, channels: vec![chan(ours, max_htlc)], supports_feature: true });
}

pub(crate) fn ts(t: u64) -> crate::peerswap::constants::Timestamp {
    crate::peerswap::constants::Timestamp(t)
}

/// Passes messages and simulates HTLCs between engines; every action is logged.
pub(crate) struct Net {
    pub nodes: BTreeMap<P, Engine>,
    pub queue: VecDeque<(P, Event<P>)>,
    pub log: Vec<(P, Vec<Action<P>>)>,
    pub requested: Vec<(OutputKey, Sat)>,
    /// Hold incoming HTLC commitments back (to test the hold timer).
    pub auto_commit: bool,
}

impl Net {
    pub fn new(nodes: Vec<(P, Engine)>) -> Net {
        Net {
            nodes: nodes.into_iter().collect(),
            queue: VecDeque::new(),
            log: Vec::new(),
            requested: Vec::new(),
            auto_commit: true,
        }
    }

    pub fn deliver(&mut self, node: P, event: Event<P>) -> Vec<Action<P>> {
        let Some(e) = self.nodes.get_mut(node) else { return vec![] };
        let actions = e.handle(event);
        for a in &actions {
            match a {
                Action::Send { to, msg } => {
                    self.queue.push_back((to, Event::Received { from: node, msg: msg.clone() }))
                }
                Action::AddHtlc { to, htlc, fields, .. } => {
                    self.queue
                        .push_back((to, Event::IncomingHtlcAdded { peer: node, id: htlc.0, htlc: fields.clone() }));
                    if self.auto_commit {
                        self.queue.push_back((to, Event::IncomingHtlcCommitted { peer: node, id: htlc.0 }));
                    }
                }
                Action::FulfilHtlc { peer, id } => {
                    self.queue.push_back((peer, Event::OutgoingHtlcFulfilled { htlc: HtlcRef(*id) }))
                }
                Action::FailHtlc { peer, id } => {
                    self.queue.push_back((peer, Event::OutgoingHtlcFailed { htlc: HtlcRef(*id) }));
                    self.queue.push_back((peer, Event::OutgoingHtlcRemovalCommitted { htlc: HtlcRef(*id) }));
                }
                Action::RequestExpansionOutput { output_key, amount, .. } => {
                    self.requested.push((*output_key, *amount))
                }
                _ => {}
            }
        }
        self.log.push((node, actions.clone()));
        actions
    }

    pub fn run(&mut self) {
        let mut guard = 0;
        while let Some((to, ev)) = self.queue.pop_front() {
            self.deliver(to, ev);
            guard += 1;
            assert!(guard < 10_000, "runaway");
        }
    }

    pub fn all(&mut self, event: Event<P>) {
        let names: Vec<P> = self.nodes.keys().copied().collect();
        for n in names {
            self.deliver(n, event.clone());
        }
    }

    pub fn expansion(&mut self, ok: bool) {
        let outputs = if ok { self.requested.clone() } else { vec![] };
        self.all(Event::ExpansionOutcome { pool: POOL, outputs, tax: TAX });
    }

    pub fn actions_of(&self, node: P) -> Vec<Action<P>> {
        self.log
            .iter()
            .filter(|(n, _)| *n == node)
            .flat_map(|(_, a)| a.clone())
            .filter(|a| !matches!(a, Action::Log { .. }))
            .collect()
    }

    pub fn names_of(&self, node: P) -> Vec<String> {
        self.actions_of(node)
            .iter()
            .map(|a| match a {
                Action::Send { msg, .. } => format!("send:{}", msg.name()),
                Action::PersistRecord(r) => format!("persist:{}", r.name()),
                other => other.name().to_string(),
            })
            .collect()
    }
}

pub(crate) const AGREED: Msat = Msat(29_500_000); // 30000 sat - ceil(4000/8) = 29500 sat

/// Ultimate offerrer "olive" (20 % of the channel) and acceptor "adam" (80 %).
fn pair(adam_max_htlc: u64) -> Net {
    let members = ["olive", "adam", "leader"];
    let mut o = engine("olive", 11, false, &members);
    let mut a = engine("adam", 22, false, &members);
    link(&mut o, "adam", 20_000_000, adam_max_htlc);
    link(&mut a, "olive", 80_000_000, adam_max_htlc);
    Net::new(vec![("olive", o), ("adam", a)])
}

fn offer(net: &mut Net, from: P, to: P) {
    net.deliver(from, Event::OfferNow { peer: to, pool: POOL, hash: HASH, amount: None, hops_random: 0 });
}

fn sent_msgs(actions: &[Action<P>]) -> Vec<&Message> {
    actions.iter().filter_map(|a| if let Action::Send { msg, .. } = a { Some(msg) } else { None }).collect()
}

#[test]
fn happy_path_offerrer_and_acceptor() {
    let mut net = pair(10_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    assert_eq!(
        net.names_of("olive"),
        ["persist:sent_init", "send:peerswap_init", "persist:htlc_details", "request_expansion_output"]
    );
    assert_eq!(net.names_of("adam"), ["persist:htlc_details", "send:peerswap_accept"]);
    assert_eq!(net.requested.len(), 1);
    assert_eq!(net.requested[0].1, Sat(30_000));
    net.expansion(true);
    net.run();
    // adam splits 29,500,000 msat under its 10,000,000 msat maximum: 3 parts.
    let adds: Vec<Msat> = net
        .actions_of("adam")
        .iter()
        .filter_map(|a| if let Action::AddHtlc { fields, .. } = a { Some(fields.amount_msat) } else { None })
        .collect();
    assert_eq!(adds, [Msat(9_833_334), Msat(9_833_333), Msat(9_833_333)]);
    let olive = net.actions_of("olive");
    let fulfils = olive.iter().filter(|a| matches!(a, Action::FulfilHtlc { peer: "adam", .. })).count();
    assert_eq!(fulfils, 3);
    let success = sent_msgs(&olive)
        .into_iter()
        .find_map(|m| if let Message::PeerswapSuccess(s) = m { Some(s.clone()) } else { None })
        .unwrap();
    assert_eq!(success.ephemeral_privkey.encrypted_key, [11 ^ 0x5a; 32]);
    assert_eq!(success.ephemeral_privkey.encryption_pubkey, point(22), "encrypted to the acceptor's ephemeral key");
    let claims: Vec<_> =
        net.actions_of("adam").into_iter().filter(|a| matches!(a, Action::ClaimInSidepool { .. })).collect();
    assert_eq!(claims.len(), 1);
    assert!(net.names_of("adam").ends_with(&["claim_in_sidepool".to_string()]));
}

/// The same peerswap with each node at its own revision: what adam pays, and
/// whether olive's hold completes.
fn mixed(olive_rev: crate::revision::SpecRevision, adam_rev: crate::revision::SpecRevision) -> (Vec<Msat>, Net) {
    let members = ["olive", "adam", "leader"];
    let mut o = engine_at(olive_rev, "olive", TestKeys { seed: 11, per_hop: false }, false, &members);
    let mut a = engine_at(adam_rev, "adam", TestKeys { seed: 22, per_hop: false }, false, &members);
    link(&mut o, "adam", 20_000_000, 10_000_000);
    link(&mut a, "olive", 80_000_000, 10_000_000);
    let mut net = Net::new(vec![("olive", o), ("adam", a)]);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.expansion(true);
    net.run();
    let adds = net
        .actions_of("adam")
        .iter()
        .filter_map(|a| if let Action::AddHtlc { fields, .. } = a { Some(fields.amount_msat) } else { None })
        .collect();
    (adds, net)
}

#[test]
fn the_revision_decides_what_is_paid_and_held_for() {
    use crate::revision::SpecRevision::{Seed, Upstream50799b4};
    // Upstream: the in-sidepool HTLC amount, 30,000 sat, whatever the tax inputs say.
    let (adds, net) = mixed(Upstream50799b4, Upstream50799b4);
    assert_eq!(adds, [Msat(10_000_000); 3]);
    assert!(net.names_of("olive").contains(&"send:peerswap_success".to_string()));
    // A seed acceptor pays the post-tax 29,500 sat; an upstream offerrer holds for 30,000 sat.
    let (adds, mut net) = mixed(Upstream50799b4, Seed);
    assert_eq!(adds, [Msat(9_833_334), Msat(9_833_333), Msat(9_833_333)]);
    assert!(!net.names_of("olive").contains(&"send:peerswap_success".to_string()));
    net.deliver("olive", Event::TimePassed { now: ts(1_000 + 60) });
    net.run();
    let fails = net.actions_of("olive").iter().filter(|a| matches!(a, Action::FailHtlc { peer: "adam", .. })).count();
    assert_eq!(fails, 3, "the hold times out and fails every part");
    // An upstream acceptor overpays a seed offerrer, which completes.
    let (adds, net) = mixed(Seed, Upstream50799b4);
    assert_eq!(adds, [Msat(10_000_000); 3]);
    assert!(net.names_of("olive").contains(&"send:peerswap_success".to_string()));
}

#[test]
fn lightning_before_own_expansion_outcome_waits_for_it() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    // olive learns the outcome first; adam gets peerswap_lightning before its own outcome.
    let outputs = net.requested.clone();
    net.deliver("olive", Event::ExpansionOutcome { pool: POOL, outputs: outputs.clone(), tax: TAX });
    net.run();
    assert!(!net.names_of("adam").contains(&"add_htlc".to_string()));
    net.deliver("adam", Event::ExpansionOutcome { pool: POOL, outputs, tax: TAX });
    net.run();
    assert_eq!(net.names_of("adam").iter().filter(|n| *n == "add_htlc").count(), 1);
    assert!(net.names_of("olive").contains(&"send:peerswap_success".to_string()));
}

#[test]
fn missing_output_forgets_without_aborting() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.expansion(false);
    net.run();
    for n in ["olive", "adam"] {
        let names = net.names_of(n);
        assert_eq!(names.last().map(String::as_str), Some("forget"));
        assert!(!names.contains(&"abort_sidepool".to_string()));
    }
}

#[test]
fn wrong_amount_output_forgets() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    let (k, _) = net.requested[0];
    net.all(Event::ExpansionOutcome { pool: POOL, outputs: vec![(k, Sat(29_999))], tax: TAX });
    assert_eq!(net.names_of("olive").last().map(String::as_str), Some("forget"));
}

fn reject_code(actions: &[Action<P>]) -> Option<u16> {
    sent_msgs(actions).into_iter().find_map(|m| {
        if let Message::PeerswapReject(r) = m {
            Some(r.reason_code.0)
        } else {
            None
        }
    })
}

#[test]
fn reject_code_2_when_the_sender_may_not_offer() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    // adam believes he has only 10 %: he would be the offerrer, so olive may not offer.
    net.deliver(
        "adam",
        Event::ChannelsUpdated { peer: "olive", channels: vec![chan(10_000_000, 100_000_000)], supports_feature: true },
    );
    offer(&mut net, "olive", "adam");
    net.run();
    assert_eq!(reject_code(&net.actions_of("adam")), Some(2));
    assert_eq!(net.names_of("olive").last().map(String::as_str), Some("forget"));
}

#[test]
fn reject_code_1_on_a_second_init_and_code_7_on_hops() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    let first = net
        .actions_of("olive")
        .iter()
        .find_map(|a| if let Action::Send { msg: Message::PeerswapInit(i), .. } = a { Some(i.clone()) } else { None })
        .unwrap();
    let second = PeerswapInit { hash: PaymentHash([8; 32]), ..first.clone() };
    let acts = net.deliver("adam", Event::Received { from: "olive", msg: Message::PeerswapInit(second) });
    assert_eq!(reject_code(&acts), Some(RejectCode::ALREADY_SENT.0));
    // A repeat of the accepted one is answered 1 too, without disturbing the session.
    let acts = net.deliver("adam", Event::Received { from: "olive", msg: Message::PeerswapInit(first.clone()) });
    assert_eq!(reject_code(&acts), Some(1));
    assert_eq!(net.nodes["adam"].role(POOL, HASH, &"olive"), Some(Role::UltimateAcceptor));

    let mut fresh = pair(100_000_000);
    fresh.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    let bad = PeerswapInit { hops: Hops(11), ..first };
    let acts = fresh.deliver("adam", Event::Received { from: "olive", msg: Message::PeerswapInit(bad) });
    assert_eq!(reject_code(&acts), Some(7));
}

#[test]
fn reject_carries_the_acceptors_own_view() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    let init = net
        .actions_of("olive")
        .iter()
        .find_map(|a| if let Action::Send { msg: Message::PeerswapInit(i), .. } = a { Some(i.clone()) } else { None })
        .unwrap();
    let tight = PeerswapInit {
        timeouts: Timeouts { sidepool: BlockHeight(804_000), lightning: init.timeouts.lightning },
        ..init
    };
    let acts = net.deliver("adam", Event::Received { from: "olive", msg: Message::PeerswapInit(tight) });
    let Some(Message::PeerswapReject(r)) = sent_msgs(&acts).first().copied() else { panic!("reject sent") };
    assert_eq!(r.reason_code, RejectCode::TIMEOUTS_TOO_TIGHT);
    assert_eq!(
        r.channel_view,
        ChannelView {
            owned_by_offerrer: Msat(20_000_000),
            owned_by_acceptor: Msat(80_000_000),
            total_capacity: Msat(100_000_000)
        }
    );
}

#[test]
fn deferral_then_reject_code_0_after_five_minutes() {
    let mut net = pair(100_000_000);
    net.deliver("olive", Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    assert!(net.actions_of("adam").is_empty(), "deferred, nothing sent");
    net.deliver("adam", Event::TimePassed { now: ts(1_299) });
    assert!(net.actions_of("adam").is_empty());
    let acts = net.deliver("adam", Event::TimePassed { now: ts(1_300) });
    assert_eq!(reject_code(&acts), Some(0));
    net.run();
    assert_eq!(net.names_of("olive").last().map(String::as_str), Some("forget"));
    assert_eq!(net.nodes["adam"].session_count(), 0);
}

#[test]
fn next_deadline_names_the_deferral_then_the_hold() {
    let mut net = pair(10_000_000);
    assert_eq!(net.nodes["adam"].next_deadline(), None);
    net.deliver("olive", Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    assert_eq!(net.nodes["olive"].unanswered_inits(), 1);
    net.run();
    // adam has not seen swap_party_begin: its deferral ends 5 minutes after the init came.
    assert_eq!(net.nodes["adam"].next_deadline(), Some(ts(1_300)));
    net.deliver("adam", Event::SwapPartyBegun { pool: POOL, at: ts(1_010) });
    net.run();
    assert_eq!(net.nodes["adam"].next_deadline(), None);
    assert_eq!(net.nodes["olive"].unanswered_inits(), 0, "answered (accepted)");
    net.auto_commit = false;
    net.expansion(true);
    net.run();
    let first = net
        .actions_of("adam")
        .iter()
        .find_map(|a| if let Action::AddHtlc { htlc, .. } = a { Some(htlc.0) } else { None })
        .unwrap();
    net.deliver("olive", Event::TimePassed { now: ts(2_000) });
    net.deliver("olive", Event::IncomingHtlcCommitted { peer: "adam", id: first });
    assert_eq!(net.nodes["olive"].next_deadline(), Some(ts(2_060)), "the 60-second hold");
}

#[test]
fn other_constants_change_the_offer_the_deferral_and_the_hold() {
    use crate::peerswap::constants::{Seconds, SpecConstants};
    let c = SpecConstants {
        sidepool_timeout_min_delta: BlockDelta(100),
        hold_timeout: Seconds(10),
        swap_party_begin_deferral: Seconds(30),
        ultimate_offerrer_hops: (2, 2),
        ..SpecConstants::SPEC
    };
    let mut net = pair(10_000_000);
    for e in net.nodes.values_mut() {
        *e = e.clone().with_constants(c);
        assert_eq!(e.constants(), &c);
    }
    net.deliver("olive", Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    let acts = net.deliver("olive", Event::OfferNow { peer: "adam", pool: POOL, hash: HASH, amount: None, hops_random: 0 });
    let Some(Message::PeerswapInit(init)) = sent_msgs(&acts).first().copied() else { panic!("no init: {acts:?}") };
    assert_eq!((init.timeouts.sidepool, init.hops), (BlockHeight(800_101), Hops(2)));
    net.run();
    assert_eq!(net.nodes["adam"].next_deadline(), Some(ts(1_030)), "a 30-second deferral");
    net.deliver("adam", Event::SwapPartyBegun { pool: POOL, at: ts(1_010) });
    net.run();
    net.auto_commit = false;
    net.expansion(true);
    net.run();
    let first = net
        .actions_of("adam")
        .iter()
        .find_map(|a| if let Action::AddHtlc { htlc, .. } = a { Some(htlc.0) } else { None })
        .unwrap();
    net.deliver("olive", Event::TimePassed { now: ts(2_000) });
    net.deliver("olive", Event::IncomingHtlcCommitted { peer: "adam", id: first });
    assert_eq!(net.nodes["olive"].next_deadline(), Some(ts(2_010)), "a 10-second hold");
    // The engine is a value: a clone is the same engine, and equal to it.
    let copy = net.nodes["olive"].clone();
    assert_eq!(&copy, &net.nodes["olive"]);
}

#[test]
fn deferral_then_resume_on_swap_party_begin() {
    let mut net = pair(100_000_000);
    net.deliver("olive", Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.deliver("adam", Event::TimePassed { now: ts(1_200) });
    // The leader's swap_party_begin message resumes it.
    let begin = Message::SwapPartyBegin(SwapPartyBegin { id: POOL, irregular_authorization: None, unknown: vec![] });
    let acts = net.deliver("adam", Event::Received { from: "leader", msg: begin });
    assert!(sent_msgs(&acts).iter().any(|m| matches!(m, Message::PeerswapAccept(_))));
    net.run();
    assert_eq!(net.names_of("olive").last().map(String::as_str), Some("request_expansion_output"));
}

#[test]
fn hold_times_out_after_60_seconds_and_fails_a_late_htlc() {
    let mut net = pair(10_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.auto_commit = false;
    net.expansion(true);
    net.run();
    // adam added 3 parts; olive sees them added, we commit only the first two.
    let ids: Vec<u64> = net
        .actions_of("adam")
        .iter()
        .filter_map(|a| if let Action::AddHtlc { htlc, .. } = a { Some(htlc.0) } else { None })
        .collect();
    assert_eq!(ids.len(), 3);
    net.deliver("olive", Event::TimePassed { now: ts(2_000) });
    net.deliver("olive", Event::IncomingHtlcCommitted { peer: "adam", id: ids[0] });
    net.deliver("olive", Event::IncomingHtlcCommitted { peer: "adam", id: ids[1] });
    assert!(net.deliver("olive", Event::TimePassed { now: ts(2_059) }).iter().all(|a| matches!(a, Action::Log { .. })));
    let acts = net.deliver("olive", Event::TimePassed { now: ts(2_060) });
    let failed: Vec<u64> =
        acts.iter().filter_map(|a| if let Action::FailHtlc { id, .. } = a { Some(*id) } else { None }).collect();
    assert_eq!(failed, [ids[0], ids[1]]);
    let late = net.deliver("olive", Event::IncomingHtlcCommitted { peer: "adam", id: ids[2] });
    assert_eq!(late.iter().filter(|a| matches!(a, Action::FailHtlc { .. })).count(), 1);
    assert!(!net.names_of("olive").iter().any(|n| n == "fulfil_htlc" || n == "send:peerswap_success"));
    // adam, seeing all three failed and removed, enters the fail path (logged; E-67).
    net.run();
    assert!(!net.names_of("adam").contains(&"claim_in_sidepool".to_string()));
}

#[test]
fn malformed_htlc_is_failed_at_once() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.auto_commit = false;
    net.expansion(true);
    net.run();
    let mut htlc = net
        .actions_of("adam")
        .into_iter()
        .find_map(|a| if let Action::AddHtlc { fields, .. } = a { Some(fields) } else { None })
        .unwrap();
    htlc.onion.short_channel_id = Some(42);
    let acts = net.deliver("olive", Event::IncomingHtlcAdded { peer: "adam", id: 999, htlc });
    assert!(acts.contains(&Action::FailHtlc { peer: "adam", id: 999 }));
}

/// Ultimate offerrer "olive" → forwarder "fred" → ultimate acceptor "bea".
fn chain() -> Net {
    let members = ["olive", "fred", "bea", "leader"];
    let mut o = engine("olive", 11, false, &members);
    let mut f = engine("fred", 33, true, &members);
    let mut b = engine("bea", 44, false, &members);
    link(&mut o, "fred", 20_000_000, 20_000_000);
    link(&mut f, "olive", 80_000_000, 20_000_000);
    link(&mut f, "bea", 20_000_000, 12_000_000);
    link(&mut b, "fred", 80_000_000, 12_000_000);
    Net::new(vec![("olive", o), ("fred", f), ("bea", b)])
}

#[test]
fn forwarded_happy_path_persists_before_forwarding() {
    let mut net = chain();
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "fred");
    net.run();
    let fred = net.names_of("fred");
    assert_eq!(&fred[..2], ["persist:forward", "send:peerswap_init"], "persist before forwarding");
    assert_eq!(fred[2], "send:peerswap_accept", "bea's accept forwarded as-is");
    let fwd = net
        .actions_of("fred")
        .into_iter()
        .find_map(|a| if let Action::Send { to: "bea", msg: Message::PeerswapInit(i) } = a { Some(i) } else { None })
        .unwrap();
    assert_eq!(fwd.hops, Hops(4));
    assert_eq!(fwd.timeouts.lightning, BlockHeight(800_018 + 40));
    assert_eq!(net.nodes["fred"].role(POOL, HASH, &"olive"), Some(Role::Forwarder));
    let olive_accept = net
        .log
        .iter()
        .filter(|(n, _)| *n == "bea")
        .flat_map(|(_, a)| a.clone())
        .find_map(|a| if let Action::Send { msg: Message::PeerswapAccept(m), .. } = a { Some(m) } else { None })
        .unwrap();
    assert_eq!(olive_accept.pubkeys.ephemeral, point(44));
    net.expansion(true);
    net.run();
    let fred = net.names_of("fred");
    let i = fred.iter().position(|n| n == "persist:forwarded_htlcs").expect("forwarded fact persisted");
    let first_add = fred.iter().position(|n| n == "add_htlc").unwrap();
    assert!(i < first_add, "persist before forwarding HTLCs upstream");
    // bea paid 29,500,000 msat in 3 parts (12,000,000 max); fred forwards 2 parts (20,000,000 max).
    assert_eq!(net.names_of("bea").iter().filter(|n| *n == "add_htlc").count(), 3);
    assert_eq!(fred.iter().filter(|n| *n == "add_htlc").count(), 2);
    let up: u64 = net
        .actions_of("fred")
        .iter()
        .filter_map(|a| if let Action::AddHtlc { fields, .. } = a { Some(fields.amount_msat.0) } else { None })
        .sum();
    assert_eq!(Msat(up), AGREED, "0-fee");
    assert_eq!(fred.iter().filter(|n| *n == "fulfil_htlc").count(), 3);
    assert!(fred.contains(&"send:peerswap_success".to_string()));
    let claim = net
        .actions_of("bea")
        .into_iter()
        .find_map(|a| if let Action::ClaimInSidepool { offerrer_key, .. } = a { Some(offerrer_key) } else { None })
        .unwrap();
    assert_eq!(claim.encryption_pubkey, point(44), "olive encrypted to bea's ephemeral key, forwarded as-is");
    // fred's lightning to bea is its own, not a copy of olive's.
    let l_to_bea = net
        .actions_of("fred")
        .into_iter()
        .find_map(
            |a| if let Action::Send { to: "bea", msg: Message::PeerswapLightning(l) } = a { Some(l) } else { None },
        )
        .unwrap();
    assert_eq!(l_to_bea.payment_secret, Some(PaymentSecret([!33; 32])));
}

/// [`chain`] plus "bob", a second next hop for fred, and `extra` members of
/// the pool (nodes the test adds itself); returns the pool's members.
fn chain_with_bob(extra: &[P]) -> (Net, Vec<P>) {
    let mut members = vec!["olive", "fred", "bea", "bob", "leader"];
    members.extend_from_slice(extra);
    let mut net = chain();
    let view = PoolView { id: POOL, participants: members.clone(), leader: "leader", update_counter: UpdateCounter::new(5).unwrap() };
    for name in ["olive", "fred", "bea"] {
        net.deliver(name, Event::PoolUpdated(view.clone()));
    }
    let mut bob = engine("bob", 66, false, &members);
    link(&mut bob, "fred", 80_000_000, 20_000_000);
    net.nodes.insert("bob", bob);
    link(net.nodes.get_mut("fred").unwrap(), "bob", 20_000_000, 20_000_000);
    (net, members)
}

/// ERRATA E-95: "otto" offers "fred" the pool id and hash fred is already
/// forwarding for "olive": fred accepts otto's here rather than keep two
/// forwards of one pair (it could have forwarded it to "bob").
#[test]
fn a_second_offerrer_of_a_pair_being_forwarded_is_accepted_here() {
    // bob is a next hop fred could forward otto's offer to.
    let (mut net, members) = chain_with_bob(&["otto"]);
    let mut otto = engine("otto", 55, false, &members);
    link(&mut otto, "fred", 20_000_000, 20_000_000);
    link(net.nodes.get_mut("fred").unwrap(), "otto", 80_000_000, 20_000_000);
    net.nodes.insert("otto", otto);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "fred");
    offer(&mut net, "otto", "fred");
    net.run();
    let fred = net.actions_of("fred");
    let forwards = fred.iter().filter(|a| matches!(a, Action::PersistRecord(Record::Forward(_)))).count();
    assert_eq!(forwards, 1, "only olive's offer is forwarded");
    let to_otto: Vec<&str> = fred
        .iter()
        .filter_map(|a| match a {
            Action::Send { to: "otto", msg } => Some(msg.name()),
            _ => None,
        })
        .collect();
    assert_eq!(to_otto, ["peerswap_accept"]);
    assert_eq!(net.nodes["fred"].role(POOL, HASH, &"otto"), Some(Role::UltimateAcceptor));
    assert_eq!(net.nodes["fred"].role(POOL, HASH, &"olive"), Some(Role::Forwarder));
}

/// Found by the session_engine fuzz target: fred forwarded olive's offer to
/// bea and forgot it when the expansion phase lacked the output. bea then
/// offers fred the same pool id and hash, which fred forwards to bob. bea
/// cannot answer her own offer: a `peerswap_accept` from her is ignored, not
/// matched against the forgotten `peerswap_init` fred once sent her and
/// passed on to olive.
#[test]
fn an_accept_from_the_peer_whose_offer_we_forward_is_ignored() {
    let (mut net, _) = chain_with_bob(&[]);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "fred");
    net.run();
    let forwarded = net
        .actions_of("fred")
        .into_iter()
        .find_map(|a| if let Action::Send { to: "bea", msg: Message::PeerswapInit(i) } = a { Some(i) } else { None })
        .unwrap();
    let bea_accept = net
        .actions_of("bea")
        .into_iter()
        .find_map(|a| if let Action::Send { msg: Message::PeerswapAccept(m), .. } = a { Some(m) } else { None })
        .unwrap();
    net.expansion(false);
    net.run();
    // bea now has the larger share towards fred's view, and offers fred the same pair.
    link(net.nodes.get_mut("fred").unwrap(), "bea", 80_000_000, 20_000_000);
    let fred = net.nodes.get_mut("fred").unwrap();
    let actions = fred.handle(Event::Received { from: "bea", msg: Message::PeerswapInit(forwarded) });
    assert!(sent_msgs(&actions).iter().any(|m| matches!(m, Message::PeerswapInit(_))), "forwarded to bob: {actions:?}");
    let actions = fred.handle(Event::Received { from: "bea", msg: Message::PeerswapAccept(bea_accept) });
    assert!(sent_msgs(&actions).is_empty(), "nothing goes to olive: {actions:?}");
    assert!(actions.iter().any(|a| matches!(a, Action::Log { text, .. } if text.contains("peerswap_accept ignored"))));
}

#[test]
fn next_hop_reject_deletes_the_record_then_accepts_here() {
    let mut net = chain();
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    // bea sees herself at 10 %: she rejects fred's forward with code 2.
    net.deliver(
        "bea",
        Event::ChannelsUpdated { peer: "fred", channels: vec![chan(10_000_000, 12_000_000)], supports_feature: true },
    );
    offer(&mut net, "olive", "fred");
    net.run();
    assert_eq!(reject_code(&net.actions_of("bea")), Some(2));
    let fred = net.names_of("fred");
    assert_eq!(
        fred,
        [
            "persist:forward",
            "send:peerswap_init",
            "forget",
            "delete_record",
            "persist:htlc_details",
            "send:peerswap_accept"
        ]
    );
    assert_eq!(net.nodes["fred"].role(POOL, HASH, &"olive"), Some(Role::UltimateAcceptor));
}

#[test]
fn accept_never_aborts_when_the_offer_obeyed_the_split_rule() {
    // 30,000 sat over a 750,000 msat maximum is exactly 40 HTLCs: offered, accepted, no abort.
    let mut net = pair(750_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    assert_eq!(net.names_of("olive").last().map(String::as_str), Some("request_expansion_output"));
    // One millisatoshi less needs 41: the offering rules refuse to send at all, so the
    // accept-side abort ("MUST abort the sidepool") is never reached by a conforming offerrer.
    let mut small = pair(749_999);
    small.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut small, "olive", "adam");
    assert!(small.names_of("olive").is_empty());
}

#[test]
fn one_init_per_peer_per_party() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.deliver(
        "olive",
        Event::OfferNow { peer: "adam", pool: POOL, hash: PaymentHash([9; 32]), amount: None, hops_random: 0 },
    );
    assert_eq!(net.names_of("olive"), ["persist:sent_init", "send:peerswap_init"]);
    net.all(Event::ContractionDone { pool: POOL });
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(2_000) });
    net.deliver(
        "olive",
        Event::OfferNow { peer: "adam", pool: POOL, hash: PaymentHash([9; 32]), amount: None, hops_random: 0 },
    );
    assert_eq!(net.names_of("olive").iter().filter(|n| *n == "send:peerswap_init").count(), 2);
}

/// ERRATA E-95: "alice" and "bob" both offer "carol" the same pool id and
/// hash. Carol accepts both (SIDEPOOL-10: "The receiver SHOULD accept the
/// second `peerswap_init` even if it has the same hash"), each with the
/// ephemeral key of its own hop, and both swaps complete.
#[test]
fn same_pool_id_and_hash_from_two_offerrers_gets_two_ephemeral_keys() {
    let members = ["alice", "bob", "carol", "leader"];
    let mut carol = engine_with("carol", TestKeys { seed: 33, per_hop: true }, false, &members);
    let mut nodes = vec![];
    for (name, seed) in [("alice", 11), ("bob", 12)] {
        let mut e = engine(name, seed, false, &members);
        link(&mut e, "carol", 20_000_000, 10_000_000);
        link(&mut carol, name, 80_000_000, 10_000_000);
        nodes.push((name, e));
    }
    nodes.push(("carol", carol));
    let mut net = Net::new(nodes);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "alice", "carol");
    offer(&mut net, "bob", "carol");
    net.run();
    let accepts: Vec<(P, PublicKey)> = net
        .actions_of("carol")
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, msg: Message::PeerswapAccept(m) } => Some((*to, m.pubkeys.ephemeral)),
            _ => None,
        })
        .collect();
    assert_eq!(accepts, [("alice", point(33 ^ 5)), ("bob", point(33 ^ 3))]);
    net.expansion(true);
    net.run();
    let success_keys: Vec<[u8; 32]> = ["alice", "bob"]
        .iter()
        .flat_map(|n| sent_msgs(&net.actions_of(n)).into_iter().cloned().collect::<Vec<_>>())
        .filter_map(|m| if let Message::PeerswapSuccess(s) = m { Some(s.ephemeral_privkey.encrypted_key) } else { None })
        .collect();
    assert_eq!(success_keys, [[11 ^ 0x5a; 32], [12 ^ 0x5a; 32]]);
    let claims = net.actions_of("carol").iter().filter(|a| matches!(a, Action::ClaimInSidepool { .. })).count();
    assert_eq!(claims, 2, "both peerswaps complete");
}

/// ERRATA E-95: an own offer never reuses a hash another peerswap has: the
/// one preimage would unlock both in-sidepool HTLCs.
#[test]
fn an_own_offer_never_reuses_a_hash_in_use() {
    let members = ["olive", "adam", "bea", "leader"];
    let mut o = engine("olive", 11, false, &members);
    link(&mut o, "adam", 20_000_000, 10_000_000);
    link(&mut o, "bea", 20_000_000, 10_000_000);
    o.handle(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    let first = o.handle(Event::OfferNow { peer: "adam", pool: POOL, hash: HASH, amount: None, hops_random: 0 });
    assert_eq!(sent_msgs(&first).len(), 1);
    let again = o.handle(Event::OfferNow { peer: "bea", pool: POOL, hash: HASH, amount: None, hops_random: 0 });
    assert!(sent_msgs(&again).is_empty(), "{again:?}");
    assert!(again.iter().any(|a| matches!(a, Action::Log { text, .. } if text.contains("hash_in_use"))));
    let other = o.handle(Event::OfferNow { peer: "bea", pool: POOL, hash: PaymentHash([9; 32]), amount: None, hops_random: 0 });
    assert_eq!(sent_msgs(&other).len(), 1, "another hash is offered");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Deliver(usize),
        Drop(usize),
        Time(u64),
        Begin(u8),
        Offer(u8, u8, u8),
        Expansion(bool, u8),
        Contraction,
        Commit(usize),
        Junk(u8, u8),
        RunAll,
        BeginAll,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => any::<usize>().prop_map(Op::Deliver),
            1 => any::<usize>().prop_map(Op::Drop),
            2 => (0u64..120).prop_map(Op::Time),
            1 => any::<u8>().prop_map(Op::Begin),
            2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| Op::Offer(a, b, c)),
            1 => (any::<bool>(), any::<u8>()).prop_map(|(a, b)| Op::Expansion(a, b)),
            1 => Just(Op::Contraction),
            1 => any::<usize>().prop_map(Op::Commit),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Junk(a, b)),
            2 => Just(Op::RunAll),
            1 => Just(Op::BeginAll),
        ]
    }

    const NAMES: [P; 3] = ["olive", "fred", "bea"];

    /// The invariants, checked on the action stream from outside the engine.
    #[derive(Default)]
    struct Checker {
        /// (sender, peer) pairs with an init sent in the current party.
        inits: Vec<(P, P)>,
        /// (node, pool, hash, downstream) forward records persisted.
        forwards: Vec<(P, PoolId, PaymentHash, P)>,
        /// Incoming HTLC amounts seen by (receiver, sender, id).
        incoming: BTreeMap<(P, P, u64), (PaymentHash, Msat)>,
        fulfilled: BTreeMap<(P, P, u64), ()>,
    }

    impl Checker {
        fn party_ended(&mut self) {
            self.inits.clear();
        }
        fn check(&mut self, node: P, actions: &[Action<P>], secrets: &[[u8; 32]]) -> Result<(), TestCaseError> {
            let mut fulfilled_now: BTreeMap<(P, PaymentHash), u64> = BTreeMap::new();
            for a in actions {
                match a {
                    Action::PersistRecord(Record::Forward(r)) => self.forwards.push((node, r.id, r.hash, r.downstream)),
                    Action::Send { to, msg } => {
                        let bytes = msg.encode_tlvs();
                        for s in secrets {
                            prop_assert!(!bytes.windows(32).any(|w| w == s), "a private key in clear");
                        }
                        if let Message::PeerswapInit(i) = msg {
                            prop_assert!(
                                !self.inits.contains(&(node, *to)),
                                "two peerswap_init to one peer in a party"
                            );
                            self.inits.push((node, *to));
                            if i.hops.0 < 5 {
                                // A forwarded init (the offerrer uses 5..=10 hops, forwarders one less).
                                prop_assert!(
                                    self.forwards.contains(&(node, i.id, i.hash, *to)),
                                    "forwarded init without a persisted record"
                                );
                            }
                        }
                    }
                    Action::FulfilHtlc { peer, id } => {
                        if let Some((hash, amount)) = self.incoming.get(&(node, *peer, *id)) {
                            if self.fulfilled.insert((node, *peer, *id), ()).is_none() {
                                *fulfilled_now.entry((*peer, *hash)).or_default() += amount.0;
                            }
                        }
                    }
                    _ => {}
                }
                prop_assert!(!format!("{a:?}").contains("secret_key"), "no key material in debug output");
            }
            for ((_, _), total) in fulfilled_now {
                prop_assert!(total >= AGREED.0, "fulfilled {total} below the agreed {}", AGREED.0);
            }
            Ok(())
        }
    }

    fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let mut net = chain();
        net.auto_commit = false;
        let secrets: Vec<[u8; 32]> = [11u8, 33, 44].iter().map(|s| [*s; 32]).collect();
        let mut checker = Checker::default();
        let mut now = 1_000u64;
        for op in ops {
            let before = net.log.len();
            match op {
                Op::Deliver(i) | Op::Commit(i) if !net.queue.is_empty() => {
                    let i = i % net.queue.len();
                    if let Some((to, ev)) = net.queue.remove(i) {
                        if let Event::IncomingHtlcAdded { peer, id, htlc } = &ev {
                            checker.incoming.insert((to, *peer, *id), (htlc.payment_hash, htlc.amount_msat));
                            net.queue.push_back((to, Event::IncomingHtlcCommitted { peer, id: *id }));
                        }
                        net.deliver(to, ev);
                    }
                }
                Op::RunAll => {
                    while let Some((to, ev)) = net.queue.pop_front() {
                        if let Event::IncomingHtlcAdded { peer, id, htlc } = &ev {
                            checker.incoming.insert((to, *peer, *id), (htlc.payment_hash, htlc.amount_msat));
                            net.queue.push_back((to, Event::IncomingHtlcCommitted { peer, id: *id }));
                        }
                        net.deliver(to, ev);
                    }
                }
                Op::BeginAll => net.all(Event::SwapPartyBegun { pool: POOL, at: ts(now) }),
                Op::Drop(i) if !net.queue.is_empty() => {
                    let i = i % net.queue.len();
                    // Only messages may be lost; HTLC updates are reliable.
                    if matches!(net.queue.get(i), Some((_, Event::Received { .. }))) {
                        net.queue.remove(i);
                    }
                }
                Op::Time(d) => {
                    now += d;
                    net.all(Event::TimePassed { now: ts(now) });
                }
                Op::Begin(who) => {
                    let n = NAMES[who as usize % 3];
                    net.deliver(n, Event::SwapPartyBegun { pool: POOL, at: ts(now) });
                }
                Op::Offer(from, to, h) => {
                    let (f, t) = (NAMES[from as usize % 3], NAMES[to as usize % 3]);
                    if f != t {
                        net.deliver(
                            f,
                            Event::OfferNow {
                                peer: t,
                                pool: POOL,
                                hash: PaymentHash([h % 3; 32]),
                                amount: None,
                                hops_random: h,
                            },
                        );
                    }
                }
                Op::Expansion(ok, drop) => {
                    let mut outputs = if ok { net.requested.clone() } else { vec![] };
                    if drop % 4 == 0 {
                        outputs.pop();
                    }
                    net.all(Event::ExpansionOutcome { pool: POOL, outputs, tax: TAX });
                }
                Op::Contraction => {
                    net.all(Event::ContractionDone { pool: POOL });
                    checker.party_ended();
                }
                Op::Junk(from, h) => {
                    let f = NAMES[from as usize % 3];
                    let t = NAMES[(from as usize + 1) % 3];
                    let init = PeerswapInit {
                        id: POOL,
                        pubkeys: HtlcPubkeys { ephemeral: point(99), persistent: point(98) },
                        timeouts: Timeouts { sidepool: BlockHeight(804_100), lightning: BlockHeight(800_100) },
                        hash: PaymentHash([h % 3; 32]),
                        hops: Hops(h % 12),
                        amount: Sat(10_000 + u64::from(h) * 100),
                        channel_view: ChannelView::default(),
                        update_counter: UpdateCounter::new(5).unwrap(),
                        unknown: vec![],
                    };
                    net.deliver(t, Event::Received { from: f, msg: Message::PeerswapInit(init) });
                }
                _ => {}
            }
            let new: Vec<(P, Vec<Action<P>>)> = net.log[before..].to_vec();
            for (node, actions) in new {
                checker.check(node, &actions, &secrets)?;
            }
        }
        if std::env::var("SESSION_PROP_STATS").is_ok() {
            let names: Vec<String> = NAMES.iter().flat_map(|n| net.names_of(n)).collect();
            eprintln!(
                "STATS success={} fulfil={} fwd={}",
                names.iter().any(|n| n == "send:peerswap_success"),
                names.iter().filter(|n| *n == "fulfil_htlc").count(),
                names.iter().any(|n| n == "persist:forward")
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn invariants_hold_under_arbitrary_event_sequences(
            prefix in 0usize..=5,
            ops in proptest::collection::vec(op(), 0..80),
        ) {
            // A prefix of the happy path first, so the random tail starts from every depth.
            let happy = [Op::BeginAll, Op::Offer(0, 1, 0), Op::RunAll, Op::Expansion(true, 1), Op::RunAll];
            let mut all: Vec<Op> = happy.into_iter().take(prefix).collect();
            all.extend(ops);
            run(all)?;
        }
    }
}

#[test]
fn forwarder_hold_times_out_and_forwards_nothing_upstream() {
    let mut net = chain();
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "fred");
    net.run();
    net.auto_commit = false;
    net.expansion(true);
    net.run();
    let ids: Vec<u64> = net
        .actions_of("bea")
        .iter()
        .filter_map(|a| if let Action::AddHtlc { htlc, .. } = a { Some(htlc.0) } else { None })
        .collect();
    assert_eq!(ids.len(), 3);
    net.deliver("fred", Event::IncomingHtlcCommitted { peer: "bea", id: ids[0] });
    net.deliver("fred", Event::IncomingHtlcCommitted { peer: "bea", id: ids[1] });
    let acts = net.deliver("fred", Event::TimePassed { now: ts(1_060) });
    let failed: Vec<u64> = acts
        .iter()
        .filter_map(|a| if let Action::FailHtlc { peer: "bea", id } = a { Some(*id) } else { None })
        .collect();
    assert_eq!(failed, [ids[0], ids[1]]);
    let late = net.deliver("fred", Event::IncomingHtlcCommitted { peer: "bea", id: ids[2] });
    assert!(late.contains(&Action::FailHtlc { peer: "bea", id: ids[2] }));
    // SIDEPOOL-10: "This holds for both forwarders and the ultimate offerrer."
    assert!(!net.names_of("fred").iter().any(|n| n == "add_htlc" || n == "persist:forwarded_htlcs"));
}

#[test]
fn acceptor_that_cannot_add_a_part_stops_and_waits_for_the_rest_to_fail() {
    let mut net = pair(10_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.auto_commit = false;
    net.expansion(true);
    // Deliver olive's peerswap_lightning; keep adam's HTLCs off the wire: the caller could add two only.
    while let Some((to, ev)) = net.queue.pop_front() {
        if to == "adam" {
            net.deliver(to, ev);
        }
    }
    net.queue.clear();
    let ids: Vec<HtlcRef> = net
        .actions_of("adam")
        .iter()
        .filter_map(|a| if let Action::AddHtlc { htlc, .. } = a { Some(*htlc) } else { None })
        .collect();
    assert_eq!(ids, [HtlcRef(1), HtlcRef(2), HtlcRef(3)]);
    let quiet = |acts: &[Action<P>]| {
        acts.iter().all(|a| matches!(a, Action::Log { level: LogLevel::Debug | LogLevel::Info, .. }))
    };
    assert!(quiet(&net.deliver("adam", Event::OutgoingHtlcAddFailed { htlc: ids[2] })));
    net.deliver("adam", Event::OutgoingHtlcFailed { htlc: ids[0] });
    net.deliver("adam", Event::OutgoingHtlcFailed { htlc: ids[1] });
    assert!(quiet(&net.deliver("adam", Event::OutgoingHtlcRemovalCommitted { htlc: ids[0] })));
    let last = net.deliver("adam", Event::OutgoingHtlcRemovalCommitted { htlc: ids[1] });
    assert!(
        last.iter().any(|a| matches!(a, Action::Log { level: LogLevel::Warn, text } if text.contains("fail path"))),
        "all failed and removed after stopping: the fail path"
    );
}

#[test]
fn a_repeated_htlc_report_is_not_counted_twice() {
    let mut net = pair(100_000_000);
    net.all(Event::SwapPartyBegun { pool: POOL, at: ts(1_000) });
    offer(&mut net, "olive", "adam");
    net.run();
    net.auto_commit = false;
    net.expansion(true);
    net.run();
    let fields = net
        .actions_of("adam")
        .into_iter()
        .find_map(|a| if let Action::AddHtlc { fields, .. } = a { Some(fields) } else { None })
        .unwrap();
    // Half the agreed amount, reported twice under the same id, committed twice: not enough.
    let half = ObservedHtlcExt::with_amount(&fields, Msat(AGREED.0 / 2));
    for _ in 0..2 {
        net.deliver("olive", Event::IncomingHtlcAdded { peer: "adam", id: 500, htlc: half.clone() });
        let acts = net.deliver("olive", Event::IncomingHtlcCommitted { peer: "adam", id: 500 });
        assert!(!acts.iter().any(|a| matches!(a, Action::FulfilHtlc { .. })));
    }
}

trait ObservedHtlcExt {
    fn with_amount(&self, amount: Msat) -> Self;
}

impl ObservedHtlcExt for crate::peerswap::lightning_htlcs::ObservedHtlc {
    fn with_amount(&self, amount: Msat) -> Self {
        let mut h = self.clone();
        h.amount_msat = amount;
        h.onion.amt_to_forward = amount;
        h.onion.total_msat = h.onion.payment_secret.map(|_| amount);
        h
    }
}
