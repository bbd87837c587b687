//! The properties: in words with the sentences they rest on, and as checks on a
//! state. The money properties are judged once a run is over (`settled`): every
//! HTLC is then resolved, or only the adversary can still move it.

use stateright::Property;

use crate::framework::{PropertyDef, PropertyKind, SpecQuote};

use super::dynamics::offerrer_paid;
use super::ids::NodeId;
use super::model::SidepoolModel;
use super::params::Script;
use super::world::{LnState, PoolHtlc, SpendPath, World};

const fn q(doc: &'static str, text: &'static str) -> SpecQuote {
    SpecQuote { doc, text }
}

pub const NO_HONEST_LOSS: &str = "no_honest_loss";
pub const KEY_AFTER_COMMITMENT: &str = "key_after_commitment";
pub const FORWARDER_COVERED: &str = "forwarder_covered";
pub const OFFERRER_REFUNDED: &str = "offerrer_refunded";
pub const COMPLETES_WITHOUT_FAULTS: &str = "completes_without_faults";
pub const SWAP_CAN_COMPLETE: &str = "swap_can_complete";

pub fn defs() -> Vec<PropertyDef> {
    DEFS.to_vec()
}

/// Every property of the SIDEPOOL-10 model.
pub const DEFS: &[PropertyDef] = &[
        PropertyDef {
            name: NO_HONEST_LOSS,
            kind: PropertyKind::Safety,
            words: "No honest participant ends with less than it started with: counting the in-sidepool HTLC output and every in-Lightning HTLC at whoever gets it (or can still claim it before its timeout), each honest node's gains cover what it gave.",
            rests_on: &[
                q("SIDEPOOL-10", "MUST set the in-sidepool timeout to greater than or equal to the current blockheight + 4032 + 1."),
                q("SIDEPOOL-10", "The difference between the in-sidepool and in-Lightning timelocks MUST be 2016 or more."),
                q("SIDEPOOL-10", "The difference between the in-sidepool timeout minus the in-Lightning timeout is greater than or equal to its `cltv_delta`."),
                q("SIDEPOOL-10", "The minimum of current blockheight + 4032 + 1 for the in-sidepool HTLC gives ample time for the HTLC to appear onchain in case of a sidepool abort."),
                q("SIDEPOOL-06", "In cases where the sidepool aborts before the HTLC can be resolved with the Contraction Phase completing, the HTLC participants MUST resolve the HTLC onchain."),
            ],
        },
        PropertyDef {
            name: KEY_AFTER_COMMITMENT,
            kind: PropertyKind::Safety,
            words: "An honest ultimate offerrer hands over its ephemeral key (sends peerswap_success) only once the in-Lightning HTLCs it counts are irrevocably committed and reach the agreed-upon amount.",
            rests_on: &[
                q("SIDEPOOL-10", "Once the in-Lightning HTLC is irrevocably committed and fulfilled, the initiator of the peerswap-in-sidepool then releases its ephemeral key for the sidepool HTLC, as described in [SIDEPOOL-06 Private Key Handover][]."),
                q("SIDEPOOL-10@seed", "Until the amount reaches the agreed-upon amount, the offerrer MUST hold the incoming in-Lightning HTLCs."),
                q("SIDEPOOL-10@upstream-50799b4", "Until the amount reaches the in-sidepool HTLC amount, the offerrer MUST hold the incoming in-Lightning HTLCs."),
                q("SIDEPOOL-10", "In the success path, the ultimate offerrer hands over its ephemeral private key to the ultimate acceptor."),
            ],
        },
        PropertyDef {
            name: FORWARDER_COVERED,
            kind: PropertyKind::Safety,
            words: "An honest forwarder never has its outgoing in-Lightning HTLCs fulfilled without fulfilling its incoming ones in time: what it pays upstream it gets from downstream.",
            rests_on: &[
                q("SIDEPOOL-10", "A forwarder MUST instead wait for its own local acceptor to offer *all* in-Lightning HTLCs before itself offerring *any* HTLCs to the local offerrer."),
                q("SIDEPOOL-10", "If *any* in-Lightning HTLC it offerred to the local offerrer is fulfilled, then the forwarder MUST stop the above 60-second hold timeout, then fulfill *all* in-Lightning HTLCs it accepted from the local acceptor."),
                q("SIDEPOOL-10", "The timelock of the in-Lightning HTLC MUST be increased according to the `cltv_delta` of this node."),
                q("SIDEPOOL-10", "In particular, once the direct peerswap acceptor has given an HTLC in the Lightning Network channel, the forwarder MUST store this fact in persistent storage before it forwards the HTLC on the Lightning Network channel to the direct peerswap offerrer."),
            ],
        },
        PropertyDef {
            name: OFFERRER_REFUNDED,
            kind: PropertyKind::Safety,
            words: "An honest ultimate offerrer whose swap fails (it is not paid in Lightning) gets its in-sidepool HTLC back.",
            rests_on: &[
                q("SIDEPOOL-06", "On failure or timeout, the offerrer gets a refund."),
                q("SIDEPOOL-06", "Otherwise, the offerrer MUST wait for the absolute time lock to arrive AND for the Last update transaction to actually confirm, then use the timelock branch by revealing the aggregate public key and the Merkle tree path to the timelock branch, together with its signature (using the offerrer persistent keypair)."),
            ],
        },
        PropertyDef {
            name: COMPLETES_WITHOUT_FAULTS,
            kind: PropertyKind::Liveness,
            words: "With every participant honest and nothing going wrong (no abort, disconnect, crash, timer running out or block during the party), the peerswap completes: the offerrer is paid and the acceptor claims the HTLC in the Contraction Phase.",
            rests_on: &[q("SIDEPOOL-10", "Once the Contraction Phase completes, the peerswap-in-sidepool now completes.")],
        },
        PropertyDef {
            name: SWAP_CAN_COMPLETE,
            kind: PropertyKind::Reachable,
            words: "Some run completes the peerswap (else the safety verdicts would be vacuous).",
            rests_on: &[q("SIDEPOOL-10", "On receiving the initiator ephemeral key, the acceptor then claims the sidepool HTLC in the Contraction Phase of the swap party.")],
        },
];

