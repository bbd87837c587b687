//! The reference node's protocol core: the reference's sans-IO peerswap engine
//! behind the node's network shell, with its simulated world (channels, pool,
//! block height, clock) set through the adapter.
//!
//! Adapter requests become engine events; engine actions become wire messages
//! (routed by the shell) and adapter events (HTLCs to add, fulfil or fail,
//! expansion outputs, persisted facts, forgotten peerswaps, logs).

use super::core::{CoreAction, NodeCore};
use super::defects::Defect;
use super::variants::Variant;
use super::keys::NodeKeys;
use super::restart::{self, Restored, Settle};
use super::store::{
    DownstreamHtlcState, HtlcDetails as StoreHtlcDetails, HtlcRole, KeyIndex, PeerswapRef as StoreRef, ReceivedLightningParams,
    SentInitRecord, Store, UpstreamHtlcState,
};
use sidepool_reference::peerswap::response::SentInit;
use crate::adapter::event::{self as ev, Event as AdapterEvent};
use crate::adapter::request::{self as rq, Direction, Request};
use crate::adapter::response::{AdapterError, HelloResult, IdentityResult, Response};
use crate::adapter::values::{Preimage, XOnlyKey};
use sidepool_reference::messages::SwapPartyBegin;
use sidepool_reference::peerswap::balance::{Capacity, Channel, ChannelState};
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::lightning_htlcs::{HtlcRef, ObservedHtlc, OnionFinalHop};
use sidepool_reference::peerswap::resolution::PeerswapRef;
use sidepool_reference::peerswap::session::{
    Action, EngineConfig, Event, LogLevel, OutputKey, PeerswapEngine, PoolView, Record, SessionKeys,
};
use sidepool_reference::units::{BlockDelta, BlockHeight, PaymentHash, PoolId, PublicKey};
use sidepool_reference::wire::features::{FeatureSet, PEERSWAP_IN_SIDEPOOL_FEATURE_BIT};
use sidepool_reference::Message;
use sidepool_reference::SpecRevision;
use std::collections::BTreeMap;
use std::sync::mpsc::Sender;
use std::sync::Arc;

/// The engine's keys, shared with the core (which needs the preimages).
pub struct SharedKeys(pub Arc<NodeKeys>);

impl SessionKeys<PublicKey> for SharedKeys {
    fn htlc_pubkeys(&self, swap: PeerswapRef, peer: &PublicKey) -> sidepool_reference::peerswap::messages::HtlcPubkeys {
        self.0.htlc_pubkeys(swap, peer)
    }
    fn encrypted_ephemeral_privkey(
        &self,
        swap: PeerswapRef,
        peer: &PublicKey,
        to: &PublicKey,
    ) -> Result<sidepool_reference::peerswap::messages::EncryptedPrivkey, String> {
        self.0.encrypted_ephemeral_privkey(swap, peer, to)
    }
    fn htlc_output_key(&self, details: &sidepool_reference::peerswap::session::HtlcDetails<PublicKey>) -> OutputKey {
        self.0.htlc_output_key(details)
    }
    fn lightning_fields(
        &self,
        swap: PeerswapRef,
        peer: &PublicKey,
        to_hop: sidepool_reference::peerswap::session::Role,
    ) -> (Option<sidepool_reference::units::PaymentSecret>, Option<Vec<u8>>) {
        self.0.lightning_fields(swap, peer, to_hop)
    }
}

/// The world the adapter set, kept so the engine can be rebuilt (reset,
/// settings change, restart) and replayed.
#[derive(Clone, Debug, Default)]
struct World {
    height: BlockHeight,
    now: Timestamp,
    cltv_delta: BlockDelta,
    final_cltv_delta: BlockDelta,
    pools: BTreeMap<PoolId, rq::SetPool>,
    channels: BTreeMap<PublicKey, Vec<rq::Channel>>,
}

pub struct EngineCore {
    me: PublicKey,
    listen: String,
    node_secret: [u8; 32],
    keys: Arc<NodeKeys>,
    engine: PeerswapEngine<PublicKey, SharedKeys>,
    world: World,
    ready: BTreeMap<PublicKey, bool>,
    events: Option<Sender<AdapterEvent>>,
    /// Incoming HTLCs by (peer, id): their hash and amount.
    incoming: BTreeMap<(PublicKey, u64), (PaymentHash, sidepool_reference::units::Msat)>,
    /// The persistent store (`--db`); without it the node cannot restart.
    store: Option<Store>,
    /// Forwards in flight, by hash: their pool (HTLC facts carry only the hash).
    forwards: BTreeMap<[u8; 32], PoolId>,
    /// Forwards reloaded after a restart and not settled yet.
    restored: Vec<Restored>,
    /// HTLCs the engine added: adapter id -> engine handle and payment hash.
    outgoing: BTreeMap<(PublicKey, u64), (HtlcRef, PaymentHash)>,
    /// Preimages learned from fulfilled outgoing HTLCs (a forwarder passes them downstream).
    learned: BTreeMap<[u8; 32], zeroize::Zeroizing<[u8; 32]>>,
    next_htlc_id: u64,
    /// Deterministic "randomness" for hops, advanced per offer.
    hop_counter: u8,
    /// A deliberate defect (tests of the suite only).
    defect: Option<Defect>,
    /// A conforming variant: another choice the spec allows (tests of the suite only).
    variant: Option<Variant>,
    /// Actions a defect holds back until the next event.
    held_back: Vec<Action<PublicKey>>,
    /// The last `peerswap_lightning` received (a defect copies it verbatim).
    last_lightning_received: Option<sidepool_reference::peerswap::messages::PeerswapLightning>,
    /// The revision of the texts the engine follows where they differ.
    revision: SpecRevision,
    /// Test-only: stop the process right after persisting this fact (crash tests).
    pause_after: Option<PausePoint>,
}

