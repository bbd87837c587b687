//! Evidence: everything the IUT sends, stamped with its arrival (one order over
//! every connection and the adapter, `runner::arrival`), so that an expectation
//! only ever considers what arrived after the step that provokes it.
//!
//! Before every stimulus (a send, an adapter request, a clock move, a connect
//! or disconnect) the runner takes in whatever has already arrived, without
//! waiting; those items get stamps below the stimulus's mark, so a stale
//! message (a pong before its ping, an event from before the request) can never
//! answer a later probe.

use super::super::arrival::{Arrival, Mark};
use super::super::peer::{Ended, Incoming, PingSent};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// One received item with its stamp.
#[derive(Clone, Debug)]
pub struct Stamped<T> {
    pub seq: u64,
    pub item: T,
}

/// Where a piece of evidence came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Peer(String),
    Adapter,
}

/// The stamped queues of one case.
#[derive(Default)]
pub struct Evidence {
    pub inbox: BTreeMap<String, VecDeque<Stamped<Incoming>>>,
    pub events: VecDeque<Stamped<Value>>,
    /// When (stamp) and how each peer's connection ended, as first noticed.
    pub closes: BTreeMap<String, (u64, Ended)>,
    /// Pings the case sent (raw ones too), by peer, with their marks.
    pub pings: Vec<(String, PingSent)>,
    /// Evidence items kept, and how many were dropped because a queue was full.
    pub kept: usize,
    pub dropped: usize,
    /// Set when a quiescence barrier decided a "nothing happens" step (that
    /// step, and the mark after the barrier), until the runner's next input.
    /// Whatever the IUT sends in between proves its `sync` answer was early.
    pub quiet_since: Option<(usize, u64)>,
    /// What arrived while `quiet_since` was set, described for the report.
    pub late: Vec<String>,
}

/// At most this many unconsumed items per queue: an IUT flooding the runner
/// cannot grow its memory without bound; the oldest items are dropped first
/// and the report says how many.
pub const QUEUE_LIMIT: usize = 4096;

impl Evidence {
    /// The point in the run's order now (a step's mark: what arrives later is after it).
    pub fn mark(&self) -> u64 {
        Mark::now().0
    }

    pub fn push_message(&mut self, peer: &str, item: Incoming) {
        let seq = item.arrival().seq;
        if !matches!(item, Incoming::Other { pong: Some(_), .. }) {
            let what = super::expect::sidepool_summary(&item).unwrap_or_else(|| format!("a message of BOLT type {}", item.type_id()));
            self.note_if_late(seq, || format!("{what} to {peer}"));
        }
        let q = self.inbox.entry(peer.to_owned()).or_default();
        if q.len() >= QUEUE_LIMIT {
            q.pop_front();
            self.dropped += 1;
        }
        q.push_back(Stamped { seq, item });
        self.kept += 1;
    }

    pub fn push_event(&mut self, arrival: Arrival, ev: Value) {
        let seq = arrival.seq;
        self.note_if_late(seq, || format!("event {}", ev.get("event").and_then(Value::as_str).unwrap_or("?")));
        if self.events.len() >= QUEUE_LIMIT {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(Stamped { seq, item: ev });
        self.kept += 1;
    }

    pub fn note_close(&mut self, peer: &str, ended: &Ended) {
        if !self.closes.contains_key(peer) {
            self.note_if_late(ended.arrival.seq, || format!("{} ({peer})", ended.how));
            self.closes.insert(peer.to_owned(), (ended.arrival.seq, ended.clone()));
        }
    }

    fn note_if_late(&mut self, seq: u64, what: impl FnOnce() -> String) {
        if let Some((step, mark)) = self.quiet_since {
            if seq > mark && self.late.len() < 8 {
                self.late.push(format!("{} after the barrier of step {step}", what()));
            }
        }
    }

    /// Messages from `peer` that arrived after `window`, oldest first.
    pub fn messages_after<'a>(&'a self, peer: &str, window: u64) -> impl Iterator<Item = &'a Stamped<Incoming>> + 'a {
        self.inbox.get(peer).into_iter().flat_map(move |q| q.iter().filter(move |m| m.seq > window))
    }

    /// Events that arrived after `window`, oldest first.
    pub fn events_after(&self, window: u64) -> impl Iterator<Item = &Stamped<Value>> + '_ {
        self.events.iter().filter(move |e| e.seq > window)
    }

    /// Removes the message with this stamp (it answered an expectation).
    pub fn take_message(&mut self, peer: &str, seq: u64) {
        if let Some(q) = self.inbox.get_mut(peer) {
            q.retain(|m| m.seq != seq);
        }
    }

    pub fn take_event(&mut self, seq: u64) {
        self.events.retain(|e| e.seq != seq);
    }
}

/// How long a single read may block while several sources are watched: each
/// source gets a short slice in turn, so a quiet one never starves another.
pub const SLICE: Duration = Duration::from_millis(5);

/// The earlier of `now + d` and `limit`.
pub fn until(d: Duration, limit: Instant) -> Instant {
    (Instant::now() + d).min(limit)
}
