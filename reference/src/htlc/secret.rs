//! Secret scalars and keys of the HTLC key handover: zeroized on drop, never printed.
//!
//! SIDEPOOL-06 hands ephemeral private keys between participants, so every type
//! here holds its bytes in a buffer that is wiped when dropped, and its `Debug`
//! and `Display` print `<redacted>` instead of the value. Reading the bytes takes
//! an explicit `expose_secret()` call, so every place that does it is greppable.
//!
//! The secp256k1 libraries keep their own `Copy` key types that are not wiped;
//! the helpers below erase those copies (`non_secure_erase`) as soon as a
//! computation is done. That is best effort, not a guarantee against the
//! compiler's temporary copies.

use core::fmt;

use bitcoin::secp256k1::{Keypair, Secp256k1, SecretKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::units::PublicKey;

/// A 32-byte value that is not a secp256k1 secret key (zero, or not below the group order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAScalar;

impl fmt::Display for NotAScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a secp256k1 secret key: zero, or not below the group order n")
    }
}

/// Runs `f` with a transient libsecp256k1 secret key made from `bytes`, then erases it.
pub(crate) fn with_secp_secret<T>(bytes: &[u8; 32], f: impl FnOnce(&SecretKey) -> T) -> Result<T, NotAScalar> {
    let mut sk = SecretKey::from_slice(bytes).map_err(|_| NotAScalar)?;
    let out = f(&sk);
    sk.non_secure_erase();
    Ok(out)
}

/// The public key `k·G` of a valid secret scalar.
fn public_key_of(bytes: &[u8; 32]) -> Result<PublicKey, NotAScalar> {
    let secp = Secp256k1::signing_only();
    with_secp_secret(bytes, |sk| PublicKey::from_secp(&sk.public_key(&secp)))
}

/// Runs `f` with a transient BIP-340 keypair made from `bytes`, then erases it.
pub(crate) fn with_keypair<T>(bytes: &[u8; 32], f: impl FnOnce(&Keypair) -> T) -> Result<T, NotAScalar> {
    let secp = Secp256k1::signing_only();
    let mut kp = Keypair::from_seckey_slice(&secp, bytes).map_err(|_| NotAScalar)?;
    let out = f(&kp);
    kp.non_secure_erase();
    Ok(out)
}

macro_rules! secret_scalar {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name {
            secret: [u8; 32],
            /// `secret·G`, computed once on construction (public, so not wiped).
            #[zeroize(skip)]
            public: PublicKey,
        }

        impl $name {
            /// The key, if `bytes` is a valid secp256k1 secret scalar (1 ≤ k < n).
            pub fn from_bytes(bytes: &[u8; 32]) -> Result<$name, NotAScalar> {
                Ok($name { secret: *bytes, public: public_key_of(bytes)? })
            }
            /// Like [`Self::from_bytes`], for a slice that must be exactly 32 bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<$name, NotAScalar> {
                let arr: &[u8; 32] = bytes.try_into().map_err(|_| NotAScalar)?;
                $name::from_bytes(arr)
            }
            /// The public key `k·G`.
            pub fn public_key(&self) -> PublicKey {
                self.public
            }
            /// The 32 secret bytes, big-endian. Every caller is a place the secret leaves this type.
            pub fn expose_secret(&self) -> &[u8; 32] {
                &self.secret
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_scalar!(
    /// An HTLC participant's ephemeral private key (SIDEPOOL-06), the key that is handed over.
    EphemeralSecretKey
);
secret_scalar!(
    /// The one-time encryption private key of a secure private key handover.
    EncryptionSecretKey
);
secret_scalar!(
    /// The private key behind the tweaked HTLC Taproot output key: signs the key-path spend.
    AggregateSecretKey
);

/// The 256-bit symmetric key of a handover (SHA-256 of the ECDH point).
///
/// Anyone holding it and the ciphertext holds the handed-over key, so it is a secret too.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey(pub(crate) [u8; 32]);

impl SymmetricKey {
    /// The 32 secret bytes. Every caller is a place the secret leaves this type.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}
impl fmt::Display for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    fn arr(hex_str: &str) -> [u8; 32] {
        hex::decode(hex_str).unwrap().try_into().unwrap()
    }

    #[test]
    fn scalars_outside_one_to_n_minus_one_are_rejected() {
        assert_eq!(EphemeralSecretKey::from_bytes(&[0u8; 32]), Err(NotAScalar));
        assert_eq!(EphemeralSecretKey::from_bytes(&arr(N)), Err(NotAScalar));
        assert_eq!(EphemeralSecretKey::from_bytes(&[0xff; 32]), Err(NotAScalar));
        assert_eq!(EncryptionSecretKey::from_slice(&[1u8; 31]), Err(NotAScalar));
        let mut n_minus_one = arr(N);
        n_minus_one[31] -= 1;
        assert!(EphemeralSecretKey::from_bytes(&n_minus_one).is_ok());
        let mut one = [0u8; 32];
        one[31] = 1;
        let g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        assert_eq!(EphemeralSecretKey::from_bytes(&one).unwrap().public_key().to_string(), g);
    }

    #[test]
    fn formatting_never_prints_the_secret() {
        let bytes = arr("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90");
        let secret_hex = crate::hex::encode(&bytes);
        let outputs = [
            format!("{:?} {}", EphemeralSecretKey::from_bytes(&bytes).unwrap(), EphemeralSecretKey::from_bytes(&bytes).unwrap()),
            format!("{:?} {}", EncryptionSecretKey::from_bytes(&bytes).unwrap(), EncryptionSecretKey::from_bytes(&bytes).unwrap()),
            format!("{:?} {}", AggregateSecretKey::from_bytes(&bytes).unwrap(), AggregateSecretKey::from_bytes(&bytes).unwrap()),
            format!("{:?} {} {:#?}", SymmetricKey(bytes), SymmetricKey(bytes), Some(SymmetricKey(bytes))),
        ];
        for out in &outputs {
            assert!(!out.contains(&secret_hex), "{out}");
            assert!(!out.contains(&secret_hex[..16]), "{out}");
            assert!(out.contains("(<redacted>)"), "{out}");
        }
        // Each form on its own, exactly: an empty or partial rendering would also "not leak",
        // but a log line must still say which secret was there.
        let e = EphemeralSecretKey::from_bytes(&bytes).unwrap();
        let n = EncryptionSecretKey::from_bytes(&bytes).unwrap();
        let a = AggregateSecretKey::from_bytes(&bytes).unwrap();
        let s = SymmetricKey(bytes);
        for (debug, display, want) in [
            (format!("{e:?}"), e.to_string(), "EphemeralSecretKey(<redacted>)"),
            (format!("{n:?}"), n.to_string(), "EncryptionSecretKey(<redacted>)"),
            (format!("{a:?}"), a.to_string(), "AggregateSecretKey(<redacted>)"),
            (format!("{s:?}"), s.to_string(), "SymmetricKey(<redacted>)"),
        ] {
            assert_eq!(debug, want);
            assert_eq!(display, want);
        }
    }

    #[test]
    fn zeroize_wipes_the_buffer() {
        let mut key = AggregateSecretKey::from_bytes(&[7u8; 32]).unwrap();
        key.zeroize();
        assert_eq!(key.expose_secret(), &[0u8; 32]);
        let mut sym = SymmetricKey([9u8; 32]);
        sym.zeroize();
        assert_eq!(sym.expose_secret(), &[0u8; 32]);
    }
}
