//! The six Loop Out phases of Loop's architecture document (LOOP-01 "Loop Out phases").

use core::fmt;

/// A Loop Out phase, in the architecture document's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LoopOutPhase {
    /// 1. The client queries and validates the server's terms.
    Initiation,
    /// 2. The client pays the prepay invoice (the "small fee HTLC that is unrestricted").
    Fee,
    /// 3. The client pays the swap invoice (the "funding HTLC locked to a preimage").
    Funding,
    /// 4. The server's on-chain HTLC has confirmed.
    Payment,
    /// 5. The client has published its claim of the HTLC, revealing the preimage.
    Complete,
    /// 6. The server has settled the swap invoice with the revealed preimage.
    Final,
}

/// Why a phase cannot be entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhaseError {
    /// The server took the funding payment before the client completed the swap:
    /// the architecture's safety claim broken.
    FinalBeforeComplete,
    /// The client claimed before the HTLC confirmed.
    CompleteBeforePayment,
}

impl PhaseError {
    pub fn name(&self) -> &'static str {
        match self {
            PhaseError::FinalBeforeComplete => "final_before_complete",
            PhaseError::CompleteBeforePayment => "complete_before_payment",
        }
    }
}

impl fmt::Display for PhaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhaseError::FinalBeforeComplete => f.write_str("the swap payment settled before the client claimed the HTLC"),
            PhaseError::CompleteBeforePayment => f.write_str("a claim before the HTLC confirmed"),
        }
    }
}

impl LoopOutPhase {
    pub const ALL: [LoopOutPhase; 6] = [
        LoopOutPhase::Initiation,
        LoopOutPhase::Fee,
        LoopOutPhase::Funding,
        LoopOutPhase::Payment,
        LoopOutPhase::Complete,
        LoopOutPhase::Final,
    ];

    /// The architecture document's number (1 to 6).
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    pub fn name(self) -> &'static str {
        match self {
            LoopOutPhase::Initiation => "Initiation",
            LoopOutPhase::Fee => "Fee",
            LoopOutPhase::Funding => "Funding",
            LoopOutPhase::Payment => "Payment",
            LoopOutPhase::Complete => "Complete",
            LoopOutPhase::Final => "Final",
        }
    }

    pub fn from_name(name: &str) -> Option<LoopOutPhase> {
        LoopOutPhase::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The phase after observing that `next` was reached: phases only move forward
    /// (observing an earlier one again changes nothing), and Complete needs Payment,
    /// Final needs Complete.
    // LOOP-01: "A Loop Out MUST go through the phases Initiation, Fee, Funding, Payment, Complete and Final in this order, never returning to an earlier phase."
    pub fn advance(self, next: LoopOutPhase) -> Result<LoopOutPhase, PhaseError> {
        if next <= self {
            return Ok(self);
        }
        match next {
            LoopOutPhase::Final if self < LoopOutPhase::Complete => Err(PhaseError::FinalBeforeComplete),
            LoopOutPhase::Complete if self < LoopOutPhase::Payment => Err(PhaseError::CompleteBeforePayment),
            _ => Ok(next),
        }
    }
}

impl fmt::Display for LoopOutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}. {}", self.number(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoopOutPhase::*;

    #[test]
    fn phases_move_forward_only() {
        assert_eq!(Initiation.advance(Funding), Ok(Funding));
        assert_eq!(Payment.advance(Fee), Ok(Payment));
        assert_eq!(Funding.advance(Final), Err(PhaseError::FinalBeforeComplete));
        assert_eq!(Payment.advance(Final), Err(PhaseError::FinalBeforeComplete));
        assert_eq!(Funding.advance(Complete), Err(PhaseError::CompleteBeforePayment));
        assert_eq!(Complete.advance(Final), Ok(Final));
        assert_eq!(LoopOutPhase::ALL.map(|p| p.number()), [1, 2, 3, 4, 5, 6]);
        for p in LoopOutPhase::ALL {
            assert_eq!(LoopOutPhase::from_name(p.name()), Some(p));
        }
    }
}
