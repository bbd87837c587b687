//! Typed store errors with stable machine names; no store call panics.

use core::fmt;
use std::path::PathBuf;

use rusqlite::ErrorCode;

/// Why a store operation failed. `name()` is stable (logs, tests, vectors).
#[derive(Debug)]
pub enum StoreError {
    /// The file could not be opened or created (permissions, missing directory ...).
    Open { path: PathBuf, source: rusqlite::Error },
    /// The file is not an SQLite database at all.
    NotADatabase,
    /// The file is an SQLite database, but damaged (`quick_check` or SQLite said so).
    Corrupt { detail: String },
    /// An SQLite database of some other application (unknown `application_id`, or
    /// tables but no `application_id`).
    ForeignDatabase { application_id: i32 },
    /// Written by a newer version of this store.
    UnsupportedSchemaVersion { found: i64, supported: i64 },
    /// A pragma the durability argument depends on did not take effect.
    PragmaNotApplied { pragma: &'static str, wanted: &'static str, got: String },
    /// A stored value does not decode (wrong length, not a curve point, out of range).
    CorruptRow { table: &'static str, column: &'static str },
    /// SIDEPOOL-10: one `peerswap_init` per peer until the swap party that sent it ends.
    AlreadySentToPeer,
    /// No forwarding record for this sidepool ID and hash.
    UnknownForward,
    /// The forward has in-Lightning HTLCs recorded: it can no longer be retargeted
    /// or deleted as "not forwarded".
    ForwardHasLightningHtlcs,
    /// An upstream HTLC before any downstream HTLC was recorded (wrong order).
    NoDownstreamHtlc,
    /// The HTLC handle is already recorded for this forward.
    DuplicateHtlc,
    /// No such HTLC recorded for this forward.
    UnknownHtlc,
    /// Any other SQLite failure (disk full, I/O error, busy ...).
    Sqlite(rusqlite::Error),
}

impl StoreError {
    pub fn name(&self) -> &'static str {
        match self {
            StoreError::Open { .. } => "open_failed",
            StoreError::NotADatabase => "not_a_database",
            StoreError::Corrupt { .. } => "corrupt_database",
            StoreError::ForeignDatabase { .. } => "foreign_database",
            StoreError::UnsupportedSchemaVersion { .. } => "unsupported_schema_version",
            StoreError::PragmaNotApplied { .. } => "pragma_not_applied",
            StoreError::CorruptRow { .. } => "corrupt_row",
            StoreError::AlreadySentToPeer => "already_sent_to_peer",
            StoreError::UnknownForward => "unknown_forward",
            StoreError::ForwardHasLightningHtlcs => "forward_has_lightning_htlcs",
            StoreError::NoDownstreamHtlc => "no_downstream_htlc",
            StoreError::DuplicateHtlc => "duplicate_htlc",
            StoreError::UnknownHtlc => "unknown_htlc",
            StoreError::Sqlite(_) => "sqlite",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { path, source } => write!(f, "cannot open store {}: {source}", path.display()),
            StoreError::NotADatabase => f.write_str("the store file is not an SQLite database"),
            StoreError::Corrupt { detail } => write!(f, "the store database is corrupt: {detail}"),
            StoreError::ForeignDatabase { application_id } => {
                write!(f, "the file is another application's SQLite database (application_id {application_id:#x})")
            }
            StoreError::UnsupportedSchemaVersion { found, supported } => {
                write!(f, "store schema version {found} is newer than the supported {supported}")
            }
            StoreError::PragmaNotApplied { pragma, wanted, got } => {
                write!(f, "PRAGMA {pragma} = {wanted} did not take effect (got {got})")
            }
            StoreError::CorruptRow { table, column } => write!(f, "stored {table}.{column} does not decode"),
            StoreError::AlreadySentToPeer => {
                f.write_str("a peerswap_init was already sent to this peer in a swap party that has not ended")
            }
            StoreError::UnknownForward => f.write_str("no forwarding record for this sidepool ID and hash"),
            StoreError::ForwardHasLightningHtlcs => f.write_str("the forward already has in-Lightning HTLCs recorded"),
            StoreError::NoDownstreamHtlc => {
                f.write_str("no in-Lightning HTLC from the direct acceptor is recorded yet; nothing may be forwarded")
            }
            StoreError::DuplicateHtlc => f.write_str("this HTLC is already recorded for the forward"),
            StoreError::UnknownHtlc => f.write_str("no such HTLC recorded for the forward"),
            StoreError::Sqlite(e) => write!(f, "sqlite: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Open { source, .. } | StoreError::Sqlite(source) => Some(source),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase,
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt { detail: e.to_string() },
            _ => StoreError::Sqlite(e),
        }
    }
}
