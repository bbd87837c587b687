//! Requests: runner → IUT. On the wire one line
//! `{"id": N, "method": "<name>", "params": {...}}`; `params` may be omitted
//! for methods that take none.
//!
//! Every request exists because a SIDEPOOL-10 rule depends on state the wire
//! cannot show (the pool, the channels, the chain tip, the clock); the rule is
//! quoted on the request that feeds it.

use super::values::{self, ChannelId, HexBytes, Preimage, ShortChannelId, XOnlyKey};
use serde::{Deserialize, Serialize};
use sidepool_reference::units::{
    BlockDelta, BlockHeight, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter,
};

/// One request. Serialises adjacently tagged: `{"method": ..., "params": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Request {
    Hello(Hello),
    Reset(NoParams),
    Identity(NoParams),
    SetBlockHeight(SetBlockHeight),
    SetNodeSettings(SetNodeSettings),
    SetPool(SetPool),
    SetChannels(SetChannels),
    StartSwapParty(StartSwapParty),
    ExpansionOutcome(ExpansionOutcome),
    EndSwapParty(EndSwapParty),
    HtlcEvent(HtlcEvent),
    AdvanceClock(AdvanceClock),
    Restart(NoParams),
    Shutdown(NoParams),
    /// Optional (capability `sync`): answered once the IUT is settled (ADAPTER.md `sync`).
    Sync(NoParams),
}

impl Request {
    /// Every method name, in the order ADAPTER.md documents them.
    pub const METHODS: &'static [&'static str] = &[
        "hello",
        "reset",
        "identity",
        "set_block_height",
        "set_node_settings",
        "set_pool",
        "set_channels",
        "start_swap_party",
        "expansion_outcome",
        "end_swap_party",
        "htlc_event",
        "advance_clock",
        "restart",
        "shutdown",
        "sync",
    ];

    /// The wire name of this request's method.
    pub fn method(&self) -> &'static str {
        match self {
            Request::Hello(_) => "hello",
            Request::Reset(_) => "reset",
            Request::Identity(_) => "identity",
            Request::SetBlockHeight(_) => "set_block_height",
            Request::SetNodeSettings(_) => "set_node_settings",
            Request::SetPool(_) => "set_pool",
            Request::SetChannels(_) => "set_channels",
            Request::StartSwapParty(_) => "start_swap_party",
            Request::ExpansionOutcome(_) => "expansion_outcome",
            Request::EndSwapParty(_) => "end_swap_party",
            Request::HtlcEvent(_) => "htlc_event",
            Request::AdvanceClock(_) => "advance_clock",
            Request::Restart(_) => "restart",
            Request::Shutdown(_) => "shutdown",
            Request::Sync(_) => "sync",
        }
    }

    /// Checks serde cannot express (cross-field rules); `Err` is an
    /// `invalid_request` message.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Request::SetChannels(s) => s.channels.iter().enumerate().try_for_each(|(i, c)| {
                if c.short_channel_id.is_none() && c.channel_id.is_none() {
                    Err(format!("channels[{i}]: needs short_channel_id or channel_id"))
                } else {
                    Ok(())
                }
            }),
            Request::SetPool(p) => {
                if p.participants.contains(&p.leader) {
                    Ok(())
                } else {
                    Err("leader must be one of participants".into())
                }
            }
            _ => Ok(()),
        }
    }
}

/// Parameters of a method that takes none: `{}` (unknown fields ignored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoParams {}

/// `hello`: the first exchange. The runner states the protocol major version it speaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u32,
    /// Free text naming the runner, e.g. "sidepool-conformance 0.1.0".
    pub runner: String,
}

/// `set_block_height`: the chain tip the IUT must believe in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetBlockHeight {
    // SIDEPOOL-10: "MUST check that the in-sidepool timeout is greater than or equal to the current blockheight + 4032."
    #[serde(with = "values::height")]
    pub height: BlockHeight,
}

/// `set_node_settings`: the node's own timelock settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetNodeSettings {
    // SIDEPOOL-10: "`cltv_delta` is the setting it would normally use for `cltv_expiry_delta` in [BOLT #7 The `channel_update` Message][]."
    #[serde(with = "values::delta")]
    pub cltv_delta: BlockDelta,
    // SIDEPOOL-10: "`final_cltv_delta` is the setting it would normally use for `c` / `min_final_cltv_expiry_delta` for invoices it would issue"
    #[serde(with = "values::delta")]
    pub final_cltv_delta: BlockDelta,
}

