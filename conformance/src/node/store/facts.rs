//! What the store keeps: every type here holds public data only. There is no
//! field, and no store function parameter, of a private-key type, so an
//! ephemeral private key cannot reach the disk through this API.

use sidepool_reference::peerswap::forward::ForwardRecord;
use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::peerswap::messages::{HtlcPubkeys, Timeouts};
use sidepool_reference::peerswap::response::SentInit;
use sidepool_reference::units::{BlockHeight, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, UpdateCounter};

pub use sidepool_reference::peerswap::resolution::PeerswapRef;

/// A peer, by its Lightning node id.
pub type NodeId = PublicKey;

/// State of an in-Lightning HTLC the direct acceptor offered us (downstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DownstreamHtlcState {
    /// Irrevocably committed to us, not yet resolved by us.
    Held,
    Fulfilled,
    Failed,
}

/// State of an in-Lightning HTLC we offer the direct offerrer (upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UpstreamHtlcState {
    /// Recorded before `update_add_htlc` is sent; may or may not have reached the channel.
    Offering,
    /// Irrevocably committed in the channel.
    Committed,
    Fulfilled,
    /// Failed by the offerrer; the removal is not yet irrevocably committed.
    Failed,
    /// Failed, and the removal irrevocably committed.
    FailRemovalCommitted,
}

/// One recorded in-Lightning HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoredHtlc<S> {
    pub htlc: HtlcRef,
    pub amount: Msat,
    pub state: S,
}

/// The in-Lightning side of a forward: the HTLCs in (from the direct acceptor)
/// and out (to the direct offerrer). A non-empty `downstream` is the fact
/// SIDEPOOL-10 "Forwarding Peerswaps" requires to be stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForwardedLightning {
    pub downstream: Vec<StoredHtlc<DownstreamHtlcState>>,
    pub upstream: Vec<StoredHtlc<UpstreamHtlcState>>,
}

impl ForwardedLightning {
    /// "the direct peerswap acceptor has given an HTLC in the Lightning Network channel"
    pub fn acceptor_has_given_htlc(&self) -> bool {
        !self.downstream.is_empty()
    }
}

/// One forward as reloaded: the record and its in-Lightning HTLCs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredForward {
    pub record: ForwardRecord<NodeId>,
    pub lightning: ForwardedLightning,
}

/// A `peerswap_init` this node sent (as ultimate offerrer or forwarder), kept
/// until the swap party that sent it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentInitRecord {
    pub sent: SentInit<NodeId>,
    /// `peerswap_init_update_counter`: names the swap party.
    pub update_counter: UpdateCounter,
    pub timeouts: Timeouts,
    /// The offerrer keys in the init sent: our own when we are the ultimate offerrer.
    pub pubkeys: HtlcPubkeys,
}

/// Which side of the in-sidepool HTLC this node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HtlcRole {
    Offerrer,
    Acceptor,
}

/// How to re-derive our persistent private key from the node's root key: an
/// index, never the key. A `u32` cannot carry a 32-byte secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyIndex(pub u32);

/// SIDEPOOL-06 "HTLC Taproot Public Key": the details both ends must store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HtlcDetails {
    pub swap: PeerswapRef,
    /// The direct peer of this hop (ERRATA E-95: one pool id and hash may be two
    /// peerswaps); `None` only for a row a schema-1 store wrote.
    pub peer: Option<NodeId>,
    pub role: HtlcRole,
    /// SIDEPOOL-06: "Offerrer ephemeral public key."
    /// SIDEPOOL-06: "Offerrer persistent public key."
    pub offerrer: HtlcPubkeys,
    /// SIDEPOOL-06: "Acceptor ephemeral public key."
    /// SIDEPOOL-06: "Acceptor persistent public key."
    pub acceptor: HtlcPubkeys,
    /// SIDEPOOL-06: "HTLC timeout."
    pub timeout: BlockHeight,
    /// Optional here: the ephemeral public keys above always rebuild it (ERRATA E-94).
    /// SIDEPOOL-06: "(optional, can be derived from above) The internal public key, i.e. the MuSig aggregation of the offerrer ephemeral public key and the acceptor ephemeral public key."
    pub internal_key: Option<PublicKey>,
    /// SIDEPOOL-06: "For the offerrer, how to derive or otherwise acquire its persistent private key."
    pub own_persistent_key: KeyIndex,
}

/// What a forwarder received in `peerswap_lightning` from its local offerrer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedLightningParams {
    pub swap: PeerswapRef,
    pub payment_secret: Option<PaymentSecret>,
    pub payment_metadata: Option<Vec<u8>>,
}

/// Everything reloaded after a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredState {
    pub forwards: Vec<StoredForward>,
    pub sent_inits: Vec<SentInitRecord>,
    pub htlc_details: Vec<HtlcDetails>,
    pub lightning_params: Vec<ReceivedLightningParams>,
}

pub(crate) fn swap_of(id: PoolId, hash: PaymentHash) -> PeerswapRef {
    PeerswapRef { id, hash }
}
