//! Evaluator for `kind: blobswap_machine`: event scripts for the user's and the SSP's machines
//! (BLOBSWAP-01 "The flow").
//!
//! Group: `setup` {params, start_tip, user {secret_key, aux, preimage, value_sat, max_invoice_msat,
//! max_payout_fee_sat, claim_fee_sat, payout_script}, ssp {secret_key, aux, min_value_sat,
//! max_value_sat, swap_fee_msat, invoice_delta, payout_fee_sat, refund_fee_sat, refund_script}}.
//! Optional in the setup: `remove` (a safeguard both machines drop, for a model's counterexample)
//! and `role` (for tests that name none). Test: `role` (user | ssp), `steps`: [{event, expect}], `expect` the actions in order.
//! Transactions are shown as their `txid` and input `witness`; reasons by their names. A block's
//! `funding_seen`, `funding_confirmed` and `shared_spent` come before its `tick`.

use blobswap_reference::keys::SigningKey;
use blobswap_reference::messages::{AskPresign, Invoice, RetPresign, SwapRequest};
use blobswap_reference::output::Spend;
use blobswap_reference::ssp::{SspEvent, SspMachine, SspTerms};
use blobswap_reference::user::{UserEvent, UserMachine, UserTerms};
use blobswap_reference::{Msat, Safeguards};
// The action forms are the model exporter's: one definition for writing and checking vectors.
use sidepool_model::blobswap::export::{ssp_action, user_action};
use serde_json::Value;

use super::blobswap_common::{amount, blocks, funding, hash, height, keypair, params, preimage, script, signature, xonly};
use super::ln_common::{array_of, bytes32, field, hex_of, str_of, u64_of};

fn signing_key(v: &Value) -> Result<SigningKey, String> {
    Ok(SigningKey::new(keypair(v, "secret_key")?, bytes32(hex_of(v, "aux")?, "aux")?))
}

fn user_machine(setup: &Value) -> Result<UserMachine, String> {
    let u = field(setup, "user")?;
    let terms = UserTerms {
        params: params(field(setup, "params")?)?,
        value: amount(u, "value_sat")?,
        max_invoice: Msat(u64_of(u, "max_invoice_msat")?),
        max_payout_fee: amount(u, "max_payout_fee_sat")?,
        claim_fee: amount(u, "claim_fee_sat")?,
        payout_script: script(u, "payout_script")?,
        safeguards: safeguards(setup)?,
    };
    Ok(UserMachine::new(terms, preimage(u, "preimage")?, signing_key(u)?, height(setup, "start_tip")?))
}

fn ssp_machine(setup: &Value) -> Result<SspMachine, String> {
    let s = field(setup, "ssp")?;
    let terms = SspTerms {
        params: params(field(setup, "params")?)?,
        min_value: amount(s, "min_value_sat")?,
        max_value: amount(s, "max_value_sat")?,
        swap_fee: Msat(u64_of(s, "swap_fee_msat")?),
        invoice_delta: blocks(s, "invoice_delta")?,
        payout_fee: amount(s, "payout_fee_sat")?,
        refund_fee: amount(s, "refund_fee_sat")?,
        refund_script: script(s, "refund_script")?,
        safeguards: safeguards(setup)?,
    };
    Ok(SspMachine::new(terms, signing_key(s)?, height(setup, "start_tip")?))
}

/// The safeguards both machines apply: BLOBSWAP-01's, or with the setup's optional `remove` off
/// (a model's counterexample: vectors/model/blobswap_*.yaml).
fn safeguards(setup: &Value) -> Result<Safeguards, String> {
    let mut s = Safeguards::SPEC;
    let Some(removed) = setup.get("remove") else { return Ok(s) };
    match removed.as_str().ok_or("`remove` is not a string")? {
        "refund_margin" => s.refund_margin = false,
        "reveal_deadline" => s.reveal_deadline = false,
        "cancel_after_refund" => s.cancel_after_refund = false,
        "payout_margin" => s.payout_margin = false,
        "funding_deadline" => s.funding_deadline = false,
        other => return Err(format!("unknown safeguard `{other}`")),
    }
    Ok(s)
}

fn invoice(v: &Value) -> Result<Invoice, String> {
    Ok(Invoice {
        payment_hash: hash(v, "payment_hash")?,
        amount: Msat(u64_of(v, "amount_msat")?),
        min_final_cltv_expiry_delta: blocks(v, "min_final_cltv_expiry_delta")?,
    })
}

fn spend(v: &Value) -> Result<Spend, String> {
    Ok(match str_of(v, "spend")? {
        "payout" => Spend::Payout,
        "refund" => Spend::Refund,
        "claim" => Spend::Claim(preimage(v, "preimage")?),
        other => return Err(format!("unknown spend `{other}`")),
    })
}

