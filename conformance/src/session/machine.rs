//! The BOLT 1 session and SIDEPOOL-01's feature handshake as one sans-IO
//! state machine: `handle(event) -> actions`. The IO edge decrypts frames and
//! feeds whole Lightning messages in; it sends whatever `Action::Send` says.

// Sidepool messages travel as BOLT 1 messages of type 53609 over BOLT 8, in the session a Lightning node keeps:
// SIDEPOOL-01: "That is, sidepool participants MUST be Lightning Network nodes, and communicate with each other using the normal Lightning Network communications protocol."

use super::bolt1::{Bolt1Message, BoltFeatures, Init, Notice, PING_NO_REPLY_FROM};
use super::bolt9::{bolt9_feature_bits, missing_dependencies, MissingDependency};
use bitcoin::constants::ChainHash;
use sidepool_reference::messages::MySidepoolFeatures;
use sidepool_reference::wire::envelope::{self, SIDEPOOL_MESSAGE_ID};
use sidepool_reference::wire::features::{FeatureSet, PEERSWAP_IN_SIDEPOOL_FEATURE_BIT, SIDEPOOL_BOLT_FEATURE_BIT};
use sidepool_reference::{Decoded, Message};

/// The BOLT feature bit we set; its even partner is the compulsory form.
pub const SIDEPOOL_BOLT_BIT: u32 = SIDEPOOL_BOLT_FEATURE_BIT as u32;

/// BOLT 7 gossip message types. A Lightning peer may relay gossip on any connection;
/// this node keeps no network graph, so it knows these types and drops them.
pub const GOSSIP_MESSAGE_TYPES: &[u16] = &[256, 257, 258, 259, 261, 262, 263, 264, 265];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// BOLT feature bits for our `init`.
    pub bolt_features: BoltFeatures,
    /// BOLT feature bits we understand: an even bit from the peer outside this list ends the connection.
    pub known_bolt_features: Vec<u32>,
    /// Message types we know but do not act on: dropped silently, even ones included.
    pub ignored_message_types: Vec<u16>,
    /// Our SIDEPOOL feature set, sent in `my_sidepool_features`.
    pub sidepool_features: FeatureSet,
    /// The chains we are interested in: sent as `networks` in our `init`, and a
    /// peer whose `networks` names none of them is refused. Empty: no `networks`
    /// sent and none checked.
    pub chains: Vec<ChainHash>,
}

impl SessionConfig {
    /// The default configuration for one chain.
    pub fn for_network(network: bitcoin::Network) -> SessionConfig {
        SessionConfig { chains: vec![network.chain_hash()], ..SessionConfig::default() }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            // SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST set feature bit 1263 (`sidepool_bolt_feature_bit`) in their `init` messages and in their `node_annoucement`s."
            bolt_features: BoltFeatures::from_bits([SIDEPOOL_BOLT_BIT]),
            known_bolt_features: [bolt9_feature_bits(), vec![SIDEPOOL_BOLT_BIT - 1, SIDEPOOL_BOLT_BIT]].concat(),
            ignored_message_types: GOSSIP_MESSAGE_TYPES.to_vec(),
            // SIDEPOOL-10: "Peerswap-in-sidepool has the SIDEPOOL feature bit 1 (`peerswap_in_sidepool_feature_bit`)."
            sidepool_features: FeatureSet::new().with(PEERSWAP_IN_SIDEPOOL_FEATURE_BIT),
            // A test node: regtest unless the operator names another chain (`node --network`).
            chains: vec![ChainHash::REGTEST],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The transport is up: send our `init`.
    Connected,
    /// One whole decrypted Lightning message from the peer.
    Received(Vec<u8>),
    /// The application wants to send this sidepool message.
    SendSidepool(Box<Message>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    /// Something the operator should see (SIDEPOOL-01's "warning or alarm").
    Warn,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The peer's first message was not `init`.
    ExpectedInit { got_type: u16 },
    /// A BOLT 1 message we know did not parse.
    Malformed { type_id: u16, detail: String },
    /// The peer's `init` sets even feature bits we do not know.
    UnknownEvenFeatures(Vec<u32>),
    /// The peer's `init` sets features without the features BOLT 9 says they depend on.
    MissingDependencies(Vec<MissingDependency>),
    /// The peer's `networks` names none of our chains.
    NoCommonChain { theirs: Vec<ChainHash> },
    /// A message type we do not know, and even.
    UnknownEvenMessage(u16),
    /// The message was shorter than its 2-byte type.
    NoType,
}

impl DisconnectReason {
    /// A stable machine name.
    pub fn name(&self) -> &'static str {
        match self {
            DisconnectReason::ExpectedInit { .. } => "expected_init",
            DisconnectReason::Malformed { .. } => "malformed",
            DisconnectReason::UnknownEvenFeatures(_) => "unknown_even_features",
            DisconnectReason::MissingDependencies(_) => "missing_feature_dependencies",
            DisconnectReason::NoCommonChain { .. } => "no_common_chain",
            DisconnectReason::UnknownEvenMessage(_) => "unknown_even_message",
            DisconnectReason::NoType => "no_type",
        }
    }

    /// What the `warning` before the close says: readable, and enough to find the fault.
    pub fn warning_text(&self) -> String {
        match self {
            DisconnectReason::ExpectedInit { got_type } => format!("expected init as the first message, got type {got_type}"),
            DisconnectReason::Malformed { type_id, detail } => format!("malformed message of type {type_id}: {detail}"),
            DisconnectReason::UnknownEvenFeatures(bits) => format!("unknown even feature bits {bits:?}"),
            DisconnectReason::MissingDependencies(missing) => {
                let each: Vec<String> = missing
                    .iter()
                    .map(|m| format!("bit {} ({}) needs {} ({}/{})", m.bit, m.feature, m.needs, m.needs_even, m.needs_even + 1))
                    .collect();
                format!("feature dependencies not set: {}", each.join("; "))
            }
            DisconnectReason::NoCommonChain { theirs } => {
                let theirs: Vec<String> = theirs.iter().map(|c| c.to_string()).collect();
                format!("no common chain: your networks are [{}]", theirs.join(", "))
            }
            DisconnectReason::UnknownEvenMessage(t) => format!("unknown even message type {t}"),
            DisconnectReason::NoType => "message shorter than its type".into(),
        }
    }
}

/// Why a sidepool message the application asked to send was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The peer's `init` has not arrived yet.
    AwaitingInit,
    /// The peer's `init` does not signal the SIDEPOOL BOLT feature bit.
    PeerNotSidepool,
    /// The peer's `my_sidepool_features` has not arrived yet.
    AwaitingPeerFeatures,
    /// The peer's feature set failed to parse or has an unknown even bit.
    PeerFeaturesRejected,
    /// `my_sidepool_features` is the session's own to send.
    SessionOwned,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Encrypt and send this whole Lightning message.
    Send(Vec<u8>),
    /// A sidepool message from the peer, for the application.
    Deliver(Message),
    /// A `peerswap_init` from the peer that did not decode but names its
    /// peerswap: the application rejects it (ERRATA E-03, E-05).
    DeliverMalformedInit(sidepool_reference::peerswap::malformed::MalformedInit),
    /// The peer's `my_sidepool_features` was accepted: sidepool messages may now flow.
    SidepoolReady {
        peer_features: FeatureSet,
    },
    PeerWarning(Notice),
    PeerError(Notice),
    /// The application's sidepool message was not sent.
    Refused {
        sub_id: u16,
        reason: Refusal,
    },
    /// Close the connection; nothing further is sent.
    Disconnect(DisconnectReason),
    Log {
        level: LogLevel,
        message: String,
    },
}

