//! The properties of LNROD-01's section "Properties", in words with the
//! requirement sentences they rest on, and as checks on a state.

use stateright::Property;

use crate::framework::{PropertyDef, PropertyKind, SpecQuote};

use super::model::{payment_hash, LnrodModel, World};

const fn q(text: &'static str) -> SpecQuote {
    SpecQuote { doc: "LNROD-01", text }
}

pub const RELEASE_ONLY_ON_VALID_UNBLOCK: &str = "release_only_on_valid_unblock";
pub const NO_HELD_HTLC_AT_EXPIRY: &str = "no_held_htlc_at_expiry";
pub const A_PAYS_ONLY_IF_B_SETTLED: &str = "a_pays_only_if_b_settled";
pub const PREIMAGE_REACHES_A: &str = "preimage_reaches_a";
pub const B_PAID_WHEN_ONLINE: &str = "b_paid_when_online";
pub const RELEASE_REACHED: &str = "release_reached";
pub const FAIL_BACK_REACHED: &str = "fail_back_reached";
pub const A_PAID_REACHED: &str = "a_paid_reached";

pub fn defs() -> Vec<PropertyDef> {
    DEFS.to_vec()
}

/// Every property of the LNROD-01 model, in the order of the checks below.
pub const DEFS: &[PropertyDef] = &[
    PropertyDef {
        name: RELEASE_ONLY_ON_VALID_UNBLOCK,
        kind: PropertyKind::Safety,
        words: "LSP_a never releases (forwards) a held HTLC except on an unblock that is valid for it: the right `pid` of a request not released (`lightningrod`), an authenticated `release_held_htlc` naming it (`ldk`).",
        rests_on: &[
            q("LSP_a MUST NOT forward a held HTLC before it has received a valid unblock for it."),
            q("LSP_a MUST ignore an unblock that is not valid, and keep holding what it holds."),
            q("In the `lightningrod` profile, LSP_a MUST treat an unblock as valid only if its `payment_unblock` equals the `pid` of a block request from A that it has not released."),
            q("In the `ldk` profile, LSP_a MUST treat a `release_held_htlc` as valid only if it arrived over a release path LSP_a created, with an authenticated context that names an HTLC it holds."),
        ],
    },
    PropertyDef {
        name: NO_HELD_HTLC_AT_EXPIRY,
        kind: PropertyKind::Safety,
        words: "No HTLC of A's is still held by LSP_a when the chain reaches its `cltv_expiry` (nor at its fail-back height), and every fail-back height is below the expiry.",
        rests_on: &[
            q("LSP_a MUST fail a held HTLC back to A once the chain height reaches the HTLC's fail-back height."),
            q("LSP_a MUST use a fail-back height below the incoming HTLC's `cltv_expiry`."),
            q("LSP_a MUST fail back at once an HTLC it is asked to hold when the chain height has already reached the HTLC's fail-back height."),
        ],
    },
    PropertyDef {
        name: A_PAYS_ONLY_IF_B_SETTLED,
        kind: PropertyKind::Safety,
        words: "A counts the payment paid only if B has settled it (B was able to settle: it held the preimage and the complete payment).",
        rests_on: &[
            q("A MUST consider the payment paid only once it holds a preimage whose SHA-256 is the payment hash."),
            q("B MUST NOT fulfil the HTLCs of a payment before their total reaches the invoice amount."),
        ],
    },
    PropertyDef {
        name: PREIMAGE_REACHES_A,
        kind: PropertyKind::Safety,
        words: "Once B has settled and nothing is on its way between the parties, A holds the preimage (is paid): the preimage is never stuck at LSP_a.",
        rests_on: &[
            q("LSP_a MUST fulfil A's HTLC with the preimage once the HTLC it forwarded for it is fulfilled."),
            q("LSP_a MUST notify A when it has a preimage for A while A is offline."),
        ],
    },
    PropertyDef {
        name: B_PAID_WHEN_ONLINE,
        kind: PropertyKind::Liveness,
        words: "If B comes online before the fail-back height, B is eventually paid (settles).",
        rests_on: &[
            q("In the `lightningrod` profile, B MUST send the unblock as soon as it is online and has received `pid`."),
            q("In the `ldk` profile, B MUST answer a `held_htlc_available` with a `release_held_htlc` sent over the message's `reply_path`."),
        ],
    },
    PropertyDef {
        name: RELEASE_REACHED,
        kind: PropertyKind::Reachable,
        words: "Some run releases a held HTLC (so `release_only_on_valid_unblock` is not vacuous).",
        rests_on: &[q("On a valid unblock, LSP_a MUST forward every HTLC it holds that the unblock releases.")],
    },
    PropertyDef {
        name: FAIL_BACK_REACHED,
        kind: PropertyKind::Reachable,
        words: "Some run fails a held HTLC back at its fail-back height (so `no_held_htlc_at_expiry` is not vacuous).",
        rests_on: &[q("LSP_a MUST fail a held HTLC back to A once the chain height reaches the HTLC's fail-back height.")],
    },
    PropertyDef {
        name: A_PAID_REACHED,
        kind: PropertyKind::Reachable,
        words: "Some run ends with A paid (so `a_pays_only_if_b_settled` and `preimage_reaches_a` are not vacuous).",
        rests_on: &[q("A MUST consider the payment paid only once it holds a preimage whose SHA-256 is the payment hash.")],
    },
];

