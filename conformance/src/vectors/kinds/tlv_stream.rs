//! `kind: tlv_stream`: a stream read against a set of known types (group field
//! `known_types`, with any length accepted). Valid streams list every accepted
//! record (known ones and kept unknown odd ones) and re-encode byte-identically.

use super::super::{expect_outcome, field};
use serde_json::Value;
use sidepool_reference::wire::tlv::{self, Known, TlvRecord};

fn known_types(group: &Value) -> Result<Vec<u64>, String> {
    group
        .get("known_types")
        .and_then(Value::as_array)
        .ok_or("group lacks `known_types`")?
        .iter()
        .map(|v| v.as_u64().ok_or_else(|| format!("known_types: {v} is not an integer")))
        .collect()
}

pub fn check(group: &Value, test: &Value) -> Result<(), String> {
    let known = known_types(group)?;
    let stream = field::hex(test, "stream")?;
    let mut accepted = Vec::new();
    let got = tlv::read_stream(&stream, |typ, value| {
        accepted.push(TlvRecord { typ, value: value.to_vec() });
        Ok(if known.contains(&typ) { Known::Yes } else { Known::No })
    });
    expect_outcome(test, &got, |e| e.class.name().to_owned())?;
    if got.is_ok() {
        let want = crate::fields::unknown_from_json(test.get("records"))?;
        if accepted != want {
            return Err(format!("records differ: got {}", crate::fields::unknown_to_json(&accepted)));
        }
        let mut again = Vec::new();
        tlv::write_stream(accepted.iter().map(|r| (r.typ, r.value.as_slice())), &mut again);
        if again != stream {
            return Err(format!("re-encoding gives {}, not the input", hex::encode(again)));
        }
    }
    Ok(())
}
