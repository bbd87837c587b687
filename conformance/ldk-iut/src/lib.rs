//! An implementation under test hosted by LDK: a real `lightning` 0.2
//! `PeerManager` over `lightning-net-tokio` owns BOLT 8, BOLT 1 `init`, pings
//! and message framing; a custom message handler ([`handler`]) carries message
//! type 53609 and bit 1263, runs SIDEPOOL-01's `my_sidepool_features` exchange
//! with the conformance suite's session code, and hosts the reference peerswap
//! core ([`EngineCore`]). The adapter protocol (conformance/ADAPTER.md) is
//! served with the suite's own server, so the runner drives this node exactly
//! like the reference node.
//!
//! This is the template an LDK-based implementer would copy: replace
//! `EngineCore` with your own sidepool logic behind [`NodeCore`].
//!
//! [`NodeCore`]: sidepool_conformance::node::core::NodeCore

pub mod handler;
pub mod wire;

use handler::SidepoolHandler;
use lightning::ln::peer_handler::{ErroringMessageHandler, IgnoringMessageHandler, MessageHandler, PeerManager};
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use lightning::util::logger::{Level, Logger, Record};
use lightning_net_tokio::SocketDescriptor;
use serde_json::json;
use sidepool_conformance::adapter::request::Request;
use sidepool_conformance::adapter::response::{AdapterError, Response};
use sidepool_conformance::adapter::server::{serve_tcp, AdapterHandler};
use sidepool_conformance::node::core::NodeCore;
use sidepool_conformance::node::engine_core::EngineCore;
use sidepool_reference::SpecRevision;
use sidepool_conformance::session::machine::SessionConfig;
use sidepool_reference::units::PublicKey;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use zeroize::Zeroizing;

/// The name this IUT gives in the adapter's `hello`.
pub const IUT_NAME: &str = "sidepool-ldk-iut (LDK 0.2 PeerManager, reference peerswap core)";

/// How often LDK's `timer_tick_occurred` runs (pings, stale peers), as LDK documents.
pub const DEFAULT_TIMER_TICK: Duration = Duration::from_secs(10);

/// LDK's logs, to stderr when verbose.
pub struct StderrLogger {
    pub verbose: bool,
}

impl Logger for StderrLogger {
    fn log(&self, record: Record) {
        if self.verbose && record.level >= Level::Debug {
            eprintln!("ldk: {} {}", record.level, record.args);
        }
    }
}

/// The `PeerManager` this host runs: no channels (LDK's erroring handler), no
/// gossip or onion messages (ignoring handlers), sidepool as custom messages.
pub type IutPeerManager = PeerManager<
    SocketDescriptor,
    Arc<ErroringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<StderrLogger>,
    Arc<SidepoolHandler>,
    Arc<KeysManager>,
    Arc<IgnoringMessageHandler>,
>;

/// How to start the IUT.
pub struct IutConfig {
    /// Address for BOLT 8 connections; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where to serve the adapter protocol, if at all; port 0 picks a free port.
    pub adapter_listen: Option<SocketAddr>,
    /// LDK's `KeysManager` seed: the node key derives from it.
    pub seed: Zeroizing<[u8; 32]>,
    /// The core's persistent store (SQLite); without it `restart` is unsupported.
    pub db: Option<PathBuf>,
    pub verbose: bool,
    pub timer_tick: Duration,
    /// The revision of the SIDEPOOL texts the peerswap core follows (default: the newest upstream one).
    pub spec: SpecRevision,
}

impl IutConfig {
    /// Loopback, a random seed, an adapter on a free port, no store.
    pub fn local() -> IutConfig {
        IutConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            adapter_listen: Some(([127, 0, 0, 1], 0).into()),
            seed: sidepool_conformance::transport::PrivateKey::random_seed(),
            db: None,
            verbose: false,
            timer_tick: DEFAULT_TIMER_TICK,
            spec: SpecRevision::default(),
        }
    }
}

/// A running IUT: its identity and addresses, and a way to stop it.
pub struct RunningIut {
    pub node_id: PublicKey,
    pub listen: SocketAddr,
    /// `tcp://HOST:PORT` of the adapter server, when one was asked for.
    pub adapter: Option<String>,
    pub handler: Arc<SidepoolHandler>,
    pub peer_manager: Arc<IutPeerManager>,
    stop: Arc<Notify>,
    runtime: Option<JoinHandle<()>>,
    tokio: tokio::runtime::Handle,
}

impl RunningIut {
    /// The line the binary prints first, in the reference node's shape.
    pub fn announcement(&self) -> serde_json::Value {
        let mut a = json!({
            "node_id": hex::encode(self.node_id.as_bytes()),
            "listen": [self.listen.to_string()],
        });
        if let Some(adapter) = &self.adapter {
            a["adapter"] = json!(adapter);
        }
        a
    }

    /// Opens an outbound BOLT 8 connection to `node_id` at `addr` (LDK as the
    /// initiator); LDK then runs `init` and the custom handler its sidepool exchange.
    pub fn connect(&self, node_id: PublicKey, addr: SocketAddr) {
        let pm = Arc::clone(&self.peer_manager);
        self.tokio.spawn(async move {
            if let Some(connection) = lightning_net_tokio::connect_outbound(pm, node_id.to_secp(), addr).await {
                connection.await;
            }
        });
    }

