//! Deliberate defects, for proving that the conformance suite catches bugs.
//!
//! A defect bends what the engine sees (events in) or what the node does
//! (actions out) at the core's boundary; the reference engine itself stays
//! correct. Started with a defect (`node --defect NAME`, `run --defect NAME`,
//! both hidden), the node must fail at least one case; the test
//! `conformance/tests/defects.rs` checks every defect here is caught.

use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::session::{Action, Event};
use sidepool_reference::units::{BlockHeight, Hops, Msat, PublicKey};
use sidepool_reference::Message;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Defect {
    /// Accepts an in-sidepool timeout of height + 4031 (the engine sees the height one block low).
    Timeout4031,
    /// Accepts an amount equal to the imbalance error (own funds seen 1 msat higher).
    AcceptFullImbalance,
    /// Sends reject code 65535 where the spec names a specific code.
    WrongRejectCode,
    /// Puts the offerrer's advisory view, not its own, into peerswap_reject.
    OfferrerViewInReject,
    /// Answers a peerswap_init before swap_party_begin (as if the party had begun).
    AnswerBeforeSwapParty,
    /// Accepts peerswap_init_hops above 10 (clamps it to 10 before checking).
    AcceptHopsOver10,
    /// Never sends peerswap_reject: silently drops offers it should reject.
    SilentReject,
    /// Treats every peer as a participant of every pool.
    EveryoneIsAParticipant,
    /// Counts channels that are not in normal operation.
    CountAllChannels,
    /// Echoes a different hash in peerswap_accept.
    WrongHashInAccept,
    /// Ignores the acceptor's reserve when checking its funds.
    IgnoreReserve,
    /// Checks the timeout gap against 143 blocks instead of its cltv_delta 144.
    CltvDeltaOffByOne,
    /// Forwards peerswap_init with the hops it received, not one lower.
    NoHopsDecrement,
    /// Forwards the in-Lightning timeout without adding its cltv_delta.
    LightningTimeoutNotRaised,
    /// Keeps 1,000 msat as a forwarding fee on the HTLCs it adds.
    ForwardingFee,
    /// Fails held HTLCs after 59 seconds (the engine's clock runs 60/59 fast).
    Hold59Seconds,
    /// Hands over a corrupted key in peerswap_success.
    WrongHandoverKey,
    /// Forwards without persisting the forwarding record.
    NoForwardRecord,
}

impl Defect {
    /// Bends an event before the engine sees it.
    pub fn event(self, event: Event<PublicKey>) -> Event<PublicKey> {
        match (self, event) {
            (Defect::Timeout4031, Event::BlockHeight(h)) => Event::BlockHeight(BlockHeight(h.0.saturating_sub(1))),
            (Defect::AcceptFullImbalance, Event::ChannelsUpdated { peer, mut channels, supports_feature }) => {
                for c in &mut channels {
                    c.ours = Msat(c.ours.0.saturating_add(1));
                }
                Event::ChannelsUpdated { peer, channels, supports_feature }
            }
            (Defect::CountAllChannels, Event::ChannelsUpdated { peer, mut channels, supports_feature }) => {
                for c in &mut channels {
                    c.state = sidepool_reference::peerswap::balance::ChannelState::Normal;
                }
                Event::ChannelsUpdated { peer, channels, supports_feature }
            }
            (Defect::IgnoreReserve, Event::ChannelsUpdated { peer, mut channels, supports_feature }) => {
                for c in &mut channels {
                    c.our_reserve = Msat(0);
                }
                Event::ChannelsUpdated { peer, channels, supports_feature }
            }
            (Defect::AcceptHopsOver10, Event::Received { from, msg: Message::PeerswapInit(mut init) }) => {
                init.hops = Hops(init.hops.0.min(10));
                Event::Received { from, msg: Message::PeerswapInit(init) }
            }
            (Defect::Hold59Seconds, Event::TimePassed { now }) => Event::TimePassed { now: Timestamp(now.0.saturating_add(now.0 / 59)) },
            (Defect::CltvDeltaOffByOne, Event::Received { from, msg: Message::PeerswapInit(mut init) }) => {
                // Seen one block wider, a gap of 143 passes a check against 144.
                init.timeouts.lightning = BlockHeight(init.timeouts.lightning.0.saturating_sub(1));
                Event::Received { from, msg: Message::PeerswapInit(init) }
            }
            (_, e) => e,
        }
    }

    /// Bends an action the engine produced; `None` drops it.
    pub fn action(self, action: Action<PublicKey>) -> Option<Action<PublicKey>> {
        match (self, action) {
            (Defect::WrongRejectCode, Action::Send { to, msg: Message::PeerswapReject(mut r) }) => {
                r.reason_code = sidepool_reference::peerswap::messages::RejectCode::POLICY;
                Some(Action::Send { to, msg: Message::PeerswapReject(r) })
            }
            (Defect::OfferrerViewInReject, Action::Send { to, msg: Message::PeerswapReject(mut r) }) => {
                std::mem::swap(&mut r.channel_view.owned_by_offerrer, &mut r.channel_view.owned_by_acceptor);
                Some(Action::Send { to, msg: Message::PeerswapReject(r) })
            }
            (Defect::SilentReject, Action::Send { msg: Message::PeerswapReject(_), .. }) => None,
            (Defect::WrongHashInAccept, Action::Send { to, msg: Message::PeerswapAccept(mut a) }) => {
                a.hash.0[31] ^= 1;
                Some(Action::Send { to, msg: Message::PeerswapAccept(a) })
            }
            (Defect::NoHopsDecrement, Action::Send { to, msg: Message::PeerswapInit(mut i) }) => {
                i.hops = Hops(i.hops.0.saturating_add(1).min(10));
                Some(Action::Send { to, msg: Message::PeerswapInit(i) })
            }
            (Defect::LightningTimeoutNotRaised, Action::Send { to, msg: Message::PeerswapInit(mut i) }) => {
                i.timeouts.lightning = BlockHeight(i.timeouts.lightning.0.saturating_sub(144));
                Some(Action::Send { to, msg: Message::PeerswapInit(i) })
            }
            (Defect::ForwardingFee, Action::AddHtlc { to, channel, htlc, mut fields }) => {
                fields.amount_msat = Msat(fields.amount_msat.0.saturating_sub(1000));
                fields.onion.amt_to_forward = fields.amount_msat;
                fields.onion.total_msat = fields.onion.total_msat.map(|_| fields.amount_msat);
                Some(Action::AddHtlc { to, channel, htlc, fields })
            }
            (Defect::WrongHandoverKey, Action::Send { to, msg: Message::PeerswapSuccess(mut m) }) => {
                m.ephemeral_privkey.encrypted_key[0] ^= 1;
                Some(Action::Send { to, msg: Message::PeerswapSuccess(m) })
            }
            (Defect::NoForwardRecord, Action::PersistRecord(sidepool_reference::peerswap::session::Record::Forward(_))) => None,
            (_, a) => Some(a),
        }
    }

    /// Whether a pool update should claim the party has begun.
    pub fn forces_party_begun(self) -> bool {
        self == Defect::AnswerBeforeSwapParty
    }

    pub fn everyone_participates(self) -> bool {
        self == Defect::EveryoneIsAParticipant
    }
}
