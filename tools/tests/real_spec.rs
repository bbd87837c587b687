//! The tools on the real pinned texts and the real code of this repository.

use sidepool_reference::revision::SpecRevision::{self, Seed, Upstream50799b4};
use sidepool_reference::wire::tlv::Length;
use sidepool_reference::wire::ErrorClass;
use sidepool_spec_tools::cli::{run, SpecCommand};
use sidepool_spec_tools::docs;
use sidepool_spec_tools::extract;
use sidepool_spec_tools::quotes::{self, SpecSet, Verdict};
use sidepool_spec_tools::requirements::{self, Scope};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn spec10() -> String {
    std::fs::read_to_string(root().join("spec-mirror/sidepool/seed/10-peerswap-in-sidepool.md")).unwrap()
}

fn seed_index() -> requirements::RequirementsFile {
    requirements::generate(&root()).unwrap().into_iter().find(|f| f.revision == "seed").unwrap()
}

#[test]
fn committed_requirements_file_matches_the_generator() {
    let files = requirements::generate(&root()).unwrap();
    let revs: Vec<&str> = files.iter().map(|f| f.revision.as_str()).collect();
    assert_eq!(revs, ["seed", "upstream-50799b4"]);
    for file in &files {
        let rev = SpecRevision::from_name(&file.revision).unwrap();
        let generated = requirements::render(file).unwrap();
        let committed = std::fs::read_to_string(root().join(requirements::requirements_file(rev))).unwrap();
        assert!(
            committed == generated,
            "{} is stale: run `sidepool-conformance spec requirements --write`",
            requirements::requirements_file(rev)
        );
    }
}

/// The seed -> upstream-50799b4 edit rewords four SIDEPOOL-10 requirements in place: they keep
/// their ids, every other id of every document is in both revisions with the same text.
#[test]
fn ids_are_stable_from_seed_to_upstream() {
    let files = requirements::generate(&root()).unwrap();
    let (seed, up) = (&files[0], &files[1]);
    let ids = |f: &requirements::RequirementsFile| f.requirements.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(seed), ids(up), "no requirement is added or removed, and the order is the same");
    let reworded: Vec<&str> = seed
        .requirements
        .iter()
        .zip(&up.requirements)
        .filter(|(a, b)| a.quote != b.quote || a.context != b.context)
        .map(|(a, _)| a.id.as_str())
        .collect();
    assert_eq!(
        reworded,
        [
            "sp10.offerring-in-lightning-htlcs.6",
            "sp10.offerring-in-lightning-htlcs.7",
            "sp10.accepting-in-lightning-htlcs.1",
            "sp10.success-path.1"
        ]
    );
    assert!(seed.requirements.iter().all(|r| r.revisions == ["seed", "upstream-50799b4"]));
    let marked: Vec<&str> = up.requirements.iter().filter(|r| r.reworded_in == ["upstream-50799b4"]).map(|r| r.id.as_str()).collect();
    assert_eq!(marked, reworded, "reworded_in says which revision rewords each");
}

#[test]
fn requirement_counts_are_sane() {
    let file = seed_index();
    // RFC 2119 keyword occurrences in SIDEPOOL-10's normative text (a "MUST NOT" wrapped across
    // two lines counts as MUST NOT; one "SHOULD" sits in a rationale block and is not counted).
    let k = &file.counts["SIDEPOOL-10"].keywords;
    assert_eq!(
        (
            k["MUST"],
            k["MUST NOT"],
            k["SHOULD"],
            k["SHOULD NOT"],
            k["MAY"]
        ),
        (81, 24, 12, 0, 18)
    );
    let r = &file.counts["SIDEPOOL-10"].requirements;
    assert!(r["MUST"] + r["MUST NOT"] >= 105, "{r:?}");
    assert!(file.counts.contains_key("SIDEPOOL-01") && file.counts.contains_key("SIDEPOOL-06"));

    let ids: HashSet<&str> = file.requirements.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), file.requirements.len(), "ids are unique");
    for id in [
        "sp10.initiating-peerswap.1",
        "sp01.sidepool-feature-bit.1",
        "sp06.secure-private-key-handover.2",
        "sp01.conventions.1",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    let nn = &file.non_normative;
    assert!(nn.iter().any(|n| n.kind == "section"
        && n.section.last().map(String::as_str) == Some("Forwardable Peerswap Algorithm")));
    assert!(nn.iter().filter(|n| n.kind == "rationale").count() >= 9);
    // Nothing from the non-normative algorithm section is normative.
    assert!(file
        .requirements
        .iter()
        .filter(|r| r.section.last().map(String::as_str) == Some("Forwardable Peerswap Algorithm"))
        .all(|r| !r.normative));
}

