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
mod blobswap_common;
mod blobswap_machine;
mod blobswap_output;
mod blobswap_timing;
mod bip327_key_agg;
mod bip327_key_sort;
mod bip341_script_tree;
mod bolt8_transport;
mod envelope;
mod feature_set;
mod fuzz_regression;
mod ln_common;
mod loop_common;
mod loop_htlc;
mod loop_script;
mod loop_swap_state;
mod loop_terms;
mod ln_hold_sequence;
mod ln_htlc_fields;
mod ln_split_plan;
mod htlc_key;
mod key_handover;
pub mod lnrod_codec;
mod lnrod_script;
mod message;
mod peerswap_balance;
mod peerswap_forward;
mod peerswap_inputs;
mod peerswap_offer;
mod peerswap_receive;
mod peerswap_response;
mod session_script;
mod tlv_stream;

/// Every kind the evaluator knows: (name, evaluator).
pub const KINDS: &[(&str, CheckFn)] = &[
    ("bigsize", bigsize::check),
    ("tlv_stream", tlv_stream::check),
    ("envelope", envelope::check),
    ("feature_set", feature_set::check),
    ("message", message::check),
    ("peerswap_balance", peerswap_balance::check),
    ("peerswap_offer", peerswap_offer::check),
    ("peerswap_receive", peerswap_receive::check),
    ("peerswap_response", peerswap_response::check),
    ("peerswap_forward", peerswap_forward::check),
    ("ln_split_plan", ln_split_plan::check),
    ("ln_htlc_fields", ln_htlc_fields::check),
    ("ln_hold_sequence", ln_hold_sequence::check),
    ("htlc_key", htlc_key::check),
    ("key_handover", key_handover::check),
    ("bip327_key_agg", bip327_key_agg::check),
    ("bip327_key_sort", bip327_key_sort::check),
    ("bip341_script_tree", bip341_script_tree::check),
    ("bolt8_transport", bolt8_transport::check),
    ("session_script", session_script::check),
    ("fuzz_regression", fuzz_regression::check),
    ("lnrod_codec", lnrod_codec::check),
    ("lnrod_script", lnrod_script::check),
    ("loop_htlc", loop_htlc::check),
    ("loop_terms", loop_terms::check),
    ("loop_swap_state", loop_swap_state::check),
    ("loop_script", loop_script::check),
    ("blobswap_timing", blobswap_timing::check),
    ("blobswap_output", blobswap_output::check),
    ("blobswap_machine", blobswap_machine::check),
];

/// Rule kinds whose `acceptable` tests pin one of the reference's readings (an
/// open choice, ERRATA): the test's outputs are what the reference produces
/// (its `error`, when it refuses), and an implementation taking another reading
/// may differ where the flag's note says. Their evaluators see such a test as
/// `valid` (no `error`) or `invalid` (an `error`). The codec kinds give
/// `acceptable` their own meaning (well-formed, refused by a rule elsewhere).
pub const READING_KINDS: &[&str] = &[
    "peerswap_balance",
    "peerswap_forward",
    "peerswap_offer",
    "peerswap_receive",
    "peerswap_response",
    "ln_split_plan",
    "ln_htlc_fields",
    "ln_hold_sequence",
    "session_script",
];

/// The test an evaluator of `kind` sees (see [`READING_KINDS`]).
pub fn as_evaluated<'t>(kind: &str, test: &'t Value) -> std::borrow::Cow<'t, Value> {
    if !READING_KINDS.contains(&kind) || test.get("result").and_then(Value::as_str) != Some("acceptable") {
        return std::borrow::Cow::Borrowed(test);
    }
    let mut t = test.clone();
    let result = if t.get("error").is_some() { "invalid" } else { "valid" };
    if let Some(o) = t.as_object_mut() {
        o.insert("result".into(), Value::from(result));
    }
    std::borrow::Cow::Owned(t)
}

pub fn evaluator(kind: &str) -> Option<CheckFn> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

/// An evaluator whose expected values depend on the revision of the texts
/// (the amount the in-Lightning HTLCs total: `SpecRevision::in_lightning_amount`).
pub type RevCheckFn = fn(rev: SpecRevision, group: &Value, test: &Value) -> Result<(), String>;

/// The kinds whose evaluation takes the revision; their entry in [`KINDS`]
/// evaluates at the newest upstream revision.
pub const REVISION_KINDS: &[(&str, RevCheckFn)] =
    &[("ln_split_plan", ln_split_plan::check_at), ("session_script", session_script::check_at)];

/// Evaluates one test of `kind` at revision `rev` (`None`: unknown kind).
pub fn evaluate(kind: &str, rev: SpecRevision, group: &Value, test: &Value) -> Option<Result<(), String>> {
    if let Some((_, f)) = REVISION_KINDS.iter().find(|(k, _)| *k == kind) {
        return Some(f(rev, group, test));
    }
    evaluator(kind).map(|f| f(group, test))
}

use sidepool_reference::SpecRevision;
