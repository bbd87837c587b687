//! Runs every vectors/peerswap/*.yaml file: schema, numberOfTests, tcIds, flags
//! documented in `notes`, and each test against the reference evaluator.
//! (The lead's `vectors check` command does the same for all areas; this test
//! keeps the peerswap rule vectors honest on this branch.)

use serde_json::Value;
use sidepool_conformance::vectors::kinds::evaluator;
use std::path::Path;

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn peerswap_rule_vectors_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("vectors");
    let mut files: Vec<_> = std::fs::read_dir(root.join("peerswap")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in files.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let doc = load(file);
        let kind = doc["kind"].as_str().unwrap();
        if !kind.starts_with("peerswap_") {
            continue;
        }
        let check = evaluator(kind).unwrap();
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("schema").join(format!("{kind}.schema.json"))).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        for e in validator.iter_errors(&doc) {
            failures.push(format!("{}: schema: {e} at {}", file.display(), e.instance_path()));
        }
        let notes = doc["notes"].as_object().cloned().unwrap_or_default();
        let mut n = 0;
        for group in doc["testGroups"].as_array().unwrap() {
            for test in group["tests"].as_array().unwrap() {
                n += 1;
                assert_eq!(test["tcId"].as_u64(), Some(n), "{}: tcIds must run 1..N", file.display());
                for f in test["flags"].as_array().into_iter().flatten() {
                    assert!(notes.contains_key(f.as_str().unwrap()), "{}: flag {f} not in notes", file.display());
                }
                if let Err(e) = check(group, test) {
                    failures.push(format!("{} tcId {n} ({}): {e}", file.display(), test["comment"]));
                }
                checked += 1;
            }
        }
        assert_eq!(doc["numberOfTests"].as_u64(), Some(n), "{}: numberOfTests", file.display());
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 0);
}
