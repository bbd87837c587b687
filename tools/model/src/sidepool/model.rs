//! The stateright model: the initial states, the steps enabled in a state, and
//! what each step does (through `dynamics`).

use sidepool_reference::messages::Message;
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::session::Event;
use sidepool_reference::units::BlockHeight;
use stateright::{Model, Property};

use super::dynamics::{
    self, abort, close_expansion, complete_contraction, contraction_blockers, crash, expansion_outcome, feed, ln_commit,
    ln_fulfil, next_height, onchain_path, perform, refund, restart, settle, Ctx, Sink, BLOCK_SECONDS,
};
use super::ids::{NodeId, HASH, POOL, START_HEIGHT};
use super::params::{AdversaryChoice, Config};
use super::properties;
use super::world::{Conn, LnState, NodeState, Phase, Pool, PoolHtlc, World};

/// One step of the world. `cut: k > 0` makes the honest receiver crash right after
/// carrying out the `k`-th action its engine answers (persist-before-act, and any
/// other point between two actions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The leader starts a swap party.
    PartyBegins,
    /// `swap_party_begin` reaches `node` (the ultimate offerrer then offers).
    Begin { node: NodeId, cut: u8 },
    /// The leader completes the Expansion Phase.
    CloseExpansion,
    /// `node` validates the Expansion Phase state.
    Outcome { node: NodeId, cut: u8 },
    /// The leader completes the Contraction Phase.
    CompleteContraction,
    /// The sidepool aborts for a reason outside this peerswap, or because the adversary aborts it.
    Abort,
    /// Time passes to the next deadline (a hold, a deferral, a phase timeout).
    Tick,
    /// A block is found during the swap party.
    BlockFound,
    /// After the swap party: the chain reaches the next height at which something can change.
    AdvanceHeight,
    /// The first message in flight from `from` reaches `to`.
    Deliver { from: NodeId, to: NodeId, cut: u8 },
    /// The connection `conn` drops; what was in flight is lost.
    Disconnect { conn: u8 },
    /// The HTLC `htlc` becomes irrevocably committed.
    Commit { htlc: u16, cut: u8 },
    Crash { node: NodeId },
    Restart { node: NodeId },
    /// The adversary carries out an action its engine gave earlier.
    AdvPerform { item: u8 },
    /// The adversary fulfils an HTLC to it with the preimage it knows (whatever its engine says).
    AdvFulfil { htlc: u16 },
    /// The adversary times out an expired HTLC it offered.
    AdvReclaim { htlc: u16 },
    /// The adversary spends the in-sidepool HTLC output onchain.
    AdvSpend,
}

/// The SIDEPOOL-10 model for one configuration.
#[derive(Clone, Debug)]
pub struct SidepoolModel {
    pub cfg: Config,
}

impl SidepoolModel {
    pub fn new(cfg: Config) -> SidepoolModel {
        SidepoolModel { cfg }
    }

    /// Who may be the adversary in the initial states.
    pub fn adversaries(&self) -> Vec<Option<NodeId>> {
        match self.cfg.adversary {
            AdversaryChoice::Any => {
                let mut v = vec![None];
                v.extend(self.cfg.path().into_iter().map(Some));
                v
            }
            AdversaryChoice::Nobody => vec![None],
            AdversaryChoice::One(n) => vec![Some(n)],
        }
    }

    /// The world before the swap party, with `adversary`.
    pub fn initial(&self, adversary: Option<NodeId>) -> World {
        let cfg = &self.cfg;
        let path = cfg.path();
        let nodes = path
            .iter()
            .map(|&id| {
                let mut engine = dynamics::new_engine(cfg, id, adversary, START_HEIGHT, 0);
                if let Some(e) = engine.as_mut() {
                    for ev in dynamics::setup_events(cfg, id, true) {
                        e.handle(ev);
                    }
                }
                NodeState {
                    id,
                    engine,
                    incarnation: 0,
                    store: Vec::new(),
                    knows_preimage: id == NodeId::O,
                    begun: false,
                    outcome: false,
                    holds_key: false,
                    handed_key: false,
                    lost_ephemeral: false,
                    outbox: Vec::new(),
                }
            })
            .collect();
        let conns = path.windows(2).map(|p| Conn { up: p[0], down: p[1], to_down: Vec::new(), to_up: Vec::new() }).collect();
        World {
            adversary,
            nodes,
            conns,
            htlcs: Vec::new(),
            pool: Pool { phase: Phase::Idle, terms: None, htlc: PoolHtlc::Absent },
            height: START_HEIGHT,
            now: 0,
            party_blocks_left: cfg.party_blocks,
            disconnects_left: cfg.disconnects,
            crashes_left: cfg.crashes,
            faulted: adversary.is_some(),
            key_handed_early: false,
        }
    }

