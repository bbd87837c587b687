//! The blob of steps (14) to (17): what the user publishes, and what the SSP accepts as the reveal.

use crate::units::{PaymentHash, Preimage};
use core::fmt;

/// The blob's length: the payment hash and the preimage.
pub const BLOB_LEN: usize = 64;

/// Why a blob found for h is not the reveal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlobError {
    WrongLength,
    WrongPaymentHash,
    NotAPreimage,
}

impl BlobError {
    pub fn name(&self) -> &'static str {
        match self {
            BlobError::WrongLength => "wrong_length",
            BlobError::WrongPaymentHash => "wrong_payment_hash",
            BlobError::NotAPreimage => "not_a_preimage",
        }
    }
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for BlobError {}

/// The blob the user publishes at step (14).
pub fn reveal_blob(preimage: &Preimage) -> Vec<u8> {
    // BLOBSWAP-01: "The blob MUST be the 64 bytes of the payment hash followed by the preimage."
    let mut blob = Vec::with_capacity(BLOB_LEN);
    blob.extend_from_slice(&preimage.payment_hash().0);
    blob.extend_from_slice(preimage.as_bytes());
    blob
}

/// The SSP's check of a blob found at step (17): the preimage it reveals.
pub fn check_blob(blob: &[u8], payment_hash: &PaymentHash) -> Result<Preimage, BlobError> {
    // BLOBSWAP-01: "The SSP MUST take a blob as the reveal only if it is 64 bytes long, its first 32 bytes are the payment hash, and the SHA-256 hash of its last 32 bytes is the payment hash."
    if blob.len() != BLOB_LEN {
        return Err(BlobError::WrongLength);
    }
    let (hash, preimage) = blob.split_at(BLOB_LEN / 2);
    if hash != payment_hash.0 {
        return Err(BlobError::WrongPaymentHash);
    }
    let bytes: [u8; 32] = preimage.try_into().map_err(|_| BlobError::WrongLength)?;
    let preimage = Preimage::new(bytes);
    if preimage.payment_hash() != *payment_hash {
        return Err(BlobError::NotAPreimage);
    }
    Ok(preimage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_round_trips() {
        let p = Preimage::new([9; 32]);
        let blob = reveal_blob(&p);
        assert_eq!(blob.len(), 64);
        assert_eq!(check_blob(&blob, &p.payment_hash()), Ok(p));
    }

    #[test]
    fn bad_blobs_are_refused_with_their_reason() {
        let p = Preimage::new([9; 32]);
        let h = p.payment_hash();
        let blob = reveal_blob(&p);
        assert_eq!(check_blob(&blob[..63], &h), Err(BlobError::WrongLength));
        assert_eq!(check_blob(&[blob.clone(), vec![0]].concat(), &h), Err(BlobError::WrongLength));
        assert_eq!(check_blob(&[], &h), Err(BlobError::WrongLength));
        let mut other_hash = blob.clone();
        other_hash[0] ^= 1;
        assert_eq!(check_blob(&other_hash, &h), Err(BlobError::WrongPaymentHash));
        let mut other_preimage = blob.clone();
        other_preimage[63] ^= 1;
        assert_eq!(check_blob(&other_preimage, &h), Err(BlobError::NotAPreimage));
    }
}
