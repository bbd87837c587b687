//! SIDEPOOL-10 "Rejecting Peerswap" and "Accepting Peerswap", the side of the
//! node that SENT `peerswap_init` (ultimate offerrer or forwarder) and now
//! receives `peerswap_accept` or `peerswap_reject`.

use crate::peerswap::constants::PEERSWAP_MAX_LN_SPLITS;
use crate::peerswap::messages::{PeerswapAccept, PeerswapReject};
use crate::peerswap::offer::ln_splits;
use crate::units::{Msat, PaymentHash, PoolId, Sat};

/// A `peerswap_init` we sent in the current swap party and have had no answer to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SentInit<P> {
    /// The peer we sent it to.
    pub to: P,
    pub id: PoolId,
    pub hash: PaymentHash,
    pub amount: Sat,
    /// The smallest `htlc_maximum_msat` from `to` we used for the split rule when sending.
    pub htlc_maximum_from_peer: Msat,
    /// `Some(upstream)` when we forwarded the peerswap from `upstream`.
    pub upstream: Option<P>,
}

/// Why an answer is ignored (logged, nothing else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IgnoreReason {
    /// We sent no `peerswap_init` to this peer in the current swap party.
    NoInitSentToPeer,
    /// We did, but with another sidepool ID or hash.
    IdOrHashMismatch,
}

impl IgnoreReason {
    pub fn name(self) -> &'static str {
        match self {
            IgnoreReason::NoInitSentToPeer => "no_init_sent_to_peer",
            IgnoreReason::IdOrHashMismatch => "id_or_hash_mismatch",
        }
    }
}

/// Why a `peerswap_accept` makes us abort the sidepool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbortReason {
    /// The in-Lightning payment would need more than `peerswap_max_splits` HTLCs.
    TooManySplits,
}

impl AbortReason {
    pub fn name(self) -> &'static str {
        match self {
            AbortReason::TooManySplits => "too_many_splits",
        }
    }
}

/// What to do with a `peerswap_accept`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptDecision<P> {
    /// SHOULD log, MUST ignore.
    Ignore(IgnoreReason),
    /// We are the ultimate offerrer: create the in-sidepool HTLC.
    CreateSidepoolHtlc,
    /// We forwarded this peerswap: send the `peerswap_accept` as-is to `upstream`.
    ForwardUpstream { upstream: P },
    /// Abort the sidepool.
    AbortSidepool(AbortReason),
}

/// What to do with a `peerswap_reject`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectDecision<P> {
    /// SHOULD log, otherwise ignore.
    Ignore(IgnoreReason),
    /// We are the ultimate offerrer: forget the peerswap, create no HTLC.
    Forget,
    /// We forwarded it: the next hop refused, see `forward::after_next_hop_reject`.
    NextHopRejected { upstream: P },
}

fn find<'a, P: PartialEq>(
    sent: &'a [SentInit<P>],
    from: &P,
    id: PoolId,
    hash: PaymentHash,
) -> Result<&'a SentInit<P>, IgnoreReason> {
    let mut to_peer = sent.iter().filter(|s| s.to == *from).peekable();
    if to_peer.peek().is_none() {
        return Err(IgnoreReason::NoInitSentToPeer);
    }
    to_peer.find(|s| s.id == id && s.hash == hash).ok_or(IgnoreReason::IdOrHashMismatch)
}

/// SIDEPOOL-10: "The receiver of this message MUST perform the validations below: ... It previously sent `peerswap_init` to the sender, and the sidepool ID and hash matches the one in `peerswap_init`."
/// A forwarder runs the same checks before forwarding upstream:
/// SIDEPOOL-10: "It MUST validate the message as described above, as a receiver of the `peerswap_accept`."
/// SIDEPOOL-10: "If the above validation fails, the receiver of the message SHOULD log and MUST ignore the message."
pub fn on_accept<P: PartialEq + Clone>(sent: &[SentInit<P>], from: &P, msg: &PeerswapAccept) -> AcceptDecision<P> {
    let init = match find(sent, from, msg.id, msg.hash) {
        Ok(i) => i,
        Err(why) => return AcceptDecision::Ignore(why),
    };
    // SIDEPOOL-10: "If the above validation succeeds, the receiver of the message MUST perform the validations below: ... `peerswap_accept_min_htlc_msat` is less than or equal to the `peerswap_init_min_htlc_msat` it sent."
    // Neither TLV exists in this version of the messages: the check is vacuous (ERRATA E-45).
    // SIDEPOOL-10: "The value `(peerswap_init_amount_sat * 1000) / peerswap_accept_min_htlc_msat`, rounded up, is less than or equal to `peerswap_max_splits` (40)."
    // Read with the htlc_maximum_msat the sender used for its own split rule, and
    // `peerswap_max_splits` as `peerswap_max_ln_splits` (ERRATA E-45).
    if ln_splits(init.amount, init.htlc_maximum_from_peer).is_none_or(|n| n > PEERSWAP_MAX_LN_SPLITS) {
        // SIDEPOOL-10: "If the above validation fails, the receiver of the message MUST abort the sidepool."
        return AcceptDecision::AbortSidepool(AbortReason::TooManySplits);
    }
    match &init.upstream {
        // SIDEPOOL-10: "It MUST forward the message as-is to the peer it forwarded the peerswap from."
        Some(up) => AcceptDecision::ForwardUpstream { upstream: up.clone() },
        // SIDEPOOL-10: "On receiving the `peerswap_accept`, the ultimate offerrer of the peerswap constructs the in-sidepool HTLC address from the public keys and the HTLC details, as per [SIDEPOOL-06 HTLC Taproot Public Key][]."
        None => AcceptDecision::CreateSidepoolHtlc,
    }
}

