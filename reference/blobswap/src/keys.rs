//! A party's signing key and auxiliary randomness, as inputs to its machine: never printed, erased on drop.

use bitcoin::key::{Keypair, XOnlyPublicKey};
use core::fmt;
use zeroize::Zeroize;

/// A secret signing key with the BIP-340 auxiliary randomness its machine signs with.
///
/// The machines are deterministic: the caller draws `aux` (32 random bytes) and passes it in, so a
/// model checker or a vector can replay every signature.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SigningKey {
    keypair: Keypair,
    aux: [u8; 32],
}

impl SigningKey {
    pub fn new(keypair: Keypair, aux: [u8; 32]) -> SigningKey {
        SigningKey { keypair, aux }
    }
    pub fn x_only(&self) -> XOnlyPublicKey {
        self.keypair.x_only_public_key().0
    }
    /// A BIP-340 signature of `sighash`.
    pub fn sign(&self, sighash: [u8; 32]) -> bitcoin::secp256k1::schnorr::Signature {
        crate::output::sign(&self.keypair, sighash, &self.aux)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.x_only())
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.keypair.non_secure_erase();
        self.aux.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::key::Secp256k1;
    use bitcoin::secp256k1::SecretKey;

    #[test]
    fn debug_shows_only_the_public_key() {
        let sk = SecretKey::from_slice(&[3; 32]).unwrap();
        let key = SigningKey::new(Keypair::from_secret_key(&Secp256k1::signing_only(), &sk), [0; 32]);
        let shown = format!("{key:?}");
        assert!(shown.starts_with("SigningKey("));
        assert!(!shown.contains(&hex::encode([3u8; 32])));
    }
}
