//! SIDEPOOL-10 "Forwardable Peerswap Algorithm" (non-normative): a planner for
//! one swap party that decides whom to offer to, how much pool money to
//! allocate, and what to do with each incoming offer (accept, forward, reject).

use crate::peerswap::balance::Balance;
use crate::peerswap::offer::recommended_amount;
use crate::peerswap::receive::RejectReason;
use crate::units::{Hops, Msat, Sat};
use core::cmp::Ordering;

/// One recommendation of the planner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanAction<P> {
    /// Offer a peerswap of `amount` to `peer`.
    Offer { peer: P, amount: Sat },
    /// Forward the offer that came from `from` to `to`.
    Forward { from: P, to: P },
    /// Accept the incoming offer here.
    Accept,
    /// Reject the incoming offer.
    Reject(RejectReason),
}

/// A counterparty with its imbalance error, as we measured it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Counterparty<P> {
    peer: P,
    imbalance: Msat,
}

/// The planner's memory for one swap party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyPlanner<P> {
    to_accept: Vec<Counterparty<P>>,
    pending_to_offer: Vec<Counterparty<P>>,
}

impl<P: Clone + PartialEq> PartyPlanner<P> {
    /// Classifies the counterparties and allocates `pool_funds` (our in-sidepool
    /// funds) to the to-offer list; returns the offers to make.
    ///
    /// SIDEPOOL-10: "The participant samples the channel states and computes the "total channel capacity", "twice our-side funds", and "imbalance error" for each other participant in the same sidepool."
    pub fn begin(pool_funds: Sat, peers: &[(P, Balance)]) -> (PartyPlanner<P>, Vec<PlanAction<P>>) {
        let mut to_offer = Vec::new();
        let mut to_accept = Vec::new();
        for (peer, b) in peers {
            let c = Counterparty { peer: peer.clone(), imbalance: b.imbalance_error() };
            match b.twice_our_side.cmp(&b.total_capacity) {
                // SIDEPOOL-10: "To-offer: "twice our-side funds" is less than "total channel capacity"."
                // A peer we may not offer to at all (imbalance below the minimum) is left out.
                Ordering::Less => {
                    if let Ok(amount) = recommended_amount(b) {
                        to_offer.push((c, amount));
                    }
                }
                // SIDEPOOL-10: "To-accept: "twice our-side funds" is greater than "total channel capacity"."
                Ordering::Greater => to_accept.push(c),
                // SIDEPOOL-10: "Drop the counterparty if both variables are equal."
                Ordering::Equal => {}
            }
        }
        // SIDEPOOL-10: "Sort the to-offer counterparties according to their "imbalance error", with highest imbalance error first."
        // A stable sort: equal imbalances keep the caller's order.
        to_offer.sort_by(|a, b| b.0.imbalance.cmp(&a.0.imbalance));

        // SIDEPOOL-10: "Go through the sorted list, allocating funds available in the sidepool to each other participant."
        // SIDEPOOL-10: "Allocate funds equal to half (or some reasonable fraction) of the "imbalance error" with that participant, rounded to an exact satoshi amount."
        let mut left = pool_funds;
        let mut actions = Vec::new();
        let mut pending_to_offer = Vec::new();
        let mut out_of_funds = false;
        for (c, amount) in to_offer {
            if !out_of_funds {
                if let Some(rest) = left.checked_sub(amount) {
                    left = rest;
                    // SIDEPOOL-10: "Go through the sorted to-offer list and offer peerswaps to them, of the amount allocated."
                    actions.push(PlanAction::Offer { peer: c.peer, amount });
                    continue;
                }
                out_of_funds = true;
            }
            // SIDEPOOL-10: "If we run out of funds in the sidepool, move the remaining to-offer list to a pending-to-offer list."
            pending_to_offer.push(c);
        }
        (PartyPlanner { to_accept, pending_to_offer }, actions)
    }

    /// The peers still waiting for an offer, highest imbalance first.
    pub fn pending_to_offer(&self) -> Vec<P> {
        self.pending_to_offer.iter().map(|c| c.peer.clone()).collect()
    }

