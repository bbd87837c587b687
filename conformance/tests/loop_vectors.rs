//! LOOP-01's vectors (vectors/loop/): the committed files are what the independent
//! Python implementation (tools/gen/loop_vectors.py) writes, and the Rust reference
//! (loop-reference) passes every one of them. `tests/vectors.rs` runs and lints every
//! file under vectors/ as well; this file adds the Loop-specific checks.

use sidepool_conformance::vectors;
use std::path::{Path, PathBuf};

fn loop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("vectors").join("loop")
}

#[test]
fn generated_loop_vectors_are_current() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/gen/loop_vectors.py");
    let out = std::process::Command::new("python3").arg(&script).arg("--check").output().expect("python3 runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The Python implementation and the Rust reference agree on every Loop case, and
/// every kind is exercised.
#[test]
fn every_loop_vector_passes() {
    let files = vectors::discover(&[loop_dir()]).unwrap();
    let mut out = Vec::new();
    let totals = vectors::check_all(&files, &mut out, false).unwrap();
    assert_eq!(totals.failed, 0, "{}", String::from_utf8_lossy(&out));
    assert!(totals.passed >= 200, "only {} Loop cases ran", totals.passed);
    let kinds: std::collections::BTreeSet<String> =
        files.iter().filter_map(|f| vectors::VectorFile::load(f).ok()?.kind().map(str::to_owned)).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["loop_htlc", "loop_script", "loop_swap_state", "loop_terms"]);
}