#[test]
fn lead_in_items_carry_their_context() {
    let file = seed_index();
    let r = file
        .requirements
        .iter()
        .find(|r| {
            r.quote
                .starts_with("At least one channel with the sender has funds owned by this node")
        })
        .unwrap();
    assert_eq!(r.level.as_str(), "MUST");
    assert_eq!(
        r.context.as_deref(),
        Some("The receiver of this message: ... MUST check that the `peerswap_init_amount_sat` was set such that:")
    );
    let slip = file
        .requirements
        .iter()
        .find(|r| r.id == "sp10.initiating-peerswap.3")
        .unwrap();
    assert_eq!(
        slip.quote,
        "`cltv_expiry` MUST be less than or equal to 2016."
    ); // ERRATA E-70
}

#[test]
fn every_requirement_quote_checks_against_its_spec() {
    let spec = SpecSet::load(&root()).unwrap();
    for file in requirements::generate(&root()).unwrap() {
        for r in &file.requirements {
            for text in [r.quote.clone(), r.quote_with_context()] {
                let q = quotes::Quote {
                    file: "index".into(),
                    line: r.line,
                    doc: r.document.clone(),
                    revision: Some(file.revision.clone()),
                    text,
                    unterminated: false,
                };
                assert!(
                    matches!(quotes::check_one(&spec, &q), Verdict::Matched(_)),
                    "{} does not check at {}",
                    r.id,
                    file.revision
                );
            }
        }
    }
}

#[test]
fn ids_are_stable_under_an_edit_in_another_section() {
    let doc = docs::doc("10").unwrap();
    let scope = Scope {
        doc: "10",
        include: &[],
        exclude: &[],
    };
    let (before, _, _) = requirements::build_doc(doc, &scope, &spec10());
    let edited = spec10().replace(
        "Sidepool participants SHOULD implement forwardable peerswaps in\nsidepools.",
        "Sidepool participants MUST log. Sidepool participants SHOULD implement forwardable peerswaps in\nsidepools.",
    );
    let (after, _, _) = requirements::build_doc(doc, &scope, &edited);
    assert_eq!(after.len(), before.len() + 1);
    for r in before
        .iter()
        .filter(|r| !r.id.starts_with("sp10.forwardable-peerswaps."))
    {
        let same = after.iter().find(|a| a.id == r.id).unwrap();
        assert_eq!(same.quote, r.quote, "{} moved", r.id);
    }
}

#[test]
fn real_spec_extract_matches_the_reference() {
    let (messages, notes) = extract::parse_messages(&spec10());
    assert!(notes.is_empty(), "{notes:?}");
    let names: Vec<(&str, u16, usize)> = messages
        .iter()
        .map(|m| (m.name.as_str(), m.sub_id, m.tlvs.len()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("peerswap_init", 1000, 8),
            ("peerswap_reject", 1098, 5),
            ("peerswap_accept", 1002, 3),
            ("peerswap_lightning", 1004, 4),
            ("peerswap_success", 1010, 3),
        ]
    );
    let lightning = &messages[3];
    let meta = &lightning.tlvs[3];
    assert_eq!(
        (meta.name.as_str(), meta.typ),
        ("peerswap_lightning_payment_metadata", 100406)
    );
    assert_eq!(meta.length, Some(Length::Range { min: 1, max: 16384 }));
    assert_eq!(meta.required, Some(false));
    let text = messages[1]
        .tlvs
        .iter()
        .find(|t| t.name == "peerswap_reject_reason_text")
        .unwrap();
    assert_eq!(text.length, Some(Length::Range { min: 1, max: 255 }));

    let mut diffs = extract::self_check(&messages);
    diffs.extend(extract::diff_reference(
        &messages,
        sidepool_reference::messages::ALL,
        false,
    ));
    let keys: Vec<&str> = diffs.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["peerswap_init.peerswap_init_hops.required-unmarked"]
    );
    let allow = extract::AllowList::parse(
        &std::fs::read_to_string(root().join(extract::ALLOW_FILE)).unwrap(),
    )
    .unwrap();
    assert!(allow.find(keys[0]).is_some());

    // ERRATA E-71: 100006 is unassigned, and the reference rejects it as an unknown even type.
    assert_eq!(
        extract::gaps(&messages),
        vec!["peerswap_init: even type 100006 is skipped (between 100004 and 100008)"]
    );
    let init = sidepool_reference::messages::def_by_name("peerswap_init").unwrap();
    assert!(init.tlv(100006).is_none());
    // type 100006 = 0xfe 0x00 0x01 0x86 0xa6 (BigSize), length 0.
    let err = init
        .read(&[0xfe, 0x00, 0x01, 0x86, 0xa6, 0x00], |_, _| Ok(()))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::UnknownEvenType);
}

