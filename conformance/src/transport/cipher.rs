//! Lightning message framing after the handshake: an encrypted, authenticated
//! 2-byte length, then the encrypted, authenticated message; each key rotates
//! on its own after 1000 uses.

use super::crypto::{hkdf, nonce_bytes, Secret, MAC_LEN};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use super::error::FrameError;
use core::fmt;

/// BOLT 8: "The *maximum* size of _any_ Lightning message MUST NOT exceed `65535` bytes."
pub const MAX_MESSAGE_LEN: usize = 65535;
/// The encrypted length prefix: 2 bytes plus its MAC.
pub const FRAME_HEADER_LEN: usize = 2 + MAC_LEN;
/// The number of uses after which a key rotates (see ERRATA E-30 on "messages").
pub const ROTATE_AFTER: u64 = 1000;

/// One direction's key, its nonce and its own copy of the chaining key.
#[derive(Clone)]
pub(crate) struct CipherState {
    key: Secret,
    ck: Secret,
    nonce: u64,
}

impl CipherState {
    pub(crate) fn new(key: Secret, ck: Secret) -> CipherState {
        CipherState { key, ck, nonce: 0 }
    }

    /// (chaining key, key, nonce) as they stand: for vector checks inside this crate only.
    pub(crate) fn snapshot(&self) -> ([u8; 32], [u8; 32], u64) {
        (*self.ck, *self.key, self.nonce)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.key.as_slice()))
    }

    /// `encryptWithAD(k, n, "", plaintext)` appended to `out` (ciphertext, then
    /// the tag), encrypted in place: no buffer of its own, no copy.
    fn encrypt_into(&mut self, plaintext: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = match out.get_mut(start..) {
            // Fails only past ChaCha20's 256 GiB limit; frames hold at most 65535 bytes.
            Some(buf) => self.cipher().encrypt_in_place_detached(Nonce::from_slice(&nonce_bytes(self.nonce)), &[], buf).ok(),
            None => None,
        };
        match tag {
            Some(tag) => out.extend_from_slice(&tag),
            None => out.truncate(start),
        }
        self.advance();
    }

    /// `decryptWithAD(k, n, "", ciphertext)` into `plain` (which must have the
    /// ciphertext's length less the tag): false if the MAC check fails.
    fn decrypt_into(&mut self, ciphertext: &[u8], plain: &mut [u8]) -> bool {
        let ok = match ciphertext.len().checked_sub(MAC_LEN).map(|n| ciphertext.split_at(n)) {
            Some((body, tag)) if body.len() == plain.len() => {
                plain.copy_from_slice(body);
                let nonce = nonce_bytes(self.nonce);
                self.cipher().decrypt_in_place_detached(Nonce::from_slice(&nonce), &[], plain, Tag::from_slice(tag)).is_ok()
            }
            _ => false,
        };
        self.advance();
        ok
    }

    fn advance(&mut self) {
        // BOLT 8: "The nonce `sn` MUST be incremented after this step."
        self.nonce += 1;
        // BOLT 8: "This can be properly accounted for by rotating the key once the nonce
        // dedicated to it exceeds 1000." The Appendix A vectors fix the moment: after
        // nonce 999 has been used (ERRATA E-30).
        if self.nonce == ROTATE_AFTER {
            // BOLT 8: "`ck', k' = HKDF(ck, k)`", "Reset the nonce for the key to `n = 0`."
            let (ck, key) = hkdf(&self.ck, self.key.as_ref());
            self.ck = ck;
            self.key = key;
            self.nonce = 0;
        }
    }
}

impl fmt::Debug for CipherState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CipherState(<redacted>, nonce {})", self.nonce)
    }
}

/// The sending half: turns Lightning messages into frames.
#[derive(Debug)]
pub struct Encryptor {
    pub(crate) state: CipherState,
}

impl Encryptor {
    pub(crate) fn new(state: CipherState) -> Encryptor {
        Encryptor { state }
    }

