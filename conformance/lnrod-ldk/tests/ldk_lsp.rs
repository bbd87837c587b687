//! LDK 0.2's own hold/release, as LSP_a, checked against LNROD-01's LSP_a
//! requirements (issue 18, item 5).
//!
//! Three in-process LDK 0.2 nodes, `A -- LSP -- B`, with real channels
//! (funding, confirmations, commitment dance), connected by handing each
//! node's `MessageSendEvent`s to the other's `ChannelMessageHandler`. The LSP
//! runs LDK's `ChannelManager` with `UserConfig::enable_htlc_hold` and an
//! `OnionMessenger` whose async-payments handler is that `ChannelManager`:
//! everything the LSP does is LDK's.
//!
//! What is staged (documented in conformance/lnrod-ldk/README.md): LDK sets
//! `hold_htlc` only on payments to BOLT 12 static invoices, which need the
//! offers flow and a static invoice server. Instead `A` pays `B` with an
//! ordinary route, and the harness sets `hold_htlc` on `A`'s `update_add_htlc`
//! in transit (the record is not covered by any signature), as an LDK payer
//! with `hold_outbound_htlcs_at_next_hop` would send it. The release path is
//! read from the LSP's `revoke_and_ack` in transit, and `B`'s release is built
//! with LDK's own `create_onion_message`, as `B` would answer a
//! `held_htlc_available`.

use std::sync::{Arc, Mutex};

