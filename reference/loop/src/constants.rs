//! LOOP-01's numbers, each once, typed, with the requirement that gives it.

use crate::units::BlockDelta;

/// Blocks that must remain before the HTLC expiry for the client to reveal the
/// preimage (Loop: `MinLoopOutPreimageRevealDelta`; `loop.out.12`, `loop.out.13`).
pub const MIN_LOOP_OUT_PREIMAGE_REVEAL_DELTA: BlockDelta = BlockDelta(20);

/// The furthest a Loop In HTLC expiry may lie above the current height
/// (`MaxLoopInAcceptDelta`; `loop.in.5`).
pub const MAX_LOOP_IN_ACCEPT_DELTA: BlockDelta = BlockDelta(1500);

/// The nearest a Loop In HTLC expiry may lie above the current height
/// (`MinLoopInExpiryDelta`; `loop.in.6`).
pub const MIN_LOOP_IN_EXPIRY_DELTA: BlockDelta = BlockDelta(100);

/// Blocks that must remain before the expiry for the client to publish its Loop In
/// HTLC (`MinLoopInPublishDelta`; `loop.in.7`).
pub const MIN_LOOP_IN_PUBLISH_DELTA: BlockDelta = BlockDelta(10);

/// LOOP-01's four safety bounds as one value. The decision functions and the state
/// machines read them from here rather than from the constants, so that a model
/// checker can loosen one (say, remove the reveal deadline) and find the
/// counterexample; [`Bounds::LOOP01`] is the specification's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    pub min_loop_out_preimage_reveal_delta: BlockDelta,
    pub max_loop_in_accept_delta: BlockDelta,
    pub min_loop_in_expiry_delta: BlockDelta,
    pub min_loop_in_publish_delta: BlockDelta,
}

impl Bounds {
    /// The bounds LOOP-01 gives.
    pub const LOOP01: Bounds = Bounds {
        min_loop_out_preimage_reveal_delta: MIN_LOOP_OUT_PREIMAGE_REVEAL_DELTA,
        max_loop_in_accept_delta: MAX_LOOP_IN_ACCEPT_DELTA,
        min_loop_in_expiry_delta: MIN_LOOP_IN_EXPIRY_DELTA,
        min_loop_in_publish_delta: MIN_LOOP_IN_PUBLISH_DELTA,
    };
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds::LOOP01
    }
}

/// The claim is urgent at this many blocks to the expiry or fewer
/// (`DefaultSweepConfTargetDelta`; `loop.out.25`).
pub const URGENT_SWEEP_DELTA: BlockDelta = BlockDelta(10);

/// The confirmation target of an urgent claim, at most (`urgentSweepConfTarget`; `loop.out.25`).
pub const URGENT_SWEEP_CONF_TARGET: u32 = 3;

/// An urgent claim's fee rate is multiplied by 11/10 (`urgentSweepConfTargetFactor = 1.1`; `loop.out.25`).
pub const URGENT_FEE_RATE_FACTOR: (u32, u32) = (11, 10);

/// The lowest confirmation target the client uses or accepts (`loop.out.24`, `loop.out.27`).
pub const MIN_CONF_TARGET: u32 = 2;

/// The sweep confirmation target when the user gives none (`DefaultSweepConfTarget`; `loop.out.26`).
pub const DEFAULT_SWEEP_CONF_TARGET: u32 = 9;

/// The Loop In HTLC's confirmation target when the user gives none (`DefaultHtlcConfTarget`; `loop.in.23`).
// LOOP-01: "The client SHOULD publish its own HTLC with a confirmation target of 6 blocks when the user gives none."
pub const DEFAULT_HTLC_CONF_TARGET: u32 = 6;

/// The Loop In timeout transaction's confirmation target (`TimeoutTxConfTarget`; `loop.in.22`).
// LOOP-01: "The client SHOULD publish the timeout transaction with a confirmation target of 2 blocks."
pub const TIMEOUT_TX_CONF_TARGET: u32 = 2;

/// Confirmations of a Loop Out HTLC the client waits for by default
/// (`DefaultLoopOutHtlcConfirmations`; `loop.out.11`).
pub const DEFAULT_LOOP_OUT_HTLC_CONFIRMATIONS: u32 = 1;

/// The input sequence of a success spend (`SuccessSequence`; `loop.htlc.6`).
// LOOP-01: "A transaction that spends an HTLC through its success path MUST set that input's sequence number to 1."
pub const SUCCESS_SEQUENCE: u32 = 1;

/// The tapscript leaf version of both v3 leaves (`loop.v3.3`).
pub const TAPSCRIPT_LEAF_VERSION: u8 = 0xc0;
