//! The reference node's persistent store (SQLite, WAL, `synchronous = FULL`).
//!
//! One transaction per fact: each `put_*` / `record_*` call commits before it
//! returns, so the caller sends the message that depends on the fact only
//! after the fact is durable. What is stored and why is in conformance/STORE.md.
//!
//! Every parameter is a public type ([`PublicKey`], ids, heights, amounts,
//! HTLC handles): no function takes a private key or raw key bytes, so an
//! ephemeral private key cannot be written.
//! SIDEPOOL-06: "However, offerrer and acceptor MUST NOT store their ephemeral private keys in persistent storage, and SHOULD store them in non-swappable memory."

mod columns;
mod error;
mod facts;
mod load;
pub mod restart;
mod schema;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use sidepool_reference::peerswap::forward::{ForwardAction, ForwardRecord};
use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::units::{Msat, PoolId};

use columns::u64_to_sql;
pub use error::StoreError;
pub use facts::{
    DownstreamHtlcState, ForwardedLightning, HtlcDetails, HtlcRole, KeyIndex, NodeId, PeerswapRef,
    ReceivedLightningParams, SentInitRecord, StoredForward, StoredHtlc, StoredState, UpstreamHtlcState,
};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// An open store. Dropping it closes the database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store at `path`, creating it if absent, and migrates it to
    /// [`SCHEMA_VERSION`]. A non-SQLite, damaged, foreign or newer file is an error.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store { conn: schema::open(path)?, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal mode in effect (`"wal"`).
    pub fn journal_mode(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
    }

    /// `PRAGMA synchronous` in effect (2 = FULL).
    pub fn synchronous(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::version(&self.conn)
    }

    /// Removes every fact, keeping the schema: the adapter's `reset` ("Wipe all
    /// state ... forwarding records"), so a restart in a later case restores nothing
    /// from an earlier one.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        self.write(|tx| {
            // Children before parents, for the foreign keys.
            for table in
                ["forward_downstream_htlc", "forward_upstream_htlc", "lightning_params", "htlc_details", "sent_init", "forward_record"]
            {
                tx.execute(&format!("DELETE FROM {table}"), [])?;
            }
            Ok(())
        })
    }

    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- Fact 1: the forwarding record ----------------------------------

    /// Stores the record before `peerswap_init` goes to `record.downstream`;
    /// for the same sidepool ID and hash it replaces the earlier record (a
    /// retry to another next hop).
    ///
    /// SIDEPOOL-10: "If the node decides to forward the peerswap, it MUST store this fact in persistent storage before forwarding `peerswap_init`."
    /// SIDEPOOL-10: "MAY try to forward to a different node, updating the persistent store as necessary."
    pub fn put_forward_record(&mut self, record: &ForwardRecord<NodeId>) -> Result<(), StoreError> {
        let swap = PeerswapRef { id: record.id, hash: record.hash };
        self.write(|tx| {
            // Once the acceptor has paid in Lightning, the forward cannot move to another node.
            if has_lightning_htlcs(tx, swap)? {
                return Err(StoreError::ForwardHasLightningHtlcs);
            }
            tx.execute(
                "INSERT INTO forward_record (pool_id, hash, upstream_offerrer, downstream_acceptor, \
                 offerrer_ephemeral_pubkey, offerrer_persistent_pubkey, sidepool_timelock, \
                 lightning_timelock_from_upstream, lightning_timelock_to_downstream, amount_sat) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (pool_id, hash) DO UPDATE SET upstream_offerrer = excluded.upstream_offerrer, \
                 downstream_acceptor = excluded.downstream_acceptor, \
                 offerrer_ephemeral_pubkey = excluded.offerrer_ephemeral_pubkey, \
                 offerrer_persistent_pubkey = excluded.offerrer_persistent_pubkey, \
                 sidepool_timelock = excluded.sidepool_timelock, \
                 lightning_timelock_from_upstream = excluded.lightning_timelock_from_upstream, \
                 lightning_timelock_to_downstream = excluded.lightning_timelock_to_downstream, \
                 amount_sat = excluded.amount_sat",
                params![
                    record.id.0.as_slice(),
                    record.hash.0.as_slice(),
                    record.upstream.as_bytes().as_slice(),
                    record.downstream.as_bytes().as_slice(),
                    record.offerrer_pubkeys.ephemeral.as_bytes().as_slice(),
                    record.offerrer_pubkeys.persistent.as_bytes().as_slice(),
                    record.sidepool_timelock.0,
                    record.lightning_timelock_from_upstream.0,
                    record.lightning_timelock_to_downstream.0,
                    u64_to_sql(record.amount.0),
                ],
            )?;
            Ok(())
        })
    }

    /// Carries out the store steps of the reference forwarder's action list
    /// (`forward::forward`, `forward::after_next_hop_reject`), in order:
    /// returns `Ok(true)` for a store step, done and committed, and `Ok(false)`
    /// for a step that is not the store's (send, accept), which the caller
    /// performs only after every earlier step returned.
    pub fn apply_forward_action(&mut self, action: &ForwardAction<NodeId>) -> Result<bool, StoreError> {
        match action {
            ForwardAction::PersistRecord(record) => self.put_forward_record(record).map(|()| true),
            ForwardAction::DeleteRecord { id, hash } => {
                self.delete_forward_record_before_accepting(PeerswapRef { id: *id, hash: *hash }).map(|()| true)
            }
            ForwardAction::SendInit { .. } | ForwardAction::AcceptHere | ForwardAction::SendReject { .. } => Ok(false),
        }
    }

    /// Deletes the record when the next hop rejected and this node accepts
    /// (or rejects) the peerswap itself. Call before sending `peerswap_accept`.
    ///
    /// SIDEPOOL-10: "The forwarder MUST delete the fact that it wanted to forward the peerswap from persistent storage before accepting it at this node."
    pub fn delete_forward_record_before_accepting(&mut self, swap: PeerswapRef) -> Result<(), StoreError> {
        self.write(|tx| {
            if has_lightning_htlcs(tx, swap)? {
                return Err(StoreError::ForwardHasLightningHtlcs);
            }
            let n = tx.execute(
                "DELETE FROM forward_record WHERE pool_id = ?1 AND hash = ?2",
                params![swap.id.0.as_slice(), swap.hash.0.as_slice()],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownForward);
            }
            Ok(())
        })
    }

    /// Forgets a forward completely (record, HTLCs, `peerswap_lightning`
    /// parameters) once every HTLC from the direct acceptor is resolved.
    pub fn forget_forward(&mut self, swap: PeerswapRef) -> Result<(), StoreError> {
        self.write(|tx| {
            let key = params![swap.id.0.as_slice(), swap.hash.0.as_slice()];
            tx.execute("DELETE FROM forward_upstream_htlc WHERE pool_id = ?1 AND hash = ?2", key)?;
            tx.execute("DELETE FROM forward_downstream_htlc WHERE pool_id = ?1 AND hash = ?2", key)?;
            tx.execute("DELETE FROM lightning_params WHERE pool_id = ?1 AND hash = ?2", key)?;
            let n = tx.execute("DELETE FROM forward_record WHERE pool_id = ?1 AND hash = ?2", key)?;
            if n == 0 {
                return Err(StoreError::UnknownForward);
            }
            Ok(())
        })
    }

    // ---- Fact 2: the in-Lightning HTLCs of a forward --------------------

    /// Records in-Lightning HTLCs the direct acceptor has given (irrevocably
    /// committed to us), all in one transaction. Call before offering anything
    /// to the direct offerrer.
    ///
    /// SIDEPOOL-10: "In particular, once the direct peerswap acceptor has given an HTLC in the Lightning Network channel, the forwarder MUST store this fact in persistent storage before it forwards the HTLC on the Lightning Network channel to the direct peerswap offerrer."
    pub fn record_downstream_htlcs(&mut self, swap: PeerswapRef, htlcs: &[(HtlcRef, Msat)]) -> Result<(), StoreError> {
        self.write(|tx| {
            require_forward(tx, swap)?;
            for (i, (htlc, amount)) in htlcs.iter().enumerate() {
                #[cfg(test)]
                if i == htlcs.len() / 2 && i > 0 {
                    crash_tests::pause_if_asked_mid_write();
                }
                #[cfg(not(test))]
                let _ = i;
                let n = tx.execute(
                    "INSERT INTO forward_downstream_htlc (pool_id, hash, htlc_ref, amount_msat, state) \
                     VALUES (?1, ?2, ?3, ?4, 'held') ON CONFLICT DO NOTHING",
                    params![swap.id.0.as_slice(), swap.hash.0.as_slice(), u64_to_sql(htlc.0), u64_to_sql(amount.0)],
                )?;
                if n == 0 {
                    return Err(StoreError::DuplicateHtlc);
                }
            }
            Ok(())
        })
    }

    /// Records an HTLC to the direct offerrer BEFORE its `update_add_htlc` is
    /// sent (state [`UpstreamHtlcState::Offering`]), so that after a restart
    /// the node knows every HTLC it may have offered. Refused until at least
    /// one HTLC from the direct acceptor is recorded.
    pub fn record_upstream_htlc(&mut self, swap: PeerswapRef, htlc: HtlcRef, amount: Msat) -> Result<(), StoreError> {
        self.write(|tx| {
            require_forward(tx, swap)?;
            let downstream: i64 = tx.query_row(
                "SELECT count(*) FROM forward_downstream_htlc WHERE pool_id = ?1 AND hash = ?2",
                params![swap.id.0.as_slice(), swap.hash.0.as_slice()],
                |r| r.get(0),
            )?;
            if downstream == 0 {
                return Err(StoreError::NoDownstreamHtlc);
            }
            let n = tx.execute(
                "INSERT INTO forward_upstream_htlc (pool_id, hash, htlc_ref, amount_msat, state) \
                 VALUES (?1, ?2, ?3, ?4, 'offering') ON CONFLICT DO NOTHING",
                params![swap.id.0.as_slice(), swap.hash.0.as_slice(), u64_to_sql(htlc.0), u64_to_sql(amount.0)],
            )?;
            if n == 0 {
                return Err(StoreError::DuplicateHtlc);
            }
            Ok(())
        })
    }

    pub fn set_downstream_state(
        &mut self,
        swap: PeerswapRef,
        htlc: HtlcRef,
        state: DownstreamHtlcState,
    ) -> Result<(), StoreError> {
        let state = load::downstream_state_name(state);
        self.write(|tx| set_state(tx, "forward_downstream_htlc", swap, htlc, state))
    }

    pub fn set_upstream_state(&mut self, swap: PeerswapRef, htlc: HtlcRef, state: UpstreamHtlcState) -> Result<(), StoreError> {
        let state = load::upstream_state_name(state);
        self.write(|tx| set_state(tx, "forward_upstream_htlc", swap, htlc, state))
    }

    // ---- Fact 3: the `peerswap_init`s this node sent ----------------------

    /// Records a `peerswap_init` before it is sent. A second one to the same
    /// peer before [`Store::end_swap_party`] of the first one's sidepool is
    /// refused with [`StoreError::AlreadySentToPeer`].
    ///
    /// SIDEPOOL-10: "MUST NOT send this message more than once to a peer until the swap party of the sidepool has completed, or the sidepool has aborted."
    /// SIDEPOOL-10: "the node MUST NOT send this message to a peer more than once until the swap party that triggered the first send has completed or that specific sidepool has aborted."
    pub fn record_sent_init(&mut self, init: &SentInitRecord) -> Result<(), StoreError> {
        let s = &init.sent;
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO sent_init (to_peer, pool_id, update_counter, hash, amount_sat, \
                 htlc_maximum_from_peer_msat, upstream, sidepool_timelock, lightning_timelock, \
                 offerrer_ephemeral_pubkey, offerrer_persistent_pubkey) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
                params![
                    s.to.as_bytes().as_slice(),
                    s.id.0.as_slice(),
                    init.update_counter.get(),
                    s.hash.0.as_slice(),
                    u64_to_sql(s.amount.0),
                    u64_to_sql(s.htlc_maximum_from_peer.0),
                    s.upstream.map(|u| u.as_bytes().to_vec()),
                    init.timeouts.sidepool.0,
                    init.timeouts.lightning.0,
                    init.pubkeys.ephemeral.as_bytes().as_slice(),
                    init.pubkeys.persistent.as_bytes().as_slice(),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::AlreadySentToPeer);
            }
            Ok(())
        })
    }

    /// The swap party of sidepool `id` completed, or the sidepool aborted:
    /// its `peerswap_init`s no longer block sending to those peers. Returns
    /// how many were forgotten.
    pub fn end_swap_party(&mut self, id: PoolId) -> Result<usize, StoreError> {
        self.write(|tx| Ok(tx.execute("DELETE FROM sent_init WHERE pool_id = ?1", [id.0.as_slice()])?))
    }

    // ---- Fact 4: SIDEPOOL-06 HTLC details --------------------------------

    /// Stores (or replaces) the in-sidepool HTLC details.
    ///
    /// SIDEPOOL-06: "MUST NOT create the HTLC output in the sidepool (via `swap_party_expand_request`) until after it has saved the internal public key and other HTLC details into persistent storage."
    /// SIDEPOOL-06: "MUST NOT send the preimage, or (if this is a swap or an HTLC is forwarded) offer to pay to learn te preimage, until after it has saved the internal public key and other HTLC details into persistent storage."
    pub fn put_htlc_details(&mut self, d: &HtlcDetails) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO htlc_details (pool_id, hash, role, peer, offerrer_ephemeral_pubkey, \
                 offerrer_persistent_pubkey, acceptor_ephemeral_pubkey, acceptor_persistent_pubkey, \
                 timeout, internal_pubkey, own_persistent_key_index) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    d.swap.id.0.as_slice(),
                    d.swap.hash.0.as_slice(),
                    load::role_name(d.role),
                    load::peer_column(d.peer),
                    d.offerrer.ephemeral.as_bytes().as_slice(),
                    d.offerrer.persistent.as_bytes().as_slice(),
                    d.acceptor.ephemeral.as_bytes().as_slice(),
                    d.acceptor.persistent.as_bytes().as_slice(),
                    d.timeout.0,
                    d.internal_key.map(|k| k.as_bytes().to_vec()),
                    d.own_persistent_key.0,
                ],
            )?;
            Ok(())
        })
    }

    /// SIDEPOOL-06: "The participants MAY delete the information if one of the conditions below are true:"
    /// Returns whether there was anything to delete.
    pub fn delete_htlc_details(&mut self, swap: PeerswapRef, peer: Option<NodeId>, role: HtlcRole) -> Result<bool, StoreError> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM htlc_details WHERE pool_id = ?1 AND hash = ?2 AND role = ?3 AND peer = ?4",
                params![swap.id.0.as_slice(), swap.hash.0.as_slice(), load::role_name(role), load::peer_column(peer)],
            )? > 0)
        })
    }

    // ---- Fact 5: `peerswap_lightning` parameters received by a forwarder --

    /// SIDEPOOL-10: "On receiving `peerswap_lightning`, a forwarder MUST persistently record `peerswap_lightning_payment_secret` and `peerswap_lightning_payment_metadata`, if any."
    pub fn put_lightning_params(&mut self, p: &ReceivedLightningParams) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO lightning_params (pool_id, hash, payment_secret, payment_metadata) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    p.swap.id.0.as_slice(),
                    p.swap.hash.0.as_slice(),
                    p.payment_secret.map(|s| s.0.to_vec()),
                    p.payment_metadata.as_deref(),
                ],
            )?;
            Ok(())
        })
    }

    // ---- Reload -------------------------------------------------------------

    /// Everything needed to rebuild the node's state after a restart, in a
    /// deterministic order (by key).
    pub fn load_all(&self) -> Result<StoredState, StoreError> {
        load::load_all(&self.conn)
    }
}

