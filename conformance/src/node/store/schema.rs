//! Opening the database: the durability pragmas, recognising our own file,
//! and the schema migrations.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::error::StoreError;

/// `PRAGMA application_id` of a sidepool store ("SPL1"): tells our file from
/// any other SQLite file.
pub const APPLICATION_ID: i32 = 0x5350_4C31;

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: i64 = 2;

/// Version 1. Keys are (pool_id, hash), the pair every peerswap message
/// carries. Lengths are checked by the database as well as by the decoder.
pub(crate) const MIGRATION_1: &str = r#"
CREATE TABLE schema_version (
    version INTEGER NOT NULL
);

-- SIDEPOOL-10 "Forwarding Initiating And Rejecting Peerswap": the nine items.
CREATE TABLE forward_record (
    pool_id BLOB NOT NULL CHECK (length(pool_id) = 16),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    upstream_offerrer BLOB NOT NULL CHECK (length(upstream_offerrer) = 33),
    downstream_acceptor BLOB NOT NULL CHECK (length(downstream_acceptor) = 33),
    offerrer_ephemeral_pubkey BLOB NOT NULL CHECK (length(offerrer_ephemeral_pubkey) = 33),
    offerrer_persistent_pubkey BLOB NOT NULL CHECK (length(offerrer_persistent_pubkey) = 33),
    sidepool_timelock INTEGER NOT NULL,
    lightning_timelock_from_upstream INTEGER NOT NULL,
    lightning_timelock_to_downstream INTEGER NOT NULL,
    amount_sat INTEGER NOT NULL,
    PRIMARY KEY (pool_id, hash)
) WITHOUT ROWID;

-- SIDEPOOL-10 "Forwarding Peerswaps": in-Lightning HTLCs from the direct acceptor.
CREATE TABLE forward_downstream_htlc (
    pool_id BLOB NOT NULL,
    hash BLOB NOT NULL,
    htlc_ref INTEGER NOT NULL,
    amount_msat INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'fulfilled', 'failed')),
    PRIMARY KEY (pool_id, hash, htlc_ref),
    FOREIGN KEY (pool_id, hash) REFERENCES forward_record (pool_id, hash) ON DELETE RESTRICT
) WITHOUT ROWID;

-- ... and to the direct offerrer, recorded before update_add_htlc is sent.
CREATE TABLE forward_upstream_htlc (
    pool_id BLOB NOT NULL,
    hash BLOB NOT NULL,
    htlc_ref INTEGER NOT NULL,
    amount_msat INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('offering', 'committed', 'fulfilled', 'failed', 'fail_removal_committed')),
    PRIMARY KEY (pool_id, hash, htlc_ref),
    FOREIGN KEY (pool_id, hash) REFERENCES forward_record (pool_id, hash) ON DELETE RESTRICT
) WITHOUT ROWID;

-- SIDEPOOL-10: one peerswap_init per peer until the swap party that sent it ends
-- (ERRATA E-93): the peer is the key, across all sidepools.
CREATE TABLE sent_init (
    to_peer BLOB NOT NULL PRIMARY KEY CHECK (length(to_peer) = 33),
    pool_id BLOB NOT NULL CHECK (length(pool_id) = 16),
    update_counter INTEGER NOT NULL,
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    amount_sat INTEGER NOT NULL,
    htlc_maximum_from_peer_msat INTEGER NOT NULL,
    upstream BLOB CHECK (upstream IS NULL OR length(upstream) = 33),
    sidepool_timelock INTEGER NOT NULL,
    lightning_timelock INTEGER NOT NULL,
    offerrer_ephemeral_pubkey BLOB NOT NULL CHECK (length(offerrer_ephemeral_pubkey) = 33),
    offerrer_persistent_pubkey BLOB NOT NULL CHECK (length(offerrer_persistent_pubkey) = 33)
) WITHOUT ROWID;

-- SIDEPOOL-06 "HTLC Taproot Public Key": the details that MUST be stored.
CREATE TABLE htlc_details (
    pool_id BLOB NOT NULL CHECK (length(pool_id) = 16),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    role TEXT NOT NULL CHECK (role IN ('offerrer', 'acceptor')),
    offerrer_ephemeral_pubkey BLOB NOT NULL CHECK (length(offerrer_ephemeral_pubkey) = 33),
    offerrer_persistent_pubkey BLOB NOT NULL CHECK (length(offerrer_persistent_pubkey) = 33),
    acceptor_ephemeral_pubkey BLOB NOT NULL CHECK (length(acceptor_ephemeral_pubkey) = 33),
    acceptor_persistent_pubkey BLOB NOT NULL CHECK (length(acceptor_persistent_pubkey) = 33),
    timeout INTEGER NOT NULL,
    internal_pubkey BLOB CHECK (internal_pubkey IS NULL OR length(internal_pubkey) = 33),
    own_persistent_key_index INTEGER NOT NULL,
    PRIMARY KEY (pool_id, hash, role)
) WITHOUT ROWID;

