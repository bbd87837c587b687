//! What SIDEPOOL-10 needs of SIDEPOOL-02: the minimum output amount, the onchain
//! fee contribution tax and the post-tax amount of an output, and the parity of
//! the pool update counter across the two updates of a swap party.
//!
//! The pool layer (which knows the fees of the offchain transactions and how
//! many outputs the state has) supplies the [`TaxInputs`]; this module only does
//! the arithmetic the text fixes, so every participant computes the same figure.
//!
//! Revisions: the tax and the post-tax amount exist at the `seed` revision only
//! (SIDEPOOL-02 at 9c4f495); upstream-50799b4 pays fees with P2A anchors and
//! has no tax, so its quotes here are pinned `@seed`. The minimum amount, the
//! output limit and the update counter are in both.
//!
//! Out of scope here: the onchain fee contribution tax *overpayment* and its
//! beneficiary. SIDEPOOL-02 adds the overpayment to one output nominated by the
//! pool leader, an output the leader "unilaterally controls"; an in-sidepool
//! HTLC output is never that output, so its post-tax amount is always
//! `nominal - tax` (ERRATA E-61). [`overpayment`] is provided so a pool layer
//! can check the figure, but nothing in SIDEPOOL-10 consumes it.

use core::fmt;

use crate::units::{Sat, UpdateCounter};

// SIDEPOOL-02: "Output amounts MUST be greater than or equal to 10,000 satoshis."
// SIDEPOOL-02: "it is called `sidepool_version_1_min_amount`."
pub const SIDEPOOL_VERSION_1_MIN_AMOUNT: Sat = Sat(10_000);

// SIDEPOOL-02: "Have a maximum of 400 outputs (`sidepool_version_1_max_outputs = 400`)."
pub const SIDEPOOL_VERSION_1_MAX_OUTPUTS: u32 = 400;

/// What the pool layer knows about a given output state, needed to compute its tax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaxInputs {
    /// SIDEPOOL-02@seed: "The total amount removed is equal to the total fees of all offchain transactions, from the kickoff, non-Last update transactions, and the Last update transaction."
    pub total_offchain_fees: Sat,
    /// The number of transaction outputs of the output state (1..=400).
    pub output_count: u32,
}

/// Why a tax or post-tax amount cannot be computed. `name()` is the stable
/// machine name vectors use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxError {
    /// An output state with no outputs.
    NoOutputs,
    /// An output state with more than 400 outputs.
    TooManyOutputs { output_count: u32 },
    /// The tax is larger than the nominal amount: the output cannot pay its share.
    TaxExceedsNominal { nominal: Sat, tax: Sat },
}

impl TaxError {
    pub fn name(&self) -> &'static str {
        match self {
            TaxError::NoOutputs => "no_outputs",
            TaxError::TooManyOutputs { .. } => "too_many_outputs",
            TaxError::TaxExceedsNominal { .. } => "tax_exceeds_nominal",
        }
    }
}

impl fmt::Display for TaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxError::NoOutputs => f.write_str("the output state has no outputs (it must have at least one)"),
            TaxError::TooManyOutputs { output_count } => {
                write!(f, "{output_count} outputs exceed sidepool_version_1_max_outputs (400)")
            }
            TaxError::TaxExceedsNominal { nominal, tax } => {
                write!(f, "tax {tax} exceeds the nominal amount {nominal}")
            }
        }
    }
}

impl std::error::Error for TaxError {}

/// The per-output onchain fee contribution tax of an output state.
pub fn onchain_fee_contribution_tax(inputs: TaxInputs) -> Result<Sat, TaxError> {
    // SIDEPOOL-02: "Have a minimum of 1 output."
    if inputs.output_count == 0 {
        return Err(TaxError::NoOutputs);
    }
    if inputs.output_count > SIDEPOOL_VERSION_1_MAX_OUTPUTS {
        return Err(TaxError::TooManyOutputs { output_count: inputs.output_count });
    }
    // SIDEPOOL-02@seed: "This total is then divided by the number of transaction outputs, rounded up."
    Ok(Sat(inputs.total_offchain_fees.0.div_ceil(u64::from(inputs.output_count))))
}

