//! The checker entry point: runs stateright's breadth-first search over a
//! system's model within bounds, and reports each property as holds /
//! violated (with a counterexample) / not established within the bounds, with
//! the figures (states, time, memory).

use std::collections::HashMap;
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
    /// stateright 0.31 applies it in its depth-first search only, so with one the check searches
    /// depth first (the shortest traces are still searched breadth first, without it).
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
    /// What the system adds to the verdicts (e.g. a second look at an advisory one), a line each.
    pub notes: Vec<String>,
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
        for note in &self.notes {
            s.push_str(&format!("note {note}\n"));
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
            "notes": self.notes,
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
    let searched = search(model.clone(), bounds, None)
        .map_err(|p| format!("{system}: the model panicked during the search: {p}"))?;
    let elapsed = start.elapsed();
    let (states, max_depth) = (searched.states, searched.depth);
    let cut = if bounds.max_states.is_some_and(|n| states >= n) {
        Some(Cut::States)
    } else if bounds.max_depth.is_some_and(|d| max_depth >= d) {
        Some(Cut::Depth)
    } else if bounds.timeout.is_some_and(|t| elapsed >= t) {
        Some(Cut::Time)
    } else {
        None
    };
    let model = &model;
    let discoveries = &searched.discoveries;
    let mut properties = Vec::new();
    let mut replay_states = 0;
    for def in defs {
        // The search keeps the last counterexample it met, not the shortest: searches
        // bounded in depth (a binary search on it) find one of the shortest to show.
        let found = match discoveries.get(def.name) {
            None => None,
            Some(p) => {
                let (shortest, spent) = shortest(model, bounds, def.name, p.len());
                replay_states += spent;
                Some(shortest.unwrap_or_else(|| p.clone()))
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
        unique_states: searched.unique,
        max_depth,
        elapsed,
        peak_memory_kib: peak_memory_kib(),
        replay_states,
        properties,
        notes: Vec::new(),
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
        let mut c = search(model.clone(), &b, Some(name)).ok()?;
        *spent += c.states;
        c.discoveries.remove(name)
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

/// What one search found: its figures and a run to each property's discovery.
#[allow(clippy::type_complexity)]
struct Searched<M: Model> {
    states: usize,
    unique: usize,
    depth: usize,
    discoveries: HashMap<&'static str, Vec<(M::State, Option<M::Action>)>>,
}

fn collect<M, C>(c: C) -> Searched<M>
where
    M: Model,
    M::State: Clone + PartialEq,
    M::Action: Clone + PartialEq,
    C: Checker<M>,
{
    Searched {
        states: c.state_count(),
        unique: c.unique_state_count(),
        depth: c.max_depth(),
        discoveries: c.discoveries().into_iter().map(|(k, p)| (k, p.into_vec())).collect(),
    }
}

/// One search. With `first_of`, breadth first, one thread, stopping at that property's first
/// discovery (for the shortest traces). Otherwise the check itself: breadth first, or, when the
/// model has a symmetry, depth first with it (stateright 0.31 reduces by symmetry in its
/// depth-first search only).
fn search<M>(model: M, bounds: &Bounds, first_of: Option<&'static str>) -> Result<Searched<M>, String>
where
    M: CheckableModel,
    M::State: Clone + Debug + Hash + PartialEq + Send + Sync + 'static,
    M::Action: Clone + Debug + PartialEq + Send + Sync + 'static,
{
    let symmetry = if first_of.is_none() { model.symmetry() } else { None };
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
    if let Some(name) = first_of {
        builder = builder.finish_when(HasDiscoveries::AnyOf([name].into_iter().collect()));
    }
    catch_unwind(AssertUnwindSafe(|| match symmetry {
        Some(f) => collect(builder.symmetry_fn(f).spawn_dfs().join()),
        None => collect(builder.spawn_bfs().join()),
    }))
    .map_err(|p| panic_text(&*p))
}

#[cfg(test)]
mod tests {
    //! The framework on a toy system: two identical counters that may each step up to 2,
    //! with a symmetry (their order does not matter) and a property that fails at 2 + 2.
    use super::*;
    use crate::framework::{PropertyKind, SpecQuote, TraceStep, VectorFile};
    use stateright::Property;

    #[derive(Clone)]
    struct Counters;

    impl Model for Counters {
        type State = [u8; 2];
        type Action = usize;
        fn init_states(&self) -> Vec<[u8; 2]> {
            vec![[0, 0]]
        }
        fn actions(&self, s: &[u8; 2], out: &mut Vec<usize>) {
            out.extend((0..2).filter(|i| s[*i] < 2));
        }
        fn next_state(&self, s: &[u8; 2], i: usize) -> Option<[u8; 2]> {
            let mut n = *s;
            n[i] += 1;
            Some(n)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                Property::always("below_four", |_, s: &[u8; 2]| s[0] + s[1] < 4),
                Property::sometimes("reaches_two", |_, s: &[u8; 2]| s[0] + s[1] == 2),
            ]
        }
    }

    const Q: &[SpecQuote] = &[SpecQuote { doc: "TOY-01", text: "Counters stop at 2." }];

    impl CheckableModel for Counters {
        fn property_defs(&self) -> Vec<PropertyDef> {
            vec![
                PropertyDef { name: "below_four", kind: PropertyKind::Safety, words: "the sum stays below 4", rests_on: Q },
                PropertyDef { name: "reaches_two", kind: PropertyKind::Reachable, words: "the sum can be 2", rests_on: Q },
            ]
        }
        fn trace(&self, _: &PropertyDef, path: &[([u8; 2], Option<usize>)]) -> Trace {
            Trace {
                setup: vec![],
                steps: path
                    .iter()
                    .filter_map(|(s, a)| a.map(|i| TraceStep { at: format!("{s:?}"), actor: format!("counter {i}"), what: "steps".into(), notes: vec![] }))
                    .collect(),
                outcome: vec![format!("{:?}", path.last().map(|(s, _)| *s))],
            }
        }
        fn export(&self, _: &PropertyDef, _: &[([u8; 2], Option<usize>)]) -> Option<VectorFile> {
            None
        }
        fn symmetry(&self) -> Option<Representative<[u8; 2]>> {
            Some(|s| {
                let mut r = *s;
                r.sort();
                r
            })
        }
    }

    fn bounds() -> Bounds {
        Bounds { max_states: Some(1_000), max_depth: None, timeout: Some(Duration::from_secs(10)), threads: 1 }
    }

    #[test]
    fn a_violation_comes_with_one_of_the_shortest_traces_and_exit_status_1() {
        let r = check(Counters, "toy", vec![], &bounds()).unwrap();
        assert_eq!(r.result("below_four").map(|p| p.verdict.clone()), Some(Verdict::Violated));
        assert_eq!(r.result("reaches_two").map(|p| p.verdict.clone()), Some(Verdict::Reached));
        let t = r.result("below_four").and_then(|p| p.trace.clone()).unwrap();
        assert_eq!(t.steps.len(), 4, "{}", t.render());
        assert_eq!(t.outcome, vec!["Some([2, 2])"]);
        assert_eq!(r.exit_status(), 1);
        assert!(r.cut.is_none());
        // With the symmetry, [1, 0] and [0, 1] are one state: 6 classes instead of 9 states.
        assert_eq!(r.unique_states, 6);
    }

    #[test]
    fn a_bound_leaves_what_it_did_not_reach_not_established() {
        let b = Bounds { max_depth: Some(3), ..bounds() };
        let r = check(Counters, "toy", vec![], &b).unwrap();
        assert_eq!(r.cut, Some(Cut::Depth));
        assert_eq!(r.result("below_four").map(|p| p.verdict.clone()), Some(Verdict::NotEstablished));
        assert_eq!(r.exit_status(), 2);
    }

    #[test]
    fn a_property_table_that_disagrees_with_the_model_is_an_error() {
        #[derive(Clone)]
        struct Wrong;
        impl Model for Wrong {
            type State = u8;
            type Action = u8;
            fn init_states(&self) -> Vec<u8> {
                vec![0]
            }
            fn actions(&self, _: &u8, _: &mut Vec<u8>) {}
            fn next_state(&self, _: &u8, _: u8) -> Option<u8> {
                None
            }
            fn properties(&self) -> Vec<Property<Self>> {
                vec![Property::always("p", |_, _| true)]
            }
        }
        impl CheckableModel for Wrong {
            fn property_defs(&self) -> Vec<PropertyDef> {
                vec![PropertyDef { name: "q", kind: PropertyKind::Safety, words: "", rests_on: &[] }]
            }
            fn trace(&self, _: &PropertyDef, _: &[(u8, Option<u8>)]) -> Trace {
                Trace::default()
            }
            fn export(&self, _: &PropertyDef, _: &[(u8, Option<u8>)]) -> Option<VectorFile> {
                None
            }
        }
        let e = check(Wrong, "wrong", vec![], &bounds()).unwrap_err();
        assert!(e.contains("do not match"), "{e}");
    }
}
