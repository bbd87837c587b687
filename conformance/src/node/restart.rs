//! The node's persistence of forwarding facts, and what it does with them
//! after a restart: the engine's in-memory sessions are gone (ephemeral keys
//! with them, as SIDEPOOL-06 wants), but forwarded in-Lightning HTLCs must
//! still be settled as SIDEPOOL-10 "In case the forwarder restarts ..." says.

use super::store::restart::{restart_decision, RestartDecision, UpstreamHtlcNow};
use super::store::{DownstreamHtlcState, PeerswapRef, Store, StoredForward, UpstreamHtlcState};
use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::units::{BlockHeight, PaymentHash, PoolId, PublicKey};

/// A forward reloaded after a restart that is not settled yet.
pub struct Restored {
    pub forward: StoredForward,
}

/// What the node must do for one restored forward now.
pub enum Settle {
    /// Fail these HTLCs from the acceptor (`peer`).
    Fail { peer: PublicKey, htlcs: Vec<u64> },
    /// Fulfil these HTLCs from the acceptor with the preimage the offerrer revealed.
    Fulfil { peer: PublicKey, htlcs: Vec<u64> },
    /// Nothing yet.
    Wait,
    /// Nothing left to do: forget it.
    Done,
}

fn now_of(state: UpstreamHtlcState) -> UpstreamHtlcNow {
    match state {
        UpstreamHtlcState::Offering => UpstreamHtlcNow::AddInFlight,
        UpstreamHtlcState::Committed => UpstreamHtlcNow::Committed,
        UpstreamHtlcState::Fulfilled => UpstreamHtlcNow::Fulfilled,
        UpstreamHtlcState::Failed => UpstreamHtlcNow::FailPending,
        UpstreamHtlcState::FailRemovalCommitted => UpstreamHtlcNow::FailedAndRemoved,
    }
}

impl Restored {
    pub fn swap(&self) -> PeerswapRef {
        PeerswapRef { id: self.forward.record.id, hash: self.forward.record.hash }
    }

    /// Applies the restart rules to the recorded states.
    pub fn decide(&self, height: BlockHeight) -> Settle {
        let f = &self.forward;
        let upstream = |h: HtlcRef| {
            f.lightning.upstream.iter().find(|u| u.htlc == h).map_or(UpstreamHtlcNow::NeverCommitted, |u| now_of(u.state))
        };
        let peer = f.record.downstream;
        match restart_decision(f, upstream, |_| false, height) {
            RestartDecision::FailDownstream { htlcs, .. } => Settle::Fail { peer, htlcs: htlcs.iter().map(|r| r.htlc.0).collect() },
            RestartDecision::FulfilDownstream { htlcs } => Settle::Fulfil { peer, htlcs: htlcs.iter().map(|r| r.htlc.0).collect() },
            RestartDecision::Wait { .. } | RestartDecision::AwaitAcceptorHtlcs => Settle::Wait,
            RestartDecision::ForgetRecord | RestartDecision::AlreadyResolved => Settle::Done,
        }
    }

    /// Records a new state of one of our HTLCs to the offerrer.
    pub fn set_upstream(&mut self, htlc: u64, state: UpstreamHtlcState) {
        if let Some(u) = self.forward.lightning.upstream.iter_mut().find(|u| u.htlc.0 == htlc) {
            u.state = state;
        }
    }

    pub fn set_downstream(&mut self, htlcs: &[u64], state: DownstreamHtlcState) {
        for d in self.forward.lightning.downstream.iter_mut().filter(|d| htlcs.contains(&d.htlc.0)) {
            d.state = state;
        }
    }
}

/// Every forward in the store whose acceptor has given HTLCs (the facts the restart rules are about).
pub fn reload(store: &Store) -> Result<Vec<Restored>, String> {
    let state = store.load_all().map_err(|e| format!("cannot reload the store: {e}"))?;
    Ok(state.forwards.into_iter().filter(|f| f.lightning.acceptor_has_given_htlc()).map(|forward| Restored { forward }).collect())
}

/// The pool of a forward by its hash, for facts (HTLCs) that carry only the hash.
pub fn pool_of(restored: &[Restored], hash: &PaymentHash) -> Option<PoolId> {
    restored.iter().find(|r| r.forward.record.hash == *hash).map(|r| r.forward.record.id)
}
