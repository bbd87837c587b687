//! A scripted peer: a real BOLT 8 connection driven by the case, not by a
//! session state machine, so a case can send anything, including what a
//! well-behaved node never would.

use crate::session::bolt1::{Bolt1Message, BoltFeatures, Init};
use crate::transport::{connect, PrivateKey, Transport, TransportError};
use sidepool_reference::units::PublicKey;
use sidepool_reference::wire::envelope::SIDEPOOL_MESSAGE_ID;
use sidepool_reference::{Decoded, Message};
use std::collections::VecDeque;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// `num_pong_bytes` of the runner's own barrier pings, so their pongs are told
/// apart from the pongs a case asks for (cases use other lengths).
pub const BARRIER_PONG_LEN: u16 = 13;

/// A message the peer received, kept in arrival order until a step consumes it.
// Short-lived and few: boxing the decoded message would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Incoming {
    /// A 53609 message: decoded, or the decode error class.
    Sidepool { raw: Vec<u8>, decoded: Result<Decoded, String> },
    /// Any other Lightning message (pings are answered and not kept).
    Other { type_id: u16, raw: Vec<u8> },
}

/// The `num_pong_bytes` a pong answers (its ignored bytes), if `raw` is a pong.
pub fn pong_len(raw: &[u8]) -> Option<u16> {
    match Bolt1Message::decode(raw) {
        Ok(Some(Bolt1Message::Pong { ignored_len })) => Some(ignored_len),
        _ => None,
    }
}

/// Something the peer saw or sent, for the transcript.
#[derive(Clone, Debug)]
pub struct Wire {
    pub outbound: bool,
    pub at: Duration,
    pub raw: Vec<u8>,
}

/// How a connection ended, as the runner saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseKind {
    /// The IUT closed the connection cleanly between frames (EOF).
    Eof,
    /// The connection broke: a frame that failed to decrypt (its MAC), a
    /// reset, or another I/O error. Not a clean close by the IUT.
    Broken(String),
    /// The runner closed it (`disconnect`).
    ByRunner,
}

impl CloseKind {
    pub fn describe(&self) -> String {
        match self {
            CloseKind::Eof => "the IUT closed the connection".into(),
            CloseKind::Broken(why) => format!("the connection broke ({why}), without a clean close by the IUT"),
            CloseKind::ByRunner => "the runner closed the connection".into(),
        }
    }
}

pub struct ScriptedPeer {
    pub name: String,
    pub key: PrivateKey,
    transport: Transport<TcpStream>,
    pub inbox: VecDeque<Incoming>,
    pub iut_init: Option<Init>,
    pub closed: bool,
    /// How the connection ended, once it has.
    pub close_kind: Option<CloseKind>,
    pub wire: Vec<Wire>,
    started: Instant,
}

/// The peer's key is derived from its name, so node ids are stable across runs.
pub fn key_for(name: &str) -> PrivateKey {
    use bitcoin::hashes::{sha256, Hash};
    let mut seed = sha256::Hash::hash(format!("sidepool-conformance peer {name}").as_bytes()).to_byte_array();
    loop {
        if let Some(k) = PrivateKey::from_bytes(seed) {
            return k;
        }
        seed = sha256::Hash::hash(&seed).to_byte_array();
    }
}

impl ScriptedPeer {
    pub fn connect(name: &str, addr: SocketAddr, iut: PublicKey, started: Instant, timeout: Duration) -> Result<ScriptedPeer, String> {
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        // Messages go out as they are written (no Nagle delay behind an unacknowledged one).
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let key = key_for(name);
        let transport = connect(stream, key.clone(), iut).map_err(|e| format!("BOLT 8 handshake failed: {}", e.name()))?;
        Ok(ScriptedPeer {
            name: name.to_owned(),
            key,
            transport,
            inbox: VecDeque::new(),
            iut_init: None,
            closed: false,
            close_kind: None,
            wire: Vec::new(),
            started,
        })
    }

    pub fn node_id(&self) -> PublicKey {
        self.key.public_key()
    }

    pub fn send(&mut self, raw: &[u8]) -> Result<(), String> {
        self.wire.push(Wire { outbound: true, at: self.started.elapsed(), raw: raw.to_vec() });
        self.transport.send(raw).map_err(|e| format!("send to the IUT failed: {}", e.name()))
    }

    pub fn send_init(&mut self, features: &[u32]) -> Result<(), String> {
        let init = Init { global_features: BoltFeatures::default(), features: BoltFeatures::from_bits(features.iter().copied()), tlvs: Vec::new() };
        self.send(&Bolt1Message::Init(init).encode())
    }

    pub fn send_sidepool(&mut self, m: &Message) -> Result<(), String> {
        self.send(&m.encode())
    }

