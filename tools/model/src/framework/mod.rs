//! The reusable part: what every system's model provides ([`System`]), and the
//! checker, traces and vector export every system shares.
//!
//! A system (SIDEPOOL-10 peerswaps here; Lightning Loop, LightningRod and
//! Blobswap next) implements [`System`] for the command line and
//! [`CheckableModel`] for the search: a stateright `Model` whose honest
//! participants run the reference crate's own state machines. See
//! `tools/model/README.md`, "Adding a system".

pub mod check;
pub mod export;
pub mod params;
pub mod property;
pub mod trace;

pub use check::{check, Bounds, CheckReport, CheckableModel, Cut, PropertyResult, Verdict};
pub use export::{ScriptGroup, ScriptStep, ScriptTest, VectorFile};
pub use params::{ParamDef, ParamError, ParamKind, Settings, Value};
pub use property::{PropertyDef, PropertyKind, SpecQuote};
pub use trace::{Trace, TraceStep};

/// One system the checker knows: its parameters, properties and bounds in
/// words, and how to build and check its model for given settings.
pub trait System: Sync {
    /// The name `--system` takes.
    fn name(&self) -> &'static str;
    /// One line: what is modelled.
    fn title(&self) -> &'static str;
    /// Every parameter, with its default and range.
    fn parameters(&self) -> &'static [ParamDef];
    /// Every property, in words, with the sentences it rests on.
    fn properties(&self) -> Vec<PropertyDef>;
    /// What the state space is bounded by, and what that leaves out, one sentence each.
    fn bounds(&self) -> &'static [&'static str];
    /// The spec revisions `--spec` takes, each with the `--set` assignments it stands for.
    fn revisions(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[]
    }
    /// Builds the model for `settings` and runs [`check`] on it.
    fn check(&self, settings: &Settings, bounds: &Bounds) -> Result<CheckReport, String>;

    /// The settings for `assignments` (and `--spec` revision, which comes first so a `--set` wins).
    fn settings(&self, revision: Option<&str>, assignments: &[String]) -> Result<Settings, String> {
        let mut all: Vec<String> = Vec::new();
        if let Some(rev) = revision {
            let (_, sets) = self.revisions().iter().find(|(name, _)| *name == rev).ok_or_else(|| {
                let known: Vec<&str> = self.revisions().iter().map(|(n, _)| *n).collect();
                if known.is_empty() {
                    format!("system `{}` has no spec revisions to choose from", self.name())
                } else {
                    format!("unknown spec revision `{rev}`; known: {}", known.join(", "))
                }
            })?;
            for s in *sets {
                // A revision's settings count as given unless a --set overrides them.
                let name = s.split_once('=').map_or(*s, |(n, _)| n);
                if !assignments.iter().any(|a| a.split_once('=').is_some_and(|(n, _)| n.trim() == name)) {
                    all.push(s.to_string());
                }
            }
        }
        all.extend(assignments.iter().cloned());
        Settings::resolve(self.parameters(), &all).map_err(|e| e.to_string())
    }
}
