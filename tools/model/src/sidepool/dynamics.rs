//! How the world moves: events into the nodes' engines, their actions carried
//! out (messages queued, HTLCs added, fulfilled and failed, outputs requested,
//! the pool aborted), the in-Lightning HTLCs' fates, the pool's phases, and
//! what honest nodes do by themselves outside the engine (the embedding: pool
//! participation, onchain claims, timeouts, the forwarder's restart rule).

use std::collections::VecDeque;

use sidepool_reference::messages::Message;
use sidepool_reference::peerswap::balance::{Capacity, Channel, ChannelState};
use sidepool_reference::peerswap::choices::Choices;
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::lightning_htlcs::{in_lightning_amount, HtlcRef, ObservedHtlc};
use sidepool_reference::peerswap::session::{
    Action, EngineConfig, Event, LogLevel, OutputKey, PoolView, Record, Role,
};
use sidepool_reference::pool::TaxInputs;
use sidepool_reference::units::{BlockDelta, BlockHeight, Msat, Sat, UpdateCounter};
use sidepool_reference::SpecRevision;

use super::ids::{ModelKeys, NodeId, POOL};
use super::params::{Config, ContractionReading, OfferrerRestart, Script};
use super::world::{Engine, HtlcTerms, LnHtlc, LnState, NodeState, Phase, PoolHtlc, SpendPath, World};

/// Seconds per block when heights jump after the swap party.
pub const BLOCK_SECONDS: u64 = 600;

/// One engine call, for traces and vector export.
#[derive(Clone, Debug)]
pub struct EngineIo {
    pub node: NodeId,
    pub incarnation: u8,
    pub height: u32,
    pub now: u64,
    pub event: Event<NodeId>,
    pub actions: Vec<Action<NodeId>>,
    /// The node crashed after carrying out only the first `carried` actions.
    pub carried: Option<usize>,
}

/// What a step did, recorded only when a trace is being rendered.
#[derive(Clone, Debug, Default)]
pub struct Sink {
    pub notes: Vec<String>,
    pub io: Vec<EngineIo>,
    /// Both, in the order they happened: `(false, i)` is `notes[i]`, `(true, i)` is `io[i]`.
    pub order: Vec<(bool, usize)>,
}

/// The step being applied: the settings, the optional recorder and the engine
/// events still to deliver (reactions are delivered in the order they arise).
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub sink: Option<&'a mut Sink>,
    pending: VecDeque<(NodeId, Event<NodeId>)>,
}

impl<'a> Ctx<'a> {
    pub fn new(cfg: &'a Config, sink: Option<&'a mut Sink>) -> Ctx<'a> {
        Ctx { cfg, sink, pending: VecDeque::new() }
    }
    pub fn note(&mut self, f: impl FnOnce() -> String) {
        if let Some(s) = self.sink.as_deref_mut() {
            s.order.push((false, s.notes.len()));
            s.notes.push(f());
        }
    }
    fn later(&mut self, node: NodeId, ev: Event<NodeId>) {
        self.pending.push_back((node, ev));
    }
}

// ---- setup ---------------------------------------------------------------------------

/// The pool's tax inputs for the state the expansion produces (SIDEPOOL-02 at seed; the
/// upstream revision has no tax, and its engines do not use them).
pub fn tax_inputs(cfg: &Config) -> TaxInputs {
    match cfg.revision {
        SpecRevision::Seed => TaxInputs { total_offchain_fees: Sat(1_500), output_count: 7 },
        SpecRevision::Upstream50799b4 => TaxInputs { total_offchain_fees: Sat(0), output_count: 1 },
    }
}

/// The channel between `up` (the peerswap's offerring side, the poorer) and its
/// downstream neighbour, as `me` sees it: 1 000 000 sat, 30 % on the upstream side.
pub fn channel(cfg: &Config, me_is_up: bool) -> Channel {
    let (up, down) = (Msat(300_000_000), Msat(700_000_000));
    let max_htlc = Msat(200_000_000 / u64::from(cfg.ln_parts.max(1)));
    Channel {
        state: ChannelState::Normal,
        capacity: Capacity::Msat(Msat(1_000_000_000)),
        ours: if me_is_up { up } else { down },
        theirs: if me_is_up { down } else { up },
        pending_htlcs: Msat(0),
        our_reserve: Msat(10_000_000),
        htlc_maximum_from_peer: max_htlc,
        htlc_maximum_ours: max_htlc,
    }
}

pub fn participants(cfg: &Config) -> Vec<NodeId> {
    let mut p = cfg.path();
    p.push(NodeId::L);
    p
}

pub fn engine_config(cfg: &Config, me: NodeId, adversary: Option<NodeId>) -> EngineConfig<NodeId> {
    let final_cltv = if me == NodeId::O && adversary == Some(NodeId::O) {
        cfg.adversary_final_cltv_delta
    } else {
        cfg.final_cltv_delta
    };
    EngineConfig {
        me,
        forward: true,
        cltv_delta: BlockDelta(cfg.cltv_delta),
        final_cltv_delta: BlockDelta(final_cltv),
        revision: cfg.revision,
        // The reference's readings of the spec's open choices (choices.rs).
        choices: Choices::default(),
    }
}

