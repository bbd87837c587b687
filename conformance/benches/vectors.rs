//! `vectors check` over every vector file (the reference against all of them),
//! without the printing.
//!
//!     nice -n 10 cargo bench -p sidepool-conformance --bench vectors -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion};
use sidepool_conformance::vectors;

fn check_all(c: &mut Criterion) {
    let files = vectors::discover(&[vectors::default_root()]).expect("vector files");
    let mut sink = Vec::new();
    let totals = vectors::check_all(&files, &mut sink, false).expect("check");
    assert!(totals.passed > 0 && totals.failed == 0, "{totals:?}");
    let mut g = c.benchmark_group("vectors");
    g.sample_size(10);
    g.bench_function(format!("check all ({} files, {} cases)", files.len(), totals.passed), |b| {
        b.iter(|| {
            sink.clear();
            vectors::check_all(&files, &mut sink, false).expect("check")
        })
    });
    g.finish();
}

criterion_group!(benches, check_all);
criterion_main!(benches);
