//! The expected results of model checking SIDEPOOL-10 (issue 16), each in a bounded
//! configuration that runs in a debug build in seconds. What each one shows is in
//! tools/model/README.md, "Results"; the figures for bigger configurations are in
//! BENCHMARKS.md.

use sidepool_model::framework::{Bounds, CheckReport, PropertyKind, System, Verdict};
use sidepool_model::sidepool::{properties, Sidepool};

mod common;
use common::{trace_text, verdict};





fn all_safety_hold(r: &CheckReport) {
    for p in r.properties.iter().filter(|p| p.def.kind == PropertyKind::Safety) {
        assert_eq!(p.verdict, Verdict::Holds, "{}:\n{}", p.def.name, r.render());
    }
    assert_eq!(verdict(r, properties::SWAP_CAN_COMPLETE), Verdict::Reached, "vacuous: {}", r.render());
    assert_eq!(r.exit_status(), 0);
}

/// With the texts as written, an acceptor that accepts and then goes silent, and the
/// pool's abort, cost the honest offerrer its HTLC output for ever (ERRATA E-23).
fn check(sets: &[&str]) -> CheckReport {
    common::check(&Sidepool, sets, 3_000_000)
}

#[test]
fn as_written_the_offerrer_loses_its_htlc_output_e23() {
    let r = check(&["forwarders=0", "adversary=acceptor"]);
    assert_eq!(verdict(&r, properties::OFFERRER_REFUNDED), Verdict::Violated);
    assert_eq!(verdict(&r, properties::NO_HONEST_LOSS), Verdict::Violated);
    assert_eq!(verdict(&r, properties::KEY_AFTER_COMMITMENT), Verdict::Holds);
    assert_eq!(r.exit_status(), 1);
    let t = r.result(properties::OFFERRER_REFUNDED).and_then(|p| p.trace.clone()).unwrap();
    assert!(t.steps.len() <= 12, "a shortest counterexample: {}", t.render());
    let text = t.render();
    for part in ["A (adversary)", "sends peerswap_accept to O", "the sidepool aborts", "can be spent by: nobody", "the honest offerrer was not paid and its HTLC went to nobody"] {
        assert!(text.contains(part), "`{part}` missing from\n{text}");
    }
    insta::assert_snapshot!("e23_trace", text);
}

/// The default path (one forwarder, each participant in turn the adversary) finds it too.
#[test]
fn as_written_the_default_configuration_finds_e23() {
    let r = check(&[]);
    assert_eq!(verdict(&r, properties::OFFERRER_REFUNDED), Verdict::Violated);
    assert!(trace_text(&r, properties::OFFERRER_REFUNDED).contains("can be spent by: nobody"));
}

/// With E-23's fix every safety property holds: one forwarder, any adversary, a disconnect.
#[test]
fn with_the_e23_fix_every_safety_property_holds() {
    all_safety_hold(&check(&["script=fixed", "disconnects=1"]));
}

#[test]
fn with_the_e23_fix_two_forwarders_are_safe_too() {
    all_safety_hold(&check(&["script=fixed", "forwarders=2"]));
}

/// Below the worst-case abort (2160 blocks) plus an honest claim's confirmation (6) and the
/// block the swap party may take, an adversarial offerrer that was paid keeps its key and
/// takes the HTLC back with the timelock leaf before the acceptor's hashlock claim confirms.
#[test]
fn a_margin_below_the_abort_lets_a_paid_offerrer_take_the_htlc_back() {
    let r = check(&["forwarders=0", "script=fixed", "sidepool_timeout_margin=2165"]);
    assert_eq!(verdict(&r, properties::NO_HONEST_LOSS), Verdict::Violated);
    let text = trace_text(&r, properties::NO_HONEST_LOSS);
    for part in ["O (adversary)", "(Hashlock)", "went to O (Timelock)", "honest A ends"] {
        assert!(text.contains(part), "`{part}` missing from\n{text}");
    }
    // One block more and the acceptor's claim confirms first: 2166 = 2160 + 6.
    all_safety_hold(&check(&["forwarders=0", "script=fixed", "sidepool_timeout_margin=2166"]));
    // Without a block during the party, one less suffices.
    all_safety_hold(&check(&["forwarders=0", "script=fixed", "sidepool_timeout_margin=2165", "party_blocks=0"]));
    assert_eq!(
        verdict(&check(&["forwarders=0", "script=fixed", "sidepool_timeout_margin=2164", "party_blocks=0"]), properties::NO_HONEST_LOSS),
        Verdict::Violated
    );
}

