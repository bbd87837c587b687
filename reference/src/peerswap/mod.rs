//! SIDEPOOL-10 Peerswap In Sidepool, one module per section of the spec.

pub mod messages;
pub mod lightning_htlcs;
pub mod resolution;
