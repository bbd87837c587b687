//! The rules every in-Lightning `update_add_htlc` of a peerswap must follow
//! ("For each payment sent, the following MUST be true"), as a checker that an
//! acceptor applies before sending and an offerrer (or a test harness) applies
//! to what it observed.
//!
//! The onion is described by its decoded final-hop payload; decoding the BOLT 4
//! onion itself is the Lightning node's business.

use core::fmt;

use crate::peerswap::messages::{PeerswapInit, PeerswapLightning};
use crate::units::{BlockHeight, Msat, PaymentHash, PaymentSecret};

/// The decoded BOLT 4 payload of the (only) hop of the payment onion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OnionFinalHop {
    pub amt_to_forward: Msat,
    pub outgoing_cltv_value: BlockHeight,
    /// `total_msat` of `payment_data`; BOLT 4 carries it only together with
    /// `payment_secret` (ERRATA E-63).
    pub total_msat: Option<Msat>,
    pub payment_secret: Option<PaymentSecret>,
    pub payment_metadata: Option<Vec<u8>>,
    pub short_channel_id: Option<u64>,
}

/// An `update_add_htlc` as observed, with its decoded onion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObservedHtlc {
    pub payment_hash: PaymentHash,
    pub amount_msat: Msat,
    pub cltv_expiry: BlockHeight,
    pub onion: OnionFinalHop,
}

/// What a hop's HTLCs must carry, from the `peerswap_init` and
/// `peerswap_lightning` exchanged on that hop and the hop's channel limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HtlcRules {
    pub hash: PaymentHash,
    /// The in-Lightning timelock of the `peerswap_init_timeouts` sent on this hop.
    pub lightning_timeout: BlockHeight,
    /// The maximum HTLC on the channel the HTLC travels (inclusive, ERRATA E-60).
    pub max_htlc: Msat,
    pub payment_secret: Option<PaymentSecret>,
    pub payment_metadata: Option<Vec<u8>>,
}

/// What an incoming HTLC is to the offerrer of a peerswap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Incoming {
    /// Hash, timelock, secret or metadata do not match: some other payment.
    NotThisPeerswap,
    /// A part of this peerswap: hold it (once irrevocably committed).
    Part { amount: Msat },
    /// Identified as this peerswap's, but breaking a rule: fail it, do not count it.
    Malformed(HtlcRuleViolation),
}

/// One violated rule. `name()` is the stable machine name vectors use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HtlcRuleViolation {
    PaymentHashMismatch,
    AmountExceedsMaximumHtlc,
    CltvExpiryMismatch,
    AmtToForwardMismatch,
    TotalMsatMismatch,
    TotalMsatMissing,
    TotalMsatWithoutPaymentSecret,
    OutgoingCltvValueMismatch,
    PaymentSecretMissing,
    PaymentSecretUnexpected,
    PaymentSecretMismatch,
    PaymentMetadataMissing,
    PaymentMetadataUnexpected,
    PaymentMetadataMismatch,
    ShortChannelIdPresent,
}

