//! SIDEPOOL-10 "Balance Measurement": the imbalance error between us and one peer.
//!
//! Everything is kept at twice scale in millisatoshis, as the spec does, so no
//! halving (and no rounding) happens here.

use crate::peerswap::messages::ChannelView;
use crate::units::{Msat, Sat};
use core::fmt;

/// Where a channel is in its life; only [`ChannelState::Normal`] counts.
///
/// SIDEPOOL-10: ""Normal operation" is after both participants have emitted [BOLT #2 `channel_ready`][] messages, and before either participant has emitted [BOLT #1 `error`][] or [BOLT #2 `shutdown`][] messages or has detected a unilateral close of the channel."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Before both sides have sent `channel_ready`.
    AwaitingChannelReady,
    /// Normal operation.
    Normal,
    /// Either side has sent `shutdown`.
    ShuttingDown,
    /// Either side has sent `error`.
    Errored,
    /// A unilateral close was detected.
    UnilateralClose,
}

impl ChannelState {
    pub fn is_normal(self) -> bool {
        self == ChannelState::Normal
    }
    /// The machine name used in vectors.
    pub fn name(self) -> &'static str {
        match self {
            ChannelState::AwaitingChannelReady => "awaiting_channel_ready",
            ChannelState::Normal => "normal",
            ChannelState::ShuttingDown => "shutting_down",
            ChannelState::Errored => "errored",
            ChannelState::UnilateralClose => "unilateral_close",
        }
    }
    pub fn from_name(name: &str) -> Option<ChannelState> {
        [
            ChannelState::AwaitingChannelReady,
            ChannelState::Normal,
            ChannelState::ShuttingDown,
            ChannelState::Errored,
            ChannelState::UnilateralClose,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// The amount of the funding output, as the caller knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capacity {
    Sat(Sat),
    Msat(Msat),
}

impl Capacity {
    /// SIDEPOOL-10: "Convert the channel capacity (the amount of the backing funding transaction output; do not deduct channel reserves) into millisatoshis."
    pub fn to_msat(self) -> Result<Msat, BalanceError> {
        match self {
            Capacity::Msat(m) => Ok(m),
            Capacity::Sat(s) => s.to_msat().ok_or(BalanceError::Overflow),
        }
    }
}

/// One channel with the peer, from our side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Channel {
    pub state: ChannelState,
    /// The funding output amount (reserves not deducted).
    pub capacity: Capacity,
    /// SIDEPOOL-10: "Use the funding amount that would be considered unambiguously owned by our side and unambiguously their side."
    pub ours: Msat,
    pub theirs: Msat,
    /// Pending HTLCs (either direction). Counted as neither side's: the formula
    /// below gives each side half of whatever is not unambiguously owned.
    pub pending_htlcs: Msat,
    /// The channel reserve our side must keep (used only by the acceptor's
    /// "amount, minus the reserve" check; never by the imbalance error).
    pub our_reserve: Msat,
    /// `htlc_maximum_msat` from the peer's `channel_update` (peer towards us).
    pub htlc_maximum_from_peer: Msat,
    /// `htlc_maximum_msat` from our own `channel_update` (us towards the peer).
    pub htlc_maximum_ours: Msat,
}

/// Why a channel description cannot be measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BalanceError {
    /// ours + theirs + pending HTLCs exceeds the channel capacity.
    InconsistentChannel { index: usize },
    /// A sum or a sat-to-msat conversion does not fit in 64 bits.
    Overflow,
}

impl BalanceError {
    /// The stable machine name used in vectors.
    pub fn name(self) -> &'static str {
        match self {
            BalanceError::InconsistentChannel { .. } => "inconsistent_channel",
            BalanceError::Overflow => "overflow",
        }
    }
}

impl fmt::Display for BalanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BalanceError::InconsistentChannel { index } => {
                write!(f, "channel {index}: our funds + their funds + pending HTLCs exceed the capacity")
            }
            BalanceError::Overflow => f.write_str("amounts do not fit in 64 bits of millisatoshis"),
        }
    }
}

/// Which side of a channel set may offer a peerswap-in-sidepool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Offerrer {
    /// Our "twice our-side funds" is below the total capacity: we may offer.
    Us,
    /// Our "twice our-side funds" is equal to or above the total: only the peer may.
    Them,
}

