//! What each fuzz target checks, as plain functions of the input bytes.
//!
//! The libFuzzer targets in `fuzz/fuzz_targets/` are one-line wrappers around
//! these, and `conformance/tests/fuzz_regressions.rs` includes this very file
//! (`#[path]`) to replay `fuzz/regressions/<target>/*` without libFuzzer, so
//! a crash found by a campaign stays caught by the ordinary `cargo test`.
//!
//! A check panics (assert) when the code under test breaks an invariant;
//! "no panic" alone is not the bar:
//! - a successful decode re-encodes to the very same bytes (the encodings are
//!   canonical and unknown odd TLVs are kept);
//! - a decode error has a class from `ErrorClass::ALL` and a non-empty detail.
//!
//! This file may only use what both the fuzz crate and the conformance crate's
//! tests have: sidepool-reference (feature `arbitrary`), sidepool-conformance,
//! arbitrary, serde_json, serde_yaml.

use arbitrary::{Arbitrary, Unstructured};
use serde_json::Value;
use sidepool_reference::messages::{def_by_name, def_by_sub_id};
use sidepool_reference::wire::bigsize;
use sidepool_reference::wire::envelope::{self, SIDEPOOL_MESSAGE_ID};
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::wire::tlv::{self, Known, TlvRecord};
use sidepool_reference::wire::{DecodeError, ErrorClass};
use sidepool_reference::{Decoded, Message};

/// A target: its name (the file `fuzz/fuzz_targets/<name>.rs`, the folder
/// `fuzz/regressions/<name>/`) and its check.
pub type Check = fn(&[u8]);

/// Every target, in the order `smoke.sh` runs them.
pub const TARGETS: &[(&str, Check)] = &[
    ("bigsize", bigsize),
    ("tlv_stream", tlv_stream),
    ("envelope", envelope),
    ("feature_set", feature_set),
    ("message_decode", message_decode),
    ("decode_my_sidepool_features", |d| decode_named("my_sidepool_features", d)),
    ("decode_swap_party_begin", |d| decode_named("swap_party_begin", d)),
    ("decode_peerswap_init", |d| decode_named("peerswap_init", d)),
    ("decode_peerswap_accept", |d| decode_named("peerswap_accept", d)),
    ("decode_peerswap_lightning", |d| decode_named("peerswap_lightning", d)),
    ("decode_peerswap_success", |d| decode_named("peerswap_success", d)),
    ("decode_peerswap_reject", |d| decode_named("peerswap_reject", d)),
    ("roundtrip_message", roundtrip_message),
    ("vector_yaml", vector_yaml),
    ("decode_cli", decode_cli),
    ("bolt8_responder", bolt8::bolt8_responder),
    ("adapter_json", adapter_json),
    ("case_yaml", case_yaml),
    ("session_engine", session_engine::session_engine),
];

// The larger targets live in their own files (paths relative to this one, so
// the regression test's `#[path]` include finds them too).
#[path = "bolt8.rs"]
pub mod bolt8;
#[path = "session_engine.rs"]
pub mod session_engine;

