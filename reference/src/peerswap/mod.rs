//! SIDEPOOL-10 Peerswap In Sidepool, one module per section of the spec.

pub mod balance;
pub mod choices;
pub mod constants;
pub mod forward;
pub mod forward_algorithm;
pub mod messages;
pub mod offer;
pub mod receive;
pub mod response;
pub mod lightning_htlcs;
pub mod malformed;
pub mod resolution;
pub mod session;
