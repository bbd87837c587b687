//! Every command on the small fixture repository in tests/fixtures/repo: a tiny
//! SIDEPOOL-10, Rust files with good and bad quotes, vectors, cases, an
//! ERRATA waiver, extract allow-lists and an edited spec (4032 -> 4033).

use sidepool_spec_tools::cli::{run, SpecCommand};
use sidepool_spec_tools::coverage;
use sidepool_spec_tools::extract;
use sidepool_spec_tools::impact::{self, ChangeKind};
use sidepool_spec_tools::quotes::{self, SpecSet, Verdict};
use sidepool_spec_tools::requirements;
use sidepool_spec_tools::vectors;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repo")
}

fn src_paths() -> Vec<PathBuf> {
    vec![repo().join("reference")]
}

#[test]
fn fixture_requirements_file_is_up_to_date() {
    let generated = requirements::render(&requirements::generate(&repo()).unwrap()).unwrap();
    let committed = std::fs::read_to_string(repo().join(requirements::REQUIREMENTS_FILE)).unwrap();
    assert_eq!(
        committed, generated,
        "regenerate with `spec requirements --write` on the fixture repo"
    );
    assert_eq!(
        run(
            &SpecCommand::Requirements {
                write: false,
                check: true
            },
            &repo()
        ),
        0
    );
}

#[test]
fn fixture_requirements_ids_levels_and_context() {
    let file = requirements::generate(&repo()).unwrap();
    let got: Vec<(&str, &str, bool)> = file
        .requirements
        .iter()
        .map(|r| (r.id.as_str(), r.level.as_str(), r.normative))
        .collect();
    assert_eq!(
        got,
        vec![
            ("sp10.overview.1", "MUST NOT", true),
            ("sp10.initiating-peerswap.1", "MUST", true),
            ("sp10.initiating-peerswap.2", "MUST", true),
            ("sp10.initiating-peerswap.3", "MUST", true),
            ("sp10.initiating-peerswap.4", "MUST", true),
            ("sp10.initiating-peerswap.n1", "MUST", false),
            ("sp10.initiating-peerswap.5", "SHOULD", true),
            ("sp10.success-path.1", "MUST", true),
        ]
    );
    let four = &file.requirements[4];
    assert_eq!(
        four.context.as_deref(),
        Some("The acceptor: ... MUST check that:")
    );
    assert_eq!(four.line, 60);
    assert_eq!(file.non_normative.len(), 1);
    assert_eq!(file.non_normative[0].kind, "rationale");
}

