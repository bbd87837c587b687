//! LDK's `CustomMessageHandler` hooks mapped onto a [`NodeCore`]:
//!
//! | LDK hook | what happens |
//! | --- | --- |
//! | `provided_init_features` / `provided_node_features` | optional custom bit 1263 |
//! | `peer_connected(init)` | a SIDEPOOL-01 [`Session`] per peer; it answers with `my_sidepool_features` |
//! | `handle_custom_message(53609)` | the session judges it; once ready its messages go to `core.message` |
//! | the peer's `my_sidepool_features` accepted | `core.peer_ready` |
//! | `peer_disconnected` | `core.peer_gone` (if it was ready) |
//! | `get_and_clear_pending_msg` | the outbox the session filled |
//!
//! LDK owns BOLT 8 and BOLT 1 (`init`, ping/pong, unknown types); the session
//! only runs the SIDEPOOL-01 part, the very code our own node runs.

use crate::wire::{SidepoolReader, SidepoolWire};
use lightning::ln::msgs::{DecodeError, Init as LdkInit, LightningError};
use lightning::ln::peer_handler::CustomMessageHandler;
use lightning::ln::wire::CustomMessageReader;
use lightning::types::features::{InitFeatures, NodeFeatures};
use lightning::util::ser::LengthLimitedRead;
use sidepool_conformance::adapter::event::Event as AdapterEvent;
use sidepool_conformance::adapter::request::Request;
use sidepool_conformance::adapter::response::{AdapterError, Response};
use sidepool_conformance::node::core::{CoreAction, NodeCore};
use sidepool_conformance::session::machine::{Action, Event, Session, SessionConfig, SIDEPOOL_BOLT_BIT};
use sidepool_conformance::session::{BoltFeatures, Init};
use sidepool_reference::units::PublicKey;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

type LdkKey = bitcoin::secp256k1::PublicKey;

/// What the handler guards: the core and the per-peer SIDEPOOL-01 sessions.
struct HostState {
    core: Box<dyn NodeCore>,
    sessions: BTreeMap<PublicKey, Session>,
    /// Peers whose `my_sidepool_features` was accepted (the core knows them).
    ready: BTreeSet<PublicKey>,
    /// Messages for LDK to send at its next `process_events`.
    outbox: Vec<(LdkKey, SidepoolWire)>,
}

/// The handler given to LDK's `PeerManager` as its custom message handler.
pub struct SidepoolHandler {
    state: Mutex<HostState>,
    session: SessionConfig,
    /// Woken when the outbox has something outside an LDK callback (an adapter
    /// request): the host then calls `PeerManager::process_events`.
    wake: Arc<Notify>,
    verbose: bool,
    /// Counts what LDK hands us (messages, connects, disconnects): the adapter's
    /// `sync` takes an unchanged count across a runtime round trip as settled.
    activity: AtomicU64,
}

impl SidepoolHandler {
    pub fn new(core: Box<dyn NodeCore>, session: SessionConfig, wake: Arc<Notify>, verbose: bool) -> SidepoolHandler {
        let state = HostState { core, sessions: BTreeMap::new(), ready: BTreeSet::new(), outbox: Vec::new() };
        SidepoolHandler { state: Mutex::new(state), session, wake, verbose, activity: AtomicU64::new(0) }
    }

    /// How many messages, connects and disconnects LDK has handed over so far.
    pub fn activity(&self) -> u64 {
        self.activity.load(Ordering::SeqCst)
    }

    /// Whether messages wait in the outbox for LDK's next `process_events`.
    pub fn outbox_pending(&self) -> bool {
        self.lock().is_some_and(|s| !s.outbox.is_empty())
    }

