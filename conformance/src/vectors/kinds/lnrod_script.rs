//! `kind: lnrod_script`: event scripts for LNROD-01's four machines, with the
//! actions (or the caller-misuse error) expected after each event.
//!
//! A test gives `role` (`a`, `lsp_a`, `lsp_b`, `b`), `config` (the role's
//! parameters, profile included) and `steps`: [{event, expect | expect_error}].
//! A group may give `machine: {role, config}` instead, for all its tests (the
//! model checker's counterexamples, vectors/model/lnrod_*.yaml, do).
//! Event and action objects name their kind in `type` / `action`; their fields
//! are listed in `vectors/schema/lnrod_script.schema.json`. Secrets (`pid`,
//! `preimage`) are test values in hex.

use lightningrod_reference::lsp_a::{LspA, LspAConfig, LspAEvent};
use lightningrod_reference::lsp_b::{LspB, LspBAction, LspBConfig, LspBEvent};
use lightningrod_reference::payee::{Payee, PayeeConfig, PayeeEvent};
use lightningrod_reference::payer::{Payer, PayerEvent};
use lightningrod_reference::profile::{FailBackReference, FailBackRule, Misuse, Profile};
use lightningrod_reference::units::{
    BlockDelta, BlockHeight, HtlcId, MessageRef, Msat, PathRef, PaymentHash, Pid, Preimage, Seconds,
};
use lightningrod_reference::wire::features::Features;
// The action forms are the model exporter's: one definition for writing and checking vectors.
use sidepool_model::lightningrod::export::{lsp_a_action, payee_action, payer_action};
use serde_json::{json, Value};

use super::ln_common::{array_of, field, hex_of, opt_field, str_of, u32_of, u64_of};

enum Machine {
    A(Payer),
    LspA(LspA),
    LspB(LspB),
    B(Payee),
}

fn bool_of(v: &Value, name: &str) -> Result<bool, String> {
    field(v, name)?.as_bool().ok_or_else(|| format!("`{name}` is not a boolean"))
}

fn bytes32(v: &Value, name: &str) -> Result<[u8; 32], String> {
    hex_of(v, name)?.try_into().map_err(|_| format!("`{name}` is not 32 bytes"))
}

fn hash_of(v: &Value, name: &str) -> Result<PaymentHash, String> {
    bytes32(v, name).map(PaymentHash)
}

fn pid_of(v: &Value, name: &str) -> Result<Pid, String> {
    bytes32(v, name).map(Pid::from_bytes)
}

fn preimage_of(v: &Value, name: &str) -> Result<Preimage, String> {
    bytes32(v, name).map(Preimage::from_bytes)
}

fn htlc(v: &Value) -> Result<HtlcId, String> {
    u64_of(v, "htlc").map(HtlcId)
}


fn machine(role: &str, c: &Value) -> Result<Machine, String> {
    let profile = || {
        let name = str_of(c, "profile")?;
        Profile::from_name(name).ok_or_else(|| format!("unknown profile `{name}`"))
    };
    Ok(match role {
        "a" => Machine::A(Payer::new(profile()?)),
        "lsp_a" => {
            let reference = str_of(c, "fail_back_reference")?;
            let reference =
                FailBackReference::from_name(reference).ok_or_else(|| format!("unknown reference `{reference}`"))?;
            let fail_back = FailBackRule::new(reference, BlockDelta(u32_of(c, "fail_back_margin")?))
                .map_err(|e| e.name().to_string())?;
            let config = LspAConfig {
                profile: profile()?,
                fail_back,
                max_held: u32_of(c, "max_held")?,
                advertises_hold: bool_of(c, "advertises_hold")?,
            };
            Machine::LspA(LspA::new(config, BlockHeight(u32_of(c, "height")?), bool_of(c, "a_online")?))
        }
        "lsp_b" => Machine::LspB(LspB::new(LspBConfig { mailbox_limit: u32_of(c, "mailbox_limit")? }, bool_of(c, "b_online")?)),
        "b" => Machine::B(Payee::new(
            PayeeConfig { profile: profile()?, mpp_timeout: Seconds(u64_of(c, "mpp_timeout")?) },
            bool_of(c, "online")?,
        )),
        other => return Err(format!("unknown role `{other}`")),
    })
}

