//! `kind: bigsize`: `encoded` (hex) decodes to `value`, and `value` encodes back to `encoded`.

use super::super::{expect_outcome, field};
use serde_json::Value;
use sidepool_reference::wire::bigsize;

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let encoded = field::hex(test, "encoded")?;
    let got = bigsize::decode_exact(&encoded);
    expect_outcome(test, &got, |e| e.class.name().to_owned())?;
    if let Ok(value) = got {
        let want = field::u64(test, "value")?;
        if value != want {
            return Err(format!("decoded {value}, expected {want}"));
        }
        if bigsize::to_vec(value) != encoded {
            return Err(format!("{value} encodes to {}, not the test's bytes", hex::encode(bigsize::to_vec(value))));
        }
    }
    Ok(())
}
