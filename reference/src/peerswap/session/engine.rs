//! The engine: world view, ledgers, sessions, and the sequencing rules.

use std::collections::BTreeMap;

use super::{Action, EngineConfig, Event, HtlcDetails, LogLevel, OutputKey, PoolView, Record, Role, SessionKeys};
use crate::messages::Message;
use crate::peerswap::balance::{measure, Balance, Channel};
use crate::peerswap::constants::Timestamp;
use crate::peerswap::forward::{self, AfterReject, ForwardAction, ForwardRecord, ForwarderConfig, NextHop};
use crate::peerswap::lightning_htlcs::{
    agreed_upon_amount, plan_split, ChannelRef, ChannelToOfferrer, Forwarder, ForwarderAction, ForwarderEvent,
    HoldAction, HoldEvent, HoldRole, HtlcRef, HtlcRules, Incoming, IncomingHold, ObservedHtlc, OutgoingEvent,
    OutgoingOutcome, OutgoingParts, Seconds,
};
use crate::peerswap::messages::{
    EncryptedPrivkey, HtlcPubkeys, PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject, PeerswapSuccess,
};
use crate::peerswap::offer::{build_init, plan_offer, InitIdentity, InitLedger, OfferRequest, PeerStatus};
use crate::peerswap::receive::{receive_init, reject_message, ReceiveContext, ReceiveDecision, RejectReason};
use crate::peerswap::resolution::{self, KeyHandover, PeerswapRef, SuccessReceipt, SuccessReceiver, SuccessStep};
use crate::peerswap::response::{on_accept, on_reject, AcceptDecision, RejectDecision, SentInit};
use crate::pool::TaxInputs;
use crate::units::{BlockHeight, Msat, PaymentHash, PoolId, Sat, UpdateCounter};

// The engine never holds a private key: keys come from `SessionKeys`, and the only
// key material an action carries is `EncryptedPrivkey` (SIDEPOOL-06 handover output).

type Key<P> = (PoolId, PaymentHash, P);

/// Which side of one hop this session is, and the link to the other hop.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Side<P> {
    /// We sent `peerswap_init` to the session's peer (our local acceptor);
    /// `upstream` is set when we forwarded it.
    Offerrer { upstream: Option<P> },
    /// We received `peerswap_init` from the session's peer (our local offerrer);
    /// `forward` is set while we forward it.
    Acceptor { forward: Option<ForwardRecord<P>> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Acceptor: waiting for `swap_party_begin`.
    Deferred { arrived_at: Timestamp },
    /// Offerrer: `peerswap_init` sent; acceptor-forwarder: forwarded, waiting for the next hop.
    AwaitingAnswer,
    /// Accepted on this hop; waiting for the expansion phase outcome / `peerswap_lightning`.
    Accepted,
    /// `peerswap_lightning` exchanged on this hop; in-Lightning HTLCs in progress.
    Lightning,
    /// Resolved (success sent/received, or HTLCs failed).
    Done,
}

struct Session<P> {
    side: Side<P>,
    phase: Phase,
    /// The `peerswap_init` of this hop (as sent, or as received).
    init: PeerswapInit,
    acceptor_pubkeys: Option<HtlcPubkeys>,
    /// The agreed-upon amount, once the expansion outcome validated the HTLC output.
    agreed: Option<Msat>,
    /// The `peerswap_lightning` of this hop (as sent, or as received).
    lightning: Option<PeerswapLightning>,
    /// A received `peerswap_lightning` that came before our own expansion outcome.
    early_lightning: Option<PeerswapLightning>,
    hold: Option<IncomingHold>,
    fwd: Option<Forwarder>,
    outgoing: Option<OutgoingParts>,
    /// Incoming HTLCs recognised as this peerswap's: caller id → (our ref, amount).
    incoming: Vec<(u64, HtlcRef, Msat)>,
}

impl<P> Session<P> {
    fn new(side: Side<P>, phase: Phase, init: PeerswapInit) -> Session<P> {
        Session {
            side,
            phase,
            init,
            acceptor_pubkeys: None,
            agreed: None,
            lightning: None,
            early_lightning: None,
            hold: None,
            fwd: None,
            outgoing: None,
            incoming: Vec::new(),
        }
    }
    fn swap(&self) -> PeerswapRef {
        PeerswapRef { id: self.init.id, hash: self.init.hash }
    }
}

struct PeerInfo {
    channels: Vec<Channel>,
    supports_feature: bool,
}

/// Audit trail for the engine's own invariants (checked with `debug_assert!`).
struct Audit<P> {
    persisted_forwards: Vec<(PoolId, PaymentHash, P)>,
    /// Peers sent a `peerswap_init` in a swap party that has not ended, with the pool.
    inits_sent: Vec<(P, PoolId)>,
}

/// One node's peerswap engine. `P` is the caller's peer id.
pub struct PeerswapEngine<P, K> {
    config: EngineConfig<P>,
    keys: K,
    height: BlockHeight,
    now: Timestamp,
    pools: BTreeMap<PoolId, PoolView<P>>,
    /// Pools whose swap party has begun: the counter before its expansion phase, and when.
    parties: BTreeMap<PoolId, (UpdateCounter, Timestamp)>,
    peers: BTreeMap<P, PeerInfo>,
    /// One `peerswap_init` per peer per swap party, sent ...
    sent: InitLedger<P>,
    /// ... and received.
    received: InitLedger<P>,
    sent_inits: Vec<SentInit<P>>,
    sessions: BTreeMap<Key<P>, Session<P>>,
    /// Outgoing HTLC handles are 1, 2, 3, ... in the order of the [`Action::AddHtlc`]s.
    next_htlc: u64,
    /// Internal handles of recognised incoming HTLCs (a separate sequence).
    next_incoming: u64,
    /// Outgoing HTLC → the session that owns its outcome.
    outgoing_owner: BTreeMap<HtlcRef, Key<P>>,
    audit: Audit<P>,
}

/// Adapts the caller's keys to `resolution::KeyHandover` for one peerswap.
struct Handover<'a, K> {
    keys: &'a K,
    swap: PeerswapRef,
    to: crate::units::PublicKey,
}

impl<K: SessionKeys> KeyHandover for Handover<'_, K> {
    type Error = String;
    fn encrypted_ephemeral_privkey(&self) -> Result<EncryptedPrivkey, String> {
        self.keys.encrypted_ephemeral_privkey(self.swap, &self.to)
    }
}

fn log<P>(level: LogLevel, text: impl Into<String>) -> Action<P> {
    Action::Log { level, text: text.into() }
}

fn secs(t: Timestamp) -> Seconds {
    Seconds(t.0)
}

/// Direct channels to pay the peer over (normal ones; `ChannelRef` is the index in the caller's list).
fn channels_to(channels: &[Channel]) -> Vec<ChannelToOfferrer> {
    channels
        .iter()
        .enumerate()
        .filter(|(_, c)| c.state.is_normal())
        .map(|(i, c)| ChannelToOfferrer {
            channel: ChannelRef(i as u64),
            max_htlc: c.htlc_maximum_ours,
            spendable: Some(c.ours.saturating_sub(c.our_reserve)),
        })
        .collect()
}