/// The events a node's fresh engine gets before anything happens: its channels, and the
/// pool (unless the pool is gone).
pub fn setup_events(cfg: &Config, me: NodeId, with_pool: bool) -> Vec<Event<NodeId>> {
    let path = cfg.path();
    let mut evs = Vec::new();
    // The pool update counter before the swap party's expansion (odd, SIDEPOOL-02).
    if let (true, Some(update_counter)) = (with_pool, UpdateCounter::new(1)) {
        evs.push(Event::PoolUpdated(PoolView { id: POOL, participants: participants(cfg), leader: NodeId::L, update_counter }));
    }
    if let Some(i) = path.iter().position(|n| *n == me) {
        if let Some(up) = i.checked_sub(1).and_then(|j| path.get(j)) {
            evs.push(Event::ChannelsUpdated { peer: *up, channels: vec![channel(cfg, false)], supports_feature: true });
        }
        if let Some(down) = path.get(i + 1) {
            evs.push(Event::ChannelsUpdated { peer: *down, channels: vec![channel(cfg, true)], supports_feature: true });
        }
    }
    evs
}

pub fn new_engine(cfg: &Config, me: NodeId, adversary: Option<NodeId>, height: u32, now: u64) -> Option<Engine> {
    let keys = ModelKeys::new(me)?;
    Some(
        Engine::new(engine_config(cfg, me, adversary), keys, BlockHeight(height), Timestamp(now))
            .with_constants(cfg.constants),
    )
}

// ---- engines -------------------------------------------------------------------------

fn is_internal(a: &Action<NodeId>) -> bool {
    matches!(a, Action::PersistRecord(_) | Action::DeleteRecord { .. } | Action::Log { .. } | Action::ForgetPeerswap { .. })
}

/// Feeds `ev` to `n`'s engine and carries out its actions (an honest node at once, in
/// order; the adversary keeps the externally visible ones for later). With
/// `cut = Some(k)`, an honest node crashes right after carrying out its `k`-th action
/// (logs aside; the rest are lost); `false` when that leaves nothing visible undone
/// (the step is no new case).
pub fn feed(w: &mut World, ctx: &mut Ctx, n: NodeId, ev: Event<NodeId>, cut: Option<u8>) -> bool {
    let adversarial = !w.is_honest(n);
    let (height, now) = (w.height, w.now);
    let Some(node) = w.node_mut(n) else { return cut.is_none() };
    let Some(engine) = node.engine.as_mut() else {
        let name = n.name();
        ctx.note(|| format!("{name} is down: {} lost", event_name(&ev)));
        return cut.is_none();
    };
    let actions = engine.handle(ev.clone());
    let incarnation = node.incarnation;
    let carried = match cut {
        None => None,
        Some(k) => {
            let at = actions
                .iter()
                .enumerate()
                .filter(|(_, a)| !matches!(a, Action::Log { .. }))
                .nth(usize::from(k).saturating_sub(1))
                .map(|(i, _)| i + 1);
            // Only a crash with something visible left undone after the record is a new case.
            match at {
                Some(i) if !adversarial && actions.get(i..).is_some_and(|rest| rest.iter().any(|a| !is_internal(a))) => Some(i),
                _ => return false,
            }
        }
    };
    if let Some(s) = ctx.sink.as_deref_mut() {
        s.order.push((true, s.io.len()));
        s.io.push(EngineIo { node: n, incarnation, height, now, event: ev, actions: actions.clone(), carried });
    }
    let upto = carried.unwrap_or(actions.len());
    for a in actions.into_iter().take(upto) {
        if adversarial && !is_internal(&a) {
            if let Some(node) = w.node_mut(n) {
                node.outbox.push(a);
            }
        } else {
            perform(w, ctx, n, a);
        }
    }
    if carried.is_some() {
        crash(w, ctx, n);
    }
    true
}

/// Delivers every pending reaction, then lets honest nodes do what they do by
/// themselves, until nothing changes.
pub fn settle(w: &mut World, ctx: &mut Ctx) {
    for _ in 0..64 {
        while let Some((n, ev)) = ctx.pending.pop_front() {
            feed(w, ctx, n, ev, None);
        }
        if !honest_reactions(w, ctx) && ctx.pending.is_empty() {
            return;
        }
    }
    ctx.note(|| "settling did not converge (a model bug)".into());
}

