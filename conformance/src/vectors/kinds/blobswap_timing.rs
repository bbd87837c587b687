//! Evaluator for `kind: blobswap_timing`: BLOBSWAP-01's timing decisions at their bounds.
//!
//! Group: `params` (the five block counts; a test's own `params` replace them). Test: `check` and
//! its inputs: params {} (the parameters themselves), invoice_delta {delta}, session {h7, expiry}, refund_height {expiry} (output `refund_height`),
//! refund_margin {refund_height, expiry}, funding {tip, refund_height}, presign {tip, refund_height},
//! reveal {tip, funding_confirmed_at, refund_height}, claim_due {tip, funding_confirmed_at}
//! (output `due`), payout {tip, expiry}, refund {tip, refund_height}.

use blobswap_reference::timing::{self, TimingError};
use serde_json::{json, Value};

use super::blobswap_common::{blocks, expected, height, holder, params, same_if_present, same_outcome};
use super::ln_common::{field, str_of};

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    let p = params(field(holder(group, test, "params")?, "params")?)?;
    let t = test;
    if str_of(t, "check")? == "params" {
        return same_outcome(expected(test)?, p.check().map_err(|e| e.name()));
    }
    let (got, outputs): (Result<(), TimingError>, Value) = match str_of(t, "check")? {
        "invoice_delta" => (timing::check_invoice_delta(blocks(t, "delta")?, &p), json!({})),
        "session" => (timing::check_session(height(t, "h7")?, height(t, "expiry")?, &p), json!({})),
        "refund_height" => match timing::refund_height(height(t, "expiry")?, &p) {
            Ok(r) => (Ok(()), json!({"refund_height": r.0})),
            Err(e) => (Err(e), json!({})),
        },
        "refund_margin" => (timing::check_refund_height(height(t, "refund_height")?, height(t, "expiry")?, &p), json!({})),
        "funding" => (timing::check_funding(height(t, "tip")?, height(t, "refund_height")?, &p), json!({})),
        "presign" => (timing::check_presign(height(t, "tip")?, height(t, "refund_height")?, &p), json!({})),
        "reveal" => (
            timing::check_reveal(height(t, "tip")?, height(t, "funding_confirmed_at")?, height(t, "refund_height")?, &p),
            json!({}),
        ),
        "claim_due" => (Ok(()), json!({"due": timing::claim_due(height(t, "tip")?, height(t, "funding_confirmed_at")?, &p)})),
        "payout" => (timing::check_payout(height(t, "tip")?, height(t, "expiry")?, &p), json!({})),
        "refund" => (timing::check_refund(height(t, "tip")?, height(t, "refund_height")?), json!({})),
        other => return Err(format!("unknown check `{other}`")),
    };
    same_outcome(expected(test)?, got.as_ref().map(|_| ()).map_err(|e| e.name()))?;
    if let Some(map) = outputs.as_object() {
        for (name, value) in map {
            same_if_present(test, name, value)?;
        }
    }
    Ok(())
}