/// Where a crash test stops the node: right after a fact is durable, before
/// the action that depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PausePoint {
    /// After the forwarding record, before `peerswap_init` goes to the next hop.
    ForwardRecord,
    /// After the acceptor's HTLCs, before the HTLC to the offerrer is added.
    AcceptorHtlcs,
    /// After the offerrer's record of its `peerswap_init`, before the init goes out.
    SentInit,
    /// After the SIDEPOOL-06 HTLC details, before `peerswap_accept` or the expansion request.
    HtlcDetails,
}

fn default_world() -> World {
    World { cltv_delta: BlockDelta(144), final_cltv_delta: BlockDelta(144), ..World::default() }
}

fn fresh_seed() -> [u8; 32] {
    *crate::transport::PrivateKey::random_seed()
}

impl EngineCore {
    /// `node_secret` is a seed derived from the node's static key (persistent HTLC keys derive from it).
    pub fn new(me: PublicKey, listen: String, node_secret: [u8; 32]) -> EngineCore {
        let keys = Arc::new(NodeKeys::new(fresh_seed(), &node_secret));
        let world = default_world();
        let revision = SpecRevision::default();
        let engine = Self::engine_for(me, &world, &keys, revision, None);
        EngineCore {
            me,
            listen,
            node_secret,
            keys,
            engine,
            world,
            ready: BTreeMap::new(),
            events: None,
            incoming: BTreeMap::new(),
            store: None,
            forwards: BTreeMap::new(),
            restored: Vec::new(),
            outgoing: BTreeMap::new(),
            learned: BTreeMap::new(),
            next_htlc_id: 1,
            hop_counter: 0,
            defect: None,
            variant: None,
            held_back: Vec::new(),
            last_lightning_received: None,
            revision,
            pause_after: None,
        }
    }

    /// Test-only: stop (print a line, then sleep until killed) right after persisting `point`.
    pub fn pausing_after(mut self, point: Option<PausePoint>) -> EngineCore {
        self.pause_after = point;
        self
    }

    fn maybe_pause(&self, point: PausePoint) {
        if self.pause_after == Some(point) {
            use std::io::Write;
            println!("paused after {point:?}");
            let _ = std::io::stdout().flush();
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }

    /// The address the node listens on (its `identity`).
    pub fn listening_on(mut self, listen: std::net::SocketAddr) -> EngineCore {
        self.listen = listen.to_string();
        self
    }

    /// The same node with a persistent store; forwards it finds are settled per the restart rules.
    pub fn with_store(mut self, path: &std::path::Path) -> Result<EngineCore, String> {
        let store = Store::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.restored = restart::reload(&store)?;
        self.store = Some(store);
        Ok(self)
    }

    fn store_op(&mut self, what: &str, f: impl FnOnce(&mut Store) -> Result<(), super::store::StoreError>) {
        if let Some(st) = self.store.as_mut() {
            if let Err(e) = f(st) {
                self.log(ev::LogLevel::Error, format!("store: {what}: {e}"));
            }
        }
    }

    /// Carries out what the restart rules decide for every restored forward.
    fn settle_restored(&mut self) {
        let mut i = 0;
        while i < self.restored.len() {
            let decision = self.restored[i].decide(self.world.height);
            let swap = self.restored[i].swap();
            match decision {
                Settle::Wait => i += 1,
                Settle::Done => {
                    self.restored.remove(i);
                }
                Settle::Fail { peer, htlcs } => {
                    // SIDEPOOL-10: "If there is irrevocably committed no HTLC from the forwarder to the direct peerswap offerrer, the forwarder SHOULD fail the in-Lightning HTLC from the direct peerswap acceptor."
                    for id in &htlcs {
                        self.emit(AdapterEvent::HtlcFail(ev::HtlcFail { htlc_id: *id, peer, reason: Some("forward settled after restart".into()) }));
                        self.store_op("downstream failed", |st| st.set_downstream_state(swap, HtlcRef(*id), DownstreamHtlcState::Failed));
                    }
                    self.restored[i].set_downstream(&htlcs, DownstreamHtlcState::Failed);
                }
                Settle::Fulfil { peer, htlcs } => {
                    let Some(preimage) = self.learned.get(&swap.hash.0).cloned() else {
                        self.log(ev::LogLevel::Warn, "restored forward fulfilled upstream, preimage not known yet");
                        i += 1;
                        continue;
                    };
                    for id in &htlcs {
                        self.emit(AdapterEvent::HtlcFulfil(ev::HtlcFulfil { htlc_id: *id, peer, preimage: Preimage(*preimage) }));
                        self.store_op("downstream fulfilled", |st| st.set_downstream_state(swap, HtlcRef(*id), DownstreamHtlcState::Fulfilled));
                    }
                    self.restored[i].set_downstream(&htlcs, DownstreamHtlcState::Fulfilled);
                }
            }
        }
    }

    /// An upstream HTLC changed: keep the store current, and settle restored forwards.
    fn upstream_changed(&mut self, peer: PublicKey, id: u64, hash: Option<PaymentHash>, state: UpstreamHtlcState) {
        let restored = self.restored.iter().position(|r| {
            r.forward.record.upstream == peer && r.forward.lightning.upstream.iter().any(|u| u.htlc.0 == id)
        });
        let pool = hash.and_then(|h| self.forwards.get(&h.0).copied()).map(|p| (p, hash));
        let swap = match (restored, pool) {
            (Some(i), _) => Some(self.restored[i].swap()),
            (None, Some((p, Some(h)))) => Some(StoreRef { id: p, hash: h }),
            _ => None,
        };
        if let Some(swap) = swap {
            self.store_op("upstream state", |st| st.set_upstream_state(swap, HtlcRef(id), state));
        }
        if let Some(i) = restored {
            self.restored[i].set_upstream(id, state);
            self.settle_restored();
        }
    }

    /// The optional capabilities this node declares in `hello`.
    pub fn capabilities(&self) -> Vec<&'static str> {
        let mut caps = Vec::new();
        // SIDEPOOL-10: "Sidepool participants SHOULD implement forwardable peerswaps in sidepools."
        if self.forwards_peerswaps() {
            caps.push("forwarding");
        }
        if self.store.is_some() {
            caps.push("restart");
        }
        caps
    }

