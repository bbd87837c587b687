//! The client's checks of the server's terms, and its deadlines, as decision
//! functions: inputs in, a decision or a typed reason out (LOOP-01 "Loop Out: the
//! server's terms", "Loop Out: execution", "Loop In").

use core::fmt;

use crate::constants::{Bounds, MIN_CONF_TARGET, URGENT_SWEEP_CONF_TARGET, URGENT_SWEEP_DELTA};
use crate::units::{BlockDelta, BlockHeight, Msat, Sat, SignedSat, SwapHash};

/// Implements `Display` from `name()` plus a sentence.
macro_rules! reason_display {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} ({})", self.describe(), self.name())
            }
        }
    };
}

// ---- quotes ---------------------------------------------------------------------------------

/// The server's bounds on a swap amount (from its Loop Out or Loop In terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AmountBounds {
    pub min_swap_amount: Sat,
    pub max_swap_amount: Sat,
}

/// Why a quote request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuoteAmountError {
    SwapAmountTooLow,
    SwapAmountTooHigh,
}

impl QuoteAmountError {
    pub fn name(&self) -> &'static str {
        match self {
            QuoteAmountError::SwapAmountTooLow => "swap_amount_too_low",
            QuoteAmountError::SwapAmountTooHigh => "swap_amount_too_high",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            QuoteAmountError::SwapAmountTooLow => "amount below the server's minimum",
            QuoteAmountError::SwapAmountTooHigh => "amount above the server's maximum",
        }
    }
}
reason_display!(QuoteAmountError);

/// Checks a quote's amount against the server's bounds; the same for Loop Out and Loop In.
// LOOP-01: "The client MUST refuse a quote for an amount below the server's minimum swap amount."
// LOOP-01: "The client MUST refuse a quote for an amount above the server's maximum swap amount."
// LOOP-01: "The client MUST refuse a Loop In quote for an amount below the server's minimum swap amount."
// LOOP-01: "The client MUST refuse a Loop In quote for an amount above the server's maximum swap amount."
pub fn check_quote_amount(amount: Sat, bounds: &AmountBounds) -> Result<(), QuoteAmountError> {
    if amount < bounds.min_swap_amount {
        return Err(QuoteAmountError::SwapAmountTooLow);
    }
    if amount > bounds.max_swap_amount {
        return Err(QuoteAmountError::SwapAmountTooHigh);
    }
    Ok(())
}

// ---- Loop Out expiry ------------------------------------------------------------------------

/// The server's CLTV delta bounds from its Loop Out terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CltvDeltaBounds {
    pub min_cltv_delta: BlockDelta,
    pub max_cltv_delta: BlockDelta,
}

/// Why the client cannot choose a Loop Out expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopOutExpiryError {
    ConfTargetExceedsMaxCltvDelta,
    /// The expiry would not fit the HTLC's 32-bit signed CLTV (our reading of `loop.htlc.7`).
    ExpiryOutOfRange,
}

impl LoopOutExpiryError {
    pub fn name(&self) -> &'static str {
        match self {
            LoopOutExpiryError::ConfTargetExceedsMaxCltvDelta => "conf_target_exceeds_max_cltv_delta",
            LoopOutExpiryError::ExpiryOutOfRange => "expiry_out_of_range",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            LoopOutExpiryError::ConfTargetExceedsMaxCltvDelta => "sweep confirmation target exceeds the server's maximum CLTV delta",
            LoopOutExpiryError::ExpiryOutOfRange => "expiry height does not fit a 32-bit signed CLTV",
        }
    }
}
reason_display!(LoopOutExpiryError);

/// The Loop Out HTLC expiry the client asks for.
// LOOP-01: "The client MUST set the HTLC expiry to the current height plus the sweep confirmation target, or plus the server's minimum CLTV delta when the target is below that delta."
// LOOP-01: "The client MUST refuse a swap whose sweep confirmation target exceeds the server's maximum CLTV delta."
pub fn loop_out_expiry(height: BlockHeight, conf_target: u32, bounds: &CltvDeltaBounds) -> Result<BlockHeight, LoopOutExpiryError> {
    let delta = if conf_target < bounds.min_cltv_delta.0 {
        bounds.min_cltv_delta
    } else if conf_target > bounds.max_cltv_delta.0 {
        return Err(LoopOutExpiryError::ConfTargetExceedsMaxCltvDelta);
    } else {
        BlockDelta(conf_target)
    };
    let expiry = height.plus(delta);
    if expiry > i64::from(i32::MAX) {
        return Err(LoopOutExpiryError::ExpiryOutOfRange);
    }
    u32::try_from(expiry).map(BlockHeight).map_err(|_| LoopOutExpiryError::ExpiryOutOfRange)
}

