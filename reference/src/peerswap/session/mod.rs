//! A sans-IO session state machine for SIDEPOOL-10 peerswaps: one
//! [`PeerswapEngine`] per node composes the decision rules (`offer`, `receive`,
//! `response`, `forward`), the in-Lightning HTLC machines (`lightning_htlcs`)
//! and the resolution (`resolution`) into `handle(event) -> actions`.
//!
//! Model: quinn-proto / rustls. No clock, no IO, no randomness inside: the time
//! (`now`), random bytes (hops), payment secrets and every key come in as event
//! values or through the caller's [`SessionKeys`]. The node, the conformance
//! runner and the fuzzers all drive this same code.
//!
//! Ordering contract of the returned actions: they are to be carried out in
//! order. In particular every [`Action::PersistRecord`] precedes the action
//! that depends on it (forwarded `peerswap_init`, `peerswap_accept`, HTLCs
//! forwarded upstream), and must be durable before the next action runs.
//!
//! Sessions are keyed by (sidepool ID, hash, counterparty). A forwarder has two
//! sessions for one peerswap: the one with its upstream (the node that sent it
//! `peerswap_init`, its local offerrer) and the one with its downstream (the node
//! it forwarded to, its local acceptor).

mod engine;
#[cfg(test)]
mod tests;

pub use engine::PeerswapEngine;

use core::fmt;

use crate::messages::Message;
use crate::peerswap::balance::Channel;
use crate::peerswap::choices::Choices;
use crate::peerswap::malformed::MalformedInit;
use crate::peerswap::constants::Timestamp;
use crate::peerswap::forward::ForwardRecord;
use crate::peerswap::lightning_htlcs::{ChannelRef, HtlcRef, ObservedHtlc};
use crate::peerswap::messages::{EncryptedPrivkey, HtlcPubkeys, PeerswapInit, Timeouts};
use crate::peerswap::resolution::PeerswapRef;
use crate::pool::TaxInputs;
use crate::revision::SpecRevision;
use crate::units::{BlockDelta, BlockHeight, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter};

/// Which role this node plays in one peerswap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    UltimateOfferrer,
    Forwarder,
    UltimateAcceptor,
}

impl Role {
    /// The stable name vectors and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Role::UltimateOfferrer => "ultimate_offerrer",
            Role::Forwarder => "forwarder",
            Role::UltimateAcceptor => "ultimate_acceptor",
        }
    }
}

/// The node's own settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EngineConfig<P> {
    /// This node's peer id (to tell whether it is a participant or the leader).
    pub me: P,
    /// Whether to forward a valid incoming `peerswap_init` when a next hop qualifies.
    pub forward: bool,
    /// Our `cltv_delta` (BOLT #7 `cltv_expiry_delta`).
    pub cltv_delta: BlockDelta,
    /// Our `final_cltv_delta` (BOLT #11 `min_final_cltv_expiry_delta`).
    pub final_cltv_delta: BlockDelta,
    /// Which revision of the texts to follow where they differ (the amount the
    /// in-Lightning HTLCs total: `lightning_htlcs::in_lightning_amount`).
    pub revision: SpecRevision,
    /// The choices the spec leaves open (the reference's own by default).
    pub choices: Choices,
}

/// What the node knows about one sidepool it is in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolView<P> {
    pub id: PoolId,
    /// Every participant, the leader and this node included.
    pub participants: Vec<P>,
    pub leader: P,
    /// The pool update counter now (before the expansion phase, once a swap party begins).
    pub update_counter: UpdateCounter,
}

/// The opaque SIDEPOOL-06 HTLC Taproot output key (or address) the caller computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutputKey(pub [u8; 32]);

/// The in-sidepool HTLC details an endpoint stores (SIDEPOOL-06) and from
/// which the caller derives the output key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HtlcDetails<P> {
    pub id: PoolId,
    pub hash: PaymentHash,
    /// The direct peer of this hop: the acceptor we sent `peerswap_init` to, or
    /// the offerrer we received it from. Two peerswaps may share the pool id and
    /// hash (SIDEPOOL-10 "from two different offerrers"); the peer tells them apart.
    pub peer: P,
    /// Our role: [`Role::UltimateOfferrer`] or [`Role::UltimateAcceptor`] (a forwarder keeps a [`ForwardRecord`]).
    pub role: Role,
    pub offerrer_pubkeys: HtlcPubkeys,
    pub acceptor_pubkeys: HtlcPubkeys,
    pub timeouts: Timeouts,
    pub amount: Sat,
}

