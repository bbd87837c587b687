//! What the in-Lightning HTLCs of a peerswap total. This is where the
//! revisions differ: at `seed` it is the "Agreed-upon Amount of In-Lightning
//! HTLCs" (the SIDEPOOL-02 post-tax amount of the in-sidepool HTLC); at
//! `upstream-50799b4` that section is gone and the HTLCs total the in-sidepool
//! HTLC amount itself. The split, the offerrer's hold and the success trigger
//! all take the figure [`in_lightning_amount`] returns, so they follow the
//! revision without a second copy of their code.

use core::fmt;

use crate::pool::{self, TaxError, TaxInputs};
use crate::revision::{InLightningAmount, SpecRevision};
use crate::units::{Msat, Sat};

/// Why the agreed-upon amount cannot be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgreedAmountError {
    /// The SIDEPOOL-02 tax cannot be computed or exceeds the HTLC's nominal amount.
    Tax(TaxError),
    /// The post-tax amount does not fit in a 64-bit millisatoshi count.
    MsatOverflow(Sat),
}

impl AgreedAmountError {
    pub fn name(&self) -> &'static str {
        match self {
            AgreedAmountError::Tax(e) => e.name(),
            AgreedAmountError::MsatOverflow(_) => "msat_overflow",
        }
    }
}

impl fmt::Display for AgreedAmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgreedAmountError::Tax(e) => write!(f, "post-tax amount: {e}"),
            AgreedAmountError::MsatOverflow(s) => write!(f, "{s} does not fit in millisatoshis"),
        }
    }
}

impl std::error::Error for AgreedAmountError {}

/// The total the in-Lightning HTLCs of a peerswap carry, at revision `rev`,
/// for an in-sidepool HTLC of nominal amount `htlc_nominal` (the
/// `peerswap_init_amount_sat`). `tax` describes the output state produced by
/// this swap party's Expansion Phase; only the seed revision reads it.
pub fn in_lightning_amount(rev: SpecRevision, htlc_nominal: Sat, tax: TaxInputs) -> Result<Msat, AgreedAmountError> {
    match rev.in_lightning_amount() {
        InLightningAmount::PostTax => agreed_upon_amount(htlc_nominal, tax),
        InLightningAmount::InSidepoolHtlc => {
            // SIDEPOOL-10@upstream-50799b4: "Otherwise, the acceptor MUST make multiple payments, each smaller than the maximum HTLC, all totalling to the in-sidepool HTLC amount."
            htlc_nominal.to_msat().ok_or(AgreedAmountError::MsatOverflow(htlc_nominal))
        }
    }
}

/// Seed revision: the agreed-upon amount of the in-Lightning HTLCs of a
/// peerswap whose in-sidepool HTLC has nominal amount `htlc_nominal`, taxed as
/// the output state produced by this swap party's Expansion Phase (the state
/// that contains the HTLC; ERRATA E-61).
pub fn agreed_upon_amount(htlc_nominal: Sat, tax: TaxInputs) -> Result<Msat, AgreedAmountError> {
    // SIDEPOOL-10@seed: "agreed upon amount*... of the in-Lightning HTLCs is the ... post-tax amount... of the in-sidepool HTLC of this peerswap, as defined in [SIDEPOOL-02 Onchain Fee Charge Distribution][]."
    // The HTLC output is never the overpayment beneficiary (a leader-controlled output), so no overpayment is added.
    let post_tax = pool::post_tax_amount(htlc_nominal, tax).map_err(AgreedAmountError::Tax)?;
    // SIDEPOOL-10@seed: "The total amount to be sent over each hop of the forwarded peerswap on the Lightning Network is equal to the ... of the in-sidepool HTLC."
    post_tax.to_msat().ok_or(AgreedAmountError::MsatOverflow(post_tax))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreed_amount_is_post_tax_in_msat() {
        let tax = TaxInputs { total_offchain_fees: Sat(2_000), output_count: 7 };
        // 2000 / 7 = 285.7.. rounds up to 286.
        assert_eq!(agreed_upon_amount(Sat(50_000), tax), Ok(Msat(49_714_000)));
    }

    #[test]
    fn the_revision_decides_what_the_htlcs_total() {
        let tax = TaxInputs { total_offchain_fees: Sat(2_000), output_count: 7 };
        assert_eq!(in_lightning_amount(SpecRevision::Seed, Sat(50_000), tax), Ok(Msat(49_714_000)));
        assert_eq!(in_lightning_amount(SpecRevision::Upstream50799b4, Sat(50_000), tax), Ok(Msat(50_000_000)));
        // Upstream has no tax: an output state the seed rejects is no obstacle there.
        let none = TaxInputs { total_offchain_fees: Sat(2_000), output_count: 0 };
        assert_eq!(in_lightning_amount(SpecRevision::Upstream50799b4, Sat(50_000), none), Ok(Msat(50_000_000)));
        assert_eq!(in_lightning_amount(SpecRevision::Seed, Sat(50_000), none).map_err(|e| e.name()), Err("no_outputs"));
        let zero = TaxInputs { total_offchain_fees: Sat(0), output_count: 1 };
        assert_eq!(in_lightning_amount(SpecRevision::Upstream50799b4, Sat(u64::MAX), zero).map_err(|e| e.name()), Err("msat_overflow"));
    }

    #[test]
    fn agreed_amount_reports_tax_problems() {
        let none = TaxInputs { total_offchain_fees: Sat(2_000), output_count: 0 };
        assert_eq!(agreed_upon_amount(Sat(50_000), none).map_err(|e| e.name()), Err("no_outputs"));
        let huge = TaxInputs { total_offchain_fees: Sat(60_000), output_count: 1 };
        assert_eq!(agreed_upon_amount(Sat(50_000), huge).map_err(|e| e.name()), Err("tax_exceeds_nominal"));
        let zero = TaxInputs { total_offchain_fees: Sat(0), output_count: 1 };
        assert_eq!(agreed_upon_amount(Sat(u64::MAX), zero).map_err(|e| e.name()), Err("msat_overflow"));
    }
}
