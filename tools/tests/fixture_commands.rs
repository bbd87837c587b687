//! Every command on the small fixture repository in tests/fixtures/repo: a tiny
//! SIDEPOOL-10 at two revisions (seed, and upstream-50799b4: one sentence
//! reworded, one removed, one added, a definition's section removed, a link left
//! dangling), an own spec (LOOP-01), Rust files with good and bad quotes,
//! vectors and cases for one or both revisions, a definitions table, an ERRATA
//! waiver, extract allow-lists and an edited spec (4032 -> 4033).

use sidepool_reference::revision::SpecRevision::{self, Seed, Upstream50799b4};
use sidepool_spec_tools::cli::{run, SpecCommand};
use sidepool_spec_tools::coverage;
use sidepool_spec_tools::definitions;
use sidepool_spec_tools::extract;
use sidepool_spec_tools::impact::{self, ChangeKind, Target};
use sidepool_spec_tools::quotes::{self, SpecSet, Verdict};
use sidepool_spec_tools::requirements::{self, Index};
use sidepool_spec_tools::vectors;
use std::path::{Path, PathBuf};

const SEED_10: &str = "spec-mirror/sidepool/seed/10-peerswap-in-sidepool.md";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repo")
}

fn src_paths() -> Vec<PathBuf> {
    vec![repo().join("reference")]
}

fn seed_file() -> requirements::RequirementsFile {
    requirements::generate(&repo()).unwrap().into_iter().find(|f| f.revision == "seed").unwrap()
}

fn index() -> Index {
    Index::load(&repo()).unwrap().0
}

