//! The expected results of model checking Lightning Loop (issue 17 item 4), each in a
//! bounded configuration that runs in a debug build in seconds.

use std::path::Path;

use sidepool_model::framework::{CheckReport, System, Verdict};
use sidepool_model::loop_swap::{params, properties, Loop};
use sidepool_spec_tools::quotes::{self, Quote, SpecSet};

mod common;
use common::{all_hold_and_are_not_vacuous, trace_text, verdict};






/// As specified (a 20-block reveal deadline), with each party the adversary in turn
/// and a client crash, every safety property holds.
fn check(sets: &[&str]) -> CheckReport {
    common::check(&Loop, sets, 2_000_000)
}

#[test]
fn as_specified_every_safety_property_holds() {
    all_hold_and_are_not_vacuous(&check(&[]));
}

/// The deadline covers any claim that confirms within 21 blocks: the latest reveal is
/// at expiry-21.
#[test]
fn the_deadline_covers_claims_confirming_within_21_blocks() {
    all_hold_and_are_not_vacuous(&check(&["confirm_blocks=21", "expiry_delta=30"]));
}

/// Without the reveal deadline the client reveals one block before the expiry; the
/// adversarial server takes the swap payment with the preimage and the HTLC back
/// through the timeout path before the claim confirms.
#[test]
fn without_the_reveal_deadline_the_client_loses_the_swap_payment() {
    let r = check(&["reveal_delta=0", "adversary=server", "crashes=0"]);
    assert_eq!(verdict(&r, properties::CLIENT_LOSS_BOUNDED), Verdict::Violated, "{}", r.render());
    assert_eq!(verdict(&r, properties::REVEAL_IN_TIME), Verdict::Violated);
    assert_eq!(r.exit_status(), 1);
    let t = trace_text(&r, properties::CLIENT_LOSS_BOUNDED);
    assert!(t.contains("revealing the preimage"), "{t}");
    assert!(t.contains("timeout path"), "{t}");
    assert!(t.contains("client net -1005000 sat"), "{t}");
    // The server's guarantees do not rest on the client's deadline.
    assert_eq!(verdict(&r, properties::SERVER_PAID_ONLY_AFTER_COMPLETE), Verdict::Holds);
}

/// A deadline one block shorter than a claim's confirmation window loses; the
/// threshold is reveal_delta + 1 >= confirm_blocks.
#[test]
fn a_deadline_shorter_than_the_confirmation_window_loses() {
    let r = check(&["reveal_delta=20", "confirm_blocks=22", "adversary=server", "crashes=0"]);
    assert_eq!(verdict(&r, properties::CLIENT_LOSS_BOUNDED), Verdict::Violated, "{}", r.render());
    let r = check(&["reveal_delta=4", "confirm_blocks=5", "adversary=server", "crashes=0"]);
    assert_eq!(verdict(&r, properties::CLIENT_LOSS_BOUNDED), Verdict::Holds, "{}", r.render());
    let r = check(&["reveal_delta=3", "confirm_blocks=5", "adversary=server", "crashes=0"]);
    assert_eq!(verdict(&r, properties::CLIENT_LOSS_BOUNDED), Verdict::Violated, "{}", r.render());
}

#[test]
fn bad_settings_are_errors_not_panics() {
    assert!(Loop.settings(None, &["reveal_delta=-1".into()]).is_err());
    assert!(Loop.settings(None, &["adversary=pool".into()]).is_err());
    assert!(Loop.settings(None, &["nonsense=1".into()]).is_err());
}

#[test]
fn checks_are_deterministic() {
    let a = check(&["adversary=server", "crashes=0"]);
    let b = check(&["adversary=server", "crashes=0"]);
    assert_eq!((a.states, a.unique_states, a.max_depth), (b.states, b.unique_states, b.max_depth));
}

