//! BIP-327 KeyAgg, KeySort and ApplyTweak, as far as SIDEPOOL-06 needs them.
//!
//! The arithmetic is the `musig2` crate's; this module adds what the vectors and
//! the HTLC key need around it: parsing keys from bytes with the index of the
//! failing signer, typed errors, and the intermediates (coefficients, the
//! aggregate point) as bytes. `musig2` links its own copy of libsecp256k1
//! (rust-secp256k1 0.31, `bitcoin` uses 0.29), so the two meet only as bytes.

use core::fmt;

use musig2::secp::{MaybeScalar, Point, Scalar};

/// Why BIP-327 KeyAgg failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAggError {
    /// KeyAgg needs at least one key (`u ≥ 1`).
    NoKeys,
    /// BIP-327: `InvalidContributionError(i, "pubkey")` — key `signer` (0-based) is not a
    /// 33-byte compressed encoding of a point.
    InvalidContribution { signer: usize },
    /// The aggregate is the point at infinity (BIP-327: "Fail if is_infinite(Q)").
    Infinity,
}

impl KeyAggError {
    /// The machine-readable name used in vectors.
    pub fn code(&self) -> &'static str {
        match self {
            KeyAggError::NoKeys => "no_keys",
            KeyAggError::InvalidContribution { .. } => "invalid_contribution",
            KeyAggError::Infinity => "aggregate_is_infinity",
        }
    }
}

impl fmt::Display for KeyAggError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAggError::NoKeys => f.write_str("KeyAgg of an empty key list"),
            KeyAggError::InvalidContribution { signer } => write!(f, "public key of signer {signer} is not a valid compressed point"),
            KeyAggError::Infinity => f.write_str("aggregate public key is the point at infinity"),
        }
    }
}

/// Why BIP-327 ApplyTweak failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TweakError {
    /// BIP-327: "The tweak must be less than n."
    OutOfRange,
    /// BIP-327: "The result of tweaking cannot be infinity."
    Infinity,
}

impl TweakError {
    pub fn code(&self) -> &'static str {
        match self {
            TweakError::OutOfRange => "tweak_out_of_range",
            TweakError::Infinity => "tweak_result_infinity",
        }
    }
}

impl fmt::Display for TweakError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TweakError::OutOfRange => f.write_str("the tweak must be less than n"),
            TweakError::Infinity => f.write_str("the result of tweaking cannot be infinity"),
        }
    }
}

/// A BIP-327 key aggregation context: the ordered keys, their coefficients and
/// the current (possibly tweaked) aggregate point.
#[derive(Clone, Debug)]
pub struct KeyAggContext {
    inner: musig2::KeyAggContext,
}

/// BIP-327 KeyAgg over 33-byte compressed keys, in the order given (no KeySort).
///
/// The first key that does not parse is reported with its 0-based index, as
/// BIP-327's `InvalidContributionError(i, "pubkey")`.
pub fn key_agg(pubkeys: &[&[u8]]) -> Result<KeyAggContext, KeyAggError> {
    if pubkeys.is_empty() {
        return Err(KeyAggError::NoKeys);
    }
    let mut points = Vec::with_capacity(pubkeys.len());
    for (signer, bytes) in pubkeys.iter().enumerate() {
        // BIP-327 cpoint(): exactly 33 bytes, prefix 02/03, x on the curve.
        if bytes.len() != 33 {
            return Err(KeyAggError::InvalidContribution { signer });
        }
        points.push(Point::from_slice(bytes).map_err(|_| KeyAggError::InvalidContribution { signer })?);
    }
    let inner = musig2::KeyAggContext::new(points).map_err(|_| KeyAggError::Infinity)?;
    Ok(KeyAggContext { inner })
}

/// BIP-327 KeySort: the 33-byte keys in ascending lexicographic byte order.
///
/// KeySort works on byte strings, so it also orders values that are not points.
pub fn key_sort(pubkeys: &[[u8; 33]]) -> Vec<[u8; 33]> {
    let mut sorted = pubkeys.to_vec();
    sorted.sort_unstable();
    sorted
}

impl KeyAggContext {
    /// The current aggregate point `Q` (tweaked if tweaks were applied), compressed.
    pub fn aggregate_point(&self) -> [u8; 33] {
        self.inner.aggregated_pubkey::<Point>().serialize()
    }

