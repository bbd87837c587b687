//! Field readers shared by the LOOP-01 evaluators (`loop_*` kinds): typed reads of
//! JSON test fields with errors that name the field.

use serde_json::Value;

pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing field `{key}`"))
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?.as_str().ok_or_else(|| format!("`{key}` is not a string"))
}

pub fn u64_of(v: &Value, key: &str) -> Result<u64, String> {
    field(v, key)?.as_u64().ok_or_else(|| format!("`{key}` is not an unsigned integer"))
}

pub fn u32_of(v: &Value, key: &str) -> Result<u32, String> {
    u32::try_from(u64_of(v, key)?).map_err(|_| format!("`{key}` does not fit 32 bits"))
}

pub fn i64_of(v: &Value, key: &str) -> Result<i64, String> {
    field(v, key)?.as_i64().ok_or_else(|| format!("`{key}` is not an integer"))
}

pub fn bool_of(v: &Value, key: &str) -> Result<bool, String> {
    field(v, key)?.as_bool().ok_or_else(|| format!("`{key}` is not a boolean"))
}

pub fn hex_of(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_of(v, key)?).map_err(|e| format!("`{key}`: bad hex ({e})"))
}

pub fn hex32_of(v: &Value, key: &str) -> Result<[u8; 32], String> {
    hex_of(v, key)?.try_into().map_err(|_| format!("`{key}` is not 32 bytes"))
}

/// `key` as an unsigned integer, or `None` when the value is `null`.
pub fn opt_u64_of(v: &Value, key: &str) -> Result<Option<u64>, String> {
    match field(v, key)? {
        Value::Null => Ok(None),
        x => x.as_u64().map(Some).ok_or_else(|| format!("`{key}` is neither null nor an unsigned integer")),
    }
}

pub fn expect<T: PartialEq + std::fmt::Debug>(what: &str, want: T, got: T) -> Result<(), String> {
    if want == got {
        Ok(())
    } else {
        Err(format!("{what}: expected {want:?}, the reference gave {got:?}"))
    }
}

/// Compares the expected `result` / `error` with the reference's outcome.
pub fn expect_outcome(test: &Value, got: Result<(), &str>) -> Result<(), String> {
    let want = str_of(test, "result")?;
    match (want, got) {
        ("valid" | "acceptable", Ok(())) => Ok(()),
        ("valid" | "acceptable", Err(e)) => Err(format!("expected {want}, the reference refused: {e}")),
        ("invalid", Ok(())) => Err(format!("expected invalid ({}), the reference accepted", str_of(test, "error")?)),
        ("invalid", Err(e)) => expect("error", str_of(test, "error")?, e),
        (other, _) => Err(format!("unknown result `{other}`")),
    }
}
