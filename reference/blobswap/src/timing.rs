//! BLOBSWAP-01 "Timing constraints": each constraint as a decision function with a typed reason.
//!
//! All sums are computed in `u64` from `u32` heights and block counts, so they are exact. Where a
//! check can fail for several reasons, it reports the first in the order the requirement lists them.

use crate::params::Params;
use crate::units::{Blocks, Height};
use core::fmt;

/// Lock times from this value on are timestamps, not heights (BIP-65).
pub const LOCKTIME_THRESHOLD: u32 = 500_000_000;

/// Why a timing check refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimingError {
    /// `blob.timing.1`: the invoice's `min_final_cltv_expiry_delta` is too small.
    InvoiceDeltaTooSmall,
    /// `blob.timing.2`: at step (7), E is too close for any swap to complete.
    HtlcExpiryTooSoon,
    /// `blob.timing.3` cannot be met: E is below `CHAIN_DELAY + SETTLE_MARGIN`.
    NoRefundHeight,
    /// `blob.output.6`: the refund height is not a block height.
    NotABlockHeight,
    /// `blob.timing.3`: `R + CHAIN_DELAY + SETTLE_MARGIN > E`.
    RefundTooCloseToExpiry,
    /// `blob.timing.4`: too late to broadcast the funding.
    TooLateToFund,
    /// `blob.timing.5`: too late to presign.
    RefundTooSoon,
    /// `blob.timing.6`: a reveal over this funding is unsafe.
    TooCloseToRefund,
    /// `blob.reveal.1`: the funding lacks CONFIRMATION_PERIOD confirmations.
    NotConfirmedEnough,
    /// `blob.reveal.2`: the reveal window has run out.
    RevealWindowClosed,
    /// `blob.timing.7`: too late to pay out and still settle.
    TooLateToSettle,
    /// The refund's lock time is not yet reached (`blob.output.8`).
    RefundLocked,
}

impl TimingError {
    /// The stable machine name (vectors, reports).
    pub fn name(&self) -> &'static str {
        match self {
            TimingError::InvoiceDeltaTooSmall => "invoice_delta_too_small",
            TimingError::HtlcExpiryTooSoon => "htlc_expiry_too_soon",
            TimingError::NoRefundHeight => "no_refund_height",
            TimingError::NotABlockHeight => "not_a_block_height",
            TimingError::RefundTooCloseToExpiry => "refund_too_close_to_expiry",
            TimingError::TooLateToFund => "too_late_to_fund",
            TimingError::RefundTooSoon => "refund_too_soon",
            TimingError::TooCloseToRefund => "too_close_to_refund",
            TimingError::NotConfirmedEnough => "not_confirmed_enough",
            TimingError::RevealWindowClosed => "reveal_window_closed",
            TimingError::TooLateToSettle => "too_late_to_settle",
            TimingError::RefundLocked => "refund_locked",
        }
    }
}

impl fmt::Display for TimingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for TimingError {}

fn n(b: Blocks) -> u64 {
    u64::from(b.0)
}
fn at(h: Height) -> u64 {
    u64::from(h.0)
}

/// `SESSION_PERIOD + CONFIRMATION_PERIOD + REVEAL_WINDOW + 4 * CHAIN_DELAY + SETTLE_MARGIN - 1`: the
/// fewest blocks from step (7) to E in which a swap can complete (derivation (4) and (5)).
pub fn required_invoice_delta(p: &Params) -> u64 {
    let sum = n(p.session_period)
        + n(p.confirmation_period)
        + n(p.reveal_window)
        + 4 * n(p.chain_delay)
        + n(p.settle_margin);
    // With checked parameters CONFIRMATION_PERIOD >= 1, so this never saturates.
    sum.saturating_sub(1)
}

/// The SSP's invoice (step 2).
pub fn check_invoice_delta(delta: Blocks, p: &Params) -> Result<(), TimingError> {
    // BLOBSWAP-01: "The SSP MUST create the hold invoice with a `min_final_cltv_expiry_delta` of at least `SESSION_PERIOD + CONFIRMATION_PERIOD + REVEAL_WINDOW + 4 * CHAIN_DELAY + SETTLE_MARGIN - 1`."
    if n(delta) < required_invoice_delta(p) {
        return Err(TimingError::InvoiceDeltaTooSmall);
    }
    Ok(())
}

/// The SSP at step (7), its tip `h7`, the HTLC expiry `expiry`.
pub fn check_session(h7: Height, expiry: Height, p: &Params) -> Result<(), TimingError> {
    // BLOBSWAP-01: "At step (7) the SSP MUST cancel the hold invoice if `h7 + SESSION_PERIOD + CONFIRMATION_PERIOD + REVEAL_WINDOW + 4 * CHAIN_DELAY + SETTLE_MARGIN - 1 > E`."
    if at(h7) + required_invoice_delta(p) > at(expiry) {
        return Err(TimingError::HtlcExpiryTooSoon);
    }
    Ok(())
}

