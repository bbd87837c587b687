//! The hostile IUT's BOLT 8 side: a responder built from the crate's sans-IO
//! handshake and framing, so it can do what a real node never would (trickle
//! bytes, answer pings wrongly, send a frame that fails its MAC, flood).

use sidepool_conformance::session::bolt1::{Bolt1Message, BoltFeatures, Init, Notice};
use sidepool_conformance::transport::{Decryptor, Encryptor, PrivateKey, Responder, FRAME_HEADER_LEN};
use sidepool_reference::messages::MySidepoolFeatures;
use sidepool_reference::units::PublicKey;
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::Message;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

/// How the handshake goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    Normal,
    /// Accepts the TCP connection, never answers act one.
    Stall,
    /// Act two, one byte a second.
    Trickle,
}

/// How the IUT's `init` goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitMode {
    Normal,
    /// The init frame, one byte a second.
    Trickle,
}

/// How pings are answered. The runner's own barrier pings ask for 13 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pongs {
    Correct,
    /// A pong of 4 bytes right after init (before any ping asks for it), then
    /// only the 13-byte barrier pings are answered.
    StaleThenBarrierOnly,
    /// Barrier pings answered correctly, every other ping with one byte more.
    WrongLengthExceptBarrier,
}

/// What an unknown even message (BOLT 1: close the connection) gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnUnknownEven {
    /// A clean close.
    Close,
    /// 40 bytes that are no frame, and the connection stays open.
    GarbageAndStayOpen,
    /// A BOLT 1 `error`, then a clean close.
    ErrorThenClose,
}

#[derive(Clone, Debug)]
pub struct WireBehaviour {
    pub handshake: Handshake,
    pub init: InitMode,
    /// The BOLT feature bits of the IUT's init.
    pub init_features: Vec<u32>,
    /// Send `my_sidepool_features` (bit 1) when the peer's init signals 1263.
    pub sidepool_features: bool,
    pub pongs: Pongs,
    pub on_unknown_even: OnUnknownEven,
    /// Close the connection right after answering the first ping (the runner's connect barrier).
    pub close_after_first_pong: bool,
    /// Close the connection right after sending `my_sidepool_features` (before any ping is answered).
    pub close_after_features: bool,
    /// Bytes of legal traffic (unknown odd messages, 64 KiB each) sent once the peer's init is
    /// in, per connection, interleaved with the IUT's other messages.
    pub flood_bytes: usize,
    /// The length of each flood message (type included), at most 65535.
    pub flood_message_len: usize,
}

impl Default for WireBehaviour {
    fn default() -> WireBehaviour {
        WireBehaviour {
            handshake: Handshake::Normal,
            init: InitMode::Normal,
            init_features: vec![1263],
            sidepool_features: true,
            pongs: Pongs::Correct,
            on_unknown_even: OnUnknownEven::Close,
            close_after_first_pong: false,
            close_after_features: false,
            flood_bytes: 0,
            flood_message_len: 65535,
        }
    }
}

pub const BARRIER_PONG_LEN: u16 = 13;
/// An unknown odd message type (BOLT 1: ignored by the receiver): legal traffic.
pub const FLOOD_TYPE: u16 = 32769;
/// Message types a BOLT 1 node knows (init, error, warning, ping, pong) or that carry sidepool.
const KNOWN_TYPES: &[u16] = &[1, 16, 17, 18, 19, 53609];

/// A running hostile BOLT 8 listener; its threads end with the test process.
pub struct WireIut {
    pub addr: SocketAddr,
    pub node_id: PublicKey,
}

impl WireIut {
    pub fn start(behaviour: WireBehaviour) -> WireIut {
        let key = PrivateKey::generate();
        let node_id = key.public_key();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let key = key.clone();
                let b = behaviour.clone();
                thread::spawn(move || {
                    let _ = serve(stream, key, b);
                });
            }
        });
        WireIut { addr, node_id }
    }
}

fn trickle(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    for b in bytes {
        stream.write_all(&[*b])?;
        thread::sleep(Duration::from_secs(1));
    }
    Ok(())
}

/// What the connection's writer thread is told to do.
enum Out {
    Message(Vec<u8>),
    /// A message, one byte a second.
    Trickle(Vec<u8>),
    /// Raw bytes that are no frame.
    Garbage(Vec<u8>),
    /// `flood_bytes` of unknown odd messages.
    Flood(usize),
    Close,
}

