//! Crash safety of the reference node: SIGKILL right after a persisted fact
//! and before the action that depends on it, restart on the same database,
//! and check that nothing persisted is lost and the restart rules apply.

use serde_json::Value;
use sidepool_conformance::node::adapter_link::RemoteLink;
use sidepool_conformance::node::store::Store;
use sidepool_conformance::runner::exec::AdapterLink;
use sidepool_conformance::runner::peer::key_for;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const NODE_KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";
const HASH: &str = "02d449a31fbb267c8f352e9968a79e3e5fc95c1bbeaa502fd6454ebde5a4bedc";

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_sidepool-conformance")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sidepool-crash-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `node --db`; returns the child, its announcement and its stdout (for the pause line).
fn start_node(db: &Path, pause: Option<&str>) -> (Child, Value, BufReader<ChildStdout>) {
    let mut cmd = Command::new(exe());
    cmd.args(["node", "--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0", "--node-key", NODE_KEY, "--db"]).arg(db);
    if let Some(p) = pause {
        cmd.args(["--pause-after", p]);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    (child, serde_json::from_str(&line).unwrap(), out)
}

/// A case directory with the forwarding fixtures and one case of `steps`.
fn cases_with(dir: &Path, steps: &str) -> PathBuf {
    cases_from(dir, "sp10-forwarding.yaml", steps)
}

/// A case directory with the fixtures of `file` and one case of `steps`.
fn cases_from(dir: &Path, file: &str, steps: &str) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("cases").join(file)).unwrap();
    let head = text.split("\ncases:\n").next().unwrap();
    let case = format!(
        "{head}\ncases:\n  - id: crash.phase\n    requirement: sp10.forwarding-peerswaps.2\n    quote: \"x\"\n    level: MUST\n    needs: [adapter]\n    steps:\n{steps}"
    );
    let cases = dir.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::write(cases.join("crash.yaml"), case).unwrap();
    cases
}

/// Runs the case in the background against the node and waits for the node's pause line.
fn drive_until_paused(adapter: &str, cases: &Path, node_out: &mut BufReader<ChildStdout>, point: &str) -> Child {
    let runner = Command::new(exe())
        .args(["run", "--adapter", adapter, "--timeout-ms", "2000", "--cases"])
        .arg(cases)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    node_out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("paused after {point}"));
    runner
}

/// Ends a helper process (the runner), whatever state it is in.
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn sigkill(mut child: Child) {
    // std's Child::kill sends SIGKILL on Unix: no destructor, no flush, no clean close.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
    }
}

