//! `sidepool-conformance decode HEX`.
//!
//! Contract: a whole BOLT 8 plaintext message in, one JSON object out.
//! - success: `{"message": ..., "sub_id": ..., "fields": {...}}`, exit 0;
//! - unknown odd sub-id: `{"message": null, "sub_id": N, "ignored": true}`, exit 0;
//! - decode failure: `{"error": {"class": ..., "detail": ...}}`, exit 1;
//! - bad hex: a usage error on stderr, exit 2.

use crate::fields::message_to_json;
use serde_json::{json, Value};
use sidepool_reference::{Decoded, Message};

/// Exit statuses of `decode`.
pub const EXIT_DECODE_ERROR: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// The JSON `decode` prints and its exit status, or a usage error.
pub fn decode_hex(input: &str) -> Result<(Value, i32), String> {
    let trimmed = input.trim();
    let trimmed = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    let bytes = hex::decode(trimmed).map_err(|e| format!("HEX is not valid hex: {e}"))?;
    Ok(match Message::decode(&bytes) {
        Ok(Decoded::Known(m)) => (message_to_json(&m), 0),
        Ok(Decoded::IgnoredOdd { sub_id }) => (json!({"message": null, "sub_id": sub_id, "ignored": true}), 0),
        Err(e) => (json!({"error": {"class": e.class.name(), "detail": e.detail}}), EXIT_DECODE_ERROR),
    })
}

pub fn run(hex: &str) -> i32 {
    match decode_hex(hex) {
        Ok((json, status)) => {
            println!("{json}");
            status
        }
        Err(usage) => {
            eprintln!("sidepool-conformance decode: {usage}");
            EXIT_USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_on_valid_malformed_unknown_and_bad_hex() {
        // my_sidepool_features with bits {1, 2, 42}
        let (v, code) = decode_hex("d1690065fd277403010027").unwrap();
        assert_eq!(code, 0);
        assert_eq!(v["message"], "my_sidepool_features");
        assert_eq!(v["fields"]["my_sidepool_features_set"]["bits"], json!([1, 2, 42]));

        let (v, code) = decode_hex("d16903e9").unwrap();
        assert_eq!((v, code), (json!({"message": null, "sub_id": 1001, "ignored": true}), 0));

        let (v, code) = decode_hex("d16903ee").unwrap();
        assert_eq!(code, EXIT_DECODE_ERROR);
        assert_eq!(v["error"]["class"], "unknown_even_message");

        let (v, code) = decode_hex("0010").unwrap();
        assert_eq!((v["error"]["class"].as_str(), code), (Some("not_sidepool"), 1));

        assert!(decode_hex("zz").is_err());
        assert!(decode_hex("abc").is_err(), "odd number of digits");
    }
}
