//! Every error the reference can report, rendered for people: one snapshot of each
//! `Display` (the CLI, the node's log and the runner's verdicts print these), and a check
//! that each names the problem in its own words. A rendering that goes empty, or two
//! variants that print the same text, is a diagnostic an implementer can no longer act on.

use sidepool_reference::htlc::musig::{KeyAggError, TweakError};
use sidepool_reference::htlc::taproot::TaprootError;
use sidepool_reference::htlc::taproot_key::KeyProblem;
use sidepool_reference::htlc::{AggregateKeyError, HandoverError, HtlcKeyError, KeyRole, NotAScalar};
use sidepool_reference::peerswap::balance::BalanceError;
use sidepool_reference::peerswap::forward::ForwardRefusal;
use sidepool_reference::peerswap::lightning_htlcs::{
    AgreedAmountError, HtlcRef, HtlcRuleViolation, OutgoingError, SplitError, ZeroFeeViolation,
};
use sidepool_reference::peerswap::offer::OfferRefusal;
use sidepool_reference::peerswap::receive::RejectReason;
use sidepool_reference::peerswap::resolution::ResolutionMismatch;
use sidepool_reference::pool::TaxError;
use sidepool_reference::units::{Msat, Sat};
use sidepool_reference::wire::error::{DecodeError, ErrorClass};
use std::collections::BTreeMap;
use std::fmt::Display;

/// (group, rendering) for every variant, in declaration order.
fn every_diagnostic() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    fn push<T: Display>(out: &mut Vec<(&'static str, String)>, group: &'static str, items: impl IntoIterator<Item = T>) {
        out.extend(items.into_iter().map(|e| (group, e.to_string())));
    }

    push(&mut out, "ErrorClass", ErrorClass::ALL);
    push(&mut out, "DecodeError", ErrorClass::ALL.map(|c| DecodeError::new(c, "tlv type 2")));

    use OfferRefusal as O;
    let offer = [
        O::FeatureNotSupported,
        O::NoSwapParty,
        O::NotParticipant,
        O::AlreadySent,
        O::NotValidOfferrer,
        O::ImbalanceBelowMinimum,
        O::AmountBelowMinimum,
        O::AmountNotBelowImbalance,
        O::TooManySplits { splits: Some(9) },
        O::TooManySplits { splits: None },
        O::FinalCltvDeltaTooLarge,
        O::SidepoolTimeoutTooEarly,
        O::LightningTimeoutTooEarly,
        O::HeightOverflow,
        O::UpdateCounterEven,
    ];
    push(&mut out, "OfferRefusal", offer);

    use RejectReason as R;
    push(
        &mut out,
        "RejectReason",
        [
            R::NotParticipant,
            R::SenderNotParticipant,
            R::NoSwapPartyBegin,
            R::WrongUpdateCounter,
            R::AlreadyReceived,
            R::NotValidOfferrer,
            R::AmountBelowMinimum,
            R::AmountNotBelowImbalance,
            R::InsufficientChannelFunds,
            R::SidepoolTimeoutTooEarly,
            R::LightningNotBeforeSidepool,
            R::TimelockGapBelowCltvDelta,
            R::CltvDeltaTooLarge,
            R::HopsOutOfRange,
            R::TooManySplits,
            R::Policy,
        ],
    );

    use ForwardRefusal as F;
    push(
        &mut out,
        "ForwardRefusal",
        [F::NotValidated, F::HopsExhausted, F::HeightOverflow, F::TimelockGapTooSmall, F::Sender(O::AlreadySent)],
    );
    push(&mut out, "BalanceError", [BalanceError::InconsistentChannel { index: 3 }, BalanceError::Overflow]);
    push(&mut out, "ResolutionMismatch", [ResolutionMismatch::PoolId, ResolutionMismatch::Hash]);

    let tax = [
        TaxError::NoOutputs,
        TaxError::TooManyOutputs { output_count: 401 },
        TaxError::TaxExceedsNominal { nominal: Sat(10), tax: Sat(11) },
    ];
    push(&mut out, "TaxError", tax);
    push(
        &mut out,
        "AgreedAmountError",
        [AgreedAmountError::Tax(TaxError::NoOutputs), AgreedAmountError::MsatOverflow(Sat(u64::MAX))],
    );
    push(
        &mut out,
        "ZeroFeeViolation",
        [
            ZeroFeeViolation::FeeDeducted { from_downstream: Msat(1000), to_upstream: Msat(999) },
            ZeroFeeViolation::MoreThanReceived { from_downstream: Msat(1000), to_upstream: Msat(1001) },
        ],
    );
    push(
        &mut out,
        "SplitError",
        [
            SplitError::ZeroAmount,
            SplitError::NoUsableChannel,
            SplitError::InsufficientCapacity { short: Msat(5000) },
            SplitError::TooManyParts { needed: 12 },
        ],
    );
    push(
        &mut out,
        "OutgoingError",
        [
            OutgoingError::UnknownHtlc(HtlcRef(7)),
            OutgoingError::DuplicateHtlc(HtlcRef(7)),
            OutgoingError::OfferAfterStop(HtlcRef(7)),
            OutgoingError::OfferBeyondAmount { offered: Msat(2000), to_send: Msat(1000) },
            OutgoingError::RemovalOfUnresolved(HtlcRef(7)),
            OutgoingError::NotPaying,
        ],
    );
    push(&mut out, "HtlcRuleViolation", HtlcRuleViolation::ALL);

    push(
        &mut out,
        "KeyAggError",
        [KeyAggError::NoKeys, KeyAggError::InvalidContribution { signer: 1 }, KeyAggError::Infinity],
    );
    push(&mut out, "TweakError", [TweakError::OutOfRange, TweakError::Infinity]);
    push(
        &mut out,
        "HandoverError",
        [
            HandoverError::WrongLength,
            HandoverError::EncryptionPubkeyNotAPoint,
            HandoverError::HandedOverKeyNotAScalar,
            HandoverError::HandedOverKeyMismatch,
            HandoverError::Ecdh,
        ],
    );
    let taproot = [
        TaprootError::InvalidInternalKey,
        TaprootError::InvalidLeafVersion(0xc1),
        TaprootError::TreeTooDeep,
        TaprootError::InvalidTweak,
    ];
    push(&mut out, "TaprootError", taproot);
    let mut key_errors = Vec::new();
    for role in [KeyRole::OfferrerEphemeral, KeyRole::OfferrerPersistent, KeyRole::AcceptorEphemeral, KeyRole::AcceptorPersistent] {
        for problem in [KeyProblem::WrongLength, KeyProblem::BadPrefix, KeyProblem::NotOnCurve] {
            key_errors.push(HtlcKeyError::InvalidKey { role, problem });
        }
    }
    key_errors.extend([
        HtlcKeyError::HashWrongLength,
        HtlcKeyError::LockTimeNotABlockHeight,
        HtlcKeyError::KeyAggregation,
        HtlcKeyError::Taproot(TaprootError::InvalidTweak),
    ]);
    push(&mut out, "HtlcKeyError", key_errors);
    push(
        &mut out,
        "AggregateKeyError",
        [
            AggregateKeyError::HtlcKey(HtlcKeyError::HashWrongLength),
            AggregateKeyError::OfferrerKeyMismatch,
            AggregateKeyError::AcceptorKeyMismatch,
            AggregateKeyError::OutputKeyMismatch,
        ],
    );
    push(&mut out, "NotAScalar", [NotAScalar]);
    out
}

