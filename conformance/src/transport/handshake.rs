//! The BOLT 8 `Noise_XK` handshake as two sans-IO state machines. Ephemeral
//! keys are inputs, so a handshake is a pure function of its keys and the
//! bytes received: the Appendix A vectors replay exactly.

use super::cipher::{pair, Decryptor, Encryptor};
use super::crypto::{decrypt_with_ad, ecdh, encrypt_with_ad, hkdf, sha256, Secret, MAC_LEN};
use super::error::{Act, HandshakeError};
use super::keys::PrivateKey;
use sidepool_reference::units::PublicKey;
use zeroize::Zeroizing;

pub const ACT_ONE_LEN: usize = 50;
pub const ACT_TWO_LEN: usize = 50;
pub const ACT_THREE_LEN: usize = 66;

// BOLT 8: "where `protocolName = "Noise_XK_secp256k1_ChaChaPoly_SHA256"` encoded as an ASCII string."
const PROTOCOL_NAME: &[u8] = b"Noise_XK_secp256k1_ChaChaPoly_SHA256";
// BOLT 8: "where `prologue` is the ASCII string: `lightning`."
const PROLOGUE: &[u8] = b"lightning";
/// The only handshake version defined.
const VERSION: u8 = 0;

/// Named intermediate values, recorded only when a vector asks for them.
#[derive(Default)]
pub(crate) struct Trace(Vec<(&'static str, Zeroizing<Vec<u8>>)>);

impl Trace {
    pub(crate) fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_slice())
    }
}

/// `h`, `ck` and (when tracing) the record of every step.
struct SymmetricState {
    h: [u8; 32],
    ck: Secret,
    trace: Option<Trace>,
}

impl SymmetricState {
    /// "Handshake State Initialization", ending with the responder's static key.
    fn new(responder_static: &PublicKey, trace: bool) -> SymmetricState {
        // BOLT 8: "`h = SHA-256(protocolName)`", "`ck = h`", "`h = SHA-256(h || prologue)`"
        let h = sha256(&[PROTOCOL_NAME]);
        let ck = Zeroizing::new(h);
        let mut state = SymmetricState { h, ck, trace: trace.then(Trace::default) };
        state.record("init_ck", &h);
        state.mix_hash(PROLOGUE);
        // BOLT 8: "`h = SHA-256(h || rs.pub.serializeCompressed())`" (initiator) /
        // "`h = SHA-256(h || ls.pub.serializeCompressed())`" (responder): the same key.
        state.mix_hash(&responder_static.as_bytes());
        state
    }

    fn record(&mut self, name: &'static str, value: &[u8]) {
        if let Some(trace) = &mut self.trace {
            trace.0.push((name, Zeroizing::new(value.to_vec())));
        }
    }

    fn mix_hash(&mut self, data: &[u8]) {
        self.h = sha256(&[&self.h, data]);
    }

    /// `ck, temp_k = HKDF(ck, ss)`; returns `temp_k`.
    fn mix_key(&mut self, ss: &Secret) -> Secret {
        let (ck, temp_k) = hkdf(&self.ck, ss.as_ref());
        self.ck = ck;
        temp_k
    }

    /// The `e, es` / `e, ee` pattern shared by acts one and two, sender side.
    fn send_ephemeral(&mut self, act: Act, e: &PrivateKey, remote: &PublicKey) -> ([u8; 50], Secret) {
        let names = StepNames::of(act);
        let e_pub = e.public_key().as_bytes();
        // "`h = SHA-256(h || e.pub.serializeCompressed())`"
        self.mix_hash(&e_pub);
        self.record(names.h_e, &self.h.clone());
        // "`ss = ECDH(rs, e.priv)`" / "`ss = ECDH(re, e.priv)`"
        let ss = ecdh(remote, e);
        self.record(names.ss, ss.as_ref());
        let temp_k = self.mix_key(&ss);
        self.record(names.ck, &self.ck.clone()[..]);
        self.record(names.temp_k, temp_k.as_ref());
        // "`c = encryptWithAD(temp_k1, 0, h, zero)`"
        let c = encrypt_with_ad(&temp_k, 0, &self.h, &[]);
        self.record(names.c, &c);
        // "`h = SHA-256(h || c)`"
        self.mix_hash(&c);
        self.record(names.h_c, &self.h.clone());
        // "Send `m = 0 || e.pub.serializeCompressed() || c`"
        let mut m = [0u8; 50];
        m[0] = VERSION;
        m[1..34].copy_from_slice(&e_pub);
        m[34..].copy_from_slice(&c);
        (m, temp_k)
    }

