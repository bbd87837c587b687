//! The committed vector files are the truth: every one passes against the
//! reference, lints clean, and matches what its generator would write.

use sidepool_conformance::vectors;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("vectors")
}

#[test]
fn every_vector_passes() {
    let files = vectors::discover(&[root()]).unwrap();
    let mut out = Vec::new();
    let totals = vectors::check_all(&files, &mut out, false).unwrap();
    let report = String::from_utf8_lossy(&out);
    assert_eq!(totals.failed, 0, "{report}");
    assert!(totals.passed >= 300, "only {} cases ran", totals.passed);
}

#[test]
fn every_vector_file_lints_clean() {
    let files = vectors::discover(&[root()]).unwrap();
    let problems = vectors::lint(&files, &root().join("schema"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn generated_wire_vectors_are_current() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/gen/wire_vectors.py");
    let out = std::process::Command::new("python3").arg(&script).arg("--check").output().expect("python3 runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// A lint that finds nothing on broken input is no lint: break a copy of a file
/// in every way the lint claims to catch.
#[test]
fn lint_catches_each_kind_of_problem() {
    let dir = std::env::temp_dir().join(format!("sidepool-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let original = std::fs::read_to_string(root().join("wire/bigsize.yaml")).unwrap();
    let cases = [
        ("count", original.replacen("numberOfTests: ", "numberOfTests: 1", 1), "numberOfTests"),
        ("dup", original.replacen("tcId: 2,", "tcId: 1,", 1).replacen("tcId: 2\n", "tcId: 1\n", 1), "not unique"),
        ("upper", original.replacen("\"fd00fd\"", "\"FD00FD\"", 1), "lowercase"),
        ("flag", original.replacen("[\"Minimal\"]", "[\"Undeclared\"]", 1), "no entry in notes"),
        ("result", original.replacen("result: \"valid\"", "result: \"maybe\"", 1), "maybe"),
    ];
    for (name, text, expect) in cases {
        assert_ne!(text, original, "mutation {name} changed nothing");
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let problems = vectors::lint(&[path], &root().join("schema"));
        assert!(problems.iter().any(|p| p.contains(expect)), "{name}: {problems:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