#[test]
fn quotes_report_matches_mismatches_and_closest_passage() {
    let spec = SpecSet::load(&repo()).unwrap();
    let found = quotes::scan_paths(&repo(), &src_paths()).unwrap();
    let checked = quotes::check_all(&spec, &found);
    let bad: Vec<(String, usize)> = checked
        .iter()
        .filter(|c| !c.ok())
        .map(|c| (c.quote.file.clone(), c.quote.line))
        .collect();
    assert_eq!(
        bad,
        vec![
            ("reference/src/bad.rs".to_string(), 1),
            ("reference/src/bad.rs".to_string(), 2),
            ("reference/src/bad.rs".to_string(), 3),
        ]
    );
    match &checked[0].verdict {
        Verdict::Mismatch(Some(closest)) => {
            assert_eq!(closest.line, 52);
            assert!(
                closest.text.ends_with("current blockheight + 4032 + 1."),
                "{}",
                closest.text
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert_eq!(checked[1].verdict, Verdict::UnknownDocument);
    assert_eq!(checked[2].verdict, Verdict::Unterminated);
    insta::assert_snapshot!("fixture_quotes_report", quotes::report(&checked));
}

#[test]
fn quotes_command_exit_status() {
    let bad = SpecCommand::Quotes { paths: src_paths() };
    assert_eq!(run(&bad, &repo()), 1);
    let good = SpecCommand::Quotes {
        paths: vec![repo().join("reference/src/good.rs")],
    };
    assert_eq!(run(&good, &repo()), 0);
}

#[test]
fn every_fixture_requirement_quote_checks_against_its_spec() {
    let spec = SpecSet::load(&repo()).unwrap();
    let file = requirements::generate(&repo()).unwrap();
    for r in &file.requirements {
        for text in [r.quote.clone(), r.quote_with_context()] {
            let q = quotes::Quote {
                file: "index".into(),
                line: r.line,
                doc: "10".into(),
                text,
                unterminated: false,
            };
            assert!(
                matches!(quotes::check_one(&spec, &q), Verdict::Matched(_)),
                "{}",
                r.id
            );
        }
    }
}

#[test]
fn extract_tables_and_differences() {
    let src =
        std::fs::read_to_string(repo().join("spec-mirror/10-peerswap-in-sidepool.md")).unwrap();
    let (messages, notes) = extract::parse_messages(&src);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0].name.as_str(), messages[0].sub_id),
        ("peerswap_accept", 1002)
    );
    let reject = &messages[1];
    let text = reject
        .tlvs
        .iter()
        .find(|t| t.name == "peerswap_reject_reason_text")
        .unwrap();
    assert_eq!(text.typ, 109806);
    assert_eq!(text.required, Some(false));
    let code = reject
        .tlvs
        .iter()
        .find(|t| t.name == "peerswap_reject_reason_code")
        .unwrap();
    assert_eq!(code.required, None);

    let (loaded, errors) = vectors::load_dir(&repo(), &repo().join("vectors"));
    assert!(errors.is_empty());
    let fields: Vec<_> = loaded.iter().flat_map(vectors::message_fields).collect();
    let mut diffs = extract::self_check(&messages);
    diffs.extend(extract::diff_reference(
        &messages,
        sidepool_reference::messages::ALL,
        false,
    ));
    diffs.extend(extract::diff_vectors(&messages, &fields));
    let keys: Vec<&str> = diffs.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "peerswap_reject.peerswap_reject_reason_code.required-unmarked",
            "peerswap_reject.peerswap_reject_channel_view_msat.missing-in-spec",
            "peerswap_accept.peerswap_accept_pubkey.unknown-in-vectors",
        ]
    );
}

#[test]
fn extract_command_uses_the_allow_list() {
    let spec = Some(repo().join("spec-mirror/10-peerswap-in-sidepool.md"));
    let cmd = |allow: &str, vectors: &str| SpecCommand::Extract {
        specs: spec.iter().cloned().collect(),
        implemented_only: false,
        allow: Some(repo().join(allow)),
        vectors: Some(repo().join(vectors)),
        tables: true,
    };
    // The misspelt vector field is not explained: failure.
    assert_eq!(
        run(&cmd("spec-mirror/extract-allow.yaml", "vectors"), &repo()),
        1
    );
    // Without message vectors, everything left is allowed.
    assert_eq!(
        run(
            &cmd("spec-mirror/extract-allow.yaml", "vectors/peerswap"),
            &repo()
        ),
        0
    );
    // A partial allow-list leaves the missing TLV unexplained.
    assert_eq!(
        run(
            &cmd("spec-mirror/extract-allow-partial.yaml", "vectors/peerswap"),
            &repo()
        ),
        1
    );
}