    fn log(&self, line: &str) {
        if self.verbose {
            eprintln!("ldk-iut: {line}");
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, HostState>> {
        let guard = self.state.lock().ok();
        if guard.is_none() {
            self.log("host state lock poisoned; event dropped");
        }
        guard
    }

    /// One adapter request against the core; the messages it causes go out at once.
    pub fn adapter(&self, req: Request) -> Result<Response, AdapterError> {
        let Some(mut state) = self.lock() else { return Err(AdapterError::internal("host state lock poisoned")) };
        let (answer, actions) = state.core.adapter(req);
        self.route(&mut state, actions);
        let queued = !state.outbox.is_empty();
        drop(state);
        if queued {
            self.wake.notify_one();
        }
        answer
    }

    /// Points the core's adapter events at `tx`.
    pub fn set_event_sink(&self, tx: Sender<AdapterEvent>) {
        if let Some(mut state) = self.lock() {
            state.core.set_event_sink(tx);
        }
    }

    /// The peers whose sidepool exchange completed.
    pub fn ready_peers(&self) -> Vec<PublicKey> {
        self.lock().map(|s| s.ready.iter().copied().collect()).unwrap_or_default()
    }

    /// Core actions: sends go through the peer's session (which applies SIDEPOOL-01's gates).
    fn route(&self, state: &mut HostState, actions: Vec<CoreAction>) {
        for action in actions {
            match action {
                CoreAction::Log(line) => self.log(&line),
                CoreAction::Send { peer, message } => {
                    let Some(session) = state.sessions.get_mut(&peer) else {
                        self.log(&format!("cannot send to {peer}: not connected"));
                        continue;
                    };
                    let out = session.handle(Event::SendSidepool(message));
                    self.session_actions(state, peer, out);
                }
            }
        }
    }

    /// What a peer's session asks for.
    fn session_actions(&self, state: &mut HostState, peer: PublicKey, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send(bytes) => match SidepoolWire::from_message(&bytes) {
                    Some(wire) => state.outbox.push((peer.to_secp(), wire)),
                    // Only BOLT 1 traffic would be anything else, and that is LDK's.
                    None => self.log(&format!("session wanted to send a non-53609 message to {peer}; LDK owns BOLT 1")),
                },
                Action::Deliver(message) => {
                    let out = state.core.message(peer, message);
                    self.route(state, out);
                }
                Action::DeliverMalformedInit(init) => {
                    let out = state.core.malformed_init(peer, init);
                    self.route(state, out);
                }
                Action::SidepoolReady { peer_features } => {
                    state.ready.insert(peer);
                    let out = state.core.peer_ready(peer, &peer_features);
                    self.route(state, out);
                }
                Action::Refused { sub_id, reason } => self.log(&format!("not sent to {peer}: sub-id {sub_id} ({reason:?})")),
                Action::Disconnect(reason) => self.log(&format!("session of {peer} ended: {reason:?}")),
                Action::PeerWarning(n) => self.log(&format!("warning from {peer}: {n:?}")),
                Action::PeerError(n) => self.log(&format!("error from {peer}: {n:?}")),
                Action::Log { level, message } => self.log(&format!("{level:?} {peer}: {message}")),
            }
        }
    }
}

/// LDK's `init` as our session reads it. LDK has already merged `globalfeatures`
/// into `features` and applied BOLT 1's unknown-even-bit rule.
pub fn init_from_ldk(init: &LdkInit) -> Init {
    // LDK keeps the bitfield little-endian; BOLT 9 order is big-endian.
    let big_endian: Vec<u8> = init.features.le_flags().iter().rev().copied().collect();
    Init { features: BoltFeatures::decode(&big_endian), ..Init::default() }
}

/// The feature bit we add to LDK's, in `init` and `node_announcement` alike.
macro_rules! with_sidepool_bit {
    ($features:expr) => {{
        let mut features = $features;
        // SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST set feature bit 1263 (`sidepool_bolt_feature_bit`) in their `init` messages and in their `node_annoucement`s."
        // 1263 is odd, in bLIP 2's custom range and unknown to LDK, so setting it cannot fail.
        let _ = features.set_optional_custom_bit(SIDEPOOL_BOLT_BIT as usize);
        features
    }};
}

impl CustomMessageReader for SidepoolHandler {
    type CustomMessage = SidepoolWire;

    fn read<R: LengthLimitedRead>(&self, message_type: u16, buffer: &mut R) -> Result<Option<SidepoolWire>, DecodeError> {
        SidepoolReader::read_message(message_type, buffer)
    }
}

impl CustomMessageHandler for SidepoolHandler {
    fn handle_custom_message(&self, msg: SidepoolWire, sender: LdkKey) -> Result<(), LightningError> {
        let peer = PublicKey::from_secp(&sender);
        self.activity.fetch_add(1, Ordering::SeqCst);
        let Some(mut state) = self.lock() else { return Ok(()) };
        let Some(session) = state.sessions.get_mut(&peer) else {
            self.log(&format!("53609 from {peer} without a session dropped"));
            return Ok(());
        };
        let out = session.handle(Event::Received(msg.to_message()));
        self.session_actions(&mut state, peer, out);
        Ok(())
    }

    fn get_and_clear_pending_msg(&self) -> Vec<(LdkKey, SidepoolWire)> {
        self.lock().map(|mut s| std::mem::take(&mut s.outbox)).unwrap_or_default()
    }

