//! The whole conformance suite against the embedded reference node (a fresh
//! node per case), and the wire-only part of it. Goal: the suite in under 2 s.
//!
//!     cargo bench -p sidepool-conformance --bench suite

use criterion::{criterion_group, criterion_main, Criterion};
use sidepool_conformance::runner::case;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, select, RunOptions, TargetSpec};
use std::path::Path;
use std::time::Duration;

fn suite(c: &mut Criterion) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let cases: Vec<_> = case::load_dir(dir).expect("cases load").into_iter().flat_map(|(_, f)| f.cases).collect();
    let opts = RunOptions { filters: Vec::new(), default_wait: Duration::from_secs(3), case_limit: Duration::from_secs(60), known_failures: Vec::new() };
    let mut group = c.benchmark_group("suite");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for (name, filters) in [("all cases", vec![]), ("wire-only (sp01)", vec!["sp01.".to_string()])] {
        let selected = select(&cases, &filters);
        group.bench_function(format!("{name}, {} cases", selected.len()), |b| {
            b.iter(|| {
                let results = run_cases(&selected, &mut TargetSpec::Embedded(None), &opts, |_, _| {});
                assert!(results.iter().all(|r| r.verdict == Verdict::Pass));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, suite);
criterion_main!(benches);
