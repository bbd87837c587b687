//! SIDEPOOL-10 "Initiating Peerswap", receiver side, and "Rejecting Peerswap":
//! every check the receiver of `peerswap_init` MUST make, in the spec's order,
//! each mapped to a `peerswap_reject_reason_code`.

use crate::peerswap::balance::{Balance, Offerrer};
use crate::peerswap::constants::{PEERSWAP_MAX_LN_SPLITS, SIDEPOOL_VERSION_1_MIN_AMOUNT, SpecConstants};
use crate::peerswap::choices::{CheckOrder, Choices};
use crate::peerswap::constants::Timestamp;
use crate::peerswap::messages::{PeerswapInit, PeerswapReject, RejectCode};
use crate::peerswap::offer::ln_splits;
use crate::units::{BlockDelta, BlockHeight, UpdateCounter};
use core::fmt;

/// The receiver's own situation when a `peerswap_init` is processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveContext<'a> {
    /// We are a participant of the pool named by `peerswap_init_id`.
    pub we_are_participant: bool,
    /// The sender is a participant of that pool.
    pub sender_is_participant: bool,
    /// We are the pool leader (the leader never defers: it starts swap parties).
    pub is_leader: bool,
    /// The pool update counter before the expansion phase of the current swap
    /// party, once `swap_party_begin` was received (follower) or sent (leader).
    pub swap_party_counter: Option<UpdateCounter>,
    /// When the `peerswap_init` arrived.
    pub init_arrived_at: Timestamp,
    /// Now.
    pub now: Timestamp,
    /// The sender already sent a `peerswap_init` in a swap party that has not ended.
    pub already_received_from_sender: bool,
    /// Our own measurement of the channels with the sender.
    pub balance: &'a Balance,
    /// Current block height.
    pub height: BlockHeight,
    /// Our `cltv_delta` (BOLT #7 `cltv_expiry_delta`).
    pub cltv_delta: BlockDelta,
    /// A local policy objection, if any (answered with 65535).
    pub policy_objection: Option<&'a str>,
}

/// Why the receiver rejects; each reason has exactly one reject code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// We are not a participant of the pool (65535, ERRATA E-43).
    NotParticipant,
    /// The sender is not a participant of the pool (65535, ERRATA E-43).
    SenderNotParticipant,
    /// No `swap_party_begin` within 5 minutes (0).
    NoSwapPartyBegin,
    /// `peerswap_init_update_counter` is not the current swap party's (65535, ERRATA E-43).
    WrongUpdateCounter,
    /// A second `peerswap_init` from this sender in this swap party (1).
    AlreadyReceived,
    /// Our "twice our-side funds" is below the total: the sender may not offer (2).
    NotValidOfferrer,
    /// Amount below `sidepool_version_1_min_amount` (3).
    AmountBelowMinimum,
    /// Amount × 1000 not below the imbalance error (4).
    AmountNotBelowImbalance,
    /// No channel where our funds minus reserve cover the amount (4).
    InsufficientChannelFunds,
    /// In-sidepool timeout below height + 4032 (5).
    SidepoolTimeoutTooEarly,
    /// In-Lightning timeout not below the in-sidepool timeout (5).
    LightningNotBeforeSidepool,
    /// In-sidepool minus in-Lightning timeout below our `cltv_delta` (5).
    TimelockGapBelowCltvDelta,
    /// Our own `cltv_delta` is above 2016 (5).
    CltvDeltaTooLarge,
    /// `peerswap_init_hops` above 10 (7).
    HopsOutOfRange,
    /// We would need more than 40 HTLCs under our own `htlc_maximum_msat` (6, ERRATA E-44).
    TooManySplits,
    /// A local policy (65535).
    Policy,
}

impl RejectReason {
    pub fn code(self) -> RejectCode {
        use RejectReason::*;
        match self {
            NotParticipant | SenderNotParticipant | WrongUpdateCounter | Policy => RejectCode::POLICY,
            NoSwapPartyBegin => RejectCode::NO_SWAP_PARTY,
            AlreadyReceived => RejectCode::ALREADY_SENT,
            NotValidOfferrer => RejectCode::NOT_VALID_OFFERRER,
            AmountBelowMinimum => RejectCode::AMOUNT_TOO_SMALL,
            AmountNotBelowImbalance | InsufficientChannelFunds => RejectCode::AMOUNT_TOO_LARGE,
            SidepoolTimeoutTooEarly | LightningNotBeforeSidepool | TimelockGapBelowCltvDelta | CltvDeltaTooLarge => {
                RejectCode::TIMEOUTS_TOO_TIGHT
            }
            TooManySplits => RejectCode::TOO_MANY_SPLITS,
            HopsOutOfRange => RejectCode::HOPS_OUT_OF_RANGE,
        }
    }

