//! Receiving and forwarding `peerswap_init`, offering, the answers to it, and the
//! expansion phase outcome.

use super::*;

impl<P: Clone + Ord + core::fmt::Debug, K: SessionKeys<P>> PeerswapEngine<P, K> {
    // ---- messages ---------------------------------------------------------------------

    pub(super) fn on_message(&mut self, from: P, msg: Message, out: &mut Vec<Action<P>>) {
        match msg {
            Message::PeerswapInit(init) => {
                let key = (init.id, init.hash, from.clone());
                if self.sessions.contains_key(&key) {
                    // Same sender, pool and hash: the ledger answers it (code 1) without touching the session.
                    self.decide_init(from, init, self.now, false, out);
                } else {
                    self.process_init(from, init, self.now, out);
                }
            }
            Message::PeerswapAccept(a) => self.on_accept_msg(from, a, out),
            Message::PeerswapReject(r) => self.on_reject_msg(from, r, out),
            Message::PeerswapLightning(l) => self.on_lightning_msg(from, l, out),
            Message::PeerswapSuccess(s) => self.on_success_msg(from, s, out),
            Message::SwapPartyBegin(b) => {
                // SIDEPOOL-04 `swap_party_begin` from the leader of that pool.
                if self.pools.get(&b.id).is_some_and(|v| v.leader == from) {
                    let now = self.now;
                    self.party_begun(b.id, now, out);
                } else {
                    out.push(log(LogLevel::Warn, "swap_party_begin not from the pool leader; ignored"));
                }
            }
            Message::MySidepoolFeatures(_) => {}
        }
    }

    /// A `peerswap_init` that did not decode but names its peerswap: it fails
    /// validation, so it is rejected (ERRATA E-03, E-05).
    pub(super) fn on_malformed_init(&mut self, from: P, m: crate::peerswap::malformed::MalformedInit, out: &mut Vec<Action<P>>) {
        use crate::peerswap::malformed::MalformedInitProblem as Problem;
        let reason = match m.problem {
            // SIDEPOOL-10: "MUST check that the `peerswap_init_hops` value is between 0 to 10, inclusive."
            Problem::HopsMissing => RejectReason::HopsOutOfRange,
            // SIDEPOOL-10: "MUST check that the pool update counter specified is correct for the current swap party."
            Problem::UpdateCounterOutOfRange => RejectReason::WrongUpdateCounter,
            // SIDEPOOL-10: "The receiver MAY reject the peerswap for other reasons."
            Problem::Other => RejectReason::Policy,
        };
        let Some(balance) = self.balance(&from).or_else(|| measure(&[]).ok()) else { return };
        let text = format!("malformed peerswap_init ({})", m.problem.name());
        out.push(log(LogLevel::Info, format!("rejecting a {text}")));
        // SIDEPOOL-10: "If the above validation fails, the receiver MUST reject the peerswap."
        // SIDEPOOL-10: "If the receiver of the `peerswap_init` message decides to reject the peerswap, it MUST send `peerswap_reject`:"
        let reject = PeerswapReject {
            id: m.id,
            hash: m.hash,
            reason_code: reason.code(),
            reason_text: crate::peerswap::receive::reason_text(&text),
            channel_view: balance.view_as_acceptor(),
            unknown: Vec::new(),
        };
        out.push(Action::Send { to: from, msg: Message::PeerswapReject(reject) });
    }

    pub(super) fn process_init(
        &mut self,
        from: P,
        init: PeerswapInit,
        arrived_at: Timestamp,
        out: &mut Vec<Action<P>>,
    ) {
        self.decide_init(from, init, arrived_at, true, out)
    }

