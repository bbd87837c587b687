//! Shared readers for the `peerswap_*` vector kinds: channels, channel views,
//! `peerswap_init` fields, peer status. Every reader returns `Err` naming the
//! field instead of panicking on malformed input.

use serde_json::Value;
use sidepool_reference::peerswap::balance::{measure, Balance, Capacity, Channel, ChannelState};
use sidepool_reference::peerswap::messages::{ChannelView, HtlcPubkeys, PeerswapInit, Timeouts};
use sidepool_reference::peerswap::offer::PeerStatus;
use sidepool_reference::units::{BlockHeight, Hops, Msat, PaymentHash, PoolId, PublicKey, Sat, UpdateCounter};
use sidepool_reference::wire::tlv::TlvRecord;

pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing field `{key}`"))
}

pub fn u64_of(v: &Value, key: &str) -> Result<u64, String> {
    field(v, key)?.as_u64().ok_or_else(|| format!("`{key}` is not an unsigned integer"))
}

pub fn opt_u64(v: &Value, key: &str) -> Result<Option<u64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x.as_u64().map(Some).ok_or_else(|| format!("`{key}` is not an unsigned integer")),
    }
}

pub fn u32_of(v: &Value, key: &str) -> Result<u32, String> {
    u32::try_from(u64_of(v, key)?).map_err(|_| format!("`{key}` does not fit in 32 bits"))
}

pub fn bool_or(v: &Value, key: &str, default: bool) -> Result<bool, String> {
    match v.get(key) {
        None => Ok(default),
        Some(x) => x.as_bool().ok_or_else(|| format!("`{key}` is not a boolean")),
    }
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?.as_str().ok_or_else(|| format!("`{key}` is not a string"))
}

pub fn opt_str<'a>(v: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x.as_str().map(Some).ok_or_else(|| format!("`{key}` is not a string")),
    }
}

pub fn height(v: &Value, key: &str) -> Result<BlockHeight, String> {
    u32_of(v, key).map(BlockHeight)
}

pub fn hex_array<const N: usize>(v: &Value, key: &str) -> Result<[u8; N], String> {
    let bytes = hex::decode(str_of(v, key)?).map_err(|e| format!("`{key}`: {e}"))?;
    bytes.try_into().map_err(|_| format!("`{key}` is not {N} bytes"))
}

/// One channel; optional fields default as the schema says (state normal, no
/// HTLCs, no reserve, both htlc_maximum_msat equal to the capacity).
pub fn channel(v: &Value) -> Result<Channel, String> {
    let capacity = match (opt_u64(v, "capacity_msat")?, opt_u64(v, "capacity_sat")?) {
        (Some(m), None) => Capacity::Msat(Msat(m)),
        (None, Some(s)) => Capacity::Sat(Sat(s)),
        _ => return Err("a channel needs exactly one of `capacity_msat` and `capacity_sat`".into()),
    };
    // For the default htlc maxima only: a capacity that overflows in msat makes measure() fail anyway.
    let cap_msat = capacity.to_msat().unwrap_or(Msat(u64::MAX));
    let state = match opt_str(v, "state")? {
        None => ChannelState::Normal,
        Some(s) => ChannelState::from_name(s).ok_or_else(|| format!("unknown channel state `{s}`"))?,
    };
    Ok(Channel {
        state,
        capacity,
        ours: Msat(u64_of(v, "ours_msat")?),
        theirs: Msat(u64_of(v, "theirs_msat")?),
        pending_htlcs: Msat(opt_u64(v, "htlcs_msat")?.unwrap_or(0)),
        our_reserve: Msat(opt_u64(v, "reserve_msat")?.unwrap_or(0)),
        htlc_maximum_from_peer: opt_u64(v, "htlc_maximum_from_peer_msat")?.map_or(cap_msat, Msat),
        htlc_maximum_ours: opt_u64(v, "htlc_maximum_ours_msat")?.map_or(cap_msat, Msat),
    })
}

pub fn channels(v: &Value, key: &str) -> Result<Vec<Channel>, String> {
    field(v, key)?.as_array().ok_or_else(|| format!("`{key}` is not a list"))?.iter().map(channel).collect()
}