/// The forwarder's 2016 gap is not what keeps the acceptor safe: with the acceptor out of
/// the Contraction Phase while it pays (our reading, ERRATA E-98), its own `cltv_delta`
/// check does, and no gap at all violates nothing.
#[test]
fn the_forward_gap_is_not_the_safety_margin() {
    all_safety_hold(&check(&["script=fixed", "forward_timelock_gap=0"]));
}

/// Under the literal reading (the acceptor joins the Contraction Phase until its payment
/// is fulfilled), an offerrer that fulfils just before the in-Lightning timeout leaves the
/// acceptor an abort of 2160 blocks that ends after the in-sidepool timeout: the 2016 gap
/// is below what it needs, and so is any lower one (ERRATA E-98).
#[test]
fn under_the_literal_contraction_reading_a_gap_of_2016_or_less_loses() {
    // The offerrer's in-Lightning timeout makes the forwarded gap exactly the limit.
    for gap in ["forward_timelock_gap=2016", "forward_timelock_gap=1000"] {
        let extra = if gap.ends_with("1000") { "adversary_final_cltv_delta=2000" } else { "adversary_final_cltv_delta=1977" };
        // No block during the party, so the forwarder forwards (the gap is exactly what it allows).
        let r = check(&["script=fixed", "acceptor_contraction=after_fulfilled", "adversary=offerrer", "party_blocks=0", extra, gap]);
        assert_eq!(verdict(&r, properties::NO_HONEST_LOSS), Verdict::Violated, "{gap}");
        let text = trace_text(&r, properties::NO_HONEST_LOSS);
        // The shortest run may end with the forwarder accepting (then it is the acceptor that loses).
        for part in ["completes the Contraction Phase", "learnt the preimage but holds no key", "went to O (Timelock)", " msat down"] {
            assert!(text.contains(part), "{gap}: `{part}` missing from\n{text}");
        }
    }
    // Our reading, same adversary: safe.
    all_safety_hold(&check(&["script=fixed", "adversary=offerrer", "adversary_final_cltv_delta=1977"]));
}

/// ERRATA E-97: an honest offerrer that crashes after sending peerswap_success and before
/// fulfilling (the text allows this order and gives it no restart rule) loses both sides;
/// fulfilling after a restart (E-97's proposal) keeps it whole.
#[test]
fn an_offerrer_crashing_between_success_and_fulfilment_loses_e97() {
    let r = check(&["forwarders=0", "script=fixed", "adversary=none", "crashes=1"]);
    assert_eq!(verdict(&r, properties::NO_HONEST_LOSS), Verdict::Violated);
    let text = trace_text(&r, properties::NO_HONEST_LOSS);
    for part in ["crashes right after carrying out its first action", "O: fulfils the HTLC from A (lost in the crash)", "(Keypath)", "honest O ends"] {
        assert!(text.contains(part), "`{part}` missing from\n{text}");
    }
    all_safety_hold(&check(&["forwarders=0", "script=fixed", "adversary=none", "crashes=1", "offerrer_restart=fulfil"]));
}

/// A forwarder whose `cltv_delta` does not cover an onchain claim's confirmation loses
/// (the model's races at work, not a finding: BOLT's own rule).
#[test]
fn a_forwarder_with_too_small_a_cltv_delta_is_not_covered() {
    let r = check(&["script=fixed", "cltv_delta=5"]);
    assert_eq!(verdict(&r, properties::FORWARDER_COVERED), Verdict::Violated);
    assert!(trace_text(&r, properties::FORWARDER_COVERED).contains("honest forwarder F1 paid"));
}

