//! Column encodings: fixed-length blobs for ids, hashes and keys; integers for
//! heights; 64-bit unsigned values stored bit-for-bit in SQLite's signed
//! INTEGER. Decoding checks lengths and ranges and never panics.

use rusqlite::Row;
use sidepool_reference::units::PublicKey;

use super::error::StoreError;

/// Where a column lives, for [`StoreError::CorruptRow`].
#[derive(Clone, Copy)]
pub(crate) struct Col {
    pub table: &'static str,
    pub column: &'static str,
    pub index: usize,
}

impl Col {
    fn corrupt(self) -> StoreError {
        StoreError::CorruptRow { table: self.table, column: self.column }
    }
}

pub(crate) fn u64_to_sql(v: u64) -> i64 {
    i64::from_be_bytes(v.to_be_bytes())
}

fn u64_from_sql(v: i64) -> u64 {
    u64::from_be_bytes(v.to_be_bytes())
}

pub(crate) fn get_u64(row: &Row<'_>, col: Col) -> Result<u64, StoreError> {
    row.get::<_, i64>(col.index).map(u64_from_sql).map_err(|_| col.corrupt())
}

pub(crate) fn get_u32(row: &Row<'_>, col: Col) -> Result<u32, StoreError> {
    let v: i64 = row.get(col.index).map_err(|_| col.corrupt())?;
    u32::try_from(v).map_err(|_| col.corrupt())
}

pub(crate) fn get_array<const N: usize>(row: &Row<'_>, col: Col) -> Result<[u8; N], StoreError> {
    let v: Vec<u8> = row.get(col.index).map_err(|_| col.corrupt())?;
    <[u8; N]>::try_from(v.as_slice()).map_err(|_| col.corrupt())
}

pub(crate) fn get_opt_array<const N: usize>(row: &Row<'_>, col: Col) -> Result<Option<[u8; N]>, StoreError> {
    let v: Option<Vec<u8>> = row.get(col.index).map_err(|_| col.corrupt())?;
    v.map(|v| <[u8; N]>::try_from(v.as_slice()).map_err(|_| col.corrupt())).transpose()
}

pub(crate) fn get_opt_blob(row: &Row<'_>, col: Col) -> Result<Option<Vec<u8>>, StoreError> {
    row.get(col.index).map_err(|_| col.corrupt())
}

pub(crate) fn get_text(row: &Row<'_>, col: Col) -> Result<String, StoreError> {
    row.get(col.index).map_err(|_| col.corrupt())
}

pub(crate) fn get_key(row: &Row<'_>, col: Col) -> Result<PublicKey, StoreError> {
    PublicKey::from_bytes(get_array::<33>(row, col)?).ok_or(col.corrupt())
}

pub(crate) fn get_opt_key(row: &Row<'_>, col: Col) -> Result<Option<PublicKey>, StoreError> {
    get_opt_array::<33>(row, col)?.map(|b| PublicKey::from_bytes(b).ok_or(col.corrupt())).transpose()
}

/// A key column where the empty blob means "not known" (a NOT NULL key column).
pub(crate) fn get_key_or_empty(row: &Row<'_>, col: Col) -> Result<Option<PublicKey>, StoreError> {
    let bytes: Vec<u8> = row.get(col.index).map_err(|_| col.corrupt())?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let array = <[u8; 33]>::try_from(bytes.as_slice()).map_err(|_| col.corrupt())?;
    PublicKey::from_bytes(array).map(Some).ok_or(col.corrupt())
}

/// Decodes a text enum column through `parse`.
pub(crate) fn get_enum<T>(row: &Row<'_>, col: Col, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(&get_text(row, col)?).ok_or(col.corrupt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_round_trips_through_i64_bit_for_bit() {
        for v in [0, 1, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            assert_eq!(u64_from_sql(u64_to_sql(v)), v);
        }
    }
}