// ---- Loop Out contract ----------------------------------------------------------------------

/// The client's own limits for a Loop Out (never sent to the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopOutLimits {
    /// The requested amount.
    pub amount: Sat,
    /// The most the client pays the server, prepay included.
    pub max_swap_fee: Sat,
    /// The most of the fee the server may take as the prepay.
    pub max_prepay_amount: Sat,
}

/// The server's answer to a Loop Out request, its invoices decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopOutOffer {
    pub swap_invoice_hash: SwapHash,
    /// `None` for an invoice without an amount.
    pub swap_invoice_amount: Option<Msat>,
    pub prepay_invoice_amount: Option<Msat>,
}

/// What the client accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AcceptedLoopOut {
    /// Swap invoice + prepay invoice - amount (may be negative).
    pub swap_fee: SignedSat,
    pub swap_invoice_amount: Sat,
    pub prepay_amount: Sat,
}

/// Why the client refuses the server's Loop Out contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopOutContractError {
    SwapInvoiceWithoutAmount,
    SwapHashMismatch,
    PrepayInvoiceWithoutAmount,
    SwapFeeTooHigh,
    PrepayAmountTooHigh,
}

impl LoopOutContractError {
    pub fn name(&self) -> &'static str {
        match self {
            LoopOutContractError::SwapInvoiceWithoutAmount => "swap_invoice_without_amount",
            LoopOutContractError::SwapHashMismatch => "swap_hash_mismatch",
            LoopOutContractError::PrepayInvoiceWithoutAmount => "prepay_invoice_without_amount",
            LoopOutContractError::SwapFeeTooHigh => "swap_fee_too_high",
            LoopOutContractError::PrepayAmountTooHigh => "prepay_amount_too_high",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            LoopOutContractError::SwapInvoiceWithoutAmount => "swap invoice carries no amount",
            LoopOutContractError::SwapHashMismatch => "swap invoice is not for the swap hash",
            LoopOutContractError::PrepayInvoiceWithoutAmount => "prepay invoice carries no amount",
            LoopOutContractError::SwapFeeTooHigh => "swap fee above the maximum",
            LoopOutContractError::PrepayAmountTooHigh => "prepay above the maximum",
        }
    }
}
reason_display!(LoopOutContractError);

/// The client's check of the server's Loop Out contract, in LOOP-01's order.
// LOOP-01: "When several contract checks fail, the client MUST report the first in this order: swap invoice amount, swap hash, prepay invoice amount, swap fee, prepay amount."
pub fn validate_loop_out_contract(limits: &LoopOutLimits, swap_hash: &SwapHash, offer: &LoopOutOffer) -> Result<AcceptedLoopOut, LoopOutContractError> {
    // LOOP-01: "The client MUST refuse the swap if the swap invoice or the prepay invoice carries no amount."
    let swap_invoice_amount = offer.swap_invoice_amount.ok_or(LoopOutContractError::SwapInvoiceWithoutAmount)?.to_sat_floor();
    // LOOP-01: "The client MUST refuse the swap if the swap invoice's payment hash is not the swap hash it generated."
    if offer.swap_invoice_hash != *swap_hash {
        return Err(LoopOutContractError::SwapHashMismatch);
    }
    let prepay_amount = offer.prepay_invoice_amount.ok_or(LoopOutContractError::PrepayInvoiceWithoutAmount)?.to_sat_floor();
    // LOOP-01: "The client MUST refuse the swap if the swap invoice amount plus the prepay invoice amount minus the requested amount exceeds its maximum swap fee."
    let fee = i128::from(swap_invoice_amount.0) + i128::from(prepay_amount.0) - i128::from(limits.amount.0);
    if fee > i128::from(limits.max_swap_fee.0) {
        return Err(LoopOutContractError::SwapFeeTooHigh);
    }
    // LOOP-01: "The client MUST refuse the swap if the prepay invoice amount exceeds its maximum prepay amount."
    if prepay_amount > limits.max_prepay_amount {
        return Err(LoopOutContractError::PrepayAmountTooHigh);
    }
    // The fee is at most max_swap_fee (a u64) and at least -amount: it fits an i64 unless
    // the amount is above 2^63 sat, which saturates.
    let swap_fee = SignedSat(i64::try_from(fee).unwrap_or(i64::MIN));
    Ok(AcceptedLoopOut { swap_fee, swap_invoice_amount, prepay_amount })
}