use lightning::bitcoin::absolute::LockTime;
use lightning::bitcoin::block::{Header, Version};
use lightning::bitcoin::constants::genesis_block;
use lightning::bitcoin::hash_types::TxMerkleNode;
use lightning::bitcoin::hashes::{sha256, Hash};
use lightning::bitcoin::secp256k1::{PublicKey, Secp256k1};
use lightning::bitcoin::transaction::Version as TxVersion;
use lightning::bitcoin::{Amount, Block, BlockHash, CompactTarget, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use lightning::blinded_path::message::{AsyncPaymentsContext, BlindedMessagePath, MessageContext};
use lightning::blinded_path::payment::{BlindedPaymentPath, ReceiveTlvs};
use lightning::blinded_path::EmptyNodeIdLookUp;
use lightning::chain::chaininterface::{BroadcasterInterface, ConfirmationTarget, FeeEstimator};
use lightning::chain::chainmonitor::{ChainMonitor, Persist};
use lightning::chain::channelmonitor::{ChannelMonitor, ChannelMonitorUpdate};
use lightning::chain::{BestBlock, ChannelMonitorUpdateStatus, Filter, Listen, WatchedOutput};
use lightning::events::{Event, EventsProvider, HTLCHandlingFailureReason, ReplayEvent};
use lightning::ln::LocalHTLCFailureReason;
use lightning::ln::channel_state::ChannelDetails;
use lightning::ln::channelmanager::{ChainParameters, ChannelManager, InterceptId, PaymentId, RecipientOnionFields};
use lightning::ln::msgs::{BaseMessageHandler, ChannelMessageHandler, Init, MessageSendEvent, OnionMessageHandler};
use lightning::ln::peer_handler::IgnoringMessageHandler;
use lightning::onion_message::async_payments::{AsyncPaymentsMessage, ReleaseHeldHtlc};
use lightning::onion_message::messenger::{create_onion_message, Destination, NullMessageRouter, OnionMessagePath, OnionMessenger};
use lightning::routing::router::{InFlightHtlcs, Path, Route, RouteHop, RouteParameters, Router};
use lightning::sign::{InMemorySigner, KeysManager, NodeSigner, Recipient};
use lightning::types::features::{ChannelFeatures, NodeFeatures};
use lightning::types::payment::{PaymentHash, PaymentPreimage};
use lightning::util::config::UserConfig;
use lightning::util::logger::{Logger, Record};
use lightning::util::persist::MonitorName;
use lightningrod_reference::lsp_a::{LspA, LspAAction, LspAConfig, LspAEvent};
use lightningrod_reference::profile::{FailBackRule, Profile};
use lightningrod_reference::units::{BlockHeight, HtlcId, Msat, PaymentHash as RefHash};

// ---- the pieces LDK asks its user for ----------------------------------------------------------

struct Log(&'static str);
impl Logger for Log {
    fn log(&self, record: Record) {
        if std::env::var_os("LNROD_LDK_LOG").is_some() {
            eprintln!("{} {} {}", self.0, record.level, record.args);
        }
    }
}

struct Fees;
impl FeeEstimator for Fees {
    fn get_est_sat_per_1000_weight(&self, _: ConfirmationTarget) -> u32 {
        253
    }
}

#[derive(Default)]
struct Broadcaster(Mutex<Vec<Transaction>>);
impl BroadcasterInterface for Broadcaster {
    fn broadcast_transactions(&self, txs: &[&Transaction]) {
        self.0.lock().unwrap().extend(txs.iter().map(|t| (*t).clone()));
    }
}

struct Persister;
impl Persist<InMemorySigner> for Persister {
    fn persist_new_channel(&self, _: MonitorName, _: &ChannelMonitor<InMemorySigner>) -> ChannelMonitorUpdateStatus {
        ChannelMonitorUpdateStatus::Completed
    }
    fn update_persisted_channel(
        &self, _: MonitorName, _: Option<&ChannelMonitorUpdate>, _: &ChannelMonitor<InMemorySigner>,
    ) -> ChannelMonitorUpdateStatus {
        ChannelMonitorUpdateStatus::Completed
    }
    fn archive_persisted_channel(&self, _: MonitorName) {}
}

struct NoFilter;
impl Filter for NoFilter {
    fn register_tx(&self, _: &lightning::bitcoin::Txid, _: &lightning::bitcoin::Script) {}
    fn register_output(&self, _: WatchedOutput) {}
}

/// Routes are built by hand (`send_payment_with_route`); nothing asks this.
struct NoRouter;
impl Router for NoRouter {
    fn find_route(
        &self, _: &PublicKey, _: &RouteParameters, _: Option<&[&ChannelDetails]>, _: InFlightHtlcs,
    ) -> Result<Route, &'static str> {
        Err("routes are given")
    }
    fn create_blinded_payment_paths<T: lightning::bitcoin::secp256k1::Signing + lightning::bitcoin::secp256k1::Verification>(
        &self, _: PublicKey, _: Vec<ChannelDetails>, _: ReceiveTlvs, _: Option<u64>, _: &Secp256k1<T>,
    ) -> Result<Vec<BlindedPaymentPath>, ()> {
        Err(())
    }
}

type Monitor = ChainMonitor<InMemorySigner, Arc<NoFilter>, Arc<Broadcaster>, Arc<Fees>, Arc<Log>, Arc<Persister>, Arc<KeysManager>>;
type Manager = ChannelManager<
    Arc<Monitor>,
    Arc<Broadcaster>,
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<Fees>,
    Arc<NoRouter>,
    Arc<NullMessageRouter>,
    Arc<Log>,
>;
type Messenger = OnionMessenger<
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<Log>,
    Arc<Manager>,
    Arc<NullMessageRouter>,
    Arc<IgnoringMessageHandler>,
    Arc<Manager>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
>;

struct Node {
    name: &'static str,
    keys: Arc<KeysManager>,
    monitor: Arc<Monitor>,
    manager: Arc<Manager>,
    messenger: Messenger,
    broadcaster: Arc<Broadcaster>,
    id: PublicKey,
}

fn node(name: &'static str, seed: u8, config: UserConfig) -> Node {
    let keys = Arc::new(KeysManager::new(&[seed; 32], 1_700_000_000, 0, true));
    let log = Arc::new(Log(name));
    let fees = Arc::new(Fees);
    let broadcaster = Arc::new(Broadcaster::default());
    let monitor = Arc::new(ChainMonitor::new(
        None,
        broadcaster.clone(),
        log.clone(),
        fees.clone(),
        Arc::new(Persister),
        keys.clone(),
        keys.get_peer_storage_key(),
    ));
    let genesis = genesis_block(Network::Regtest).block_hash();
    let params = ChainParameters { network: Network::Regtest, best_block: BestBlock::new(genesis, 0) };
    let manager = Arc::new(ChannelManager::new(
        fees,
        monitor.clone(),
        broadcaster.clone(),
        Arc::new(NoRouter),
        Arc::new(NullMessageRouter {}),
        log.clone(),
        keys.clone(),
        keys.clone(),
        keys.clone(),
        config,
        params,
        1_700_000_000,
    ));
    let messenger = OnionMessenger::new(
        keys.clone(),
        keys.clone(),
        log,
        manager.clone(),
        Arc::new(NullMessageRouter {}),
        Arc::new(IgnoringMessageHandler {}),
        manager.clone(),
        Arc::new(IgnoringMessageHandler {}),
        Arc::new(IgnoringMessageHandler {}),
    );
    let id = keys.get_node_id(Recipient::Node).unwrap();
    Node { name, keys, monitor, manager, messenger, broadcaster, id }
}

fn config(enable_htlc_hold: bool) -> UserConfig {
    let mut c = UserConfig::default();
    c.channel_handshake_config.announce_for_forwarding = false;
    c.channel_handshake_limits.force_announced_channel_preference = false;
    c.accept_forwards_to_priv_channels = true;
    c.enable_htlc_hold = enable_htlc_hold;
    c
}

// ---- the network -------------------------------------------------------------------------------

/// A message seen in transit, for the checks.
enum Seen {
    RevokeAndAck { from: PublicKey, paths: Vec<(u64, BlindedMessagePath)> },
    AddHtlc { from: PublicKey, to: PublicKey, hold: bool, cltv_expiry: u32 },
}

struct Net {
    nodes: Vec<Node>,
    height: u32,
    tip: BlockHash,
    /// Set `hold_htlc` on `update_add_htlc`s from this node (the staged async payer).
    hold_from: Option<PublicKey>,
    seen: Vec<Seen>,
    events: Vec<(usize, Event)>,
}

impl Net {
    fn new(nodes: Vec<Node>) -> Net {
        let tip = genesis_block(Network::Regtest).block_hash();
        let mut net = Net { nodes, height: 0, tip, hold_from: None, seen: Vec::new(), events: Vec::new() };
        net.connect(0, 1);
        net.connect(1, 2);
        net
    }

    fn index(&self, id: &PublicKey) -> usize {
        self.nodes.iter().position(|n| &n.id == id).expect("a node of the network")
    }

    fn connect(&mut self, a: usize, b: usize) {
        let init_of = |n: &Node, peer: PublicKey| Init {
            features: n.manager.provided_init_features(peer) | n.messenger.provided_init_features(peer),
            networks: None,
            remote_network_address: None,
        };
        let (na, nb) = (&self.nodes[a], &self.nodes[b]);
        let (ia, ib) = (init_of(na, nb.id), init_of(nb, na.id));
        na.manager.peer_connected(nb.id, &ib, true).unwrap();
        na.messenger.peer_connected(nb.id, &ib, true).unwrap();
        nb.manager.peer_connected(na.id, &ia, false).unwrap();
        nb.messenger.peer_connected(na.id, &ia, false).unwrap();
    }

    fn deliver(&mut self, from: usize, ev: MessageSendEvent) {
        let from_id = self.nodes[from].id;
        let to = |net: &Net, id: &PublicKey| net.index(id);
        match ev {
            MessageSendEvent::SendOpenChannel { node_id, msg } => self.nodes[to(self, &node_id)].manager.handle_open_channel(from_id, &msg),
            MessageSendEvent::SendAcceptChannel { node_id, msg } => self.nodes[to(self, &node_id)].manager.handle_accept_channel(from_id, &msg),
            MessageSendEvent::SendFundingCreated { node_id, msg } => self.nodes[to(self, &node_id)].manager.handle_funding_created(from_id, &msg),
            MessageSendEvent::SendFundingSigned { node_id, msg } => self.nodes[to(self, &node_id)].manager.handle_funding_signed(from_id, &msg),
            MessageSendEvent::SendChannelReady { node_id, msg } => self.nodes[to(self, &node_id)].manager.handle_channel_ready(from_id, &msg),
            MessageSendEvent::SendChannelUpdate { node_id, msg } => self.nodes[to(self, &node_id)].manager.handle_channel_update(from_id, &msg),
            MessageSendEvent::SendRevokeAndACK { node_id, msg } => {
                self.seen.push(Seen::RevokeAndAck { from: from_id, paths: msg.release_htlc_message_paths.clone() });
                self.nodes[to(self, &node_id)].manager.handle_revoke_and_ack(from_id, &msg)
            }
            MessageSendEvent::UpdateHTLCs { node_id, updates, .. } => {
                let target = to(self, &node_id);
                for mut add in updates.update_add_htlcs {
                    if self.hold_from == Some(from_id) {
                        // The staged async payer: what `hold_outbound_htlcs_at_next_hop` sends.
                        add.hold_htlc = Some(());
                    }
                    self.seen.push(Seen::AddHtlc { from: from_id, to: node_id, hold: add.hold_htlc.is_some(), cltv_expiry: add.cltv_expiry });
                    self.nodes[target].manager.handle_update_add_htlc(from_id, &add);
                }
                for m in updates.update_fulfill_htlcs {
                    self.nodes[target].manager.handle_update_fulfill_htlc(from_id, m);
                }
                for m in updates.update_fail_htlcs {
                    self.nodes[target].manager.handle_update_fail_htlc(from_id, &m);
                }
                for m in updates.update_fail_malformed_htlcs {
                    self.nodes[target].manager.handle_update_fail_malformed_htlc(from_id, &m);
                }
                if let Some(m) = updates.update_fee {
                    self.nodes[target].manager.handle_update_fee(from_id, &m);
                }
                for m in updates.commitment_signed {
                    self.nodes[target].manager.handle_commitment_signed(from_id, &m);
                }
            }
            MessageSendEvent::HandleError { node_id, action } => {
                panic!("{} -> {}: {action:?}", self.nodes[from].name, self.nodes[to(self, &node_id)].name)
            }
            // Peer storage and gossip play no part here.
            MessageSendEvent::SendPeerStorage { .. }
            | MessageSendEvent::SendPeerStorageRetrieval { .. }
            | MessageSendEvent::BroadcastChannelUpdate { .. }
            | MessageSendEvent::SendAnnouncementSignatures { .. } => return,
            other => panic!("{}: unexpected {other:?}", self.nodes[from].name),
        }
        for n in &self.nodes {
            n.manager.message_received();
        }
    }

    /// Runs every node until no message, forward or event is left.
    fn settle(&mut self) {
        for _round in 0..100 {
            let mut progressed = false;
            for i in 0..self.nodes.len() {
                self.nodes[i].manager.process_pending_htlc_forwards();
                let evs = self.nodes[i].manager.get_and_clear_pending_msg_events();
                progressed |= !evs.is_empty();
                for ev in evs {
                    self.deliver(i, ev);
                }
                let events: RefCell<Vec<Event>> = RefCell::default();
                self.nodes[i].manager.process_pending_events(&|e| -> Result<(), ReplayEvent> {
                    events.borrow_mut().push(e);
                    Ok(())
                });
                for e in events.into_inner() {
                    progressed = true;
                    self.on_event(i, e);
                }
            }
            if !progressed {
                return;
            }
        }
        panic!("the network does not settle");
    }

    fn on_event(&mut self, i: usize, e: Event) {
        if let Event::FundingGenerationReady { temporary_channel_id, counterparty_node_id, channel_value_satoshis, output_script, .. } = &e {
            let tx = funding_tx(self.nodes[i].name, *channel_value_satoshis, output_script.clone());
            self.nodes[i].manager.funding_transaction_generated(*temporary_channel_id, *counterparty_node_id, tx).unwrap();
        }
        self.events.push((i, e));
    }

    fn block(&mut self, txdata: Vec<Transaction>) {
        self.height += 1;
        let header = Header {
            version: Version::TWO,
            prev_blockhash: self.tip,
            merkle_root: TxMerkleNode::all_zeros(),
            time: 1_700_000_000 + self.height * 600,
            bits: CompactTarget::from_consensus(0x207fffff),
            nonce: self.height,
        };
        let block = Block { header, txdata };
        self.tip = block.block_hash();
        for n in &self.nodes {
            n.manager.block_connected(&block, self.height);
            n.monitor.block_connected(&block, self.height);
        }
    }

    fn mine_to(&mut self, height: u32) {
        while self.height < height {
            self.block(Vec::new());
            self.settle();
        }
    }

    /// Opens a channel from `a` to `b` and confirms it.
    fn open(&mut self, a: usize, b: usize, sats: u64) {
        let b_id = self.nodes[b].id;
        self.nodes[a].manager.create_channel(b_id, sats, 0, 0, None, None).unwrap();
        self.settle();
        let txs: Vec<Transaction> = std::mem::take(&mut *self.nodes[a].broadcaster.0.lock().unwrap());
        assert_eq!(txs.len(), 1, "one funding transaction");
        self.block(txs);
        self.settle();
        let target = self.height + 6;
        self.mine_to(target);
        assert!(
            self.nodes[a].manager.list_channels().iter().any(|c| c.counterparty.node_id == b_id && c.is_usable),
            "the {} - {} channel is not usable",
            self.nodes[a].name,
            self.nodes[b].name
        );
    }

    fn take_events(&mut self, i: usize) -> Vec<Event> {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.events).into_iter().partition(|(n, _)| *n == i);
        self.events = rest;
        mine.into_iter().map(|(_, e)| e).collect()
    }

    fn adds(&self, from: usize, to: usize) -> usize {
        let (f, t) = (self.nodes[from].id, self.nodes[to].id);
        self.seen.iter().filter(|s| matches!(s, Seen::AddHtlc { from, to, .. } if *from == f && *to == t)).count()
    }

    /// (hold_htlc, cltv_expiry) of every update_add_htlc from `from` to `to`.
    fn add_details(&self, from: usize, to: usize) -> Vec<(bool, u32)> {
        let (f, t) = (self.nodes[from].id, self.nodes[to].id);
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::AddHtlc { from, to, hold, cltv_expiry } if *from == f && *to == t => Some((*hold, *cltv_expiry)),
                _ => None,
            })
            .collect()
    }

    fn release_paths(&self, from: usize) -> Vec<(u64, BlindedMessagePath)> {
        let f = self.nodes[from].id;
        self.seen
            .iter()
            .flat_map(|s| match s {
                Seen::RevokeAndAck { from, paths } if *from == f => paths.clone(),
                _ => Vec::new(),
            })
            .collect()
    }
}

