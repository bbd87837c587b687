//! The committed codec vectors are what the generator writes: change
//! `src/lib.rs`, then rerun `cargo run -p lightningrod-ldk --bin lnrod-codec-vectors`.

use std::path::Path;

#[test]
fn committed_codec_vectors_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(lightningrod_ldk::CODEC_VECTORS);
    let committed = std::fs::read_to_string(&path).expect("the codec vectors are readable");
    let generated = lightningrod_ldk::codec_vector_file(&lightningrod_ldk::codec_cases()).expect("the cases build");
    assert!(committed == generated, "{} is stale: rerun the generator", path.display());
}