    /// Reads one message, answering pings, until `deadline`. `Ok(None)` on timeout.
    pub fn read_one(&mut self, deadline: Instant) -> Result<Option<Incoming>, String> {
        loop {
            let now = Instant::now();
            if now >= deadline || self.closed {
                return Ok(None);
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            let _ = self.transport.get_ref().set_read_timeout(Some(wait));
            let raw = match self.transport.recv() {
                Ok(raw) => raw,
                Err(TransportError::Timeout) => return Ok(None),
                Err(TransportError::Closed) => {
                    self.closed = true;
                    self.close_kind.get_or_insert(CloseKind::Eof);
                    return Ok(None);
                }
                Err(e) => {
                    self.closed = true;
                    let why = match &e {
                        TransportError::Io(io) => format!("I/O error: {:?}: {io}", io.kind()),
                        other => other.name(),
                    };
                    self.close_kind.get_or_insert(CloseKind::Broken(why.clone()));
                    return Err(format!("connection failed: {why}"));
                }
            };
            self.wire.push(Wire { outbound: false, at: self.started.elapsed(), raw: raw.clone() });
            let type_id = raw.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
            if type_id == SIDEPOOL_MESSAGE_ID {
                let decoded = Message::decode(&raw).map_err(|e| e.class.name().to_owned());
                return Ok(Some(Incoming::Sidepool { raw, decoded }));
            }
            match Bolt1Message::decode(&raw) {
                Ok(Some(Bolt1Message::Ping { num_pong_bytes, .. })) => {
                    if num_pong_bytes < crate::session::bolt1::PING_NO_REPLY_FROM {
                        self.send(&Bolt1Message::Pong { ignored_len: num_pong_bytes }.encode())?;
                    }
                }
                Ok(Some(Bolt1Message::Init(init))) => {
                    self.iut_init = Some(init);
                    return Ok(Some(Incoming::Other { type_id, raw }));
                }
                _ => return Ok(Some(Incoming::Other { type_id, raw })),
            }
        }
    }

    /// Reads until the IUT's `init` arrives.
    pub fn await_init(&mut self, deadline: Instant) -> Result<(), String> {
        while self.iut_init.is_none() {
            match self.read_one(deadline)? {
                Some(Incoming::Other { type_id: 16, .. }) => {}
                Some(other) => self.inbox.push_back(other),
                None => return Err("the IUT sent no init".into()),
            }
        }
        Ok(())
    }

    /// Pings the IUT and reads until its pong (everything before it goes to the
    /// inbox). A node answers a connection's messages in order, so when the pong
    /// is here, every message the peer sent before it has been handled.
    /// `Ok(false)`: no pong by `deadline`. A closed connection needs no barrier.
    pub fn barrier(&mut self, deadline: Instant) -> Result<bool, String> {
        if self.closed {
            return Ok(true);
        }
        if let Err(e) = self.send(&Bolt1Message::Ping { num_pong_bytes: BARRIER_PONG_LEN, ignored_len: 0 }.encode()) {
            self.closed = true;
            self.close_kind.get_or_insert(CloseKind::Broken(e));
            return Ok(true);
        }
        loop {
            match self.read_one(deadline)? {
                Some(Incoming::Other { type_id: 19, raw }) if Bolt1Message::decode(&raw) == Ok(Some(Bolt1Message::Pong { ignored_len: BARRIER_PONG_LEN })) => {
                    return Ok(true)
                }
                Some(m) => self.inbox.push_back(m),
                None => return Ok(self.closed),
            }
        }
    }

    /// Closes the connection (both directions); the peer stays for the transcript.
    pub fn close(&mut self) {
        let _ = self.transport.get_ref().shutdown(std::net::Shutdown::Both);
        self.closed = true;
        self.close_kind.get_or_insert(CloseKind::ByRunner);
    }

    /// Whether bytes (or the end of the stream) are waiting to be read, without
    /// blocking: lets the runner take in what already arrived before it acts.
    pub fn has_pending(&self) -> bool {
        if self.closed {
            return false;
        }
        let s = self.transport.get_ref();
        if s.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let pending = match s.peek(&mut byte) {
            Ok(_) => true, // data, or 0: EOF, which read_one records
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        };
        let _ = s.set_nonblocking(false);
        pending
    }

    /// Sends a `ping` asking for `num_pong_bytes`.
    pub fn send_ping(&mut self, num_pong_bytes: u16) -> Result<(), String> {
        self.send(&Bolt1Message::Ping { num_pong_bytes, ignored_len: 0 }.encode())
    }

    /// Reads everything that arrives until `deadline` into the inbox; true if the connection closed.
    pub fn drain_until(&mut self, deadline: Instant) -> Result<bool, String> {
        while let Some(m) = self.read_one(deadline)? {
            self.inbox.push_back(m);
        }
        Ok(self.closed)
    }
}