    fn peer_disconnected(&self, their_node_id: LdkKey) {
        let peer = PublicKey::from_secp(&their_node_id);
        self.activity.fetch_add(1, Ordering::SeqCst);
        let Some(mut state) = self.lock() else { return };
        state.sessions.remove(&peer);
        state.outbox.retain(|(to, _)| *to != their_node_id);
        if state.ready.remove(&peer) {
            let out = state.core.peer_gone(peer);
            self.route(&mut state, out);
        }
    }

    fn peer_connected(&self, their_node_id: LdkKey, msg: &LdkInit, _inbound: bool) -> Result<(), ()> {
        let peer = PublicKey::from_secp(&their_node_id);
        self.activity.fetch_add(1, Ordering::SeqCst);
        let Some(mut state) = self.lock() else { return Ok(()) };
        let mut session = Session::new(self.session.clone());
        // SIDEPOOL-01: "Send the `my_sidepool_features` message to the counterparty."
        let out = session.host_accepted_init(init_from_ldk(msg));
        state.sessions.insert(peer, session);
        self.session_actions(&mut state, peer, out);
        Ok(())
    }

    fn provided_node_features(&self) -> NodeFeatures {
        with_sidepool_bit!(NodeFeatures::empty())
    }

    fn provided_init_features(&self, _their_node_id: LdkKey) -> InitFeatures {
        with_sidepool_bit!(InitFeatures::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightning::util::ser::Writeable;
    use sidepool_conformance::node::core::RecordingCore;
    use sidepool_reference::messages::MySidepoolFeatures;
    use sidepool_reference::wire::features::FeatureSet;
    use sidepool_reference::{Decoded, Message};

    fn key(byte: u8) -> LdkKey {
        let secp = bitcoin::secp256k1::Secp256k1::new();
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&[byte; 32]).unwrap();
        LdkKey::from_secret_key(&secp, &sk)
    }

    fn ldk_init(bits: &[usize]) -> LdkInit {
        let mut features = InitFeatures::empty();
        for &b in bits {
            features.set_optional_custom_bit(b).unwrap();
        }
        LdkInit { features, networks: None, remote_network_address: None }
    }

    fn handler() -> SidepoolHandler {
        SidepoolHandler::new(Box::new(RecordingCore::default()), SessionConfig::default(), Arc::new(Notify::new()), false)
    }

    fn features_message(bits: &[u64]) -> SidepoolWire {
        let m = Message::MySidepoolFeatures(MySidepoolFeatures { features: FeatureSet::from_bits(bits.iter().copied()), unknown: Vec::new() });
        SidepoolWire::from_message(&m.encode()).unwrap()
    }

    #[test]
    fn our_init_and_node_features_offer_1263_optionally() {
        let h = handler();
        let init = h.provided_init_features(key(1));
        assert!(init.supports_unknown_bits() && !init.requires_unknown_bits());
        let ours = init_from_ldk(&LdkInit { features: init, networks: None, remote_network_address: None });
        assert_eq!(ours.features, BoltFeatures::from_bits([1263]));
        assert!(!h.provided_node_features().encode().is_empty());
    }

    #[test]
    fn the_sidepool_exchange_runs_over_ldk_hooks() {
        let h = handler();
        let alice = key(1);
        h.peer_connected(alice, &ldk_init(&[1263, 301]), true).unwrap();
        let sent = h.get_and_clear_pending_msg();
        let [(to, wire)] = sent.as_slice() else { panic!("{sent:?}") };
        assert_eq!(*to, alice);
        let Ok(Decoded::Known(Message::MySidepoolFeatures(f))) = Message::decode(&wire.to_message()) else { panic!() };
        assert_eq!(f.features, FeatureSet::from_bits([1]));
        assert!(h.ready_peers().is_empty());
        h.handle_custom_message(features_message(&[1]), alice).unwrap();
        assert_eq!(h.ready_peers(), vec![PublicKey::from_secp(&alice)]);
        h.peer_disconnected(alice);
        assert!(h.ready_peers().is_empty());
    }

    #[test]
    fn a_peer_without_1263_gets_nothing() {
        let h = handler();
        h.peer_connected(key(2), &ldk_init(&[301]), true).unwrap();
        assert!(h.get_and_clear_pending_msg().is_empty());
        h.handle_custom_message(features_message(&[1]), key(2)).unwrap();
        assert!(h.ready_peers().is_empty() && h.get_and_clear_pending_msg().is_empty());
        // A stray message from a peer LDK never announced is dropped, not a panic.
        h.handle_custom_message(features_message(&[1]), key(3)).unwrap();
    }
}