impl<P: Clone + Ord + core::fmt::Debug, K: SessionKeys> PeerswapEngine<P, K> {
    pub fn new(config: EngineConfig<P>, keys: K, height: BlockHeight, now: Timestamp) -> Self {
        PeerswapEngine {
            config,
            keys,
            height,
            now,
            pools: BTreeMap::new(),
            parties: BTreeMap::new(),
            peers: BTreeMap::new(),
            sent: InitLedger::new(),
            received: InitLedger::new(),
            sent_inits: Vec::new(),
            sessions: BTreeMap::new(),
            next_htlc: 0,
            next_incoming: 0,
            outgoing_owner: BTreeMap::new(),
            audit: Audit { persisted_forwards: Vec::new(), inits_sent: Vec::new() },
        }
    }

    pub fn config(&self) -> &EngineConfig<P> {
        &self.config
    }
    pub fn now(&self) -> Timestamp {
        self.now
    }
    /// The role of this node in the session with `peer` for (`id`, `hash`), if any.
    pub fn role(&self, id: PoolId, hash: PaymentHash, peer: &P) -> Option<Role> {
        let s = self.sessions.get(&(id, hash, peer.clone()))?;
        Some(match &s.side {
            Side::Offerrer { upstream: None } => Role::UltimateOfferrer,
            Side::Offerrer { upstream: Some(_) } | Side::Acceptor { forward: Some(_) } => Role::Forwarder,
            Side::Acceptor { forward: None } => Role::UltimateAcceptor,
        })
    }
    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn handle(&mut self, event: Event<P>) -> Vec<Action<P>> {
        let mut out = Vec::new();
        match event {
            Event::PoolUpdated(view) => {
                self.pools.insert(view.id, view);
            }
            Event::PoolRemoved { pool } => {
                self.pools.remove(&pool);
                self.end_party(pool);
            }
            Event::ChannelsUpdated { peer, channels, supports_feature } => {
                self.peers.insert(peer, PeerInfo { channels, supports_feature });
            }
            Event::BlockHeight(h) => self.height = h,
            Event::SwapPartyBegun { pool, at } => {
                self.advance(at, &mut out);
                self.party_begun(pool, at, &mut out);
            }
            Event::ContractionDone { pool } => self.end_party(pool),
            Event::TimePassed { now } => self.advance(now, &mut out),
            Event::Received { from, msg } => self.on_message(from, msg, &mut out),
            Event::OfferNow { peer, pool, hash, amount, hops_random } => {
                self.offer_now(peer, pool, hash, amount, hops_random, &mut out)
            }
            Event::ExpansionOutcome { pool, outputs, tax } => self.on_expansion(pool, &outputs, tax, &mut out),
            Event::IncomingHtlcAdded { peer, id, htlc } => self.on_incoming_added(peer, id, &htlc, &mut out),
            Event::IncomingHtlcCommitted { peer, id } => self.on_incoming_committed(peer, id, &mut out),
            Event::IncomingHtlcGone { peer, id } => self.on_incoming_gone(peer, id, &mut out),
            Event::OutgoingHtlcFulfilled { htlc } => {
                self.on_outgoing(htlc, OutgoingEvent::Fulfilled { htlc }, &mut out)
            }
            Event::OutgoingHtlcFailed { htlc } => self.on_outgoing(htlc, OutgoingEvent::Failed { htlc }, &mut out),
            Event::OutgoingHtlcRemovalCommitted { htlc } => {
                self.on_outgoing(htlc, OutgoingEvent::RemovalCommitted { htlc }, &mut out)
            }
            Event::OutgoingHtlcAddFailed { htlc } => {
                // Never in the channel: failed and removed at once, and the acceptor stops offering.
                self.on_outgoing(htlc, OutgoingEvent::Failed { htlc }, &mut out);
                self.on_outgoing(htlc, OutgoingEvent::RemovalCommitted { htlc }, &mut out);
                self.on_outgoing(htlc, OutgoingEvent::Stopped, &mut out);
            }
        }
        self.audit_actions(&out);
        out
    }

    // ---- world view -------------------------------------------------------------------

    fn balance(&self, peer: &P) -> Option<Balance> {
        self.peers.get(peer).and_then(|p| measure(&p.channels).ok())
    }

    fn is_participant(&self, pool: PoolId, who: &P) -> bool {
        self.pools.get(&pool).is_some_and(|v| v.participants.contains(who))
    }

    fn peer_status(&self, pool: PoolId, peer: &P) -> PeerStatus {
        PeerStatus {
            supports_feature: self.peers.get(peer).is_some_and(|p| p.supports_feature),
            is_participant: self.is_participant(pool, peer),
            already_sent: self.sent.contains(peer),
        }
    }

    fn forwarder_config(&self, pool: PoolId) -> ForwarderConfig {
        ForwarderConfig {
            height: self.height,
            swap_party_begun: self.parties.contains_key(&pool),
            cltv_delta: self.config.cltv_delta,
            final_cltv_delta: self.config.final_cltv_delta,
        }
    }

    fn alloc_htlc(&mut self) -> HtlcRef {
        self.next_htlc += 1;
        HtlcRef(self.next_htlc)
    }