#[test]
fn killed_after_the_forward_record_the_record_survives() {
    let dir = scratch("record");
    let db = dir.join("node.db");
    let (node, announce, mut out) = start_node(&db, Some("forward-record"));
    let cases = cases_with(&dir, "      - fixture: world\n      - send: {peer: alice, message: peerswap_init, fields: *init}\n      - expect_nothing: {peer: bob, within_ms: 3000}\n");
    let runner = drive_until_paused(announce["adapter"].as_str().unwrap(), &cases, &mut out, "ForwardRecord");
    sigkill(node);
    stop(runner);

    let (node, _, _) = start_node(&db, None);
    let state = Store::open(&db).unwrap().load_all().unwrap();
    let forward = state.forwards.iter().find(|f| hex::encode(f.record.hash.0) == HASH).expect("the forward record survived SIGKILL");
    assert_eq!(forward.record.upstream, key_for("alice").public_key());
    assert_eq!(forward.record.downstream, key_for("bob").public_key());
    assert!(forward.lightning.downstream.is_empty(), "no acceptor HTLC was given yet");
    sigkill(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn killed_before_forwarding_the_htlc_the_acceptors_htlc_is_failed_after_restart() {
    let dir = scratch("htlc");
    let db = dir.join("node.db");
    let (node, announce, mut out) = start_node(&db, Some("acceptor-htlcs"));
    let steps = "      - fixture: world\n      - fixture: forwarded\n      - fixture: bob_accepts\n      - fixture: expanded_and_lightning\n      - fixture: bob_pays\n";
    let cases = cases_with(&dir, steps);
    let runner = drive_until_paused(announce["adapter"].as_str().unwrap(), &cases, &mut out, "AcceptorHtlcs");
    sigkill(node);
    stop(runner);

    // The acceptor's HTLC is on record, and no HTLC to the offerrer was ever added.
    let state = Store::open(&db).unwrap().load_all().unwrap();
    let forward = state.forwards.iter().find(|f| hex::encode(f.record.hash.0) == HASH).unwrap();
    assert_eq!(forward.lightning.downstream.len(), 1);
    assert!(forward.lightning.upstream.is_empty());

    // Restarted on the same database, the node fails bob's HTLC (SIDEPOOL-10: "If there is
    // irrevocably committed no HTLC from the forwarder to the direct peerswap offerrer, the
    // forwarder SHOULD fail the in-Lightning HTLC from the direct peerswap acceptor.").
    let (node, announce, _) = start_node(&db, None);
    let (mut link, _) = RemoteLink::open(announce["adapter"].as_str().unwrap(), Duration::from_secs(5)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut failed = None;
    while let Some(ev) = link.next_event(deadline) {
        if ev["event"] == "htlc_fail" {
            failed = Some(ev);
            break;
        }
    }
    sigkill(node);
    let ev = failed.expect("an htlc_fail for the acceptor's HTLC after the restart");
    assert_eq!(ev["htlc_id"], 1);
    assert_eq!(ev["peer"], hex::encode(key_for("bob").public_key().as_bytes()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs one case to completion against the node; the case must pass.
fn run_to_completion(adapter: &str, cases: &Path) {
    let out = Command::new(exe()).args(["run", "--adapter", adapter, "--cases"]).arg(cases).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn sent_inits_and_htlc_details_survive_sigkill() {
    use sidepool_conformance::node::store::HtlcRole;
    // As offerrer: the init it sent and, once accepted, the SIDEPOOL-06 HTLC details.
    let dir = scratch("offerrer");
    let db = dir.join("node.db");
    let (node, announce, _) = start_node(&db, None);
    let steps = "      - fixture: offerrer_world\n      - fixture: alice_channel\n      - fixture: offer_received\n      - send: {peer: alice, message: peerswap_accept, fields: {peerswap_accept_id: \"$init.peerswap_init_id\", peerswap_accept_hash: \"$init.peerswap_init_hash\", peerswap_accept_pubkeys: *alice_keys}}\n      - expect_event: {event: expansion_output_requested}\n";
    run_to_completion(announce["adapter"].as_str().unwrap(), &cases_from(&dir, "sp10-offerrer.yaml", steps));
    sigkill(node);
    let state = Store::open(&db).unwrap().load_all().unwrap();
    assert_eq!(state.sent_inits.len(), 1, "the offerrer's record of the init it sent");
    assert_eq!(state.sent_inits[0].sent.to, key_for("alice").public_key());
    assert!(state.htlc_details.iter().any(|d| d.role == HtlcRole::Offerrer), "HTLC details before the expansion request");

    // As acceptor: the HTLC details before it offers to pay.
    let dir2 = scratch("acceptor");
    let db2 = dir2.join("node.db");
    let (node, announce, _) = start_node(&db2, None);
    let steps = "      - fixture: world\n      - fixture: channel\n      - fixture: accepted\n";
    run_to_completion(announce["adapter"].as_str().unwrap(), &cases_from(&dir2, "sp10-acceptor-htlcs.yaml", steps));
    sigkill(node);
    let state = Store::open(&db2).unwrap().load_all().unwrap();
    let d = state.htlc_details.iter().find(|d| d.role == HtlcRole::Acceptor).expect("acceptor HTLC details");
    assert_eq!(hex::encode(d.swap.hash.0), HASH);
    assert_eq!(d.timeout.0, 804033);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn killed_after_the_sent_init_and_after_the_htlc_details_the_facts_survive() {
    use sidepool_conformance::node::store::HtlcRole;
    // The offerrer: paused after recording its peerswap_init, before sending it.
    let dir = scratch("pause-init");
    let db = dir.join("node.db");
    let (node, announce, mut out) = start_node(&db, Some("sent-init"));
    let steps = "      - fixture: offerrer_world\n      - fixture: alice_channel\n      - fixture: offer_received\n";
    let runner = drive_until_paused(announce["adapter"].as_str().unwrap(), &cases_from(&dir, "sp10-offerrer.yaml", steps), &mut out, "SentInit");
    sigkill(node);
    stop(runner);
    let state = Store::open(&db).unwrap().load_all().unwrap();
    assert_eq!(state.sent_inits.len(), 1);
    assert_eq!(state.sent_inits[0].sent.to, key_for("alice").public_key());

    // The acceptor: paused after its HTLC details, before peerswap_accept.
    let dir2 = scratch("pause-details");
    let db2 = dir2.join("node.db");
    let (node, announce, mut out) = start_node(&db2, Some("htlc-details"));
    let steps = "      - fixture: world\n      - fixture: channel\n      - fixture: accepted\n";
    let runner = drive_until_paused(announce["adapter"].as_str().unwrap(), &cases_from(&dir2, "sp10-acceptor-htlcs.yaml", steps), &mut out, "HtlcDetails");
    sigkill(node);
    stop(runner);
    let state = Store::open(&db2).unwrap().load_all().unwrap();
    let d = state.htlc_details.iter().find(|d| d.role == HtlcRole::Acceptor).expect("acceptor HTLC details survive");
    assert_eq!(hex::encode(d.swap.hash.0), HASH);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}
