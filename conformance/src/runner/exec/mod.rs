//! Runs one case's script against a target.
//!
//! Three rules make a verdict a claim about the spec (conformance/CASES.md):
//! - every assertion is graded ([`super::grade`]): only a MUST / MUST NOT miss
//!   fails the case; other misses are recorded and the case goes on;
//! - evidence is tied to its probe ([`evidence`]): an expectation considers only
//!   what arrived after the step that provokes it;
//! - a setup step that cannot be carried out makes the case an `error` (it could
//!   not be evaluated), never a pass or a failure.

mod answer;
mod evidence;
mod expect;
mod payment;

use super::case::{Case, ConnectStep, Need, SendStep, Step, StepMeta, StepSpec};
use super::grade::{Finding, Grade};
use super::matcher::{self, Captures};
use super::peer::{PongAnswer, ScriptedPeer};
use crate::fields::{message_from_json, message_to_json};
use evidence::Evidence;
pub use evidence::QUEUE_LIMIT;
use serde_json::{json, Value};
use sidepool_reference::units::PublicKey;
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::wire::tlv;
use sidepool_reference::{Decoded, Message};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How the runner reaches an IUT's adapter (see conformance/ADAPTER.md).
pub trait AdapterLink {
    /// One request; `Ok` carries the response's `ok` object.
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, AdapterError>;
    /// The next event (an object with an `event` key), or `None` at the deadline.
    fn next_event(&mut self, deadline: Instant) -> Option<Value>;
    /// Whether [`AdapterLink::settle`] can tell when the IUT is idle.
    fn settles(&self) -> bool {
        false
    }
    /// Waits until the IUT has handled everything it received, noticed every
    /// closed connection (`open_connections` remain) and written every message
    /// it sent. `false`: it cannot tell, or `deadline` passed first.
    fn settle(&mut self, open_connections: usize, deadline: Instant) -> bool {
        let _ = (open_connections, deadline);
        false
    }
    /// Makes sure every event the IUT wrote before now is queued here (for the
    /// cross-source order checks of `in_order`). `false`: it cannot.
    fn flush_events(&mut self, deadline: Instant) -> bool {
        let _ = deadline;
        false
    }
    // Supervision (runner::link): defaults suit a link that cannot stall (the embedded node).
    /// [`AdapterLink::next_event`] with when the runner received the event (see `runner::arrival`).
    fn next_event_stamped(&mut self, deadline: Instant) -> Option<(super::arrival::Arrival, Value)> {
        self.next_event(deadline).map(|v| (super::arrival::Arrival::now(), v))
    }
    /// Bounds the link's calls by `deadline` (the next case's limit) until the next call of this.
    fn begin_case(&mut self, deadline: Instant) {
        let _ = deadline;
    }
    /// Adapter protocol violations seen since the last call (malformed lines, stray ids, ...).
    fn take_violations(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Whether the adapter failed to answer in time (or closed) since the last call.
    fn take_stall(&mut self) -> Option<super::link::Stall> {
        None
    }
    /// The optional capabilities the IUT declares (`forwarding`, `restart`, ...).
    fn capabilities(&self) -> Vec<String> {
        Vec::new()
    }
}

/// How "nothing happens" steps (`expect_nothing`, `expect_no_event`) decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    /// Use the quiescence barrier (pings, settle, pings) when the adapter link can
    /// settle: the step then ends as soon as the IUT is idle instead of waiting
    /// out its window. Only sound for an IUT without real-time timers: the
    /// embedded node's link, and an external IUT that declares the adapter's
    /// `sync` capability (ADAPTER.md), which promises exactly that.
    pub barrier: bool,
    /// Replaces every such step's `within_ms` when its window is waited out.
    pub window: Option<Duration>,
}

impl Default for Quiet {
    fn default() -> Quiet {
        Quiet { barrier: true, window: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdapterError {
    /// The IUT cannot do this: the case is reported `unsupported`.
    Unsupported(String),
    Failed(String),
}

/// The IUT's wire address and identity.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    pub node_id: PublicKey,
}

/// How a case ended. The verdict of a completed case comes from its findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The script ran (to its end, or to a MUST miss, or to a step that needed
    /// what a missed assertion would have provided).
    Completed,
    /// The target lacks what the case needs.
    Unsupported(String),
    /// The case could not be evaluated: a setup step failed (this is not a claim
    /// about the spec).
    Error(String),
}

/// One line of a case's wire transcript.
#[derive(Clone, Debug)]
pub struct TranscriptEntry {
    pub peer: String,
    pub outbound: bool,
    pub at_ms: u128,
    pub hex: String,
    pub decoded: Value,
}

pub struct CaseRun {
    pub outcome: Outcome,
    /// Every assertion that was not met, with its grade.
    pub findings: Vec<Finding>,
    /// What else the report should say (steps not run, stale evidence ignored, ...).
    pub notes: Vec<String>,
    pub transcript: Vec<TranscriptEntry>,
    pub duration: Duration,
    /// How many "nothing happens" decisions the quiescence barrier made at once
    /// (the rest waited out their windows).
    pub barriers: u32,
}

impl CaseRun {
    /// A run that ended before any step (the target could not be set up).
    pub fn ended(outcome: Outcome) -> CaseRun {
        CaseRun { outcome, findings: Vec::new(), notes: Vec::new(), transcript: Vec::new(), duration: Duration::ZERO, barriers: 0 }
    }