#[test]
fn fixture_requirements_file_is_up_to_date() {
    for file in requirements::generate(&repo()).unwrap() {
        let rev = SpecRevision::from_name(&file.revision).unwrap();
        let generated = requirements::render(&file).unwrap();
        let committed = std::fs::read_to_string(repo().join(requirements::requirements_file(rev))).unwrap();
        assert_eq!(committed, generated, "regenerate with `spec requirements --write` on the fixture repo");
    }
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
    let file = seed_file();
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
            ("sp10.paying.1", "MUST", true),
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

/// Ids across the two revisions: the same sentence keeps its id, a sentence reworded in place
/// keeps its id with the new text, a removed one is in the seed only, and a new sentence never
/// takes an id another revision used.
#[test]
fn ids_stay_with_their_sentences_across_revisions() {
    let files = requirements::generate(&repo()).unwrap();
    let (seed, up) = (&files[0], &files[1]);
    assert_eq!((seed.revision.as_str(), up.revision.as_str()), ("seed", "upstream-50799b4"));
    let at = |f: &requirements::RequirementsFile, id: &str| f.requirements.iter().find(|r| r.id == id).cloned();
    // Reworded in place: same id, each revision's text.
    let (a, b) = (at(seed, "sp10.success-path.1").unwrap(), at(up, "sp10.success-path.1").unwrap());
    assert_eq!(a.quote, "The ultimate offerrer MUST send `peerswap_success`.");
    assert_eq!(b.quote, "The ultimate offerrer MUST send `peerswap_success` at once.");
    assert_eq!(a.revisions, ["seed", "upstream-50799b4"]);
    assert_eq!(a.reworded_in, ["upstream-50799b4"]);
    assert!(at(seed, "sp10.initiating-peerswap.4").unwrap().reworded_in.is_empty());
    // Removed: in the seed only. Its positional id at upstream (5) goes to no other sentence.
    let removed = at(seed, "sp10.initiating-peerswap.5").unwrap();
    assert_eq!(removed.revisions, ["seed"]);
    assert!(at(up, "sp10.initiating-peerswap.5").is_none());
    let added = at(up, "sp10.initiating-peerswap.6").unwrap();
    assert_eq!(added.quote, "Forwarders MUST NOT reorder the HTLCs they forward.");
    assert_eq!(added.revisions, ["upstream-50799b4"]);
    // Unchanged sentences keep their ids (their lines move).
    assert_eq!(at(seed, "sp10.initiating-peerswap.4").unwrap().quote, at(up, "sp10.initiating-peerswap.4").unwrap().quote);
    assert!(at(up, "sp10.paying.1").unwrap().line < at(seed, "sp10.paying.1").unwrap().line);
}

#[test]
fn align_keeps_ids_under_insertion_and_never_reuses_one() {
    let scope = requirements::Scope { doc: "10", include: &[], exclude: &[] };
    let doc = sidepool_spec_tools::docs::doc("10").unwrap();
    let before = "T\n===\n\nS\n---\n\nA MUST a. B MUST b. C MUST c.\n";
    let after = "T\n===\n\nS\n---\n\nA MUST a. X MUST x. B MUST b, reworded. D MUST d.\n";
    let (old, _, _) = requirements::build_doc(doc, &scope, before);
    let (new, _, _) = requirements::build_doc(doc, &scope, after);
    let taken: std::collections::BTreeSet<String> = old.iter().map(|r| r.id.clone()).collect();
    let aligned = requirements::align(&old, new, &taken);
    let got: Vec<(&str, &str)> = aligned.iter().map(|r| (r.id.as_str(), r.quote.as_str())).collect();
    assert_eq!(
        got,
        vec![("sp10.s.1", "A MUST a."), ("sp10.s.4", "X MUST x."), ("sp10.s.2", "B MUST b, reworded."), ("sp10.s.5", "D MUST d.")]
    );
}

#[test]
fn own_spec_requirements_from_tagged_bullets() {
    let (own, problems) = requirements::own_requirements(&repo()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let got: Vec<(&str, &str, &str, Vec<String>)> =
        own.iter().map(|r| (r.id.as_str(), r.document.as_str(), r.level.as_str(), r.section.clone())).collect();
    assert_eq!(
        got,
        vec![
            ("loop.out.1", "LOOP-01", "MUST", vec!["Loop Out".to_string()]),
            ("loop.out.2", "LOOP-01", "SHOULD", vec!["Loop Out".to_string()]),
        ]
    );
    assert_eq!(own[0].quote, "The client MUST refuse the swap if the swap invoice's payment hash is not the swap hash it generated.");
    assert!(own[0].revisions.is_empty() && own[0].note.is_none());
    assert_eq!(own[1].note.as_deref(), Some("Reading: ours. The source sweeps early; the spec does not say when."));
    // Format problems are reported, not indexed silently.
    let bad = "LOOP-01 X\n===\n\n* **[loop.out.1]** The client refuses.\n* **[loop.out.2]** It MUST a. It MUST b.\n* **[Loop.Out]** The client MUST c.\n";
    let (reqs, problems) = requirements::build_own_doc("LOOP-01", bad);
    assert_eq!(reqs.len(), 2);
    let texts: Vec<&str> = problems.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts[0].contains("no RFC 2119 keyword") && texts[1].contains("more than one sentence") && texts[2].contains("`Loop.Out`"), "{texts:?}");
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
    let bad_rs = |l: usize| ("reference/src/bad.rs".to_string(), l);
    assert_eq!(bad, vec![bad_rs(1), bad_rs(2), bad_rs(3), bad_rs(6), bad_rs(7), bad_rs(8)]);
    match &checked[0].verdict {
        Verdict::Mismatch(Some(closest)) => {
            assert_eq!((closest.line, closest.revision), (52, Some(Seed)));
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
    assert_eq!(checked[3].verdict, Verdict::UnknownRevision);
    // `@upstream` names upstream-50799b4, whose text no longer says "the agreed amount".
    assert!(matches!(checked[4].verdict, Verdict::Mismatch(Some(ref c)) if c.revision == Some(Upstream50799b4)));
    let by = |file: &str, line: usize| checked.iter().find(|c| c.quote.file.ends_with(file) && c.quote.line == line).unwrap();
    // Unqualified quotes match every revision they can; pinned ones their own.
    assert_eq!(by("good.rs", 26).revisions(), [Seed, Upstream50799b4]);
    assert_eq!(by("good.rs", 23).revisions(), [Seed]);
    assert_eq!(by("good.rs", 25).revisions(), [Upstream50799b4]);
    // Our own spec: the quote is the sentence without its `**[id]**` tag.
    assert!(by("good.rs", 27).ok() && by("good.rs", 27).revisions().is_empty());
    insta::assert_snapshot!("fixture_quotes_report", quotes::report(&spec, &checked));
    insta::assert_snapshot!("fixture_quotes_by_revision", quotes::by_revision_report(&spec, &checked));
}

#[test]
fn quotes_command_exit_status() {
    let bad = SpecCommand::Quotes { paths: src_paths(), by_revision: false };
    assert_eq!(run(&bad, &repo()), 1);
    let good = SpecCommand::Quotes {
        paths: vec![repo().join("reference/src/good.rs")],
        by_revision: true,
    };
    assert_eq!(run(&good, &repo()), 0);
}

#[test]
fn every_fixture_requirement_quote_checks_against_its_spec() {
    let spec = SpecSet::load(&repo()).unwrap();
    for file in requirements::generate(&repo()).unwrap() {
        for r in &file.requirements {
            for text in [r.quote.clone(), r.quote_with_context()] {
                let q = quotes::Quote {
                    file: "index".into(),
                    line: r.line,
                    doc: "SIDEPOOL-10".into(),
                    revision: Some(file.revision.clone()),
                    text,
                    unterminated: false,
                };
                assert!(matches!(quotes::check_one(&spec, &q), Verdict::Matched(_)), "{} at {}", r.id, file.revision);
            }
        }
    }
}

#[test]
fn extract_tables_and_differences() {
    let src = std::fs::read_to_string(repo().join(SEED_10)).unwrap();
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
    let spec = Some(repo().join(SEED_10));
    let cmd = |allow: &str, vectors: &str| SpecCommand::Extract {
        specs: spec.iter().cloned().collect(),
        revisions: vec![],
        docs: vec![],
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
    let index = index();
    let spec = SpecSet::load(&repo()).unwrap();
    let checked = quotes::check_all(&spec, &quotes::scan_paths(&repo(), &src_paths()).unwrap());
    let (vecs, _) = vectors::load_dir(&repo(), &repo().join("vectors"));
    let (case_files, _) = vectors::load_dir(&repo(), &repo().join("conformance/cases"));
    let covers: Vec<_> = vecs.iter().flat_map(vectors::vector_covers).collect();
    let cases: Vec<_> = case_files.iter().flat_map(vectors::cases).collect();
    assert_eq!(cases.len(), 6);
    let errata = std::fs::read_to_string(repo().join("spec-mirror/ERRATA.md")).unwrap();
    let waivers = coverage::parse_waivers(&errata);
    let report = coverage::compute(&spec, Seed, &index, &checked, &covers, &cases, &waivers, &[]);
    assert_eq!(report.revision, "seed");

    let by_id = |id: &str| report.requirements.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        by_id("sp10.overview.1").code,
        vec!["reference/src/good.rs:3"]
    );
    assert!(!by_id("sp10.overview.1").tested());
    let one = by_id("sp10.initiating-peerswap.1");
    // good.rs:10 quotes it; bad.rs:1 (4033) does not count.
    assert_eq!(one.code, vec!["reference/src/good.rs:10"]);
    // A file-level `covers:` names no test: it counts for nothing.
    assert!(one.vectors.is_empty());
    assert_eq!(
        one.cases,
        vec!["conformance/cases/min-delta.yaml (acceptor-min-delta-boundary: step 1 expect_reject)"]
    );
    assert_eq!(one.status, coverage::Status::TestedAgainstIut);
    // A case naming a requirement without asserting it only declares it.
    let two_cases = &by_id("sp10.initiating-peerswap.2");
    assert_eq!(
        two_cases.cases,
        vec!["conformance/cases/min-delta.yaml (acceptor-min-delta-boundary: step 1 expect_reject)"]
    );
    assert_eq!(two_cases.declared, vec!["conformance/cases/min-delta.yaml (acceptor-min-delta)"]);
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
        vec!["conformance/cases/timeouts.yaml (acceptor-timeouts: step 3 expect_nothing)"]
    );
    // Graded as a reading: the case tests no requirement with it.
    assert!(by_id("sp10.initiating-peerswap.5").cases.is_empty());
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
    // Revision-specific tests count at their revision only; our own specs' requirements are listed.
    let paying = by_id("sp10.paying.1");
    assert_eq!(paying.code, vec!["reference/src/good.rs:24"]);
    assert_eq!(paying.cases, vec!["conformance/cases/paying.yaml (pays-the-agreed-amount: step 1 expect)"]);
    assert!(paying.vectors.is_empty(), "a file-level covers counts for nothing");
    let own = by_id("loop.out.1");
    assert_eq!((own.document.as_str(), own.code.clone()), ("LOOP-01", vec!["reference/src/good.rs:27".to_string()]));
    assert_eq!(own.cases, vec!["conformance/cases/paying.yaml (loop-refuses-a-foreign-hash: step 1 expect_nothing)"]);
    assert!(by_id("loop.out.2").code.is_empty());
    let must = &report.totals["MUST"];
    assert_eq!(
        (
            must.total,
            must.quoted,
            must.tested,
            must.complete,
            must.waived
        ),
        (7, 7, 6, 7, 1)
    );
    assert_eq!(must.complete_pct, 100.0);
    assert_eq!(report.totals["MUST NOT"].complete_pct, 0.0);
    insta::assert_snapshot!("fixture_coverage_markdown", coverage::markdown(&report));

    // At upstream: its own wording, quotes and tests; the removed SHOULD is gone, the new MUST NOT is there.
    let up = coverage::compute(&spec, Upstream50799b4, &index, &checked, &covers, &cases, &waivers, &[]);
    let by_up = |id: &str| up.requirements.iter().find(|r| r.id == id);
    let paying = by_up("sp10.paying.1").unwrap();
    assert_eq!(paying.quote, "The acceptor MUST pay the in-sidepool HTLC amount (see [Agreed Amount](#agreed-amount) and [fees][]).");
    assert_eq!(paying.code, vec!["reference/src/good.rs:25"]);
    assert_eq!(paying.cases, vec!["conformance/cases/paying.yaml (pays-the-in-sidepool-amount: step 1 expect)"]);
    assert!(paying.vectors.is_empty(), "the vector file applies to seed only");
    assert!(by_up("sp10.initiating-peerswap.5").is_none());
    assert_eq!(up.failing, vec!["sp10.overview.1", "sp10.initiating-peerswap.6"]);
}

#[test]
fn a_test_naming_an_id_its_revision_lacks_is_reported() {
    let index = index();
    let spec = SpecSet::load(&repo()).unwrap();
    let case = vectors::Case {
        file: "c.yaml".into(),
        id: "x".into(),
        requirement: Some("sp10.initiating-peerswap.5".into()),
        level: None,
        covers: vec![],
        assertions: vec![],
        revisions: vec![],
        depends_on: vec![],
    };
    let up = coverage::compute(&spec, Upstream50799b4, &index, &[], &[], std::slice::from_ref(&case), &[], &[]);
    assert_eq!(
        up.unknown_ids,
        vec!["sp10.initiating-peerswap.5 (in c.yaml case x; only in revision seed, and it applies to upstream-50799b4)"]
    );
    let seed = coverage::compute(&spec, Seed, &index, &[], &[], &[case], &[], &[]);
    assert!(seed.unknown_ids.is_empty());
}

#[test]
fn coverage_command_writes_reports_and_honours_no_fail() {
    let dir = std::env::temp_dir().join(format!("spec-tools-coverage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let md = dir.join("coverage.md");
    let json = dir.join("coverage.json");
    let cmd = |no_fail| SpecCommand::Coverage {
        revision: Some("seed".into()),
        all_revisions: false,
        markdown: Some(md.clone()),
        json: Some(json.clone()),
        no_fail,
    };
    assert_eq!(run(&cmd(false), &repo()), 1);
    assert_eq!(run(&cmd(true), &repo()), 0);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["totals"]["MUST"]["total"], 7);
    assert_eq!(v["revision"], "seed");
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
    let defs = definitions::load(&repo()).unwrap();
    let inputs = impact::Inputs {
        repo_root: &repo(),
        quotes: &found,
        covers: &covers,
        cases: &cases,
        vectors: &[],
        definitions: &defs,
        grep_files: &grep_files,
    };
    let doc = sidepool_spec_tools::docs::doc("10").unwrap();
    let report = impact::impact(Seed, &Target::Edited { doc, source: edited.clone() }, &inputs).unwrap();
    let d = report.document("SIDEPOOL-10").unwrap();

    assert_eq!(
        d.sentences.len(),
        1,
        "a small edit is one change, not remove + add"
    );
    assert!(d.sections.is_empty() && d.definitions.is_empty() && d.prose.is_empty());
    let c = &d.sentences[0];
    assert_eq!(c.kind, ChangeKind::Changed);
    assert_eq!(c.old_id.as_deref(), Some("sp10.initiating-peerswap.2"));
    assert_eq!(c.new_id.as_deref(), Some("sp10.initiating-peerswap.2"));
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
    assert_eq!(report.broken_quotes[0].at, "reference/src/good.rs:14");
    assert!(d.tlvs.is_empty());
    insta::assert_snapshot!("fixture_impact_4032_to_4033", impact::render(&report));

    let cmd = SpecCommand::Impact {
        spec: Some(repo().join("edited/10-peerswap-in-sidepool.md")),
        doc: "10".into(),
        from: Some("seed".into()),
        to: None,
        json: None,
    };
    assert_eq!(run(&cmd, &repo()), 0);
}

/// `--from seed --to upstream` on the fixture: the removed definition and everything that
/// depends on it (through `used_by` and `depends_on`), the reworded, removed and added
/// sentences, the removed section, the broken link and the pinned quotes.
#[test]
fn impact_between_revisions_names_the_removed_definition_and_its_dependents() {
    let report = sidepool_spec_tools::cli::impact_report(&repo(), Seed, &Target::Revision(Upstream50799b4)).unwrap();
    let d = report.document("SIDEPOOL-10").unwrap();
    let kinds: Vec<(ChangeKind, Option<&str>, Option<&str>)> =
        d.sentences.iter().map(|c| (c.kind, c.old_id.as_deref(), c.new_id.as_deref())).collect();
    assert_eq!(
        kinds,
        vec![
            (ChangeKind::Removed, Some("sp10.initiating-peerswap.5"), None),
            (ChangeKind::Changed, Some("sp10.success-path.1"), Some("sp10.success-path.1")),
            (ChangeKind::Changed, Some("sp10.paying.1"), Some("sp10.paying.1")),
            (ChangeKind::Added, None, Some("sp10.initiating-peerswap.6")),
        ]
    );
    let def = &d.definitions[0];
    assert_eq!((def.id.as_str(), def.kind), ("sp10.def.agreed-amount", ChangeKind::Removed));
    assert_eq!(def.touched.requirements, vec!["sp10.paying.1 (uses it)"]);
    assert_eq!(def.touched.code, vec!["reference/src/good.rs:23"]);
    assert_eq!(def.touched.cases, vec!["conformance/cases/paying.yaml (pays-the-agreed-amount) (covers sp10.paying.1; depends_on sp10.def.agreed-amount)"]);
    assert_eq!(def.touched.vectors, vec!["vectors/peerswap/paying.yaml (file) (covers sp10.paying.1; depends_on sp10.def.agreed-amount)"]);
    assert_eq!(d.sections.len(), 1);
    assert_eq!(d.sections[0].old.as_ref().unwrap().last().map(String::as_str), Some("Agreed Amount"));
    let links: Vec<(&str, &str)> = report.links.iter().map(|l| (l.target.as_str(), l.status.as_str())).collect();
    assert_eq!(links, vec![("#agreed-amount", "broken"), ("./02-transactions.md#fees", "still_dangling")]);
    let broken: Vec<(&str, bool)> = report.broken_quotes.iter().map(|q| (q.at.as_str(), q.pinned_to_old)).collect();
    assert_eq!(broken, vec![("reference/src/good.rs:23", true), ("reference/src/good.rs:24", true)]);
    assert_eq!(report.dependents.cases, vec!["pays-the-agreed-amount"]);
    insta::assert_snapshot!("fixture_impact_seed_to_upstream", impact::render(&report));
    insta::assert_json_snapshot!("fixture_impact_seed_to_upstream_json", report.dependents);
}

#[test]
fn definitions_check_finds_incomplete_and_unknown_records() {
    let index = index();
    let mut defs = definitions::load(&repo()).unwrap();
    let (case_files, _) = vectors::load_dir(&repo(), &repo().join("conformance/cases"));
    let cases: Vec<_> = case_files.iter().flat_map(vectors::cases).collect();
    let (status, problems) = definitions::check(&repo(), &defs, &index, &cases, &[]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(status[0].revisions, ["seed"]);
    assert_eq!(status[0].depended_on_by, ["conformance/cases/paying.yaml (pays-the-agreed-amount)"]);
    defs.definitions[0].used_by = vec!["sp10.nope.1".into()];
    defs.definitions[0].uses = vec!["sp10.def.nope".into()];
    let (_, problems) = definitions::check(&repo(), &defs, &index, &cases, &[]).unwrap();
    assert_eq!(
        problems,
        vec![
            "sp10.def.agreed-amount: uses unknown definition sp10.def.nope",
            "sp10.def.agreed-amount: used_by names sp10.nope.1, which no revision's index has",
            "sp10.def.agreed-amount: requirement sp10.paying.1 spells `agreed amount` but is not in used_by",
        ]
    );
    assert_eq!(run(&SpecCommand::Definitions, &repo()), 0);
}

#[test]
fn impact_reports_tlv_table_changes() {
    let pinned = std::fs::read_to_string(repo().join(SEED_10)).unwrap();
    let edited = pinned.replace(
        "`peerswap_accept_hash` (100202)\n      - Length: 32",
        "`peerswap_accept_hash` (100202)\n      - Length: 33",
    );
    let edited = edited.replace(
        "      - Length: N, 1 <= N <= 255\n      - Optional.",
        "      - Length: N, 1 <= N <= 255\n      - Required.",
    );
    let report = edited_impact(&edited);
    let tlvs: Vec<(Option<&str>, &str)> = report
        .documents[0]
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
    assert!(report.documents[0].sentences.is_empty());
}

fn edited_impact(edited: &str) -> impact::ImpactReport {
    let defs = definitions::DefinitionsFile::default();
    let inputs = impact::Inputs {
        repo_root: &repo(),
        quotes: &[],
        covers: &[],
        cases: &[],
        vectors: &[],
        definitions: &defs,
        grep_files: &[],
    };
    let doc = sidepool_spec_tools::docs::doc("10").unwrap();
    impact::impact(Seed, &Target::Edited { doc, source: edited.to_string() }, &inputs).unwrap()
}

#[test]
fn impact_tells_added_and_removed_from_changed() {
    let pinned = std::fs::read_to_string(repo().join(SEED_10)).unwrap();
    let edited = pinned
        .replace("The ultimate offerrer MUST send `peerswap_success`.", "")
        .replace(
            "TODO",
            "Forwarders MUST NOT reorder the HTLCs they forward on the Lightning Network.",
        );
    let report = edited_impact(&edited);
    let kinds: Vec<(&ChangeKind, Option<&str>, Option<&str>)> = report
        .documents[0]
        .sentences
        .iter()
        .map(|c| (&c.kind, c.old_id.as_deref(), c.new_id.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (&ChangeKind::Removed, Some("sp10.success-path.1"), None),
            // A new sentence never takes the id of the one removed.
            (&ChangeKind::Added, None, Some("sp10.success-path.2")),
        ]
    );
}