use std::cell::RefCell;

fn funding_tx(label: &str, sats: u64, script: ScriptBuf) -> Transaction {
    let prev = lightning::bitcoin::Txid::from_byte_array(sha256::Hash::hash(label.as_bytes()).to_byte_array());
    Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint { txid: prev, vout: 0 },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[vec![1u8; 72], vec![2u8; 33]]),
        }],
        output: vec![TxOut { value: Amount::from_sat(sats), script_pubkey: script }],
    }
}

/// A (0) -- LSP (1) -- B (2), channels funded by A and by the LSP.
fn network(lsp_holds: bool) -> Net {
    let nodes = vec![node("A", 1, config(false)), node("LSP", 2, config(lsp_holds)), node("B", 3, config(false))];
    let mut net = Net::new(nodes);
    net.open(0, 1, 1_000_000);
    net.open(1, 2, 1_000_000);
    net
}

const AMOUNT_MSAT: u64 = 5_000_000;
const FINAL_CLTV_DELTA: u32 = 80;

/// `A` pays `B` through the LSP with a route built by hand; returns the payment hash.
fn pay(net: &mut Net, id: u8) -> PaymentHash {
    let (hash, secret) = net.nodes[2].manager.create_inbound_payment(Some(AMOUNT_MSAT), 3600, None).unwrap();
    let a_chan = net.nodes[0].manager.list_channels().into_iter().find(|c| c.counterparty.node_id == net.nodes[1].id).unwrap();
    let lsp_chan = net.nodes[1].manager.list_channels().into_iter().find(|c| c.counterparty.node_id == net.nodes[2].id).unwrap();
    let lsp_cfg = lsp_chan.config.expect("channel config");
    let fee = u64::from(lsp_cfg.forwarding_fee_base_msat) + AMOUNT_MSAT * u64::from(lsp_cfg.forwarding_fee_proportional_millionths) / 1_000_000;
    let hops = vec![
        RouteHop {
            pubkey: net.nodes[1].id,
            node_features: NodeFeatures::empty(),
            short_channel_id: a_chan.get_outbound_payment_scid().unwrap(),
            channel_features: ChannelFeatures::empty(),
            fee_msat: fee,
            cltv_expiry_delta: u32::from(lsp_cfg.cltv_expiry_delta),
            maybe_announced_channel: false,
        },
        RouteHop {
            pubkey: net.nodes[2].id,
            node_features: NodeFeatures::empty(),
            short_channel_id: lsp_chan.outbound_scid_alias.or(lsp_chan.short_channel_id).unwrap(),
            channel_features: ChannelFeatures::empty(),
            fee_msat: AMOUNT_MSAT,
            cltv_expiry_delta: FINAL_CLTV_DELTA,
            maybe_announced_channel: false,
        },
    ];
    let route = Route { paths: vec![Path { hops, blinded_tail: None }], route_params: None };
    net.nodes[0]
        .manager
        .send_payment_with_route(route, hash, RecipientOnionFields::secret_only(secret), PaymentId([id; 32]))
        .unwrap();
    net.settle();
    hash
}