// ---- A -----------------------------------------------------------------------------------

fn payer_event(e: &Value) -> Result<PayerEvent, String> {
    Ok(match str_of(e, "type")? {
        "lsp_init" => PayerEvent::LspInit { features: Features::from_wire(hex_of(e, "features")?) },
        "pay" => PayerEvent::Pay {
            payment_hash: hash_of(e, "payment_hash")?,
            parts: array_of(e, "parts")?
                .iter()
                .map(|p| Ok((htlc(p)?, Msat(u64_of(p, "amount_msat")?))))
                .collect::<Result<Vec<_>, String>>()?,
            pid: opt_field(e, "pid").map(|_| pid_of(e, "pid")).transpose()?,
        },
        "htlc_committed" => PayerEvent::HtlcCommitted { htlc: htlc(e)? },
        "release_path" => PayerEvent::ReleasePath { htlc: htlc(e)?, path: PathRef(u64_of(e, "path")?) },
        "htlc_fulfilled" => PayerEvent::HtlcFulfilled { htlc: htlc(e)?, preimage: preimage_of(e, "preimage")? },
        "htlc_failed" => PayerEvent::HtlcFailed { htlc: htlc(e)? },
        other => return Err(format!("unknown event `{other}` for role a")),
    })
}


// ---- LSP_a -------------------------------------------------------------------------------

fn lsp_a_event(e: &Value) -> Result<LspAEvent, String> {
    Ok(match str_of(e, "type")? {
        "a_peer" => LspAEvent::APeer { online: bool_of(e, "online")? },
        "block_request" => LspAEvent::BlockRequest {
            pid: pid_of(e, "pid")?,
            hashes: array_of(e, "hashes")?
                .iter()
                .map(|h| {
                    let bytes = hex::decode(h.as_str().ok_or("a hash is not a string")?).map_err(|x| x.to_string())?;
                    <[u8; 32]>::try_from(bytes).map(PaymentHash).map_err(|_| "a hash is not 32 bytes".to_string())
                })
                .collect::<Result<Vec<_>, String>>()?,
            direct_from_a: bool_of(e, "direct_from_a")?,
        },
        "htlc_added" => LspAEvent::HtlcAdded {
            htlc: htlc(e)?,
            payment_hash: hash_of(e, "payment_hash")?,
            amount: Msat(u64_of(e, "amount_msat")?),
            cltv_expiry: BlockHeight(u32_of(e, "cltv_expiry")?),
            outgoing_cltv: BlockHeight(u32_of(e, "outgoing_cltv")?),
            hold_htlc: bool_of(e, "hold_htlc")?,
        },
        "unblock" => LspAEvent::Unblock { payment_unblock: pid_of(e, "payment_unblock")? },
        "release_held_htlc" => LspAEvent::ReleaseHeldHtlc {
            context: HtlcId(u64_of(e, "context")?),
            authenticated: bool_of(e, "authenticated")?,
        },
        "onion_message_for_a" => LspAEvent::OnionMessageForA,
        "block" => LspAEvent::Block { height: BlockHeight(u32_of(e, "height")?) },
        "downstream_fulfilled" => {
            LspAEvent::DownstreamFulfilled { htlc: htlc(e)?, preimage: preimage_of(e, "preimage")? }
        }
        "downstream_failed" => LspAEvent::DownstreamFailed { htlc: htlc(e)? },
        other => return Err(format!("unknown event `{other}` for role lsp_a")),
    })
}


// ---- LSP_b -------------------------------------------------------------------------------

fn lsp_b_event(e: &Value) -> Result<LspBEvent, String> {
    Ok(match str_of(e, "type")? {
        "onion_message_for_b" => LspBEvent::OnionMessageForB { msg: MessageRef(u64_of(e, "msg")?) },
        "b_peer" => LspBEvent::BPeer { online: bool_of(e, "online")? },
        other => return Err(format!("unknown event `{other}` for role lsp_b")),
    })
}

