//! The in-Lightning HTLC vector files (vectors/peerswap/ln_*.yaml) against
//! their schemas and the reference, until the shared `vectors check` runs them.
//! Also checks the evaluators are not vacuous: a tampered expectation must fail.

use std::path::PathBuf;

use serde_json::Value;
use sidepool_conformance::vectors::kinds::evaluate;
use sidepool_reference::SpecRevision;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

fn tests_of(file: &Value) -> Vec<(&Value, &Value)> {
    let mut out = Vec::new();
    for g in file["testGroups"].as_array().unwrap() {
        for t in g["tests"].as_array().unwrap() {
            out.push((g, t));
        }
    }
    out
}

fn check_file(name: &str, kind: &str, min_tests: usize) {
    let file = load(&format!("vectors/peerswap/{name}.yaml"));
    let schema = load(&format!("vectors/schema/{kind}.schema.json"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&file).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name}: schema errors: {errors:#?}");
    assert_eq!(file["kind"], kind);

    let tests = tests_of(&file);
    assert!(tests.len() >= min_tests, "{name}: only {} tests", tests.len());
    assert_eq!(file["numberOfTests"].as_u64(), Some(tests.len() as u64), "{name}: numberOfTests");
    let notes = file["notes"].as_object().unwrap();
    // Each file is evaluated at every revision it applies to.
    let revisions = sidepool_conformance::vectors::revisions_of(&file).unwrap();
    let check = |g: &Value, t: &Value| -> Result<(), String> {
        for rev in &revisions {
            evaluate(kind, *rev, g, t).unwrap()?;
        }
        Ok(())
    };
    for (i, (g, t)) in tests.iter().enumerate() {
        assert_eq!(t["tcId"].as_u64(), Some(i as u64 + 1), "{name}: tcIds run 1..N in order");
        for f in t["flags"].as_array().unwrap() {
            assert!(notes.contains_key(f.as_str().unwrap()), "{name} tcId {}: flag {f} not in notes", i + 1);
        }
        if let Err(e) = check(g, t) {
            panic!("{name} tcId {}: {e}", i + 1);
        }
        // Flipping the verdict must be caught.
        let mut flipped = (*t).clone();
        let passes = t["result"] == "valid" || (t["result"] == "acceptable" && t.get("error").is_none());
        if passes {
            flipped["result"] = "invalid".into();
            flipped["error"] = "some_error".into();
        } else {
            flipped["result"] = "valid".into();
            flipped.as_object_mut().unwrap().remove("error");
        }
        assert!(check(g, &flipped).is_err(), "{name} tcId {}: flipped verdict passes", i + 1);
    }
    for n in notes.keys() {
        assert!(
            tests.iter().any(|(_, t)| t["flags"].as_array().unwrap().iter().any(|f| f == n)),
            "{name}: note {n} is used by no test"
        );
    }
}

#[test]
fn split_plans() {
    check_file("ln_split_plans", "ln_split_plan", 20);
    check_file("ln_split_plans_upstream", "ln_split_plan", 20);
}

/// The split twins: the same tcIds and inputs; the totals differ exactly where the seed taxed
/// (flag NoTax upstream), and each file needs its own revision (the seed file's tax inputs mean
/// nothing upstream, and the seed cannot compute a tax without them).
#[test]
fn split_plan_twins_differ_exactly_where_the_tax_matters() {
    let seed = load("vectors/peerswap/ln_split_plans.yaml");
    let up = load("vectors/peerswap/ln_split_plans_upstream.yaml");
    let (st, ut) = (tests_of(&seed), tests_of(&up));
    assert_eq!(st.len(), ut.len());
    for ((_, s), (_, u)) in st.iter().zip(&ut) {
        assert_eq!((s["tcId"].clone(), s["nominal_sat"].clone(), s["channels"].clone()), (u["tcId"].clone(), u["nominal_sat"].clone(), u["channels"].clone()));
        let differs = s.get("agreed_msat") != u.get("agreed_msat");
        let no_tax = u["flags"].as_array().unwrap().iter().any(|f| f == "NoTax");
        let taxed = s["total_offchain_fees_sat"].as_u64() != Some(0);
        assert_eq!(no_tax, taxed, "tcId {}: NoTax marks the tests the seed taxed", u["tcId"]);
        assert!(!differs || no_tax, "tcId {}: the totals differ without a tax", u["tcId"]);
    }
    let fails = |file: &Value, rev: SpecRevision| tests_of(file).iter().filter(|(g, t)| evaluate("ln_split_plan", rev, g, t).unwrap().is_err()).count();
    assert_eq!((fails(&seed, SpecRevision::Seed), fails(&up, SpecRevision::Upstream50799b4)), (0, 0));
    assert_eq!((fails(&seed, SpecRevision::Upstream50799b4), fails(&up, SpecRevision::Seed)), (27, 27));
}

#[test]
fn htlc_fields() {
    check_file("ln_htlc_fields", "ln_htlc_fields", 15);
    // Every rule has a case of its own.
    let file = load("vectors/peerswap/ln_htlc_fields.yaml");
    let schema = load("vectors/schema/ln_htlc_fields.schema.json");
    let names = schema["$defs"]["test"]["properties"]["error"]["enum"].as_array().unwrap().clone();
    for n in names {
        assert!(tests_of(&file).iter().any(|(_, t)| t["error"] == n), "no case for {n}");
    }
}

#[test]
fn hold_sequences() {
    check_file("ln_hold_sequences", "ln_hold_sequence", 10);
    // A tampered deadline must be caught.
    let file = load("vectors/peerswap/ln_hold_sequences.yaml");
    let (g, t) = tests_of(&file)[0];
    let mut t = t.clone();
    t["steps"][0]["expect"][0]["deadline"] = 161.into();
    assert!(evaluate("ln_hold_sequence", SpecRevision::Seed, g, &t).unwrap().is_err());
}

#[test]
fn tampered_split_part_is_caught() {
    let file = load("vectors/peerswap/ln_split_plans.yaml");
    let (g, t) = tests_of(&file)[4];
    let mut t = t.clone();
    t["parts"][0]["amount_msat"] = 3_333_666.into();
    assert!(evaluate("ln_split_plan", SpecRevision::Seed, g, &t).unwrap().is_err());
}
