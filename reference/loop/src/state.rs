//! Swap states (LOOP-01 "Swap states"): one enum for Loop Out and Loop In, as Loop
//! has it, with the pending / final classification and the state type.

use core::fmt;

/// A swap state. The discriminants are Loop's stored numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
// LOOP-01: "Swap states MUST be numbered Initiated 0, PreimageRevealed 1, Success 2, FailOffchainPayments 3, FailTimeout 4, FailSweepTimeout 5, FailInsufficientValue 6, FailTemporary 7, HtlcPublished 8, InvoiceSettled 9, FailIncorrectHtlcAmt 10, FailAbandoned 11, FailInsufficientConfirmedBalance 12 and FailIncorrectHtlcAmtSwept 13."
pub enum SwapState {
    Initiated = 0,
    PreimageRevealed = 1,
    Success = 2,
    FailOffchainPayments = 3,
    FailTimeout = 4,
    FailSweepTimeout = 5,
    FailInsufficientValue = 6,
    FailTemporary = 7,
    HtlcPublished = 8,
    InvoiceSettled = 9,
    FailIncorrectHtlcAmt = 10,
    FailAbandoned = 11,
    FailInsufficientConfirmedBalance = 12,
    FailIncorrectHtlcAmtSwept = 13,
}

/// A state's type (Loop's `SwapStateType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateType {
    Pending = 0,
    Success = 1,
    Fail = 2,
}

impl StateType {
    pub fn name(self) -> &'static str {
        match self {
            StateType::Pending => "pending",
            StateType::Success => "success",
            StateType::Fail => "fail",
        }
    }
}

/// A number that is no swap state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnknownState(pub u8);

impl UnknownState {
    pub fn name(&self) -> &'static str {
        "unknown_state"
    }
}

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a swap state", self.0)
    }
}

impl SwapState {
    pub const ALL: [SwapState; 14] = [
        SwapState::Initiated,
        SwapState::PreimageRevealed,
        SwapState::Success,
        SwapState::FailOffchainPayments,
        SwapState::FailTimeout,
        SwapState::FailSweepTimeout,
        SwapState::FailInsufficientValue,
        SwapState::FailTemporary,
        SwapState::HtlcPublished,
        SwapState::InvoiceSettled,
        SwapState::FailIncorrectHtlcAmt,
        SwapState::FailAbandoned,
        SwapState::FailInsufficientConfirmedBalance,
        SwapState::FailIncorrectHtlcAmtSwept,
    ];

    /// The state with this stored number.
    // LOOP-01: "A number that is not one of the fourteen states MUST be treated as an unknown state, never as a final one."
    pub fn from_code(code: u8) -> Result<SwapState, UnknownState> {
        SwapState::ALL.get(usize::from(code)).copied().ok_or(UnknownState(code))
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The state's name (LOOP-01's, which is Loop's constant without `State`).
    pub fn name(self) -> &'static str {
        match self {
            SwapState::Initiated => "Initiated",
            SwapState::PreimageRevealed => "PreimageRevealed",
            SwapState::Success => "Success",
            SwapState::FailOffchainPayments => "FailOffchainPayments",
            SwapState::FailTimeout => "FailTimeout",
            SwapState::FailSweepTimeout => "FailSweepTimeout",
            SwapState::FailInsufficientValue => "FailInsufficientValue",
            SwapState::FailTemporary => "FailTemporary",
            SwapState::HtlcPublished => "HtlcPublished",
            SwapState::InvoiceSettled => "InvoiceSettled",
            SwapState::FailIncorrectHtlcAmt => "FailIncorrectHtlcAmt",
            SwapState::FailAbandoned => "FailAbandoned",
            SwapState::FailInsufficientConfirmedBalance => "FailInsufficientConfirmedBalance",
            SwapState::FailIncorrectHtlcAmtSwept => "FailIncorrectHtlcAmtSwept",
        }
    }

    pub fn from_name(name: &str) -> Option<SwapState> {
        SwapState::ALL.into_iter().find(|s| s.name() == name)
    }

    // LOOP-01: "A swap MUST be pending exactly when its state is Initiated, HtlcPublished, PreimageRevealed, FailTemporary, InvoiceSettled or FailIncorrectHtlcAmt, and final otherwise."
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            SwapState::Initiated
                | SwapState::HtlcPublished
                | SwapState::PreimageRevealed
                | SwapState::FailTemporary
                | SwapState::InvoiceSettled
                | SwapState::FailIncorrectHtlcAmt
        )
    }

    pub fn is_final(self) -> bool {
        !self.is_pending()
    }

    // LOOP-01: "A state's type MUST be pending for a pending state, success for Success, and fail for every other state."
    pub fn state_type(self) -> StateType {
        if self.is_pending() {
            StateType::Pending
        } else if self == SwapState::Success {
            StateType::Success
        } else {
            StateType::Fail
        }
    }

    /// Whether the client writes this state to its store (FailTemporary is only reported).
    // LOOP-01: "The client MUST NOT persist state FailTemporary, which only reports an unexpected error."
    pub fn is_persisted(self) -> bool {
        self != SwapState::FailTemporary
    }
}

impl fmt::Display for SwapState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_numbers_are_refused() {
        for s in SwapState::ALL {
            assert_eq!(SwapState::from_code(s.code()), Ok(s));
            assert_eq!(SwapState::from_name(s.name()), Some(s));
        }
        for code in 14..=u8::MAX {
            assert_eq!(SwapState::from_code(code), Err(UnknownState(code)));
        }
    }

    #[test]
    fn six_pending_one_success_seven_fail() {
        let count = |t| SwapState::ALL.iter().filter(|s| s.state_type() == t).count();
        assert_eq!((count(StateType::Pending), count(StateType::Success), count(StateType::Fail)), (6, 1, 7));
        assert!(SwapState::FailTemporary.is_pending() && SwapState::FailIncorrectHtlcAmt.is_pending());
        assert!(!SwapState::FailTemporary.is_persisted());
    }
}
