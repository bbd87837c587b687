//! `LSP_a`, the payer's LSP: holds `A`'s HTLCs until a valid unblock, fails
//! them back before they expire, and hands the preimage back to `A`
//! (LNROD-01 "The payer's LSP, LSP_a").
//!
//! One machine per `A`: it sees `A`'s HTLCs (by their `update_add_htlc` id),
//! `A`'s block requests and connection, the chain height, the unblocks that
//! reach it, and the outcome of the HTLCs it forwarded.

use std::collections::{BTreeMap, BTreeSet};

use crate::profile::{FailBackRule, Misuse, Profile};
use crate::units::{BlockHeight, HtlcId, Msat, PaymentHash, Pid, Preimage};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LspAConfig {
    pub profile: Profile,
    pub fail_back: FailBackRule,
    /// The most HTLCs held at a time (`max_held`).
    pub max_held: u32,
    /// Whether `LSP_a` advertises `htlc_hold` (bit 153) to `A` (`ldk` profile).
    pub advertises_hold: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LspAEvent {
    /// `A` connected (`true`) or disconnected.
    APeer { online: bool },
    /// `lightningrod`: an onion message asking `LSP_a` to hold the HTLCs of
    /// these payment hashes; `direct_from_a` when it came over `A`'s connection
    /// as a one-hop message.
    BlockRequest { pid: Pid, hashes: Vec<PaymentHash>, direct_from_a: bool },
    /// `A` added an HTLC (committed). `outgoing_cltv` is the onion's
    /// `outgoing_cltv_value`; `hold_htlc` is the `update_add_htlc` record.
    HtlcAdded {
        htlc: HtlcId,
        payment_hash: PaymentHash,
        amount: Msat,
        cltv_expiry: BlockHeight,
        outgoing_cltv: BlockHeight,
        hold_htlc: bool,
    },
    /// `lightningrod`: an onion message to `A` whose data for `LSP_a` carries
    /// `payment_unblock`.
    Unblock { payment_unblock: Pid },
    /// `ldk`: a `release_held_htlc` received over a path whose context names
    /// `context`; `authenticated` is the onion layer's check of that context.
    ReleaseHeldHtlc { context: HtlcId, authenticated: bool },
    /// Any other onion message to forward to `A`.
    OnionMessageForA,
    /// The chain tip is now at `height`.
    Block { height: BlockHeight },
    /// The HTLC forwarded for `htlc` was fulfilled downstream.
    DownstreamFulfilled { htlc: HtlcId, preimage: Preimage },
    /// The HTLC forwarded for `htlc` failed downstream.
    DownstreamFailed { htlc: HtlcId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// The fail-back height was reached while the HTLC was held.
    Expired,
    /// `hold_htlc` on an HTLC while `LSP_a` does not advertise holding.
    HoldUnsupported,
    /// `max_held` HTLCs were already held.
    HoldLimit,
    /// `outgoing_cltv_value` not below `cltv_expiry`: no safe fail-back height.
    BadCltv,
    /// The forwarded HTLC failed.
    DownstreamFailed,
}

impl FailReason {
    pub fn name(self) -> &'static str {
        match self {
            FailReason::Expired => "expired",
            FailReason::HoldUnsupported => "hold_unsupported",
            FailReason::HoldLimit => "hold_limit",
            FailReason::BadCltv => "bad_cltv",
            FailReason::DownstreamFailed => "downstream_failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotifyReason {
    Preimage,
    OnionMessage,
}

impl NotifyReason {
    pub fn name(self) -> &'static str {
        match self {
            NotifyReason::Preimage => "preimage",
            NotifyReason::OnionMessage => "onion_message",
        }
    }
}

/// Why an unblock released nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnblockIgnored {
    /// `lightningrod`: no unreleased block request has this `pid` (a wrong
    /// `pid`, or a repeat of one already used).
    NoSuchPid,
    /// `ldk`: the context did not authenticate.
    Unauthenticated,
    /// `ldk`: the context names no HTLC held now (unknown, or released before).
    NotHeld,
}

impl UnblockIgnored {
    pub fn name(self) -> &'static str {
        match self {
            UnblockIgnored::NoSuchPid => "no_such_pid",
            UnblockIgnored::Unauthenticated => "unauthenticated",
            UnblockIgnored::NotHeld => "not_held",
        }
    }
}

/// Why a block request was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestIgnored {
    NotFromA,
    HashAlreadyListed,
    PidAlreadyListed,
    NoHashes,
}

