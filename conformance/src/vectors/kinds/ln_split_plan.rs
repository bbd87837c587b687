//! Evaluator for `kind: ln_split_plan`: what the in-Lightning HTLCs total, and
//! the reference's split of it into in-Lightning HTLCs. At the `seed` revision
//! the total is the SIDEPOOL-10 agreed-upon amount, the SIDEPOOL-02 post-tax
//! amount of the in-sidepool HTLC; at `upstream-50799b4` it is the in-sidepool
//! HTLC amount itself (no tax exists there).
//!
//! Test fields: `nominal_sat`, `channels` ([{channel, max_htlc_msat, spendable_msat?}]),
//! at seed also `total_offchain_fees_sat` and `output_count`; expected
//! `tax_sat`, `post_tax_sat` (seed only), `agreed_msat` (the total; each present
//! exactly when the computation gets that far) and `parts` ([{channel, amount_msat}], valid only).

use serde_json::Value;
use sidepool_reference::peerswap::lightning_htlcs::{in_lightning_amount, plan_split, ChannelRef, ChannelToOfferrer};
use sidepool_reference::pool::{onchain_fee_contribution_tax, post_tax_amount, TaxInputs};
use sidepool_reference::revision::InLightningAmount;
use sidepool_reference::units::{Msat, Sat};
use sidepool_reference::SpecRevision;

use super::ln_common::{array_of, expected_outcome, opt_u64, same, u32_of, u64_of};

/// A stage failed: the test must be invalid with this error, and state nothing beyond.
fn stops_here(expected_error: &Option<String>, got: &str, test: &Value, later: &[&str]) -> Result<(), String> {
    same("error", expected_error.as_deref(), Some(got))?;
    match later.iter().find(|f| test.get(**f).is_some()) {
        Some(f) => Err(format!("`{f}` is stated but the reference stops with `{got}` before computing it")),
        None => Ok(()),
    }
}

/// At the newest upstream revision.
pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    check_at(SpecRevision::NEWEST_UPSTREAM, group, test)
}

pub fn check_at(rev: SpecRevision, _group: &Value, test: &Value) -> Result<(), String> {
    let expected_error = expected_outcome(test)?;
    let nominal = Sat(u64_of(test, "nominal_sat")?);
    let inputs = match rev.in_lightning_amount() {
        InLightningAmount::PostTax => {
            let inputs = TaxInputs {
                total_offchain_fees: Sat(u64_of(test, "total_offchain_fees_sat")?),
                output_count: u32_of(test, "output_count")?,
            };
            let tax = match onchain_fee_contribution_tax(inputs) {
                Ok(t) => t,
                Err(e) => return stops_here(&expected_error, e.name(), test, &["tax_sat", "post_tax_sat", "agreed_msat", "parts"]),
            };
            same("tax_sat", opt_u64(test, "tax_sat")?, Some(tax.0))?;
            let post = match post_tax_amount(nominal, inputs) {
                Ok(p) => p,
                Err(e) => return stops_here(&expected_error, e.name(), test, &["post_tax_sat", "agreed_msat", "parts"]),
            };
            same("post_tax_sat", opt_u64(test, "post_tax_sat")?, Some(post.0))?;
            inputs
        }
        InLightningAmount::InSidepoolHtlc => {
            // No tax at this revision: a test that states one is about another revision.
            if let Some(f) = ["total_offchain_fees_sat", "output_count", "tax_sat", "post_tax_sat"].iter().find(|f| test.get(**f).is_some()) {
                return Err(format!("`{f}` is stated, but {} computes no tax", rev.name()));
            }
            TaxInputs { total_offchain_fees: Sat(0), output_count: 1 }
        }
    };

    let agreed = match in_lightning_amount(rev, nominal, inputs) {
        Ok(a) => a,
        Err(e) => return stops_here(&expected_error, e.name(), test, &["agreed_msat", "parts"]),
    };
    same("agreed_msat", opt_u64(test, "agreed_msat")?, Some(agreed.0))?;

    let mut channels = Vec::new();
    for c in array_of(test, "channels")? {
        channels.push(ChannelToOfferrer {
            channel: ChannelRef(u64_of(c, "channel")?),
            max_htlc: Msat(u64_of(c, "max_htlc_msat")?),
            spendable: opt_u64(c, "spendable_msat")?.map(Msat),
        });
    }
    match plan_split(agreed, &channels) {
        Err(e) => stops_here(&expected_error, e.name(), test, &["parts"]),
        Ok(parts) => {
            same("error", expected_error.as_deref(), None)?;
            let mut expected = Vec::new();
            for p in array_of(test, "parts")? {
                expected.push((u64_of(p, "channel")?, u64_of(p, "amount_msat")?));
            }
            let got: Vec<(u64, u64)> = parts.iter().map(|p| (p.channel.0, p.amount.0)).collect();
            same("parts", expected, got)
        }
    }
}
