//! A cursor over untrusted bytes: every read is bounds-checked and fails with
//! `truncated`, naming what was being read.

use super::error::{DecodeError, ErrorClass};

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes, or `truncated` if fewer remain.
    #[inline]
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        self.bytes_for(n, || what.to_owned())
    }

    /// [`Reader::bytes`], naming what is read only when it fails (no
    /// allocation on the success path, which the TLV reader takes per record).
    #[inline]
    pub fn bytes_for(&mut self, n: usize, what: impl FnOnce() -> String) -> Result<&'a [u8], DecodeError> {
        let Some(end) = self.pos.checked_add(n).filter(|&end| end <= self.buf.len()) else {
            return Err(self.truncated(n, &what()));
        };
        let out = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(out)
    }

    #[inline]
    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }

    #[inline]
    pub fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }
    #[inline]
    pub fn u16(&mut self, what: &str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    #[inline]
    pub fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    #[inline]
    pub fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    #[cold]
    fn truncated(&self, n: usize, what: &str) -> DecodeError {
        DecodeError::new(ErrorClass::Truncated, format!("{what}: need {n} bytes at offset {}, {} remain", self.pos, self.remaining()))
    }

    /// Everything not yet read.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::error::ErrorClass;

    #[test]
    fn reads_big_endian_and_tracks_where_it_is() {
        let buf = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        let mut r = Reader::new(&buf);
        assert_eq!((r.position(), r.remaining(), r.is_empty()), (0, 9, false));
        assert_eq!(r.u16("a").unwrap(), 0x0102);
        assert_eq!(r.position(), 2);
        assert_eq!(r.array::<3>("b").unwrap(), [3, 4, 5]);
        assert_eq!((r.position(), r.remaining()), (5, 4));
        let e = r.u64("c").unwrap_err();
        assert_eq!(e.class, ErrorClass::Truncated);
        assert!(e.detail.contains('c'), "{e}");
        assert_eq!(r.rest(), &[6, 7, 8, 9]);
        assert_eq!((r.position(), r.remaining(), r.is_empty()), (9, 0, true));
    }
}