    /// Whether this node forwards peerswaps (a conforming variant may not).
    fn forwards_peerswaps(&self) -> bool {
        self.variant.is_none_or(Variant::forwards)
    }

    /// The same node with a deliberate defect, to prove the suite catches it.
    pub fn with_defect(mut self, defect: Option<Defect>) -> EngineCore {
        self.defect = defect;
        self
    }

    /// The same node taking another choice the spec allows, to prove the suite
    /// fails no conforming implementation.
    pub fn with_variant(mut self, variant: Option<Variant>) -> EngineCore {
        self.variant = variant;
        self.engine = Self::engine_for(self.me, &self.world, &self.keys, self.revision, variant);
        self
    }

    /// The same node following revision `revision` of the texts (default: the newest upstream one).
    pub fn with_revision(mut self, revision: SpecRevision) -> EngineCore {
        self.revision = revision;
        self.engine = Self::engine_for(self.me, &self.world, &self.keys, revision, self.variant);
        self
    }

    /// The revision of the texts the node follows.
    pub fn revision(&self) -> SpecRevision {
        self.revision
    }

    fn engine_for(me: PublicKey, world: &World, keys: &Arc<NodeKeys>, revision: SpecRevision, variant: Option<Variant>) -> PeerswapEngine<PublicKey, SharedKeys> {
        let config = EngineConfig {
            me,
            forward: variant.is_none_or(Variant::forwards),
            cltv_delta: world.cltv_delta,
            final_cltv_delta: world.final_cltv_delta,
            revision,
            choices: variant.map(Variant::choices).unwrap_or_default(),
        };
        PeerswapEngine::new(config, SharedKeys(Arc::clone(keys)), world.height, world.now)
    }

    /// Where adapter events go (the embedded link's channel, or the adapter server's).
    /// Forwards restored from the store at start-up are settled once someone listens.
    pub fn set_event_sink(&mut self, tx: Sender<AdapterEvent>) {
        self.events = Some(tx);
        self.settle_restored();
    }