#[test]
fn extract_command_passes_on_the_real_spec() {
    let cmd = SpecCommand::Extract {
        specs: vec![],
        revisions: vec![],
        docs: vec![],
        implemented_only: false,
        allow: None,
        vectors: None,
        tables: false,
    };
    assert_eq!(run(&cmd, &root()), 0);
    let cmd = SpecCommand::Extract {
        specs: vec![],
        revisions: vec![],
        docs: vec!["01".into(), "04".into()],
        implemented_only: true,
        allow: None,
        vectors: None,
        tables: false,
    };
    assert_eq!(run(&cmd, &root()), 0);
}

#[test]
fn sidepool_04_tables_show_the_slips() {
    let src = std::fs::read_to_string(root().join("spec-mirror/sidepool/seed/04-swap-party.md")).unwrap();
    let (messages, _) = extract::parse_messages(&src);
    let keys: Vec<String> = extract::self_check(&messages)
        .into_iter()
        .map(|d| d.key)
        .filter(|k| k.ends_with(".reserved-range"))
        .collect();
    assert_eq!(
        keys,
        vec![
            "swap_party_contract_request.swap_party_contract_request_newout.reserved-range",
            "swap_party_contract_request.swap_party_contract_request_nonces.reserved-range",
            "swap_party_contract_sign.swap_party_contract_sign_id.reserved-range",
            "swap_party_contract_sign.swap_party_contract_sign_signature.reserved-range",
        ]
    );
}

#[test]
fn every_quote_in_this_repository_matches() {
    let spec = SpecSet::load(&root()).unwrap();
    let paths: Vec<PathBuf> = quotes::DEFAULT_PATHS
        .iter()
        .map(|p| root().join(p))
        .filter(|p| p.exists())
        .collect();
    let found = quotes::scan_paths(&root(), &paths).unwrap();
    let checked = quotes::check_all(&spec, &found);
    let report = quotes::report(&spec, &checked);
    assert!(checked.iter().all(|c| c.ok()), "{report}");
}

