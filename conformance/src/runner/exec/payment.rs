//! `expect_payment`: the in-Lightning HTLCs of one peerswap, judged as the
//! spec words it — the parts total the amount due, none exceeds the maximum,
//! each follows the per-payment rules, and no part comes beyond the total.
//! How many parts the IUT uses is its choice ("The acceptor MAY pay using one
//! payment if ..."), so the count is never judged.

use super::expect::match_fields;
use super::{Exec, StepError};
use crate::runner::case::{ExpectPaymentStep, StepMeta};
use crate::runner::grade::Grade;
use crate::runner::matcher;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// "Otherwise, the acceptor MUST make multiple payments, each smaller than the
/// maximum HTLC, all totalling to the "agreed-upon amount"."
const TOTAL: &str = "sp10.offerring-in-lightning-htlcs.7";
/// "Each payment MUST NOT exceed any limit on the maximum HTLC to the local offerrer ..."
const NOT_ABOVE_MAX: &str = "sp10.offerring-in-lightning-htlcs.3";
/// "The `amount_msat` MUST be less than the maximum HTLC size." (ERRATA E-60 reads it as `<=`.)
const BELOW_MAX: &str = "sp10.offerring-in-lightning-htlcs.10";

fn as_u64(v: &Value, what: &str) -> Result<u64, StepError> {
    v.as_u64().ok_or_else(|| StepError::Error(format!("expect_payment: {what} is {v}, not an integer")))
}

impl Exec<'_> {
    pub(super) fn expect_payment(&mut self, p: &ExpectPaymentStep, meta: &StepMeta) -> Result<(), StepError> {
        let window = self.window_of(meta);
        let deadline = self.wait(p.within_ms);
        let peer = matcher::substitute(&json!(p.peer), &self.captures).map_err(StepError::Error)?;
        let amount = as_u64(&matcher::substitute(&p.amount_msat, &self.captures).map_err(StepError::Error)?, "amount_msat")?;
        let max = as_u64(&matcher::substitute(&p.max_htlc_msat, &self.captures).map_err(StepError::Error)?, "max_htlc_msat")?;
        if self.adapter.is_none() {
            return Err(StepError::Unsupported("events need an adapter".into()));
        }
        let parts = |ex: &Exec<'_>| -> Vec<(u64, Value)> {
            ex.ev
                .events_after(window)
                .filter(|e| e.item.get("event").and_then(Value::as_str) == Some("htlc_add") && e.item.get("peer") == Some(&peer))
                .map(|e| (e.seq, e.item.clone()))
                .collect()
        };
        let total = |ps: &[(u64, Value)]| ps.iter().filter_map(|(_, e)| e.get("amount_msat").and_then(Value::as_u64)).fold(0u64, u64::saturating_add);
        // Collect parts until they reach the amount (or the deadline) ...
        while total(&parts(self)) < amount && Instant::now() < deadline {
            self.pump(&[], true, deadline)?;
        }
        // ... then watch for a part beyond it.
        if total(&parts(self)) >= amount {
            let quiet = self.quiet_deadline(p.quiet_ms.unwrap_or(300));
            self.watch(&[], true, quiet.max(Instant::now() + Duration::from_millis(1)))?;
        }
        let got = parts(self);
        for (seq, _) in &got {
            self.ev.take_event(*seq);
        }
        let list: Vec<Value> = got.iter().map(|(_, e)| e.clone()).collect();
        self.captures.insert(p.capture.clone().unwrap_or_else(|| "payment".into()), Value::Array(list.clone()));
        if list.is_empty() {
            return Err(StepError::Miss(format!("no in-Lightning HTLC to {peer} (htlc_add events) within the time")));
        }
        let sum = total(&got);
        if sum != amount {
            let amounts: Vec<u64> = list.iter().filter_map(|e| e.get("amount_msat").and_then(Value::as_u64)).collect();
            self.miss_at(Grade::Must, TOTAL, None, format!("the {} parts ({amounts:?}) total {sum} msat; the amount due is {amount} msat", list.len()), None);
        }
        for (i, part) in list.iter().enumerate() {
            let n = i + 1;
            let a = part.get("amount_msat").and_then(Value::as_u64).unwrap_or(0);
            if a > max {
                self.miss_at(Grade::MustNot, NOT_ABOVE_MAX, None, format!("part {n} is {a} msat, above the maximum HTLC of {max} msat"), None);
            } else if a == max {
                self.miss_at(
                    Grade::Reading,
                    BELOW_MAX,
                    Some("E-60"),
                    format!("part {n} is exactly the maximum HTLC, {max} msat"),
                    Some("\"less than the maximum\" read strictly forbids this; the reference reads the maximum as inclusive, as BOLT 7 does".into()),
                );
            }
            // `part` names the part being checked (`onion.total_msat: {same_as: part.amount_msat}`).
            let mut scratch = self.captures.clone();
            scratch.insert("part".into(), part.clone());
            if let Err(why) = match_fields(part, &p.each, &mut scratch) {
                if why.contains("nothing captured as ") {
                    return Err(StepError::Error(why));
                }
                self.miss(format!("part {n}: {why}"));
            }
        }
        Ok(())
    }
}