/// `B`'s `release_held_htlc` over a release path, built with LDK's own onion code.
fn release(net: &mut Net, path: BlindedMessagePath) {
    let secp = Secp256k1::new();
    let lookup = EmptyNodeIdLookUp {};
    let b = &net.nodes[2];
    let onion_path = OnionMessagePath { intermediate_nodes: vec![], destination: Destination::BlindedPath(path), first_node_addresses: vec![] };
    let (first, om, _) = create_onion_message(
        &b.keys,
        &b.keys,
        &&lookup,
        &secp,
        onion_path,
        AsyncPaymentsMessage::ReleaseHeldHtlc(ReleaseHeldHtlc {}),
        None,
    )
    .unwrap();
    assert_eq!(first, net.nodes[1].id, "a release path starts at the LSP");
    let b_id = b.id;
    net.nodes[1].messenger.handle_onion_message(b_id, &om);
    net.settle();
}

/// A release path to the LSP built outside the LSP, naming A's first HTLC as LDK does
/// (`InterceptId` is SHA-256 of the HTLC id, the channel id and A's node id), encrypted
/// and authenticated with `receive_key`.
fn path_naming_htlc(net: &Net, htlc_id: u64, receive_key: lightning::sign::ReceiveAuthKey) -> BlindedMessagePath {
    let a_chan_at_lsp = net.nodes[1].manager.list_channels().into_iter().find(|c| c.counterparty.node_id == net.nodes[0].id).unwrap();
    let mut intercept = sha256::Hash::engine();
    lightning::bitcoin::hashes::HashEngine::input(&mut intercept, &htlc_id.to_be_bytes());
    lightning::bitcoin::hashes::HashEngine::input(&mut intercept, &a_chan_at_lsp.channel_id.0);
    lightning::bitcoin::hashes::HashEngine::input(&mut intercept, &net.nodes[0].id.serialize());
    let context = MessageContext::AsyncPayments(AsyncPaymentsContext::ReleaseHeldHtlc {
        intercept_id: InterceptId(sha256::Hash::from_engine(intercept).to_byte_array()),
        prev_outbound_scid_alias: a_chan_at_lsp.outbound_scid_alias.unwrap(),
        htlc_id,
    });
    BlindedMessagePath::one_hop(net.nodes[1].id, receive_key, context, &*net.nodes[2].keys, &Secp256k1::new())
}