    /// Runs the receiver checks; `may_open` is false when a session for this key exists already.
    pub(super) fn decide_init(
        &mut self,
        from: P,
        init: PeerswapInit,
        arrived_at: Timestamp,
        may_open: bool,
        out: &mut Vec<Action<P>>,
    ) {
        let pool = init.id;
        let Some(balance) = self.balance(&from) else {
            out.push(log(LogLevel::Warn, "peerswap_init from a peer without measurable channels; rejected"));
            let b = measure(&[]).ok();
            if let Some(b) = b {
                let rej =
                    crate::peerswap::receive::Rejection { reason: RejectReason::Policy, text: "no channels".into() };
                out.push(Action::Send { to: from, msg: Message::PeerswapReject(reject_message(&init, &rej, &b)) });
            }
            return;
        };
        let (we, leader) = match self.pools.get(&pool) {
            Some(v) => (v.participants.contains(&self.config.me), v.leader == self.config.me),
            None => (false, false),
        };
        let ctx = ReceiveContext {
            we_are_participant: we,
            sender_is_participant: self.is_participant(pool, &from),
            is_leader: leader,
            swap_party_counter: self.parties.get(&pool).map(|(c, _)| *c),
            init_arrived_at: arrived_at,
            now: self.now,
            already_received_from_sender: self.received.contains(&from) || !may_open,
            balance: &balance,
            height: self.height,
            cltv_delta: self.config.cltv_delta,
            policy_objection: None,
        };
        let decision = receive_init_with_constants(&init, &ctx, &self.config.choices, &self.constants);
        match &decision {
            ReceiveDecision::Defer { .. } if !may_open => {
                out.push(log(LogLevel::Warn, "a repeat of a pending peerswap_init; ignored"));
                return;
            }
            ReceiveDecision::Defer { .. } => {
                out.push(log(LogLevel::Info, "no swap_party_begin yet: deferring peerswap_init"));
                self.sessions.insert(
                    (pool, init.hash, from),
                    Session::new(Side::Acceptor { forward: None }, Phase::Deferred { arrived_at }, init),
                );
                return;
            }
            ReceiveDecision::Reject(r) => {
                // ERRATA E-80: an init counts as "previously sent" once it reached the per-sender check.
                if counts_as_received(r.reason) && may_open {
                    let _ = self.received.record(from.clone(), pool);
                }
                out.push(log(LogLevel::Info, format!("rejecting peerswap_init: {} ({})", r.reason, r.text)));
                // SIDEPOOL-10: "If the receiver of the `peerswap_init` message decides to reject the peerswap, it MUST send `peerswap_reject`:"
                out.push(Action::Send { to: from, msg: Message::PeerswapReject(reject_message(&init, r, &balance)) });
                return;
            }
            ReceiveDecision::Accept => {}
        }
        // Forwarding needs the init validated as a receiver first (forward::forward checks `decision`).
        let _ = self.received.record(from.clone(), pool);
        if self.config.forward && self.try_forward(&from, &init, &decision, out) {
            return;
        }
        self.accept_here(from, init, out);
    }

    /// Tries the next hops in peer order; on the first that qualifies, persist then forward.
    pub(super) fn try_forward(
        &mut self,
        from: &P,
        init: &PeerswapInit,
        decision: &ReceiveDecision,
        out: &mut Vec<Action<P>>,
    ) -> bool {
        let pool = init.id;
        // One forward per (pool id, hash): the forwarding record and its deletion are keyed by the
        // pair, as the spec's stored items are. A second offerrer of a pair already being
        // forwarded is accepted here instead, with its own keys (ERRATA E-95).
        let forwarding = self.sessions.iter().any(|((id, hash, _), s)| {
            (*id, *hash) == (pool, init.hash) && matches!(s.side, Side::Acceptor { forward: Some(_) })
        });
        if forwarding {
            return false;
        }
        let Some(view) = self.pools.get(&pool) else { return false };
        let mut candidates: Vec<P> =
            view.participants.iter().filter(|p| **p != self.config.me && *p != from).cloned().collect();
        candidates.sort();
        let cfg = self.forwarder_config(pool);
        for next in candidates {
            let Some(b) = self.balance(&next) else { continue };
            let hop = NextHop { peer: next.clone(), status: self.peer_status(pool, &next), balance: &b };
            let Ok(steps) = forward::forward_with(init, decision, from.clone(), &hop, &cfg, &self.constants) else { continue };
            self.apply_forward_steps(from.clone(), init.clone(), steps, out);
            return true;
        }
        false
    }

