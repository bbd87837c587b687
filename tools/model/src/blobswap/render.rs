//! A Blobswap run for humans: one line per step, at the tip it was taken, and the outcome.

use crate::framework::{PropertyDef, Trace, TraceStep};

use super::model::{BlobswapModel, Step, World};

pub(crate) fn setup_line(m: &BlobswapModel, w0: &World, refund_height: Option<u32>) -> String {
    format!(
        "adversary: {:?}; E = {}; R = {:?}; params {:?}; reorg depth {}; safeguard removed: {}",
        w0.adv,
        m.expiry,
        refund_height,
        m.params,
        m.reorg_depth,
        m.removed.unwrap_or("none")
    )
}

pub(crate) fn trace(m: &BlobswapModel, _property: &PropertyDef, path: &[(World, Option<Step>)]) -> Trace {
    let mut t = Trace::default();
    if let Some((w0, _)) = path.first() {
        t.setup.push(setup_line(m, w0, path.last().and_then(|(w, _)| w.refund_height)));
    }
    for (w, step) in path {
        if let Some(step) = step {
            let actor = match step {
                Step::Block | Step::ConfirmFunding | Step::ConfirmSpend(_) => "chain".to_string(),
                _ => format!("{:?} (adversary)", w.adv),
            };
            let what = match step {
                Step::ConfirmSpend(i) => format!("confirms {:?}", w.pending.get(*i).map(|(s, _)| s)),
                other => format!("{other:?}"),
            };
            t.steps.push(TraceStep { at: format!("h={}", w.tip), actor, what, notes: vec![] });
        }
    }
    if let Some((w, _)) = path.last() {
        t.outcome.push(format!(
            "h={}: HTLC {:?}; funding confirmed {:?}{}; shared output {:?}; user {:?}; SSP {:?}",
            w.tip,
            w.htlc,
            w.funding_confirmed,
            if w.funding_gone { " (double-spent by the SSP)" } else { "" },
            w.spent,
            w.user.phase(),
            w.ssp.phase()
        ));
    }
    t
}
