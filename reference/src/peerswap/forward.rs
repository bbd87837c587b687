//! SIDEPOOL-10 "Forwarding Initiating And Rejecting Peerswap": when a receiver
//! of `peerswap_init` may forward it, the exact rewrite, the record it must
//! persist first, and what it does when the next hop rejects.

use crate::peerswap::balance::Balance;
use crate::peerswap::constants::SpecConstants;
use crate::peerswap::messages::{HtlcPubkeys, PeerswapInit, PeerswapReject, Timeouts};
use crate::peerswap::offer::{check_sender_rules, check_timeouts_with, OfferRefusal, PeerStatus};
use crate::peerswap::receive::{reject_message, ReceiveDecision, Rejection};
use crate::units::{BlockDelta, BlockHeight, Hops, PaymentHash, PoolId, Sat};
use core::fmt;

/// The forwarder's situation towards the node it would forward to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextHop<'a, P> {
    pub peer: P,
    pub status: PeerStatus,
    /// Our measurement of the channels with `peer`.
    pub balance: &'a Balance,
}

/// The forwarder's own settings and the chain tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ForwarderConfig {
    pub height: BlockHeight,
    pub swap_party_begun: bool,
    /// Our `cltv_delta` (BOLT #7 `cltv_expiry_delta`): what we add to the in-Lightning timelock.
    pub cltv_delta: BlockDelta,
    /// Our `final_cltv_delta`, for the sender rule on the in-Lightning timeout.
    pub final_cltv_delta: BlockDelta,
}

/// Why we must not forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForwardRefusal {
    /// We did not validate the incoming `peerswap_init` as its receiver.
    NotValidated,
    /// `peerswap_init_hops` is 0.
    HopsExhausted,
    /// The raised in-Lightning timelock does not fit in 32 bits.
    HeightOverflow,
    /// In-sidepool minus the raised in-Lightning timelock is below 2016.
    TimelockGapTooSmall,
    /// A sender rule towards the next hop fails.
    Sender(OfferRefusal),
}

impl ForwardRefusal {
    /// The stable machine name used in vectors.
    pub fn name(self) -> &'static str {
        match self {
            ForwardRefusal::NotValidated => "not_validated",
            ForwardRefusal::HopsExhausted => "hops_exhausted",
            ForwardRefusal::HeightOverflow => "height_overflow",
            ForwardRefusal::TimelockGapTooSmall => "timelock_gap_too_small",
            ForwardRefusal::Sender(r) => r.name(),
        }
    }
}

impl fmt::Display for ForwardRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a forwarder persists before forwarding: the relation between its
/// upstream (direct offerrer) and downstream (direct acceptor).
///
/// SIDEPOOL-10: "What the forwarder MUST store is the forwarding relation between the direct offerrer and the direct acceptor."
///
/// SIDEPOOL-10: "It MUST store the following information at minimum before forwarding `peerswap_init` to its chosen next node:"
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ForwardRecord<P> {
    /// SIDEPOOL-10: "The sidepool ID."
    pub id: PoolId,
    /// SIDEPOOL-10: "The hash."
    pub hash: PaymentHash,
    /// SIDEPOOL-10: "The upstream offerrer."
    pub upstream: P,
    /// SIDEPOOL-10: "The downstream acceptor it chose to forward to."
    pub downstream: P,
    /// SIDEPOOL-10: "The offerrer ephemeral and persistent public keys for the in-sidepool HTLC."
    pub offerrer_pubkeys: HtlcPubkeys,
    /// SIDEPOOL-10: "The in-sidepool HTLC timelock."
    pub sidepool_timelock: BlockHeight,
    /// SIDEPOOL-10: "The in-Lightning HTLC timelock from the upstream offerrer."
    pub lightning_timelock_from_upstream: BlockHeight,
    /// SIDEPOOL-10: "The in-Lightning HTLC timelock it chose to give the downstream offerrer."
    /// (the downstream *acceptor*: ERRATA E-48)
    pub lightning_timelock_to_downstream: BlockHeight,
    /// SIDEPOOL-10: "The amount of the in-sidepool HTLC."
    pub amount: Sat,
}