/// Carries out one action of `n`'s engine.
pub fn perform(w: &mut World, ctx: &mut Ctx, n: NodeId, a: Action<NodeId>) {
    match a {
        Action::Send { to, msg } => {
            if let Message::PeerswapSuccess(_) = &msg {
                key_handover(w, ctx, n);
            }
            send(w, ctx, n, to, msg);
        }
        Action::PersistRecord(r) => {
            if let Some(node) = w.node_mut(n) {
                node.store.push(r);
            }
        }
        Action::DeleteRecord { id, hash } => {
            if let Some(node) = w.node_mut(n) {
                node.store.retain(|r| !matches!(r, Record::Forward(f) if f.id == id && f.hash == hash));
            }
        }
        Action::AddHtlc { to, htlc, fields, .. } => ln_add(w, ctx, n, to, htlc, fields),
        Action::FulfilHtlc { id, .. } => {
            if let Ok(i) = usize::try_from(id) {
                ln_fulfil(w, ctx, i, n);
            }
        }
        Action::FailHtlc { id, .. } => {
            if let Ok(i) = usize::try_from(id) {
                ln_fail(w, ctx, i, n);
            }
        }
        Action::RequestExpansionOutput { output_key, amount, .. } => request_output(w, ctx, n, output_key, amount),
        Action::ClaimInSidepool { offerrer_key, .. } => {
            let offerrer = w.pool.terms.as_ref().map_or(NodeId::O, |t| t.offerrer);
            if let Some(node) = w.node_mut(n) {
                if offerrer_key.encrypted_key == ModelKeys::handover_bytes(offerrer) && !node.lost_ephemeral {
                    node.holds_key = true;
                }
            }
            ctx.note(|| format!("{} holds both ephemeral keys: it will claim in the Contraction Phase", n.name()));
        }
        Action::ForgetPeerswap { peer, .. } => ctx.note(|| format!("{} forgets the peerswap with {}", n.name(), peer.name())),
        Action::AbortSidepool { reason, .. } => abort(w, ctx, &format!("{} aborts the sidepool ({reason})", n.name())),
        Action::Log { level, text } => {
            if level >= LogLevel::Info {
                ctx.note(|| format!("{} logs: {text}", n.name()));
            }
        }
    }
}

fn key_handover(w: &mut World, ctx: &mut Ctx, n: NodeId) {
    // Only the ultimate offerrer's own `peerswap_success` hands a key over; a forwarder passes it on.
    if w.pool.terms.as_ref().is_none_or(|t| t.offerrer != n) && n != NodeId::O {
        return;
    }
    let honest = w.is_honest(n);
    let committed: u64 = w
        .htlcs
        .iter()
        .filter(|h| h.payee == n && h.state != LnState::Offered && h.state != LnState::Refunded)
        .map(|h| h.amount().0)
        .sum();
    let agreed = w.pool.terms.as_ref().map_or(u64::MAX, |t| t.value.0);
    if honest && committed < agreed {
        // SIDEPOOL-10: "Once the total in-Lightning HTLCs of the peerswap-in-sidepool have been irrevocably committed, and the total amount equals or exceeds the "agreed-upon amount":"
        w.key_handed_early = true;
        ctx.note(|| format!("{} hands over its key with only {committed} msat irrevocably committed", n.name()));
    }
    if let Some(node) = w.node_mut(n) {
        node.handed_key = true;
    }
}

fn send(w: &mut World, ctx: &mut Ctx, from: NodeId, to: NodeId, msg: Message) {
    let up = |id| w.node(id).is_some_and(NodeState::is_up);
    let (from_up, to_up) = (up(from), up(to));
    let Some(c) = w.conn_between(from, to) else {
        ctx.note(|| format!("{} has no connection to {}: {} dropped", from.name(), to.name(), msg.name()));
        return;
    };
    if !from_up || !to_up {
        ctx.note(|| format!("{} is down: {} lost", to.name(), msg.name()));
        return;
    }
    if let Some(q) = w.conns.get_mut(c).and_then(|c| c.queue_mut(from)) {
        q.push(msg);
    }
}

/// Kills `n`: its engine and everything only in memory are gone (its ephemeral keys
/// with them); what was on its way to it is lost (what it had sent is on the wire and
/// may still arrive; a disconnect would lose that too); a swap party in progress
/// cannot complete (SIDEPOOL-10: MuSig2 nonces are never persisted), so the pool aborts.
pub fn crash(w: &mut World, ctx: &mut Ctx, n: NodeId) {
    if let Some(node) = w.node_mut(n) {
        node.engine = None;
        node.holds_key = false;
        node.lost_ephemeral = true;
        node.incarnation = node.incarnation.saturating_add(1);
    }
    for c in w.conns.iter_mut() {
        if c.down == n {
            c.to_down.clear();
        }
        if c.up == n {
            c.to_up.clear();
        }
    }
    w.faulted = true;
    ctx.note(|| format!("{} crashes: what it had not persisted is lost", n.name()));
    // SIDEPOOL-10: "Even though the sidepool is supposed to abort if any participant suffers a crash or restart during a swap party (as MuSig2 nonces are never persisted), the in-Lightning state is not in-pool state, and thus changes state independently of what happens with the sidepool."
    if w.party_running() {
        abort(w, ctx, "the swap party cannot complete without the crashed node: the sidepool aborts");
    }
}

