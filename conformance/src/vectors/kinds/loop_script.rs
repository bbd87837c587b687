//! Evaluator for `kind: loop_script` (LOOP-01 client state machines): the group
//! names the `machine` (`loop_out_client` or `loop_in_client`) and its `params`; each
//! test is a script of steps, each an `event` fed to a fresh machine, the exact list
//! of `actions` it must return and, when given, the `state` (and for Loop Out the
//! `phase`) after it.

use loop_reference::constants::Bounds;
use loop_reference::htlc::SpendKind;
use loop_reference::loop_in::{LoopInClient, LoopInEvent, LoopInParams};
use loop_reference::loop_out::{Invoice, LoopOutClient, LoopOutEvent, LoopOutParams};
use loop_reference::protocol::ProtocolVersion;
use loop_reference::state::SwapState;
use loop_reference::terms::{LoopOutLimits, LoopOutOffer};
use loop_reference::units::{BlockDelta, BlockHeight, Msat, Sat, SwapHash};
// The action forms are the model exporter's: one definition for writing and checking vectors.
use sidepool_model::loop_swap::export::{in_action_json, out_action_json};
use serde_json::{json, Value};

use super::loop_common::{bool_of, expect, field, hex32_of, opt_u64_of, str_of, u32_of, u64_of};

fn height(v: &Value) -> Result<BlockHeight, String> {
    u32_of(v, "height").map(BlockHeight)
}

fn invoice(v: &Value) -> Result<Invoice, String> {
    match str_of(v, "invoice")? {
        "swap" => Ok(Invoice::Swap),
        "prepay" => Ok(Invoice::Prepay),
        other => Err(format!("unknown invoice `{other}`")),
    }
}

fn spend(v: &Value) -> Result<SpendKind, String> {
    match str_of(v, "spend")? {
        "success" => Ok(SpendKind::Success),
        "timeout" => Ok(SpendKind::Timeout),
        other => Err(format!("unknown spend `{other}`")),
    }
}

/// LOOP-01's bounds, with any the group's `params.bounds` overrides (a counterexample
/// found with a loosened bound replays with it).
fn bounds(params: &Value) -> Result<Bounds, String> {
    let mut b = Bounds::LOOP01;
    if let Some(o) = params.get("bounds") {
        let get = |key: &str, default: BlockDelta| -> Result<BlockDelta, String> {
            if o.get(key).is_some() { u32_of(o, key).map(BlockDelta) } else { Ok(default) }
        };
        b = Bounds {
            min_loop_out_preimage_reveal_delta: get("min_loop_out_preimage_reveal_delta", b.min_loop_out_preimage_reveal_delta)?,
            max_loop_in_accept_delta: get("max_loop_in_accept_delta", b.max_loop_in_accept_delta)?,
            min_loop_in_expiry_delta: get("min_loop_in_expiry_delta", b.min_loop_in_expiry_delta)?,
            min_loop_in_publish_delta: get("min_loop_in_publish_delta", b.min_loop_in_publish_delta)?,
        };
    }
    Ok(b)
}

fn state_json(s: Option<SwapState>) -> Value {
    s.map_or(Value::Null, |s| json!(s.name()))
}

// ---- Loop Out -------------------------------------------------------------------------------

fn loop_out_params(p: &Value) -> Result<LoopOutParams, String> {
    Ok(LoopOutParams {
        limits: LoopOutLimits {
            amount: Sat(u64_of(p, "amount_sat")?),
            max_swap_fee: Sat(u64_of(p, "max_swap_fee_sat")?),
            max_prepay_amount: Sat(u64_of(p, "max_prepay_amount_sat")?),
        },
        swap_hash: SwapHash(hex32_of(p, "swap_hash")?),
        cltv_expiry: BlockHeight(u32_of(p, "cltv_expiry")?),
        bounds: bounds(p)?,
    })
}