/// One step of the forwarder, in the order they must happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForwardAction<P> {
    /// Write (or overwrite, for the same id and hash) the record to persistent storage.
    PersistRecord(ForwardRecord<P>),
    /// Delete the record for this id and hash from persistent storage.
    DeleteRecord { id: PoolId, hash: PaymentHash },
    /// Send `peerswap_init` to `to`.
    SendInit { to: P, init: PeerswapInit },
    /// Accept the peerswap here (send our own `peerswap_accept` upstream).
    AcceptHere,
    /// Send our own `peerswap_reject` to `to` (the upstream offerrer).
    SendReject { to: P, reject: PeerswapReject },
}

/// The rewritten `peerswap_init` for the next hop (without the sender checks).
///
/// SIDEPOOL-10: "When forwarding, the following TLVs are modified."
/// SIDEPOOL-10: "If it is not possible to modify a TLV to follow one of the rules indicated below, the node MUST NOT forward the peerswap."
pub fn rewrite(incoming: &PeerswapInit, cltv_delta: BlockDelta, next_balance: &Balance) -> Result<PeerswapInit, ForwardRefusal> {
    rewrite_with(incoming, cltv_delta, next_balance, &SpecConstants::SPEC)
}

/// [`rewrite`] with the gap `c.forward_min_timelock_gap` in place of 2016.
pub fn rewrite_with(
    incoming: &PeerswapInit,
    cltv_delta: BlockDelta,
    next_balance: &Balance,
    c: &SpecConstants,
) -> Result<PeerswapInit, ForwardRefusal> {
    // SIDEPOOL-10: "The receiver of this messsage MUST NOT forward the peerswap if the `peerswap_init_hops` value is 0."
    // SIDEPOOL-10: "Otherwise, if the receiver of this message decides to forward, it MUST forward a `peerswap_init_hops` that is exactly 1 lower than what it received."
    // SIDEPOOL-10: "The outgoing value MUST be exactly 1 lower than the incoming value."
    let hops = incoming.hops.0.checked_sub(1).map(Hops).ok_or(ForwardRefusal::HopsExhausted)?;
    // SIDEPOOL-10: "The timelock of the in-sidepool HTLC MUST remain the same."
    let sidepool = incoming.timeouts.sidepool;
    // SIDEPOOL-10: "The timelock of the in-Lightning HTLC MUST be increased according to the `cltv_delta` of this node."
    // The reference adds exactly its cltv_delta (ERRATA E-47).
    let lightning = incoming.timeouts.lightning.checked_add(cltv_delta).ok_or(ForwardRefusal::HeightOverflow)?;
    // SIDEPOOL-10: "The difference between the in-sidepool and in-Lightning timelocks MUST be 2016 or more."
    if sidepool.checked_since(lightning).is_none_or(|gap| gap < c.forward_min_timelock_gap) {
        return Err(ForwardRefusal::TimelockGapTooSmall);
    }
    Ok(PeerswapInit {
        hops,
        timeouts: Timeouts { sidepool, lightning },
        // SIDEPOOL-10: "The forwarder MUST replace this entirely with its view of the channels between itself and the node it intends to forward the message to."
        channel_view: next_balance.view_as_offerrer(),
        // SIDEPOOL-10: "All other TLVs MUST remain the same."
        // That includes unknown odd TLVs, copied byte for byte (ERRATA E-46).
        ..incoming.clone()
    })
}

/// Decides whether to forward `incoming` (received from `upstream`) to `next`,
/// and if so returns the actions: persist the record, THEN send.
///
/// SIDEPOOL-10: "The forwarder MUST have successfully validated the received message as a receiver, as described above, including any policies it may have in addition to the required validations described in this specification."
/// SIDEPOOL-10: "The forwarder MUST only forward the peerswap to another node if: ... It is able to follow all the rules for a node sending this message to that node, as described above."
/// SIDEPOOL-10: "The `peerswap_init_hops` value in the received `peerswap_init` is non-0." (checked by `rewrite`)
/// SIDEPOOL-10: "If the node decides to forward the peerswap, it MUST store this fact in persistent storage before forwarding `peerswap_init`."
pub fn forward<P: Clone>(
    incoming: &PeerswapInit,
    validation: &ReceiveDecision,
    upstream: P,
    next: &NextHop<'_, P>,
    config: &ForwarderConfig,
) -> Result<Vec<ForwardAction<P>>, ForwardRefusal> {
    forward_with(incoming, validation, upstream, next, config, &SpecConstants::SPEC)
}