/// A fresh engine for a crashed node, told what its persistent state and the chain say.
pub fn restart(w: &mut World, ctx: &mut Ctx, n: NodeId) {
    let pool_alive = !matches!(w.pool.phase, Phase::Aborted { .. });
    let (height, now, adversary) = (w.height, w.now, w.adversary);
    let Some(engine) = new_engine(ctx.cfg, n, adversary, height, now) else { return };
    if let Some(node) = w.node_mut(n) {
        node.engine = Some(engine);
    }
    ctx.note(|| format!("{} restarts from its store", n.name()));
    for ev in setup_events(ctx.cfg, n, pool_alive) {
        feed(w, ctx, n, ev, None);
    }
    if matches!(w.pool.phase, Phase::Done) {
        feed(w, ctx, n, Event::ContractionDone { pool: POOL }, None);
    }
}

fn event_name(ev: &Event<NodeId>) -> &'static str {
    match ev {
        Event::Received { msg, .. } => msg.name(),
        Event::IncomingHtlcAdded { .. } | Event::IncomingHtlcCommitted { .. } => "an incoming HTLC",
        _ => "an event",
    }
}

// ---- in-Lightning HTLCs --------------------------------------------------------------

fn ln_add(w: &mut World, ctx: &mut Ctx, payer: NodeId, payee: NodeId, payer_ref: HtlcRef, fields: ObservedHtlc) {
    let incarnation = w.node(payer).map_or(0, |p| p.incarnation);
    ctx.note(|| {
        format!(
            "{} offers {} an HTLC of {} msat expiring at {}",
            payer.name(),
            payee.name(),
            fields.amount_msat.0,
            fields.cltv_expiry.0
        )
    });
    w.htlcs.push(LnHtlc {
        payer,
        payee,
        payer_ref,
        payer_incarnation: incarnation,
        payee_incarnation: None,
        fields,
        state: LnState::Offered,
    });
}

/// The HTLC `i` becomes irrevocably committed and its payee's engine hears of it; an
/// honest payee's Lightning node refuses one expiring before its claim could confirm
/// (BOLT 4: a final node fails an HTLC whose `cltv_expiry` is "unreasonably near the present").
pub fn ln_commit(w: &mut World, ctx: &mut Ctx, i: usize, cut: Option<u8>) -> bool {
    let Some(h) = w.htlcs.get(i) else { return false };
    let (payer, payee, fields, expiry) = (h.payer, h.payee, h.fields.clone(), h.expiry());
    if w.is_honest(payee) && expiry < w.height.saturating_add(ctx.cfg.confirm_blocks) {
        if cut.is_some() {
            return false;
        }
        ctx.note(|| format!("{}'s Lightning node refuses the HTLC: it expires too soon to be claimed", payee.name()));
        refund(w, ctx, i);
        return true;
    }
    let inc = w.node(payee).map(|p| p.incarnation);
    if let Some(h) = w.htlcs.get_mut(i) {
        h.state = LnState::Committed;
        h.payee_incarnation = inc;
    }
    let id = i as u64;
    feed(w, ctx, payee, Event::IncomingHtlcAdded { peer: payer, id, htlc: fields }, None);
    feed(w, ctx, payee, Event::IncomingHtlcCommitted { peer: payer, id }, cut)
}

/// The payee reveals the preimage for HTLC `i`. Against an adversarial payer that is
/// close to the expiry, this is a race onchain.
pub fn ln_fulfil(w: &mut World, ctx: &mut Ctx, i: usize, by: NodeId) {
    let (height, c) = (w.height, ctx.cfg.confirm_blocks);
    let payer_honest = w.htlcs.get(i).is_some_and(|h| w.is_honest(h.payer));
    let Some(h) = w.htlcs.get_mut(i) else { return };
    if h.payee != by {
        return;
    }
    let next = match h.state {
        // Mined by block `height + c` at the latest; the timeout can be mined from block `expiry + 1`.
        LnState::Committed if payer_honest || height.saturating_add(c) <= h.expiry() => LnState::Paid,
        LnState::Committed => LnState::PayeeClaiming { confirm_at: height.saturating_add(c) },
        // The adversarial payee's claim while the honest payer's timeout is unconfirmed: it wins.
        LnState::PayerReclaiming { .. } => LnState::Paid,
        _ => {
            ctx.note(|| format!("{} cannot fulfil that HTLC any more", by.name()));
            return;
        }
    };
    h.state = next;
    let (payer, payer_ref, payer_inc) = (h.payer, h.payer_ref, h.payer_incarnation);
    ctx.note(|| match next {
        LnState::Paid => format!("{} fulfils the HTLC from {}: the preimage is revealed", by.name(), payer.name()),
        _ => format!("{} claims the HTLC from {} onchain with the preimage (racing its timeout)", by.name(), payer.name()),
    });
    if let Some(p) = w.node_mut(payer) {
        p.knows_preimage = true;
        if p.is_up() && p.incarnation == payer_inc {
            ctx.later(payer, Event::OutgoingHtlcFulfilled { htlc: payer_ref });
        }
    }
}