    fn emit(&self, e: AdapterEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(e);
        }
    }

    fn log(&self, level: ev::LogLevel, message: impl Into<String>) {
        self.emit(AdapterEvent::Log(ev::Log { level, message: message.into() }));
    }

    /// Rebuilds the engine from the world (after reset, a settings change or a restart).
    fn rebuild(&mut self, out: &mut Vec<CoreAction>) {
        self.engine = Self::engine_for(self.me, &self.world, &self.keys, self.revision, self.variant);
        self.incoming.clear();
        self.outgoing.clear();
        self.learned.clear();
        // Replayed as events, so everything the engine sees passes the same path.
        self.feed(Event::BlockHeight(self.world.height), out);
        self.feed(Event::TimePassed { now: self.world.now }, out);
        let pools: Vec<rq::SetPool> = self.world.pools.values().cloned().collect();
        for p in pools {
            self.apply_pool(&p, out);
        }
        let peers: Vec<PublicKey> = self.world.channels.keys().copied().collect();
        for peer in peers {
            self.push_channels(peer, out);
        }
    }

    fn apply_pool(&mut self, p: &rq::SetPool, out: &mut Vec<CoreAction>) {
        let mut participants = p.participants.clone();
        if self.defect.is_some_and(Defect::everyone_participates) {
            participants.extend(self.world.channels.keys().copied());
        }
        let view = PoolView { id: p.pool_id, participants, leader: p.leader, update_counter: p.update_counter };
        self.feed(Event::PoolUpdated(view), out);
        if p.swap_party_begun || self.defect.is_some_and(Defect::forces_party_begun) {
            self.feed(Event::SwapPartyBegun { pool: p.pool_id, at: self.world.now }, out);
        }
    }

    fn push_channels(&mut self, peer: PublicKey, out: &mut Vec<CoreAction>) {
        let channels = self.world.channels.get(&peer).map(|cs| cs.iter().map(engine_channel).collect()).unwrap_or_default();
        let supports_feature = self.ready.get(&peer).copied().unwrap_or(false);
        self.feed(Event::ChannelsUpdated { peer, channels, supports_feature }, out);
    }

    /// Feeds one event to the engine and carries out its actions.
    fn feed(&mut self, event: Event<PublicKey>, out: &mut Vec<CoreAction>) {
        let Some(defect) = self.defect else {
            return self.feed_one(event, out);
        };
        // A record the defect held back goes out now, after what it should have preceded.
        for action in std::mem::take(&mut self.held_back) {
            self.carry_out(action, out);
        }
        if defect.ignores_reject(&event) {
            return;
        }
        for e in defect.before(&event) {
            self.feed_one(e, out);
        }
        let after = defect.after(&event);
        self.feed_one(event, out);
        for e in after {
            self.feed_one(e, out);
        }
    }

    fn feed_one(&mut self, event: Event<PublicKey>, out: &mut Vec<CoreAction>) {
        let event = match self.defect {
            Some(d) => d.event(event),
            None => event,
        };
        let event = match self.variant {
            Some(v) => v.event(event),
            None => event,
        };
        if let (Some(Defect::CopyLightningVerbatim), Event::Received { msg: Message::PeerswapLightning(l), .. }) = (self.defect, &event) {
            self.last_lightning_received = Some(l.clone());
        }
        let mut actions = self.engine.handle(event);
        if let Some(d) = self.defect {
            actions = d.batch(actions);
        }
        for action in actions {
            let action = match self.variant {
                Some(v) => v.action(action),
                None => action,
            };
            let action = match self.defect {
                Some(d) => d.action(action),
                None => Some(action),
            };
            match (self.defect, action) {
                (Some(Defect::PersistAfterForward), Some(a @ Action::PersistRecord(Record::Forward(_)))) => self.held_back.push(a),
                (Some(Defect::CopyLightningVerbatim), Some(Action::Send { to, msg: Message::PeerswapLightning(own) })) => {
                    let msg = match &self.last_lightning_received {
                        Some(l) if l.hash == own.hash => l.clone(),
                        _ => own,
                    };
                    self.carry_out(Action::Send { to, msg: Message::PeerswapLightning(msg) }, out);
                }
                (_, Some(action)) => self.carry_out(action, out),
                (_, None) => {}
            }
        }
    }

    fn carry_out(&mut self, action: Action<PublicKey>, out: &mut Vec<CoreAction>) {
        match action {
            Action::Send { to, msg } => out.push(CoreAction::Send { peer: to, message: Box::new(msg) }),
            Action::PersistRecord(record) => {
                // The store (when configured) writes the fact durably here, before the
                // next action (the message that depends on it) is carried out.
                match &record {
                    Record::Forward(r) => {
                        self.forwards.insert(r.hash.0, r.id);
                        let r = r.clone();
                        self.store_op("forward record", |st| st.put_forward_record(&r));
                        self.maybe_pause(PausePoint::ForwardRecord);
                    }
                    Record::SentInit { to, init } => {
                        let htlc_maximum_from_peer = self
                            .world
                            .channels
                            .get(to)
                            .and_then(|cs| cs.iter().filter(|c| c.state == rq::ChannelState::Normal).map(|c| c.htlc_maximum_msat).min())
                            .unwrap_or(sidepool_reference::units::Msat::ZERO);
                        let rec = SentInitRecord {
                            sent: SentInit { to: *to, id: init.id, hash: init.hash, amount: init.amount, htlc_maximum_from_peer, upstream: None },
                            update_counter: init.update_counter,
                            timeouts: init.timeouts,
                            pubkeys: init.pubkeys,
                        };
                        self.store_op("sent init", |st| st.record_sent_init(&rec));
                        self.maybe_pause(PausePoint::SentInit);
                    }
                    Record::HtlcDetails(d) => {
                        let details = StoreHtlcDetails {
                            swap: StoreRef { id: d.id, hash: d.hash },
                            peer: Some(d.peer),
                            role: if d.role == sidepool_reference::peerswap::session::Role::UltimateOfferrer { HtlcRole::Offerrer } else { HtlcRole::Acceptor },
                            offerrer: d.offerrer_pubkeys,
                            acceptor: d.acceptor_pubkeys,
                            timeout: d.timeouts.sidepool,
                            internal_key: None,
                            // Our persistent HTLC keys derive from the node key and (pool id, hash):
                            // the swap itself is the derivation path, so there is no separate index.
                            own_persistent_key: KeyIndex(0),
                        };
                        self.store_op("HTLC details", |st| st.put_htlc_details(&details));
                        self.maybe_pause(PausePoint::HtlcDetails);
                    }
                    Record::Lightning { id, hash, sent: false, payment_secret, payment_metadata, .. } => {
                        let p = ReceivedLightningParams {
                            swap: StoreRef { id: *id, hash: *hash },
                            payment_secret: *payment_secret,
                            payment_metadata: payment_metadata.clone(),
                        };
                        self.store_op("peerswap_lightning parameters", |st| st.put_lightning_params(&p));
                    }
                    Record::ForwardedHtlcs { id, hash, from, .. } => {
                        let htlcs: Vec<(HtlcRef, sidepool_reference::units::Msat)> = self
                            .incoming
                            .iter()
                            .filter(|((p, _), (h, _))| p == from && h == hash)
                            .map(|((_, i), (_, a))| (HtlcRef(*i), *a))
                            .collect();
                        let swap = StoreRef { id: *id, hash: *hash };
                        self.store_op("acceptor's HTLCs", |st| st.record_downstream_htlcs(swap, &htlcs));
                        self.maybe_pause(PausePoint::AcceptorHtlcs);
                    }
                    _ => {}
                }
                let reported = match &record {
                    Record::Forward(r) => Some((ev::PersistedWhat::ForwardRecord, r.id, r.hash)),
                    Record::SentInit { init, .. } => Some((ev::PersistedWhat::SentInit, init.id, init.hash)),
                    Record::HtlcDetails(d) => Some((ev::PersistedWhat::HtlcDetails, d.id, d.hash)),
                    // What the adapter reports is the received secret and metadata, the
                    // forwarder's MUST; our record of what we sent is bookkeeping.
                    Record::Lightning { sent: true, .. } => None,
                    Record::Lightning { id, hash, .. } => Some((ev::PersistedWhat::LightningPaymentDetails, *id, *hash)),
                    Record::ForwardedHtlcs { id, hash, .. } => Some((ev::PersistedWhat::ForwardRecord, *id, *hash)),
                };
                if let Some((what, id, hash)) = reported {
                    self.emit(AdapterEvent::Persisted(ev::Persisted { what, pool_id: id, payment_hash: hash }));
                }
            }
            Action::DeleteRecord { id, hash } => {
                self.forwards.remove(&hash.0);
                self.store_op("delete forward record", |st| st.delete_forward_record_before_accepting(StoreRef { id, hash }));
                self.emit(AdapterEvent::Persisted(ev::Persisted { what: ev::PersistedWhat::ForwardRecordDeleted, pool_id: id, payment_hash: hash }))
            }
            Action::AddHtlc { to, htlc, fields, .. } => {
                let htlc_id = self.next_htlc_id;
                self.next_htlc_id += 1;
                self.outgoing.insert((to, htlc_id), (htlc, fields.payment_hash));
                if let Some(pool) = self.forwards.get(&fields.payment_hash.0).copied() {
                    // SIDEPOOL-10: "once the direct peerswap acceptor has given an HTLC in the Lightning Network channel, the forwarder MUST store this fact in persistent storage before it forwards the HTLC on the Lightning Network channel to the direct peerswap offerrer."
                    let swap = StoreRef { id: pool, hash: fields.payment_hash };
                    let amount = fields.amount_msat;
                    self.store_op("HTLC to the offerrer", |st| st.record_upstream_htlc(swap, HtlcRef(htlc_id), amount));
                }
                self.emit(AdapterEvent::HtlcAdd(ev::HtlcAdd {
                    htlc_id,
                    peer: to,
                    amount_msat: fields.amount_msat,
                    payment_hash: fields.payment_hash,
                    cltv_expiry: fields.cltv_expiry,
                    onion: onion_out(&fields.onion),
                }));
            }
            Action::FulfilHtlc { peer, id } => {
                let hash = self.incoming.get(&(peer, id)).map(|(h, _)| *h);
                if let Some(pool) = hash.and_then(|h| self.forwards.get(&h.0).copied()) {
                    let swap = StoreRef { id: pool, hash: hash.unwrap_or(PaymentHash([0; 32])) };
                    self.store_op("downstream fulfilled", |st| st.set_downstream_state(swap, HtlcRef(id), DownstreamHtlcState::Fulfilled));
                }
                let preimage = hash.and_then(|h| self.keys.preimage(&h).or_else(|| self.learned.get(&h.0).cloned()));
                match preimage {
                    Some(p) => self.emit(AdapterEvent::HtlcFulfil(ev::HtlcFulfil { htlc_id: id, peer, preimage: Preimage(*p) })),
                    None => self.log(ev::LogLevel::Error, format!("cannot fulfil HTLC {id} from {peer}: preimage unknown")),
                }
            }
            Action::FailHtlc { peer, id } => {
                let hash = self.incoming.get(&(peer, id)).map(|(h, _)| *h);
                if let Some((pool, hash)) = hash.and_then(|h| self.forwards.get(&h.0).map(|p| (*p, h))) {
                    self.store_op("downstream failed", |st| st.set_downstream_state(StoreRef { id: pool, hash }, HtlcRef(id), DownstreamHtlcState::Failed));
                }
                self.emit(AdapterEvent::HtlcFail(ev::HtlcFail { htlc_id: id, peer, reason: None }))
            }
            Action::RequestExpansionOutput { id, output_key, amount, .. } => {
                self.emit(AdapterEvent::ExpansionOutputRequested(ev::ExpansionOutputRequested {
                    pool_id: id,
                    output_key: XOnlyKey(output_key.0),
                    amount_sat: amount,
                }))
            }
            Action::ClaimInSidepool { id, hash, .. } => self.log(ev::LogLevel::Info, format!("claim in the contraction phase: pool {id} hash {hash}")),
            Action::ForgetPeerswap { id, hash, peer } => {
                self.emit(AdapterEvent::PeerswapForgotten(ev::PeerswapForgotten { pool_id: id, payment_hash: hash, peer, reason: "session over".into() }))
            }
            Action::AbortSidepool { id, reason } => self.log(ev::LogLevel::Warn, format!("abort sidepool {id}: {reason}")),
            Action::Log { level, text } => {
                let level = match level {
                    LogLevel::Debug => ev::LogLevel::Debug,
                    LogLevel::Info => ev::LogLevel::Info,
                    LogLevel::Warn => ev::LogLevel::Warn,
                };
                self.log(level, text);
            }
        }
    }

    /// One adapter request: its answer and the wire actions it caused.
    pub fn adapter_request(&mut self, req: Request) -> (Result<Response, AdapterError>, Vec<CoreAction>) {
        let mut out = Vec::new();
        let answer = self.request(req, &mut out);
        (answer, out)
    }

    fn request(&mut self, req: Request, out: &mut Vec<CoreAction>) -> Result<Response, AdapterError> {
        req.validate().map_err(AdapterError::invalid_request)?;
        match req {
            Request::Hello(_) => Ok(Response::Hello(
                HelloResult::new(
                    format!("sidepool-conformance reference node (spec {})", self.revision.name()),
                    env!("CARGO_PKG_VERSION"),
                    &Request::METHODS.iter().copied().filter(|m| *m != "restart" || self.store.is_some()).collect::<Vec<_>>(),
                )
                .with_capabilities(&self.capabilities()),
            )),
            Request::Identity(_) => Ok(Response::Identity(IdentityResult { node_id: self.me, listen: self.listen.clone() })),
            Request::Reset(_) => {
                // ADAPTER.md: "Wipe all state — pools, channels, peerswaps, HTLCs, forwarding records".
                // The store too: else a later case's restart reloads an earlier case's forwards.
                if let Some(store) = self.store.as_mut() {
                    store.wipe().map_err(|e| AdapterError::internal(format!("store: {e}")))?;
                }
                self.restored.clear();
                self.forwards.clear();
                self.world = default_world();
                self.keys = Arc::new(NodeKeys::new(fresh_seed(), &self.node_secret));
                self.rebuild(out);
                Ok(Response::Done)
            }
            Request::SetBlockHeight(h) => {
                self.world.height = h.height;
                self.feed(Event::BlockHeight(h.height), out);
                Ok(Response::Done)
            }
            Request::SetNodeSettings(s) => {
                if self.engine.session_count() > 0 {
                    return Err(AdapterError::invalid_request("node settings cannot change while peerswaps are in flight"));
                }
                self.world.cltv_delta = s.cltv_delta;
                self.world.final_cltv_delta = s.final_cltv_delta;
                self.rebuild(out);
                Ok(Response::Done)
            }
            Request::SetPool(p) => {
                let was_begun = self.world.pools.get(&p.pool_id).is_some_and(|old| old.swap_party_begun);
                self.world.pools.insert(p.pool_id, p.clone());
                if was_begun && !p.swap_party_begun {
                    // The engine has no "party not begun" event: set the world up again.
                    self.rebuild(out);
                } else {
                    self.apply_pool(&p, out);
                }
                Ok(Response::Done)
            }
            Request::SetChannels(c) => {
                self.world.channels.insert(c.peer, c.channels);
                self.push_channels(c.peer, out);
                Ok(Response::Done)
            }
            Request::StartSwapParty(s) => {
                let pool = self.world.pools.get(&s.pool_id).cloned().ok_or_else(|| AdapterError::invalid_request("no such pool: set_pool first"))?;
                if pool.leader == self.me {
                    // The leader arranges to send swap_party_begin to every follower.
                    for p in pool.participants.iter().filter(|p| **p != self.me) {
                        let begin = SwapPartyBegin { id: pool.pool_id, irregular_authorization: None, unknown: Vec::new() };
                        out.push(CoreAction::Send { peer: *p, message: Box::new(Message::SwapPartyBegin(begin)) });
                    }
                }
                self.begin_party(pool.pool_id, out);
                Ok(Response::Done)
            }
            Request::ExpansionOutcome(x) => {
                let outputs = x.outputs.iter().map(|o| (OutputKey(o.output_key.0), o.amount_sat)).collect();
                let tax = sidepool_reference::pool::TaxInputs { total_offchain_fees: x.fee_inputs.total_offchain_fees_sat, output_count: x.fee_inputs.output_count };
                self.feed(Event::ExpansionOutcome { pool: x.pool_id, outputs, tax }, out);
                Ok(Response::Done)
            }
            Request::EndSwapParty(e) => {
                if let Some(p) = self.world.pools.get_mut(&e.pool_id) {
                    p.swap_party_begun = false;
                }
                match e.outcome {
                    rq::SwapPartyOutcome::Completed => self.feed(Event::ContractionDone { pool: e.pool_id }, out),
                    rq::SwapPartyOutcome::PoolAborted => {
                        self.world.pools.remove(&e.pool_id);
                        self.feed(Event::PoolRemoved { pool: e.pool_id }, out);
                    }
                }
                Ok(Response::Done)
            }
            Request::HtlcEvent(e) => {
                self.htlc_event(e, out);
                Ok(Response::Done)
            }
            Request::AdvanceClock(a) => {
                self.world.now = Timestamp(self.world.now.0.saturating_add(a.seconds));
                self.feed(Event::TimePassed { now: self.world.now }, out);
                Ok(Response::Done)
            }
            Request::Restart(_) => {
                // A process restart: memory is gone (engine sessions, ephemeral keys,
                // learned preimages); the store and the simulated world remain.
                let Some(store) = self.store.as_ref() else {
                    return Err(AdapterError::unsupported("restart needs the node's persistent store (--db)"));
                };
                self.restored = restart::reload(store).map_err(AdapterError::internal)?;
                self.keys = Arc::new(NodeKeys::new(fresh_seed(), &self.node_secret));
                self.forwards.clear();
                self.rebuild(out);
                // SIDEPOOL-10: "In case the forwarder restarts and finds this fact in its persistent store:"
                self.settle_restored();
                Ok(Response::Done)
            }
            Request::Shutdown(_) => Ok(Response::Done),
            // The node's network shell answers `sync` (net::Shared::adapter); a core alone cannot tell.
            Request::Sync(_) => Err(AdapterError::unsupported("sync is answered by the node's network shell")),
        }
    }

    /// The swap party of `pool` has begun: tell the engine, then offer to every
    /// participant we have channels with (the engine applies the offering rules).
    // SIDEPOOL-04: "Trigger any supported higher-level protocols that would help it manage its liquidity in the pool and in channels it has with other pool participants."
    fn begin_party(&mut self, pool_id: PoolId, out: &mut Vec<CoreAction>) {
        let Some(pool) = self.world.pools.get_mut(&pool_id) else { return };
        pool.swap_party_begun = true;
        let pool = pool.clone();
        self.feed(Event::SwapPartyBegun { pool: pool_id, at: self.world.now }, out);
        let peers: Vec<PublicKey> =
            pool.participants.iter().filter(|p| **p != self.me && self.world.channels.contains_key(p)).copied().collect();
        for peer in peers {
            self.hop_counter = self.hop_counter.wrapping_add(1);
            let hash = self.keys.new_payment_hash();
            self.feed(Event::OfferNow { peer, pool: pool_id, hash, amount: None, hops_random: self.hop_counter }, out);
        }
    }

    fn htlc_event(&mut self, e: rq::HtlcEvent, out: &mut Vec<CoreAction>) {
        match e {
            rq::HtlcEvent::Added(a) if a.direction == Direction::Incoming => {
                self.incoming.insert((a.peer, a.htlc_id), (a.payment_hash, a.amount_msat));
                let htlc = ObservedHtlc { payment_hash: a.payment_hash, amount_msat: a.amount_msat, cltv_expiry: a.cltv_expiry, onion: onion_in(&a.onion) };
                self.feed(Event::IncomingHtlcAdded { peer: a.peer, id: a.htlc_id, htlc }, out);
            }
            rq::HtlcEvent::Added(_) => {} // our own htlc_add, now in the channel
            rq::HtlcEvent::IrrevocablyCommitted(r) if r.direction == Direction::Incoming => {
                self.feed(Event::IncomingHtlcCommitted { peer: r.peer, id: r.htlc_id }, out)
            }
            rq::HtlcEvent::IrrevocablyCommitted(r) => {
                let hash = self.outgoing.get(&(r.peer, r.htlc_id)).map(|(_, h)| *h);
                self.upstream_changed(r.peer, r.htlc_id, hash, UpstreamHtlcState::Committed);
            }
            rq::HtlcEvent::Fulfilled(f) if f.direction == Direction::Outgoing => {
                let restored_hash = self
                    .restored
                    .iter()
                    .find(|r| r.forward.record.upstream == f.peer && r.forward.lightning.upstream.iter().any(|u| u.htlc.0 == f.htlc_id))
                    .map(|r| r.forward.record.hash);
                if let (Some(hash), Some(p)) = (restored_hash, &f.preimage) {
                    use bitcoin::hashes::{sha256, Hash};
                    if sha256::Hash::hash(&p.0).to_byte_array() == hash.0 {
                        self.learned.insert(hash.0, zeroize::Zeroizing::new(p.0));
                    }
                }
                let hash = self.outgoing.get(&(f.peer, f.htlc_id)).map(|(_, h)| *h).or(restored_hash);
                self.upstream_changed(f.peer, f.htlc_id, hash, UpstreamHtlcState::Fulfilled);
                if let Some((h, hash)) = self.outgoing.get(&(f.peer, f.htlc_id)).copied() {
                    if let Some(p) = &f.preimage {
                        use bitcoin::hashes::{sha256, Hash};
                        // Only a preimage that hashes to the HTLC's hash is worth keeping.
                        if sha256::Hash::hash(&p.0).to_byte_array() == hash.0 {
                            self.learned.insert(hash.0, zeroize::Zeroizing::new(p.0));
                        } else {
                            self.log(ev::LogLevel::Warn, format!("preimage for HTLC {} does not match its hash", f.htlc_id));
                        }
                    }
                    self.feed(Event::OutgoingHtlcFulfilled { htlc: h }, out);
                }
            }
            rq::HtlcEvent::Fulfilled(_) => {}
            rq::HtlcEvent::Failed(r) if r.direction == Direction::Outgoing => {
                let hash = self.outgoing.get(&(r.peer, r.htlc_id)).map(|(_, h)| *h);
                self.upstream_changed(r.peer, r.htlc_id, hash, UpstreamHtlcState::Failed);
                if let Some((h, _)) = self.outgoing.get(&(r.peer, r.htlc_id)).copied() {
                    self.feed(Event::OutgoingHtlcFailed { htlc: h }, out);
                }
            }
            rq::HtlcEvent::Failed(r) => self.feed(Event::IncomingHtlcGone { peer: r.peer, id: r.htlc_id }, out),
            rq::HtlcEvent::RemovalCommitted(r) if r.direction == Direction::Outgoing => {
                let hash = self.outgoing.get(&(r.peer, r.htlc_id)).map(|(_, h)| *h);
                self.upstream_changed(r.peer, r.htlc_id, hash, UpstreamHtlcState::FailRemovalCommitted);
                if let Some((h, _)) = self.outgoing.get(&(r.peer, r.htlc_id)).copied() {
                    self.feed(Event::OutgoingHtlcRemovalCommitted { htlc: h }, out);
                }
            }
            rq::HtlcEvent::RemovalCommitted(_) => {}
        }
    }
}

