//! A blocking IO edge over any `Read + Write` (normally a `TcpStream`): runs the
//! handshake, then sends and receives whole Lightning messages. All protocol
//! logic lives in the sans-IO core; this file only moves bytes.

use super::cipher::{Decryptor, Encryptor, FRAME_HEADER_LEN};
use super::error::{Act, FrameError, HandshakeError};
use super::handshake::{Initiator, Responder, ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN};
use super::keys::PrivateKey;
use core::fmt;
use sidepool_reference::units::PublicKey;
use std::io::{self, ErrorKind, Read, Write};

#[derive(Debug)]
pub enum TransportError {
    /// The handshake failed (including the peer hanging up mid-act).
    Handshake(HandshakeError),
    /// A frame could not be sent or received; the connection is unusable.
    Frame(FrameError),
    /// A read timed out. On `recv` no bytes were lost: calling `recv` again resumes.
    Timeout,
    /// The peer closed the connection cleanly between frames.
    Closed,
    /// Any other IO failure.
    Io(io::Error),
}

impl TransportError {
    pub fn name(&self) -> String {
        match self {
            TransportError::Handshake(e) => e.name(),
            TransportError::Frame(e) => e.name().to_owned(),
            TransportError::Timeout => "timeout".to_owned(),
            TransportError::Closed => "closed".to_owned(),
            TransportError::Io(_) => "io".to_owned(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Handshake(e) => write!(f, "handshake: {e}"),
            TransportError::Frame(e) => write!(f, "frame: {e}"),
            TransportError::Timeout => f.write_str("read timed out"),
            TransportError::Closed => f.write_str("connection closed by peer"),
            TransportError::Io(e) => write!(f, "io: {e}"),
        }
    }
}

impl std::error::Error for TransportError {}

impl From<HandshakeError> for TransportError {
    fn from(e: HandshakeError) -> Self {
        TransportError::Handshake(e)
    }
}
impl From<FrameError> for TransportError {
    fn from(e: FrameError) -> Self {
        TransportError::Frame(e)
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Reads until `buf` is full or the stream ends. Returns how many bytes arrived,
/// and the error that stopped it early, if any (those bytes are valid even then).
fn read_up_to<S: Read>(stream: &mut S, buf: &mut [u8]) -> (usize, Result<(), TransportError>) {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match stream.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return (filled, Err(TransportError::Timeout)),
            Err(e) => return (filled, Err(TransportError::Io(e))),
        }
    }
    (filled, Ok(()))
}

/// Reads one act; a short act is the typed `actN_read_failed`.
fn read_act<S: Read, const N: usize>(stream: &mut S, act: Act) -> Result<[u8; N], TransportError> {
    let mut buf = [0u8; N];
    let (got, result) = read_up_to(stream, &mut buf);
    result?;
    if got != N {
        return Err(HandshakeError::ReadFailed { act, len: got }.into());
    }
    Ok(buf)
}

fn write_all<S: Write>(stream: &mut S, bytes: &[u8]) -> Result<(), TransportError> {
    stream.write_all(bytes).and_then(|_| stream.flush()).map_err(TransportError::Io)
}

/// Opens a connection as initiator to the node `remote_node_id`, with a fresh ephemeral key.
pub fn connect<S: Read + Write>(stream: S, local_static: PrivateKey, remote_node_id: PublicKey) -> Result<Transport<S>, TransportError> {
    connect_with_ephemeral(stream, local_static, remote_node_id, PrivateKey::generate())
}

/// [`connect`] with a chosen ephemeral key (tests and vectors only: BOLT 8 requires a fresh random one).
pub fn connect_with_ephemeral<S: Read + Write>(
    mut stream: S,
    local_static: PrivateKey,
    remote_node_id: PublicKey,
    ephemeral: PrivateKey,
) -> Result<Transport<S>, TransportError> {
    let (initiator, act_one) = Initiator::start(local_static, remote_node_id, ephemeral);
    write_all(&mut stream, &act_one)?;
    let act_two: [u8; ACT_TWO_LEN] = read_act(&mut stream, Act::Two)?;
    let (act_three, established) = initiator.recv_act_two(&act_two)?;
    write_all(&mut stream, &act_three)?;
    Ok(Transport::new(stream, established.encryptor, established.decryptor, established.remote_static))
}

/// Accepts a connection as responder; returns the transport and the initiator's node id.
pub fn accept<S: Read + Write>(stream: S, local_static: PrivateKey) -> Result<(Transport<S>, PublicKey), TransportError> {
    accept_with_ephemeral(stream, local_static, PrivateKey::generate())
}

/// [`accept`] with a chosen ephemeral key (tests and vectors only).
pub fn accept_with_ephemeral<S: Read + Write>(
    mut stream: S,
    local_static: PrivateKey,
    ephemeral: PrivateKey,
) -> Result<(Transport<S>, PublicKey), TransportError> {
    let act_one: [u8; ACT_ONE_LEN] = read_act(&mut stream, Act::One)?;
    let (responder, act_two) = Responder::new(local_static).recv_act_one(&act_one, ephemeral)?;
    write_all(&mut stream, &act_two)?;
    let act_three: [u8; ACT_THREE_LEN] = read_act(&mut stream, Act::Three)?;
    let established = responder.recv_act_three(&act_three)?;
    let remote = established.remote_static;
    Ok((Transport::new(stream, established.encryptor, established.decryptor, remote), remote))
}

/// An established BOLT 8 connection.
pub struct Transport<S> {
    stream: S,
    encryptor: Encryptor,
    decryptor: Decryptor,
    remote: PublicKey,
    /// Bytes of the header or body read so far (kept across timeouts).
    pending: Vec<u8>,
    /// How many bytes the current header or body has; the header is always first.
    want: usize,
    in_body: bool,
}

impl<S> fmt::Debug for Transport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Transport(peer {})", self.remote)
    }
}

