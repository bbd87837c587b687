//! A case's wire transcript from its connections' bounded wire logs: each
//! connection's first and last messages in full, a marker for what was elided
//! between them, and a marker for how the connection ended.

use super::exec::{decode_for_transcript, TranscriptEntry};
use super::peer::{ScriptedPeer, WIRE_HEAD, WIRE_PART_BYTES, WIRE_TAIL};
use serde_json::json;

/// The transcript of `peers`, in time order.
pub fn build<'a>(peers: impl Iterator<Item = &'a ScriptedPeer>) -> Vec<TranscriptEntry> {
    let mut out = Vec::new();
    for p in peers {
        let entry = |w: &super::peer::Wire| TranscriptEntry {
            peer: p.name.clone(),
            outbound: w.outbound,
            at_ms: w.at.as_millis(),
            hex: hex::encode(&w.raw),
            decoded: decode_for_transcript(&w.raw),
        };
        let (head, tail) = p.wire.parts();
        out.extend(head.iter().map(entry));
        if let Some(e) = p.wire.elided() {
            out.push(TranscriptEntry {
                peer: p.name.clone(),
                outbound: false,
                at_ms: e.from.unwrap_or_default().as_millis(),
                hex: String::new(),
                decoded: json!({"elided": {
                    "messages": e.messages,
                    "bytes": e.bytes,
                    "from_ms": e.from.map(|d| d.as_millis()),
                    "to_ms": e.to.map(|d| d.as_millis()),
                    "note": format!("a connection's transcript keeps its first {WIRE_HEAD} and last {WIRE_TAIL} messages, at most {} KiB at each end", WIRE_PART_BYTES >> 10),
                }}),
            });
        }
        out.extend(tail.map(entry));
        if let Some(ended) = p.ended() {
            out.push(TranscriptEntry {
                peer: p.name.clone(),
                outbound: !ended.how.by_iut(),
                at_ms: ended.arrival.at.saturating_duration_since(p.started()).as_millis(),
                hex: String::new(),
                decoded: json!({"connection_ended": ended.how.to_string(), "clean": ended.how.is_clean()}),
            });
        }
        if let Some(d) = p.inbox.dropped() {
            out.push(TranscriptEntry {
                peer: p.name.clone(),
                outbound: false,
                at_ms: p.wire.iter().last().map(|w| w.at.as_millis()).unwrap_or_default(),
                hex: String::new(),
                decoded: json!({"inbox_overflow": {"messages_dropped": d.messages, "bytes_dropped": d.bytes}}),
            });
        }
    }
    out.sort_by_key(|e| e.at_ms);
    out
}

/// Whether a transcript entry is a marker (elision, ending, overflow) rather than a message.
pub fn is_marker(e: &TranscriptEntry) -> bool {
    e.hex.is_empty() && ["elided", "connection_ended", "inbox_overflow"].iter().any(|k| e.decoded.get(k).is_some())
}