#[test]
fn coverage_finds_quotes_vectors_cases_and_waivers() {
    let index = requirements::generate(&repo()).unwrap();
    let spec = SpecSet::load(&repo()).unwrap();
    let checked = quotes::check_all(&spec, &quotes::scan_paths(&repo(), &src_paths()).unwrap());
    let (vecs, _) = vectors::load_dir(&repo(), &repo().join("vectors"));
    let (case_files, _) = vectors::load_dir(&repo(), &repo().join("conformance/cases"));
    let covers: Vec<_> = vecs.iter().flat_map(vectors::vector_covers).collect();
    let cases: Vec<_> = case_files.iter().flat_map(vectors::cases).collect();
    assert_eq!(cases.len(), 3);
    let errata = std::fs::read_to_string(repo().join("spec-mirror/ERRATA.md")).unwrap();
    let waivers = coverage::parse_waivers(&errata);
    let report = coverage::compute(
        &spec,
        &index.requirements,
        &checked,
        &covers,
        &cases,
        &waivers,
    );

    let by_id = |id: &str| report.requirements.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        by_id("sp10.overview.1").code,
        vec!["reference/src/good.rs:3"]
    );
    assert!(!by_id("sp10.overview.1").tested());
    let one = by_id("sp10.initiating-peerswap.1");
    // good.rs:10 quotes it; bad.rs:1 (4033) does not count.
    assert_eq!(one.code, vec!["reference/src/good.rs:10"]);
    assert_eq!(one.vectors, vec!["vectors/peerswap/timeouts.yaml (file)"]);
    assert_eq!(
        one.cases,
        vec!["conformance/cases/min-delta.yaml (acceptor-min-delta-boundary)"]
    );
    let two = by_id("sp10.initiating-peerswap.2");
    assert_eq!(two.code, vec!["reference/src/good.rs:14"]);
    assert_eq!(two.vectors, vec!["vectors/peerswap/timeouts.yaml (tcId 1)"]);
    // One quote "MUST check that: ... The in-Lightning ..." covers the lead-in and the item.
    assert_eq!(
        by_id("sp10.initiating-peerswap.3").code,
        vec!["reference/src/good.rs:15"]
    );
    assert_eq!(
        by_id("sp10.initiating-peerswap.4").code,
        vec!["reference/src/good.rs:15"]
    );
    assert_eq!(
        by_id("sp10.initiating-peerswap.4").cases,
        vec!["conformance/cases/timeouts.yaml (acceptor-timeouts)"]
    );
    assert_eq!(
        by_id("sp10.success-path.1").waived_by.as_deref(),
        Some("E-99")
    );
    assert!(report
        .requirements
        .iter()
        .all(|r| r.id != "sp10.initiating-peerswap.n1"));

    assert_eq!(report.failing, vec!["sp10.overview.1"]);
    assert_eq!(
        report.unknown_ids,
        vec!["sp10.nonexistent.1 (in vectors/peerswap/timeouts.yaml tcId 2)"]
    );
    let must = &report.totals["MUST"];
    assert_eq!(
        (
            must.total,
            must.quoted,
            must.tested,
            must.complete,
            must.waived
        ),
        (5, 4, 4, 5, 1)
    );
    assert_eq!(must.complete_pct, 100.0);
    assert_eq!(report.totals["MUST NOT"].complete_pct, 0.0);
    insta::assert_snapshot!("fixture_coverage_markdown", coverage::markdown(&report));
}

