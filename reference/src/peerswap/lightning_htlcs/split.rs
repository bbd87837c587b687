//! "Offerring In-Lightning HTLCs": how an acceptor splits the agreed-upon amount
//! into single-hop payments to its local offerrer.
//!
//! The spec fixes the constraints (each part within the maximum HTLC, parts
//! totalling exactly the agreed-upon amount, single hop, any direct channel);
//! the particular split is the reference's own, deterministic choice:
//!
//! 1. Channels are taken in order of decreasing `max_htlc`, ties in the order
//!    the caller listed them. Channels with `max_htlc` 0 are skipped.
//! 2. Each channel takes as much of the remaining amount as it can carry
//!    (`spendable`, or everything when the caller gives no figure).
//! 3. A channel's share is cut into the fewest parts that fit its `max_htlc`
//!    (`ceil(share / max_htlc)`), as equal as possible: the first
//!    `share mod n` parts are one millisatoshi larger than the rest.
//!
//! A plan never exceeds `peerswap_max_ln_splits` (40) parts (ERRATA E-62).

use core::fmt;

use crate::units::Msat;

pub use crate::peerswap::constants::PEERSWAP_MAX_LN_SPLITS;
use crate::peerswap::choices::SplitStyle;

/// The caller's handle on a direct channel with the local offerrer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelRef(pub u64);

/// A direct channel the acceptor may pay its local offerrer over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelToOfferrer {
    pub channel: ChannelRef,
    /// The largest HTLC the acceptor may offer on this channel (for example its
    /// own `htlc_maximum_msat`); an HTLC of exactly this amount is allowed (ERRATA E-60).
    pub max_htlc: Msat,
    /// How much the acceptor can currently send on this channel in total, if known.
    pub spendable: Option<Msat>,
}

/// One payment of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SplitPart {
    pub channel: ChannelRef,
    pub amount: Msat,
}

/// Why no plan exists. `name()` is the stable machine name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// Nothing to pay: an HTLC of 0 msat cannot be offered.
    ZeroAmount,
    /// No channel with a non-zero maximum HTLC.
    NoUsableChannel,
    /// The channels together cannot carry the amount; `short` is what is missing.
    InsufficientCapacity { short: Msat },
    /// The plan would need more than 40 parts.
    TooManyParts { needed: u64 },
}

impl SplitError {
    pub fn name(&self) -> &'static str {
        match self {
            SplitError::ZeroAmount => "zero_amount",
            SplitError::NoUsableChannel => "no_usable_channel",
            SplitError::InsufficientCapacity { .. } => "insufficient_capacity",
            SplitError::TooManyParts { .. } => "too_many_parts",
        }
    }
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::ZeroAmount => f.write_str("the agreed-upon amount is zero"),
            SplitError::NoUsableChannel => f.write_str("no channel to the local offerrer allows an HTLC"),
            SplitError::InsufficientCapacity { short } => write!(f, "channels cannot carry the amount; {short} short"),
            SplitError::TooManyParts { needed } => {
                write!(f, "{needed} parts needed, more than peerswap_max_ln_splits ({PEERSWAP_MAX_LN_SPLITS})")
            }
        }
    }
}

impl std::error::Error for SplitError {}

/// How one channel's share is cut: `count` parts, the first `larger` of which
/// are `base + 1` msat, the rest `base` msat.
#[derive(Clone, Copy)]
struct Cut {
    channel: ChannelRef,
    count: u64,
    base: u64,
    larger: u64,
}

/// BOLT 2's ceiling on HTLCs one channel side may hold (`max_accepted_htlcs` <= 483):
/// the bound of a plan without the 40-part limit.
pub const BOLT2_MAX_ACCEPTED_HTLCS: u64 = 483;

/// Plans the payments that carry `agreed` to the local offerrer (the
/// reference's choices: fewest parts, at most 40).
pub fn plan_split(agreed: Msat, channels: &[ChannelToOfferrer]) -> Result<Vec<SplitPart>, SplitError> {
    plan_split_with(agreed, channels, SplitStyle::Fewest, Some(PEERSWAP_MAX_LN_SPLITS))
}