fn claim_at_b(net: &mut Net) -> PaymentPreimage {
    let claimable = net.take_events(2).into_iter().find_map(|e| match e {
        Event::PaymentClaimable { purpose, .. } => purpose.preimage(),
        _ => None,
    });
    let preimage = claimable.expect("B can claim");
    net.nodes[2].manager.claim_funds(preimage);
    net.settle();
    preimage
}

fn a_got_sent(net: &mut Net, hash: PaymentHash) -> Option<PaymentPreimage> {
    net.take_events(0).into_iter().find_map(|e| match e {
        Event::PaymentSent { payment_preimage, payment_hash, .. } if payment_hash == hash => Some(payment_preimage),
        _ => None,
    })
}

fn a_got_failed(net: &mut Net, hash: PaymentHash) -> bool {
    net.take_events(0).into_iter().any(|e| matches!(e, Event::PaymentPathFailed { payment_hash, .. } if payment_hash == hash))
}

// ---- the reference LSP_a, fed what LDK's LSP saw -------------------------------------------------

/// The reference `LSP_a` (`ldk` profile, LDK's fail-back rule) run beside LDK's LSP.
fn shadow(net: &Net, advertises_hold: bool) -> LspA {
    let config = LspAConfig { profile: Profile::Ldk, fail_back: FailBackRule::LDK, max_held: 100, advertises_hold };
    LspA::new(config, BlockHeight(net.height), true)
}

