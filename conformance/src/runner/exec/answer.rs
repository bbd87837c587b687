//! The answer to a `peerswap_init`: the first `peerswap_accept` or
//! `peerswap_reject` the IUT sends on that connection after the provoking step,
//! judged as the spec words it. The receiver MUST reject an offer that fails
//! validation; it MAY reject any other ("for other reasons"); whichever it
//! sends must name the init's sidepool ID and hash.

use super::expect::{match_fields, reject_code_finding};
use super::{Exec, StepError};
use crate::fields::message_to_json;
use crate::runner::case::StepMeta;
use crate::runner::grade::Grade;
use crate::runner::matcher;
use crate::runner::peer::Incoming;
use serde_json::Value;
use sidepool_reference::{Decoded, Message};
use std::time::Instant;

pub(super) enum Want<'s> {
    Accept { fields: &'s serde_json::Map<String, Value>, capture: Option<String> },
    Reject { code: Option<u16>, capture: Option<String> },
}

/// "The receiver MAY reject the peerswap for other reasons."
const MAY_REJECT: &str = "sp10.initiating-peerswap.46";
/// "If the above validation fails, the receiver MUST reject the peerswap."
const MUST_REJECT: &str = "sp10.initiating-peerswap.45";
const REJECT_CODE_TABLE: &str = "sp10.rejecting-peerswap.2";

impl Exec<'_> {
    /// Waits for the first accept or reject from `peer` after the window.
    fn first_answer(&mut self, peer: &str, window: u64, deadline: Instant) -> Result<Option<Message>, StepError> {
        loop {
            let hit = self.ev.messages_after(peer, window).find_map(|m| match &m.item {
                Incoming::Sidepool { decoded: Ok(Decoded::Known(msg @ (Message::PeerswapAccept(_) | Message::PeerswapReject(_)))), .. } => Some((m.seq, msg.clone())),
                _ => None,
            });
            if let Some((seq, msg)) = hit {
                self.ev.take_message(peer, seq);
                return Ok(Some(msg));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            if !self.peers.contains_key(peer) {
                return Err(StepError::Error(format!("no connected peer named {peer}")));
            }
            self.pump(&[peer], false, deadline)?;
        }
    }

    pub(super) fn expect_answer(&mut self, peer: &str, of: Option<&str>, within_ms: Option<u64>, meta: &StepMeta, want: Want<'_>) -> Result<(), StepError> {
        let window = self.window_of(meta);
        let deadline = self.wait(within_ms);
        let of = of.unwrap_or("sent.peerswap_init");
        let id = matcher::captured(&self.captures, &format!("{of}.peerswap_init_id")).cloned();
        let hash = matcher::captured(&self.captures, &format!("{of}.peerswap_init_hash")).cloned();
        let (Some(id), Some(hash)) = (id, hash) else {
            return Err(StepError::Error(format!("nothing captured as {of}")));
        };
        let answer = self.first_answer(peer, window, deadline)?;
        let view = answer.as_ref().map(|m| message_to_json(m)["fields"].clone());
        let echoes = |view: &Value, prefix: &str| -> Option<String> {
            let got_id = view.get(format!("{prefix}_id")).cloned().unwrap_or(Value::Null);
            let got_hash = view.get(format!("{prefix}_hash")).cloned().unwrap_or(Value::Null);
            (got_id != id || got_hash != hash).then(|| format!("its id / hash are {got_id} / {got_hash}, not the peerswap_init's {id} / {hash}"))
        };
        match (want, answer, view) {
            (Want::Reject { .. }, None, _) => Err(StepError::Miss(format!("no peerswap_reject from the IUT (nothing answered the peerswap_init){}", self.closed_note(peer)))),
            (Want::Reject { .. }, Some(Message::PeerswapAccept(_)), _) if self.ctx.grade.is_strict() => {
                Err(StepError::Miss("the IUT accepted an offer that fails validation: it MUST reject it".into()))
            }
            (Want::Reject { .. }, Some(Message::PeerswapAccept(_)), _) => Err(StepError::Miss("the IUT accepted the offer".into())),
            (Want::Reject { code, capture }, Some(Message::PeerswapReject(r)), Some(view)) => {
                if let Some(why) = echoes(&view, "peerswap_reject") {
                    return Err(StepError::Miss(format!("a peerswap_reject that does not name the offer: {why}")));
                }
                self.captures.insert(capture.unwrap_or_else(|| "got.peerswap_reject".into()), view);
                if let Some((seen, note)) = code.and_then(|want| reject_code_finding(r.reason_code.0, want)) {
                    self.miss_at(Grade::May, REJECT_CODE_TABLE, None, seen, Some(note));
                }
                Ok(())
            }
            (Want::Accept { .. }, None, _) => {
                self.miss_at(
                    Grade::Reading,
                    MUST_REJECT,
                    Some("E-101"),
                    format!("no answer to the peerswap_init (neither accept nor reject){}", self.closed_note(peer)),
                    Some("the reference answers every offer; a receiver that decides neither leaves the offerrer waiting".into()),
                );
                Ok(())
            }
            (Want::Accept { .. }, Some(Message::PeerswapReject(r)), Some(view)) => {
                if let Some(why) = echoes(&view, "peerswap_reject") {
                    return Err(StepError::Miss(format!("a peerswap_reject that does not name the offer: {why}")));
                }
                // A reject is the receiver's right, unless the step rests on a SHOULD
                // that it accept ("The receiver SHOULD accept the second `peerswap_init`").
                let (grade, requirement) = match meta.level {
                    Some(g @ (Grade::Should | Grade::ShouldNot)) => (g, self.ctx.requirement.clone()),
                    _ => (Grade::May, MAY_REJECT.to_owned()),
                };
                let text = r.reason_text.as_deref().map(|t| format!(", \"{}\"", crate::runner::report::sanitize(t))).unwrap_or_default();
                self.miss_at(
                    grade,
                    &requirement,
                    None,
                    format!("rejected (code {}{text}) an offer the rule under test allows", r.reason_code.0),
                    Some("the reference accepts it; a receiver MAY reject for other reasons".into()),
                );
                Ok(())
            }
            (Want::Accept { fields, capture }, Some(Message::PeerswapAccept(_)), Some(view)) => {
                if let Some(why) = echoes(&view, "peerswap_accept") {
                    return Err(StepError::Miss(format!("a peerswap_accept that does not name the offer: {why}")));
                }
                let mut trial = self.captures.clone();
                match_fields(&view, fields, &mut trial).map_err(|why| StepError::Miss(format!("peerswap_accept where {why}")))?;
                trial.insert(capture.unwrap_or_else(|| "got.peerswap_accept".into()), view);
                self.captures = trial;
                Ok(())
            }
            (_, Some(_), _) => Err(StepError::Error("unreachable: an answer that is neither accept nor reject".into())),
        }
    }

    fn closed_note(&self, peer: &str) -> String {
        match self.ev.closes.get(peer) {
            Some((_, kind)) => format!("; {}", kind.describe()),
            None => String::new(),
        }
    }
}
