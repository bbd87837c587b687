//! Evaluator for `kind: htlc_key` (SIDEPOOL-06 HTLC Taproot Public Key).
//!
//! Inputs per test: the four public keys, `hash`, `locktime`, `network`. A valid
//! test lists every field of [`HTLC_KEY_OUTPUT_FIELDS`]; each must match exactly.
//! An invalid test names the error code the reference must return.

use serde_json::Value;

use crate::htlc_fields::{htlc_key_fields, HtlcKeyRequest, HTLC_KEY_OUTPUT_FIELDS};

fn text<'a>(test: &'a Value, name: &str) -> Result<&'a str, String> {
    test.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing string field {name}"))
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let req = HtlcKeyRequest {
        offerrer_ephemeral: text(test, "offerrer_ephemeral")?,
        offerrer_persistent: text(test, "offerrer_persistent")?,
        acceptor_ephemeral: text(test, "acceptor_ephemeral")?,
        acceptor_persistent: text(test, "acceptor_persistent")?,
        hash: text(test, "hash")?,
        locktime: test.get("locktime").and_then(Value::as_u64).ok_or("missing integer field locktime")?,
        network: text(test, "network")?,
    };
    let expected_result = text(test, "result")?;
    match (htlc_key_fields(&req), expected_result) {
        (Ok(fields), "valid") => {
            for name in HTLC_KEY_OUTPUT_FIELDS {
                let want = test.get(*name).ok_or_else(|| format!("valid test lacks output field {name}"))?;
                let got = fields.get(*name).ok_or_else(|| format!("reference gave no {name}"))?;
                if want != got {
                    return Err(format!("{name}: expected {want}, reference gave {got}"));
                }
            }
            Ok(())
        }
        (Ok(fields), other) => Err(format!("expected result {other}, reference derived output key {}", fields.get("output_key").unwrap_or(&Value::Null))),
        (Err(f), "invalid") => {
            let want = text(test, "error")?;
            if f.code == want {
                Ok(())
            } else {
                Err(format!("error: expected {want}, reference gave {} ({})", f.code, f.message))
            }
        }
        (Err(f), other) => Err(format!("expected result {other}, reference refused: {} ({})", f.code, f.message)),
    }
}
