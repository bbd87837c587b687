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

#[test]
fn committed_script_vectors_are_current() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/lightningrod/scripts.py");
    let out = std::process::Command::new("python3").arg(&script).arg("--check").output().expect("python3 runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