/// [`forward`] with the numbers `c` in place of the text's.
pub fn forward_with<P: Clone>(
    incoming: &PeerswapInit,
    validation: &ReceiveDecision,
    upstream: P,
    next: &NextHop<'_, P>,
    config: &ForwarderConfig,
    c: &SpecConstants,
) -> Result<Vec<ForwardAction<P>>, ForwardRefusal> {
    if *validation != ReceiveDecision::Accept {
        return Err(ForwardRefusal::NotValidated);
    }
    let out = rewrite_with(incoming, config.cltv_delta, next.balance, c)?;
    check_sender_rules(next.status, config.swap_party_begun, next.balance, out.amount).map_err(ForwardRefusal::Sender)?;
    check_timeouts_with(config.height, config.final_cltv_delta, out.timeouts, c).map_err(ForwardRefusal::Sender)?;
    let record = ForwardRecord {
        id: incoming.id,
        hash: incoming.hash,
        upstream,
        downstream: next.peer.clone(),
        offerrer_pubkeys: incoming.pubkeys,
        sidepool_timelock: incoming.timeouts.sidepool,
        lightning_timelock_from_upstream: incoming.timeouts.lightning,
        lightning_timelock_to_downstream: out.timeouts.lightning,
        amount: incoming.amount,
    };
    Ok(vec![ForwardAction::PersistRecord(record), ForwardAction::SendInit { to: next.peer.clone(), init: out }])
}