pub fn check_by_name(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The error contract every decoder shares.
pub fn assert_well_formed_error(e: &DecodeError) {
    assert!(ErrorClass::ALL.contains(&e.class), "error class {:?} is not in ErrorClass::ALL", e.class);
    assert!(!e.detail.is_empty(), "error of class {} has an empty detail", e.class);
    assert_eq!(ErrorClass::from_name(e.class.name()), Some(e.class), "class name does not map back");
}

// ---- wire -----------------------------------------------------------------------------------

/// `bigsize::decode_exact`: a decoded value re-encodes to the input (minimality).
pub fn bigsize(data: &[u8]) {
    match bigsize::decode_exact(data) {
        Ok(v) => assert_eq!(bigsize::to_vec(v), data, "bigsize {v} decoded from a non-canonical encoding"),
        Err(e) => {
            assert_well_formed_error(&e);
            let allowed = [ErrorClass::Truncated, ErrorClass::NonMinimalEncoding, ErrorClass::InvalidValue];
            assert!(allowed.contains(&e.class), "bigsize error class {}", e.class);
        }
    }
}

/// `tlv::read_stream` under a classifier chosen by the first input byte: which
/// types it knows, and whether it rejects some known values (its error must
/// come back unchanged). On success every record, known or kept, re-encodes
/// to the stream byte for byte.
pub fn tlv_stream(data: &[u8]) {
    let Some((&selector, stream)) = data.split_first() else { return };
    let mut seen: Vec<(u64, Vec<u8>, Known)> = Vec::new();
    let mut injected: Option<DecodeError> = None;
    let result = tlv::read_stream(stream, |typ, value| {
        // A cheap mix of the type and the selector decides the classification.
        let h = (typ.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as u8 ^ selector;
        let known = if h & 1 == 1 { Known::Yes } else { Known::No };
        if known == Known::Yes && selector & 0x80 != 0 && h & 0b110 == 0b110 {
            let e = DecodeError::new(ErrorClass::InvalidValue, format!("classifier rejects type {typ}"));
            injected = Some(e.clone());
            return Err(e);
        }
        seen.push((typ, value.to_vec(), known));
        Ok(known)
    });
    match result {
        Ok(kept) => {
            assert!(injected.is_none(), "a classifier error was swallowed");
            let expected: Vec<TlvRecord> = seen
                .iter()
                .filter(|(_, _, k)| *k == Known::No)
                .map(|(typ, value, _)| TlvRecord { typ: *typ, value: value.clone() })
                .collect();
            assert_eq!(kept, expected, "kept records differ from the unknown records read");
            assert!(kept.iter().all(|r| r.typ % 2 == 1), "an unknown even type was kept");
            assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "types not strictly increasing");
            let known: Vec<(u64, Vec<u8>)> =
                seen.iter().filter(|(_, _, k)| *k == Known::Yes).map(|(t, v, _)| (*t, v.clone())).collect();
            let mut again = Vec::new();
            tlv::encode_merged(known, &kept, &mut again);
            assert_eq!(again, stream, "re-encoded stream differs");
        }
        Err(e) => {
            assert_well_formed_error(&e);
            if let Some(inj) = injected {
                assert_eq!(e, inj, "the classifier's error was replaced");
            }
        }
    }
}

/// `envelope::open`: an opened envelope re-seals to the input.
pub fn envelope(data: &[u8]) {
    match envelope::open(data) {
        Ok(env) => {
            assert_eq!(data.get(..2), Some(&SIDEPOOL_MESSAGE_ID.to_be_bytes()[..]));
            assert_eq!(envelope::seal(env.sub_id, env.tlvs), data, "re-sealed envelope differs");
        }
        Err(e) => {
            assert_well_formed_error(&e);
            assert!(
                matches!(e.class, ErrorClass::Truncated | ErrorClass::NotSidepool),
                "envelope error class {}",
                e.class
            );
        }
    }
}

/// `FeatureSet::decode`: the encoding is canonical (ERRATA E-02), so a decoded
/// set re-encodes to the input.
pub fn feature_set(data: &[u8]) {
    match FeatureSet::decode(data) {
        Ok(set) => {
            assert_eq!(set.encode(), data, "encode(decode(x)) != x");
            assert_eq!(FeatureSet::decode(&set.encode()).as_ref(), Ok(&set));
        }
        Err(e) => assert_well_formed_error(&e),
    }
}

// ---- messages -------------------------------------------------------------------------------

/// `Message::decode` on raw bytes.
pub fn message_decode(data: &[u8]) {
    check_message_bytes(data);
}

/// `Message::decode` with the 53609 type and the sub-id of `name` in front,
/// so every input reaches that message's TLV reader.
pub fn decode_named(name: &str, tlvs: &[u8]) {
    let Some(def) = def_by_name(name) else { panic!("no message named {name}") };
    check_message_bytes(&envelope::seal(def.sub_id, tlvs));
}

/// The invariants of one decode of a whole message.
pub fn check_message_bytes(bytes: &[u8]) {
    match Message::decode(bytes) {
        Ok(Decoded::Known(m)) => {
            assert_eq!(m.encode(), bytes, "{} re-encodes to different bytes", m.name());
            assert_eq!(bytes.get(2..4), Some(&m.sub_id().to_be_bytes()[..]));
        }
        Ok(Decoded::IgnoredOdd { sub_id }) => {
            assert_eq!(sub_id % 2, 1, "an even sub-id {sub_id} was ignored");
            assert!(def_by_sub_id(sub_id).is_none(), "known sub-id {sub_id} was ignored");
        }
        Err(e) => assert_well_formed_error(&e),
    }
}


/// Structured: an arbitrary (sanitized) message encodes, decodes to itself,
/// and its JSON field view round-trips too.
pub fn roundtrip_message(data: &[u8]) {
    let Ok(mut m) = Message::arbitrary_take_rest(Unstructured::new(data)) else { return };
    m.make_encodable();
    let bytes = m.encode();
    assert_eq!(Message::decode(&bytes), Ok(Decoded::Known(m.clone())), "decode(encode(m)) != m");
    let view = sidepool_conformance::fields::message_to_json(&m);
    let back = sidepool_conformance::fields::message_from_json(m.name(), &view["fields"], view.get("unknown_tlvs"));
    assert_eq!(back, Ok(m), "the JSON field view does not round-trip");
}

// ---- conformance tooling --------------------------------------------------------------------

/// The vector loader on arbitrary text: YAML → JSON value → the lint's
/// semantic checks and, for a known kind, its evaluator on every test. None
/// may panic: vector files come from outside.
pub fn vector_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = serde_yaml::from_str::<Value>(text) else { return };
    let _ = sidepool_conformance::vectors::lint_value(&doc);
    let kind = doc.get("kind").and_then(Value::as_str);
    if let Some(check) = kind.and_then(sidepool_conformance::vectors::kinds::evaluator) {
        for (group, test) in sidepool_conformance::vectors::tests_of(&doc) {
            let _ = check(group, test);
        }
    }
}

