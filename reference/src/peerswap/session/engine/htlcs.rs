//! `peerswap_lightning`, the in-Lightning HTLCs (hold, split, forwarding upstream)
//! and `peerswap_success`.

use super::*;

impl<P: Clone + Ord + core::fmt::Debug, K: SessionKeys<P>> PeerswapEngine<P, K> {
    // ---- peerswap_lightning -----------------------------------------------------------

    pub(super) fn on_lightning_msg(&mut self, from: P, msg: PeerswapLightning, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        // SIDEPOOL-10: "The receiver of `peerswap_lightning` MUST perform the validations below:"
        // SIDEPOOL-10: "It previously sent `peerswap_accept` to the sender, and the sidepool ID and hash matches the one in `peerswap_accept`."
        let Some(mut s) = self.sessions.remove(&key) else {
            out.push(log(LogLevel::Warn, "peerswap_lightning for no peerswap we accepted from the sender; ignored"));
            return;
        };
        if !matches!(s.side, Side::Acceptor { .. }) || s.phase != Phase::Accepted {
            out.push(log(LogLevel::Warn, "peerswap_lightning out of turn; ignored"));
            self.sessions.insert(key, s);
            return;
        }
        let Some(agreed) = s.agreed else {
            // Our own expansion outcome has not come in yet: keep it until it does.
            s.early_lightning = Some(msg);
            self.sessions.insert(key, s);
            return;
        };
        s.lightning = Some(msg.clone());
        s.phase = Phase::Lightning;
        // SIDEPOOL-10: "On receiving this message, the local acceptor MUST arrange to get one or more in-Lightning HTLCs to the sender:"
        match s.side.clone() {
            Side::Acceptor { forward: None } => {
                // SIDEPOOL-10: "Otherwise, the local acceptor is the ultimate acceptor, and it MUST send a number of HTLCs."
                // SIDEPOOL-10: "The ultimate acceptor, once it has received `peerswap_lightning` from the local offerrer, MUST immediately offer the in-Lightning HTLCs."
                let parts = OutgoingParts::new(agreed);
                s.outgoing = Some(parts);
                let rules_init = s.init.clone();
                self.pay(&key, &mut s, &rules_init, &msg, agreed, out);
                self.sessions.insert(key, s);
            }
            Side::Acceptor { forward: Some(record) } => {
                // SIDEPOOL-10: "On receiving `peerswap_lightning`, a forwarder MUST persistently record `peerswap_lightning_payment_secret` and `peerswap_lightning_payment_metadata`, if any."
                out.push(Action::PersistRecord(Record::Lightning {
                    id: msg.id,
                    hash: msg.hash,
                    peer: from.clone(),
                    sent: false,
                    payment_secret: msg.payment_secret,
                    payment_metadata: msg.payment_metadata.clone(),
                }));
                self.sessions.insert(key, s);
                // SIDEPOOL-10: "Then, the forwarder MUST construct its own `peerswap_lightning` message."
                let dkey = (msg.id, msg.hash, record.downstream.clone());
                let Some(d) = self.sessions.get_mut(&dkey) else { return };
                // SIDEPOOL-10: "A forwarder MUST NOT copy the `peerswap_lightning` message verbatim."
                let (secret, metadata) = self.keys.lightning_fields(
                    PeerswapRef { id: msg.id, hash: msg.hash },
                    &record.downstream,
                    Role::Forwarder,
                );
                let own = PeerswapLightning {
                    id: msg.id,
                    hash: msg.hash,
                    payment_secret: secret,
                    payment_metadata: metadata,
                    unknown: Vec::new(),
                };
                d.lightning = Some(own.clone());
                d.phase = Phase::Lightning;
                d.fwd = Some(Forwarder::with_hold_timeout(d.agreed.unwrap_or(agreed), self.constants.hold_timeout));
                out.push(Action::PersistRecord(Record::Lightning {
                    id: msg.id,
                    hash: msg.hash,
                    peer: record.downstream.clone(),
                    sent: true,
                    payment_secret: own.payment_secret,
                    payment_metadata: own.payment_metadata.clone(),
                }));
                // SIDEPOOL-10: "If the local acceptor is a forwarder, it MUST forward a `peerswap_lightning` to its own local acceptor, wait for incoming HTLCs from that acceptor, and *then* send a number of HTLCs to the local offerrer."
                out.push(Action::Send { to: record.downstream, msg: Message::PeerswapLightning(own) });
            }
            Side::Offerrer { .. } => {
                self.sessions.insert(key, s);
            }
        }
    }