/// Every sentence a property or parameter rests on, and every `// LOOP-01:` quote in
/// the model's code, is LOOP-01's text.
#[test]
fn every_quote_is_the_spec_s_sentence() {
    let repo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let spec = SpecSet::load(repo).unwrap();
    let mut qs: Vec<Quote> = Vec::new();
    let quoted = properties::DEFS.iter().chain(sidepool_model::loop_swap::loop_in::IN_DEFS).flat_map(|p| p.rests_on.iter()).chain(params::PARAMS.iter().filter_map(|p| p.spec.as_ref()));
    for q in quoted {
        assert_eq!(q.doc, "LOOP-01");
        qs.push(Quote { file: "tools/model/src/loop_swap (tables)".into(), line: 0, doc: q.doc.into(), revision: None, text: q.text.into(), unterminated: false });
    }
    assert!(qs.len() >= 10, "only {} table quotes", qs.len());
    qs.extend(quotes::scan_paths(repo, &[repo.join("tools/model/src/loop_swap")]).unwrap());
    let checked = quotes::check_all(&spec, &qs);
    let bad: Vec<_> = checked.iter().filter(|c| !matches!(c.verdict, quotes::Verdict::Matched(_))).collect();
    assert!(bad.is_empty(), "{}", quotes::report(&spec, &checked));
}

/// The property table and the stateright checks name the same properties.
#[test]
fn the_property_table_matches_the_checks() {
    use stateright::Model;
    let cfg = sidepool_model::loop_swap::Config::from_settings(&Loop.settings(None, &[]).unwrap()).unwrap();
    let m = sidepool_model::loop_swap::LoopModel::new(cfg);
    let checks: Vec<&str> = m.properties().iter().map(|p| p.name).collect();
    let table: Vec<&str> = properties::DEFS.iter().map(|p| p.name).collect();
    assert_eq!(checks, table);
}

// ---- Loop In (swap=in) ----------------------------------------------------------------------

use sidepool_model::loop_swap::loop_in::{self, IN_DEFS};

/// As specified, with each party the adversary in turn, a client crash and the user
/// cancelling the invoice by hand, every Loop In safety property holds.
#[test]
fn loop_in_as_specified_every_safety_property_holds() {
    all_hold_and_are_not_vacuous(&check(&["swap=in"]));
}

/// Loop f6b0253d pushes the client's internal key once the invoice is final, cancelled
/// included; with the invoice cancelled by hand and the HTLC unspent, the adversarial
/// server sweeps it through the key path without paying (loop.in.20's reading).
#[test]
fn loop_in_a_key_pushed_for_a_cancelled_invoice_loses_the_htlc() {
    let r = check(&["swap=in", "mutant=key_on_final_invoice", "adversary=server", "crashes=0"]);
    assert_eq!(verdict(&r, loop_in::IN_CLIENT_LOSS_BOUNDED), Verdict::Violated, "{}", r.render());
    assert_eq!(verdict(&r, loop_in::IN_CLIENT_REFUNDS_UNPAID), Verdict::Violated);
    let t = trace_text(&r, loop_in::IN_CLIENT_LOSS_BOUNDED);
    assert!(t.contains("cancels the swap invoice by hand"), "{t}");
    assert!(t.contains("key path"), "{t}");
    assert!(t.contains("client net -1000000 sat"), "{t}");
}

/// The honest server must pay with at least a sweep's confirmation window left: paying
/// later, the adversarial client takes the HTLC back at the expiry before the sweep
/// confirms; the threshold is server_pay_margin >= confirm_blocks.
#[test]
fn loop_in_a_server_paying_too_late_loses_the_htlc() {
    let r = check(&["swap=in", "confirm_blocks=11", "adversary=client", "crashes=0"]);
    assert_eq!(verdict(&r, loop_in::IN_HONEST_SERVER_PAID), Verdict::Violated, "{}", r.render());
    let t = trace_text(&r, loop_in::IN_HONEST_SERVER_PAID);
    assert!(t.contains("timeout path"), "{t}");
    let r = check(&["swap=in", "confirm_blocks=10", "adversary=client", "crashes=0"]);
    assert_eq!(verdict(&r, loop_in::IN_HONEST_SERVER_PAID), Verdict::Holds, "{}", r.render());
}