    /// Disconnects every peer and stops the runtime (the adapter server thread
    /// ends with the process or on `shutdown`).
    pub fn shutdown(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.runtime.take() {
            let _ = t.join();
        }
    }

    /// Blocks until the runtime stops.
    pub fn wait(mut self) {
        if let Some(t) = self.runtime.take() {
            let _ = t.join();
        }
    }
}

/// The adapter as this host serves it: the core answers; `reset` also drops
/// every peer connection, since LDK refuses a second connection from a node id
/// it still holds (the runner's peers reuse their names, so their keys, across cases).
struct IutAdapter {
    handler: Arc<SidepoolHandler>,
    peer_manager: Arc<IutPeerManager>,
    /// The runtime LDK's connections run on: `sync` makes a round trip through it.
    tokio: tokio::runtime::Handle,
}

/// How long `sync` waits for the node to settle before it answers an error
/// (ADAPTER.md `sync` suggests at most this).
pub const SYNC_BOUND: Duration = Duration::from_millis(1000);

impl IutAdapter {
    /// The adapter's `sync` (ADAPTER.md). lightning-net-tokio reads every
    /// connection on the runtime thread and hands each message to LDK's
    /// `read_event`, which calls our handler synchronously; our handler emits
    /// events synchronously and queues messages for `process_events`, which
    /// writes them to the sockets before it returns. So: a task on the runtime
    /// that first yields to its IO driver (whatever reached a socket, a close
    /// too, is read and handled before the task resumes) and then runs
    /// `process_events`, repeated until a round sees no new activity and leaves
    /// no message queued, settles (a) and (b). (c) holds because neither the
    /// core nor this host acts on a real-time timer; LDK's timer tick only
    /// sends BOLT 1 pings, which ADAPTER.md leaves outside `sync`.
    fn sync(&self) -> Result<Response, AdapterError> {
        let deadline = std::time::Instant::now() + SYNC_BOUND;
        let mut before = self.handler.activity();
        loop {
            let pm = Arc::clone(&self.peer_manager);
            let (tx, rx) = std::sync::mpsc::channel();
            self.tokio.spawn(async move {
                // Each yield lets the runtime poll its IO driver (tokio defers a
                // yielded task until then), so ready reads run first.
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                pm.process_events();
                let _ = tx.send(());
            });
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if rx.recv_timeout(left).is_err() {
                return Err(AdapterError::internal(format!("not settled within {} ms: the LDK runtime did not come round", SYNC_BOUND.as_millis())));
            }
            let after = self.handler.activity();
            if after == before && !self.handler.outbox_pending() {
                return Ok(Response::Done);
            }
            if std::time::Instant::now() >= deadline {
                return Err(AdapterError::internal(format!("not settled within {} ms: LDK is still handing over messages", SYNC_BOUND.as_millis())));
            }
            before = after;
        }
    }
}

impl AdapterHandler for IutAdapter {
    fn handle(&mut self, req: Request) -> Result<Response, AdapterError> {
        if matches!(req, Request::Sync(_)) {
            return self.sync();
        }
        if matches!(req, Request::Reset(_)) {
            self.peer_manager.disconnect_all_peers();
        }
        match self.handler.adapter(req) {
            Ok(Response::Hello(mut hello)) => {
                hello.name = IUT_NAME.to_owned();
                hello.version = env!("CARGO_PKG_VERSION").to_owned();
                // This host answers `sync` itself (the core cannot tell for it).
                if !hello.capabilities.iter().any(|c| c == "sync") {
                    hello.capabilities.push("sync".into());
                }
                Ok(Response::Hello(hello))
            }
            other => other,
        }
    }
}

