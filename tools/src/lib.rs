//! Spec traceability tools, exposed as `sidepool-conformance spec ...`.
//!
//! - [`requirements`]: the requirement index (`spec-mirror/requirements.yaml`).
//! - [`quotes`]: checks `// SIDEPOOL-NN: "..."` quotes in code against the pinned texts.
//! - [`extract`]: message / TLV tables parsed from the spec, diffed against the reference and vectors.
//! - [`coverage`]: which requirements are quoted in code and covered by vectors and cases.
//! - [`impact`]: what an edit of a spec document touches.
//! - [`cli`]: the clap interface; [`cli::run`] is the only place that prints.

pub mod cli;
pub mod coverage;
pub mod docs;
pub mod extract;
pub mod impact;
pub mod markdown;
pub mod quotes;
pub mod requirements;
pub mod text;
pub mod vectors;
