//! The node's network shell: a BOLT 8 listener, one thread per connection
//! running the BOLT 1 / SIDEPOOL-01 session, and a registry of connected peers
//! through which the core's `Send` actions reach their connection.
//!
//! Every failure of one connection (garbage, truncated frames, a peer that
//! hangs up mid-handshake) ends that connection only; the listener keeps
//! serving others.

use super::core::{CoreAction, NodeCore};
use crate::session::connection::Connection;
use crate::session::machine::{Action, SessionConfig};
use crate::transport::{accept, PrivateKey, TransportError};
use sidepool_reference::units::PublicKey;
use sidepool_reference::Message;
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A peer that does not finish the handshake within this is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection thread waits for input before it looks at its outbound queue.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// Connections beyond this are refused at accept: a flood of connections cannot exhaust threads.
pub const MAX_CONNECTIONS: usize = 128;
/// How long the adapter's `sync` waits for the node to settle before it answers an error
/// (ADAPTER.md `sync` suggests at most this).
pub const SYNC_BOUND: Duration = Duration::from_millis(1000);

/// A peer's sidepool-ready connection: which one, and its outbound queue.
struct Registration {
    connection: u64,
    tx: Sender<Message>,
    /// The last sync epoch at which this connection was idle (see [`Shared::sync`]).
    idle: Arc<AtomicU64>,
}

/// State shared by the listener and every connection thread.
pub struct Shared {
    pub core: Mutex<Box<dyn NodeCore>>,
    /// The peer's newest sidepool-ready connection; messages for the peer go there.
    peers: Mutex<HashMap<PublicKey, Registration>>,
    /// Numbers connections, so a closing one can tell whether it is still its peer's.
    next_connection: AtomicU64,
    pub shutdown: AtomicBool,
    connections: AtomicUsize,
    /// Sidepool messages routed to a connection thread and not yet written to its socket.
    outbound_pending: AtomicUsize,
    /// Bumped by every `sync`: a connection is settled for a sync once it has
    /// found nothing to read or do in a poll that started after the bump.
    sync_epoch: AtomicU64,
    /// Every connection past its handshake, by number: the last sync epoch at
    /// which it was idle. A connection leaves only after its end is handled.
    idle: Mutex<HashMap<u64, Arc<AtomicU64>>>,
    pub session: SessionConfig,
    key: PrivateKey,
    /// Whether log lines go to stderr (the `node` command) or nowhere (embedded in `run`).
    pub verbose: bool,
}

impl Shared {
    pub fn new(core: Box<dyn NodeCore>, key: PrivateKey, session: SessionConfig, verbose: bool) -> Arc<Shared> {
        Arc::new(Shared {
            core: Mutex::new(core),
            peers: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            outbound_pending: AtomicUsize::new(0),
            sync_epoch: AtomicU64::new(0),
            idle: Mutex::new(HashMap::new()),
            session,
            key,
            verbose,
        })
    }

    pub fn node_id(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The peers with a live, sidepool-ready connection.
    pub fn connected_peers(&self) -> Vec<PublicKey> {
        self.peers.lock().map(|p| p.keys().copied().collect()).unwrap_or_default()
    }

    /// Whether the node has nothing in flight: exactly `open` connections are
    /// alive (every closed one has been noticed and handed to the core) and every
    /// message the core sent has been written to its socket. The runner's
    /// quiescence barrier (runner::exec) asks this between two rounds of pings.
    pub fn settled(&self, open: usize) -> bool {
        self.connections.load(Ordering::SeqCst) == open && self.outbound_pending.load(Ordering::SeqCst) == 0
    }

    /// The adapter's `sync` (ADAPTER.md): waits until (a) every connection has
    /// read and handled everything that reached it before now (a poll that
    /// started after this call found nothing, and a closed connection has run
    /// its end), (b) every message the core sent is written to its socket (the
    /// core emits its events synchronously, and the adapter server writes them
    /// before this answer), and (c) holds because the node has no real-time
    /// timer: only a new message or adapter request makes it act again.
    pub fn sync(&self, bound: Duration) -> Result<(), String> {
        let epoch = self.sync_epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let deadline = std::time::Instant::now() + bound;
        loop {
            // Idle connections first, then the queues: a connection routes its
            // sends (counting them) before it can be seen idle.
            let busy = self
                .idle
                .lock()
                .map(|idle| idle.values().filter(|at| at.load(Ordering::SeqCst) < epoch).count())
                .unwrap_or(usize::MAX);
            let queued = self.outbound_pending.load(Ordering::SeqCst);
            if busy == 0 && queued == 0 {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!(
                    "not settled within {} ms: {busy} connection(s) still reading or handling, {queued} message(s) still queued",
                    bound.as_millis()
                ));
            }
            thread::sleep(Duration::from_micros(200));
        }
    }

