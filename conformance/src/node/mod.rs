//! The reference node: a real BOLT 8 listener whose protocol core is the
//! reference's sans-IO code, with a simulated world (channels, pool, height,
//! clock) set through the adapter.

pub mod adapter_link;
pub mod core;
pub mod defects;
pub mod variants;
pub mod engine_core;
pub mod keys;
pub mod net;
pub mod restart;
pub mod store;

use crate::session::machine::SessionConfig;
use crate::transport::PrivateKey;
use net::Shared;
use serde_json::json;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

/// How to start a node.
pub struct NodeConfig {
    pub listen: SocketAddr,
    pub key: PrivateKey,
    pub session: SessionConfig,
    /// Log to stderr.
    pub verbose: bool,
}

/// A node that is running: its identity, addresses, and a way to stop it.
pub struct RunningNode {
    pub shared: Arc<Shared>,
    pub listen: SocketAddr,
    listener_thread: Option<JoinHandle<()>>,
}

impl RunningNode {
    /// The first line the `node` command prints: one JSON object scripts can read.
    pub fn announcement(&self) -> serde_json::Value {
        json!({
            "node_id": hex::encode(self.shared.node_id().as_bytes()),
            "listen": [self.listen.to_string()],
        })
    }

    /// Stops accepting; connection threads end at their next poll.
    pub fn shutdown(mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a throwaway connection.
        let _ = std::net::TcpStream::connect(self.listen);
        if let Some(t) = self.listener_thread.take() {
            let _ = t.join();
        }
    }

    /// Blocks until the listener stops (it only stops on shutdown).
    pub fn wait(mut self) {
        if let Some(t) = self.listener_thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds the listener and starts serving with `core`.
pub fn start(config: NodeConfig, core: Box<dyn core::NodeCore>) -> std::io::Result<RunningNode> {
    start_with(config, |_| core)
}

/// Like [`start`], for a core that needs to know the address it listens on.
pub fn start_with(config: NodeConfig, make_core: impl FnOnce(SocketAddr) -> Box<dyn core::NodeCore>) -> std::io::Result<RunningNode> {
    let listener = TcpListener::bind(config.listen)?;
    let listen = listener.local_addr()?;
    let core = make_core(listen);
    let shared = Shared::new(core, config.key, config.session, config.verbose);
    let for_thread = Arc::clone(&shared);
    let listener_thread =
        std::thread::Builder::new().name("node-listen".into()).spawn(move || net::serve(listener, for_thread))?;
    Ok(RunningNode { shared, listen, listener_thread: Some(listener_thread) })
}