/// Feeds the shadow A's HTLC as LDK's LSP received it; returns the shadow's actions.
fn shadow_add(net: &Net, m: &mut LspA, hash: PaymentHash) -> Vec<LspAAction> {
    let [(hold, cltv_expiry)] = net.add_details(0, 1)[..] else { panic!("one HTLC from A") };
    let lsp_chan = net.nodes[1].manager.list_channels().into_iter().find(|c| c.counterparty.node_id == net.nodes[2].id).unwrap();
    let outgoing = cltv_expiry - u32::from(lsp_chan.config.unwrap().cltv_expiry_delta);
    m.handle(LspAEvent::HtlcAdded {
        htlc: HtlcId(0),
        payment_hash: RefHash(hash.0),
        amount: Msat(AMOUNT_MSAT),
        cltv_expiry: BlockHeight(cltv_expiry),
        outgoing_cltv: BlockHeight(outgoing),
        hold_htlc: hold,
    })
    .unwrap()
}

// ---- the checks --------------------------------------------------------------------------------

/// lnrod.wire.1, .lspa.5, .lspa.7, .lspa.8, .lspa.10, .lspa.11, .lspa.12, .lspa.13, .lspa.20.
#[test]
fn ldk_lsp_holds_until_an_authenticated_release_then_settles() {
    let mut net = network(true);
    // lnrod.wire.1: the LSP offers bit 153 in its init.
    let lsp_init = net.nodes[1].manager.provided_init_features(net.nodes[0].id);
    assert!(lsp_init.supports_htlc_hold() && !lsp_init.requires_htlc_hold());

    net.hold_from = Some(net.nodes[0].id);
    let mut reference = shadow(&net, true);
    let hash = pay(&mut net, 1);
    assert_eq!(net.adds(0, 1), 1);
    assert_eq!(
        shadow_add(&net, &mut reference, hash),
        vec![LspAAction::Hold { htlc: HtlcId(0) }, LspAAction::GiveReleasePath { htlc: HtlcId(0) }],
        "the reference LSP_a decides otherwise than LDK's"
    );
    // lnrod.lspa.5 / .8: held, not forwarded to B.
    assert_eq!(net.adds(1, 2), 0, "the LSP forwarded a held HTLC");
    // lnrod.lspa.7: a release path for the HTLC in the LSP's revoke_and_ack.
    let paths = net.release_paths(1);
    assert_eq!(paths.len(), 1, "one release path, for the one held HTLC");
    let (htlc_id, path) = paths.into_iter().next().unwrap();

    // lnrod.lspa.10 / .12: a release over a path the LSP did not make (authenticated with
    // B's key, not the LSP's) naming the same HTLC is dropped; the HTLC stays held.
    let forged = path_naming_htlc(&net, htlc_id, net.nodes[2].keys.get_receive_auth_key());
    release(&mut net, forged);
    assert_eq!(net.adds(1, 2), 0, "an unauthenticated release released the HTLC");
    let ignored = reference.handle(LspAEvent::ReleaseHeldHtlc { context: HtlcId(htlc_id), authenticated: false }).unwrap();
    assert!(matches!(ignored[..], [LspAAction::UnblockIgnored { .. }]));

    // lnrod.lspa.11: the authenticated release forwards the HTLC to B.
    release(&mut net, path.clone());
    assert_eq!(net.adds(1, 2), 1, "the release did not forward the held HTLC");
    assert!(!net.add_details(1, 2)[0].0, "the LSP passed hold_htlc on");
    let released = reference.handle(LspAEvent::ReleaseHeldHtlc { context: HtlcId(htlc_id), authenticated: true }).unwrap();
    assert_eq!(released, vec![LspAAction::Release { htlc: HtlcId(htlc_id) }]);
    // lnrod.lspa.13: a second release finds nothing held.
    release(&mut net, path);
    assert_eq!(net.adds(1, 2), 1, "a duplicate release forwarded again");
    let again = reference.handle(LspAEvent::ReleaseHeldHtlc { context: HtlcId(htlc_id), authenticated: true }).unwrap();
    assert!(matches!(again[..], [LspAAction::UnblockIgnored { .. }]));

    // lnrod.lspa.20: B settles, the preimage reaches A.
    let preimage = claim_at_b(&mut net);
    assert_eq!(a_got_sent(&mut net, hash), Some(preimage));
    assert_eq!(PaymentHash(sha256::Hash::hash(&preimage.0).to_byte_array()), hash);
}

