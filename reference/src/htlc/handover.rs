//! SIDEPOOL-06 "Secure Private Key Handover": ECDH + SHA-256 + XOR.
//!
//! Participant A hands its ephemeral private key to participant B encrypted
//! under `SHA256(ser33(e·B_eph))`, where `e` is a one-time encryption key whose
//! public key travels with the ciphertext. The wire value is SIDEPOOL-10's
//! 65-byte `peerswap_success_ephemeral_privkey`: 32 encrypted bytes, then the
//! 33-byte encryption public key ([`EncryptedPrivkey`]).
//!
//! The encryption private key is an input (the caller draws it from a CSPRNG),
//! so the functions are pure and the vectors deterministic.

use core::fmt;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Scalar, Secp256k1};

use super::secret::{with_secp_secret, EncryptionSecretKey, EphemeralSecretKey, SymmetricKey};
use crate::peerswap::messages::EncryptedPrivkey;
use crate::units::PublicKey;

/// Length of `peerswap_success_ephemeral_privkey`.
pub const HANDOVER_VALUE_LEN: usize = 65;

/// Why a handed-over key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoverError {
    /// The value is not 65 bytes.
    WrongLength,
    /// The last 33 bytes are not a compressed secp256k1 point.
    EncryptionPubkeyNotAPoint,
    /// The decrypted 32 bytes are zero or not below n: not a private key.
    HandedOverKeyNotAScalar,
    /// The decrypted key is a valid scalar but not the one behind the sender's known ephemeral public key.
    HandedOverKeyMismatch,
    /// ECDH gave the point at infinity (impossible for a valid scalar and point; kept typed).
    Ecdh,
}

impl HandoverError {
    /// The machine-readable name used in vectors.
    pub fn code(&self) -> &'static str {
        match self {
            HandoverError::WrongLength => "wrong_length",
            HandoverError::EncryptionPubkeyNotAPoint => "encryption_pubkey_not_a_point",
            HandoverError::HandedOverKeyNotAScalar => "handed_over_key_not_a_scalar",
            HandoverError::HandedOverKeyMismatch => "handed_over_key_mismatch",
            HandoverError::Ecdh => "ecdh_failed",
        }
    }
}

impl fmt::Display for HandoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandoverError::WrongLength => "handover value is not 65 bytes",
            HandoverError::EncryptionPubkeyNotAPoint => "encryption public key is not a compressed secp256k1 point",
            HandoverError::HandedOverKeyNotAScalar => "decrypted key is not a valid secp256k1 private key",
            HandoverError::HandedOverKeyMismatch => "decrypted key does not match the sender's ephemeral public key",
            HandoverError::Ecdh => "ECDH gave the point at infinity",
        })
    }
}

/// Parses the 65-byte `peerswap_success_ephemeral_privkey` value.
// SIDEPOOL-10: "32 bytes: the encrypted offerrer ephemeral private key."
// SIDEPOOL-10: "33 bytes: the compressed SEC encoding of the encryption public key."
pub fn parse_handover_value(bytes: &[u8]) -> Result<EncryptedPrivkey, HandoverError> {
    let raw: &[u8; HANDOVER_VALUE_LEN] = bytes.try_into().map_err(|_| HandoverError::WrongLength)?;
    let (enc, pk) = raw.split_at(32);
    let encrypted_key: [u8; 32] = enc.try_into().map_err(|_| HandoverError::WrongLength)?;
    let pk: [u8; 33] = pk.try_into().map_err(|_| HandoverError::WrongLength)?;
    let encryption_pubkey = PublicKey::from_bytes(pk).ok_or(HandoverError::EncryptionPubkeyNotAPoint)?;
    Ok(EncryptedPrivkey { encrypted_key, encryption_pubkey })
}

/// The 65-byte wire value: encrypted key, then encryption public key.
pub fn encode_handover_value(value: &EncryptedPrivkey) -> [u8; HANDOVER_VALUE_LEN] {
    let mut out = [0u8; HANDOVER_VALUE_LEN];
    out[..32].copy_from_slice(&value.encrypted_key);
    out[32..].copy_from_slice(&value.encryption_pubkey.as_bytes());
    out
}

