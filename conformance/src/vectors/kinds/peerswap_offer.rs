//! Evaluator for `kind: peerswap_offer` (SIDEPOOL-10 offering rules and the
//! sender rules of Initiating Peerswap).

use super::peerswap_inputs::{balance, bool_or, expect_eq, expect_view, field, height, opt_u64, peer_status, result, str_of, u32_of, u64_of};
use serde_json::Value;
use sidepool_reference::peerswap::offer::{plan_offer, OfferRequest};
use sidepool_reference::units::{BlockDelta, Sat};

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let b = balance(test, "channels")?;
    let peer = match test.get("peer") {
        Some(p) => peer_status(p)?,
        None => peer_status(&Value::Null)?,
    };
    let hops_random = u8::try_from(opt_u64(test, "hops_random")?.unwrap_or(0)).map_err(|_| "`hops_random` is not a byte")?;
    let req = OfferRequest {
        peer,
        swap_party_begun: bool_or(test, "swap_party_begun", true)?,
        balance: &b,
        height: height(test, "height")?,
        final_cltv_delta: BlockDelta(u32_of(test, "final_cltv_delta_blocks")?),
        amount: opt_u64(test, "amount_sat")?.map(Sat),
        hops_random,
    };
    match (result(test)?, plan_offer(&req)) {
        ("valid", Ok(p)) => {
            let e = field(test, "expected")?;
            expect_eq("amount_sat", u64_of(e, "amount_sat")?, p.amount.0)?;
            expect_eq("sidepool_timeout_height", u32_of(e, "sidepool_timeout_height")?, p.timeouts.sidepool.0)?;
            expect_eq("lightning_timeout_height", u32_of(e, "lightning_timeout_height")?, p.timeouts.lightning.0)?;
            expect_eq("hops", u64_of(e, "hops")?, u64::from(p.hops.0))?;
            expect_eq("splits", u64_of(e, "splits")?, p.splits)?;
            expect_view(field(e, "channel_view")?, &p.channel_view)
        }
        ("invalid", Err(r)) => expect_eq("error", str_of(test, "error")?, r.name()),
        ("valid", Err(r)) => Err(format!("expected an offer, reference refuses: {}", r.name())),
        ("invalid", Ok(p)) => Err(format!("expected a refusal, reference offers {p:?}")),
        (r, _) => Err(format!("unexpected result `{r}`")),
    }
}
