//! Evaluator for `kind: key_handover` (SIDEPOOL-06 Secure Private Key Handover and
//! the aggregate private key it enables). Each test has an `operation`:
//!
//! - `handover`: A encrypts its ephemeral key to B; every intermediate must match,
//!   and B must decrypt the 65-byte value back to A's key.
//! - `decrypt`: B decrypts a given 65-byte value and validates it against A's public key.
//! - `aggregate_key`: with both ephemeral private keys, the key behind the tweaked
//!   output key, and a BIP-340 signature (fixed `aux_rand`) that must verify.

use serde_json::Value;
use sidepool_reference::htlc::handover::{decrypt, encode_handover_value, encrypt, parse_handover_value};
use sidepool_reference::htlc::taproot_key::{parse_hash, parse_public_key, KeyRole};
use sidepool_reference::htlc::{aggregate_private_key, htlc_taproot_key, sign_key_path, verify_key_path};
use sidepool_reference::htlc::{EncryptionSecretKey, EphemeralSecretKey, HtlcKeyInputs};
use sidepool_reference::units::{BlockHeight, PublicKey};

fn text<'a>(test: &'a Value, name: &str) -> Result<&'a str, String> {
    test.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing string field {name}"))
}
fn bytes(test: &Value, name: &str) -> Result<Vec<u8>, String> {
    hex::decode(text(test, name)?).map_err(|e| format!("{name}: {e}"))
}
fn arr32(test: &Value, name: &str) -> Result<[u8; 32], String> {
    bytes(test, name)?.try_into().map_err(|_| format!("{name}: not 32 bytes"))
}
fn eph(test: &Value, name: &str) -> Result<EphemeralSecretKey, String> {
    EphemeralSecretKey::from_slice(&bytes(test, name)?).map_err(|e| format!("{name}: {e}"))
}
fn pubkey(test: &Value, name: &str) -> Result<PublicKey, String> {
    let b: [u8; 33] = bytes(test, name)?.try_into().map_err(|_| format!("{name}: not 33 bytes"))?;
    PublicKey::from_bytes(b).ok_or_else(|| format!("{name}: not a point"))
}
fn expect_eq(name: &str, want: &str, got: &str) -> Result<(), String> {
    if want == got {
        Ok(())
    } else {
        Err(format!("{name}: expected {want}, reference gave {got}"))
    }
}
fn expect_field(test: &Value, name: &str, got: &str) -> Result<(), String> {
    expect_eq(name, text(test, name)?, got)
}

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let result = text(test, "result")?;
    let outcome = match text(test, "operation")? {
        "handover" => return check_handover(test, result),
        "decrypt" => run_decrypt(test),
        "aggregate_key" => run_aggregate(test),
        other => return Err(format!("unknown operation {other}")),
    };
    match (outcome, result) {
        (Ok(()), "valid") => Ok(()),
        (Ok(()), other) => Err(format!("expected result {other}, reference accepted")),
        (Err(Refused::Code(code)), "invalid") => expect_field(test, "error", code),
        (Err(Refused::Code(code)), other) => Err(format!("expected result {other}, reference refused with {code}")),
        (Err(Refused::Mismatch(msg)), _) => Err(msg),
    }
}

