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
            // The kind first: it is what a reader can act on ("ConnectionReset", "BrokenPipe").
            TransportError::Io(e) => write!(f, "io ({:?}): {e}", e.kind()),
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
pub fn connect<S: Read + Write>(
    stream: S,
    local_static: PrivateKey,
    remote_node_id: PublicKey,
) -> Result<Transport<S>, TransportError> {
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
pub fn accept<S: Read + Write>(
    stream: S,
    local_static: PrivateKey,
) -> Result<(Transport<S>, PublicKey), TransportError> {
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

    /// The stream, to adjust it (timeouts, deadlines) between reads.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Whether part of a frame has arrived and the rest is awaited.
    pub fn mid_frame(&self) -> bool {
        self.in_body || !self.pending.is_empty()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    /// Only so that a broken build fails instead of hanging; no assertion depends on time.
    const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(30);

    fn key(byte: u8) -> PrivateKey {
        PrivateKey::from_bytes([byte; 32]).unwrap()
    }

    /// Two transports over loopback TCP: (initiator side, responder side).
    fn loopback() -> (Transport<TcpStream>, Transport<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
            accept(stream, key(0x21)).unwrap()
        });
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
        let client = connect(stream, key(0x11), key(0x21).public_key()).unwrap();
        let (server, initiator_id) = server.join().unwrap();
        assert_eq!(initiator_id, key(0x11).public_key());
        assert_eq!(client.remote_node_id(), key(0x21).public_key());
        (client, server)
    }

    #[test]
    fn two_transports_talk_over_tcp_across_key_rotations() {
        let (mut client, mut server) = loopback();
        // 1100 messages each way: each key rotates after 500 messages (1000 nonces).
        let echo = thread::spawn(move || {
            for _ in 0..1100 {
                let m = server.recv().unwrap();
                server.send(&m).unwrap();
            }
            server
        });
        for i in 0u32..1100 {
            let msg = [&i.to_be_bytes()[..], &vec![0x5a; (i % 300) as usize]].concat();
            client.send(&msg).unwrap();
            assert_eq!(client.recv().unwrap(), msg, "message {i}");
        }
        let mut server = echo.join().unwrap();
        // The largest message crosses too; a larger one is refused before any byte is written.
        let big = vec![0xc3; 65535];
        assert_eq!(client.send(&vec![0; 65536]).unwrap_err().name(), "message_too_large");
        client.send(&big).unwrap();
        assert_eq!(server.recv().unwrap(), big);
        drop(client);
        assert_eq!(server.recv().unwrap_err().name(), "closed");
    }

    #[test]
    fn the_wrong_node_id_fails_both_sides_cleanly() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            accept(stream, key(0x21)).map(|_| ()).unwrap_err().name()
        });
        // The initiator believes the responder is key 0x22: act one's MAC is under the wrong key.
        let client = connect(TcpStream::connect(addr).unwrap(), key(0x11), key(0x22).public_key());
        assert_eq!(server.join().unwrap(), "act1_bad_tag");
        // The responder hung up without answering: act two is a short read.
        assert_eq!(client.map(|_| ()).unwrap_err().name(), "act2_read_failed");
    }

    /// A stream that replays scripted reads (chunks, or errors) and records writes.
    struct Scripted {
        reads: VecDeque<Result<Vec<u8>, ErrorKind>>,
        written: Vec<u8>,
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.reads.pop_front() {
                None => Ok(0),
                Some(Err(kind)) => Err(kind.into()),
                Some(Ok(mut chunk)) => {
                    let n = chunk.len().min(buf.len());
                    buf[..n].copy_from_slice(&chunk[..n]);
                    if n < chunk.len() {
                        self.reads.push_front(Ok(chunk.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Both ends of one in-memory handshake: (initiator, responder).
    fn established_pair() -> (crate::transport::Established, crate::transport::Established) {
        let (initiator, act_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
        let (responder, act_two) = Responder::new(key(0x21)).recv_act_one(&act_one, key(0x22)).unwrap();
        let (act_three, a) = initiator.recv_act_two(&act_two).unwrap();
        (a, responder.recv_act_three(&act_three).unwrap())
    }

    /// The initiator's transport reading `reads` (frames from `loop_sender`).
    fn scripted(reads: Vec<Result<Vec<u8>, ErrorKind>>) -> Transport<Scripted> {
        let (a, _) = established_pair();
        let stream = Scripted { reads: reads.into(), written: Vec::new() };
        Transport::new(stream, a.encryptor, a.decryptor, a.remote_static)
    }

    /// The responder's encryptor: its frames are what `scripted` expects.
    fn loop_sender() -> Encryptor {
        established_pair().1.encryptor
    }

    #[test]
    fn a_timeout_mid_frame_surfaces_and_recv_resumes() {
        let mut sender = loop_sender();
        let frame = sender.encrypt(b"hello").unwrap();
        let next = sender.encrypt(b"again").unwrap();
        let reads = vec![
            Err(ErrorKind::WouldBlock),
            Ok(frame[..7].to_vec()),
            Err(ErrorKind::TimedOut),
            Ok(frame[7..20].to_vec()),
            Err(ErrorKind::WouldBlock),
            Ok(frame[20..].to_vec()),
            Err(ErrorKind::Interrupted),
            Ok(next),
        ];
        let mut t = scripted(reads);
        assert_eq!(t.recv().unwrap_err().name(), "timeout");
        assert_eq!(t.recv().unwrap_err().name(), "timeout");
        assert_eq!(t.recv().unwrap_err().name(), "timeout");
        assert_eq!(t.recv().unwrap(), b"hello");
        assert_eq!(t.recv().unwrap(), b"again");
        assert_eq!(t.recv().unwrap_err().name(), "closed");
    }

    #[test]
    fn truncated_and_tampered_frames_are_clean_errors() {
        let frame = loop_sender().encrypt(b"hello").unwrap();
        let mut t = scripted(vec![Ok(frame[..frame.len() - 1].to_vec())]);
        assert_eq!(t.recv().unwrap_err().name(), "short_body");
        let mut t = scripted(vec![Ok(frame[..5].to_vec())]);
        assert_eq!(t.recv().unwrap_err().name(), "short_header");
        let mut flipped = frame.clone();
        *flipped.last_mut().unwrap() ^= 0x01;
        let mut t = scripted(vec![Ok(flipped)]);
        assert_eq!(t.recv().unwrap_err().name(), "bad_body_mac");
        let mut flipped = frame;
        flipped[3] ^= 0x80;
        let mut t = scripted(vec![Ok(flipped)]);
        assert_eq!(t.recv().unwrap_err().name(), "bad_header_mac");
        let mut t = scripted(vec![Err(ErrorKind::ConnectionReset)]);
        let err = t.recv().unwrap_err();
        assert_eq!(err.name(), "io");
        assert!(err.to_string().starts_with("io (ConnectionReset): "), "{err}");
    }

    #[test]
    fn a_short_act_is_a_typed_handshake_error() {
        let stream = Scripted { reads: vec![Ok(vec![0; 49])].into(), written: Vec::new() };
        assert_eq!(accept(stream, key(0x21)).map(|_| ()).unwrap_err().name(), "act1_read_failed");
        let stream = Scripted { reads: vec![Err(ErrorKind::WouldBlock)].into(), written: Vec::new() };
        assert_eq!(accept(stream, key(0x21)).map(|_| ()).unwrap_err().name(), "timeout");
    }

    #[test]
    fn a_bad_act_one_gets_no_answer() {
        // BOLT 8: "the responder MUST terminate the connection without any further messages."
        let (_, mut act_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
        act_one[49] ^= 1;
        let mut stream = Scripted { reads: vec![Ok(act_one.to_vec())].into(), written: Vec::new() };
        assert_eq!(accept(&mut stream, key(0x21)).map(|_| ()).unwrap_err().name(), "act1_bad_tag");
        assert!(stream.written.is_empty());
    }
}
