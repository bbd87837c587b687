//! The JSON field view of a SIDEPOOL-06 HTLC Taproot key: one place that names
//! every intermediate, shared by `kind: htlc_key` vectors and the `htlc-key`
//! command, so the two cannot drift apart.

use serde_json::{json, Map, Value};
use sidepool_reference::htlc::taproot_key::{parse_hash, parse_network, parse_public_key, HtlcKeyError, KeyRole};
use sidepool_reference::htlc::{htlc_taproot_key, HtlcKeyInputs};
use sidepool_reference::units::BlockHeight;

/// The HTLC key inputs as text, the way vectors and the command line carry them.
#[derive(Clone, Debug)]
pub struct HtlcKeyRequest<'a> {
    pub offerrer_ephemeral: &'a str,
    pub offerrer_persistent: &'a str,
    pub acceptor_ephemeral: &'a str,
    pub acceptor_persistent: &'a str,
    pub hash: &'a str,
    pub locktime: u64,
    pub network: &'a str,
}

/// A refused request: a machine-readable code (as in vectors) and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HtlcKeyFailure {
    pub code: String,
    pub message: String,
}

impl HtlcKeyFailure {
    fn from_error(e: HtlcKeyError) -> HtlcKeyFailure {
        HtlcKeyFailure { code: e.code().to_string(), message: e.to_string() }
    }
}

/// The output fields, in the order vectors list them.
pub const HTLC_KEY_OUTPUT_FIELDS: &[&str] = &[
    "key_order",
    "offerrer_key_coefficient",
    "acceptor_key_coefficient",
    "aggregate_key",
    "internal_key",
    "hashlock_script",
    "timelock_script",
    "hashlock_leaf_hash",
    "timelock_leaf_hash",
    "merkle_root",
    "tweak",
    "output_key",
    "output_key_parity",
    "hashlock_control_block",
    "timelock_control_block",
    "script_pubkey",
    "address",
];

fn hex_field(name: &str, text: &str) -> Result<Vec<u8>, HtlcKeyFailure> {
    hex::decode(text).map_err(|e| HtlcKeyFailure { code: format!("{name}_bad_hex"), message: format!("{name}: not hex ({e})") })
}

/// Parses the request and derives the HTLC key; `Ok` holds every output field.
pub fn htlc_key_fields(req: &HtlcKeyRequest<'_>) -> Result<Map<String, Value>, HtlcKeyFailure> {
    let key = |role: KeyRole, text: &str| -> Result<_, HtlcKeyFailure> {
        parse_public_key(role, &hex_field(role.name(), text)?).map_err(HtlcKeyFailure::from_error)
    };
    let offerrer_ephemeral = key(KeyRole::OfferrerEphemeral, req.offerrer_ephemeral)?;
    let offerrer_persistent = key(KeyRole::OfferrerPersistent, req.offerrer_persistent)?;
    let acceptor_ephemeral = key(KeyRole::AcceptorEphemeral, req.acceptor_ephemeral)?;
    let acceptor_persistent = key(KeyRole::AcceptorPersistent, req.acceptor_persistent)?;
    let hash = parse_hash(&hex_field("hash", req.hash)?).map_err(HtlcKeyFailure::from_error)?;
    let lock_time = u32::try_from(req.locktime)
        .map(BlockHeight)
        .map_err(|_| HtlcKeyFailure::from_error(HtlcKeyError::LockTimeNotABlockHeight))?;
    let network = parse_network(req.network).ok_or_else(|| HtlcKeyFailure {
        code: "unknown_network".into(),
        message: format!("network {:?} is not one of bitcoin, testnet, signet, regtest", req.network),
    })?;
    let inputs = HtlcKeyInputs { offerrer_ephemeral, offerrer_persistent, acceptor_ephemeral, acceptor_persistent, hash, lock_time };
    let k = htlc_taproot_key(&inputs).map_err(HtlcKeyFailure::from_error)?;
    let address = k.address(network).map_err(HtlcKeyFailure::from_error)?;
    let t = &k.taproot;
    let (Some(root), [hashlock_leaf, timelock_leaf], [hashlock_cb, timelock_cb]) =
        (t.merkle_root, t.leaf_hashes.as_slice(), t.control_blocks.as_slice())
    else {
        return Err(HtlcKeyFailure { code: "internal".into(), message: "HTLC tree does not have two leaves".into() });
    };
    let h = |b: &[u8]| hex::encode(b);
    let fields = json!({
        "key_order": k.key_order.name(),
        "offerrer_key_coefficient": h(&k.offerrer_key_coefficient),
        "acceptor_key_coefficient": h(&k.acceptor_key_coefficient),
        "aggregate_key": h(&k.aggregate_key),
        "internal_key": h(&k.internal_key()),
        "hashlock_script": h(&k.hashlock_script),
        "timelock_script": h(&k.timelock_script),
        "hashlock_leaf_hash": h(hashlock_leaf),
        "timelock_leaf_hash": h(timelock_leaf),
        "merkle_root": h(&root),
        "tweak": h(&t.tweak),
        "output_key": h(&k.output_key()),
        "output_key_parity": t.output_key_parity,
        "hashlock_control_block": h(hashlock_cb),
        "timelock_control_block": h(timelock_cb),
        "script_pubkey": h(&k.script_pubkey()),
        "address": address,
    });
    match fields {
        Value::Object(map) => Ok(map),
        _ => Err(HtlcKeyFailure { code: "internal".into(), message: "field view is not an object".into() }),
    }
}