/// The onchain fee contribution tax overpayment of an output state: what the
/// pool leader's nominated beneficiary output receives on top of its post-tax amount.
pub fn overpayment(inputs: TaxInputs) -> Result<Sat, TaxError> {
    let tax = onchain_fee_contribution_tax(inputs)?;
    // SIDEPOOL-02@seed: "The total onchain fee contribution tax is the individual onchain fee contribution tax times the number of transaction outputs in that state."
    // `tax * count` cannot overflow: tax <= fees/count + 1, so tax * count <= fees + count.
    let total_tax = tax.0.saturating_mul(u64::from(inputs.output_count));
    // SIDEPOOL-02@seed: "The difference between the total onchain fee contribution tax, and the actual total fees, is the onchain fee contribution tax overpayment."
    Ok(Sat(total_tax.saturating_sub(inputs.total_offchain_fees.0)))
}

/// The post-tax amount of an output that is not the overpayment beneficiary
/// (every in-sidepool HTLC output).
pub fn post_tax_amount(nominal: Sat, inputs: TaxInputs) -> Result<Sat, TaxError> {
    let tax = onchain_fee_contribution_tax(inputs)?;
    // SIDEPOOL-02@seed: "which is the above nominal amount minus the onchain fee contribution tax, and for the pool leader, plus the onchain fee contribution tax overpayment."
    nominal.checked_sub(tax).ok_or(TaxError::TaxExceedsNominal { nominal, tax })
}

/// Whether `amount` meets the SIDEPOOL-02 minimum for an output.
pub fn meets_min_amount(amount: Sat) -> bool {
    amount >= SIDEPOOL_VERSION_1_MIN_AMOUNT
}

/// Why a counter cannot take a swap-party step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterError {
    /// The Expansion Phase must start from an odd counter.
    ExpansionFromEven(UpdateCounter),
    /// The Contraction Phase must start from an even counter.
    ContractionFromOdd(UpdateCounter),
    /// 2047 + 1 does not fit in 11 bits: a Reseat Phase is mandatory first.
    Exhausted,
}

impl CounterError {
    pub fn name(&self) -> &'static str {
        match self {
            CounterError::ExpansionFromEven(_) => "expansion_from_even_counter",
            CounterError::ContractionFromOdd(_) => "contraction_from_odd_counter",
            CounterError::Exhausted => "counter_exhausted",
        }
    }
}

impl fmt::Display for CounterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterError::ExpansionFromEven(c) => write!(f, "Expansion Phase cannot start at even counter {}", c.get()),
            CounterError::ContractionFromOdd(c) => write!(f, "Contraction Phase cannot start at odd counter {}", c.get()),
            CounterError::Exhausted => f.write_str("the 11-bit update counter is exhausted; reseat first"),
        }
    }
}

impl std::error::Error for CounterError {}

/// SIDEPOOL-02: "For a new pool, or a reseated pool, the pool update counter starts at binary 00000000001, or decimal 1."
pub const INITIAL_UPDATE_COUNTER: u16 = 1;

/// The counter after the Expansion Phase that starts at `before`.
pub fn after_expansion(before: UpdateCounter) -> Result<UpdateCounter, CounterError> {
    // SIDEPOOL-02: "The first update (Expansion Phase) in the swap party is always from an odd counter value (lowest bit 1) to an even counter value (lowest bit 0)."
    if !before.is_odd() {
        return Err(CounterError::ExpansionFromEven(before));
    }
    // SIDEPOOL-02: "Each update increments this counter."
    // SIDEPOOL-02: "As there are two updates per swap party, the 11-bit counter (maximum 2047) implies a maximum of 1023 swap parties before the pool needs to perform some onchain operation to reset the pool update counter back to 1 (i.e. a Reseat Phase becomes mandatory)."
    before.get().checked_add(1).and_then(UpdateCounter::new).ok_or(CounterError::Exhausted)
}

