//! Conforming variants of the reference node, for proving that the suite grades
//! only what the spec requires.
//!
//! Each variant takes one *other* choice the spec allows — a reject code from
//! outside (or beyond) the optional table, another split, the other rounding,
//! another check order, timers firing within the documented tolerance after
//! their deadline, no forwarding, fulfilling late HTLCs, no reason text. Started
//! with a variant (`node --variant NAME`, `run --variant NAME`), the node must
//! fail **no** MUST case (`conformance/tests/variants.rs`). Most variants are
//! the reference engine's own [`Choices`]; a few bend what the node does at
//! its boundary, as the deliberate defects do.

use sidepool_reference::peerswap::choices::{CheckOrder, Choices, LateHtlc, Rounding, SplitStyle};
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::messages::RejectCode;
use sidepool_reference::peerswap::session::{Action, Event};
use sidepool_reference::units::PublicKey;
use sidepool_reference::Message;

/// The late-timer variant's clock runs this much slower than the world's
/// (num / den): a 60-second hold fires 0.4 s late (at the next whole second,
/// 61 s), a 5-minute deferral 2 s late (302 s). Both stay within the cases'
/// tolerance ([`crate::runner::TIMER_TOLERANCE_S`]) and never fire early.
pub const SLOW_CLOCK: (u64, u64) = (150, 151);

fn slow(t: Timestamp) -> Timestamp {
    Timestamp(t.0.saturating_mul(SLOW_CLOCK.0) / SLOW_CLOCK.1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Variant {
    /// Rejects with code 65535 everywhere ("`peerswap_reject_reason_code` MAY have the following values").
    RejectCode65535,
    /// Sends no `peerswap_reject_reason_text` (it is optional).
    NoReasonText,
    /// Pays in two or more HTLCs even where one would fit ("The acceptor MAY pay using one payment if ...").
    AlwaysSplit,
    /// Does not reject offers it would pay in more than 40 HTLCs, and then pays in as many as it needs.
    NoReceiverSplitCheck,
    /// Rounds half the imbalance error up to a whole satoshi ("rounded either way").
    RoundUp,
    /// Runs the receiver's checks in reverse order (the spec fixes none).
    ReversedChecks,
    /// Timers (the 60-second hold, the 5-minute deferral) fire a moment after their deadline (a slow clock).
    LateTimers,
    /// Never forwards peerswaps (forwarding is a SHOULD) and does not declare the capability.
    NeverForward,
    /// Fulfils in-Lightning HTLCs that arrive after its hold completed (ERRATA E-64).
    FulfilLateHtlcs,
}

impl Variant {
    /// The engine's choices under this variant.
    pub fn choices(self) -> Choices {
        let mut c = Choices::default();
        match self {
            Variant::AlwaysSplit => c.split = SplitStyle::AtLeastTwo,
            Variant::NoReceiverSplitCheck => {
                c.receiver_split_check = false;
                c.max_parts = None;
            }
            Variant::RoundUp => c.rounding = Rounding::Up,
            Variant::ReversedChecks => c.check_order = CheckOrder::Reversed,
            Variant::FulfilLateHtlcs => c.late_htlc = LateHtlc::Fulfil,
            Variant::RejectCode65535 | Variant::NoReasonText | Variant::LateTimers | Variant::NeverForward => {}
        }
        c
    }

    /// Whether the node forwards peerswaps.
    pub fn forwards(self) -> bool {
        self != Variant::NeverForward
    }

    /// Bends an event before the engine sees it (the late-timer variant's clock lags).
    pub fn event(self, event: Event<PublicKey>) -> Event<PublicKey> {
        match (self, event) {
            (Variant::LateTimers, Event::TimePassed { now }) => Event::TimePassed { now: slow(now) },
            (Variant::LateTimers, Event::SwapPartyBegun { pool, at }) => Event::SwapPartyBegun { pool, at: slow(at) },
            (_, e) => e,
        }
    }

    /// Bends an action the engine produced.
    pub fn action(self, action: Action<PublicKey>) -> Action<PublicKey> {
        match (self, action) {
            (Variant::RejectCode65535, Action::Send { to, msg: Message::PeerswapReject(mut r) }) => {
                r.reason_code = RejectCode::POLICY;
                Action::Send { to, msg: Message::PeerswapReject(r) }
            }
            (Variant::NoReasonText, Action::Send { to, msg: Message::PeerswapReject(mut r) }) => {
                r.reason_text = None;
                Action::Send { to, msg: Message::PeerswapReject(r) }
            }
            (_, a) => a,
        }
    }
}