impl RequestIgnored {
    pub fn name(self) -> &'static str {
        match self {
            RequestIgnored::NotFromA => "not_from_a",
            RequestIgnored::HashAlreadyListed => "hash_already_listed",
            RequestIgnored::PidAlreadyListed => "pid_already_listed",
            RequestIgnored::NoHashes => "no_hashes",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LspAAction {
    /// Keep the HTLC: neither forward nor fail it.
    Hold { htlc: HtlcId },
    /// `ldk`: put a release path for the HTLC in the `revoke_and_ack`.
    GiveReleasePath { htlc: HtlcId },
    /// Forward a held HTLC after a valid unblock.
    Release { htlc: HtlcId },
    /// Forward an HTLC nobody asked to hold, as any forwarding node does.
    Forward { htlc: HtlcId },
    /// Fail `A`'s HTLC back.
    FailBack { htlc: HtlcId, reason: FailReason },
    /// Fulfil `A`'s HTLC.
    Fulfil { htlc: HtlcId, preimage: Preimage },
    /// Push a notification to `A`'s device.
    NotifyA { reason: NotifyReason },
    /// Forward an onion message on to `A`.
    ForwardOnionMessageToA,
    UnblockIgnored { reason: UnblockIgnored },
    BlockRequestIgnored { reason: RequestIgnored },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum HtlcState {
    Held { fail_back_height: BlockHeight },
    Forwarded,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Htlc {
    payment_hash: PaymentHash,
    cltv_expiry: BlockHeight,
    state: HtlcState,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BlockRequest {
    pid: Pid,
    hashes: BTreeSet<PaymentHash>,
    held: BTreeSet<HtlcId>,
    held_any: bool,
}

/// A held HTLC, as the model checker and tests see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeldHtlc {
    pub htlc: HtlcId,
    pub payment_hash: PaymentHash,
    pub cltv_expiry: BlockHeight,
    pub fail_back_height: BlockHeight,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LspA {
    config: LspAConfig,
    height: BlockHeight,
    a_online: bool,
    /// `lightningrod` block requests not released yet.
    requests: Vec<BlockRequest>,
    /// `A`'s HTLCs held or forwarded, until they are resolved.
    htlcs: BTreeMap<HtlcId, Htlc>,
}

impl LspA {
    pub fn new(config: LspAConfig, height: BlockHeight, a_online: bool) -> LspA {
        LspA { config, height, a_online, requests: Vec::new(), htlcs: BTreeMap::new() }
    }

    pub fn config(&self) -> LspAConfig {
        self.config
    }
    pub fn height(&self) -> BlockHeight {
        self.height
    }

    /// Every held HTLC, by id.
    pub fn held(&self) -> Vec<HeldHtlc> {
        self.htlcs
            .iter()
            .filter_map(|(id, h)| match h.state {
                HtlcState::Held { fail_back_height } => Some(HeldHtlc {
                    htlc: *id,
                    payment_hash: h.payment_hash,
                    cltv_expiry: h.cltv_expiry,
                    fail_back_height,
                }),
                HtlcState::Forwarded => None,
            })
            .collect()
    }

    /// Applies one event. On `Err` the state is unchanged.
    pub fn handle(&mut self, event: LspAEvent) -> Result<Vec<LspAAction>, Misuse> {
        let mut next = self.clone();
        let actions = next.apply(event)?;
        *self = next;
        Ok(actions)
    }

    fn apply(&mut self, event: LspAEvent) -> Result<Vec<LspAAction>, Misuse> {
        match event {
            LspAEvent::APeer { online } => {
                self.a_online = online;
                Ok(Vec::new())
            }
            LspAEvent::BlockRequest { pid, hashes, direct_from_a } => {
                self.only(Profile::LightningRod)?;
                Ok(self.block_request(pid, hashes, direct_from_a))
            }
            LspAEvent::HtlcAdded { htlc, payment_hash, amount: _, cltv_expiry, outgoing_cltv, hold_htlc } => {
                if self.htlcs.contains_key(&htlc) {
                    return Err(Misuse::DuplicateHtlc);
                }
                Ok(self.htlc_added(htlc, payment_hash, cltv_expiry, outgoing_cltv, hold_htlc))
            }
            LspAEvent::Unblock { payment_unblock } => {
                self.only(Profile::LightningRod)?;
                Ok(self.unblock(&payment_unblock))
            }
            LspAEvent::ReleaseHeldHtlc { context, authenticated } => {
                self.only(Profile::Ldk)?;
                Ok(self.release_held_htlc(context, authenticated))
            }
            LspAEvent::OnionMessageForA => Ok(self.onion_message_for_a()),
            LspAEvent::Block { height } => Ok(self.block(height)),
            LspAEvent::DownstreamFulfilled { htlc, preimage } => {
                self.take_forwarded(htlc)?;
                // LNROD-01: "LSP_a MUST fulfil A's HTLC with the preimage once the HTLC it forwarded for it is fulfilled."
                let mut out = vec![LspAAction::Fulfil { htlc, preimage }];
                if !self.a_online {
                    // LNROD-01: "LSP_a MUST notify A when it has a preimage for A while A is offline."
                    out.push(LspAAction::NotifyA { reason: NotifyReason::Preimage });
                }
                Ok(out)
            }
            LspAEvent::DownstreamFailed { htlc } => {
                self.take_forwarded(htlc)?;
                // LNROD-01: "LSP_a MUST fail A's HTLC back once the HTLC it forwarded for it has failed."
                Ok(vec![LspAAction::FailBack { htlc, reason: FailReason::DownstreamFailed }])
            }
        }
    }

    fn only(&self, profile: Profile) -> Result<(), Misuse> {
        if self.config.profile == profile {
            Ok(())
        } else {
            Err(Misuse::WrongProfile)
        }
    }

    fn block_request(&mut self, pid: Pid, hashes: Vec<PaymentHash>, direct_from_a: bool) -> Vec<LspAAction> {
        let ignored = |reason| vec![LspAAction::BlockRequestIgnored { reason }];
        // LNROD-01: "In the `lightningrod` profile, LSP_a MUST ignore a block request that did not come directly from A."
        if !direct_from_a {
            return ignored(RequestIgnored::NotFromA);
        }
        if hashes.is_empty() {
            return ignored(RequestIgnored::NoHashes);
        }
        // LNROD-01: "In the `lightningrod` profile, LSP_a MUST ignore a block request that lists a payment hash already listed in a block request it has not released."
        if self.requests.iter().any(|r| hashes.iter().any(|h| r.hashes.contains(h))) {
            return ignored(RequestIgnored::HashAlreadyListed);
        }
        if self.requests.iter().any(|r| r.pid == pid) {
            return ignored(RequestIgnored::PidAlreadyListed);
        }
        self.requests.push(BlockRequest {
            pid,
            hashes: hashes.into_iter().collect(),
            held: BTreeSet::new(),
            held_any: false,
        });
        Vec::new()
    }

    fn held_count(&self) -> usize {
        self.htlcs.values().filter(|h| matches!(h.state, HtlcState::Held { .. })).count()
    }

    fn htlc_added(
        &mut self,
        htlc: HtlcId,
        payment_hash: PaymentHash,
        cltv_expiry: BlockHeight,
        outgoing_cltv: BlockHeight,
        hold_htlc: bool,
    ) -> Vec<LspAAction> {
        let asked_to_hold = match self.config.profile {
            // LNROD-01: "In the `lightningrod` profile, LSP_a MUST hold every HTLC from A whose payment hash is listed in a block request from A that it has not released."
            // (An `update_add_htlc` `hold_htlc` record means nothing in this profile.)
            Profile::LightningRod => self.requests.iter().any(|r| r.hashes.contains(&payment_hash)),
            Profile::Ldk => {
                // LNROD-01: "In the `ldk` profile, LSP_a MUST fail back an HTLC whose `update_add_htlc` carries `hold_htlc` when it does not advertise the ability to hold HTLCs."
                if hold_htlc && !self.config.advertises_hold {
                    return vec![LspAAction::FailBack { htlc, reason: FailReason::HoldUnsupported }];
                }
                // LNROD-01: "In the `ldk` profile, LSP_a MUST hold every HTLC whose `update_add_htlc` carries `hold_htlc` while it advertises the ability to hold HTLCs."
                hold_htlc
            }
        };
        if !asked_to_hold {
            // LNROD-01: "LSP_a MUST NOT hold an HTLC that A did not ask it to hold."
            // LNROD-01: "In the `lightningrod` profile, LSP_a MUST forward as usual an HTLC whose payment hash was listed only in block requests it has already released."
            self.htlcs.insert(htlc, Htlc { payment_hash, cltv_expiry, state: HtlcState::Forwarded });
            return vec![LspAAction::Forward { htlc }];
        }
        // LNROD-01: "LSP_a MUST use a fail-back height below the incoming HTLC's `cltv_expiry`."
        let Some(fail_back_height) = self.config.fail_back.height(cltv_expiry, outgoing_cltv) else {
            return vec![LspAAction::FailBack { htlc, reason: FailReason::BadCltv }];
        };
        // LNROD-01: "LSP_a MUST fail back at once an HTLC it is asked to hold when the chain height has already reached the HTLC's fail-back height."
        if self.height >= fail_back_height {
            return vec![LspAAction::FailBack { htlc, reason: FailReason::Expired }];
        }
        // LNROD-01: "LSP_a MAY fail back an HTLC it is asked to hold when it already holds `max_held` HTLCs."
        if u32::try_from(self.held_count()).map_or(true, |n| n >= self.config.max_held) {
            return vec![LspAAction::FailBack { htlc, reason: FailReason::HoldLimit }];
        }
        self.htlcs.insert(htlc, Htlc { payment_hash, cltv_expiry, state: HtlcState::Held { fail_back_height } });
        let mut out = vec![LspAAction::Hold { htlc }];
        match self.config.profile {
            Profile::LightningRod => {
                if let Some(r) = self.requests.iter_mut().find(|r| r.hashes.contains(&payment_hash)) {
                    r.held.insert(htlc);
                    r.held_any = true;
                }
            }
            // LNROD-01: "In the `ldk` profile, LSP_a MUST give A a release path for every HTLC it holds, in the `revoke_and_ack` that commits the HTLC."
            Profile::Ldk => out.push(LspAAction::GiveReleasePath { htlc }),
        }
        out
    }

    /// Forwards held HTLCs after a valid unblock.
    ///
    /// LNROD-01: "LSP_a MUST NOT forward a held HTLC before it has received a valid unblock for it."
    fn release(&mut self, htlcs: impl IntoIterator<Item = HtlcId>) -> Vec<LspAAction> {
        let mut out = Vec::new();
        for id in htlcs {
            if let Some(h) = self.htlcs.get_mut(&id) {
                if matches!(h.state, HtlcState::Held { .. }) {
                    h.state = HtlcState::Forwarded;
                    out.push(LspAAction::Release { htlc: id });
                }
            }
        }
        out
    }

    fn unblock(&mut self, pid: &Pid) -> Vec<LspAAction> {
        // LNROD-01: "In the `lightningrod` profile, LSP_a MUST treat an unblock as valid only if its `payment_unblock` equals the `pid` of a block request from A that it has not released."
        let mut out = match self.requests.iter().position(|r| &r.pid == pid) {
            Some(i) => {
                let request = self.requests.remove(i);
                // LNROD-01: "On a valid unblock, LSP_a MUST forward every HTLC it holds that the unblock releases."
                self.release(request.held)
            }
            // LNROD-01: "LSP_a MUST ignore an unblock that is not valid, and keep holding what it holds."
            // LNROD-01: "LSP_a MUST ignore an unblock for HTLCs it has already released."
            None => vec![LspAAction::UnblockIgnored { reason: UnblockIgnored::NoSuchPid }],
        };
        // LNROD-01: "In the `lightningrod` profile, LSP_a MUST forward to A the onion message that carried a `payment_unblock`, whether the unblock was valid or not."
        out.extend(self.onion_message_for_a());
        out
    }

    fn release_held_htlc(&mut self, context: HtlcId, authenticated: bool) -> Vec<LspAAction> {
        // LNROD-01: "In the `ldk` profile, LSP_a MUST treat a `release_held_htlc` as valid only if it arrived over a release path LSP_a created, with an authenticated context that names an HTLC it holds."
        if !authenticated {
            return vec![LspAAction::UnblockIgnored { reason: UnblockIgnored::Unauthenticated }];
        }
        let held = self.htlcs.get(&context).is_some_and(|h| matches!(h.state, HtlcState::Held { .. }));
        if !held {
            return vec![LspAAction::UnblockIgnored { reason: UnblockIgnored::NotHeld }];
        }
        self.release([context])
    }

    fn onion_message_for_a(&self) -> Vec<LspAAction> {
        let mut out = vec![LspAAction::ForwardOnionMessageToA];
        if !self.a_online {
            // LNROD-01: "LSP_a MUST notify A when it has an onion message to forward to A while A is offline."
            out.push(LspAAction::NotifyA { reason: NotifyReason::OnionMessage });
        }
        out
    }

    fn block(&mut self, height: BlockHeight) -> Vec<LspAAction> {
        self.height = height;
        // LNROD-01: "LSP_a MUST fail a held HTLC back to A once the chain height reaches the HTLC's fail-back height."
        let expired: Vec<HtlcId> = self
            .htlcs
            .iter()
            .filter(|(_, h)| matches!(h.state, HtlcState::Held { fail_back_height } if height >= fail_back_height))
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::new();
        for id in expired {
            self.htlcs.remove(&id);
            for r in &mut self.requests {
                r.held.remove(&id);
            }
            out.push(LspAAction::FailBack { htlc: id, reason: FailReason::Expired });
        }
        // LNROD-01: "In the `lightningrod` profile, LSP_a MUST forget a block request once it has failed back every HTLC it held for the request."
        self.requests.retain(|r| !(r.held_any && r.held.is_empty()));
        out
    }

    fn take_forwarded(&mut self, htlc: HtlcId) -> Result<(), Misuse> {
        match self.htlcs.get(&htlc).map(|h| h.state) {
            None => Err(Misuse::UnknownHtlc),
            Some(HtlcState::Held { .. }) => Err(Misuse::NotForwarded),
            Some(HtlcState::Forwarded) => {
                self.htlcs.remove(&htlc);
                Ok(())
            }
        }
    }
}