/// Writes what it is told, in order; a flood goes out between other messages
/// (a pong is not queued behind megabytes of it), until it is spent.
fn writer(mut stream: TcpStream, mut enc: Encryptor, rx: Receiver<Out>, flood_message_len: usize) {
    let mut flood_left = 0usize;
    let mut flood_message = FLOOD_TYPE.to_be_bytes().to_vec();
    flood_message.resize(flood_message_len.clamp(2, 65535), 0x5a);
    loop {
        let next = if flood_left > 0 {
            match rx.try_recv() {
                Ok(out) => Some(out),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        } else {
            match rx.recv() {
                Ok(out) => Some(out),
                Err(_) => return,
            }
        };
        let ok = match next {
            None => {
                flood_left = flood_left.saturating_sub(flood_message.len());
                enc.encrypt(&flood_message).ok().is_some_and(|f| stream.write_all(&f).is_ok())
            }
            Some(Out::Message(m)) => enc.encrypt(&m).ok().is_some_and(|f| stream.write_all(&f).is_ok()),
            Some(Out::Trickle(m)) => enc.encrypt(&m).ok().is_some_and(|f| trickle(&mut stream, &f).is_ok()),
            Some(Out::Garbage(g)) => stream.write_all(&g).is_ok(),
            Some(Out::Flood(n)) => {
                flood_left += n;
                true
            }
            Some(Out::Close) => {
                let _ = stream.shutdown(Shutdown::Both);
                false
            }
        };
        if !ok {
            return;
        }
    }
}

fn read_frame(stream: &mut TcpStream, dec: &mut Decryptor) -> Option<Vec<u8>> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    stream.read_exact(&mut header).ok()?;
    let body_len = dec.decrypt_header(&header).ok()?;
    let mut body = vec![0u8; body_len];
    stream.read_exact(&mut body).ok()?;
    dec.decrypt_body(&body).ok()
}

fn serve(mut stream: TcpStream, key: PrivateKey, b: WireBehaviour) -> Option<()> {
    stream.set_nodelay(true).ok()?;
    if b.handshake == Handshake::Stall {
        // Hold the connection open, say nothing, until the runner hangs up.
        let mut sink = [0u8; 256];
        while stream.read(&mut sink).ok()? > 0 {}
        return Some(());
    }
    let mut act_one = [0u8; 50];
    stream.read_exact(&mut act_one).ok()?;
    let (responder, act_two) = Responder::new(key).recv_act_one(&act_one, PrivateKey::generate()).ok()?;
    match b.handshake {
        Handshake::Trickle => trickle(&mut stream, &act_two).ok()?,
        _ => stream.write_all(&act_two).ok()?,
    }
    let mut act_three = [0u8; 66];
    stream.read_exact(&mut act_three).ok()?;
    let established = responder.recv_act_three(&act_three).ok()?;
    let mut dec = established.decryptor;
    let (tx, rx) = mpsc::channel();
    let write_half = stream.try_clone().ok()?;
    let flood_message_len = b.flood_message_len;
    thread::spawn(move || writer(write_half, established.encryptor, rx, flood_message_len));
    let send = |tx: &Sender<Out>, out: Out| tx.send(out).ok();

    let init = Init { global_features: BoltFeatures::default(), features: BoltFeatures::from_bits(b.init_features.iter().copied()), tlvs: Vec::new() };
    let init = Bolt1Message::Init(init).encode();
    send(&tx, if b.init == InitMode::Trickle { Out::Trickle(init) } else { Out::Message(init) })?;
    if b.pongs == Pongs::StaleThenBarrierOnly {
        send(&tx, Out::Message(Bolt1Message::Pong { ignored_len: 4 }.encode()))?;
    }
    let mut pongs_sent = 0;
    while let Some(m) = read_frame(&mut stream, &mut dec) {
        let type_id = m.get(..2).map(|t| u16::from_be_bytes([t[0], t[1]])).unwrap_or(0);
        match Bolt1Message::decode(&m) {
            Ok(Some(Bolt1Message::Init(theirs))) => {
                if b.sidepool_features && theirs.all_features().offers_pair(1263) {
                    let ours = Message::MySidepoolFeatures(MySidepoolFeatures { features: FeatureSet::new().with(1), unknown: Vec::new() });
                    send(&tx, Out::Message(ours.encode()))?;
                }
                if b.flood_bytes > 0 {
                    send(&tx, Out::Flood(b.flood_bytes))?;
                }
                if b.close_after_features {
                    send(&tx, Out::Close)?;
                    return Some(());
                }
            }
            Ok(Some(Bolt1Message::Ping { num_pong_bytes, .. })) => {
                let answer = match (b.pongs, num_pong_bytes) {
                    (_, BARRIER_PONG_LEN) | (Pongs::Correct, _) => Some(num_pong_bytes),
                    (Pongs::StaleThenBarrierOnly, _) => None,
                    (Pongs::WrongLengthExceptBarrier, n) => Some(n + 1),
                };
                if let Some(len) = answer {
                    send(&tx, Out::Message(Bolt1Message::Pong { ignored_len: len }.encode()))?;
                    pongs_sent += 1;
                    if b.close_after_first_pong && pongs_sent == 1 {
                        send(&tx, Out::Close)?;
                    }
                }
            }
            _ if type_id % 2 == 0 && !KNOWN_TYPES.contains(&type_id) => match b.on_unknown_even {
                OnUnknownEven::Close => {
                    send(&tx, Out::Close)?;
                    return Some(());
                }
                OnUnknownEven::GarbageAndStayOpen => send(&tx, Out::Garbage(vec![0xee; 40]))?,
                OnUnknownEven::ErrorThenClose => {
                    let notice = Notice { channel_id: [0; 32], data: format!("unknown even message type {type_id}").into_bytes() };
                    send(&tx, Out::Message(Bolt1Message::Error(notice).encode()))?;
                    send(&tx, Out::Close)?;
                    return Some(());
                }
            },
            _ => {}
        }
    }
    Some(())
}
