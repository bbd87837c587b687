//! Evaluator for `kind: ln_split_plan`: the SIDEPOOL-02 tax and post-tax amount
//! of the in-sidepool HTLC, the SIDEPOOL-10 agreed-upon amount, and the
//! reference's split of it into in-Lightning HTLCs.
//!
//! Test fields: `nominal_sat`, `total_offchain_fees_sat`, `output_count`,
//! `channels` ([{channel, max_htlc_msat, spendable_msat?}]); expected
//! `tax_sat`, `post_tax_sat`, `agreed_msat` (each present exactly when the
//! computation gets that far) and `parts` ([{channel, amount_msat}], valid only).

use serde_json::Value;
use sidepool_reference::peerswap::lightning_htlcs::{agreed_upon_amount, plan_split, ChannelRef, ChannelToOfferrer};
use sidepool_reference::pool::{onchain_fee_contribution_tax, post_tax_amount, TaxInputs};
use sidepool_reference::units::{Msat, Sat};

use super::ln_common::{array_of, expected_outcome, opt_u64, same, u32_of, u64_of};

/// A stage failed: the test must be invalid with this error, and state nothing beyond.
fn stops_here(expected_error: &Option<String>, got: &str, test: &Value, later: &[&str]) -> Result<(), String> {
    same("error", expected_error.as_deref(), Some(got))?;
    match later.iter().find(|f| test.get(**f).is_some()) {
        Some(f) => Err(format!("`{f}` is stated but the reference stops with `{got}` before computing it")),
        None => Ok(()),
    }
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let expected_error = expected_outcome(test)?;
    let nominal = Sat(u64_of(test, "nominal_sat")?);
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

    let agreed = match agreed_upon_amount(nominal, inputs) {
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