/// What the server earned on a Loop Out whose swap payment settled.
// LOOP-01: "The client MUST count as the server's cost the prepay amount plus the settled swap payment amount minus the requested amount."
pub fn server_cost(prepay_amount: Sat, swap_payment_amount: Sat, amount: Sat) -> SignedSat {
    let cost = i128::from(prepay_amount.0) + i128::from(swap_payment_amount.0) - i128::from(amount.0);
    SignedSat(i64::try_from(cost).unwrap_or(if cost > 0 { i64::MAX } else { i64::MIN }))
}

// ---- Loop Out deadlines and the HTLC's value ------------------------------------------------

/// Why the client ends a Loop Out, or may not reveal the preimage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopOutDeadlineError {
    /// Waiting for the HTLC: the height passed expiry - 20.
    RevealHeightExceeded,
    /// Claiming: 20 blocks or fewer left, preimage not yet revealed.
    PreimageRevealTooLate,
}

impl LoopOutDeadlineError {
    pub fn name(&self) -> &'static str {
        match self {
            LoopOutDeadlineError::RevealHeightExceeded => "reveal_height_exceeded",
            LoopOutDeadlineError::PreimageRevealTooLate => "preimage_reveal_too_late",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            LoopOutDeadlineError::RevealHeightExceeded => "height above the HTLC expiry minus 20 blocks while waiting for the HTLC",
            LoopOutDeadlineError::PreimageRevealTooLate => "20 blocks or fewer to the HTLC expiry: too late to reveal the preimage",
        }
    }
}
reason_display!(LoopOutDeadlineError);

/// Whether the client may keep waiting for the Loop Out HTLC to confirm.
// LOOP-01: "While it waits for the HTLC to confirm, the client MUST end the swap in state FailTimeout once the height exceeds the HTLC expiry minus 20 blocks."
pub fn check_htlc_wait(height: BlockHeight, cltv_expiry: BlockHeight, bounds: &Bounds) -> Result<(), LoopOutDeadlineError> {
    let last_height = i64::from(cltv_expiry.0) - i64::from(bounds.min_loop_out_preimage_reveal_delta.0);
    if i64::from(height.0) > last_height {
        return Err(LoopOutDeadlineError::RevealHeightExceeded);
    }
    Ok(())
}

/// Whether the client may publish a claim of the HTLC (which reveals the preimage).
// LOOP-01: "The client MUST NOT reveal the preimage unless the HTLC expiry minus the current height is more than 20 blocks."
// LOOP-01: "Once the preimage is revealed, the client MUST keep claiming the HTLC until a spend of it confirms, whatever the height and the fee."
pub fn check_preimage_reveal(height: BlockHeight, cltv_expiry: BlockHeight, already_revealed: bool, bounds: &Bounds) -> Result<(), LoopOutDeadlineError> {
    if already_revealed {
        return Ok(());
    }
    if height.blocks_until(cltv_expiry) - i64::from(bounds.min_loop_out_preimage_reveal_delta.0) <= 0 {
        return Err(LoopOutDeadlineError::PreimageRevealTooLate);
    }
    Ok(())
}

/// Why the confirmed HTLC does not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HtlcValueError {
    /// Loop Out: less than the requested amount.
    InsufficientHtlcValue,
    /// Loop In: not the swap amount.
    IncorrectHtlcAmount,
}

impl HtlcValueError {
    pub fn name(&self) -> &'static str {
        match self {
            HtlcValueError::InsufficientHtlcValue => "insufficient_htlc_value",
            HtlcValueError::IncorrectHtlcAmount => "incorrect_htlc_amount",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            HtlcValueError::InsufficientHtlcValue => "the server's HTLC pays less than the requested amount",
            HtlcValueError::IncorrectHtlcAmount => "the HTLC's value is not the swap amount",
        }
    }
}
reason_display!(HtlcValueError);

