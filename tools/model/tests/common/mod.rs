//! What the expected-results tests of every system share: a bounded check that must finish,
//! and the readings of its report.
#![allow(dead_code)] // each test binary uses its own part

use std::time::Duration;

use sidepool_model::framework::{Bounds, CheckReport, PropertyKind, System, Verdict};

/// Single-threaded, at most `max_states` states and two minutes.
pub fn bounds(max_states: usize) -> Bounds {
    Bounds { max_states: Some(max_states), max_depth: None, timeout: Some(Duration::from_secs(120)), threads: 1 }
}

/// Checks `system` with `sets` (`NAME=VALUE`), single-threaded, within `max_states` states and
/// two minutes; a search the bounds cut short fails the test (its verdicts would say nothing).
pub fn check(system: &dyn System, sets: &[&str], max_states: usize) -> CheckReport {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let settings = system.settings(None, &sets).unwrap();
    let report = system.check(&settings, &bounds(max_states)).unwrap();
    assert!(report.cut.is_none(), "the search did not finish: {}", report.render());
    if std::env::var_os("MODEL_LOG").is_some() {
        eprintln!("--- {sets:?}\n{}", report.render());
    }
    report
}

pub fn verdict(r: &CheckReport, name: &str) -> Verdict {
    r.result(name).unwrap_or_else(|| panic!("no property {name}")).verdict.clone()
}

pub fn trace_text(r: &CheckReport, name: &str) -> String {
    r.result(name).and_then(|p| p.trace.as_ref()).map(|t| t.render()).unwrap_or_default()
}

/// Every safety property holds, and every reachability property is reached (so "holds" is not vacuous).
pub fn all_hold_and_are_not_vacuous(r: &CheckReport) {
    for p in &r.properties {
        match p.def.kind {
            PropertyKind::Safety => assert_eq!(p.verdict, Verdict::Holds, "{}:\n{}", p.def.name, r.render()),
            PropertyKind::Reachable => assert_eq!(p.verdict, Verdict::Reached, "vacuous {}:\n{}", p.def.name, r.render()),
            PropertyKind::Liveness => {}
        }
    }
    assert_eq!(r.exit_status(), 0);
}
