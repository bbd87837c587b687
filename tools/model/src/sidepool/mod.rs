//! SIDEPOOL-10 peerswaps over a path: an ultimate offerrer, zero to two forwarders,
//! an ultimate acceptor; the pool (swap party phases, abort); the in-sidepool HTLC
//! and its spend paths; in-Lightning HTLCs with their expiries; the chain and the
//! clock; BOLT 8 connections; crashes. Honest nodes run
//! `sidepool_reference::peerswap::session::PeerswapEngine`; at most one node is
//! the adversary.

pub mod dynamics;
pub mod export;
pub mod ids;
pub mod model;
pub mod params;
pub mod properties;
pub mod render;
pub mod world;

use crate::framework::{self, Bounds, CheckReport, CheckableModel, ParamDef, PropertyDef, Settings, System, Trace, VectorFile};

pub use model::{SidepoolModel, Step};
pub use params::Config;
pub use world::World;

impl CheckableModel for SidepoolModel {
    fn property_defs(&self) -> Vec<PropertyDef> {
        properties::defs()
    }
    fn trace(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
        render::trace(self, property, path)
    }
    fn export(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
        export::export(self, property, path)
    }
}

/// The SIDEPOOL-10 system for the command line.
pub struct Sidepool;

/// What the state space is bounded by, and what the bounds leave out.
pub const BOUNDS: &[&str] = &[
    "One peerswap, one swap party, one path: the ultimate offerrer, 0 to 2 forwarders (`forwarders`), the acceptor; the pool leader is a further participant modelled as the pool, not as an engine. Several peerswaps sharing nodes, pools or hashes are not modelled.",
    "At most one adversarial participant (`adversary`); it runs the reference engine but carries out its actions when it likes or never, fulfils or times out HTLCs whenever its keys and the chain allow, spends the HTLC output whenever a leaf lets it, and aborts the pool at any time. It does not forge messages the engine would not send (a wrong key is the same to the receiver as no key) and is never the pool leader.",
    "Heights are abstract: after the swap party the chain jumps to the next height at which something can change (each expiry, the HTLC output appearing, the timelock opening, each claim confirming, and the block before each). During the party at most `party_blocks` blocks are found. Honest onchain claims confirm within `confirm_blocks`; the adversary's confirm at once, and win ties.",
    "Time is abstract: it jumps to the next deadline (a 60-second hold, a 5-minute deferral, a 10-minute phase). Honest neighbours settle messages and HTLC commitments within a block; only the adversary delays across blocks. An honest node is down for less than a block.",
    "Connections are BOLT 8: ordered; `disconnects` drops lose what is in flight and nothing else (no reestablishment of peerswap messages). In-Lightning HTLC updates are reliable (BOLT 2 retransmits them); an adversary may stall a commitment.",
    "Honest crashes (`crashes`) lose the engine and the ephemeral keys and restart from the persisted records; a crash may fall right after any persisted record. A crash during the swap party aborts the pool (SIDEPOOL-10: MuSig2 nonces are never persisted).",
    "The pool's own protocol (SIDEPOOL-04 messages, MuSig2, the tax beyond its inputs, the update transactions) is abstract: phases, their timeouts, an abort that puts the HTLC output onchain after `abort_blocks`; channel balances are fixed (1 000 000 sat channels, 30 % on the offerring side).",
];

impl System for Sidepool {
    fn name(&self) -> &'static str {
        "sidepool"
    }
    fn title(&self) -> &'static str {
        "SIDEPOOL-10 Peerswap In Sidepool: one forwarded peerswap, the pool, Lightning and the chain"
    }
    fn parameters(&self) -> &'static [ParamDef] {
        params::PARAMS
    }
    fn properties(&self) -> Vec<PropertyDef> {
        properties::defs()
    }
    fn bounds(&self) -> &'static [&'static str] {
        BOUNDS
    }
    fn revisions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("seed", &["revision=seed"]), ("upstream", &["revision=upstream"]), ("upstream-50799b4", &["revision=upstream-50799b4"])]
    }
    fn check(&self, settings: &Settings, bounds: &Bounds) -> Result<CheckReport, String> {
        let cfg = Config::from_settings(settings).map_err(|e| e.to_string())?;
        let shown = settings.shown();
        framework::check(SidepoolModel::new(cfg), self.name(), shown, bounds)
    }
}
