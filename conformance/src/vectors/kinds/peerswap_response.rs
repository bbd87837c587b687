//! Evaluator for `kind: peerswap_response`: the node that sent `peerswap_init`
//! receiving `peerswap_accept` or `peerswap_reject`.

use super::peerswap_inputs::{expect_eq, field, fixed_pubkeys, hex_array, opt_str, result, str_of, u64_of};
use serde_json::Value;
use sidepool_reference::peerswap::messages::{ChannelView, PeerswapAccept, PeerswapReject, RejectCode};
use sidepool_reference::peerswap::response::{on_accept, on_reject, AcceptDecision, RejectDecision, SentInit};
use sidepool_reference::units::{Msat, PaymentHash, PoolId, Sat};

fn sent(v: &Value) -> Result<SentInit<String>, String> {
    Ok(SentInit {
        to: str_of(v, "to")?.to_owned(),
        id: PoolId(hex_array(v, "pool_id")?),
        hash: PaymentHash(hex_array(v, "hash")?),
        amount: Sat(u64_of(v, "amount_sat")?),
        htlc_maximum_from_peer: Msat(u64_of(v, "htlc_maximum_from_peer_msat")?),
        upstream: opt_str(v, "upstream")?.map(str::to_owned),
    })
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let sent: Vec<SentInit<String>> =
        field(test, "sent")?.as_array().ok_or("`sent` is not a list")?.iter().map(sent).collect::<Result<_, _>>()?;
    let m = field(test, "message")?;
    let from = str_of(m, "from")?.to_owned();
    let (id, hash) = (PoolId(hex_array(m, "pool_id")?), PaymentHash(hex_array(m, "hash")?));
    let (decision, detail, upstream) = match str_of(m, "type")? {
        "peerswap_accept" => {
            let msg = PeerswapAccept { id, hash, pubkeys: fixed_pubkeys()?, unknown: Vec::new() };
            match on_accept(&sent, &from, &msg) {
                AcceptDecision::Ignore(r) => ("ignore", Some(r.name()), None),
                AcceptDecision::CreateSidepoolHtlc => ("create_sidepool_htlc", None, None),
                AcceptDecision::ForwardUpstream { upstream } => ("forward_upstream", None, Some(upstream)),
                AcceptDecision::AbortSidepool(r) => ("abort_sidepool", Some(r.name()), None),
            }
        }
        "peerswap_reject" => {
            let code = u16::try_from(u64_of(m, "reason_code")?).map_err(|_| "`reason_code` is not 16-bit")?;
            let msg = PeerswapReject {
                id,
                hash,
                reason_code: RejectCode(code),
                reason_text: None,
                channel_view: ChannelView::default(),
                unknown: Vec::new(),
            };
            match on_reject(&sent, &from, &msg) {
                RejectDecision::Ignore(r) => ("ignore", Some(r.name()), None),
                RejectDecision::Forget => ("forget", None, None),
                RejectDecision::NextHopRejected { upstream } => ("next_hop_rejected", None, Some(upstream)),
            }
        }
        other => return Err(format!("unknown message type `{other}`")),
    };
    let expected_result = if decision == "ignore" || decision == "abort_sidepool" { "invalid" } else { "valid" };
    expect_eq("result", result(test)?, expected_result)?;
    expect_eq("decision", str_of(test, "decision")?, decision)?;
    if let Some(d) = detail {
        expect_eq("error", str_of(test, "error")?, d)?;
    }
    expect_eq("upstream", opt_str(test, "upstream")?.map(str::to_owned), upstream)
}
