//! Decode and encode of every sidepool message (the message vectors' valid cases).
//!
//!     cargo bench -p sidepool-conformance --bench codec

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use sidepool_reference::{Decoded, Message};
use std::hint::black_box;
use std::path::Path;

fn first_valid(name: &str) -> Vec<u8> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/messages")).join(format!("{name}.yaml"));
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("yaml");
    let hex = doc["testGroups"][0]["tests"][0]["hex"].as_str().expect("a valid case");
    hex::decode(hex).expect("hex")
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    for name in ["my_sidepool_features", "swap_party_begin", "peerswap_init", "peerswap_accept", "peerswap_lightning", "peerswap_success", "peerswap_reject"] {
        let bytes = first_valid(name);
        let Ok(Decoded::Known(message)) = Message::decode(&bytes) else { panic!("{name} decodes") };
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("decode {name}"), |b| b.iter(|| Message::decode(black_box(&bytes))));
        group.bench_function(format!("encode {name}"), |b| b.iter(|| black_box(&message).encode()));
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
