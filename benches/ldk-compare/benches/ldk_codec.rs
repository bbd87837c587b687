//! Decode and encode of every sidepool message: the reference codec against
//! LDK's TLV (de)serialisation of a struct with the same fields and TLV types
//! (see src/lib.rs for what each side does). Both in one group per message, so
//! every ratio is measured in the same run. Goal: ours >= 1.5x faster.
//!
//!     nice -n 10 cargo bench -p sidepool-ldk-compare --bench ldk_codec -- --warm-up-time 1 --measurement-time 3

use criterion::{BenchmarkId, Criterion};
use sidepool_ldk_compare::{sample, Ldk, MESSAGES};
use sidepool_reference::Message;
use std::hint::black_box;
use std::path::Path;

#[path = "../../../conformance/benches/support/ratio.rs"]
mod ratio;
use ratio::{Goal, Ratios};

fn group(name: &str) -> String {
    format!("ldk_codec_{name}")
}

fn codec(c: &mut Criterion) {
    for name in MESSAGES {
        let (ours_bytes, ours) = sample(name).expect("a valid vector");
        let ldk = Ldk::from_message(&ours);
        let ldk_bytes = ldk.encode();
        let mut g = c.benchmark_group(group(name));
        g.bench_function(BenchmarkId::from_parameter("ours_decode"), |b| b.iter(|| Message::decode(black_box(&ours_bytes))));
        g.bench_function(BenchmarkId::from_parameter("ldk_decode"), |b| b.iter(|| ldk.decode_like(black_box(&ldk_bytes))));
        g.bench_function(BenchmarkId::from_parameter("ours_encode"), |b| b.iter(|| black_box(&ours).encode()));
        g.bench_function(BenchmarkId::from_parameter("ldk_encode"), |b| b.iter(|| black_box(&ldk).encode()));
        g.finish();
    }
}

fn main() {
    let mut ratios = Ratios::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let mut c = Criterion::default().configure_from_args();
    codec(&mut c);
    c.final_summary();
    for name in MESSAGES {
        let g = group(name);
        for op in ["decode", "encode"] {
            let (ldk, ours) = (format!("ldk_{op}"), format!("ours_{op}"));
            ratios.ratio(&format!("{name} {op}"), (&g, &ldk), (&g, &ours), Goal::AtLeast(1.5));
        }
    }
    ratios.print("Speed-up of the reference codec over LDK (LDK time / ours, same run):", ("LDK", "ours"));
}
