//! The checker entry point: runs stateright's breadth-first search over a
//! system's model within bounds, and reports each property as holds /
//! violated (with a counterexample) / not established within the bounds, with
//! the figures (states, time, memory).

use std::fmt::Debug;
use std::hash::Hash;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stateright::{Checker, HasDiscoveries, Model};

use super::export::VectorFile;
use super::property::{PropertyDef, PropertyKind};
use super::trace::Trace;

/// A symmetry reduction: the representative of a state's class.
pub type Representative<S> = fn(&S) -> S;

/// A model a system hands to [`check`]: a stateright [`Model`] whose
/// properties are also described in words, whose runs it can explain, and
/// whose counterexamples it can turn into vectors.
pub trait CheckableModel: Model + Clone + Send + Sync + Sized + 'static {
    /// One entry per stateright property, same names.
    fn property_defs(&self) -> Vec<PropertyDef>;
    /// The run `path` (each state with the step taken from it; the last has none) for humans.
    fn trace(&self, property: &PropertyDef, path: &[(Self::State, Option<Self::Action>)]) -> Trace;
    /// The run as replayable vectors, when the system can export its machines' scripts.
    fn export(&self, property: &PropertyDef, path: &[(Self::State, Option<Self::Action>)]) -> Option<VectorFile>;
    /// A symmetry reduction (the representative of a state's class), where the system has one.
    fn symmetry(&self) -> Option<Representative<Self::State>> {
        None
    }
}

/// How far the search may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Stop after this many states generated (duplicates included).
    pub max_states: Option<usize>,
    /// Do not expand states this many steps from the start.
    pub max_depth: Option<usize>,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    /// Checker threads.
    pub threads: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { max_states: Some(20_000_000), max_depth: None, timeout: Some(Duration::from_secs(600)), threads: 1 }
    }
}

/// What the search found for one property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Safety or liveness: no counterexample in the whole (finite) state space.
    Holds,
    /// A counterexample was found.
    Violated,
    /// Reachable: an example was found.
    Reached,
    /// Reachable: no run reaches it although the whole state space was searched.
    Unreached,
    /// The search stopped at a bound before it could tell.
    NotEstablished,
}

impl Verdict {
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Reached => "reached",
            Verdict::Unreached => "unreached",
            Verdict::NotEstablished => "not established within the bounds",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PropertyResult {
    pub def: PropertyDef,
    pub verdict: Verdict,
    /// The counterexample (or the example, for a reachability property).
    pub trace: Option<Trace>,
    /// The counterexample as vectors (violated safety properties, where the system exports).
    pub vectors: Option<VectorFile>,
}

/// Which bound stopped the search, if one did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    States,
    Depth,
    Time,
}

impl Cut {
    pub fn name(self) -> &'static str {
        match self {
            Cut::States => "state bound",
            Cut::Depth => "depth bound",
            Cut::Time => "time bound",
        }
    }
}

/// Everything one check established.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub system: &'static str,
    /// `name=value` of every parameter.
    pub settings: Vec<String>,
    pub bounds: Bounds,
    /// Set when a bound stopped the search: then "holds" cannot be said of anything not violated.
    pub cut: Option<Cut>,
    /// States generated (duplicates included).
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
    /// The process's peak resident memory (`VmHWM`), KiB; it covers the whole process.
    pub peak_memory_kib: Option<u64>,
    /// States generated again to find the shortest counterexamples (a search per
    /// property found, stopping at its first discovery).
    pub replay_states: usize,
    pub properties: Vec<PropertyResult>,
}

impl CheckReport {
    /// 0: every safety property holds (advisory results aside); 1: a safety property is
    /// violated; 2: nothing was violated but the search did not finish.
    pub fn exit_status(&self) -> i32 {
        let safety = || self.properties.iter().filter(|p| p.def.kind == PropertyKind::Safety);
        if safety().any(|p| p.verdict == Verdict::Violated) {
            1
        } else if safety().any(|p| p.verdict == Verdict::NotEstablished) {
            2
        } else {
            0
        }
    }

