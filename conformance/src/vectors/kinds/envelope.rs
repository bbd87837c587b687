//! `kind: envelope`: a whole BOLT 8 message opened as a sidepool envelope:
//! expected `sub_id`, the remaining `tlvs`, and whether the sub-id is an
//! unknown odd one that is `ignored`.

use super::super::{expect_outcome, field};
use serde_json::Value;
use sidepool_reference::messages;
use sidepool_reference::wire::envelope;

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let bytes = field::hex(test, "message")?;
    let got = envelope::open(&bytes).and_then(|env| {
        let ignored = messages::def_by_sub_id(env.sub_id).is_none();
        if ignored {
            envelope::unknown_sub_id(env.sub_id)?;
        }
        Ok((env, ignored))
    });
    expect_outcome(test, &got, |e| e.class.name().to_owned())?;
    if let Ok((env, ignored)) = got {
        let want_sub = field::u64(test, "sub_id")?;
        if u64::from(env.sub_id) != want_sub {
            return Err(format!("sub-id {}, expected {want_sub}", env.sub_id));
        }
        if env.tlvs != field::hex(test, "tlvs")?.as_slice() {
            return Err(format!("tlvs {}, expected {}", hex::encode(env.tlvs), field::str(test, "tlvs")?));
        }
        let want_ignored = test.get("ignored").and_then(Value::as_bool).unwrap_or(false);
        if ignored != want_ignored {
            return Err(format!("ignored = {ignored}, expected {want_ignored}"));
        }
        if envelope::seal(env.sub_id, env.tlvs) != bytes {
            return Err("re-sealing does not give the input".into());
        }
    }
    Ok(())
}