fn has_lightning_htlcs(tx: &Transaction<'_>, swap: PeerswapRef) -> Result<bool, StoreError> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM forward_downstream_htlc WHERE pool_id = ?1 AND hash = ?2 \
             UNION ALL SELECT 1 FROM forward_upstream_htlc WHERE pool_id = ?1 AND hash = ?2 LIMIT 1",
            params![swap.id.0.as_slice(), swap.hash.0.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

fn require_forward(tx: &Transaction<'_>, swap: PeerswapRef) -> Result<(), StoreError> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM forward_record WHERE pool_id = ?1 AND hash = ?2",
            params![swap.id.0.as_slice(), swap.hash.0.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or(StoreError::UnknownForward)
}

fn set_state(
    tx: &Transaction<'_>,
    table: &'static str,
    swap: PeerswapRef,
    htlc: HtlcRef,
    state: &'static str,
) -> Result<(), StoreError> {
    // `table` is one of two constants above, never caller input.
    let n = tx.execute(
        &format!("UPDATE {table} SET state = ?4 WHERE pool_id = ?1 AND hash = ?2 AND htlc_ref = ?3"),
        params![swap.id.0.as_slice(), swap.hash.0.as_slice(), u64_to_sql(htlc.0), state],
    )?;
    if n == 0 {
        return Err(StoreError::UnknownHtlc);
    }
    Ok(())
}
