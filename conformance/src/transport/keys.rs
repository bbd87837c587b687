//! Private keys for the handshake (static node key, ephemeral keys): wiped on
//! drop, never printed.

use bitcoin::secp256k1::{Secp256k1, SecretKey};
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;
use core::fmt;
use sidepool_reference::units::PublicKey;
use zeroize::Zeroizing;

/// A secp256k1 private key. The secret is erased on drop; `Debug` shows
/// only the public key.
///
/// libsecp256k1's `SecretKey` is `Copy` and does not implement `Zeroize`, so the
/// zeroize crate cannot reach it; it is wiped with its own `non_secure_erase`
/// on drop, and callers of [`PrivateKey::to_secp`] erase their copy after use.
/// Best effort, as everywhere in Rust: the compiler may leave temporary copies.
#[derive(Clone)]
pub struct PrivateKey {
    secret: SecretKey,
    public: PublicKey,
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        // secp256k1's own best-effort wipe (the zeroize crate cannot reach inside SecretKey).
        self.secret.non_secure_erase();
    }
}

impl PrivateKey {
    /// `None` unless `bytes` is a valid secret key (non-zero, below the curve order).
    pub fn from_bytes(bytes: [u8; 32]) -> Option<PrivateKey> {
        let bytes = Zeroizing::new(bytes);
        let secret = SecretKey::from_slice(bytes.as_ref()).ok()?;
        let public = PublicKey::from_secp(&secret.public_key(&Secp256k1::signing_only()));
        Some(PrivateKey { secret, public })
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> PrivateKey {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(bytes.as_mut());
            // A uniformly random 32-byte string is a valid key with probability ~1 - 2^-128.
            if let Some(key) = PrivateKey::from_bytes(*bytes) {
                return key;
            }
        }
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// A 32-byte seed derived from this key for another purpose (`tag` names it):
    /// the node's persistent HTLC keys come from it, so the static key itself
    /// never leaves this type.
    pub fn derive_seed(&self, tag: &str) -> Zeroizing<[u8; 32]> {
        use bitcoin::hashes::{sha256, Hash, HashEngine};
        let mut engine = sha256::Hash::engine();
        engine.input(tag.as_bytes());
        let mut secret = Zeroizing::new(self.secret.secret_bytes());
        engine.input(secret.as_ref());
        secret.iter_mut().for_each(|b| *b = 0);
        Zeroizing::new(sha256::Hash::from_engine(engine).to_byte_array())
    }

    /// Fresh randomness from the operating system (for in-memory seeds).
    pub fn random_seed() -> Zeroizing<[u8; 32]> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        bytes
    }

    /// The secp256k1 form, for one operation; callers should not keep it.
    pub(crate) fn to_secp(&self) -> SecretKey {
        self.secret
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(<redacted>, public {})", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let key = PrivateKey::from_bytes([0x11; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("1111111111"), "{shown}");
        assert!(shown.contains("034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa"));
    }

    #[test]
    fn invalid_secrets_are_refused() {
        assert!(PrivateKey::from_bytes([0; 32]).is_none());
        assert!(PrivateKey::from_bytes([0xff; 32]).is_none());
        assert_ne!(PrivateKey::generate().public_key(), PrivateKey::generate().public_key());
    }
}
