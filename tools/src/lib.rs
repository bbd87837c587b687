//! Spec traceability tools, exposed as `sidepool-conformance spec ...`.
//!
//! - [`requirements`]: the requirement index (`spec-mirror/sidepool/<revision>/requirements.yaml`,
//!   ids stable across revisions) and our own specs' `**[id]**` requirements.
//! - [`quotes`]: checks `// SIDEPOOL-NN[@revision]: "..."` and `// LOOP-NN: "..."` quotes in code.
//! - [`extract`]: message / TLV tables parsed from the spec, diffed against the reference and vectors.
//! - [`coverage`]: which requirements are quoted in code and covered by vectors and cases.
//! - [`impact`]: what an edit of the texts touches (an edited document, or one revision against another).
//! - [`definitions`]: the definitions table and what depends on each definition.
//! - [`notes`]: the revision notes page, generated from the impact of one revision on another.
//! - [`cli`]: the clap interface; [`cli::run`] is the only place that prints.

pub mod cli;
pub mod coverage;
pub mod definitions;
pub mod docs;
pub mod extract;
pub mod impact;
pub mod markdown;
pub mod notes;
pub mod quotes;
pub mod requirements;
pub mod text;
pub mod vectors;