/// `set_pool`: create or replace (by `pool_id`) one sidepool the IUT is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPool {
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
    // SIDEPOOL-10: "MUST check that it, and the sender, are both participants of the sidepool indicated in `peerswap_init_id`."
    /// Every participant's node id, the IUT's own included.
    #[serde(with = "values::node_ids")]
    pub participants: Vec<PublicKey>,
    #[serde(with = "values::node_id")]
    pub leader: PublicKey,
    // SIDEPOOL-10: "MUST check that the pool update counter specified is correct for the current swap party."
    #[serde(with = "update_counter")]
    pub update_counter: UpdateCounter,
    /// The IUT's own in-pool funds (the amount it could put into in-sidepool HTLCs).
    #[serde(with = "values::sat")]
    pub own_funds_sat: Sat,
    // SIDEPOOL-10: "MUST defer processing of this message for up to 5 minutes if it is a pool follower and has not received `swap_party_begin` yet"
    /// Whether `swap_party_begin` for the current swap party has been seen.
    pub swap_party_begun: bool,
}

/// The update counter as a JSON integer, checked to fit 11 bits.
mod update_counter {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use sidepool_reference::units::UpdateCounter;
    pub fn serialize<S: Serializer>(v: &UpdateCounter, s: S) -> Result<S::Ok, S::Error> {
        v.get().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UpdateCounter, D::Error> {
        let raw = u16::deserialize(d)?;
        UpdateCounter::new(raw)
            .ok_or_else(|| serde::de::Error::custom(format!("update counter {raw} does not fit 11 bits")))
    }
}

/// `set_channels`: replace every channel the IUT has with `peer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetChannels {
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    pub channels: Vec<Channel>,
}

/// One simulated Lightning channel with the peer, as the IUT sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_channel_id: Option<ShortChannelId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    // SIDEPOOL-10: "Convert the channel capacity (the amount of the backing funding transaction output; do not deduct channel reserves) into millisatoshis."
    #[serde(with = "values::sat")]
    pub capacity_sat: Sat,
    #[serde(with = "values::msat")]
    pub ours_msat: Msat,
    #[serde(with = "values::msat")]
    pub theirs_msat: Msat,
    // SIDEPOOL-10: "we assign HTLCs, regardless of size, age, or who offered it, as a fund that is shared equally between both participants in the channel"
    #[serde(with = "values::msat")]
    pub pending_htlcs_msat: Msat,
    // SIDEPOOL-10: "At least one channel with the sender has funds owned by this node, such that the amount, minus the reserve, is greater than or equal to `peerswap_init_amount_sat`."
    /// The reserve the IUT must keep on its own side of this channel.
    #[serde(with = "values::msat")]
    pub reserve_msat: Msat,
    // SIDEPOOL-10: "Determine the maximum HTLC of the channel(s) from the peer to itself, such as by getting the smallest `htlc_maximum_msat`"
    /// The `htlc_maximum_msat` of the peer's `channel_update` (peer → IUT).
    #[serde(with = "values::msat")]
    pub htlc_maximum_msat: Msat,
    // SIDEPOOL-10: "Each payment MUST NOT exceed any limit on the maximum HTLC to the local offerrer, such as any `htlc_maximum_msat` sent by the acceptor to the channel."
    /// The IUT's own `htlc_maximum_msat` (IUT → peer), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "values::opt_msat")]
    pub local_htlc_maximum_msat: Option<Msat>,
    pub state: ChannelState,
}

/// Where a channel is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelState {
    AwaitingChannelReady,
    // SIDEPOOL-10: ""Normal operation" is after both participants have emitted [BOLT #2 `channel_ready`][] messages"
    Normal,
    ShuttingDown,
    Errored,
    UnilateralClose,
}

/// `start_swap_party`: "start a swap party now" in `pool_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartSwapParty {
    // SIDEPOOL-10: "When the pool leader announces a swap party via a [SIDEPOOL-04][] `swap_party_begin` message, pool participants determine if they want to perform a peerswap"
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
}

/// `expansion_outcome`: the outputs the Expansion Phase produced, and what the tax is computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpansionOutcome {
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
    // SIDEPOOL-10: "Check if the [SIDEPOOL-06 HTLC Taproot Public Key][] was created in the expansion phase, with an amount exactly equal to the `peerswap_init_amount_sat`."
    pub outputs: Vec<ExpansionOutput>,
    pub fee_inputs: FeeInputs,
}

