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

/// The peers the core was told are gone.
type Gone = Arc<Mutex<Vec<PublicKey>>>;

struct EchoCore(Seen, Gone);

impl NodeCore for EchoCore {
    fn peer_ready(&mut self, _: PublicKey, _: &FeatureSet) -> Vec<CoreAction> {
        Vec::new()
    }
    fn message(&mut self, peer: PublicKey, message: Message) -> Vec<CoreAction> {
        self.0.lock().unwrap().push((peer, message));
        vec![CoreAction::Send { peer, message: Box::new(begin(7)) }]
    }
    fn peer_gone(&mut self, peer: PublicKey) -> Vec<CoreAction> {
        self.1.lock().unwrap().push(peer);
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
    let (node, seen, _) = start_node_watching_gone();
    (node, seen)
}

fn start_node_watching_gone() -> (RunningNode, Seen, Gone) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let gone = Arc::new(Mutex::new(Vec::new()));
    let config = NodeConfig { listen: "127.0.0.1:0".parse().unwrap(), key: key(0x42), session: SessionConfig::default(), verbose: false };
    let node = node::start(config, Box::new(EchoCore(Arc::clone(&seen), Arc::clone(&gone)))).unwrap();
    (node, seen, gone)
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

// ---- The node as a Lightning peer (issue 20 item 4) ----
//
// These tests speak raw BOLT 1 on a BOLT 8 transport (no session of ours on the
// peer's side), so they see exactly what the node writes.

use sidepool_conformance::session::bolt1::{Bolt1Message, BoltFeatures, Init};
use sidepool_conformance::transport::Transport;

/// The regtest chain hash as BOLT 0 writes chain hashes (genesis hash, not reversed).
const REGTEST: &str = "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f";
const MAINNET: &str = "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000";

/// A BOLT 8 connection to the node with nothing sent yet; returns it and the node's `init`.
fn raw_peer(node: &RunningNode, me: u8) -> (Transport<TcpStream>, Init) {
    let stream = TcpStream::connect(node.listen).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let mut t = connect(stream, key(me), node.shared.node_id()).unwrap();
    let Ok(Some(Bolt1Message::Init(init))) = Bolt1Message::decode(&t.recv().unwrap()) else { panic!("the node's first message is not init") };
    (t, init)
}

/// `init_tlvs` with only `networks`, written by hand: type 1, length, the hashes.
fn networks_tlv(chains: &[&str]) -> Vec<u8> {
    let mut out = vec![0x01, u8::try_from(32 * chains.len()).unwrap()];
    for c in chains {
        out.extend(hex::decode(c).unwrap());
    }
    out
}

fn init_bytes(bits: &[u32], tlvs: Vec<u8>) -> Vec<u8> {
    Bolt1Message::Init(Init { features: BoltFeatures::from_bits(bits.iter().copied()), tlvs, ..Init::default() }).encode()
}

/// Reads until the node closes; returns every message it wrote before closing.
fn until_closed(t: &mut Transport<TcpStream>) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    loop {
        match t.recv() {
            Ok(m) => got.push(m),
            Err(TransportError::Timeout) => panic!("the node did not close the connection; it sent {got:?}"),
            Err(_) => return got,
        }
    }
}

/// The text of the one connection-level `warning` among `messages`.
fn the_warning(messages: &[Vec<u8>]) -> String {
    let warnings: Vec<_> = messages
        .iter()
        .filter_map(|m| match Bolt1Message::decode(m) {
            Ok(Some(Bolt1Message::Warning(n))) => Some(n),
            _ => None,
        })
        .collect();
    let [n] = warnings.as_slice() else { panic!("expected one warning before the close, got {messages:?}") };
    assert_eq!(n.channel_id, [0; 32], "a connection-level warning has an all-zero channel_id");
    assert!(!n.data.is_empty() && n.data.iter().all(|b| (32..=126).contains(b)), "readable text: {n:?}");
    n.text()
}

#[test]
fn a_replaced_connection_closing_late_leaves_the_new_one_registered() {
    // Core Lightning reconnects like this: the new connection completes, then the old one closes.
    let (node, seen, gone) = start_node_watching_gone();
    let old = client(&node, 0x18);
    let mut new = client(&node, 0x18);
    // A round trip on the new connection: the node has registered it (its features arrived).
    assert!(new.send_sidepool(begin(0x18)).unwrap().is_empty());
    assert_eq!(new.poll().unwrap(), vec![Action::Deliver(begin(7))]);
    drop(old);
    // The node noticed the close: one connection left, nothing in flight.
    wait_for(|| node.shared.settled(1));
    assert_eq!(node.shared.connected_peers(), vec![key(0x18).public_key()], "the new connection is still the peer's");
    assert!(gone.lock().unwrap().is_empty(), "the core was told the peer is gone while it is connected");
    // A message the core sends on its own reaches the peer...
    node.shared.route(vec![CoreAction::Send { peer: key(0x18).public_key(), message: Box::new(begin(8)) }]);
    assert_eq!(new.poll().unwrap(), vec![Action::Deliver(begin(8))]);
    // ...and the node still answers what the peer sends on the new connection.
    let before = seen.lock().unwrap().len();
    assert!(new.send_sidepool(begin(0x19)).unwrap().is_empty());
    assert_eq!(new.poll().unwrap(), vec![Action::Deliver(begin(7))]);
    assert_eq!(seen.lock().unwrap()[before], (key(0x18).public_key(), begin(0x19)));
    // When the new connection closes too, the peer is gone, once.
    drop(new);
    wait_for(|| node.shared.settled(0));
    assert!(node.shared.connected_peers().is_empty());
    assert_eq!(*gone.lock().unwrap(), vec![key(0x18).public_key()]);
    node.shutdown();
}

