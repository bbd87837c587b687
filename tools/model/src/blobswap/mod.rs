//! BLOBSWAP-01: one swap between a user and an SSP. Both honest parties run the reference
//! crate's machines; the world (Lightning HTLC, chain, blob medium) is abstract; at most one
//! party is adversarial. `model` holds the world and its steps, `properties` what is checked,
//! `render` the trace, `export` the counterexample as `blobswap_machine` vectors.

pub mod export;
pub mod model;
pub mod params;
pub mod properties;
pub mod render;

use crate::framework::{self, Bounds, CheckReport, CheckableModel, ParamDef, PropertyDef, Settings, System, Trace, VectorFile};

pub use model::{Adv, BlobswapModel, Htlc, Step, World};
pub use params::PARAMS;
pub use properties::{DEFS, SSP_CAN_BE_REFUNDED, SSP_SAFE, SWAP_CAN_COMPLETE, USER_SAFE};

impl CheckableModel for BlobswapModel {
    fn property_defs(&self) -> Vec<PropertyDef> {
        DEFS.to_vec()
    }
    fn trace(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
        render::trace(self, property, path)
    }
    fn export(&self, property: &PropertyDef, path: &[(World, Option<Step>)]) -> Option<VectorFile> {
        export::export(self, property, path)
    }
}

/// The Blobswap system for the command line.
pub struct Blobswap;

pub const BOUNDS: &[&str] = &[
    "One swap, one user, one SSP; one hold invoice paid in one HTLC of expiry E = 100 + `expiry_delta` (the SSP accepts at height 100).",
    "At most one adversarial party (`adversary`): it runs the reference machine but may go silent at any step (a crash without restart is the same to the other party), broadcast its own spend whenever its leaf allows (user: the claim at any tip once funded; SSP: the refund from R on); as user, send its presignature at any later tip and publish the blob at any tip once funded; as SSP, hold its signed funding back and broadcast it at any later tip, double-spend it while unconfirmed or, while it has at most `reorg_depth` confirmations, in a reorganisation, and settle the hold invoice with the preimage from a blob at any tip before E. It never forges messages (fake invoices, fake funding outputs and wrong presigned values are covered by the reference crate's checks and flow tests, not here).",
    "Chain: abstract heights from 100 to E + 2*chain_delay + 2; a broadcast transaction confirms in any block from the next to chain_delay blocks later, in any order (the checker picks which of two conflicting spends wins). Reorganisations: only the adversarial SSP's, of its own funding, at most `reorg_depth` blocks deep; a reorganisation that undoes a confirmed spend of the shared output is not modelled (with the chain delay bound holding in every branch, the honest user's claim confirms before the refund is valid in any branch).",
    "Lightning: the honest SSP's settle succeeds at tip t iff t + SETTLE_MARGIN <= E (between E - SETTLE_MARGIN and E the adversary decides: against the honest SSP, for an adversarial one); the HTLC fails back at E; messages between the parties and node answers arrive within the step that caused them.",
    "Honest parties act at every tip (no downtime, no crash); the blob medium shows a published blob to the SSP once it looks up.",
];

impl System for Blobswap {
    fn name(&self) -> &'static str {
        "blobswap"
    }
    fn title(&self) -> &'static str {
        "BLOBSWAP-01 Blobswap: one swap between a user and an SSP, Lightning, the chain and the blob medium"
    }
    fn parameters(&self) -> &'static [ParamDef] {
        PARAMS
    }
    fn properties(&self) -> Vec<PropertyDef> {
        DEFS.to_vec()
    }
    fn bounds(&self) -> &'static [&'static str] {
        BOUNDS
    }
    fn check(&self, settings: &Settings, bounds: &Bounds) -> Result<CheckReport, String> {
        let model = BlobswapModel::from_settings(settings)?;
        let shown = settings.shown();
        framework::check(model, self.name(), shown, bounds)
    }
}
