//! `kind: message`: a whole BOLT 8 plaintext message (`hex`) decoded by the
//! reference. Valid (and acceptable) tests give the `message` name, `sub_id`,
//! `fields` (the JSON field view, as printed by `sidepool-conformance decode`)
//! and any kept `unknown_tlvs`; both directions are checked: decode gives the
//! fields, and the fields encode back to exactly `hex`. Unknown odd sub-ids are
//! `ignored: true` with `message: null`.

use super::super::{expect_outcome, field};
use crate::fields::{message_from_json, message_to_json};
use serde_json::{json, Value};
use sidepool_reference::{Decoded, Message};

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let bytes = field::hex(test, "hex")?;
    let got = Message::decode(&bytes);
    expect_outcome(test, &got, |e| e.class.name().to_owned())?;
    match got {
        Ok(Decoded::IgnoredOdd { sub_id }) => {
            if test.get("ignored") != Some(&json!(true)) || test.get("message") != Some(&Value::Null) {
                return Err(format!("sub-id {sub_id} was ignored, the test expects a message"));
            }
            if field::u64(test, "sub_id")? != u64::from(sub_id) {
                return Err(format!("ignored sub-id {sub_id}, expected {}", field::u64(test, "sub_id")?));
            }
        }
        Ok(Decoded::Known(m)) => {
            let view = message_to_json(&m);
            for key in ["message", "sub_id", "fields"] {
                if view.get(key) != test.get(key) {
                    return Err(format!("{key}: decoded {}, expected {}", view[key], test.get(key).unwrap_or(&Value::Null)));
                }
            }
            if view.get("unknown_tlvs") != test.get("unknown_tlvs") {
                return Err(format!("unknown_tlvs: decoded {:?}, expected {:?}", view.get("unknown_tlvs"), test.get("unknown_tlvs")));
            }
            let name = field::str(test, "message")?;
            let fields = test.get("fields").ok_or("test lacks `fields`")?;
            let rebuilt = message_from_json(name, fields, test.get("unknown_tlvs"))?;
            if rebuilt.encode() != bytes {
                return Err(format!("the fields encode to {}, not the test's hex", hex::encode(rebuilt.encode())));
            }
        }
        Err(_) => {}
    }
    Ok(())
}
