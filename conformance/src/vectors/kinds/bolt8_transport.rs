//! Evaluator for `kind: bolt8_transport` (BOLT 8 Appendix A): handshakes
//! replayed act by act through the sans-IO state machines, and message frames
//! through the cipher with key rotation.
//!
//! Group `role` selects the check: `initiator` or `responder` (a handshake
//! `exchange` of sends and receives, then the final keys), or `messages`
//! (frame number `messageIndex` of a stream of identical messages).

use crate::transport::cipher::{pair, Decryptor, Encryptor};
use crate::transport::handshake::{Established, Initiator, Responder, ResponderAwaitingActThree, Trace};
use crate::transport::keys::PrivateKey;
use crate::transport::HandshakeError;
use serde_json::Value;
use sidepool_reference::units::PublicKey;
use zeroize::Zeroizing;

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    match str_field(group, "role")? {
        "initiator" | "responder" => check_handshake(group, test),
        "messages" => check_messages(group, test),
        other => Err(format!("unknown group role {other:?}")),
    }
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing string field {name}"))
}

fn bytes_field(v: &Value, name: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_field(v, name)?).map_err(|e| format!("{name}: {e}"))
}

fn array32(v: &Value, name: &str) -> Result<[u8; 32], String> {
    bytes_field(v, name)?.try_into().map_err(|_| format!("{name} is not 32 bytes"))
}

fn private_key(v: &Value, name: &str) -> Result<PrivateKey, String> {
    PrivateKey::from_bytes(array32(v, name)?).ok_or_else(|| format!("{name} is not a valid private key"))
}

fn public_key(v: &Value, name: &str) -> Result<PublicKey, String> {
    let bytes: [u8; 33] = bytes_field(v, name)?.try_into().map_err(|_| format!("{name} is not 33 bytes"))?;
    PublicKey::from_bytes(bytes).ok_or_else(|| format!("{name} is not a point"))
}

fn expect_eq(what: &str, got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {}, expected {}", hex::encode(got), hex::encode(want)))
    }
}

/// The outcome the test expects: `Ok(())` for valid, `Err(name)` for invalid.
fn expected_outcome(test: &Value) -> Result<Result<(), String>, String> {
    match str_field(test, "result")? {
        "valid" => Ok(Ok(())),
        "invalid" => Ok(Err(str_field(test, "error")?.to_owned())),
        other => Err(format!("result {other:?} is not used by this kind")),
    }
}

/// Where a handshake replay stands between steps.
enum Stage {
    InitiatorStart,
    InitiatorAwaitingTwo(Initiator, Option<[u8; 66]>),
    ResponderAwaitingOne(Responder),
    ResponderAwaitingThree(ResponderAwaitingActThree, Option<[u8; 50]>),
    Done(Box<Established>, Option<[u8; 66]>),
}