/// The encryption public key of a (caller-drawn) encryption private key.
// SIDEPOOL-06: "Participant A creates a fresh random 256-bit number, the encryption private key, and generates the encryption public key."
// ERRATA E-25: the number must be a valid secp256k1 scalar (1..n-1); EncryptionSecretKey enforces it.
pub fn encryption_public_key(encryption_key: &EncryptionSecretKey) -> PublicKey {
    encryption_key.public_key()
}

/// The ECDH point `scalar · point`.
// SIDEPOOL-06: "It multiplies the encryption private key with the participant B ephemeral public key."
// SIDEPOOL-06: "It multiplies the participant B ephemeral private key with the encryption public key."
pub fn ecdh_point(scalar: &[u8; 32], point: &PublicKey) -> Result<PublicKey, HandoverError> {
    let secp = Secp256k1::verification_only();
    let product = with_secp_secret(scalar, |sk| point.to_secp().mul_tweak(&secp, &Scalar::from(*sk)))
        .map_err(|_| HandoverError::Ecdh)?
        .map_err(|_| HandoverError::Ecdh)?;
    Ok(PublicKey::from_secp(&product))
}

/// The symmetric key: SHA-256 of the point's 33-byte compressed serialization.
// SIDEPOOL-06: "It takes the above resulting point and serializes it in the standard SECP256K1 33-byte serialization."
// SIDEPOOL-06: "It takes the SHA-2 256-bit hash of the 33-byte serialization, getting the 256-bit symmetric encryption key."
pub fn symmetric_key(shared_point: &PublicKey) -> SymmetricKey {
    SymmetricKey(sha256::Hash::hash(&shared_point.as_bytes()).to_byte_array())
}

/// XOR of two 32-byte blocks: the whole cipher.
fn xor32(block: &mut [u8; 32], key: &SymmetricKey) {
    block.iter_mut().zip(key.expose_secret()).for_each(|(b, k)| *b ^= k);
}

/// Everything the sender computes, for vectors and debugging: the secret parts stay wrapped.
#[derive(Debug)]
pub struct HandoverTranscript {
    pub shared_point: PublicKey,
    pub symmetric_key: SymmetricKey,
    pub value: EncryptedPrivkey,
}

/// Participant A encrypts its own ephemeral private key to participant B.
///
/// Takes the key by value: the sender gives up the key (the spec recommends
/// erasing it once encrypted), and it is wiped when this function returns.
// SIDEPOOL-06: "Participant A performs ECDH between the encryption keypair and the participant B ephemeral keypair:"
// SIDEPOOL-06: "Participant A XORs the 256-bit symmetric encryption key with the (also 256-bit) participant B ephemeral private key, resulting in the encrypted participant A ephemeral private key."
// ERRATA E-24: the key XORed is participant A's own ephemeral private key (the one being handed over), as the diagram and the decryption step show.
// SIDEPOOL-06: "Participant A sends the encryption *public* key and the encrypted participant A ephemeral private key to participant B."
pub fn encrypt(
    sender_ephemeral: EphemeralSecretKey,
    receiver_ephemeral: &PublicKey,
    encryption_key: &EncryptionSecretKey,
) -> Result<HandoverTranscript, HandoverError> {
    let shared_point = ecdh_point(encryption_key.expose_secret(), receiver_ephemeral)?;
    let symmetric_key = symmetric_key(&shared_point);
    let mut encrypted_key = *sender_ephemeral.expose_secret();
    xor32(&mut encrypted_key, &symmetric_key);
    drop(sender_ephemeral);
    let value = EncryptedPrivkey { encrypted_key, encryption_pubkey: encryption_public_key(encryption_key) };
    Ok(HandoverTranscript { shared_point, symmetric_key, value })
}