/// Where the SIDEPOOL-01 feature exchange stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SidepoolState {
    AwaitingInit,
    PeerNotSidepool,
    AwaitingPeerFeatures,
    Ready(FeatureSet),
    /// The peer's features were refused: all its sidepool messages are ignored, none are sent.
    Rejected,
}

#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    sent_init: bool,
    peer_init: Option<Init>,
    sidepool: SidepoolState,
    disconnected: bool,
}

fn log(level: LogLevel, message: impl Into<String>) -> Action {
    Action::Log { level, message: message.into() }
}

impl Session {
    pub fn new(config: SessionConfig) -> Session {
        Session {
            config,
            sent_init: false,
            peer_init: None,
            sidepool: SidepoolState::AwaitingInit,
            disconnected: false,
        }
    }

    pub fn sidepool_state(&self) -> &SidepoolState {
        &self.sidepool
    }

    pub fn peer_init(&self) -> Option<&Init> {
        self.peer_init.as_ref()
    }

    pub fn is_disconnected(&self) -> bool {
        self.disconnected
    }

    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        if self.disconnected {
            return vec![log(LogLevel::Debug, "event after disconnect ignored")];
        }
        let mut actions = Vec::new();
        // BOLT 1: "MUST send `init` as the first Lightning message for any connection."
        // On `Connected`, or before anything else if that event was skipped; never twice.
        if !self.sent_init {
            self.sent_init = true;
            actions.push(Action::Send(self.our_init()));
        }
        match event {
            Event::Connected => {}
            Event::Received(bytes) => actions.extend(self.on_message(&bytes)),
            Event::SendSidepool(message) => actions.extend(self.send_sidepool(*message)),
        }
        if actions.iter().any(|a| matches!(a, Action::Disconnect(_))) {
            self.disconnected = true;
        }
        actions
    }

    fn our_init(&self) -> Vec<u8> {
        // BOLT 1: "SHOULD set `networks` to all chains it will gossip or open channels for."
        // This node does neither; it names the chain its simulated world runs on.
        let tlvs = Init::networks_tlv(&self.config.chains);
        Bolt1Message::Init(Init { features: self.config.bolt_features.clone(), tlvs, ..Init::default() }).encode()
    }

    /// Ends the connection for a protocol violation, telling the peer why first.
    fn close_with_warning(reason: DisconnectReason) -> Vec<Action> {
        // BOLT 1: "SHOULD send `error` for protocol violations or internal errors that make channels unusable or that make further communication unusable."
        // We send a `warning`, not an `error`: an all-zero `error` makes the peer fail
        // every channel it has with us ("if `channel_id` is all zero: MUST fail all channels with the sending node."),
        // and closing a connection fails none. The `warning` carries the same diagnosis;
        // Core Lightning's connectd does the same before it closes for "No common network".
        let warning = Bolt1Message::Warning(Notice::connection(&reason.warning_text()));
        vec![Action::Send(warning.encode()), Action::Disconnect(reason)]
    }

    fn on_message(&mut self, bytes: &[u8]) -> Vec<Action> {
        // BOLT 1: "MUST wait to receive `init` before sending any other messages."
        // So a violation before the peer's `init` closes without a `warning`.
        let init_received = self.peer_init.is_some();
        let close = move |reason| {
            if init_received {
                Session::close_with_warning(reason)
            } else {
                vec![Action::Disconnect(reason)]
            }
        };
        let Some(type_id) = bytes.get(..2).map(|t| u16::from_be_bytes([t[0], t[1]])) else {
            return close(DisconnectReason::NoType);
        };
        let parsed = match Bolt1Message::decode(bytes) {
            Ok(parsed) => parsed,
            // BOLT 1: "upon receiving a known message with insufficient length for the contents: MUST close the connection."
            Err(e) => return close(DisconnectReason::Malformed { type_id, detail: e.to_string() }),
        };
        if self.peer_init.is_none() {
            return match parsed {
                Some(Bolt1Message::Init(init)) => self.on_init(init),
                // BOLT 1 makes `init` the first message of every connection.
                _ => close(DisconnectReason::ExpectedInit { got_type: type_id }),
            };
        }
        match parsed {
            Some(Bolt1Message::Init(_)) => vec![log(LogLevel::Warn, "second init ignored")],
            Some(Bolt1Message::Ping { num_pong_bytes, .. }) if num_pong_bytes < PING_NO_REPLY_FROM => {
                // BOLT 1: "MUST respond by sending a `pong`, with `byteslen` equal to `num_pong_bytes`."
                vec![Action::Send(Bolt1Message::Pong { ignored_len: num_pong_bytes }.encode())]
            }
            // BOLT 1: "otherwise (`num_pong_bytes` is **not** less than 65532): MUST ignore the `ping`."
            Some(Bolt1Message::Ping { .. }) => vec![log(LogLevel::Debug, "ping asking for no pong ignored")],
            Some(Bolt1Message::Pong { .. }) => vec![],
            Some(Bolt1Message::Warning(n)) => vec![Action::PeerWarning(n)],
            Some(Bolt1Message::Error(n)) => vec![Action::PeerError(n)],
            None if type_id == SIDEPOOL_MESSAGE_ID => self.on_sidepool(bytes),
            None if self.config.ignored_message_types.contains(&type_id) => vec![],
            // BOLT 1: "upon receiving a message of _odd_, unknown type: MUST ignore the received message."
            None if type_id % 2 == 1 => {
                vec![log(LogLevel::Debug, format!("unknown odd message type {type_id} ignored"))]
            }
            // BOLT 1: "upon receiving a message of _even_, unknown type: MUST close the connection."
            None => close(DisconnectReason::UnknownEvenMessage(type_id)),
        }
    }

    fn on_init(&mut self, init: Init) -> Vec<Action> {
        let features = init.all_features();
        // BOLT 1: "upon receiving unknown _even_ feature bits that are non-zero: MUST close the connection."
        let unknown = features.unknown_even_bits(&self.config.known_bolt_features);
        if !unknown.is_empty() {
            return Session::close_with_warning(DisconnectReason::UnknownEvenFeatures(unknown));
        }
        // BOLT 1: "if the feature vector does not set all known, transitive dependencies: MUST close the connection."
        let missing = missing_dependencies(&features);
        if !missing.is_empty() {
            return Session::close_with_warning(DisconnectReason::MissingDependencies(missing));
        }
        // BOLT 1: "upon receiving `networks` containing no common chains" / "MAY close the connection."
        // We do: this node's world is one chain, and a peer on another can do nothing
        // with it. A peer that sends no `networks` is not checked (nothing says which
        // chains it is on), nor is any peer when we name no chains ourselves.
        // `networks` parsed when the message was decoded, so an error cannot happen here.
        if let Ok(Some(theirs)) = init.networks() {
            if !self.config.chains.is_empty() && !theirs.iter().any(|c| self.config.chains.contains(c)) {
                return Session::close_with_warning(DisconnectReason::NoCommonChain { theirs });
            }
        }
        self.accept_init(init)
    }

    /// For a host whose own BOLT 1 layer sends our `init` and has already accepted
    /// the peer's (an LDK `PeerManager`, say): records the peer's `init` and starts
    /// the SIDEPOOL-01 exchange. The returned `Send` carries `my_sidepool_features`
    /// when the peer signals bit 1263; sidepool messages then go through [`Session::handle`].
    pub fn host_accepted_init(&mut self, init: Init) -> Vec<Action> {
        // The host sent its own init; this session never sends one.
        self.sent_init = true;
        if self.disconnected || self.peer_init.is_some() {
            return vec![log(LogLevel::Warn, "second init ignored")];
        }
        self.accept_init(init)
    }

    fn accept_init(&mut self, init: Init) -> Vec<Action> {
        let features = init.all_features();
        self.peer_init = Some(init);
        // SIDEPOOL-01: "Check if the BOLT-1 `init` message from the counterparty has the `sidepool_bolt_feature_bit` set, OR the counterparty has this feature bit set in its `node_announcement`."
        // Either bit of the 1262/1263 pair signals support (ERRATA E-32); this session sees no node_announcement (E-33).
        if !features.offers_pair(SIDEPOOL_BOLT_BIT) {
            self.sidepool = SidepoolState::PeerNotSidepool;
            return vec![log(LogLevel::Info, "peer does not signal SIDEPOOL (bit 1263): no sidepool messages")];
        }
        self.sidepool = SidepoolState::AwaitingPeerFeatures;
        let ours = Message::MySidepoolFeatures(MySidepoolFeatures {
            features: self.config.sidepool_features.clone(),
            unknown: Vec::new(),
        });
        // SIDEPOOL-01: "Send the `my_sidepool_features` message to the counterparty."
        vec![Action::Send(ours.encode())]
    }

    fn on_sidepool(&mut self, bytes: &[u8]) -> Vec<Action> {
        match self.sidepool {
            // SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST NOT send `sidepool_message_id` (53609) messages if the counterparty does not signal support via `sidepool_feature_bit` (1263) in their `init` message."
            // A peer that did not signal cannot be answered, so its sidepool messages are ignored (ERRATA E-33).
            SidepoolState::AwaitingInit | SidepoolState::PeerNotSidepool => {
                return vec![log(LogLevel::Warn, "sidepool message from a peer that did not signal bit 1263 ignored")];
            }
            // SIDEPOOL-01: "MUST ignore all subsequent SIDEPOOL messages."
            SidepoolState::Rejected => {
                return vec![log(LogLevel::Debug, "sidepool message ignored: peer features rejected")]
            }
            SidepoolState::AwaitingPeerFeatures | SidepoolState::Ready(_) => {}
        }
        // The type was checked by the caller, so `open` only fails on a missing sub-id.
        let env = match envelope::open(bytes) {
            Ok(env) => env,
            Err(e) => return self.malformed_sidepool(None, &e.to_string()),
        };
        let decoded = Message::decode_tlvs(env.sub_id, env.tlvs);
        match (&self.sidepool, decoded) {
            (SidepoolState::AwaitingPeerFeatures, Ok(Decoded::Known(Message::MySidepoolFeatures(theirs)))) => {
                self.on_peer_features(theirs.features)
            }
            (SidepoolState::AwaitingPeerFeatures, Err(e)) if env.sub_id == MySidepoolFeatures::DEF.sub_id => {
                // SIDEPOOL-01: "If parsing the features set fails, or if an unrecognized even feature bit is set:"
                self.sidepool = SidepoolState::Rejected;
                vec![log(
                    LogLevel::Warn,
                    format!("peer's my_sidepool_features does not parse ({e}): sidepool disabled with this peer"),
                )]
            }
            (SidepoolState::AwaitingPeerFeatures, _) => {
                // SIDEPOOL-01: "However, participants MUST NOT send any other messages other than `my_sidepool_features` below until they have received a `my_sidepool_features` message from the peer."
                // The peer broke that rule; its message is ignored, not acted on (ERRATA E-34).
                vec![log(
                    LogLevel::Warn,
                    format!("sidepool sub-id {} before the peer's my_sidepool_features ignored", env.sub_id),
                )]
            }
            (_, Ok(Decoded::Known(Message::MySidepoolFeatures(_)))) => {
                vec![log(LogLevel::Warn, "repeated my_sidepool_features ignored (ERRATA E-34)")]
            }
            (_, Ok(Decoded::Known(message))) => vec![Action::Deliver(message)],
            (_, Ok(Decoded::IgnoredOdd { sub_id })) => {
                vec![log(LogLevel::Debug, format!("unknown odd sidepool sub-id {sub_id} ignored"))]
            }
            (_, Err(e)) => {
                let mut actions = self.malformed_sidepool(Some(env.sub_id), &e.to_string());
                if sidepool_reference::peerswap::malformed::is_init(env.sub_id) {
                    if let Some(m) = sidepool_reference::peerswap::malformed::read_malformed_init(env.tlvs) {
                        actions.push(Action::DeliverMalformedInit(m));
                    }
                }
                actions
            }
        }
    }

    fn malformed_sidepool(&self, sub_id: Option<u16>, detail: &str) -> Vec<Action> {
        // SIDEPOOL-01: "sidepool implementations may ignore unrecognized odd message IDs or TLV types, but in case of even message IDs or TLV types, should raise some kind of warning or alarm to the human operator."
        // Malformed or unknown-even sidepool messages are reported and dropped; the connection stays (ERRATA E-35).
        let which = sub_id.map_or_else(|| "without sub-id".to_owned(), |s| format!("sub-id {s}"));
        vec![log(LogLevel::Warn, format!("sidepool message {which} rejected: {detail}"))]
    }

    fn on_peer_features(&mut self, theirs: FeatureSet) -> Vec<Action> {
        // SIDEPOOL-01: "If the counterparty has an even feature bit that you do not recognize, you MUST NOT send any `sidepool_message_id` messages to that counterparty."
        if !theirs.allows_sidepool_messages() {
            // SIDEPOOL-01: "MUST NOT send any SIDEPOOL messages to the peer."
            self.sidepool = SidepoolState::Rejected;
            let bits = theirs.unknown_even_bits(sidepool_reference::wire::features::KNOWN_FEATURE_BITS);
            return vec![log(
                LogLevel::Warn,
                format!("peer sets unknown even SIDEPOOL feature bits {bits:?}: sidepool disabled with this peer"),
            )];
        }
        // SIDEPOOL-01: "Otherwise, MAY now send SIDEPOOL messages to the peer."
        self.sidepool = SidepoolState::Ready(theirs.clone());
        vec![Action::SidepoolReady { peer_features: theirs }]
    }

    fn send_sidepool(&mut self, message: Message) -> Vec<Action> {
        let sub_id = message.sub_id();
        let refuse = |reason| vec![Action::Refused { sub_id, reason }];
        if matches!(message, Message::MySidepoolFeatures(_)) {
            return refuse(Refusal::SessionOwned);
        }
        match self.sidepool {
            SidepoolState::AwaitingInit => refuse(Refusal::AwaitingInit),
            SidepoolState::PeerNotSidepool => refuse(Refusal::PeerNotSidepool),
            // SIDEPOOL-01: "However, participants MUST NOT send any other messages other than `my_sidepool_features` below until they have received a `my_sidepool_features` message from the peer."
            SidepoolState::AwaitingPeerFeatures => refuse(Refusal::AwaitingPeerFeatures),
            SidepoolState::Rejected => refuse(Refusal::PeerFeaturesRejected),
            SidepoolState::Ready(_) => vec![Action::Send(message.encode())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::bolt1::{PING, PONG};
    use proptest::prelude::*;
    use sidepool_reference::messages::SwapPartyBegin;
    use sidepool_reference::units::PoolId;

    fn init_with(bits: &[u32]) -> Vec<u8> {
        Bolt1Message::Init(Init { features: BoltFeatures::from_bits(bits.iter().copied()), ..Init::default() }).encode()
    }

    fn features_message(bits: &[u64]) -> Vec<u8> {
        let m = MySidepoolFeatures { features: FeatureSet::from_bits(bits.iter().copied()), unknown: Vec::new() };
        Message::MySidepoolFeatures(m).encode()
    }

    fn swap_party_begin() -> Message {
        Message::SwapPartyBegin(SwapPartyBegin {
            id: PoolId([7; 16]),
            irregular_authorization: None,
            unknown: Vec::new(),
        })
    }

    fn ping(num_pong_bytes: u16) -> Vec<u8> {
        Bolt1Message::Ping { num_pong_bytes, ignored_len: 3 }.encode()
    }

    /// A session that has sent its init and received the peer's (with `bits`).
    fn after_init(bits: &[u32]) -> (Session, Vec<Action>) {
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        let actions = s.handle(Event::Received(init_with(bits)));
        (s, actions)
    }

    fn ready() -> Session {
        let (mut s, _) = after_init(&[1263]);
        s.handle(Event::Received(features_message(&[1])));
        assert!(matches!(s.sidepool_state(), SidepoolState::Ready(_)));
        s
    }

    fn sends(actions: &[Action]) -> Vec<&Vec<u8>> {
        actions.iter().filter_map(|a| if let Action::Send(b) = a { Some(b) } else { None }).collect()
    }

    fn delivers(actions: &[Action]) -> bool {
        actions.iter().any(|a| matches!(a, Action::Deliver(_)))
    }

    fn warns(actions: &[Action]) -> bool {
        actions.iter().any(|a| matches!(a, Action::Log { level: LogLevel::Warn, .. }))
    }

    /// A close for a protocol violation: a connection-level `warning`, then the
    /// disconnect. Returns the warning's text and the reason.
    fn warned_close(actions: &[Action]) -> (String, DisconnectReason) {
        let [Action::Send(w), Action::Disconnect(reason)] = actions else { panic!("not warning + disconnect: {actions:?}") };
        let Ok(Some(Bolt1Message::Warning(n))) = Bolt1Message::decode(w) else { panic!("not a warning: {w:?}") };
        assert_eq!(n.channel_id, [0; 32], "connection-level");
        assert!(n.data.iter().all(|b| (32..=126).contains(b)), "printable: {n:?}");
        (n.text(), reason.clone())
    }

    fn init_from(init: Init) -> (Session, Vec<Action>) {
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        let actions = s.handle(Event::Received(Bolt1Message::Init(init).encode()));
        (s, actions)
    }

    fn with_networks(bits: &[u32], chains: &[ChainHash]) -> Init {
        Init { features: BoltFeatures::from_bits(bits.iter().copied()), tlvs: Init::networks_tlv(chains), ..Init::default() }
    }

    #[test]
    fn our_init_sets_bit_1263_and_nothing_else() {
        // SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST set feature bit 1263 (`sidepool_bolt_feature_bit`) in their `init` messages and in their `node_annoucement`s."
        let actions = Session::new(SessionConfig::default()).handle(Event::Connected);
        let [Action::Send(bytes)] = actions.as_slice() else { panic!("{actions:?}") };
        let Some(Bolt1Message::Init(init)) = Bolt1Message::decode(bytes).unwrap() else { panic!() };
        assert_eq!(init.all_features(), BoltFeatures::from_bits([1263]));
        assert!(init.global_features.bits().next().is_none());
    }

    #[test]
    fn init_goes_first_exactly_once() {
        let mut s = Session::new(SessionConfig::default());
        let actions = s.handle(Event::Received(init_with(&[1263])));
        let sent = sends(&actions);
        assert_eq!(sent.len(), 2, "our init, then my_sidepool_features");
        assert!(matches!(Bolt1Message::decode(sent[0]), Ok(Some(Bolt1Message::Init(_)))));
        assert!(s.handle(Event::Connected).is_empty(), "no second init");
    }

    #[test]
    fn ordinary_lightning_peers_are_tolerated() {
        // var_onion_optin and payment_secret compulsory, as deployed nodes set them.
        let (mut s, actions) = after_init(&[8, 14, 17, 1263]);
        assert!(!s.is_disconnected() && sends(&actions).len() == 1);
        // Relayed gossip (channel_announcement is even) is dropped, not fatal.
        assert!(s.handle(Event::Received(vec![0x01, 0x00, 0xaa])).is_empty());
        assert!(!s.is_disconnected());
        // A strict configuration knows only the SIDEPOOL pair.
        let strict = SessionConfig { known_bolt_features: vec![1262, 1263], ..SessionConfig::default() };
        let mut s = Session::new(strict);
        let actions = s.handle(Event::Received(init_with(&[8, 1263])));
        assert!(actions.contains(&Action::Disconnect(DisconnectReason::UnknownEvenFeatures(vec![8]))));
        // Every bit of the current BOLT 9 table, even or odd, with its dependencies, is known.
        let all: Vec<u32> = crate::session::bolt9::bolt9_feature_bits().into_iter().chain([1263]).collect();
        let (s, actions) = after_init(&all);
        assert!(!s.is_disconnected(), "{actions:?}");
    }

    #[test]
    fn a_hosted_session_leaves_init_to_its_host() {
        // The host (LDK) accepted an init with an even bit this config does not list: not our call.
        let mut s = Session::new(SessionConfig::default());
        let actions = s.host_accepted_init(Init { features: BoltFeatures::from_bits([1263, 4000]), ..Init::default() });
        let [Action::Send(bytes)] = actions.as_slice() else { panic!("{actions:?}") };
        assert!(matches!(Message::decode(bytes), Ok(Decoded::Known(Message::MySidepoolFeatures(_)))), "only my_sidepool_features, no init");
        let actions = s.handle(Event::Received(features_message(&[1])));
        assert_eq!(actions, vec![Action::SidepoolReady { peer_features: FeatureSet::from_bits([1]) }]);
        assert!(warns(&s.host_accepted_init(Init::default())));
        let (mut s, plain) = (Session::new(SessionConfig::default()), Init::default());
        assert!(sends(&s.host_accepted_init(plain)).is_empty());
        assert_eq!(s.sidepool_state(), &SidepoolState::PeerNotSidepool);
    }

    #[test]
    fn the_first_message_must_be_init() {
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        let actions = s.handle(Event::Received(ping(4)));
        assert_eq!(actions, vec![Action::Disconnect(DisconnectReason::ExpectedInit { got_type: PING })]);
        assert!(s.is_disconnected());
        assert!(sends(&s.handle(Event::Received(init_with(&[1263])))).is_empty(), "nothing after disconnect");
    }

    #[test]
    fn a_sidepool_peer_gets_our_features_right_after_its_init() {
        // SIDEPOOL-01: "Check if the BOLT-1 `init` message from the counterparty has the `sidepool_bolt_feature_bit` set, OR the counterparty has this feature bit set in its `node_announcement`."
        for bits in [&[1263][..], &[1262], &[1262, 1263], &[1, 1263]] {
            let (s, actions) = after_init(bits);
            let [Action::Send(bytes)] = actions.as_slice() else { panic!("{bits:?}: {actions:?}") };
            let Ok(Decoded::Known(Message::MySidepoolFeatures(ours))) = Message::decode(bytes) else { panic!() };
            assert_eq!(ours.features, FeatureSet::from_bits([1]), "SIDEPOOL bit 1, peerswap-in-sidepool");
            assert_eq!(s.sidepool_state(), &SidepoolState::AwaitingPeerFeatures);
        }
    }

    #[test]
    fn a_peer_without_bit_1263_hears_nothing_sidepool() {
        // SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST NOT send `sidepool_message_id` (53609) messages if the counterparty does not signal support via `sidepool_feature_bit` (1263) in their `init` message."
        let (mut s, actions) = after_init(&[1, 1261]);
        assert!(sends(&actions).is_empty());
        assert_eq!(s.sidepool_state(), &SidepoolState::PeerNotSidepool);
        let refused = s.handle(Event::SendSidepool(Box::new(swap_party_begin())));
        assert_eq!(refused, vec![Action::Refused { sub_id: 400, reason: Refusal::PeerNotSidepool }]);
        // Its own sidepool messages are ignored, features included (ERRATA E-33).
        let actions = s.handle(Event::Received(features_message(&[1])));
        assert!(sends(&actions).is_empty() && warns(&actions));
        assert_eq!(s.sidepool_state(), &SidepoolState::PeerNotSidepool);
        assert!(!delivers(&s.handle(Event::Received(swap_party_begin().encode()))));
    }

    #[test]
    fn unknown_even_bolt_features_end_the_connection_odd_ones_do_not() {
        let (s, actions) = after_init(&[1263, 100]);
        let (text, reason) = warned_close(&actions);
        assert_eq!(reason, DisconnectReason::UnknownEvenFeatures(vec![100]));
        assert_eq!(text, "unknown even feature bits [100]");
        assert!(s.is_disconnected());
        let (s, _) = after_init(&[1263, 101]);
        assert!(!s.is_disconnected());
        // The two bitmaps are ORed: an even bit in globalfeatures counts too.
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        let init = Init { global_features: BoltFeatures::from_bits([102]), ..Init::default() };
        let actions = s.handle(Event::Received(Bolt1Message::Init(init).encode()));
        assert_eq!(warned_close(&actions).1, DisconnectReason::UnknownEvenFeatures(vec![102]));
    }

    #[test]
    fn features_added_to_bolt9_since_the_older_table_are_tolerated_as_even() {
        // option_dual_fund, option_quiesce, option_onion_messages, option_provide_storage,
        // option_splice: in the current table, absent from the node's earlier one.
        for bit in [28, 34, 36, 38, 42, 62] {
            let (s, actions) = after_init(&[bit, 1263]);
            assert!(!s.is_disconnected(), "{bit}: {actions:?}");
        }
        // option_simple_close (60) with its dependency option_shutdown_anysegwit.
        let (s, _) = after_init(&[27, 60, 1263]);
        assert!(!s.is_disconnected());
    }

    #[test]
    fn a_feature_without_its_bolt9_dependency_ends_the_connection_with_a_warning() {
        // BOLT 1: "if the feature vector does not set all known, transitive dependencies: MUST close the connection."
        let (s, actions) = after_init(&[17, 1263]);
        let (text, reason) = warned_close(&actions);
        let DisconnectReason::MissingDependencies(missing) = reason else { panic!() };
        assert_eq!((missing.len(), missing[0].bit, missing[0].needs_even), (1, 17, 14));
        assert_eq!(text, "feature dependencies not set: bit 17 (basic_mpp) needs payment_secret (14/15)");
        assert!(s.is_disconnected());
        for bad in [&[16, 1263][..], &[51, 1263], &[50, 1263], &[61, 1263], &[8, 17, 51, 1263]] {
            let (s, actions) = after_init(bad);
            assert!(matches!(warned_close(&actions).1, DisconnectReason::MissingDependencies(_)), "{bad:?}");
            assert!(s.is_disconnected());
        }
        // With the dependency, in either parity, or across the two bitmaps: accepted.
        for good in [&[14, 17, 1263][..], &[15, 16, 1263], &[47, 51, 1263], &[26, 61, 1263]] {
            let (s, actions) = after_init(good);
            assert!(!s.is_disconnected(), "{good:?}: {actions:?}");
        }
        let split = Init { global_features: BoltFeatures::from_bits([14]), features: BoltFeatures::from_bits([17, 1263]), ..Init::default() };
        assert!(!init_from(split).0.is_disconnected());
        // Our own init sets every dependency of what it sets.
        let ours = SessionConfig::default().bolt_features;
        assert!(missing_dependencies(&ours).is_empty());
    }

    #[test]
    fn our_init_names_our_chain_in_networks() {
        let sent = sends(&Session::new(SessionConfig::default()).handle(Event::Connected)).first().map(|b| b.to_vec());
        let Some(Ok(Some(Bolt1Message::Init(init)))) = sent.map(|b| Bolt1Message::decode(&b)) else { panic!() };
        assert_eq!(init.networks(), Ok(Some(vec![ChainHash::REGTEST])));
        let signet = SessionConfig::for_network(bitcoin::Network::Signet);
        let sent = Session::new(signet).handle(Event::Connected);
        let [Action::Send(bytes)] = sent.as_slice() else { panic!() };
        let Ok(Some(Bolt1Message::Init(init))) = Bolt1Message::decode(bytes) else { panic!() };
        assert_eq!(init.networks(), Ok(Some(vec![ChainHash::SIGNET])));
        let none = SessionConfig { chains: Vec::new(), ..SessionConfig::default() };
        let sent = Session::new(none).handle(Event::Connected);
        let [Action::Send(bytes)] = sent.as_slice() else { panic!() };
        let Ok(Some(Bolt1Message::Init(init))) = Bolt1Message::decode(bytes) else { panic!() };
        assert_eq!(init.networks(), Ok(None));
    }

    #[test]
    fn a_peer_on_no_common_chain_is_refused_with_a_warning() {
        // BOLT 1: "upon receiving `networks` containing no common chains" / "MAY close the connection."
        let (s, actions) = init_from(with_networks(&[1263], &[ChainHash::BITCOIN]));
        let (text, reason) = warned_close(&actions);
        assert_eq!(reason, DisconnectReason::NoCommonChain { theirs: vec![ChainHash::BITCOIN] });
        assert!(text.starts_with("no common chain: your networks are [6fe28c0ab6f1b372"), "{text}");
        assert!(s.is_disconnected());
        // An empty list names no common chain either.
        let (s, _) = init_from(with_networks(&[1263], &[]));
        assert!(!s.is_disconnected(), "networks_tlv(&[]) sends no TLV at all");
        let empty = Init { features: BoltFeatures::from_bits([1263]), tlvs: vec![0x01, 0x00], ..Init::default() };
        assert!(matches!(warned_close(&init_from(empty).1).1, DisconnectReason::NoCommonChain { .. }));
        // One common chain among others is enough; no networks at all is not checked.
        let (s, actions) = init_from(with_networks(&[1263], &[ChainHash::BITCOIN, ChainHash::REGTEST]));
        assert!(!s.is_disconnected() && sends(&actions).len() == 1, "{actions:?}");
        assert!(!after_init(&[1263]).0.is_disconnected());
        // A node that names no chain checks none.
        let mut s = Session::new(SessionConfig { chains: Vec::new(), ..SessionConfig::default() });
        s.handle(Event::Received(Bolt1Message::Init(with_networks(&[1263], &[ChainHash::TESTNET3])).encode()));
        assert!(!s.is_disconnected());
    }

    #[test]
    fn no_warning_before_the_peers_init() {
        // BOLT 1: "MUST wait to receive `init` before sending any other messages."
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        assert_eq!(s.handle(Event::Received(vec![0x80, 0x02])), vec![Action::Disconnect(DisconnectReason::ExpectedInit { got_type: 0x8002 })]);
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        assert_eq!(s.handle(Event::Received(vec![0x00])), vec![Action::Disconnect(DisconnectReason::NoType)]);
    }

    #[test]
    fn a_malformed_known_message_ends_the_connection() {
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        let actions = s.handle(Event::Received(vec![0x00, 0x10, 0x00, 0x05, 0x01]));
        assert!(matches!(actions.as_slice(), [Action::Disconnect(DisconnectReason::Malformed { type_id: 16, .. })]));
        let (mut s, _) = after_init(&[1263]);
        let actions = s.handle(Event::Received(vec![0x00, 0x12, 0x00]));
        let (text, reason) = warned_close(&actions);
        assert!(matches!(reason, DisconnectReason::Malformed { type_id: PING, .. }));
        assert!(text.starts_with("malformed message of type 18: "), "{text}");
        let (mut s, _) = after_init(&[1263]);
        assert_eq!(warned_close(&s.handle(Event::Received(vec![0x00]))).1, DisconnectReason::NoType);
    }

    #[test]
    fn pings_get_pongs_of_the_asked_size_unless_65532_or_more() {
        let (mut s, _) = after_init(&[1263]);
        for n in [0u16, 4, 65531] {
            let actions = s.handle(Event::Received(ping(n)));
            let [Action::Send(pong)] = actions.as_slice() else { panic!("{actions:?}") };
            assert_eq!(&pong[..2], &PONG.to_be_bytes());
            assert_eq!(Bolt1Message::decode(pong), Ok(Some(Bolt1Message::Pong { ignored_len: n })));
        }
        for n in [65532u16, 65535] {
            assert!(sends(&s.handle(Event::Received(ping(n)))).is_empty(), "{n}");
        }
        assert!(s.handle(Event::Received(Bolt1Message::Pong { ignored_len: 2 }.encode())).is_empty());
    }

    #[test]
    fn warnings_and_errors_are_surfaced() {
        let (mut s, _) = after_init(&[1263]);
        let notice = Notice { channel_id: [0; 32], data: b"slow down".to_vec() };
        assert_eq!(
            s.handle(Event::Received(Bolt1Message::Warning(notice.clone()).encode())),
            vec![Action::PeerWarning(notice.clone())]
        );
        assert_eq!(
            s.handle(Event::Received(Bolt1Message::Error(notice.clone()).encode())),
            vec![Action::PeerError(notice)]
        );
        assert!(!s.is_disconnected());
    }

    #[test]
    fn unknown_odd_types_are_ignored_unknown_even_types_disconnect() {
        let (mut s, _) = after_init(&[1263]);
        let actions = s.handle(Event::Received(vec![0x80, 0x01, 0xde, 0xad]));
        assert!(actions.iter().all(|a| matches!(a, Action::Log { .. })));
        assert!(!s.is_disconnected());
        let actions = s.handle(Event::Received(vec![0x80, 0x02]));
        let (text, reason) = warned_close(&actions);
        assert_eq!((text.as_str(), reason), ("unknown even message type 32770", DisconnectReason::UnknownEvenMessage(0x8002)));
    }

    #[test]
    fn nothing_but_features_until_the_peers_features_arrive() {
        // SIDEPOOL-01: "However, participants MUST NOT send any other messages other than `my_sidepool_features` below until they have received a `my_sidepool_features` message from the peer."
        let mut s = Session::new(SessionConfig::default());
        s.handle(Event::Connected);
        assert_eq!(
            s.handle(Event::SendSidepool(Box::new(swap_party_begin()))),
            vec![Action::Refused { sub_id: 400, reason: Refusal::AwaitingInit }]
        );
        let (mut s, _) = after_init(&[1263]);
        assert_eq!(
            s.handle(Event::SendSidepool(Box::new(swap_party_begin()))),
            vec![Action::Refused { sub_id: 400, reason: Refusal::AwaitingPeerFeatures }]
        );
        // SIDEPOOL-01: "Otherwise, MAY now send SIDEPOOL messages to the peer."
        let actions = s.handle(Event::Received(features_message(&[1, 3])));
        assert_eq!(actions, vec![Action::SidepoolReady { peer_features: FeatureSet::from_bits([1, 3]) }]);
        assert_eq!(
            s.handle(Event::SendSidepool(Box::new(swap_party_begin()))),
            vec![Action::Send(swap_party_begin().encode())]
        );
        // my_sidepool_features belongs to the session.
        let ours = Message::decode(&features_message(&[1])).unwrap();
        let Decoded::Known(ours) = ours else { panic!() };
        assert_eq!(
            s.handle(Event::SendSidepool(Box::new(ours))),
            vec![Action::Refused { sub_id: 101, reason: Refusal::SessionOwned }]
        );
    }

    #[test]
    fn an_unknown_even_sidepool_feature_silences_the_session() {
        // SIDEPOOL-01: "If the counterparty has an even feature bit that you do not recognize, you MUST NOT send any `sidepool_message_id` messages to that counterparty."
        let (mut s, _) = after_init(&[1263]);
        let actions = s.handle(Event::Received(features_message(&[1, 4])));
        assert!(warns(&actions) && sends(&actions).is_empty());
        assert_eq!(s.sidepool_state(), &SidepoolState::Rejected);
        assert_eq!(
            s.handle(Event::SendSidepool(Box::new(swap_party_begin()))),
            vec![Action::Refused { sub_id: 400, reason: Refusal::PeerFeaturesRejected }]
        );
        // SIDEPOOL-01: "MUST ignore all subsequent SIDEPOOL messages."
        assert!(!delivers(&s.handle(Event::Received(swap_party_begin().encode()))));
        assert!(s.handle(Event::Received(features_message(&[1]))).iter().all(|a| matches!(a, Action::Log { .. })));
        assert_eq!(s.sidepool_state(), &SidepoolState::Rejected);
    }

    #[test]
    fn unparsable_peer_features_silence_the_session() {
        // SIDEPOOL-01: "If parsing the features set fails, or if an unrecognized even feature bit is set:"
        let missing = envelope::seal(101, &[]);
        let non_minimal = envelope::seal(101, &[0xfd, 0x27, 0x74, 0x03, 0xfd, 0x00, 0x01]);
        let truncated = envelope::seal(101, &[0xfd, 0x27, 0x74, 0x05, 0x01]);
        for bad in [missing, non_minimal, truncated] {
            let (mut s, _) = after_init(&[1263]);
            let actions = s.handle(Event::Received(bad.clone()));
            assert!(warns(&actions) && sends(&actions).is_empty(), "{}", sidepool_reference::hex::encode(&bad));
            assert_eq!(s.sidepool_state(), &SidepoolState::Rejected);
            assert!(!s.is_disconnected());
        }
    }

    #[test]
    fn sidepool_messages_before_the_peers_features_are_ignored() {
        let (mut s, _) = after_init(&[1263]);
        let actions = s.handle(Event::Received(swap_party_begin().encode()));
        assert!(warns(&actions) && !delivers(&actions));
        assert_eq!(s.sidepool_state(), &SidepoolState::AwaitingPeerFeatures);
    }

    #[test]
    fn once_ready_messages_are_delivered_and_bad_ones_reported() {
        let mut s = ready();
        assert_eq!(s.handle(Event::Received(swap_party_begin().encode())), vec![Action::Deliver(swap_party_begin())]);
        // Malformed known message, unknown even sub-id: warning, connection kept (ERRATA E-35).
        for bad in [envelope::seal(400, &[]), envelope::seal(1006, &[]), vec![0xd1, 0x69, 0x01]] {
            let actions = s.handle(Event::Received(bad));
            assert!(warns(&actions) && !delivers(&actions), "{actions:?}");
        }
        let odd = s.handle(Event::Received(envelope::seal(1001, &[])));
        assert!(matches!(odd.as_slice(), [Action::Log { level: LogLevel::Debug, .. }]));
        // A repeated my_sidepool_features changes nothing (ERRATA E-34).
        assert!(warns(&s.handle(Event::Received(features_message(&[1, 4])))));
        assert_eq!(s.sidepool_state(), &SidepoolState::Ready(FeatureSet::from_bits([1])));
        assert!(!s.is_disconnected());
    }

    proptest! {
        #[test]
        fn arbitrary_messages_never_panic_and_never_deliver_early(
            first in proptest::collection::vec(any::<u8>(), 0..200),
            rest in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..8),
        ) {
            let mut s = Session::new(SessionConfig::default());
            s.handle(Event::Connected);
            for bytes in std::iter::once(first).chain(rest) {
                let ready_before = matches!(s.sidepool_state(), SidepoolState::Ready(_));
                let actions = s.handle(Event::Received(bytes));
                prop_assert!(ready_before || !delivers(&actions));
            }
        }

        #[test]
        fn arbitrary_sidepool_payloads_after_ready_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut s = ready();
            let _ = s.handle(Event::Received([&[0xd1, 0x69][..], &tail].concat()));
            prop_assert!(!s.is_disconnected());
        }
    }
}