/// SHA256(tag || seed): a secret for one purpose from the node's seed.
fn derive_secret(tag: &[u8], seed: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    use bitcoin::hashes::{sha256, Hash, HashEngine};
    let mut engine = sha256::Hash::engine();
    engine.input(tag);
    engine.input(seed);
    Zeroizing::new(sha256::Hash::from_engine(engine).to_byte_array())
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Binds the listeners and starts LDK and the adapter server, hosting the
/// reference peerswap core ([`EngineCore`]).
pub fn start(config: IutConfig) -> Result<RunningIut, String> {
    let db = config.db.clone();
    let spec = config.spec;
    start_with_core(config, move |me, listen, seed| {
        // The peerswap core's persistent HTLC keys derive from the same seed as the node key.
        let node_secret = derive_secret(b"sidepool-ldk-iut persistent htlc keys", seed);
        let core = EngineCore::new(me, String::new(), *node_secret).with_revision(spec).listening_on(listen);
        Ok(Box::new(match &db {
            Some(db) => core.with_store(db)?,
            None => core,
        }))
    })
}

/// Like [`start`], with the sidepool logic `make_core` builds from the node id,
/// the BOLT 8 address and the seed: where an implementer plugs in their own.
pub fn start_with_core(
    config: IutConfig,
    make_core: impl FnOnce(PublicKey, SocketAddr, &[u8; 32]) -> Result<Box<dyn NodeCore>, String>,
) -> Result<RunningIut, String> {
    let now = unix_now();
    let keys = Arc::new(KeysManager::new(&config.seed, now.as_secs(), now.subsec_nanos(), true));
    let ldk_id = keys.get_node_id(Recipient::Node).map_err(|()| "LDK's KeysManager has no node id".to_owned())?;
    let me = PublicKey::from_secp(&ldk_id);

    let listener = TcpListener::bind(config.listen).map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let listen = listener.local_addr().map_err(|e| format!("listener address: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| format!("listener: {e}"))?;

    let core = make_core(me, listen, &config.seed)?;
    let wake = Arc::new(Notify::new());
    let handler = Arc::new(SidepoolHandler::new(core, SessionConfig::default(), Arc::clone(&wake), config.verbose));
    let message_handler = MessageHandler {
        chan_handler: Arc::new(ErroringMessageHandler::new()),
        route_handler: Arc::new(IgnoringMessageHandler {}),
        onion_message_handler: Arc::new(IgnoringMessageHandler {}),
        custom_message_handler: Arc::clone(&handler),
        send_only_message_handler: Arc::new(IgnoringMessageHandler {}),
    };
    let ephemeral = sidepool_conformance::transport::PrivateKey::random_seed();
    let now_secs = u32::try_from(now.as_secs()).unwrap_or(u32::MAX);
    let logger = Arc::new(StderrLogger { verbose: config.verbose });
    let peer_manager = Arc::new(PeerManager::new(message_handler, now_secs, &ephemeral, logger, keys));

    let stop = Arc::new(Notify::new());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().map_err(|e| format!("tokio runtime: {e}"))?;
    let tokio = runtime.handle().clone();
    let adapter = match config.adapter_listen {
        None => None,
        Some(addr) => {
            let l = TcpListener::bind(addr).map_err(|e| format!("cannot listen for the adapter on {addr}: {e}"))?;
            let bound = l.local_addr().map_err(|e| format!("adapter listener address: {e}"))?;
            let (h, pm, stop, rt) = (Arc::clone(&handler), Arc::clone(&peer_manager), Arc::clone(&stop), tokio.clone());
            let verbose = config.verbose;
            std::thread::Builder::new()
                .name("ldk-iut-adapter".into())
                .spawn(move || {
                    let factory = || {
                        let (tx, rx) = std::sync::mpsc::channel();
                        h.set_event_sink(tx);
                        (IutAdapter { handler: Arc::clone(&h), peer_manager: Arc::clone(&pm), tokio: rt.clone() }, rx)
                    };
                    match serve_tcp(&l, factory) {
                        // The runner's `shutdown` stops the whole IUT.
                        Ok(()) => stop.notify_one(),
                        Err(e) if verbose => eprintln!("ldk-iut: adapter server stopped: {e}"),
                        Err(_) => {}
                    }
                })
                .map_err(|e| format!("cannot start the adapter thread: {e}"))?;
            Some(format!("tcp://{bound}"))
        }
    };

    let (pm, stop_rx, tick, verbose) = (Arc::clone(&peer_manager), Arc::clone(&stop), config.timer_tick, config.verbose);
    let runtime = std::thread::Builder::new()
        .name("ldk-iut-runtime".into())
        .spawn(move || runtime.block_on(serve(listener, pm, wake, stop_rx, tick, verbose)))
        .map_err(|e| format!("cannot start the runtime thread: {e}"))?;
    Ok(RunningIut { node_id: me, listen, adapter, handler, peer_manager, stop, runtime: Some(runtime), tokio })
}

/// Accepts BOLT 8 connections into LDK, runs `process_events` when the core
/// queued messages from outside an LDK callback, and ticks LDK's timer.
async fn serve(listener: TcpListener, pm: Arc<IutPeerManager>, wake: Arc<Notify>, stop: Arc<Notify>, tick: Duration, verbose: bool) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ldk-iut: cannot register the listener: {e}");
            return;
        }
    };
    let accept_pm = Arc::clone(&pm);
    let accepting = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => match stream.into_std() {
                    Ok(stream) => {
                        tokio::spawn(lightning_net_tokio::setup_inbound(Arc::clone(&accept_pm), stream));
                    }
                    Err(e) if verbose => eprintln!("ldk-iut: accepted socket unusable: {e}"),
                    Err(_) => {}
                },
                Err(e) => {
                    if verbose {
                        eprintln!("ldk-iut: accept failed: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    });
    let events_pm = Arc::clone(&pm);
    let processing = tokio::spawn(async move {
        loop {
            wake.notified().await;
            events_pm.process_events();
        }
    });
    let tick_pm = Arc::clone(&pm);
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(tick).await;
            tick_pm.timer_tick_occurred();
        }
    });
    stop.notified().await;
    for task in [accepting, processing, ticking] {
        task.abort();
    }
    pm.disconnect_all_peers();
}