    /// Plan the split of `total` to the session's peer and add the HTLCs.
    pub(super) fn pay(
        &mut self,
        key: &Key<P>,
        s: &mut Session<P>,
        init: &PeerswapInit,
        lightning: &PeerswapLightning,
        total: Msat,
        out: &mut Vec<Action<P>>,
    ) {
        // `total` was computed at the expansion outcome, per the engine's revision (`in_lightning_amount`):
        // SIDEPOOL-10@seed: "An acceptor (whether the ultimate acceptor, or a forwarder), once it is time to offer the in-Lightning HTLCs, first calculates the "agreed-upon amount" of the in-Lightning HTLCs, as above."
        // SIDEPOOL-10@upstream-50799b4: "...all totalling to the in-sidepool HTLC amount."
        let to = key.clone();
        self.pay_upstream(key, &to, s, init, lightning, total, out);
    }

    // ---- in-Lightning HTLCs -----------------------------------------------------------

    pub(super) fn on_incoming_added(&mut self, peer: P, id: u64, htlc: &ObservedHtlc, out: &mut Vec<Action<P>>) {
        if self.find_incoming(&peer, id).is_some() {
            // A repeated report must not count the same HTLC twice towards the agreed-upon amount.
            out.push(log(LogLevel::Warn, "incoming HTLC reported twice; ignored"));
            return;
        }
        let keys: Vec<Key<P>> = self
            .sessions
            .iter()
            .filter(|(k, s)| k.2 == peer && matches!(s.side, Side::Offerrer { .. }) && s.lightning.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(s) = self.sessions.get(&key) else { continue };
            let Some(l) = s.lightning.as_ref() else { continue };
            let max = self.peers.get(&peer).map_or(Msat::ZERO, |p| {
                p.channels
                    .iter()
                    .filter(|c| c.state.is_normal())
                    .map(|c| c.htlc_maximum_from_peer)
                    .max()
                    .unwrap_or(Msat::ZERO)
            });
            let rules = HtlcRules::for_hop(&s.init, l, max);
            match rules.classify(htlc) {
                Incoming::NotThisPeerswap => continue,
                Incoming::Malformed(v) => {
                    out.push(log(LogLevel::Warn, format!("in-Lightning HTLC breaks a rule: {}", v.name())));
                    out.push(Action::FailHtlc { peer, id });
                    return;
                }
                Incoming::Part { amount } => {
                    self.next_incoming += 1;
                    let r = HtlcRef(self.next_incoming);
                    if let Some(s) = self.sessions.get_mut(&key) {
                        s.incoming.push((id, r, amount));
                    }
                    return;
                }
            }
        }
        out.push(log(LogLevel::Debug, "incoming HTLC is not a peerswap's"));
    }

    pub(super) fn find_incoming(&self, peer: &P, id: u64) -> Option<(Key<P>, HtlcRef, Msat)> {
        self.sessions.iter().find_map(|(k, s)| {
            (k.2 == *peer)
                .then(|| s.incoming.iter().find(|(i, _, _)| *i == id).map(|(_, r, a)| (k.clone(), *r, *a)))
                .flatten()
        })
    }