/// Whether the confirmed Loop Out HTLC pays enough.
// LOOP-01: "Before it reveals the preimage, the client MUST end the swap in state FailInsufficientValue if the confirmed HTLC's value is below the requested amount."
pub fn check_loop_out_htlc_value(value: Sat, amount: Sat, preimage_revealed: bool) -> Result<(), HtlcValueError> {
    if !preimage_revealed && value < amount {
        return Err(HtlcValueError::InsufficientHtlcValue);
    }
    Ok(())
}

/// The claim's confirmation target, and whether it is urgent (fee rate times 1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimFeePolicy {
    pub conf_target: u32,
    pub urgent: bool,
}

/// The fee policy of the Loop Out claim at `height`.
// LOOP-01: "The client SHOULD give its claim a confirmation target of the number of blocks left until the HTLC expiry, and 2 when fewer than 2 are left."
// LOOP-01: "When that confirmation target is 10 blocks or fewer, the client SHOULD lower it to at most 3 and multiply the fee rate by 1.1."
pub fn claim_fee_policy(height: BlockHeight, cltv_expiry: BlockHeight) -> ClaimFeePolicy {
    let left = height.blocks_until(cltv_expiry).max(i64::from(MIN_CONF_TARGET));
    let target = u32::try_from(left).unwrap_or(u32::MAX);
    if target <= URGENT_SWEEP_DELTA.0 {
        ClaimFeePolicy { conf_target: target.min(URGENT_SWEEP_CONF_TARGET), urgent: true }
    } else {
        ClaimFeePolicy { conf_target: target, urgent: false }
    }
}

/// A confirmation target below the minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfTargetTooLow;

impl ConfTargetTooLow {
    pub fn name(&self) -> &'static str {
        "conf_target_too_low"
    }
    fn describe(&self) -> &'static str {
        "confirmation target below 2 blocks"
    }
}
reason_display!(ConfTargetTooLow);

/// The confirmation target the client uses for a requested one (0: the default).
// LOOP-01: "The client MUST refuse a confirmation target below 2 blocks, where 0 means the default."
// LOOP-01: "The client SHOULD use a sweep confirmation target of 9 blocks when the user gives none."
pub fn effective_conf_target(requested: u32, default: u32) -> Result<u32, ConfTargetTooLow> {
    match requested {
        0 => Ok(default),
        t if t < MIN_CONF_TARGET => Err(ConfTargetTooLow),
        t => Ok(t),
    }
}

// ---- Loop In --------------------------------------------------------------------------------

/// Why the client refuses a Loop In's fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopInFeeError {
    SwapFeeTooHigh,
    /// The fee leaves nothing to invoice (our reading of `loop.in.4`).
    SwapFeeExceedsAmount,
}

impl LoopInFeeError {
    pub fn name(&self) -> &'static str {
        match self {
            LoopInFeeError::SwapFeeTooHigh => "swap_fee_too_high",
            LoopInFeeError::SwapFeeExceedsAmount => "swap_fee_exceeds_amount",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            LoopInFeeError::SwapFeeTooHigh => "quoted swap fee above the maximum",
            LoopInFeeError::SwapFeeExceedsAmount => "quoted swap fee above the amount",
        }
    }
}
reason_display!(LoopInFeeError);

/// Checks the quoted Loop In fee; gives the amount the client invoices.
// LOOP-01: "The client MUST refuse a Loop In whose quoted swap fee exceeds its maximum swap fee."
// LOOP-01: "The client MUST invoice the requested amount minus the quoted swap fee, with the swap hash as the invoice's payment hash."
pub fn check_loop_in_swap_fee(amount: Sat, swap_fee: Sat, max_swap_fee: Sat) -> Result<Sat, LoopInFeeError> {
    if swap_fee > max_swap_fee {
        return Err(LoopInFeeError::SwapFeeTooHigh);
    }
    amount.0.checked_sub(swap_fee.0).map(Sat).ok_or(LoopInFeeError::SwapFeeExceedsAmount)
}

/// Why the client refuses the server's Loop In expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopInExpiryError {
    ExpiryTooFar,
    ExpiryTooSoon,
}