    pub(super) fn apply_forward_steps(
        &mut self,
        upstream: P,
        incoming: PeerswapInit,
        steps: Vec<ForwardAction<P>>,
        out: &mut Vec<Action<P>>,
    ) {
        let key = (incoming.id, incoming.hash, upstream.clone());
        for step in steps {
            match step {
                ForwardAction::PersistRecord(rec) => {
                    // SIDEPOOL-10: "If the node decides to forward the peerswap, it MUST store this fact in persistent storage before forwarding `peerswap_init`."
                    let mut s = Session::new(
                        Side::Acceptor { forward: Some(rec.clone()) },
                        Phase::AwaitingAnswer,
                        incoming.clone(),
                    );
                    s.phase = Phase::AwaitingAnswer;
                    self.sessions.insert(key.clone(), s);
                    out.push(Action::PersistRecord(Record::Forward(rec)));
                }
                ForwardAction::SendInit { to, init } => {
                    let htlc_max = self.balance(&to).and_then(|b| b.min_htlc_maximum_from_peer).unwrap_or(Msat::ZERO);
                    let _ = self.sent.record(to.clone(), init.id);
                    self.remember_sent_init(SentInit {
                        to: to.clone(),
                        id: init.id,
                        hash: init.hash,
                        amount: init.amount,
                        htlc_maximum_from_peer: htlc_max,
                        upstream: Some(upstream.clone()),
                    });
                    self.sessions.insert(
                        (init.id, init.hash, to.clone()),
                        Session::new(
                            Side::Offerrer { upstream: Some(upstream.clone()) },
                            Phase::AwaitingAnswer,
                            init.clone(),
                        ),
                    );
                    out.push(log(LogLevel::Info, format!("forwarding peerswap_init from {upstream:?} to {to:?}")));
                    out.push(Action::Send { to, msg: Message::PeerswapInit(init) });
                }
                ForwardAction::DeleteRecord { id, hash } => {
                    // SIDEPOOL-10: "The forwarder MUST delete the fact that it wanted to forward the peerswap from persistent storage before accepting it at this node."
                    self.audit.persisted_forwards.retain(|(i, h, _)| (*i, *h) != (id, hash));
                    out.push(Action::DeleteRecord { id, hash });
                }
                ForwardAction::AcceptHere => {
                    self.sessions.remove(&key);
                    self.accept_here(upstream.clone(), incoming.clone(), out);
                }
                ForwardAction::SendReject { to, reject } => {
                    self.sessions.remove(&key);
                    out.push(Action::Send { to, msg: Message::PeerswapReject(reject) });
                }
            }
        }
    }

    /// Accept at this node: persist the HTLC details, then send `peerswap_accept`.
    pub(super) fn accept_here(&mut self, from: P, init: PeerswapInit, out: &mut Vec<Action<P>>) {
        let swap = PeerswapRef { id: init.id, hash: init.hash };
        let own = self.keys.htlc_pubkeys(swap, &from);
        let details = HtlcDetails {
            id: init.id,
            hash: init.hash,
            peer: from.clone(),
            role: Role::UltimateAcceptor,
            offerrer_pubkeys: init.pubkeys,
            acceptor_pubkeys: own,
            timeouts: init.timeouts,
            amount: init.amount,
        };
        // SIDEPOOL-06: "Both offerrer and acceptor MUST store these information in persistent storage."
        out.push(Action::PersistRecord(Record::HtlcDetails(details)));
        // SIDEPOOL-10: "If the receiver of the `peerswap_init` decides to accept the peerswap, it is now a peerswap acceptor, and is the ultimate acceptor of the peerswap."
        // SIDEPOOL-10: "The acceptor then responds with a `peerswap_accept`:"
        let accept = PeerswapAccept { id: init.id, hash: init.hash, pubkeys: own, unknown: Vec::new() };
        let mut s = Session::new(Side::Acceptor { forward: None }, Phase::Accepted, init);
        s.acceptor_pubkeys = Some(own);
        self.sessions.insert((swap.id, swap.hash, from.clone()), s);
        out.push(Action::Send { to: from, msg: Message::PeerswapAccept(accept) });
    }