/// [`plan_split`] with the open choices: the style (a conforming variant always
/// splits in two or more) and the part limit (`None`: only BOLT 2's 483).
pub fn plan_split_with(agreed: Msat, channels: &[ChannelToOfferrer], style: SplitStyle, max_parts: Option<u64>) -> Result<Vec<SplitPart>, SplitError> {
    if agreed == Msat::ZERO {
        return Err(SplitError::ZeroAmount);
    }
    let mut usable: Vec<&ChannelToOfferrer> = channels.iter().filter(|c| c.max_htlc > Msat::ZERO).collect();
    if usable.is_empty() {
        return Err(SplitError::NoUsableChannel);
    }
    // Stable: equal maxima keep the caller's order.
    usable.sort_by_key(|c| core::cmp::Reverse(c.max_htlc));

    // Count first, allocate after: a tiny maximum must not make us build millions of parts.
    let mut remaining = agreed.0;
    let mut cuts = Vec::new();
    let mut total_parts: u64 = 0;
    for c in usable {
        if remaining == 0 {
            break;
        }
        let share = c.spendable.map_or(remaining, |s| s.0.min(remaining));
        if share == 0 {
            continue;
        }
        // SIDEPOOL-10: "Each payment MUST NOT exceed any limit on the maximum HTLC to the local offerrer, such as any `htlc_maximum_msat` sent by the acceptor to the channel."
        // SIDEPOOL-10: "The acceptor MAY pay using one payment if the maximum HTLC size to the local offerrer is greater than or equal to the ... amount."
        // SIDEPOOL-10: "Otherwise, the acceptor MUST make multiple payments, each smaller than the maximum HTLC, all totalling to the ... amount."
        // ceil(share / n) <= max_htlc because n = ceil(share / max_htlc) (ERRATA E-60: "smaller than" read as "not larger than").
        let mut count = share.div_ceil(c.max_htlc.0);
        // SIDEPOOL-10: "The acceptor MAY pay using one payment if the maximum HTLC size to the local offerrer is greater than or equal to the ... amount."
        if style == SplitStyle::AtLeastTwo && total_parts == 0 && count == 1 && share >= 2 && remaining == share {
            count = 2;
        }
        total_parts = total_parts.saturating_add(count);
        cuts.push(Cut { channel: c.channel, count, base: share / count, larger: share % count });
        remaining -= share;
    }
    if remaining > 0 {
        return Err(SplitError::InsufficientCapacity { short: Msat(remaining) });
    }
    if total_parts > max_parts.unwrap_or(BOLT2_MAX_ACCEPTED_HTLCS) {
        return Err(SplitError::TooManyParts { needed: total_parts });
    }

    // SIDEPOOL-10: "Each payment MUST be a single hop, from the acceptor to its local offerrer."
    // SIDEPOOL-10: "The acceptor MAY use any valid direct channel with its local offerrer for any part of the overall payment."
    let mut parts = Vec::new();
    for cut in cuts {
        for i in 0..cut.count {
            let amount = if i < cut.larger { cut.base + 1 } else { cut.base };
            parts.push(SplitPart { channel: cut.channel, amount: Msat(amount) });
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(max: u64) -> Vec<ChannelToOfferrer> {
        vec![ChannelToOfferrer { channel: ChannelRef(1), max_htlc: Msat(max), spendable: None }]
    }
    fn amounts(parts: &[SplitPart]) -> Vec<u64> {
        parts.iter().map(|p| p.amount.0).collect()
    }

    #[test]
    fn equal_to_maximum_is_one_part() {
        assert_eq!(amounts(&plan_split(Msat(1_000), &one(1_000)).unwrap()), vec![1_000]);
    }

    #[test]
    fn one_above_maximum_is_two_near_equal_parts() {
        assert_eq!(amounts(&plan_split(Msat(1_001), &one(1_000)).unwrap()), vec![501, 500]);
    }

    #[test]
    fn forty_parts_pass_forty_one_do_not() {
        let p = plan_split(Msat(40_000), &one(1_000)).unwrap();
        assert_eq!(p.len(), 40);
        assert!(p.iter().all(|x| x.amount == Msat(1_000)));
        assert_eq!(plan_split(Msat(40_001), &one(1_000)), Err(SplitError::TooManyParts { needed: 41 }));
    }

    #[test]
    fn tiny_maximum_does_not_allocate() {
        assert_eq!(plan_split(Msat(u64::MAX), &one(1)), Err(SplitError::TooManyParts { needed: u64::MAX }));
    }

    #[test]
    fn channels_by_decreasing_maximum_then_listed_order() {
        let chans = [
            ChannelToOfferrer { channel: ChannelRef(7), max_htlc: Msat(300), spendable: Some(Msat(500)) },
            ChannelToOfferrer { channel: ChannelRef(8), max_htlc: Msat(400), spendable: Some(Msat(500)) },
            ChannelToOfferrer { channel: ChannelRef(9), max_htlc: Msat(0), spendable: None },
        ];
        let p = plan_split(Msat(900), &chans).unwrap();
        let got: Vec<(u64, u64)> = p.iter().map(|x| (x.channel.0, x.amount.0)).collect();
        assert_eq!(got, vec![(8, 250), (8, 250), (7, 200), (7, 200)]);
        assert_eq!(plan_split(Msat(1_001), &chans), Err(SplitError::InsufficientCapacity { short: Msat(1) }));
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(plan_split(Msat(0), &one(10)), Err(SplitError::ZeroAmount));
        assert_eq!(plan_split(Msat(5), &one(0)), Err(SplitError::NoUsableChannel));
        assert_eq!(plan_split(Msat(5), &[]), Err(SplitError::NoUsableChannel));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn channel() -> impl Strategy<Value = ChannelToOfferrer> {
            (0u64..4, 0u64..=2_000_000_000, proptest::option::of(0u64..=20_000_000_000)).prop_map(|(id, max, sp)| {
                ChannelToOfferrer { channel: ChannelRef(id), max_htlc: Msat(max), spendable: sp.map(Msat) }
            })
        }

        proptest! {
            #[test]
            fn plans_sum_exactly_and_respect_each_channel(agreed in 1u64..=40_000_000_000, chans in proptest::collection::vec(channel(), 0..4)) {
                if let Ok(parts) = plan_split(Msat(agreed), &chans) {
                    prop_assert!(!parts.is_empty() && parts.len() as u64 <= PEERSWAP_MAX_LN_SPLITS);
                    prop_assert_eq!(parts.iter().map(|p| p.amount.0).sum::<u64>(), agreed);
                    for p in &parts {
                        prop_assert!(p.amount > Msat::ZERO);
                        // Every part fits every channel carrying that handle's maximum (handles may repeat).
                        let fits = chans.iter().any(|c| c.channel == p.channel && p.amount <= c.max_htlc);
                        prop_assert!(fits);
                    }
                }
            }

            #[test]
            fn single_channel_plan_is_minimal_and_even(agreed in 1u64..=1_000_000_000_000, max in 1u64..=1_000_000_000_000) {
                match plan_split(Msat(agreed), &one(max)) {
                    Ok(parts) => {
                        let n = agreed.div_ceil(max);
                        prop_assert_eq!(parts.len() as u64, n);
                        let hi = parts.iter().map(|p| p.amount.0).max().unwrap();
                        let lo = parts.iter().map(|p| p.amount.0).min().unwrap();
                        prop_assert!(hi <= max && hi - lo <= 1);
                    }
                    Err(e) => prop_assert_eq!(e, SplitError::TooManyParts { needed: agreed.div_ceil(max) }),
                }
            }
        }
    }
}
