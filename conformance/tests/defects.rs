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
    persist_after_forward => Defect::PersistAfterForward,
    short_payment => Defect::ShortPayment,
    one_htlc_above_maximum => Defect::OneHtlcAboveMaximum,
    drop_malformed_init => Defect::DropMalformedInit,
    forward_hops_zero => Defect::ForwardHopsZero,
    forward_gap_below_2016 => Defect::ForwardGapBelow2016,
    copy_lightning_verbatim => Defect::CopyLightningVerbatim,
    wrong_cltv_expiry => Defect::WrongCltvExpiry,
    short_channel_id_in_onion => Defect::ShortChannelIdInOnion,
    drop_payment_secret => Defect::DropPaymentSecret,
    counts_htlcs_twice => Defect::CountsHtlcsTwice,
    clock_stopped => Defect::ClockStopped,
    clock_twice_as_fast => Defect::ClockTwiceAsFast,
    no_success_message => Defect::NoSuccessMessage,
    offers_when_not_valid => Defect::OffersWhenNotValid,
    offers_twice_per_party => Defect::OffersTwicePerParty,
    offers_the_imbalance => Defect::OffersTheImbalance,
    sidepool_timeout_4032 => Defect::SidepoolTimeout4032,
    fails_downstream_early => Defect::FailsDownstreamEarly,
    no_delete_before_accept_here => Defect::NoDeleteBeforeAcceptHere,
    no_lightning_record => Defect::NoLightningRecord,
    no_htlc_details_record => Defect::NoHtlcDetailsRecord,
    ignores_reject => Defect::IgnoresReject,
    inert => Defect::Inert,
}

/// An inert node (BOLT 1 and the feature exchange, nothing else) earns no pass
/// beyond the cases about exactly that: every case about the sidepool protocol
/// either fails or says the behaviour was not shown.
#[test]
fn an_inert_node_passes_only_what_it_really_does() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let cases: Vec<_> = case::load_dir(dir).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect();
    let refs: Vec<&case::Case> = cases.iter().collect();
    let opts = RunOptions { filters: Vec::new(), spec: Default::default(), embedded_spec: None, default_wait: Duration::from_millis(300), case_limit: Duration::from_secs(30), known_failures: Vec::new() };
    let results = run_cases(&refs, &mut TargetSpec::Embedded(Some(Defect::Inert)), &opts, |_, _| {});
    let passed: Vec<&str> = results.iter().filter(|r| r.verdict == Verdict::Pass).map(|r| r.case.id.as_str()).collect();
    let earned = [
        "sp01.feature-bit.init-sets-1263",
        "sp01.feature-set.sends-my-sidepool-features",
        "sp01.messaging.ping-answered",
        "sp01.messaging.unknown-odd-bolt-message-ignored",
        "sp01.messaging.unknown-even-bolt-message-fails-the-connection",
        "sp10.forwardable.implements-forwarding",
    ];
    let unearned: Vec<&&str> = passed.iter().filter(|id| !earned.contains(id)).collect();
    assert!(unearned.is_empty(), "an inert node passed {unearned:?}");
    assert!(results.iter().any(|r| r.verdict == Verdict::Fail));
}
