//! The expected results of model checking BLOBSWAP-01 (issue 19, item 4), each in a bounded
//! configuration that runs in a debug build in seconds: every safety property holds with the
//! spec's safeguards and timing constraints; removing one gives a counterexample.
use sidepool_model::blobswap::{self, Blobswap};
use sidepool_model::framework::{self, CheckReport, PropertyKind, System, Verdict};

mod common;
use common::verdict;

fn violated(r: &CheckReport, name: &str) {
    assert!(matches!(verdict(r, name), Verdict::Violated), "{name} should be violated:\n{}", r.render());
    assert_eq!(r.exit_status(), 1);
    let trace = r.result(name).and_then(|p| p.trace.as_ref()).map(|t| t.render()).unwrap_or_default();
    assert!(trace.contains("=>"), "a readable trace:\n{trace}");
}

fn check(sets: &[&str]) -> CheckReport {
    common::check(&Blobswap, sets, 2_000_000)
}

#[test]
fn as_specified_every_safety_property_holds() {
    let r = check(&[]);
    for p in r.properties.iter().filter(|p| p.def.kind == PropertyKind::Safety) {
        assert_eq!(p.verdict, Verdict::Holds, "{}:\n{}", p.def.name, r.render());
    }
    assert_eq!(verdict(&r, blobswap::SWAP_CAN_COMPLETE), Verdict::Reached, "vacuous: {}", r.render());
    assert_eq!(verdict(&r, blobswap::SSP_CAN_BE_REFUNDED), Verdict::Reached, "vacuous: {}", r.render());
    assert_eq!(r.exit_status(), 0);
}

/// T1 removed (R = E - 1): a user that withholds the blob and claims late leaves the SSP
/// unable to settle before E: the user has the output and its payment fails back.
#[test]
fn without_the_refund_margin_the_ssp_loses() {
    let r = check(&["remove=refund_margin", "adversary=user"]);
    violated(&r, blobswap::SSP_SAFE);
}

/// T2 removed: an SSP that holds its funding back makes the user reveal too close to R; it
/// settles from the blob and refunds first.
#[test]
fn without_the_reveal_deadline_the_user_loses() {
    let r = check(&["remove=reveal_deadline", "adversary=ssp"]);
    violated(&r, blobswap::USER_SAFE);
}

/// Reading U3 (cancel when the window runs out) instead of blob.settle.4: the user claims after
/// the cancel.
#[test]
fn cancelling_before_the_refund_confirms_loses_the_output() {
    let r = check(&["remove=cancel_after_refund", "adversary=user"]);
    violated(&r, blobswap::SSP_SAFE);
}

fn holds(r: &CheckReport) {
    for p in r.properties.iter().filter(|p| p.def.kind == PropertyKind::Safety) {
        assert_eq!(p.verdict, Verdict::Holds, "{}:\n{}", p.def.name, r.render());
    }
    assert_eq!(r.exit_status(), 0);
}

/// blob.timing.4 removed: the SSP keeps waiting for a presignature and funds whenever it comes;
/// an adversarial user sends it late and claims at once, after the SSP can still settle.
#[test]
fn without_the_funding_deadline_the_ssp_loses() {
    let r = check(&["remove=funding_deadline", "adversary=user"]);
    violated(&r, blobswap::SSP_SAFE);
    holds(&check(&["adversary=user"]));
}

/// How much of blob.timing.4 S2 needs (the reading on it): with the deadline gone, an SSP that
/// funds at a tip below R (R = 114) is safe; funding at R is not.
#[test]
fn s2_needs_only_funding_before_r() {
    let probe = |latest: u32| {
        let settings = Blobswap.settings(None, &["remove=funding_deadline".into(), "adversary=user".into()]).unwrap();
        let mut m = blobswap::BlobswapModel::from_settings(&settings).unwrap();
        m.latest_presign = Some(latest);
        let r = framework::check(m, "blobswap", vec![], &common::bounds(2_000_000)).unwrap();
        assert!(r.cut.is_none(), "{}", r.render());
        r
    };
    // Our argument's bound, R - CHAIN_DELAY, and the model's exact one, R - 1: the refund goes out
    // at R and, once the funding has confirmed, it or the claim confirms by R + CHAIN_DELAY.
    holds(&probe(112));
    holds(&probe(113));
    // Funded at R: the funding may confirm at R + CHAIN_DELAY and the claim one block later.
    violated(&probe(114), blobswap::SSP_SAFE);
}