/// The result of measuring all channels with one peer, from our side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Balance {
    /// "total channel capacity", msat.
    pub total_capacity: Msat,
    /// "twice our-side funds", msat.
    pub twice_our_side: Msat,
    /// Sum of our unambiguous funds over the counted channels.
    pub ours: Msat,
    /// Sum of their unambiguous funds over the counted channels.
    pub theirs: Msat,
    /// The smallest `htlc_maximum_msat` the peer gave, over the counted channels.
    pub min_htlc_maximum_from_peer: Option<Msat>,
    /// The smallest `htlc_maximum_msat` we gave, over the counted channels.
    pub min_htlc_maximum_ours: Option<Msat>,
    /// The largest (our funds − our reserve) over the counted channels, if any is non-negative.
    pub max_ours_above_reserve: Option<Msat>,
    /// How many channels were in normal operation.
    pub channels_counted: usize,
}

impl Balance {
    /// SIDEPOOL-10: "Take the absolute value of the difference between "total channel capacity" and "twice our-side funds", and use it as the "*imbalance error*""
    pub fn imbalance_error(&self) -> Msat {
        Msat(self.total_capacity.0.abs_diff(self.twice_our_side.0))
    }

    /// SIDEPOOL-10: "If a participant has "twice our-side funds" as equal or greater than "total channel capacity", then the counterparty is the one that is allowed to offer peerswap-in-sidepool and this participant MUST NOT offer a peerswap-in-sidepool."
    /// SIDEPOOL-10: "Conversely, if a participant has "twice our-side funds" as less than "total channel capacity", then it MAY offer a peerswap-in-sidepool:"
    pub fn offerrer(&self) -> Offerrer {
        if self.twice_our_side < self.total_capacity {
            Offerrer::Us
        } else {
            Offerrer::Them
        }
    }

    /// What this side sends as `*_channel_view_msat` when it is the offerrer.
    /// SIDEPOOL-10: "8 bytes: `owned_by_offerrer`, an unsigned big-endian 64-bit number, what the offerrer sees as the amount of millisatoshis it owns unambiguously in all channels with the acceptor, including reserve."
    pub fn view_as_offerrer(&self) -> ChannelView {
        ChannelView { owned_by_offerrer: self.ours, owned_by_acceptor: self.theirs, total_capacity: self.total_capacity }
    }

    /// What this side sends as `peerswap_reject_channel_view_msat` when it is the acceptor.
    /// SIDEPOOL-10: "8 bytes: `owned_by_offerrer`, an unsigned big-endian 64-bit number, what the acceptor sees as the amount of millisatoshis the offerrer owns unambiguously in all channels with the acceptor, including reserve."
    pub fn view_as_acceptor(&self) -> ChannelView {
        ChannelView { owned_by_offerrer: self.theirs, owned_by_acceptor: self.ours, total_capacity: self.total_capacity }
    }
}

/// Measures all channels with one peer (ERRATA E-40: every per-peer figure,
/// not only the imbalance error, is taken over the channels in normal operation).
///
/// Every channel is checked for consistency, counted or not: an inconsistent
/// description is a caller bug, whatever the channel's state.
pub fn measure(channels: &[Channel]) -> Result<Balance, BalanceError> {
    // SIDEPOOL-10: "Set "total channel capacity" and "twice our-side funds" variables to 0."
    let mut b = Balance {
        total_capacity: Msat::ZERO,
        twice_our_side: Msat::ZERO,
        ours: Msat::ZERO,
        theirs: Msat::ZERO,
        min_htlc_maximum_from_peer: None,
        min_htlc_maximum_ours: None,
        max_ours_above_reserve: None,
        channels_counted: 0,
    };
    for (index, c) in channels.iter().enumerate() {
        let capacity = c.capacity.to_msat()?;
        let owned = c
            .ours
            .checked_add(c.theirs)
            .and_then(|o| o.checked_add(c.pending_htlcs))
            .ok_or(BalanceError::Overflow)?;
        if owned > capacity {
            return Err(BalanceError::InconsistentChannel { index });
        }
        // SIDEPOOL-10: "Over all channels in "normal operation" with the peer:"
        if !c.state.is_normal() {
            continue;
        }
        // SIDEPOOL-10: "Add the channel capacity (in millisatoshis) to the "total channel capacity" variable."
        b.total_capacity = b.total_capacity.checked_add(capacity).ok_or(BalanceError::Overflow)?;
        // SIDEPOOL-10: "Add the channel capacity (in millisatoshis), plus our funds in that channel, minus their funds in that channel, to the "twice our-side funds" variable."
        // SIDEPOOL-10: "Do not deduct channel reserves."
        // theirs <= capacity was checked above, so the subtraction cannot underflow.
        let twice = capacity
            .checked_sub(c.theirs)
            .and_then(|x| x.checked_add(c.ours))
            .ok_or(BalanceError::Overflow)?;
        b.twice_our_side = b.twice_our_side.checked_add(twice).ok_or(BalanceError::Overflow)?;
        b.ours = b.ours.checked_add(c.ours).ok_or(BalanceError::Overflow)?;
        b.theirs = b.theirs.checked_add(c.theirs).ok_or(BalanceError::Overflow)?;
        b.min_htlc_maximum_from_peer = Some(min_opt(b.min_htlc_maximum_from_peer, c.htlc_maximum_from_peer));
        b.min_htlc_maximum_ours = Some(min_opt(b.min_htlc_maximum_ours, c.htlc_maximum_ours));
        if let Some(spare) = c.ours.checked_sub(c.our_reserve) {
            b.max_ours_above_reserve = Some(b.max_ours_above_reserve.map_or(spare, |m| m.max(spare)));
        }
        b.channels_counted += 1;
    }
    Ok(b)
}

