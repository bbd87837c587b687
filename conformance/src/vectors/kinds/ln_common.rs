//! JSON helpers shared by the in-Lightning HTLC evaluators (`ln_split_plan`,
//! `ln_htlc_fields`, `ln_hold_sequence`): typed reads that name the field at fault.

use serde_json::Value;

pub fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("missing field `{name}`"))
}

pub fn opt_field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name).filter(|x| !x.is_null())
}

pub fn u64_of(v: &Value, name: &str) -> Result<u64, String> {
    field(v, name)?.as_u64().ok_or_else(|| format!("`{name}` is not an unsigned integer"))
}

pub fn opt_u64(v: &Value, name: &str) -> Result<Option<u64>, String> {
    opt_field(v, name).map(|x| x.as_u64().ok_or_else(|| format!("`{name}` is not an unsigned integer"))).transpose()
}

pub fn u32_of(v: &Value, name: &str) -> Result<u32, String> {
    u32::try_from(u64_of(v, name)?).map_err(|_| format!("`{name}` does not fit in 32 bits"))
}

pub fn str_of<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    field(v, name)?.as_str().ok_or_else(|| format!("`{name}` is not a string"))
}

pub fn array_of<'a>(v: &'a Value, name: &str) -> Result<&'a Vec<Value>, String> {
    field(v, name)?.as_array().ok_or_else(|| format!("`{name}` is not an array"))
}

pub fn hex_of(v: &Value, name: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_of(v, name)?).map_err(|e| format!("`{name}` is not hex: {e}"))
}

pub fn opt_hex(v: &Value, name: &str) -> Result<Option<Vec<u8>>, String> {
    match opt_field(v, name) {
        None => Ok(None),
        Some(_) => hex_of(v, name).map(Some),
    }
}

pub fn bytes32(bytes: Vec<u8>, name: &str) -> Result<[u8; 32], String> {
    bytes.try_into().map_err(|b: Vec<u8>| format!("`{name}` has {} bytes, not 32", b.len()))
}

/// `result` and `error` of a test: `Ok(None)` for valid, `Ok(Some(name))` for invalid.
pub fn expected_outcome(test: &Value) -> Result<Option<String>, String> {
    match str_of(test, "result")? {
        "valid" => Ok(None),
        "invalid" => Ok(Some(str_of(test, "error")?.to_string())),
        // One of the reference's readings: its outcome, refused or not (kinds::READING_KINDS).
        "acceptable" => Ok(test.get("error").and_then(Value::as_str).map(str::to_owned)),
        other => Err(format!("result `{other}` is not used by this kind")),
    }
}

/// Compares an expected value with the reference's, naming the field.
pub fn same<T: PartialEq + core::fmt::Debug>(name: &str, expected: T, got: T) -> Result<(), String> {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{name}: expected {expected:?}, reference gives {got:?}"))
    }
}