#[test]
fn every_diagnostic_reads_as_it_did() {
    let text: String = every_diagnostic().iter().map(|(group, line)| format!("{group}: {line}\n")).collect();
    insta::assert_snapshot!(text);
}

#[test]
fn every_diagnostic_is_a_distinct_sentence_within_its_type() {
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let all = every_diagnostic();
    for (group, line) in &all {
        assert!(line.trim().len() >= 6, "{group}: too short to act on: {line:?}");
        *seen.entry((group, line.as_str())).or_default() += 1;
    }
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "variants that print the same text: {dupes:?}");
}

/// `RejectCode::meaning` is the SIDEPOOL-10 reject-code table, row by row, cell for cell, in
/// every revision of the text.
#[test]
fn reject_code_meanings_are_the_spec_table() {
    for spec in [
        include_str!("../../spec-mirror/sidepool/seed/10-peerswap-in-sidepool.md"),
        include_str!("../../spec-mirror/sidepool/upstream-50799b4/10-peerswap-in-sidepool.md"),
    ] {
        reject_code_meanings_are(spec);
    }
}

fn reject_code_meanings_are(spec: &str) {
    use sidepool_reference::peerswap::messages::RejectCode;
    let row = |code: u16| -> Option<String> {
        spec.lines().find_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() >= 3 && cells[1] == code.to_string()).then(|| cells[2].to_string())
        })
    };
    for code in (0..=7).chain([65535]) {
        let want = row(code).unwrap_or_else(|| panic!("code {code} not in the spec's table"));
        assert_eq!(RejectCode(code).meaning(), Some(want.as_str()), "code {code}");
    }
    for code in [8, 9, 1000, 65534] {
        assert_eq!(RejectCode(code).meaning(), None, "code {code} is not in the table");
    }
}