    fn cuts(&self, w: &World, n: NodeId) -> &'static [u8] {
        if w.crashes_left > 0 && w.is_honest(n) {
            &[0, 1, 2, 3]
        } else {
            &[0]
        }
    }

    /// The next deadline on the clock: an engine's (hold, deferral) or the phase's.
    pub fn next_deadline(&self, w: &World) -> Option<u64> {
        let phase = match w.pool.phase {
            Phase::Expansion { deadline } | Phase::Contraction { deadline } => Some(deadline),
            _ => None,
        };
        w.nodes
            .iter()
            .filter_map(|n| n.engine.as_ref().and_then(|e| e.next_deadline()).map(|t| t.0))
            .chain(phase)
            .filter(|t| *t > w.now)
            .min()
    }

    /// Whether the chain may move on: every honest node is up, nothing is in flight,
    /// and no HTLC between honest nodes waits for its commitment (honest neighbours
    /// settle their business within a block).
    pub fn may_advance(&self, w: &World) -> bool {
        matches!(w.pool.phase, Phase::Done | Phase::Aborted { .. })
            && w.nodes.iter().all(|n| n.is_up() || !w.is_honest(n.id))
            && w.conns.iter().all(Conn::is_idle)
            && !w.htlcs.iter().any(|h| h.state == LnState::Offered && w.is_honest(h.payer) && w.is_honest(h.payee))
    }

    /// The run is over: nothing but the adversary's choices can change anything any more.
    pub fn settled(&self, w: &World) -> bool {
        matches!(w.pool.phase, Phase::Done | Phase::Aborted { .. })
            && next_height(w).is_none()
            && w.nodes.iter().all(|n| n.is_up() || !w.is_honest(n.id))
            && w.conns.iter().all(Conn::is_idle)
    }

    /// Applies `step` to `w`, recording what happened into `sink` when given.
    pub fn apply(&self, w: &World, step: Step, sink: Option<&mut Sink>) -> Option<World> {
        let mut w = w.clone();
        let mut ctx = Ctx::new(&self.cfg, sink);
        let cut = |k: u8| (k > 0).then_some(k);
        let ok = match step {
            Step::PartyBegins => {
                w.pool.phase = Phase::Expansion { deadline: w.now.saturating_add(self.cfg.phase_seconds) };
                ctx.note(|| "the leader sends swap_party_begin".into());
                true
            }
            Step::Begin { node, cut: k } => {
                if let Some(n) = w.node_mut(node) {
                    n.begun = true;
                }
                let now = w.now;
                if node == NodeId::O {
                    feed(&mut w, &mut ctx, node, Event::SwapPartyBegun { pool: POOL, at: Timestamp(now) }, None);
                    let next = self.cfg.path().get(1).copied().unwrap_or(NodeId::A);
                    let offer = Event::OfferNow { peer: next, pool: POOL, hash: HASH, amount: None, hops_random: self.cfg.hops_random };
                    feed(&mut w, &mut ctx, node, offer, cut(k))
                } else {
                    feed(&mut w, &mut ctx, node, Event::SwapPartyBegun { pool: POOL, at: Timestamp(now) }, cut(k))
                }
            }
            Step::CloseExpansion => {
                close_expansion(&mut w, &mut ctx);
                true
            }
            Step::Outcome { node, cut: k } => {
                if let Some(n) = w.node_mut(node) {
                    n.outcome = true;
                }
                let ev = expansion_outcome(&w, &self.cfg);
                feed(&mut w, &mut ctx, node, ev, cut(k))
            }
            Step::CompleteContraction => {
                complete_contraction(&mut w, &mut ctx);
                true
            }
            Step::Abort => {
                w.faulted = true;
                abort(&mut w, &mut ctx, "the sidepool aborts (any participant may, at any time)");
                true
            }
            Step::Tick => {
                let t = self.next_deadline(&w)?;
                w.now = t;
                w.faulted = true;
                ctx.note(|| format!("time is now {t} s"));
                for n in w.nodes.iter().filter(|n| n.is_up()).map(|n| n.id).collect::<Vec<_>>() {
                    feed(&mut w, &mut ctx, n, Event::TimePassed { now: Timestamp(t) }, None);
                }
                if let Phase::Expansion { deadline } | Phase::Contraction { deadline } = w.pool.phase {
                    if deadline <= t {
                        // SIDEPOOL-04: "If a phase takes longer than 10 minutes, the participant MUST abort the entire pool."
                        abort(&mut w, &mut ctx, "the swap party phase timed out: the sidepool aborts");
                    }
                }
                true
            }
            Step::BlockFound => {
                w.height = w.height.saturating_add(1);
                w.party_blocks_left = w.party_blocks_left.saturating_sub(1);
                w.faulted = true;
                let h = w.height;
                for n in w.nodes.iter().filter(|n| n.is_up()).map(|n| n.id).collect::<Vec<_>>() {
                    feed(&mut w, &mut ctx, n, Event::BlockHeight(BlockHeight(h)), None);
                }
                true
            }
            Step::AdvanceHeight => {
                let h = next_height(&w)?;
                let dt = u64::from(h.saturating_sub(w.height)).saturating_mul(BLOCK_SECONDS);
                w.height = h;
                w.now = w.now.saturating_add(dt);
                let now = w.now;
                for n in w.nodes.iter().filter(|n| n.is_up()).map(|n| n.id).collect::<Vec<_>>() {
                    feed(&mut w, &mut ctx, n, Event::BlockHeight(BlockHeight(h)), None);
                    feed(&mut w, &mut ctx, n, Event::TimePassed { now: Timestamp(now) }, None);
                }
                true
            }
            Step::Deliver { from, to, cut: k } => {
                let c = w.conn_between(from, to)?;
                let q = w.conns.get_mut(c)?.queue_mut(from)?;
                if q.is_empty() {
                    return None;
                }
                let msg = q.remove(0);
                feed(&mut w, &mut ctx, to, Event::Received { from, msg }, cut(k))
            }
            Step::Disconnect { conn } => {
                let c = w.conns.get_mut(usize::from(conn))?;
                c.to_down.clear();
                c.to_up.clear();
                w.disconnects_left = w.disconnects_left.saturating_sub(1);
                w.faulted = true;
                ctx.note(|| "the connection drops: what was in flight is lost".into());
                true
            }
            Step::Commit { htlc, cut: k } => ln_commit(&mut w, &mut ctx, usize::from(htlc), cut(k)),
            Step::Crash { node } => {
                w.crashes_left = w.crashes_left.saturating_sub(1);
                crash(&mut w, &mut ctx, node);
                true
            }
            Step::Restart { node } => {
                restart(&mut w, &mut ctx, node);
                true
            }
            Step::AdvPerform { item } => {
                let a = w.adversary?;
                let node = w.node_mut(a)?;
                let i = usize::from(item);
                if i >= node.outbox.len() {
                    return None;
                }
                let action = node.outbox.remove(i);
                perform(&mut w, &mut ctx, a, action);
                true
            }
            Step::AdvFulfil { htlc } => {
                let a = w.adversary?;
                ln_fulfil(&mut w, &mut ctx, usize::from(htlc), a);
                true
            }
            Step::AdvReclaim { htlc } => {
                let a = w.adversary?;
                ctx.note(|| format!("{} times out its HTLC onchain", a.name()));
                refund(&mut w, &mut ctx, usize::from(htlc));
                true
            }
            Step::AdvSpend => {
                let a = w.adversary?;
                let path = onchain_path(&w, &self.cfg, a, w.height)?;
                w.pool.htlc = PoolHtlc::Spent { to: Some(a), path: Some(path) };
                ctx.note(|| format!("{} spends the HTLC output onchain ({path:?})", a.name()));
                true
            }
        };
        if !ok {
            return None;
        }
        settle(&mut w, &mut ctx);
        Some(w)
    }
}