    /// The x-only encoding of `Q` (BIP-327 `GetXonlyPubkey`).
    pub fn aggregate_xonly(&self) -> [u8; 32] {
        self.inner.aggregated_pubkey::<Point>().serialize_xonly()
    }

    /// The number of keys aggregated.
    pub fn len(&self) -> usize {
        self.inner.pubkeys().len()
    }

    /// Always false: KeyAgg refuses an empty key list.
    pub fn is_empty(&self) -> bool {
        self.inner.pubkeys().is_empty()
    }

    /// The KeyAgg coefficient `a_i` of signer `index` (0-based), as a 32-byte big-endian scalar.
    pub fn key_coefficient(&self, index: usize) -> Option<[u8; 32]> {
        let pk: Point = self.inner.get_pubkey(index)?;
        self.inner.key_coefficient(pk).map(|a| a.serialize())
    }

    /// BIP-327 ApplyTweak: a plain (`is_xonly = false`) or x-only tweak `t`, 0 ≤ t < n.
    pub fn apply_tweak(self, tweak: &[u8; 32], is_xonly: bool) -> Result<KeyAggContext, TweakError> {
        let t = MaybeScalar::from_slice(tweak).map_err(|_| TweakError::OutOfRange)?;
        let inner = if is_xonly { self.inner.with_xonly_tweak(t) } else { self.inner.with_plain_tweak(t) };
        Ok(KeyAggContext { inner: inner.map_err(|_| TweakError::Infinity)? })
    }

    /// The secret key `d` with `d·G = Q` for the current (tweaked) `Q`, from the
    /// signers' secret keys in KeyAgg order: `d = g·Σ aᵢ·dᵢ + tacc` (BIP-327
    /// coefficients, `g` the accumulated parity negation of x-only tweaks).
    ///
    /// `None` when a key is missing, not a scalar, or the keys are not the ones
    /// behind the aggregated public keys (checked: `d·G` must equal `Q`).
    pub(crate) fn aggregate_secret(&self, secrets: &[&[u8; 32]]) -> Option<[u8; 32]> {
        if secrets.len() != self.len() {
            return None;
        }
        let mut scalars = Vec::with_capacity(secrets.len());
        for s in secrets {
            scalars.push(Scalar::from_slice(s.as_slice()).ok()?);
        }
        let d: Scalar = self.inner.aggregated_seckey(scalars).ok()?;
        Some(d.serialize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hex_str: &str) -> Vec<u8> {
        hex::decode(hex_str).unwrap()
    }

    #[test]
    fn bip327_first_valid_case_and_order_dependence() {
        // bip-0327/vectors/key_agg_vectors.json, valid cases 1 and 2 (full conversion in vectors/external/).
        let k0 = key("02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
        let k1 = key("03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659");
        let k2 = key("023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66");
        let ctx = key_agg(&[&k0, &k1, &k2]).unwrap();
        assert_eq!(hex::encode(ctx.aggregate_xonly()), "90539eede565f5d054f32cc0c220126889ed1e5d193baf15aef344fe59d4610c");
        let rev = key_agg(&[&k2, &k1, &k0]).unwrap();
        assert_eq!(hex::encode(rev.aggregate_xonly()), "6204de8b083426dc6eaf9502d27024d53fc826bf7d2012148a0575435df54b2b");
        // The second distinct key gets coefficient 1 (BIP-327 GetSecondKey).
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(ctx.key_coefficient(1), Some(one));
        assert_ne!(ctx.key_coefficient(0), Some(one));
        assert_eq!(ctx.key_coefficient(3), None);
        assert_eq!((ctx.len(), ctx.is_empty()), (3, false));
    }

    #[test]
    fn invalid_keys_name_the_signer() {
        let k0 = key("02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
        let short = &k0[..32];
        assert_eq!(key_agg(&[]).err(), Some(KeyAggError::NoKeys));
        assert_eq!(key_agg(&[&k0, short]).err(), Some(KeyAggError::InvalidContribution { signer: 1 }));
        let mut uncompressed_prefix = k0.clone();
        uncompressed_prefix[0] = 0x04;
        assert_eq!(key_agg(&[&uncompressed_prefix, &k0]).err(), Some(KeyAggError::InvalidContribution { signer: 0 }));
    }

    #[test]
    fn key_sort_is_bytewise() {
        let a = [2u8; 33];
        let mut b = [2u8; 33];
        b[32] = 3;
        let c = [3u8; 33];
        assert_eq!(key_sort(&[c, b, a]), vec![a, b, c]);
    }
}
