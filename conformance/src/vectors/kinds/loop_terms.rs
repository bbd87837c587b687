//! Evaluator for `kind: loop_terms` (LOOP-01 decision functions): `rule` names the
//! function; its inputs are the test's fields; a valid test lists the decision's
//! outputs, an invalid one the reason's name.

use loop_reference::terms::{
    check_htlc_wait, check_loop_in_htlc_value, check_loop_in_publish, check_loop_in_swap_fee, check_loop_out_htlc_value,
    check_preimage_reveal, check_quote_amount, claim_fee_policy, server_cost, effective_conf_target, loop_in_timeout_due, loop_out_expiry,
    validate_loop_in_contract, validate_loop_out_contract, AmountBounds, CltvDeltaBounds, LoopOutLimits, LoopOutOffer,
};
use loop_reference::constants::Bounds;
use loop_reference::htlc::SpendKind;
use loop_reference::protocol::{ProtocolVersion, ScriptVersion};
use loop_reference::units::{BlockDelta, BlockHeight, Msat, Sat, SwapHash};
use serde_json::{json, Value};

use super::loop_common::{bool_of, expect, field, hex32_of, opt_u64_of, str_of, u32_of, u64_of};

/// The vectors test LOOP-01's own bounds.
const B: &Bounds = &Bounds::LOOP01;

