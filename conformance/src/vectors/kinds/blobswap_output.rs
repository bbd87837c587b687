//! Evaluator for `kind: blobswap_output`: the shared output's bytes (BLOBSWAP-01 "The shared output").
//!
//! `case`: output {payment_hash, user_key, ssp_key, refund_height} -> the three leaves,
//! `script_pubkey`, `control_blocks`; transaction {tx: payout|claim|refund, funding_txid,
//! funding_vout, value_sat, fee_sat, to_script, secret_key, aux} over the group's output -> `txid`,
//! `sighash`, `signature`; spend {witness} -> `spend` (and a claim's `preimage`); blob {blob} over
//! the group's `payment_hash` -> `preimage`. Invalid tests name the error.

use blobswap_reference::blob;
use blobswap_reference::output::{self, Leaf, SharedOutput, Spend};
use serde_json::{json, Value};

use super::blobswap_common::{amount, expected, funding, hash, height, holder, keypair, same_if_present, same_outcome, script, xonly};
use super::ln_common::{array_of, bytes32, hex_of, str_of};

fn shared_output(group: &Value, test: &Value) -> Result<Result<SharedOutput, &'static str>, String> {
    let h = hash(holder(group, test, "payment_hash")?, "payment_hash")?;
    let user = xonly(holder(group, test, "user_key")?, "user_key")?;
    let ssp = xonly(holder(group, test, "ssp_key")?, "ssp_key")?;
    let r = height(holder(group, test, "refund_height")?, "refund_height")?;
    Ok(SharedOutput::new(h, user, ssp, r).map_err(|e| e.name()))
}

fn compare(test: &Value, got: Result<Value, &str>) -> Result<(), String> {
    same_outcome(expected(test)?, got.as_ref().map(|_| ()).map_err(|e| *e))?;
    if let Ok(Value::Object(outputs)) = got {
        for (name, value) in &outputs {
            same_if_present(test, name, value)?;
        }
    }
    Ok(())
}

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    match str_of(test, "case")? {
        "output" => {
            let got = shared_output(group, test)?.map(|o| {
                let cb = |l| hex::encode(o.control_block(l).serialize());
                json!({
                    "payout_leaf": hex::encode(o.payout_leaf().as_bytes()),
                    "claim_leaf": hex::encode(o.claim_leaf().as_bytes()),
                    "refund_leaf": hex::encode(o.refund_leaf().as_bytes()),
                    "script_pubkey": hex::encode(o.script_pubkey().as_bytes()),
                    "control_blocks": {"payout": cb(Leaf::Payout), "claim": cb(Leaf::Claim), "refund": cb(Leaf::Refund)},
                })
            });
            compare(test, got)
        }
        "transaction" => {
            let o = shared_output(group, test)?.map_err(|e| format!("the group's output: {e}"))?;
            let (f, value, fee, to) = (funding(test)?, amount(test, "value_sat")?, amount(test, "fee_sat")?, script(test, "to_script")?);
            let (tx, leaf) = match str_of(test, "tx")? {
                "payout" => (output::payout_tx(f, value, fee, &to), Leaf::Payout),
                "claim" => (output::claim_tx(f, value, fee, &to), Leaf::Claim),
                "refund" => (output::refund_tx(f, value, fee, o.refund_height, &to), Leaf::Refund),
                other => return Err(format!("unknown tx `{other}`")),
            };
            let key = keypair(test, "secret_key")?;
            let aux = bytes32(hex_of(test, "aux")?, "aux")?;
            let got = tx.map_err(|e| e.name()).map(|tx| {
                let sighash = o.sighash(&tx, value, leaf);
                let sig = output::sign(&key, sighash, &aux);
                json!({
                    "txid": tx.compute_txid().to_string(),
                    "sighash": hex::encode(sighash),
                    "signature": hex::encode(sig.as_ref()),
                })
            });
            compare(test, got)
        }
        "spend" => {
            let o = shared_output(group, test)?.map_err(|e| format!("the group's output: {e}"))?;
            let mut witness = bitcoin::Witness::new();
            for item in array_of(test, "witness")? {
                let s = item.as_str().ok_or("witness items are hex strings")?;
                witness.push(hex::decode(s).map_err(|e| format!("witness item: {e}"))?);
            }
            let got = o.classify_spend(&witness).map_err(|e| e.name()).map(|s| match s {
                Spend::Payout => json!({"spend": "payout"}),
                Spend::Refund => json!({"spend": "refund"}),
                Spend::Claim(p) => json!({"spend": "claim", "preimage": hex::encode(p.as_bytes())}),
            });
            compare(test, got)
        }
        "blob" => {
            let h = hash(holder(group, test, "payment_hash")?, "payment_hash")?;
            let got = blob::check_blob(&hex_of(test, "blob")?, &h)
                .map_err(|e| e.name())
                .map(|p| json!({"preimage": hex::encode(p.as_bytes())}));
            compare(test, got)
        }
        other => Err(format!("unknown case `{other}`")),
    }
}
