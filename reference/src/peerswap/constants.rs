//! The numbers SIDEPOOL-10 (and the SIDEPOOL-02 minimum it leans on) fixes, as typed constants.
//!
//! Shared by the decision rules (balance, offer, receive, forward) and the
//! in-Lightning HTLC part (split planner, hold timer), so each number lives once.

use crate::units::{BlockDelta, Hops};
use core::fmt;
use core::ops::RangeInclusive;

/// `sidepool_version_1_min_amount`, defined with the rest of SIDEPOOL-02 in `pool`.
pub use crate::pool::SIDEPOOL_VERSION_1_MIN_AMOUNT;

/// The acceptor's margin on the in-sidepool timeout.
/// SIDEPOOL-10: "MUST check that the in-sidepool timeout is greater than or equal to the current blockheight + 4032."
pub const SIDEPOOL_TIMEOUT_MIN_DELTA: BlockDelta = BlockDelta(4032);

/// The offerrer adds one block to the acceptor's margin.
/// SIDEPOOL-10: "MUST set the in-sidepool timeout to greater than or equal to the current blockheight + 4032 + 1."
pub const OFFERRER_SIDEPOOL_TIMEOUT_DELTA: BlockDelta = BlockDelta(4032 + 1);

/// Upper bound of the offerrer's `final_cltv_delta` and of the acceptor's `cltv_delta`.
/// SIDEPOOL-10: "`cltv_delta` MUST be less than or equal to 2016."
pub const MAX_CLTV_DELTA: BlockDelta = BlockDelta(2016);

/// Minimum gap between the in-sidepool and in-Lightning timelocks a forwarder may send.
/// SIDEPOOL-10: "The difference between the in-sidepool and in-Lightning timelocks MUST be 2016 or more."
pub const FORWARD_MIN_TIMELOCK_GAP: BlockDelta = BlockDelta(2016);

/// `peerswap_max_ln_splits`.
/// SIDEPOOL-10: "MUST NOT send this message to a peer if the number of in-Lightning HTLC splits exceeds `peerswap_max_ln_splits` (40), as determined below:"
pub const PEERSWAP_MAX_LN_SPLITS: u64 = 40;

/// SIDEPOOL-10: "It MUST be a value between 0 to 10."
pub const MAX_HOPS: Hops = Hops(10);

/// SIDEPOOL-10: "The ultimate offerrer SHOULD set this to a random value from 5 to 10."
pub const ULTIMATE_OFFERRER_HOPS: RangeInclusive<u8> = 5..=10;

/// SIDEPOOL-10: "The offerrer MUST hold for up to 60 seconds, starting from when the first incoming in-Lightning HTLC has been irrevocably committed."
pub const HOLD_TIMEOUT: Seconds = Seconds(60);

/// SIDEPOOL-10: "MUST defer processing of this message for up to 5 minutes if it is a pool follower and has not received `swap_party_begin` yet, and resume processing of this message if it receives `swap_party_begin` before then."
pub const SWAP_PARTY_BEGIN_DEFERRAL: Seconds = Seconds(5 * 60);

/// The numbers above that a spec author might change, as one value, so that a
/// caller (the model checker, `tools/model/`) can ask "what if the text said
/// otherwise?" while the rules stay the same code. [`SpecConstants::SPEC`] is the
/// text; every rule that takes no `SpecConstants` uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpecConstants {
    /// [`SIDEPOOL_TIMEOUT_MIN_DELTA`] (4032); the offerrer adds one ([`OFFERRER_SIDEPOOL_TIMEOUT_DELTA`]).
    pub sidepool_timeout_min_delta: BlockDelta,
    /// [`MAX_CLTV_DELTA`] (2016).
    pub max_cltv_delta: BlockDelta,
    /// [`FORWARD_MIN_TIMELOCK_GAP`] (2016).
    pub forward_min_timelock_gap: BlockDelta,
    /// [`HOLD_TIMEOUT`] (60 s).
    pub hold_timeout: Seconds,
    /// [`SWAP_PARTY_BEGIN_DEFERRAL`] (5 minutes).
    pub swap_party_begin_deferral: Seconds,
    /// [`ULTIMATE_OFFERRER_HOPS`] (5 to 10), as its first and last value.
    pub ultimate_offerrer_hops: (u8, u8),
}