fn check_handshake(group: &Value, test: &Value) -> Result<(), String> {
    let local_static = private_key(group, "localStaticPriv")?;
    let ephemeral = private_key(group, "ephemeralPriv")?;
    expect_eq("localStaticPub", &local_static.public_key().as_bytes(), &bytes_field(group, "localStaticPub")?)?;
    expect_eq("ephemeralPub", &ephemeral.public_key().as_bytes(), &bytes_field(group, "ephemeralPub")?)?;
    let initiator = str_field(group, "role")? == "initiator";
    let mut ephemeral = Some(ephemeral);
    let mut stage = if initiator {
        Stage::InitiatorStart
    } else {
        Stage::ResponderAwaitingOne(Responder::new_inner(local_static.clone(), true))
    };
    let remote = if initiator { Some(public_key(group, "remoteStaticPub")?) } else { None };
    let steps = test.get("exchange").and_then(Value::as_array).ok_or("missing exchange")?;
    let mut failure: Option<HandshakeError> = None;

    for (i, step) in steps.iter().enumerate() {
        if failure.is_some() {
            return Err(format!("exchange step {i} follows a failed act"));
        }
        let (send, bytes) = match (step.get("send"), step.get("receive")) {
            (Some(_), None) => (true, bytes_field(step, "send")?),
            (None, Some(_)) => (false, bytes_field(step, "receive")?),
            _ => return Err(format!("exchange step {i} must be exactly one of send / receive")),
        };
        stage = match (stage, send) {
            (Stage::InitiatorStart, true) => {
                let (remote, e) =
                    (remote.ok_or("no remoteStaticPub")?, ephemeral.take().ok_or("ephemeral used twice")?);
                let (next, act_one) = Initiator::start_inner(local_static.clone(), remote, e, true);
                expect_eq("act one", &act_one, &bytes)?;
                Stage::InitiatorAwaitingTwo(next, None)
            }
            (Stage::InitiatorAwaitingTwo(init, None), false) => match init.recv_act_two(&bytes) {
                Ok((act_three, done)) => Stage::Done(Box::new(done), Some(act_three)),
                Err(e) => {
                    failure = Some(e);
                    Stage::InitiatorStart
                }
            },
            (Stage::Done(done, Some(act_three)), true) => {
                expect_eq("act three", &act_three, &bytes)?;
                Stage::Done(done, None)
            }
            (Stage::ResponderAwaitingOne(resp), false) => {
                match resp.recv_act_one(&bytes, ephemeral.take().ok_or("ephemeral used twice")?) {
                    Ok((next, act_two)) => Stage::ResponderAwaitingThree(next, Some(act_two)),
                    Err(e) => {
                        failure = Some(e);
                        Stage::InitiatorStart
                    }
                }
            }
            (Stage::ResponderAwaitingThree(next, Some(act_two)), true) => {
                expect_eq("act two", &act_two, &bytes)?;
                Stage::ResponderAwaitingThree(next, None)
            }
            (Stage::ResponderAwaitingThree(next, None), false) => match next.recv_act_three(&bytes) {
                Ok(done) => Stage::Done(Box::new(done), None),
                Err(e) => {
                    failure = Some(e);
                    Stage::InitiatorStart
                }
            },
            (_, send) => {
                return Err(format!("exchange step {i} ({}) is out of turn", if send { "send" } else { "receive" }))
            }
        };
    }

    match (expected_outcome(test)?, failure, stage) {
        (Err(want), Some(got), _) if got.name() == want => Ok(()),
        (Err(want), Some(got), _) => Err(format!("failed with {}, expected {want}", got.name())),
        (Err(want), None, _) => Err(format!("handshake did not fail, expected {want}")),
        (Ok(()), Some(got), _) => Err(format!("handshake failed with {got}")),
        (Ok(()), None, Stage::Done(done, None)) => check_established(test, &done),
        (Ok(()), None, _) => Err("exchange ended before the handshake completed".into()),
    }
}

fn check_established(test: &Value, done: &Established) -> Result<(), String> {
    let (ck, sk, sn) = done.encryptor.state.snapshot();
    let (rck, rk, rn) = done.decryptor.state.snapshot();
    expect_eq("sendingKey", &sk, &array32(test, "sendingKey")?)?;
    expect_eq("receivingKey", &rk, &array32(test, "receivingKey")?)?;
    expect_eq("chainingKey (sending)", &ck, &array32(test, "chainingKey")?)?;
    expect_eq("chainingKey (receiving)", &rck, &array32(test, "chainingKey")?)?;
    if (sn, rn) != (0, 0) {
        return Err(format!("nonces start at {sn}/{rn}, expected 0/0"));
    }
    if test.get("remoteStaticPub").is_some() {
        expect_eq("remoteStaticPub", &done.remote_static.as_bytes(), &bytes_field(test, "remoteStaticPub")?)?;
    }
    if let Some(steps) = test.get("intermediates").and_then(Value::as_object) {
        let trace: &Trace = done.trace.as_ref().ok_or("no trace recorded")?;
        for (name, value) in steps {
            let want = hex::decode(value.as_str().ok_or_else(|| format!("intermediate {name} is not a string"))?)
                .map_err(|e| format!("intermediate {name}: {e}"))?;
            let got = trace.get(name).ok_or_else(|| format!("intermediate {name} is not a step of this handshake"))?;
            expect_eq(&format!("intermediate {name}"), got, &want)?;
        }
    }
    Ok(())
}

