//! SIDEPOOL-10 Peerswap In Sidepool, one module per section of the spec.

pub mod messages;
