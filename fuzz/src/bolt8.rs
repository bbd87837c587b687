//! `bolt8_responder`: the BOLT 8 transport (`conformance/src/transport`) as the
//! responder of a connection, with a fixed static key, driven by the input.
//!
//! The first byte picks how the handshake goes:
//! - bit 0 clear: acts one and three are raw input bytes (a length byte, then
//!   the act). The fixed keys are BOLT 8 Appendix A's, so the appendix's acts
//!   (the seeds) complete the handshake; the fuzzer mutates them into every
//!   refusal. A completed handshake must be the real initiator's, and goes on
//!   to the frames.
//! - bit 0 set: a real initiator with fixed keys runs the handshake; bits 1
//!   and 2 say whether act one / act three are first XORed with a mask from
//!   the input (a corrupted act must be refused with the error of the part it
//!   hit, an untouched one accepted). On success, the rest of the input is a
//!   script of frames for the responder's decryptor (see [`frames`]).
//!
//! Invariants: no panic; every error is typed, with a stable name that its
//! Display starts with; a frame that decrypts re-encrypts to the very same
//! bytes from the initiator's matching encryptor; after the first error the
//! decryptor answers only `Poisoned`.

use sidepool_conformance::transport::error::{Act, FrameError, HandshakeError};
use sidepool_conformance::transport::handshake::{ACT_ONE_LEN, ACT_THREE_LEN};
use sidepool_conformance::transport::{Established, Initiator, PrivateKey, Responder, FRAME_HEADER_LEN};

const MAC_LEN: usize = 16;

/// Reads the input front to back; an exhausted input reads as zeros / empty.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `[byte; 32]` as a key, cached: deriving the public key is the costly part.
fn key(byte: u8) -> PrivateKey {
    thread_local! {
        static KEYS: std::cell::RefCell<std::collections::BTreeMap<u8, PrivateKey>> = Default::default();
    }
    KEYS.with(|keys| {
        keys.borrow_mut()
            .entry(byte)
            .or_insert_with(|| {
                PrivateKey::from_bytes([byte; 32]).unwrap_or_else(|| panic!("[{byte:#x}; 32] is a valid key"))
            })
            .clone()
    })
}

/// The error contract of the handshake.
fn assert_handshake_error(e: &HandshakeError, act: Act, len: usize) {
    let name = e.name();
    assert!(name.starts_with(&format!("act{}_", act.number())), "{name} for act {}", act.number());
    assert!(e.to_string().starts_with(&name), "Display of {name}: {e}");
    match *e {
        HandshakeError::ReadFailed { act: a, len: l } => {
            assert_eq!((a, l), (act, len));
            assert_ne!(len, act.wire_len(), "an act of the right length refused as a short read");
        }
        _ => assert_eq!(len, act.wire_len(), "{name} on an act of the wrong length {len}"),
    }
}

/// An act length: mostly the right one, sometimes any length up to 127.
fn act_len(selector: u8, right: usize) -> usize {
    if selector & 0x80 == 0 {
        right
    } else {
        usize::from(selector & 0x7f)
    }
}

