//! Expectations: a sidepool message or an adapter event matching field
//! matchers, alone or combined (`any_order`, `one_of`, `in_order`), among the
//! evidence that arrived after the step's window.

use super::evidence::Source;
use super::{Exec, StepError};
use crate::fields::message_to_json;
use crate::runner::case::{Step, StepMeta, StepSpec};
use crate::runner::grade::Grade;
use crate::runner::matcher::{self, Captures};
use crate::runner::peer::Incoming;
use serde_json::{json, Value};
use sidepool_reference::peerswap::messages::RejectCode;
use sidepool_reference::{Decoded, Message};
use std::time::Instant;

/// What one expectation waits for.
pub(super) enum Exp<'s> {
    Message { peer: &'s str, message: &'s str, fields: std::borrow::Cow<'s, serde_json::Map<String, Value>>, capture: Option<String> },
    Event { event: &'s str, fields: &'s serde_json::Map<String, Value>, capture: Option<String> },
}

impl<'s> Exp<'s> {
    pub(super) fn message(peer: &'s str, message: &'s str, fields: &'s serde_json::Map<String, Value>, capture: Option<&str>) -> Exp<'s> {
        Exp::Message { peer, message, fields: std::borrow::Cow::Borrowed(fields), capture: capture.map(str::to_owned) }
    }

    fn source(&self) -> Source {
        match self {
            Exp::Message { peer, .. } => Source::Peer((*peer).to_owned()),
            Exp::Event { .. } => Source::Adapter,
        }
    }

    fn describe(&self) -> String {
        match self {
            Exp::Message { peer, message, fields, .. } => {
                if fields.is_empty() {
                    format!("{message} to {peer}")
                } else {
                    format!("{message} to {peer} with {}", Value::Object(fields.as_ref().clone()))
                }
            }
            Exp::Event { event, fields, .. } => {
                if fields.is_empty() {
                    format!("adapter event {event}")
                } else {
                    format!("adapter event {event} with {}", Value::Object((*fields).clone()))
                }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Every expectation, in any arrival order.
    All,
    /// Any one of them.
    One,
    /// Every expectation, each one's evidence before the next one's.
    InOrder,
}

/// The stamp of a met expectation.
type Met = Option<u64>;

/// What waiting for expectations found: each one's stamp, and for `in_order`
/// the first pair found out of order (`(earlier, later)` indices).
pub(super) struct Found {
    pub met: Vec<Met>,
    pub out_of_order: Option<(usize, usize)>,
}

pub(super) fn match_fields(view: &Value, fields: &serde_json::Map<String, Value>, caps: &mut Captures) -> Result<(), String> {
    for (path, m) in fields {
        // `"$path"` values (plain or inside a matcher) name captured values.
        let m = matcher::substitute(m, caps)?;
        matcher::check(matcher::lookup(view, path), &m, caps, path)?;
    }
    Ok(())
}

/// A one-line description of a received sidepool message.
pub(super) fn sidepool_summary(m: &Incoming) -> Option<String> {
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

/// The fields a `peerswap_reject` answering `of` (a captured `peerswap_init`) has.
fn reject_fields(of: &str) -> serde_json::Map<String, Value> {
    let mut f = serde_json::Map::new();
    f.insert("peerswap_reject_id".into(), json!({"same_as": format!("{of}.peerswap_init_id")}));
    f.insert("peerswap_reject_hash".into(), json!({"same_as": format!("{of}.peerswap_init_hash")}));
    f
}

/// The MAY-level comparison of a reject's reason code with the reference's.
pub(super) fn reject_code_finding(got: u16, want: u16) -> Option<(String, String)> {
    if got == want {
        return None;
    }
    let seen = match RejectCode(got).meaning() {
        Some(m) => format!("rejected with code {got} (\"{m}\")"),
        None => format!("rejected with code {got}, which the table does not list"),
    };
    let note = match RejectCode(want).meaning() {
        Some(m) if want != RejectCode::POLICY.0 => format!("the table's code for this is {want}, \"{m}\"; the table is optional"),
        _ => format!("the reference sends {want}; the table is optional and names no code for this"),
    };
    Some((seen, note))
}

/// The requirement the reject-code comparison rests on.
const REJECT_CODE_REQUIREMENT: &str = "sp10.rejecting-peerswap.2";

impl Exec<'_> {
    /// `expect`, `expect_event`, `expect_reject` and the composites.
    pub(super) fn expect_step(&mut self, step: &Step, meta: &StepMeta) -> Result<(), StepError> {
        let window = self.window_of(meta);
        let mut exps = Vec::new();
        let mut grades = Vec::new();
        let mut deadline = Instant::now();
        let mut codes = Vec::new();
        let (inner, mode): (Vec<StepSpec>, Mode) = match step {
            Step::AnyOrder(s) => (s.clone(), Mode::All),
            Step::OneOf(s) => (s.clone(), Mode::One),
            Step::InOrder(s) => (s.clone(), Mode::InOrder),
            other => (vec![StepSpec::from(other.clone())], Mode::All),
        };
        for spec in &inner {
            if spec.meta.after.is_some() || spec.meta.label.is_some() {
                return Err(StepError::Error("`after` and `label` go on the composite step, not inside it".into()));
            }
            match &spec.step {
                Step::Expect(e) => {
                    deadline = deadline.max(self.wait(e.within_ms));
                    exps.push(Exp::message(&e.peer, &e.message, &e.fields, e.capture.as_deref()));
                }
                Step::ExpectEvent(e) => {
                    deadline = deadline.max(self.wait(e.within_ms));
                    exps.push(Exp::Event { event: &e.event, fields: &e.fields, capture: e.capture.clone() });
                }
                Step::ExpectReject(r) => {
                    deadline = deadline.max(self.wait(r.within_ms));
                    let of = r.of.clone().unwrap_or_else(|| "sent.peerswap_init".into());
                    let capture = r.capture.clone().unwrap_or_else(|| "got.peerswap_reject".into());
                    exps.push(Exp::Message { peer: &r.peer, message: "peerswap_reject", fields: std::borrow::Cow::Owned(reject_fields(&of)), capture: Some(capture.clone()) });
                    if let Some(code) = r.code {
                        codes.push((exps.len() - 1, capture, code));
                    }
                }
                _ => return Err(StepError::Error("any_order / one_of / in_order hold only expect, expect_reject and expect_event steps".into())),
            }
            grades.push(spec.meta.clone());
        }
        let Found { met, out_of_order } = self.expect_all(&exps, window, deadline, mode)?;
        // The reject codes of the rejects that came: MAY level, never a failure.
        for (i, capture, want) in codes {
            if met.get(i).copied().flatten().is_none() {
                continue;
            }
            let got = matcher::captured(&self.captures, &format!("{capture}.peerswap_reject_reason_code")).and_then(Value::as_u64);
            if let Some(got) = got.and_then(|g| u16::try_from(g).ok()) {
                if let Some((seen, note)) = reject_code_finding(got, want) {
                    self.miss_at(Grade::May, REJECT_CODE_REQUIREMENT, None, seen, Some(note));
                }
            }
        }
        let graded_inside = grades.iter().any(|m| m.level.is_some());
        let grade_of = |i: usize, ctx: &super::StepCtx| -> (Grade, String, Option<String>, Option<String>) {
            let m = grades.get(i).cloned().unwrap_or_default();
            (m.level.unwrap_or(ctx.grade), m.requirement.unwrap_or_else(|| ctx.requirement.clone()), m.reading, m.note)
        };
        if mode == Mode::InOrder {
            // An earlier expectation is what must come *before* a later one: it is
            // required only once a later one came, and is then graded at its own level.
            if let Some((before, after)) = out_of_order {
                let why = format!("{} came before {}", exps[after].describe(), exps[before].describe());
                if !graded_inside {
                    return Err(StepError::Miss(why));
                }
                let (g, r, reading, note) = grade_of(before, &self.ctx);
                self.miss_at(g, &r, reading.as_deref(), why, note);
                return Ok(());
            }
            let last_met = met.iter().rposition(Option::is_some);
            let unmet: Vec<usize> = (last_met.map_or(0, |l| l + 1)..exps.len()).collect();
            if unmet.is_empty() {
                return Ok(());
            }
            if !graded_inside {
                return Err(StepError::Miss(self.timed_out_reason(&exps, &met, window, mode)));
            }
            for i in unmet {
                let why = self.timed_out_reason(&exps[i..=i], &[None], window, Mode::All);
                let (g, r, reading, note) = grade_of(i, &self.ctx);
                self.miss_at(g, &r, reading.as_deref(), why, note);
            }
            return Ok(());
        }
        let unmet: Vec<usize> = met.iter().enumerate().filter(|(_, m)| m.is_none()).map(|(i, _)| i).collect();
        let done = match mode {
            Mode::One => unmet.len() < exps.len(),
            _ => unmet.is_empty(),
        };
        if done {
            return Ok(());
        }
        if mode == Mode::One || !graded_inside {
            return Err(StepError::Miss(self.timed_out_reason(&exps, &met, window, mode)));
        }
        // Inner expectations with grades of their own: one finding each.
        for i in unmet {
            let why = self.timed_out_reason(&exps[i..=i], &[None], window, Mode::All);
            let (g, r, reading, note) = grade_of(i, &self.ctx);
            self.miss_at(g, &r, reading.as_deref(), why, note);
        }
        Ok(())
    }

    fn timed_out_reason(&self, exps: &[Exp<'_>], met: &[Met], window: u64, mode: Mode) -> String {
        let missing: Vec<String> = exps.iter().zip(met).filter(|(_, m)| m.is_none()).map(|(e, _)| e.describe()).collect();
        let joiner = if mode == Mode::One { " or " } else { " and " };
        let mut why = format!("timed out waiting for {}", missing.join(joiner));
        let near = self.near_misses(exps, window);
        if !near.is_empty() {
            why.push_str(&format!("; the IUT sent {}", near.join(", ")));
        }
        let closed: Vec<&String> = self.peers.iter().filter(|(_, p)| p.closed).map(|(n, _)| n).collect();
        if !closed.is_empty() {
            why.push_str(&format!("; connection closed for {closed:?}"));
        }
        why
    }

    /// What arrived in the window that an expectation could have been about.
    fn near_misses(&self, exps: &[Exp<'_>], window: u64) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in exps {
            match e {
                Exp::Message { peer, message, fields, .. } => {
                    for m in self.ev.messages_after(peer, window) {
                        if let Incoming::Sidepool { decoded: Ok(Decoded::Known(msg)), .. } = &m.item {
                            if msg.name() == *message {
                                let mut trial = self.captures.clone();
                                if let Err(why) = match_fields(&message_to_json(msg)["fields"], fields, &mut trial) {
                                    out.push(format!("{message} where {why}"));
                                }
                                continue;
                            }
                        }
                        if let Some(s) = sidepool_summary(&m.item) {
                            if !s.starts_with("my_sidepool_features") {
                                out.push(s);
                            }
                        }
                    }
                }
                Exp::Event { event, fields, .. } => {
                    for ev in self.ev.events_after(window) {
                        if ev.item.get("event").and_then(Value::as_str) == Some(*event) {
                            let mut trial = self.captures.clone();
                            if let Err(why) = match_fields(&ev.item, fields, &mut trial) {
                                out.push(format!("{event} where {why}"));
                            }
                        }
                    }
                }
            }
        }
        out.dedup();
        out.truncate(8);
        out
    }

    /// Looks for the first match among the evidence after `window`; consumes it.
    fn try_match(&mut self, e: &Exp<'_>, window: u64) -> Result<Met, StepError> {
        match e {
            Exp::Message { peer, message, fields, capture } => {
                let candidates: Vec<(u64, Value)> = self
                    .ev
                    .messages_after(peer, window)
                    .filter_map(|m| match &m.item {
                        Incoming::Sidepool { decoded: Ok(Decoded::Known(msg)), .. } if msg.name() == *message => Some((m.seq, message_to_json(msg)["fields"].clone())),
                        _ => None,
                    })
                    .collect();
                for (seq, view) in candidates {
                    let mut trial = self.captures.clone();
                    if match_fields(&view, fields, &mut trial).is_ok() {
                        trial.insert(capture.clone().unwrap_or_else(|| format!("got.{message}")), view);
                        self.captures = trial;
                        self.ev.take_message(peer, seq);
                        return Ok(Some(seq));
                    }
                }
                // A matcher that cannot be evaluated at all (a capture it names is
                // missing) is the case's problem, not the IUT's: say so.
                for (path, m) in fields.iter() {
                    if let Err(why) = matcher::substitute(m, &self.captures) {
                        return Err(StepError::Error(format!("{path}: {why}")));
                    }
                }
                Ok(None)
            }
            Exp::Event { event, fields, capture } => {
                let candidates: Vec<(u64, Value)> =
                    self.ev.events_after(window).filter(|ev| ev.item.get("event").and_then(Value::as_str) == Some(*event)).map(|ev| (ev.seq, ev.item.clone())).collect();
                for (seq, ev) in candidates {
                    let mut trial = self.captures.clone();
                    if match_fields(&ev, fields, &mut trial).is_ok() {
                        trial.insert(capture.clone().unwrap_or_else(|| format!("event.{event}")), ev);
                        self.captures = trial;
                        self.ev.take_event(seq);
                        return Ok(Some(seq));
                    }
                }
                for (path, m) in fields.iter() {
                    if let Err(why) = matcher::substitute(m, &self.captures) {
                        return Err(StepError::Error(format!("{path}: {why}")));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Makes sure everything a source sent before now has been taken in: a ping
    /// round trip on a peer, the adapter link's sync for events.
    fn sync(&mut self, source: &Source, deadline: Instant) -> Result<bool, StepError> {
        let ok = match source {
            Source::Peer(name) => match self.peers.get_mut(name) {
                Some(p) => p.barrier(deadline).map_err(StepError::Miss)?,
                None => false,
            },
            Source::Adapter => match self.adapter.as_mut() {
                Some(a) => {
                    let ok = a.flush_events(deadline);
                    while let Some((at, ev)) = a.next_event_stamped(Instant::now()) {
                        self.ev.push_event(at, ev);
                    }
                    ok
                }
                None => false,
            },
        };
        self.absorb();
        Ok(ok)
    }

    /// Waits until the expectations are met (see [`Mode`]); returns each one's stamp.
    pub(super) fn expect_all(&mut self, exps: &[Exp<'_>], window: u64, deadline: Instant, mode: Mode) -> Result<Found, StepError> {
        let mut met: Vec<Met> = vec![None; exps.len()];
        loop {
            for (i, e) in exps.iter().enumerate() {
                if met[i].is_none() {
                    met[i] = self.try_match(e, window)?;
                    if mode == Mode::One && met[i].is_some() {
                        return Ok(Found { met, out_of_order: None });
                    }
                }
            }
            if mode == Mode::InOrder {
                // A later expectation met before an earlier one: was the earlier
                // one's evidence already sent? Take in all its source sent first.
                for i in (1..exps.len()).rev() {
                    if met[i].is_some() && met[i - 1].is_none() {
                        self.sync(&exps[i - 1].source(), deadline)?;
                        met[i - 1] = self.try_match(&exps[i - 1], window)?;
                        if met[i - 1].is_none() {
                            return Ok(Found { met, out_of_order: Some((i - 1, i)) });
                        }
                    }
                }
            }
            if met.iter().all(Option::is_some) {
                if mode == Mode::InOrder {
                    for i in 1..exps.len() {
                        if exps[i].source() == exps[i - 1].source() && met[i] < met[i - 1] {
                            return Ok(Found { met, out_of_order: Some((i - 1, i)) });
                        }
                    }
                }
                return Ok(Found { met, out_of_order: None });
            }
            if Instant::now() >= deadline {
                return Ok(Found { met, out_of_order: None });
            }
            let mut peers: Vec<&str> = Vec::new();
            let mut events = false;
            for (e, m) in exps.iter().zip(&met) {
                match e {
                    Exp::Message { peer, .. } if m.is_none() && !peers.contains(peer) => peers.push(peer),
                    Exp::Event { .. } if m.is_none() => events = true,
                    _ => {}
                }
            }
            self.pump(&peers, events, deadline)?;
        }
    }
}
