//! The whole conformance suite against the embedded reference node (a fresh
//! node per case), and the wire-only part of it. Goal: the suite in at most 2 s.
//!
//! "Nothing happens" steps end at the quiescence barrier against the embedded
//! node (see conformance/CASES.md); `sidepool-conformance run --no-barrier`
//! shows the same suite waiting out every window instead.
//!
//!     nice -n 10 cargo bench -p sidepool-conformance --bench suite -- --warm-up-time 1 --measurement-time 3

use criterion::Criterion;
use sidepool_conformance::runner::case;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, select, RunOptions, TargetSpec};
use std::path::Path;
use std::time::Duration;

#[path = "support/ratio.rs"]
mod ratio;
use ratio::Ratios;

const GROUP: &str = "suite";

fn suite(c: &mut Criterion) -> usize {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let cases: Vec<_> = case::load_dir(dir).expect("cases load").into_iter().flat_map(|(_, f)| f.cases).collect();
    let opts = RunOptions { filters: Vec::new(), spec: Default::default(), embedded_spec: None, default_wait: Duration::from_secs(3), case_limit: Duration::from_secs(60), known_failures: Vec::new() };
    let mut group = c.benchmark_group(GROUP);
    group.sample_size(10);
    for (name, filters) in [("all_cases", vec![]), ("wire_only_sp01", vec!["sp01.".to_string()])] {
        let selected = select(&cases, &filters);
        group.bench_function(name, |b| {
            b.iter(|| {
                let results = run_cases(&selected, &mut TargetSpec::Embedded(None), &opts, |_, _| {});
                let failing: Vec<&str> = results.iter().filter(|r| r.verdict != Verdict::Pass).map(|r| r.case.id.as_str()).collect();
                assert!(failing.is_empty(), "cases that did not pass: {failing:?}");
            })
        });
    }
    group.finish();
    cases.len()
}

fn main() {
    let mut ratios = Ratios::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    let mut c = Criterion::default().configure_from_args();
    let n = suite(&mut c);
    c.final_summary();
    ratios.absolute(&format!("full suite ({n} cases) vs the embedded node"), (GROUP, "all_cases"), 2.0);
    ratios.print("The conformance suite against the embedded node:", ("time", ""));
}