impl HtlcRuleViolation {
    pub const ALL: [HtlcRuleViolation; 15] = [
        HtlcRuleViolation::PaymentHashMismatch,
        HtlcRuleViolation::AmountExceedsMaximumHtlc,
        HtlcRuleViolation::CltvExpiryMismatch,
        HtlcRuleViolation::AmtToForwardMismatch,
        HtlcRuleViolation::TotalMsatMismatch,
        HtlcRuleViolation::TotalMsatMissing,
        HtlcRuleViolation::TotalMsatWithoutPaymentSecret,
        HtlcRuleViolation::OutgoingCltvValueMismatch,
        HtlcRuleViolation::PaymentSecretMissing,
        HtlcRuleViolation::PaymentSecretUnexpected,
        HtlcRuleViolation::PaymentSecretMismatch,
        HtlcRuleViolation::PaymentMetadataMissing,
        HtlcRuleViolation::PaymentMetadataUnexpected,
        HtlcRuleViolation::PaymentMetadataMismatch,
        HtlcRuleViolation::ShortChannelIdPresent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HtlcRuleViolation::PaymentHashMismatch => "payment_hash_mismatch",
            HtlcRuleViolation::AmountExceedsMaximumHtlc => "amount_exceeds_maximum_htlc",
            HtlcRuleViolation::CltvExpiryMismatch => "cltv_expiry_mismatch",
            HtlcRuleViolation::AmtToForwardMismatch => "amt_to_forward_mismatch",
            HtlcRuleViolation::TotalMsatMismatch => "total_msat_mismatch",
            HtlcRuleViolation::TotalMsatMissing => "total_msat_missing",
            HtlcRuleViolation::TotalMsatWithoutPaymentSecret => "total_msat_without_payment_secret",
            HtlcRuleViolation::OutgoingCltvValueMismatch => "outgoing_cltv_value_mismatch",
            HtlcRuleViolation::PaymentSecretMissing => "payment_secret_missing",
            HtlcRuleViolation::PaymentSecretUnexpected => "payment_secret_unexpected",
            HtlcRuleViolation::PaymentSecretMismatch => "payment_secret_mismatch",
            HtlcRuleViolation::PaymentMetadataMissing => "payment_metadata_missing",
            HtlcRuleViolation::PaymentMetadataUnexpected => "payment_metadata_unexpected",
            HtlcRuleViolation::PaymentMetadataMismatch => "payment_metadata_mismatch",
            HtlcRuleViolation::ShortChannelIdPresent => "short_channel_id_present",
        }
    }

    /// The sentence of the spec the rule comes from.
    pub fn rule(self) -> &'static str {
        match self {
            HtlcRuleViolation::PaymentHashMismatch => "The `payment_hash` MUST equal `peerswap_init_hash`, `peerswap_accept_hash`, and `peerswap_lightning_hash`",
            HtlcRuleViolation::AmountExceedsMaximumHtlc => "The `amount_msat` MUST be less than the maximum HTLC size.",
            HtlcRuleViolation::CltvExpiryMismatch => "The `cltv_expiry` MUST equal the timelock of the in-Lightning HTLC that was sent by the offerrer in `peerswap_init_timeouts`.",
            HtlcRuleViolation::AmtToForwardMismatch
            | HtlcRuleViolation::TotalMsatMismatch
            | HtlcRuleViolation::TotalMsatMissing
            | HtlcRuleViolation::TotalMsatWithoutPaymentSecret => "The `amt_to_forward` and `total_msat` MUST equal the `amount_msat` above.",
            HtlcRuleViolation::OutgoingCltvValueMismatch => "The `outgoing_cltv_value` MUST equal `cltv_expiry` above.",
            HtlcRuleViolation::PaymentSecretMissing
            | HtlcRuleViolation::PaymentSecretUnexpected
            | HtlcRuleViolation::PaymentSecretMismatch => "If `peerswap_lightning_payment_secret` existed in the incoming `peerswap_lightning`, then the `payment_secret` field in the payment onion MUST exist and equal that value. Otherwise, it MUST NOT exist.",
            HtlcRuleViolation::PaymentMetadataMissing
            | HtlcRuleViolation::PaymentMetadataUnexpected
            | HtlcRuleViolation::PaymentMetadataMismatch => "If `peerswap_lightning_payment_metadata` existed in the incoming `peerswap_lightning`, then the `payment_metadata` field in the payment onion MUST exist and equal that value. Otherwise, it MUST NOT exist.",
            HtlcRuleViolation::ShortChannelIdPresent => "The `short_channel_id` MUST NOT exist (i.e. this is the final hop).",
        }
    }
}

impl fmt::Display for HtlcRuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.rule())
    }
}

impl std::error::Error for HtlcRuleViolation {}

fn presence<T: PartialEq>(
    expected: Option<&T>,
    got: Option<&T>,
    missing: HtlcRuleViolation,
    unexpected: HtlcRuleViolation,
    mismatch: HtlcRuleViolation,
) -> Option<HtlcRuleViolation> {
    match (expected, got) {
        (Some(_), None) => Some(missing),
        (None, Some(_)) => Some(unexpected),
        (Some(e), Some(g)) if e != g => Some(mismatch),
        _ => None,
    }
}

impl HtlcRules {
    /// The rules of the hop on which `init` and `lightning` were exchanged (the
    /// messages the acceptor of that hop received), for a channel with `max_htlc`.
    pub fn for_hop(init: &PeerswapInit, lightning: &PeerswapLightning, max_htlc: Msat) -> HtlcRules {
        HtlcRules {
            hash: lightning.hash,
            lightning_timeout: init.timeouts.lightning,
            max_htlc,
            payment_secret: lightning.payment_secret,
            payment_metadata: lightning.payment_metadata.clone(),
        }
    }

    /// The first violated rule, in the order the spec lists them, or `Ok`.
    pub fn check(&self, htlc: &ObservedHtlc) -> Result<(), HtlcRuleViolation> {
        match self.violations(htlc).first() {
            Some(v) => Err(*v),
            None => Ok(()),
        }
    }