/// What is wrong with a held HTLC in this state, if anything.
pub fn held_past_expiry(w: &World) -> Option<String> {
    w.lsp_a.held().into_iter().find_map(|h| {
        if h.fail_back_height >= h.cltv_expiry {
            Some(format!("HTLC {} is held with fail-back height {} not below its expiry {}", h.htlc.0, h.fail_back_height.0, h.cltv_expiry.0))
        } else if w.height >= h.cltv_expiry.0 {
            Some(format!("HTLC {} is still held at height {}, its cltv_expiry {}", h.htlc.0, w.height, h.cltv_expiry.0))
        } else if w.lsp_a.height().0 >= h.fail_back_height.0 {
            Some(format!("HTLC {} is still held at LSP_a's height {}, past its fail-back height {}", h.htlc.0, w.lsp_a.height().0, h.fail_back_height.0))
        } else {
            None
        }
    })
}

pub fn paid_unsettled(w: &World) -> bool {
    w.a.is_paid(&payment_hash()) && !w.b.is_settled(&payment_hash())
}

pub fn preimage_stuck(w: &World) -> bool {
    w.quiet() && w.b.is_settled(&payment_hash()) && !w.a.is_paid(&payment_hash())
}

pub fn b_paid_or_late(m: &LnrodModel, w: &World) -> bool {
    let fb = m.fail_back_height().unwrap_or(0);
    w.b.is_settled(&payment_hash()) || w.b_online_at.is_none_or(|h| h >= fb)
}

/// The stateright checks, in the order of [`DEFS`].
pub fn stateright() -> Vec<Property<LnrodModel>> {
    vec![
        Property::always(RELEASE_ONLY_ON_VALID_UNBLOCK, |_, w: &World| w.released_without_valid_unblock.is_none()),
        Property::always(NO_HELD_HTLC_AT_EXPIRY, |_, w: &World| held_past_expiry(w).is_none()),
        Property::always(A_PAYS_ONLY_IF_B_SETTLED, |_, w: &World| !paid_unsettled(w)),
        Property::always(PREIMAGE_REACHES_A, |_, w: &World| !preimage_stuck(w)),
        Property::eventually(B_PAID_WHEN_ONLINE, |m: &LnrodModel, w: &World| b_paid_or_late(m, w)),
        Property::sometimes(RELEASE_REACHED, |_, w: &World| w.released_any),
        Property::sometimes(FAIL_BACK_REACHED, |_, w: &World| w.failed_back_expired),
        Property::sometimes(A_PAID_REACHED, |_, w: &World| w.a.is_paid(&payment_hash())),
    ]
}
