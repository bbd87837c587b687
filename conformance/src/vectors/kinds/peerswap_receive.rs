//! Evaluator for `kind: peerswap_receive` (SIDEPOOL-10 receiver of `peerswap_init`,
//! and the `peerswap_reject` it builds).

use super::peerswap_inputs::{balance, bool_or, expect_eq, expect_view, field, height, init, opt_str, opt_u64, result, str_of, u32_of, u64_of};
use serde_json::Value;
use sidepool_reference::peerswap::constants::Timestamp;
use sidepool_reference::peerswap::receive::{receive_init, reject_message, ReceiveContext, ReceiveDecision};
use sidepool_reference::units::{BlockDelta, UpdateCounter};

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let b = balance(test, "channels")?;
    let msg = init(field(test, "init")?)?;
    let counter = match opt_u64(test, "swap_party_update_counter")? {
        None => None,
        Some(c) => Some(u16::try_from(c).ok().and_then(UpdateCounter::new).ok_or("`swap_party_update_counter` is not 11-bit")?),
    };
    let ctx = ReceiveContext {
        we_are_participant: bool_or(test, "we_are_participant", true)?,
        sender_is_participant: bool_or(test, "sender_is_participant", true)?,
        is_leader: bool_or(test, "is_leader", false)?,
        swap_party_counter: counter,
        init_arrived_at: Timestamp(opt_u64(test, "init_arrived_at_s")?.unwrap_or(0)),
        now: Timestamp(opt_u64(test, "now_s")?.unwrap_or(0)),
        already_received_from_sender: bool_or(test, "already_received_from_sender", false)?,
        balance: &b,
        height: height(test, "height")?,
        cltv_delta: BlockDelta(u32_of(test, "cltv_delta_blocks")?),
        policy_objection: opt_str(test, "policy_objection")?,
    };
    let decision = receive_init(&msg, &ctx);
    let expected = str_of(test, "decision")?;
    match (result(test)?, expected, decision) {
        ("valid", "accept", ReceiveDecision::Accept) => Ok(()),
        ("valid", "defer", ReceiveDecision::Defer { until }) => expect_eq("defer_until_s", u64_of(test, "defer_until_s")?, until.0),
        ("invalid", "reject", ReceiveDecision::Reject(r)) => {
            expect_eq("error", str_of(test, "error")?, r.reason.name())?;
            expect_eq("reason_code", u64_of(test, "reason_code")?, u64::from(r.code().0))?;
            let reply = reject_message(&msg, &r, &b);
            expect_eq("reject id", msg.id, reply.id)?;
            expect_eq("reject hash", msg.hash, reply.hash)?;
            expect_eq("reject reason_code", r.code(), reply.reason_code)?;
            expect_view(field(test, "reject_channel_view")?, &reply.channel_view)
        }
        (res, exp, got) => Err(format!("expected {res}/{exp}, reference decides {got:?}")),
    }
}