    /// One line saying why the case is not a pass (`None` for a clean pass).
    pub fn reason(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Unsupported(r) | Outcome::Error(r) => Some(r.clone()),
            Outcome::Completed if self.findings.is_empty() => None,
            Outcome::Completed => Some(self.findings.iter().map(Finding::line).collect::<Vec<_>>().join("; ")),
        }
    }
}

/// Runner peers whose node ids cases may use before connecting them (`$peer.<name>.node_id`).
pub const CAST: &[&str] = &["alice", "bob", "carol", "dave", "erin", "leader"];

/// How long an expectation waits when the step gives no `within_ms`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);

/// The requirement a liveness probe rests on by default: a node that stops
/// answering pings has stopped speaking the Lightning protocol.
pub const LIVENESS_REQUIREMENT: &str = "sp01.sidepool-messaging-protocol.1";

/// How long a whole case may take unless the run says otherwise.
pub const DEFAULT_CASE_LIMIT: Duration = Duration::from_secs(60);

enum StepError {
    /// The assertion was not met (graded by the step).
    Miss(String),
    Unsupported(String),
    /// The step could not be carried out (setup, or a broken case).
    Error(String),
}

impl From<String> for StepError {
    fn from(s: String) -> StepError {
        StepError::Miss(s)
    }
}

/// The grade, requirement and reading of the step being run.
#[derive(Clone, Debug)]
pub(super) struct StepCtx {
    index: usize,
    grade: Grade,
    requirement: String,
    reading: Option<String>,
    note: Option<String>,
}

struct Exec<'a> {
    target: Target,
    adapter: Option<&'a mut Box<dyn AdapterLink>>,
    peers: BTreeMap<String, ScriptedPeer>,
    closed_peers: Vec<ScriptedPeer>,
    captures: Captures,
    ev: Evidence,
    started: Instant,
    default_wait: Duration,
    /// No step may wait past this instant: the case's own time limit.
    case_deadline: Instant,
    quiet: Quiet,
    findings: Vec<Finding>,
    ctx: StepCtx,
    /// The evidence window of assertions without `after:`: the mark of the first
    /// stimulus after the previous assertion.
    window: u64,
    pending_window: Option<u64>,
    labels: BTreeMap<String, u64>,
    /// Captures a missed (non-MUST) assertion would have made.
    unmet: Vec<(String, usize)>,
    /// "Nothing happens" decisions the barrier made.
    barriers: u32,
}

pub fn run_case(case: &Case, target: Target, adapter: Option<&mut Box<dyn AdapterLink>>, default_wait: Duration) -> CaseRun {
    run_case_limited(case, target, adapter, default_wait, DEFAULT_CASE_LIMIT)
}

/// Runs one case; it errors when it has not finished within `limit`.
pub fn run_case_limited(case: &Case, target: Target, adapter: Option<&mut Box<dyn AdapterLink>>, default_wait: Duration, limit: Duration) -> CaseRun {
    run_case_quiet(case, target, adapter, default_wait, limit, Quiet::default())
}

/// What the target lacks for this case, if anything.
pub fn missing_need(case: &Case, adapter: Option<&dyn AdapterLink>) -> Option<String> {
    for need in &case.needs {
        match (need, adapter) {
            (Need::Adapter, None) => return Some("needs an adapter (passive mode runs wire-only cases)".into()),
            (_, None) => return Some(format!("needs the `{}` capability, which needs an adapter", need.capability().unwrap_or("adapter"))),
            (need, Some(link)) => {
                if let Some(cap) = need.capability() {
                    if !link.capabilities().iter().any(|c| c == cap) {
                        return Some(format!("the IUT does not declare the `{cap}` capability (adapter `hello`)"));
                    }
                }
            }
        }
    }
    None
}

