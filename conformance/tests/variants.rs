//! The suite fails no conforming implementation: the reference node taking any
//! other choice the spec allows (`node --variant NAME`) fails no MUST case and
//! errs on none. Findings on the choices themselves are `informational` (a MAY
//! or a reading) or `non_strict` (a SHOULD), never `fail`.

use clap::ValueEnum;
use sidepool_conformance::node::variants::Variant;
use sidepool_conformance::runner::case;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, RunOptions, TargetSpec};
use std::path::Path;
use std::time::Duration;

fn failures(variant: Variant) -> Vec<String> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let cases: Vec<_> = case::load_dir(dir).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect();
    let refs: Vec<&case::Case> = cases.iter().collect();
    let opts = RunOptions { filters: Vec::new(), spec: Default::default(), embedded_spec: None, default_wait: Duration::from_millis(1500), case_limit: Duration::from_secs(30), known_failures: Vec::new() };
    let results = run_cases(&refs, &mut TargetSpec::EmbeddedVariant(variant), &opts, |_, _| {});
    results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| format!("{} {}: {}", r.verdict.name(), r.case.id, r.reason.clone().unwrap_or_default()))
        .collect()
}

macro_rules! conforms {
    ($($name:ident => $variant:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let bad = failures($variant);
                assert!(bad.is_empty(), "{:?} is a conforming variant, yet:\n{}", $variant, bad.join("\n"));
            }
        )*

        /// Every variant the node knows has a test above.
        #[test]
        fn every_variant_is_tested() {
            let tested = [$($variant),*];
            for v in Variant::value_variants() {
                assert!(tested.contains(v), "{v:?} has no conforms! entry");
            }
        }
    };
}

conforms! {
    reject_code_65535 => Variant::RejectCode65535,
    no_reason_text => Variant::NoReasonText,
    always_split => Variant::AlwaysSplit,
    no_receiver_split_check => Variant::NoReceiverSplitCheck,
    round_up => Variant::RoundUp,
    reversed_checks => Variant::ReversedChecks,
    late_timers => Variant::LateTimers,
    never_forward => Variant::NeverForward,
    fulfil_late_htlcs => Variant::FulfilLateHtlcs,
}

/// A variant takes a choice the cases can see: each differs from the reference
/// somewhere (a finding, or a capability it lacks), so none is vacuous.
#[test]
fn the_choices_are_visible_to_the_suite() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let cases: Vec<_> = case::load_dir(dir).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect();
    let refs: Vec<&case::Case> = cases.iter().filter(|c| c.id.starts_with("sp10.receiving.splits") || c.id.starts_with("sp10.receiving.amount.1") || c.id.starts_with("sp10.forwardable")).collect();
    let opts = RunOptions { filters: Vec::new(), spec: Default::default(), embedded_spec: None, default_wait: Duration::from_millis(1500), case_limit: Duration::from_secs(30), known_failures: Vec::new() };
    for (variant, expected) in [
        (Variant::RejectCode65535, "sp10.receiving.amount.1"),
        (Variant::NoReceiverSplitCheck, "sp10.receiving.splits.2"),
        (Variant::NeverForward, "sp10.forwardable.implements-forwarding"),
    ] {
        let results = run_cases(&refs, &mut TargetSpec::EmbeddedVariant(variant), &opts, |_, _| {});
        let r = results.iter().find(|r| r.case.id == expected).unwrap();
        assert!(matches!(r.verdict, Verdict::Informational | Verdict::NonStrict), "{variant:?} on {expected}: {:?}", r.verdict);
    }
}
