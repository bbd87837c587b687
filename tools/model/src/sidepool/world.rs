//! The state of the modelled world: the nodes (each an honest reference engine,
//! or the adversary's engine with the actions it has not carried out yet), the
//! BOLT 8 connections between neighbours, the in-Lightning HTLCs, the pool,
//! the chain tip and the clock.

use sidepool_reference::messages::Message;
use sidepool_reference::peerswap::lightning_htlcs::{HtlcRef, ObservedHtlc};
use sidepool_reference::peerswap::session::{Action, OutputKey, PeerswapEngine, Record, Role};
use sidepool_reference::units::{Msat, Sat};

use super::ids::{ModelKeys, NodeId};

/// An honest node's engine: the reference's own.
pub type Engine = PeerswapEngine<NodeId, ModelKeys>;

/// One participant on the path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeState {
    pub id: NodeId,
    /// `None` while crashed.
    pub engine: Option<Engine>,
    /// Counts restarts; an HTLC reported to an earlier incarnation is unknown to this one.
    pub incarnation: u8,
    /// What it persisted (`Action::PersistRecord`), minus what it deleted.
    pub store: Vec<Record<NodeId>>,
    /// Whether it knows the preimage (the ultimate offerrer from the start; others
    /// when an HTLC they offered is fulfilled, in the channel or on chain).
    pub knows_preimage: bool,
    /// `swap_party_begin` reached it.
    pub begun: bool,
    /// The Expansion Phase outcome reached it.
    pub outcome: bool,
    /// It holds the offerrer's ephemeral key and its own (`Action::ClaimInSidepool`, not lost in a crash).
    pub holds_key: bool,
    /// It sent `peerswap_success` (handed over its ephemeral key).
    pub handed_key: bool,
    /// It crashed at some point: its ephemeral private keys are gone (SIDEPOOL-06: never persisted).
    pub lost_ephemeral: bool,
    /// The adversary's actions not carried out yet (empty for honest nodes).
    pub outbox: Vec<Action<NodeId>>,
}

impl NodeState {
    pub fn is_up(&self) -> bool {
        self.engine.is_some()
    }

    /// The in-sidepool HTLC details it persisted as an endpoint, if any.
    pub fn htlc_role(&self) -> Option<Role> {
        self.store.iter().rev().find_map(|r| match r {
            Record::HtlcDetails(d) => Some(d.role),
            _ => None,
        })
    }
}

/// The BOLT 8 connection between two neighbours: ordered, lossless while up;
/// a disconnect (or a crash of either end) loses what is in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Conn {
    /// The node nearer the ultimate offerrer.
    pub up: NodeId,
    pub down: NodeId,
    pub to_down: Vec<Message>,
    pub to_up: Vec<Message>,
}

impl Conn {
    pub fn queue(&self, from: NodeId) -> Option<&Vec<Message>> {
        if from == self.up {
            Some(&self.to_down)
        } else if from == self.down {
            Some(&self.to_up)
        } else {
            None
        }
    }
    pub fn queue_mut(&mut self, from: NodeId) -> Option<&mut Vec<Message>> {
        if from == self.up {
            Some(&mut self.to_down)
        } else if from == self.down {
            Some(&mut self.to_up)
        } else {
            None
        }
    }
    pub fn other(&self, n: NodeId) -> Option<NodeId> {
        if n == self.up {
            Some(self.down)
        } else if n == self.down {
            Some(self.up)
        } else {
            None
        }
    }
    pub fn is_idle(&self) -> bool {
        self.to_down.is_empty() && self.to_up.is_empty()
    }
}

/// Where an in-Lightning HTLC stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LnState {
    /// `update_add_htlc` sent, not yet irrevocably committed.
    Offered,
    /// Irrevocably committed, unresolved.
    Committed,
    /// The honest payee revealed the preimage too close to the expiry to be sure: its
    /// claim confirms at `confirm_at` unless the payer times the HTLC out first.
    PayeeClaiming { confirm_at: u32 },
    /// The honest payer is timing the HTLC out; it confirms at `confirm_at` unless the
    /// payee claims with the preimage first.
    PayerReclaiming { confirm_at: u32 },
    /// Fulfilled: the payee has the money.
    Paid,
    /// Failed or timed out: the payer has its money back.
    Refunded,
}

impl LnState {
    pub fn is_resolved(self) -> bool {
        matches!(self, LnState::Paid | LnState::Refunded)
    }
}

