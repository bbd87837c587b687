//! Evaluator for `kind: loop_htlc` (LOOP-01 HTLC v2 and v3): builds the HTLC from
//! the test's keys, swap hash, CLTV expiry and network, and compares every output
//! field the test lists. A valid test must list all of [`V2_OUTPUTS`] or
//! [`V3_OUTPUTS`]; with `preimage` and signatures it also checks both witnesses.

use bitcoin::hashes::{sha256, Hash};
use loop_reference::htlc::{htlc_v2, htlc_v3, parse_network, HtlcError, HtlcV3Inputs};
use loop_reference::protocol::MuSig2Version;
use loop_reference::units::Preimage;
use serde_json::{json, Map, Value};

use super::loop_common::{expect, field, hex_of, i64_of, str_of, u64_of};

pub const V2_OUTPUTS: &[&str] = &["sender_key_hash160", "swap_hash_ripemd160", "witness_script", "witness_program", "pk_script", "address"];
pub const V3_OUTPUTS: &[&str] = &[
    "success_script",
    "timeout_script",
    "success_leaf_hash",
    "timeout_leaf_hash",
    "merkle_root",
    "aggregate_key",
    "internal_key",
    "tweak",
    "output_key",
    "output_key_parity",
    "pk_script",
    "address",
    "success_control_block",
    "timeout_control_block",
];

fn hexes(items: Vec<Vec<u8>>) -> Value {
    Value::Array(items.into_iter().map(|i| Value::String(hex::encode(i))).collect())
}

/// The reference's outputs for the test's inputs, as JSON fields.
fn outputs(test: &Value) -> Result<Result<Map<String, Value>, HtlcError>, String> {
    let network_name = str_of(test, "network")?;
    let network = parse_network(network_name).ok_or_else(|| format!("unknown network `{network_name}`"))?;
    let cltv = i32::try_from(i64_of(test, "cltv_expiry")?).map_err(|_| "`cltv_expiry` is not a 32-bit signed integer")?;
    let (sender, receiver, hash) = (hex_of(test, "sender_key")?, hex_of(test, "receiver_key")?, hex_of(test, "swap_hash")?);
    let witness_inputs = match test.get("preimage") {
        Some(_) => {
            let preimage = Preimage::from_slice(&hex_of(test, "preimage")?).ok_or("`preimage` is not 32 bytes")?;
            Some((preimage, hex_of(test, "receiver_signature")?, hex_of(test, "sender_signature")?))
        }
        None => None,
    };
    let mut out = Map::new();
    match u64_of(test, "script_version")? {
        2 => {
            let h = match htlc_v2(cltv, &sender, &receiver, &hash) {
                Ok(h) => h,
                Err(e) => return Ok(Err(e)),
            };
            out.insert("sender_key_hash160".into(), json!(hex::encode(h.sender_key_hash160)));
            out.insert("swap_hash_ripemd160".into(), json!(hex::encode(h.swap_hash_ripemd160)));
            out.insert("witness_script".into(), json!(hex::encode(&h.witness_script)));
            out.insert("witness_program".into(), json!(hex::encode(h.witness_program)));
            out.insert("pk_script".into(), json!(hex::encode(h.pk_script())));
            out.insert("address".into(), json!(h.address(network)));
            if let Some((preimage, receiver_sig, sender_sig)) = witness_inputs {
                out.insert("success_witness".into(), hexes(h.success_witness(&receiver_sig, &preimage)));
                out.insert("timeout_witness".into(), hexes(h.timeout_witness(&sender_sig)));
            }
        }
        3 => {
            let version_name = str_of(test, "musig2_version")?;
            let musig2_version = MuSig2Version::from_name(version_name).ok_or_else(|| format!("unknown MuSig2 version `{version_name}`"))?;
            let (si, ri) = (hex_of(test, "sender_internal_key")?, hex_of(test, "receiver_internal_key")?);
            let inputs = HtlcV3Inputs {
                musig2_version,
                cltv_expiry: cltv,
                sender_internal_key: &si,
                receiver_internal_key: &ri,
                sender_key: &sender,
                receiver_key: &receiver,
                swap_hash: &hash,
            };
            let h = match htlc_v3(&inputs) {
                Ok(h) => h,
                Err(e) => return Ok(Err(e)),
            };
            out.insert("success_script".into(), json!(hex::encode(&h.success_script)));
            out.insert("timeout_script".into(), json!(hex::encode(&h.timeout_script)));
            out.insert("success_leaf_hash".into(), json!(hex::encode(h.success_leaf_hash)));
            out.insert("timeout_leaf_hash".into(), json!(hex::encode(h.timeout_leaf_hash)));
            out.insert("merkle_root".into(), json!(hex::encode(h.merkle_root)));
            out.insert("aggregate_key".into(), json!(hex::encode(h.aggregate_key)));
            out.insert("internal_key".into(), json!(hex::encode(h.internal_key)));
            out.insert("tweak".into(), json!(hex::encode(h.tweak)));
            out.insert("output_key".into(), json!(hex::encode(h.output_key)));
            out.insert("output_key_parity".into(), json!(h.output_key_parity));
            out.insert("pk_script".into(), json!(hex::encode(h.pk_script())));
            out.insert("address".into(), json!(h.address(network).map_err(|e| e.to_string())?));
            out.insert("success_control_block".into(), json!(hex::encode(h.success_control_block())));
            out.insert("timeout_control_block".into(), json!(hex::encode(h.timeout_control_block())));
            if let Some((preimage, receiver_sig, sender_sig)) = witness_inputs {
                out.insert("success_witness".into(), hexes(h.success_witness(&receiver_sig, &preimage)));
                out.insert("timeout_witness".into(), hexes(h.timeout_witness(&sender_sig)));
            }
        }
        other => return Err(format!("unknown script_version {other}")),
    }
    Ok(Ok(out))
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    // LOOP-01 loop.htlc.3: a given preimage must hash to the swap hash.
    if test.get("preimage").is_some() {
        let preimage = hex_of(test, "preimage")?;
        expect("swap_hash = SHA-256(preimage)", hex_of(test, "swap_hash")?, sha256::Hash::hash(&preimage).to_byte_array().to_vec())?;
    }
    let want = str_of(test, "result")?;
    match (outputs(test)?, want) {
        (Ok(got), "valid" | "acceptable") => {
            let required = if u64_of(test, "script_version")? == 2 { V2_OUTPUTS } else { V3_OUTPUTS };
            for name in required.iter().copied().chain(["success_witness", "timeout_witness"].into_iter().filter(|n| test.get(*n).is_some())) {
                let expected = field(test, name).map_err(|_| format!("{want} test lacks output field `{name}`"))?;
                let produced = got.get(name).ok_or_else(|| format!("the reference gave no `{name}`"))?;
                expect(name, expected, produced)?;
            }
            Ok(())
        }
        (Ok(_), other) => Err(format!("expected {other} ({}), the reference built the HTLC", test.get("error").unwrap_or(&Value::Null))),
        (Err(e), "invalid") => expect("error", str_of(test, "error")?, e.name()),
        (Err(e), other) => Err(format!("expected {other}, the reference refused: {e} ({})", e.name())),
    }
}
