//! `kind: feature_set`: the run-length encoded SIDEPOOL feature set. Valid
//! tests give the decoded `bits`, the canonical re-encoding is the input, and
//! `allows_sidepool_messages` says whether a peer with this set may be sent
//! sidepool messages (no unknown even bit).

use super::super::{expect_outcome, field};
use serde_json::Value;
use sidepool_reference::wire::features::FeatureSet;

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let encoded = field::hex(test, "encoded")?;
    let got = FeatureSet::decode(&encoded);
    expect_outcome(test, &got, |e| e.class.name().to_owned())?;
    if let Ok(set) = got {
        let want: Vec<u64> = test
            .get("bits")
            .and_then(Value::as_array)
            .ok_or("test lacks `bits`")?
            .iter()
            .map(|b| b.as_u64().ok_or_else(|| format!("bits: {b} is not an integer")))
            .collect::<Result<_, _>>()?;
        let bits: Vec<u64> = set.bits().collect();
        if bits != want {
            return Err(format!("decoded bits {bits:?}, expected {want:?}"));
        }
        if FeatureSet::from_bits(want).encode() != encoded {
            return Err(format!("bits encode to {}, not the input", hex::encode(set.encode())));
        }
        let want_allows = test.get("allows_sidepool_messages").and_then(Value::as_bool).ok_or("test lacks `allows_sidepool_messages`")?;
        if set.allows_sidepool_messages() != want_allows {
            return Err(format!("allows_sidepool_messages = {}, expected {want_allows}", set.allows_sidepool_messages()));
        }
    }
    Ok(())
}
