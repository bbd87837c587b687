//! Deliberate defects, for proving that the conformance suite catches bugs.
//!
//! A defect bends what the engine sees (events in) or what the node does
//! (actions out) at the core's boundary; the reference engine itself stays
//! correct. Started with a defect (`node --defect NAME`, `run --defect NAME`,
//! both hidden), the node must fail at least one MUST case; the test
//! `conformance/tests/defects.rs` checks every defect here is caught. A choice
//! the spec leaves open is never a defect: those are the conforming variants
//! (`variants.rs`), which must fail no MUST case. (Rejecting with code 65535
//! was once a defect here; the reject-code table is optional, so it is now the
//! variant `RejectCode65535`.)

use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::session::{Action, Event, Record};
use sidepool_reference::units::{BlockHeight, Hops, Msat, PublicKey, Sat};
use sidepool_reference::Message;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Defect {
    /// Accepts an in-sidepool timeout of height + 4031 (the engine sees the height one block low).
    Timeout4031,
    /// Accepts an amount equal to the imbalance error (own funds seen 1 msat higher).
    AcceptFullImbalance,
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
    /// Persists the forwarding record only after the forwarded `peerswap_init` went out (at its next event).
    PersistAfterForward,
    /// Pays one part fewer than the plan: each part within the rules, the total short.
    ShortPayment,
    /// Pays a split plan as one HTLC of the whole amount, above the maximum HTLC.
    OneHtlcAboveMaximum,
    /// Silently drops a malformed `peerswap_init` it should reject (hops missing, counter above 2047).
    DropMalformedInit,
    /// Forwards a `peerswap_init` whose hops is 0 (seen as 1).
    ForwardHopsZero,
    /// Forwards with an in-sidepool / in-Lightning gap below 2016 blocks.
    ForwardGapBelow2016,
    /// Forwards the received `peerswap_lightning` verbatim instead of its own.
    CopyLightningVerbatim,
    /// Adds in-Lightning HTLCs with `cltv_expiry` one block above the agreed timelock.
    WrongCltvExpiry,
    /// Puts a `short_channel_id` in the final-hop onion.
    ShortChannelIdInOnion,
    /// Leaves the `payment_secret` out of the onion although `peerswap_lightning` had one.
    DropPaymentSecret,
    /// Counts each incoming in-Lightning HTLC twice towards the agreed-upon amount.
    CountsHtlcsTwice,
    /// Its clock stops: held HTLCs are never failed, deferred offers never rejected.
    ClockStopped,
    /// Its clock runs twice as fast: the hold and the deferral end early.
    ClockTwiceAsFast,
    /// Fulfils every HTLC but never sends `peerswap_success`.
    NoSuccessMessage,
    /// Offers to peers it is not a valid offerrer to (its channel view flipped).
    OffersWhenNotValid,
    /// Offers again to a peer within the same swap party (it forgets what it sent).
    OffersTwicePerParty,
    /// Offers the whole imbalance error (not below it).
    OffersTheImbalance,
    /// Sets the in-sidepool timeout of its own offers to height + 4032 (not + 4033).
    SidepoolTimeout4032,
    /// Fails its downstream HTLCs as soon as the upstream one is failed, before the removal is committed.
    FailsDownstreamEarly,
    /// Accepts a peerswap at the forwarder without deleting its forwarding record.
    NoDeleteBeforeAcceptHere,
    /// Forwards `peerswap_lightning` without recording the upstream payment secret.
    NoLightningRecord,
    /// Accepts and pays without storing the HTLC details.
    NoHtlcDetailsRecord,
    /// Ignores a `peerswap_reject` of its own offer (it asks for the expansion output anyway).
    IgnoresReject,
    /// Passes nothing on and answers nothing: a node that only speaks BOLT 1 and the feature exchange.
    Inert,
}