/// Participant B decrypts participant A's ephemeral private key and checks it
/// is the scalar behind A's ephemeral public key it already knows.
// SIDEPOOL-06: "Participant B performs ECDH between the encryption keypair and the participant B ephemeral keypair:"
// SIDEPOOL-06: "Participant B XORs the 256-bit symmetric encryption key with the encrypted participant A ephemeral private key, resulting in the participant A ephemeral private key."
pub fn decrypt(
    value: &EncryptedPrivkey,
    receiver_ephemeral: &EphemeralSecretKey,
    sender_ephemeral_pubkey: &PublicKey,
) -> Result<EphemeralSecretKey, HandoverError> {
    let shared_point = ecdh_point(receiver_ephemeral.expose_secret(), &value.encryption_pubkey)?;
    let key = symmetric_key(&shared_point);
    let mut block = zeroize::Zeroizing::new(value.encrypted_key);
    xor32(&mut block, &key);
    validate_handed_over_key(&block, sender_ephemeral_pubkey)
}

/// The validation step: the decrypted bytes must be a private key, and the one behind A's public key.
// The receiver checks the key against the ephemeral public key it was given before the handover:
// SIDEPOOL-06: "Prior to private key handover, by necessity, both participants MUST exchange the ephemeral public keys (as it is needed to form the aggregate public key used as the Taproot internal public key)."
// SIDEPOOL-06: "Participant B validates that the received participant A ephemeral private key is indeed the scalar behind the previously-received participant A ephemeral public key."
pub fn validate_handed_over_key(decrypted: &[u8; 32], sender_ephemeral_pubkey: &PublicKey) -> Result<EphemeralSecretKey, HandoverError> {
    let key = EphemeralSecretKey::from_bytes(decrypted).map_err(|_| HandoverError::HandedOverKeyNotAScalar)?;
    if key.public_key() != *sender_ephemeral_pubkey {
        return Err(HandoverError::HandedOverKeyMismatch);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eph(seed: u8) -> EphemeralSecretKey {
        EphemeralSecretKey::from_bytes(&[seed; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_both_sides_agree_on_the_symmetric_key() {
        let (a, b) = (eph(1), eph(2));
        let enc = EncryptionSecretKey::from_bytes(&[3; 32]).unwrap();
        let t = encrypt(a.clone(), &b.public_key(), &enc).unwrap();
        // B's side of the ECDH lands on the same point.
        assert_eq!(ecdh_point(b.expose_secret(), &t.value.encryption_pubkey).unwrap(), t.shared_point);
        // libsecp256k1's own ECDH (SHA-256 of the compressed point) agrees.
        let lib = bitcoin::secp256k1::ecdh::SharedSecret::new(&b.public_key().to_secp(), &bitcoin::secp256k1::SecretKey::from_slice(&[3; 32]).unwrap());
        assert_eq!(&lib.secret_bytes(), t.symmetric_key.expose_secret());
        let got = decrypt(&t.value, &b, &a.public_key()).unwrap();
        assert_eq!(got.expose_secret(), a.expose_secret());
        let wire = encode_handover_value(&t.value);
        assert_eq!(parse_handover_value(&wire).unwrap(), t.value);
    }

    #[test]
    fn wrong_receiver_or_tampered_value_is_refused_not_silently_wrong() {
        let (a, b, c) = (eph(1), eph(2), eph(4));
        let enc = EncryptionSecretKey::from_bytes(&[3; 32]).unwrap();
        let t = encrypt(a.clone(), &b.public_key(), &enc).unwrap();
        assert_eq!(decrypt(&t.value, &c, &a.public_key()).err(), Some(HandoverError::HandedOverKeyMismatch));
        assert_eq!(decrypt(&t.value, &b, &c.public_key()).err(), Some(HandoverError::HandedOverKeyMismatch));
        // Ciphertext that decrypts to zero: encrypted = symmetric key.
        let zero = EncryptedPrivkey { encrypted_key: *t.symmetric_key.expose_secret(), ..t.value };
        assert_eq!(decrypt(&zero, &b, &a.public_key()).err(), Some(HandoverError::HandedOverKeyNotAScalar));
    }

    #[test]
    fn wire_value_errors() {
        assert_eq!(parse_handover_value(&[0u8; 64]).err(), Some(HandoverError::WrongLength));
        let mut v = [0u8; 65];
        v[32] = 0x02;
        assert_eq!(parse_handover_value(&v).err(), Some(HandoverError::EncryptionPubkeyNotAPoint));
    }
}
