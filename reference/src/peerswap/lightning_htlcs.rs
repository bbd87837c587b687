//! SIDEPOOL-10 "In-Lightning HTLC Propagation": the amount the in-Lightning
//! HTLCs carry, how an acceptor splits it, the rules every `update_add_htlc`
//! must follow, the offerrer's 60-second hold, and the acceptor / forwarder
//! bookkeeping of what it offered.
//!
//! Everything is sans-IO: time is a value the caller passes in ([`Seconds`]),
//! HTLCs are opaque handles the caller chose ([`HtlcRef`], [`ChannelRef`]).
//!
//! Who calls what:
//! - acceptor (ultimate or forwarder), when it is time to pay:
//!   [`in_lightning_amount`] (the revision decides: the seed's [`agreed_upon_amount`],
//!   or upstream's in-sidepool HTLC amount), then [`plan_split`], then feeds [`OutgoingParts`];
//! - offerrer (ultimate or forwarder), as HTLCs arrive: [`HtlcRules::check`]
//!   to recognise them, then feeds [`IncomingHold`];
//! - forwarder: [`Forwarder`] ties its incoming hold to its outgoing parts;
//!   [`check_zero_fee`] guards what it forwards.

mod amount;
mod fields;
mod forwarder;
mod hold;
mod outgoing;
mod split;

pub use amount::{agreed_upon_amount, in_lightning_amount, AgreedAmountError};
pub use fields::{HtlcRuleViolation, HtlcRules, Incoming, ObservedHtlc, OnionFinalHop};
pub use forwarder::{check_zero_fee, Forwarder, ForwarderAction, ForwarderEvent, ZeroFeeViolation};
pub use hold::{HoldAction, HoldEvent, HoldRole, HoldState, IncomingHold, Seconds, HOLD_TIMEOUT};
pub use outgoing::{OutgoingError, OutgoingEvent, OutgoingOutcome, OutgoingParts};
pub use split::{plan_split, plan_split_with, ChannelRef, ChannelToOfferrer, SplitError, SplitPart, PEERSWAP_MAX_LN_SPLITS};

/// The caller's handle on one in-Lightning HTLC (for example its channel and
/// HTLC id packed together). The machines only compare handles for equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HtlcRef(pub u64);

#[cfg(test)]
mod chain {
    //! One forwarded peerswap end to end: ultimate acceptor A pays forwarder F,
    //! which pays ultimate offerrer O; each hop splits by its own channel limit.
    use super::*;
    use crate::pool::TaxInputs;
    use crate::units::{BlockHeight, Msat, PaymentHash, PaymentSecret, Sat};

    fn rules(timeout: u32, max: u64, secret: Option<PaymentSecret>) -> HtlcRules {
        HtlcRules {
            hash: PaymentHash([7; 32]),
            lightning_timeout: BlockHeight(timeout),
            max_htlc: Msat(max),
            payment_secret: secret,
            payment_metadata: None,
        }
    }

    #[test]
    fn forwarded_peerswap_succeeds_at_zero_fee() {
        // 200000 sat HTLC; 4000 sat fees over 9 outputs: tax 445, agreed 199555000 msat.
        let agreed = agreed_upon_amount(Sat(200_000), TaxInputs { total_offchain_fees: Sat(4_000), output_count: 9 }).unwrap();
        assert_eq!(agreed, Msat(199_555_000));

        // Hop A -> F: F asked for a payment_secret; A's channel allows 80000000 msat per HTLC.
        let a_to_f = rules(800_200, 80_000_000, Some(PaymentSecret([1; 32])));
        let plan = plan_split(agreed, &[ChannelToOfferrer { channel: ChannelRef(1), max_htlc: Msat(80_000_000), spendable: None }]).unwrap();
        assert_eq!(plan.len(), 3);
        let mut f = Forwarder::new(agreed);
        let mut a = OutgoingParts::new(agreed);
        let mut upstream_total = None;
        for (i, part) in plan.iter().enumerate() {
            let htlc = a_to_f.build(part.amount);
            let Incoming::Part { amount } = a_to_f.classify(&htlc) else { panic!("F recognises A's part") };
            a.handle(OutgoingEvent::Offered { htlc: HtlcRef(i as u64), amount }).unwrap();
            let at = Seconds(1_000 + i as u64);
            for action in f.handle(ForwarderEvent::Downstream(HoldEvent::Committed { htlc: HtlcRef(i as u64), amount, at })).unwrap() {
                if let ForwarderAction::Hold(HoldAction::OfferUpstream { total, .. }) = action {
                    upstream_total = Some(total);
                }
            }
        }
        let total = upstream_total.expect("F completes and pays upstream");
        assert_eq!(check_zero_fee(agreed, total), Ok(()));

        // Hop F -> O: a lower timeout (O's), no secret, a smaller 30000000 msat limit.
        let f_to_o = rules(800_150, 30_000_000, None);
        let plan = plan_split(total, &[ChannelToOfferrer { channel: ChannelRef(2), max_htlc: Msat(30_000_000), spendable: None }]).unwrap();
        assert_eq!(plan.len(), 7);
        let mut o = IncomingHold::new(agreed, HoldRole::UltimateOfferrer);
        let mut success = None;
        for (i, part) in plan.iter().enumerate() {
            let id = HtlcRef(100 + i as u64);
            f.handle(ForwarderEvent::Upstream(OutgoingEvent::Offered { htlc: id, amount: part.amount })).unwrap();
            let htlc = f_to_o.build(part.amount);
            assert_eq!(f_to_o.check(&htlc), Ok(()));
            let Incoming::Part { amount } = f_to_o.classify(&htlc) else { panic!("O recognises F's part") };
            for action in o.handle(HoldEvent::Committed { htlc: id, amount, at: Seconds(1_010) }) {
                if let HoldAction::ProceedToSuccess { htlcs, total } = action {
                    success = Some((htlcs, total));
                }
            }
        }
        let (o_htlcs, o_total) = success.expect("O completes");
        assert_eq!((o_htlcs.len(), o_total), (7, agreed));

        // O fulfils; the first fulfilment upstream makes F fulfil all of A's parts.
        let actions = f.handle(ForwarderEvent::Upstream(OutgoingEvent::Fulfilled { htlc: o_htlcs[0] })).unwrap();
        assert_eq!(actions, vec![ForwarderAction::FulfilAllDownstream { htlcs: vec![HtlcRef(0), HtlcRef(1), HtlcRef(2)] }]);
        assert_eq!(a.handle(OutgoingEvent::Fulfilled { htlc: HtlcRef(2) }), Ok(Some(OutgoingOutcome::AnyFulfilled)));
    }
}
