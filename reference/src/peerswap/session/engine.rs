//! The engine: world view, ledgers, sessions, and the sequencing rules.

mod htlcs;
mod negotiation;

use std::collections::BTreeMap;

use super::{Action, EngineConfig, Event, HtlcDetails, LogLevel, OutputKey, PoolView, Record, Role, SessionKeys};
use crate::messages::Message;
use crate::peerswap::balance::{measure, Balance, Channel};
use crate::peerswap::constants::{SpecConstants, Timestamp};
use crate::peerswap::forward::{self, AfterReject, ForwardAction, ForwardRecord, ForwarderConfig, NextHop};
use crate::peerswap::lightning_htlcs::{
    in_lightning_amount, plan_split_with, ChannelRef, ChannelToOfferrer, Forwarder, ForwarderAction, ForwarderEvent,
    HoldAction, HoldEvent, HoldRole, HoldState, HtlcRef, HtlcRules, Incoming, IncomingHold, ObservedHtlc, OutgoingEvent,
    OutgoingOutcome, OutgoingParts, Seconds,
};
use crate::peerswap::messages::{
    EncryptedPrivkey, HtlcPubkeys, PeerswapAccept, PeerswapInit, PeerswapLightning, PeerswapReject, PeerswapSuccess,
};
use crate::peerswap::offer::{build_init, plan_offer_with, InitIdentity, InitLedger, OfferRequest, PeerStatus};
use crate::peerswap::receive::{receive_init_with_constants, reject_message, ReceiveContext, ReceiveDecision, RejectReason};
use crate::peerswap::resolution::{self, KeyHandover, PeerswapRef, SuccessReceipt, SuccessReceiver, SuccessStep};
use crate::peerswap::response::{on_accept, on_reject, AcceptDecision, RejectDecision, SentInit};
use crate::pool::TaxInputs;
use crate::units::{BlockHeight, Msat, PaymentHash, PoolId, Sat, UpdateCounter};

// The engine never holds a private key: keys come from `SessionKeys`, and the only
// key material an action carries is `EncryptedPrivkey` (SIDEPOOL-06 handover output).

type Key<P> = (PoolId, PaymentHash, P);

/// Which side of one hop this session is, and the link to the other hop.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Side<P> {
    /// We sent `peerswap_init` to the session's peer (our local acceptor);
    /// `upstream` is set when we forwarded it.
    Offerrer { upstream: Option<P> },
    /// We received `peerswap_init` from the session's peer (our local offerrer);
    /// `forward` is set while we forward it.
    Acceptor { forward: Option<ForwardRecord<P>> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PeerInfo {
    channels: Vec<Channel>,
    supports_feature: bool,
}

/// Audit trail for the engine's own invariants (checked with `debug_assert!`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Audit<P> {
    persisted_forwards: Vec<(PoolId, PaymentHash, P)>,
    /// Peers sent a `peerswap_init` in a swap party that has not ended, with the pool.
    inits_sent: Vec<(P, PoolId)>,
}

/// One node's peerswap engine. `P` is the caller's peer id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerswapEngine<P, K> {
    config: EngineConfig<P>,
    /// The spec's numbers: [`SpecConstants::SPEC`] unless the caller asks "what if" ([`PeerswapEngine::with_constants`]).
    constants: SpecConstants,
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
struct Handover<'a, K, P> {
    keys: &'a K,
    swap: PeerswapRef,
    peer: &'a P,
    to: crate::units::PublicKey,
}

impl<P, K: SessionKeys<P>> KeyHandover for Handover<'_, K, P> {
    type Error = String;
    fn encrypted_ephemeral_privkey(&self) -> Result<EncryptedPrivkey, String> {
        self.keys.encrypted_ephemeral_privkey(self.swap, self.peer, &self.to)
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

impl<P: Clone + Ord + core::fmt::Debug, K: SessionKeys<P>> PeerswapEngine<P, K> {
    pub fn new(config: EngineConfig<P>, keys: K, height: BlockHeight, now: Timestamp) -> Self {
        PeerswapEngine {
            config,
            constants: SpecConstants::SPEC,
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

    /// The same engine applying the numbers `constants` in place of the text's
    /// (the model checker's "what if the spec said ..."). Set it before the first event.
    pub fn with_constants(mut self, constants: SpecConstants) -> Self {
        self.constants = constants;
        self
    }

    pub fn config(&self) -> &EngineConfig<P> {
        &self.config
    }
    pub fn constants(&self) -> &SpecConstants {
        &self.constants
    }
    /// The keys the caller gave.
    pub fn keys(&self) -> &K {
        &self.keys
    }
    /// The earliest time at which a [`Event::TimePassed`] would change something:
    /// a deferred `peerswap_init`'s 5 minutes, or a 60-second hold running out.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let hold_deadline = |h: &IncomingHold| match h.state() {
            HoldState::Holding { deadline, .. } => Some(Timestamp(deadline.0)),
            _ => None,
        };
        self.sessions
            .values()
            .filter_map(|s| match s.phase {
                Phase::Deferred { arrived_at } => Some(arrived_at.saturating_add(self.constants.swap_party_begin_deferral)),
                _ => s.hold.as_ref().and_then(hold_deadline).or_else(|| s.fwd.as_ref().and_then(|f| hold_deadline(f.hold()))),
            })
            .min()
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
    /// How many `peerswap_init`s we sent (offered or forwarded) still wait for their answer.
    pub fn unanswered_inits(&self) -> usize {
        self.sessions.iter().filter(|(k, _)| self.awaits_answer(k)).count()
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
            Event::ReceivedMalformedInit { from, init } => self.on_malformed_init(from, init, &mut out),
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

    /// Remembers a `peerswap_init` sent, replacing an earlier one to the same
    /// peer for the same pool id and hash (a forgotten peerswap's).
    fn remember_sent_init(&mut self, sent: SentInit<P>) {
        self.sent_inits.retain(|s| !(s.to == sent.to && s.id == sent.id && s.hash == sent.hash));
        self.sent_inits.push(sent);
    }

    /// Forgets the `peerswap_init` sent on the hop `key`: no answer to it counts any more.
    fn forget_sent_init(&mut self, key: &Key<P>) {
        self.sent_inits.retain(|s| !(s.to == key.2 && s.id == key.0 && s.hash == key.1));
    }

    /// Whether the hop `key` is one where we sent `peerswap_init` and wait for the answer.
    /// A session where we *received* the init from that peer is not: the peer cannot
    /// answer its own offer.
    fn awaits_answer(&self, key: &Key<P>) -> bool {
        self.sessions
            .get(key)
            .is_some_and(|s| s.phase == Phase::AwaitingAnswer && matches!(s.side, Side::Offerrer { .. }))
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
