//! Events: IUT → runner, unsolicited. One line
//! `{"event": "<name>", "params": {...}}` (no `id`). They tell the runner what
//! the IUT does in the simulated world, so it can play the other side.

use super::request::OnionPayload;
use super::values::{self, Preimage, XOnlyKey};
use serde::{Deserialize, Serialize};
use sidepool_reference::units::{BlockHeight, Msat, PaymentHash, PoolId, PublicKey, Sat};

/// One event. Serialises adjacently tagged: `{"event": ..., "params": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "params", rename_all = "snake_case")]
pub enum Event {
    HtlcAdd(HtlcAdd),
    HtlcFulfil(HtlcFulfil),
    HtlcFail(HtlcFail),
    ExpansionOutputRequested(ExpansionOutputRequested),
    PeerswapForgotten(PeerswapForgotten),
    Persisted(Persisted),
    Log(Log),
}

impl Event {
    /// Every event name, in the order ADAPTER.md documents them.
    pub const NAMES: &'static [&'static str] = &[
        "htlc_add",
        "htlc_fulfil",
        "htlc_fail",
        "expansion_output_requested",
        "peerswap_forgotten",
        "persisted",
        "log",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Event::HtlcAdd(_) => "htlc_add",
            Event::HtlcFulfil(_) => "htlc_fulfil",
            Event::HtlcFail(_) => "htlc_fail",
            Event::ExpansionOutputRequested(_) => "expansion_output_requested",
            Event::PeerswapForgotten(_) => "peerswap_forgotten",
            Event::Persisted(_) => "persisted",
            Event::Log(_) => "log",
        }
    }
}

/// The IUT adds an HTLC to a channel with `peer` (an `update_add_htlc`).
/// `htlc_id` is chosen by the IUT, unique among its outgoing HTLCs to `peer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtlcAdd {
    pub htlc_id: u64,
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    // SIDEPOOL-10: "The `amount_msat` MUST be less than the maximum HTLC size."
    #[serde(with = "values::msat")]
    pub amount_msat: Msat,
    // SIDEPOOL-10: "The `payment_hash` MUST equal `peerswap_init_hash`,"
    #[serde(with = "values::payment_hash")]
    pub payment_hash: PaymentHash,
    // SIDEPOOL-10: "The `cltv_expiry` MUST equal the timelock of the in-Lightning HTLC that was sent by the offerrer in `peerswap_init_timeouts`."
    #[serde(with = "values::height")]
    pub cltv_expiry: BlockHeight,
    pub onion: OnionPayload,
}

/// The IUT fulfils an incoming HTLC (an `update_fulfill_htlc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtlcFulfil {
    pub htlc_id: u64,
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    pub preimage: Preimage,
}

/// The IUT fails an incoming HTLC (an `update_fail_htlc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtlcFail {
    pub htlc_id: u64,
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    // SIDEPOOL-10: "The offerrer MAY use any payment failure code."
    /// Free text (e.g. the failure code's name); not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The IUT asks for an output in the Expansion Phase (its
/// `swap_party_expand_request`, or the leader's equivalent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpansionOutputRequested {
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
    // SIDEPOOL-10: "The ultimate offerrer then includes the address, as well as the amount it indicated in the `peerswap_init_amount_sat`, in the `swap_party_expand_request` message"
    pub output_key: XOnlyKey,
    #[serde(with = "values::sat")]
    pub amount_sat: Sat,
}

/// The IUT dropped a peerswap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerswapForgotten {
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
    #[serde(with = "values::payment_hash")]
    pub payment_hash: PaymentHash,
    /// The peer the peerswap was with (for a forwarder: either side).
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    // SIDEPOOL-10: "then it MUST forget the peerswap and MUST NOT create an HTLC for it in the sidepool"
    /// Why, as free text; ADAPTER.md suggests `rejected`, `expansion_output_missing`, `completed`.
    pub reason: String,
}

/// The IUT has durably stored something (emitted after the write is durable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persisted {
    pub what: PersistedWhat,
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
    #[serde(with = "values::payment_hash")]
    pub payment_hash: PaymentHash,
}

/// What was persisted: each is a fact the spec requires stored before an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersistedWhat {
    // SIDEPOOL-10: "If the node decides to forward the peerswap, it MUST store this fact in persistent storage before forwarding `peerswap_init`."
    ForwardRecord,
    // SIDEPOOL-10: "The forwarder MUST delete the fact that it wanted to forward the peerswap from persistent storage before accepting it at this node."
    ForwardRecordDeleted,
    /// The `peerswap_init` the IUT is about to send (as ultimate offerrer).
    SentInit,
    // SIDEPOOL-10: "the forwarder MUST store this fact in persistent storage before it forwards the HTLC on the Lightning Network channel to the direct peerswap offerrer."
    HtlcDetails,
    // SIDEPOOL-10: "On receiving `peerswap_lightning`, a forwarder MUST persistently record `peerswap_lightning_payment_secret` and `peerswap_lightning_payment_metadata`, if any."
    LightningPaymentDetails,
}

/// A log line from the IUT, for the runner's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    pub level: LogLevel,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}