impl Defect {
    /// Bends an event before the engine sees it.
    pub fn event(self, event: Event<PublicKey>) -> Event<PublicKey> {
        match (self, event) {
            (Defect::ForwardHopsZero, Event::Received { from, msg: Message::PeerswapInit(mut init) }) if init.hops.0 == 0 => {
                init.hops = Hops(1);
                Event::Received { from, msg: Message::PeerswapInit(init) }
            }
            (Defect::CountsHtlcsTwice, Event::IncomingHtlcAdded { peer, id, mut htlc }) => {
                htlc.amount_msat = Msat(htlc.amount_msat.0.saturating_mul(2));
                htlc.onion.amt_to_forward = htlc.amount_msat;
                htlc.onion.total_msat = htlc.onion.total_msat.map(|_| htlc.amount_msat);
                Event::IncomingHtlcAdded { peer, id, htlc }
            }
            (Defect::ClockStopped, Event::TimePassed { .. }) => Event::TimePassed { now: Timestamp(0) },
            (Defect::ClockTwiceAsFast, Event::TimePassed { now }) => Event::TimePassed { now: Timestamp(now.0.saturating_mul(2)) },
            (Defect::ClockTwiceAsFast, Event::SwapPartyBegun { pool, at }) => Event::SwapPartyBegun { pool, at: Timestamp(at.0.saturating_mul(2)) },
            (Defect::OffersWhenNotValid, Event::ChannelsUpdated { peer, mut channels, supports_feature }) => {
                for c in &mut channels {
                    std::mem::swap(&mut c.ours, &mut c.theirs);
                }
                Event::ChannelsUpdated { peer, channels, supports_feature }
            }
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
            (Defect::NoForwardRecord, Action::PersistRecord(Record::Forward(_))) => None,
            (Defect::NoLightningRecord, Action::PersistRecord(Record::Lightning { sent: false, .. })) => None,
            (Defect::NoHtlcDetailsRecord, Action::PersistRecord(Record::HtlcDetails(_))) => None,
            (Defect::NoDeleteBeforeAcceptHere, Action::DeleteRecord { .. }) => None,
            (Defect::NoSuccessMessage, Action::Send { msg: Message::PeerswapSuccess(_), .. }) => None,
            (Defect::DropMalformedInit, Action::Send { msg: Message::PeerswapReject(r), .. })
                if r.reason_text.as_deref().is_some_and(|t| t.starts_with("malformed peerswap_init")) =>
            {
                None
            }
            (Defect::ForwardGapBelow2016, Action::Send { to, msg: Message::PeerswapInit(mut i) }) => {
                // Keeps at least its own cltv_delta below the in-sidepool timeout, not 2016.
                i.timeouts.lightning = BlockHeight(i.timeouts.sidepool.0.saturating_sub(1000).max(i.timeouts.lightning.0));
                Some(Action::Send { to, msg: Message::PeerswapInit(i) })
            }
            (Defect::OffersTheImbalance, Action::Send { to, msg: Message::PeerswapInit(mut i) }) => {
                let v = i.channel_view;
                let imbalance = v.owned_by_acceptor.0.saturating_sub(v.owned_by_offerrer.0);
                i.amount = Sat(imbalance / 1000);
                Some(Action::Send { to, msg: Message::PeerswapInit(i) })
            }
            (Defect::SidepoolTimeout4032, Action::Send { to, msg: Message::PeerswapInit(mut i) }) => {
                i.timeouts.sidepool = BlockHeight(i.timeouts.sidepool.0.saturating_sub(1));
                Some(Action::Send { to, msg: Message::PeerswapInit(i) })
            }
            (Defect::WrongCltvExpiry, Action::AddHtlc { to, channel, htlc, mut fields }) => {
                fields.cltv_expiry = BlockHeight(fields.cltv_expiry.0.saturating_add(1));
                fields.onion.outgoing_cltv_value = fields.cltv_expiry;
                Some(Action::AddHtlc { to, channel, htlc, fields })
            }
            (Defect::ShortChannelIdInOnion, Action::AddHtlc { to, channel, htlc, mut fields }) => {
                fields.onion.short_channel_id = Some(800_000 << 40);
                Some(Action::AddHtlc { to, channel, htlc, fields })
            }
            (Defect::DropPaymentSecret, Action::AddHtlc { to, channel, htlc, mut fields }) => {
                fields.onion.payment_secret = None;
                fields.onion.total_msat = None;
                Some(Action::AddHtlc { to, channel, htlc, fields })
            }
            (Defect::Inert, Action::Send { msg, .. }) if !matches!(msg, Message::MySidepoolFeatures(_)) => None,
            (Defect::Inert, Action::AddHtlc { .. } | Action::FulfilHtlc { .. } | Action::FailHtlc { .. } | Action::RequestExpansionOutput { .. }) => None,
            (Defect::Inert, Action::PersistRecord(_) | Action::DeleteRecord { .. } | Action::ForgetPeerswap { .. }) => None,
            (_, a) => Some(a),
        }
    }

