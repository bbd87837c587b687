//! The tools on the real pinned texts and the real code of this repository.

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
    std::fs::read_to_string(root().join("spec-mirror/10-peerswap-in-sidepool.md")).unwrap()
}

#[test]
fn committed_requirements_file_matches_the_generator() {
    let generated = requirements::render(&requirements::generate(&root()).unwrap()).unwrap();
    let committed = std::fs::read_to_string(root().join(requirements::REQUIREMENTS_FILE)).unwrap();
    assert!(
        committed == generated,
        "spec-mirror/requirements.yaml is stale: run `sidepool-conformance spec requirements --write`"
    );
}

#[test]
fn requirement_counts_are_sane() {
    let file = requirements::generate(&root()).unwrap();
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
    let file = requirements::generate(&root()).unwrap();
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
    let file = requirements::generate(&root()).unwrap();
    for r in &file.requirements {
        let doc = r.document.trim_start_matches("SIDEPOOL-").to_string();
        for text in [r.quote.clone(), r.quote_with_context()] {
            let q = quotes::Quote {
                file: "index".into(),
                line: r.line,
                doc: doc.clone(),
                text,
                unterminated: false,
            };
            assert!(
                matches!(quotes::check_one(&spec, &q), Verdict::Matched(_)),
                "{} does not check",
                r.id
            );
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
        implemented_only: false,
        allow: None,
        vectors: None,
        tables: false,
    };
    assert_eq!(run(&cmd, &root()), 0);
    let cmd = SpecCommand::Extract {
        specs: vec![
            root().join("spec-mirror/01-overview-and-conventions.md"),
            root().join("spec-mirror/04-swap-party.md"),
        ],
        implemented_only: true,
        allow: None,
        vectors: None,
        tables: false,
    };
    assert_eq!(run(&cmd, &root()), 0);
}

#[test]
fn sidepool_04_tables_show_the_slips() {
    let src = std::fs::read_to_string(root().join("spec-mirror/04-swap-party.md")).unwrap();
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
    let report = quotes::report(&checked);
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
        doc: "10".into(),
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
    let file = requirements::generate(&root()).unwrap();
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
