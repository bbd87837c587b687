//! What each party checks of the other's messages before its next step, as decision functions with
//! typed reasons. The timing checks are in `timing`; these reasons wrap them where a party refuses
//! for either kind of reason.

use bitcoin::{Amount, ScriptBuf};
use core::fmt;

use crate::messages::{AskPresign, Invoice, SwapRequest};
use crate::output::SharedOutput;
use crate::params::Params;
use crate::timing::{self, TimingError};
use crate::units::{Height, Msat, PaymentHash};

/// Why the user gives a swap up (it then takes no further step and waits for its payment to fail back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserReason {
    PaymentHashMismatch,
    InvoiceAmountTooHigh,
    ValueMismatch,
    PayoutFeeTooHigh,
    FundingScriptMismatch,
    FundingValueMismatch,
    Timing(TimingError),
}

impl UserReason {
    pub fn name(&self) -> &'static str {
        match self {
            UserReason::PaymentHashMismatch => "payment_hash_mismatch",
            UserReason::InvoiceAmountTooHigh => "invoice_amount_too_high",
            UserReason::ValueMismatch => "value_mismatch",
            UserReason::PayoutFeeTooHigh => "payout_fee_too_high",
            UserReason::FundingScriptMismatch => "funding_script_mismatch",
            UserReason::FundingValueMismatch => "funding_value_mismatch",
            UserReason::Timing(t) => t.name(),
        }
    }
}

impl fmt::Display for UserReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for UserReason {}

/// Why the SSP refuses a request or cancels the hold invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SspReason {
    HashReused,
    ValueOutOfRange,
    AmountTooLow,
    InvalidPresign,
    /// The refund confirmed: the swap is over (`blob.settle.5`).
    Refunded,
    Timing(TimingError),
}

impl SspReason {
    pub fn name(&self) -> &'static str {
        match self {
            SspReason::HashReused => "hash_reused",
            SspReason::ValueOutOfRange => "value_out_of_range",
            SspReason::AmountTooLow => "amount_too_low",
            SspReason::InvalidPresign => "invalid_presign",
            SspReason::Refunded => "refunded",
            SspReason::Timing(t) => t.name(),
        }
    }
}

impl fmt::Display for SspReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for SspReason {}

/// The SSP on `send_bolt11_h` (step 1). `hash_seen` says whether its store holds the hash already.
pub fn check_request(request: &SwapRequest, min_value: Amount, max_value: Amount, hash_seen: bool) -> Result<(), SspReason> {
    // BLOBSWAP-01: "The SSP MUST refuse a `send_bolt11_h` whose payment hash it has accepted in an earlier swap."
    if hash_seen {
        return Err(SspReason::HashReused);
    }
    // BLOBSWAP-01: "The SSP MUST refuse a `send_bolt11_h` whose value is outside the range of values it serves."
    if request.value < min_value || request.value > max_value {
        return Err(SspReason::ValueOutOfRange);
    }
    Ok(())
}

/// The user on `res_hodl_inv` (step 4), before paying.
pub fn check_invoice(invoice: &Invoice, sent: &PaymentHash, max_amount: Msat) -> Result<(), UserReason> {
    // BLOBSWAP-01: "Before paying, the user MUST check that the invoice's payment hash is the payment hash it sent."
    if invoice.payment_hash != *sent {
        return Err(UserReason::PaymentHashMismatch);
    }
    // BLOBSWAP-01: "Before paying, the user MUST check that the invoice's amount is at most the amount it agreed to pay for the value."
    if invoice.amount > max_amount {
        return Err(UserReason::InvoiceAmountTooHigh);
    }
    Ok(())
}

/// The SSP on `check_hodl_inv` (step 7): the HTLCs held, against the invoice.
pub fn check_held(held: Msat, invoice_amount: Msat) -> Result<(), SspReason> {
    // BLOBSWAP-01: "At step (7) the SSP MUST check that the HTLCs it holds for the payment hash total at least the invoice's amount."
    if held < invoice_amount {
        return Err(SspReason::AmountTooLow);
    }
    Ok(())
}

/// The user on `ask_presign` (step 8), at `tip`, before presigning: the terms, then the timing.
pub fn check_ask_presign(ask: &AskPresign, asked_value: Amount, max_payout_fee: Amount, tip: Height, params: &Params) -> Result<(), UserReason> {
    check_presign_terms(ask, asked_value, max_payout_fee)?;
    timing::check_presign(tip, ask.refund_height, params).map_err(UserReason::Timing)
}

