//! Supervising the IUT's adapter link: a stall (no answer in time, or the
//! adapter gone) is reported to the run loop, which stops the run after
//! [`DEFAULT_MAX_UNRESPONSIVE`] cases in a row in which the IUT did not respond.

use std::fmt;

/// Cases in a row in which the IUT did not respond (an adapter call timed out,
/// or its BOLT 8 address stopped completing handshakes) before the run stops
/// and the remaining cases are reported `not_run`. An adapter that closes its
/// connection stops the run at once: it cannot come back.
pub const DEFAULT_MAX_UNRESPONSIVE: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallKind {
    /// A call got no answer within its timeout.
    Timeout,
    /// The adapter closed its connection (or its process exited).
    Closed,
    /// The IUT's BOLT 8 address no longer completes a handshake (checked after a failed case).
    NoHandshake,
}

/// The IUT did not respond: its adapter, or its BOLT 8 address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    pub kind: StallKind,
    /// What was not answered, e.g. "no answer to reset within 6000 ms".
    pub detail: String,
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StallKind::Timeout => write!(f, "the IUT's adapter is not responding ({})", self.detail),
            StallKind::Closed => write!(f, "the IUT's adapter closed the connection ({})", self.detail),
            StallKind::NoHandshake => write!(f, "the IUT is not completing BOLT 8 handshakes ({})", self.detail),
        }
    }
}