impl Model for SidepoolModel {
    type State = World;
    type Action = Step;

    fn init_states(&self) -> Vec<World> {
        self.adversaries().into_iter().map(|a| self.initial(a)).collect()
    }

    fn actions(&self, w: &World, out: &mut Vec<Step>) {
        let cfg = &self.cfg;
        let path = cfg.path();
        let up = |n: NodeId| w.node(n).is_some_and(NodeState::is_up);
        match w.pool.phase {
            Phase::Idle => out.push(Step::PartyBegins),
            Phase::Expansion { .. } => {
                for &n in &path {
                    if up(n) && !w.node(n).is_some_and(|x| x.begun) {
                        out.extend(self.cuts(w, n).iter().map(|&cut| Step::Begin { node: n, cut }));
                    }
                }
                // The leader closes the expansion once every follower has sent its request; the
                // ultimate offerrer sends its own once its peerswap_init is answered (accepted:
                // with the HTLC output; rejected: without). An adversary sends it when it likes.
                let offerrer_ready = !w.is_honest(NodeId::O)
                    || w.node(NodeId::O).and_then(|o| o.engine.as_ref()).is_some_and(|e| e.unanswered_inits() == 0);
                if path.iter().all(|n| w.node(*n).is_some_and(|x| x.begun)) && offerrer_ready {
                    out.push(Step::CloseExpansion);
                }
            }
            Phase::Contraction { .. } => {
                for &n in &path {
                    if up(n) && !w.node(n).is_some_and(|x| x.outcome) {
                        out.extend(self.cuts(w, n).iter().map(|&cut| Step::Outcome { node: n, cut }));
                    }
                }
                if path.iter().all(|n| w.node(*n).is_some_and(|x| x.outcome && (x.is_up() || !w.is_honest(*n))))
                    && contraction_blockers(w, cfg).is_empty()
                {
                    out.push(Step::CompleteContraction);
                }
            }
            Phase::Done | Phase::Aborted { .. } => {}
        }
        let pool_alive = w.party_running() || (w.pool.phase == Phase::Done && w.pool.htlc == PoolHtlc::InPool);
        if pool_alive && (cfg.env_abort || w.adversary.is_some()) {
            out.push(Step::Abort);
        }
        if self.next_deadline(w).is_some() {
            out.push(Step::Tick);
        }
        if w.party_running() && w.party_blocks_left > 0 {
            out.push(Step::BlockFound);
        }
        if self.may_advance(w) && next_height(w).is_some() {
            out.push(Step::AdvanceHeight);
        }
        for (i, c) in w.conns.iter().enumerate() {
            if !c.to_down.is_empty() {
                out.extend(self.cuts(w, c.down).iter().map(|&cut| Step::Deliver { from: c.up, to: c.down, cut }));
            }
            if !c.to_up.is_empty() {
                out.extend(self.cuts(w, c.up).iter().map(|&cut| Step::Deliver { from: c.down, to: c.up, cut }));
            }
            if w.disconnects_left > 0 && !c.is_idle() {
                out.push(Step::Disconnect { conn: i as u8 });
            }
        }
        for (i, h) in w.htlcs.iter().enumerate() {
            let i = i as u16;
            if h.state == LnState::Offered && up(h.payer) && up(h.payee) && w.height < h.expiry() {
                out.extend(self.cuts(w, h.payee).iter().map(|&cut| Step::Commit { htlc: i, cut }));
            }
        }
        for n in &w.nodes {
            if !w.is_honest(n.id) {
                continue;
            }
            if n.is_up() && w.crashes_left > 0 {
                out.push(Step::Crash { node: n.id });
            }
            if !n.is_up() {
                out.push(Step::Restart { node: n.id });
            }
        }
        if let Some(a) = w.adversary {
            if let Some(node) = w.node(a) {
                out.extend((0..node.outbox.len()).map(|i| Step::AdvPerform { item: i as u8 }));
                for (i, h) in w.htlcs.iter().enumerate() {
                    let i = i as u16;
                    if h.payee == a
                        && node.knows_preimage
                        && matches!(h.state, LnState::Committed | LnState::PayerReclaiming { .. })
                    {
                        out.push(Step::AdvFulfil { htlc: i });
                    }
                    // The timeout transaction's nLockTime is the expiry: in a later block only.
                    if h.payer == a
                        && w.height > h.expiry()
                        && matches!(h.state, LnState::Offered | LnState::Committed | LnState::PayeeClaiming { .. })
                    {
                        out.push(Step::AdvReclaim { htlc: i });
                    }
                }
                if matches!(w.pool.htlc, PoolHtlc::OnChain { .. }) && onchain_path(w, cfg, a, w.height).is_some() {
                    out.push(Step::AdvSpend);
                }
            }
        }
    }

    fn next_state(&self, w: &World, step: Step) -> Option<World> {
        self.apply(w, step, None)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::stateright_properties()
    }
}

/// The messages' contents worth a trace line.
pub fn describe_message(msg: &Message) -> String {
    match msg {
        Message::PeerswapInit(i) => format!(
            "peerswap_init ({} sat, in-sidepool timeout {}, in-Lightning timeout {}, hops {})",
            i.amount.0, i.timeouts.sidepool.0, i.timeouts.lightning.0, i.hops.0
        ),
        Message::PeerswapReject(r) => format!("peerswap_reject (code {})", r.reason_code.0),
        Message::PeerswapSuccess(_) => "peerswap_success (with the encrypted ephemeral key)".into(),
        other => other.name().to_string(),
    }
}
