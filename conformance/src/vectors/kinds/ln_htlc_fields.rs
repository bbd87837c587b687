//! Evaluator for `kind: ln_htlc_fields`: the rules every in-Lightning
//! `update_add_htlc` of a peerswap (and its one-hop onion) must follow.
//!
//! Group field `rules`: {payment_hash, lightning_timeout, max_htlc_msat,
//! payment_secret?, payment_metadata?} (from the hop's `peerswap_init_timeouts`,
//! `peerswap_lightning` and channel limit). Test field `htlc`: {payment_hash,
//! amount_msat, cltv_expiry, onion: {amt_to_forward, outgoing_cltv_value,
//! total_msat?, payment_secret?, payment_metadata?, short_channel_id?}}.
//! `error` is the first violated rule in spec order; `violations`, when given,
//! lists all of them in that order.

use serde_json::Value;
use sidepool_reference::peerswap::lightning_htlcs::{HtlcRules, ObservedHtlc, OnionFinalHop};
use sidepool_reference::units::{BlockHeight, Msat, PaymentHash, PaymentSecret};

use super::ln_common::{array_of, bytes32, expected_outcome, field, hex_of, opt_hex, opt_u64, same, u32_of, u64_of};

fn secret(v: &Value, name: &str) -> Result<Option<PaymentSecret>, String> {
    opt_hex(v, name)?.map(|b| bytes32(b, name).map(PaymentSecret)).transpose()
}

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    let r = field(group, "rules")?;
    let rules = HtlcRules {
        hash: PaymentHash(bytes32(hex_of(r, "payment_hash")?, "rules.payment_hash")?),
        lightning_timeout: BlockHeight(u32_of(r, "lightning_timeout")?),
        max_htlc: Msat(u64_of(r, "max_htlc_msat")?),
        payment_secret: secret(r, "payment_secret")?,
        payment_metadata: opt_hex(r, "payment_metadata")?,
    };
    let h = field(test, "htlc")?;
    let o = field(h, "onion")?;
    let htlc = ObservedHtlc {
        payment_hash: PaymentHash(bytes32(hex_of(h, "payment_hash")?, "htlc.payment_hash")?),
        amount_msat: Msat(u64_of(h, "amount_msat")?),
        cltv_expiry: BlockHeight(u32_of(h, "cltv_expiry")?),
        onion: OnionFinalHop {
            amt_to_forward: Msat(u64_of(o, "amt_to_forward")?),
            outgoing_cltv_value: BlockHeight(u32_of(o, "outgoing_cltv_value")?),
            total_msat: opt_u64(o, "total_msat")?.map(Msat),
            payment_secret: secret(o, "payment_secret")?,
            payment_metadata: opt_hex(o, "payment_metadata")?,
            short_channel_id: opt_u64(o, "short_channel_id")?,
        },
    };
    let violations: Vec<&str> = rules.violations(&htlc).into_iter().map(|v| v.name()).collect();
    same("error", expected_outcome(test)?.as_deref(), violations.first().copied())?;
    if test.get("violations").is_some() {
        let expected = array_of(test, "violations")?
            .iter()
            .map(|v| v.as_str().ok_or("`violations` holds a non-string".to_string()))
            .collect::<Result<Vec<&str>, String>>()?;
        same("violations", expected, violations)?;
    }
    Ok(())
}