/// The decision: output fields (for valid tests) or a reason name.
type Decision = Result<Vec<(&'static str, Value)>, &'static str>;

fn sat(v: &Value, key: &str) -> Result<Sat, String> {
    u64_of(v, key).map(Sat)
}

fn height(v: &Value, key: &str) -> Result<BlockHeight, String> {
    u32_of(v, key).map(BlockHeight)
}

fn decide(t: &Value) -> Result<Decision, String> {
    Ok(match str_of(t, "rule")? {
        "quote_amount" => {
            let bounds = AmountBounds { min_swap_amount: sat(t, "min_swap_amount_sat")?, max_swap_amount: sat(t, "max_swap_amount_sat")? };
            match str_of(t, "swap_type")? {
                "loop_out" | "loop_in" => {}
                other => return Err(format!("unknown swap_type `{other}`")),
            }
            check_quote_amount(sat(t, "amount_sat")?, &bounds).map(|()| vec![]).map_err(|e| e.name())
        }
        "loop_out_expiry" => {
            let bounds = CltvDeltaBounds { min_cltv_delta: BlockDelta(u32_of(t, "min_cltv_delta")?), max_cltv_delta: BlockDelta(u32_of(t, "max_cltv_delta")?) };
            loop_out_expiry(height(t, "height")?, u32_of(t, "conf_target")?, &bounds).map(|h| vec![("cltv_expiry", json!(h.0))]).map_err(|e| e.name())
        }
        "loop_out_contract" => {
            let limits = LoopOutLimits { amount: sat(t, "amount_sat")?, max_swap_fee: sat(t, "max_swap_fee_sat")?, max_prepay_amount: sat(t, "max_prepay_amount_sat")? };
            let (swap, prepay) = (field(t, "swap_invoice")?, field(t, "prepay_invoice")?);
            let offer = LoopOutOffer {
                swap_invoice_hash: SwapHash(hex32_of(swap, "payment_hash")?),
                swap_invoice_amount: opt_u64_of(swap, "amount_msat")?.map(Msat),
                prepay_invoice_amount: opt_u64_of(prepay, "amount_msat")?.map(Msat),
            };
            validate_loop_out_contract(&limits, &SwapHash(hex32_of(t, "swap_hash")?), &offer)
                .map(|a| vec![("swap_fee_sat", json!(a.swap_fee.0)), ("prepay_sat", json!(a.prepay_amount.0))])
                .map_err(|e| e.name())
        }
        "loop_in_contract" => validate_loop_in_contract(height(t, "height")?, height(t, "cltv_expiry")?, B).map(|()| vec![]).map_err(|e| e.name()),
        "loop_in_swap_fee" => check_loop_in_swap_fee(sat(t, "amount_sat")?, sat(t, "swap_fee_sat")?, sat(t, "max_swap_fee_sat")?)
            .map(|invoice| vec![("invoice_amount_sat", json!(invoice.0))])
            .map_err(|e| e.name()),
        "htlc_wait" => check_htlc_wait(height(t, "height")?, height(t, "cltv_expiry")?, B).map(|()| vec![]).map_err(|e| e.name()),
        "preimage_reveal" => check_preimage_reveal(height(t, "height")?, height(t, "cltv_expiry")?, bool_of(t, "preimage_revealed")?, B)
            .map(|()| vec![])
            .map_err(|e| e.name()),
        "loop_out_htlc_value" => check_loop_out_htlc_value(sat(t, "htlc_value_sat")?, sat(t, "amount_sat")?, bool_of(t, "preimage_revealed")?)
            .map(|()| vec![])
            .map_err(|e| e.name()),
        "loop_in_publish" => check_loop_in_publish(height(t, "height")?, height(t, "cltv_expiry")?, B).map(|()| vec![]).map_err(|e| e.name()),
        "loop_in_htlc_value" => check_loop_in_htlc_value(sat(t, "htlc_value_sat")?, sat(t, "amount_sat")?).map(|()| vec![]).map_err(|e| e.name()),
        "loop_in_timeout" => Ok(vec![("publish_timeout", json!(loop_in_timeout_due(height(t, "height")?, height(t, "cltv_expiry")?, bool_of(t, "invoice_settled")?)))]),
        "sweep_conf_target" => {
            let p = claim_fee_policy(height(t, "height")?, height(t, "cltv_expiry")?);
            Ok(vec![("conf_target", json!(p.conf_target)), ("urgent", json!(p.urgent))])
        }
        "conf_target" => effective_conf_target(u32_of(t, "conf_target")?, u32_of(t, "default_conf_target")?)
            .map(|c| vec![("effective_conf_target", json!(c))])
            .map_err(|e| e.name()),
        "classify_spend" => {
            let n = usize::try_from(u64_of(t, "witness_elements")?).map_err(|_| "`witness_elements` is too large")?;
            let kind = match u64_of(t, "script_version")? {
                2 => loop_reference::htlc::v2::classify_spend(n),
                3 => loop_reference::htlc::v3::classify_spend(n),
                other => return Err(format!("unknown script_version {other}")),
            };
            Ok(vec![("spend", json!(if kind == SpendKind::Success { "success" } else { "timeout" }))])
        }
        "server_cost" => Ok(vec![("server_cost_sat", json!(server_cost(sat(t, "prepay_sat")?, sat(t, "swap_payment_sat")?, sat(t, "amount_sat")?).0))]),
        "protocol_version" => {
            let v = ProtocolVersion(u32_of(t, "protocol_version")?);
            let script = match v.script_version() {
                ScriptVersion::V2 => 2,
                ScriptVersion::V3 => 3,
            };
            Ok(vec![("name", json!(v.name())), ("script_version", json!(script)), ("musig2_version", json!(v.musig2_version().name()))])
        }
        other => return Err(format!("unknown rule `{other}`")),
    })
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let want = str_of(test, "result")?;
    match (decide(test)?, want) {
        (Ok(outputs), "valid") => {
            for (name, got) in outputs {
                let expected = field(test, name).map_err(|_| format!("valid test lacks output field `{name}`"))?;
                expect(name, expected, &got)?;
            }
            Ok(())
        }
        (Ok(_), other) => Err(format!("expected {other} ({}), the reference accepted", test.get("error").unwrap_or(&Value::Null))),
        (Err(reason), "invalid") => expect("error", str_of(test, "error")?, reason),
        (Err(reason), other) => Err(format!("expected {other}, the reference refused: {reason}")),
    }
}
