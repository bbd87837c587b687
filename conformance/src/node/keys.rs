//! The node's keys for the peerswap engine (the engine's `SessionKeys`).
//!
//! Ephemeral HTLC keys and handover encryption keys are derived from a seed
//! drawn at start-up and held only in memory: after a restart they are gone,
//! as SIDEPOOL-06 wants. Persistent HTLC keys derive from the node's static
//! key, so they can be re-derived after a restart. Derivation is a tagged
//! SHA-256 of the seed and the peerswap (hardened in spirit: knowing a child
//! key reveals nothing about the seed).

use bitcoin::hashes::{sha256, Hash, HashEngine};
use sidepool_reference::htlc::taproot_key::{htlc_taproot_key, HtlcKeyInputs};
use sidepool_reference::htlc::{encrypt, EncryptionSecretKey, EphemeralSecretKey};
use sidepool_reference::peerswap::messages::{EncryptedPrivkey, HtlcPubkeys};
use sidepool_reference::peerswap::resolution::PeerswapRef;
use sidepool_reference::peerswap::session::{HtlcDetails, OutputKey, Role, SessionKeys};
use sidepool_reference::units::{PaymentHash, PaymentSecret, PublicKey};
use std::collections::BTreeMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// A 32-byte secret that is wiped on drop and never printed.
struct Seed(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

pub struct NodeKeys {
    /// In memory only: ephemeral keys, encryption keys, preimages.
    ephemeral_seed: Seed,
    /// Derived from the node key: persistent HTLC keys, payment secrets.
    persistent_seed: Seed,
    /// Preimages of hashes this node offered, by hash (wiped on drop).
    preimages: Mutex<BTreeMap<[u8; 32], Zeroizing<[u8; 32]>>>,
    counter: Mutex<u64>,
}

impl std::fmt::Debug for NodeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeKeys(<redacted>)")
    }
}

fn tagged(tag: &str, parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut engine = sha256::Hash::engine();
    engine.input(tag.as_bytes());
    for p in parts {
        engine.input(&(p.len() as u64).to_be_bytes());
        engine.input(p);
    }
    Zeroizing::new(sha256::Hash::from_engine(engine).to_byte_array())
}

/// Hashes until the bytes are a valid scalar (all but ~2^-128 of inputs are).
fn scalar<T>(mut bytes: Zeroizing<[u8; 32]>, make: impl Fn(&[u8; 32]) -> Option<T>) -> T {
    loop {
        if let Some(k) = make(&bytes) {
            return k;
        }
        bytes = tagged("sidepool-conformance rehash", &[bytes.as_slice()]);
    }
}

impl NodeKeys {
    /// `ephemeral_seed` must be fresh randomness; `node_secret` is the node's static key.
    pub fn new(ephemeral_seed: [u8; 32], node_secret: &[u8; 32]) -> NodeKeys {
        NodeKeys {
            ephemeral_seed: Seed(Zeroizing::new(ephemeral_seed)),
            persistent_seed: Seed(tagged("sidepool-conformance persistent", &[node_secret])),
            preimages: Mutex::new(BTreeMap::new()),
            counter: Mutex::new(0),
        }
    }

    /// One ephemeral key per hop: the same pool id and hash may come from two
    /// offerrers (SIDEPOOL-10), and a key handed over on one hop must not be
    /// the key of another (ERRATA E-95).
    // SIDEPOOL-06: "Due to using private key handover, HTLC offerrers and HTLC acceptors MUST NOT use non-hardened derivation to generate ephemeral keys for the keyspend path of HTLCs."
    // A tagged hash of an in-memory seed is no BIP-32 derivation at all, and no child reveals the seed.
    // SIDEPOOL-06: "HTLC offerrers and HTLC acceptors MAY use hardened derivation at the last branch of a BIP-32 derivation path, provided that they ensure that they do not reuse derivation indexes."
    // The "index" here is (pool id, hash, peer), one per hop: never reused.
    fn ephemeral(&self, swap: PeerswapRef, peer: &PublicKey) -> EphemeralSecretKey {
        let peer = peer.as_bytes();
        let parts = [self.ephemeral_seed.0.as_slice(), &swap.id.0, &swap.hash.0, peer.as_slice()];
        let bytes = tagged("sidepool-conformance ephemeral", &parts);
        scalar(bytes, |b| EphemeralSecretKey::from_bytes(b).ok())
    }

    fn persistent_public(&self, swap: PeerswapRef) -> PublicKey {
        let bytes = tagged("sidepool-conformance htlc persistent", &[self.persistent_seed.0.as_slice(), &swap.id.0, &swap.hash.0]);
        scalar(bytes, |b| EphemeralSecretKey::from_bytes(b).ok()).public_key()
    }

    /// A fresh payment hash for a peerswap this node offers; the preimage stays here.
    pub fn new_payment_hash(&self) -> PaymentHash {
        let n = self.counter.lock().map(|mut c| {
            *c += 1;
            *c
        });
        let n = n.unwrap_or(u64::MAX);
        let preimage = tagged("sidepool-conformance preimage", &[self.ephemeral_seed.0.as_slice(), &n.to_be_bytes()]);
        let hash = sha256::Hash::hash(preimage.as_slice()).to_byte_array();
        if let Ok(mut m) = self.preimages.lock() {
            m.insert(hash, preimage);
        }
        PaymentHash(hash)
    }