    /// Bends one batch of actions (what the engine produced for one event), for
    /// defects that concern several actions together.
    pub fn batch(self, actions: Vec<Action<PublicKey>>) -> Vec<Action<PublicKey>> {
        let adds = actions.iter().filter(|a| matches!(a, Action::AddHtlc { .. })).count();
        match self {
            Defect::ShortPayment if adds >= 2 => {
                let mut seen = 0;
                actions
                    .into_iter()
                    .filter(|a| {
                        if matches!(a, Action::AddHtlc { .. }) {
                            seen += 1;
                            seen < adds
                        } else {
                            true
                        }
                    })
                    .collect()
            }
            Defect::OneHtlcAboveMaximum if adds >= 2 => {
                let total = actions.iter().fold(0u64, |t, a| match a {
                    Action::AddHtlc { fields, .. } => t.saturating_add(fields.amount_msat.0),
                    _ => t,
                });
                let mut first = true;
                actions
                    .into_iter()
                    .filter_map(|a| match a {
                        Action::AddHtlc { to, channel, htlc, mut fields } if first => {
                            first = false;
                            fields.amount_msat = Msat(total);
                            fields.onion.amt_to_forward = fields.amount_msat;
                            fields.onion.total_msat = fields.onion.total_msat.map(|_| fields.amount_msat);
                            Some(Action::AddHtlc { to, channel, htlc, fields })
                        }
                        Action::AddHtlc { .. } => None,
                        other => Some(other),
                    })
                    .collect()
            }
            _ => actions,
        }
    }

    /// Events this defect feeds before `event` (the engine sees them first).
    pub fn before(self, event: &Event<PublicKey>) -> Vec<Event<PublicKey>> {
        match (self, event) {
            // Forgets its ledger of sent offers whenever a party (re)starts.
            (Defect::OffersTwicePerParty, Event::SwapPartyBegun { pool, .. }) => vec![Event::ContractionDone { pool: *pool }],
            _ => Vec::new(),
        }
    }

    /// Events this defect feeds after `event`.
    pub fn after(self, event: &Event<PublicKey>) -> Vec<Event<PublicKey>> {
        match (self, event) {
            // Treats a failed upstream HTLC as removed at once.
            (Defect::FailsDownstreamEarly, Event::OutgoingHtlcFailed { htlc }) => vec![Event::OutgoingHtlcRemovalCommitted { htlc: *htlc }],
            _ => Vec::new(),
        }
    }

    /// Whether this defect drops a `peerswap_reject` answering its own offer (the engine never sees it).
    pub fn ignores_reject(self, event: &Event<PublicKey>) -> bool {
        self == Defect::IgnoresReject && matches!(event, Event::Received { msg: Message::PeerswapReject(_), .. })
    }

    /// Whether a pool update should claim the party has begun.
    pub fn forces_party_begun(self) -> bool {
        self == Defect::AnswerBeforeSwapParty
    }

    pub fn everyone_participates(self) -> bool {
        self == Defect::EveryoneIsAParticipant
    }
}
