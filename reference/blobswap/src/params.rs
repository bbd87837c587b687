//! The swap's parameters: the diagram's three periods and the two bounds the timing derivation adds.

use crate::units::Blocks;
use core::fmt;

/// BLOBSWAP-01 "Parameters". One value per swap, the same on both sides (`blob.conv.2`): the user's
/// and the SSP's machine each take one `Params`, and the caller gives both the SSP's published terms.
// BLOBSWAP-01: "Both parties MUST run a swap with the same values of SESSION_PERIOD, CONFIRMATION_PERIOD, REVEAL_WINDOW, CHAIN_DELAY and SETTLE_MARGIN."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Params {
    /// The most blocks from step (7) to `ask_presign`.
    pub session_period: Blocks,
    /// The confirmations the funding needs before the user reveals.
    pub confirmation_period: Blocks,
    /// The blocks in which the user reveals and the SSP looks up; then the SSP redeems.
    pub reveal_window: Blocks,
    /// The most blocks from broadcast to confirmation.
    pub chain_delay: Blocks,
    /// The fewest blocks before E at which the SSP can still settle.
    pub settle_margin: Blocks,
}

/// A parameter set no swap may run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamsError {
    ConfirmationPeriodZero,
    RevealWindowZero,
    ChainDelayZero,
}

impl ParamsError {
    /// The stable machine name.
    pub fn name(&self) -> &'static str {
        match self {
            ParamsError::ConfirmationPeriodZero => "confirmation_period_zero",
            ParamsError::RevealWindowZero => "reveal_window_zero",
            ParamsError::ChainDelayZero => "chain_delay_zero",
        }
    }
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for ParamsError {}

impl Params {
    /// Checks the bounds the document puts on the parameters themselves.
    pub fn check(&self) -> Result<(), ParamsError> {
        // BLOBSWAP-01: "CONFIRMATION_PERIOD MUST be at least 1 and greater than the depth of any chain reorganisation the parties guard against."
        // (The reorganisation depth is a deployment's choice; only the 1 is checkable here.)
        if self.confirmation_period.0 == 0 {
            return Err(ParamsError::ConfirmationPeriodZero);
        }
        // BLOBSWAP-01: "REVEAL_WINDOW and CHAIN_DELAY MUST each be at least 1."
        if self.reveal_window.0 == 0 {
            return Err(ParamsError::RevealWindowZero);
        }
        if self.chain_delay.0 == 0 {
            return Err(ParamsError::ChainDelayZero);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) fn example() -> Params {
    // The vectors' example values (BLOBSWAP-01 "Parameters").
    Params {
        session_period: Blocks(2),
        confirmation_period: Blocks(2),
        reveal_window: Blocks(3),
        chain_delay: Blocks(2),
        settle_margin: Blocks(4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_periods_are_refused() {
        let ok = example();
        assert_eq!(ok.check(), Ok(()));
        let c0 = Params { confirmation_period: Blocks(0), ..ok };
        assert_eq!(c0.check(), Err(ParamsError::ConfirmationPeriodZero));
        let w0 = Params { reveal_window: Blocks(0), ..ok };
        assert_eq!(w0.check(), Err(ParamsError::RevealWindowZero));
        let d0 = Params { chain_delay: Blocks(0), ..ok };
        assert_eq!(d0.check(), Err(ParamsError::ChainDelayZero));
        // SESSION_PERIOD and SETTLE_MARGIN may be 0.
        let s0 = Params { session_period: Blocks(0), settle_margin: Blocks(0), ..ok };
        assert_eq!(s0.check(), Ok(()));
    }
}