/// The control for the forged path above: the same construction authenticated with the
/// LSP's own key releases the HTLC, so the forged one failed for its key alone.
#[test]
fn a_release_path_with_the_lsps_own_key_releases() {
    let mut net = network(true);
    net.hold_from = Some(net.nodes[0].id);
    pay(&mut net, 5);
    let (htlc_id, _) = net.release_paths(1).into_iter().next().expect("a release path");
    let own = path_naming_htlc(&net, htlc_id, net.nodes[1].keys.get_receive_auth_key());
    release(&mut net, own);
    assert_eq!(net.adds(1, 2), 1, "the LSP-keyed release did not release");
}

/// lnrod.lspa.4: an HTLC nobody asked to hold is forwarded at once.
#[test]
fn ldk_lsp_forwards_an_htlc_without_hold_htlc() {
    let mut net = network(true);
    let mut reference = shadow(&net, true);
    let hash = pay(&mut net, 2);
    assert_eq!(net.adds(1, 2), 1);
    assert_eq!(shadow_add(&net, &mut reference, hash), vec![LspAAction::Forward { htlc: HtlcId(0) }]);
    assert!(net.release_paths(1).is_empty(), "a release path for an HTLC not held");
    let preimage = claim_at_b(&mut net);
    assert_eq!(a_got_sent(&mut net, hash), Some(preimage));
}

