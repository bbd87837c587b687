//! Replays every input kept under fuzz/regressions/<target>/ through the same
//! checks the fuzz targets run (fuzz/src/checks.rs, compiled in here), so CI
//! catches a regression without cargo-fuzz or libFuzzer.

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use sidepool_reference::messages::ALL;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn every_regression_input_passes_its_target_check() {
    let mut replayed = 0;
    // The committed seeds (fuzz/seeds/<target>/) are replayed the same way.
    let seeds = files_in(&fuzz_dir().join("seeds"));
    for dir in files_in(&fuzz_dir().join("regressions")).into_iter().chain(seeds) {
        if !dir.is_dir() {
            continue;
        }
        let target = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let check = checks::check_by_name(&target)
            .unwrap_or_else(|| panic!("fuzz/regressions/{target}/ names no fuzz target"));
        for file in files_in(&dir) {
            if file.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                continue;
            }
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check again", file.display());
            replayed += 1;
        }
    }
    // Regressions are added by fuzz/campaign.sh; an empty folder set is fine,
    // but the checks themselves must stay callable.
    eprintln!("replayed {replayed} fuzz regression inputs");
}

#[test]
fn every_fuzz_target_file_is_listed_and_vice_versa() {
    let mut on_disk: Vec<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = checks::TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for name in &listed {
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name} has no [[bin]] in fuzz/Cargo.toml");
    }
}

#[test]
fn there_is_a_decode_target_per_message() {
    for def in ALL {
        let name = format!("decode_{}", def.name);
        assert!(checks::check_by_name(&name).is_some(), "no fuzz target {name}");
    }
}

/// Parses the `"..."` value of each dictionary line (only `\xNN` escapes are used).
fn dictionary_entries() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(fuzz_dir().join("dict").join("sidepool.dict")).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && l.contains('"')) {
        let quoted = &line[line.find('"').unwrap() + 1..line.rfind('"').unwrap()];
        let mut bytes = Vec::new();
        let mut rest = quoted;
        while !rest.is_empty() {
            if let Some(hex) = rest.strip_prefix("\\x") {
                bytes.push(u8::from_str_radix(&hex[..2], 16).unwrap());
                rest = &hex[2..];
            } else {
                let c = rest.chars().next().unwrap();
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                rest = &rest[c.len_utf8()..];
            }
        }
        out.push(bytes);
    }
    out
}

#[test]
fn dictionary_covers_every_type_and_sub_id() {
    use sidepool_reference::wire::bigsize;
    use sidepool_reference::wire::envelope::SIDEPOOL_MESSAGE_ID;
    let dict = dictionary_entries();
    let has = |b: &[u8]| dict.iter().any(|e| e == b);
    assert!(has(&SIDEPOOL_MESSAGE_ID.to_be_bytes()));
    for prefix in [0xfd, 0xfe, 0xff] {
        assert!(has(&[prefix]), "BigSize prefix {prefix:#x}");
    }
    for def in ALL {
        assert!(has(&def.sub_id.to_be_bytes()), "sub-id of {}", def.name);
        for t in def.tlvs {
            assert!(has(&bigsize::to_vec(t.typ)), "TLV {} (type {})", t.name, t.typ);
        }
    }
}

#[test]
fn the_checks_accept_known_good_inputs() {
    // my_sidepool_features with bits {1, 2, 42} (conformance/src/cli/decode.rs).
    let msg = [0xd1, 0x69, 0x00, 0x65, 0xfd, 0x27, 0x74, 0x03, 0x01, 0x00, 0x27];
    checks::message_decode(&msg);
    checks::envelope(&msg);
    checks::decode_named("my_sidepool_features", &msg[4..]);
    checks::feature_set(&[0x01, 0x00, 0x27]);
    checks::bigsize(&[0xfd, 0x00, 0xfd]);
    checks::tlv_stream(&[0x00, 0x01, 0x01, 0xaa]);
    checks::decode_cli(b"d1690065fd277403010027");
    checks::vector_yaml(b"kind: bigsize\ntestGroups: [{tests: [{tcId: 1, encoded: zz}]}]\n");
    checks::roundtrip_message(&[0u8; 512]);
}

#[test]
fn the_checks_reject_a_broken_invariant() {
    // A check must fail loudly when its invariant breaks, or replaying proves nothing.
    let broken = std::panic::catch_unwind(|| {
        checks::assert_well_formed_error(&sidepool_reference::wire::DecodeError::new(
            sidepool_reference::wire::ErrorClass::Truncated,
            "",
        ))
    });
    assert!(broken.is_err(), "an empty detail must fail the error contract");
}

/// The session_engine seeds: the committed files are `seed_scripts()` (set
/// SIDEPOOL_WRITE_SEEDS=1 to rewrite them), and each gets as far as it says.
#[test]
fn session_engine_seeds_are_committed_and_reach_the_end_of_a_swap() {
    use checks::session_engine::{run, seed_scripts, Reached};
    let dir = fuzz_dir().join("seeds").join("session_engine");
    if std::env::var_os("SIDEPOOL_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seed_scripts() {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let on_disk: Vec<String> =
        files_in(&dir).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let mut names: Vec<String> = seed_scripts().iter().map(|(n, _)| (*n).to_owned()).collect();
    names.sort();
    assert_eq!(on_disk, names, "fuzz/seeds/session_engine/ differs from seed_scripts()");
    for (name, bytes) in seed_scripts() {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), bytes, "fuzz/seeds/session_engine/{name} is stale");
        let r = run(&bytes);
        let expected = match name {
            // Three parts of 9833334 msat held, then success and three fulfils.
            "offerrer_happy_path" => Reached { inits_sent: 1, fulfilled: 3, successes_sent: 1, ..Reached::default() },
            // Accept, pay in three parts, claim on success.
            "acceptor_happy_path" => Reached { accepts_sent: 1, htlcs_added: 3, claims: 1, ..Reached::default() },
            // Forward the init and the accept, pay upstream once all three downstream parts are in,
            // fulfil downstream once upstream is fulfilled, pass the success on.
            "forwarder_happy_path" => Reached {
                inits_sent: 1,
                accepts_sent: 1,
                htlcs_added: 3,
                fulfilled: 3,
                successes_sent: 1,
                claims: 0,
            },
            "deferred_then_resumed" => Reached { accepts_sent: 1, htlcs_added: 3, ..Reached::default() },
            // Two offers to the same peer, the second after the contraction.
            "offerrer_hold_timeout" => Reached { inits_sent: 2, ..Reached::default() },
            other => panic!("no expectation for seed {other}"),
        };
        assert_eq!(r, expected, "seed {name}");
    }
}