    /// One frame, `lc || c`, ready for the wire.
    pub fn encrypt(&mut self, message: &[u8]) -> Result<Vec<u8>, FrameError> {
        // BOLT 8: "The *maximum* size of _any_ Lightning message MUST NOT exceed `65535` bytes."
        let len = u16::try_from(message.len()).map_err(|_| FrameError::TooLarge { len: message.len() })?;
        // One buffer for the whole frame, each part encrypted in place in it.
        let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + message.len() + MAC_LEN);
        // BOLT 8: "Serialize `l` into 2 bytes encoded as a big-endian integer."
        self.state.encrypt_into(&len.to_be_bytes(), &mut frame);
        // BOLT 8: "Finally, encrypt the message itself (`m`) using the same procedure used to encrypt the length prefix."
        self.state.encrypt_into(message, &mut frame);
        Ok(frame)
    }
}

/// The receiving half: first the 18-byte header, which says how many bytes to
/// read next, then the body. Any failure poisons it: the connection must end.
#[derive(Debug)]
pub struct Decryptor {
    pub(crate) state: CipherState,
    phase: Phase,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingHeader,
    /// The body length (message plus MAC) the header announced.
    AwaitingBody(usize),
    Poisoned,
}

impl Decryptor {
    pub(crate) fn new(state: CipherState) -> Decryptor {
        Decryptor { state, phase: Phase::AwaitingHeader }
    }

    /// Decrypts the 18-byte length header and returns how many bytes the body
    /// (message plus its 16-byte MAC) has: read exactly that many next.
    pub fn decrypt_header(&mut self, header: &[u8]) -> Result<usize, FrameError> {
        if self.phase != Phase::AwaitingHeader {
            return Err(self.fail(FrameError::OutOfOrder));
        }
        // BOLT 8: "Read _exactly_ 18 bytes from the network buffer."
        if header.len() != FRAME_HEADER_LEN {
            return Err(self.fail(FrameError::ShortHeader { len: header.len() }));
        }
        let mut len_bytes = [0u8; 2];
        if !self.state.decrypt_into(header, &mut len_bytes) {
            return Err(self.fail(FrameError::BadHeaderMac));
        }
        // BOLT 8: "Read _exactly_ `l+16` bytes from the network buffer"
        let body_len = usize::from(u16::from_be_bytes(len_bytes)) + MAC_LEN;
        self.phase = Phase::AwaitingBody(body_len);
        Ok(body_len)
    }

    /// Decrypts the body announced by the last header.
    pub fn decrypt_body(&mut self, body: &[u8]) -> Result<Vec<u8>, FrameError> {
        let Phase::AwaitingBody(expected) = self.phase else {
            return Err(self.fail(FrameError::OutOfOrder));
        };
        if body.len() != expected {
            return Err(self.fail(FrameError::ShortBody { expected, len: body.len() }));
        }
        // The body is at least the MAC: the header announced `l + 16`.
        let mut message = vec![0u8; expected.saturating_sub(MAC_LEN)];
        if !self.state.decrypt_into(body, &mut message) {
            return Err(self.fail(FrameError::BadBodyMac));
        }
        self.phase = Phase::AwaitingHeader;
        Ok(message)
    }

    /// Decrypts exactly one whole frame (header then body, nothing after).
    pub fn decrypt_frame(&mut self, frame: &[u8]) -> Result<Vec<u8>, FrameError> {
        let header = frame.get(..FRAME_HEADER_LEN).unwrap_or(frame);
        self.decrypt_header(header)?;
        self.decrypt_body(frame.get(FRAME_HEADER_LEN..).unwrap_or_default())
    }

    fn fail(&mut self, error: FrameError) -> FrameError {
        let error = if self.phase == Phase::Poisoned { FrameError::Poisoned } else { error };
        self.phase = Phase::Poisoned;
        error
    }
}

