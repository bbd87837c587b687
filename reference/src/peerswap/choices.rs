//! The choices SIDEPOOL-10 leaves to an implementation.
//!
//! Where the text says MAY, "either way", or fixes no order, a conforming node
//! may do one thing or another. The reference takes one of them (its readings,
//! recorded in ERRATA); [`Choices::default`] is that. The other values exist so
//! that conforming *variants* of the reference node (`node --variant NAME`) can
//! prove the conformance suite grades only what the spec requires: every variant
//! must pass every MUST case. A choice here never changes what a MUST demands.

/// How half the imbalance error becomes a whole number of satoshis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Down (the reference, ERRATA E-41).
    #[default]
    Down,
    /// Up.
    Up,
}

/// The order of the receiver's checks of a `peerswap_init` after the swap-party gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CheckOrder {
    /// The order of the spec's list (the reference).
    #[default]
    Spec,
    /// The same checks, last first: an offer breaking two rules is rejected for the other one.
    Reversed,
}

/// How the acceptor cuts the in-Lightning payment into HTLCs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SplitStyle {
    /// As few parts as the maxima allow: one when it fits (the reference).
    #[default]
    Fewest,
    /// At least two parts, even where one would fit.
    AtLeastTwo,
}

/// What an ultimate offerrer does with an in-Lightning HTLC of the peerswap
/// irrevocably committed after its hold completed (ERRATA E-64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LateHtlc {
    /// Fail it: it is beyond what completed the hold (the reference).
    #[default]
    Fail,
    /// Fulfil it too ("The ultimate offerrer MUST also fulfill each of the incoming in-Lightning HTLCs.").
    Fulfil,
}

/// Every open choice, in one value carried by the engine's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Choices {
    // SIDEPOOL-10: "Otherwise, SHOULD offer an amount equal to half of the imbalance error, or the minimum amount specified, whichever is higher, rounded either way to an exact satoshi value."
    pub rounding: Rounding,
    pub check_order: CheckOrder,
    /// Whether the receiver rejects an offer it could only pay in more than 40
    /// HTLCs under its own maximum (reject code 6, ERRATA E-44). The 40-part
    /// limit binds the sender of `peerswap_init`; the receiver checks it only as
    /// one of the "other reasons" it MAY reject for.
    // SIDEPOOL-10: "The receiver MAY reject the peerswap for other reasons."
    pub receiver_split_check: bool,
    // SIDEPOOL-10: "The acceptor MAY pay using one payment if the maximum HTLC size to the local offerrer is greater than or equal to the ..."
    pub split: SplitStyle,
    /// At most this many HTLCs for one payment (ERRATA E-62's 40), or no limit.
    pub max_parts: Option<u64>,
    pub late_htlc: LateHtlc,
}

impl Default for Choices {
    fn default() -> Choices {
        Choices {
            rounding: Rounding::Down,
            check_order: CheckOrder::Spec,
            receiver_split_check: true,
            split: SplitStyle::Fewest,
            max_parts: Some(crate::peerswap::constants::PEERSWAP_MAX_LN_SPLITS),
            late_htlc: LateHtlc::Fail,
        }
    }
}