fn lsp_b_action(a: &LspBAction) -> Value {
    match a {
        LspBAction::ForwardToB { msg } => json!({"action": "forward_to_b", "msg": msg.0}),
        LspBAction::Keep { msg } => json!({"action": "keep", "msg": msg.0}),
        LspBAction::NotifyB => json!({"action": "notify_b"}),
        LspBAction::Drop { msg } => json!({"action": "drop", "msg": msg.0}),
    }
}

// ---- B -----------------------------------------------------------------------------------

fn payee_event(e: &Value) -> Result<PayeeEvent, String> {
    Ok(match str_of(e, "type")? {
        "invoice_created" => {
            PayeeEvent::InvoiceCreated { amount: Msat(u64_of(e, "amount_msat")?), preimage: preimage_of(e, "preimage")? }
        }
        "online" => PayeeEvent::Online { online: bool_of(e, "online")? },
        "pid_received" => PayeeEvent::PidReceived { payment_hash: hash_of(e, "payment_hash")?, pid: pid_of(e, "pid")? },
        "held_htlc_available" => PayeeEvent::HeldHtlcAvailable {
            reply_path: PathRef(u64_of(e, "reply_path")?),
            authenticated: bool_of(e, "authenticated")?,
            path_expiry: Seconds(u64_of(e, "path_expiry")?),
            now: Seconds(u64_of(e, "now")?),
        },
        "htlc_arrived" => PayeeEvent::HtlcArrived {
            htlc: htlc(e)?,
            payment_hash: hash_of(e, "payment_hash")?,
            amount: Msat(u64_of(e, "amount_msat")?),
            at: Seconds(u64_of(e, "at")?),
        },
        "tick" => PayeeEvent::Tick { now: Seconds(u64_of(e, "now")?) },
        other => return Err(format!("unknown event `{other}` for role b")),
    })
}


// ---- the evaluator -----------------------------------------------------------------------

fn actions<A>(r: Result<Vec<A>, Misuse>, to_json: fn(&A) -> Value) -> Result<Vec<Value>, String> {
    r.map(|v| v.iter().map(to_json).collect()).map_err(|e| e.name().to_string())
}

fn step(m: &mut Machine, event: &Value) -> Result<Result<Vec<Value>, String>, String> {
    Ok(match m {
        Machine::A(x) => actions(x.handle(payer_event(event)?), payer_action),
        Machine::LspA(x) => actions(x.handle(lsp_a_event(event)?), lsp_a_action),
        Machine::LspB(x) => actions(x.handle(lsp_b_event(event)?), lsp_b_action),
        Machine::B(x) => actions(x.handle(payee_event(event)?), payee_action),
    })
}

/// The test's `role` and `config`, or else its group's `machine` (`{role, config}`:
/// every test of the group runs that machine, as in the model's counterexamples).
fn role_and_config<'a>(group: &'a Value, test: &'a Value) -> Result<(&'a str, &'a Value), String> {
    if test.get("role").is_some() || test.get("config").is_some() {
        return Ok((str_of(test, "role")?, field(test, "config")?));
    }
    let m = group.get("machine").ok_or("missing field `role` (in the test or its group's `machine`)")?;
    Ok((str_of(m, "role")?, field(m, "config")?))
}

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    match str_of(test, "result")? {
        "valid" | "acceptable" => {}
        other => return Err(format!("result `{other}` is not used by this kind")),
    }
    let (role, config) = role_and_config(group, test)?;
    let mut m = machine(role, config)?;
    for (i, s) in array_of(test, "steps")?.iter().enumerate() {
        let got = step(&mut m, field(s, "event")?).map_err(|e| format!("step {i}: {e}"))?;
        let expected = match (s.get("expect"), s.get("expect_error")) {
            (Some(e), None) => Ok(e.as_array().ok_or(format!("step {i}: `expect` is not an array"))?.clone()),
            (None, Some(e)) => Err(e.as_str().ok_or(format!("step {i}: `expect_error` is not a string"))?.to_string()),
            _ => return Err(format!("step {i}: exactly one of `expect` and `expect_error`")),
        };
        if got != expected {
            return Err(format!("step {i}: expected {expected:?}, the reference gives {got:?}"));
        }
    }
    Ok(())
}
