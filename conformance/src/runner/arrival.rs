//! When something reached the runner: one monotonic sequence over every
//! connection and the adapter, so a step can ask "did this arrive after my
//! stimulus?" across sources.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The last sequence number handed out (0: none yet). Process-wide, so the
/// adapter's reader thread and every connection share one order.
static LAST: AtomicU64 = AtomicU64::new(0);

/// The moment the runner took a message in: its place in the run's order and the instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arrival {
    /// Strictly increasing over the whole process.
    pub seq: u64,
    pub at: Instant,
}

impl Arrival {
    /// Stamps something that arrives now.
    pub fn now() -> Arrival {
        // Relaxed is enough: only the numbers' order matters, and each fetch_add is atomic.
        let seq = LAST.fetch_add(1, Ordering::Relaxed) + 1;
        Arrival { seq, at: Instant::now() }
    }

    /// Whether this arrived after `mark` was taken.
    pub fn after(&self, mark: Mark) -> bool {
        self.seq > mark.0
    }
}

/// A point in the run's order: everything stamped later compares greater.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark(pub u64);

impl Mark {
    /// The point now: what arrives from here on is [`Arrival::after`] it.
    pub fn now() -> Mark {
        Mark(LAST.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_ordered_against_marks() {
        let before = Arrival::now();
        let mark = Mark::now();
        let after = Arrival::now();
        assert!(!before.after(mark));
        assert!(after.after(mark));
        assert!(after.seq > before.seq && after.at >= before.at);
    }
}
