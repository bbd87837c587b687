//! A scripted peer: a real BOLT 8 connection driven by the case, not by a
//! session state machine, so a case can send anything, including what a
//! well-behaved node never would.
//!
//! Against a hostile or broken IUT the peer keeps three promises:
//! - every read ends by its deadline, however slowly bytes trickle in (the
//!   stream under the transport enforces it, handshake acts and partial frames
//!   included);
//! - what it keeps is bounded: the inbox ([`INBOX_MAX_MESSAGES`],
//!   [`INBOX_MAX_BYTES`]) and the wire log ([`WIRE_HEAD`] + [`WIRE_TAIL`]
//!   messages, [`WIRE_PART_BYTES`] each part) whatever the IUT sends;
//! - it says how a connection ended ([`Ending`]) and when each message arrived
//!   ([`Arrival`]), and which ping each pong answers ([`PongAnswer`]), so a step
//!   only counts evidence its own stimulus provoked.

use super::arrival::{Arrival, Mark};
use crate::session::bolt1::{Bolt1Message, BoltFeatures, Init, PING, PING_NO_REPLY_FROM};
use crate::session::machine::SessionConfig;
use crate::transport::{connect, FrameError, HandshakeError, PrivateKey, Transport, TransportError};
use crate::transport::error::Act;
use sidepool_reference::units::PublicKey;
use sidepool_reference::wire::envelope::SIDEPOOL_MESSAGE_ID;
use sidepool_reference::{Decoded, Message};
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// `num_pong_bytes` of the runner's own barrier pings, so their pongs are told
/// apart from the pongs a case asks for (cases use other lengths).
pub const BARRIER_PONG_LEN: u16 = 13;

/// The inbox keeps at most this many messages per connection...
pub const INBOX_MAX_MESSAGES: usize = 1024;
/// ...and at most this many bytes of them (raw and decoded, estimated).
pub const INBOX_MAX_BYTES: usize = 8 << 20;
/// The wire log keeps the first this many messages of a connection in full...
pub const WIRE_HEAD: usize = 32;
/// ...and the last this many; those in between are counted, not kept.
pub const WIRE_TAIL: usize = 32;
/// Neither the kept head nor the kept tail holds more than this many message bytes
/// (a message is kept whole or not at all; the first message always is).
pub const WIRE_PART_BYTES: usize = 256 << 10;
/// Pings still awaiting their pong that the peer remembers (the oldest are forgotten first).
pub const MAX_OUTSTANDING_PINGS: usize = 256;
/// How long a send may spend first reading what the IUT already sent (so that
/// it is stamped before the stimulus): bounded, so a flooding IUT cannot hold a send.
pub const ABSORB_BUDGET: Duration = Duration::from_millis(20);

/// A message the peer received, kept in arrival order until a step consumes it.
// Short-lived and bounded (see `Inbox`): boxing the decoded message would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Incoming {
    /// A 53609 message: decoded, or the decode error class.
    Sidepool { raw: Vec<u8>, decoded: Result<Decoded, String>, arrival: Arrival },
    /// Any other Lightning message (pings are answered and not kept). A pong
    /// carries which of the runner's pings it answers.
    Other { type_id: u16, raw: Vec<u8>, arrival: Arrival, pong: Option<Pong> },
}

impl Incoming {
    /// When the runner read it.
    pub fn arrival(&self) -> Arrival {
        match self {
            Incoming::Sidepool { arrival, .. } | Incoming::Other { arrival, .. } => *arrival,
        }
    }

    /// Whether it arrived after `mark` (a send's mark, say).
    pub fn after(&self, mark: Mark) -> bool {
        self.arrival().after(mark)
    }

    pub fn raw(&self) -> &[u8] {
        match self {
            Incoming::Sidepool { raw, .. } | Incoming::Other { raw, .. } => raw,
        }
    }

    pub fn type_id(&self) -> u16 {
        match self {
            Incoming::Sidepool { .. } => SIDEPOOL_MESSAGE_ID,
            Incoming::Other { type_id, .. } => *type_id,
        }
    }

    /// The pong this is, with the ping it answers.
    pub fn pong(&self) -> Option<&Pong> {
        match self {
            Incoming::Other { pong, .. } => pong.as_ref(),
            Incoming::Sidepool { .. } => None,
        }
    }

    /// What it costs to keep (raw bytes, a decoded copy, bookkeeping), for the inbox bound.
    fn weight(&self) -> usize {
        self.raw().len().saturating_mul(2).saturating_add(256)
    }
}