/// `sidepool-conformance decode HEX` on arbitrary text: a usage error, or the
/// contract's JSON with exit status 0 or 1 and a known error class.
pub fn decode_cli(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match sidepool_conformance::cli::decode::decode_hex(text) {
        Err(usage) => assert!(!usage.is_empty()),
        Ok((json, 0)) => assert!(json.get("error").is_none(), "exit 0 with an error: {json}"),
        Ok((json, 1)) => {
            let class = json["error"]["class"].as_str().unwrap_or_default();
            assert!(ErrorClass::from_name(class).is_some(), "unknown error class in {json}");
            assert!(json["error"]["detail"].as_str().is_some_and(|d| !d.is_empty()), "empty detail: {json}");
        }
        Ok((json, code)) => panic!("decode exited {code} with {json}"),
    }
}

/// The adapter's JSON-lines input, read as the server reads it: lines capped
/// in length, each decoded as a request (and, as the runner would, as an
/// incoming line). A request that parses re-serialises and re-parses equal;
/// a refused one is a typed error with a message, and its error line parses
/// back to the same error.
pub fn adapter_json(data: &[u8]) {
    use sidepool_conformance::adapter::codec::{self, Incoming, Line};
    // A small cap so the too-long path is reachable; the real one is MAX_LINE_BYTES.
    let mut reader = std::io::BufReader::with_capacity(64, data);
    loop {
        match codec::read_line(&mut reader, 4096) {
            Ok(Line::Text(line)) => adapter_line(&line),
            Ok(Line::TooLong) => {
                let r = codec::too_long_rejection();
                assert!(r.id.is_none() && !r.error.message.is_empty());
            }
            Ok(Line::Eof) => break,
            Err(e) => panic!("reading from a byte slice failed: {e}"),
        }
    }

    fn adapter_line(line: &[u8]) {
        match codec::decode_request(line) {
            Ok((id, request)) => {
                assert!(sidepool_conformance::adapter::Request::METHODS.contains(&request.method()));
                let encoded = codec::encode_request(id, &request);
                assert!(encoded.ends_with('\n') && !encoded[..encoded.len() - 1].contains('\n'));
                let again = codec::decode_request(encoded.trim_end_matches('\n').as_bytes());
                assert_eq!(again, Ok((id, request)), "request does not re-parse equal from {encoded}");
            }
            Err(rejection) => {
                assert!(!rejection.error.message.is_empty(), "rejection without a message");
                let answer = codec::encode_response(rejection.id, &Err(rejection.error.clone()));
                let back = codec::decode_incoming(answer.trim_end_matches('\n').as_bytes());
                assert_eq!(
                    back,
                    Ok(Incoming::Response { id: rejection.id, result: Err(rejection.error) }),
                    "the error line does not parse back"
                );
            }
        }
        match codec::decode_incoming(line) {
            Ok(Incoming::Event(event)) => {
                let encoded = codec::encode_event(&event);
                let again = codec::decode_incoming(encoded.trim_end_matches('\n').as_bytes());
                assert_eq!(again, Ok(Incoming::Event(event)), "event does not re-parse equal from {encoded}");
            }
            Ok(Incoming::UnknownEvent(name)) => {
                assert!(!sidepool_conformance::adapter::Event::NAMES.contains(&name.as_str()))
            }
            Ok(Incoming::Response { .. }) => {}
            Err(why) => assert!(!why.is_empty(), "an incoming line refused without a reason"),
        }
    }
}

/// The runner's case loader (`runner::case::parse_case_file`, what `load_dir`
/// runs on each file) on arbitrary text: no panic; a loaded file has every
/// fixture spliced in.
pub fn case_yaml(data: &[u8]) {
    use sidepool_conformance::runner::case::{parse_case_file, Step};
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_case_file(text) {
        Ok(file) => {
            for case in &file.cases {
                assert!(!case.steps.iter().any(|s| matches!(s.step, Step::Fixture(_))), "a fixture step was left in");
            }
        }
        Err(why) => assert!(!why.is_empty(), "a case file refused without a reason"),
    }
}
