//! The runner: cases trace to real requirements, the embedded node passes,
//! deliberately defective nodes are caught, and the reports hold what they promise.

use serde_json::Value;
use sidepool_conformance::node::core::RecordingCore;
use sidepool_conformance::node::{self, NodeConfig};
use sidepool_conformance::runner::case::{self, Case};
use sidepool_conformance::runner::exec::{run_case, Target, DEFAULT_WAIT};
use sidepool_conformance::runner::report::{verdict, Verdict};
use sidepool_conformance::session::bolt1::BoltFeatures;
use sidepool_conformance::session::machine::SessionConfig;
use sidepool_conformance::transport::PrivateKey;
use sidepool_conformance::runner::case::SpecRevision;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn all_cases() -> Vec<Case> {
    case::load_dir(&root().join("conformance/cases")).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every case names a requirement of each revision it applies to, quotes it as one of those
/// revisions words it, at its level; `covers` ids exist at each of those revisions too.
#[test]
fn every_case_names_a_real_requirement_and_quotes_it_verbatim() {
    let (index, _) = sidepool_spec_tools::requirements::Index::load(root()).unwrap();
    let cases = all_cases();
    assert!(!cases.is_empty());
    for c in &cases {
        let revisions: Vec<SpecRevision> = SpecRevision::ALL.into_iter().filter(|r| c.applies_to(*r)).collect();
        assert!(!revisions.is_empty(), "{}: applies to no revision", c.id);
        let mut quoted = false;
        for rev in &revisions {
            let at = index.at(*rev);
            let find = |id: &str| at.iter().find(|r| r.id == id).cloned();
            let r = find(&c.requirement).unwrap_or_else(|| panic!("{}: no requirement {} at {}", c.id, c.requirement, rev.name()));
            quoted |= collapse(&r.quote).contains(&collapse(&c.quote));
            assert_eq!(r.level.as_str(), c.level.as_str(), "{}: level at {}", c.id, rev.name());
            for extra in &c.covers {
                assert!(find(extra).is_some(), "{}: covers {extra}, which {} does not have", c.id, rev.name());
            }
        }
        assert!(quoted, "{}: the quote is {}'s wording at none of its revisions:\n  case: {}", c.id, c.requirement, c.quote);
        if c.revisions.is_empty() {
            assert!(c.revision_note.is_none(), "{}: a revision note on a case of every revision", c.id);
        } else {
            assert!(c.revision_note.as_deref().is_some_and(|n| n.contains("seed") && n.contains("upstream")), "{}: a revision-specific case says how the revisions differ", c.id);
        }
    }
}

fn node_with(session: SessionConfig) -> node::RunningNode {
    let config = NodeConfig { listen: "127.0.0.1:0".parse().unwrap(), key: PrivateKey::generate(), session, verbose: false };
    node::start(config, Box::new(RecordingCore::default())).unwrap()
}

fn verdict_against(session: SessionConfig, id: &str) -> Verdict {
    let cases = all_cases();
    let case = cases.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no case {id}"));
    let n = node_with(session);
    let run = run_case(case, Target { addr: n.listen, node_id: n.shared.node_id() }, None, DEFAULT_WAIT);
    n.shutdown();
    verdict(&run)
}

#[test]
fn the_embedded_reference_passes_every_case_it_supports() {
    let out = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance")).args(["run"]).current_dir(root()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.lines().any(|l| l.ends_with(" 0 failed, 0 skipped") || l.contains(" passed, 0 failed")), "{stdout}");
}

#[test]
fn a_node_without_bit_1263_is_caught() {
    let session = SessionConfig { bolt_features: BoltFeatures::from_bits([]), ..SessionConfig::default() };
    assert_eq!(verdict_against(session, "sp01.feature-bit.init-sets-1263"), Verdict::Fail);
}

#[test]
fn a_node_that_tolerates_unknown_even_messages_is_caught() {
    let mut session = SessionConfig::default();
    session.ignored_message_types.push(32768);
    assert_eq!(verdict_against(session, "sp01.messaging.unknown-even-bolt-message-fails-the-connection"), Verdict::Fail);
}

#[test]
fn a_node_without_the_peerswap_feature_bit_is_caught() {
    let session = SessionConfig { sidepool_features: sidepool_reference::wire::features::FeatureSet::new(), ..SessionConfig::default() };
    assert_eq!(verdict_against(session, "sp01.feature-set.sends-my-sidepool-features"), Verdict::Fail);
}

#[test]
fn reports_baseline_list_and_filter() {
    let exe = env!("CARGO_BIN_EXE_sidepool-conformance");
    let dir = std::env::temp_dir().join(format!("sidepool-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, junit) = (dir.join("r.json"), dir.join("r.xml"));
    let out = Command::new(exe)
        .args(["run", "--filter", "sp01.messaging", "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // The default revision is the newest upstream one, and the report says so.
    assert_eq!(report["spec_commit"], "50799b4dfa7a1647dbe05bcfa10c7061f3cd779c");
    assert_eq!(report["spec"]["revision"], "upstream-50799b4");
    assert_eq!(report["spec"]["commits"]["SIDEPOOL-02"], "50799b4dfa7a1647dbe05bcfa10c7061f3cd779c");
    assert_eq!(report["iut"]["spec"], "upstream-50799b4");
    assert!(report["iut"]["name"].as_str().unwrap().contains("embedded"));
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    let first = &cases[0];
    assert_eq!(first["verdict"], "pass");
    assert_eq!(first["requirement"]["level"], "MUST");
    let transcript = first["transcript"].as_array().unwrap();
    assert!(transcript.iter().any(|e| e["direction"] == "iut_to_runner" && e["decoded"]["name"] == "init"));
    assert!(transcript.iter().any(|e| e["decoded"]["message"] == "my_sidepool_features"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"sp01.messaging\" tests=\"3\" failures=\"0\""), "{xml}");

    // A baseline that lists a passing case calls it out as now passing.
    let baseline = dir.join("b.json");
    std::fs::write(&baseline, r#"{"known_failures": ["sp01.messaging.ping-answered"]}"#).unwrap();
    let out = Command::new(exe).args(["run", "--filter", "sp01.messaging.ping", "--baseline"]).arg(&baseline).current_dir(root()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("now passes (was a known failure): sp01.messaging.ping-answered"));

    let out = Command::new(exe).args(["run", "--list"]).current_dir(root()).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("sp01.feature-bit.init-sets-1263"));

    let out = Command::new(exe).args(["run", "--filter", "no.such.case"]).current_dir(root()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "no matching case fails closed");

    let out = Command::new(exe).args(["run", "--target", "127.0.0.1:1", "--node-id", "00"]).current_dir(root()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad node id is a usage error");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A separate node process, driven through its TCP adapter, as an implementer's node would be.
fn spawn_node() -> (std::process::Child, Value) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance"))
        .args(["node", "--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, serde_json::from_str(&line).unwrap())
}

#[test]
fn an_external_node_through_its_adapter_passes_and_passive_mode_skips_adapter_cases() {
    let (mut child, announce) = spawn_node();
    let exe = env!("CARGO_BIN_EXE_sidepool-conformance");
    let adapter = announce["adapter"].as_str().unwrap().to_owned();
    let out = Command::new(exe).args(["run", "--adapter", &adapter, "--filter", "sp10.success", "--filter", "sp10.receiving.amount"]).current_dir(root()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let (passed, failed, skipped) = closing_line(&stdout);
    assert!(passed >= 8 && failed == 0 && skipped == 0, "{stdout}");

    let addr = announce["listen"][0].as_str().unwrap().to_owned();
    let node_id = announce["node_id"].as_str().unwrap().to_owned();
    let out = Command::new(exe)
        .args(["run", "--target", &addr, "--node-id", &node_id, "--filter", "sp01.messaging", "--filter", "sp10.receiving.amount"])
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "{stdout}");
    let (passed, failed, skipped) = closing_line(&stdout);
    assert_eq!((passed, failed), (3, 0), "passive mode: the three wire-only cases run\n{stdout}");
    assert!(skipped >= 6, "passive mode: adapter cases are unsupported\n{stdout}");
}

#[test]
fn reset_wipes_the_store_so_restart_cases_run_back_to_back_on_one_node() {
    use std::io::BufRead;
    let db = std::env::temp_dir().join(format!("sidepool-runner-reset-{}.db", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance"))
        .args(["node", "--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let announce: Value = serde_json::from_str(&line).unwrap();
    let adapter = announce["adapter"].as_str().unwrap().to_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance"))
        .args(["run", "--adapter", &adapter, "--filter", "sp10.forwarding.restart"])
        .current_dir(root())
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (passed, failed, _) = closing_line(&stdout);
    assert!(out.status.success() && passed >= 3 && failed == 0, "{stdout}");
}

/// `N passed, M failed, K skipped` from a run's last line.
fn closing_line(stdout: &str) -> (usize, usize, usize) {
    let last = stdout.lines().last().unwrap_or_default();
    let nums: Vec<usize> = last.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    match nums.as_slice() {
        [p, f, s] => (*p, *f, *s),
        _ => panic!("no closing line in {stdout}"),
    }
}

/// `run --spec REV` at each revision passes every case that applies to it, and reports the cases
/// of the other revision as not run.
#[test]
fn each_revision_passes_against_the_node_of_the_same_revision() {
    for (spec, other_only) in [("seed", "sp10.paying.amount-is-in-sidepool-amount"), ("upstream", "sp10.paying.agreed-amount-is-post-tax")] {
        let out = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance"))
            .args(["run", "--spec", spec, "--filter", "sp10.paying", "--filter", "sp10.hold"])
            .current_dir(root())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains(" 0 failed, 0 skipped"), "{stdout}");
        let not_run = stdout.lines().find(|l| l.starts_with("not run:")).unwrap_or_else(|| panic!("{stdout}"));
        assert!(not_run.contains(other_only), "{not_run}");
        assert!(!stdout.contains(&format!("PASS   {other_only}")), "{stdout}");
    }
}

/// A node of one revision run under the other fails exactly the cases about the amount the
/// in-Lightning HTLCs total, each with a reason that names the revision difference.
#[test]
fn a_node_of_the_other_revision_fails_exactly_the_amount_cases() {
    let exe = env!("CARGO_BIN_EXE_sidepool-conformance");
    let dir = std::env::temp_dir().join(format!("sidepool-revisions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (spec, node, failing) in [
        ("upstream", "seed", ["sp10.paying.amount-is-in-sidepool-amount", "sp10.hold.holds-until-in-sidepool-amount"]),
        ("seed", "upstream", ["sp10.paying.agreed-amount-is-post-tax", "sp10.hold.completes-at-post-tax"]),
    ] {
        let json = dir.join(format!("{spec}.json"));
        let out = Command::new(exe)
            .args(["run", "--spec", spec, "--node-spec", node, "--timeout-ms", "1000", "--json"])
            .arg(&json)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let failed: Vec<&Value> = report["cases"].as_array().unwrap().iter().filter(|c| c["verdict"] == "fail").collect();
        let ids: Vec<&str> = failed.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, failing, "spec {spec}, node {node}");
        for c in failed {
            let reason = c["reason"].as_str().unwrap();
            assert!(reason.contains("[revision difference: SIDEPOOL-10 at "), "{reason}");
            assert!(reason.contains("seed") && reason.contains("upstream-50799b4") && reason.contains("in-sidepool HTLC amount"), "{reason}");
        }
        let pass = report["totals"]["pass"].as_u64().unwrap();
        assert_eq!(pass as usize + 2, report["cases"].as_array().unwrap().len());
        let not_applicable: Vec<&str> = report["not_applicable"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(not_applicable.len(), 2, "{not_applicable:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
