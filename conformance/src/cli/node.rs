//! `sidepool-conformance node`: run the reference node.

use crate::node::{self, core::RecordingCore, NodeConfig};
use crate::session::machine::SessionConfig;
use crate::transport::PrivateKey;
use std::net::SocketAddr;

#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    /// Address for BOLT 8 connections; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    pub listen: SocketAddr,
    /// The node's static private key (32-byte hex); random when absent.
    #[arg(long, value_name = "HEX")]
    pub node_key: Option<String>,
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
    let config = NodeConfig { listen: args.listen, key, session: SessionConfig::default(), verbose: true };
    match node::start(config, Box::new(RecordingCore::default())) {
        Ok(running) => {
            println!("{}", running.announcement());
            running.wait();
            0
        }
        Err(e) => {
            eprintln!("sidepool-conformance node: cannot listen on {}: {e}", args.listen);
            1
        }
    }
}