    pub(super) fn offer_now(
        &mut self,
        peer: P,
        pool: PoolId,
        hash: crate::units::PaymentHash,
        amount: Option<Sat>,
        hops_random: u8,
        out: &mut Vec<Action<P>>,
    ) {
        let Some(balance) = self.balance(&peer) else {
            out.push(log(LogLevel::Warn, format!("no measurable channels with {peer:?}: not offering")));
            return;
        };
        let status = self.peer_status(pool, &peer);
        let party = self.parties.get(&pool).copied();
        let req = OfferRequest {
            peer: status,
            swap_party_begun: party.is_some(),
            balance: &balance,
            height: self.height,
            final_cltv_delta: self.config.final_cltv_delta,
            amount,
            hops_random,
        };
        // SIDEPOOL-10: "If the node cannot achieve all of the above, the node MUST NOT send this message."
        let plan = match plan_offer_with(&req, self.config.choices.rounding, &self.constants) {
            Ok(p) => p,
            Err(why) => {
                out.push(log(LogLevel::Info, format!("not offering to {peer:?}: {why}")));
                return;
            }
        };
        let swap = PeerswapRef { id: pool, hash };
        let Some((counter, _)) = party else { return };
        let who = InitIdentity { id: pool, pubkeys: self.keys.htlc_pubkeys(swap, &peer), hash, update_counter: counter };
        let init = match build_init(&plan, &who) {
            Ok(i) => i,
            Err(why) => {
                out.push(log(LogLevel::Info, format!("not offering to {peer:?}: {why}")));
                return;
            }
        };
        // The hash is ours, and so is its one preimage: offered twice (to two peers, or in two
        // pools), the first acceptor to learn the preimage could hand it to the second, who
        // would claim its in-sidepool HTLC by the hashlock without paying (ERRATA E-95).
        if self.sessions.keys().any(|(_, h, _)| *h == hash) {
            out.push(log(LogLevel::Warn, format!("not offering to {peer:?}: hash_in_use (another peerswap has this hash)")));
            return;
        }
        // SIDEPOOL-10: "In case the node is a participant of multiple sidepools, and the peer is also a participant of multiple sidepools, the node MUST NOT send this message to a peer more than once until the swap party that triggered the first send has completed or that specific sidepool has aborted."
        if self.sent.record(peer.clone(), pool).is_err() {
            out.push(log(LogLevel::Info, "peerswap_init already sent to this peer in this swap party"));
            return;
        }
        self.remember_sent_init(SentInit {
            to: peer.clone(),
            id: pool,
            hash,
            amount: init.amount,
            htlc_maximum_from_peer: balance.min_htlc_maximum_from_peer.unwrap_or(Msat::ZERO),
            upstream: None,
        });
        out.push(Action::PersistRecord(Record::SentInit { to: peer.clone(), init: init.clone() }));
        self.sessions.insert(
            (pool, hash, peer.clone()),
            Session::new(Side::Offerrer { upstream: None }, Phase::AwaitingAnswer, init.clone()),
        );
        out.push(Action::Send { to: peer, msg: Message::PeerswapInit(init) });
    }

