//! A second look at the advisory liveness property `b_paid_when_online`.
//!
//! stateright 0.31 checks an `eventually` property along each path with bits it
//! keeps per state; when two paths reach the same state the state is explored
//! once and the second path's bits are lost, so the checker can report such a
//! property as holding when a run violates it. This search judges each terminal
//! state (no step enabled: the run is over) by itself, breadth first, and keeps
//! a shortest run to the first one where `B` came online before the fail-back
//! height and is not paid.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use stateright::Model;

use super::model::{LnrodModel, Step, World};
use super::properties::b_paid_or_late;

/// What the plain search found.
pub struct TerminalStates {
    /// Unique states explored.
    pub states: usize,
    /// Of which terminal.
    pub terminal: usize,
    /// Terminal states in which `B` came online before the fail-back height and is not paid.
    pub unpaid: usize,
    /// A shortest run to one of those (each state with the step taken from it; the last has none).
    pub shortest: Option<Vec<(World, Option<Step>)>>,
    pub elapsed: Duration,
}

fn fingerprint(w: &World) -> u64 {
    let mut h = DefaultHasher::new();
    w.hash(&mut h);
    h.finish()
}

/// Every terminal state of `m`'s runs, or `None` when there are more than `max_states` states.
pub fn terminal_states(m: &LnrodModel, max_states: Option<usize>) -> Option<TerminalStates> {
    let start = Instant::now();
    // Each state with its parent's index and the step from it, in breadth-first order.
    let mut states: Vec<(World, Option<(usize, Step)>)> = Vec::new();
    let mut seen = HashSet::new();
    for w in m.init_states() {
        if seen.insert(fingerprint(&w)) {
            states.push((w, None));
        }
    }
    let (mut terminal, mut unpaid, mut first_unpaid) = (0, 0, None);
    let mut next = 0;
    while let Some((w, _)) = states.get(next) {
        let w = w.clone();
        let mut steps = Vec::new();
        m.actions(&w, &mut steps);
        if steps.is_empty() {
            terminal += 1;
            if !b_paid_or_late(m, &w) {
                unpaid += 1;
                first_unpaid.get_or_insert(next);
            }
        }
        for step in steps {
            let Some(after) = m.next_state(&w, step.clone()) else { continue };
            if seen.insert(fingerprint(&after)) {
                states.push((after, Some((next, step))));
            }
        }
        if max_states.is_some_and(|n| states.len() > n) {
            return None;
        }
        next += 1;
    }
    let shortest = first_unpaid.map(|mut i| {
        let mut path = vec![(states[i].0.clone(), None)];
        while let Some((parent, step)) = states[i].1.clone() {
            path.push((states[parent].0.clone(), Some(step)));
            i = parent;
        }
        path.reverse();
        path
    });
    Some(TerminalStates { states: states.len(), terminal, unpaid, shortest, elapsed: start.elapsed() })
}
