//! Reading every fact back, and the text names of the enum columns.

use std::collections::BTreeMap;

use rusqlite::{Connection, Row};
use sidepool_reference::peerswap::forward::ForwardRecord;
use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::peerswap::messages::{HtlcPubkeys, Timeouts};
use sidepool_reference::peerswap::response::SentInit;
use sidepool_reference::units::{BlockHeight, Msat, PaymentHash, PaymentSecret, PoolId, Sat, UpdateCounter};

use super::columns::{
    get_array, get_enum, get_key, get_key_or_empty, get_opt_array, get_opt_blob, get_opt_key, get_u32, get_u64, Col,
};
use super::error::StoreError;
use super::facts::{
    swap_of, DownstreamHtlcState, NodeId, ForwardedLightning, HtlcDetails, HtlcRole, KeyIndex, ReceivedLightningParams,
    SentInitRecord, StoredForward, StoredHtlc, StoredState, UpstreamHtlcState,
};

pub(crate) fn downstream_state_name(s: DownstreamHtlcState) -> &'static str {
    match s {
        DownstreamHtlcState::Held => "held",
        DownstreamHtlcState::Fulfilled => "fulfilled",
        DownstreamHtlcState::Failed => "failed",
    }
}

fn downstream_state(s: &str) -> Option<DownstreamHtlcState> {
    [DownstreamHtlcState::Held, DownstreamHtlcState::Fulfilled, DownstreamHtlcState::Failed]
        .into_iter()
        .find(|v| downstream_state_name(*v) == s)
}

pub(crate) fn upstream_state_name(s: UpstreamHtlcState) -> &'static str {
    match s {
        UpstreamHtlcState::Offering => "offering",
        UpstreamHtlcState::Committed => "committed",
        UpstreamHtlcState::Fulfilled => "fulfilled",
        UpstreamHtlcState::Failed => "failed",
        UpstreamHtlcState::FailRemovalCommitted => "fail_removal_committed",
    }
}

fn upstream_state(s: &str) -> Option<UpstreamHtlcState> {
    [
        UpstreamHtlcState::Offering,
        UpstreamHtlcState::Committed,
        UpstreamHtlcState::Fulfilled,
        UpstreamHtlcState::Failed,
        UpstreamHtlcState::FailRemovalCommitted,
    ]
    .into_iter()
    .find(|v| upstream_state_name(*v) == s)
}

pub(crate) fn role_name(r: HtlcRole) -> &'static str {
    match r {
        HtlcRole::Offerrer => "offerrer",
        HtlcRole::Acceptor => "acceptor",
    }
}

fn role(s: &str) -> Option<HtlcRole> {
    [HtlcRole::Offerrer, HtlcRole::Acceptor].into_iter().find(|v| role_name(*v) == s)
}

/// Runs `sql` and decodes every row with `decode`.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    mut decode: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// A column of `table` at `index`.
fn col(table: &'static str, column: &'static str, index: usize) -> Col {
    Col { table, column, index }
}

pub(crate) fn load_all(conn: &Connection) -> Result<StoredState, StoreError> {
    Ok(StoredState {
        forwards: load_forwards(conn)?,
        sent_inits: load_sent_inits(conn)?,
        htlc_details: load_htlc_details(conn)?,
        lightning_params: load_lightning_params(conn)?,
    })
}

type Key = (PoolId, PaymentHash);

fn key(row: &Row<'_>, table: &'static str) -> Result<Key, StoreError> {
    Ok((PoolId(get_array(row, col(table, "pool_id", 0))?), PaymentHash(get_array(row, col(table, "hash", 1))?)))
}

fn load_htlcs<S>(
    conn: &Connection,
    table: &'static str,
    parse: fn(&str) -> Option<S>,
) -> Result<BTreeMap<Key, Vec<StoredHtlc<S>>>, StoreError> {
    // `table` is one of two constants, never caller input.
    let sql = format!("SELECT pool_id, hash, htlc_ref, amount_msat, state FROM {table} ORDER BY pool_id, hash, htlc_ref");
    let all = rows(conn, &sql, |r| {
        let k = key(r, table)?;
        let htlc = StoredHtlc {
            htlc: HtlcRef(get_u64(r, col(table, "htlc_ref", 2))?),
            amount: Msat(get_u64(r, col(table, "amount_msat", 3))?),
            state: get_enum(r, col(table, "state", 4), parse)?,
        };
        Ok((k, htlc))
    })?;
    let mut by_key: BTreeMap<Key, Vec<StoredHtlc<S>>> = BTreeMap::new();
    for (k, h) in all {
        by_key.entry(k).or_default().push(h);
    }
    // SQLite orders the handles by their signed image; callers get them by handle.
    for list in by_key.values_mut() {
        list.sort_by_key(|h| h.htlc);
    }
    Ok(by_key)
}