    pub(super) fn on_incoming_committed(&mut self, peer: P, id: u64, out: &mut Vec<Action<P>>) {
        let Some((key, r, amount)) = self.find_incoming(&peer, id) else { return };
        let Some(mut s) = self.sessions.remove(&key) else { return };
        let evt = HoldEvent::Committed { htlc: r, amount, at: secs(self.now) };
        if let Some(hold) = s.hold.as_mut() {
            let actions = hold.handle(evt);
            self.hold_actions(&key, &mut s, actions, out);
        } else if let Some(fwd) = s.fwd.as_mut() {
            if let Ok(actions) = fwd.handle(ForwarderEvent::Downstream(evt)) {
                self.forwarder_actions(&key, &mut s, actions, out);
            }
        }
        self.sessions.insert(key, s);
    }

    pub(super) fn on_incoming_gone(&mut self, peer: P, id: u64, out: &mut Vec<Action<P>>) {
        let Some((key, r, _)) = self.find_incoming(&peer, id) else { return };
        let Some(mut s) = self.sessions.remove(&key) else { return };
        let evt = HoldEvent::Removed { htlc: r, at: secs(self.now) };
        if let Some(hold) = s.hold.as_mut() {
            let actions = hold.handle(evt);
            self.hold_actions(&key, &mut s, actions, out);
        } else if let Some(fwd) = s.fwd.as_mut() {
            if let Ok(actions) = fwd.handle(ForwarderEvent::Downstream(evt)) {
                self.forwarder_actions(&key, &mut s, actions, out);
            }
        }
        // Gone for good: no later fulfil or fail may name it (a forwarder that has
        // already paid upstream would otherwise fulfil it with the others; found
        // by the session_engine fuzz target, fuzz/regressions/session_engine/).
        s.incoming.retain(|(i, _, _)| *i != id);
        self.sessions.insert(key, s);
    }

    pub(super) fn caller_id(s: &Session<P>, r: HtlcRef) -> Option<u64> {
        s.incoming.iter().find(|(_, x, _)| *x == r).map(|(i, _, _)| *i)
    }

    pub(super) fn incoming_total(s: &Session<P>, htlcs: &[HtlcRef]) -> Msat {
        Msat(s.incoming.iter().filter(|(_, r, _)| htlcs.contains(r)).fold(0u64, |a, (_, _, m)| a.saturating_add(m.0)))
    }