    /// The preimage of a hash this node made, for fulfilling the in-Lightning HTLCs.
    pub fn preimage(&self, hash: &PaymentHash) -> Option<Zeroizing<[u8; 32]>> {
        self.preimages.lock().ok()?.get(&hash.0).cloned()
    }
}

// The persistent key stays one per (pool id, hash): it is never handed over, and a restart
// re-derives it from the stored HTLC details, which carry no peer.
impl SessionKeys<PublicKey> for NodeKeys {
    fn htlc_pubkeys(&self, swap: PeerswapRef, peer: &PublicKey) -> HtlcPubkeys {
        HtlcPubkeys { ephemeral: self.ephemeral(swap, peer).public_key(), persistent: self.persistent_public(swap) }
    }

    fn encrypted_ephemeral_privkey(&self, swap: PeerswapRef, peer: &PublicKey, to: &PublicKey) -> Result<EncryptedPrivkey, String> {
        let n = self.counter.lock().map(|mut c| {
            *c += 1;
            *c
        });
        let n = n.unwrap_or(u64::MAX);
        let bytes = tagged("sidepool-conformance encryption", &[self.ephemeral_seed.0.as_slice(), &swap.id.0, &swap.hash.0, &n.to_be_bytes()]);
        let encryption_key = scalar(bytes, |b| EncryptionSecretKey::from_bytes(b).ok());
        encrypt(self.ephemeral(swap, peer), to, &encryption_key).map(|t| t.value).map_err(|e| e.to_string())
    }

    fn htlc_output_key(&self, details: &HtlcDetails<PublicKey>) -> OutputKey {
        let inputs = HtlcKeyInputs {
            offerrer_ephemeral: details.offerrer_pubkeys.ephemeral,
            offerrer_persistent: details.offerrer_pubkeys.persistent,
            acceptor_ephemeral: details.acceptor_pubkeys.ephemeral,
            acceptor_persistent: details.acceptor_pubkeys.persistent,
            hash: details.hash,
            lock_time: details.timeouts.sidepool,
        };
        // A lock time that is not a block height (>= 500,000,000) has no HTLC key;
        // the all-zero key then matches no output, so the peerswap is forgotten
        // after the expansion phase instead of aborting anything.
        htlc_taproot_key(&inputs).map(|k| OutputKey(k.output_key())).unwrap_or(OutputKey([0; 32]))
    }

    fn lightning_fields(&self, swap: PeerswapRef, _peer: &PublicKey, _to_hop: Role) -> (Option<PaymentSecret>, Option<Vec<u8>>) {
        let secret = tagged("sidepool-conformance payment secret", &[self.persistent_seed.0.as_slice(), &swap.id.0, &swap.hash.0]);
        (Some(PaymentSecret(*secret)), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sidepool_reference::htlc::decrypt;
    use sidepool_reference::units::PoolId;

    fn node(n: u8) -> PublicKey {
        EphemeralSecretKey::from_bytes(&[n; 32]).unwrap().public_key()
    }

    #[test]
    fn handed_over_key_decrypts_to_the_advertised_ephemeral_key() {
        let offerrer = NodeKeys::new([1; 32], &[2; 32]);
        let acceptor = NodeKeys::new([3; 32], &[4; 32]);
        let (offerrer_id, acceptor_id) = (node(7), node(8));
        let swap = PeerswapRef { id: PoolId([5; 16]), hash: offerrer.new_payment_hash() };
        let acc_eph = acceptor.ephemeral(swap, &offerrer_id);
        let value = offerrer.encrypted_ephemeral_privkey(swap, &acceptor_id, &acc_eph.public_key()).unwrap();
        let own = offerrer.htlc_pubkeys(swap, &acceptor_id).ephemeral;
        let got = decrypt(&value, &acc_eph, &own).unwrap();
        assert_eq!(got.public_key(), own);
    }

    #[test]
    fn two_hops_of_one_pool_id_and_hash_get_two_ephemeral_keys() {
        let keys = NodeKeys::new([1; 32], &[2; 32]);
        let swap = PeerswapRef { id: PoolId([5; 16]), hash: PaymentHash([6; 32]) };
        let (alice, bob) = (keys.htlc_pubkeys(swap, &node(7)), keys.htlc_pubkeys(swap, &node(8)));
        assert_ne!(alice.ephemeral, bob.ephemeral);
        assert_eq!(alice.persistent, bob.persistent);
    }

    #[test]
    fn ephemeral_keys_do_not_survive_a_new_seed_but_persistent_keys_do() {
        let swap = PeerswapRef { id: PoolId([5; 16]), hash: PaymentHash([6; 32]) };
        let before = NodeKeys::new([1; 32], &[2; 32]).htlc_pubkeys(swap, &node(7));
        let after_restart = NodeKeys::new([9; 32], &[2; 32]).htlc_pubkeys(swap, &node(7));
        assert_ne!(before.ephemeral, after_restart.ephemeral);
        assert_eq!(before.persistent, after_restart.persistent);
    }

    #[test]
    fn secrets_are_not_printed() {
        let k = NodeKeys::new([0xab; 32], &[0xcd; 32]);
        let h = k.new_payment_hash();
        let text = format!("{k:?}");
        assert!(!text.contains("abab") && !text.contains(&hex::encode(k.preimage(&h).unwrap().as_slice())));
    }
}