/// The counter after the Contraction Phase that starts at `before`.
pub fn after_contraction(before: UpdateCounter) -> Result<UpdateCounter, CounterError> {
    // SIDEPOOL-02: "The second update (Contraction Phase) is always from an even counter value (lowest bit 0) to an odd counter value (lowest bit 1)."
    if before.is_odd() {
        return Err(CounterError::ContractionFromOdd(before));
    }
    // An even 11-bit value is at most 2046, so the increment always fits.
    before.get().checked_add(1).and_then(UpdateCounter::new).ok_or(CounterError::Exhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(fees: u64, count: u32) -> TaxInputs {
        TaxInputs { total_offchain_fees: Sat(fees), output_count: count }
    }

    #[test]
    fn tax_rounds_up() {
        assert_eq!(onchain_fee_contribution_tax(inputs(1000, 3)), Ok(Sat(334)));
        assert_eq!(onchain_fee_contribution_tax(inputs(999, 3)), Ok(Sat(333)));
        assert_eq!(onchain_fee_contribution_tax(inputs(0, 7)), Ok(Sat(0)));
        assert_eq!(onchain_fee_contribution_tax(inputs(1, 400)), Ok(Sat(1)));
    }

    #[test]
    fn tax_needs_one_to_four_hundred_outputs() {
        assert_eq!(onchain_fee_contribution_tax(inputs(10, 0)), Err(TaxError::NoOutputs));
        assert_eq!(
            onchain_fee_contribution_tax(inputs(10, 401)),
            Err(TaxError::TooManyOutputs { output_count: 401 })
        );
        assert!(onchain_fee_contribution_tax(inputs(10, 400)).is_ok());
    }

    #[test]
    fn overpayment_is_rounding_excess() {
        // 1000 / 3 rounds up to 334; 3 * 334 = 1002, 2 sat over.
        assert_eq!(overpayment(inputs(1000, 3)), Ok(Sat(2)));
        assert_eq!(overpayment(inputs(999, 3)), Ok(Sat(0)));
    }

    #[test]
    fn post_tax_is_nominal_minus_tax() {
        assert_eq!(post_tax_amount(Sat(100_000), inputs(1000, 3)), Ok(Sat(99_666)));
        assert_eq!(post_tax_amount(Sat(334), inputs(1000, 3)), Ok(Sat(0)));
        assert_eq!(
            post_tax_amount(Sat(333), inputs(1000, 3)),
            Err(TaxError::TaxExceedsNominal { nominal: Sat(333), tax: Sat(334) })
        );
    }

    #[test]
    fn min_amount_is_ten_thousand_sat() {
        assert!(meets_min_amount(Sat(10_000)));
        assert!(!meets_min_amount(Sat(9_999)));
        assert_eq!(SIDEPOOL_VERSION_1_MIN_AMOUNT.to_msat(), Some(crate::units::Msat(10_000_000)));
    }

    #[test]
    fn counter_parity_across_a_swap_party() {
        let c = |v| UpdateCounter::new(v).unwrap();
        assert_eq!(after_expansion(c(1)), Ok(c(2)));
        assert_eq!(after_contraction(c(2)), Ok(c(3)));
        assert_eq!(after_expansion(c(2)), Err(CounterError::ExpansionFromEven(c(2))));
        assert_eq!(after_contraction(c(3)), Err(CounterError::ContractionFromOdd(c(3))));
        assert_eq!(after_expansion(c(2045)), Ok(c(2046)));
        assert_eq!(after_contraction(c(2046)), Ok(c(2047)));
        assert_eq!(after_expansion(c(2047)), Err(CounterError::Exhausted));
        assert_eq!(INITIAL_UPDATE_COUNTER, 1);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn post_tax_never_exceeds_nominal(nominal in 0u64..=u64::MAX, fees in 0u64..=u64::MAX, count in 1u32..=400) {
                if let Ok(post) = post_tax_amount(Sat(nominal), inputs(fees, count)) {
                    prop_assert!(post <= Sat(nominal));
                }
            }

            #[test]
            fn total_tax_covers_fees_with_less_than_one_sat_per_output_excess(fees in 0u64..=u64::MAX / 1000, count in 1u32..=400) {
                let tax = onchain_fee_contribution_tax(inputs(fees, count)).unwrap();
                let total = tax.0 * u64::from(count);
                prop_assert!(total >= fees);
                prop_assert!(total - fees < u64::from(count));
                prop_assert_eq!(overpayment(inputs(fees, count)).unwrap(), Sat(total - fees));
            }

            #[test]
            fn swap_party_returns_counter_to_odd(v in 0u16..=1023) {
                let before = UpdateCounter::new(2 * v + 1).unwrap();
                match after_expansion(before) {
                    Ok(mid) => {
                        prop_assert!(!mid.is_odd());
                        let after = after_contraction(mid).unwrap();
                        prop_assert!(after.is_odd());
                        prop_assert_eq!(after.get(), before.get() + 2);
                    }
                    Err(e) => prop_assert_eq!((e, before.get()), (CounterError::Exhausted, 2047)),
                }
            }
        }
    }
}