fn check_messages(group: &Value, test: &Value) -> Result<(), String> {
    let ck = Zeroizing::new(array32(group, "chainingKey")?);
    let sk = Zeroizing::new(array32(group, "sendingKey")?);
    let rk = Zeroizing::new(array32(group, "receivingKey")?);
    let index = test.get("messageIndex").and_then(Value::as_u64).ok_or("missing messageIndex")?;
    // The sender is the initiator; the receiver is the responder, whose receiving key is the initiator's sk.
    let (mut tx, _): (Encryptor, Decryptor) = pair(sk.clone(), rk.clone(), &ck);
    let (_, mut rx): (Encryptor, Decryptor) = pair(rk, sk, &ck);
    let plaintext = match test.get("plaintextLength").and_then(Value::as_u64) {
        Some(len) => vec![0u8; usize::try_from(len).map_err(|_| "plaintextLength too large")?],
        None => bytes_field(group, "plaintext")?,
    };
    for i in 0..index {
        let frame = tx.encrypt(&plaintext).map_err(|e| format!("message {i}: {e}"))?;
        let back = rx.decrypt_frame(&frame).map_err(|e| format!("receiver, message {i}: {e}"))?;
        expect_eq(&format!("message {i} decrypted"), &back, &plaintext)?;
    }
    if let Some(before) = test.get("keysBefore") {
        let (ck, key, nonce) = tx.state.snapshot();
        expect_eq("keysBefore.chainingKey", &ck, &array32(before, "chainingKey")?)?;
        expect_eq("keysBefore.key", &key, &array32(before, "key")?)?;
        let want = before.get("nonce").and_then(Value::as_u64).ok_or("keysBefore.nonce missing")?;
        if nonce != want {
            return Err(format!("keysBefore.nonce: got {nonce}, expected {want}"));
        }
    }
    let expected = expected_outcome(test)?;
    if test.get("frame").is_none() {
        // A send-side case: only the sender's verdict is checked, then the frame round-trips.
        return match (tx.encrypt(&plaintext), expected) {
            (Ok(frame), Ok(())) => {
                let back = rx.decrypt_frame(&frame).map_err(|e| format!("receiver: {e}"))?;
                expect_eq("decrypted", &back, &plaintext)
            }
            (Err(e), Err(want)) if e.name() == want => Ok(()),
            (Err(e), want) => Err(format!("send failed with {}, expected {want:?}", e.name())),
            (Ok(_), Err(want)) => Err(format!("send succeeded, expected {want}")),
        };
    }
    let frame = bytes_field(test, "frame")?;
    match expected {
        Ok(()) => {
            let ours = tx.encrypt(&plaintext).map_err(|e| format!("message {index}: {e}"))?;
            expect_eq(&format!("frame {index}"), &ours, &frame)?;
            let back = rx.decrypt_frame(&frame).map_err(|e| format!("receiver, frame {index}: {e}"))?;
            expect_eq(&format!("frame {index} decrypted"), &back, &plaintext)
        }
        Err(want) => match rx.decrypt_frame(&frame) {
            Err(e) if e.name() == want => Ok(()),
            Err(e) => Err(format!("receive failed with {}, expected {want}", e.name())),
            Ok(_) => Err(format!("frame decrypted, expected {want}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::Value;

    /// Until the shared loader exists: every test of the committed file passes.
    #[test]
    fn appendix_a_vectors_pass() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/external/bolt08_transport.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let file: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(file["kind"], "bolt8_transport");
        let mut count = 0;
        for group in file["testGroups"].as_array().unwrap() {
            for test in group["tests"].as_array().unwrap() {
                if let Err(e) = check(group, test) {
                    panic!("tcId {}: {e}", test["tcId"]);
                }
                count += 1;
            }
        }
        assert_eq!(count, file["numberOfTests"].as_u64().unwrap());
    }

    #[test]
    fn the_file_matches_its_schema() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");
        let read = |p: &str| std::fs::read_to_string(format!("{dir}/{p}")).unwrap();
        let schema: Value = serde_json::from_str(&read("schema/bolt8_transport.schema.json")).unwrap();
        let file: Value = serde_yaml::from_str(&read("external/bolt08_transport.yaml")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&file).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let mut bad = file.clone();
        bad["testGroups"][2]["tests"][0]["nonce"] = Value::from(1);
        assert!(!validator.is_valid(&bad), "unknown test fields are refused");
    }

    /// The evaluator is not vacuous: a changed expectation is caught.
    #[test]
    fn a_wrong_expectation_fails() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/external/bolt08_transport.yaml");
        let file: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let groups = file["testGroups"].as_array().unwrap();
        let mut ok = groups[0]["tests"][0].clone();
        ok["sendingKey"] = Value::from("00".repeat(32));
        assert!(check(&groups[0], &ok).unwrap_err().contains("sendingKey"));
        let mut bad = groups[1]["tests"][3].clone();
        bad["error"] = Value::from("act1_bad_version");
        assert!(check(&groups[1], &bad).is_err());
        let mut frame = groups[2]["tests"][2].clone();
        frame["messageIndex"] = Value::from(499);
        assert!(check(&groups[2], &frame).is_err());
    }
}
