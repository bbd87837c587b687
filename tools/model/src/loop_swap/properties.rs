//! The properties of issue 17 item 4: in words with the LOOP-01 sentences they rest
//! on, and as checks on a state. The money properties are judged once a run is over
//! ([`LoopModel::over`]): the HTLC is spent, or the expiry has passed with no honest
//! claim pending.

use loop_reference::htlc::SpendKind;
use loop_reference::state::SwapState;
use stateright::Property;

use crate::framework::{PropertyDef, PropertyKind, SpecQuote};

use super::model::{Htlc, LoopModel, Pay, World, ACCEPTED_FEES, PREPAY, SWAP_INVOICE};

const fn q(text: &'static str) -> SpecQuote {
    SpecQuote { doc: "LOOP-01", text }
}

pub const SERVER_PAID_ONLY_AFTER_COMPLETE: &str = "server_paid_only_after_complete";
pub const REVEAL_IN_TIME: &str = "reveal_in_time";
pub const CLIENT_LOSS_BOUNDED: &str = "client_loss_bounded";
pub const HONEST_SERVER_PAID: &str = "honest_server_paid";
pub const SERVER_CAN_SETTLE: &str = "server_can_settle";
pub const CLIENT_CAN_REVEAL: &str = "client_can_reveal";
pub const SWAP_CAN_SUCCEED: &str = "swap_can_succeed";
pub const HONEST_SERVER_CAN_BE_PAID: &str = "honest_server_can_be_paid";

const REVEAL: &str = "The client MUST NOT reveal the preimage unless the HTLC expiry minus the current height is more than 20 blocks.";
const WAIT: &str = "While it waits for the HTLC to confirm, the client MUST end the swap in state FailTimeout once the height exceeds the HTLC expiry minus 20 blocks.";
const KEEP_CLAIMING: &str = "Once the preimage is revealed, the client MUST keep claiming the HTLC until a spend of it confirms, whatever the height and the fee.";
const NO_DISCLOSURE: &str = "The client MUST NOT disclose the Loop Out preimage, on chain or to the server, before it publishes its claim of a confirmed HTLC that pays it at least the requested amount.";
const FUNDING: &str = "In the Funding phase the client MUST pay the swap invoice, whose payment hash is the swap hash, so that the server can settle it only with the preimage.";
const FEE: &str = "The client MUST refuse the swap if the swap invoice amount plus the prepay invoice amount minus the requested amount exceeds its maximum swap fee.";
const VALUE: &str = "Before it reveals the preimage, the client MUST end the swap in state FailInsufficientValue if the confirmed HTLC's value is below the requested amount.";
const PAYMENT: &str = "In the Payment phase the server MUST publish the on-chain HTLC with the client as receiver, locked to the swap hash.";
const FINAL: &str = "In the Final phase the server MAY settle the swap invoice with the preimage revealed on chain.";
const COMPLETE: &str = "In the Complete phase the client MUST claim the confirmed on-chain HTLC with the preimage, which reveals the preimage on chain.";
const RESUME: &str = "After a restart the client MUST resume a pending swap from its last persisted state.";

pub fn defs() -> Vec<PropertyDef> {
    DEFS.to_vec()
}

/// Every property of the Loop model.
pub const DEFS: &[PropertyDef] = &[
    PropertyDef {
        name: SERVER_PAID_ONLY_AFTER_COMPLETE,
        kind: PropertyKind::Safety,
        words: "The server settles the honest client's swap payment (accesses the swap funds) only once the swap has entered the Complete phase (seed 001: \"the server cannot access the swap funds unless the swap enters the 'complete' phase\").",
        rests_on: &[q(FUNDING), q(NO_DISCLOSURE), q(COMPLETE)],
    },
    PropertyDef {
        name: REVEAL_IN_TIME,
        kind: PropertyKind::Safety,
        words: "An honest client never reveals the preimage too close to the expiry: its first claim is published at least `confirm_blocks` blocks before the HTLC expiry, so that it can confirm before the server's timeout path opens.",
        rests_on: &[q(REVEAL), q(WAIT)],
    },
    PropertyDef {
        name: CLIENT_LOSS_BOUNDED,
        kind: PropertyKind::Safety,
        words: "An honest client never loses more than the fees it accepted: if the server gets the swap payment (settled, or in flight with the preimage known to it), the client has the HTLC; the prepay it may lose.",
        rests_on: &[q(REVEAL), q(KEEP_CLAIMING), q(NO_DISCLOSURE), q(FEE), q(VALUE), q(RESUME)],
    },
    PropertyDef {
        name: HONEST_SERVER_PAID,
        kind: PropertyKind::Safety,
        words: "An honest server that published the HTLC it promised is paid: either the swap payment is its (settled, or in flight with the preimage known to it) or the HTLC comes back to it.",
        rests_on: &[q(PAYMENT), q(FINAL), q(FUNDING)],
    },
    PropertyDef {
        name: SERVER_CAN_SETTLE,
        kind: PropertyKind::Reachable,
        words: "Some run has the server settle an honest client's swap payment (so server_paid_only_after_complete is not vacuous).",
        rests_on: &[q(FINAL)],
    },
    PropertyDef {
        name: CLIENT_CAN_REVEAL,
        kind: PropertyKind::Reachable,
        words: "Some run has the honest client reveal the preimage (so reveal_in_time is not vacuous).",
        rests_on: &[q(COMPLETE)],
    },
    PropertyDef {
        name: SWAP_CAN_SUCCEED,
        kind: PropertyKind::Reachable,
        words: "Some run ends with the honest client's swap in state Success, the server paid (so client_loss_bounded is not vacuous).",
        rests_on: &[q(COMPLETE), q(FINAL)],
    },
    PropertyDef {
        name: HONEST_SERVER_CAN_BE_PAID,
        kind: PropertyKind::Reachable,
        words: "Some run has an honest server publish its HTLC and settle the swap payment (so honest_server_paid is not vacuous).",
        rests_on: &[q(PAYMENT), q(FINAL)],
    },
];