    /// SIDEPOOL-10: "Wait for incoming peerswap offers from to-accept participants."
    ///
    /// `hops` is the incoming `peerswap_init_hops`: with 0 left, forwarding is not an option.
    pub fn on_incoming(&mut self, from: &P, amount: Sat, hops: Hops) -> PlanAction<P> {
        // SIDEPOOL-10: "Reject peerswap offers if they are not coming from a participant in the to-accept list."
        let Some(sender) = self.to_accept.iter().find(|c| c.peer == *from) else {
            return PlanAction::Reject(RejectReason::NotValidOfferrer);
        };
        let Some(amount_msat) = amount.to_msat() else {
            return PlanAction::Reject(RejectReason::AmountNotBelowImbalance);
        };
        // SIDEPOOL-10: "If the incoming peerswap amount equals or exceeds the imbalance error, reject the peerswap."
        if amount_msat >= sender.imbalance {
            return PlanAction::Reject(RejectReason::AmountNotBelowImbalance);
        }
        // SIDEPOOL-10: "If the pending-to-offer list is non-empty, look for the pending-to-offer participant where the amount is closest to half (or the above reasonable fraction) of the imbalance error, and where the amount is lower than the imbalance error."
        // Distance at twice scale, |2 × amount − imbalance|, so half-msat never rounds; ties go to the earlier (larger) one.
        let best = self
            .pending_to_offer
            .iter()
            .enumerate()
            .filter(|(_, c)| amount_msat < c.imbalance)
            .min_by_key(|(i, c)| (amount_msat.0.saturating_mul(2).abs_diff(c.imbalance.0), *i))
            .map(|(i, _)| i);
        match best {
            // SIDEPOOL-10: "If so, forward the peerswap to that participant and remove it from the pending-to-offer."
            Some(i) if hops.0 > 0 => {
                let to = self.pending_to_offer.remove(i).peer;
                PlanAction::Forward { from: from.clone(), to }
            }
            // SIDEPOOL-10: "If the incoming amount is greater than all the imbalance errors of the pending-to-offer list, or the pending-to-offer list is empty, accept the incoming peerswap."
            _ => PlanAction::Accept,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peerswap::balance::{measure, Capacity, Channel, ChannelState};

    /// A channel of `cap` sat where we hold `ours` sat and the peer the rest.
    fn peer(cap: u64, ours: u64) -> Balance {
        let c = Channel {
            state: ChannelState::Normal,
            capacity: Capacity::Sat(Sat(cap)),
            ours: Msat(ours * 1000),
            theirs: Msat((cap - ours) * 1000),
            pending_htlcs: Msat(0),
            our_reserve: Msat(0),
            htlc_maximum_from_peer: Msat(cap * 1000),
            htlc_maximum_ours: Msat(cap * 1000),
        };
        measure(&[c]).unwrap()
    }

    #[test]
    fn allocates_by_largest_imbalance_then_pends_the_rest() {
        // Imbalance errors (msat): b 800k sat -> 800,000,000; c 400,000,000; d 200,000,000.
        let peers = [
            ("c", peer(1_000_000, 300_000)),
            ("b", peer(1_000_000, 100_000)),
            ("d", peer(1_000_000, 400_000)),
            ("e", peer(1_000_000, 700_000)), // to-accept
            ("f", peer(1_000_000, 500_000)), // balanced: dropped
        ];
        // Funds for b (400,000) but not also c (200,000).
        let (mut plan, offers) = PartyPlanner::begin(Sat(500_000), &peers);
        assert_eq!(offers, vec![PlanAction::Offer { peer: "b", amount: Sat(400_000) }]);
        assert_eq!(plan.pending_to_offer(), vec!["c", "d"], "d fits the 100,000 left but the rest of the list pends");
        // e's imbalance is 400,000,000 msat.
        assert_eq!(plan.on_incoming(&"f", Sat(10_000), Hops(5)), PlanAction::Reject(RejectReason::NotValidOfferrer));
        assert_eq!(plan.on_incoming(&"e", Sat(400_000), Hops(5)), PlanAction::Reject(RejectReason::AmountNotBelowImbalance));
        // 110,000 sat: closest to half of d (100,000) rather than half of c (200,000).
        assert_eq!(plan.on_incoming(&"e", Sat(110_000), Hops(5)), PlanAction::Forward { from: "e", to: "d" });
        assert_eq!(plan.on_incoming(&"e", Sat(110_000), Hops(0)), PlanAction::Accept, "no hops left");
        assert_eq!(plan.on_incoming(&"e", Sat(399_999), Hops(5)), PlanAction::Forward { from: "e", to: "c" });
        assert_eq!(plan.on_incoming(&"e", Sat(20_000), Hops(5)), PlanAction::Accept, "pending list empty");
    }

    #[test]
    fn an_amount_above_every_pending_imbalance_is_accepted() {
        let peers = [("c", peer(100_000, 40_000)), ("e", peer(1_000_000, 900_000))];
        let (mut plan, offers) = PartyPlanner::begin(Sat(0), &peers);
        assert!(offers.is_empty());
        assert_eq!(plan.pending_to_offer(), vec!["c"]);
        // c's imbalance is 20,000,000 msat = 20,000 sat.
        assert_eq!(plan.on_incoming(&"e", Sat(20_000), Hops(3)), PlanAction::Accept);
        assert_eq!(plan.on_incoming(&"e", Sat(19_999), Hops(3)), PlanAction::Forward { from: "e", to: "c" });
    }
}
