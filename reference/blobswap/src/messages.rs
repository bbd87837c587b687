//! The content of the steps that carry data between the parties, as our reading
//! (BLOBSWAP-01 "The flow"). Local steps (a controller and its own nodes) are events and actions of
//! the machines in `user` and `ssp`.

use bitcoin::key::XOnlyPublicKey;
use bitcoin::secp256k1::schnorr;
use bitcoin::{Amount, OutPoint, ScriptBuf};

use crate::units::{Blocks, Height, Msat, PaymentHash};

/// Step (1) `send_bolt11_h`, user → SSP.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SwapRequest {
    /// h: the SHA-256 of the user's preimage.
    pub payment_hash: PaymentHash,
    /// V: the value of the shared output the user buys.
    pub value: Amount,
    /// The user key of the payout and claim leaves.
    pub user_key: XOnlyPublicKey,
    /// Where the payout pays.
    pub payout_script: ScriptBuf,
}

/// Steps (3) `ret_hodl_inv` and (4) `res_hodl_inv`: the fields of the BOLT 11 hold invoice the
/// parties check (the caller decodes the invoice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Invoice {
    pub payment_hash: PaymentHash,
    /// A: what the user pays.
    pub amount: Msat,
    pub min_final_cltv_expiry_delta: Blocks,
}

/// Step (8) `ask_presign`, SSP → user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AskPresign {
    // BLOBSWAP-01: "`ask_presign` MUST carry the funding outpoint, the value, the SSP key, the refund height and the payout fee."
    pub funding: OutPoint,
    pub value: Amount,
    pub ssp_key: XOnlyPublicKey,
    pub refund_height: Height,
    pub payout_fee: Amount,
}

/// Step (9) `ret_presign`, user → SSP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetPresign {
    // BLOBSWAP-01: "`ret_presign` MUST carry the user's signature, through the payout leaf, of the payout transaction built from `ask_presign`."
    pub signature: schnorr::Signature,
}
