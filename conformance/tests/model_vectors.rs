//! Counterexamples the model checker (tools/model) finds become vectors: the files under
//! vectors/model/ are what `sidepool-conformance model check --export` writes today for
//! these scenarios, and each replays against the reference (every event an honest node
//! got, the actions it answered). `UPDATE_MODEL_VECTORS=1` rewrites them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sidepool_conformance::vectors;
use sidepool_model::framework::{Bounds, System};

/// (system, file under vectors/model/, settings, the property whose counterexample it is)
const SCENARIOS: &[(&str, &str, &[&str], &str)] = &[
    // ERRATA E-23: a silent acceptor and the pool's abort leave the offerrer's output stuck.
    ("sidepool", "e23_silent_acceptor.yaml", &["forwarders=1", "adversary=acceptor"], "offerrer_refunded"),
    // A margin one block short of the worst-case abort and a claim's confirmation.
    ("sidepool", "margin_2165.yaml", &["forwarders=0", "script=fixed", "sidepool_timeout_margin=2165"], "no_honest_loss"),
    // ERRATA E-97: the offerrer crashes between peerswap_success and fulfilling.
    ("sidepool", "e97_offerrer_crash.yaml", &["forwarders=1", "script=fixed", "adversary=none", "crashes=1"], "no_honest_loss"),
    // ERRATA E-98: the literal reading of the acceptor's Contraction Phase rule.
    (
        "sidepool",
        "e98_literal_contraction.yaml",
        &["forwarders=0", "script=fixed", "adversary=offerrer", "acceptor_contraction=after_fulfilled", "adversary_final_cltv_delta=2016"],
        "no_honest_loss",
    ),
    // LOOP-01 without the reveal deadline (loop.out.13): the client reveals just before the
    // expiry and the adversarial server takes the swap payment and the HTLC back.
    ("loop", "loop_out_reveal_delta_0.yaml", &["reveal_delta=0", "adversary=server", "crashes=0"], "client_loss_bounded"),
    // The 20-block deadline against claims that take 22 blocks to confirm (the threshold is
    // reveal_delta + 1 >= confirm_blocks).
    ("loop", "loop_out_confirm_blocks_22.yaml", &["confirm_blocks=22", "adversary=server", "crashes=0"], "client_loss_bounded"),
    // Loop In with Loop f6b0253d's key push on any final invoice (loop.in.20's reading): the
    // user cancels the invoice, the key goes out, the server sweeps the HTLC unpaid.
    ("loop", "loop_in_key_on_cancelled_invoice.yaml", &["swap=in", "mutant=key_on_final_invoice", "adversary=server", "crashes=0"], "in_client_loss_bounded"),
    // BLOBSWAP-01 T1 removed (R = E - 1): a user's last-moment claim leaves the SSP unable to settle.
    ("blobswap", "blobswap_refund_margin.yaml", &["remove=refund_margin", "adversary=user"], "ssp_output_only_if_paid"),
    // BLOBSWAP-01 T2 removed: the user reveals too close to R; the SSP settles from the blob and refunds.
    ("blobswap", "blobswap_reveal_deadline.yaml", &["remove=reveal_deadline", "adversary=ssp"], "user_paid_only_for_value"),
    // BLOBSWAP-01 reading U3 instead of blob.settle.4: the SSP cancels when the window runs out; the user claims.
    ("blobswap", "blobswap_cancel_after_refund.yaml", &["remove=cancel_after_refund", "adversary=user"], "ssp_output_only_if_paid"),
    // BLOBSWAP-01 blob.timing.4 removed: the SSP funds on a late presignature and cannot settle the claim.
    ("blobswap", "blobswap_funding_deadline.yaml", &["remove=funding_deadline", "adversary=user"], "ssp_output_only_if_paid"),
    // BLOBSWAP-01 T0 removed: a reveal over an unconfirmed funding the SSP double-spends.
    ("blobswap", "blobswap_confirmation_period_0.yaml", &["confirmation_period=0", "reorg_depth=0", "adversary=ssp"], "user_paid_only_for_value"),
    // BLOBSWAP-01 blob.conv.3: CONFIRMATION_PERIOD 1 against a reorganisation of depth 1.
    ("blobswap", "blobswap_reorg_depth_1.yaml", &["confirmation_period=1", "reorg_depth=1", "adversary=ssp"], "user_paid_only_for_value"),
    // LightningRod (lnrod.lspa.8): LSP_a without the unblock check releases on the attacker's wrong pid (the reference ignores it).
    (
        "lightningrod",
        "lnrod_release_without_valid_unblock.yaml",
        &["profile=lightningrod", "mutant=release_without_valid_unblock"],
        "release_only_on_valid_unblock",
    ),
    // ... and, in the ldk profile, on an unauthenticated release_held_htlc.
    (
        "lightningrod",
        "lnrod_release_without_valid_unblock_ldk.yaml",
        &["profile=ldk", "mutant=release_without_valid_unblock"],
        "release_only_on_valid_unblock",
    ),
    // LightningRod (lnrod.lspa.16): LSP_a without the fail-back holds A's HTLC to its expiry (the reference fails it back).
    ("lightningrod", "lnrod_no_fail_back.yaml", &["profile=lightningrod", "mutant=no_fail_back", "forgeries=0"], "no_held_htlc_at_expiry"),
    ("lightningrod", "lnrod_no_fail_back_ldk.yaml", &["profile=ldk", "mutant=no_fail_back", "forgeries=0"], "no_held_htlc_at_expiry"),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/model")
}

fn system(name: &str) -> &'static dyn System {
    sidepool_model::systems().into_iter().find(|s| s.name() == name).unwrap_or_else(|| panic!("no model system `{name}`"))
}

fn exported(system_name: &str, sets: &[&str], property: &str) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let system = system(system_name);
    let settings = system.settings(None, &sets).unwrap();
    let bounds = Bounds { max_states: Some(3_000_000), max_depth: None, timeout: Some(Duration::from_secs(120)), threads: 1 };
    let report = system.check(&settings, &bounds).unwrap();
    let result = report.result(property).unwrap();
    let file = result.vectors.as_ref().unwrap_or_else(|| panic!("{system_name}: {property} not violated in {sets:?}:\n{}", report.render()));
    file.to_yaml().unwrap()
}

#[test]
fn committed_model_vectors_are_what_the_model_exports() {
    let update = std::env::var_os("UPDATE_MODEL_VECTORS").is_some();
    for (system, file, sets, property) in SCENARIOS {
        let fresh = exported(system, sets, property);
        let path = dir().join(file);
        if update {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == fresh, "{file} is stale: rerun with UPDATE_MODEL_VECTORS=1 (and review the diff)");
    }
}

#[test]
fn model_vectors_replay_and_lint_clean() {
    let files: Vec<PathBuf> = SCENARIOS.iter().map(|(_, f, _, _)| dir().join(f)).collect();
    for f in &files {
        let r = vectors::check_file(f);
        assert!(r.error.is_none(), "{}: {:?}", f.display(), r.error);
        let failed: Vec<String> = r.cases.iter().filter_map(|c| c.outcome.as_ref().err().map(|e| format!("tcId {}: {e}", c.tc_id))).collect();
        assert!(!r.cases.is_empty() && failed.is_empty(), "{}: {failed:?}", f.display());
    }
    let problems = vectors::lint(&files, &Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/schema"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
