//! `session_engine`: the sans-IO peerswap engine
//! (`reference/src/peerswap/session`) driven by a script of events, with its
//! invariants checked after every step.
//!
//! The node under test is peer 0 in a small world: peers 1-3 and the leader 4,
//! two sidepools, three payment hashes, channels from a few presets. The input
//! is a script of byte-coded ops (an opcode byte, then parameter bytes; a
//! short input reads as zeros). Most ops play the other nodes *honestly* from
//! what the engine said so far (answer the init it sent, pay the HTLCs its
//! `peerswap_lightning` asks for, create the outputs it requested), so
//! sessions get all the way to success; parameters and a `tamper` byte let
//! the fuzzer bend every value, and `Raw` feeds any message at all.
//!
//! Checked after every step, from the actions alone:
//! 1. never two `peerswap_init` to one peer in a swap party (until the party
//!    of the first one completes or its sidepool is removed);
//! 2. never fulfil an incoming HTLC unless the peer's committed HTLCs of that
//!    hash reach what the in-Lightning HTLCs total at the script's revision
//!    (the first byte's bit 1: upstream-50799b4, else seed; for the init sent
//!    to that peer and a tax given in an expansion outcome of its pool) — for a forwarder, when it
//!    pays upstream; never fulfil an HTLC that is not there (gone, failed,
//!    fulfilled already, never committed);
//! 3. never forward without a persisted record: a forwarded init after a
//!    `Forward` record for that next hop, an own init after its `SentInit`,
//!    an accept after `HtlcDetails` (or, forwarded as-is, a `Forward` record),
//!    HTLCs paid to the upstream of a forward after `ForwardedHtlcs`;
//! 4. never a private key in clear: no sent message (encoded) and no action's
//!    Debug text holds the bytes of any private key the caller's keys hold
//!    (the SIDEPOOL-06 handover sends the ephemeral key XOR-encrypted), and a
//!    `peerswap_success` the engine originates decrypts, with the receiver's
//!    ephemeral key, to the engine's own ephemeral key of that hop; an own
//!    init or accept carries the ephemeral key of its hop (the peer it goes
//!    to), so no two peerswaps share one (SIDEPOOL-06, ERRATA E-95).
//!
//! Plus the engine's own `debug_assert!`s (on in fuzz builds).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use arbitrary::{Arbitrary, Unstructured};
use sidepool_reference::htlc::handover;
use sidepool_reference::htlc::{EncryptionSecretKey, EphemeralSecretKey};
use sidepool_reference::messages::{Message, SwapPartyBegin};
use sidepool_reference::peerswap::balance::{Capacity, Channel, ChannelState};
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::forward::ForwardRecord;
use sidepool_reference::peerswap::lightning_htlcs::{in_lightning_amount, HtlcRef, HtlcRules, ObservedHtlc};
use sidepool_reference::SpecRevision;
use sidepool_reference::peerswap::messages::{
    ChannelView, EncryptedPrivkey, HtlcPubkeys, PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject,
    PeerswapSuccess, RejectCode, Timeouts,
};
use sidepool_reference::peerswap::resolution::PeerswapRef;
use sidepool_reference::peerswap::session::{
    Action, EngineConfig, Event, HtlcDetails, OutputKey, PeerswapEngine, PoolView, Record, Role, SessionKeys,
};
use sidepool_reference::pool::TaxInputs;
use sidepool_reference::units::{
    BlockDelta, BlockHeight, Hops, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter,
};

type P = u8;
const ME: P = 0;
const LEADER: P = 4;
const START_HEIGHT: u32 = 800_000;
const START_TIME: u64 = 1000;
/// At most this many ops run (longer inputs are cut).
const MAX_OPS: usize = 96;

fn pool_id(i: u8) -> PoolId {
    PoolId([0x01 + i % 2; 16])
}
fn hash_of(i: u8) -> PaymentHash {
    PaymentHash([0x07 + i % 3; 32])
}
/// Peers 1..=4 (the leader too).
fn peer_of(i: u8) -> P {
    1 + i % 4
}

/// A valid secp256k1 scalar, distinct per (tag, who, swap) and not guessable
/// by the fuzzer from the swap's bytes (so a peer's message cannot carry one
/// by chance): the top byte 1 keeps it non-zero and below the curve order,
/// the rest is SipHash output (std's `DefaultHasher::new()`, fixed keys).
fn scalar(tag: u8, who: u8, id: PoolId, hash: PaymentHash) -> [u8; 32] {
    use std::hash::{Hash, Hasher};
    let mut k = [0u8; 32];
    k[0] = 1;
    for (i, chunk) in k[1..].chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (tag, who, id.0, hash.0, i).hash(&mut h);
        let bytes = h.finish().to_be_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    k
}

/// Every private key in the world: the node's (through [`FuzzKeys`]) and the
/// other nodes' (which the script plays), cached by (tag, who, swap).
#[derive(Default)]
struct KeyRing {
    ephemeral: BTreeMap<(u8, PoolId, PaymentHash), EphemeralSecretKey>,
    encryption: BTreeMap<(u8, PoolId, PaymentHash), EncryptionSecretKey>,
}

