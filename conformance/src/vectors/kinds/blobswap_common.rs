//! Helpers shared by the Blobswap evaluators (`blobswap_timing`, `blobswap_output`,
//! `blobswap_machine`): typed reads of BLOBSWAP-01 values, and the outcome a test expects.

use bitcoin::key::{Keypair, Secp256k1, XOnlyPublicKey};
use bitcoin::secp256k1::{schnorr, SecretKey};
use bitcoin::{OutPoint, ScriptBuf, Txid};
use blobswap_reference::{Blocks, Height, Params, PaymentHash, Preimage};
use serde_json::Value;
use std::str::FromStr;

use super::ln_common::{bytes32, hex_of, str_of, u32_of};

/// The object holding field `name`: the test, else its group.
pub fn holder<'a>(group: &'a Value, test: &'a Value, name: &str) -> Result<&'a Value, String> {
    [test, group].into_iter().find(|v| v.get(name).is_some()).ok_or_else(|| format!("missing field `{name}`"))
}

pub fn height(v: &Value, name: &str) -> Result<Height, String> {
    u32_of(v, name).map(Height)
}

pub fn blocks(v: &Value, name: &str) -> Result<Blocks, String> {
    u32_of(v, name).map(Blocks)
}

pub fn params(v: &Value) -> Result<Params, String> {
    Ok(Params {
        session_period: blocks(v, "session_period")?,
        confirmation_period: blocks(v, "confirmation_period")?,
        reveal_window: blocks(v, "reveal_window")?,
        chain_delay: blocks(v, "chain_delay")?,
        settle_margin: blocks(v, "settle_margin")?,
    })
}

pub fn hash(v: &Value, name: &str) -> Result<PaymentHash, String> {
    Ok(PaymentHash(bytes32(hex_of(v, name)?, name)?))
}

pub fn preimage(v: &Value, name: &str) -> Result<Preimage, String> {
    Ok(Preimage::new(bytes32(hex_of(v, name)?, name)?))
}

pub fn xonly(v: &Value, name: &str) -> Result<XOnlyPublicKey, String> {
    XOnlyPublicKey::from_slice(&hex_of(v, name)?).map_err(|e| format!("`{name}`: {e}"))
}

pub fn keypair(v: &Value, name: &str) -> Result<Keypair, String> {
    let sk = SecretKey::from_slice(&hex_of(v, name)?).map_err(|e| format!("`{name}`: {e}"))?;
    Ok(Keypair::from_secret_key(&Secp256k1::signing_only(), &sk))
}

pub fn signature(v: &Value, name: &str) -> Result<schnorr::Signature, String> {
    schnorr::Signature::from_slice(&hex_of(v, name)?).map_err(|e| format!("`{name}`: {e}"))
}

pub fn script(v: &Value, name: &str) -> Result<ScriptBuf, String> {
    Ok(ScriptBuf::from_bytes(hex_of(v, name)?))
}

pub fn amount(v: &Value, name: &str) -> Result<bitcoin::Amount, String> {
    super::ln_common::u64_of(v, name).map(bitcoin::Amount::from_sat)
}

/// `funding_txid` (display order) and `funding_vout`.
pub fn funding(v: &Value) -> Result<OutPoint, String> {
    let txid = Txid::from_str(str_of(v, "funding_txid")?).map_err(|e| format!("`funding_txid`: {e}"))?;
    Ok(OutPoint { txid, vout: u32_of(v, "funding_vout")? })
}

/// What a test expects: allowed (valid, or acceptable with `ours: allowed`) or refused with a name.
pub fn expected(test: &Value) -> Result<Result<(), String>, String> {
    match str_of(test, "result")? {
        "valid" => Ok(Ok(())),
        "invalid" => Ok(Err(str_of(test, "error")?.to_string())),
        "acceptable" => match test.get("ours").and_then(Value::as_str) {
            None | Some("allowed") => Ok(Ok(())),
            Some(reason) => Ok(Err(reason.to_string())),
        },
        other => Err(format!("unknown result `{other}`")),
    }
}

/// Compares the reference's outcome with the expected one.
pub fn same_outcome(want: Result<(), String>, got: Result<(), &str>) -> Result<(), String> {
    match (want, got) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(w), Err(g)) if w == g => Ok(()),
        (Ok(()), Err(g)) => Err(format!("expected it allowed, the reference refused: {g}")),
        (Err(w), Ok(())) => Err(format!("expected {w}, the reference allowed it")),
        (Err(w), Err(g)) => Err(format!("expected {w}, the reference said {g}")),
    }
}

/// The optional output `name` of a test, compared when present.
pub fn same_if_present(test: &Value, name: &str, got: &Value) -> Result<(), String> {
    match test.get(name) {
        Some(want) if want != got => Err(format!("{name}: expected {want}, reference gives {got}")),
        _ => Ok(()),
    }
}