/// T0 removed (CONFIRMATION_PERIOD 0): the user reveals over a funding in the mempool; the SSP
/// settles from the blob and double-spends its funding.
#[test]
fn without_a_confirmation_period_the_user_loses() {
    let r = check(&["confirmation_period=0", "reorg_depth=0", "adversary=ssp"]);
    violated(&r, blobswap::USER_SAFE);
    holds(&check(&["confirmation_period=1", "reorg_depth=0", "adversary=ssp"]));
}

/// blob.conv.3: a CONFIRMATION_PERIOD no greater than the reorganisation depth lets the SSP undo
/// the funding after the reveal; one more confirmation holds (the default, 2 over depth 1).
#[test]
fn a_confirmation_period_within_the_reorg_depth_loses() {
    let r = check(&["confirmation_period=1", "reorg_depth=1", "adversary=ssp"]);
    violated(&r, blobswap::USER_SAFE);
    let r = check(&["confirmation_period=2", "reorg_depth=2", "adversary=ssp"]);
    violated(&r, blobswap::USER_SAFE);
    holds(&check(&["confirmation_period=3", "reorg_depth=2", "adversary=ssp"]));
}

/// blob.timing.7 is implied (our reading, BLOBSWAP-01 `blob.timing.7`): an SSP acting at every tip
/// pays out before R or never, and R + CHAIN_DELAY + SETTLE_MARGIN <= E. Nothing is violated without it.
#[test]
fn the_payout_margin_is_implied_by_t1_and_the_refund_at_r() {
    let r = check(&["remove=payout_margin"]);
    holds(&r);
    assert_eq!(verdict(&r, blobswap::SWAP_CAN_COMPLETE), Verdict::Reached, "vacuous: {}", r.render());
}

/// A counterexample becomes `blobswap_machine` vectors: one group per honest party, the setup
/// carries the removed safeguard and the role, and the steps are the reference machine's.
#[test]
fn a_counterexample_exports_as_blobswap_machine_vectors() {
    let r = check(&["remove=funding_deadline", "adversary=user"]);
    let file = r.result(blobswap::SSP_SAFE).and_then(|p| p.vectors.as_ref()).expect("vectors for the violation");
    assert_eq!(file.kind, "blobswap_machine");
    assert_eq!(file.groups.len(), 1, "only the SSP is honest");
    let g = &file.groups[0];
    assert_eq!(g.setup["role"], "ssp");
    assert_eq!(g.setup["remove"], "funding_deadline");
    let steps = &g.tests[0].steps;
    assert!(!steps.is_empty());
    let actions: Vec<&str> = steps.iter().flat_map(|s| s.expect.iter().filter_map(|a| a["action"].as_str())).collect();
    // The SSP funded late and could not settle: it funded, and never settled.
    assert!(actions.contains(&"broadcast_funding"), "{actions:?}");
    assert!(!actions.contains(&"cancel_invoice"), "{actions:?}");
    let yaml = file.to_yaml().unwrap();
    assert!(yaml.contains("kind: blobswap_machine") && yaml.contains("SafeguardRemoved"), "{yaml}");
}

/// Every sentence a property or parameter rests on is in BLOBSWAP-01 word for word.
#[test]
fn every_quote_is_in_the_spec() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec-mirror/blobswap/01-blobswap.md");
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let quotes = Blobswap.properties().into_iter().flat_map(|p| p.rests_on.iter().copied()).chain(Blobswap.parameters().iter().filter_map(|p| p.spec));
    let mut n = 0;
    for q in quotes {
        assert_eq!(q.doc, "BLOBSWAP-01");
        assert!(text.contains(q.text), "not in BLOBSWAP-01: {}", q.text);
        n += 1;
    }
    assert!(n >= 10);
}
