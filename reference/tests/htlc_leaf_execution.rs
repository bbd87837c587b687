//! ERRATA E-23: executes the two SIDEPOOL-06 tapleaves with a minimal BIP-342
//! tapscript interpreter (only the opcodes these leaves use) to show that the
//! hashlock leaf is spendable and the timelock leaf, as written, is not.

use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::secp256k1::{Keypair, Message, Secp256k1, XOnlyPublicKey};
use sidepool_reference::htlc::taproot_key::{hashlock_leaf_script, timelock_leaf_script};
use sidepool_reference::htlc::EphemeralSecretKey;
use sidepool_reference::units::{BlockHeight, PaymentHash};

/// Stand-in for the BIP-341 signature hash of the spending transaction.
const SIGHASH: [u8; 32] = [0x33; 32];

fn truthy(v: &[u8]) -> bool {
    v.iter().enumerate().any(|(i, b)| *b != 0 && !(i == v.len() - 1 && *b == 0x80))
}

/// Runs `script` on `witness` (bottom first). The spending transaction's nLockTime and
/// nSequence satisfy any CLTV/CSV argument, so only stack effects and signatures matter.
fn execute(script: &[u8], witness: &[Vec<u8>]) -> Result<(), String> {
    let secp = Secp256k1::verification_only();
    let mut stack: Vec<Vec<u8>> = witness.to_vec();
    let mut i = 0;
    while let Some(&op) = script.get(i) {
        i += 1;
        match op {
            0x00 => stack.push(vec![]),
            0x01..=0x4b => {
                let n = usize::from(op);
                stack.push(script.get(i..i + n).ok_or("truncated push")?.to_vec());
                i += n;
            }
            0x51..=0x60 => stack.push(vec![op - 0x50]),
            // OP_CHECKLOCKTIMEVERIFY / OP_CHECKSEQUENCEVERIFY: need an argument, do not pop it.
            0xb1 | 0xb2 => {
                stack.last().ok_or("CLTV/CSV on empty stack")?;
            }
            0x75 => {
                stack.pop().ok_or("DROP on empty stack")?;
            }
            0xa9 => {
                let top = stack.pop().ok_or("HASH160 on empty stack")?;
                stack.push(hash160::Hash::hash(&top).to_byte_array().to_vec());
            }
            0x88 => {
                let (a, b) = (stack.pop().ok_or("EQUALVERIFY")?, stack.pop().ok_or("EQUALVERIFY")?);
                if a != b {
                    return Err("EQUALVERIFY failed".into());
                }
            }
            0xac | 0xad => {
                let key = stack.pop().ok_or("CHECKSIG: no key")?;
                let sig = stack.pop().ok_or("CHECKSIG: no signature")?;
                let ok = if sig.is_empty() {
                    false
                } else {
                    // BIP-342: a non-empty signature that does not verify fails the script.
                    let key = XOnlyPublicKey::from_slice(&key).map_err(|_| "key")?;
                    let sig = bitcoin::secp256k1::schnorr::Signature::from_slice(&sig).map_err(|_| "non-empty invalid signature")?;
                    secp.verify_schnorr(&sig, &Message::from_digest(SIGHASH), &key).map_err(|_| "non-empty invalid signature")?;
                    true
                };
                match (op, ok) {
                    (0xac, _) => stack.push(if ok { vec![1] } else { vec![] }),
                    (_, true) => {}
                    (_, false) => return Err("CHECKSIGVERIFY failed".into()),
                }
            }
            other => return Err(format!("opcode 0x{other:02x} not modelled")),
        }
    }
    // BIP-342: exactly one element, and it must be true.
    match stack.as_slice() {
        [only] if truthy(only) => Ok(()),
        _ => Err(format!("final stack {stack:?} is not a single true element")),
    }
}

fn keypair(seed: u8) -> (Keypair, EphemeralSecretKey) {
    let key = EphemeralSecretKey::from_bytes(&[seed; 32]).unwrap();
    (Keypair::from_seckey_slice(&Secp256k1::new(), key.expose_secret()).unwrap(), key)
}

fn sign(kp: &Keypair) -> Vec<u8> {
    Secp256k1::new().sign_schnorr_no_aux_rand(&Message::from_digest(SIGHASH), kp).serialize().to_vec()
}

#[test]
fn hashlock_leaf_is_spendable_with_signature_and_preimage() {
    let (acceptor_kp, acceptor) = keypair(7);
    let preimage = [0x11u8; 32];
    let hash = PaymentHash(sha256::Hash::hash(&preimage).to_byte_array());
    let script = hashlock_leaf_script(&hash, &acceptor.public_key());
    assert_eq!(execute(&script, &[sign(&acceptor_kp), preimage.to_vec()]), Ok(()));
    assert!(execute(&script, &[sign(&acceptor_kp), [0x12u8; 32].to_vec()]).is_err());
    assert!(execute(&script, &[vec![], preimage.to_vec()]).is_err());
}

#[test]
fn timelock_leaf_as_written_cannot_be_satisfied() {
    let (offerrer_kp, offerrer) = keypair(9);
    let script = timelock_leaf_script(BlockHeight(800_000), &offerrer.public_key()).unwrap();
    let sig = sign(&offerrer_kp);
    let witnesses: [&[Vec<u8>]; 6] =
        [&[], std::slice::from_ref(&sig), &[sig.clone(), vec![1]], &[vec![1], sig.clone()], &[sig.clone(), sig.clone()], &[vec![]]];
    for w in witnesses {
        assert!(execute(&script, w).is_err(), "witness {w:?} unexpectedly satisfied the leaf");
    }
    // With only the signature the stack at OP_CHECKSIGVERIFY is [sig, 1, key]: the `1` is taken as the signature.
    assert_eq!(execute(&script, &[sig]), Err("non-empty invalid signature".into()));
}

#[test]
fn proposed_timelock_leaf_is_spendable() {
    let (offerrer_kp, offerrer) = keypair(9);
    let key = offerrer.public_key().as_bytes();
    // <1> OP_CSV OP_DROP <800000> OP_CLTV OP_DROP <key> OP_CHECKSIG (ERRATA E-23 proposed wording)
    let mut script = vec![0x51, 0xb2, 0x75, 0x03, 0x00, 0x35, 0x0c, 0xb1, 0x75, 0x20];
    script.extend_from_slice(&key[1..]);
    script.push(0xac);
    assert_eq!(execute(&script, &[sign(&offerrer_kp)]), Ok(()));
}