/// Measures the channels under `key`, for kinds where the measurement itself is not under test.
pub fn balance(v: &Value, key: &str) -> Result<Balance, String> {
    measure(&channels(v, key)?).map_err(|e| format!("`{key}` cannot be measured: {e}"))
}

pub fn channel_view(v: &Value) -> Result<ChannelView, String> {
    Ok(ChannelView {
        owned_by_offerrer: Msat(u64_of(v, "owned_by_offerrer_msat")?),
        owned_by_acceptor: Msat(u64_of(v, "owned_by_acceptor_msat")?),
        total_capacity: Msat(u64_of(v, "total_capacity_msat")?),
    })
}

pub fn peer_status(v: &Value) -> Result<PeerStatus, String> {
    Ok(PeerStatus {
        supports_feature: bool_or(v, "supports_feature", true)?,
        is_participant: bool_or(v, "is_participant", true)?,
        already_sent: bool_or(v, "already_sent", false)?,
    })
}

/// Fixed keys for the fields the rules never look at (the generator point and 2G).
pub fn fixed_pubkeys() -> Result<HtlcPubkeys, String> {
    let key = |h: &str| -> Result<PublicKey, String> {
        let b: [u8; 33] = hex::decode(h).map_err(|e| e.to_string())?.try_into().map_err(|_| "not 33 bytes".to_string())?;
        PublicKey::from_bytes(b).ok_or_else(|| "not a point".to_string())
    };
    Ok(HtlcPubkeys {
        ephemeral: key("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")?,
        persistent: key("02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")?,
    })
}

pub const FIXED_POOL_ID: PoolId = PoolId([0x11; 16]);
pub const FIXED_HASH: PaymentHash = PaymentHash([0x22; 32]);

/// A `peerswap_init` from its rule-relevant fields; id, hash and keys are fixed.
pub fn init(v: &Value) -> Result<PeerswapInit, String> {
    let hops = u8::try_from(u64_of(v, "hops")?).map_err(|_| "`hops` does not fit in 8 bits".to_string())?;
    let counter = u16::try_from(u64_of(v, "update_counter")?).ok().and_then(UpdateCounter::new);
    let unknown = match v.get("unknown_tlvs") {
        None => Vec::new(),
        Some(list) => list
            .as_array()
            .ok_or("`unknown_tlvs` is not a list")?
            .iter()
            .map(|r| {
                Ok(TlvRecord {
                    typ: u64_of(r, "type")?,
                    value: hex::decode(str_of(r, "value")?).map_err(|e| format!("`value`: {e}"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
    };
    Ok(PeerswapInit {
        id: FIXED_POOL_ID,
        pubkeys: fixed_pubkeys()?,
        timeouts: Timeouts { sidepool: height(v, "sidepool_timeout_height")?, lightning: height(v, "lightning_timeout_height")? },
        hash: FIXED_HASH,
        hops: Hops(hops),
        amount: Sat(u64_of(v, "amount_sat")?),
        channel_view: match v.get("channel_view") {
            Some(cv) => channel_view(cv)?,
            None => ChannelView::default(),
        },
        update_counter: counter.ok_or("`update_counter` is not an 11-bit value")?,
        unknown,
    })
}

/// Compares one expected output; the error names the field.
pub fn expect_eq<T: PartialEq + core::fmt::Debug>(what: &str, expected: T, got: T) -> Result<(), String> {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, reference gives {got:?}"))
    }
}

pub fn expect_view(expected: &Value, got: &ChannelView) -> Result<(), String> {
    expect_eq("channel view", channel_view(expected)?, *got)
}

/// `result` of a test: `valid` / `invalid` / `acceptable`.
pub fn result(test: &Value) -> Result<&str, String> {
    // `acceptable` pins one of the reference's readings: evaluated as the outcome
    // it gives, `invalid` when the test names an error (kinds::READING_KINDS).
    match str_of(test, "result")? {
        "acceptable" if test.get("error").is_some() => Ok("invalid"),
        "acceptable" => Ok("valid"),
        other => Ok(other),
    }
}