/// lnrod.lspa.6: hold_htlc to an LSP that does not offer htlc_hold is failed back.
#[test]
fn ldk_lsp_without_htlc_hold_fails_a_held_htlc_back() {
    let mut net = network(false);
    assert!(!net.nodes[1].manager.provided_init_features(net.nodes[0].id).supports_htlc_hold());
    net.hold_from = Some(net.nodes[0].id);
    let mut reference = shadow(&net, false);
    let hash = pay(&mut net, 3);
    assert_eq!(net.adds(1, 2), 0);
    assert!(matches!(shadow_add(&net, &mut reference, hash)[..], [LspAAction::FailBack { .. }]));
    assert!(a_got_failed(&mut net, hash), "A's HTLC was not failed back");
}

/// lnrod.lspa.16 and the 39-block constant: held until `outgoing_cltv_value - 39`, failed back there.
#[test]
fn ldk_lsp_fails_a_held_htlc_back_39_blocks_before_the_outgoing_cltv() {
    let mut net = network(true);
    net.hold_from = Some(net.nodes[0].id);
    let mut reference = shadow(&net, true);
    let hash = pay(&mut net, 4);
    assert_eq!(net.release_paths(1).len(), 1);
    shadow_add(&net, &mut reference, hash);
    // A's HTLC carries hold_htlc; the onion gives the LSP outgoing_cltv_value = cltv_expiry minus
    // the LSP's cltv_expiry_delta (the route was built with it).
    let [(true, cltv_expiry)] = net.add_details(0, 1)[..] else { panic!("one held HTLC from A") };
    let lsp_chan = net.nodes[1].manager.list_channels().into_iter().find(|c| c.counterparty.node_id == net.nodes[2].id).unwrap();
    let outgoing_cltv = cltv_expiry - u32::from(lsp_chan.config.unwrap().cltv_expiry_delta);
    let fail_back_height = outgoing_cltv - 39;
    net.mine_to(fail_back_height - 1);
    assert!(!a_got_failed(&mut net, hash), "failed back before height {fail_back_height}");
    assert!(reference.handle(LspAEvent::Block { height: BlockHeight(fail_back_height - 1) }).unwrap().is_empty());
    assert_eq!(reference.held()[0].fail_back_height, BlockHeight(fail_back_height), "the reference's fail-back height");
    assert_eq!(net.adds(1, 2), 0);
    net.mine_to(fail_back_height);
    let expired = net.take_events(1).into_iter().any(|e| {
        matches!(e, Event::HTLCHandlingFailed {
            failure_reason: Some(HTLCHandlingFailureReason::Local { reason: LocalHTLCFailureReason::ForwardExpiryBuffer }), ..
        })
    });
    assert!(expired, "the LSP did not fail the held HTLC for its expiry buffer at height {fail_back_height}");
    assert!(a_got_failed(&mut net, hash), "A's HTLC still held at height {fail_back_height}");
    assert!(matches!(reference.handle(LspAEvent::Block { height: BlockHeight(fail_back_height) }).unwrap()[..], [LspAAction::FailBack { .. }]));
}
