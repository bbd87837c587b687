//! Field readers shared by the message codecs.

use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::tlv::{read_stream, Known, TlvRecord};
use sidepool_reference::wire::{DecodeError, ErrorClass};

use crate::constants::TlvType;
use crate::units::PublicKey;

/// A 33-byte compressed point, which must be on the curve.
pub(crate) fn point(r: &mut Reader<'_>, what: &str) -> Result<PublicKey, DecodeError> {
    let bytes: [u8; 33] = r.array(what)?;
    PublicKey::from_bytes(bytes)
        .ok_or_else(|| DecodeError::new(ErrorClass::InvalidValue, format!("{what} is not a valid point")))
}

/// A TLV value that must be exactly `N` bytes.
pub(crate) fn exact<const N: usize>(value: &[u8], what: &str) -> Result<[u8; N], DecodeError> {
    value
        .try_into()
        .map_err(|_| DecodeError::new(ErrorClass::BadLength, format!("{what} has length {}, expected {N}", value.len())))
}

/// A TLV value holding one point.
pub(crate) fn point_value(value: &[u8], what: &str) -> Result<PublicKey, DecodeError> {
    let bytes: [u8; 33] = exact(value, what)?;
    PublicKey::from_bytes(bytes)
        .ok_or_else(|| DecodeError::new(ErrorClass::InvalidValue, format!("{what} is not a valid point")))
}

/// Reads a TLV stream, handing each record whose type `known` lists to
/// `on_known`; unknown odd records are returned, unknown even ones rejected.
///
/// LNROD-01: "A reader MUST ignore unknown odd TLV records and reject unknown even ones in every message and record of this section."
pub(crate) fn tlvs<F>(bytes: &[u8], known: &[TlvType], mut on_known: F) -> Result<Vec<TlvRecord>, DecodeError>
where
    F: FnMut(TlvType, &[u8]) -> Result<(), DecodeError>,
{
    read_stream(bytes, |typ, value| {
        let typ = TlvType(typ);
        if known.contains(&typ) {
            on_known(typ, value)?;
            Ok(Known::Yes)
        } else {
            Ok(Known::No)
        }
    })
}

/// Writes the present known records (in type order) merged with the kept
/// unknown ones.
pub(crate) fn write_tlvs(known: &[(TlvType, Vec<u8>)], unknown: &[TlvRecord], out: &mut Vec<u8>) {
    let known: Vec<(u64, &[u8])> = known.iter().map(|(t, v)| (t.0, v.as_slice())).collect();
    sidepool_reference::wire::tlv::write_merged(&known, unknown, out);
}
