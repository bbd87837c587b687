//! TLV streams (BOLT 1 format, SIDEPOOL-01 numbering).
//!
//! SIDEPOOL-01: "The rest of the payload after the sidepool message sub-ID is composed of TLVs, as described in [BOLT 1 Type-Length-Value Format][]."
//!
//! A stream is read record by record, the way a BOLT 1 reader streams it, so the
//! first offending record decides the error class (see vectors/README.md).

use super::bigsize;
use super::error::{DecodeError, ErrorClass};
use super::reader::Reader;
use core::ops::RangeInclusive;

/// One record of a stream, kept as raw bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TlvRecord {
    pub typ: u64,
    pub value: Vec<u8>,
}

/// The length rule a TLV definition gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// "Length: 16"
    Exact(usize),
    /// "Length: N, 1 <= N <= 255"
    Range { min: usize, max: usize },
    /// "Length: Variable."
    Variable,
}

impl Length {
    pub fn allows(self, len: usize) -> bool {
        match self {
            Length::Exact(n) => len == n,
            Length::Range { min, max } => (min..=max).contains(&len),
            Length::Variable => true,
        }
    }
}

impl core::fmt::Display for Length {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Length::Exact(n) => write!(f, "{n}"),
            Length::Range { min, max } => write!(f, "{min}..={max}"),
            Length::Variable => f.write_str("variable"),
        }
    }
}

/// One TLV of a message definition, as the spec's TLV bullet list gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvDef {
    pub name: &'static str,
    pub typ: u64,
    pub length: Length,
    pub required: bool,
}

impl TlvDef {
    #[inline]
    pub fn check_length(&self, len: usize) -> Result<(), DecodeError> {
        if self.length.allows(len) {
            Ok(())
        } else {
            Err(DecodeError::new(
                ErrorClass::BadLength,
                format!("{} (type {}) has length {len}, expected {}", self.name, self.typ, self.length),
            ))
        }
    }
}

/// A sidepool message definition: its name, sub-id and TLVs in type order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageDef {
    pub name: &'static str,
    pub sub_id: u16,
    pub tlvs: &'static [TlvDef],
}

impl MessageDef {
    pub fn tlv(&self, typ: u64) -> Option<&'static TlvDef> {
        self.tlvs.iter().find(|d| d.typ == typ)
    }

    /// Reads a TLV stream against this definition: lengths are checked, unknown
    /// even types rejected, unknown odd types returned for a byte-identical
    /// re-encode. `on_known` parses the value of each known record; required
    /// records are checked once the stream has ended.
    pub fn read<F>(&self, bytes: &[u8], mut on_known: F) -> Result<Vec<TlvRecord>, DecodeError>
    where
        F: FnMut(&TlvDef, &[u8]) -> Result<(), DecodeError>,
    {
        // Bit i: `self.tlvs[i]` was read. A message defines far fewer than 64
        // TLVs (a test checks every definition), so a bitmask needs no allocation.
        let mut seen = 0u64;
        let unknown = read_stream(bytes, |typ, value| match self.tlvs.iter().enumerate().find(|(_, d)| d.typ == typ) {
            Some((i, def)) => {
                def.check_length(value.len())?;
                on_known(def, value)?;
                seen |= index_bit(i);
                Ok(Known::Yes)
            }
            None => Ok(Known::No),
        })?;
        if let Some(missing) = self.tlvs.iter().enumerate().find(|(i, d)| d.required && seen & index_bit(*i) == 0).map(|(_, d)| d) {
            return Err(DecodeError::new(
                ErrorClass::MissingRequired,
                format!("{} lacks required {} (type {})", self.name, missing.name, missing.typ),
            ));
        }
        Ok(unknown)
    }
}

/// The bit for definition index `i` (0 past 63: such a definition could never
/// be seen, which the test on every definition rules out).
fn index_bit(i: usize) -> u64 {
    u32::try_from(i).ok().and_then(|i| 1u64.checked_shl(i)).unwrap_or(0)
}

/// Whether the reader's definition knows a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    Yes,
    No,
}

/// SIDEPOOL-01: "Given a particular `message_id`, TLV types from `message_id * 100` to `message_id * 100 + 99`, inclusive, are reserved for that message."
pub fn reserved_range(sub_id: u16) -> RangeInclusive<u64> {
    let base = u64::from(sub_id) * 100;
    base..=base + 99
}

