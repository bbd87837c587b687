//! Lightning Loop (LOOP-01): one swap between a client and a server, the chain and the
//! off-chain payments: a Loop Out (`swap=out`, the honest client is
//! `loop_reference::loop_out::LoopOutClient`) or a Loop In (`swap=in`,
//! `loop_reference::loop_in::LoopInClient`); the server, the chain and lnd are the
//! environment; the client or the server may be the adversary.

pub mod export;
pub mod loop_in;
pub mod model;
pub mod params;
pub mod properties;
pub mod render;

use crate::framework::{self, Bounds, CheckReport, CheckableModel, ParamDef, PropertyDef, Settings, System, Trace, VectorFile};

pub use loop_in::{InStep, InWorld, LoopInModel};
pub use model::{LoopModel, Step, World};
pub use params::{Config, Swap};

impl CheckableModel for LoopModel {
    fn property_defs(&self) -> Vec<PropertyDef> {
        properties::defs()
    }
    fn trace(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
        render::trace(self, property, path)
    }
    fn export(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
        export::export_out(self, property, path)
    }
}

/// The Lightning Loop system for the command line.
pub struct Loop;

/// What the state space is bounded by, and what the bounds leave out.
pub const BOUNDS: &[&str] = &[
    "One swap (`swap=out` or `swap=in`), one client, one server. A Loop Out's contract is a fixed valid one (1 000 000 sat, 2 000 sat swap fee, 3 000 sat prepay); a Loop In's is 1 000 000 sat with a 2 000 sat swap fee (maximum 3 000) and the expiry `in_expiry_delta` blocks away: refusing bad fees and invoices is the decision functions' business, tested at every bound by the vectors.",
    "Heights: the client accepts the contract `expiry_delta` blocks before the HTLC expiry and the chain stops once the expiry has passed and no honest claim is pending. The HTLC confirms when it is published (the client's 1 required confirmation); blocks come one at a time and the claim timer fires after each.",
    "Claims: an honest claim confirms within `confirm_blocks` blocks of its first publication (re-publications with higher fees do not delay it); the adversary picks the block. The server's timeout spend is possible from the tip reaching the expiry on and wins any tie. Its mempool is the server's: it learns the preimage from a published claim at once.",
    "Off-chain payments: both are in flight from the start (the client pays both invoices on Execute); the server can settle the prepay at once and the swap payment once it knows the preimage; an adversarial server may also fail either. A payment's HTLC is assumed to outlast the on-chain HTLC (the server chooses the invoices' CLTV; not modelled), so an in-flight swap payment is the server's once it knows the preimage.",
    "Adversary: at most one. An adversarial server publishes the HTLC or not, at any height below the expiry, with the right value or 1 sat less, settles or fails payments when it likes and times the HTLC out as soon as it can. An adversarial client runs the machine but withholds its claim and its preimage, and claims the HTLC whenever it likes (confirming at once).",
    "Loop In: the client publishes its HTLC when it executes the swap, at the contract's height, and it confirms at once (its own wallet: no external HTLC, no lower-value copy, no funding failure); the invoice is a plain lnd invoice that settles when the server pays it, revealing the preimage to the server. The honest server pays only once the HTLC holding the amount is confirmed and at least `server_pay_margin` blocks remain before the expiry, and publishes its sweep at once; an adversarial server pays when it likes (or never) and sweeps at once with the preimage or the client's internal key whenever it has one. The adversarial client publishes the HTLC, never reveals its key and takes the HTLC back through the timeout path as soon as the expiry allows (winning any tie). The client's user may cancel the invoice by hand once. Blocks come one at a time until the expiry, then while a spend is pending or a crashed client is still down (up to 3 blocks past the expiry: it refunds late); the server's timeout window in the client's invoice (a year in Loop) is not modelled.",
    "Crashes: the honest client crashes at most `crashes` times, between steps (an UnexpectedError: memory lost, store kept), and restarts before the next block is found or later, resuming from its persisted state; on restart its host reports the payments' and the HTLC's status again.",
];

impl System for Loop {
    fn name(&self) -> &'static str {
        "loop"
    }
    fn title(&self) -> &'static str {
        "LOOP-01 Lightning Loop: one Loop Out or Loop In, the client's reference machine, the server, the chain and the payments"
    }
    fn parameters(&self) -> &'static [ParamDef] {
        params::PARAMS
    }
    /// Loop Out's properties, then Loop In's (`in_*`, checked with `swap=in`).
    fn properties(&self) -> Vec<PropertyDef> {
        let mut defs = properties::defs();
        defs.extend_from_slice(loop_in::IN_DEFS);
        defs
    }
    fn bounds(&self) -> &'static [&'static str] {
        BOUNDS
    }
    fn check(&self, settings: &Settings, bounds: &Bounds) -> Result<CheckReport, String> {
        let cfg = Config::from_settings(settings).map_err(|e| e.to_string())?;
        let shown = settings.shown();
        match cfg.swap {
            Swap::Out => framework::check(LoopModel::new(cfg), self.name(), shown, bounds),
            Swap::In => framework::check(LoopInModel::new(cfg), self.name(), shown, bounds),
        }
    }
}
