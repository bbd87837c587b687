//! Evaluator for `kind: peerswap_forward` (SIDEPOOL-10 Forwarding Initiating And
//! Rejecting Peerswap): the rewrite, the record, the action order.

use super::peerswap_inputs::{
    balance, bool_or, expect_eq, expect_view, field, height, init, opt_str, peer_status, result, str_of, u32_of, u64_of,
};
use serde_json::Value;
use sidepool_reference::peerswap::forward::{after_next_hop_reject, forward, AfterReject, ForwardAction, ForwardRecord, ForwarderConfig, NextHop};
use sidepool_reference::peerswap::receive::{ReceiveDecision, RejectReason, Rejection};
use sidepool_reference::units::BlockDelta;

fn action_name(a: &ForwardAction<String>) -> &'static str {
    match a {
        ForwardAction::PersistRecord(_) => "persist_record",
        ForwardAction::DeleteRecord { .. } => "delete_record",
        ForwardAction::SendInit { .. } => "send_init",
        ForwardAction::AcceptHere => "accept_here",
        ForwardAction::SendReject { .. } => "send_reject",
    }
}

fn check_actions(test: &Value, actions: &[ForwardAction<String>]) -> Result<(), String> {
    let expected: Vec<&str> = field(test, "actions")?
        .as_array()
        .ok_or("`actions` is not a list")?
        .iter()
        .map(|a| a.as_str().ok_or("an action is not a string"))
        .collect::<Result<_, _>>()?;
    expect_eq("actions", expected, actions.iter().map(action_name).collect())?;
    for a in actions {
        match a {
            ForwardAction::PersistRecord(r) => {
                check_record(field(test, "record")?, r)?;
                // The record also names the peerswap: the incoming id, hash and offerrer keys.
                let incoming = init(field(test, "incoming")?)?;
                expect_eq("record id/hash/offerrer keys", (incoming.id, incoming.hash, incoming.pubkeys), (r.id, r.hash, r.offerrer_pubkeys))?;
            }
            ForwardAction::SendInit { to, init: out } => {
                let e = field(test, "outgoing")?;
                expect_eq("send to", str_of(test, "next_hop")?, to.as_str())?;
                let want = init(e)?;
                expect_eq("outgoing hops", want.hops, out.hops)?;
                expect_eq("outgoing timeouts", want.timeouts, out.timeouts)?;
                expect_eq("outgoing amount", want.amount, out.amount)?;
                expect_eq("outgoing update counter", want.update_counter, out.update_counter)?;
                expect_eq("outgoing unknown TLVs", &want.unknown, &out.unknown)?;
                expect_eq("outgoing id/hash/keys", (want.id, want.hash, want.pubkeys), (out.id, out.hash, out.pubkeys))?;
                expect_view(field(e, "channel_view")?, &out.channel_view)?;
            }
            ForwardAction::SendReject { to, reject } => {
                expect_eq("reject to", "upstream", to.as_str())?;
                expect_eq("reject code", u64_of(test, "reject_code")?, u64::from(reject.reason_code.0))?;
                expect_view(field(test, "reject_channel_view")?, &reject.channel_view)?;
            }
            ForwardAction::DeleteRecord { .. } | ForwardAction::AcceptHere => {}
        }
    }
    Ok(())
}

fn check_record(e: &Value, r: &ForwardRecord<String>) -> Result<(), String> {
    expect_eq("record upstream", "upstream", r.upstream.as_str())?;
    expect_eq("record downstream", str_of(e, "downstream")?, r.downstream.as_str())?;
    expect_eq("record sidepool_timelock", u32_of(e, "sidepool_timelock_height")?, r.sidepool_timelock.0)?;
    expect_eq("record lightning_timelock_from_upstream", u32_of(e, "lightning_timelock_from_upstream_height")?, r.lightning_timelock_from_upstream.0)?;
    expect_eq("record lightning_timelock_to_downstream", u32_of(e, "lightning_timelock_to_downstream_height")?, r.lightning_timelock_to_downstream.0)?;
    expect_eq("record amount_sat", u64_of(e, "amount_sat")?, r.amount.0)
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let incoming = init(field(test, "incoming")?)?;
    let next_balance = balance(test, "next_hop_channels")?;
    let next = NextHop {
        peer: str_of(test, "next_hop")?.to_owned(),
        status: match test.get("next_hop_status") {
            Some(s) => peer_status(s)?,
            None => peer_status(&Value::Null)?,
        },
        balance: &next_balance,
    };
    let config = ForwarderConfig {
        height: height(test, "height")?,
        swap_party_begun: bool_or(test, "swap_party_begun", true)?,
        cltv_delta: BlockDelta(u32_of(test, "cltv_delta_blocks")?),
        final_cltv_delta: BlockDelta(u32_of(test, "final_cltv_delta_blocks")?),
    };
    let validation = if bool_or(test, "validated", true)? {
        ReceiveDecision::Accept
    } else {
        ReceiveDecision::Reject(Rejection { reason: RejectReason::Policy, text: "not validated".into() })
    };
    let outcome = match opt_str(test, "after_next_hop_reject")? {
        None => forward(&incoming, &validation, "upstream".to_owned(), &next, &config),
        Some(choice) => {
            let first = forward(&incoming, &ReceiveDecision::Accept, "upstream".to_owned(), &next, &config)
                .map_err(|e| format!("the first forward must succeed in an after_next_hop_reject case: {e}"))?;
            let Some(ForwardAction::PersistRecord(record)) = first.first() else {
                return Err("the first forward did not persist a record first".into());
            };
            let upstream_balance = match choice {
                "reject_here" => balance(test, "upstream_channels")?,
                _ => balance(&serde_json::json!({"c": []}), "c")?,
            };
            let choice = match choice {
                "accept_here" => AfterReject::AcceptHere,
                "reject_here" => AfterReject::RejectHere {
                    rejection: Rejection { reason: RejectReason::Policy, text: "next hop rejected".into() },
                    upstream_balance: &upstream_balance,
                },
                other => return Err(format!("unknown after_next_hop_reject `{other}`")),
            };
            after_next_hop_reject(record, &incoming, choice, &config)
        }
    };
    match (result(test)?, outcome) {
        ("valid", Ok(actions)) => check_actions(test, &actions),
        ("invalid", Err(r)) => expect_eq("error", str_of(test, "error")?, r.name()),
        ("valid", Err(r)) => Err(format!("expected a forward, reference refuses: {}", r.name())),
        ("invalid", Ok(a)) => Err(format!("expected a refusal, reference acts: {:?}", a.iter().map(action_name).collect::<Vec<_>>())),
        (r, _) => Err(format!("unexpected result `{r}`")),
    }
}