pub fn stateright_properties() -> Vec<Property<LoopModel>> {
    vec![
        Property::always(SERVER_PAID_ONLY_AFTER_COMPLETE, |m: &LoopModel, w: &World| !m.honest_client(w) || !w.settled_before_complete),
        Property::always(REVEAL_IN_TIME, |m: &LoopModel, w: &World| !m.honest_client(w) || late_reveal(m, w).is_none()),
        Property::always(CLIENT_LOSS_BOUNDED, |m: &LoopModel, w: &World| !m.honest_client(w) || !m.over(w) || client_net(w) >= -(ACCEPTED_FEES.0 as i64)),
        Property::always(HONEST_SERVER_PAID, |m: &LoopModel, w: &World| !m.honest_server(w) || !m.over(w) || server_paid(w)),
        Property::sometimes(SERVER_CAN_SETTLE, |m: &LoopModel, w: &World| m.honest_client(w) && w.swap_payment == Pay::Settled),
        Property::sometimes(CLIENT_CAN_REVEAL, |m: &LoopModel, w: &World| m.honest_client(w) && w.first_reveal_at.is_some()),
        Property::sometimes(SWAP_CAN_SUCCEED, |m: &LoopModel, w: &World| {
            m.honest_client(w) && w.client.is_finished() && w.client.state() == Some(SwapState::Success) && w.swap_payment == Pay::Settled
        }),
        Property::sometimes(HONEST_SERVER_CAN_BE_PAID, |m: &LoopModel, w: &World| {
            m.honest_server(w) && w.htlc != Htlc::Absent && w.swap_payment == Pay::Settled
        }),
    ]
}

/// The height of the honest client's first reveal, when it left less than `confirm_blocks` to the expiry.
pub fn late_reveal(m: &LoopModel, w: &World) -> Option<u32> {
    w.first_reveal_at.filter(|h| h + m.cfg.confirm_blocks > m.expiry())
}

/// Whether the server has (or can take at once) the swap payment.
pub fn server_has_swap_payment(w: &World) -> bool {
    w.swap_payment == Pay::Settled || (w.swap_payment == Pay::InFlight && w.server_knows_preimage)
}

/// The client's gains minus what it gave, in sat, counting each payment and the HTLC at
/// whoever gets it: an in-flight prepay is the server's (it settles it at once), an
/// in-flight swap payment is the server's once it knows the preimage, an unclaimed HTLC
/// is the server's once the run is over.
pub fn client_net(w: &World) -> i64 {
    let mut net: i64 = 0;
    if server_has_swap_payment(w) {
        net -= SWAP_INVOICE.0 as i64;
    }
    if matches!(w.prepay, Pay::Settled | Pay::InFlight) {
        net -= PREPAY.0 as i64;
    }
    if w.htlc == Htlc::Spent(SpendKind::Success) {
        net += w.htlc_value.0 as i64;
    }
    net
}

/// The honest server's HTLC is back with it, or it has the swap payment, or it published none.
pub fn server_paid(w: &World) -> bool {
    match w.htlc {
        Htlc::Absent => true,
        Htlc::Confirmed { .. } | Htlc::Spent(SpendKind::Timeout) => true,
        Htlc::Spent(SpendKind::Success) => server_has_swap_payment(w),
    }
}
