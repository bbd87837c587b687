//! BOLT 8 framed encrypt/decrypt (the runner's and node's transport) against
//! raw ChaCha20-Poly1305 on the same message bytes, in one group per message
//! size so each ratio is measured in the same run. Goal: framed >= 0.9x the
//! throughput of raw.
//!
//! Two raw baselines: `raw` is one AEAD call over the message (what the issue
//! asks to compare with); `raw2` is the two calls BOLT 8 itself requires per
//! frame (the 2-byte length, then the message), i.e. the floor any BOLT 8
//! implementation pays. For small messages the second call dominates, so the
//! ratio to `raw` cannot reach 0.9 there whatever the framing code does.
//!
//!     nice -n 10 cargo bench -p sidepool-conformance --bench transport -- --warm-up-time 1 --measurement-time 3

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use sidepool_conformance::transport::{Established, Initiator, PrivateKey, Responder};
use std::hint::black_box;
use std::path::Path;

#[path = "support/ratio.rs"]
mod ratio;
use ratio::{Goal, Ratios};

const SIZES: [usize; 3] = [64, 1024, 65535];

fn key(byte: u8) -> PrivateKey {
    PrivateKey::from_bytes([byte; 32]).expect("a valid key")
}

/// Both ends of one in-memory handshake: (initiator, responder).
fn established() -> (Established, Established) {
    let (initiator, act_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
    let (responder, act_two) = Responder::new(key(0x21)).recv_act_one(&act_one, key(0x22)).expect("act one");
    let (act_three, a) = initiator.recv_act_two(&act_two).expect("act two");
    (a, responder.recv_act_three(&act_three).expect("act three"))
}

fn nonce(n: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[4..].copy_from_slice(&n.to_le_bytes());
    out
}

fn group(size: usize) -> String {
    format!("bolt8_{size}B")
}

fn transport(c: &mut Criterion) {
    let raw = ChaCha20Poly1305::new(Key::from_slice(&[7u8; 32]));
    for size in SIZES {
        let message = vec![0x5au8; size];
        let (mut a, b) = established();
        let mut b = b;
        // Sanity: the framed pair works on this size.
        let frame = a.encryptor.encrypt(&message).expect("encrypt");
        assert_eq!(b.decryptor.decrypt_frame(&frame).expect("decrypt"), message);

        let mut g = c.benchmark_group(group(size));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter("framed_encrypt"), |bench| {
            bench.iter(|| a.encryptor.encrypt(black_box(&message)).expect("encrypt"))
        });
        g.bench_function(BenchmarkId::from_parameter("raw_encrypt"), |bench| {
            bench.iter(|| raw.encrypt(Nonce::from_slice(&nonce(1)), black_box(message.as_slice())).expect("encrypt"))
        });
        g.bench_function(BenchmarkId::from_parameter("raw2_encrypt"), |bench| {
            bench.iter(|| {
                let len = raw.encrypt(Nonce::from_slice(&nonce(1)), black_box(&(size as u16).to_be_bytes()[..])).expect("encrypt");
                let body = raw.encrypt(Nonce::from_slice(&nonce(2)), black_box(message.as_slice())).expect("encrypt");
                (len, body)
            })
        });

        // Framed decryption needs frames in nonce order: the untimed setup
        // encrypts the next one with the matching encryptor (a fresh pair: the
        // encryptor above has moved on).
        let (a, b) = established();
        let (mut tx, mut rx) = (a.encryptor, b.decryptor);
        g.bench_function(BenchmarkId::from_parameter("framed_decrypt"), |bench| {
            bench.iter_batched(
                || tx.encrypt(&message).expect("encrypt"),
                |frame| rx.decrypt_frame(black_box(&frame)).expect("decrypt"),
                BatchSize::SmallInput,
            )
        });
        let sealed = raw.encrypt(Nonce::from_slice(&nonce(1)), message.as_slice()).expect("encrypt");
        let sealed_len = raw.encrypt(Nonce::from_slice(&nonce(2)), &(size as u16).to_be_bytes()[..]).expect("encrypt");
        g.bench_function(BenchmarkId::from_parameter("raw_decrypt"), |bench| {
            bench.iter(|| raw.decrypt(Nonce::from_slice(&nonce(1)), black_box(sealed.as_slice())).expect("decrypt"))
        });
        g.bench_function(BenchmarkId::from_parameter("raw2_decrypt"), |bench| {
            bench.iter(|| {
                let len = raw.decrypt(Nonce::from_slice(&nonce(2)), black_box(sealed_len.as_slice())).expect("decrypt");
                let body = raw.decrypt(Nonce::from_slice(&nonce(1)), black_box(sealed.as_slice())).expect("decrypt");
                (len, body)
            })
        });
        g.finish();
    }
}

fn main() {
    let mut ratios = Ratios::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    let mut c = Criterion::default().configure_from_args();
    transport(&mut c);
    c.final_summary();
    for size in SIZES {
        let g = group(size);
        for op in ["encrypt", "decrypt"] {
            let framed = format!("framed_{op}");
            for base in ["raw", "raw2"] {
                let b = format!("{base}_{op}");
                ratios.ratio(&format!("{size} B {op}, framed vs {base}"), (&g, &b), (&g, &framed), Goal::AtLeast(0.9));
            }
        }
    }
    ratios.print("Framed throughput relative to raw ChaCha20-Poly1305 (raw time / framed time, same run):", ("raw", "framed"));
}