/// The forwarder's choice after the next hop rejected.
#[derive(Clone, Debug, PartialEq)]
pub enum AfterReject<'a, P> {
    /// SIDEPOOL-10: "MAY try to forward to a different node, updating the persistent store as necessary."
    TryAnother(NextHop<'a, P>),
    /// SIDEPOOL-10: "Otherwise, SHOULD accept the peerswap at this node."
    AcceptHere,
    /// SIDEPOOL-10: "MAY reject the peerswap, but MUST generate its own `peerswap_reject` and related information."
    RejectHere { rejection: Rejection, upstream_balance: &'a Balance },
}

/// The actions after the next hop answered `peerswap_reject` to a forward
/// described by `record` (`incoming` is the `peerswap_init` from upstream).
///
/// A failed second forward is an error: the caller then chooses again
/// (accept or reject here).
pub fn after_next_hop_reject<P: Clone + PartialEq>(
    record: &ForwardRecord<P>,
    incoming: &PeerswapInit,
    choice: AfterReject<'_, P>,
    config: &ForwarderConfig,
) -> Result<Vec<ForwardAction<P>>, ForwardRefusal> {
    let delete = ForwardAction::DeleteRecord { id: record.id, hash: record.hash };
    match choice {
        AfterReject::TryAnother(next) => {
            // The rejecting node is in our sent-ledger, so `next.status.already_sent` stops a retry to it.
            forward(incoming, &ReceiveDecision::Accept, record.upstream.clone(), &next, config)
        }
        // SIDEPOOL-10: "The forwarder MUST delete the fact that it wanted to forward the peerswap from persistent storage before accepting it at this node."
        AfterReject::AcceptHere => Ok(vec![delete, ForwardAction::AcceptHere]),
        AfterReject::RejectHere { rejection, upstream_balance } => Ok(vec![
            delete,
            ForwardAction::SendReject { to: record.upstream.clone(), reject: reject_message(incoming, &rejection, upstream_balance) },
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peerswap::balance::{measure, Capacity, Channel, ChannelState};
    use crate::peerswap::messages::ChannelView;
    use crate::units::{Msat, PublicKey, UpdateCounter};

    fn balance(ours: u64, theirs: u64) -> Balance {
        let c = Channel {
            state: ChannelState::Normal,
            capacity: Capacity::Msat(Msat(1_000_000_000)),
            ours: Msat(ours),
            theirs: Msat(theirs),
            pending_htlcs: Msat(0),
            our_reserve: Msat(0),
            htlc_maximum_from_peer: Msat(1_000_000_000),
            htlc_maximum_ours: Msat(1_000_000_000),
        };
        measure(&[c]).unwrap()
    }
    fn incoming() -> PeerswapInit {
        let mut g = [0u8; 33];
        g.copy_from_slice(&hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap());
        let k = PublicKey::from_bytes(g).unwrap();
        PeerswapInit {
            id: PoolId([1; 16]),
            pubkeys: HtlcPubkeys { ephemeral: k, persistent: k },
            timeouts: Timeouts { sidepool: BlockHeight(804_033), lightning: BlockHeight(800_018) },
            hash: PaymentHash([2; 32]),
            hops: Hops(7),
            amount: Sat(100_000),
            channel_view: ChannelView::default(),
            update_counter: UpdateCounter::new(5).unwrap(),
            unknown: vec![],
        }
    }
    const OK: PeerStatus = PeerStatus { supports_feature: true, is_participant: true, already_sent: false };
    const CONFIG: ForwarderConfig =
        ForwarderConfig { height: BlockHeight(800_000), swap_party_begun: true, cltv_delta: BlockDelta(144), final_cltv_delta: BlockDelta(18) };

    #[test]
    fn persist_comes_before_send_and_the_record_has_the_nine_items() {
        let to_dave = balance(200_000_000, 800_000_000);
        let next = NextHop { peer: "dave", status: OK, balance: &to_dave };
        let actions = forward(&incoming(), &ReceiveDecision::Accept, "alice", &next, &CONFIG).unwrap();
        let [ForwardAction::PersistRecord(r), ForwardAction::SendInit { to, init }] = actions.as_slice() else {
            panic!("expected persist then send, got {actions:?}");
        };
        assert_eq!((r.upstream, r.downstream, *to), ("alice", "dave", "dave"));
        assert_eq!((r.sidepool_timelock, r.lightning_timelock_from_upstream, r.lightning_timelock_to_downstream), (BlockHeight(804_033), BlockHeight(800_018), BlockHeight(800_162)));
        assert_eq!((r.id, r.hash, r.amount, r.offerrer_pubkeys), (incoming().id, incoming().hash, Sat(100_000), incoming().pubkeys));
        assert_eq!(init.hops, Hops(6));
        assert_eq!(init.channel_view, to_dave.view_as_offerrer());
    }

    #[test]
    fn after_a_reject_try_another_then_accept_or_reject_here() {
        let to_dave = balance(200_000_000, 800_000_000);
        let to_erin = balance(300_000_000, 700_000_000);
        let dave = NextHop { peer: "dave", status: OK, balance: &to_dave };
        let actions = forward(&incoming(), &ReceiveDecision::Accept, "alice", &dave, &CONFIG).unwrap();
        let ForwardAction::PersistRecord(record) = &actions[0] else { panic!() };

        // Retrying dave (already sent) is refused; erin works and overwrites the record.
        let again = NextHop { peer: "dave", status: PeerStatus { already_sent: true, ..OK }, balance: &to_dave };
        assert_eq!(
            after_next_hop_reject(record, &incoming(), AfterReject::TryAnother(again), &CONFIG),
            Err(ForwardRefusal::Sender(OfferRefusal::AlreadySent))
        );
        let erin = NextHop { peer: "erin", status: OK, balance: &to_erin };
        let retry = after_next_hop_reject(record, &incoming(), AfterReject::TryAnother(erin), &CONFIG).unwrap();
        assert!(matches!(&retry[0], ForwardAction::PersistRecord(r) if r.downstream == "erin" && r.upstream == "alice"));
        assert!(matches!(&retry[1], ForwardAction::SendInit { to: "erin", .. }));

        let accept = after_next_hop_reject(record, &incoming(), AfterReject::AcceptHere, &CONFIG).unwrap();
        assert_eq!(accept, vec![ForwardAction::DeleteRecord { id: record.id, hash: record.hash }, ForwardAction::AcceptHere]);

        let to_alice = balance(800_000_000, 200_000_000);
        let rejection = Rejection { reason: crate::peerswap::receive::RejectReason::Policy, text: "no".into() };
        let reject = after_next_hop_reject(record, &incoming(), AfterReject::RejectHere { rejection, upstream_balance: &to_alice }, &CONFIG).unwrap();
        let [ForwardAction::DeleteRecord { .. }, ForwardAction::SendReject { to: "alice", reject }] = reject.as_slice() else { panic!("{reject:?}") };
        assert_eq!(reject.channel_view, ChannelView { owned_by_offerrer: Msat(200_000_000), owned_by_acceptor: Msat(800_000_000), total_capacity: Msat(1_000_000_000) });
        assert_eq!(reject.reason_code, crate::peerswap::messages::RejectCode::POLICY);
    }
}
