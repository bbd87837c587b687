//! Our BOLT 8 / BOLT 1 / SIDEPOOL-01 code against LDK's, both ways round:
//! our session dialling the LDK host, and LDK dialling our reference node.
//! The runner's cases cover our initiator's scripted peer; these cover the
//! session machine and the reference node's responder side.

use sidepool_conformance::node::core::{CoreAction, NodeCore};
use sidepool_conformance::node::{self, NodeConfig};
use sidepool_conformance::session::connection::Connection;
use sidepool_conformance::session::machine::{Action, SessionConfig};
use sidepool_conformance::transport::{connect, PrivateKey, TransportError};
use sidepool_ldk_iut::{start_with_core, IutConfig, RunningIut};
use sidepool_reference::messages::SwapPartyBegin;
use sidepool_reference::units::{PoolId, PublicKey};
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::Message;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GUARD: Duration = Duration::from_secs(20);
const ANSWER: u8 = 7;

type Seen = Arc<Mutex<Vec<(PublicKey, Message)>>>;

/// Records what it receives and answers every `swap_party_begin` that is not
/// itself an answer with one for pool [7; 16], so the route back is visible.
struct EchoCore(Seen);

impl NodeCore for EchoCore {
    fn peer_ready(&mut self, _: PublicKey, _: &FeatureSet) -> Vec<CoreAction> {
        Vec::new()
    }
    fn message(&mut self, peer: PublicKey, message: Message) -> Vec<CoreAction> {
        let answer = !matches!(&message, Message::SwapPartyBegin(b) if b.id == PoolId([ANSWER; 16]));
        self.0.lock().unwrap().push((peer, message));
        if answer {
            vec![CoreAction::Send { peer, message: Box::new(begin(ANSWER)) }]
        } else {
            Vec::new()
        }
    }
    fn peer_gone(&mut self, _: PublicKey) -> Vec<CoreAction> {
        Vec::new()
    }
}

fn begin(byte: u8) -> Message {
    Message::SwapPartyBegin(SwapPartyBegin { id: PoolId([byte; 16]), irregular_authorization: None, unknown: Vec::new() })
}

