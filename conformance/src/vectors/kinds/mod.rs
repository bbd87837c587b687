//! One evaluator per vector kind. A kind's evaluator takes one test group and
//! one test (as JSON values, after schema validation) and returns `Ok(())` when
//! the reference reproduces the test's expected result and outputs exactly, or
//! `Err(reason)` naming the first difference.
//!
//! To add a kind: write `kinds/<kind>.rs` with `pub fn check(group, test)`, add
//! it to `KINDS` below, and add `vectors/schema/<kind>.schema.json`.

use serde_json::Value;

pub type CheckFn = fn(group: &Value, test: &Value) -> Result<(), String>;

mod bigsize;
mod envelope;
mod feature_set;
mod ln_common;
mod ln_hold_sequence;
mod ln_htlc_fields;
mod ln_split_plan;
mod message;
mod session_script;
mod tlv_stream;

/// Every kind the evaluator knows: (name, evaluator).
pub const KINDS: &[(&str, CheckFn)] = &[
    ("bigsize", bigsize::check),
    ("tlv_stream", tlv_stream::check),
    ("envelope", envelope::check),
    ("feature_set", feature_set::check),
    ("message", message::check),
    ("ln_split_plan", ln_split_plan::check),
    ("ln_htlc_fields", ln_htlc_fields::check),
    ("ln_hold_sequence", ln_hold_sequence::check),
    ("session_script", session_script::check),
];

pub fn evaluator(kind: &str) -> Option<CheckFn> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}