/// A ping the runner sent that asks for a pong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingSent {
    /// 1 for the connection's first ping, and so on.
    pub number: u64,
    pub num_pong_bytes: u16,
    /// The run's order just before it went out: its pong must come [`Arrival::after`] it.
    pub mark: Mark,
    pub at: Instant,
}

/// A pong the IUT sent, and which ping it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pong {
    pub ignored_len: u16,
    pub answer: PongAnswer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PongAnswer {
    /// The oldest outstanding ping that asked for exactly this length.
    Answers(PingSent),
    /// Pings are outstanding, but none asked for this length; `oldest` is the
    /// one a pong was due for first.
    // BOLT 1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a `pong` message, with `byteslen` equal to `num_pong_bytes`."
    WrongLength { oldest: PingSent },
    /// No ping was awaiting a pong when it arrived (a stale or unprompted pong).
    Unsolicited,
}

/// Something the peer saw or sent, for the transcript.
#[derive(Clone, Debug)]
pub struct Wire {
    pub outbound: bool,
    pub at: Duration,
    pub raw: Vec<u8>,
}

/// The messages of one connection that go into the transcript: the first
/// [`WIRE_HEAD`] and the last [`WIRE_TAIL`] in full (each part at most
/// [`WIRE_PART_BYTES`]), a count of the rest.
#[derive(Clone, Debug, Default)]
pub struct WireLog {
    head: Vec<Wire>,
    head_bytes: usize,
    /// Once a message has gone past the head, the head takes no more.
    head_closed: bool,
    tail: VecDeque<Wire>,
    tail_bytes: usize,
    elided: Elided,
}

/// What a bounded record left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Elided {
    pub messages: u64,
    pub bytes: u64,
    /// When the first left-out message was seen (relative to the case start).
    pub from: Option<Duration>,
    /// When the last one was.
    pub to: Option<Duration>,
}

impl WireLog {
    pub fn push(&mut self, w: Wire) {
        let fits = self.head.len() < WIRE_HEAD && (self.head.is_empty() || self.head_bytes + w.raw.len() <= WIRE_PART_BYTES);
        if !self.head_closed && fits {
            self.head_bytes += w.raw.len();
            self.head.push(w);
            return;
        }
        self.head_closed = true;
        self.tail_bytes += w.raw.len();
        self.tail.push_back(w);
        while self.tail.len() > WIRE_TAIL || (self.tail_bytes > WIRE_PART_BYTES && self.tail.len() > 1) {
            let Some(old) = self.tail.pop_front() else { break };
            self.tail_bytes -= old.raw.len();
            self.elided.messages += 1;
            self.elided.bytes += old.raw.len() as u64;
            self.elided.from.get_or_insert(old.at);
            self.elided.to = Some(old.at);
        }
    }

    /// The kept messages in order (the gap, if any, lies between head and tail).
    pub fn iter(&self) -> impl Iterator<Item = &Wire> + '_ {
        self.head.iter().chain(self.tail.iter())
    }

    /// The kept head, then the kept tail.
    pub fn parts(&self) -> (&[Wire], impl Iterator<Item = &Wire> + '_) {
        (&self.head, self.tail.iter())
    }

    /// What was left out between head and tail (nothing: `None`).
    pub fn elided(&self) -> Option<Elided> {
        (self.elided.messages > 0).then_some(self.elided)
    }

    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.head.is_empty()
    }
}

/// Messages received and not yet consumed, bounded: when a new message would
/// exceed [`INBOX_MAX_MESSAGES`] or [`INBOX_MAX_BYTES`], the oldest message is
/// dropped — the oldest non-sidepool one first, since cases wait for sidepool
/// messages — and counted in [`Inbox::dropped`]. An absence check over an inbox
/// that dropped something cannot conclude.
#[derive(Clone, Debug, Default)]
pub struct Inbox {
    items: VecDeque<Incoming>,
    bytes: usize,
    dropped: Elided,
}

impl Inbox {
    pub fn push_back(&mut self, m: Incoming) {
        self.bytes = self.bytes.saturating_add(m.weight());
        self.items.push_back(m);
        while self.items.len() > INBOX_MAX_MESSAGES || (self.bytes > INBOX_MAX_BYTES && self.items.len() > 1) {
            let victim = self.items.iter().position(|m| !matches!(m, Incoming::Sidepool { .. })).unwrap_or(0);
            let Some(old) = self.items.remove(victim) else { break };
            self.bytes = self.bytes.saturating_sub(old.weight());
            self.dropped.messages += 1;
            self.dropped.bytes += old.raw().len() as u64;
        }
    }

    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, Incoming> {
        self.items.iter()
    }