fn min_opt(acc: Option<Msat>, x: Msat) -> Msat {
    acc.map_or(x, |a| a.min(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn chan(capacity: u64, ours: u64, theirs: u64, htlcs: u64) -> Channel {
        Channel {
            state: ChannelState::Normal,
            capacity: Capacity::Msat(Msat(capacity)),
            ours: Msat(ours),
            theirs: Msat(theirs),
            pending_htlcs: Msat(htlcs),
            our_reserve: Msat(0),
            htlc_maximum_from_peer: Msat(capacity),
            htlc_maximum_ours: Msat(capacity),
        }
    }

    #[test]
    fn worked_example_both_sides() {
        // The spec's 1000 msat channel: A = 1, HTLCs = 4, B = 995.
        let a = measure(&[chan(1000, 1, 995, 4)]).unwrap();
        let b = measure(&[chan(1000, 995, 1, 4)]).unwrap();
        assert_eq!((a.total_capacity, a.twice_our_side, a.imbalance_error()), (Msat(1000), Msat(6), Msat(994)));
        assert_eq!((b.total_capacity, b.twice_our_side, b.imbalance_error()), (Msat(1000), Msat(1994), Msat(994)));
        assert_eq!((a.offerrer(), b.offerrer()), (Offerrer::Us, Offerrer::Them));
    }

    #[test]
    fn channels_outside_normal_operation_are_ignored() {
        let mut closing = chan(5000, 0, 5000, 0);
        closing.state = ChannelState::ShuttingDown;
        let b = measure(&[chan(1000, 500, 500, 0), closing]).unwrap();
        assert_eq!((b.total_capacity, b.twice_our_side, b.channels_counted), (Msat(1000), Msat(1000), 1));
        assert_eq!(b.offerrer(), Offerrer::Them, "balanced: equal means the counterparty side");
    }

    #[test]
    fn inconsistent_and_overflowing_inputs_are_errors() {
        assert_eq!(measure(&[chan(1000, 600, 500, 0)]), Err(BalanceError::InconsistentChannel { index: 0 }));
        assert_eq!(measure(&[chan(1000, 1, 1, 0), chan(10, 5, 5, 1)]), Err(BalanceError::InconsistentChannel { index: 1 }));
        assert_eq!(measure(&[chan(u64::MAX, u64::MAX, 1, 0)]), Err(BalanceError::Overflow));
        let mut big = chan(0, 0, 0, 0);
        big.capacity = Capacity::Sat(Sat(u64::MAX / 999));
        assert_eq!(measure(&[big]), Err(BalanceError::Overflow));
        let twice_overflows = chan(u64::MAX, u64::MAX, 0, 0);
        assert_eq!(measure(&[twice_overflows]), Err(BalanceError::Overflow));
    }

    #[test]
    fn reserve_is_not_deducted_but_reported() {
        let mut c = chan(1000, 400, 600, 0);
        c.our_reserve = Msat(100);
        let b = measure(&[c]).unwrap();
        assert_eq!(b.twice_our_side, Msat(800));
        assert_eq!(b.max_ours_above_reserve, Some(Msat(300)));
        c.our_reserve = Msat(401);
        assert_eq!(measure(&[c]).unwrap().max_ours_above_reserve, None);
    }
}