pub fn bolt8_responder(data: &[u8]) {
    let mut input = Input(data);
    let mode = input.byte();
    let responder = Responder::new(key(0x21));
    if mode & 1 == 0 {
        let len1 = act_len(input.byte(), ACT_ONE_LEN);
        let act_one = input.take(len1).to_vec();
        let (awaiting, act_two) = match responder.recv_act_one(&act_one, key(0x22)) {
            Ok(ok) => ok,
            Err(e) => return assert_handshake_error(&e, Act::One, act_one.len()),
        };
        let len3 = act_len(input.byte(), ACT_THREE_LEN);
        let act_three = input.take(len3).to_vec();
        let mut responder_side = match awaiting.recv_act_three(&act_three) {
            Ok(established) => established,
            Err(e) => return assert_handshake_error(&e, Act::Three, act_three.len()),
        };
        // Raw acts that complete a handshake must be exactly the real initiator's
        // (the fixed keys are BOLT 8 Appendix A's, so its acts are the seeds);
        // anything else would be a forgery the responder let through.
        let (initiator, real_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
        assert_eq!(act_one, real_one, "the responder accepted an act one the initiator did not send");
        let Ok((real_three, mut initiator_side)) = initiator.recv_act_two(&act_two) else {
            panic!("the initiator refused the responder's act two")
        };
        assert_eq!(act_three, real_three, "the responder accepted an act three the initiator did not send");
        return frames(&mut input, &mut initiator_side, &mut responder_side);
    }

    // A real initiator, then optional corruption of its acts.
    let (initiator, mut act_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
    let flipped_one = mode & 2 != 0 && xor_mask(&mut act_one, &mut input);
    let (awaiting, act_two) = match responder.recv_act_one(&act_one, key(0x22)) {
        Ok(ok) => ok,
        Err(e) => {
            assert!(flipped_one, "an untouched act one was refused: {e}");
            return assert_handshake_error(&e, Act::One, ACT_ONE_LEN);
        }
    };
    // Any change to act one changes `h` (or the key), so its MAC fails.
    assert!(!flipped_one, "a corrupted act one was accepted");
    let Ok((mut act_three, mut initiator_side)) = initiator.recv_act_two(&act_two) else {
        panic!("the initiator refused the responder's act two")
    };
    let flipped_three = mode & 4 != 0 && xor_mask(&mut act_three, &mut input);
    let mut responder_side = match awaiting.recv_act_three(&act_three) {
        Ok(established) => established,
        Err(e) => {
            assert!(flipped_three, "an untouched act three was refused: {e}");
            return assert_handshake_error(&e, Act::Three, ACT_THREE_LEN);
        }
    };
    assert!(!flipped_three, "a corrupted act three was accepted");
    assert_eq!(responder_side.remote_static, key(0x11).public_key(), "wrong initiator identity");
    frames(&mut input, &mut initiator_side, &mut responder_side);
}

/// XORs a mask read from the input into `act` at an offset from the input;
/// true if any byte changed.
fn xor_mask(act: &mut [u8], input: &mut Input) -> bool {
    let at = usize::from(input.byte()) % act.len();
    let mask = input.take(4);
    let mut changed = false;
    for (b, m) in act.iter_mut().skip(at).zip(mask) {
        *b ^= m;
        changed |= *m != 0;
    }
    changed
}

/// The decryptor's fate so far.
#[derive(PartialEq)]
enum Rx {
    Ok,
    Poisoned,
}

/// A script of frames for the responder's decryptor, one op at a time:
/// 0 a real frame (and one back the other way), 1 raw bytes as a frame,
/// 2 raw header then raw body, 3 a real frame with one bit flipped,
/// 4 a real frame cut short, 5 a run of real frames across a key rotation.
fn frames(input: &mut Input, initiator: &mut Established, responder: &mut Established) {
    let mut rx = Rx::Ok;
    let mut ops = 0;
    while !input.is_empty() && ops < 64 {
        ops += 1;
        match input.byte() % 6 {
            0 => {
                let len = usize::from(input.u16() % 600);
                let message = input.take(len).to_vec();
                let frame = encrypt(initiator, &message);
                expect(responder, &mut rx, &frame, Ok(message.clone()));
                // The other direction has its own keys and never poisons.
                let back = encrypt(responder, &message);
                assert_eq!(initiator.decryptor.decrypt_frame(&back), Ok(message), "the reply did not decrypt");
            }
            1 => {
                let len = usize::from(input.u16() % 700);
                let frame = input.take(len).to_vec();
                raw_frame(initiator, responder, &mut rx, &frame);
            }
            2 => {
                let header_len = usize::from(input_len(input, FRAME_HEADER_LEN));
                let header = input.take(header_len).to_vec();
                let body_len = usize::from(input.u16() % 700);
                let body = input.take(body_len).to_vec();
                match responder.decryptor.decrypt_header(&header) {
                    Ok(n) => {
                        assert!(rx == Rx::Ok && header.len() == FRAME_HEADER_LEN, "a header decrypted");
                        assert!((MAC_LEN..=65535 + MAC_LEN).contains(&n));
                        // A forged header MAC: out of reach, but keep the body's contract.
                        if let Err(e) = responder.decryptor.decrypt_body(&body) {
                            assert_frame_error(&e);
                            rx = Rx::Poisoned;
                        }
                    }
                    Err(e) => {
                        assert_frame_error(&e);
                        after_error(&mut rx, &e);
                        let again = responder.decryptor.decrypt_body(&body);
                        assert_eq!(again, Err(FrameError::Poisoned), "a body after a refused header");
                    }
                }
            }
            3 => {
                let len = usize::from(input.u16() % 300);
                let message = input.take(len).to_vec();
                let mut frame = encrypt(initiator, &message);
                let bit = usize::from(input.u16()) % (frame.len() * 8);
                if let Some(b) = frame.get_mut(bit / 8) {
                    *b ^= 1 << (bit % 8);
                }
                let expected =
                    if bit / 8 < FRAME_HEADER_LEN { FrameError::BadHeaderMac } else { FrameError::BadBodyMac };
                expect(responder, &mut rx, &frame, Err(expected));
            }
            4 => {
                let len = usize::from(input.u16() % 300);
                let message = input.take(len).to_vec();
                let frame = encrypt(initiator, &message);
                let cut = usize::from(input.u16()) % frame.len();
                let short = frame.get(..cut).unwrap_or_default();
                let expected = if cut < FRAME_HEADER_LEN {
                    FrameError::ShortHeader { len: cut }
                } else {
                    FrameError::ShortBody { expected: len + MAC_LEN, len: cut - FRAME_HEADER_LEN }
                };
                expect(responder, &mut rx, short, Err(expected));
            }
            _ => {
                // Two nonces a frame: 600 frames pass the rotation after 1000 uses.
                let count = usize::from(input.u16() % 600);
                for i in 0..count {
                    let message = (i as u32).to_be_bytes();
                    let frame = encrypt(initiator, &message);
                    expect(responder, &mut rx, &frame, Ok(message.to_vec()));
                }
            }
        }
    }
}

/// The header length of a raw op: mostly the right one.
fn input_len(input: &mut Input, right: usize) -> u16 {
    let s = input.byte();
    if s & 0x80 == 0 {
        right as u16
    } else {
        u16::from(s & 0x3f)
    }
}

fn encrypt(side: &mut Established, message: &[u8]) -> Vec<u8> {
    match side.encryptor.encrypt(message) {
        Ok(frame) => {
            assert_eq!(frame.len(), FRAME_HEADER_LEN + message.len() + MAC_LEN);
            frame
        }
        Err(e) => panic!("a {}-byte message was not encrypted: {e}", message.len()),
    }
}

/// Raw bytes as a frame: refused with a typed error, or (a forgery, out of
/// reach) decrypted to a message the initiator's encryptor turns into the very
/// same frame.
fn raw_frame(initiator: &mut Established, responder: &mut Established, rx: &mut Rx, frame: &[u8]) {
    match responder.decryptor.decrypt_frame(frame) {
        Ok(message) => {
            assert!(*rx == Rx::Ok, "a poisoned decryptor decrypted a frame");
            assert_eq!(encrypt(initiator, &message), frame, "a decrypted frame does not re-encrypt to itself");
        }
        Err(e) => {
            assert_frame_error(&e);
            after_error(rx, &e);
        }
    }
}

/// Feeds a frame and compares with what must happen given the decryptor's state.
fn expect(responder: &mut Established, rx: &mut Rx, frame: &[u8], healthy: Result<Vec<u8>, FrameError>) {
    let got = responder.decryptor.decrypt_frame(frame);
    if let Err(e) = &got {
        assert_frame_error(e);
    }
    match rx {
        Rx::Poisoned => assert_eq!(got, Err(FrameError::Poisoned), "a poisoned decryptor answered otherwise"),
        Rx::Ok => {
            assert_eq!(got, healthy, "frame of {} bytes", frame.len());
            if got.is_err() {
                *rx = Rx::Poisoned;
            }
        }
    }
}

fn after_error(rx: &mut Rx, e: &FrameError) {
    if *rx == Rx::Poisoned {
        assert_eq!(*e, FrameError::Poisoned, "a poisoned decryptor gave another error");
    }
    assert!(*e != FrameError::Poisoned || *rx == Rx::Poisoned, "Poisoned before any failure");
    *rx = Rx::Poisoned;
}

fn assert_frame_error(e: &FrameError) {
    let name = e.name();
    assert!(!name.is_empty() && e.to_string().starts_with(name), "Display of {name}: {e}");
    assert!(!matches!(e, FrameError::TooLarge { .. }), "a receive error named a send failure");
}