/// The caller's keys and randomness (SIDEPOOL-06 lives in another module).
///
/// Every key is asked for one *hop*: the peerswap `swap` with the direct peer
/// `peer`. The pool id and hash alone do not name a peerswap: the node may
/// accept the same pair from two offerrers (SIDEPOOL-10), and each must get
/// its own ephemeral key, or handing one over (SIDEPOOL-06) would give away
/// the other (ERRATA E-95).
pub trait SessionKeys<P> {
    /// Our ephemeral and persistent public keys for the in-sidepool HTLC of `swap` with `peer`.
    fn htlc_pubkeys(&self, swap: PeerswapRef, peer: &P) -> HtlcPubkeys;
    /// SIDEPOOL-06 Secure Private Key Handover: our ephemeral private key for
    /// `swap` with `peer`, encrypted to the other endpoint's ephemeral public key `to`.
    fn encrypted_ephemeral_privkey(&self, swap: PeerswapRef, peer: &P, to: &PublicKey) -> Result<EncryptedPrivkey, String>;
    /// SIDEPOOL-06 HTLC Taproot Public Key of the in-sidepool HTLC, as an opaque value.
    fn htlc_output_key(&self, details: &HtlcDetails<P>) -> OutputKey;
    /// The `payment_secret` and `payment_metadata` to put in a `peerswap_lightning` we send to `peer`.
    fn lightning_fields(&self, swap: PeerswapRef, peer: &P, to_hop: Role) -> (Option<PaymentSecret>, Option<Vec<u8>>);
}

/// One input to the engine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event<P> {
    /// The node joined a sidepool or its membership / counter changed.
    PoolUpdated(PoolView<P>),
    /// The sidepool ended (aborted, or the node left it): its ledgers are freed.
    PoolRemoved {
        pool: PoolId,
    },
    /// The channels with `peer` (all of them, any state) and whether it set the feature bit.
    ChannelsUpdated {
        peer: P,
        channels: Vec<Channel>,
        supports_feature: bool,
    },
    BlockHeight(BlockHeight),
    /// `swap_party_begin` received (follower) or sent (leader) for `pool` at `at`.
    SwapPartyBegun {
        pool: PoolId,
        at: Timestamp,
    },
    /// The swap party of `pool` completed (its contraction phase is done).
    ContractionDone {
        pool: PoolId,
    },
    /// Time is now `now`.
    TimePassed {
        now: Timestamp,
    },
    /// A decoded sidepool message from `from`.
    Received {
        from: P,
        msg: Message,
    },
    /// A `peerswap_init` from `from` that did not decode, whose sidepool ID and
    /// hash could still be read ([`crate::peerswap::malformed`]).
    ReceivedMalformedInit {
        from: P,
        init: MalformedInit,
    },
    /// Run the offering rules towards `peer` for `pool` now.
    OfferNow {
        peer: P,
        pool: PoolId,
        hash: PaymentHash,
        amount: Option<Sat>,
        hops_random: u8,
    },
    /// The expansion phase state validated: the HTLC outputs it created, and the tax inputs of that state.
    ExpansionOutcome {
        pool: PoolId,
        outputs: Vec<(OutputKey, Sat)>,
        tax: TaxInputs,
    },
    /// `peer` added an HTLC to us (`id` is the caller's handle, unique per peer).
    IncomingHtlcAdded {
        peer: P,
        id: u64,
        htlc: ObservedHtlc,
    },
    /// That HTLC is irrevocably committed.
    IncomingHtlcCommitted {
        peer: P,
        id: u64,
    },
    /// That HTLC went away without us resolving it (for example its channel closed).
    IncomingHtlcGone {
        peer: P,
        id: u64,
    },
    /// An HTLC we added (see [`Action::AddHtlc`]) was fulfilled by the peer.
    OutgoingHtlcFulfilled {
        htlc: HtlcRef,
    },
    /// An HTLC we added was failed by the peer.
    OutgoingHtlcFailed {
        htlc: HtlcRef,
    },
    /// The removal of that failed HTLC is irrevocably committed.
    OutgoingHtlcRemovalCommitted {
        htlc: HtlcRef,
    },
    /// The caller could not add that HTLC at all (for example no capacity left).
    OutgoingHtlcAddFailed {
        htlc: HtlcRef,
    },
}