/// SIDEPOOL-10: "MUST check that the sidepool ID and hash corresponds to some previous `peerswap_init` it sent to the sender of the message for the current swap party."
/// SIDEPOOL-10: "If the above validation fails, the receiver SHOULD log the message and otherwise ignore it."
pub fn on_reject<P: PartialEq + Clone>(sent: &[SentInit<P>], from: &P, msg: &PeerswapReject) -> RejectDecision<P> {
    match find(sent, from, msg.id, msg.hash) {
        Err(why) => RejectDecision::Ignore(why),
        Ok(SentInit { upstream: Some(up), .. }) => RejectDecision::NextHopRejected { upstream: up.clone() },
        // SIDEPOOL-10: "Otherwise, if the receiver was the ultimate offerrer of the peerswap (i.e. it did not forward the peerswap from another node) then it MUST forget the peerswap and MUST NOT create an HTLC for it in the sidepool, and MAY continue its participation in the swap party."
        Ok(SentInit { upstream: None, .. }) => RejectDecision::Forget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peerswap::messages::{ChannelView, HtlcPubkeys, RejectCode};
    use crate::units::PublicKey;

    fn keys() -> HtlcPubkeys {
        let mut g = [0u8; 33];
        g.copy_from_slice(&hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap());
        let k = PublicKey::from_bytes(g).unwrap();
        HtlcPubkeys { ephemeral: k, persistent: k }
    }
    fn sent(to: &'static str, upstream: Option<&'static str>) -> SentInit<&'static str> {
        SentInit { to, id: PoolId([1; 16]), hash: PaymentHash([2; 32]), amount: Sat(40_000), htlc_maximum_from_peer: Msat(1_000_000), upstream }
    }
    fn accept(hash: u8) -> PeerswapAccept {
        PeerswapAccept { id: PoolId([1; 16]), hash: PaymentHash([hash; 32]), pubkeys: keys(), unknown: vec![] }
    }
    fn reject() -> PeerswapReject {
        PeerswapReject { id: PoolId([1; 16]), hash: PaymentHash([2; 32]), reason_code: RejectCode(4), reason_text: None, channel_view: ChannelView::default(), unknown: vec![] }
    }

    #[test]
    fn accept_is_matched_by_peer_id_and_hash() {
        let s = [sent("bob", None), sent("carol", Some("alice"))];
        assert_eq!(on_accept(&s, &"bob", &accept(2)), AcceptDecision::CreateSidepoolHtlc);
        assert_eq!(on_accept(&s, &"carol", &accept(2)), AcceptDecision::ForwardUpstream { upstream: "alice" });
        assert_eq!(on_accept(&s, &"bob", &accept(3)), AcceptDecision::Ignore(IgnoreReason::IdOrHashMismatch));
        assert_eq!(on_accept(&s, &"dave", &accept(2)), AcceptDecision::Ignore(IgnoreReason::NoInitSentToPeer));
    }

    #[test]
    fn split_check_uses_the_recorded_htlc_maximum() {
        let mut s = sent("bob", None);
        s.htlc_maximum_from_peer = Msat(999_999); // 40,000,000 / 999,999 rounds up to 41
        assert_eq!(on_accept(&[s.clone()], &"bob", &accept(2)), AcceptDecision::AbortSidepool(AbortReason::TooManySplits));
        s.htlc_maximum_from_peer = Msat(1_000_000);
        assert_eq!(on_accept(&[s], &"bob", &accept(2)), AcceptDecision::CreateSidepoolHtlc);
    }

    #[test]
    fn reject_forgets_at_the_ultimate_offerrer_and_goes_back_to_a_forwarder() {
        assert_eq!(on_reject(&[sent("bob", None)], &"bob", &reject()), RejectDecision::Forget);
        assert_eq!(on_reject(&[sent("bob", Some("alice"))], &"bob", &reject()), RejectDecision::NextHopRejected { upstream: "alice" });
        assert_eq!(on_reject(&[sent("bob", None)], &"carol", &reject()), RejectDecision::Ignore(IgnoreReason::NoInitSentToPeer));
    }
}