fn user_event(v: &Value) -> Result<UserEvent, String> {
    Ok(match str_of(v, "type")? {
        "start" => UserEvent::Start,
        "tick" => UserEvent::Tick { tip: height(v, "tip")? },
        "invoice" => UserEvent::Invoice(invoice(v)?),
        "ask_presign" => UserEvent::AskPresign(AskPresign {
            funding: funding(v)?,
            value: amount(v, "value_sat")?,
            ssp_key: xonly(v, "ssp_key")?,
            refund_height: height(v, "refund_height")?,
            payout_fee: amount(v, "payout_fee_sat")?,
        }),
        "funding_seen" => UserEvent::FundingSeen {
            script_pubkey: script(v, "script_pubkey")?,
            value: amount(v, "value_sat")?,
            confirmed_at: match field(v, "confirmed_at")? {
                Value::Null => None,
                _ => Some(height(v, "confirmed_at")?),
            },
        },
        "blob_published" => UserEvent::BlobPublished,
        "shared_spent" => UserEvent::SharedSpent { spend: spend(v)?, confirmed_at: height(v, "confirmed_at")? },
        "payment_failed" => UserEvent::PaymentFailed,
        "payment_settled" => UserEvent::PaymentSettled,
        other => return Err(format!("unknown user event `{other}`")),
    })
}

fn ssp_event(v: &Value) -> Result<SspEvent, String> {
    Ok(match str_of(v, "type")? {
        "tick" => SspEvent::Tick { tip: height(v, "tip")? },
        "request" => SspEvent::Request {
            request: SwapRequest {
                payment_hash: hash(v, "payment_hash")?,
                value: amount(v, "value_sat")?,
                user_key: xonly(v, "user_key")?,
                payout_script: script(v, "payout_script")?,
            },
            hash_seen: field(v, "hash_seen")?.as_bool().ok_or("`hash_seen` is not a boolean")?,
        },
        "invoice_created" => SspEvent::InvoiceCreated(invoice(v)?),
        "invoice_accepted" => SspEvent::InvoiceAccepted { held: Msat(u64_of(v, "held_msat")?), expiry: height(v, "expiry")? },
        "funding_built" => SspEvent::FundingBuilt { funding: funding(v)? },
        "ret_presign" => SspEvent::RetPresign(RetPresign { signature: signature(v, "signature")? }),
        "funding_broadcast" => SspEvent::FundingBroadcast,
        "funding_confirmed" => SspEvent::FundingConfirmed { at: height(v, "at")? },
        "blob_found" => SspEvent::BlobFound { blob: hex_of(v, "blob")? },
        "payout_broadcast" => SspEvent::PayoutBroadcast,
        "shared_spent" => SspEvent::SharedSpent { spend: spend(v)?, confirmed_at: height(v, "confirmed_at")? },
        "invoice_settled" => SspEvent::InvoiceSettled,
        other => return Err(format!("unknown SSP event `{other}`")),
    })
}







pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    match str_of(test, "result")? {
        "valid" | "acceptable" => {}
        other => return Err(format!("result `{other}` is not used by this kind")),
    }
    let setup = field(group, "setup")?;
    enum Machine {
        User(Box<UserMachine>),
        Ssp(Box<SspMachine>),
    }
    // The test's role, or the group's (model counterexamples put it in the setup).
    let role = match test.get("role") {
        Some(_) => str_of(test, "role")?,
        None => str_of(setup, "role")?,
    };
    let mut machine = match role {
        "user" => Machine::User(Box::new(user_machine(setup)?)),
        "ssp" => Machine::Ssp(Box::new(ssp_machine(setup)?)),
        other => return Err(format!("unknown role `{other}`")),
    };
    for (i, s) in array_of(test, "steps")?.iter().enumerate() {
        let event = field(s, "event")?;
        let got: Vec<Value> = match &mut machine {
            Machine::User(m) => m.handle(user_event(event)?).iter().map(user_action).collect(),
            Machine::Ssp(m) => m.handle(ssp_event(event)?).iter().map(ssp_action).collect(),
        };
        let want = array_of(s, "expect")?;
        if *want != got {
            return Err(format!(
                "step {i} ({}): expected {}, reference gives {}",
                str_of(event, "type")?,
                Value::Array(want.clone()),
                Value::Array(got)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The committed Blobswap vectors are what their generator writes.
    #[test]
    fn generated_blobswap_vectors_are_current() {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/blobswap/generate.py");
        let out = std::process::Command::new("python3").arg(&script).arg("--check").output().expect("python3 runs");
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
}