/// What the caller persists, BEFORE carrying out the actions after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Record<P> {
    /// The forwarder's record (SIDEPOOL-10 "It MUST store the following information at minimum").
    Forward(ForwardRecord<P>),
    /// The ultimate offerrer's record of the `peerswap_init` it sent.
    SentInit { to: P, init: PeerswapInit },
    /// An endpoint's in-sidepool HTLC details (SIDEPOOL-06).
    HtlcDetails(HtlcDetails<P>),
    /// The `payment_secret` / `payment_metadata` of a `peerswap_lightning`
    /// received from (`sent: false`) or sent to (`sent: true`) `peer`.
    Lightning {
        id: PoolId,
        hash: PaymentHash,
        peer: P,
        sent: bool,
        payment_secret: Option<PaymentSecret>,
        payment_metadata: Option<Vec<u8>>,
    },
    /// A forwarder holds `total` from its local acceptor `from` and forwards it to `to`.
    ForwardedHtlcs { id: PoolId, hash: PaymentHash, from: P, to: P, total: Msat },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

/// One output of the engine; carry them out in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action<P> {
    Send {
        to: P,
        msg: Message,
    },
    PersistRecord(Record<P>),
    DeleteRecord {
        id: PoolId,
        hash: PaymentHash,
    },
    /// Add one in-Lightning HTLC (one part of a split) to `to` on `channel`;
    /// report its fate with `htlc`.
    AddHtlc {
        to: P,
        channel: ChannelRef,
        htlc: HtlcRef,
        fields: ObservedHtlc,
    },
    /// Fulfil the incoming HTLC `id` from `peer` (the caller knows the preimage).
    FulfilHtlc {
        peer: P,
        id: u64,
    },
    /// Fail the incoming HTLC `id` from `peer` (any failure code).
    FailHtlc {
        peer: P,
        id: u64,
    },
    /// Ask for the in-sidepool HTLC output in the expansion phase (`swap_party_expand_request`).
    RequestExpansionOutput {
        id: PoolId,
        hash: PaymentHash,
        output_key: OutputKey,
        amount: Sat,
    },
    /// The ultimate acceptor holds the offerrer's encrypted ephemeral key: claim in the contraction phase (ERRATA E-68).
    ClaimInSidepool {
        id: PoolId,
        hash: PaymentHash,
        offerrer_key: EncryptedPrivkey,
    },
    /// The session with `peer` for this peerswap is over.
    ForgetPeerswap {
        id: PoolId,
        hash: PaymentHash,
        peer: P,
    },
    AbortSidepool {
        id: PoolId,
        reason: String,
    },
    Log {
        level: LogLevel,
        text: String,
    },
}

impl<P> Action<P> {
    /// The stable machine name used by the `session_script` vectors.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Send { .. } => "send",
            Action::PersistRecord(_) => "persist",
            Action::DeleteRecord { .. } => "delete_record",
            Action::AddHtlc { .. } => "add_htlc",
            Action::FulfilHtlc { .. } => "fulfil_htlc",
            Action::FailHtlc { .. } => "fail_htlc",
            Action::RequestExpansionOutput { .. } => "request_expansion_output",
            Action::ClaimInSidepool { .. } => "claim_in_sidepool",
            Action::ForgetPeerswap { .. } => "forget",
            Action::AbortSidepool { .. } => "abort_sidepool",
            Action::Log { .. } => "log",
        }
    }
}

impl<P> Record<P> {
    pub fn name(&self) -> &'static str {
        match self {
            Record::Forward(_) => "forward",
            Record::SentInit { .. } => "sent_init",
            Record::HtlcDetails(_) => "htlc_details",
            Record::Lightning { .. } => "lightning",
            Record::ForwardedHtlcs { .. } => "forwarded_htlcs",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
        })
    }
}