    /// Every violated rule, in the order the spec lists them.
    pub fn violations(&self, htlc: &ObservedHtlc) -> Vec<HtlcRuleViolation> {
        use HtlcRuleViolation as V;
        let onion = &htlc.onion;
        let mut out = Vec::new();
        // SIDEPOOL-10: "For each payment sent, the following MUST be true:"
        // SIDEPOOL-10: "The `payment_hash` MUST equal `peerswap_init_hash`, `peerswap_accept_hash`, and `peerswap_lightning_hash` (which are all equal, so it is sufficient to just compare against one of them)."
        if htlc.payment_hash != self.hash {
            out.push(V::PaymentHashMismatch);
        }
        // SIDEPOOL-10: "The `amount_msat` MUST be less than the maximum HTLC size."
        // Read as "not more than" (ERRATA E-60).
        if htlc.amount_msat > self.max_htlc {
            out.push(V::AmountExceedsMaximumHtlc);
        }
        // SIDEPOOL-10: "The `cltv_expiry` MUST equal the timelock of the in-Lightning HTLC that was sent by the offerrer in `peerswap_init_timeouts`."
        if htlc.cltv_expiry != self.lightning_timeout {
            out.push(V::CltvExpiryMismatch);
        }
        // SIDEPOOL-10: "The `onion_routing_packet` MUST be a one-hop payment onion terminating at the direct peer (the local offerrer):"
        // SIDEPOOL-10: "The `amt_to_forward` and `total_msat` MUST equal the `amount_msat` above."
        if onion.amt_to_forward != htlc.amount_msat {
            out.push(V::AmtToForwardMismatch);
        }
        // BOLT 4 `payment_data` holds `payment_secret` and `total_msat` together (ERRATA E-63).
        match (onion.payment_secret.is_some(), onion.total_msat) {
            (true, None) => out.push(V::TotalMsatMissing),
            (false, Some(_)) => out.push(V::TotalMsatWithoutPaymentSecret),
            (_, Some(total)) if total != htlc.amount_msat => out.push(V::TotalMsatMismatch),
            _ => {}
        }
        // SIDEPOOL-10: "The `outgoing_cltv_value` MUST equal `cltv_expiry` above."
        if onion.outgoing_cltv_value != htlc.cltv_expiry {
            out.push(V::OutgoingCltvValueMismatch);
        }
        // SIDEPOOL-10: "If `peerswap_lightning_payment_secret` existed in the incoming `peerswap_lightning`, then the `payment_secret` field in the payment onion MUST exist and equal that value."
        // SIDEPOOL-10: "Otherwise, it MUST NOT exist."
        out.extend(presence(
            self.payment_secret.as_ref(),
            onion.payment_secret.as_ref(),
            V::PaymentSecretMissing,
            V::PaymentSecretUnexpected,
            V::PaymentSecretMismatch,
        ));
        // SIDEPOOL-10: "If `peerswap_lightning_payment_metadata` existed in the incoming `peerswap_lightning`, then the `payment_metadata` field in the payment onion MUST exist and equal that value."
        out.extend(presence(
            self.payment_metadata.as_ref(),
            onion.payment_metadata.as_ref(),
            V::PaymentMetadataMissing,
            V::PaymentMetadataUnexpected,
            V::PaymentMetadataMismatch,
        ));
        // SIDEPOOL-10: "The `short_channel_id` MUST NOT exist (i.e. this is the final hop)."
        if onion.short_channel_id.is_some() {
            out.push(V::ShortChannelIdPresent);
        }
        out
    }

    /// How an offerrer treats an incoming HTLC: not this peerswap's, a part to
    /// hold, or this peerswap's but breaking a rule (ERRATA E-69: fail it at
    /// once and do not count it).
    pub fn classify(&self, htlc: &ObservedHtlc) -> Incoming {
        // SIDEPOOL-10: "An offerrer waits until the total in-Lightning HTLCs that have been identified as part of the peerswap-in-sidepool (by recognizing the hash, timelock, and any `payment_secret` and/or `payment_metadata`), which have been irrevocably committed, have totalled to equal or greater than ..."
        let identified = htlc.payment_hash == self.hash
            && htlc.cltv_expiry == self.lightning_timeout
            && (self.payment_secret.is_none() || htlc.onion.payment_secret == self.payment_secret)
            && (self.payment_metadata.is_none() || htlc.onion.payment_metadata == self.payment_metadata);
        if !identified {
            return Incoming::NotThisPeerswap;
        }
        match self.check(htlc) {
            Ok(()) => Incoming::Part { amount: htlc.amount_msat },
            Err(v) => Incoming::Malformed(v),
        }
    }

