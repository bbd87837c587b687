//! SIDEPOOL-10 "In-Lightning HTLC Propagation": the amount the in-Lightning
//! HTLCs carry, how an acceptor splits it, the rules every `update_add_htlc`
//! must follow, the offerrer's 60-second hold, and the acceptor / forwarder
//! bookkeeping of what it offered.
//!
//! Everything is sans-IO: time is a value the caller passes in ([`Seconds`]),
//! HTLCs are opaque handles the caller chose ([`HtlcRef`], [`ChannelRef`]).
//!
//! Who calls what:
//! - acceptor (ultimate or forwarder), when it is time to pay:
//!   [`agreed_upon_amount`], then [`plan_split`], then feeds [`OutgoingParts`];
//! - offerrer (ultimate or forwarder), as HTLCs arrive: [`HtlcRules::check`]
//!   to recognise them, then feeds [`IncomingHold`];
//! - forwarder: [`Forwarder`] ties its incoming hold to its outgoing parts;
//!   [`check_zero_fee`] guards what it forwards.

mod amount;
mod fields;
mod forwarder;
mod hold;
mod outgoing;
mod split;

pub use amount::{agreed_upon_amount, AgreedAmountError};
pub use fields::{HtlcRuleViolation, HtlcRules, ObservedHtlc, OnionFinalHop};
pub use forwarder::{check_zero_fee, Forwarder, ForwarderAction, ForwarderEvent, ZeroFeeViolation};
pub use hold::{HoldAction, HoldEvent, HoldRole, HoldState, IncomingHold, Seconds, HOLD_TIMEOUT};
pub use outgoing::{OutgoingEvent, OutgoingOutcome, OutgoingParts, OutgoingError};
pub use split::{plan_split, ChannelRef, ChannelToOfferrer, SplitError, SplitPart, PEERSWAP_MAX_LN_SPLITS};

/// The caller's handle on one in-Lightning HTLC (for example its channel and
/// HTLC id packed together). The machines only compare handles for equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HtlcRef(pub u64);