    fn party_begun(&mut self, pool: PoolId, at: Timestamp, out: &mut Vec<Action<P>>) {
        let Some(view) = self.pools.get(&pool) else {
            out.push(log(LogLevel::Warn, "swap party begun for an unknown sidepool; ignored"));
            return;
        };
        self.parties.insert(pool, (view.update_counter, at));
        // SIDEPOOL-10: "MUST defer processing of this message for up to 5 minutes if it is a pool follower and has not received `swap_party_begin` yet, and resume processing of this message if it receives `swap_party_begin` before then."
        let deferred: Vec<Key<P>> = self
            .sessions
            .iter()
            .filter(|(k, s)| k.0 == pool && matches!(s.phase, Phase::Deferred { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        for key in deferred {
            if let Some(s) = self.sessions.remove(&key) {
                if let Phase::Deferred { arrived_at } = s.phase {
                    out.push(log(LogLevel::Info, "resuming a deferred peerswap_init"));
                    self.process_init(key.2, s.init, arrived_at, out);
                }
            }
        }
    }

    fn end_party(&mut self, pool: PoolId) {
        self.audit.inits_sent.retain(|(_, p)| *p != pool);
        self.parties.remove(&pool);
        self.sent.party_ended(pool);
        self.received.party_ended(pool);
        self.sent_inits.retain(|s| s.id != pool);
        self.sessions.retain(|k, s| k.0 != pool || matches!(s.phase, Phase::Lightning | Phase::Deferred { .. }));
    }

    /// Time passes: deferral deadlines and hold timers.
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Action<P>>) {
        self.now = self.now.max(now);
        let keys: Vec<Key<P>> = self.sessions.keys().cloned().collect();
        for key in keys {
            let Some(mut s) = self.sessions.remove(&key) else { continue };
            if let Phase::Deferred { arrived_at } = s.phase {
                // SIDEPOOL-10: "If it does not receive `swap_party_begin` within 5 minutes, it MUST reject the offer."
                // receive_init answers Defer until the deadline, then code 0.
                self.process_init(key.2, s.init, arrived_at, out);
                continue;
            }
            let tick = HoldEvent::Tick { at: secs(self.now) };
            if let Some(hold) = s.hold.as_mut() {
                let actions = hold.handle(tick);
                self.hold_actions(&key, &mut s, actions, out);
            }
            if let Some(fwd) = s.fwd.as_mut() {
                if let Ok(actions) = fwd.handle(ForwarderEvent::Downstream(tick)) {
                    self.forwarder_actions(&key, &mut s, actions, out);
                }
            }
            self.sessions.insert(key, s);
        }
    }

    // ---- messages ---------------------------------------------------------------------

    fn on_message(&mut self, from: P, msg: Message, out: &mut Vec<Action<P>>) {
        match msg {
            Message::PeerswapInit(init) => {
                let key = (init.id, init.hash, from.clone());
                if self.sessions.contains_key(&key) {
                    // Same sender, pool and hash: the ledger answers it (code 1) without touching the session.
                    self.decide_init(from, init, self.now, false, out);
                } else {
                    self.process_init(from, init, self.now, out);
                }
            }
            Message::PeerswapAccept(a) => self.on_accept_msg(from, a, out),
            Message::PeerswapReject(r) => self.on_reject_msg(from, r, out),
            Message::PeerswapLightning(l) => self.on_lightning_msg(from, l, out),
            Message::PeerswapSuccess(s) => self.on_success_msg(from, s, out),
            Message::SwapPartyBegin(b) => {
                // SIDEPOOL-04 `swap_party_begin` from the leader of that pool.
                if self.pools.get(&b.id).is_some_and(|v| v.leader == from) {
                    let now = self.now;
                    self.party_begun(b.id, now, out);
                } else {
                    out.push(log(LogLevel::Warn, "swap_party_begin not from the pool leader; ignored"));
                }
            }
            Message::MySidepoolFeatures(_) => {}
        }
    }

    fn process_init(&mut self, from: P, init: PeerswapInit, arrived_at: Timestamp, out: &mut Vec<Action<P>>) {
        self.decide_init(from, init, arrived_at, true, out)
    }

    /// Runs the receiver checks; `may_open` is false when a session for this key exists already.
    fn decide_init(
        &mut self,
        from: P,
        init: PeerswapInit,
        arrived_at: Timestamp,
        may_open: bool,
        out: &mut Vec<Action<P>>,
    ) {
        let pool = init.id;
        let Some(balance) = self.balance(&from) else {
            out.push(log(LogLevel::Warn, "peerswap_init from a peer without measurable channels; rejected"));
            let b = measure(&[]).ok();
            if let Some(b) = b {
                let rej =
                    crate::peerswap::receive::Rejection { reason: RejectReason::Policy, text: "no channels".into() };
                out.push(Action::Send { to: from, msg: Message::PeerswapReject(reject_message(&init, &rej, &b)) });
            }
            return;
        };
        let (we, leader) = match self.pools.get(&pool) {
            Some(v) => (v.participants.contains(&self.config.me), v.leader == self.config.me),
            None => (false, false),
        };
        let ctx = ReceiveContext {
            we_are_participant: we,
            sender_is_participant: self.is_participant(pool, &from),
            is_leader: leader,
            swap_party_counter: self.parties.get(&pool).map(|(c, _)| *c),
            init_arrived_at: arrived_at,
            now: self.now,
            already_received_from_sender: self.received.contains(&from) || !may_open,
            balance: &balance,
            height: self.height,
            cltv_delta: self.config.cltv_delta,
            policy_objection: None,
        };
        let decision = receive_init(&init, &ctx);
        match &decision {
            ReceiveDecision::Defer { .. } if !may_open => {
                out.push(log(LogLevel::Warn, "a repeat of a pending peerswap_init; ignored"));
                return;
            }
            ReceiveDecision::Defer { .. } => {
                out.push(log(LogLevel::Info, "no swap_party_begin yet: deferring peerswap_init"));
                self.sessions.insert(
                    (pool, init.hash, from),
                    Session::new(Side::Acceptor { forward: None }, Phase::Deferred { arrived_at }, init),
                );
                return;
            }
            ReceiveDecision::Reject(r) => {
                // ERRATA E-80: an init counts as "previously sent" once it reached the per-sender check.
                if counts_as_received(r.reason) && may_open {
                    let _ = self.received.record(from.clone(), pool);
                }
                out.push(log(LogLevel::Info, format!("rejecting peerswap_init: {} ({})", r.reason, r.text)));
                // SIDEPOOL-10: "If the receiver of the `peerswap_init` message decides to reject the peerswap, it MUST send `peerswap_reject`:"
                out.push(Action::Send { to: from, msg: Message::PeerswapReject(reject_message(&init, r, &balance)) });
                return;
            }
            ReceiveDecision::Accept => {}
        }
        // Forwarding needs the init validated as a receiver first (forward::forward checks `decision`).
        let _ = self.received.record(from.clone(), pool);
        if self.config.forward && self.try_forward(&from, &init, &decision, out) {
            return;
        }
        self.accept_here(from, init, out);
    }

    /// Tries the next hops in peer order; on the first that qualifies, persist then forward.
    fn try_forward(
        &mut self,
        from: &P,
        init: &PeerswapInit,
        decision: &ReceiveDecision,
        out: &mut Vec<Action<P>>,
    ) -> bool {
        let pool = init.id;
        let Some(view) = self.pools.get(&pool) else { return false };
        let mut candidates: Vec<P> =
            view.participants.iter().filter(|p| **p != self.config.me && *p != from).cloned().collect();
        candidates.sort();
        let cfg = self.forwarder_config(pool);
        for next in candidates {
            let Some(b) = self.balance(&next) else { continue };
            let hop = NextHop { peer: next.clone(), status: self.peer_status(pool, &next), balance: &b };
            let Ok(steps) = forward::forward(init, decision, from.clone(), &hop, &cfg) else { continue };
            self.apply_forward_steps(from.clone(), init.clone(), steps, out);
            return true;
        }
        false
    }

    fn apply_forward_steps(
        &mut self,
        upstream: P,
        incoming: PeerswapInit,
        steps: Vec<ForwardAction<P>>,
        out: &mut Vec<Action<P>>,
    ) {
        let key = (incoming.id, incoming.hash, upstream.clone());
        for step in steps {
            match step {
                ForwardAction::PersistRecord(rec) => {
                    // SIDEPOOL-10: "If the node decides to forward the peerswap, it MUST store this fact in persistent storage before forwarding `peerswap_init`."
                    let mut s = Session::new(
                        Side::Acceptor { forward: Some(rec.clone()) },
                        Phase::AwaitingAnswer,
                        incoming.clone(),
                    );
                    s.phase = Phase::AwaitingAnswer;
                    self.sessions.insert(key.clone(), s);
                    out.push(Action::PersistRecord(Record::Forward(rec)));
                }
                ForwardAction::SendInit { to, init } => {
                    let htlc_max = self.balance(&to).and_then(|b| b.min_htlc_maximum_from_peer).unwrap_or(Msat::ZERO);
                    let _ = self.sent.record(to.clone(), init.id);
                    self.sent_inits.push(SentInit {
                        to: to.clone(),
                        id: init.id,
                        hash: init.hash,
                        amount: init.amount,
                        htlc_maximum_from_peer: htlc_max,
                        upstream: Some(upstream.clone()),
                    });
                    self.sessions.insert(
                        (init.id, init.hash, to.clone()),
                        Session::new(
                            Side::Offerrer { upstream: Some(upstream.clone()) },
                            Phase::AwaitingAnswer,
                            init.clone(),
                        ),
                    );
                    out.push(log(LogLevel::Info, format!("forwarding peerswap_init from {upstream:?} to {to:?}")));
                    out.push(Action::Send { to, msg: Message::PeerswapInit(init) });
                }
                ForwardAction::DeleteRecord { id, hash } => {
                    // SIDEPOOL-10: "The forwarder MUST delete the fact that it wanted to forward the peerswap from persistent storage before accepting it at this node."
                    self.audit.persisted_forwards.retain(|(i, h, _)| (*i, *h) != (id, hash));
                    out.push(Action::DeleteRecord { id, hash });
                }
                ForwardAction::AcceptHere => {
                    self.sessions.remove(&key);
                    self.accept_here(upstream.clone(), incoming.clone(), out);
                }
                ForwardAction::SendReject { to, reject } => {
                    self.sessions.remove(&key);
                    out.push(Action::Send { to, msg: Message::PeerswapReject(reject) });
                }
            }
        }
    }

    /// Accept at this node: persist the HTLC details, then send `peerswap_accept`.
    fn accept_here(&mut self, from: P, init: PeerswapInit, out: &mut Vec<Action<P>>) {
        let swap = PeerswapRef { id: init.id, hash: init.hash };
        let own = self.keys.htlc_pubkeys(swap);
        let details = HtlcDetails {
            id: init.id,
            hash: init.hash,
            role: Role::UltimateAcceptor,
            offerrer_pubkeys: init.pubkeys,
            acceptor_pubkeys: own,
            timeouts: init.timeouts,
            amount: init.amount,
        };
        // SIDEPOOL-06: "Both offerrer and acceptor MUST store these information in persistent storage."
        out.push(Action::PersistRecord(Record::HtlcDetails(details)));
        // SIDEPOOL-10: "If the receiver of the `peerswap_init` decides to accept the peerswap, it is now a peerswap acceptor, and is the ultimate acceptor of the peerswap."
        // SIDEPOOL-10: "The acceptor then responds with a `peerswap_accept`:"
        let accept = PeerswapAccept { id: init.id, hash: init.hash, pubkeys: own, unknown: Vec::new() };
        let mut s = Session::new(Side::Acceptor { forward: None }, Phase::Accepted, init);
        s.acceptor_pubkeys = Some(own);
        self.sessions.insert((swap.id, swap.hash, from.clone()), s);
        out.push(Action::Send { to: from, msg: Message::PeerswapAccept(accept) });
    }

    fn offer_now(
        &mut self,
        peer: P,
        pool: PoolId,
        hash: crate::units::PaymentHash,
        amount: Option<Sat>,
        hops_random: u8,
        out: &mut Vec<Action<P>>,
    ) {
        let Some(balance) = self.balance(&peer) else {
            out.push(log(LogLevel::Warn, format!("no measurable channels with {peer:?}: not offering")));
            return;
        };
        let status = self.peer_status(pool, &peer);
        let party = self.parties.get(&pool).copied();
        let req = OfferRequest {
            peer: status,
            swap_party_begun: party.is_some(),
            balance: &balance,
            height: self.height,
            final_cltv_delta: self.config.final_cltv_delta,
            amount,
            hops_random,
        };
        // SIDEPOOL-10: "If the node cannot achieve all of the above, the node MUST NOT send this message."
        let plan = match plan_offer(&req) {
            Ok(p) => p,
            Err(why) => {
                out.push(log(LogLevel::Info, format!("not offering to {peer:?}: {why}")));
                return;
            }
        };
        let swap = PeerswapRef { id: pool, hash };
        let Some((counter, _)) = party else { return };
        let who = InitIdentity { id: pool, pubkeys: self.keys.htlc_pubkeys(swap), hash, update_counter: counter };
        let init = match build_init(&plan, &who) {
            Ok(i) => i,
            Err(why) => {
                out.push(log(LogLevel::Info, format!("not offering to {peer:?}: {why}")));
                return;
            }
        };
        if self.sessions.contains_key(&(pool, hash, peer.clone())) {
            out.push(log(LogLevel::Warn, "a peerswap with this pool, hash and peer exists; not offering"));
            return;
        }
        // SIDEPOOL-10: "In case the node is a participant of multiple sidepools, and the peer is also a participant of multiple sidepools, the node MUST NOT send this message to a peer more than once until the swap party that triggered the first send has completed or that specific sidepool has aborted."
        if self.sent.record(peer.clone(), pool).is_err() {
            out.push(log(LogLevel::Info, "peerswap_init already sent to this peer in this swap party"));
            return;
        }
        self.sent_inits.push(SentInit {
            to: peer.clone(),
            id: pool,
            hash,
            amount: init.amount,
            htlc_maximum_from_peer: balance.min_htlc_maximum_from_peer.unwrap_or(Msat::ZERO),
            upstream: None,
        });
        out.push(Action::PersistRecord(Record::SentInit { to: peer.clone(), init: init.clone() }));
        self.sessions.insert(
            (pool, hash, peer.clone()),
            Session::new(Side::Offerrer { upstream: None }, Phase::AwaitingAnswer, init.clone()),
        );
        out.push(Action::Send { to: peer, msg: Message::PeerswapInit(init) });
    }

    fn on_accept_msg(&mut self, from: P, msg: PeerswapAccept, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        let answered = self.sessions.get(&key).is_some_and(|s| s.phase == Phase::AwaitingAnswer);
        let decision = if answered {
            on_accept(&self.sent_inits, &from, &msg)
        } else {
            AcceptDecision::Ignore(crate::peerswap::response::IgnoreReason::IdOrHashMismatch)
        };
        match decision {
            AcceptDecision::Ignore(why) => {
                // SIDEPOOL-10: "If the above validation fails, the receiver of the message SHOULD log and MUST ignore the message."
                out.push(log(LogLevel::Warn, format!("peerswap_accept ignored: {}", why.name())));
            }
            AcceptDecision::AbortSidepool(why) => {
                // SIDEPOOL-10: "If the above validation fails, the receiver of the message MUST abort the sidepool."
                out.push(Action::AbortSidepool { id: msg.id, reason: why.name().into() });
                self.sessions.remove(&key);
            }
            AcceptDecision::CreateSidepoolHtlc => {
                let Some(s) = self.sessions.get_mut(&key) else { return };
                s.acceptor_pubkeys = Some(msg.pubkeys);
                s.phase = Phase::Accepted;
                let details = HtlcDetails {
                    id: msg.id,
                    hash: msg.hash,
                    role: Role::UltimateOfferrer,
                    offerrer_pubkeys: s.init.pubkeys,
                    acceptor_pubkeys: msg.pubkeys,
                    timeouts: s.init.timeouts,
                    amount: s.init.amount,
                };
                let amount = s.init.amount;
                // SIDEPOOL-10: "On receiving the `peerswap_accept`, the ultimate offerrer of the peerswap constructs the in-sidepool HTLC address from the public keys and the HTLC details, as per [SIDEPOOL-06 HTLC Taproot Public Key][]."
                let output_key = self.keys.htlc_output_key(&details);
                // SIDEPOOL-06: "Both offerrer and acceptor MUST store these information in persistent storage."
                out.push(Action::PersistRecord(Record::HtlcDetails(details)));
                // SIDEPOOL-10: "The ultimate offerrer then includes the address, as well as the amount it indicated in the `peerswap_init_amount_sat`, in the `swap_party_expand_request` message to the pool leader if it is a pool follower, or equivalent functionality if it is the pool leader."
                out.push(Action::RequestExpansionOutput { id: msg.id, hash: msg.hash, output_key, amount });
            }
            AcceptDecision::ForwardUpstream { upstream } => {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.acceptor_pubkeys = Some(msg.pubkeys);
                    s.phase = Phase::Accepted;
                }
                if let Some(u) = self.sessions.get_mut(&(msg.id, msg.hash, upstream.clone())) {
                    u.acceptor_pubkeys = Some(msg.pubkeys);
                    u.phase = Phase::Accepted;
                }
                // SIDEPOOL-10: "It MUST forward the message as-is to the peer it forwarded the peerswap from."
                out.push(Action::Send { to: upstream, msg: Message::PeerswapAccept(msg) });
            }
        }
    }

    fn on_reject_msg(&mut self, from: P, msg: PeerswapReject, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        let answered = self.sessions.get(&key).is_some_and(|s| s.phase == Phase::AwaitingAnswer);
        let decision = if answered {
            on_reject(&self.sent_inits, &from, &msg)
        } else {
            RejectDecision::Ignore(crate::peerswap::response::IgnoreReason::IdOrHashMismatch)
        };
        match decision {
            RejectDecision::Ignore(why) => {
                // SIDEPOOL-10: "If the above validation fails, the receiver SHOULD log the message and otherwise ignore it."
                out.push(log(LogLevel::Warn, format!("peerswap_reject ignored: {}", why.name())));
            }
            RejectDecision::Forget => {
                out.push(log(LogLevel::Info, format!("peerswap rejected by {from:?} with code {}", msg.reason_code.0)));
                self.sessions.remove(&key);
                self.sent_inits.retain(|s| !(s.to == from && s.id == msg.id && s.hash == msg.hash));
                out.push(Action::ForgetPeerswap { id: msg.id, hash: msg.hash, peer: from });
            }
            RejectDecision::NextHopRejected { upstream } => {
                self.sessions.remove(&key);
                self.sent_inits.retain(|s| !(s.to == from && s.id == msg.id && s.hash == msg.hash));
                out.push(Action::ForgetPeerswap { id: msg.id, hash: msg.hash, peer: from });
                let ukey = (msg.id, msg.hash, upstream.clone());
                let Some(u) = self.sessions.get(&ukey) else { return };
                let (Side::Acceptor { forward: Some(record) }, incoming) = (&u.side, u.init.clone()) else { return };
                let record = record.clone();
                let cfg = self.forwarder_config(msg.id);
                // SIDEPOOL-10: "Otherwise, SHOULD accept the peerswap at this node."
                match forward::after_next_hop_reject(&record, &incoming, AfterReject::AcceptHere, &cfg) {
                    Ok(steps) => self.apply_forward_steps(upstream, incoming, steps, out),
                    Err(why) => out.push(log(LogLevel::Warn, format!("after next-hop reject: {why}"))),
                }
            }
        }
    }

    // ---- expansion outcome ------------------------------------------------------------

    fn on_expansion(&mut self, pool: PoolId, outputs: &[(OutputKey, Sat)], tax: TaxInputs, out: &mut Vec<Action<P>>) {
        let keys: Vec<Key<P>> = self
            .sessions
            .iter()
            .filter(|(k, s)| k.0 == pool && s.phase == Phase::Accepted && s.agreed.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(mut s) = self.sessions.remove(&key) else { continue };
            let Some(acceptor) = s.acceptor_pubkeys else {
                self.sessions.insert(key, s);
                continue;
            };
            let role = match s.side {
                Side::Offerrer { upstream: None } => Role::UltimateOfferrer,
                Side::Acceptor { forward: None } => Role::UltimateAcceptor,
                _ => Role::Forwarder,
            };
            let details = HtlcDetails {
                id: s.init.id,
                hash: s.init.hash,
                role: if role == Role::UltimateOfferrer { Role::UltimateOfferrer } else { Role::UltimateAcceptor },
                offerrer_pubkeys: s.init.pubkeys,
                acceptor_pubkeys: acceptor,
                timeouts: s.init.timeouts,
                amount: s.init.amount,
            };
            let output_key = self.keys.htlc_output_key(&details);
            // SIDEPOOL-10: "Check if the [SIDEPOOL-06 HTLC Taproot Public Key][] was created in the expansion phase, with an amount exactly equal to the `peerswap_init_amount_sat`."
            let present = outputs.iter().any(|(k, a)| *k == output_key && *a == s.init.amount);
            let agreed = agreed_upon_amount(s.init.amount, tax);
            let agreed = match (present, agreed) {
                (true, Ok(a)) => a,
                (present, agreed) => {
                    // SIDEPOOL-10: "If the above validation fails, the offerrer, forwarders, and acceptor simply forget this peerswap."
                    // SIDEPOOL-10: "The offerrer, forwarders, and acceptor MUST NOT abort the sidepool simply because the above validation fails (but MAY abort the sidepool for other reasons)."
                    let why = if present {
                        agreed.err().map_or("", |e| e.name()).to_string()
                    } else {
                        "in-sidepool HTLC output missing or of another amount".into()
                    };
                    out.push(log(LogLevel::Info, format!("forgetting peerswap: {why}")));
                    if let Side::Acceptor { forward: Some(_) } = s.side {
                        out.push(Action::DeleteRecord { id: key.0, hash: key.1 });
                    }
                    out.push(Action::ForgetPeerswap { id: key.0, hash: key.1, peer: key.2 });
                    continue;
                }
            };
            s.agreed = Some(agreed);
            if role == Role::UltimateOfferrer {
                // SIDEPOOL-10: "After the offerrer has completed the expansion phase state validation and provided its signature for the expansion phase state, the offerrer proceeds to the in-Lightning HTLC propagation step."
                let (secret, metadata) = self.keys.lightning_fields(s.swap(), Role::UltimateOfferrer);
                let l = PeerswapLightning {
                    id: key.0,
                    hash: key.1,
                    payment_secret: secret,
                    payment_metadata: metadata,
                    unknown: Vec::new(),
                };
                out.push(Action::PersistRecord(Record::Lightning {
                    id: key.0,
                    hash: key.1,
                    peer: key.2.clone(),
                    sent: true,
                    payment_secret: l.payment_secret,
                    payment_metadata: l.payment_metadata.clone(),
                }));
                s.hold = Some(IncomingHold::new(agreed, HoldRole::UltimateOfferrer));
                s.lightning = Some(l.clone());
                s.phase = Phase::Lightning;
                out.push(Action::Send { to: key.2.clone(), msg: Message::PeerswapLightning(l) });
                self.sessions.insert(key, s);
            } else if let Some(early) = s.early_lightning.take() {
                self.sessions.insert(key.clone(), s);
                self.on_lightning_msg(key.2, early, out);
            } else {
                self.sessions.insert(key, s);
            }
        }
    }

    // ---- peerswap_lightning -----------------------------------------------------------

    fn on_lightning_msg(&mut self, from: P, msg: PeerswapLightning, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        // SIDEPOOL-10: "It previously sent `peerswap_accept` to the sender, and the sidepool ID and hash matches the one in `peerswap_accept`."
        let Some(mut s) = self.sessions.remove(&key) else {
            out.push(log(LogLevel::Warn, "peerswap_lightning for no peerswap we accepted from the sender; ignored"));
            return;
        };
        if !matches!(s.side, Side::Acceptor { .. }) || s.phase != Phase::Accepted {
            out.push(log(LogLevel::Warn, "peerswap_lightning out of turn; ignored"));
            self.sessions.insert(key, s);
            return;
        }
        let Some(agreed) = s.agreed else {
            // Our own expansion outcome has not come in yet: keep it until it does.
            s.early_lightning = Some(msg);
            self.sessions.insert(key, s);
            return;
        };
        s.lightning = Some(msg.clone());
        s.phase = Phase::Lightning;
        match s.side.clone() {
            Side::Acceptor { forward: None } => {
                // SIDEPOOL-10: "The ultimate acceptor, once it has received `peerswap_lightning` from the local offerrer, MUST immediately offer the in-Lightning HTLCs."
                let parts = OutgoingParts::new(agreed);
                s.outgoing = Some(parts);
                let rules_init = s.init.clone();
                self.pay(&key, &mut s, &rules_init, &msg, agreed, out);
                self.sessions.insert(key, s);
            }
            Side::Acceptor { forward: Some(record) } => {
                // SIDEPOOL-10: "On receiving `peerswap_lightning`, a forwarder MUST persistently record `peerswap_lightning_payment_secret` and `peerswap_lightning_payment_metadata`, if any."
                out.push(Action::PersistRecord(Record::Lightning {
                    id: msg.id,
                    hash: msg.hash,
                    peer: from.clone(),
                    sent: false,
                    payment_secret: msg.payment_secret,
                    payment_metadata: msg.payment_metadata.clone(),
                }));
                self.sessions.insert(key, s);
                // SIDEPOOL-10: "Then, the forwarder MUST construct its own `peerswap_lightning` message."
                let dkey = (msg.id, msg.hash, record.downstream.clone());
                let Some(d) = self.sessions.get_mut(&dkey) else { return };
                let (secret, metadata) =
                    self.keys.lightning_fields(PeerswapRef { id: msg.id, hash: msg.hash }, Role::Forwarder);
                let own = PeerswapLightning {
                    id: msg.id,
                    hash: msg.hash,
                    payment_secret: secret,
                    payment_metadata: metadata,
                    unknown: Vec::new(),
                };
                d.lightning = Some(own.clone());
                d.phase = Phase::Lightning;
                d.fwd = Some(Forwarder::new(d.agreed.unwrap_or(agreed)));
                out.push(Action::PersistRecord(Record::Lightning {
                    id: msg.id,
                    hash: msg.hash,
                    peer: record.downstream.clone(),
                    sent: true,
                    payment_secret: own.payment_secret,
                    payment_metadata: own.payment_metadata.clone(),
                }));
                // SIDEPOOL-10: "If the local acceptor is a forwarder, it MUST forward a `peerswap_lightning` to its own local acceptor, wait for incoming HTLCs from that acceptor, and *then* send a number of HTLCs to the local offerrer."
                out.push(Action::Send { to: record.downstream, msg: Message::PeerswapLightning(own) });
            }
            Side::Offerrer { .. } => {
                self.sessions.insert(key, s);
            }
        }
    }

    /// Plan the split of `total` to the session's peer and add the HTLCs.
    fn pay(
        &mut self,
        key: &Key<P>,
        s: &mut Session<P>,
        init: &PeerswapInit,
        lightning: &PeerswapLightning,
        total: Msat,
        out: &mut Vec<Action<P>>,
    ) {
        let channels = self.peers.get(&key.2).map(|p| p.channels.clone()).unwrap_or_default();
        // SIDEPOOL-10: "An acceptor (whether the ultimate acceptor, or a forwarder), once it is time to offer the in-Lightning HTLCs, first calculates the "agreed-upon amount" of the in-Lightning HTLCs, as above."
        let plan = match plan_split(total, &channels_to(&channels)) {
            Ok(p) => p,
            Err(why) => {
                out.push(log(LogLevel::Warn, format!("cannot pay the in-Lightning HTLCs: {why}")));
                let evt = OutgoingEvent::Stopped;
                self.feed_outgoing(key, s, evt, out);
                return;
            }
        };
        for part in plan {
            let max_htlc = channels.get(part.channel.0 as usize).map_or(Msat::ZERO, |c| c.htlc_maximum_ours);
            let fields = HtlcRules::for_hop(init, lightning, max_htlc).build(part.amount);
            let htlc = self.alloc_htlc();
            self.outgoing_owner.insert(htlc, key.clone());
            let evt = OutgoingEvent::Offered { htlc, amount: part.amount };
            out.push(Action::AddHtlc { to: key.2.clone(), channel: part.channel, htlc, fields });
            self.feed_outgoing(key, s, evt, out);
        }
    }

    // ---- in-Lightning HTLCs -----------------------------------------------------------

    fn on_incoming_added(&mut self, peer: P, id: u64, htlc: &ObservedHtlc, out: &mut Vec<Action<P>>) {
        let keys: Vec<Key<P>> = self
            .sessions
            .iter()
            .filter(|(k, s)| k.2 == peer && matches!(s.side, Side::Offerrer { .. }) && s.lightning.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(s) = self.sessions.get(&key) else { continue };
            let Some(l) = s.lightning.as_ref() else { continue };
            let max = self.peers.get(&peer).map_or(Msat::ZERO, |p| {
                p.channels
                    .iter()
                    .filter(|c| c.state.is_normal())
                    .map(|c| c.htlc_maximum_from_peer)
                    .max()
                    .unwrap_or(Msat::ZERO)
            });
            let rules = HtlcRules::for_hop(&s.init, l, max);
            match rules.classify(htlc) {
                Incoming::NotThisPeerswap => continue,
                Incoming::Malformed(v) => {
                    out.push(log(LogLevel::Warn, format!("in-Lightning HTLC breaks a rule: {}", v.name())));
                    out.push(Action::FailHtlc { peer, id });
                    return;
                }
                Incoming::Part { amount } => {
                    self.next_incoming += 1;
                    let r = HtlcRef(self.next_incoming);
                    if let Some(s) = self.sessions.get_mut(&key) {
                        s.incoming.push((id, r, amount));
                    }
                    return;
                }
            }
        }
        out.push(log(LogLevel::Debug, "incoming HTLC is not a peerswap's"));
    }

    fn find_incoming(&self, peer: &P, id: u64) -> Option<(Key<P>, HtlcRef, Msat)> {
        self.sessions.iter().find_map(|(k, s)| {
            (k.2 == *peer)
                .then(|| s.incoming.iter().find(|(i, _, _)| *i == id).map(|(_, r, a)| (k.clone(), *r, *a)))
                .flatten()
        })
    }

    fn on_incoming_committed(&mut self, peer: P, id: u64, out: &mut Vec<Action<P>>) {
        let Some((key, r, amount)) = self.find_incoming(&peer, id) else { return };
        let Some(mut s) = self.sessions.remove(&key) else { return };
        let evt = HoldEvent::Committed { htlc: r, amount, at: secs(self.now) };
        if let Some(hold) = s.hold.as_mut() {
            let actions = hold.handle(evt);
            self.hold_actions(&key, &mut s, actions, out);
        } else if let Some(fwd) = s.fwd.as_mut() {
            if let Ok(actions) = fwd.handle(ForwarderEvent::Downstream(evt)) {
                self.forwarder_actions(&key, &mut s, actions, out);
            }
        }
        self.sessions.insert(key, s);
    }

    fn on_incoming_gone(&mut self, peer: P, id: u64, out: &mut Vec<Action<P>>) {
        let Some((key, r, _)) = self.find_incoming(&peer, id) else { return };
        let Some(mut s) = self.sessions.remove(&key) else { return };
        let evt = HoldEvent::Removed { htlc: r, at: secs(self.now) };
        if let Some(hold) = s.hold.as_mut() {
            let actions = hold.handle(evt);
            self.hold_actions(&key, &mut s, actions, out);
        } else if let Some(fwd) = s.fwd.as_mut() {
            if let Ok(actions) = fwd.handle(ForwarderEvent::Downstream(evt)) {
                self.forwarder_actions(&key, &mut s, actions, out);
            }
        }
        self.sessions.insert(key, s);
    }

    fn caller_id(s: &Session<P>, r: HtlcRef) -> Option<u64> {
        s.incoming.iter().find(|(_, x, _)| *x == r).map(|(i, _, _)| *i)
    }

    fn incoming_total(s: &Session<P>, htlcs: &[HtlcRef]) -> Msat {
        Msat(s.incoming.iter().filter(|(_, r, _)| htlcs.contains(r)).fold(0u64, |a, (_, _, m)| a.saturating_add(m.0)))
    }

    fn hold_actions(&mut self, key: &Key<P>, s: &mut Session<P>, actions: Vec<HoldAction>, out: &mut Vec<Action<P>>) {
        for a in actions {
            match a {
                HoldAction::KeepHolding { .. } => {}
                HoldAction::ProceedToSuccess { htlcs, total } => {
                    // Invariant: never fulfil an incoming set below the agreed amount.
                    let agreed = s.agreed.unwrap_or(Msat(u64::MAX));
                    debug_assert!(Self::incoming_total(s, &htlcs) >= agreed && total >= agreed);
                    if Self::incoming_total(s, &htlcs) < agreed {
                        continue;
                    }
                    let Some(acceptor) = s.acceptor_pubkeys else { continue };
                    let handover = Handover { keys: &self.keys, swap: s.swap(), to: acceptor.ephemeral };
                    match resolution::success_path(s.swap(), &htlcs, &handover) {
                        Ok(steps) => {
                            for step in steps {
                                match step {
                                    SuccessStep::SendPeerswapSuccess(m) => {
                                        out.push(Action::Send { to: key.2.clone(), msg: Message::PeerswapSuccess(m) })
                                    }
                                    SuccessStep::Fulfil(r) => {
                                        if let Some(id) = Self::caller_id(s, r) {
                                            out.push(Action::FulfilHtlc { peer: key.2.clone(), id });
                                        }
                                    }
                                }
                            }
                            s.phase = Phase::Done;
                        }
                        Err(e) => out.push(log(LogLevel::Warn, format!("key handover failed: {e}"))),
                    }
                }
                HoldAction::OfferUpstream { .. } => {}
                HoldAction::FailAll { htlcs } => {
                    out.push(log(LogLevel::Info, "60-second hold timed out: failing every in-Lightning HTLC"));
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FailHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
                HoldAction::FailLate { htlc } => {
                    if let Some(id) = Self::caller_id(s, htlc) {
                        out.push(Action::FailHtlc { peer: key.2.clone(), id });
                    }
                }
            }
        }
    }

    /// `s` is the downstream session (key.2 = our local acceptor) of a forwarded peerswap.
    fn forwarder_actions(
        &mut self,
        key: &Key<P>,
        s: &mut Session<P>,
        actions: Vec<ForwarderAction>,
        out: &mut Vec<Action<P>>,
    ) {
        for a in actions {
            match a {
                ForwarderAction::Hold(HoldAction::OfferUpstream { htlcs, total }) => {
                    let agreed = s.agreed.unwrap_or(Msat(u64::MAX));
                    debug_assert!(Self::incoming_total(s, &htlcs) >= agreed);
                    let Side::Offerrer { upstream: Some(up) } = s.side.clone() else { continue };
                    let ukey = (key.0, key.1, up.clone());
                    let Some(u) = self.sessions.get(&ukey) else { continue };
                    let (Some(up_lightning), up_init) = (u.lightning.clone(), u.init.clone()) else { continue };
                    // SIDEPOOL-10: "In particular, once the direct peerswap acceptor has given an HTLC in the Lightning Network channel, the forwarder MUST store this fact in persistent storage before it forwards the HTLC on the Lightning Network channel to the direct peerswap offerrer."
                    out.push(Action::PersistRecord(Record::ForwardedHtlcs {
                        id: key.0,
                        hash: key.1,
                        from: key.2.clone(),
                        to: up.clone(),
                        total,
                    }));
                    // SIDEPOOL-10: "A forwarder MUST instead wait for its own local acceptor to offer *all* in-Lightning HTLCs before itself offerring *any* HTLCs to the local offerrer."
                    let up_key = (key.0, key.1, up);
                    self.pay_upstream(key, &up_key, s, &up_init, &up_lightning, total, out);
                }
                ForwarderAction::Hold(HoldAction::FailAll { htlcs }) => {
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FailHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
                ForwarderAction::Hold(HoldAction::FailLate { htlc }) => {
                    if let Some(id) = Self::caller_id(s, htlc) {
                        out.push(Action::FailHtlc { peer: key.2.clone(), id });
                    }
                }
                ForwarderAction::Hold(_) => {}
                ForwarderAction::FulfilAllDownstream { htlcs } => {
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FulfilHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
                ForwarderAction::FailAllDownstream { htlcs } => {
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FailHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pay_upstream(
        &mut self,
        dkey: &Key<P>,
        ukey: &Key<P>,
        d: &mut Session<P>,
        init: &PeerswapInit,
        lightning: &PeerswapLightning,
        total: Msat,
        out: &mut Vec<Action<P>>,
    ) {
        let channels = self.peers.get(&ukey.2).map(|p| p.channels.clone()).unwrap_or_default();
        let plan = match plan_split(total, &channels_to(&channels)) {
            Ok(p) => p,
            Err(why) => {
                out.push(log(LogLevel::Warn, format!("cannot forward the in-Lightning HTLCs: {why}")));
                self.feed_outgoing(dkey, d, OutgoingEvent::Stopped, out);
                return;
            }
        };
        for part in plan {
            let max_htlc = channels.get(part.channel.0 as usize).map_or(Msat::ZERO, |c| c.htlc_maximum_ours);
            let fields = HtlcRules::for_hop(init, lightning, max_htlc).build(part.amount);
            let htlc = self.alloc_htlc();
            self.outgoing_owner.insert(htlc, dkey.clone());
            out.push(Action::AddHtlc { to: ukey.2.clone(), channel: part.channel, htlc, fields });
            self.feed_outgoing(dkey, d, OutgoingEvent::Offered { htlc, amount: part.amount }, out);
        }
    }

    /// Feeds an outcome event of an HTLC we offered to the session that owns it.
    fn feed_outgoing(&mut self, key: &Key<P>, s: &mut Session<P>, evt: OutgoingEvent, out: &mut Vec<Action<P>>) {
        if let Some(fwd) = s.fwd.as_mut() {
            match fwd.handle(ForwarderEvent::Upstream(evt)) {
                Ok(actions) => self.forwarder_actions(key, s, actions, out),
                Err(e) => out.push(log(LogLevel::Warn, format!("outgoing HTLC event: {e}"))),
            }
        } else if let Some(parts) = s.outgoing.as_mut() {
            match parts.handle(evt) {
                Ok(Some(OutgoingOutcome::AnyFulfilled)) => {
                    out.push(log(LogLevel::Info, "an in-Lightning HTLC was fulfilled: waiting for peerswap_success"));
                }
                Ok(Some(OutgoingOutcome::AllFailedAndRemoved)) => {
                    // The fail path's peerswap_fail is provisional (ERRATA E-67): not sent by this engine.
                    out.push(log(LogLevel::Warn, "every in-Lightning HTLC failed and was removed: fail path"));
                    s.phase = Phase::Done;
                }
                Ok(None) => {}
                Err(e) => out.push(log(LogLevel::Warn, format!("outgoing HTLC event: {e}"))),
            }
        }
    }

    fn on_outgoing(&mut self, htlc: HtlcRef, evt: OutgoingEvent, out: &mut Vec<Action<P>>) {
        let Some(key) = self.outgoing_owner.get(&htlc).cloned() else {
            out.push(log(LogLevel::Debug, "event for an HTLC this engine did not add"));
            return;
        };
        let Some(mut s) = self.sessions.remove(&key) else { return };
        self.feed_outgoing(&key, &mut s, evt, out);
        self.sessions.insert(key, s);
    }

    // ---- resolution -------------------------------------------------------------------

    fn on_success_msg(&mut self, from: P, msg: PeerswapSuccess, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        let Some(s) = self.sessions.get_mut(&key) else {
            out.push(log(LogLevel::Warn, "peerswap_success for no peerswap with the sender; ignored"));
            return;
        };
        if !matches!(s.side, Side::Acceptor { .. }) || s.lightning.is_none() {
            out.push(log(LogLevel::Warn, "peerswap_success out of turn; ignored"));
            return;
        }
        let role = match &s.side {
            Side::Acceptor { forward: Some(_) } => SuccessReceiver::Forwarder,
            _ => SuccessReceiver::UltimateAcceptor,
        };
        let down = match &s.side {
            Side::Acceptor { forward: Some(r) } => Some(r.downstream.clone()),
            _ => None,
        };
        match resolution::receive_success(s.swap(), role, &msg) {
            Err(e) => out.push(log(LogLevel::Warn, format!("peerswap_success ignored: {e}"))),
            Ok(SuccessReceipt::Forward(m)) => {
                s.phase = Phase::Done;
                if let Some(d) = down {
                    // SIDEPOOL-10: "The ultimate offerrer sends out `peerswap_success`, which forwarders then forward to the ultimate acceptor."
                    out.push(Action::Send { to: d, msg: Message::PeerswapSuccess(m) });
                }
            }
            Ok(SuccessReceipt::Claim(resolution::InSidepoolClaim::AcceptorClaims { offerrer_key })) => {
                s.phase = Phase::Done;
                out.push(Action::ClaimInSidepool { id: msg.id, hash: msg.hash, offerrer_key });
            }
            Ok(SuccessReceipt::Claim(_)) => {}
        }
    }

    // ---- invariants -------------------------------------------------------------------

    fn audit_actions(&mut self, out: &[Action<P>]) {
        for a in out {
            match a {
                Action::PersistRecord(Record::Forward(r)) => {
                    self.audit.persisted_forwards.push((r.id, r.hash, r.downstream.clone()));
                }
                Action::Send { to, msg: Message::PeerswapInit(init) } => {
                    // Never two peerswap_init to one peer in a swap party.
                    debug_assert!(!self.audit.inits_sent.iter().any(|(p, _)| p == to));
                    self.audit.inits_sent.push((to.clone(), init.id));
                    let forwarded = self
                        .sessions
                        .get(&(init.id, init.hash, to.clone()))
                        .is_some_and(|s| matches!(s.side, Side::Offerrer { upstream: Some(_) }));
                    // Never a forwarded init without its record persisted first.
                    debug_assert!(
                        !forwarded || self.audit.persisted_forwards.contains(&(init.id, init.hash, to.clone()))
                    );
                }
                _ => {}
            }
        }
    }
}

/// ERRATA E-80: a `peerswap_init` counts as "previously sent" for reject code 1
/// once it got past the membership and swap-party checks.
fn counts_as_received(reason: RejectReason) -> bool {
    !matches!(
        reason,
        RejectReason::NotParticipant
            | RejectReason::SenderNotParticipant
            | RejectReason::NoSwapPartyBegin
            | RejectReason::WrongUpdateCounter
            | RejectReason::AlreadyReceived
    )
}