/// One in-Lightning HTLC (a part of one hop's payment).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LnHtlc {
    pub payer: NodeId,
    pub payee: NodeId,
    /// The payer engine's handle.
    pub payer_ref: HtlcRef,
    pub payer_incarnation: u8,
    /// The payee's incarnation when it was committed (its engine knows it only then).
    pub payee_incarnation: Option<u8>,
    pub fields: ObservedHtlc,
    pub state: LnState,
}

impl LnHtlc {
    pub fn expiry(&self) -> u32 {
        self.fields.cltv_expiry.0
    }
    pub fn amount(&self) -> Msat {
        self.fields.amount_msat
    }
}

/// The swap party's phase (SIDEPOOL-04), as the pool leader runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// No swap party yet.
    Idle,
    /// `swap_party_begin` sent; collecting expansion requests until `deadline` (seconds).
    Expansion { deadline: u64 },
    /// `swap_party_expand_done` sent; the contraction must complete by `deadline`.
    Contraction { deadline: u64 },
    /// The swap party completed.
    Done,
    /// The sidepool aborted (at `height`): it goes onchain.
    Aborted { height: u32 },
}

/// The in-sidepool HTLC the ultimate offerrer asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HtlcTerms {
    pub offerrer: NodeId,
    /// The node whose keys are the acceptor's (the ultimate acceptor).
    pub acceptor: NodeId,
    pub output_key: OutputKey,
    pub amount: Sat,
    /// The in-sidepool timeout (the timelock leaf's absolute lock time).
    pub timeout: u32,
    /// What the output is worth to whoever ends up with it (its post-tax amount in the
    /// seed revision; its amount in the upstream one), the unit of the accounting.
    pub value: Msat,
}

/// How the in-sidepool HTLC output is (or would be) spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpendPath {
    /// In the Contraction Phase, with both ephemeral keys.
    Contraction,
    /// Onchain, key path, with both ephemeral keys.
    Keypath,
    /// Onchain, the acceptor's hashlock leaf with the preimage.
    Hashlock,
    /// Onchain, the offerrer's timelock leaf (only with E-23's fix).
    Timelock,
}

/// Where the in-sidepool HTLC output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolHtlc {
    /// Not created (no request, or the expansion closed without it).
    Absent,
    /// In the pool's current state, unresolved.
    InPool,
    /// Onchain after an abort: spendable from `appears_at`; an honest claim may be on its way.
    OnChain { appears_at: u32, claim: Option<(NodeId, SpendPath, u32)> },
    /// Spent (or, `to: None`, never spendable by anyone: ERRATA E-23).
    Spent { to: Option<NodeId>, path: Option<SpendPath> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pool {
    pub phase: Phase,
    /// The HTLC the expansion will create (set by the offerrer's request while the expansion is open).
    pub terms: Option<HtlcTerms>,
    pub htlc: PoolHtlc,
}

/// Everything.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    /// Who may deviate (fixed for a run).
    pub adversary: Option<NodeId>,
    /// The path, ultimate offerrer first.
    pub nodes: Vec<NodeState>,
    /// `conns[i]` joins `nodes[i]` and `nodes[i + 1]`.
    pub conns: Vec<Conn>,
    pub htlcs: Vec<LnHtlc>,
    pub pool: Pool,
    pub height: u32,
    /// Seconds since the swap party could begin.
    pub now: u64,
    pub party_blocks_left: u8,
    pub disconnects_left: u8,
    pub crashes_left: u8,
    /// Something other than the happy path happened (for the advisory liveness property).
    pub faulted: bool,
    /// An honest ultimate offerrer handed over its key before every HTLC it counted was committed.
    pub key_handed_early: bool,
}

impl World {
    pub fn node(&self, id: NodeId) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.id == id)
    }
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut NodeState> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }
    pub fn is_honest(&self, id: NodeId) -> bool {
        self.adversary != Some(id)
    }
    pub fn conn_between(&self, a: NodeId, b: NodeId) -> Option<usize> {
        self.conns.iter().position(|c| (c.up == a && c.down == b) || (c.up == b && c.down == a))
    }
    /// Whether the swap party is running (begun, neither completed nor aborted).
    pub fn party_running(&self) -> bool {
        matches!(self.pool.phase, Phase::Expansion { .. } | Phase::Contraction { .. })
    }
}
