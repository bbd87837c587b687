//! Runs one case's script against a target.

use super::case::{Case, ConnectStep, ExpectStep, Need, SendStep, Step};
use super::matcher::{self, Captures};
use super::peer::{Incoming, ScriptedPeer};
use crate::fields::{message_from_json, message_to_json};
use serde_json::{json, Value};
use sidepool_reference::units::PublicKey;
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::wire::tlv;
use sidepool_reference::{Decoded, Message};
use std::collections::{BTreeMap, VecDeque};
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
}

/// How "nothing happens" steps (`expect_nothing`, `expect_no_event`) decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    /// Use the quiescence barrier (pings, settle, pings) when the adapter link can
    /// settle: the step then ends as soon as the IUT is idle instead of waiting
    /// out its window. Only sound for an IUT without real-time timers, which is
    /// why only the embedded node's link settles.
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Unsupported(String),
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
    pub transcript: Vec<TranscriptEntry>,
    pub duration: Duration,
}

/// Runner peers whose node ids cases may use before connecting them (`$peer.<name>.node_id`).
pub const CAST: &[&str] = &["alice", "bob", "carol", "dave", "erin", "leader"];

/// How long an expectation waits when the step gives no `within_ms`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);

enum StepError {
    Fail(String),
    Unsupported(String),
}

impl From<String> for StepError {
    fn from(s: String) -> StepError {
        StepError::Fail(s)
    }
}

struct Exec<'a> {
    target: Target,
    adapter: Option<&'a mut Box<dyn AdapterLink>>,
    peers: BTreeMap<String, ScriptedPeer>,
    closed_peers: Vec<ScriptedPeer>,
    captures: Captures,
    events: VecDeque<Value>,
    started: Instant,
    default_wait: Duration,
    /// No step may wait past this instant: the case's own time limit.
    case_deadline: Instant,
    quiet: Quiet,
}

/// How long a whole case may take unless the run says otherwise.
pub const DEFAULT_CASE_LIMIT: Duration = Duration::from_secs(60);

pub fn run_case(case: &Case, target: Target, adapter: Option<&mut Box<dyn AdapterLink>>, default_wait: Duration) -> CaseRun {
    run_case_limited(case, target, adapter, default_wait, DEFAULT_CASE_LIMIT)
}

/// Runs one case; it fails when it has not finished within `limit`.
pub fn run_case_limited(
    case: &Case,
    target: Target,
    adapter: Option<&mut Box<dyn AdapterLink>>,
    default_wait: Duration,
    limit: Duration,
) -> CaseRun {
    run_case_quiet(case, target, adapter, default_wait, limit, Quiet::default())
}

/// [`run_case_limited`], choosing how "nothing happens" steps decide.
pub fn run_case_quiet(
    case: &Case,
    target: Target,
    adapter: Option<&mut Box<dyn AdapterLink>>,
    default_wait: Duration,
    limit: Duration,
    quiet: Quiet,
) -> CaseRun {
    let started = Instant::now();
    if case.needs.contains(&Need::Adapter) && adapter.is_none() {
        return CaseRun {
            outcome: Outcome::Unsupported("needs an adapter (passive mode runs wire-only cases)".into()),
            transcript: Vec::new(),
            duration: started.elapsed(),
        };
    }
    let mut exec = Exec {
        target,
        adapter,
        peers: BTreeMap::new(),
        closed_peers: Vec::new(),
        captures: Captures::new(),
        events: VecDeque::new(),
        started,
        default_wait,
        case_deadline: started + limit,
        quiet,
    };
    exec.captures.insert("iut.node_id".into(), json!(hex::encode(target.node_id.as_bytes())));
    // The cast: every runner peer's node id is known before it connects (keys derive from names).
    for name in CAST {
        exec.captures.insert(format!("peer.{name}.node_id"), json!(hex::encode(super::peer::key_for(name).public_key().as_bytes())));
    }
    let mut outcome = Outcome::Pass;
    for (i, step) in case.steps.iter().enumerate() {
        if Instant::now() >= exec.case_deadline {
            outcome = Outcome::Fail(format!("step {}: the case did not finish within {} ms", i + 1, limit.as_millis()));
            break;
        }
        match exec.step(step) {
            Ok(()) => {}
            Err(StepError::Fail(why)) => {
                outcome = Outcome::Fail(format!("step {}: {why}", i + 1));
                break;
            }
            Err(StepError::Unsupported(why)) => {
                outcome = Outcome::Unsupported(format!("step {}: {why}", i + 1));
                break;
            }
        }
    }
    let transcript = exec.transcript();
    CaseRun { outcome, transcript, duration: started.elapsed() }
}

