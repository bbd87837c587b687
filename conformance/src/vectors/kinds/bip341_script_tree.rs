//! Evaluator for `kind: bip341_script_tree` (converted BIP-341 wallet-test-vectors.json,
//! `scriptPubKey` cases). Runs `sidepool_reference::htlc::taproot::taproot_output`,
//! the same function that tweaks the SIDEPOOL-06 HTLC key.
//!
//! `script_tree` is `null` (key path only), a leaf `{script, leaf_version}`, or a
//! two-element array (a branch). Leaf hashes and control blocks are in
//! depth-first, left-to-right leaf order.

use serde_json::{json, Value};
use sidepool_reference::htlc::taproot::{taproot_output, TapTree};
use sidepool_reference::htlc::taproot_key::parse_network;

fn tree(v: &Value, depth: usize) -> Result<TapTree, String> {
    if depth > 200 {
        return Err("script_tree nested too deeply".into());
    }
    match v {
        Value::Array(children) => match children.as_slice() {
            [l, r] => Ok(TapTree::Branch(Box::new(tree(l, depth + 1)?), Box::new(tree(r, depth + 1)?))),
            _ => Err("a branch must have exactly two children".into()),
        },
        Value::Object(_) => {
            let script = v.get("script").and_then(Value::as_str).and_then(|s| hex::decode(s).ok()).ok_or("leaf script is not hex")?;
            let version = v.get("leaf_version").and_then(Value::as_u64).and_then(|x| u8::try_from(x).ok()).ok_or("leaf_version is not a byte")?;
            Ok(TapTree::Leaf { script, version })
        }
        _ => Err("script_tree entry is neither leaf nor branch".into()),
    }
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let internal: [u8; 32] = test
        .get("internal_key")
        .and_then(Value::as_str)
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or("internal_key is not 32 bytes of hex")?;
    let t = match test.get("script_tree") {
        None | Some(Value::Null) => None,
        Some(v) => Some(tree(v, 0)?),
    };
    let network = test.get("network").and_then(Value::as_str).and_then(parse_network).ok_or("network missing or unknown")?;
    let out = taproot_output(&internal, t.as_ref()).map_err(|e| format!("reference refused: {e}"))?;
    let got = json!({
        "leaf_hashes": out.leaf_hashes.iter().map(hex::encode).collect::<Vec<_>>(),
        "merkle_root": out.merkle_root.map(hex::encode),
        "tweak": hex::encode(out.tweak),
        "output_key": hex::encode(out.output_key),
        "script_pubkey": hex::encode(out.script_pubkey()),
        "address": out.address(network).map_err(|e| e.to_string())?,
        "control_blocks": out.control_blocks.iter().map(hex::encode).collect::<Vec<_>>(),
    });
    for name in ["leaf_hashes", "merkle_root", "tweak", "output_key", "script_pubkey", "address", "control_blocks"] {
        let want = test.get(name).ok_or_else(|| format!("test lacks {name}"))?;
        if Some(want) != got.get(name) {
            return Err(format!("{name}: expected {want}, reference gave {}", got.get(name).unwrap_or(&Value::Null)));
        }
    }
    match test.get("result").and_then(Value::as_str) {
        Some("valid") => Ok(()),
        other => Err(format!("expected result {other:?}, reference built the output")),
    }
}