impl KeyRing {
    fn ephemeral(&mut self, who: u8, id: PoolId, hash: PaymentHash) -> EphemeralSecretKey {
        thread_local! {
            // Across runs: deriving the public key is the costly part, and keys are deterministic.
            static CACHE: RefCell<BTreeMap<[u8; 32], EphemeralSecretKey>> = Default::default();
        }
        self.ephemeral
            .entry((who, id, hash))
            .or_insert_with(|| {
                let k = scalar(1, who, id, hash);
                CACHE.with(|c| {
                    c.borrow_mut()
                        .entry(k)
                        .or_insert_with(|| EphemeralSecretKey::from_bytes(&k).unwrap_or_else(|_| panic!("scalar")))
                        .clone()
                })
            })
            .clone()
    }
    fn encryption(&mut self, who: u8, id: PoolId, hash: PaymentHash) -> EncryptionSecretKey {
        thread_local! {
            static CACHE: RefCell<BTreeMap<[u8; 32], EncryptionSecretKey>> = Default::default();
        }
        self.encryption
            .entry((who, id, hash))
            .or_insert_with(|| {
                let k = scalar(2, who, id, hash);
                CACHE.with(|c| {
                    c.borrow_mut()
                        .entry(k)
                        .or_insert_with(|| EncryptionSecretKey::from_bytes(&k).unwrap_or_else(|_| panic!("scalar")))
                        .clone()
                })
            })
            .clone()
    }
    /// The persistent key of `who` (one per node).
    fn persistent(&mut self, who: u8) -> EphemeralSecretKey {
        self.ephemeral(0x80 | who, PoolId([0; 16]), PaymentHash([0; 32]))
    }
    fn pubkeys(&mut self, who: u8, id: PoolId, hash: PaymentHash) -> HtlcPubkeys {
        HtlcPubkeys { ephemeral: self.ephemeral(who, id, hash).public_key(), persistent: self.persistent(who).public_key() }
    }
    /// The ephemeral private key of whichever node owns `public` for this swap.
    fn secret_behind(&mut self, public: &PublicKey, id: PoolId, hash: PaymentHash) -> Option<EphemeralSecretKey> {
        (0..=LEADER).map(|who| self.ephemeral(who, id, hash)).find(|k| k.public_key() == *public)
    }
    /// The node's own secrets handed out so far (what must never be sent).
    fn node_secrets(&self) -> Vec<[u8; 32]> {
        let own_eph = self.ephemeral.iter().filter(|((w, _, _), _)| is_node_hop(*w) || *w == 0x80 | ME);
        let own_enc = self.encryption.iter().filter(|((w, _, _), _)| is_node_hop(*w));
        own_eph.map(|(_, k)| *k.expose_secret()).chain(own_enc.map(|(_, k)| *k.expose_secret())).collect()
    }
}

/// The output key the node's caller "computes": opaque to the engine, so any
/// injective function of the swap and amount will do, and the script can
/// compute it too.
fn output_key(id: PoolId, hash: PaymentHash, amount: Sat) -> OutputKey {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(&id.0);
    k[16..24].copy_from_slice(&hash.0[..8]);
    k[24..].copy_from_slice(&amount.0.to_be_bytes());
    OutputKey(k)
}

/// The key owner for the node's keys on its hop with `peer`: every hop gets
/// its own ephemeral key, as SIDEPOOL-06 wants (ERRATA E-95).
fn node_hop(peer: P) -> u8 {
    0x40 | peer
}
fn is_node_hop(who: u8) -> bool {
    who & 0xc0 == 0x40
}

/// The node's [`SessionKeys`]: real SIDEPOOL-06 keys and handover.
struct FuzzKeys {
    ring: Rc<RefCell<KeyRing>>,
}

impl SessionKeys<P> for FuzzKeys {
    fn htlc_pubkeys(&self, swap: PeerswapRef, peer: &P) -> HtlcPubkeys {
        let mut ring = self.ring.borrow_mut();
        let ephemeral = ring.ephemeral(node_hop(*peer), swap.id, swap.hash).public_key();
        HtlcPubkeys { ephemeral, persistent: ring.persistent(ME).public_key() }
    }
    fn encrypted_ephemeral_privkey(&self, swap: PeerswapRef, peer: &P, to: &PublicKey) -> Result<EncryptedPrivkey, String> {
        let mut ring = self.ring.borrow_mut();
        let own = ring.ephemeral(node_hop(*peer), swap.id, swap.hash);
        let enc = ring.encryption(node_hop(*peer), swap.id, swap.hash);
        handover::encrypt(own, to, &enc).map(|t| t.value).map_err(|e| e.to_string())
    }
    fn htlc_output_key(&self, details: &HtlcDetails<P>) -> OutputKey {
        output_key(details.id, details.hash, details.amount)
    }
    fn lightning_fields(&self, swap: PeerswapRef, _peer: &P, to_hop: Role) -> (Option<PaymentSecret>, Option<Vec<u8>>) {
        let tag = match to_hop {
            Role::UltimateOfferrer => 0x51,
            Role::Forwarder => 0x52,
            Role::UltimateAcceptor => 0x53,
        };
        (Some(PaymentSecret([tag ^ swap.hash.0[0]; 32])), (tag == 0x52).then(|| vec![tag, swap.id.0[0]]))
    }
}