/// The refund height the reference chooses: the largest R that `blob.timing.3` allows.
pub fn refund_height(expiry: Height, p: &Params) -> Result<Height, TimingError> {
    let r = at(expiry)
        .checked_sub(n(p.chain_delay) + n(p.settle_margin))
        .ok_or(TimingError::NoRefundHeight)?;
    let r = u32::try_from(r).map_err(|_| TimingError::NotABlockHeight)?;
    check_refund_height(Height(r), expiry, p)?;
    Ok(Height(r))
}

/// T1: the refund height against the HTLC expiry.
pub fn check_refund_height(refund: Height, expiry: Height, p: &Params) -> Result<(), TimingError> {
    // BLOBSWAP-01: "The refund height MUST be a block height below 500000000."
    if refund.0 >= LOCKTIME_THRESHOLD {
        return Err(TimingError::NotABlockHeight);
    }
    // BLOBSWAP-01: "The SSP MUST choose a refund height R with `R + CHAIN_DELAY + SETTLE_MARGIN <= E`."
    if at(refund) + n(p.chain_delay) + n(p.settle_margin) > at(expiry) {
        return Err(TimingError::RefundTooCloseToExpiry);
    }
    Ok(())
}

/// The SSP before broadcasting its funding (step 10) at `tip`.
pub fn check_funding(tip: Height, refund: Height, p: &Params) -> Result<(), TimingError> {
    // BLOBSWAP-01: "The SSP MUST NOT broadcast its funding at a tip t with `t + 3 * CHAIN_DELAY + CONFIRMATION_PERIOD + REVEAL_WINDOW - 1 > R`."
    let latest_window_end_plus = at(tip) + 3 * n(p.chain_delay) + n(p.confirmation_period) + n(p.reveal_window);
    if latest_window_end_plus.saturating_sub(1) > at(refund) {
        return Err(TimingError::TooLateToFund);
    }
    Ok(())
}

/// The user before presigning (step 9) at `tip`.
pub fn check_presign(tip: Height, refund: Height, p: &Params) -> Result<(), TimingError> {
    // BLOBSWAP-01: "The refund height MUST be a block height below 500000000."
    if refund.0 >= LOCKTIME_THRESHOLD {
        return Err(TimingError::NotABlockHeight);
    }
    // BLOBSWAP-01: "The user MUST NOT presign at a tip t with `t + CONFIRMATION_PERIOD + REVEAL_WINDOW + 2 * CHAIN_DELAY > R`."
    if at(tip) + n(p.confirmation_period) + n(p.reveal_window) + 2 * n(p.chain_delay) > at(refund) {
        return Err(TimingError::RefundTooSoon);
    }
    Ok(())
}

/// The reveal window of a funding confirmed in block `hc`: the user may reveal at tips
/// `opens <= t < closes`; `closes` is hW.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RevealWindow {
    pub opens: u64,
    pub closes: u64,
}

pub fn reveal_window(funding_confirmed_at: Height, p: &Params) -> RevealWindow {
    // The funding has CONFIRMATION_PERIOD confirmations at tip hc + CONFIRMATION_PERIOD - 1.
    let opens = (at(funding_confirmed_at) + n(p.confirmation_period)).saturating_sub(1);
    RevealWindow { opens, closes: opens + n(p.reveal_window) }
}

/// The user before revealing (step 14) at `tip`, over a funding confirmed in block `hc`: the
/// deadline first, then the window.
pub fn check_reveal(tip: Height, funding_confirmed_at: Height, refund: Height, p: &Params) -> Result<(), TimingError> {
    check_reveal_deadline(funding_confirmed_at, refund, p)?;
    check_reveal_window(tip, funding_confirmed_at, p)
}

/// T2: whether a reveal over a funding confirmed in block `hc` leaves the user time to claim.
pub fn check_reveal_deadline(funding_confirmed_at: Height, refund: Height, p: &Params) -> Result<(), TimingError> {
    let window = reveal_window(funding_confirmed_at, p);
    // BLOBSWAP-01: "The user MUST NOT reveal if `hc + CONFIRMATION_PERIOD - 1 + REVEAL_WINDOW + 2 * CHAIN_DELAY > R`."
    if window.closes + 2 * n(p.chain_delay) > at(refund) {
        return Err(TimingError::TooCloseToRefund);
    }
    Ok(())
}