    /// Receiver side of acts one and two; returns the peer's ephemeral key and `temp_k`.
    fn recv_ephemeral(
        &mut self,
        act: Act,
        m: &[u8],
        local: &PrivateKey,
    ) -> Result<(PublicKey, Secret), HandshakeError> {
        let names = StepNames::of(act);
        // BOLT 8: "Read _exactly_ 50 bytes from the network buffer."
        let m: &[u8; 50] = m.try_into().map_err(|_| HandshakeError::ReadFailed { act, len: m.len() })?;
        let (v, rest) = m.split_at(1);
        let (re_bytes, c) = rest.split_at(33);
        // BOLT 8: "If `v` is an unrecognized handshake version, then the responder MUST abort the connection attempt."
        if v != [VERSION] {
            return Err(HandshakeError::BadVersion { act, version: m[0] });
        }
        // "The raw bytes of the remote party's ephemeral public key (`e`) are to be
        // deserialized into a point on the curve"
        let re = <[u8; 33]>::try_from(re_bytes).ok().and_then(PublicKey::from_bytes);
        let re = re.ok_or(HandshakeError::BadPubkey { act })?;
        self.record(names.re, re_bytes);
        // "`h = SHA-256(h || re.serializeCompressed())`"
        self.mix_hash(re_bytes);
        self.record(names.h_e, &self.h.clone());
        // "`ss = ECDH(re, s.priv)`" / "`ss = ECDH(re, e.priv)`"
        let ss = ecdh(&re, local);
        self.record(names.ss, ss.as_ref());
        let temp_k = self.mix_key(&ss);
        self.record(names.ck, &self.ck.clone()[..]);
        self.record(names.temp_k, temp_k.as_ref());
        // "`p = decryptWithAD(temp_k1, 0, h, c)`": "If the MAC check in this operation fails ...
        // MUST terminate the connection without any further messages."
        decrypt_with_ad(&temp_k, 0, &self.h, c).ok_or(HandshakeError::BadTag { act })?;
        // "`h = SHA-256(h || c)`"
        self.mix_hash(c);
        self.record(names.h_c, &self.h.clone());
        Ok((re, temp_k))
    }

    /// The final split: "`sk, rk = HKDF(ck, zero)`" (initiator order).
    fn split(&mut self) -> (Secret, Secret) {
        let (first, second) = hkdf(&self.ck, &[]);
        self.record("final_first", first.as_ref());
        self.record("final_second", second.as_ref());
        (first, second)
    }
}

struct StepNames {
    re: &'static str,
    h_e: &'static str,
    ss: &'static str,
    ck: &'static str,
    temp_k: &'static str,
    c: &'static str,
    h_c: &'static str,
}

impl StepNames {
    fn of(act: Act) -> StepNames {
        match act {
            Act::One => StepNames {
                re: "act1_re",
                h_e: "act1_h_e",
                ss: "act1_ss",
                ck: "act1_ck",
                temp_k: "act1_temp_k1",
                c: "act1_c",
                h_c: "act1_h_c",
            },
            // Act three never uses these names; it has its own steps.
            Act::Two | Act::Three => StepNames {
                re: "act2_re",
                h_e: "act2_h_e",
                ss: "act2_ss",
                ck: "act2_ck",
                temp_k: "act2_temp_k2",
                c: "act2_c",
                h_c: "act2_h_c",
            },
        }
    }
}

/// A finished handshake: the two directions of the session and who the peer is.
#[derive(Debug)]
pub struct Established {
    pub encryptor: Encryptor,
    pub decryptor: Decryptor,
    /// The peer's static key (node id).
    pub remote_static: PublicKey,
    pub(crate) trace: Option<Trace>,
}

impl core::fmt::Debug for Trace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Trace(<{} redacted steps>)", self.0.len())
    }
}

/// The initiator after sending act one, waiting for act two.
pub struct Initiator {
    state: SymmetricState,
    local_static: PrivateKey,
    remote_static: PublicKey,
    ephemeral: PrivateKey,
}

impl core::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Initiator(to {}, awaiting act two)", self.remote_static)
    }
}

impl Initiator {
    /// Builds act one towards `remote_static` using the given ephemeral key.
    pub fn start(
        local_static: PrivateKey,
        remote_static: PublicKey,
        ephemeral: PrivateKey,
    ) -> (Initiator, [u8; ACT_ONE_LEN]) {
        Initiator::start_inner(local_static, remote_static, ephemeral, false)
    }