fn channel(preset: u8, raw: [u8; 3]) -> Channel {
    let m = |x: u64| Msat(x * 1_000_000);
    let (ours, theirs, state) = match preset % 6 {
        0 => (80, 20, ChannelState::Normal),
        1 => (20, 80, ChannelState::Normal),
        2 => (50, 50, ChannelState::Normal),
        3 => (80, 20, ChannelState::ShuttingDown),
        4 => (5, 95, ChannelState::Normal),
        _ => {
            let ours = u64::from(raw[0] % 101);
            (ours, 100 - ours, if raw[1] & 1 == 0 { ChannelState::Normal } else { ChannelState::Errored })
        }
    };
    let max_htlc = if preset % 6 == 5 { m(1 + u64::from(raw[2] % 40)) } else { m(10) };
    Channel {
        state,
        capacity: Capacity::Msat(m(100)),
        ours: m(ours),
        theirs: m(theirs),
        pending_htlcs: Msat::ZERO,
        our_reserve: m(1),
        htlc_maximum_from_peer: max_htlc,
        htlc_maximum_ours: max_htlc,
    }
}

/// One incoming HTLC as the script added it.
struct InHtlc {
    peer: P,
    id: u64,
    htlc: ObservedHtlc,
    committed: bool,
    gone: bool,
    failed: bool,
    fulfilled: bool,
}

/// What a run reached (for the seeds' own test).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub inits_sent: usize,
    pub accepts_sent: usize,
    pub fulfilled: usize,
    pub successes_sent: usize,
    pub claims: usize,
    pub htlcs_added: usize,
}

struct World {
    engine: PeerswapEngine<P, FuzzKeys>,
    /// The revision the engine follows (what the in-Lightning HTLCs total).
    revision: SpecRevision,
    /// The same ring the engine's keys use.
    ring: Rc<RefCell<KeyRing>>,
    height: u32,
    now: u64,
    channels: BTreeMap<P, Channel>,
    pools: BTreeMap<PoolId, PoolView<P>>,
    // What was said, for the honest ops.
    sent_inits: Vec<(P, PeerswapInit)>,
    received_inits: Vec<(P, PeerswapInit)>,
    sent_lightning: Vec<(P, PeerswapLightning)>,
    accepts_sent: Vec<(P, PeerswapAccept)>,
    /// The acceptor keys of the offers the node recorded (HtlcDetails, role ultimate offerrer).
    offerrer_details: BTreeMap<(P, PoolId, PaymentHash), HtlcPubkeys>,
    requested_outputs: Vec<(PoolId, OutputKey, Sat)>,
    added: Vec<HtlcRef>,
    incoming: Vec<InHtlc>,
    next_in_id: u64,
    taxes: BTreeMap<PoolId, Vec<TaxInputs>>,
    // Invariant state.
    inits_in_party: Vec<(P, PoolId)>,
    live_forwards: Vec<ForwardRecord<P>>,
    /// (downstream peer, hash) a forwarder has paid upstream for.
    paid_upstream: Vec<(P, PaymentHash)>,
    reached: Reached,
}

/// The bytes of the script, read front to back as zeros once used up.
struct Script<'a>(Unstructured<'a>);

impl Script<'_> {
    fn byte(&mut self) -> u8 {
        u8::arbitrary(&mut self.0).unwrap_or(0)
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
}

pub fn session_engine(data: &[u8]) {
    let _ = run(data);
}

/// Runs a script; returns how far the sessions got.
pub fn run(data: &[u8]) -> Reached {
    let mut s = Script(Unstructured::new(data));
    // The first byte: bit 0 forward or not, bit 1 the revision (seed or upstream).
    let first = s.byte();
    let forward = first & 1 == 1;
    let revision = if first & 2 == 2 { SpecRevision::Upstream50799b4 } else { SpecRevision::Seed };
    let mut w = World::new(forward, revision);
    let mut ops = 0;
    while !s.0.is_empty() && ops < MAX_OPS {
        ops += 1;
        let op = s.byte();
        if let Some(event) = w.event_for(op, &mut s) {
            w.step(event);
        }
    }
    w.reached
}

impl World {
    fn new(forward: bool, revision: SpecRevision) -> World {
        let config = EngineConfig { me: ME, forward, cltv_delta: BlockDelta(40), final_cltv_delta: BlockDelta(18), revision, choices: Default::default() };
        let ring = Rc::new(RefCell::new(KeyRing::default()));
        let keys = FuzzKeys { ring: Rc::clone(&ring) };
        let engine = PeerswapEngine::new(config, keys, BlockHeight(START_HEIGHT), Timestamp(START_TIME));
        let mut w = World {
            engine,
            revision,
            ring,
            height: START_HEIGHT,
            now: START_TIME,
            channels: BTreeMap::new(),
            pools: BTreeMap::new(),
            sent_inits: Vec::new(),
            received_inits: Vec::new(),
            sent_lightning: Vec::new(),
            accepts_sent: Vec::new(),
            offerrer_details: BTreeMap::new(),
            requested_outputs: Vec::new(),
            added: Vec::new(),
            incoming: Vec::new(),
            next_in_id: 0,
            taxes: BTreeMap::new(),
            inits_in_party: Vec::new(),
            live_forwards: Vec::new(),
            paid_upstream: Vec::new(),
            reached: Reached::default(),
        };
        let counter = UpdateCounter::new(5).unwrap_or_else(|| panic!("5 fits 11 bits"));
        w.step(Event::PoolUpdated(PoolView {
            id: pool_id(0),
            participants: vec![1, ME, 2, 3, LEADER],
            leader: LEADER,
            update_counter: counter,
        }));
        // Peer 1 may offer to us (we hold 80 %), we may offer to 2 and 3 (we hold 20 %).
        for (peer, preset) in [(1, 0), (2, 1), (3, 1), (LEADER, 2)] {
            w.step(Event::ChannelsUpdated { peer, channels: vec![channel(preset, [0; 3])], supports_feature: true });
        }
        w
    }

