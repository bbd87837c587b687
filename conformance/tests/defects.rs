//! The suite proves itself: the reference node started with each deliberate
//! defect fails at least one case (the defect-free node passes every case:
//! see runner.rs, `the_embedded_reference_passes_every_case_it_supports`).

use clap::ValueEnum;
use sidepool_conformance::node::defects::Defect;
use sidepool_conformance::runner::case;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, RunOptions, TargetSpec};
use std::path::Path;
use std::time::Duration;

/// The id of the first case the defective node fails, if any.
fn first_failure(defect: Defect) -> Option<String> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let cases: Vec<_> = case::load_dir(dir).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect();
    let opts = RunOptions { filters: Vec::new(), spec: Default::default(), embedded_spec: None, default_wait: Duration::from_millis(1500), case_limit: Duration::from_secs(30), known_failures: Vec::new() };
    let mut target = TargetSpec::Embedded(Some(defect));
    for case in &cases {
        let results = run_cases(&[case], &mut target, &opts, |_, _| {});
        if results.iter().any(|r| r.verdict == Verdict::Fail) {
            return Some(case.id.clone());
        }
    }
    None
}

macro_rules! caught {
    ($($name:ident => $defect:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let caught_by = first_failure($defect);
                assert!(caught_by.is_some(), "{:?} passed every case: the suite does not catch it", $defect);
            }
        )*

        /// Every defect the node knows has a test above.
        #[test]
        fn every_defect_is_tested() {
            let tested = [$($defect),*];
            for d in Defect::value_variants() {
                assert!(tested.contains(d), "{d:?} has no caught! entry");
            }
        }
    };
}

caught! {
    timeout_4031 => Defect::Timeout4031,
    accept_full_imbalance => Defect::AcceptFullImbalance,
    wrong_reject_code => Defect::WrongRejectCode,
    offerrer_view_in_reject => Defect::OfferrerViewInReject,
    answer_before_swap_party => Defect::AnswerBeforeSwapParty,
    accept_hops_over_10 => Defect::AcceptHopsOver10,
    silent_reject => Defect::SilentReject,
    everyone_is_a_participant => Defect::EveryoneIsAParticipant,
    count_all_channels => Defect::CountAllChannels,
    wrong_hash_in_accept => Defect::WrongHashInAccept,
    ignore_reserve => Defect::IgnoreReserve,
    cltv_delta_off_by_one => Defect::CltvDeltaOffByOne,
    no_hops_decrement => Defect::NoHopsDecrement,
    lightning_timeout_not_raised => Defect::LightningTimeoutNotRaised,
    forwarding_fee => Defect::ForwardingFee,
    hold_59_seconds => Defect::Hold59Seconds,
    wrong_handover_key => Defect::WrongHandoverKey,
    no_forward_record => Defect::NoForwardRecord,
}