    /// The `update_add_htlc` fields and onion payload an acceptor sends for one
    /// part of `amount` (the constructive side of the same rules).
    pub fn build(&self, amount: Msat) -> ObservedHtlc {
        ObservedHtlc {
            payment_hash: self.hash,
            amount_msat: amount,
            cltv_expiry: self.lightning_timeout,
            onion: OnionFinalHop {
                amt_to_forward: amount,
                outgoing_cltv_value: self.lightning_timeout,
                total_msat: self.payment_secret.map(|_| amount),
                payment_secret: self.payment_secret,
                payment_metadata: self.payment_metadata.clone(),
                short_channel_id: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HtlcRuleViolation as V;

    fn rules() -> HtlcRules {
        HtlcRules {
            hash: PaymentHash([0x11; 32]),
            lightning_timeout: BlockHeight(800_144),
            max_htlc: Msat(5_000_000),
            payment_secret: Some(PaymentSecret([0x22; 32])),
            payment_metadata: None,
        }
    }

    #[test]
    fn built_htlcs_pass() {
        let r = rules();
        assert_eq!(r.check(&r.build(Msat(5_000_000))), Ok(()));
        assert_eq!(r.check(&r.build(Msat(1))), Ok(()));
        let plain = HtlcRules { payment_secret: None, payment_metadata: Some(vec![1, 2]), ..rules() };
        assert_eq!(plain.check(&plain.build(Msat(7))), Ok(()));
        assert_eq!(plain.build(Msat(7)).onion.total_msat, None);
    }

    #[test]
    fn offerrer_classifies_incoming() {
        let r = rules();
        assert_eq!(r.classify(&r.build(Msat(9))), Incoming::Part { amount: Msat(9) });
        let mut other = r.build(Msat(9));
        other.payment_hash = PaymentHash([0; 32]);
        assert_eq!(r.classify(&other), Incoming::NotThisPeerswap);
        let mut no_secret = r.build(Msat(9));
        no_secret.onion.payment_secret = None;
        assert_eq!(r.classify(&no_secret), Incoming::NotThisPeerswap);
        let mut scid = r.build(Msat(9));
        scid.onion.short_channel_id = Some(1);
        assert_eq!(r.classify(&scid), Incoming::Malformed(V::ShortChannelIdPresent));
        let open = HtlcRules { payment_secret: None, ..rules() };
        assert_eq!(open.classify(&r.build(Msat(9))), Incoming::Malformed(V::PaymentSecretUnexpected));

        // The same for payment_metadata: named by the peerswap, it identifies; not named,
        // an HTLC carrying one is still this peerswap's, and breaks a rule.
        let with_meta = HtlcRules { payment_metadata: Some(vec![7, 7]), ..rules() };
        let mut other_meta = with_meta.build(Msat(9));
        other_meta.onion.payment_metadata = Some(vec![7, 8]);
        assert_eq!(with_meta.classify(&other_meta), Incoming::NotThisPeerswap);
        assert_eq!(r.classify(&with_meta.build(Msat(9))), Incoming::Malformed(V::PaymentMetadataUnexpected));
    }

    #[test]
    fn each_rule_is_named() {
        let r = rules();
        let ok = r.build(Msat(1_000));
        let mut h = ok.clone();
        h.payment_hash = PaymentHash([0x12; 32]);
        assert_eq!(r.check(&h), Err(V::PaymentHashMismatch));
        let big = r.build(Msat(5_000_001));
        assert_eq!(r.check(&big), Err(V::AmountExceedsMaximumHtlc));
        let mut h = ok.clone();
        h.onion.short_channel_id = Some(42);
        assert_eq!(r.check(&h), Err(V::ShortChannelIdPresent));
        let mut h = ok.clone();
        h.onion.payment_secret = None;
        assert_eq!(r.violations(&h), vec![V::TotalMsatWithoutPaymentSecret, V::PaymentSecretMissing]);
        let mut h = ok;
        h.cltv_expiry = BlockHeight(800_145);
        assert_eq!(r.violations(&h), vec![V::CltvExpiryMismatch, V::OutgoingCltvValueMismatch]);
        assert!(V::ALL.iter().all(|v| !v.rule().is_empty()));
    }
}
