//! Who is who, and the keys and fixed values of the modelled peerswap.

use bitcoin::hashes::{sha256, Hash as _, HashEngine};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use sidepool_reference::peerswap::messages::{EncryptedPrivkey, HtlcPubkeys};
use sidepool_reference::peerswap::resolution::PeerswapRef;
use sidepool_reference::peerswap::session::{HtlcDetails, OutputKey, Role, SessionKeys};
use sidepool_reference::units::{PaymentHash, PaymentSecret, PoolId, PublicKey};

/// A participant. The path is O, then F1 and F2 when there are forwarders, then A;
/// L is the pool leader, a participant that takes no part in the peerswap (the pool
/// itself is modelled in `pool.rs`, not by an engine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    /// The ultimate offerrer.
    O,
    F1,
    F2,
    /// The acceptor at the end of the path (the ultimate acceptor unless a forwarder accepts).
    A,
    /// The pool leader.
    L,
}

impl NodeId {
    /// The peerswap path with `forwarders` forwarders.
    pub fn path(forwarders: u8) -> Vec<NodeId> {
        let mut p = vec![NodeId::O];
        if forwarders >= 1 {
            p.push(NodeId::F1);
        }
        if forwarders >= 2 {
            p.push(NodeId::F2);
        }
        p.push(NodeId::A);
        p
    }

    /// The name in traces and vectors.
    pub fn name(self) -> &'static str {
        match self {
            NodeId::O => "O",
            NodeId::F1 => "F1",
            NodeId::F2 => "F2",
            NodeId::A => "A",
            NodeId::L => "L",
        }
    }

    /// The name in vectors: not hex-like (the vector lint would take it for bytes), and
    /// in the same order as the ids, since the engine orders its peers by name and a
    /// replay must see them in the order the model did.
    pub fn vector_name(self) -> &'static str {
        match self {
            NodeId::O => "alice",
            NodeId::F1 => "bob",
            NodeId::F2 => "carol",
            NodeId::A => "dave",
            NodeId::L => "leader",
        }
    }

    /// The role at this position (the `adversary` parameter's names).
    pub fn role_name(self) -> &'static str {
        match self {
            NodeId::O => "offerrer",
            NodeId::F1 => "forwarder1",
            NodeId::F2 => "forwarder2",
            NodeId::A => "acceptor",
            NodeId::L => "leader",
        }
    }

    fn index(self) -> u8 {
        match self {
            NodeId::O => 1,
            NodeId::F1 => 2,
            NodeId::F2 => 3,
            NodeId::A => 4,
            NodeId::L => 5,
        }
    }
}

/// The sidepool of the model.
pub const POOL: PoolId = PoolId([0x5b; 16]);
/// The peerswap's hash (its preimage is the ultimate offerrer's; the model only tracks who knows it).
pub const HASH: PaymentHash = PaymentHash([0x77; 32]);
/// The height at which the swap party begins.
pub const START_HEIGHT: u32 = 800_000;

/// A node's keys as the engine asks for them (SIDEPOOL-06 itself is tested elsewhere:
/// here a key handover is a fixed 32-byte value per node, as in the session_script
/// vectors' `keys`). Pubkeys are real points: `k·G` for small node-specific `k`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModelKeys {
    pub me: NodeId,
    pub pubkeys: HtlcPubkeys,
    pub secret: PaymentSecret,
}

fn point(k: u8) -> Option<PublicKey> {
    let mut b = [0u8; 32];
    b[31] = k;
    let sk = SecretKey::from_slice(&b).ok()?;
    Some(PublicKey::from_secp(&sk.public_key(&Secp256k1::signing_only())))
}

impl ModelKeys {
    pub fn new(me: NodeId) -> Option<ModelKeys> {
        let i = me.index();
        Some(ModelKeys {
            me,
            pubkeys: HtlcPubkeys { ephemeral: point(i * 2)?, persistent: point(i * 2 + 1)? },
            secret: PaymentSecret([0xa0 + i; 32]),
        })
    }

    /// The 32 bytes this node's key handover yields (stands for the encrypted ephemeral key).
    pub fn handover_bytes(me: NodeId) -> [u8; 32] {
        [0xe0 + me.index(); 32]
    }
}

/// The opaque output key both endpoints derive from the HTLC's terms (SIDEPOOL-06:
/// the keys, the hash and the absolute lock time: never the in-Lightning timeout, so
/// every hop computes the same key).
pub fn output_key(offerrer: &HtlcPubkeys, acceptor: &HtlcPubkeys, hash: PaymentHash, sidepool_timeout: u32) -> OutputKey {
    let mut e = sha256::Hash::engine();
    for k in [offerrer.ephemeral, offerrer.persistent, acceptor.ephemeral, acceptor.persistent] {
        e.input(&k.as_bytes());
    }
    e.input(&hash.0);
    e.input(&sidepool_timeout.to_be_bytes());
    OutputKey(sha256::Hash::from_engine(e).to_byte_array())
}

impl SessionKeys<NodeId> for ModelKeys {
    fn htlc_pubkeys(&self, _swap: PeerswapRef, _peer: &NodeId) -> HtlcPubkeys {
        self.pubkeys
    }
    fn encrypted_ephemeral_privkey(&self, _swap: PeerswapRef, _peer: &NodeId, to: &PublicKey) -> Result<EncryptedPrivkey, String> {
        Ok(EncryptedPrivkey { encrypted_key: ModelKeys::handover_bytes(self.me), encryption_pubkey: *to })
    }
    fn htlc_output_key(&self, d: &HtlcDetails<NodeId>) -> OutputKey {
        output_key(&d.offerrer_pubkeys, &d.acceptor_pubkeys, d.hash, d.timeouts.sidepool.0)
    }
    fn lightning_fields(&self, _swap: PeerswapRef, _peer: &NodeId, _to_hop: Role) -> (Option<PaymentSecret>, Option<Vec<u8>>) {
        (Some(self.secret), None)
    }
}
