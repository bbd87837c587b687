//! Evaluator for `kind: ln_hold_sequence`: event sequences fed to the offerrer's
//! 60-second hold (`ultimate_offerrer`), a forwarder (hold downstream, payments
//! upstream), or the ultimate acceptor's offered payments, with the actions
//! (or caller-misuse error) expected after each event.
//!
//! Test fields: `role`, `agreed_msat`, `steps`: [{event, expect?, expect_error?}].
//! Events (`type`): committed {htlc, amount_msat, at}, removed {htlc, at},
//! tick {at} (the hold); offered {htlc, amount_msat}, fulfilled {htlc},
//! failed {htlc}, removal_committed {htlc}, stopped (the payments offered by
//! the forwarder upstream, or by the ultimate acceptor).
//! Actions (`action`): keep_holding {total_msat, deadline|null},
//! proceed_to_success {htlcs, total_msat}, offer_upstream {htlcs, total_msat},
//! fail_all {htlcs}, fail_late {htlc}, fulfil_all_downstream {htlcs},
//! fail_all_downstream {htlcs}, await_peerswap_success, enter_fail_path.

use serde_json::{json, Value};
use sidepool_reference::peerswap::lightning_htlcs::{
    Forwarder, ForwarderAction, ForwarderEvent, HoldAction, HoldEvent, HoldRole, HtlcRef, IncomingHold, OutgoingEvent,
    OutgoingOutcome, OutgoingParts, Seconds,
};
use sidepool_reference::units::Msat;

use super::ln_common::{array_of, expected_outcome, field, same, str_of, u64_of};

enum Machine {
    Offerrer(IncomingHold),
    Forwarder(Forwarder),
    Acceptor(OutgoingParts),
}

enum Event {
    Hold(HoldEvent),
    Outgoing(OutgoingEvent),
}

fn event(v: &Value) -> Result<Event, String> {
    let htlc = || u64_of(v, "htlc").map(HtlcRef);
    let at = || u64_of(v, "at").map(Seconds);
    let amount = || u64_of(v, "amount_msat").map(Msat);
    Ok(match str_of(v, "type")? {
        "committed" => Event::Hold(HoldEvent::Committed { htlc: htlc()?, amount: amount()?, at: at()? }),
        "removed" => Event::Hold(HoldEvent::Removed { htlc: htlc()?, at: at()? }),
        "tick" => Event::Hold(HoldEvent::Tick { at: at()? }),
        "offered" => Event::Outgoing(OutgoingEvent::Offered { htlc: htlc()?, amount: amount()? }),
        "fulfilled" => Event::Outgoing(OutgoingEvent::Fulfilled { htlc: htlc()? }),
        "failed" => Event::Outgoing(OutgoingEvent::Failed { htlc: htlc()? }),
        "removal_committed" => Event::Outgoing(OutgoingEvent::RemovalCommitted { htlc: htlc()? }),
        "stopped" => Event::Outgoing(OutgoingEvent::Stopped),
        other => return Err(format!("unknown event type `{other}`")),
    })
}

fn refs(htlcs: &[HtlcRef]) -> Value {
    json!(htlcs.iter().map(|h| h.0).collect::<Vec<u64>>())
}

fn hold_action(a: &HoldAction) -> Value {
    match a {
        HoldAction::KeepHolding { total, deadline } => {
            json!({"action": "keep_holding", "total_msat": total.0, "deadline": deadline.map(|d| d.0)})
        }
        HoldAction::ProceedToSuccess { htlcs, total } => {
            json!({"action": "proceed_to_success", "htlcs": refs(htlcs), "total_msat": total.0})
        }
        HoldAction::OfferUpstream { htlcs, total } => {
            json!({"action": "offer_upstream", "htlcs": refs(htlcs), "total_msat": total.0})
        }
        HoldAction::FailAll { htlcs } => json!({"action": "fail_all", "htlcs": refs(htlcs)}),
        HoldAction::FailLate { htlc } => json!({"action": "fail_late", "htlc": htlc.0}),
        HoldAction::FulfilLate { htlc } => json!({"action": "fulfil_late", "htlc": htlc.0}),
    }
}

fn outcome(o: Option<OutgoingOutcome>) -> Vec<Value> {
    match o {
        Some(OutgoingOutcome::AnyFulfilled) => vec![json!({"action": "await_peerswap_success"})],
        Some(OutgoingOutcome::AllFailedAndRemoved) => vec![json!({"action": "enter_fail_path"})],
        None => vec![],
    }
}

/// The actions the reference takes, or the name of the misuse it reports.
fn step(machine: &mut Machine, ev: Event) -> Result<Result<Vec<Value>, String>, String> {
    Ok(match (machine, ev) {
        (Machine::Offerrer(m), Event::Hold(e)) => Ok(m.handle(e).iter().map(hold_action).collect()),
        (Machine::Forwarder(f), e) => {
            let fe = match e {
                Event::Hold(h) => ForwarderEvent::Downstream(h),
                Event::Outgoing(o) => ForwarderEvent::Upstream(o),
            };
            f.handle(fe)
                .map(|actions| {
                    actions
                        .iter()
                        .map(|a| match a {
                            ForwarderAction::Hold(h) => hold_action(h),
                            ForwarderAction::FulfilAllDownstream { htlcs } => {
                                json!({"action": "fulfil_all_downstream", "htlcs": refs(htlcs)})
                            }
                            ForwarderAction::FailAllDownstream { htlcs } => {
                                json!({"action": "fail_all_downstream", "htlcs": refs(htlcs)})
                            }
                        })
                        .collect()
                })
                .map_err(|e| e.name().to_string())
        }
        (Machine::Acceptor(o), Event::Outgoing(e)) => o.handle(e).map(outcome).map_err(|e| e.name().to_string()),
        (Machine::Offerrer(_), Event::Outgoing(_)) => return Err("the ultimate offerrer offers no HTLCs".into()),
        (Machine::Acceptor(_), Event::Hold(_)) => return Err("the ultimate acceptor holds no HTLCs".into()),
    })
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    same("error", expected_outcome(test)?, None)?;
    let agreed = Msat(u64_of(test, "agreed_msat")?);
    let mut machine = match str_of(test, "role")? {
        "ultimate_offerrer" => Machine::Offerrer(IncomingHold::new(agreed, HoldRole::UltimateOfferrer)),
        "forwarder" => Machine::Forwarder(Forwarder::new(agreed)),
        "ultimate_acceptor" => Machine::Acceptor(OutgoingParts::new(agreed)),
        other => return Err(format!("unknown role `{other}`")),
    };
    for (i, s) in array_of(test, "steps")?.iter().enumerate() {
        let got = step(&mut machine, event(field(s, "event")?)?)?;
        let expected = match (s.get("expect"), s.get("expect_error")) {
            (Some(e), None) => Ok(e.as_array().ok_or(format!("step {i}: `expect` is not an array"))?.clone()),
            (None, Some(e)) => Err(e.as_str().ok_or(format!("step {i}: `expect_error` is not a string"))?.to_string()),
            _ => return Err(format!("step {i}: exactly one of `expect` and `expect_error`")),
        };
        same(&format!("step {i}"), expected, got)?;
    }
    Ok(())
}