    fn keys(&self) -> std::cell::RefMut<'_, KeyRing> {
        self.ring.borrow_mut()
    }

    /// The op's event, or `None` when it has nothing to act on yet.
    fn event_for(&mut self, op: u8, s: &mut Script) -> Option<Event<P>> {
        Some(match op % 20 {
            0 => {
                let pool = pool_id(s.byte());
                let members = s.byte();
                let leader = peer_of(s.byte());
                let counter = UpdateCounter::new(5 + u16::from(s.byte() % 3))?;
                let mut participants: Vec<P> = (1..=LEADER).filter(|p| members & (1u8 << *p) != 0).collect();
                if members & 1 == 0 {
                    participants.push(ME);
                }
                Event::PoolUpdated(PoolView { id: pool, participants, leader, update_counter: counter })
            }
            1 => Event::PoolRemoved { pool: pool_id(s.byte()) },
            2 => {
                let peer = peer_of(s.byte());
                let preset = s.byte();
                let raw = [s.byte(), s.byte(), s.byte()];
                let supports_feature = s.byte() % 8 != 0;
                Event::ChannelsUpdated { peer, channels: vec![channel(preset, raw)], supports_feature }
            }
            3 => Event::BlockHeight(BlockHeight(START_HEIGHT + u32::from(s.byte()))),
            4 => Event::SwapPartyBegun { pool: pool_id(s.byte()), at: Timestamp(self.now + u64::from(s.byte())) },
            5 => Event::ContractionDone { pool: pool_id(s.byte()) },
            6 => Event::TimePassed { now: Timestamp(self.now + u64::from(s.byte()) * 2) },
            7 => {
                let peer = peer_of(s.byte());
                let pool = pool_id(s.byte());
                let hash = hash_of(s.byte());
                let a = s.u16();
                let amount = (a != 0).then(|| Sat(u64::from(a) * 10));
                Event::OfferNow { peer, pool, hash, amount, hops_random: s.byte() }
            }
            8 => self.peer_init(s)?,
            9 => {
                // Accept an init the node sent, with the acceptor's real keys (or another's).
                let (to, init) = pick(&self.sent_inits, s.byte())?.clone();
                let tamper = s.byte();
                let who = if tamper % 8 == 7 { peer_of(tamper >> 3) } else { to };
                let pubkeys = self.keys().pubkeys(who, init.id, init.hash);
                let hash = if tamper % 8 == 6 { hash_of(tamper >> 3) } else { init.hash };
                let accept = PeerswapAccept { id: init.id, hash, pubkeys, unknown: Vec::new() };
                Event::Received { from: to, msg: Message::PeerswapAccept(accept) }
            }
            10 => {
                let (to, init) = pick(&self.sent_inits, s.byte())?.clone();
                let code = RejectCode(s.u16() % 8);
                let reject = PeerswapReject {
                    id: init.id,
                    hash: init.hash,
                    reason_code: code,
                    reason_text: None,
                    channel_view: ChannelView::default(),
                    unknown: Vec::new(),
                };
                Event::Received { from: to, msg: Message::PeerswapReject(reject) }
            }
            11 => {
                // peerswap_lightning from a node that sent us an init.
                let (from, init) = pick(&self.received_inits, s.byte())?.clone();
                let secret = s.byte();
                let lightning = PeerswapLightning {
                    id: init.id,
                    hash: init.hash,
                    payment_secret: (secret != 0).then_some(PaymentSecret([secret; 32])),
                    payment_metadata: (secret & 0x80 != 0).then(|| vec![secret; usize::from(secret & 7)]),
                    unknown: Vec::new(),
                };
                Event::Received { from, msg: Message::PeerswapLightning(lightning) }
            }
            12 => {
                // peerswap_success from a node that sent us an init: its ephemeral key,
                // handed over to the acceptor keys the node answered with.
                let (from, init) = pick(&self.received_inits, s.byte())?.clone();
                let tamper = s.byte();
                let to = self
                    .accepts_sent
                    .iter()
                    .rev()
                    .find(|(p, a)| *p == from && a.id == init.id && a.hash == init.hash)
                    .map(|(_, a)| a.pubkeys.ephemeral)?;
                let mut keys = self.keys();
                let own = keys.ephemeral(from, init.id, init.hash);
                let enc = keys.encryption(from, init.id, init.hash);
                drop(keys);
                let mut value = handover::encrypt(own, &to, &enc).ok()?.value;
                if tamper != 0 {
                    value.encrypted_key[usize::from(tamper % 32)] ^= tamper;
                }
                let success = PeerswapSuccess { id: init.id, hash: init.hash, ephemeral_privkey: value, unknown: Vec::new() };
                Event::Received { from, msg: Message::PeerswapSuccess(success) }
            }
            13 => {
                // The expansion outcome of a pool: the outputs the swaps of that pool
                // need (a mask picks which), one amount possibly off, and a tax.
                let pool = pool_id(s.byte());
                let include = s.u16();
                let off = s.byte();
                let fees = Sat(u64::from(s.u16() % 9000));
                let output_count = 1 + u32::from(s.byte() % 16);
                let mut wanted: Vec<(OutputKey, Sat)> = self
                    .sent_inits
                    .iter()
                    .chain(&self.received_inits)
                    .filter(|(_, i)| i.id == pool)
                    .map(|(_, i)| (output_key(i.id, i.hash, i.amount), i.amount))
                    .chain(self.requested_outputs.iter().filter(|(p, _, _)| *p == pool).map(|(_, k, a)| (*k, *a)))
                    .collect();
                wanted.sort();
                wanted.dedup();
                let mut outputs: Vec<(OutputKey, Sat)> =
                    wanted.into_iter().enumerate().filter(|(i, _)| include & (1 << (i % 16)) == 0).map(|(_, o)| o).collect();
                if let Some(o) = outputs.get_mut(usize::from(off % 8)) {
                    if off & 0x80 != 0 {
                        o.1 = Sat(o.1 .0.saturating_add(u64::from(off & 3) + 1));
                    }
                }
                let tax = TaxInputs { total_offchain_fees: fees, output_count };
                Event::ExpansionOutcome { pool, outputs, tax }
            }
            14 => self.incoming_htlc(s)?,
            15 => {
                // Commit one of the added HTLCs (as the channel would, once).
                let i = usize::from(s.byte()) % self.incoming.len().max(1);
                let h = self.incoming.get(i).filter(|h| !h.committed && !h.gone && !h.failed && !h.fulfilled)?;
                Event::IncomingHtlcCommitted { peer: h.peer, id: h.id }
            }
            16 => {
                let i = usize::from(s.byte()) % self.incoming.len().max(1);
                let h = self.incoming.get(i).filter(|h| !h.gone && !h.failed && !h.fulfilled)?;
                Event::IncomingHtlcGone { peer: h.peer, id: h.id }
            }
            17 => {
                let htlc = *pick(&self.added, s.byte())?;
                match s.byte() % 4 {
                    0 => Event::OutgoingHtlcFulfilled { htlc },
                    1 => Event::OutgoingHtlcFailed { htlc },
                    2 => Event::OutgoingHtlcRemovalCommitted { htlc },
                    _ => Event::OutgoingHtlcAddFailed { htlc },
                }
            }
            18 => {
                // swap_party_begin as a message, from the leader or anyone.
                let from = peer_of(s.byte());
                let begin = SwapPartyBegin { id: pool_id(s.byte()), irregular_authorization: None, unknown: Vec::new() };
                Event::Received { from, msg: Message::SwapPartyBegin(begin) }
            }
            _ => {
                // Any message at all, from any peer.
                let from = peer_of(s.byte());
                let len = usize::from(s.byte());
                let mut bytes = Vec::with_capacity(len);
                for _ in 0..len {
                    bytes.push(s.byte());
                }
                let mut msg = Message::arbitrary_take_rest(Unstructured::new(&bytes)).ok()?;
                msg.make_encodable();
                Event::Received { from, msg }
            }
        })
    }

    /// A `peerswap_init` from a peer: by default the valid one for the world's
    /// numbers (half of the 60 % imbalance, timeouts height + 4033 / + 18,
    /// the pool's counter, the sender's real keys); parameters bend each field.
    fn peer_init(&mut self, s: &mut Script) -> Option<Event<P>> {
        let from = peer_of(s.byte());
        let id = pool_id(s.byte());
        let hash = hash_of(s.byte());
        let amount_sel = s.byte();
        let hops = s.byte();
        let slack = s.byte();
        let counter_sel = s.byte();
        let amount = match amount_sel % 8 {
            0..=3 => Sat(30_000),
            4 => Sat(u64::from(amount_sel) * 100),
            5 => Sat(u64::from(amount_sel) * 1000),
            6 => Sat(15_000),
            _ => Sat(u64::from(amount_sel)),
        };
        let sidepool = self.height + 4033 - u32::from(slack % 4 == 3) * u32::from(slack >> 2);
        let lightning = self.height + 18 + if slack % 4 == 2 { u32::from(slack >> 2) } else { 0 };
        let counter = self.pools.get(&id).map_or(5, |v| v.update_counter.get());
        let counter = if counter_sel % 8 == 7 { u16::from(counter_sel >> 3) } else { counter };
        let ch = self.channels.get(&from).cloned().unwrap_or_else(|| channel(0, [0; 3]));
        let view = ChannelView { owned_by_offerrer: ch.theirs, owned_by_acceptor: ch.ours, total_capacity: Msat(100_000_000) };
        let pubkeys = self.keys().pubkeys(from, id, hash);
        let init = PeerswapInit {
            id,
            pubkeys,
            timeouts: Timeouts { sidepool: BlockHeight(sidepool), lightning: BlockHeight(lightning) },
            hash,
            hops: Hops(if hops % 4 == 3 { hops >> 2 } else { 5 }),
            amount,
            channel_view: if counter_sel & 0x40 != 0 { ChannelView::default() } else { view },
            update_counter: UpdateCounter::new(counter & 0x7ff)?,
            unknown: Vec::new(),
        };
        self.received_inits.push((from, init.clone()));
        Some(Event::Received { from, msg: Message::PeerswapInit(init) })
    }

    /// An incoming HTLC: by default the honest part of a payment the node asked
    /// for (the fields its `peerswap_lightning` and init fix, an amount that is
    /// a share of the agreed-upon amount); `tamper` bends one field.
    fn incoming_htlc(&mut self, s: &mut Script) -> Option<Event<P>> {
        let (peer, lightning) = pick(&self.sent_lightning, s.byte())?.clone();
        let parts = 1 + u64::from(s.byte() % 4);
        let tamper = s.byte();
        let dup = s.byte() % 16 == 15;
        let init = self
            .sent_inits
            .iter()
            .rev()
            .find(|(p, i)| *p == peer && i.id == lightning.id && i.hash == lightning.hash)?
            .1
            .clone();
        let max = self.channels.get(&peer).map_or(Msat::ZERO, |c| c.htlc_maximum_from_peer);
        let rules = HtlcRules::for_hop(&init, &lightning, max);
        let fees = self.taxes.get(&lightning.id).and_then(|t| t.last().copied());
        let agreed = fees
            .and_then(|t| in_lightning_amount(self.revision, init.amount, t).ok())
            .unwrap_or(Msat(init.amount.0.saturating_mul(1000)));
        let mut htlc = rules.build(Msat(agreed.0.div_ceil(parts)));
        match tamper % 16 {
            1 => htlc.cltv_expiry = BlockHeight(htlc.cltv_expiry.0.saturating_sub(1)),
            2 => htlc.onion.payment_secret = None,
            3 => htlc.onion.short_channel_id = Some(u64::from(tamper)),
            4 => htlc.amount_msat = Msat(htlc.amount_msat.0.saturating_add(u64::from(tamper))),
            5 => htlc.onion.amt_to_forward = Msat(htlc.onion.amt_to_forward.0.saturating_sub(1)),
            6 => htlc.payment_hash = hash_of(tamper >> 4),
            7 => htlc.onion.payment_metadata = Some(vec![tamper]),
            8 => htlc.amount_msat = Msat(u64::from(tamper) * 1_000_000),
            _ => {}
        }
        let id = match (dup, self.incoming.last()) {
            (true, Some(last)) if last.peer == peer && last.htlc == htlc => last.id,
            _ => {
                self.next_in_id += 1;
                self.next_in_id
            }
        };
        if !self.incoming.iter().any(|h| h.peer == peer && h.id == id) {
            let rec = InHtlc { peer, id, htlc: htlc.clone(), committed: false, gone: false, failed: false, fulfilled: false };
            self.incoming.push(rec);
        }
        Some(Event::IncomingHtlcAdded { peer, id, htlc })
    }

    /// Feeds one event, records what happened and checks the invariants.
    fn step(&mut self, event: Event<P>) {
        self.before(&event);
        let actions = self.engine.handle(event.clone());
        if trace() {
            // For triage: SESSION_ENGINE_TRACE=1 <binary> <crash input>.
            eprintln!("EVENT {event:?}");
            for a in &actions {
                eprintln!("   -> {a:?}");
            }
        }
        self.check_and_record(&event, &actions);
    }

    fn before(&mut self, event: &Event<P>) {
        match event {
            Event::PoolUpdated(v) => {
                self.pools.insert(v.id, v.clone());
            }
            Event::PoolRemoved { pool } | Event::ContractionDone { pool } => {
                // The swap party of `pool` is over (or the pool is gone): its inits no longer count.
                self.inits_in_party.retain(|(_, p)| p != pool);
                if matches!(event, Event::PoolRemoved { .. }) {
                    self.pools.remove(pool);
                }
            }
            Event::ChannelsUpdated { peer, channels, .. } => {
                if let Some(c) = channels.first() {
                    self.channels.insert(*peer, *c);
                }
            }
            Event::BlockHeight(h) => self.height = h.0,
            Event::TimePassed { now } | Event::SwapPartyBegun { at: now, .. } => self.now = self.now.max(now.0),
            Event::ExpansionOutcome { pool, tax, .. } => self.taxes.entry(*pool).or_default().push(*tax),
            Event::IncomingHtlcCommitted { peer, id } => {
                if let Some(h) = self.incoming.iter_mut().find(|h| h.peer == *peer && h.id == *id) {
                    h.committed = true;
                }
            }
            Event::IncomingHtlcGone { peer, id } => {
                if let Some(h) = self.incoming.iter_mut().find(|h| h.peer == *peer && h.id == *id) {
                    h.gone = true;
                }
            }
            _ => {}
        }
    }

    fn check_and_record(&mut self, event: &Event<P>, actions: &[Action<P>]) {
        let secrets = self.keys().node_secrets();
        for action in actions {
            self.check_no_secret(action, &secrets);
            match action {
                Action::PersistRecord(Record::Forward(r)) => {
                    self.live_forwards.retain(|f| (f.id, f.hash) != (r.id, r.hash));
                    self.live_forwards.push(r.clone());
                }
                Action::PersistRecord(Record::ForwardedHtlcs { hash, from, .. }) => {
                    self.assert_full_amount_held(*from, *hash, "paid upstream for");
                    self.paid_upstream.push((*from, *hash));
                }
                Action::PersistRecord(Record::HtlcDetails(d)) if d.role == Role::UltimateOfferrer => {
                    self.offerrer_details.insert((d.peer, d.id, d.hash), d.acceptor_pubkeys);
                }
                Action::DeleteRecord { id, hash } => self.live_forwards.retain(|f| (f.id, f.hash) != (*id, *hash)),
                Action::RequestExpansionOutput { id, output_key, amount, .. } => {
                    self.requested_outputs.push((*id, *output_key, *amount));
                }
                Action::Send { to, msg } => self.check_send(event, actions, action, *to, msg),
                Action::AddHtlc { to, htlc, fields, .. } => {
                    // Invariant 3: an acceptor pays on peerswap_lightning (or the expansion
                    // outcome it waited for); HTLCs added on anything else are a forwarder
                    // paying upstream, after its ForwardedHtlcs record.
                    let pays_own = matches!(
                        event,
                        Event::Received { msg: Message::PeerswapLightning(_), .. } | Event::ExpansionOutcome { .. }
                    );
                    if !pays_own {
                        let recorded = persisted_before(actions, action, |r| {
                            matches!(r, Record::ForwardedHtlcs { hash, to: t, .. } if *hash == fields.payment_hash && t == to)
                        });
                        assert!(recorded, "HTLC forwarded upstream to {to} without a persisted ForwardedHtlcs record");
                    }
                    self.added.push(*htlc);
                    self.reached.htlcs_added += 1;
                }
                Action::FulfilHtlc { peer, id } => self.check_fulfil(*peer, *id),
                Action::FailHtlc { peer, id } => {
                    if let Some(h) = self.incoming.iter_mut().find(|h| h.peer == *peer && h.id == *id) {
                        h.failed = true;
                    }
                }
                Action::ClaimInSidepool { .. } => self.reached.claims += 1,
                _ => {}
            }
        }
    }

    /// Invariants 1, 3 (inits and accepts) and 4 (handover) on one sent message.
    fn check_send(&mut self, event: &Event<P>, actions: &[Action<P>], action: &Action<P>, to: P, msg: &Message) {
        match msg {
            Message::PeerswapInit(init) => {
                assert!(
                    !self.inits_in_party.iter().any(|(p, _)| *p == to),
                    "a second peerswap_init to peer {to} in one swap party"
                );
                self.inits_in_party.push((to, init.id));
                if matches!(event, Event::OfferNow { .. }) {
                    let recorded = persisted_before(actions, action, |r| {
                        matches!(r, Record::SentInit { to: t, init: i } if *t == to && i == init)
                    });
                    assert!(recorded, "an own peerswap_init sent before its SentInit record");
                    self.assert_hop_key(to, init.id, init.hash, &init.pubkeys.ephemeral, "peerswap_init");
                } else {
                    let recorded = self
                        .live_forwards
                        .iter()
                        .any(|f| f.id == init.id && f.hash == init.hash && f.downstream == to && f.upstream != to);
                    assert!(recorded, "peerswap_init forwarded to {to} without a persisted Forward record");
                }
                self.sent_inits.push((to, init.clone()));
                self.reached.inits_sent += 1;
            }
            Message::PeerswapAccept(accept) => {
                let own = persisted_before(actions, action, |r| {
                    matches!(r, Record::HtlcDetails(d) if d.id == accept.id && d.hash == accept.hash && d.role == Role::UltimateAcceptor)
                });
                let forwarded = self
                    .live_forwards
                    .iter()
                    .any(|f| f.id == accept.id && f.hash == accept.hash && f.upstream == to);
                assert!(own || forwarded, "peerswap_accept to {to} without HtlcDetails or a Forward record");
                if own {
                    self.assert_hop_key(to, accept.id, accept.hash, &accept.pubkeys.ephemeral, "peerswap_accept");
                }
                self.accepts_sent.push((to, accept.clone()));
                self.reached.accepts_sent += 1;
            }
            Message::PeerswapLightning(l) => self.sent_lightning.push((to, l.clone())),
            Message::PeerswapSuccess(success) => {
                self.reached.successes_sent += 1;
                if let Event::Received { msg: Message::PeerswapSuccess(got), .. } = event {
                    // A forwarder passes it on as it came.
                    assert_eq!(got, success, "peerswap_success not forwarded as-is");
                    return;
                }
                // Originated here: it must decrypt, with the ephemeral key of the accept the
                // node took (its HtlcDetails record), to the node's own ephemeral key of this
                // swap (SIDEPOOL-06).
                let Some(acceptor) = self.offerrer_details.get(&(to, success.id, success.hash)).copied() else {
                    panic!("peerswap_success sent for a swap the node never recorded as its own offer")
                };
                let mut keys = self.keys();
                let Some(receiver) = keys.secret_behind(&acceptor.ephemeral, success.id, success.hash) else {
                    return;
                };
                let own = keys.ephemeral(node_hop(to), success.id, success.hash);
                let got = handover::decrypt(&success.ephemeral_privkey, &receiver, &own.public_key());
                assert!(got.is_ok_and(|k| k == own), "the handed-over key does not decrypt to the node's own");
            }
            _ => {}
        }
    }

    /// Invariant 4: the node's own ephemeral key in an init or accept to `to`
    /// is the one for that hop, never another hop's (SIDEPOOL-06: keys are not reused).
    fn assert_hop_key(&self, to: P, id: PoolId, hash: PaymentHash, sent: &PublicKey, what: &str) {
        let hop = self.keys().ephemeral(node_hop(to), id, hash).public_key();
        assert_eq!(*sent, hop, "{what} to {to} carries an ephemeral key that is not this hop's");
    }

    /// Invariant 2. A forwarder decides when it pays upstream (its
    /// `ForwardedHtlcs` record): the full amount must be held then, and its
    /// later fulfil (once upstream is fulfilled) may only name HTLCs still
    /// there. Anyone else decides when it fulfils: the full amount held now.
    fn check_fulfil(&mut self, peer: P, id: u64) {
        let Some(h) = self.incoming.iter().find(|h| h.peer == peer && h.id == id) else {
            panic!("fulfilled HTLC {id} of peer {peer} that was never added")
        };
        assert!(h.committed && !h.gone && !h.failed && !h.fulfilled, "fulfilled an HTLC not held: {id}");
        let hash = h.htlc.payment_hash;
        if !self.paid_upstream.contains(&(peer, hash)) {
            self.assert_full_amount_held(peer, hash, "fulfilled");
        }
        if let Some(h) = self.incoming.iter_mut().find(|h| h.peer == peer && h.id == id) {
            h.fulfilled = true;
        }
        self.reached.fulfilled += 1;
    }

    /// The committed, live HTLCs of `hash` from `peer` reach the agreed-upon
    /// amount of the init the node sent to `peer` under a tax its pool's
    /// expansion outcome gave (the smallest, so never a false alarm).
    fn assert_full_amount_held(&self, peer: P, hash: PaymentHash, what: &str) {
        let held: u64 = self
            .incoming
            .iter()
            .filter(|x| x.peer == peer && x.htlc.payment_hash == hash && x.committed && !x.gone && !x.failed)
            .map(|x| x.htlc.amount_msat.0)
            .sum();
        let agreed = self
            .sent_inits
            .iter()
            .filter(|(p, i)| *p == peer && i.hash == hash)
            .flat_map(|(_, i)| {
                let taxes = self.taxes.get(&i.id).cloned().unwrap_or_default();
                let revision = self.revision;
                taxes.into_iter().filter_map(move |t| in_lightning_amount(revision, i.amount, t).ok())
            })
            .min();
        let Some(agreed) = agreed else { panic!("{what} HTLCs of peer {peer} with no agreed-upon amount") };
        assert!(held >= agreed.0, "{what} with {held} msat held, below the agreed {} msat", agreed.0);
    }

    /// Invariant 4: no private key of the node in a sent message or in any action's text.
    fn check_no_secret(&self, action: &Action<P>, secrets: &[[u8; 32]]) {
        if let Action::Send { msg, .. } = action {
            let bytes = msg.encode();
            for k in secrets {
                assert!(!bytes.windows(32).any(|w| w == k), "a private key sent in clear in {}", msg.name());
            }
        }
        let text = format!("{action:?}");
        for k in secrets {
            let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!text.contains(&hex), "a private key in the Debug text of an action");
        }
    }
}

