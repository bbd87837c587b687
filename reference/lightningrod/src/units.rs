//! Identifiers, secrets and times of LNROD-01, as distinct types.
//!
//! Amounts, heights and payment hashes are the SIDEPOOL reference's types
//! (re-exported here), so an `Msat` never meets a `BlockHeight` by accident.
//! The two secrets of the protocol, `pid` and the preimage, are wiped on drop
//! and never printed; they still compare and hash, because the state machines
//! that hold them must be `Eq + Hash` for a model checker.

use core::fmt;

use bitcoin::hashes::{sha256, Hash as _};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use sidepool_reference::units::{BlockDelta, BlockHeight, Msat, PaymentHash, PublicKey};

/// An HTLC of `A`'s channel with `LSP_a` (its `update_add_htlc` `id`), or of
/// `B`'s channel with `LSP_b` in the payee's machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HtlcId(pub u64);

/// A time in seconds, given to a machine as an input (the machines have no clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(pub u64);

/// A kept onion message, named by its caller (`LSP_b` never looks inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageRef(pub u64);

/// A reply path `B` was given with a `held_htlc_available`, named by its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathRef(pub u64);

/// Compares two secrets without an early exit on the first differing byte.
fn same_secret(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

macro_rules! secret_32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 32]);

        impl $name {
            pub fn from_bytes(bytes: [u8; 32]) -> $name {
                $name(bytes)
            }
            /// The 32 secret bytes. Every caller is a place the secret leaves this type.
            pub fn expose_secret(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                same_secret(&self.0, &other.0)
            }
        }

        impl core::hash::Hash for $name {
            fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state);
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_32!(
    /// LightningRod's secret payment id `pid` (the `lightningrod` profile's unblock secret).
    Pid
);
secret_32!(
    /// A payment preimage: whoever holds it can claim the HTLCs of its hash.
    Preimage
);

impl Preimage {
    /// The payment hash this preimage unlocks: its SHA-256.
    pub fn payment_hash(&self) -> PaymentHash {
        PaymentHash(sha256::Hash::hash(&self.0).to_byte_array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_printed() {
        let pid = Pid::from_bytes([7; 32]);
        let pre = Preimage::from_bytes([9; 32]);
        assert_eq!(format!("{pid:?}"), "Pid(<redacted>)");
        assert_eq!(format!("{pre:?}"), "Preimage(<redacted>)");
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(Pid::from_bytes([1; 32]), Pid::from_bytes([1; 32]));
        let mut other = [1; 32];
        other[31] = 2;
        assert_ne!(Pid::from_bytes([1; 32]), Pid::from_bytes(other));
    }

    #[test]
    fn preimage_hashes_with_sha256() {
        // SHA-256 of 32 zero bytes.
        let h = Preimage::from_bytes([0; 32]).payment_hash();
        assert_eq!(
            sidepool_reference::hex::encode(&h.0),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }
}