    /// Runs core actions: sends go to the peer's connection thread.
    pub fn route(&self, actions: Vec<CoreAction>) {
        for action in actions {
            match action {
                CoreAction::Log(line) => self.log(&line),
                CoreAction::Send { peer, message } => {
                    // Counted before it is queued, so `settled` never misses a message in flight.
                    self.outbound_pending.fetch_add(1, Ordering::SeqCst);
                    let sent = self
                        .peers
                        .lock()
                        .ok()
                        .and_then(|peers| peers.get(&peer).map(|r| r.tx.send(*message).is_ok()))
                        .unwrap_or(false);
                    if !sent {
                        self.outbound_pending.fetch_sub(1, Ordering::SeqCst);
                        self.log(&format!("cannot send to {peer}: not connected"));
                    }
                }
            }
        }
    }

    /// One adapter request against the core; the wire actions it causes are routed.
    pub fn adapter(&self, req: crate::adapter::request::Request) -> Result<crate::adapter::response::Response, crate::adapter::response::AdapterError> {
        use crate::adapter::request::Request;
        use crate::adapter::response::{AdapterError, Response};
        if matches!(req, Request::Sync(_)) {
            return self.sync(SYNC_BOUND).map(|()| Response::Done).map_err(AdapterError::internal);
        }
        let (mut answer, actions) = match self.core.lock() {
            Ok(mut core) => core.adapter(req),
            Err(_) => (Err(crate::adapter::response::AdapterError::internal("core lock poisoned")), Vec::new()),
        };
        self.route(actions);
        // The shell answers `sync` for every core, so it declares it.
        if let Ok(Response::Hello(hello)) = &mut answer {
            if !hello.capabilities.iter().any(|c| c == "sync") {
                hello.capabilities.push("sync".into());
            }
        }
        answer
    }

    /// Points the core's adapter events at `tx`.
    pub fn set_event_sink(&self, tx: std::sync::mpsc::Sender<crate::adapter::event::Event>) {
        if let Ok(mut core) = self.core.lock() {
            core.set_event_sink(tx);
        }
    }

    fn with_core(&self, f: impl FnOnce(&mut dyn NodeCore) -> Vec<CoreAction>) {
        let actions = match self.core.lock() {
            Ok(mut core) => f(core.as_mut()),
            Err(_) => vec![CoreAction::Log("core lock poisoned; event dropped".into())],
        };
        self.route(actions);
    }
}

impl Shared {
    pub fn log(&self, line: &str) {
        if self.verbose {
            eprintln!("node: {line}");
        }
    }
}

/// Accepts connections until shutdown. Each runs on its own thread.
pub fn serve(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                shared.log(&format!("accept failed: {e}"));
                continue;
            }
        };
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            shared.log("connection refused: too many connections");
            continue;
        }
        let conn_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new().name("node-conn".into()).spawn(move || {
            let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = run_connection(stream, &conn_shared) {
                let detail = match &e {
                    TransportError::Io(io) => format!("io: {io}"),
                    other => other.name().to_string(),
                };
                conn_shared.log(&format!("connection {peer} ended: {detail}"));
            }
            conn_shared.connections.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            shared.log(&format!("cannot start a connection thread: {e}"));
        }
    }
}