/// One output present after the Expansion Phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpansionOutput {
    pub output_key: XOnlyKey,
    #[serde(with = "values::sat")]
    pub amount_sat: Sat,
}

/// The inputs of the onchain fee contribution tax (SIDEPOOL-02).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeInputs {
    // Read at the seed revision only (upstream computes no tax):
    // SIDEPOOL-02@seed: "The total amount removed is equal to the total fees of all offchain transactions"
    #[serde(with = "values::sat")]
    pub total_offchain_fees_sat: Sat,
    // SIDEPOOL-02@seed: "This total is then divided by the number of transaction outputs, rounded up."
    pub output_count: u32,
}

/// `end_swap_party`: the current swap party of `pool_id` is over, or the pool aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndSwapParty {
    #[serde(with = "values::pool_id")]
    pub pool_id: PoolId,
    // SIDEPOOL-10: "MUST NOT send this message more than once to a peer until the swap party of the sidepool has completed, or the sidepool has aborted."
    pub outcome: SwapPartyOutcome,
}

/// How a swap party ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapPartyOutcome {
    /// The swap party completed; the pool goes on.
    Completed,
    /// The sidepool aborted.
    PoolAborted,
}

/// `htlc_event`: something happened to an HTLC in a simulated channel.
///
/// An HTLC is named by `(peer, direction, htlc_id)`: the runner picks the id
/// of an incoming HTLC, the IUT the id of one it adds (event `htlc_add`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HtlcEvent {
    /// The HTLC is in the channel (for `outgoing`: the runner took the IUT's `htlc_add`).
    Added(HtlcAdded),
    // SIDEPOOL-10: "The offerrer waits for the in-Lightning HTLCs to become "irrevocably committed" as per [BOLT #2 Forwarding HTLCs][]"
    IrrevocablyCommitted(HtlcRef),
    /// The HTLC was fulfilled: for `outgoing`, by the peer, with its preimage.
    Fulfilled(HtlcFulfilled),
    Failed(HtlcRef),
    // SIDEPOOL-10: "If *all* in-Lightning HTLCs it offerred to the local offerrer are failed, *AND* all of them are irrevocably committed to be removed from their channels"
    RemovalCommitted(HtlcRef),
}

/// Which way an HTLC goes, seen from the IUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// Names an HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtlcRef {
    pub htlc_id: u64,
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    pub direction: Direction,
}

/// `htlc_event` kind `added`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtlcAdded {
    pub htlc_id: u64,
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    pub direction: Direction,
    #[serde(with = "values::msat")]
    pub amount_msat: Msat,
    #[serde(with = "values::payment_hash")]
    pub payment_hash: PaymentHash,
    #[serde(with = "values::height")]
    pub cltv_expiry: BlockHeight,
    pub onion: OnionPayload,
}

/// `htlc_event` kind `fulfilled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtlcFulfilled {
    pub htlc_id: u64,
    #[serde(with = "values::node_id")]
    pub peer: PublicKey,
    pub direction: Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preimage: Option<Preimage>,
}

/// The decoded final-hop onion payload of an HTLC (BOLT 4 fields the spec constrains).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnionPayload {
    // SIDEPOOL-10: "The `amt_to_forward` and `total_msat` MUST equal the `amount_msat` above."
    #[serde(with = "values::msat")]
    pub amt_to_forward_msat: Msat,
    // SIDEPOOL-10: "The `outgoing_cltv_value` MUST equal `cltv_expiry` above."
    #[serde(with = "values::height")]
    pub outgoing_cltv_value: BlockHeight,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "values::opt_msat")]
    pub total_msat: Option<Msat>,
    // SIDEPOOL-10: "If `peerswap_lightning_payment_secret` existed in the incoming `peerswap_lightning`, then the `payment_secret` field in the payment onion MUST exist and equal that value."
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "values::opt_payment_secret"
    )]
    pub payment_secret: Option<PaymentSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_metadata: Option<HexBytes>,
    // SIDEPOOL-10: "The `short_channel_id` MUST NOT exist (i.e. this is the final hop)."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_channel_id: Option<ShortChannelId>,
}

/// `advance_clock`: move the IUT's clock forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvanceClock {
    // SIDEPOOL-10: "The offerrer MUST hold for up to 60 seconds, starting from when the first incoming in-Lightning HTLC has been irrevocably committed."
    pub seconds: u64,
}