    pub(super) fn hold_actions(
        &mut self,
        key: &Key<P>,
        s: &mut Session<P>,
        actions: Vec<HoldAction>,
        out: &mut Vec<Action<P>>,
    ) {
        for a in actions {
            match a {
                HoldAction::KeepHolding { .. } => {}
                HoldAction::ProceedToSuccess { htlcs, total } => {
                    // Invariant: never fulfil an incoming set below the agreed amount.
                    let agreed = s.agreed.unwrap_or(Msat(u64::MAX));
                    debug_assert!(Self::incoming_total(s, &htlcs) >= agreed && total >= agreed);
                    if Self::incoming_total(s, &htlcs) < agreed {
                        continue;
                    }
                    let Some(acceptor) = s.acceptor_pubkeys else { continue };
                    let handover = Handover { keys: &self.keys, swap: s.swap(), peer: &key.2, to: acceptor.ephemeral };
                    match resolution::success_path(s.swap(), &htlcs, &handover) {
                        Ok(steps) => {
                            for step in steps {
                                match step {
                                    SuccessStep::SendPeerswapSuccess(m) => {
                                        out.push(Action::Send { to: key.2.clone(), msg: Message::PeerswapSuccess(m) })
                                    }
                                    SuccessStep::Fulfil(r) => {
                                        if let Some(id) = Self::caller_id(s, r) {
                                            out.push(Action::FulfilHtlc { peer: key.2.clone(), id });
                                        }
                                    }
                                }
                            }
                            s.phase = Phase::Done;
                        }
                        Err(e) => out.push(log(LogLevel::Warn, format!("key handover failed: {e}"))),
                    }
                }
                HoldAction::OfferUpstream { .. } => {}
                HoldAction::FailAll { htlcs } => {
                    out.push(log(LogLevel::Info, "60-second hold timed out: failing every in-Lightning HTLC"));
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FailHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
                HoldAction::FailLate { htlc } => {
                    if let Some(id) = Self::caller_id(s, htlc) {
                        out.push(Action::FailHtlc { peer: key.2.clone(), id });
                    }
                }
                HoldAction::FulfilLate { htlc } => {
                    if let Some(id) = Self::caller_id(s, htlc) {
                        out.push(Action::FulfilHtlc { peer: key.2.clone(), id });
                    }
                }
            }
        }
    }

    /// `s` is the downstream session (key.2 = our local acceptor) of a forwarded peerswap.
    pub(super) fn forwarder_actions(
        &mut self,
        key: &Key<P>,
        s: &mut Session<P>,
        actions: Vec<ForwarderAction>,
        out: &mut Vec<Action<P>>,
    ) {
        for a in actions {
            match a {
                ForwarderAction::Hold(HoldAction::OfferUpstream { htlcs, total }) => {
                    let agreed = s.agreed.unwrap_or(Msat(u64::MAX));
                    debug_assert!(Self::incoming_total(s, &htlcs) >= agreed);
                    let Side::Offerrer { upstream: Some(up) } = s.side.clone() else { continue };
                    let ukey = (key.0, key.1, up.clone());
                    let Some(u) = self.sessions.get(&ukey) else { continue };
                    let (Some(up_lightning), up_init) = (u.lightning.clone(), u.init.clone()) else { continue };
                    // SIDEPOOL-10: "In particular, once the direct peerswap acceptor has given an HTLC in the Lightning Network channel, the forwarder MUST store this fact in persistent storage before it forwards the HTLC on the Lightning Network channel to the direct peerswap offerrer."
                    out.push(Action::PersistRecord(Record::ForwardedHtlcs {
                        id: key.0,
                        hash: key.1,
                        from: key.2.clone(),
                        to: up.clone(),
                        total,
                    }));
                    // SIDEPOOL-10: "A forwarder MUST instead wait for its own local acceptor to offer *all* in-Lightning HTLCs before itself offerring *any* HTLCs to the local offerrer."
                    let up_key = (key.0, key.1, up);
                    self.pay_upstream(key, &up_key, s, &up_init, &up_lightning, total, out);
                }
                ForwarderAction::Hold(HoldAction::FailAll { htlcs }) => {
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FailHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
                ForwarderAction::Hold(HoldAction::FailLate { htlc }) => {
                    if let Some(id) = Self::caller_id(s, htlc) {
                        out.push(Action::FailHtlc { peer: key.2.clone(), id });
                    }
                }
                ForwarderAction::Hold(_) => {}
                ForwarderAction::FulfilAllDownstream { htlcs } => {
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FulfilHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
                ForwarderAction::FailAllDownstream { htlcs } => {
                    for r in htlcs {
                        if let Some(id) = Self::caller_id(s, r) {
                            out.push(Action::FailHtlc { peer: key.2.clone(), id });
                        }
                    }
                    s.phase = Phase::Done;
                }
            }
        }
    }

    /// Plan the split of `total` to the peer of `ukey` and add the HTLCs; the
    /// session `dkey` owns them (it is `ukey` itself when we pay our own offerrer).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pay_upstream(
        &mut self,
        dkey: &Key<P>,
        ukey: &Key<P>,
        d: &mut Session<P>,
        init: &PeerswapInit,
        lightning: &PeerswapLightning,
        total: Msat,
        out: &mut Vec<Action<P>>,
    ) {
        let channels = self.peers.get(&ukey.2).map(|p| p.channels.clone()).unwrap_or_default();
        let plan = match plan_split_with(total, &channels_to(&channels), self.config.choices.split, self.config.choices.max_parts) {
            Ok(p) => p,
            Err(why) => {
                out.push(log(LogLevel::Warn, format!("cannot pay the in-Lightning HTLCs: {why}")));
                self.feed_outgoing(dkey, d, OutgoingEvent::Stopped, out);
                return;
            }
        };
        for part in plan {
            let max_htlc = channels.get(part.channel.0 as usize).map_or(Msat::ZERO, |c| c.htlc_maximum_ours);
            let fields = HtlcRules::for_hop(init, lightning, max_htlc).build(part.amount);
            let htlc = self.alloc_htlc();
            self.outgoing_owner.insert(htlc, dkey.clone());
            out.push(Action::AddHtlc { to: ukey.2.clone(), channel: part.channel, htlc, fields });
            self.feed_outgoing(dkey, d, OutgoingEvent::Offered { htlc, amount: part.amount }, out);
        }
    }

    /// Feeds an outcome event of an HTLC we offered to the session that owns it.
    pub(super) fn feed_outgoing(
        &mut self,
        key: &Key<P>,
        s: &mut Session<P>,
        evt: OutgoingEvent,
        out: &mut Vec<Action<P>>,
    ) {
        if let Some(fwd) = s.fwd.as_mut() {
            match fwd.handle(ForwarderEvent::Upstream(evt)) {
                Ok(actions) => self.forwarder_actions(key, s, actions, out),
                Err(e) => out.push(log(LogLevel::Warn, format!("outgoing HTLC event: {e}"))),
            }
        } else if let Some(parts) = s.outgoing.as_mut() {
            match parts.handle(evt) {
                Ok(Some(OutgoingOutcome::AnyFulfilled)) => {
                    out.push(log(LogLevel::Info, "an in-Lightning HTLC was fulfilled: waiting for peerswap_success"));
                }
                Ok(Some(OutgoingOutcome::AllFailedAndRemoved)) => {
                    // The fail path's peerswap_fail is provisional (ERRATA E-67): not sent by this engine.
                    out.push(log(LogLevel::Warn, "every in-Lightning HTLC failed and was removed: fail path"));
                    s.phase = Phase::Done;
                }
                Ok(None) => {}
                Err(e) => out.push(log(LogLevel::Warn, format!("outgoing HTLC event: {e}"))),
            }
        }
    }

    pub(super) fn on_outgoing(&mut self, htlc: HtlcRef, evt: OutgoingEvent, out: &mut Vec<Action<P>>) {
        let Some(key) = self.outgoing_owner.get(&htlc).cloned() else {
            out.push(log(LogLevel::Debug, "event for an HTLC this engine did not add"));
            return;
        };
        let Some(mut s) = self.sessions.remove(&key) else { return };
        self.feed_outgoing(&key, &mut s, evt, out);
        self.sessions.insert(key, s);
    }

    // ---- resolution -------------------------------------------------------------------

    pub(super) fn on_success_msg(&mut self, from: P, msg: PeerswapSuccess, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        let Some(s) = self.sessions.get_mut(&key) else {
            out.push(log(LogLevel::Warn, "peerswap_success for no peerswap with the sender; ignored"));
            return;
        };
        if !matches!(s.side, Side::Acceptor { .. }) || s.lightning.is_none() {
            out.push(log(LogLevel::Warn, "peerswap_success out of turn; ignored"));
            return;
        }
        let role = match &s.side {
            Side::Acceptor { forward: Some(_) } => SuccessReceiver::Forwarder,
            _ => SuccessReceiver::UltimateAcceptor,
        };
        let down = match &s.side {
            Side::Acceptor { forward: Some(r) } => Some(r.downstream.clone()),
            _ => None,
        };
        match resolution::receive_success(s.swap(), role, &msg) {
            Err(e) => out.push(log(LogLevel::Warn, format!("peerswap_success ignored: {e}"))),
            Ok(SuccessReceipt::Forward(m)) => {
                s.phase = Phase::Done;
                if let Some(d) = down {
                    // SIDEPOOL-10: "The ultimate offerrer sends out `peerswap_success`, which forwarders then forward to the ultimate acceptor."
                    out.push(Action::Send { to: d, msg: Message::PeerswapSuccess(m) });
                }
            }
            Ok(SuccessReceipt::Claim(resolution::InSidepoolClaim::AcceptorClaims { offerrer_key })) => {
                s.phase = Phase::Done;
                out.push(Action::ClaimInSidepool { id: msg.id, hash: msg.hash, offerrer_key });
            }
            Ok(SuccessReceipt::Claim(_)) => {}
        }
    }
}