/// [`run_case_limited`], choosing how "nothing happens" steps decide.
pub fn run_case_quiet(case: &Case, target: Target, adapter: Option<&mut Box<dyn AdapterLink>>, default_wait: Duration, limit: Duration, quiet: Quiet) -> CaseRun {
    let started = Instant::now();
    if let Some(why) = missing_need(case, adapter.as_deref().map(|b| b.as_ref())) {
        return CaseRun { duration: started.elapsed(), ..CaseRun::ended(Outcome::Unsupported(why)) };
    }
    let mut exec = Exec {
        target,
        adapter,
        peers: BTreeMap::new(),
        closed_peers: Vec::new(),
        captures: Captures::new(),
        ev: Evidence::default(),
        started,
        default_wait,
        case_deadline: started + limit,
        quiet,
        findings: Vec::new(),
        ctx: StepCtx { index: 0, grade: Grade::from_level(case.level), requirement: case.requirement.clone(), reading: None, note: None },
        window: 0,
        pending_window: None,
        labels: BTreeMap::new(),
        unmet: Vec::new(),
        barriers: 0,
    };
    exec.captures.insert("iut.node_id".into(), json!(hex::encode(target.node_id.as_bytes())));
    let caps = exec.adapter.as_ref().map(|a| a.capabilities()).unwrap_or_default();
    exec.captures.insert("iut.capabilities".into(), json!(caps));
    // The cast: every runner peer's node id is known before it connects (keys derive from names).
    for name in CAST {
        exec.captures.insert(format!("peer.{name}.node_id"), json!(hex::encode(super::peer::key_for(name).public_key().as_bytes())));
    }
    let mut outcome = Outcome::Completed;
    let mut notes = Vec::new();
    for (i, spec) in case.steps.iter().enumerate() {
        let n = i + 1;
        if Instant::now() >= exec.case_deadline {
            outcome = Outcome::Error(format!("step {n}: the case did not finish within {} ms", limit.as_millis()));
            break;
        }
        exec.begin_step(n, spec, case);
        let before = exec.findings.len();
        match exec.step(&spec.step, &spec.meta) {
            Ok(()) => {}
            Err(StepError::Miss(why)) => {
                if let Some(blocked) = exec.blocked_by(&why) {
                    notes.push(format!("steps {n} and later were not evaluated: {blocked}"));
                    break;
                }
                if why.contains("nothing captured as ") {
                    outcome = Outcome::Error(format!("step {n} ({}): {why} (a broken case)", spec.step.kind()));
                    break;
                }
                if spec.step.is_assertion() || spec.meta.level.is_some() {
                    exec.miss(why);
                } else {
                    outcome = Outcome::Error(format!("step {n} ({}): {why}", spec.step.kind()));
                    break;
                }
            }
            Err(StepError::Error(why)) => {
                if let Some(blocked) = exec.blocked_by(&why) {
                    notes.push(format!("steps {n} and later were not evaluated: {blocked}"));
                } else {
                    outcome = Outcome::Error(format!("step {n} ({}): {why}", spec.step.kind()));
                }
                break;
            }
            Err(StepError::Unsupported(why)) => {
                outcome = Outcome::Unsupported(format!("step {n}: {why}"));
                break;
            }
        }
        let new = exec.findings.get(before..).unwrap_or_default();
        if new.iter().any(|f| f.grade.is_strict()) {
            if n < case.steps.len() {
                notes.push(format!("steps after {n} were not run: a MUST was not met"));
            }
            break;
        }
        if !new.is_empty() {
            exec.mark_unmet(&spec.step, n);
        }
    }
    // A barrier's decision rests on the IUT's word that nothing more was coming
    // (ADAPTER.md `sync`): anything it sent before the runner's next input
    // breaks that word, and the absences decided on it are not shown.
    exec.take_in_pending();
    if !exec.ev.late.is_empty() {
        let why = format!(
            "the IUT answered `sync` before it was settled, so the absences its barrier decided are not shown: {} arrived with no new input from the runner",
            exec.ev.late.join(", ")
        );
        if exec.findings.iter().any(|f| f.grade.is_strict()) {
            notes.push(why);
        } else if outcome == Outcome::Completed {
            outcome = Outcome::Error(why);
        }
    }
    if exec.ev.dropped > 0 {
        notes.push(format!("the IUT flooded the runner: {} unconsumed messages/events beyond {} per queue were dropped", exec.ev.dropped, QUEUE_LIMIT));
    }
    let transcript = exec.transcript();
    CaseRun { outcome, findings: exec.findings, notes, transcript, duration: started.elapsed(), barriers: exec.barriers }
}