-- SIDEPOOL-10 "Forwarding `peerswap_lightning`".
CREATE TABLE lightning_params (
    pool_id BLOB NOT NULL CHECK (length(pool_id) = 16),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    payment_secret BLOB CHECK (payment_secret IS NULL OR length(payment_secret) = 32),
    payment_metadata BLOB,
    PRIMARY KEY (pool_id, hash)
) WITHOUT ROWID;
"#;

/// Version 2 (ERRATA E-95): HTLC details per hop. Two peerswaps may share the
/// pool id and hash (SIDEPOOL-10 "from two different offerrers"); keyed by
/// (pool_id, hash, role) the second overwrote the first. `peer` is the direct
/// peer of the hop; a row written by version 1 has the empty blob (unknown).
const MIGRATION_2: &str = r#"
CREATE TABLE htlc_details_v2 (
    pool_id BLOB NOT NULL CHECK (length(pool_id) = 16),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    role TEXT NOT NULL CHECK (role IN ('offerrer', 'acceptor')),
    peer BLOB NOT NULL CHECK (length(peer) IN (0, 33)),
    offerrer_ephemeral_pubkey BLOB NOT NULL CHECK (length(offerrer_ephemeral_pubkey) = 33),
    offerrer_persistent_pubkey BLOB NOT NULL CHECK (length(offerrer_persistent_pubkey) = 33),
    acceptor_ephemeral_pubkey BLOB NOT NULL CHECK (length(acceptor_ephemeral_pubkey) = 33),
    acceptor_persistent_pubkey BLOB NOT NULL CHECK (length(acceptor_persistent_pubkey) = 33),
    timeout INTEGER NOT NULL,
    internal_pubkey BLOB CHECK (internal_pubkey IS NULL OR length(internal_pubkey) = 33),
    own_persistent_key_index INTEGER NOT NULL,
    PRIMARY KEY (pool_id, hash, role, peer)
) WITHOUT ROWID;
INSERT INTO htlc_details_v2 SELECT pool_id, hash, role, X'', offerrer_ephemeral_pubkey,
    offerrer_persistent_pubkey, acceptor_ephemeral_pubkey, acceptor_persistent_pubkey, timeout,
    internal_pubkey, own_persistent_key_index FROM htlc_details;
DROP TABLE htlc_details;
ALTER TABLE htlc_details_v2 RENAME TO htlc_details;
"#;

/// Migrations by the version they produce; index 0 makes version 1.
const MIGRATIONS: &[&str] = &[MIGRATION_1, MIGRATION_2];

/// Opens (creating if absent) and prepares the database at `path`.
pub(crate) fn open(path: &std::path::Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    // The first read of the header: a non-SQLite file fails here with NotADatabase.
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    check_integrity(&conn)?;
    let user_tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", [], |r| r.get(0))?;
    let ours = application_id == APPLICATION_ID || (application_id == 0 && user_tables == 0);
    if !ours {
        return Err(StoreError::ForeignDatabase { application_id });
    }
    set_pragmas(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn check_integrity(conn: &Connection) -> Result<(), StoreError> {
    let verdict: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt { detail: verdict })
    }
}

/// WAL with `synchronous = FULL`: a commit returns only after the WAL is
/// fsynced, so a message sent after the commit never outruns its fact.
fn set_pragmas(conn: &Connection) -> Result<(), StoreError> {
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::PragmaNotApplied { pragma: "journal_mode", wanted: "wal", got: mode });
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    if sync != 2 {
        return Err(StoreError::PragmaNotApplied { pragma: "synchronous", wanted: "FULL (2)", got: sync.to_string() });
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    if fk != 1 {
        return Err(StoreError::PragmaNotApplied { pragma: "foreign_keys", wanted: "ON (1)", got: fk.to_string() });
    }
    Ok(())
}

/// The stored schema version; 0 for a fresh file.
pub(crate) fn version(conn: &Connection) -> Result<i64, StoreError> {
    let has_table: bool = conn
        .query_row("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'", [], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if !has_table {
        return Ok(0);
    }
    let v: Option<i64> = conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
    v.ok_or(StoreError::CorruptRow { table: "schema_version", column: "version" })
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > supported || found < 0 {
        return Err(StoreError::UnsupportedSchemaVersion { found, supported });
    }
    for (produces, sql) in (1i64..).zip(MIGRATIONS.iter()).skip(usize::try_from(found).unwrap_or(usize::MAX)) {
        tx.execute_batch(sql)?;
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [produces])?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}