pub fn ln_fail(w: &mut World, ctx: &mut Ctx, i: usize, by: NodeId) {
    let Some(h) = w.htlcs.get(i) else { return };
    if h.payee != by || !matches!(h.state, LnState::Offered | LnState::Committed) {
        return;
    }
    let payer = h.payer;
    ctx.note(|| format!("{} fails the HTLC from {}", by.name(), payer.name()));
    refund(w, ctx, i);
}

/// The payer has its money back; both engines hear of it.
pub fn refund(w: &mut World, ctx: &mut Ctx, i: usize) {
    let Some(h) = w.htlcs.get_mut(i) else { return };
    h.state = LnState::Refunded;
    let (payer, payee, payer_ref, payer_inc, payee_inc) = (h.payer, h.payee, h.payer_ref, h.payer_incarnation, h.payee_incarnation);
    if w.node(payer).is_some_and(|p| p.is_up() && p.incarnation == payer_inc) {
        ctx.later(payer, Event::OutgoingHtlcFailed { htlc: payer_ref });
        ctx.later(payer, Event::OutgoingHtlcRemovalCommitted { htlc: payer_ref });
    }
    if w.node(payee).is_some_and(|p| p.is_up() && Some(p.incarnation) == payee_inc) {
        ctx.later(payee, Event::IncomingHtlcGone { peer: payer, id: i as u64 });
    }
}

// ---- the pool ------------------------------------------------------------------------

fn request_output(w: &mut World, ctx: &mut Ctx, n: NodeId, output_key: OutputKey, amount: Sat) {
    if !matches!(w.pool.phase, Phase::Expansion { .. }) || w.pool.terms.is_some() {
        ctx.note(|| format!("{}'s expansion request comes too late: the Expansion Phase is closed", n.name()));
        return;
    }
    let details = w.node(n).and_then(|node| {
        node.store.iter().rev().find_map(|r| match r {
            Record::HtlcDetails(d) if d.role == Role::UltimateOfferrer => Some(d.clone()),
            _ => None,
        })
    });
    let Some(d) = details else { return };
    let acceptor = [NodeId::F1, NodeId::F2, NodeId::A]
        .into_iter()
        .find(|x| ModelKeys::new(*x).is_some_and(|k| k.pubkeys == d.acceptor_pubkeys));
    let Some(acceptor) = acceptor else {
        ctx.note(|| "the acceptor keys are no participant's".into());
        return;
    };
    // What the in-Lightning HTLCs total at this revision: what the output is worth in the accounting.
    let value = in_lightning_amount(ctx.cfg.revision, amount, tax_inputs(ctx.cfg)).unwrap_or(Msat(0));
    ctx.note(|| {
        format!(
            "{} asks for the in-sidepool HTLC output ({} sat, timeout {}, acceptor {})",
            n.name(),
            amount.0,
            d.timeouts.sidepool.0,
            acceptor.name()
        )
    });
    w.pool.terms = Some(HtlcTerms { offerrer: n, acceptor, output_key, amount, timeout: d.timeouts.sidepool.0, value });
}

/// The leader sends `swap_party_expand_done`: the HTLC output exists if it was asked for.
pub fn close_expansion(w: &mut World, ctx: &mut Ctx) {
    w.pool.phase = Phase::Contraction { deadline: w.now.saturating_add(ctx.cfg.phase_seconds) };
    if w.pool.terms.is_some() {
        w.pool.htlc = PoolHtlc::InPool;
    }
    let with = if w.pool.terms.is_some() { "with" } else { "without" };
    ctx.note(|| format!("the Expansion Phase completes {with} the in-sidepool HTLC output"));
}

pub fn expansion_outcome(w: &World, cfg: &Config) -> Event<NodeId> {
    let outputs = match (&w.pool.terms, w.pool.htlc) {
        (Some(t), PoolHtlc::InPool | PoolHtlc::OnChain { .. } | PoolHtlc::Spent { .. }) => vec![(t.output_key, t.amount)],
        _ => Vec::new(),
    };
    Event::ExpansionOutcome { pool: POOL, outputs, tax: tax_inputs(cfg) }
}

