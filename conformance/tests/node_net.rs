//! The reference node's network shell: real BOLT 8 connections over loopback.

use sidepool_conformance::node::core::{CoreAction, NodeCore};
use sidepool_conformance::node::{self, NodeConfig, RunningNode};
use sidepool_conformance::session::connection::Connection;
use sidepool_conformance::session::machine::{Action, SessionConfig};
use sidepool_conformance::transport::{connect, PrivateKey, TransportError};
use sidepool_reference::messages::SwapPartyBegin;
use sidepool_reference::units::{PoolId, PublicKey};
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GUARD: Duration = Duration::from_secs(20);

/// A core that records what it receives and answers every message with a
/// `swap_party_begin` for pool [7; 16], so routing back to the peer is visible.
type Seen = Arc<Mutex<Vec<(PublicKey, Message)>>>;

struct EchoCore(Seen);

impl NodeCore for EchoCore {
    fn peer_ready(&mut self, _: PublicKey, _: &FeatureSet) -> Vec<CoreAction> {
        Vec::new()
    }
    fn message(&mut self, peer: PublicKey, message: Message) -> Vec<CoreAction> {
        self.0.lock().unwrap().push((peer, message));
        vec![CoreAction::Send { peer, message: Box::new(begin(7)) }]
    }
    fn peer_gone(&mut self, _: PublicKey) -> Vec<CoreAction> {
        Vec::new()
    }
}

fn begin(byte: u8) -> Message {
    Message::SwapPartyBegin(SwapPartyBegin { id: PoolId([byte; 16]), irregular_authorization: None, unknown: Vec::new() })
}

fn key(byte: u8) -> PrivateKey {
    PrivateKey::from_bytes([byte; 32]).unwrap()
}

fn start_node() -> (RunningNode, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = NodeConfig { listen: "127.0.0.1:0".parse().unwrap(), key: key(0x42), session: SessionConfig::default(), verbose: false };
    let node = node::start(config, Box::new(EchoCore(Arc::clone(&seen)))).unwrap();
    (node, seen)
}

fn client(node: &RunningNode, me: u8) -> Connection<TcpStream> {
    let stream = TcpStream::connect(node.listen).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let transport = connect(stream, key(me), node.shared.node_id()).unwrap();
    let (mut c, _) = Connection::start(transport, SessionConfig::default()).unwrap();
    let deadline = Instant::now() + GUARD;
    loop {
        assert!(Instant::now() < deadline, "no SidepoolReady");
        if c.poll().unwrap().iter().any(|a| matches!(a, Action::SidepoolReady { .. })) {
            return c;
        }
    }
}

fn wait_for(cond: impl Fn() -> bool) {
    let deadline = Instant::now() + GUARD;
    while !cond() {
        assert!(Instant::now() < deadline, "condition not met in time");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A full exchange: deliver a message to the core, get the core's reply back.
fn round_trip(node: &RunningNode, seen: &Seen, me: u8) {
    let mut c = client(node, me);
    let before = seen.lock().unwrap().len();
    assert!(c.send_sidepool(begin(me)).unwrap().is_empty());
    wait_for(|| seen.lock().unwrap().len() > before);
    let (peer, got) = seen.lock().unwrap()[before].clone();
    assert_eq!((peer, got), (key(me).public_key(), begin(me)));
    let reply = c.poll().unwrap();
    assert_eq!(reply, vec![Action::Deliver(begin(7))]);
}

#[test]
fn a_peer_handshakes_and_messages_flow_both_ways() {
    let (node, seen) = start_node();
    round_trip(&node, &seen, 0x11);
    node.shutdown();
}

#[test]
fn garbage_and_hangups_end_only_their_own_connection() {
    let (node, seen) = start_node();
    // Garbage instead of act one.
    let mut s = TcpStream::connect(node.listen).unwrap();
    s.write_all(&[0xff; 50]).unwrap();
    let mut buf = [0u8; 64];
    s.set_read_timeout(Some(GUARD)).unwrap();
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "the node closes a garbage connection");
    // A hang-up in the middle of act one.
    let mut s = TcpStream::connect(node.listen).unwrap();
    s.write_all(&[0x00; 10]).unwrap();
    drop(s);
    // A connection that never says anything is still pending while others are served.
    let _silent = TcpStream::connect(node.listen).unwrap();
    round_trip(&node, &seen, 0x12);
    node.shutdown();
}

#[test]
fn a_truncated_frame_after_the_handshake_does_not_hurt_other_peers() {
    let (node, seen) = start_node();
    let stream = TcpStream::connect(node.listen).unwrap();
    let raw = stream.try_clone().unwrap();
    let transport = connect(stream, key(0x13), node.shared.node_id()).unwrap();
    drop(transport);
    // Half a length header on the raw socket, then close.
    let mut raw = raw;
    let _ = raw.write_all(&[0x01; 9]);
    drop(raw);
    round_trip(&node, &seen, 0x14);
    node.shutdown();
}

#[test]
fn a_flood_of_messages_is_absorbed_and_every_reply_arrives() {
    let (node, seen) = start_node();
    let mut c = client(&node, 0x15);
    // 500 messages back to back, each answered by the core.
    for _ in 0..500 {
        assert!(c.send_sidepool(begin(0x15)).unwrap().is_empty());
    }
    wait_for(|| seen.lock().unwrap().len() >= 500);
    let mut replies = 0;
    while replies < 500 {
        match c.poll() {
            Ok(actions) => replies += actions.iter().filter(|a| matches!(a, Action::Deliver(_))).count(),
            Err(TransportError::Timeout) => panic!("replies stopped at {replies}"),
            Err(e) => panic!("{e:?}"),
        }
    }
    round_trip(&node, &seen, 0x16);
    node.shutdown();
}

#[test]
fn the_node_command_announces_itself_and_accepts_a_connection_from_another_process() {
    let exe = env!("CARGO_BIN_EXE_sidepool-conformance");
    let mut child = std::process::Command::new(exe)
        .args(["node", "--listen", "127.0.0.1:0", "--node-key", &"42".repeat(32)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let announce: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(announce["node_id"], hex::encode(key(0x42).public_key().as_bytes()));
    let addr: std::net::SocketAddr = announce["listen"][0].as_str().unwrap().parse().unwrap();
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let transport = connect(stream, key(0x17), key(0x42).public_key()).unwrap();
    let (mut c, _) = Connection::start(transport, SessionConfig::default()).unwrap();
    let mut ready = false;
    for _ in 0..10 {
        if c.poll().unwrap().iter().any(|a| matches!(a, Action::SidepoolReady { .. })) {
            ready = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the node process completed init and my_sidepool_features");
}

#[test]
fn bad_node_key_is_a_usage_error() {
    let exe = env!("CARGO_BIN_EXE_sidepool-conformance");
    for bad in ["zz", "00", &"00".repeat(32)] {
        let out = std::process::Command::new(exe).args(["node", "--node-key", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--node-key"));
    }
}
