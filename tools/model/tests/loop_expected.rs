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
    let quoted = properties::DEFS.iter().flat_map(|p| p.rests_on.iter()).chain(params::PARAMS.iter().filter_map(|p| p.spec.as_ref()));
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