impl LoopInExpiryError {
    pub fn name(&self) -> &'static str {
        match self {
            LoopInExpiryError::ExpiryTooFar => "expiry_too_far",
            LoopInExpiryError::ExpiryTooSoon => "expiry_too_soon",
        }
    }
    fn describe(&self) -> &'static str {
        match self {
            LoopInExpiryError::ExpiryTooFar => "HTLC expiry more than 1500 blocks away",
            LoopInExpiryError::ExpiryTooSoon => "HTLC expiry less than 100 blocks away",
        }
    }
}
reason_display!(LoopInExpiryError);

/// The client's check of the expiry the server chose for the Loop In HTLC.
// LOOP-01: "The client MUST refuse a Loop In whose HTLC expiry is more than 1500 blocks above the current height."
// LOOP-01: "The client MUST refuse a Loop In whose HTLC expiry is below the current height plus 100 blocks."
pub fn validate_loop_in_contract(height: BlockHeight, htlc_expiry: BlockHeight, bounds: &Bounds) -> Result<(), LoopInExpiryError> {
    if height.blocks_until(htlc_expiry) > i64::from(bounds.max_loop_in_accept_delta.0) {
        return Err(LoopInExpiryError::ExpiryTooFar);
    }
    if i64::from(htlc_expiry.0) < height.plus(bounds.min_loop_in_expiry_delta) {
        return Err(LoopInExpiryError::ExpiryTooSoon);
    }
    Ok(())
}

/// Too late to publish the Loop In HTLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TooLateToPublish;

impl TooLateToPublish {
    pub fn name(&self) -> &'static str {
        "too_late_to_publish"
    }
    fn describe(&self) -> &'static str {
        "fewer than 10 blocks to the HTLC expiry"
    }
}
reason_display!(TooLateToPublish);

/// Whether the client may still publish its Loop In HTLC.
// LOOP-01: "The client MUST NOT publish the HTLC when fewer than 10 blocks remain until its expiry."
pub fn check_loop_in_publish(height: BlockHeight, cltv_expiry: BlockHeight, bounds: &Bounds) -> Result<(), TooLateToPublish> {
    if height.blocks_until(cltv_expiry) < i64::from(bounds.min_loop_in_publish_delta.0) {
        return Err(TooLateToPublish);
    }
    Ok(())
}

/// Whether the confirmed Loop In HTLC holds the swap amount.
// LOOP-01: "The client MUST record state FailIncorrectHtlcAmt, and keep following the swap to the HTLC's expiry, if the confirmed HTLC's value differs from the swap amount."
pub fn check_loop_in_htlc_value(value: Sat, amount: Sat) -> Result<(), HtlcValueError> {
    if value != amount {
        return Err(HtlcValueError::IncorrectHtlcAmount);
    }
    Ok(())
}

