//! The parameters of the Blobswap model: BLOBSWAP-01's periods (defaults: its example values), the
//! environment's bounds and which party is adversarial, and which safeguard both honest parties drop.

use blobswap_reference::{Blocks, Params, Safeguards};

use crate::framework::{ParamDef, ParamKind, Settings};

use super::model::{Adv, BlobswapModel, START};
use super::properties::q;

/// The parameters; the defaults are the example values of BLOBSWAP-01 "Parameters".
pub const PARAMS: &[ParamDef] = &[
    ParamDef { name: "session_period", default: "2", kind: ParamKind::Int { min: 0, max: 20 }, doc: "SESSION_PERIOD, blocks from step (7) to ask_presign", spec: Some(q("When SESSION_PERIOD blocks have passed since step (7), the SSP MUST either send `ask_presign` or cancel the hold invoice.")) },
    ParamDef { name: "confirmation_period", default: "2", kind: ParamKind::Int { min: 0, max: 20 }, doc: "CONFIRMATION_PERIOD (0 removes T0; a value not above reorg_depth breaks blob.conv.3)", spec: Some(q("CONFIRMATION_PERIOD MUST be at least 1 and greater than the depth of any chain reorganisation the parties guard against.")) },
    ParamDef { name: "reveal_window", default: "3", kind: ParamKind::Int { min: 1, max: 20 }, doc: "REVEAL_WINDOW", spec: Some(q("REVEAL_WINDOW and CHAIN_DELAY MUST each be at least 1.")) },
    ParamDef { name: "chain_delay", default: "2", kind: ParamKind::Int { min: 1, max: 6 }, doc: "CHAIN_DELAY: a transaction confirms 1 to chain_delay blocks after its broadcast", spec: Some(q("REVEAL_WINDOW and CHAIN_DELAY MUST each be at least 1.")) },
    ParamDef { name: "settle_margin", default: "4", kind: ParamKind::Int { min: 0, max: 20 }, doc: "SETTLE_MARGIN: the honest SSP can settle the HTLC at tip t iff t + SETTLE_MARGIN <= E; between E - SETTLE_MARGIN and E the adversary decides", spec: Some(q("The SSP MUST NOT broadcast the payout transaction at a tip t with `t + SETTLE_MARGIN > E`.")) },
    ParamDef { name: "expiry_delta", default: "20", kind: ParamKind::Int { min: 1, max: 60 }, doc: "E - h7: the HTLC expiry above the height at which the SSP accepts the payment", spec: Some(q("The SSP MUST create the hold invoice with a `min_final_cltv_expiry_delta` of at least `SESSION_PERIOD + CONFIRMATION_PERIOD + REVEAL_WINDOW + 4 * CHAIN_DELAY + SETTLE_MARGIN - 1`.")) },
    ParamDef { name: "reorg_depth", default: "1", kind: ParamKind::Int { min: 0, max: 3 }, doc: "the deepest chain reorganisation: an adversarial SSP may undo its funding's confirmation while it has at most this many confirmations, double-spending it in the new branch", spec: Some(q("CONFIRMATION_PERIOD MUST be at least 1 and greater than the depth of any chain reorganisation the parties guard against.")) },
    ParamDef { name: "adversary", default: "each", kind: ParamKind::Choice(&["each", "none", "user", "ssp"]), doc: "which party is adversarial (each: one run per choice)", spec: None },
    ParamDef { name: "remove", default: "none", kind: ParamKind::Choice(&["none", "refund_margin", "reveal_deadline", "cancel_after_refund", "payout_margin", "funding_deadline"]), doc: "a safeguard of BLOBSWAP-01 \"Safety\" both honest parties drop (blobswap_reference::Safeguards)", spec: None },
];

impl BlobswapModel {
    pub fn from_settings(s: &Settings) -> Result<BlobswapModel, String> {
        let int = |n: &str| -> Result<u32, String> {
            let v = s.int(n).ok_or_else(|| format!("missing parameter {n}"))?;
            u32::try_from(v).map_err(|_| format!("{n} out of range"))
        };
        let params = Params {
            session_period: Blocks(int("session_period")?),
            confirmation_period: Blocks(int("confirmation_period")?),
            reveal_window: Blocks(int("reveal_window")?),
            chain_delay: Blocks(int("chain_delay")?),
            settle_margin: Blocks(int("settle_margin")?),
        };
        let adversaries = match s.choice("adversary") {
            Some("none") => vec![Adv::None],
            Some("user") => vec![Adv::User],
            Some("ssp") => vec![Adv::Ssp],
            _ => vec![Adv::None, Adv::User, Adv::Ssp],
        };
        let mut safeguards = Safeguards::SPEC;
        let removed = s.choice("remove").unwrap_or("none");
        match removed {
            "refund_margin" => safeguards.refund_margin = false,
            "reveal_deadline" => safeguards.reveal_deadline = false,
            "cancel_after_refund" => safeguards.cancel_after_refund = false,
            "payout_margin" => safeguards.payout_margin = false,
            "funding_deadline" => safeguards.funding_deadline = false,
            _ => {}
        }
        Ok(BlobswapModel {
            params,
            expiry: START + int("expiry_delta")?,
            reorg_depth: int("reorg_depth")?,
            latest_presign: None,
            adversaries,
            safeguards,
            removed: match removed {
                "none" => None,
                other => PARAMS.iter().find(|p| p.name == "remove").and_then(|p| match p.kind {
                    ParamKind::Choice(cs) => cs.iter().copied().find(|c| *c == other),
                    _ => None,
                }),
            },
        })
    }
}
