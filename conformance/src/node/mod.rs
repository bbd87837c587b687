//! The reference node's parts that touch the outside world. Everything
//! protocol-related is decided by the pure `sidepool-reference` crate; these
//! modules keep what it decided (on disk, here) so a restart can pick it up.

pub mod store;