/// The revisions' amount rules: seed pays the post-tax amount, upstream the HTLC amount.
#[test]
fn the_revision_sets_the_amount_paid_in_lightning() {
    for (spec, msat) in [("seed", "199785000 msat"), ("upstream", "200000000 msat")] {
        let settings = Sidepool.settings(Some(spec), &["forwarders=0".into(), "script=fixed".into()]).unwrap();
        assert_eq!(settings.choice("revision"), Some(if spec == "seed" { "seed" } else { "upstream" }));
        let r = Sidepool.check(&settings, &common::bounds(3_000_000)).unwrap();
        assert_eq!(r.exit_status(), 0);
        let example = trace_text(&r, properties::SWAP_CAN_COMPLETE);
        assert!(example.contains(&format!("an HTLC of {msat}")), "{spec}:\n{example}");
    }
    assert!(Sidepool.settings(Some("upstream-50799b4"), &[]).is_ok());
    // A --set wins over the revision's setting.
    let s = Sidepool.settings(Some("upstream"), &["revision=seed".into()]).unwrap();
    assert_eq!(s.choice("revision"), Some("seed"));
}

#[test]
fn bad_settings_are_errors_not_panics() {
    let err = |sets: &[&str], rev: Option<&str>| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match Sidepool.settings(rev, &sets) {
            Err(e) => e,
            Ok(s) => Sidepool.check(&s, &common::bounds(3_000_000)).err().unwrap_or_default(),
        }
    };
    assert!(err(&["margin=1"], None).starts_with("unknown parameter `margin`; known: sidepool_timeout_margin,"));
    assert_eq!(err(&["forwarders=3"], None), "`forwarders=3`: outside 0..=2");
    assert_eq!(err(&["script=patched"], None), "`script=patched`: expected one of as_written|fixed");
    assert_eq!(err(&["forwarders=1", "adversary=forwarder2"], None), "`adversary=forwarder2` needs a path with that node; it has 1 forwarder(s)");
    assert_eq!(err(&[], Some("v2")), "unknown spec revision `v2`; known: seed, upstream, upstream-50799b4");
}

/// A search stopped by a bound establishes nothing it did not violate, and says so.
#[test]
fn a_search_cut_by_a_bound_establishes_nothing() {
    let settings = Sidepool.settings(None, &["script=fixed".into()]).unwrap();
    let b = Bounds { max_states: Some(2_000), ..common::bounds(3_000_000) };
    let r = Sidepool.check(&settings, &b).unwrap();
    assert!(r.cut.is_some());
    assert_eq!(verdict(&r, properties::NO_HONEST_LOSS), Verdict::NotEstablished);
    assert_eq!(r.exit_status(), 2);
    assert!(r.render().contains("the search stopped at its state bound"));
    assert_eq!(r.to_json()["complete"], false);
}

/// The same settings give the same search and the same counterexample.
#[test]
fn checks_are_deterministic() {
    let a = check(&["forwarders=0", "adversary=acceptor"]);
    let b = check(&["forwarders=0", "adversary=acceptor"]);
    assert_eq!((a.states, a.unique_states), (b.states, b.unique_states));
    assert_eq!(trace_text(&a, properties::NO_HONEST_LOSS), trace_text(&b, properties::NO_HONEST_LOSS));
}

#[test]
fn the_json_report_has_every_property_with_its_sentences() {
    let r = check(&["forwarders=0", "adversary=acceptor"]);
    let j = r.to_json();
    assert_eq!(j["system"], "sidepool");
    assert_eq!(j["complete"], true);
    assert_eq!(j["exit_status"], 1);
    assert!(j["states_explored"].as_u64().unwrap() > 100);
    let props = j["properties"].as_array().unwrap();
    assert_eq!(props.len(), properties::DEFS.len());
    let refunded = props.iter().find(|p| p["name"] == properties::OFFERRER_REFUNDED).unwrap();
    assert_eq!(refunded["verdict"], "violated");
    assert!(refunded["rests_on"][0]["text"].as_str().unwrap().contains("refund"));
    assert!(refunded["trace"]["steps"].as_array().unwrap().len() >= 8);
}