/// Who keeps the Contraction Phase from completing, and why (SIDEPOOL-06).
pub fn contraction_blockers(w: &World, cfg: &Config) -> Vec<(NodeId, &'static str)> {
    let mut out = Vec::new();
    let Some(t) = &w.pool.terms else { return out };
    if w.pool.htlc != PoolHtlc::InPool {
        return out;
    }
    if w.is_honest(t.offerrer) && !w.node(t.offerrer).is_some_and(|o| o.handed_key) {
        // SIDEPOOL-06: "While the offerrer is waiting for the acceptor to either fulfill (send preimage) or fail (send acceptor ephemeral private key), it MUST NOT participate in the Contraction Phase until the acceptor responds."
        out.push((t.offerrer, "the offerrer still has an interest in the HTLC"));
    }
    let acceptor = t.acceptor;
    if w.is_honest(acceptor) && !w.node(acceptor).is_some_and(|a| a.holds_key) {
        let paying = w.htlcs.iter().any(|h| {
            h.payer == acceptor
                && match cfg.contraction {
                    ContractionReading::WhilePaying => h.state != LnState::Refunded,
                    ContractionReading::AfterFulfilled => matches!(h.state, LnState::Paid | LnState::PayeeClaiming { .. }),
                }
        });
        if paying {
            // SIDEPOOL-06: "While the acceptor is waiting for private key handover after it has fulfilled the HTLC, it MUST NOT participate in the Contraction Phase until the offerrer responds."
            out.push((acceptor, "the acceptor waits for the key it is paying for"));
        }
    }
    out
}

/// `swap_party_contract_done`: the acceptor holding both keys has claimed the HTLC.
pub fn complete_contraction(w: &mut World, ctx: &mut Ctx) {
    w.pool.phase = Phase::Done;
    if let (Some(t), PoolHtlc::InPool) = (&w.pool.terms, w.pool.htlc) {
        let acceptor = t.acceptor;
        if w.node(acceptor).is_some_and(|a| a.holds_key && a.is_up()) {
            w.pool.htlc = PoolHtlc::Spent { to: Some(acceptor), path: Some(SpendPath::Contraction) };
            ctx.note(|| format!("{} claims the in-sidepool HTLC in the Contraction Phase", acceptor.name()));
        } else {
            ctx.note(|| "the in-sidepool HTLC stays in the pool, unresolved".into());
        }
    }
    ctx.note(|| "the swap party completes".into());
    for n in w.nodes.iter().filter(|n| n.is_up()).map(|n| n.id).collect::<Vec<_>>() {
        ctx.later(n, Event::ContractionDone { pool: POOL });
    }
}

/// The sidepool aborts: it goes onchain, the HTLC output with it.
pub fn abort(w: &mut World, ctx: &mut Ctx, why: &str) {
    let alive = match w.pool.phase {
        Phase::Expansion { .. } | Phase::Contraction { .. } => true,
        Phase::Done => w.pool.htlc == PoolHtlc::InPool,
        Phase::Idle | Phase::Aborted { .. } => false,
    };
    if !alive {
        return;
    }
    w.pool.phase = Phase::Aborted { height: w.height };
    let appears = w.height.saturating_add(ctx.cfg.abort_blocks);
    if w.pool.htlc == PoolHtlc::InPool {
        w.pool.htlc = PoolHtlc::OnChain { appears_at: appears, claim: None };
    }
    ctx.note(|| {
        if matches!(w.pool.htlc, PoolHtlc::OnChain { .. }) {
            format!("{why}; the HTLC output can be spent onchain from height {appears}")
        } else {
            why.to_string()
        }
    });
    for n in w.nodes.iter().filter(|n| n.is_up()).map(|n| n.id).collect::<Vec<_>>() {
        ctx.later(n, Event::PoolRemoved { pool: POOL });
    }
}

// ---- what honest nodes do by themselves ----------------------------------------------

/// Whether `o` (the ultimate offerrer) was paid: an incoming HTLC of the peerswap is
/// fulfilled (it then hands its key over and must not take the refund).
pub fn offerrer_paid(w: &World, o: NodeId) -> bool {
    w.htlcs.iter().any(|h| h.payee == o && matches!(h.state, LnState::Paid | LnState::PayeeClaiming { .. }))
}

/// How `n` could spend the in-sidepool HTLC output onchain at `height`, if it can.
pub fn onchain_path(w: &World, cfg: &Config, n: NodeId, height: u32) -> Option<SpendPath> {
    let PoolHtlc::OnChain { appears_at, .. } = w.pool.htlc else { return None };
    let t = w.pool.terms.as_ref()?;
    let node = w.node(n)?;
    if height < appears_at {
        return None;
    }
    if n == t.acceptor && node.holds_key {
        return Some(SpendPath::Keypath);
    }
    if n == t.acceptor && node.knows_preimage {
        // SIDEPOOL-06: "Otherwise, if the acceptor can fulfill the HTLC by revealing the preimage, the acceptor MUST use the hashlock branch by revealing the aggregate public key (the internal public key of the HTLC) and the Merkle tree path to the hashlock branch, together with its signature (using the acceptor persistent keypair) and the preimage."
        return Some(SpendPath::Hashlock);
    }
    if n == t.offerrer && cfg.script == Script::Fixed && height >= timelock_valid(t.timeout, appears_at) {
        // SIDEPOOL-06: "Otherwise, the offerrer MUST wait for the absolute time lock to arrive AND for the Last update transaction to actually confirm, then use the timelock branch by revealing the aggregate public key and the Merkle tree path to the timelock branch, together with its signature (using the offerrer persistent keypair)."
        return Some(SpendPath::Timelock);
    }
    None
}