fn engine_channel(c: &rq::Channel) -> Channel {
    Channel {
        state: match c.state {
            rq::ChannelState::AwaitingChannelReady => ChannelState::AwaitingChannelReady,
            rq::ChannelState::Normal => ChannelState::Normal,
            rq::ChannelState::ShuttingDown => ChannelState::ShuttingDown,
            rq::ChannelState::Errored => ChannelState::Errored,
            rq::ChannelState::UnilateralClose => ChannelState::UnilateralClose,
        },
        capacity: Capacity::Sat(c.capacity_sat),
        ours: c.ours_msat,
        theirs: c.theirs_msat,
        pending_htlcs: c.pending_htlcs_msat,
        our_reserve: c.reserve_msat,
        htlc_maximum_from_peer: c.htlc_maximum_msat,
        htlc_maximum_ours: c.local_htlc_maximum_msat.unwrap_or(c.htlc_maximum_msat),
    }
}

fn onion_in(o: &rq::OnionPayload) -> OnionFinalHop {
    OnionFinalHop {
        amt_to_forward: o.amt_to_forward_msat,
        outgoing_cltv_value: o.outgoing_cltv_value,
        total_msat: o.total_msat,
        payment_secret: o.payment_secret,
        payment_metadata: o.payment_metadata.as_ref().map(|m| m.0.clone()),
        short_channel_id: o.short_channel_id.map(|s| s.to_u64()),
    }
}