/// A refusal by the reference (`Code`), or an output that differs from the vector (`Mismatch`).
enum Refused {
    Code(&'static str),
    Mismatch(String),
}
impl From<String> for Refused {
    fn from(s: String) -> Refused {
        Refused::Mismatch(s)
    }
}

fn check_handover(test: &Value, result: &str) -> Result<(), String> {
    if result != "valid" {
        return Err("handover tests are valid by construction (invalid inputs belong to decrypt)".into());
    }
    let sender = eph(test, "sender_ephemeral_privkey")?;
    let receiver = eph(test, "receiver_ephemeral_privkey")?;
    let encryption = EncryptionSecretKey::from_slice(&bytes(test, "encryption_privkey")?).map_err(|e| format!("encryption_privkey: {e}"))?;
    let sender_pub = sender.public_key();
    expect_field(test, "sender_ephemeral_pubkey", &sender_pub.to_string())?;
    expect_field(test, "receiver_ephemeral_pubkey", &receiver.public_key().to_string())?;
    let t = encrypt(sender.clone(), &receiver.public_key(), &encryption).map_err(|e| format!("encrypt: {e}"))?;
    expect_field(test, "encryption_pubkey", &t.value.encryption_pubkey.to_string())?;
    expect_field(test, "shared_point", &t.shared_point.to_string())?;
    expect_field(test, "symmetric_key", &hex::encode(t.symmetric_key.expose_secret()))?;
    expect_field(test, "peerswap_success_ephemeral_privkey", &hex::encode(encode_handover_value(&t.value)))?;
    let back = decrypt(&t.value, &receiver, &sender_pub).map_err(|e| format!("receiver could not decrypt: {e}"))?;
    expect_eq("decrypted key", &hex::encode(sender.expose_secret()), &hex::encode(back.expose_secret()))
}

fn run_decrypt(test: &Value) -> Result<(), Refused> {
    let receiver = eph(test, "receiver_ephemeral_privkey")?;
    let sender_pub = pubkey(test, "sender_ephemeral_pubkey")?;
    let value = parse_handover_value(&bytes(test, "peerswap_success_ephemeral_privkey")?).map_err(|e| Refused::Code(e.code()))?;
    let key = decrypt(&value, &receiver, &sender_pub).map_err(|e| Refused::Code(e.code()))?;
    expect_field(test, "sender_ephemeral_privkey", &hex::encode(key.expose_secret()))?;
    Ok(())
}

fn run_aggregate(test: &Value) -> Result<(), Refused> {
    let key = |role: KeyRole| -> Result<PublicKey, Refused> {
        parse_public_key(role, &bytes(test, role.name())?).map_err(|e| Refused::Code(e.code()))
    };
    let inputs = HtlcKeyInputs {
        offerrer_ephemeral: key(KeyRole::OfferrerEphemeral)?,
        offerrer_persistent: key(KeyRole::OfferrerPersistent)?,
        acceptor_ephemeral: key(KeyRole::AcceptorEphemeral)?,
        acceptor_persistent: key(KeyRole::AcceptorPersistent)?,
        hash: parse_hash(&bytes(test, "hash")?).map_err(|e| Refused::Code(e.code()))?,
        lock_time: BlockHeight(
            test.get("locktime").and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok()).ok_or("locktime: not a u32".to_string())?,
        ),
    };
    let off = eph(test, "offerrer_ephemeral_privkey")?;
    let acc = eph(test, "acceptor_ephemeral_privkey")?;
    let agg = aggregate_private_key(&inputs, &off, &acc).map_err(|e| Refused::Code(e.code()))?;
    let htlc = htlc_taproot_key(&inputs).map_err(|e| Refused::Code(e.code()))?;
    expect_field(test, "output_key", &hex::encode(htlc.output_key()))?;
    let parity = test.get("output_key_parity").and_then(Value::as_u64).ok_or("missing output_key_parity".to_string())?;
    expect_eq("output_key_parity", &parity.to_string(), &htlc.taproot.output_key_parity.to_string())?;
    expect_field(test, "aggregate_privkey", &hex::encode(agg.expose_secret()))?;
    let (message, aux) = (arr32(test, "message")?, arr32(test, "aux_rand")?);
    let sig = sign_key_path(&agg, &message, &aux).map_err(|e| Refused::Mismatch(format!("signing failed: {e}")))?;
    expect_field(test, "signature", &hex::encode(sig))?;
    if !verify_key_path(&htlc.output_key(), &message, &sig) {
        return Err(Refused::Mismatch("signature does not verify against output_key".into()));
    }
    Ok(())
}
