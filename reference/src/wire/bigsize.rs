//! BigSize, the variable-length integer of TLV types and lengths.
//!
//! SIDEPOOL-01: "Types and lengths are encoded in [BigSize Integer Encoding][]."
//! The same encoding counts the zero runs of a SIDEPOOL feature set.

use super::error::{DecodeError, ErrorClass};
use super::reader::Reader;

/// Appends the minimal BigSize encoding of `value` (one constant-size copy per
/// form, which the compiler turns into plain stores).
#[inline]
pub fn encode(value: u64, out: &mut Vec<u8>) {
    match value {
        0..=0xfc => out.push(value as u8),
        0xfd..=0xffff => {
            let [a, b] = (value as u16).to_be_bytes();
            out.extend_from_slice(&[0xfd, a, b]);
        }
        0x1_0000..=0xffff_ffff => {
            let [a, b, c, d] = (value as u32).to_be_bytes();
            out.extend_from_slice(&[0xfe, a, b, c, d]);
        }
        _ => {
            let [a, b, c, d, e, f, g, h] = value.to_be_bytes();
            out.extend_from_slice(&[0xff, a, b, c, d, e, f, g, h]);
        }
    }
}

pub fn to_vec(value: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    encode(value, &mut out);
    out
}

/// Reads one BigSize; a value that would fit a shorter form is `non_minimal_encoding`.
#[inline]
pub fn read(r: &mut Reader<'_>, what: &str) -> Result<u64, DecodeError> {
    let non_minimal = |v: u64| {
        DecodeError::new(ErrorClass::NonMinimalEncoding, format!("{what}: {v} is not minimally encoded"))
    };
    match r.u8(what)? {
        0xff => {
            let v = r.u64(what)?;
            if v < 0x1_0000_0000 {
                return Err(non_minimal(v));
            }
            Ok(v)
        }
        0xfe => {
            let v = u64::from(r.u32(what)?);
            if v < 0x1_0000 {
                return Err(non_minimal(v));
            }
            Ok(v)
        }
        0xfd => {
            let v = u64::from(r.u16(what)?);
            if v < 0xfd {
                return Err(non_minimal(v));
            }
            Ok(v)
        }
        small => Ok(u64::from(small)),
    }
}

/// Decodes `bytes` as exactly one BigSize (trailing bytes are an error).
pub fn decode_exact(bytes: &[u8]) -> Result<u64, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = read(&mut r, "bigsize")?;
    if !r.is_empty() {
        return Err(DecodeError::new(
            ErrorClass::InvalidValue,
            format!("{} trailing bytes after the bigsize", r.remaining()),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn boundaries() {
        assert_eq!(to_vec(0xfc), [0xfc]);
        assert_eq!(to_vec(0xfd), [0xfd, 0x00, 0xfd]);
        assert_eq!(to_vec(0xffff), [0xfd, 0xff, 0xff]);
        assert_eq!(to_vec(0x1_0000), [0xfe, 0x00, 0x01, 0x00, 0x00]);
        assert_eq!(to_vec(0x1_0000_0000), [0xff, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn non_minimal_is_its_own_class() {
        let e = decode_exact(&[0xfd, 0x00, 0xfc]).unwrap_err();
        assert_eq!(e.class, ErrorClass::NonMinimalEncoding);
        let e = decode_exact(&[0xfe, 0x00, 0x00]).unwrap_err();
        assert_eq!(e.class, ErrorClass::Truncated);
    }

    proptest! {
        #[test]
        fn round_trip(v: u64) {
            prop_assert_eq!(decode_exact(&to_vec(v)), Ok(v));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes: Vec<u8>) {
            let _ = decode_exact(&bytes);
        }
    }
}