/// Streams `bytes` as TLV records. `classify` is called for each record in
/// order; unknown even types are rejected, unknown odd types are returned.
pub fn read_stream<F>(bytes: &[u8], mut classify: F) -> Result<Vec<TlvRecord>, DecodeError>
where
    F: FnMut(u64, &[u8]) -> Result<Known, DecodeError>,
{
    let mut r = Reader::new(bytes);
    let mut previous: Option<u64> = None;
    let mut unknown = Vec::new();
    while !r.is_empty() {
        let typ = bigsize::read(&mut r, "tlv type")?;
        let len = bigsize::read(&mut r, "tlv length")?;
        if let Some(prev) = previous {
            if typ == prev {
                return Err(DecodeError::new(ErrorClass::TlvDuplicate, format!("type {typ} appears twice")));
            }
            if typ < prev {
                return Err(DecodeError::new(
                    ErrorClass::TlvOutOfOrder,
                    format!("type {typ} follows type {prev}; types must strictly increase"),
                ));
            }
        }
        previous = Some(typ);
        let len = usize::try_from(len).map_err(|_| {
            DecodeError::new(ErrorClass::Truncated, format!("type {typ}: length {len} exceeds the input"))
        })?;
        let value = r.bytes_for(len, || format!("value of type {typ}"))?;
        match classify(typ, value)? {
            Known::Yes => {}
            Known::No if typ % 2 == 0 => {
                return Err(DecodeError::new(
                    ErrorClass::UnknownEvenType,
                    format!("unknown even type {typ} (it's ok to be odd, not even)"),
                ));
            }
            Known::No => unknown.push(TlvRecord { typ, value: value.to_vec() }),
        }
    }
    Ok(unknown)
}

/// Writes records in the order given; callers pass them sorted by type.
#[inline]
pub fn write_stream<'a>(records: impl IntoIterator<Item = (u64, &'a [u8])>, out: &mut Vec<u8>) {
    for (typ, value) in records {
        bigsize::encode(typ, out);
        bigsize::encode(value.len() as u64, out);
        out.extend_from_slice(value);
    }
}

/// Encodes a message's known records and kept unknown records, merged in type order.
pub fn encode_merged(known: Vec<(u64, Vec<u8>)>, unknown: &[TlvRecord], out: &mut Vec<u8>) {
    let known: Vec<(u64, &[u8])> = known.iter().map(|(t, v)| (*t, v.as_slice())).collect();
    write_merged(&known, unknown, out);
}

/// [`encode_merged`] over borrowed values: with no unknown records (the usual
/// case) the known ones, given in type order, are written as they are, with no
/// allocation; otherwise both are merged by a stable sort on the type, exactly
/// as [`encode_merged`] orders them.
pub fn write_merged(known: &[(u64, &[u8])], unknown: &[TlvRecord], out: &mut Vec<u8>) {
    if unknown.is_empty() && known.windows(2).all(|w| matches!(w, [a, b] if a.0 <= b.0)) {
        // A type and a length take at most 9 bytes each.
        out.reserve(known.iter().map(|(_, v)| v.len() + 18).sum());
        write_stream(known.iter().copied(), out);
        return;
    }
    let mut all: Vec<(u64, &[u8])> = known.to_vec();
    all.extend(unknown.iter().map(|r| (r.typ, r.value.as_slice())));
    all.sort_by_key(|(typ, _)| *typ);
    write_stream(all, out);
}

