//! `sidepool-conformance node`: run the reference node.

use crate::node::adapter_link::handler_for;
use crate::node::engine_core::EngineCore;
use crate::node::{self, NodeConfig};
use crate::session::machine::SessionConfig;
use crate::transport::PrivateKey;
use std::net::SocketAddr;

#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    /// Address for BOLT 8 connections; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    pub listen: SocketAddr,
    /// The chain the node names in its `init` (`networks`) and requires a peer's
    /// `networks`, when sent, to include: bitcoin, testnet, testnet4, signet or regtest.
    #[arg(long, default_value = "regtest", value_name = "CHAIN")]
    pub network: bitcoin::Network,
    /// The node's static private key (32-byte hex); random when absent.
    #[arg(long, value_name = "HEX")]
    pub node_key: Option<String>,
    /// The persistent store (SQLite, created if missing); forwards it holds are settled per the restart rules.
    #[arg(long, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
    /// Serve the adapter protocol (conformance/ADAPTER.md) on this address; port 0 picks one.
    #[arg(long, value_name = "HOST:PORT")]
    pub adapter_listen: Option<SocketAddr>,
    /// The revision of the SIDEPOOL texts to follow: `seed` or `upstream-50799b4` (`upstream` = the
    /// newest upstream revision, the default).
    #[arg(long = "spec", value_name = "REV", default_value = "upstream")]
    pub spec: String,
    /// Test-only: stop right after persisting this fact, until killed (crash tests).
    #[arg(long, hide = true, value_enum)]
    pub pause_after: Option<crate::node::engine_core::PausePoint>,
    /// Test-only: run with a deliberate defect.
    #[arg(long, hide = true, value_enum)]
    pub defect: Option<crate::node::defects::Defect>,
    /// Take another choice the spec allows (a conforming variant: the suite must fail it on no MUST).
    #[arg(long, value_enum, conflicts_with = "defect")]
    pub variant: Option<crate::node::variants::Variant>,
}

fn parse_key(hex_key: &str) -> Result<PrivateKey, String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|e| format!("--node-key: bad hex ({e})"))?;
    let arr = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("--node-key: expected 32 bytes, got {}", bytes.len()))?;
    PrivateKey::from_bytes(arr).ok_or_else(|| "--node-key: not a valid secp256k1 private key".to_string())
}

/// Starts the node, prints its announcement line, serves until killed.
pub fn run(args: &NodeArgs) -> i32 {
    let key = match args.node_key.as_deref().map(parse_key).transpose() {
        Ok(k) => k.unwrap_or_else(PrivateKey::generate),
        Err(e) => {
            eprintln!("sidepool-conformance node: {e}");
            return 2;
        }
    };
    let revision = match sidepool_reference::SpecRevision::from_name(&args.spec) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sidepool-conformance node: --spec: {e}");
            return 2;
        }
    };
    let me = key.public_key();
    let seed = key.derive_seed("sidepool-conformance persistent htlc keys");
    let defect = args.defect;
    let config = NodeConfig { listen: args.listen, key, session: SessionConfig::for_network(args.network), verbose: true };
    let mut core = EngineCore::new(me, String::new(), *seed).with_defect(defect).with_variant(args.variant).with_revision(revision).pausing_after(args.pause_after);
    if let Some(db) = &args.db {
        core = match core.with_store(db) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("sidepool-conformance node: {e}");
                return 1;
            }
        };
    }
    let running = match node::start_with(config, move |listen| Box::new(core.listening_on(listen))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sidepool-conformance node: cannot listen on {}: {e}", args.listen);
            return 1;
        }
    };
    let mut announcement = running.announcement();
    announcement["spec"] = serde_json::json!(revision.name());
    if let Some(addr) = args.adapter_listen {
        let listener = match std::net::TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("sidepool-conformance node: cannot listen for the adapter on {addr}: {e}");
                return 1;
            }
        };
        let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        announcement["adapter"] = serde_json::json!(format!("tcp://{bound}"));
        let shared = std::sync::Arc::clone(&running.shared);
        let spawned = std::thread::Builder::new().name("node-adapter".into()).spawn(move || {
            if let Err(e) = crate::adapter::server::serve_tcp(&listener, || handler_for(&shared)) {
                eprintln!("node: adapter server stopped: {e}");
            }
        });
        if let Err(e) = spawned {
            eprintln!("sidepool-conformance node: cannot start the adapter server: {e}");
            return 1;
        }
    }
    println!("{announcement}");
    running.wait();
    0
}