impl<S: Read + Write> Transport<S> {
    fn new(stream: S, encryptor: Encryptor, decryptor: Decryptor, remote: PublicKey) -> Transport<S> {
        Transport { stream, encryptor, decryptor, remote, pending: Vec::new(), want: FRAME_HEADER_LEN, in_body: false }
    }

    /// The peer's node id (its static key).
    pub fn remote_node_id(&self) -> PublicKey {
        self.remote
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Encrypts and writes one Lightning message (at most 65535 bytes).
    pub fn send(&mut self, message: &[u8]) -> Result<(), TransportError> {
        let frame = self.encryptor.encrypt(message)?;
        write_all(&mut self.stream, &frame)
    }

    /// Reads and decrypts the next Lightning message. A read timeout (set on
    /// the stream) surfaces as [`TransportError::Timeout`] and can be retried.
    pub fn recv(&mut self) -> Result<Vec<u8>, TransportError> {
        loop {
            self.fill()?;
            let chunk = std::mem::take(&mut self.pending);
            if self.in_body {
                let message = self.decryptor.decrypt_body(&chunk)?;
                self.in_body = false;
                self.want = FRAME_HEADER_LEN;
                return Ok(message);
            }
            self.want = self.decryptor.decrypt_header(&chunk)?;
            self.in_body = true;
        }
    }

    /// Reads until `pending` holds `want` bytes.
    fn fill(&mut self) -> Result<(), TransportError> {
        let start = self.pending.len();
        self.pending.resize(self.want, 0);
        let target = self.pending.get_mut(start..).unwrap_or_default();
        let (got, result) = read_up_to(&mut self.stream, target);
        // Keep exactly what arrived, so a retry after a timeout resumes in place.
        self.pending.truncate(start + got);
        result?;
        if self.pending.len() == self.want {
            return Ok(());
        }
        let len = self.pending.len();
        Err(match (self.in_body, len) {
            (false, 0) => TransportError::Closed,
            (false, _) => FrameError::ShortHeader { len }.into(),
            (true, _) => FrameError::ShortBody { expected: self.want, len }.into(),
        })
    }
}
