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

/// `vectors check` runs each file under every revision it claims (`revisions:`, default all).
#[test]
fn each_file_runs_under_each_revision_it_claims() {
    let files = vectors::discover(&[root()]).unwrap();
    let mut out = Vec::new();
    let totals = vectors::check_all(&files, &mut out, true).unwrap();
    let report = String::from_utf8_lossy(&out);
    assert_eq!(totals.failed, 0, "{report}");
    for line in [
        "peerswap/ln_split_plans.yaml @seed: 27 cases, 0 failed",
        "peerswap/ln_split_plans_upstream.yaml @upstream-50799b4: 27 cases, 0 failed",
        "peerswap/session_scripts.yaml @seed: 30 cases, 0 failed",
        "peerswap/session_scripts_upstream.yaml @upstream-50799b4: 30 cases, 0 failed",
        "peerswap/ln_hold_sequences.yaml @seed: 17 cases, 0 failed",
        "peerswap/ln_hold_sequences.yaml @upstream-50799b4: 17 cases, 0 failed",
    ] {
        assert!(report.contains(line), "{line} missing from\n{report}");
    }
    assert!(!report.contains("ln_split_plans.yaml @upstream") && !report.contains("session_scripts.yaml @upstream"), "{report}");
    // A file at a revision it does not claim is not run, and an unknown revision is an error.
    let seed_only = root().join("peerswap/ln_split_plans.yaml");
    let r = vectors::check_file_at(&seed_only, sidepool_reference::SpecRevision::Upstream50799b4);
    assert!(r.error.as_deref().is_some_and(|e| e.contains("does not apply")), "{:?}", r.error);
    let dir = std::env::temp_dir().join(format!("sidepool-vec-rev-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, std::fs::read_to_string(root().join("wire/bigsize.yaml")).unwrap().replacen("kind:", "revisions: [draft]\nkind:", 1)).unwrap();
    let results = vectors::check_file_all(&bad);
    assert!(results[0].error.as_deref().is_some_and(|e| e.contains("unknown spec revision `draft`")), "{:?}", results[0].error);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The session-script twins: each file, run at the other revision, fails exactly the scripts in
/// which the revision's total decides what happens. The seed file at upstream: the acceptor pays
/// 30000000 msat, not 29500000 (1, 9, 13), and 29500000 msat no longer completes the offerrer's
/// hold (18) or the forwarder's (26, 29). The upstream file at seed: only the acceptor's payments
/// (1, 9, 13); 30000000 msat also completes a hold for 29500000. The others state amounts that
/// stay below either total (19, 30: the hold times out) or are failed at once (25).
#[test]
fn session_script_twins_fail_at_the_other_revision_exactly_where_amounts_are_paid() {
    use sidepool_reference::SpecRevision::{Seed, Upstream50799b4};
    for (name, other, expected) in
        [("session_scripts.yaml", Upstream50799b4, &[1, 9, 13, 18, 26, 29][..]), ("session_scripts_upstream.yaml", Seed, &[1, 9, 13][..])]
    {
        let file = vectors::VectorFile::load(&root().join("peerswap").join(name)).unwrap();
        let failing: Vec<u64> = file
            .tests()
            .into_iter()
            .filter(|(g, t)| vectors::kinds::evaluate("session_script", other, g, t).unwrap().is_err())
            .map(|(_, t)| t["tcId"].as_u64().unwrap())
            .collect();
        assert_eq!(failing, expected, "{name} at {}", other.name());
    }
}
