//! Evaluator for `kind: bip327_key_agg` (converted BIP-327 key_agg_vectors.json).
//!
//! Runs the same KeyAgg and ApplyTweak code the SIDEPOOL-06 HTLC key uses
//! (`sidepool_reference::htlc::musig`). Valid tests give `aggregate_key` (x-only);
//! invalid tests give `error` and, for `invalid_contribution`, the failing `signer`.

use serde_json::Value;
use sidepool_reference::htlc::musig::{key_agg, KeyAggError};

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing string field {name}"))
}

/// (code, signer) of a refusal.
fn run(test: &Value) -> Result<[u8; 32], (String, Option<u64>)> {
    let keys = test
        .get("pubkeys")
        .and_then(Value::as_array)
        .ok_or(("vector: missing pubkeys".to_string(), None))?
        .iter()
        .map(|k| k.as_str().and_then(|s| hex::decode(s).ok()).ok_or(("vector: pubkey is not hex".to_string(), None)))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let mut ctx = key_agg(&refs).map_err(|e| match e {
        KeyAggError::InvalidContribution { signer } => (e.code().to_string(), u64::try_from(signer).ok()),
        other => (other.code().to_string(), None),
    })?;
    for tweak in test.get("tweaks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let t: [u8; 32] = tweak
            .get("tweak")
            .and_then(Value::as_str)
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(("vector: tweak is not 32 bytes of hex".to_string(), None))?;
        let is_xonly = tweak.get("is_xonly").and_then(Value::as_bool).ok_or(("vector: missing is_xonly".to_string(), None))?;
        ctx = ctx.apply_tweak(&t, is_xonly).map_err(|e| (e.code().to_string(), None))?;
    }
    Ok(ctx.aggregate_xonly())
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    match (run(test), text(test, "result")?) {
        (Ok(q), "valid") => {
            let want = text(test, "aggregate_key")?;
            let got = hex::encode(q);
            if want == got { Ok(()) } else { Err(format!("aggregate_key: expected {want}, reference gave {got}")) }
        }
        (Ok(q), other) => Err(format!("expected result {other}, reference aggregated to {}", hex::encode(q))),
        (Err((code, signer)), "invalid") => {
            let want = text(test, "error")?;
            if want != code {
                return Err(format!("error: expected {want}, reference gave {code}"));
            }
            let want_signer = test.get("signer").and_then(Value::as_u64);
            if want_signer != signer {
                return Err(format!("signer: expected {want_signer:?}, reference blamed {signer:?}"));
            }
            Ok(())
        }
        (Err((code, _)), other) => Err(format!("expected result {other}, reference refused with {code}")),
    }
}