/// The client's expiry window and publish deadline protect no money: with both removed
/// and an expiry 12 blocks away, nothing is violated (Loop's own comment on
/// MinLoopInPublishDelta: "This value isn't critical").
#[test]
fn loop_in_without_the_expiry_window_and_publish_deadline_nothing_is_violated() {
    let r = check(&["swap=in", "in_min_expiry_delta=0", "in_publish_delta=0", "in_expiry_delta=12"]);
    for p in &r.properties {
        if p.def.kind == sidepool_model::framework::PropertyKind::Safety {
            assert_eq!(p.verdict, Verdict::Holds, "{}:\n{}", p.def.name, r.render());
        }
    }
}

#[test]
fn the_loop_in_property_table_matches_the_checks() {
    use stateright::Model;
    let cfg = sidepool_model::loop_swap::Config::from_settings(&Loop.settings(None, &["swap=in".into()]).unwrap()).unwrap();
    let m = sidepool_model::loop_swap::LoopInModel::new(cfg);
    let checks: Vec<&str> = m.properties().iter().map(|p| p.name).collect();
    let table: Vec<&str> = IN_DEFS.iter().map(|p| p.name).collect();
    assert_eq!(checks, table);
}

// ---- Export: counterexamples as loop_script vectors -----------------------------------------

mod replay {
    //! A small replay of loop_script steps against the reference machines (the conformance
    //! suite's evaluator does the same for the committed files).
    use loop_reference::htlc::SpendKind;
    use loop_reference::loop_in::{LoopInClient, LoopInEvent, LoopInParams};
    use loop_reference::loop_out::{Invoice, LoopOutClient, LoopOutEvent, LoopOutParams};
    use loop_reference::terms::LoopOutOffer;
    use loop_reference::units::{BlockHeight, Msat, Sat, SwapHash};
    use serde_json::Value;

    fn u(v: &Value, k: &str) -> u64 {
        v[k].as_u64().unwrap_or_else(|| panic!("no `{k}` in {v}"))
    }
    fn h(v: &Value) -> BlockHeight {
        BlockHeight(u(v, "height") as u32)
    }
    fn spend(v: &Value) -> SpendKind {
        if v["spend"] == "success" { SpendKind::Success } else { SpendKind::Timeout }
    }
    fn invoice(v: &Value) -> Invoice {
        if v["invoice"] == "swap" { Invoice::Swap } else { Invoice::Prepay }
    }

