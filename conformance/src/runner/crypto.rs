//! The runner's SIDEPOOL-06 checks, on captured message fields: the HTLC
//! output key an IUT must request, and the key it hands over in
//! `peerswap_success` (decrypted and validated as the acceptor would).

use super::matcher::{captured, Captures};
use sidepool_reference::htlc::taproot_key::{htlc_taproot_key, HtlcKeyInputs};
use sidepool_reference::htlc::{decrypt, EphemeralSecretKey};
use sidepool_reference::peerswap::messages::EncryptedPrivkey;
use sidepool_reference::units::{BlockHeight, PaymentHash, PublicKey};

fn hex_at<const N: usize>(caps: &Captures, path: &str) -> Result<[u8; N], String> {
    let s = captured(caps, path.trim_start_matches('$')).and_then(|v| v.as_str()).ok_or_else(|| format!("nothing captured as {path}"))?;
    let bytes = hex::decode(s).map_err(|e| format!("{path}: bad hex ({e})"))?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| format!("{path}: expected {N} bytes"))
}

fn point_at(caps: &Captures, path: &str) -> Result<PublicKey, String> {
    PublicKey::from_bytes(hex_at::<33>(caps, path)?).ok_or_else(|| format!("{path}: not a point"))
}

/// The x-only output key (hex) of the HTLC a `peerswap_init` and `peerswap_accept` agree on.
pub fn derive_htlc_key(caps: &Captures, init: &str, accept: &str) -> Result<String, String> {
    let lock = captured(caps, &format!("{init}.peerswap_init_timeouts.sidepool"))
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("nothing captured as {init}.peerswap_init_timeouts.sidepool"))?;
    let inputs = HtlcKeyInputs {
        offerrer_ephemeral: point_at(caps, &format!("{init}.peerswap_init_pubkeys.ephemeral"))?,
        offerrer_persistent: point_at(caps, &format!("{init}.peerswap_init_pubkeys.persistent"))?,
        acceptor_ephemeral: point_at(caps, &format!("{accept}.peerswap_accept_pubkeys.ephemeral"))?,
        acceptor_persistent: point_at(caps, &format!("{accept}.peerswap_accept_pubkeys.persistent"))?,
        hash: PaymentHash(hex_at::<32>(caps, &format!("{init}.peerswap_init_hash"))?),
        lock_time: BlockHeight(lock),
    };
    htlc_taproot_key(&inputs).map(|k| hex::encode(k.output_key())).map_err(|e| e.to_string())
}

/// Decrypts `peerswap_success_ephemeral_privkey` and checks it against the sender's ephemeral key.
// SIDEPOOL-06: "Participant B validates that the received participant A ephemeral private key is indeed the scalar behind the previously-received participant A ephemeral public key."
pub fn check_handover(caps: &Captures, success: &str, receiver_secret: &str, sender_ephemeral: &str) -> Result<(), String> {
    let value = EncryptedPrivkey {
        encrypted_key: hex_at::<32>(caps, &format!("{success}.peerswap_success_ephemeral_privkey.encrypted_key"))?,
        encryption_pubkey: point_at(caps, &format!("{success}.peerswap_success_ephemeral_privkey.encryption_pubkey"))?,
    };
    let secret_bytes = hex::decode(receiver_secret).map_err(|e| format!("receiver_secret: {e}"))?;
    let receiver = EphemeralSecretKey::from_slice(&secret_bytes).map_err(|e| format!("receiver_secret: {e}"))?;
    let sender = point_at(caps, sender_ephemeral)?;
    decrypt(&value, &receiver, &sender).map(|_| ()).map_err(|e| format!("the handed-over key does not check out: {e}"))
}
