//! Interop with Core Lightning's own wire protocol code: `tests/pyln/interop.py`
//! connects to the reference node with pyln-proto and checks the BOLT 8
//! handshake, `init` (1263, `networks`), ping/pong, the SIDEPOOL-01
//! `my_sidepool_features` exchange, a reconnect as Core Lightning does it, and
//! the warnings before a refusal.
//!
//! Where pyln-proto is not importable the test says so and skips, except in CI
//! (`CI=true`), where `.ci/run` installs it and its absence is a failure.

use sidepool_conformance::node::core::CoreAction;
use sidepool_conformance::node::engine_core::EngineCore;
use sidepool_conformance::node::{self, NodeConfig};
use sidepool_conformance::session::machine::SessionConfig;
use sidepool_conformance::transport::PrivateKey;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use sidepool_reference::messages::SwapPartyBegin;
use sidepool_reference::units::PoolId;
use sidepool_reference::Message;
use std::time::{Duration, Instant};

/// The version `.ci/run` installs.
const PYLN_PROTO: &str = "pyln-proto==26.6.9";
/// Only so that a hung script fails instead of hanging; the run takes well under a second.
const GUARD: Duration = Duration::from_secs(60);

fn script() -> String {
    format!("{}/tests/pyln/interop.py", env!("CARGO_MANIFEST_DIR"))
}

/// Why pyln-proto cannot be used here, if it cannot.
fn pyln_missing() -> Option<String> {
    match Command::new("python3").args(["-c", "import pyln.proto.wire, pyln.proto.message"]).output() {
        Err(e) => Some(format!("python3 cannot run: {e}")),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Some(format!("pyln-proto is not importable ({})", stderr.lines().last().unwrap_or("no message").trim()))
        }
        Ok(_) => None,
    }
}

#[test]
fn pyln_proto_handshakes_exchanges_init_pings_and_sidepool_features_with_the_reference_node() {
    if let Some(why) = pyln_missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}; CI must have it (.ci/run installs {PYLN_PROTO})");
        }
        eprintln!("SKIPPED pyln interop test: {why}. Install it with: python3 -m pip install {PYLN_PROTO}");
        return;
    }

    // The reference node as the `node` command runs it: the engine core, regtest.
    let key = PrivateKey::from_bytes([0x42; 32]).unwrap();
    let me = key.public_key();
    let seed = key.derive_seed("sidepool-conformance persistent htlc keys");
    let core = EngineCore::new(me, String::new(), *seed);
    let config = NodeConfig { listen: "127.0.0.1:0".parse().unwrap(), key, session: SessionConfig::default(), verbose: false };
    let running = node::start_with(config, move |listen| Box::new(core.listening_on(listen))).unwrap();

    let mut child = Command::new("python3")
        .arg(script())
        .args(["--node-id", &hex::encode(me.as_bytes()), "--host", "127.0.0.1", "--port", &running.listen.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let ready_ids = || -> Vec<String> { running.shared.connected_peers().iter().map(|p| hex::encode(p.as_bytes())).collect() };
    let mut lines = Vec::new();
    let mut pyln_peer = None;
    while let Ok(line) = rx.recv_timeout(GUARD) {
        if let Some(id) = line.strip_prefix("READY ") {
            // pyln's connection is up and past the feature exchange: the node
            // counts it as a sidepool-ready peer.
            pyln_peer = Some(id.to_owned());
            assert_eq!(ready_ids(), vec![id.to_owned()], "the node registered pyln's connection as sidepool-ready");
            writeln!(stdin, "go on").unwrap();
        }
        if let Some(id) = line.strip_prefix("RECONNECTED ") {
            // pyln's new connection is ready and its old one closed: once the node
            // has noticed the close, the peer is still registered, and a message
            // the node sends on its own reaches it (the script checks it arrives).
            let deadline = Instant::now() + GUARD;
            while !running.shared.settled(1) {
                assert!(Instant::now() < deadline, "the node did not notice the old connection close");
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(ready_ids(), vec![id.to_owned()], "the reconnected peer is still registered");
            let peer = running.shared.connected_peers()[0];
            let begin = SwapPartyBegin { id: PoolId([5; 16]), irregular_authorization: None, unknown: Vec::new() };
            running.shared.route(vec![CoreAction::Send { peer, message: Box::new(Message::SwapPartyBegin(begin)) }]);
            writeln!(stdin, "go on").unwrap();
        }
        lines.push(line);
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    running.shutdown();

    assert!(out.status.success(), "interop.py failed: {stderr}\nstdout:\n{}", lines.join("\n"));
    assert!(pyln_peer.is_some(), "the script never reached READY:\n{}", lines.join("\n"));
    let passed: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("ok ")).collect();
    for expected in [
        "bolt8.handshake",
        "init.feature-1263",
        "init.networks",
        "sidepool.features-peerswap-bit",
        "bolt1.pong-size-and-zeros",
        "bolt1.no-pong-for-65532",
        "bolt1.still-connected",
        "reconnect.new-connection-still-served",
        "reconnect.new-connection-answers",
        "refuse.unknown-even-feature.warning-says-why",
        "refuse.missing-dependency.warning-says-why",
        "refuse.no-common-chain.warning-says-why",
        "refuse.unknown-even-message.warning-says-why",
    ] {
        assert!(passed.contains(&expected), "check {expected} did not pass:\n{}", lines.join("\n"));
    }
    assert_eq!(lines.last().map(String::as_str), Some(format!("PASSED {}", passed.len()).as_str()));
}
