//! Properties in words: what is claimed, the spec sentences it rests on, and
//! whether a counterexample is a safety violation or advisory.

use std::fmt;

/// A sentence of a spec document, quoted exactly (whitespace aside) so that
/// `tools/`' quote checker can find it (a test of each system checks every quote).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecQuote {
    /// The document id: `SIDEPOOL-10`, `SIDEPOOL-06`, or one of our own (`LOOP-01`, ...).
    pub doc: &'static str,
    pub text: &'static str,
}

impl fmt::Display for SpecQuote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: \"{}\"", self.doc, self.text)
    }
}

/// How a property is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropertyKind {
    /// Must hold in every reachable state: a counterexample is a violation (exit status 1).
    Safety,
    /// Every run must eventually reach it. Advisory: reported, never fails the check
    /// (stateright checks "eventually" on acyclic paths only, and fairness is not modelled).
    Liveness,
    /// Some run must reach it: a sanity check that the model is not vacuous (a safety
    /// property that holds because nothing ever happens proves nothing).
    Reachable,
}

impl PropertyKind {
    pub fn name(self) -> &'static str {
        match self {
            PropertyKind::Safety => "safety",
            PropertyKind::Liveness => "liveness (advisory)",
            PropertyKind::Reachable => "reachable (sanity)",
        }
    }
}

/// One property of a system, in words.
#[derive(Clone, Copy, Debug)]
pub struct PropertyDef {
    /// The stable name (also the stateright property's name).
    pub name: &'static str,
    pub kind: PropertyKind,
    /// The claim, in one or two sentences a spec author can read.
    pub words: &'static str,
    /// The spec sentences it rests on.
    pub rests_on: &'static [SpecQuote],
}
