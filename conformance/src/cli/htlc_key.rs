//! `sidepool-conformance htlc-key`: derive a SIDEPOOL-06 HTLC Taproot key and print
//! every intermediate as one JSON object, named as in `vectors/htlc/htlc_key.yaml`.
//!
//! A debugging aid for implementers: feed it your four public keys, hash and
//! lock time, and diff its output against your own intermediates.

use serde_json::Value;

use crate::htlc_fields::{htlc_key_fields, HtlcKeyRequest};

/// Arguments of `htlc-key`. Lock time and network are taken as text and parsed
/// here, so bad values are reported on stderr with exit status 1 like every other input error.
#[derive(clap::Args, Clone, Debug)]
pub struct HtlcKeyArgs {
    /// Offerrer ephemeral public key, 33-byte compressed, hex.
    #[arg(long = "offerrer-ephemeral", value_name = "HEX")]
    pub offerrer_ephemeral: String,
    /// Offerrer persistent public key, 33-byte compressed, hex.
    #[arg(long = "offerrer-persistent", value_name = "HEX")]
    pub offerrer_persistent: String,
    /// Acceptor ephemeral public key, 33-byte compressed, hex.
    #[arg(long = "acceptor-ephemeral", value_name = "HEX")]
    pub acceptor_ephemeral: String,
    /// Acceptor persistent public key, 33-byte compressed, hex.
    #[arg(long = "acceptor-persistent", value_name = "HEX")]
    pub acceptor_persistent: String,
    /// The 32-byte HTLC hash (SHA-256 of the preimage), hex.
    #[arg(long, value_name = "HEX")]
    pub hash: String,
    /// Absolute lock time, a block height below 500000000.
    #[arg(long, value_name = "N")]
    pub locktime: String,
    /// Network for the address: bitcoin, testnet, signet or regtest.
    #[arg(long, value_name = "NETWORK", default_value = "bitcoin")]
    pub network: String,
}

/// The JSON object `htlc-key` prints: the inputs as given, then every intermediate;
/// `Err` is the message for stderr.
pub fn htlc_key_json(args: &HtlcKeyArgs) -> Result<Value, String> {
    let locktime: u64 = args
        .locktime
        .trim()
        .parse()
        .map_err(|_| format!("locktime: {:?} is not a non-negative integer", args.locktime))?;
    let req = HtlcKeyRequest {
        offerrer_ephemeral: args.offerrer_ephemeral.trim(),
        offerrer_persistent: args.offerrer_persistent.trim(),
        acceptor_ephemeral: args.acceptor_ephemeral.trim(),
        acceptor_persistent: args.acceptor_persistent.trim(),
        hash: args.hash.trim(),
        locktime,
        network: args.network.trim(),
    };
    let fields = htlc_key_fields(&req).map_err(|f| format!("{} ({})", f.message, f.code))?;
    let mut out = serde_json::Map::new();
    out.insert("offerrer_ephemeral".into(), Value::from(req.offerrer_ephemeral.to_ascii_lowercase()));
    out.insert("offerrer_persistent".into(), Value::from(req.offerrer_persistent.to_ascii_lowercase()));
    out.insert("acceptor_ephemeral".into(), Value::from(req.acceptor_ephemeral.to_ascii_lowercase()));
    out.insert("acceptor_persistent".into(), Value::from(req.acceptor_persistent.to_ascii_lowercase()));
    out.insert("hash".into(), Value::from(req.hash.to_ascii_lowercase()));
    out.insert("locktime".into(), Value::from(locktime));
    out.insert("network".into(), Value::from(req.network));
    out.extend(fields);
    Ok(Value::Object(out))
}

/// Runs `htlc-key`: prints one JSON object on stdout and returns 0, or an error on stderr and returns 1.
pub fn run(args: &HtlcKeyArgs) -> i32 {
    match htlc_key_json(args) {
        Ok(v) => match serde_json::to_string_pretty(&v) {
            Ok(text) => {
                println!("{text}");
                0
            }
            Err(e) => {
                eprintln!("error: cannot print JSON: {e}");
                1
            }
        },
        Err(msg) => {
            eprintln!("error: {msg}");
            1
        }
    }
}