impl Exec<'_> {
    fn wait(&self, within_ms: Option<u64>) -> Instant {
        (Instant::now() + within_ms.map(Duration::from_millis).unwrap_or(self.default_wait)).min(self.case_deadline)
    }

    /// When a "nothing happens" step's window ends.
    fn quiet_deadline(&self, within_ms: u64) -> Instant {
        (Instant::now() + self.quiet.window.unwrap_or(Duration::from_millis(within_ms))).min(self.case_deadline)
    }

    /// Sets up the step's grade and evidence window; before a stimulus, takes in
    /// whatever already arrived so it cannot pass for an answer to it.
    fn begin_step(&mut self, index: usize, spec: &StepSpec, case: &Case) {
        let liveness = matches!(spec.step, Step::Alive { .. });
        self.ctx = StepCtx {
            index,
            grade: spec.meta.level.unwrap_or(if liveness { Grade::Must } else { Grade::from_level(case.level) }),
            requirement: spec.meta.requirement.clone().unwrap_or_else(|| if liveness { LIVENESS_REQUIREMENT.into() } else { case.requirement.clone() }),
            reading: spec.meta.reading.clone(),
            note: spec.meta.note.clone(),
        };
        if spec.step.is_stimulus() {
            self.take_in_pending();
            // New input: what the IUT sends from now on may answer it.
            self.ev.quiet_since = None;
            if self.pending_window.is_none() {
                self.pending_window = Some(self.ev.mark());
            }
        } else if spec.step.is_assertion() {
            if let Some(w) = self.pending_window.take() {
                self.window = w;
            }
        }
        if let Some(label) = &spec.meta.label {
            let mark = if spec.step.is_stimulus() { self.ev.mark() } else { self.window_of(&spec.meta) };
            self.labels.insert(label.clone(), mark);
        }
    }

    /// The evidence window of an assertion: after its `after:` step, else the default.
    fn window_of(&self, meta: &StepMeta) -> u64 {
        match meta.after.as_deref() {
            Some("case_start") => 0,
            Some(label) => self.labels.get(label).copied().unwrap_or(0),
            None => self.window,
        }
    }

    /// Records the current step's miss at its grade.
    fn miss(&mut self, seen: String) {
        let c = self.ctx.clone();
        self.findings.push(Finding { step: c.index, grade: c.grade, requirement: c.requirement, reading: c.reading, seen, note: c.note });
    }

    /// Records a sub-assertion's miss at its own grade.
    fn miss_at(&mut self, grade: Grade, requirement: &str, reading: Option<&str>, seen: String, note: Option<String>) {
        self.findings.push(Finding { step: self.ctx.index, grade, requirement: requirement.to_owned(), reading: reading.map(str::to_owned), seen, note });
    }

    /// The captures a step would have made, remembered as unmet after a non-MUST miss.
    fn mark_unmet(&mut self, step: &Step, index: usize) {
        fn names(step: &Step, out: &mut Vec<String>) {
            match step {
                Step::Expect(e) => out.push(e.capture.clone().unwrap_or_else(|| format!("got.{}", e.message))),
                Step::ExpectReject(r) => out.push(r.capture.clone().unwrap_or_else(|| "got.peerswap_reject".into())),
                Step::ExpectAccept(a) => out.push(a.capture.clone().unwrap_or_else(|| "got.peerswap_accept".into())),
                Step::ExpectEvent(e) => out.push(e.capture.clone().unwrap_or_else(|| format!("event.{}", e.event))),
                Step::ExpectPayment(p) => out.push(p.capture.clone().unwrap_or_else(|| "payment".into())),
                Step::AnyOrder(inner) | Step::OneOf(inner) | Step::InOrder(inner) => inner.iter().for_each(|s| names(&s.step, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        names(step, &mut out);
        self.unmet.extend(out.into_iter().map(|n| (n, index)));
    }

    /// `Some(why)` when an error is a step needing a capture that a missed
    /// assertion would have made: the case ends there, graded by its findings.
    fn blocked_by(&self, why: &str) -> Option<String> {
        let path = why.split("nothing captured as ").nth(1)?.split([' ', ',', ';', ')']).next()?;
        let (name, step) = self.unmet.iter().find(|(name, _)| path == name || path.starts_with(&format!("{name}.")))?;
        Some(format!("they need `{name}`, which the assertion of step {step} was to provide"))
    }

    fn peer(&mut self, name: &str) -> Result<&mut ScriptedPeer, StepError> {
        self.peers.get_mut(name).ok_or_else(|| StepError::Error(format!("no connected peer named {name}")))
    }

    fn adapter_call(&mut self, method: &str, params: &Value) -> Result<Value, StepError> {
        let adapter = self.adapter.as_mut().ok_or_else(|| StepError::Unsupported(format!("adapter request {method} needs an adapter")))?;
        adapter.call(method, params).map_err(|e| match e {
            AdapterError::Unsupported(m) => StepError::Unsupported(format!("adapter: {method} unsupported ({m})")),
            AdapterError::Failed(m) => StepError::Error(format!("adapter: {method} failed: {m}")),
        })
    }

    /// Moves what the peers have read into the stamped queues, noting closes.
    fn absorb(&mut self) {
        for (name, p) in self.peers.iter_mut() {
            while let Some(m) = p.inbox.pop_front() {
                self.ev.push_message(name, m);
            }
            if let Some(ended) = p.ended() {
                self.ev.note_close(name, ended);
            }
        }
    }

    /// Takes in, without waiting, everything that has already arrived.
    fn take_in_pending(&mut self) {
        for p in self.peers.values_mut() {
            // An error is the connection's end, which the peer records.
            let _ = p.take_arrived();
        }
        self.absorb();
        if let Some(a) = self.adapter.as_mut() {
            while let Some((at, e)) = a.next_event_stamped(Instant::now()) {
                self.ev.push_event(at, e);
            }
        }
    }

    /// Reads a little from each of these peers (and the adapter's events): each
    /// source gets its own short slice, so a quiet source never starves another.
    fn pump(&mut self, peers: &[&str], events: bool, deadline: Instant) -> Result<(), StepError> {
        for name in peers {
            let until = evidence::until(evidence::SLICE, deadline);
            let Some(p) = self.peers.get_mut(*name) else { continue };
            if p.closed {
                continue;
            }
            if let Ok(Some(m)) = p.read_one(until) {
                p.inbox.push_back(m);
            }
        }
        self.absorb();
        if events {
            let until = evidence::until(evidence::SLICE, deadline);
            let a = self.adapter.as_mut().ok_or_else(|| StepError::Unsupported("events need an adapter".into()))?;
            if let Some((at, ev)) = a.next_event_stamped(until) {
                self.ev.push_event(at, ev);
            }
        }
        if peers.is_empty() && !events {
            std::thread::sleep(evidence::until(evidence::SLICE, deadline).saturating_duration_since(Instant::now()));
        }
        Ok(())
    }

    /// The quiescence barrier: a round of pings (every message the runner sent
    /// has been handled), the IUT settles (its own queues are written, closed
    /// connections noticed), a second round of pings (everything it wrote is in
    /// the inboxes), then the adapter events already queued. `Ok(true)`: nothing
    /// the runner's earlier steps caused is still to come, so a "nothing
    /// happens" step can decide now. `Ok(false)`: the target cannot tell (or did
    /// not settle by `deadline`); the step waits out its window.
    fn quiesce(&mut self, deadline: Instant) -> Result<bool, StepError> {
        if !self.quiet.barrier || !self.adapter.as_ref().is_some_and(|a| a.settles()) {
            return Ok(false);
        }
        if !self.ping_all(deadline)? {
            return Ok(false);
        }
        let open = self.peers.values().chain(self.closed_peers.iter()).filter(|p| !p.closed).count();
        if !self.adapter.as_mut().is_some_and(|a| a.settle(open, deadline)) {
            return Ok(false);
        }
        if !self.ping_all(deadline)? {
            return Ok(false);
        }
        if let Some(a) = self.adapter.as_mut() {
            while let Some((at, ev)) = a.next_event_stamped(Instant::now()) {
                self.ev.push_event(at, ev);
            }
        }
        self.barriers += 1;
        if self.ev.quiet_since.is_none() {
            self.ev.quiet_since = Some((self.ctx.index, self.ev.mark()));
        }
        Ok(true)
    }

    fn ping_all(&mut self, deadline: Instant) -> Result<bool, StepError> {
        let mut all = true;
        for p in self.peers.values_mut() {
            if !p.barrier(deadline).map_err(StepError::Error)? {
                all = false;
                break;
            }
        }
        self.absorb();
        Ok(all)
    }

    /// Waits until `within` has passed (or the IUT is idle), taking in everything.
    fn watch(&mut self, peers: &[&str], events: bool, deadline: Instant) -> Result<(), StepError> {
        if self.quiesce(deadline)? {
            return Ok(());
        }
        while Instant::now() < deadline {
            self.pump(peers, events, deadline)?;
        }
        Ok(())
    }

    fn step(&mut self, step: &Step, meta: &StepMeta) -> Result<(), StepError> {
        match step {
            Step::Connect(c) => self.connect(c),
            Step::Disconnect { peer } => {
                let mut p = self.peers.remove(peer).ok_or_else(|| StepError::Error(format!("no connected peer named {peer}")))?;
                p.close();
                self.closed_peers.push(p);
                Ok(())
            }
            Step::Send(s) => self.send(s),
            Step::ExpectReject(r) => self.expect_answer(&r.peer, r.of.as_deref(), r.within_ms, meta, answer::Want::Reject { code: r.code, capture: r.capture.clone() }),
            Step::ExpectAccept(a) => self.expect_answer(&a.peer, a.of.as_deref(), a.within_ms, meta, answer::Want::Accept { fields: &a.fields, capture: a.capture.clone() }),
            Step::Expect(_) | Step::ExpectEvent(_) | Step::AnyOrder(_) | Step::OneOf(_) | Step::InOrder(_) => self.expect_step(step, meta),
            Step::ExpectPayment(p) => self.expect_payment(p, meta),
            Step::ExpectNothing { peer, within_ms, message, fields } => {
                let window = self.window_of(meta);
                let deadline = self.quiet_deadline(*within_ms);
                if !self.peers.contains_key(peer) {
                    return Err(StepError::Error(format!("no connected peer named {peer}")));
                }
                if !fields.is_empty() && message.is_none() {
                    return Err(StepError::Error("expect_nothing: `fields` needs `message`".into()));
                }
                self.watch(&[peer.as_str()], false, deadline)?;
                let captures = self.captures.clone();
                let matches_fields = |m: &super::peer::Incoming| -> bool {
                    if fields.is_empty() {
                        return true;
                    }
                    let super::peer::Incoming::Sidepool { decoded: Ok(Decoded::Known(msg)), .. } = m else { return false };
                    let mut scratch = captures.clone();
                    expect::match_fields(&message_to_json(msg)["fields"], fields, &mut scratch).is_ok()
                };
                let got: Vec<String> = self
                    .ev
                    .messages_after(peer, window)
                    .filter(|m| matches_fields(&m.item))
                    .filter_map(|m| expect::sidepool_summary(&m.item))
                    .filter(|s| message.as_deref().is_none_or(|m| s.starts_with(m)))
                    .collect();
                if got.is_empty() {
                    Ok(())
                } else {
                    Err(StepError::Miss(format!("expected no {} from the IUT, got {}", message.as_deref().unwrap_or("sidepool message"), got.join(", "))))
                }
            }
            Step::ExpectNoEvent { event, fields, within_ms } => {
                if self.adapter.is_none() {
                    return Err(StepError::Unsupported("events need an adapter".into()));
                }
                let window = self.window_of(meta);
                let deadline = self.quiet_deadline(*within_ms);
                self.watch(&[], true, deadline)?;
                let mut scratch = self.captures.clone();
                let hit = self.ev.events_after(window).find(|ev| {
                    ev.item.get("event").and_then(Value::as_str) == Some(event.as_str()) && expect::match_fields(&ev.item, fields, &mut scratch).is_ok()
                });
                match hit {
                    Some(ev) => Err(StepError::Miss(format!("expected no {event} event, got {}", ev.item))),
                    None => Ok(()),
                }
            }
            Step::ExpectDisconnect { peer, within_ms } => self.expect_disconnect(peer, *within_ms, meta),
            Step::ExpectType { peer, type_id, within_ms } => self.expect_type(peer, *type_id, *within_ms, meta),
            Step::Alive { peer } => self.alive(peer),
            Step::DeriveHtlcKey { init, accept, capture } => {
                let key = super::crypto::derive_htlc_key(&self.captures, init, accept).map_err(StepError::Error)?;
                self.captures.insert(capture.clone(), json!(key));
                Ok(())
            }
            Step::CheckHandover { success, receiver_secret, sender_ephemeral } => {
                super::crypto::check_handover(&self.captures, success, receiver_secret, sender_ephemeral).map_err(StepError::Miss)
            }
            Step::Fixture(name) => Err(StepError::Error(format!("fixture {name} was not expanded"))),
            Step::Check { path, is } => {
                let got = matcher::captured(&self.captures, path).cloned();
                if got.is_none() {
                    // Nothing captured: either a missed assertion's capture (blocked) or a broken case.
                    return Err(StepError::Error(format!("nothing captured as {path}")));
                }
                let mut caps = self.captures.clone();
                let is = matcher::substitute(is, &self.captures).map_err(StepError::Error)?;
                matcher::check(got.as_ref(), &is, &mut caps, path)?;
                self.captures = caps;
                Ok(())
            }
            Step::Adapter { method, params } => {
                let params = matcher::substitute(params, &self.captures).map_err(StepError::Error)?;
                let ok = self.adapter_call(method, &params)?;
                self.captures.insert(format!("adapter.{method}"), ok);
                Ok(())
            }
            Step::AdvanceClock { seconds } => self.adapter_call("advance_clock", &json!({"seconds": seconds})).map(|_| ()),
            Step::Remember { name, value } => {
                let value = matcher::substitute(value, &self.captures).map_err(StepError::Error)?;
                self.captures.insert(name.clone(), value);
                Ok(())
            }
            Step::ForEach(f) => {
                let items = match matcher::captured(&self.captures, &f.list) {
                    Some(Value::Array(items)) => items.clone(),
                    Some(other) => return Err(StepError::Error(format!("for_each: {} is {other}, not a list", f.list))),
                    None => return Err(StepError::Error(format!("nothing captured as {}", f.list))),
                };
                for item in items {
                    self.captures.insert(f.item.clone(), item);
                    for inner in &f.steps {
                        if !matches!(inner.step, Step::Send(_) | Step::Adapter { .. } | Step::AdvanceClock { .. }) {
                            return Err(StepError::Error("for_each holds only send, adapter and advance_clock steps".into()));
                        }
                        self.step(&inner.step, &inner.meta)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn connect(&mut self, c: &ConnectStep) -> Result<(), StepError> {
        let deadline = self.wait(None);
        // Everything the new connection brings arrives after this mark.
        let window = self.ev.mark();
        let mut p = ScriptedPeer::connect_until(&c.peer, self.target.addr, self.target.node_id, self.started, Instant::now() + self.default_wait, Some(self.case_deadline)).map_err(StepError::Miss)?;
        let features = c.init_features.clone().unwrap_or_else(|| vec![1263]);
        p.send_init(&features).map_err(StepError::Miss)?;
        p.await_init(deadline).map_err(StepError::Miss)?;
        let we_signal = features.iter().any(|b| *b == 1262 || *b == 1263);
        let iut_signals = p.iut_init.as_ref().is_some_and(|i| i.all_features().offers_pair(1263));
        if iut_signals {
            let value = match (&c.sidepool_features_raw, &c.sidepool_features) {
                (Some(raw), _) => Some(hex::decode(raw).map_err(|e| StepError::Error(format!("sidepool_features_raw: {e}")))?),
                (None, Some(bits)) => Some(FeatureSet::from_bits(bits.iter().copied()).encode()),
                (None, None) => None,
            };
            if let Some(value) = value {
                let mut tlvs = Vec::new();
                tlv::write_stream([(10100u64, value.as_slice())], &mut tlvs);
                p.send(&sidepool_reference::wire::envelope::seal(101, &tlvs)).map_err(StepError::Miss)?;
            }
        }
        self.captures.insert(format!("peer.{}.node_id", c.peer), json!(hex::encode(p.node_id().as_bytes())));
        if let Some(init) = &p.iut_init {
            self.captures.insert(format!("iut.init_features.{}", c.peer), json!(init.all_features().bits().collect::<Vec<_>>()));
        }
        let name = c.peer.clone();
        if let Some(mut old) = self.peers.insert(name.clone(), p) {
            old.close();
            self.closed_peers.push(old);
        }
        self.absorb();
        if c.wait_ready.unwrap_or(we_signal && iut_signals) {
            let no_fields = serde_json::Map::new();
            let exp = [expect::Exp::message(&name, "my_sidepool_features", &no_fields, Some(&format!("features.{name}")))];
            let found = self.expect_all(&exp, window, deadline, expect::Mode::All)?;
            if found.met.iter().any(Option::is_none) {
                return Err(StepError::Miss(format!("connect: the IUT sent no my_sidepool_features within {} ms", self.default_wait.as_millis())));
            }
            // The IUT may send its features before it has read ours. One ping round
            // trip (a node handles a connection's messages in order) makes sure it
            // has, so the next step does not race the IUT's "peer is ready".
            let answered = self.peer(&name)?.barrier(deadline).map_err(StepError::Miss)?;
            self.absorb();
            let closed = self.peers.get(&name).is_some_and(|p| p.closed);
            if !answered || closed {
                return Err(StepError::Miss(format!("connect: the IUT did not answer a ping after the feature exchange{}", if closed { " (the connection closed)" } else { "" })));
            }
        }
        Ok(())
    }

    fn send(&mut self, s: &SendStep) -> Result<(), StepError> {
        let raw = match (&s.raw, &s.message) {
            (Some(raw), None) => {
                let raw = matcher::substitute(&json!(raw), &self.captures).map_err(StepError::Error)?;
                hex::decode(raw.as_str().unwrap_or_default()).map_err(|e| StepError::Error(format!("raw: bad hex ({e})")))?
            }
            (None, Some(name)) => {
                let fields = matcher::substitute(s.fields.as_ref().unwrap_or(&json!({})), &self.captures).map_err(StepError::Error)?;
                let unknown = s.unknown_tlvs.as_ref().map(|u| matcher::substitute(u, &self.captures)).transpose().map_err(StepError::Error)?;
                let m = message_from_json(name, &fields, unknown.as_ref()).map_err(StepError::Error)?;
                let cap = s.capture.clone().unwrap_or_else(|| format!("sent.{name}"));
                self.captures.insert(cap, message_to_json(&m)["fields"].clone());
                m.encode()
            }
            _ => return Err(StepError::Error("send needs exactly one of `message` (with fields) or `raw`".into())),
        };
        let p = self.peer(&s.peer)?;
        let mark = p.send(&raw).map_err(|e| StepError::Error(format!("{e} (the connection to {} is {})", s.peer, "unusable")))?;
        // A ping the case sends is remembered, so only its own pong answers it.
        let ping = p.outstanding_pings().find(|ping| ping.mark == mark).copied();
        if let Some(ping) = ping {
            self.ev.pings.push((s.peer.clone(), ping));
        }
        Ok(())
    }

    fn expect_disconnect(&mut self, peer: &str, within_ms: u64, meta: &StepMeta) -> Result<(), StepError> {
        let window = self.window_of(meta);
        let deadline = (Instant::now() + Duration::from_millis(within_ms)).min(self.case_deadline);
        let Some(p) = self.peers.get_mut(peer) else {
            return Err(StepError::Error(format!("no connected peer named {peer}")));
        };
        // Whatever the IUT sends before it closes is kept as evidence.
        let _ = p.await_close(deadline);
        self.absorb();
        match self.ev.closes.get(peer) {
            None => Err(StepError::Miss(format!("the IUT did not close the connection within {within_ms} ms"))),
            Some((seq, ended)) if *seq <= window => Err(StepError::Miss(format!("{} before the step that should make it close, so the close answers nothing", ended.how))),
            // BOLT 1 and BOLT 8: a close is the end of the stream between frames; an
            // `error` or `warning` before it is allowed.
            Some((_, ended)) if ended.how.is_clean() => Ok(()),
            Some((_, ended)) => Err(StepError::Miss(format!("{}: not a clean close", ended.how))),
        }
    }

    fn expect_type(&mut self, peer: &str, type_id: u16, within_ms: Option<u64>, meta: &StepMeta) -> Result<(), StepError> {
        let window = self.window_of(meta);
        let deadline = self.wait(within_ms);
        if type_id == 19 {
            let ping = self.ev.pings.iter().rev().find(|(p, ping)| p == peer && ping.mark.0 >= window).map(|(_, ping)| *ping);
            let Some(ping) = ping else {
                return Err(StepError::Error(format!("expect_type 19 (pong) needs a ping sent to {peer} after the provoking step")));
            };
            return self.await_pong(peer, ping, deadline);
        }
        loop {
            let hit = self.ev.messages_after(peer, window).find(|m| matches!(&m.item, super::peer::Incoming::Other { type_id: t, .. } if *t == type_id)).map(|m| m.seq);
            if let Some(seq) = hit {
                self.ev.take_message(peer, seq);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let closed = self.peers.get(peer).is_some_and(|p| p.closed);
                return Err(StepError::Miss(format!("no message of BOLT type {type_id} from the IUT{}", if closed { " (connection closed)" } else { "" })));
            }
            self.pump(&[peer], false, deadline)?;
        }
    }

    /// Waits for the pong that answers `ping` itself: a pong matched (by the
    /// scripted peer, oldest outstanding ping of its length) to another ping, a
    /// pong of the wrong length, or one nobody asked for answers nothing.
    fn await_pong(&mut self, peer: &str, ping: super::peer::PingSent, deadline: Instant) -> Result<(), StepError> {
        loop {
            let mut wrong = None;
            let hit = self.ev.messages_after(peer, ping.mark.0).find_map(|m| match m.item.pong().map(|p| (p.ignored_len, &p.answer)) {
                Some((_, PongAnswer::Answers(sent))) if sent.number == ping.number => Some(m.seq),
                Some((len, PongAnswer::WrongLength { .. } | PongAnswer::Unsolicited)) => {
                    wrong = Some(len);
                    None
                }
                _ => None,
            });
            if let Some(seq) = hit {
                self.ev.take_message(peer, seq);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let closed = self.peers.get(peer).is_some_and(|p| p.closed);
                let len = ping.num_pong_bytes;
                let mut why = format!("no pong with {len} bytes answered the ping");
                if let Some(w) = wrong {
                    why.push_str(&format!(" (a pong with {w} bytes came instead; BOLT 1: `byteslen` is the ping's `num_pong_bytes`)"));
                }
                if closed {
                    why.push_str(" (connection closed)");
                }
                return Err(StepError::Miss(why));
            }
            self.pump(&[peer], false, deadline)?;
        }
    }

    /// The liveness probe: a ping only this step asks for, and its pong.
    fn alive(&mut self, peer: &str) -> Result<(), StepError> {
        let len = 200 + (self.ctx.index % 200) as u16;
        let deadline = self.wait(None);
        let p = self.peer(peer)?;
        if let Some(ended) = p.ended() {
            return Err(StepError::Miss(format!("liveness probe: {}, so the absence checked above is not shown to be the IUT's choice", ended.how)));
        }
        let ping = match p.ping(len) {
            Ok(ping) => ping,
            Err(e) => return Err(StepError::Miss(format!("liveness probe: cannot ping the IUT ({e})"))),
        };
        self.ev.pings.push((peer.to_owned(), ping));
        self.await_pong(peer, ping, deadline).map_err(|e| match e {
            StepError::Miss(why) => StepError::Miss(format!("liveness probe: {why}: the IUT may have hung, so the absence checked above is not shown")),
            other => other,
        })
    }

    fn transcript(&self) -> Vec<TranscriptEntry> {
        super::transcript::build(self.peers.values().chain(self.closed_peers.iter()))
    }
}

/// The decoded form of a wire message for reports: sidepool messages as their field view.
pub fn decode_for_transcript(raw: &[u8]) -> Value {
    match Message::decode(raw) {
        Ok(Decoded::Known(m)) => message_to_json(&m),
        Ok(Decoded::IgnoredOdd { sub_id }) => json!({"message": null, "sub_id": sub_id, "ignored": true}),
        Err(e) if e.class != sidepool_reference::wire::ErrorClass::NotSidepool => json!({"error": {"class": e.class.name(), "detail": e.detail}}),
        Err(_) => {
            let t = raw.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
            let name = match t {
                16 => "init",
                17 => "error",
                1 => "warning",
                18 => "ping",
                19 => "pong",
                _ => "other",
            };
            json!({"bolt_type": t, "name": name})
        }
    }
}
