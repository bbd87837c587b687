//! The parameters LNROD-01 gives every machine ("Profiles", "Parameters"),
//! and the caller-misuse errors the machines share.

use crate::constants::LDK_FAIL_BACK_MARGIN;
use crate::units::{BlockDelta, BlockHeight};

/// How an unblock is authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// breez's README: a secret `pid` registered by a block request, echoed
    /// by `B` in `payment_unblock`; one unblock releases the whole request.
    LightningRod,
    /// LDK 0.2: `hold_htlc` on each HTLC, one release path per held HTLC,
    /// authenticated by the blinded path's context.
    Ldk,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::LightningRod => "lightningrod",
            Profile::Ldk => "ldk",
        }
    }
    pub fn from_name(name: &str) -> Option<Profile> {
        [Profile::LightningRod, Profile::Ldk].into_iter().find(|p| p.name() == name)
    }
}

/// What a held HTLC's fail-back height counts back from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailBackReference {
    /// The incoming HTLC's `cltv_expiry`.
    IncomingExpiry,
    /// The `outgoing_cltv_value` the onion gives for the next hop (LDK 0.2).
    OutgoingCltv,
}

impl FailBackReference {
    pub fn name(self) -> &'static str {
        match self {
            FailBackReference::IncomingExpiry => "incoming_expiry",
            FailBackReference::OutgoingCltv => "outgoing_cltv",
        }
    }
    pub fn from_name(name: &str) -> Option<FailBackReference> {
        [FailBackReference::IncomingExpiry, FailBackReference::OutgoingCltv].into_iter().find(|r| r.name() == name)
    }
}

/// When `LSP_a` stops holding an HTLC: `reference - margin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailBackRule {
    reference: FailBackReference,
    margin: BlockDelta,
}

/// A parameter set no machine may run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Counted from `cltv_expiry`, a zero margin would hold the HTLC up to its expiry.
    MarginTooSmall,
    /// `max_held` of zero: `LSP_a` could never hold anything.
    NoHoldCapacity,
}

impl ConfigError {
    pub fn name(self) -> &'static str {
        match self {
            ConfigError::MarginTooSmall => "margin_too_small",
            ConfigError::NoHoldCapacity => "no_hold_capacity",
        }
    }
}

impl FailBackRule {
    /// LDK 0.2's rule: 39 blocks before `outgoing_cltv_value`.
    pub const LDK: FailBackRule = FailBackRule { reference: FailBackReference::OutgoingCltv, margin: LDK_FAIL_BACK_MARGIN };

    /// LNROD-01: "LSP_a MUST use a fail-back height below the incoming HTLC's `cltv_expiry`."
    ///
    /// Counted from `cltv_expiry`, that needs a margin of at least one block;
    /// counted from `outgoing_cltv_value`, the HTLC check in
    /// [`FailBackRule::height`] does it.
    pub fn new(reference: FailBackReference, margin: BlockDelta) -> Result<FailBackRule, ConfigError> {
        if reference == FailBackReference::IncomingExpiry && margin.0 == 0 {
            return Err(ConfigError::MarginTooSmall);
        }
        Ok(FailBackRule { reference, margin })
    }

    pub fn reference(self) -> FailBackReference {
        self.reference
    }
    pub fn margin(self) -> BlockDelta {
        self.margin
    }

    /// The fail-back height of an HTLC (zero when the margin is larger than
    /// the reference), or `None` when `outgoing_cltv` is not below
    /// `cltv_expiry` and no fail-back height below the expiry exists.
    pub fn height(self, cltv_expiry: BlockHeight, outgoing_cltv: BlockHeight) -> Option<BlockHeight> {
        if outgoing_cltv >= cltv_expiry {
            return None;
        }
        let from = match self.reference {
            FailBackReference::IncomingExpiry => cltv_expiry,
            FailBackReference::OutgoingCltv => outgoing_cltv,
        };
        Some(BlockHeight(from.0.saturating_sub(self.margin.0)))
    }
}

/// A caller bug: an event the machine's role or state cannot receive. The
/// machine's state is unchanged when `handle` returns one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Misuse {
    /// An event that belongs to the other profile.
    WrongProfile,
    /// An HTLC id already in use.
    DuplicateHtlc,
    /// An HTLC id the machine does not know.
    UnknownHtlc,
    /// A downstream outcome for an HTLC that was never forwarded.
    NotForwarded,
    /// A second payment of the same payment hash.
    DuplicatePayment,
    /// A `lightningrod` payment without its `pid`.
    MissingPid,
    /// A `pid` given to an `ldk` payment.
    UnexpectedPid,
    /// A `pid` used before (the caller's randomness repeated).
    PidReused,
    /// A payment of no HTLCs.
    NoParts,
    /// A second invoice with the same payment hash.
    DuplicateInvoice,
    /// A message delivered to a node that is offline.
    Offline,
}

impl Misuse {
    pub fn name(self) -> &'static str {
        match self {
            Misuse::WrongProfile => "wrong_profile",
            Misuse::DuplicateHtlc => "duplicate_htlc",
            Misuse::UnknownHtlc => "unknown_htlc",
            Misuse::NotForwarded => "not_forwarded",
            Misuse::DuplicatePayment => "duplicate_payment",
            Misuse::MissingPid => "missing_pid",
            Misuse::UnexpectedPid => "unexpected_pid",
            Misuse::PidReused => "pid_reused",
            Misuse::NoParts => "no_parts",
            Misuse::DuplicateInvoice => "duplicate_invoice",
            Misuse::Offline => "offline",
        }
    }
}

impl core::fmt::Display for Misuse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_back_heights() {
        let ldk = FailBackRule::LDK;
        assert_eq!(ldk.height(BlockHeight(200), BlockHeight(160)), Some(BlockHeight(121)));
        assert_eq!(ldk.height(BlockHeight(200), BlockHeight(20)), Some(BlockHeight(0)));
        assert_eq!(ldk.height(BlockHeight(200), BlockHeight(200)), None);
        let incoming = FailBackRule::new(FailBackReference::IncomingExpiry, BlockDelta(10)).unwrap();
        assert_eq!(incoming.height(BlockHeight(200), BlockHeight(160)), Some(BlockHeight(190)));
        assert_eq!(
            FailBackRule::new(FailBackReference::IncomingExpiry, BlockDelta(0)),
            Err(ConfigError::MarginTooSmall)
        );
        assert!(FailBackRule::new(FailBackReference::OutgoingCltv, BlockDelta(0)).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for p in [Profile::LightningRod, Profile::Ldk] {
            assert_eq!(Profile::from_name(p.name()), Some(p));
        }
        for r in [FailBackReference::IncomingExpiry, FailBackReference::OutgoingCltv] {
            assert_eq!(FailBackReference::from_name(r.name()), Some(r));
        }
    }
}