#[test]
fn corrected_typos_are_quote_mismatches() {
    // ERRATA E-72: quotes keep the pinned spelling.
    let spec = SpecSet::load(&root()).unwrap();
    let fixed = "The receiver of this message MUST NOT forward the peerswap if the `peerswap_init_hops` value is 0.";
    let q = quotes::Quote {
        file: "x.rs".into(),
        line: 1,
        doc: "SIDEPOOL-10".into(),
        revision: None,
        text: fixed.into(),
        unterminated: false,
    };
    match quotes::check_one(&spec, &q) {
        Verdict::Mismatch(Some(closest)) => {
            assert_eq!(closest.line, 746);
            assert!(
                closest
                    .text
                    .contains("The receiver of this messsage MUST NOT forward"),
                "{}",
                closest.text
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    let pinned = quotes::Quote {
        text: fixed.replace("message", "messsage"),
        ..q
    };
    assert!(matches!(
        quotes::check_one(&spec, &pinned),
        Verdict::Matched(_)
    ));
}

#[test]
fn both_names_of_feature_bit_1263_are_one_bit() {
    // ERRATA E-73: `sidepool_bolt_feature_bit` and `sidepool_feature_bit` are the same bit 1263.
    let file = seed_index();
    let quote = |id: &str| {
        file.requirements
            .iter()
            .find(|r| r.id == id)
            .unwrap()
            .quote
            .clone()
    };
    assert!(quote("sp01.sidepool-feature-bit.1")
        .contains("feature bit 1263 (`sidepool_bolt_feature_bit`)"));
    assert!(quote("sp01.sidepool-feature-bit.2").contains("`sidepool_feature_bit` (1263)"));
    assert_eq!(
        sidepool_reference::wire::features::SIDEPOOL_BOLT_FEATURE_BIT,
        1263
    );
}

/// The real edit, seed -> upstream-50799b4: the full impact report, as text (snapshot) and in
/// its parts. The removed definition of the agreed-upon amount names every case, vector and code
/// quote that depends on it.
#[test]
fn impact_of_the_real_upstream_edit() {
    use sidepool_spec_tools::impact::{ChangeKind, Target};
    let report = sidepool_spec_tools::cli::impact_report(&root(), Seed, &Target::Revision(Upstream50799b4)).unwrap();
    let docs: Vec<&str> = report.documents.iter().map(|d| d.document.as_str()).collect();
    assert_eq!(docs, ["SIDEPOOL-02", "SIDEPOOL-04", "SIDEPOOL-10"], "01 and 06 are byte-identical");
    let d10 = report.document("SIDEPOOL-10").unwrap();
    let def = d10.definitions.iter().find(|d| d.id == "sp10.def.agreed-upon-amount").unwrap();
    assert_eq!(def.kind, ChangeKind::Removed);
    let cases = def.touched.cases.join("\n");
    for case in [
        "sp10.paying.agreed-amount-is-post-tax",
        "sp10.hold.completes-at-post-tax",
        "sp10.paying.fields",
        "sp10.paying.splits-under-own-maximum",
        "sp10.hold.holds-59s",
        "sp10.success.split-payment",
        "sp10.success.fulfil-and-handover",
    ] {
        assert!(cases.contains(&format!("({case})")), "{case} missing from\n{cases}");
    }
    let vectors = def.touched.vectors.join("\n");
    for v in ["vectors/peerswap/ln_split_plans.yaml (file)", "vectors/peerswap/session_scripts.yaml (file)", "vectors/peerswap/ln_hold_sequences.yaml (file)"] {
        assert!(vectors.contains(v), "{v} missing from\n{vectors}");
    }
    assert!(def.touched.code.contains(&"reference/src/peerswap/lightning_htlcs/amount.rs:63".to_string()), "{:?}", def.touched.code);
    let changed: Vec<&str> = d10.sentences.iter().map(|c| c.old_id.as_deref().unwrap_or("?")).collect();
    assert_eq!(
        changed,
        ["sp10.offerring-in-lightning-htlcs.6", "sp10.offerring-in-lightning-htlcs.7", "sp10.accepting-in-lightning-htlcs.1", "sp10.success-path.1"]
    );
    assert!(d10.sentences.iter().all(|c| c.kind == ChangeKind::Changed));
    let removed_sections: Vec<String> =
        report.documents.iter().flat_map(|d| d.sections.iter().filter(|s| s.kind == ChangeKind::Removed).map(|s| s.old.as_ref().unwrap().join(" / "))).collect();
    assert_eq!(
        removed_sections,
        [
            "Overview / Onchain Feerates / Onchain Fee Charge Distribution",
            "Protocol Flow Detail / In-Lightning HTLC Propagation / Agreed-upon Amount of In-Lightning HTLCs"
        ]
    );
    let tlvs: Vec<String> = report.document("SIDEPOOL-04").unwrap().tlvs.iter().map(|t| format!("{}.{}", t.message, t.tlv.as_deref().unwrap_or("-"))).collect();
    assert_eq!(tlvs, ["swap_party_expand_state.swap_party_expand_state_beneficiary", "swap_party_contract_state.swap_party_contract_state_beneficiary"]);
    // SIDEPOOL-10's link to 02-transactions.md#onchain-fee-charge-distribution resolves within the
    // seed revision (02 pinned at 9c4f495, which has the heading); the section and the link are
    // both gone upstream. No link of either revision dangles.
    assert!(report.links.is_empty(), "{:?}", report.links);
    insta::assert_snapshot!("real_impact_seed_to_upstream", sidepool_spec_tools::impact::render(&report));
}

#[test]
fn revision_notes_page_is_current() {
    let text = sidepool_spec_tools::notes::generate(&root(), Seed, Upstream50799b4).unwrap();
    let committed = std::fs::read_to_string(root().join(sidepool_spec_tools::notes::NOTES_FILE)).unwrap();
    assert!(committed == text, "docs/revision-notes.md is stale: run `sidepool-conformance spec revision-notes --write`");
    assert!(text.contains("### agreed-upon amount is gone (SIDEPOOL-10, `sp10.def.agreed-upon-amount`)"), "{text}");
}

#[test]
fn definitions_table_is_consistent_and_complete() {
    assert_eq!(run(&SpecCommand::Definitions, &root()), 0);
    let defs = sidepool_spec_tools::definitions::load(&root()).unwrap();
    let agreed = defs.get("sp10.def.agreed-upon-amount").unwrap();
    assert_eq!(sidepool_spec_tools::definitions::revisions_of(&root(), agreed).unwrap(), [Seed]);
}

#[test]
fn every_revision_directory_is_a_known_revision_with_provenance() {
    let dir = root().join("spec-mirror/sidepool");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["seed", "upstream-50799b4"]);
    for rev in SpecRevision::ALL {
        let prov = std::fs::read_to_string(dir.join(rev.name()).join("PROVENANCE.md")).unwrap();
        for (_, commit) in rev.documents() {
            assert!(prov.contains(&commit[..7]), "{}: PROVENANCE.md does not name {commit}", rev.name());
        }
        for d in docs::DOCS {
            assert!(dir.join(rev.name()).join(d.file).exists(), "{} lacks {}", rev.name(), d.file);
        }
    }
}