fn ldk_with_echo() -> (RunningIut, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let core_seen = Arc::clone(&seen);
    let config = IutConfig { adapter_listen: None, ..IutConfig::local() };
    let iut = start_with_core(config, move |_, _, _| Ok(Box::new(EchoCore(core_seen)))).unwrap();
    (iut, seen)
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + GUARD;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not in time");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn our_session_dials_ldk_and_sidepool_messages_flow_both_ways() {
    let (iut, seen) = ldk_with_echo();
    let stream = TcpStream::connect(iut.listen).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let me = PrivateKey::from_bytes([0x51; 32]).unwrap();
    let transport = connect(stream, me.clone(), iut.node_id).unwrap();
    let (mut conn, _) = Connection::start(transport, SessionConfig::default()).unwrap();
    let deadline = Instant::now() + GUARD;
    let theirs = loop {
        assert!(Instant::now() < deadline, "no SidepoolReady from LDK");
        let actions = conn.poll().unwrap();
        assert!(!actions.iter().any(|a| matches!(a, Action::Disconnect(_))), "{actions:?}");
        if let Some(Action::SidepoolReady { peer_features }) = actions.into_iter().find(|a| matches!(a, Action::SidepoolReady { .. })) {
            break peer_features;
        }
    };
    assert_eq!(theirs, FeatureSet::from_bits([1]), "the reference core's features, through LDK");
    // LDK's init as our session parsed it: 1263 optional, next to LDK's own bits.
    let init = conn.session().peer_init().unwrap().all_features();
    assert!(init.has(1263) && !init.has(1262), "{init:?}");
    assert!(init.has(9) || init.has(8), "LDK sets var_onion_optin: {init:?}");

    assert!(conn.send_sidepool(begin(0x33)).unwrap().is_empty());
    let deadline = Instant::now() + GUARD;
    loop {
        assert!(Instant::now() < deadline, "no answer through LDK");
        match conn.poll() {
            Ok(actions) if actions.contains(&Action::Deliver(begin(ANSWER))) => break,
            Ok(_) | Err(TransportError::Timeout) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    let got = seen.lock().unwrap().clone();
    assert_eq!(got, vec![(me.public_key(), begin(0x33))]);
    iut.shutdown();
}

#[test]
fn ldk_dials_the_reference_node_and_sidepool_messages_flow_both_ways() {
    let reference_seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let config = NodeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        key: PrivateKey::from_bytes([0x52; 32]).unwrap(),
        session: SessionConfig::default(),
        verbose: false,
    };
    let reference = node::start(config, Box::new(EchoCore(Arc::clone(&reference_seen)))).unwrap();
    let reference_id = reference.shared.node_id();
    let (iut, ldk_seen) = ldk_with_echo();
    iut.connect(reference_id, reference.listen);
    wait_for("both sides sidepool-ready", || {
        reference.shared.connected_peers() == vec![iut.node_id] && iut.handler.ready_peers() == vec![reference_id]
    });
    // The reference node speaks first; LDK's core answers through LDK.
    reference.shared.route(vec![CoreAction::Send { peer: iut.node_id, message: Box::new(begin(0x44)) }]);
    wait_for("the answer reaches the reference node", || !reference_seen.lock().unwrap().is_empty());
    assert_eq!(ldk_seen.lock().unwrap().clone(), vec![(reference_id, begin(0x44))]);
    assert_eq!(reference_seen.lock().unwrap().clone(), vec![(iut.node_id, begin(ANSWER))]);
    iut.shutdown();
    reference.shutdown();
}

#[test]
fn our_pongs_satisfy_ldk_so_it_keeps_the_connection() {
    // LDK pings every tick and drops a peer that has sent nothing by the next one.
    let tick = Duration::from_millis(500);
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let core_seen = Arc::clone(&seen);
    let config = IutConfig { adapter_listen: None, timer_tick: tick, ..IutConfig::local() };
    let iut = start_with_core(config, move |_, _, _| Ok(Box::new(EchoCore(core_seen)))).unwrap();
    let stream = TcpStream::connect(iut.listen).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let transport = connect(stream, PrivateKey::from_bytes([0x53; 32]).unwrap(), iut.node_id).unwrap();
    transport.get_ref().set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    let (mut conn, _) = Connection::start(transport, SessionConfig::default()).unwrap();
    // Our session answers LDK's pings while we read, for five ticks.
    let until = Instant::now() + tick * 5;
    while Instant::now() < until {
        match conn.poll() {
            Ok(actions) => assert!(!actions.iter().any(|a| matches!(a, Action::Disconnect(_))), "{actions:?}"),
            Err(TransportError::Timeout) => {}
            Err(e) => panic!("LDK dropped us: {e:?}"),
        }
    }
    assert_eq!(iut.peer_manager.list_peers().len(), 1);
    assert!(conn.send_sidepool(begin(0x35)).unwrap().is_empty());
    wait_for("LDK's core got our message", || !seen.lock().unwrap().is_empty());
    iut.shutdown();
}

/// BOLT 1 messages as LDK's codec writes them, read by ours, and back: the
/// loopback runs never carry `init` TLVs (LDK omits private addresses), so
/// the TLV path is checked here with a public address and a chain list.
#[test]
fn bolt1_messages_round_trip_between_ldk_codec_and_ours() {
    use lightning::ln::msgs::{self as ldk, SocketAddress};
    use lightning::types::features::InitFeatures;
    use lightning::util::ser::{LengthReadable, Writeable};
    use sidepool_conformance::session::{Bolt1Message, BoltFeatures, Init};

    let mut features = InitFeatures::empty();
    features.set_variable_length_onion_required();
    features.set_static_remote_key_optional();
    features.set_optional_custom_bit(1263).unwrap();
    let theirs = ldk::Init {
        features,
        networks: Some(vec![bitcoin::constants::ChainHash::BITCOIN]),
        remote_network_address: Some(SocketAddress::TcpIpV4 { addr: [203, 0, 113, 7], port: 9735 }),
    };
    let bytes = [&16u16.to_be_bytes()[..], &theirs.encode()].concat();
    let Ok(Some(Bolt1Message::Init(ours))) = Bolt1Message::decode(&bytes) else { panic!("{}", hex::encode(&bytes)) };
    assert_eq!(ours.all_features(), BoltFeatures::from_bits([8, 13, 1263]));
    assert!(!ours.tlvs.is_empty(), "LDK's networks and remote_network_address TLVs kept");

    let mine = Init { features: BoltFeatures::from_bits([9, 1263]), ..Init::default() };
    let encoded = Bolt1Message::Init(mine).encode();
    let back = ldk::Init::read_from_fixed_length_buffer(&mut &encoded[2..]).unwrap();
    assert!(back.features.supports_variable_length_onion() && !back.features.requires_unknown_bits());
    assert!(back.features.supports_unknown_bits(), "1263 is a custom bit to LDK");

    let ping = ldk::Ping { ponglen: 10, byteslen: 3 };
    assert_eq!([&18u16.to_be_bytes()[..], &ping.encode()].concat(), Bolt1Message::Ping { num_pong_bytes: 10, ignored_len: 3 }.encode());
    let pong = ldk::Pong { byteslen: 10 };
    assert_eq!([&19u16.to_be_bytes()[..], &pong.encode()].concat(), Bolt1Message::Pong { ignored_len: 10 }.encode());
}