#[test]
fn the_nodes_init_names_regtest_in_networks() {
    let (node, _) = start_node();
    let (_t, init) = raw_peer(&node, 0x20);
    // init_tlvs: exactly `networks` (type 1) with the regtest chain hash.
    assert_eq!(hex::encode(&init.tlvs), format!("0120{REGTEST}"));
    node.shutdown();
}

#[test]
fn features_of_the_current_bolt9_table_are_known_even_when_compulsory() {
    // option_dual_fund (28), option_quiesce (34), option_onion_messages (38),
    // option_provide_storage (42), option_splice (62): added to BOLT 9 after the node's old table.
    let (node, _) = start_node();
    let (mut t, _) = raw_peer(&node, 0x21);
    t.send(&init_bytes(&[28, 34, 38, 42, 62, 1263], Vec::new())).unwrap();
    t.send(&Bolt1Message::Ping { num_pong_bytes: 3, ignored_len: 0 }.encode()).unwrap();
    loop {
        let m = t.recv().expect("the node keeps the connection and answers the ping");
        if Bolt1Message::decode(&m) == Ok(Some(Bolt1Message::Pong { ignored_len: 3 })) {
            break;
        }
    }
    node.shutdown();
}

#[test]
fn a_feature_without_its_dependency_is_refused_with_a_warning() {
    // BOLT 1: basic_mpp (17) depends on payment_secret (14/15) in BOLT 9's table.
    let (node, _) = start_node();
    let (mut t, _) = raw_peer(&node, 0x22);
    t.send(&init_bytes(&[17, 1263], Vec::new())).unwrap();
    // More right behind it, as a peer that does not wait sends: still unread when
    // the node closes, which must not cost the warning.
    for _ in 0..20 {
        let _ = t.send(&Bolt1Message::Ping { num_pong_bytes: 3, ignored_len: 500 }.encode());
    }
    let text = the_warning(&until_closed(&mut t));
    assert!(text.contains("17") && text.contains("payment_secret"), "{text}");
    node.shutdown();
}

#[test]
fn an_unknown_even_feature_is_refused_with_a_warning() {
    let (node, _) = start_node();
    let (mut t, _) = raw_peer(&node, 0x23);
    t.send(&init_bytes(&[100, 1263], Vec::new())).unwrap();
    let text = the_warning(&until_closed(&mut t));
    assert!(text.contains("100"), "{text}");
    node.shutdown();
}

#[test]
fn an_unknown_even_message_is_refused_with_a_warning() {
    let (node, _) = start_node();
    let (mut t, _) = raw_peer(&node, 0x24);
    t.send(&init_bytes(&[1263], Vec::new())).unwrap();
    t.send(&[0x80, 0x02, 0xde, 0xad]).unwrap();
    let text = the_warning(&until_closed(&mut t));
    assert!(text.contains("32770"), "{text}");
    node.shutdown();
}

#[test]
fn a_peer_on_another_chain_is_refused_with_a_warning_and_a_common_one_is_kept() {
    let (node, _) = start_node();
    let (mut t, _) = raw_peer(&node, 0x25);
    t.send(&init_bytes(&[1263], networks_tlv(&[MAINNET]))).unwrap();
    let text = the_warning(&until_closed(&mut t));
    assert!(text.contains("no common chain"), "{text}");
    // Mainnet and regtest: regtest is common, the connection stays.
    let (mut t, _) = raw_peer(&node, 0x26);
    t.send(&init_bytes(&[1263], networks_tlv(&[MAINNET, REGTEST]))).unwrap();
    t.send(&Bolt1Message::Ping { num_pong_bytes: 5, ignored_len: 0 }.encode()).unwrap();
    loop {
        let m = t.recv().expect("the node keeps a peer with a common chain");
        if Bolt1Message::decode(&m) == Ok(Some(Bolt1Message::Pong { ignored_len: 5 })) {
            break;
        }
    }
    node.shutdown();
}

#[test]
fn the_node_command_names_the_chain_given_by_network() {
    const SIGNET: &str = "f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000";
    let exe = env!("CARGO_BIN_EXE_sidepool-conformance");
    let mut child = std::process::Command::new(exe)
        .args(["node", "--listen", "127.0.0.1:0", "--node-key", &"42".repeat(32), "--network", "signet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let announce: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr: std::net::SocketAddr = announce["listen"][0].as_str().unwrap().parse().unwrap();
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let mut t = connect(stream, key(0x27), key(0x42).public_key()).unwrap();
    let first = Bolt1Message::decode(&t.recv().unwrap());
    // A regtest peer is refused: signet is the node's only chain.
    t.send(&init_bytes(&[1263], networks_tlv(&[REGTEST]))).unwrap();
    let refused = until_closed(&mut t);
    let _ = child.kill();
    let _ = child.wait();
    let Ok(Some(Bolt1Message::Init(init))) = first else { panic!("{first:?}") };
    assert_eq!(hex::encode(&init.tlvs), format!("0120{SIGNET}"));
    assert!(the_warning(&refused).contains("no common chain"));
}