/// What a step waits for.
enum Expectation<'s> {
    Message { peer: &'s str, message: &'s str, fields: &'s serde_json::Map<String, Value>, capture: Option<&'s str> },
    Event { event: &'s str, fields: &'s serde_json::Map<String, Value>, capture: Option<&'s str> },
}

impl Exec<'_> {
    fn wait(&self, within_ms: Option<u64>) -> Instant {
        (Instant::now() + within_ms.map(Duration::from_millis).unwrap_or(self.default_wait)).min(self.case_deadline)
    }

    /// When a "nothing happens" step's window ends.
    fn quiet_deadline(&self, within_ms: u64) -> Instant {
        (Instant::now() + self.quiet.window.unwrap_or(Duration::from_millis(within_ms))).min(self.case_deadline)
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
            while let Some(ev) = a.next_event(Instant::now()) {
                self.events.push_back(ev);
            }
        }
        Ok(true)
    }

    fn ping_all(&mut self, deadline: Instant) -> Result<bool, StepError> {
        for p in self.peers.values_mut() {
            if !p.barrier(deadline)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn peer(&mut self, name: &str) -> Result<&mut ScriptedPeer, StepError> {
        self.peers.get_mut(name).ok_or_else(|| StepError::Fail(format!("no connected peer named {name}")))
    }

    fn adapter_call(&mut self, method: &str, params: &Value) -> Result<Value, StepError> {
        let adapter = self.adapter.as_mut().ok_or_else(|| StepError::Unsupported(format!("adapter request {method} needs an adapter")))?;
        adapter.call(method, params).map_err(|e| match e {
            AdapterError::Unsupported(m) => StepError::Unsupported(format!("adapter: {method} unsupported ({m})")),
            AdapterError::Failed(m) => StepError::Fail(format!("adapter: {method} failed: {m}")),
        })
    }

    fn step(&mut self, step: &Step) -> Result<(), StepError> {
        match step {
            Step::Connect(c) => self.connect(c),
            Step::Disconnect { peer } => {
                let mut p = self.peers.remove(peer).ok_or_else(|| StepError::Fail(format!("no connected peer named {peer}")))?;
                p.close();
                self.closed_peers.push(p);
                Ok(())
            }
            Step::Send(s) => self.send(s),
            Step::Expect(e) => self.expect(&[Expectation::Message {
                peer: &e.peer,
                message: &e.message,
                fields: &e.fields,
                capture: e.capture.as_deref(),
            }], self.wait(e.within_ms), false),
            Step::ExpectReject(r) => {
                let of = r.of.clone().unwrap_or_else(|| "sent.peerswap_init".into());
                let mut fields = serde_json::Map::new();
                fields.insert("peerswap_reject_reason_code".into(), json!(r.code));
                fields.insert("peerswap_reject_id".into(), json!({"same_as": format!("{of}.peerswap_init_id")}));
                fields.insert("peerswap_reject_hash".into(), json!({"same_as": format!("{of}.peerswap_init_hash")}));
                let e = ExpectStep { peer: r.peer.clone(), message: "peerswap_reject".into(), fields, within_ms: r.within_ms, capture: None };
                self.step(&Step::Expect(e))
            }
            Step::ExpectNothing { peer, within_ms, message } => {
                let deadline = self.quiet_deadline(*within_ms);
                let settled = self.quiesce(deadline)?;
                let p = self.peer(peer)?;
                if !settled {
                    p.drain_until(deadline)?;
                }
                let got: Vec<String> = p
                    .inbox
                    .iter()
                    .filter_map(sidepool_summary)
                    .filter(|s| message.as_deref().is_none_or(|m| s.starts_with(m)))
                    .collect();
                if got.is_empty() {
                    Ok(())
                } else {
                    Err(StepError::Fail(format!("expected no sidepool message from the IUT, got {}", got.join(", "))))
                }
            }
            Step::ExpectDisconnect { peer, within_ms } => {
                let deadline = Instant::now() + Duration::from_millis(*within_ms);
                let p = self.peer(peer)?;
                if p.drain_until(deadline).unwrap_or(true) {
                    Ok(())
                } else {
                    Err(StepError::Fail(format!("the IUT did not close the connection within {within_ms} ms")))
                }
            }
            Step::ExpectType { peer, type_id, within_ms } => {
                let deadline = self.wait(*within_ms);
                let p = self.peer(peer)?;
                loop {
                    if let Some(idx) = p.inbox.iter().position(|m| matches!(m, Incoming::Other { type_id: t, .. } if t == type_id)) {
                        p.inbox.remove(idx);
                        return Ok(());
                    }
                    match p.read_one(deadline)? {
                        Some(m) => p.inbox.push_back(m),
                        None => return Err(StepError::Fail(format!("no message of BOLT type {type_id} from the IUT{}", if p.closed { " (connection closed)" } else { "" }))),
                    }
                }
            }
            Step::DeriveHtlcKey { init, accept, capture } => {
                let key = super::crypto::derive_htlc_key(&self.captures, init, accept)?;
                self.captures.insert(capture.clone(), json!(key));
                Ok(())
            }
            Step::CheckHandover { success, receiver_secret, sender_ephemeral } => {
                super::crypto::check_handover(&self.captures, success, receiver_secret, sender_ephemeral).map_err(StepError::Fail)
            }
            Step::ExpectNoEvent { event, fields, within_ms } => {
                let deadline = self.quiet_deadline(*within_ms);
                if self.adapter.is_none() {
                    return Err(StepError::Unsupported("events need an adapter".into()));
                }
                let settled = self.quiesce(deadline)?;
                let adapter = self.adapter.as_mut().ok_or_else(|| StepError::Unsupported("events need an adapter".into()))?;
                let until = if settled { Instant::now() } else { deadline };
                while let Some(ev) = adapter.next_event(until) {
                    self.events.push_back(ev);
                }
                let mut scratch = self.captures.clone();
                let hit = self.events.iter().find(|ev| {
                    ev.get("event").and_then(Value::as_str) == Some(event.as_str()) && match_fields(ev, fields, &mut scratch).is_ok()
                });
                match hit {
                    Some(ev) => Err(StepError::Fail(format!("expected no {event} event, got {ev}"))),
                    None => Ok(()),
                }
            }
            Step::Fixture(name) => Err(StepError::Fail(format!("fixture {name} was not expanded"))),
            Step::Check { path, is } => {
                let got = matcher::captured(&self.captures, path).cloned();
                let mut caps = self.captures.clone();
                matcher::check(got.as_ref(), is, &mut caps, path)?;
                self.captures = caps;
                Ok(())
            }
            Step::Adapter { method, params } => {
                let params = matcher::substitute(params, &self.captures)?;
                let ok = self.adapter_call(method, &params)?;
                self.captures.insert(format!("adapter.{method}"), ok);
                Ok(())
            }
            Step::AdvanceClock { seconds } => self.adapter_call("advance_clock", &json!({"seconds": seconds})).map(|_| ()),
            Step::ExpectEvent(e) => self.expect(&[Expectation::Event { event: &e.event, fields: &e.fields, capture: e.capture.as_deref() }], self.wait(e.within_ms), false),
            Step::AnyOrder(steps) | Step::OneOf(steps) => {
                let one = matches!(step, Step::OneOf(_));
                let mut rejects = Vec::new();
                let mut exps = Vec::new();
                let mut deadline = Instant::now();
                for s in steps {
                    match s {
                        Step::Expect(e) => {
                            deadline = deadline.max(self.wait(e.within_ms));
                            exps.push(Expectation::Message { peer: &e.peer, message: &e.message, fields: &e.fields, capture: e.capture.as_deref() });
                        }
                        Step::ExpectEvent(e) => {
                            deadline = deadline.max(self.wait(e.within_ms));
                            exps.push(Expectation::Event { event: &e.event, fields: &e.fields, capture: e.capture.as_deref() });
                        }
                        Step::ExpectReject(r) => rejects.push(r.clone()),
                        _ => return Err(StepError::Fail("any_order / one_of hold only expect, expect_reject and expect_event steps".into())),
                    }
                }
                let reject_fields: Vec<(String, serde_json::Map<String, Value>)> = rejects
                    .iter()
                    .map(|r| {
                        deadline = deadline.max(self.wait(r.within_ms));
                        let of = r.of.clone().unwrap_or_else(|| "sent.peerswap_init".into());
                        let mut f = serde_json::Map::new();
                        f.insert("peerswap_reject_reason_code".into(), json!(r.code));
                        f.insert("peerswap_reject_hash".into(), json!({"same_as": format!("{of}.peerswap_init_hash")}));
                        (r.peer.clone(), f)
                    })
                    .collect();
                for (peer, f) in &reject_fields {
                    exps.push(Expectation::Message { peer, message: "peerswap_reject", fields: f, capture: None });
                }
                self.expect(&exps, deadline, one)
            }
        }
    }

    fn connect(&mut self, c: &ConnectStep) -> Result<(), StepError> {
        let deadline = self.wait(None);
        let mut p = ScriptedPeer::connect_until(&c.peer, self.target.addr, self.target.node_id, self.started, Instant::now() + self.default_wait, Some(self.case_deadline))?;
        let features = c.init_features.clone().unwrap_or_else(|| vec![1263]);
        p.send_init(&features)?;
        p.await_init(deadline)?;
        let we_signal = features.iter().any(|b| *b == 1262 || *b == 1263);
        let iut_signals = p.iut_init.as_ref().is_some_and(|i| i.all_features().offers_pair(1263));
        if iut_signals {
            let value = match (&c.sidepool_features_raw, &c.sidepool_features) {
                (Some(raw), _) => Some(hex::decode(raw).map_err(|e| format!("sidepool_features_raw: {e}"))?),
                (None, Some(bits)) => Some(FeatureSet::from_bits(bits.iter().copied()).encode()),
                (None, None) => None,
            };
            if let Some(value) = value {
                let mut tlvs = Vec::new();
                tlv::write_stream([(10100u64, value.as_slice())], &mut tlvs);
                p.send(&sidepool_reference::wire::envelope::seal(101, &tlvs))?;
            }
        }
        self.captures.insert(format!("peer.{}.node_id", c.peer), json!(hex::encode(p.node_id().as_bytes())));
        if let Some(init) = &p.iut_init {
            self.captures.insert(format!("iut.init_features.{}", c.peer), json!(init.all_features().bits().collect::<Vec<_>>()));
        }
        let name = c.peer.clone();
        self.peers.insert(name.clone(), p);
        if c.wait_ready.unwrap_or(we_signal && iut_signals) {
            let no_fields = serde_json::Map::new();
            self.expect(&[Expectation::Message { peer: &name, message: "my_sidepool_features", fields: &no_fields, capture: Some(&format!("features.{name}")) }], deadline, false)?;
            // The IUT may send its features before it has read ours. One ping round
            // trip (a node handles a connection's messages in order) makes sure it
            // has, so the next step does not race the IUT's "peer is ready".
            self.peer(&name)?.round_trip(deadline)?;
        }
        Ok(())
    }

    fn send(&mut self, s: &SendStep) -> Result<(), StepError> {
        let raw = match (&s.raw, &s.message) {
            (Some(raw), None) => {
                let raw = matcher::substitute(&json!(raw), &self.captures)?;
                hex::decode(raw.as_str().unwrap_or_default()).map_err(|e| format!("raw: bad hex ({e})"))?
            }
            (None, Some(name)) => {
                let fields = matcher::substitute(s.fields.as_ref().unwrap_or(&json!({})), &self.captures)?;
                let unknown = s.unknown_tlvs.as_ref().map(|u| matcher::substitute(u, &self.captures)).transpose()?;
                let m = message_from_json(name, &fields, unknown.as_ref())?;
                let cap = s.capture.clone().unwrap_or_else(|| format!("sent.{name}"));
                self.captures.insert(cap, message_to_json(&m)["fields"].clone());
                m.encode()
            }
            _ => return Err(StepError::Fail("send needs exactly one of `message` (with fields) or `raw`".into())),
        };
        self.peer(&s.peer)?.send(&raw)?;
        Ok(())
    }

    /// Waits until the expectations are met (all, or with `one`, any one).
    fn expect(&mut self, exps: &[Expectation<'_>], deadline: Instant, one: bool) -> Result<(), StepError> {
        let mut met = vec![false; exps.len()];
        let mut near_misses: Vec<String> = Vec::new();
        loop {
            for (i, e) in exps.iter().enumerate() {
                if met[i] {
                    continue;
                }
                if let Some(r) = self.try_inbox(e, &mut near_misses)? {
                    r?;
                    met[i] = true;
                    if one {
                        return Ok(());
                    }
                }
            }
            if met.iter().all(|m| *m) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let missing: Vec<String> = exps.iter().zip(&met).filter(|(_, m)| !**m).map(|(e, _)| describe(e)).collect();
                let mut why = format!("timed out waiting for {}", missing.join(" and "));
                if !near_misses.is_empty() {
                    why.push_str(&format!("; the IUT sent {}", near_misses.join(", ")));
                }
                let closed: Vec<&String> = self.peers.iter().filter(|(_, p)| p.closed).map(|(n, _)| n).collect();
                if !closed.is_empty() {
                    why.push_str(&format!("; connection closed by the IUT for {closed:?}"));
                }
                return Err(StepError::Fail(why));
            }
            self.pump(exps, &met, deadline)?;
        }
    }

    /// Reads a little from every peer (and the adapter's events) the unmet
    /// expectations involve: each source gets its own short slice, so a quiet
    /// source never starves another.
    fn pump(&mut self, exps: &[Expectation<'_>], met: &[bool], deadline: Instant) -> Result<(), StepError> {
        const SLICE: Duration = Duration::from_millis(10);
        let mut peers: Vec<&str> = Vec::new();
        let mut events = false;
        for (e, done) in exps.iter().zip(met) {
            match e {
                Expectation::Message { peer, .. } if !*done && !peers.contains(peer) => peers.push(peer),
                Expectation::Event { .. } if !*done => events = true,
                _ => {}
            }
        }
        for peer in peers {
            let until = (Instant::now() + SLICE).min(deadline);
            let p = self.peer(peer)?;
            if let Some(m) = p.read_one(until)? {
                p.inbox.push_back(m);
            }
        }
        if events {
            let until = (Instant::now() + SLICE).min(deadline);
            let a = self.adapter.as_mut().ok_or_else(|| StepError::Unsupported("events need an adapter".into()))?;
            if let Some(ev) = a.next_event(until) {
                self.events.push_back(ev);
            }
        }
        Ok(())
    }

    /// Looks for a match among what has arrived; consumes it. `None`: nothing matched yet.
    fn try_inbox(&mut self, e: &Expectation<'_>, near: &mut Vec<String>) -> Result<Option<Result<(), StepError>>, StepError> {
        match e {
            Expectation::Message { peer, message, fields, capture } => {
                let inbox: Vec<Incoming> = self.peer(peer)?.inbox.iter().cloned().collect();
                for (idx, m) in inbox.iter().enumerate() {
                    let Incoming::Sidepool { decoded: Ok(Decoded::Known(msg)), .. } = m else { continue };
                    if msg.name() != *message {
                        continue;
                    }
                    let view = message_to_json(msg);
                    let mut trial = self.captures.clone();
                    match match_fields(&view["fields"], fields, &mut trial) {
                        Ok(()) => {
                            trial.insert(capture.map(str::to_owned).unwrap_or_else(|| format!("got.{message}")), view["fields"].clone());
                            self.captures = trial;
                            self.peer(peer)?.inbox.remove(idx);
                            return Ok(Some(Ok(())));
                        }
                        Err(why) => {
                            let note = format!("{message} where {why}");
                            if !near.contains(&note) {
                                near.push(note);
                            }
                        }
                    }
                }
                for m in &inbox {
                    if let Some(s) = sidepool_summary(m) {
                        if !s.starts_with(message) && !near.contains(&s) && !s.starts_with("my_sidepool_features") {
                            near.push(s);
                        }
                    }
                }
                Ok(None)
            }
            Expectation::Event { event, fields, capture } => {
                for (idx, ev) in self.events.iter().enumerate() {
                    if ev.get("event").and_then(Value::as_str) != Some(*event) {
                        continue;
                    }
                    let mut trial = self.captures.clone();
                    if match_fields(ev, fields, &mut trial).is_ok() {
                        trial.insert(capture.map(str::to_owned).unwrap_or_else(|| format!("event.{event}")), ev.clone());
                        self.captures = trial;
                        self.events.remove(idx);
                        return Ok(Some(Ok(())));
                    }
                }
                Ok(None)
            }
        }
    }

    fn transcript(&self) -> Vec<TranscriptEntry> {
        super::transcript::build(self.peers.values().chain(self.closed_peers.iter()))
    }
}

fn match_fields(view: &Value, fields: &serde_json::Map<String, Value>, caps: &mut Captures) -> Result<(), String> {
    for (path, m) in fields {
        // `"$path"` values (plain or inside a matcher) name captured values.
        let m = matcher::substitute(m, caps)?;
        matcher::check(matcher::lookup(view, path), &m, caps, path)?;
    }
    Ok(())
}

fn describe(e: &Expectation<'_>) -> String {
    match e {
        Expectation::Message { peer, message, fields, .. } => {
            if fields.is_empty() {
                format!("{message} to {peer}")
            } else {
                format!("{message} to {peer} with {}", Value::Object((*fields).clone()))
            }
        }
        Expectation::Event { event, .. } => format!("adapter event {event}"),
    }
}

/// A one-line description of a received sidepool message.
fn sidepool_summary(m: &Incoming) -> Option<String> {
    match m {
        Incoming::Sidepool { decoded: Ok(Decoded::Known(msg)), .. } => Some(match msg {
            Message::PeerswapReject(r) => format!("peerswap_reject code {}", r.reason_code.0),
            other => other.name().to_owned(),
        }),
        Incoming::Sidepool { decoded: Ok(Decoded::IgnoredOdd { sub_id }), .. } => Some(format!("unknown odd sub-id {sub_id}")),
        Incoming::Sidepool { decoded: Err(class), .. } => Some(format!("a malformed sidepool message ({class})")),
        Incoming::Other { .. } => None,
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