impl SpecConstants {
    /// The numbers as the pinned text gives them.
    pub const SPEC: SpecConstants = SpecConstants {
        sidepool_timeout_min_delta: SIDEPOOL_TIMEOUT_MIN_DELTA,
        max_cltv_delta: MAX_CLTV_DELTA,
        forward_min_timelock_gap: FORWARD_MIN_TIMELOCK_GAP,
        hold_timeout: HOLD_TIMEOUT,
        swap_party_begin_deferral: SWAP_PARTY_BEGIN_DEFERRAL,
        ultimate_offerrer_hops: (*ULTIMATE_OFFERRER_HOPS.start(), *ULTIMATE_OFFERRER_HOPS.end()),
    };

    /// The offerrer's in-sidepool delta: the acceptor's margin plus one block
    /// (`None` if that overflows).
    pub fn offerrer_sidepool_timeout_delta(&self) -> Option<BlockDelta> {
        self.sidepool_timeout_min_delta.0.checked_add(1).map(BlockDelta)
    }
}

impl Default for SpecConstants {
    fn default() -> Self {
        SpecConstants::SPEC
    }
}

/// A duration in whole seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(pub u64);

/// A point in time in whole seconds since an epoch the caller chooses (the
/// reference has no clock: the caller passes "now" in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Seconds) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }
    /// Seconds from `earlier` to `self`; zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Timestamp) -> Seconds {
        Seconds(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_text() {
        assert_eq!(SIDEPOOL_VERSION_1_MIN_AMOUNT.to_msat(), Some(crate::units::Msat(10_000_000)));
        assert_eq!(OFFERRER_SIDEPOOL_TIMEOUT_DELTA.0, SIDEPOOL_TIMEOUT_MIN_DELTA.0 + 1);
        assert_eq!((MAX_CLTV_DELTA.0, FORWARD_MIN_TIMELOCK_GAP.0, PEERSWAP_MAX_LN_SPLITS), (2016, 2016, 40));
        assert_eq!((HOLD_TIMEOUT.0, SWAP_PARTY_BEGIN_DEFERRAL.0), (60, 300));
        assert!(ULTIMATE_OFFERRER_HOPS.clone().all(|h| Hops(h).is_in_range()));
        assert_eq!(MAX_HOPS.0, Hops::MAX);
        let spec = SpecConstants::SPEC;
        assert_eq!(spec.offerrer_sidepool_timeout_delta(), Some(OFFERRER_SIDEPOOL_TIMEOUT_DELTA));
        assert_eq!(spec.ultimate_offerrer_hops, (5, 10));
        assert_eq!(SpecConstants::default(), spec);
        assert_eq!(SpecConstants { sidepool_timeout_min_delta: BlockDelta(u32::MAX), ..spec }.offerrer_sidepool_timeout_delta(), None);
    }

    #[test]
    fn time_reads_with_its_unit_and_saturates() {
        // The node's log and the hold/deferral diagnostics print these.
        assert_eq!(HOLD_TIMEOUT.to_string(), "60 s");
        assert_eq!(Timestamp(1_700_000_000).to_string(), "t=1700000000");
        assert_eq!(Timestamp(u64::MAX - 1).saturating_add(Seconds(5)), Timestamp(u64::MAX));
        assert_eq!(Timestamp(10).saturating_since(Timestamp(25)), Seconds(0));
        assert_eq!(Timestamp(25).saturating_since(Timestamp(10)), Seconds(15));
    }
}