pub fn stateright_properties() -> Vec<Property<SidepoolModel>> {
    vec![
        Property::always(NO_HONEST_LOSS, |m, w| !m.settled(w) || losers(m, w).is_empty()),
        Property::always(KEY_AFTER_COMMITMENT, |_, w: &World| !w.key_handed_early),
        Property::always(FORWARDER_COVERED, |m, w| !m.settled(w) || uncovered_forwarders(m, w).is_empty()),
        Property::always(OFFERRER_REFUNDED, |m, w| !m.settled(w) || offerrer_unrefunded(m, w).is_none()),
        Property::eventually(COMPLETES_WITHOUT_FAULTS, |_, w: &World| completed(w) || w.faulted),
        Property::sometimes(SWAP_CAN_COMPLETE, |_, w: &World| completed(w)),
    ]
}

/// The peerswap completed: the offerrer was paid and the acceptor claimed the HTLC in the pool.
pub fn completed(w: &World) -> bool {
    let Some(t) = &w.pool.terms else { return false };
    offerrer_paid(w, t.offerrer)
        && w.pool.htlc == PoolHtlc::Spent { to: Some(t.acceptor), path: Some(SpendPath::Contraction) }
}

/// Who ends up with the in-sidepool HTLC output: whoever spent it, or whoever can
/// still spend it (the acceptor holding both keys; the adversary, whenever it likes);
/// `None`: nobody, ever.
pub fn pool_owner(m: &SidepoolModel, w: &World) -> Option<NodeId> {
    let t = w.pool.terms.as_ref()?;
    let can_later = |n: NodeId| {
        let Some(node) = w.node(n) else { return false };
        (n == t.acceptor && (node.holds_key || node.knows_preimage)) || (n == t.offerrer && m.cfg.script == Script::Fixed)
    };
    match w.pool.htlc {
        PoolHtlc::Absent => None,
        PoolHtlc::Spent { to, .. } => to,
        PoolHtlc::InPool if w.node(t.acceptor).is_some_and(|a| a.holds_key) => Some(t.acceptor),
        PoolHtlc::InPool | PoolHtlc::OnChain { .. } => w.adversary.filter(|a| can_later(*a)),
    }
}

/// What `n` gained minus what it gave, in msat (positive: ahead).
pub fn net(m: &SidepoolModel, w: &World, n: NodeId) -> i128 {
    let mut net: i128 = 0;
    for h in &w.htlcs {
        let owner = match h.state {
            LnState::Paid | LnState::PayeeClaiming { .. } => h.payee,
            _ => h.payer,
        };
        let amount = i128::from(h.amount().0);
        if h.payer == n {
            net -= amount;
        }
        if owner == n {
            net += amount;
        }
    }
    if let Some(t) = &w.pool.terms {
        if w.pool.htlc != PoolHtlc::Absent {
            let value = i128::from(t.value.0);
            if t.offerrer == n {
                net -= value;
            }
            if pool_owner(m, w) == Some(n) {
                net += value;
            }
        }
    }
    net
}

/// Honest nodes behind at the end, with how much.
pub fn losers(m: &SidepoolModel, w: &World) -> Vec<(NodeId, i128)> {
    w.nodes
        .iter()
        .filter(|n| w.is_honest(n.id))
        .map(|n| (n.id, net(m, w, n.id)))
        .filter(|(_, v)| *v < 0)
        .collect()
}

/// Honest forwarders that paid upstream more than they got from downstream.
pub fn uncovered_forwarders(m: &SidepoolModel, w: &World) -> Vec<(NodeId, u64, u64)> {
    let endpoints = w.pool.terms.as_ref().map(|t| (t.offerrer, t.acceptor));
    let _ = m;
    w.nodes
        .iter()
        .map(|n| n.id)
        .filter(|&n| w.is_honest(n) && matches!(n, NodeId::F1 | NodeId::F2))
        .filter(|&n| endpoints.is_none_or(|(o, a)| n != o && n != a))
        .filter_map(|n| {
            let paid_out: u64 = w
                .htlcs
                .iter()
                .filter(|h| h.payer == n && matches!(h.state, LnState::Paid | LnState::PayeeClaiming { .. }))
                .map(|h| h.amount().0)
                .sum();
            let got_in: u64 = w
                .htlcs
                .iter()
                .filter(|h| h.payee == n && matches!(h.state, LnState::Paid | LnState::PayeeClaiming { .. }))
                .map(|h| h.amount().0)
                .sum();
            (paid_out > got_in).then_some((n, paid_out, got_in))
        })
        .collect()
}

/// The honest ultimate offerrer, unpaid, without its HTLC back: where the HTLC went.
pub fn offerrer_unrefunded(m: &SidepoolModel, w: &World) -> Option<Option<NodeId>> {
    let t = w.pool.terms.as_ref()?;
    if !w.is_honest(t.offerrer) || w.pool.htlc == PoolHtlc::Absent {
        return None;
    }
    let received: u64 = w
        .htlcs
        .iter()
        .filter(|h| h.payee == t.offerrer && matches!(h.state, LnState::Paid | LnState::PayeeClaiming { .. }))
        .map(|h| h.amount().0)
        .sum();
    if received >= t.value.0 {
        return None;
    }
    let owner = pool_owner(m, w);
    (owner != Some(t.offerrer)).then_some(owner)
}
