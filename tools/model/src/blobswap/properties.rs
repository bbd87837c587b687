//! The properties of the Blobswap model (BLOBSWAP-01 "Safety", S1 and S2) and the sentences they
//! rest on.

use crate::framework::{PropertyDef, PropertyKind, SpecQuote};

use super::model::{BlobswapModel, Htlc, World};

const DOC: &str = "BLOBSWAP-01";

pub(crate) const fn q(text: &'static str) -> SpecQuote {
    SpecQuote { doc: DOC, text }
}

pub(crate) fn to_user(w: &World) -> bool {
    w.spent.as_ref().is_some_and(|(s, _)| s.pays_user())
}

/// The user's payment is settled only if the shared output went to it (judged when the run is
/// over: a settled HTLC is final, so it must be matched by the end).
pub(crate) fn user_safe(m: &BlobswapModel, w: &World) -> bool {
    !m.over(w) || w.htlc != Htlc::Settled || to_user(w)
}

/// The shared output goes to the user only if the SSP was paid; a funded output not taken by
/// the user comes back to the SSP.
pub(crate) fn ssp_safe(m: &BlobswapModel, w: &World) -> bool {
    !m.over(w) || ((!to_user(w) || w.htlc == Htlc::Settled) && (w.funding_confirmed.is_none() || w.spent.is_some()))
}

pub const USER_SAFE: &str = "user_paid_only_for_value";
pub const SSP_SAFE: &str = "ssp_output_only_if_paid";
pub const SWAP_CAN_COMPLETE: &str = "swap_can_complete";
pub const SSP_CAN_BE_REFUNDED: &str = "ssp_can_be_refunded";

pub const DEFS: &[PropertyDef] = &[
    PropertyDef {
        name: USER_SAFE,
        kind: PropertyKind::Safety,
        words: "An honest user's hold-invoice payment is settled only if the shared output (the value the swap promised) confirms to it, by payout or claim.",
        rests_on: &[
            q("The user MUST NOT presign at a tip t with `t + CONFIRMATION_PERIOD + REVEAL_WINDOW + 2 * CHAIN_DELAY > R`."),
            q("The user MUST NOT reveal if `hc + CONFIRMATION_PERIOD - 1 + REVEAL_WINDOW + 2 * CHAIN_DELAY > R`."),
            q("The user MUST NOT reveal before the funding has CONFIRMATION_PERIOD confirmations."),
            q("CONFIRMATION_PERIOD MUST be at least 1 and greater than the depth of any chain reorganisation the parties guard against."),
            q("A user that has revealed and sees no confirmed spend of the shared output at tip `hW + CHAIN_DELAY` MUST broadcast its claim transaction."),
        ],
    },
    PropertyDef {
        name: SSP_SAFE,
        kind: PropertyKind::Safety,
        words: "An honest SSP's shared output goes to the user only if the SSP settled the hold invoice, and a funded output the user does not take comes back to the SSP.",
        rests_on: &[
            q("The SSP MUST choose a refund height R with `R + CHAIN_DELAY + SETTLE_MARGIN <= E`."),
            q("The SSP MUST NOT broadcast its funding at a tip t with `t + 3 * CHAIN_DELAY + CONFIRMATION_PERIOD + REVEAL_WINDOW - 1 > R`."),
            q("The SSP MUST NOT broadcast the payout transaction at a tip t with `t + SETTLE_MARGIN > E`."),
            q("An SSP that sees the shared output spent through the claim leaf MUST settle the hold invoice with the preimage from that witness."),
            q("An SSP whose shared output is unspent at tip R and that has not broadcast the payout transaction MUST broadcast the refund transaction."),
        ],
    },
    PropertyDef {
        name: SWAP_CAN_COMPLETE,
        kind: PropertyKind::Reachable,
        words: "Some run settles the payment and gives the user the shared output (the safety verdicts are not vacuous).",
        rests_on: &[q("The SSP MUST NOT broadcast the payout transaction before it holds the preimage.")],
    },
    PropertyDef {
        name: SSP_CAN_BE_REFUNDED,
        kind: PropertyKind::Reachable,
        words: "Some run ends with the SSP refunded and the payment failed back.",
        rests_on: &[q("The SSP MUST cancel the hold invoice once its refund has confirmed.")],
    },
];