fn onion_out(o: &OnionFinalHop) -> rq::OnionPayload {
    rq::OnionPayload {
        amt_to_forward_msat: o.amt_to_forward,
        outgoing_cltv_value: o.outgoing_cltv_value,
        total_msat: o.total_msat,
        payment_secret: o.payment_secret,
        payment_metadata: o.payment_metadata.clone().map(crate::adapter::values::HexBytes),
        // Reported as built, so a runner can see a final hop that is not one.
        short_channel_id: o.short_channel_id.map(crate::adapter::values::ShortChannelId::from_u64),
    }
}

impl NodeCore for EngineCore {
    fn peer_ready(&mut self, peer: PublicKey, features: &FeatureSet) -> Vec<CoreAction> {
        self.ready.insert(peer, features.has(PEERSWAP_IN_SIDEPOOL_FEATURE_BIT));
        let mut out = Vec::new();
        self.push_channels(peer, &mut out);
        out
    }

    fn malformed_init(&mut self, peer: PublicKey, init: sidepool_reference::peerswap::malformed::MalformedInit) -> Vec<CoreAction> {
        let mut out = Vec::new();
        self.feed(Event::ReceivedMalformedInit { from: peer, init }, &mut out);
        out
    }

    fn message(&mut self, peer: PublicKey, message: Message) -> Vec<CoreAction> {
        let mut out = Vec::new();
        if let Message::SwapPartyBegin(b) = &message {
            // SIDEPOOL-04: "The message sender is the pool leader of the sidepool with the given pool identifier."
            let from_leader = self.world.pools.get(&b.id).is_some_and(|p| p.leader == peer);
            if from_leader {
                self.begin_party(b.id, &mut out);
            } else {
                self.log(ev::LogLevel::Warn, format!("swap_party_begin for {} from {peer}, not its leader: ignored", b.id));
            }
            return out;
        }
        self.feed(Event::Received { from: peer, msg: message }, &mut out);
        out
    }

    fn peer_gone(&mut self, peer: PublicKey) -> Vec<CoreAction> {
        self.ready.remove(&peer);
        Vec::new()
    }

    fn adapter(&mut self, req: Request) -> (Result<Response, AdapterError>, Vec<CoreAction>) {
        self.adapter_request(req)
    }

    fn set_event_sink(&mut self, tx: Sender<AdapterEvent>) {
        EngineCore::set_event_sink(self, tx);
    }
}