    pub fn remove(&mut self, idx: usize) -> Option<Incoming> {
        let m = self.items.remove(idx)?;
        self.bytes = self.bytes.saturating_sub(m.weight());
        Some(m)
    }

    pub fn pop_front(&mut self) -> Option<Incoming> {
        self.remove(0)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }

    /// What the bound made the inbox drop (nothing: `None`).
    pub fn dropped(&self) -> Option<Elided> {
        (self.dropped.messages > 0).then_some(self.dropped)
    }
}

/// The kind of BOLT 1 notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Error,
    Warning,
}

impl NoticeKind {
    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::Error => "error",
            NoticeKind::Warning => "warning",
        }
    }
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The IUT closed the connection between frames (EOF), with no notice first.
    Eof,
    /// The IUT's last message was a BOLT 1 `error` or `warning`, then it closed
    /// (EOF). `text` is the notice's data, sanitised (hex when not printable).
    NoticeThenEof { kind: NoticeKind, text: String },
    /// A frame failed its MAC check (or came after one that did). The IUT did
    /// not close the connection; the runner stopped reading it.
    BadMac(FrameError),
    /// The connection ended in the middle of a frame (a header or body cut short).
    Truncated(FrameError),
    /// The IUT reset the connection (TCP RST).
    Reset,
    /// Another I/O failure, by kind.
    Io(ErrorKind),
    /// The runner closed it (a `disconnect` step).
    ByRunner,
    /// The runner failed the connection because of what the IUT did (the reason says what).
    FailedByRunner(String),
}

impl Ending {
    /// A clean close by the IUT: EOF between frames, perhaps after an `error` or `warning`.
    pub fn is_clean(&self) -> bool {
        matches!(self, Ending::Eof | Ending::NoticeThenEof { .. })
    }

    /// Whether the IUT (not the runner) ended it.
    pub fn by_iut(&self) -> bool {
        !matches!(self, Ending::ByRunner | Ending::FailedByRunner(_))
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Eof => f.write_str("the IUT closed the connection"),
            Ending::NoticeThenEof { kind, text } => write!(f, "the IUT sent {} {text:?} and closed the connection", kind.name()),
            Ending::BadMac(e) => write!(f, "the IUT sent bytes that are not a valid frame ({e}) and did not close the connection"),
            Ending::Truncated(e) => write!(f, "the IUT closed the connection in the middle of a frame ({e})"),
            Ending::Reset => f.write_str("the IUT reset the connection (TCP RST) instead of closing it"),
            Ending::Io(kind) => write!(f, "the connection failed (io: {kind:?})"),
            Ending::ByRunner => f.write_str("the runner closed the connection"),
            Ending::FailedByRunner(why) => write!(f, "the runner failed the connection: {why}"),
        }
    }
}

/// A connection's end and when the runner noticed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    pub how: Ending,
    pub arrival: Arrival,
}

/// The answer of [`ScriptedPeer::await_close`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closing {
    Closed(Ended),
    /// Still open when the deadline came.
    StillOpen,
}

/// A TCP stream whose reads and writes never outlast a deadline, however the
/// bytes trickle in: before each read the socket timeout is set to what is left
/// (a read past the deadline is one non-blocking attempt). The transport reads
/// acts and frames through it, so a deadline bounds the handshake and every
/// partial frame, not just each single `read`.
#[derive(Debug)]
pub struct DeadlineStream {
    inner: TcpStream,
    read_deadline: Instant,
    write_deadline: Instant,
    /// No read or write goes past this, whatever deadline a caller asks for (the case's limit).
    cap: Option<Instant>,
}

const MIN_TIMEOUT: Duration = Duration::from_millis(1);

impl DeadlineStream {
    pub fn new(inner: TcpStream, deadline: Instant) -> DeadlineStream {
        DeadlineStream { inner, read_deadline: deadline, write_deadline: deadline, cap: None }
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }

    pub fn set_read_deadline(&mut self, deadline: Instant) {
        self.read_deadline = self.capped(deadline);
    }

    pub fn set_write_deadline(&mut self, deadline: Instant) {
        self.write_deadline = self.capped(deadline);
    }