    pub fn result(&self, name: &str) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.def.name == name)
    }

    /// The report as text: a line per property, each counterexample's trace under it, the figures.
    pub fn render(&self) -> String {
        let mut s = format!("model check {}: {}\n", self.system, self.settings.join(" "));
        for p in &self.properties {
            let mark = match p.verdict {
                Verdict::Holds | Verdict::Reached => "ok  ",
                Verdict::Violated if p.def.kind == PropertyKind::Safety => "FAIL",
                Verdict::Violated | Verdict::Unreached => "warn",
                Verdict::NotEstablished => "??  ",
            };
            s.push_str(&format!("{mark} {:<32} {} [{}]\n", p.def.name, p.verdict.name(), p.def.kind.name()));
            if let Some(t) = &p.trace {
                if p.verdict == Verdict::Violated {
                    s.push_str(&format!("     counterexample ({} steps):\n", t.steps.len()));
                    s.push_str(&t.render());
                }
            }
        }
        if let Some(cut) = self.cut {
            s.push_str(&format!(
                "the search stopped at its {}: properties not violated are not established\n",
                cut.name()
            ));
        }
        s.push_str(&format!(
            "{} states explored ({} unique), depth {}, {:.2} s, peak memory {}\n",
            self.states,
            self.unique_states,
            self.max_depth,
            self.elapsed.as_secs_f64(),
            self.peak_memory_kib.map_or("unknown".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
        ));
        s
    }

    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system,
            "settings": self.settings,
            "bounds": {
                "max_states": self.bounds.max_states,
                "max_depth": self.bounds.max_depth,
                "timeout_seconds": self.bounds.timeout.map(|t| t.as_secs_f64()),
                "threads": self.bounds.threads,
            },
            "complete": self.cut.is_none(),
            "cut": self.cut.map(Cut::name),
            "states_explored": self.states,
            "unique_states": self.unique_states,
            "max_depth": self.max_depth,
            "seconds": self.elapsed.as_secs_f64(),
            "peak_memory_kib": self.peak_memory_kib,
            "replay_states": self.replay_states,
            "exit_status": self.exit_status(),
            "properties": self.properties.iter().map(|p| json!({
                "name": p.def.name,
                "kind": p.def.kind.name(),
                "verdict": p.verdict.name(),
                "words": p.def.words,
                "rests_on": p.def.rests_on.iter().map(|q| json!({"doc": q.doc, "text": q.text})).collect::<Vec<_>>(),
                "trace": p.trace.as_ref().map(Trace::to_json),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The process's peak resident set size (`VmHWM` in /proc/self/status), KiB.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// Runs the breadth-first search and reports every property of `model`.
///
/// `Err` when the model cannot be checked at all (its property table disagrees
/// with its stateright properties, or the model panicked: a bug to report).
pub fn check<M>(model: M, system: &'static str, settings: Vec<String>, bounds: &Bounds) -> Result<CheckReport, String>
where
    M: CheckableModel,
    M::State: Clone + Debug + Hash + PartialEq + Send + Sync + 'static,
    M::Action: Clone + Debug + PartialEq + Send + Sync + 'static,
{
    let defs = model.property_defs();
    let names: Vec<&str> = model.properties().iter().map(|p| p.name).collect();
    if defs.len() != names.len() || defs.iter().any(|d| !names.contains(&d.name)) {
        return Err(format!(
            "{system}: the property descriptions ({:?}) do not match the model's properties ({names:?})",
            defs.iter().map(|d| d.name).collect::<Vec<_>>()
        ));
    }
    let start = Instant::now();
    let checker = search(model.clone(), bounds, None)
        .map_err(|p| format!("{system}: the model panicked during the search: {p}"))?;
    let elapsed = start.elapsed();
    let states = checker.state_count();
    let max_depth = checker.max_depth();
    let cut = if bounds.max_states.is_some_and(|n| states >= n) {
        Some(Cut::States)
    } else if bounds.max_depth.is_some_and(|d| max_depth >= d) {
        Some(Cut::Depth)
    } else if bounds.timeout.is_some_and(|t| elapsed >= t) {
        Some(Cut::Time)
    } else {
        None
    };
    let model = checker.model();
    let discoveries = checker.discoveries();
    let mut properties = Vec::new();
    let mut replay_states = 0;
    for def in defs {
        // The search keeps the last counterexample it met, not the shortest: searches
        // bounded in depth (a binary search on it) find one of the shortest to show.
        let found = match discoveries.get(def.name) {
            None => None,
            Some(p) => {
                let (shortest, spent) = shortest(model, bounds, def.name, p.clone().into_vec().len());
                replay_states += spent;
                Some(shortest.unwrap_or_else(|| p.clone().into_vec()))
            }
        };
        let verdict = match (def.kind, &found, cut) {
            (PropertyKind::Reachable, Some(_), _) => Verdict::Reached,
            (_, Some(_), _) => Verdict::Violated,
            (_, None, Some(_)) => Verdict::NotEstablished,
            (PropertyKind::Reachable, None, None) => Verdict::Unreached,
            (_, None, None) => Verdict::Holds,
        };
        let trace = found.as_deref().map(|path| model.trace(&def, path));
        let vectors = match (&found, def.kind) {
            (Some(path), PropertyKind::Safety) => model.export(&def, path),
            _ => None,
        };
        properties.push(PropertyResult { def, verdict, trace, vectors });
    }
    Ok(CheckReport {
        system,
        settings,
        bounds: *bounds,
        cut,
        states,
        unique_states: checker.unique_state_count(),
        max_depth,
        elapsed,
        peak_memory_kib: peak_memory_kib(),
        replay_states,
        properties,
    })
}

/// One of the shortest runs to a discovery of `name`, whose first-found run has `found_len`
/// states; with the states the searches generated.
///
/// stateright keeps the last discovery of a block of states, not the first, so a search that
/// stops at a discovery may still return a longer run than needed: a binary search on the
/// depth bound finds the shortest length, and a run of that length.
#[allow(clippy::type_complexity)]
fn shortest<M>(
    model: &M,
    bounds: &Bounds,
    name: &'static str,
    found_len: usize,
) -> (Option<Vec<(M::State, Option<M::Action>)>>, usize)
where
    M: CheckableModel,
    M::State: Clone + Debug + Hash + PartialEq + Send + Sync + 'static,
    M::Action: Clone + Debug + PartialEq + Send + Sync + 'static,
{
    let mut spent = 0;
    let mut best: Option<Vec<(M::State, Option<M::Action>)>> = None;
    // A bound of `d` checks the states fewer than `d` states into a run.
    let look = |d: usize, spent: &mut usize| -> Option<Vec<(M::State, Option<M::Action>)>> {
        let b = Bounds { max_depth: Some(d), ..*bounds };
        let c = search(model.clone(), &b, Some(name)).ok()?;
        *spent += c.state_count();
        c.discovery(name).map(|p| p.into_vec())
    };
    // The shortest run has between 1 and `hi` states.
    let mut hi = found_len;
    if let Some(p) = look(found_len.saturating_add(1), &mut spent) {
        hi = hi.min(p.len());
        best = Some(p);
    }
    let mut lo = 1;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match look(mid + 1, &mut spent) {
            Some(p) => {
                hi = p.len().min(mid);
                best = Some(p);
            }
            None => lo = mid + 1,
        }
    }
    (best, spent)
}

/// One breadth-first search; with `first_of`, it stops at that property's first discovery.
#[allow(clippy::type_complexity)]
fn search<M>(model: M, bounds: &Bounds, first_of: Option<&'static str>) -> Result<impl Checker<M>, String>
where
    M: CheckableModel,
    M::State: Clone + Debug + Hash + PartialEq + Send + Sync + 'static,
    M::Action: Clone + Debug + PartialEq + Send + Sync + 'static,
{
    let symmetry = model.symmetry();
    let mut builder = model.checker().threads(if first_of.is_some() { 1 } else { bounds.threads.max(1) });
    if let Some(n) = bounds.max_states {
        builder = builder.target_state_count(n);
    }
    if let Some(d) = bounds.max_depth {
        builder = builder.target_max_depth(d);
    }
    if let Some(t) = bounds.timeout {
        builder = builder.timeout(t);
    }
    if let Some(f) = symmetry {
        builder = builder.symmetry_fn(f);
    }
    if let Some(name) = first_of {
        builder = builder.finish_when(HasDiscoveries::AnyOf([name].into_iter().collect()));
    }
    catch_unwind(AssertUnwindSafe(|| builder.spawn_bfs().join())).map_err(|p| panic_text(&*p))
}