/// A matched sender and receiver for one side of a connection.
pub(crate) fn pair(sk: Secret, rk: Secret, ck: &Secret) -> (Encryptor, Decryptor) {
    (Encryptor::new(CipherState::new(sk, ck.clone())), Decryptor::new(CipherState::new(rk, ck.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn linked() -> (Encryptor, Decryptor) {
        let key = Zeroizing::new([3u8; 32]);
        let ck = Zeroizing::new([4u8; 32]);
        (Encryptor::new(CipherState::new(key.clone(), ck.clone())), Decryptor::new(CipherState::new(key, ck)))
    }

    #[test]
    fn frames_round_trip_across_rotations() {
        let (mut tx, mut rx) = linked();
        for i in 0u32..1200 {
            let msg = i.to_be_bytes();
            let frame = tx.encrypt(&msg).unwrap();
            assert_eq!(frame.len(), FRAME_HEADER_LEN + 4 + MAC_LEN);
            assert_eq!(rx.decrypt_frame(&frame).unwrap(), msg);
        }
        // 2400 uses: rotated at 1000 and 2000, now at nonce 400 on both sides.
        assert_eq!(tx.state.snapshot().2, 400);
        assert_eq!(rx.state.snapshot(), tx.state.snapshot());
    }

    #[test]
    fn oversized_messages_are_refused_and_the_limit_is_accepted() {
        let (mut tx, mut rx) = linked();
        assert_eq!(tx.encrypt(&vec![0; 65536]), Err(FrameError::TooLarge { len: 65536 }));
        // A refused send consumes no nonce, so the next frame still decrypts.
        let frame = tx.encrypt(&vec![0xab; MAX_MESSAGE_LEN]).unwrap();
        assert_eq!(rx.decrypt_header(&frame[..FRAME_HEADER_LEN]), Ok(MAX_MESSAGE_LEN + MAC_LEN));
        assert_eq!(rx.decrypt_body(&frame[FRAME_HEADER_LEN..]).unwrap(), vec![0xab; MAX_MESSAGE_LEN]);
    }

    #[test]
    fn flipped_bits_and_truncation_are_clean_errors_that_poison() {
        let (mut tx, _) = linked();
        let frame = tx.encrypt(b"hello").unwrap();
        for (bit, expected) in [
            (0, FrameError::BadHeaderMac),
            (17 * 8, FrameError::BadHeaderMac),
            (18 * 8, FrameError::BadBodyMac),
            ((frame.len() - 1) * 8 + 7, FrameError::BadBodyMac),
        ] {
            let mut bad = frame.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let (_, mut rx) = linked();
            assert_eq!(rx.decrypt_frame(&bad), Err(expected), "bit {bit}");
            assert_eq!(rx.decrypt_frame(&frame), Err(FrameError::Poisoned));
        }
        let (_, mut rx) = linked();
        assert_eq!(rx.decrypt_frame(&frame[..10]), Err(FrameError::ShortHeader { len: 10 }));
        let (_, mut rx) = linked();
        assert_eq!(rx.decrypt_frame(&frame[..frame.len() - 1]), Err(FrameError::ShortBody { expected: 21, len: 20 }));
        let (_, mut rx) = linked();
        assert_eq!(rx.decrypt_body(&frame[18..]), Err(FrameError::OutOfOrder));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use zeroize::Zeroizing;

    fn receiver() -> Decryptor {
        Decryptor::new(CipherState::new(Zeroizing::new([3u8; 32]), Zeroizing::new([4u8; 32])))
    }

    proptest! {
        #[test]
        fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut rx = receiver();
            let _ = rx.decrypt_frame(&bytes);
            let _ = rx.decrypt_frame(&bytes);
        }

        #[test]
        fn arbitrary_headers_and_bodies_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6)) {
            let mut rx = receiver();
            for (i, chunk) in chunks.iter().enumerate() {
                let _ = if i % 2 == 0 { rx.decrypt_header(chunk).map(|_| ()) } else { rx.decrypt_body(chunk).map(|_| ()) };
            }
        }

        #[test]
        fn any_message_round_trips(messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..20)) {
            let key = Zeroizing::new([9u8; 32]);
            let ck = Zeroizing::new([8u8; 32]);
            let mut tx = Encryptor::new(CipherState::new(key.clone(), ck.clone()));
            let mut rx = Decryptor::new(CipherState::new(key, ck));
            for m in &messages {
                let frame = tx.encrypt(m).unwrap();
                prop_assert_eq!(frame.len(), m.len() + 2 * MAC_LEN + 2);
                prop_assert_eq!(&rx.decrypt_frame(&frame).unwrap(), m);
            }
        }
    }
}