/// The first block the timelock leaf's spend can be in: its `nLockTime` is the absolute lock
/// time (final only in a later block) and its `nSequence` one block after the Last update
/// transaction (SIDEPOOL-06: "an `nLockTime` equal or greater than the absolute lock time,
/// and an `nSequence` that encodes a relative 1 block lock time").
pub fn timelock_valid(timeout: u32, appears_at: u32) -> u32 {
    timeout.saturating_add(1).max(appears_at.saturating_add(1))
}

/// One pass of honest reactions; `true` if anything changed.
///
/// Races: an honest claim broadcast with the tip at `b` is in block `b + confirm_blocks` at the
/// latest (`confirm_at`); it is settled once the tip is past that block, so a conflicting
/// adversarial spend valid in any block up to `confirm_at` wins (ties included).
fn honest_reactions(w: &mut World, ctx: &mut Ctx) -> bool {
    let c = ctx.cfg.confirm_blocks;
    let height = w.height;
    let mut changed = false;
    // In-Lightning HTLCs: confirmations, and honest payers timing out expired HTLCs.
    for i in 0..w.htlcs.len() {
        let Some(h) = w.htlcs.get(i) else { continue };
        let (payer, payee, expiry, state) = (h.payer, h.payee, h.expiry(), h.state);
        match state {
            LnState::PayeeClaiming { confirm_at } if height > confirm_at => {
                if let Some(h) = w.htlcs.get_mut(i) {
                    h.state = LnState::Paid;
                }
                ctx.note(|| format!("{}'s onchain claim of the HTLC from {} confirms", payee.name(), payer.name()));
                changed = true;
            }
            LnState::PayerReclaiming { confirm_at } if height > confirm_at => {
                ctx.note(|| format!("{}'s timeout of its HTLC to {} confirms", payer.name(), payee.name()));
                refund(w, ctx, i);
                changed = true;
            }
            LnState::Offered | LnState::Committed if height >= expiry && w.is_honest(payer) => {
                if w.is_honest(payee) {
                    ctx.note(|| format!("the HTLC from {} to {} expires: {} has its money back", payer.name(), payee.name(), payer.name()));
                    refund(w, ctx, i);
                } else if let Some(h) = w.htlcs.get_mut(i) {
                    h.state = LnState::PayerReclaiming { confirm_at: height.saturating_add(c) };
                    ctx.note(|| format!("{} times out its HTLC to {} onchain", payer.name(), payee.name()));
                }
                changed = true;
            }
            _ => {}
        }
    }
    changed |= restart_rules(w, ctx);
    changed |= onchain_claims(w, ctx);
    // An honest acceptor that paid, holds no key, and sees the HTLC left in a completed
    // pool must get it out: it aborts the sidepool (any participant may) and claims onchain.
    if let (Phase::Done, PoolHtlc::InPool, Some(t)) = (w.pool.phase, w.pool.htlc, &w.pool.terms) {
        let a = t.acceptor;
        if w.is_honest(a) && w.node(a).is_some_and(|n| n.knows_preimage && !n.holds_key && n.is_up()) {
            abort(w, ctx, &format!("{} learnt the preimage but holds no key: it aborts the sidepool", a.name()));
            changed = true;
        }
    }
    changed
}

/// Incoming HTLCs a restarted forwarder's engine does not know (committed before it
/// crashed): SIDEPOOL-10's restart rules, from its persisted forwarding record. The
/// ultimate offerrer has no restart rule in the text; like the reference node it leaves
/// such HTLCs to their fate (the payer takes them back at the expiry), unless
/// `offerrer_restart=fulfil` (ERRATA E-97).
fn restart_rules(w: &mut World, ctx: &mut Ctx) -> bool {
    let mut changed = offerrer_restart(w, ctx);
    for i in 0..w.htlcs.len() {
        let Some(h) = w.htlcs.get(i) else { continue };
        if h.state != LnState::Committed || !w.is_honest(h.payee) {
            continue;
        }
        let (payer, payee) = (h.payer, h.payee);
        let Some(node) = w.node(payee) else { continue };
        if !node.is_up() || h.payee_incarnation == Some(node.incarnation) {
            continue;
        }
        // SIDEPOOL-10: "In case the forwarder restarts and finds this fact in its persistent store:"
        let Some(upstream_peer) = node.store.iter().find_map(|r| match r {
            Record::Forward(f) if f.downstream == payer => Some(f.upstream),
            _ => None,
        }) else {
            continue;
        };
        let upstream: Vec<LnState> =
            w.htlcs.iter().filter(|u| u.payer == payee && u.payee == upstream_peer).map(|u| u.state).collect();
        if upstream.iter().any(|s| matches!(s, LnState::Paid | LnState::PayeeClaiming { .. })) {
            // SIDEPOOL-10: "Otherwise, the forwarder MUST wait for the in-Lightning HTLC to the direct peerswap offerrer to be either fulfilled, or irrevocably committed to fail, before fulfilling or failing the in-Lightning HTLC from the direct peerswap aceptor."
            ctx.note(|| format!("{} (restarted) fulfils the HTLC from {} with the preimage its upstream revealed", payee.name(), payer.name()));
            ln_fulfil(w, ctx, i, payee);
            changed = true;
        } else if upstream.iter().all(|s| *s == LnState::Refunded) {
            // SIDEPOOL-10: "If there is irrevocably committed no HTLC from the forwarder to the direct peerswap offerrer, the forwarder SHOULD fail the in-Lightning HTLC from the direct peerswap acceptor."
            ctx.note(|| format!("{} (restarted) fails the HTLC from {} it cannot settle", payee.name(), payer.name()));
            ln_fail(w, ctx, i, payee);
            changed = true;
        }
    }
    changed
}

