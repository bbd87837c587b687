//! Evaluator for `kind: bip327_key_sort` (converted BIP-327 key_sort_vectors.json).
//!
//! SIDEPOOL-06 HTLC keys do NOT use KeySort (ERRATA E-20); the kind is here so the
//! reference's KeySort, which documents what the HTLC key deliberately skips, is checked.

use serde_json::Value;
use sidepool_reference::htlc::musig::key_sort;

fn keys(test: &Value, name: &str) -> Result<Vec<[u8; 33]>, String> {
    test.get(name)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("missing array {name}"))?
        .iter()
        .map(|k| {
            k.as_str()
                .and_then(|s| hex::decode(s).ok())
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("{name}: entry is not 33 bytes of hex"))
        })
        .collect()
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let got = key_sort(&keys(test, "pubkeys")?);
    let want = keys(test, "sorted_pubkeys")?;
    if test.get("result").and_then(Value::as_str) != Some("valid") {
        return Err("KeySort cannot fail: expected result valid".into());
    }
    if got == want {
        Ok(())
    } else {
        let show = |v: &[[u8; 33]]| v.iter().map(hex::encode).collect::<Vec<_>>().join(",");
        Err(format!("sorted_pubkeys: expected [{}], reference gave [{}]", show(&want), show(&got)))
    }
}
