//! The BOLT 8 primitives: SHA-256, HKDF with two 32-byte outputs,
//! ChaCha20-Poly1305 with the Noise nonce layout, and ECDH.

use super::keys::PrivateKey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use sidepool_reference::units::PublicKey;
use zeroize::Zeroizing;

/// The length of a Poly1305 tag.
pub const MAC_LEN: usize = 16;

/// A 32-byte secret (chaining key, temporary key, shared secret), wiped on drop.
pub type Secret = Zeroizing<[u8; 32]>;

pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// BOLT 8: "`HKDF(salt,ikm)`: a function defined in `RFC 5869`, evaluated with a
/// zero-length `info` field", returning 64 bytes split into two 32-byte keys.
pub fn hkdf(salt: &[u8; 32], ikm: &[u8]) -> (Secret, Secret) {
    let mut okm = Zeroizing::new([0u8; 64]);
    // 64 bytes is far below HKDF-SHA256's 255*32 limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(&[], okm.as_mut());
    let (mut first, mut second) = (Zeroizing::new([0u8; 32]), Zeroizing::new([0u8; 32]));
    first.copy_from_slice(&okm[..32]);
    second.copy_from_slice(&okm[32..]);
    (first, second)
}

/// BOLT 8: the nonce is "encoded as 32 zero bits, followed by a *little-endian* 64-bit value".
pub fn nonce_bytes(n: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[4..].copy_from_slice(&n.to_le_bytes());
    out
}

/// `encryptWithAD(k, n, ad, plaintext)`: ciphertext followed by the 16-byte tag.
pub fn encrypt_with_ad(key: &[u8; 32], n: u64, ad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    // Encryption fails only for plaintexts beyond ChaCha20's 256 GiB limit;
    // callers bound plaintexts to 65535 bytes.
    cipher.encrypt(Nonce::from_slice(&nonce_bytes(n)), Payload { msg: plaintext, aad: ad }).unwrap_or_default()
}

/// `decryptWithAD(k, n, ad, ciphertext)`: the plaintext, or `None` if the MAC check fails
/// (including a ciphertext shorter than the tag).
pub fn decrypt_with_ad(key: &[u8; 32], n: u64, ad: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if ciphertext.len() < MAC_LEN {
        return None;
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher.decrypt(Nonce::from_slice(&nonce_bytes(n)), Payload { msg: ciphertext, aad: ad }).ok().map(Zeroizing::new)
}

/// BOLT 8: "`ECDH(k, rk)`: ... The returned value is the SHA256 of the compressed
/// format of the generated point." (libsecp256k1's default ECDH hash is exactly that.)
pub fn ecdh(remote: &PublicKey, local: &PrivateKey) -> Secret {
    let mut secret = local.to_secp();
    let mut shared = bitcoin::secp256k1::ecdh::SharedSecret::new(&remote.to_secp(), &secret);
    let out = Zeroizing::new(shared.secret_bytes());
    // Erase the transient copies (libsecp256k1's types are `Copy` and not `Zeroize`).
    secret.non_secure_erase();
    shared.non_secure_erase();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_little_endian_after_four_zero_bytes() {
        assert_eq!(nonce_bytes(1), [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(nonce_bytes(0x0102), [0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn decrypt_rejects_tampering_and_short_input() {
        let key = [7u8; 32];
        let c = encrypt_with_ad(&key, 3, b"ad", b"hello");
        assert_eq!(decrypt_with_ad(&key, 3, b"ad", &c).unwrap().as_slice(), b"hello");
        assert!(decrypt_with_ad(&key, 4, b"ad", &c).is_none());
        assert!(decrypt_with_ad(&key, 3, b"da", &c).is_none());
        assert!(decrypt_with_ad(&key, 3, b"ad", &c[..15]).is_none());
    }
}