#[test]
fn coverage_command_writes_reports_and_honours_no_fail() {
    let dir = std::env::temp_dir().join(format!("spec-tools-coverage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let md = dir.join("coverage.md");
    let json = dir.join("coverage.json");
    let cmd = |no_fail| SpecCommand::Coverage {
        markdown: Some(md.clone()),
        json: Some(json.clone()),
        no_fail,
    };
    assert_eq!(run(&cmd(false), &repo()), 1);
    assert_eq!(run(&cmd(true), &repo()), 0);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["totals"]["MUST"]["total"], 5);
    assert_eq!(v["failing"][0], "sp10.overview.1");
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .starts_with("# Requirement coverage"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn impact_of_one_changed_threshold_names_code_vectors_and_cases() {
    let edited = std::fs::read_to_string(repo().join("edited/10-peerswap-in-sidepool.md")).unwrap();
    let found = quotes::scan_paths(&repo(), &src_paths()).unwrap();
    let (vecs, _) = vectors::load_dir(&repo(), &repo().join("vectors"));
    let (case_files, _) = vectors::load_dir(&repo(), &repo().join("conformance/cases"));
    let covers: Vec<_> = vecs.iter().flat_map(vectors::vector_covers).collect();
    let cases: Vec<_> = case_files.iter().flat_map(vectors::cases).collect();
    let mut grep_files: Vec<(String, String)> = vecs
        .iter()
        .chain(case_files.iter())
        .map(|l| (l.file.clone(), l.text.clone()))
        .collect();
    for f in ["reference/src/good.rs", "reference/src/bad.rs"] {
        grep_files.push((
            f.to_string(),
            std::fs::read_to_string(repo().join(f)).unwrap(),
        ));
    }
    let inputs = impact::Inputs {
        repo_root: &repo(),
        quotes: &found,
        covers: &covers,
        cases: &cases,
        grep_files: &grep_files,
    };
    let report = impact::impact("10", &edited, &inputs).unwrap();

    assert_eq!(
        report.sentences.len(),
        1,
        "a small edit is one change, not remove + add"
    );
    let c = &report.sentences[0];
    assert_eq!(c.kind, ChangeKind::Changed);
    assert_eq!(c.old_id.as_deref(), Some("sp10.initiating-peerswap.2"));
    assert_eq!(c.changed_numbers, vec!["4032"]);
    assert_eq!(c.touched.code, vec!["reference/src/good.rs:14"]);
    assert_eq!(
        c.touched.vectors,
        vec!["vectors/peerswap/timeouts.yaml (tcId 1)"]
    );
    assert_eq!(
        c.touched.cases,
        vec![
            "conformance/cases/min-delta.yaml (acceptor-min-delta)",
            "conformance/cases/min-delta.yaml (acceptor-min-delta-boundary)"
        ]
    );
    let holders: Vec<&str> = c
        .touched
        .numbers
        .iter()
        .map(|s| s.split(": ").next().unwrap())
        .collect();
    assert!(
        holders.contains(&"vectors/peerswap/timeouts.yaml:13"),
        "{holders:?}"
    );
    assert!(
        holders.contains(&"conformance/cases/timeouts.yaml:4"),
        "{holders:?}"
    );
    assert!(holders.contains(&"reference/src/good.rs:7"), "{holders:?}");
    // 804032 is a different number.
    assert!(
        !holders.contains(&"vectors/peerswap/timeouts.yaml:11"),
        "{holders:?}"
    );
    assert_eq!(report.broken_quotes.len(), 1);
    assert!(report.broken_quotes[0].starts_with("reference/src/good.rs:14:"));
    assert!(report.tlvs.is_empty());
    insta::assert_snapshot!("fixture_impact_4032_to_4033", impact::render(&report));

    let cmd = SpecCommand::Impact {
        spec: repo().join("edited/10-peerswap-in-sidepool.md"),
        doc: "10".into(),
        json: None,
    };
    assert_eq!(run(&cmd, &repo()), 0);
}

#[test]
fn impact_reports_tlv_table_changes() {
    let pinned =
        std::fs::read_to_string(repo().join("spec-mirror/10-peerswap-in-sidepool.md")).unwrap();
    let edited = pinned.replace(
        "`peerswap_accept_hash` (100202)\n      - Length: 32",
        "`peerswap_accept_hash` (100202)\n      - Length: 33",
    );
    let edited = edited.replace(
        "      - Length: N, 1 <= N <= 255\n      - Optional.",
        "      - Length: N, 1 <= N <= 255\n      - Required.",
    );
    let inputs = impact::Inputs {
        repo_root: &repo(),
        quotes: &[],
        covers: &[],
        cases: &[],
        grep_files: &[],
    };
    let report = impact::impact("10", &edited, &inputs).unwrap();
    let tlvs: Vec<(Option<&str>, &str)> = report
        .tlvs
        .iter()
        .map(|t| (t.tlv.as_deref(), t.what.as_str()))
        .collect();
    assert_eq!(
        tlvs,
        vec![
            (Some("peerswap_accept_hash"), "length \"32\" -> \"33\""),
            (Some("peerswap_reject_reason_text"), "optional -> required"),
        ]
    );
    assert!(report.sentences.is_empty());
}

#[test]
fn impact_tells_added_and_removed_from_changed() {
    let pinned =
        std::fs::read_to_string(repo().join("spec-mirror/10-peerswap-in-sidepool.md")).unwrap();
    let edited = pinned
        .replace("The ultimate offerrer MUST send `peerswap_success`.", "")
        .replace(
            "TODO",
            "Forwarders MUST NOT reorder the HTLCs they forward on the Lightning Network.",
        );
    let inputs = impact::Inputs {
        repo_root: &repo(),
        quotes: &[],
        covers: &[],
        cases: &[],
        grep_files: &[],
    };
    let report = impact::impact("10", &edited, &inputs).unwrap();
    let kinds: Vec<(&ChangeKind, Option<&str>, Option<&str>)> = report
        .sentences
        .iter()
        .map(|c| (&c.kind, c.old_id.as_deref(), c.new_id.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (&ChangeKind::Removed, Some("sp10.success-path.1"), None),
            (&ChangeKind::Added, None, Some("sp10.success-path.1")),
        ]
    );
}