    /// The stable machine name used in vectors.
    pub fn name(self) -> &'static str {
        use RejectReason::*;
        match self {
            NotParticipant => "not_participant",
            SenderNotParticipant => "sender_not_participant",
            NoSwapPartyBegin => "no_swap_party_begin",
            WrongUpdateCounter => "wrong_update_counter",
            AlreadyReceived => "already_received",
            NotValidOfferrer => "not_valid_offerrer",
            AmountBelowMinimum => "amount_below_minimum",
            AmountNotBelowImbalance => "amount_not_below_imbalance",
            InsufficientChannelFunds => "insufficient_channel_funds",
            SidepoolTimeoutTooEarly => "sidepool_timeout_too_early",
            LightningNotBeforeSidepool => "lightning_not_before_sidepool",
            TimelockGapBelowCltvDelta => "timelock_gap_below_cltv_delta",
            CltvDeltaTooLarge => "cltv_delta_too_large",
            HopsOutOfRange => "hops_out_of_range",
            TooManySplits => "too_many_splits",
            Policy => "policy",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rejection: the reason, and a short human text for `peerswap_reject_reason_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reason: RejectReason,
    pub text: String,
}

impl Rejection {
    pub fn code(&self) -> RejectCode {
        self.reason.code()
    }
}

/// What the receiver does with a `peerswap_init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiveDecision {
    /// Every check passed: accept (or forward).
    Accept,
    /// Hold the message; process it again when `swap_party_begin` arrives, or at
    /// `until` (when, without it, the answer is reject code 0).
    Defer { until: Timestamp },
    Reject(Rejection),
}

fn reject(reason: RejectReason, text: String) -> ReceiveDecision {
    ReceiveDecision::Reject(Rejection { reason, text })
}

/// Runs every receiver check on `init`, in the spec's order.
///
/// SIDEPOOL-10: "If the above validation fails, the receiver MUST reject the peerswap."
/// The hash is not looked at: SIDEPOOL-10: "The receiver MAY receive a peerswap with the same sidepool ID and hash from two different offerrers."
/// SIDEPOOL-10: "The receiver MUST NOT treat this as an error condition, and MUST NOT abort the sidepool."
pub fn receive_init(init: &PeerswapInit, ctx: &ReceiveContext<'_>) -> ReceiveDecision {
    receive_init_with(init, ctx, &Choices::default())
}

/// One of the receiver's checks: `Some` rejects. `SpecConstants` carries the numbers (the
/// text's, or a model checker's what-if).
type Check = fn(&PeerswapInit, &ReceiveContext<'_>, &SpecConstants) -> Option<(RejectReason, String)>;

/// The checks after the swap-party gate, in the spec's order (the split check,
/// one of the receiver's "other reasons", comes last). The spec fixes no order
/// among them: an offer that breaks two rules may be rejected for either (a
/// conforming variant runs them last first, [`CheckOrder::Reversed`]).
const CHECKS_AFTER_THE_GATE: [Check; 8] = [
    check_update_counter,
    check_already_received,
    check_valid_offerrer,
    check_minimum_amount,
    check_below_imbalance,
    check_channel_funds,
    check_timeouts_acceptable,
    check_hops,
];

/// [`receive_init`], taking the open choices (check order, the split check) from `choices`.
pub fn receive_init_with(init: &PeerswapInit, ctx: &ReceiveContext<'_>, choices: &Choices) -> ReceiveDecision {
    receive_init_with_constants(init, ctx, choices, &SpecConstants::SPEC)
}

/// [`receive_init_with`] with the numbers `c` in place of the text's.
pub fn receive_init_with_constants(
    init: &PeerswapInit,
    ctx: &ReceiveContext<'_>,
    choices: &Choices,
    c: &SpecConstants,
) -> ReceiveDecision {
    use RejectReason::*;
    // SIDEPOOL-10: "MUST check that it, and the sender, are both participants of the sidepool indicated in `peerswap_init_id`."
    if !ctx.we_are_participant {
        return reject(NotParticipant, "not a participant of this sidepool".into());
    }
    if !ctx.sender_is_participant {
        return reject(SenderNotParticipant, "sender is not a participant of this sidepool".into());
    }
    // SIDEPOOL-10: "MUST check if a swap party was recently started."
    if ctx.swap_party_counter.is_none() {
        let deadline = ctx.init_arrived_at.saturating_add(c.swap_party_begin_deferral);
        // SIDEPOOL-10: "If it does not receive `swap_party_begin` within 5 minutes, it MUST reject the offer."
        if ctx.is_leader || ctx.now >= deadline {
            return reject(NoSwapPartyBegin, "no swap party in progress".into());
        }
        return ReceiveDecision::Defer { until: deadline };
    }
    let mut checks: Vec<Check> = CHECKS_AFTER_THE_GATE.to_vec();
    if choices.receiver_split_check {
        checks.push(check_splits);
    }
    if choices.check_order == CheckOrder::Reversed {
        checks.reverse();
    }
    for check in checks {
        if let Some((reason, text)) = check(init, ctx, c) {
            return reject(reason, text);
        }
    }
    // SIDEPOOL-10: "The receiver MAY reject the peerswap for other reasons."
    if let Some(why) = ctx.policy_objection {
        return reject(Policy, why.to_owned());
    }
    ReceiveDecision::Accept
}

fn check_update_counter(init: &PeerswapInit, ctx: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    let counter = ctx.swap_party_counter?;
    // SIDEPOOL-10: "MUST check that the pool update counter specified is correct for the current swap party."
    (init.update_counter != counter || !init.update_counter.is_odd()).then(|| {
        (RejectReason::WrongUpdateCounter, format!("update counter {} is not {} of the current swap party", init.update_counter.get(), counter.get()))
    })
}

fn check_already_received(_: &PeerswapInit, ctx: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    // SIDEPOOL-10: "MUST check that the sender has not sent a previous `peerswap_init`, unless the previous `peerswap_init` is for a swap party that has completed, or a sidepool that has aborted."
    ctx.already_received_from_sender.then(|| (RejectReason::AlreadyReceived, "peerswap_init already received in this swap party".into()))
}

fn check_valid_offerrer(_: &PeerswapInit, ctx: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    // SIDEPOOL-10: "MUST validate that the sender is a valid offerrer: ... The "twice our-side funds" of this node is greater than or equal to the "total channel capacity"."
    // Only our own measurement counts, never the sender's `peerswap_init_channel_view_msat`:
    // SIDEPOOL-10: "The acceptor MUST NOT use this data to drive its decisionmaking; it MUST use its own local view of the channel state."
    // SIDEPOOL-10: "If the receiver "twice our-side funds" is less than the "total channel capacity", then reject the peerswap."
    (ctx.balance.offerrer() == Offerrer::Us).then(|| (RejectReason::NotValidOfferrer, "sender is not the side allowed to offer".into()))
}

fn check_minimum_amount(init: &PeerswapInit, _: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    // SIDEPOOL-10: "MUST check that the `peerswap_init_amount_sat` was set such that: ... It is greater than or equal to the minimum output amount specified in [SIDEPOOL-02 Output States][]."
    (init.amount < SIDEPOOL_VERSION_1_MIN_AMOUNT)
        .then(|| (RejectReason::AmountBelowMinimum, format!("{} is below the minimum {}", init.amount, SIDEPOOL_VERSION_1_MIN_AMOUNT)))
}

fn check_below_imbalance(init: &PeerswapInit, ctx: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    let imbalance = ctx.balance.imbalance_error();
    // SIDEPOOL-10: "It is less than the "imbalance error" computed in [SIDEPOOL-10 Balance Measurement][]."
    init.amount
        .to_msat()
        .is_none_or(|m| m >= imbalance)
        .then(|| (RejectReason::AmountNotBelowImbalance, format!("{} is not below the imbalance error {}", init.amount, imbalance)))
}

fn check_channel_funds(init: &PeerswapInit, ctx: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    // SIDEPOOL-10: "At least one channel with the sender has funds owned by this node, such that the amount, minus the reserve, is greater than or equal to `peerswap_init_amount_sat`."
    // SIDEPOOL-10: "If the funds unambiguously on our side are less than the offerred amount, reject the peerswap."
    let covered = match (ctx.balance.max_ours_above_reserve, init.amount.to_msat()) {
        (Some(spare), Some(m)) => spare >= m,
        _ => false,
    };
    (!covered).then(|| (RejectReason::InsufficientChannelFunds, format!("no channel has {} above its reserve", init.amount)))
}

fn check_timeouts_acceptable(init: &PeerswapInit, ctx: &ReceiveContext<'_>, c: &SpecConstants) -> Option<(RejectReason, String)> {
    // SIDEPOOL-10: "MUST check that the `peerswap_init_timeouts` is valid and acceptable to itself, as indicated above."
    check_timeouts_with(init, ctx.height, ctx.cltv_delta, c)
        .err()
        .map(|reason| (reason, format!("timeouts {} / {} too tight at {}", init.timeouts.sidepool.0, init.timeouts.lightning.0, ctx.height)))
}

fn check_hops(init: &PeerswapInit, _: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    // SIDEPOOL-10: "MUST check that the `peerswap_init_hops` value is between 0 to 10, inclusive."
    (!init.hops.is_in_range()).then(|| (RejectReason::HopsOutOfRange, format!("hops {} is above 10", init.hops.0)))
}

fn check_splits(init: &PeerswapInit, ctx: &ReceiveContext<'_>, _: &SpecConstants) -> Option<(RejectReason, String)> {
    // Reject code 6 (ERRATA E-44): the HTLCs we would send are capped by our own htlc_maximum_msat.
    // SIDEPOOL-10: "Each payment MUST NOT exceed any limit on the maximum HTLC to the local offerrer, such as any `htlc_maximum_msat` sent by the acceptor to the channel."
    let splits = ctx.balance.min_htlc_maximum_ours.and_then(|max| ln_splits(init.amount, max));
    splits.is_none_or(|n| n > PEERSWAP_MAX_LN_SPLITS).then(|| (RejectReason::TooManySplits, format!("more than {PEERSWAP_MAX_LN_SPLITS} HTLCs needed")))
}

/// The acceptor's timeout checks, in the spec's order.
pub fn check_timeouts(init: &PeerswapInit, height: BlockHeight, cltv_delta: BlockDelta) -> Result<(), RejectReason> {
    check_timeouts_with(init, height, cltv_delta, &SpecConstants::SPEC)
}

/// [`check_timeouts`] with the numbers `c` in place of the text's.
pub fn check_timeouts_with(
    init: &PeerswapInit,
    height: BlockHeight,
    cltv_delta: BlockDelta,
    c: &SpecConstants,
) -> Result<(), RejectReason> {
    let t = init.timeouts;
    // SIDEPOOL-10: "MUST check that the in-sidepool timeout is greater than or equal to the current blockheight + 4032."
    if height.checked_add(c.sidepool_timeout_min_delta).is_none_or(|min| t.sidepool < min) {
        return Err(RejectReason::SidepoolTimeoutTooEarly);
    }
    // SIDEPOOL-10: "MUST check that: ... The in-Lightning timeout is less than the in-sidepool timeout."
    let Some(gap) = t.sidepool.checked_since(t.lightning).filter(|g| g.0 > 0) else {
        return Err(RejectReason::LightningNotBeforeSidepool);
    };
    // SIDEPOOL-10: "The difference between the in-sidepool timeout minus the in-Lightning timeout is greater than or equal to its `cltv_delta`."
    if gap < cltv_delta {
        return Err(RejectReason::TimelockGapBelowCltvDelta);
    }
    // SIDEPOOL-10: "`cltv_delta` MUST be less than or equal to 2016."
    if cltv_delta > c.max_cltv_delta {
        return Err(RejectReason::CltvDeltaTooLarge);
    }
    Ok(())
}

/// Builds the `peerswap_reject` for a rejection, with the acceptor's own view.
///
/// SIDEPOOL-10: "If the receiver of the `peerswap_init` message decides to reject the peerswap, it MUST send `peerswap_reject`:"
/// SIDEPOOL-10: "`peerswap_reject_channel_view_msat` is what the rejecting node sees as the state of the channels between itself and the offerrer."
pub fn reject_message(init: &PeerswapInit, rejection: &Rejection, acceptor_balance: &Balance) -> PeerswapReject {
    PeerswapReject {
        id: init.id,
        hash: init.hash,
        reason_code: rejection.code(),
        reason_text: reason_text(&rejection.text),
        channel_view: acceptor_balance.view_as_acceptor(),
        unknown: Vec::new(),
    }
}

/// SIDEPOOL-10: "Length: N, 1 <= N <= 255"
///
/// Cut at a character boundary to at most 255 bytes; an empty text is omitted.
pub fn reason_text(text: &str) -> Option<String> {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.get(..end).unwrap_or_default();
    (!cut.is_empty()).then(|| cut.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_text_is_cut_to_255_bytes_at_a_character_boundary() {
        assert_eq!(reason_text(""), None);
        assert_eq!(reason_text("ok").as_deref(), Some("ok"));
        let long = "é".repeat(200); // 400 bytes
        let cut = reason_text(&long).unwrap();
        assert_eq!(cut.len(), 254);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn every_reason_maps_to_a_listed_code() {
        use RejectReason::*;
        for r in [
            NotParticipant, SenderNotParticipant, NoSwapPartyBegin, WrongUpdateCounter, AlreadyReceived, NotValidOfferrer,
            AmountBelowMinimum, AmountNotBelowImbalance, InsufficientChannelFunds, SidepoolTimeoutTooEarly,
            LightningNotBeforeSidepool, TimelockGapBelowCltvDelta, CltvDeltaTooLarge, HopsOutOfRange, TooManySplits, Policy,
        ] {
            assert!(r.code().meaning().is_some(), "{r}");
        }
    }
}