    /// Bounds every later deadline by `cap`.
    pub fn set_cap(&mut self, cap: Instant) {
        self.cap = Some(cap);
        self.read_deadline = self.capped(self.read_deadline);
        self.write_deadline = self.capped(self.write_deadline);
    }

    fn capped(&self, deadline: Instant) -> Instant {
        self.cap.map_or(deadline, |c| deadline.min(c))
    }

    /// One non-blocking attempt (the deadline has passed).
    fn attempt<T>(&mut self, op: impl FnOnce(&mut TcpStream) -> io::Result<T>) -> io::Result<T> {
        self.inner.set_nonblocking(true)?;
        let r = op(&mut self.inner);
        self.inner.set_nonblocking(false)?;
        r
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let now = Instant::now();
        if now >= self.read_deadline {
            return self.attempt(|s| s.read(buf));
        }
        self.inner.set_read_timeout(Some((self.read_deadline - now).max(MIN_TIMEOUT)))?;
        self.inner.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let now = Instant::now();
        if now >= self.write_deadline {
            return self.attempt(|s| s.write(buf));
        }
        self.inner.set_write_timeout(Some((self.write_deadline - now).max(MIN_TIMEOUT)))?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub struct ScriptedPeer {
    pub name: String,
    pub key: PrivateKey,
    transport: Transport<DeadlineStream>,
    pub inbox: Inbox,
    pub iut_init: Option<Init>,
    /// Whether the connection has ended (see [`ScriptedPeer::ended`] for how).
    pub closed: bool,
    pub wire: WireLog,
    ended: Option<Ended>,
    started: Instant,
    /// How long a send may wait for the IUT to take its bytes.
    write_timeout: Duration,
    pings: VecDeque<PingSent>,
    pings_sent: u64,
    last_send: Option<Mark>,
    /// Whether the last message received was an `error` or `warning` (and its text).
    last_notice: Option<(NoticeKind, String)>,
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

/// Why a BOLT 8 connection could not be set up, in words an implementer can act on.
fn explain_handshake(e: &TransportError, addr: SocketAddr, allowed: Duration) -> String {
    match e {
        TransportError::Timeout => {
            format!("the IUT at {addr} did not complete the BOLT 8 handshake within {} ms", (allowed.as_secs_f64() * 1000.0).round())
        }
        TransportError::Handshake(HandshakeError::BadTag { act: Act::Two }) => format!(
            "the IUT's static key is not the node id you gave: its act two does not authenticate under that key ({})",
            e.name()
        ),
        TransportError::Handshake(HandshakeError::ReadFailed { act: Act::Two, len: 0 }) => format!(
            "the IUT closed the connection after act one without answering ({}): most likely its static key is not the node id you gave (a responder cannot read an act one made for another key)",
            e.name()
        ),
        other => format!("BOLT 8 handshake failed: {other}"),
    }
}

/// Opens a TCP connection and runs the handshake, all by `deadline`.
fn open(name: &str, addr: SocketAddr, iut: PublicKey, deadline: Instant) -> Result<(PrivateKey, Transport<DeadlineStream>), String> {
    let start = Instant::now();
    let wait = deadline.saturating_duration_since(start).max(MIN_TIMEOUT);
    let stream = TcpStream::connect_timeout(&addr, wait).map_err(|e| format!("cannot connect to {addr}: {e} ({:?})", e.kind()))?;
    // Messages go out as they are written (no Nagle delay behind an unacknowledged one).
    stream.set_nodelay(true).map_err(|e| format!("{e} ({:?})", e.kind()))?;
    let key = key_for(name);
    let transport = connect(DeadlineStream::new(stream, deadline), key.clone(), iut).map_err(|e| explain_handshake(&e, addr, wait))?;
    Ok((key, transport))
}

/// Whether the IUT still completes a BOLT 8 handshake by `deadline` (the
/// runner's liveness probe after a failed case). The connection is closed at once.
pub fn probe(addr: SocketAddr, iut: PublicKey, deadline: Instant) -> Result<(), String> {
    let (_, transport) = open("liveness-probe", addr, iut, deadline)?;
    let _ = transport.get_ref().get_ref().shutdown(std::net::Shutdown::Both);
    Ok(())
}

impl ScriptedPeer {
    /// Connects and runs the handshake, waiting at most `timeout`.
    pub fn connect(name: &str, addr: SocketAddr, iut: PublicKey, started: Instant, timeout: Duration) -> Result<ScriptedPeer, String> {
        ScriptedPeer::connect_until(name, addr, iut, started, Instant::now() + timeout, None)
    }

    /// Connects and runs the handshake by `deadline`; with `cap`, no later read
    /// or write of this connection goes past `cap` (the case's own limit).
    pub fn connect_until(name: &str, addr: SocketAddr, iut: PublicKey, started: Instant, deadline: Instant, cap: Option<Instant>) -> Result<ScriptedPeer, String> {
        let deadline = cap.map_or(deadline, |c| deadline.min(c));
        let write_timeout = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
        let (key, mut transport) = open(name, addr, iut, deadline)?;
        if let Some(cap) = cap {
            transport.get_mut().set_cap(cap);
        }
        Ok(ScriptedPeer {
            name: name.to_owned(),
            key,
            transport,
            inbox: Inbox::default(),
            iut_init: None,
            closed: false,
            wire: WireLog::default(),
            ended: None,
            started,
            write_timeout,
            pings: VecDeque::new(),
            pings_sent: 0,
            last_send: None,
            last_notice: None,
        })
    }

    /// Bounds every later read and write of this connection by `cap`.
    pub fn set_cap(&mut self, cap: Instant) {
        self.transport.get_mut().set_cap(cap);
    }

    pub fn node_id(&self) -> PublicKey {
        self.key.public_key()
    }

    /// When the case started (transcript times are relative to it).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// How the connection ended, if it has.
    pub fn ended(&self) -> Option<&Ended> {
        self.ended.as_ref()
    }

    /// The run's order just before the last send went out (`None`: nothing sent yet).
    pub fn last_send(&self) -> Option<Mark> {
        self.last_send
    }

    /// Pings sent that no pong has answered yet, oldest first.
    pub fn outstanding_pings(&self) -> impl Iterator<Item = &PingSent> + '_ {
        self.pings.iter()
    }

    fn end(&mut self, how: Ending) {
        if self.ended.is_none() {
            self.ended = Some(Ended { how, arrival: Arrival::now() });
        }
        self.closed = true;
    }

    /// Sends one message. What the IUT already sent is read first (briefly, see
    /// [`ABSORB_BUDGET`]), so it is stamped before this stimulus; a connection
    /// found ended is an error that says how it ended. Returns the mark taken
    /// just before the message went out: what the IUT sends in answer arrives after it.
    pub fn send(&mut self, raw: &[u8]) -> Result<Mark, String> {
        if !self.closed {
            self.absorb()?;
        }
        if let Some(e) = &self.ended {
            return Err(format!("cannot send: {} before this message was sent", e.how));
        }
        self.transmit(raw)
    }

    /// Writes one message as is (no absorb): pings are recorded for pong matching.
    fn transmit(&mut self, raw: &[u8]) -> Result<Mark, String> {
        let mark = Mark::now();
        self.wire.push(Wire { outbound: true, at: self.started.elapsed(), raw: raw.to_vec() });
        if raw.get(..2) == Some(&PING.to_be_bytes()[..]) {
            if let Ok(Some(Bolt1Message::Ping { num_pong_bytes, .. })) = Bolt1Message::decode(raw) {
                self.note_ping(num_pong_bytes, mark);
            }
        }
        self.transport.get_mut().set_write_deadline(Instant::now() + self.write_timeout);
        match self.transport.send(raw) {
            Ok(()) => {
                self.last_send = Some(mark);
                Ok(mark)
            }
            Err(TransportError::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let why = format!("the IUT stopped reading: a send did not complete within {} ms", self.write_timeout.as_millis());
                self.fail_connection(why.clone());
                Err(why)
            }
            Err(TransportError::Io(e)) => {
                let how = match e.kind() {
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => Ending::Reset,
                    kind => Ending::Io(kind),
                };
                let why = format!("send to the IUT failed: {how}");
                self.end(how);
                Err(why)
            }
            Err(e) => Err(format!("send to the IUT failed: {e}")),
        }
    }

    fn note_ping(&mut self, num_pong_bytes: u16, mark: Mark) {
        self.pings_sent += 1;
        // BOLT 1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a `pong` message, with `byteslen` equal to `num_pong_bytes`."
        if num_pong_bytes < PING_NO_REPLY_FROM {
            if self.pings.len() >= MAX_OUTSTANDING_PINGS {
                self.pings.pop_front();
            }
            self.pings.push_back(PingSent { number: self.pings_sent, num_pong_bytes, mark, at: Instant::now() });
        }
    }

    fn match_pong(&mut self, ignored_len: u16) -> Pong {
        let answer = match self.pings.iter().position(|p| p.num_pong_bytes == ignored_len) {
            Some(i) => self.pings.remove(i).map_or(PongAnswer::Unsolicited, PongAnswer::Answers),
            None => match self.pings.front() {
                Some(oldest) => PongAnswer::WrongLength { oldest: *oldest },
                None => PongAnswer::Unsolicited,
            },
        };
        Pong { ignored_len, answer }
    }

    /// Ends the connection from the runner's side because of what the IUT did.
    fn fail_connection(&mut self, why: String) {
        let _ = self.transport.get_ref().get_ref().shutdown(std::net::Shutdown::Both);
        self.end(Ending::FailedByRunner(why));
    }

    pub fn send_init(&mut self, features: &[u32]) -> Result<Mark, String> {
        let init = Init { global_features: BoltFeatures::default(), features: BoltFeatures::from_bits(features.iter().copied()), tlvs: Vec::new() };
        self.send(&Bolt1Message::Init(init).encode())
    }

    pub fn send_sidepool(&mut self, m: &Message) -> Result<Mark, String> {
        self.send(&m.encode())
    }

    /// Sends a ping asking for `num_pong_bytes` and returns its record.
    pub fn ping(&mut self, num_pong_bytes: u16) -> Result<PingSent, String> {
        let before = self.pings_sent;
        self.send(&Bolt1Message::Ping { num_pong_bytes, ignored_len: 0 }.encode())?;
        Ok(self.pings.iter().rev().find(|p| p.number > before).copied().unwrap_or(PingSent {
            number: self.pings_sent,
            num_pong_bytes,
            mark: self.last_send.unwrap_or(Mark(0)),
            at: Instant::now(),
        }))
    }

    /// Takes what has already arrived into the inbox, without waiting: the runner
    /// does this before every stimulus, so nothing stale is stamped after it.
    pub fn take_arrived(&mut self) -> Result<(), String> {
        if self.closed {
            return Ok(());
        }
        self.absorb()
    }

    /// Reads what has already arrived into the inbox, without waiting (at most
    /// [`ABSORB_BUDGET`] under a flood).
    fn absorb(&mut self) -> Result<(), String> {
        let until = Instant::now() + ABSORB_BUDGET;
        while Instant::now() < until {
            match self.read_inner(Instant::now())? {
                Some(m) => self.inbox.push_back(m),
                None => break,
            }
        }
        Ok(())
    }

    /// Reads one message, answering pings, until `deadline`. `Ok(None)` on
    /// timeout or when the connection has ended (see [`ScriptedPeer::ended`]);
    /// `Err` when it ended badly (MAC failure, reset, ...), saying how.
    pub fn read_one(&mut self, deadline: Instant) -> Result<Option<Incoming>, String> {
        if Instant::now() >= deadline {
            return Ok(None);
        }
        self.read_inner(deadline)
    }

    /// [`ScriptedPeer::read_one`]; a deadline already past makes one attempt at what has arrived.
    fn read_inner(&mut self, deadline: Instant) -> Result<Option<Incoming>, String> {
        loop {
            if self.closed {
                return Ok(None);
            }
            self.transport.get_mut().set_read_deadline(deadline);
            let raw = match self.transport.recv() {
                Ok(raw) => raw,
                Err(TransportError::Timeout) => return Ok(None),
                Err(TransportError::Closed) => {
                    let how = match self.last_notice.take() {
                        Some((kind, text)) => Ending::NoticeThenEof { kind, text },
                        None => Ending::Eof,
                    };
                    self.end(how);
                    return Ok(None);
                }
                Err(e) => {
                    let how = match &e {
                        TransportError::Frame(f @ (FrameError::ShortHeader { .. } | FrameError::ShortBody { .. })) => Ending::Truncated(*f),
                        TransportError::Frame(f) => Ending::BadMac(*f),
                        TransportError::Io(io) if matches!(io.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => Ending::Reset,
                        TransportError::Io(io) => Ending::Io(io.kind()),
                        other => Ending::FailedByRunner(other.to_string()),
                    };
                    if matches!(how, Ending::BadMac(_)) {
                        // The stream can no longer be read: stop listening to it.
                        let _ = self.transport.get_ref().get_ref().shutdown(std::net::Shutdown::Both);
                    }
                    let why = format!("connection failed: {how}");
                    self.end(how);
                    return Err(why);
                }
            };
            let arrival = Arrival::now();
            self.wire.push(Wire { outbound: false, at: self.started.elapsed(), raw: raw.clone() });
            let type_id = raw.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
            self.last_notice = None;
            if type_id == SIDEPOOL_MESSAGE_ID {
                let decoded = Message::decode(&raw).map_err(|e| e.class.name().to_owned());
                return Ok(Some(Incoming::Sidepool { raw, decoded, arrival }));
            }
            match Bolt1Message::decode(&raw) {
                Ok(Some(Bolt1Message::Ping { num_pong_bytes, .. })) => {
                    // BOLT 1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a `pong` message, with `byteslen` equal to `num_pong_bytes`."
                    if num_pong_bytes < PING_NO_REPLY_FROM {
                        self.transmit(&Bolt1Message::Pong { ignored_len: num_pong_bytes }.encode())?;
                    }
                }
                Ok(Some(Bolt1Message::Pong { ignored_len })) => {
                    let pong = Some(self.match_pong(ignored_len));
                    return Ok(Some(Incoming::Other { type_id, raw, arrival, pong }));
                }
                Ok(Some(Bolt1Message::Init(init))) => {
                    if self.iut_init.is_none() {
                        self.iut_init = Some(init);
                    }
                    return Ok(Some(Incoming::Other { type_id, raw, arrival, pong: None }));
                }
                Ok(Some(Bolt1Message::Error(n))) => {
                    self.last_notice = Some((NoticeKind::Error, super::report::sanitize(&n.text())));
                    return Ok(Some(Incoming::Other { type_id, raw, arrival, pong: None }));
                }
                Ok(Some(Bolt1Message::Warning(n))) => {
                    self.last_notice = Some((NoticeKind::Warning, super::report::sanitize(&n.text())));
                    return Ok(Some(Incoming::Other { type_id, raw, arrival, pong: None }));
                }
                _ => return Ok(Some(Incoming::Other { type_id, raw, arrival, pong: None })),
            }
        }
    }

    /// Reads until the IUT's `init` arrives. An `init` with an even feature bit
    /// the runner does not know fails the connection, as a BOLT 1 node must.
    pub fn await_init(&mut self, deadline: Instant) -> Result<(), String> {
        while self.iut_init.is_none() {
            match self.read_one(deadline)? {
                Some(Incoming::Other { type_id: 16, .. }) => {}
                Some(other) => self.inbox.push_back(other),
                None => {
                    return Err(match &self.ended {
                        Some(e) => format!("the IUT sent no init: {}", e.how),
                        None => "the IUT sent no init".into(),
                    })
                }
            }
        }
        let known = SessionConfig::default().known_bolt_features;
        let unknown = self.iut_init.as_ref().map(|i| i.all_features().unknown_even_bits(&known)).unwrap_or_default();
        if !unknown.is_empty() {
            // BOLT 1: "upon receiving unknown _even_ feature bits that are non-zero: MUST close the connection."
            let why = format!("the IUT's init sets even (compulsory) feature bits no BOLT 9 feature or SIDEPOOL defines: {unknown:?}; a BOLT 1 node must close the connection");
            self.fail_connection(why.clone());
            return Err(why);
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
        let Ok(ping) = self.ping(BARRIER_PONG_LEN) else {
            return Ok(true);
        };
        loop {
            match self.read_one(deadline)? {
                Some(Incoming::Other { pong: Some(Pong { answer: PongAnswer::Answers(p), .. }), .. }) if p.number == ping.number => return Ok(true),
                Some(m) => self.inbox.push_back(m),
                None => return Ok(self.closed),
            }
        }
    }

    /// [`ScriptedPeer::barrier`] that must succeed: a ping answered by its pong
    /// on an open connection (the check `connect` makes).
    pub fn round_trip(&mut self, deadline: Instant) -> Result<(), String> {
        let waited = Instant::now();
        let answered = self.barrier(deadline)?;
        match (&self.ended, answered) {
            (Some(e), _) => Err(format!("ping round trip failed: {}", e.how)),
            (None, true) => Ok(()),
            (None, false) => Err(format!(
                "the IUT did not answer the runner's ping within {} ms (BOLT 1: a ping with num_pong_bytes below 65532 must be answered)",
                waited.elapsed().as_millis()
            )),
        }
    }

    /// Closes the connection (both directions); the peer stays for the transcript.
    pub fn close(&mut self) {
        let _ = self.transport.get_ref().get_ref().shutdown(std::net::Shutdown::Both);
        self.end(Ending::ByRunner);
    }

    /// Reads everything that arrives until `deadline` into the inbox; true if the connection closed.
    pub fn drain_until(&mut self, deadline: Instant) -> Result<bool, String> {
        while let Some(m) = self.read_one(deadline)? {
            self.inbox.push_back(m);
        }
        Ok(self.closed)
    }

    /// Reads into the inbox until the connection ends or `deadline` comes, and
    /// says which. A connection that ended before this call reports that ending
    /// (its [`Ended::arrival`] tells when).
    pub fn await_close(&mut self, deadline: Instant) -> Closing {
        loop {
            if let Some(e) = &self.ended {
                return Closing::Closed(e.clone());
            }
            match self.read_one(deadline) {
                Ok(Some(m)) => self.inbox.push_back(m),
                Ok(None) if self.closed => {}
                Ok(None) => return Closing::StillOpen,
                // The ending is normally recorded by now; the next turn reports it.
                Err(why) => {
                    if self.ended.is_none() {
                        self.end(Ending::FailedByRunner(why));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(i: usize, len: usize) -> Wire {
        Wire { outbound: false, at: Duration::from_millis(i as u64), raw: vec![(i % 251) as u8; len] }
    }

    fn other(len: usize) -> Incoming {
        Incoming::Other { type_id: 32769, raw: vec![0; len], arrival: Arrival::now(), pong: None }
    }

    #[test]
    fn the_wire_log_keeps_the_first_and_last_messages_and_counts_the_rest() {
        let mut log = WireLog::default();
        for i in 0..1000 {
            log.push(wire(i, 10));
        }
        let kept: Vec<u8> = log.iter().map(|w| w.raw[0]).collect();
        assert_eq!(kept.len(), WIRE_HEAD + WIRE_TAIL);
        assert_eq!(kept[..WIRE_HEAD], (0..WIRE_HEAD).map(|i| i as u8).collect::<Vec<_>>()[..]);
        assert_eq!(kept[WIRE_HEAD], ((1000 - WIRE_TAIL) % 251) as u8);
        let e = log.elided().unwrap();
        assert_eq!((e.messages, e.bytes), ((1000 - WIRE_HEAD - WIRE_TAIL) as u64, 10 * (1000 - WIRE_HEAD - WIRE_TAIL) as u64));
        assert_eq!((e.from, e.to), (Some(Duration::from_millis(WIRE_HEAD as u64)), Some(Duration::from_millis((999 - WIRE_TAIL) as u64))));
    }

    #[test]
    fn the_wire_log_bounds_bytes_too() {
        let mut log = WireLog::default();
        for i in 0..100 {
            log.push(wire(i, 65535));
        }
        let bytes: usize = log.iter().map(|w| w.raw.len()).sum();
        assert!(bytes <= 2 * WIRE_PART_BYTES, "{bytes}");
        assert_eq!(log.iter().next().map(|w| w.at), Some(Duration::ZERO), "the first message is kept");
        assert_eq!(log.iter().last().map(|w| w.at), Some(Duration::from_millis(99)), "the last message is kept");
        assert_eq!(log.elided().unwrap().messages as usize + log.len(), 100);
        let mut small = WireLog::default();
        small.push(wire(0, 3));
        assert!(small.elided().is_none() && small.len() == 1);
    }

    #[test]
    fn the_inbox_drops_the_oldest_non_sidepool_messages_first() {
        let mut inbox = Inbox::default();
        let sidepool = Incoming::Sidepool { raw: vec![0xd1, 0x69], decoded: Err("x".into()), arrival: Arrival::now() };
        inbox.push_back(sidepool);
        for _ in 0..(INBOX_MAX_MESSAGES + 10) {
            inbox.push_back(other(10));
        }
        assert_eq!(inbox.len(), INBOX_MAX_MESSAGES);
        assert!(matches!(inbox.iter().next(), Some(Incoming::Sidepool { .. })), "the sidepool message stays");
        assert_eq!(inbox.dropped().unwrap().messages, 11);
        let mut big = Inbox::default();
        for _ in 0..1000 {
            big.push_back(other(65535));
        }
        assert!(big.iter().map(Incoming::weight).sum::<usize>() <= INBOX_MAX_BYTES);
        assert!(big.dropped().unwrap().messages > 900);
    }
}
