//! Evaluator for `kind: peerswap_balance` (SIDEPOOL-10 Balance Measurement).

use super::peerswap_inputs::{channels, expect_eq, result, str_of, u64_of};
use serde_json::Value;
use sidepool_reference::peerswap::balance::{measure, Offerrer};

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let chans = channels(test, "channels")?;
    match (result(test)?, measure(&chans)) {
        ("valid", Ok(b)) => {
            expect_eq("total_capacity_msat", u64_of(test, "total_capacity_msat")?, b.total_capacity.0)?;
            expect_eq("twice_our_side_msat", u64_of(test, "twice_our_side_msat")?, b.twice_our_side.0)?;
            expect_eq("imbalance_error_msat", u64_of(test, "imbalance_error_msat")?, b.imbalance_error().0)?;
            let side = match b.offerrer() {
                Offerrer::Us => "us",
                Offerrer::Them => "them",
            };
            expect_eq("offerrer", str_of(test, "offerrer")?, side)
        }
        ("invalid", Err(e)) => expect_eq("error", str_of(test, "error")?, e.name()),
        ("valid", Err(e)) => Err(format!("expected a measurement, reference fails with {}", e.name())),
        ("invalid", Ok(b)) => Err(format!("expected an error, reference measures {b:?}")),
        (r, _) => Err(format!("unexpected result `{r}`")),
    }
}