    pub(super) fn on_accept_msg(&mut self, from: P, msg: PeerswapAccept, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        let answered = self.awaits_answer(&key);
        let decision = if answered {
            on_accept(&self.sent_inits, &from, &msg)
        } else {
            AcceptDecision::Ignore(crate::peerswap::response::IgnoreReason::IdOrHashMismatch)
        };
        match decision {
            AcceptDecision::Ignore(why) => {
                // SIDEPOOL-10: "If the above validation fails, the receiver of the message SHOULD log and MUST ignore the message."
                out.push(log(LogLevel::Warn, format!("peerswap_accept ignored: {}", why.name())));
            }
            AcceptDecision::AbortSidepool(why) => {
                // SIDEPOOL-10: "If the above validation fails, the receiver of the message MUST abort the sidepool."
                out.push(Action::AbortSidepool { id: msg.id, reason: why.name().into() });
                self.sessions.remove(&key);
                self.forget_sent_init(&key);
            }
            AcceptDecision::CreateSidepoolHtlc => {
                let Some(s) = self.sessions.get_mut(&key) else { return };
                s.acceptor_pubkeys = Some(msg.pubkeys);
                s.phase = Phase::Accepted;
                let details = HtlcDetails {
                    id: msg.id,
                    hash: msg.hash,
                    peer: key.2.clone(),
                    role: Role::UltimateOfferrer,
                    offerrer_pubkeys: s.init.pubkeys,
                    acceptor_pubkeys: msg.pubkeys,
                    timeouts: s.init.timeouts,
                    amount: s.init.amount,
                };
                let amount = s.init.amount;
                // SIDEPOOL-10: "On receiving the `peerswap_accept`, the ultimate offerrer of the peerswap constructs the in-sidepool HTLC address from the public keys and the HTLC details, as per [SIDEPOOL-06 HTLC Taproot Public Key][]."
                let output_key = self.keys.htlc_output_key(&details);
                // SIDEPOOL-06: "Both offerrer and acceptor MUST store these information in persistent storage."
                out.push(Action::PersistRecord(Record::HtlcDetails(details)));
                // SIDEPOOL-10: "The ultimate offerrer then includes the address, as well as the amount it indicated in the `peerswap_init_amount_sat`, in the `swap_party_expand_request` message to the pool leader if it is a pool follower, or equivalent functionality if it is the pool leader."
                out.push(Action::RequestExpansionOutput { id: msg.id, hash: msg.hash, output_key, amount });
            }
            AcceptDecision::ForwardUpstream { upstream } => {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.acceptor_pubkeys = Some(msg.pubkeys);
                    s.phase = Phase::Accepted;
                }
                if let Some(u) = self.sessions.get_mut(&(msg.id, msg.hash, upstream.clone())) {
                    u.acceptor_pubkeys = Some(msg.pubkeys);
                    u.phase = Phase::Accepted;
                }
                // SIDEPOOL-10: "It MUST forward the message as-is to the peer it forwarded the peerswap from."
                out.push(Action::Send { to: upstream, msg: Message::PeerswapAccept(msg) });
            }
        }
    }

    pub(super) fn on_reject_msg(&mut self, from: P, msg: PeerswapReject, out: &mut Vec<Action<P>>) {
        let key = (msg.id, msg.hash, from.clone());
        let answered = self.awaits_answer(&key);
        let decision = if answered {
            on_reject(&self.sent_inits, &from, &msg)
        } else {
            RejectDecision::Ignore(crate::peerswap::response::IgnoreReason::IdOrHashMismatch)
        };
        match decision {
            RejectDecision::Ignore(why) => {
                // SIDEPOOL-10: "If the above validation fails, the receiver SHOULD log the message and otherwise ignore it."
                out.push(log(LogLevel::Warn, format!("peerswap_reject ignored: {}", why.name())));
            }
            RejectDecision::Forget => {
                out.push(log(LogLevel::Info, format!("peerswap rejected by {from:?} with code {}", msg.reason_code.0)));
                self.sessions.remove(&key);
                self.forget_sent_init(&key);
                out.push(Action::ForgetPeerswap { id: msg.id, hash: msg.hash, peer: from });
            }
            RejectDecision::NextHopRejected { upstream } => {
                self.sessions.remove(&key);
                self.forget_sent_init(&key);
                out.push(Action::ForgetPeerswap { id: msg.id, hash: msg.hash, peer: from });
                let ukey = (msg.id, msg.hash, upstream.clone());
                let Some(u) = self.sessions.get(&ukey) else { return };
                let (Side::Acceptor { forward: Some(record) }, incoming) = (&u.side, u.init.clone()) else { return };
                let record = record.clone();
                let cfg = self.forwarder_config(msg.id);
                // SIDEPOOL-10: "Otherwise, SHOULD accept the peerswap at this node."
                match forward::after_next_hop_reject(&record, &incoming, AfterReject::AcceptHere, &cfg) {
                    Ok(steps) => self.apply_forward_steps(upstream, incoming, steps, out),
                    Err(why) => out.push(log(LogLevel::Warn, format!("after next-hop reject: {why}"))),
                }
            }
        }
    }

    // ---- expansion outcome ------------------------------------------------------------

    pub(super) fn on_expansion(
        &mut self,
        pool: PoolId,
        outputs: &[(OutputKey, Sat)],
        tax: TaxInputs,
        out: &mut Vec<Action<P>>,
    ) {
        let keys: Vec<Key<P>> = self
            .sessions
            .iter()
            .filter(|(k, s)| k.0 == pool && s.phase == Phase::Accepted && s.agreed.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(mut s) = self.sessions.remove(&key) else { continue };
            let Some(acceptor) = s.acceptor_pubkeys else {
                self.sessions.insert(key, s);
                continue;
            };
            let role = match s.side {
                Side::Offerrer { upstream: None } => Role::UltimateOfferrer,
                Side::Acceptor { forward: None } => Role::UltimateAcceptor,
                _ => Role::Forwarder,
            };
            let details = HtlcDetails {
                id: s.init.id,
                hash: s.init.hash,
                peer: key.2.clone(),
                role: if role == Role::UltimateOfferrer { Role::UltimateOfferrer } else { Role::UltimateAcceptor },
                offerrer_pubkeys: s.init.pubkeys,
                acceptor_pubkeys: acceptor,
                timeouts: s.init.timeouts,
                amount: s.init.amount,
            };
            let output_key = self.keys.htlc_output_key(&details);
            // SIDEPOOL-10: "At this point, the offerrer, forwarders, and acceptor MUST:"
            // SIDEPOOL-10: "Check if the [SIDEPOOL-06 HTLC Taproot Public Key][] was created in the expansion phase, with an amount exactly equal to the `peerswap_init_amount_sat`."
            let present = outputs.iter().any(|(k, a)| *k == output_key && *a == s.init.amount);
            let agreed = in_lightning_amount(self.config.revision, s.init.amount, tax);
            let agreed = match (present, agreed) {
                (true, Ok(a)) => a,
                (present, agreed) => {
                    // SIDEPOOL-10: "If the above validation fails, the offerrer, forwarders, and acceptor simply forget this peerswap."
                    // SIDEPOOL-10: "The offerrer, forwarders, and acceptor MUST NOT abort the sidepool simply because the above validation fails (but MAY abort the sidepool for other reasons)."
                    let why = if present {
                        agreed.err().map_or("", |e| e.name()).to_string()
                    } else {
                        "in-sidepool HTLC output missing or of another amount".into()
                    };
                    out.push(log(LogLevel::Info, format!("forgetting peerswap: {why}")));
                    self.forget_sent_init(&key);
                    if let Side::Acceptor { forward: Some(_) } = s.side {
                        out.push(Action::DeleteRecord { id: key.0, hash: key.1 });
                    }
                    out.push(Action::ForgetPeerswap { id: key.0, hash: key.1, peer: key.2 });
                    continue;
                }
            };
            s.agreed = Some(agreed);
            if role == Role::UltimateOfferrer {
                // SIDEPOOL-10: "After the offerrer has completed the expansion phase state validation and provided its signature for the expansion phase state, the offerrer proceeds to the in-Lightning HTLC propagation step."
                let (secret, metadata) = self.keys.lightning_fields(s.swap(), &key.2, Role::UltimateOfferrer);
                let l = PeerswapLightning {
                    id: key.0,
                    hash: key.1,
                    payment_secret: secret,
                    payment_metadata: metadata,
                    unknown: Vec::new(),
                };
                out.push(Action::PersistRecord(Record::Lightning {
                    id: key.0,
                    hash: key.1,
                    peer: key.2.clone(),
                    sent: true,
                    payment_secret: l.payment_secret,
                    payment_metadata: l.payment_metadata.clone(),
                }));
                s.hold = Some(
                    IncomingHold::with_timeout(agreed, HoldRole::UltimateOfferrer, self.constants.hold_timeout)
                        .with_late(self.config.choices.late_htlc),
                );
                s.lightning = Some(l.clone());
                s.phase = Phase::Lightning;
                out.push(Action::Send { to: key.2.clone(), msg: Message::PeerswapLightning(l) });
                self.sessions.insert(key, s);
            } else if let Some(early) = s.early_lightning.take() {
                self.sessions.insert(key.clone(), s);
                self.on_lightning_msg(key.2, early, out);
            } else {
                self.sessions.insert(key, s);
            }
        }
    }
}
