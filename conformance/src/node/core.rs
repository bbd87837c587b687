//! What the node does with sidepool messages: the protocol core behind the
//! network shell. The shell (net.rs) owns sockets and threads; a core owns
//! protocol state and answers events with actions, so it can be tested and
//! swapped without any IO.

use crate::adapter::event::Event as AdapterEvent;
use crate::adapter::request::Request;
use crate::adapter::response::{AdapterError, Response};
use sidepool_reference::units::PublicKey;
use std::sync::mpsc::Sender;
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::Message;

/// Something the core wants the shell to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreAction {
    /// Send a sidepool message to a connected peer.
    Send { peer: PublicKey, message: Box<Message> },
    /// A line for the node's log.
    Log(String),
}

/// The protocol core of a node. Calls are serialised by the shell.
pub trait NodeCore: Send {
    /// The peer completed `init` and its `my_sidepool_features` allows sidepool messages.
    fn peer_ready(&mut self, peer: PublicKey, features: &FeatureSet) -> Vec<CoreAction>;
    /// A decoded sidepool message from a peer whose features allow them.
    fn message(&mut self, peer: PublicKey, message: Message) -> Vec<CoreAction>;
    /// A `peerswap_init` that did not decode but names its peerswap.
    fn malformed_init(&mut self, peer: PublicKey, init: sidepool_reference::peerswap::malformed::MalformedInit) -> Vec<CoreAction> {
        let _ = (peer, init);
        Vec::new()
    }
    /// The connection to the peer ended.
    fn peer_gone(&mut self, peer: PublicKey) -> Vec<CoreAction>;
    /// An adapter request: its answer, and the wire actions it caused.
    fn adapter(&mut self, req: Request) -> (Result<Response, AdapterError>, Vec<CoreAction>) {
        let _ = req;
        (Err(AdapterError::unsupported("this node core has no adapter")), Vec::new())
    }
    /// Where adapter events go from now on.
    fn set_event_sink(&mut self, tx: Sender<AdapterEvent>) {
        let _ = tx;
    }
}

/// A core that only records what it saw: the shell's own tests use it, and the
/// node runs it until a peerswap engine is plugged in.
#[derive(Debug, Default)]
pub struct RecordingCore {
    pub seen: Vec<(PublicKey, Message)>,
}

impl NodeCore for RecordingCore {
    fn peer_ready(&mut self, peer: PublicKey, features: &FeatureSet) -> Vec<CoreAction> {
        let bits: Vec<u64> = features.bits().collect();
        vec![CoreAction::Log(format!("peer {peer} ready, sidepool features {bits:?}"))]
    }

    fn message(&mut self, peer: PublicKey, message: Message) -> Vec<CoreAction> {
        let line = format!("peer {peer} sent {}", message.name());
        self.seen.push((peer, message));
        vec![CoreAction::Log(line)]
    }

    fn peer_gone(&mut self, peer: PublicKey) -> Vec<CoreAction> {
        vec![CoreAction::Log(format!("peer {peer} disconnected"))]
    }
}
