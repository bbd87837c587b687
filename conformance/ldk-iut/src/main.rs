//! `sidepool-ldk-iut`: the LDK-hosted implementation under test. Prints one
//! JSON line (`node_id`, `listen`, `adapter`) like `sidepool-conformance node`,
//! then serves until killed or until the adapter's `shutdown`.

use clap::Parser;
use sidepool_ldk_iut::{start, IutConfig, DEFAULT_TIMER_TICK};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use zeroize::Zeroizing;

/// An LDK 0.2 PeerManager (lightning-net-tokio) hosting the reference peerswap core,
/// for the conformance runner: `sidepool-conformance run --target ADDR --node-id ID --adapter tcp://...`.
#[derive(Parser, Debug)]
#[command(name = "sidepool-ldk-iut", version)]
struct Args {
    /// Address for BOLT 8 connections; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    listen: SocketAddr,
    /// Serve the adapter protocol (conformance/ADAPTER.md) here; port 0 picks one.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    adapter_listen: SocketAddr,
    /// Do not serve the adapter (wire-only cases in passive mode).
    #[arg(long, conflicts_with = "adapter_listen")]
    no_adapter: bool,
    /// LDK KeysManager seed (32-byte hex): the node key derives from it; random when absent.
    #[arg(long, value_name = "HEX")]
    seed: Option<String>,
    /// The core's persistent store (SQLite, created if missing); needed for the adapter's `restart`.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Seconds between LDK timer ticks (pings and stale-peer checks).
    #[arg(long, default_value_t = DEFAULT_TIMER_TICK.as_secs(), value_name = "SECS")]
    timer_tick: u64,
    /// The revision of the SIDEPOOL texts to follow: `seed` or `upstream-50799b4` (`upstream` = the
    /// newest upstream revision, the default).
    #[arg(long = "spec", value_name = "REV", default_value = "upstream")]
    spec: String,
    /// Log LDK's and the host's lines to stderr.
    #[arg(long, short)]
    verbose: bool,
}

fn parse_seed(hex_seed: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    let bytes = Zeroizing::new(hex::decode(hex_seed.trim()).map_err(|e| format!("--seed: bad hex ({e})"))?);
    let seed = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("--seed: expected 32 bytes, got {}", bytes.len()))?;
    Ok(Zeroizing::new(seed))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = match args.seed.as_deref().map(parse_seed).transpose() {
        Ok(Some(seed)) => seed,
        Ok(None) => sidepool_conformance::transport::PrivateKey::random_seed(),
        Err(e) => {
            eprintln!("sidepool-ldk-iut: {e}");
            return ExitCode::from(2);
        }
    };
    let spec = match sidepool_reference::SpecRevision::from_name(&args.spec) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sidepool-ldk-iut: --spec: {e}");
            return ExitCode::from(2);
        }
    };
    let config = IutConfig {
        spec,
        listen: args.listen,
        adapter_listen: (!args.no_adapter).then_some(args.adapter_listen),
        seed,
        db: args.db,
        verbose: args.verbose,
        timer_tick: Duration::from_secs(args.timer_tick.max(1)),
    };
    let running = match start(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sidepool-ldk-iut: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut announcement = running.announcement();
    announcement["spec"] = serde_json::json!(spec.name());
    println!("{announcement}");
    running.wait();
    ExitCode::SUCCESS
}