    fn out_event(e: &Value) -> LoopOutEvent {
        match e["type"].as_str().unwrap_or_default() {
            "contract_offered" => {
                let hash: [u8; 32] = hex::decode(e["swap_invoice"]["payment_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
                LoopOutEvent::ContractOffered {
                    height: h(e),
                    offer: LoopOutOffer {
                        swap_invoice_hash: SwapHash(hash),
                        swap_invoice_amount: e["swap_invoice"]["amount_msat"].as_u64().map(Msat),
                        prepay_invoice_amount: e["prepay_invoice"]["amount_msat"].as_u64().map(Msat),
                    },
                }
            }
            "execute" => LoopOutEvent::Execute { height: h(e) },
            "block" => LoopOutEvent::Block { height: h(e) },
            "payment_succeeded" => LoopOutEvent::PaymentSucceeded(invoice(e)),
            "payment_failed" => LoopOutEvent::PaymentFailed(invoice(e)),
            "htlc_confirmed" => LoopOutEvent::HtlcConfirmed { value: Sat(u(e, "value_sat")) },
            "sweep_timer" => LoopOutEvent::SweepTimer,
            "htlc_spent" => LoopOutEvent::HtlcSpent(spend(e)),
            "unexpected_error" => LoopOutEvent::UnexpectedError,
            other => panic!("unknown Loop Out event {other}"),
        }
    }

    fn in_event(e: &Value) -> LoopInEvent {
        match e["type"].as_str().unwrap_or_default() {
            "contract_offered" => LoopInEvent::ContractOffered {
                height: h(e),
                swap_fee: Sat(u(e, "swap_fee_sat")),
                cltv_expiry: BlockHeight(u(e, "cltv_expiry") as u32),
            },
            "execute" => LoopInEvent::Execute { height: h(e) },
            "block" => LoopInEvent::Block { height: h(e) },
            "htlc_confirmed" => LoopInEvent::HtlcConfirmed { value: Sat(u(e, "value_sat")) },
            "invoice_settled" => LoopInEvent::InvoiceSettled,
            "invoice_canceled" => LoopInEvent::InvoiceCanceled,
            "htlc_spent" => LoopInEvent::HtlcSpent(spend(e)),
            "unexpected_error" => LoopInEvent::UnexpectedError,
            other => panic!("unknown Loop In event {other}"),
        }
    }

    /// Replays every step of the file's one test; returns how many steps it had. The action
    /// forms are compared by their `type` and count (the evaluator compares every field).
    pub fn replay(file: &Value, out: Option<LoopOutParams>, inp: Option<LoopInParams>) -> usize {
        let group = &file["testGroups"][0];
        let steps = group["tests"][0]["steps"].as_array().expect("steps");
        let mut lo = out.map(LoopOutClient::new);
        let mut li = inp.map(LoopInClient::new);
        for (i, s) in steps.iter().enumerate() {
            let want: Vec<&str> = s["actions"].as_array().expect("actions").iter().map(|a| a["type"].as_str().unwrap_or_default()).collect();
            let got: Vec<String> = match (&mut lo, &mut li) {
                (Some(m), _) => m.handle(out_event(&s["event"])).iter().map(|a| format!("{a:?}")).collect(),
                (_, Some(m)) => m.handle(in_event(&s["event"])).iter().map(|a| format!("{a:?}")).collect(),
                _ => unreachable!(),
            };
            assert_eq!(got.len(), want.len(), "step {}: {got:?} vs {want:?}", i + 1);
            for (g, w) in got.iter().zip(&want) {
                let camel: String = w.split('_').map(|p| p[..1].to_uppercase() + &p[1..]).collect();
                assert!(g.starts_with(&camel), "step {}: {g} vs {w}", i + 1);
            }
        }
        steps.len()
    }
}

/// The Loop Out counterexample exports as a loop_script file with the honest client as its
/// one group, and the reference machine, fed its events, answers what the file says.
#[test]
fn loop_out_counterexamples_export_as_replayable_loop_scripts() {
    let r = check(&["reveal_delta=0", "adversary=server", "crashes=0"]);
    let file = r.result(properties::CLIENT_LOSS_BOUNDED).and_then(|p| p.vectors.as_ref()).expect("exported").to_json();
    assert_eq!(file["kind"], "loop_script");
    assert_eq!(file["testGroups"][0]["machine"], "loop_out_client");
    assert_eq!(file["testGroups"][0]["params"]["bounds"]["min_loop_out_preimage_reveal_delta"], 0);
    let cfg = sidepool_model::loop_swap::Config::from_settings(&Loop.settings(None, &["reveal_delta=0".into()]).unwrap()).unwrap();
    let params = sidepool_model::loop_swap::LoopModel::new(cfg).client_params();
    let n = replay::replay(&file, Some(params), None);
    assert!(n > 10, "{n} steps");
    // With the client the adversary there is no honest machine to replay.
    let r = check(&["swap=in", "confirm_blocks=11", "adversary=client", "crashes=0"]);
    let p = r.result(loop_in::IN_HONEST_SERVER_PAID).unwrap();
    assert_eq!(p.verdict, Verdict::Violated);
    assert!(p.vectors.is_none());
}

#[test]
fn loop_in_counterexamples_export_as_replayable_loop_scripts() {
    let r = check(&["swap=in", "mutant=key_on_final_invoice", "adversary=server", "crashes=0"]);
    let file = r.result(loop_in::IN_CLIENT_LOSS_BOUNDED).and_then(|p| p.vectors.as_ref()).expect("exported").to_json();
    assert_eq!(file["testGroups"][0]["machine"], "loop_in_client");
    let steps = &file["testGroups"][0]["tests"][0]["steps"];
    assert!(steps.as_array().unwrap().iter().any(|s| s["event"]["type"] == "invoice_canceled"));
    let cfg = sidepool_model::loop_swap::Config::from_settings(&Loop.settings(None, &["swap=in".into()]).unwrap()).unwrap();
    let params = sidepool_model::loop_swap::LoopInModel::new(cfg).client_params();
    assert!(replay::replay(&file, None, Some(params)) >= 5);
}
