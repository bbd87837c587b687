//! The safeguards of BLOBSWAP-01 "Safety", as switches, so that a model check can remove one and
//! find its counterexample. A swap run with any switch off is not a BLOBSWAP-01 swap: every real
//! party uses [`Safeguards::SPEC`]. (CONFIRMATION_PERIOD, constraint T0, is a parameter: a model
//! sets it to 0 directly, bypassing `Params::check`.)

/// Which safeguards a party applies; each field names the requirement it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Safeguards {
    /// T1, `blob.timing.3`: the SSP's refund height leaves `CHAIN_DELAY + SETTLE_MARGIN` before E.
    /// Off: the SSP takes R = E - 1.
    pub refund_margin: bool,
    /// T2, `blob.timing.5` and `blob.timing.6`: the user presigns and reveals only with time to claim.
    pub reveal_deadline: bool,
    /// `blob.settle.4`: once funded, the SSP cancels only after its refund confirmed.
    /// Off: it cancels when the reveal window runs out without a preimage (reading U3).
    pub cancel_after_refund: bool,
    /// `blob.request.6`: the user pays only an invoice for its own hash.
    pub invoice_hash_check: bool,
    /// `blob.fund.3`: the user reveals only over the agreed script and value.
    pub funding_output_check: bool,
    /// `blob.presign.4` and `blob.presign.5`: the user presigns only for the agreed value and fee.
    pub presign_check: bool,
    /// `blob.pay.1`: the SSP proceeds only when the HTLCs cover the invoice.
    pub held_amount_check: bool,
    /// `blob.timing.7`: the SSP pays out only while it can still settle.
    pub payout_margin: bool,
    /// `blob.timing.4` with `blob.presign.9` and `blob.fund.1`: the SSP asks, waits for
    /// `ret_presign` and funds only while a funded swap can still complete before E.
    /// Off: it never cancels for lateness before funding and funds whenever the presignature comes.
    pub funding_deadline: bool,
}

impl Safeguards {
    /// BLOBSWAP-01 as written: every safeguard on.
    pub const SPEC: Safeguards = Safeguards {
        refund_margin: true,
        reveal_deadline: true,
        cancel_after_refund: true,
        invoice_hash_check: true,
        funding_output_check: true,
        presign_check: true,
        held_amount_check: true,
        payout_margin: true,
        funding_deadline: true,
    };
}

impl Default for Safeguards {
    fn default() -> Self {
        Safeguards::SPEC
    }
}