/// The records a message writes, some of them optional: kept on the stack.
pub struct Records<'a, const N: usize> {
    items: [(u64, &'a [u8]); N],
    len: usize,
}

impl<'a, const N: usize> Records<'a, N> {
    /// The present ones of `items`, in the order given.
    pub fn present(items: [Option<(u64, &'a [u8])>; N]) -> Records<'a, N> {
        let mut out = Records { items: [(0, &[][..]); N], len: 0 };
        for item in items.into_iter().flatten() {
            if let Some(slot) = out.items.get_mut(out.len) {
                *slot = item;
                out.len += 1;
            }
        }
        out
    }

    pub fn as_slice(&self) -> &[(u64, &'a [u8])] {
        self.items.get(..self.len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_unknown(bytes: &[u8]) -> Result<Vec<TlvRecord>, DecodeError> {
        read_stream(bytes, |_, _| Ok(Known::No))
    }

    #[test]
    fn odd_unknown_kept_even_unknown_rejected() {
        let kept = all_unknown(&[0x01, 0x01, 0xaa]).unwrap();
        assert_eq!(kept, vec![TlvRecord { typ: 1, value: vec![0xaa] }]);
        assert_eq!(all_unknown(&[0x02, 0x00]).unwrap_err().class, ErrorClass::UnknownEvenType);
    }

    #[test]
    fn ordering_rules() {
        assert_eq!(all_unknown(&[3, 0, 3, 0]).unwrap_err().class, ErrorClass::TlvDuplicate);
        assert_eq!(all_unknown(&[5, 0, 3, 0]).unwrap_err().class, ErrorClass::TlvOutOfOrder);
        assert_eq!(all_unknown(&[3, 2, 0]).unwrap_err().class, ErrorClass::Truncated);
        assert_eq!(all_unknown(&[0xfd, 0, 3, 0]).unwrap_err().class, ErrorClass::NonMinimalEncoding);
    }

    #[test]
    fn every_definition_fits_the_seen_bitmask() {
        for def in crate::messages::ALL {
            assert!(def.tlvs.len() <= 64, "{}", def.name);
        }
    }

    #[test]
    fn write_merged_orders_like_encode_merged() {
        let unknown = [TlvRecord { typ: 3, value: vec![7] }, TlvRecord { typ: 1, value: vec![] }];
        let known: [(u64, &[u8]); 2] = [(2, &[1, 2]), (4, &[])];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_merged(&known, &unknown, &mut a);
        encode_merged(known.iter().map(|(t, v)| (*t, v.to_vec())).collect(), &unknown, &mut b);
        assert_eq!(a, b);
        assert_eq!(a, vec![1, 0, 2, 2, 1, 2, 3, 1, 7, 4, 0]);
    }

    /// `MessageDef::read` itself enforces required records (the message
    /// decoders check again, so the vectors alone would not notice a gap here).
    #[test]
    fn read_reports_the_first_missing_required_record() {
        static TLVS: [TlvDef; 3] = [
            TlvDef { name: "a", typ: 2, length: Length::Exact(1), required: true },
            TlvDef { name: "b", typ: 4, length: Length::Variable, required: false },
            TlvDef { name: "c", typ: 6, length: Length::Range { min: 1, max: 2 }, required: true },
        ];
        let def = MessageDef { name: "m", sub_id: 1, tlvs: &TLVS };
        let mut seen = Vec::new();
        let unknown = def.read(&[2, 1, 9, 5, 0, 6, 1, 8], |d, v| {
            seen.push((d.name, v.to_vec()));
            Ok(())
        });
        assert_eq!(unknown, Ok(vec![TlvRecord { typ: 5, value: vec![] }]));
        assert_eq!(seen, [("a", vec![9]), ("c", vec![8])]);
        let no_c = def.read(&[2, 1, 9, 4, 0], |_, _| Ok(())).unwrap_err();
        assert_eq!((no_c.class, no_c.detail.as_str()), (ErrorClass::MissingRequired, "m lacks required c (type 6)"));
        let no_a = def.read(&[6, 1, 8], |_, _| Ok(())).unwrap_err();
        assert_eq!(no_a.detail, "m lacks required a (type 2)");
        let long_c = def.read(&[2, 1, 9, 6, 3, 1, 2, 3], |_, _| Ok(())).unwrap_err();
        assert_eq!((long_c.class, long_c.detail.as_str()), (ErrorClass::BadLength, "c (type 6) has length 3, expected 1..=2"));
        let short_a = def.read(&[2, 0, 6, 1, 8], |_, _| Ok(())).unwrap_err();
        assert_eq!(short_a.detail, "a (type 2) has length 0, expected 1");
    }

    #[test]
    fn tlv_finds_each_definition_by_its_type_only() {
        for def in crate::messages::ALL {
            for tlv in def.tlvs {
                assert_eq!(def.tlv(tlv.typ), Some(tlv), "{} {}", def.name, tlv.name);
            }
            assert_eq!(def.tlv(1), None, "{}: type 1 is no sidepool TLV", def.name);
        }
    }

    #[test]
    fn lengths_print_as_in_the_errors() {
        let shown = [Length::Exact(32), Length::Range { min: 1, max: 255 }, Length::Variable].map(|l| l.to_string());
        assert_eq!(shown, ["32", "1..=255", "variable"]);
    }

    #[test]
    fn reserved_range_follows_the_convention() {
        // SIDEPOOL-01: "For example, if a sidepool message ID is 42, then the TLVs for it are numbered from 4200 to 4299, inclusive."
        assert_eq!(reserved_range(42), 4200..=4299);
    }
}