/// Whether a record matching `is` is persisted among `actions` before `action`.
fn persisted_before<P>(actions: &[Action<P>], action: &Action<P>, is: impl Fn(&Record<P>) -> bool) -> bool
where
    P: PartialEq,
{
    actions
        .iter()
        .take_while(|a| !std::ptr::eq(*a, action))
        .any(|a| matches!(a, Action::PersistRecord(r) if is(r)))
}

fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SESSION_ENGINE_TRACE").is_some())
}

fn pick<T>(items: &[T], selector: u8) -> Option<&T> {
    (!items.is_empty()).then(|| items.get(usize::from(selector) % items.len())).flatten()
}

/// Hand-written scripts that take a swap to its end in each role: the seed
/// corpus of this target (committed under `fuzz/seeds/session_engine/`; a
/// test in `conformance/tests/fuzz_regressions.rs` keeps the files equal to
/// these and checks how far each gets).
pub fn seed_scripts() -> Vec<(&'static str, Vec<u8>)> {
    // Ops: see `World::event_for`. Peer i is `peer_of(i)` = i + 1.
    const PARTY: [u8; 3] = [4, 0, 0];
    // 4000 sat of fees over 8 outputs: 30000 sat -> 29500 sat agreed.
    const EXPANSION: [u8; 8] = [13, 0, 0, 0, 0, 0x0f, 0xa0, 7];
    let three_parts_committed = [14, 0, 2, 0, 0, 14, 0, 2, 0, 0, 14, 0, 2, 0, 0, 15, 0, 15, 1, 15, 2];
    let cat = |parts: &[&[u8]]| parts.concat();
    vec![
        (
            // Offer to peer 2, accepted, output created, three HTLCs held, success and fulfil.
            "offerrer_happy_path",
            cat(&[&[0], &PARTY, &[7, 1, 0, 0, 0, 0, 0], &[9, 0, 0], &EXPANSION, &three_parts_committed]),
        ),
        (
            // peer 1's init accepted, output validated, paid in three parts, claim on success.
            "acceptor_happy_path",
            cat(&[&[0], &PARTY, &[8, 0, 0, 0, 0, 0, 0, 0], &EXPANSION, &[11, 0, 0xaa], &[17, 0, 0], &[12, 0, 0]]),
        ),
        (
            // peer 1's init forwarded to peer 2 and back, HTLCs downstream then upstream, success passed on.
            "forwarder_happy_path",
            cat(&[
                &[1],
                &PARTY,
                &[8, 0, 0, 0, 0, 0, 0, 0],
                &[9, 0, 0],
                &EXPANSION,
                &[11, 0, 0xaa],
                &three_parts_committed,
                &[17, 0, 0, 17, 1, 0, 17, 2, 0, 17, 3, 0],
                &[12, 0, 0],
            ]),
        ),
        (
            // An init before swap_party_begin is deferred, then resumed by the leader's message.
            "deferred_then_resumed",
            cat(&[&[0], &[8, 0, 0, 0, 0, 0, 0, 0], &[6, 30], &[18, 3, 0], &EXPANSION, &[11, 0, 0xaa]]),
        ),
        (
            // The 60-second hold runs out after one part; a second offer after the contraction.
            "offerrer_hold_timeout",
            cat(&[
                &[0],
                &PARTY,
                &[7, 1, 0, 0, 0, 0, 0],
                &[9, 0, 0],
                &EXPANSION,
                &[14, 0, 2, 0, 0, 15, 0],
                &[6, 40],
                &[14, 0, 2, 0, 0],
                &[5, 0],
                &PARTY,
                &[7, 1, 0, 1, 0, 0, 0],
            ]),
        ),
    ]
}