    pub(crate) fn start_inner(
        local_static: PrivateKey,
        remote_static: PublicKey,
        ephemeral: PrivateKey,
        trace: bool,
    ) -> (Initiator, [u8; ACT_ONE_LEN]) {
        let mut state = SymmetricState::new(&remote_static, trace);
        // Act one's temp_k1 is used once, for the tag; it is wiped here.
        let (act_one, _temp_k1) = state.send_ephemeral(Act::One, &ephemeral, &remote_static);
        (Initiator { state, local_static, remote_static, ephemeral }, act_one)
    }

    /// Takes act two; on success returns act three (to send) and the session.
    pub fn recv_act_two(mut self, act_two: &[u8]) -> Result<([u8; ACT_THREE_LEN], Established), HandshakeError> {
        let (re, temp_k2) = self.state.recv_ephemeral(Act::Two, act_two, &self.ephemeral)?;
        // BOLT 8: "`c = encryptWithAD(temp_k2, 1, h, s.pub.serializeCompressed())`"
        let c = encrypt_with_ad(&temp_k2, 1, &self.state.h, &self.local_static.public_key().as_bytes());
        self.state.record("act3_c", &c);
        // "`h = SHA-256(h || c)`"
        self.state.mix_hash(&c);
        self.state.record("act3_h_c", &self.state.h.clone());
        // "`ss = ECDH(re, s.priv)`"
        let ss = ecdh(&re, &self.local_static);
        self.state.record("act3_ss", ss.as_ref());
        let temp_k3 = self.state.mix_key(&ss);
        self.state.record("act3_ck", &self.state.ck.clone()[..]);
        self.state.record("act3_temp_k3", temp_k3.as_ref());
        // "`t = encryptWithAD(temp_k3, 0, h, zero)`"
        let t = encrypt_with_ad(&temp_k3, 0, &self.state.h, &[]);
        self.state.record("act3_t", &t);
        // "`sk, rk = HKDF(ck, zero)`": the initiator sends with the first key.
        let (sk, rk) = self.state.split();
        let (encryptor, decryptor) = pair(sk, rk, &self.state.ck);
        // "Send `m = 0 || c || t` over the network buffer."
        let mut m = [0u8; ACT_THREE_LEN];
        m[0] = VERSION;
        m[1..50].copy_from_slice(&c);
        m[50..].copy_from_slice(&t);
        let established =
            Established { encryptor, decryptor, remote_static: self.remote_static, trace: self.state.trace.take() };
        Ok((m, established))
    }
}

/// The responder before act one.
pub struct Responder {
    state: SymmetricState,
    local_static: PrivateKey,
}

impl core::fmt::Debug for Responder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Responder({}, awaiting act one)", self.local_static.public_key())
    }
}

impl Responder {
    pub fn new(local_static: PrivateKey) -> Responder {
        Responder::new_inner(local_static, false)
    }

    pub(crate) fn new_inner(local_static: PrivateKey, trace: bool) -> Responder {
        let state = SymmetricState::new(&local_static.public_key(), trace);
        Responder { state, local_static }
    }

    /// Takes act one; on success returns the responder awaiting act three and
    /// act two (to send), built with the given ephemeral key.
    pub fn recv_act_one(
        mut self,
        act_one: &[u8],
        ephemeral: PrivateKey,
    ) -> Result<(ResponderAwaitingActThree, [u8; ACT_TWO_LEN]), HandshakeError> {
        let (re, _temp_k1) = self.state.recv_ephemeral(Act::One, act_one, &self.local_static)?;
        let (act_two, temp_k2) = self.state.send_ephemeral(Act::Two, &ephemeral, &re);
        Ok((ResponderAwaitingActThree { state: self.state, ephemeral, temp_k2 }, act_two))
    }
}

/// The responder after sending act two.
pub struct ResponderAwaitingActThree {
    state: SymmetricState,
    ephemeral: PrivateKey,
    temp_k2: Secret,
}

impl core::fmt::Debug for ResponderAwaitingActThree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ResponderAwaitingActThree(<redacted>)")
    }
}