/// Whether the client publishes its timeout transaction now.
// LOOP-01: "Unless the swap invoice is settled or the swap succeeded, the client MUST publish the timeout transaction once the height reaches the HTLC expiry."
pub fn loop_in_timeout_due(height: BlockHeight, cltv_expiry: BlockHeight, invoice_settled_or_success: bool) -> bool {
    !invoice_settled_or_success && height >= cltv_expiry
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: BlockHeight = BlockHeight(800_000);
    const B: &Bounds = &Bounds::LOOP01;

    #[test]
    fn reveal_deadline_bounds_and_the_off_by_one() {
        let expiry = BlockHeight(800_100);
        // Waiting: heights up to expiry - 20 keep waiting.
        assert_eq!(check_htlc_wait(BlockHeight(800_080), expiry, B), Ok(()));
        assert_eq!(check_htlc_wait(BlockHeight(800_081), expiry, B), Err(LoopOutDeadlineError::RevealHeightExceeded));
        // Revealing: only while more than 20 blocks remain, so expiry - 20 is already too late.
        assert_eq!(check_preimage_reveal(BlockHeight(800_079), expiry, false, B), Ok(()));
        assert_eq!(check_preimage_reveal(BlockHeight(800_080), expiry, false, B), Err(LoopOutDeadlineError::PreimageRevealTooLate));
        assert_eq!(check_preimage_reveal(BlockHeight(900_000), expiry, true, B), Ok(()));
    }

    #[test]
    fn contract_order() {
        let hash = SwapHash([1; 32]);
        let limits = LoopOutLimits { amount: Sat(1_000_000), max_swap_fee: Sat(5_000), max_prepay_amount: Sat(3_000) };
        let offer = LoopOutOffer { swap_invoice_hash: SwapHash([2; 32]), swap_invoice_amount: None, prepay_invoice_amount: None };
        assert_eq!(validate_loop_out_contract(&limits, &hash, &offer), Err(LoopOutContractError::SwapInvoiceWithoutAmount));
        let offer = LoopOutOffer { swap_invoice_amount: Some(Msat(1_002_000_999)), ..offer };
        assert_eq!(validate_loop_out_contract(&limits, &hash, &offer), Err(LoopOutContractError::SwapHashMismatch));
        let offer = LoopOutOffer { swap_invoice_hash: hash, prepay_invoice_amount: Some(Msat(3_000_999)), ..offer };
        let ok = validate_loop_out_contract(&limits, &hash, &offer).unwrap();
        assert_eq!((ok.swap_fee, ok.prepay_amount), (SignedSat(5_000), Sat(3_000)));
    }

    #[test]
    fn loop_out_expiry_choice() {
        let b = CltvDeltaBounds { min_cltv_delta: BlockDelta(18), max_cltv_delta: BlockDelta(2016) };
        assert_eq!(loop_out_expiry(H, 9, &b), Ok(BlockHeight(800_018)));
        assert_eq!(loop_out_expiry(H, 2016, &b), Ok(BlockHeight(802_016)));
        assert_eq!(loop_out_expiry(H, 2017, &b), Err(LoopOutExpiryError::ConfTargetExceedsMaxCltvDelta));
        assert_eq!(loop_out_expiry(BlockHeight(i32::MAX as u32), 18, &b), Err(LoopOutExpiryError::ExpiryOutOfRange));
    }

    proptest! {
        /// The Loop In window is exactly [height + 100, height + 1500].
        #[test]
        fn loop_in_window(height in 0u32..3_000_000, delta in -200i64..2000) {
            let expiry = i64::from(height) + delta;
            prop_assume!(expiry >= 0);
            let got = validate_loop_in_contract(BlockHeight(height), BlockHeight(expiry as u32), B);
            prop_assert_eq!(got.is_ok(), (100..=1500).contains(&delta));
        }

        /// A revealable height can also keep waiting, never the other way round at the boundary.
        #[test]
        fn reveal_implies_wait(height in 0u32..1_000_000, expiry in 0u32..1_000_000) {
            if check_preimage_reveal(BlockHeight(height), BlockHeight(expiry), false, B).is_ok() {
                prop_assert!(check_htlc_wait(BlockHeight(height), BlockHeight(expiry), B).is_ok());
            }
        }

        /// The claim's target is never below 2, and at most 3 when urgent.
        #[test]
        fn claim_policy_bounds(height in 0u32..1_000_000, expiry in 0u32..1_000_000) {
            let p = claim_fee_policy(BlockHeight(height), BlockHeight(expiry));
            prop_assert!(p.conf_target >= 2);
            prop_assert!(!p.urgent || p.conf_target <= 3);
        }
    }

    /// With the reveal deadline removed, the last block before the expiry is revealable:
    /// what a model checker loosens to find the counterexample.
    #[test]
    fn bounds_are_parameters() {
        let loose = Bounds { min_loop_out_preimage_reveal_delta: BlockDelta(0), ..Bounds::LOOP01 };
        let expiry = BlockHeight(800_100);
        assert_eq!(check_preimage_reveal(BlockHeight(800_099), expiry, false, &loose), Ok(()));
        assert!(check_preimage_reveal(BlockHeight(800_099), expiry, false, B).is_err());
        assert_eq!(Bounds::default(), Bounds::LOOP01);
    }

    #[test]
    fn reasons_have_stable_names() {
        assert_eq!(LoopOutContractError::SwapFeeTooHigh.to_string(), "swap fee above the maximum (swap_fee_too_high)");
        assert_eq!(TooLateToPublish.name(), "too_late_to_publish");
        assert_eq!(ConfTargetTooLow.name(), "conf_target_too_low");
        assert_eq!(server_cost(Sat(3_000), Sat(1_002_000), Sat(1_000_000)), SignedSat(5_000));
    }
}