fn loop_out_event(e: &Value) -> Result<LoopOutEvent, String> {
    Ok(match str_of(e, "type")? {
        "contract_offered" => {
            let (swap, prepay) = (field(e, "swap_invoice")?, field(e, "prepay_invoice")?);
            LoopOutEvent::ContractOffered {
                height: height(e)?,
                offer: LoopOutOffer {
                    swap_invoice_hash: SwapHash(hex32_of(swap, "payment_hash")?),
                    swap_invoice_amount: opt_u64_of(swap, "amount_msat")?.map(Msat),
                    prepay_invoice_amount: opt_u64_of(prepay, "amount_msat")?.map(Msat),
                },
            }
        }
        "execute" => LoopOutEvent::Execute { height: height(e)? },
        "block" => LoopOutEvent::Block { height: height(e)? },
        "payment_succeeded" => LoopOutEvent::PaymentSucceeded(invoice(e)?),
        "payment_failed" => LoopOutEvent::PaymentFailed(invoice(e)?),
        "htlc_confirmed" => LoopOutEvent::HtlcConfirmed { value: Sat(u64_of(e, "value_sat")?) },
        "sweep_timer" => LoopOutEvent::SweepTimer,
        "htlc_spent" => LoopOutEvent::HtlcSpent(spend(e)?),
        "unexpected_error" => LoopOutEvent::UnexpectedError,

        other => return Err(format!("unknown Loop Out event `{other}`")),
    })
}


fn run_loop_out(params: &Value, steps: &[Value]) -> Result<(), String> {
    let mut m = LoopOutClient::new(loop_out_params(params)?);
    for (i, step) in steps.iter().enumerate() {
        let at = |e: String| format!("step {}: {e}", i + 1);
        let actions: Vec<Value> = m.handle(loop_out_event(field(step, "event")?).map_err(at)?).iter().map(out_action_json).collect();
        expect("actions", field(step, "actions")?, &Value::Array(actions)).map_err(at)?;
        if let Some(want) = step.get("state") {
            expect("state", want, &state_json(m.state())).map_err(at)?;
        }
        if let Some(want) = step.get("phase") {
            expect("phase", want, &json!(m.phase().name())).map_err(at)?;
        }
    }
    Ok(())
}

// ---- Loop In --------------------------------------------------------------------------------

fn loop_in_params(p: &Value) -> Result<LoopInParams, String> {
    Ok(LoopInParams {
        amount: Sat(u64_of(p, "amount_sat")?),
        max_swap_fee: Sat(u64_of(p, "max_swap_fee_sat")?),
        external_htlc: bool_of(p, "external_htlc")?,
        protocol_version: ProtocolVersion(u32_of(p, "protocol_version")?),
        bounds: bounds(p)?,
    })
}

fn loop_in_event(e: &Value) -> Result<LoopInEvent, String> {
    Ok(match str_of(e, "type")? {
        "contract_offered" => LoopInEvent::ContractOffered {
            height: height(e)?,
            swap_fee: Sat(u64_of(e, "swap_fee_sat")?),
            cltv_expiry: BlockHeight(u32_of(e, "cltv_expiry")?),
        },
        "execute" => LoopInEvent::Execute { height: height(e)? },
        "block" => LoopInEvent::Block { height: height(e)? },
        "htlc_publish_failed" => LoopInEvent::HtlcPublishFailed,
        "htlc_confirmed" => LoopInEvent::HtlcConfirmed { value: Sat(u64_of(e, "value_sat")?) },
        "invoice_settled" => LoopInEvent::InvoiceSettled,
        "invoice_canceled" => LoopInEvent::InvoiceCanceled,
        "htlc_spent" => LoopInEvent::HtlcSpent(spend(e)?),
        "abandon" => LoopInEvent::Abandon,
        "unexpected_error" => LoopInEvent::UnexpectedError,

        other => return Err(format!("unknown Loop In event `{other}`")),
    })
}


fn run_loop_in(params: &Value, steps: &[Value]) -> Result<(), String> {
    let mut m = LoopInClient::new(loop_in_params(params)?);
    for (i, step) in steps.iter().enumerate() {
        let at = |e: String| format!("step {}: {e}", i + 1);
        let actions: Vec<Value> = m.handle(loop_in_event(field(step, "event")?).map_err(at)?).iter().map(in_action_json).collect();
        expect("actions", field(step, "actions")?, &Value::Array(actions)).map_err(at)?;
        if let Some(want) = step.get("state") {
            expect("state", want, &state_json(m.state())).map_err(at)?;
        }
        if step.get("phase").is_some() {
            return Err(at("a Loop In has no phases".into()));
        }
    }
    Ok(())
}

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    let params = field(group, "params")?;
    let steps = field(test, "steps")?.as_array().ok_or("`steps` is not a list")?;
    expect("result", "valid", str_of(test, "result")?)?;
    match str_of(group, "machine")? {
        "loop_out_client" => run_loop_out(params, steps),
        "loop_in_client" => run_loop_in(params, steps),
        other => Err(format!("unknown machine `{other}`")),
    }
}