impl ResponderAwaitingActThree {
    /// Takes act three; on success the session, whose `remote_static` is the initiator's node id.
    pub fn recv_act_three(mut self, act_three: &[u8]) -> Result<Established, HandshakeError> {
        let act = Act::Three;
        // BOLT 8: "Read _exactly_ 66 bytes from the network buffer."
        let m: &[u8; ACT_THREE_LEN] =
            act_three.try_into().map_err(|_| HandshakeError::ReadFailed { act, len: act_three.len() })?;
        let (v, rest) = m.split_at(1);
        let (c, t) = rest.split_at(33 + MAC_LEN);
        // BOLT 8: "If `v` is an unrecognized handshake version, then the responder MUST abort the connection attempt."
        if v != [VERSION] {
            return Err(HandshakeError::BadVersion { act, version: m[0] });
        }
        // BOLT 8: "`rs = decryptWithAD(temp_k2, 1, h, c)`"
        let rs_bytes = decrypt_with_ad(&self.temp_k2, 1, &self.state.h, c).ok_or(HandshakeError::BadCiphertext)?;
        let rs = <[u8; 33]>::try_from(rs_bytes.as_slice()).ok().and_then(PublicKey::from_bytes);
        let rs = rs.ok_or(HandshakeError::BadPubkey { act })?;
        self.state.record("act3_rs", &rs.as_bytes());
        // "`h = SHA-256(h || c)`"
        self.state.mix_hash(c);
        self.state.record("act3_h_c", &self.state.h.clone());
        // "`ss = ECDH(rs, e.priv)`"
        let ss = ecdh(&rs, &self.ephemeral);
        self.state.record("act3_ss", ss.as_ref());
        let temp_k3 = self.state.mix_key(&ss);
        self.state.record("act3_ck", &self.state.ck.clone()[..]);
        self.state.record("act3_temp_k3", temp_k3.as_ref());
        // "`p = decryptWithAD(temp_k3, 0, h, t)`": "If the MAC check in this operation fails,
        // then the responder MUST terminate the connection without any further messages."
        decrypt_with_ad(&temp_k3, 0, &self.state.h, t).ok_or(HandshakeError::BadTag { act })?;
        // "`rk, sk = HKDF(ck, zero)`": the responder receives with the first key.
        let (rk, sk) = self.state.split();
        let (encryptor, decryptor) = pair(sk, rk, &self.state.ck);
        Ok(Established { encryptor, decryptor, remote_static: rs, trace: self.state.trace.take() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> PrivateKey {
        PrivateKey::from_bytes([byte; 32]).unwrap()
    }

    /// A responder that has taken a valid act one, waiting for act three.
    fn awaiting_three() -> ResponderAwaitingActThree {
        let (_, act_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
        Responder::new(key(0x21)).recv_act_one(&act_one, key(0x22)).unwrap().0
    }

    #[test]
    fn debug_output_carries_no_secrets() {
        let (initiator, _) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
        let shown = format!("{initiator:?} {:?} {:?}", awaiting_three(), Responder::new(key(0x21)));
        assert!(!shown.contains("1111111111") && !shown.contains("2222222222"), "{shown}");
    }

    #[test]
    fn a_full_handshake_agrees_on_keys_and_identities() {
        let (initiator, act_one) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
        let (responder, act_two) = Responder::new(key(0x21)).recv_act_one(&act_one, key(0x22)).unwrap();
        let (act_three, mut a) = initiator.recv_act_two(&act_two).unwrap();
        let mut b = responder.recv_act_three(&act_three).unwrap();
        assert_eq!(b.remote_static, key(0x11).public_key());
        assert_eq!(a.remote_static, key(0x21).public_key());
        let frame = a.encryptor.encrypt(b"ping").unwrap();
        assert_eq!(b.decryptor.decrypt_frame(&frame).unwrap(), b"ping");
        let frame = b.encryptor.encrypt(b"pong").unwrap();
        assert_eq!(a.decryptor.decrypt_frame(&frame).unwrap(), b"pong");
        assert!(a.trace.is_none(), "untraced handshakes keep no intermediate secrets");
    }

    proptest! {
        #[test]
        fn arbitrary_act_one_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = Responder::new(key(0x21)).recv_act_one(&bytes, key(0x22));
        }

        #[test]
        fn arbitrary_act_one_of_the_right_length_never_panics(bytes in proptest::collection::vec(any::<u8>(), 50)) {
            let _ = Responder::new(key(0x21)).recv_act_one(&bytes, key(0x22));
        }

        #[test]
        fn arbitrary_act_three_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..140)) {
            let _ = awaiting_three().recv_act_three(&bytes);
        }

        #[test]
        fn arbitrary_act_three_of_the_right_length_is_refused(mut bytes in proptest::collection::vec(any::<u8>(), 66)) {
            bytes[0] = 0;
            // Random bytes forge a Poly1305 tag with negligible probability.
            let err = awaiting_three().recv_act_three(&bytes).unwrap_err();
            prop_assert_eq!(err, HandshakeError::BadCiphertext);
        }

        #[test]
        fn arbitrary_act_two_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let (initiator, _) = Initiator::start(key(0x11), key(0x21).public_key(), key(0x12));
            let _ = initiator.recv_act_two(&bytes);
        }
    }
}