/// Whether `tip` is inside the reveal window of a funding confirmed in block `hc`.
pub fn check_reveal_window(tip: Height, funding_confirmed_at: Height, p: &Params) -> Result<(), TimingError> {
    let window = reveal_window(funding_confirmed_at, p);
    // BLOBSWAP-01: "The user MUST NOT reveal before the funding has CONFIRMATION_PERIOD confirmations."
    if at(tip) < window.opens {
        return Err(TimingError::NotConfirmedEnough);
    }
    // BLOBSWAP-01: "The user MUST NOT reveal once the reveal window has run out, at tip hW or later."
    if at(tip) >= window.closes {
        return Err(TimingError::RevealWindowClosed);
    }
    Ok(())
}

/// Whether a user that revealed and sees no confirmed spend must now claim.
pub fn claim_due(tip: Height, funding_confirmed_at: Height, p: &Params) -> bool {
    // BLOBSWAP-01: "A user that has revealed and sees no confirmed spend of the shared output at tip `hW + CHAIN_DELAY` MUST broadcast its claim transaction."
    at(tip) >= reveal_window(funding_confirmed_at, p).closes + n(p.chain_delay)
}

/// The SSP before broadcasting the payout (step 18) at `tip`.
pub fn check_payout(tip: Height, expiry: Height, p: &Params) -> Result<(), TimingError> {
    // BLOBSWAP-01: "The SSP MUST NOT broadcast the payout transaction at a tip t with `t + SETTLE_MARGIN > E`."
    if at(tip) + n(p.settle_margin) > at(expiry) {
        return Err(TimingError::TooLateToSettle);
    }
    Ok(())
}

/// The SSP before broadcasting its refund at `tip`: a node relays it from tip R on.
pub fn check_refund(tip: Height, refund: Height) -> Result<(), TimingError> {
    if tip < refund {
        return Err(TimingError::RefundLocked);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::example;

    // The worked example of BLOBSWAP-01 "Derivation": h7 = 100, E = 120.
    #[test]
    fn the_worked_example() {
        let p = example();
        assert_eq!(required_invoice_delta(&p), 18);
        assert_eq!(refund_height(Height(120), &p), Ok(Height(114)));
        assert_eq!(check_session(Height(102), Height(120), &p), Ok(()));
        assert_eq!(check_session(Height(103), Height(120), &p), Err(TimingError::HtlcExpiryTooSoon));
        assert_eq!(check_funding(Height(104), Height(114), &p), Ok(()));
        assert_eq!(check_funding(Height(105), Height(114), &p), Err(TimingError::TooLateToFund));
        let w = reveal_window(Height(103), &p);
        assert_eq!((w.opens, w.closes), (104, 107));
        assert!(!claim_due(Height(108), Height(103), &p));
        assert!(claim_due(Height(109), Height(103), &p));
    }

    #[test]
    fn reveal_reasons_come_in_the_documented_order() {
        let p = example();
        // hc = 103: window [104, 107); needs 107 + 4 <= R.
        assert_eq!(check_reveal(Height(103), Height(103), Height(110), &p), Err(TimingError::TooCloseToRefund));
        assert_eq!(check_reveal(Height(103), Height(103), Height(111), &p), Err(TimingError::NotConfirmedEnough));
        assert_eq!(check_reveal(Height(104), Height(103), Height(111), &p), Ok(()));
        assert_eq!(check_reveal(Height(106), Height(103), Height(111), &p), Ok(()));
        assert_eq!(check_reveal(Height(107), Height(103), Height(111), &p), Err(TimingError::RevealWindowClosed));
    }

    #[test]
    fn refund_height_rejects_timestamps_and_tiny_expiries() {
        let p = example();
        assert_eq!(refund_height(Height(5), &p), Err(TimingError::NoRefundHeight));
        assert_eq!(refund_height(Height(6), &p), Ok(Height(0)));
        assert_eq!(refund_height(Height(LOCKTIME_THRESHOLD + 6), &p), Err(TimingError::NotABlockHeight));
        assert_eq!(refund_height(Height(LOCKTIME_THRESHOLD + 5), &p), Ok(Height(LOCKTIME_THRESHOLD - 1)));
    }

    #[test]
    fn sums_never_wrap() {
        let p = Params {
            session_period: Blocks(u32::MAX),
            confirmation_period: Blocks(u32::MAX),
            reveal_window: Blocks(u32::MAX),
            chain_delay: Blocks(u32::MAX),
            settle_margin: Blocks(u32::MAX),
        };
        let tip = Height(u32::MAX);
        assert_eq!(check_session(tip, tip, &p), Err(TimingError::HtlcExpiryTooSoon));
        assert_eq!(check_funding(tip, Height(LOCKTIME_THRESHOLD - 1), &p), Err(TimingError::TooLateToFund));
        assert_eq!(check_reveal(tip, tip, Height(1), &p), Err(TimingError::TooCloseToRefund));
        assert_eq!(check_payout(tip, tip, &p), Err(TimingError::TooLateToSettle));
    }
}