fn run_connection(stream: TcpStream, shared: &Shared) -> Result<(), TransportError> {
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(TransportError::Io)?;
    stream.set_write_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(TransportError::Io)?;
    // One write per message: without this, Nagle holds a message back until the
    // previous one is acknowledged (a delayed ACK is 40 ms on Linux).
    stream.set_nodelay(true).map_err(TransportError::Io)?;
    let (transport, peer) = accept(stream, shared.key.clone())?;
    transport.get_ref().set_read_timeout(Some(POLL_INTERVAL)).map_err(TransportError::Io)?;
    let (mut conn, actions) = Connection::start(transport, shared.session.clone())?;
    let (tx, rx) = mpsc::channel();
    let me = Registration { connection: shared.next_connection.fetch_add(1, Ordering::SeqCst), tx, idle: Arc::new(AtomicU64::new(0)) };
    if let Ok(mut all) = shared.idle.lock() {
        all.insert(me.connection, Arc::clone(&me.idle));
    }
    let mut registered = None;
    let result = drive(&mut conn, peer, actions, shared, &me, &rx, &mut registered);
    if let Some(peer) = registered {
        // A reconnecting peer's old connection often closes after the new one is
        // ready (Core Lightning closes it exactly then): only the connection still
        // registered for the peer may unregister it, and only then is the peer gone.
        let still_mine = shared.peers.lock().is_ok_and(|mut peers| {
            let mine = peers.get(&peer).is_some_and(|r| r.connection == me.connection);
            if mine {
                peers.remove(&peer);
            }
            mine
        });
        if still_mine {
            shared.with_core(|core| core.peer_gone(peer));
        } else {
            shared.log(&format!("replaced connection of {peer} closed; its newer connection stays"));
        }
    }
    let Registration { tx, connection, .. } = me;
    // Messages queued for a connection that ended are never written: no longer pending.
    drop(tx);
    while rx.try_recv().is_ok() {
        shared.outbound_pending.fetch_sub(1, Ordering::SeqCst);
    }
    // Its end is handled: a `sync` no longer waits for it.
    if let Ok(mut all) = shared.idle.lock() {
        all.remove(&connection);
    }
    result
}

fn drive(
    conn: &mut Connection<TcpStream>,
    peer: PublicKey,
    mut actions: Vec<Action>,
    shared: &Shared,
    me: &Registration,
    rx: &Receiver<Message>,
    registered: &mut Option<PublicKey>,
) -> Result<(), TransportError> {
    loop {
        for action in std::mem::take(&mut actions) {
            match action {
                Action::Send(_) => {} // the Connection sends these itself
                Action::Deliver(message) => shared.with_core(|core| core.message(peer, message)),
                Action::DeliverMalformedInit(init) => shared.with_core(|core| core.malformed_init(peer, init)),
                Action::SidepoolReady { peer_features } => {
                    if let Ok(mut peers) = shared.peers.lock() {
                        // A reconnecting peer replaces its old connection.
                        peers.insert(peer, Registration { connection: me.connection, tx: me.tx.clone(), idle: Arc::clone(&me.idle) });
                    }
                    *registered = Some(peer);
                    shared.with_core(|core| core.peer_ready(peer, &peer_features));
                }
                Action::PeerWarning(n) => shared.log(&format!("warning from {peer}: {n:?}")),
                Action::PeerError(n) => shared.log(&format!("error from {peer}: {n:?}")),
                Action::Refused { sub_id, reason } => shared.log(&format!("not sent to {peer}: sub-id {sub_id} ({reason:?})")),
                Action::Disconnect(reason) => {
                    shared.log(&format!("disconnecting {peer}: {reason:?}"));
                    return Ok(());
                }
                Action::Log { level, message } => shared.log(&format!("{level:?} {peer}: {message}")),
            }
        }
        if shared.shutdown.load(Ordering::SeqCst) {
            return Ok(());
        }
        while let Ok(message) = rx.try_recv() {
            let sent = conn.send_sidepool(message);
            shared.outbound_pending.fetch_sub(1, Ordering::SeqCst);
            actions.extend(sent?);
        }
        // Read before the poll: a poll that finds nothing shows that whatever
        // reached the socket before this sync epoch began has been handled.
        let epoch = shared.sync_epoch.load(Ordering::SeqCst);
        match conn.poll() {
            Ok(more) => actions.extend(more),
            Err(TransportError::Timeout) => {
                if actions.is_empty() {
                    me.idle.store(epoch, Ordering::SeqCst);
                }
            }
            Err(TransportError::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