fn load_forwards(conn: &Connection) -> Result<Vec<StoredForward>, StoreError> {
    const T: &str = "forward_record";
    let mut downstream = load_htlcs(conn, "forward_downstream_htlc", downstream_state)?;
    let mut upstream = load_htlcs(conn, "forward_upstream_htlc", upstream_state)?;
    rows(
        conn,
        "SELECT pool_id, hash, upstream_offerrer, downstream_acceptor, offerrer_ephemeral_pubkey, \
         offerrer_persistent_pubkey, sidepool_timelock, lightning_timelock_from_upstream, \
         lightning_timelock_to_downstream, amount_sat FROM forward_record ORDER BY pool_id, hash",
        |r| {
            let (id, hash) = key(r, T)?;
            let record = ForwardRecord {
                id,
                hash,
                upstream: get_key(r, col(T, "upstream_offerrer", 2))?,
                downstream: get_key(r, col(T, "downstream_acceptor", 3))?,
                offerrer_pubkeys: HtlcPubkeys {
                    ephemeral: get_key(r, col(T, "offerrer_ephemeral_pubkey", 4))?,
                    persistent: get_key(r, col(T, "offerrer_persistent_pubkey", 5))?,
                },
                sidepool_timelock: BlockHeight(get_u32(r, col(T, "sidepool_timelock", 6))?),
                lightning_timelock_from_upstream: BlockHeight(get_u32(r, col(T, "lightning_timelock_from_upstream", 7))?),
                lightning_timelock_to_downstream: BlockHeight(get_u32(r, col(T, "lightning_timelock_to_downstream", 8))?),
                amount: Sat(get_u64(r, col(T, "amount_sat", 9))?),
            };
            let lightning = ForwardedLightning {
                downstream: downstream.remove(&(id, hash)).unwrap_or_default(),
                upstream: upstream.remove(&(id, hash)).unwrap_or_default(),
            };
            Ok(StoredForward { record, lightning })
        },
    )
}

fn load_sent_inits(conn: &Connection) -> Result<Vec<SentInitRecord>, StoreError> {
    const T: &str = "sent_init";
    let mut all = rows(
        conn,
        "SELECT to_peer, pool_id, update_counter, hash, amount_sat, htlc_maximum_from_peer_msat, upstream, \
         sidepool_timelock, lightning_timelock, offerrer_ephemeral_pubkey, offerrer_persistent_pubkey \
         FROM sent_init ORDER BY pool_id, to_peer",
        |r| {
            let counter = get_u32(r, col(T, "update_counter", 2))?;
            let update_counter = u16::try_from(counter)
                .ok()
                .and_then(UpdateCounter::new)
                .ok_or(StoreError::CorruptRow { table: T, column: "update_counter" })?;
            Ok(SentInitRecord {
                sent: SentInit {
                    to: get_key(r, col(T, "to_peer", 0))?,
                    id: PoolId(get_array(r, col(T, "pool_id", 1))?),
                    hash: PaymentHash(get_array(r, col(T, "hash", 3))?),
                    amount: Sat(get_u64(r, col(T, "amount_sat", 4))?),
                    htlc_maximum_from_peer: Msat(get_u64(r, col(T, "htlc_maximum_from_peer_msat", 5))?),
                    upstream: get_opt_key(r, col(T, "upstream", 6))?,
                },
                update_counter,
                timeouts: Timeouts {
                    sidepool: BlockHeight(get_u32(r, col(T, "sidepool_timelock", 7))?),
                    lightning: BlockHeight(get_u32(r, col(T, "lightning_timelock", 8))?),
                },
                pubkeys: HtlcPubkeys {
                    ephemeral: get_key(r, col(T, "offerrer_ephemeral_pubkey", 9))?,
                    persistent: get_key(r, col(T, "offerrer_persistent_pubkey", 10))?,
                },
            })
        },
    )?;
    all.sort_by_key(|s| (s.sent.id, s.sent.to));
    Ok(all)
}

/// The `peer` column of `htlc_details`: the node id, or the empty blob for a
/// row schema 1 wrote (its peer unknown).
pub(crate) fn peer_column(peer: Option<NodeId>) -> Vec<u8> {
    peer.map(|p| p.as_bytes().to_vec()).unwrap_or_default()
}

fn load_htlc_details(conn: &Connection) -> Result<Vec<HtlcDetails>, StoreError> {
    const T: &str = "htlc_details";
    let mut all = rows(
        conn,
        "SELECT pool_id, hash, role, peer, offerrer_ephemeral_pubkey, offerrer_persistent_pubkey, \
         acceptor_ephemeral_pubkey, acceptor_persistent_pubkey, timeout, internal_pubkey, \
         own_persistent_key_index FROM htlc_details ORDER BY pool_id, hash, role, peer",
        |r| {
            let (id, hash) = key(r, T)?;
            Ok(HtlcDetails {
                swap: swap_of(id, hash),
                peer: get_key_or_empty(r, col(T, "peer", 3))?,
                role: get_enum(r, col(T, "role", 2), role)?,
                offerrer: HtlcPubkeys {
                    ephemeral: get_key(r, col(T, "offerrer_ephemeral_pubkey", 4))?,
                    persistent: get_key(r, col(T, "offerrer_persistent_pubkey", 5))?,
                },
                acceptor: HtlcPubkeys {
                    ephemeral: get_key(r, col(T, "acceptor_ephemeral_pubkey", 6))?,
                    persistent: get_key(r, col(T, "acceptor_persistent_pubkey", 7))?,
                },
                timeout: BlockHeight(get_u32(r, col(T, "timeout", 8))?),
                internal_key: get_opt_key(r, col(T, "internal_pubkey", 9))?,
                own_persistent_key: KeyIndex(get_u32(r, col(T, "own_persistent_key_index", 10))?),
            })
        },
    )?;
    all.sort_by_key(|d| (d.swap.id, d.swap.hash, d.role, d.peer));
    Ok(all)
}

fn load_lightning_params(conn: &Connection) -> Result<Vec<ReceivedLightningParams>, StoreError> {
    const T: &str = "lightning_params";
    rows(
        conn,
        "SELECT pool_id, hash, payment_secret, payment_metadata FROM lightning_params ORDER BY pool_id, hash",
        |r| {
            let (id, hash) = key(r, T)?;
            Ok(ReceivedLightningParams {
                swap: swap_of(id, hash),
                payment_secret: get_opt_array(r, col(T, "payment_secret", 2))?.map(PaymentSecret),
                payment_metadata: get_opt_blob(r, col(T, "payment_metadata", 3))?,
            })
        },
    )
}
