//! The `htlc-key` command: its JSON names every intermediate exactly as the
//! `htlc_key` vectors do, and bad input is a clear error with status 1, never a panic.

use sidepool_conformance::cli::htlc_key::{htlc_key_json, run, HtlcKeyArgs};
use sidepool_conformance::htlc_fields::HTLC_KEY_OUTPUT_FIELDS;

fn vectors() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/htlc/htlc_key.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn args_of(t: &serde_json::Value) -> HtlcKeyArgs {
    let s = |k: &str| t[k].as_str().unwrap().to_string();
    HtlcKeyArgs {
        offerrer_ephemeral: s("offerrer_ephemeral"),
        offerrer_persistent: s("offerrer_persistent"),
        acceptor_ephemeral: s("acceptor_ephemeral"),
        acceptor_persistent: s("acceptor_persistent"),
        hash: s("hash"),
        locktime: t["locktime"].as_u64().unwrap().to_string(),
        network: s("network"),
    }
}

fn valid_tests() -> Vec<serde_json::Value> {
    let doc = vectors();
    doc["testGroups"][0]["tests"].as_array().unwrap().iter().filter(|t| t["result"] == "valid").cloned().collect()
}

#[test]
fn output_names_and_values_match_the_vectors() {
    let tests = valid_tests();
    assert!(tests.len() >= 20);
    for t in &tests {
        let out = htlc_key_json(&args_of(t)).unwrap();
        for name in HTLC_KEY_OUTPUT_FIELDS {
            assert_eq!(out[*name], t[*name], "tcId {} field {name}", t["tcId"]);
        }
        assert_eq!(out["output_key"].as_str().unwrap().len(), 64, "32-byte x-only output key");
        for input in ["offerrer_ephemeral", "offerrer_persistent", "acceptor_ephemeral", "acceptor_persistent", "hash", "locktime", "network"] {
            assert_eq!(out[input], t[input], "input {input} echoed");
        }
    }
}

#[test]
fn uppercase_hex_and_surrounding_spaces_are_accepted() {
    let t = &valid_tests()[0];
    let mut a = args_of(t);
    a.offerrer_ephemeral = format!(" {} ", a.offerrer_ephemeral.to_uppercase());
    a.hash = a.hash.to_uppercase();
    assert_eq!(htlc_key_json(&a).unwrap()["output_key"], t["output_key"]);
}

#[test]
fn invalid_input_is_a_clear_error_with_status_1() {
    let base = args_of(&valid_tests()[0]);
    let cases: Vec<(HtlcKeyArgs, &str)> = vec![
        (HtlcKeyArgs { offerrer_ephemeral: "zz".into(), ..base.clone() }, "offerrer_ephemeral: not hex"),
        (HtlcKeyArgs { acceptor_ephemeral: "0".into(), ..base.clone() }, "acceptor_ephemeral: not hex"),
        (HtlcKeyArgs { acceptor_persistent: base.acceptor_persistent[2..].into(), ..base.clone() }, "acceptor persistent public key is not 33 bytes"),
        (HtlcKeyArgs { offerrer_persistent: format!("02{}05", "00".repeat(31)), ..base.clone() }, "offerrer persistent public key is not a point on secp256k1"),
        (HtlcKeyArgs { offerrer_ephemeral: format!("04{}", &base.offerrer_ephemeral[2..]), ..base.clone() }, "(offerrer_ephemeral_bad_prefix)"),
        (HtlcKeyArgs { hash: "00".repeat(31), ..base.clone() }, "hash is not 32 bytes"),
        (HtlcKeyArgs { locktime: "abc".into(), ..base.clone() }, "locktime: \"abc\" is not a non-negative integer"),
        (HtlcKeyArgs { locktime: "-1".into(), ..base.clone() }, "is not a non-negative integer"),
        (HtlcKeyArgs { locktime: "500000000".into(), ..base.clone() }, "lock time is not a block height"),
        (HtlcKeyArgs { locktime: "99999999999999999999999".into(), ..base.clone() }, "is not a non-negative integer"),
        (HtlcKeyArgs { network: "mainnet".into(), ..base.clone() }, "network \"mainnet\" is not one of bitcoin, testnet, signet, regtest"),
    ];
    for (args, needle) in cases {
        let err = htlc_key_json(&args).unwrap_err();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        assert_eq!(run(&args), 1);
    }
    assert_eq!(run(&base), 0);
}

#[test]
fn networks_change_only_the_address() {
    let base = args_of(&valid_tests()[0]);
    let prefixes = [("bitcoin", "bc1p"), ("testnet", "tb1p"), ("signet", "tb1p"), ("regtest", "bcrt1p")];
    let main = htlc_key_json(&base).unwrap();
    for (net, prefix) in prefixes {
        let out = htlc_key_json(&HtlcKeyArgs { network: net.into(), ..base.clone() }).unwrap();
        assert!(out["address"].as_str().unwrap().starts_with(prefix), "{net}");
        assert_eq!(out["output_key"], main["output_key"]);
    }
}