/// ERRATA E-97's proposal: a restarted ultimate offerrer whose HTLC details are persisted
/// fulfils the peerswap's committed incoming HTLCs once they reach the agreed-upon amount
/// (it may already have handed its key over; if not, the acceptor can still use the hashlock).
fn offerrer_restart(w: &mut World, ctx: &mut Ctx) -> bool {
    if ctx.cfg.offerrer_restart != OfferrerRestart::Fulfil {
        return false;
    }
    let Some(t) = w.pool.terms.clone() else { return false };
    let o = t.offerrer;
    let Some(node) = w.node(o) else { return false };
    if !w.is_honest(o) || !node.is_up() || node.incarnation == 0 || node.htlc_role() != Some(Role::UltimateOfferrer) {
        return false;
    }
    let unknown: Vec<usize> = w
        .htlcs
        .iter()
        .enumerate()
        .filter(|(_, h)| h.payee == o && h.state == LnState::Committed && h.payee_incarnation != Some(node.incarnation))
        .map(|(i, _)| i)
        .collect();
    let total: u64 = unknown.iter().filter_map(|i| w.htlcs.get(*i)).map(|h| h.amount().0).sum();
    if unknown.is_empty() || total < t.value.0 {
        return false;
    }
    ctx.note(|| format!("{} (restarted) fulfils the {} msat of HTLCs its details say it is owed", o.name(), total));
    for i in unknown {
        ln_fulfil(w, ctx, i, o);
    }
    true
}

fn onchain_claims(w: &mut World, ctx: &mut Ctx) -> bool {
    let PoolHtlc::OnChain { appears_at, claim } = w.pool.htlc else { return false };
    let height = w.height;
    if let Some((by, path, confirm_at)) = claim {
        if height > confirm_at {
            w.pool.htlc = PoolHtlc::Spent { to: Some(by), path: Some(path) };
            ctx.note(|| format!("{}'s onchain spend of the HTLC output ({path:?}) confirms", by.name()));
            return true;
        }
        return false;
    }
    if height < appears_at {
        return false;
    }
    let Some(t) = w.pool.terms.clone() else { return false };
    for n in [t.acceptor, t.offerrer] {
        if !w.is_honest(n) || !w.node(n).is_some_and(NodeState::is_up) {
            continue;
        }
        if n == t.offerrer && offerrer_paid(w, n) {
            continue;
        }
        if let Some(path) = onchain_path(w, ctx.cfg, n, height) {
            let confirm_at = height.saturating_add(ctx.cfg.confirm_blocks);
            w.pool.htlc = PoolHtlc::OnChain { appears_at, claim: Some((n, path, confirm_at)) };
            ctx.note(|| format!("{} spends the HTLC output onchain ({path:?}); confirmed by height {confirm_at}", n.name()));
            return true;
        }
    }
    false
}

// ---- heights -------------------------------------------------------------------------

/// The next height at which something can change: each deadline, and the blocks just
/// before and after it (the adversary acts at the last moment; a claim settles after it).
pub fn next_height(w: &World) -> Option<u32> {
    let mut c: Vec<u32> = Vec::new();
    let mut around = |x: u32| {
        c.push(x.saturating_sub(1));
        c.push(x);
        c.push(x.saturating_add(1));
    };
    for h in w.htlcs.iter().filter(|h| !h.state.is_resolved()) {
        around(h.expiry());
        if let LnState::PayeeClaiming { confirm_at } | LnState::PayerReclaiming { confirm_at } = h.state {
            around(confirm_at);
        }
    }
    if let (PoolHtlc::OnChain { appears_at, claim }, Some(t)) = (w.pool.htlc, &w.pool.terms) {
        around(appears_at);
        around(t.timeout);
        around(timelock_valid(t.timeout, appears_at));
        if let Some((_, _, confirm_at)) = claim {
            around(confirm_at);
        }
    }
    c.into_iter().filter(|h| *h > w.height).min()
}