/// The value and fee of `ask_presign`.
pub fn check_presign_terms(ask: &AskPresign, asked_value: Amount, max_payout_fee: Amount) -> Result<(), UserReason> {
    // BLOBSWAP-01: "Before presigning, the user MUST check that the value of `ask_presign` is the value it asked for."
    if ask.value != asked_value {
        return Err(UserReason::ValueMismatch);
    }
    // BLOBSWAP-01: "Before presigning, the user MUST check that the payout fee is below the value and at most the fee it accepts."
    if ask.payout_fee >= ask.value || ask.payout_fee > max_payout_fee {
        return Err(UserReason::PayoutFeeTooHigh);
    }
    Ok(())
}

/// The user on `ret_shared` (step 13): the output found at the funding outpoint.
pub fn check_funding_output(script_pubkey: &ScriptBuf, value: Amount, expected: &SharedOutput, asked_value: Amount) -> Result<(), UserReason> {
    // BLOBSWAP-01: "The user MUST NOT reveal unless the output at the funding outpoint has the script of the shared output built from the payment hash, its own key, the SSP key and the refund height, and has the value."
    if *script_pubkey != expected.script_pubkey() {
        return Err(UserReason::FundingScriptMismatch);
    }
    if value != asked_value {
        return Err(UserReason::FundingValueMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::example;
    use crate::units::Blocks;
    use bitcoin::key::{Keypair, Secp256k1, XOnlyPublicKey};
    use bitcoin::secp256k1::SecretKey;
    use bitcoin::OutPoint;

    fn xonly(b: u8) -> XOnlyPublicKey {
        Keypair::from_secret_key(&Secp256k1::signing_only(), &SecretKey::from_slice(&[b; 32]).unwrap())
            .x_only_public_key()
            .0
    }

    #[test]
    fn request_reasons() {
        let r = SwapRequest {
            payment_hash: PaymentHash([1; 32]),
            value: Amount::from_sat(50_000),
            user_key: xonly(1),
            payout_script: ScriptBuf::new(),
        };
        let (lo, hi) = (Amount::from_sat(50_000), Amount::from_sat(60_000));
        assert_eq!(check_request(&r, lo, hi, false), Ok(()));
        assert_eq!(check_request(&r, lo, hi, true), Err(SspReason::HashReused));
        let big = SwapRequest { value: Amount::from_sat(60_001), ..r.clone() };
        assert_eq!(check_request(&big, lo, hi, false), Err(SspReason::ValueOutOfRange));
        let small = SwapRequest { value: Amount::from_sat(49_999), ..r };
        assert_eq!(check_request(&small, lo, hi, false), Err(SspReason::ValueOutOfRange));
    }

    #[test]
    fn invoice_reasons() {
        let h = PaymentHash([1; 32]);
        let inv = Invoice { payment_hash: h, amount: Msat(1000), min_final_cltv_expiry_delta: Blocks(18) };
        assert_eq!(check_invoice(&inv, &h, Msat(1000)), Ok(()));
        assert_eq!(check_invoice(&inv, &h, Msat(999)), Err(UserReason::InvoiceAmountTooHigh));
        assert_eq!(check_invoice(&inv, &PaymentHash([2; 32]), Msat(1000)), Err(UserReason::PaymentHashMismatch));
    }

    #[test]
    fn ask_presign_reasons() {
        let p = example();
        let ask = AskPresign {
            funding: OutPoint::null(),
            value: Amount::from_sat(1000),
            ssp_key: xonly(2),
            refund_height: Height(111),
            payout_fee: Amount::from_sat(100),
        };
        let v = Amount::from_sat(1000);
        let fee = Amount::from_sat(100);
        // tip 102: 102 + 2 + 3 + 4 = 111 <= 111.
        assert_eq!(check_ask_presign(&ask, v, fee, Height(102), &p), Ok(()));
        assert_eq!(
            check_ask_presign(&ask, v, fee, Height(103), &p),
            Err(UserReason::Timing(TimingError::RefundTooSoon))
        );
        assert_eq!(check_ask_presign(&ask, Amount::from_sat(999), fee, Height(102), &p), Err(UserReason::ValueMismatch));
        assert_eq!(check_ask_presign(&ask, v, Amount::from_sat(99), Height(102), &p), Err(UserReason::PayoutFeeTooHigh));
        let all_fee = AskPresign { payout_fee: Amount::from_sat(1000), ..ask };
        assert_eq!(check_ask_presign(&all_fee, v, Amount::from_sat(5000), Height(102), &p), Err(UserReason::PayoutFeeTooHigh));
    }
}
