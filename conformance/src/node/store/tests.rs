//! File-backed round trips, reopen, pragmas, refusals and damaged files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bitcoin::secp256k1::{Secp256k1, SecretKey};
use sidepool_reference::peerswap::forward::ForwardRecord;
use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::peerswap::messages::{HtlcPubkeys, Timeouts};
use sidepool_reference::peerswap::response::SentInit;
use sidepool_reference::units::{BlockHeight, Msat, PaymentHash, PaymentSecret, PoolId, PublicKey, Sat, UpdateCounter};

use super::*;

/// A database path under the temp dir, unique per process and test; removes
/// the database and its WAL / shared-memory files on drop.
pub(crate) struct TempDb(PathBuf);

impl TempDb {
    pub(crate) fn new(name: &str) -> TempDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let file = format!("sidepool-store-{}-{name}-{n}.sqlite", std::process::id());
        let db = TempDb(std::env::temp_dir().join(file));
        db.remove();
        db
    }
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
    pub(crate) fn companions(&self) -> [PathBuf; 3] {
        let p = self.0.display().to_string();
        [self.0.clone(), PathBuf::from(format!("{p}-wal")), PathBuf::from(format!("{p}-shm"))]
    }
    fn remove(&self) {
        for p in self.companions() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

pub(crate) fn secret(n: u8) -> SecretKey {
    SecretKey::from_slice(&[n; 32]).unwrap()
}

pub(crate) fn key(n: u8) -> PublicKey {
    PublicKey::from_secp(&secret(n).public_key(&Secp256k1::signing_only()))
}

pub(crate) fn swap(n: u8) -> PeerswapRef {
    PeerswapRef { id: PoolId([n; 16]), hash: PaymentHash([n.wrapping_add(100); 32]) }
}

pub(crate) fn record(n: u8) -> ForwardRecord<NodeId> {
    let s = swap(n);
    ForwardRecord {
        id: s.id,
        hash: s.hash,
        upstream: key(1),
        downstream: key(2),
        offerrer_pubkeys: HtlcPubkeys { ephemeral: key(3), persistent: key(4) },
        sidepool_timelock: BlockHeight(812_000),
        lightning_timelock_from_upstream: BlockHeight(809_000),
        lightning_timelock_to_downstream: BlockHeight(809_040),
        amount: Sat(250_000),
    }
}

fn sent_init(to: u8, pool: u8) -> SentInitRecord {
    SentInitRecord {
        sent: SentInit {
            to: key(to),
            id: PoolId([pool; 16]),
            hash: PaymentHash([9; 32]),
            amount: Sat(40_000),
            htlc_maximum_from_peer: Msat(u64::MAX),
            upstream: (to % 2 == 0).then(|| key(1)),
        },
        update_counter: UpdateCounter::new(2047).unwrap(),
        timeouts: Timeouts { sidepool: BlockHeight(u32::MAX), lightning: BlockHeight(0) },
        pubkeys: HtlcPubkeys { ephemeral: key(5), persistent: key(6) },
    }
}

fn details(role: HtlcRole, internal: Option<PublicKey>) -> HtlcDetails {
    HtlcDetails {
        swap: swap(7),
        peer: Some(key(16)),
        role,
        offerrer: HtlcPubkeys { ephemeral: key(11), persistent: key(12) },
        acceptor: HtlcPubkeys { ephemeral: key(13), persistent: key(14) },
        timeout: BlockHeight(812_000),
        internal_key: internal,
        own_persistent_key: KeyIndex(u32::MAX),
    }
}

#[test]
fn open_sets_wal_synchronous_full_and_schema_version() {
    let db = TempDb::new("pragmas");
    let store = Store::open(db.path()).unwrap();
    assert_eq!(store.journal_mode().unwrap(), "wal");
    assert_eq!(store.synchronous().unwrap(), 2, "synchronous = FULL");
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    // The settings that live in the file (WAL, version) are there for another connection too.
    let raw = rusqlite::Connection::open(db.path()).unwrap();
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let app: i32 = raw.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), app), ("wal", APPLICATION_ID));
    drop(raw);
    let store = Store::open(db.path()).unwrap();
    assert_eq!((store.synchronous().unwrap(), store.schema_version().unwrap()), (2, SCHEMA_VERSION));
}

#[test]
fn forward_record_round_trips_and_survives_reopen() {
    let db = TempDb::new("forward");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    store.put_forward_record(&record(2)).unwrap();
    drop(store);
    let loaded = Store::open(db.path()).unwrap().load_all().unwrap();
    let records: Vec<_> = loaded.forwards.iter().map(|f| f.record.clone()).collect();
    assert_eq!(records, vec![record(1), record(2)]);
    assert!(loaded.forwards.iter().all(|f| f.lightning == ForwardedLightning::default()));
}

#[test]
fn retrying_another_next_hop_replaces_the_record() {
    let db = TempDb::new("retry");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    let mut retry = record(1);
    retry.downstream = key(8);
    retry.lightning_timelock_to_downstream = BlockHeight(809_080);
    store.put_forward_record(&retry).unwrap();
    let forwards = store.load_all().unwrap().forwards;
    assert_eq!(forwards.len(), 1);
    assert_eq!(forwards[0].record, retry);
}

#[test]
fn forward_record_is_deleted_before_accepting_here() {
    let db = TempDb::new("delete");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    store.put_forward_record(&record(2)).unwrap();
    store.delete_forward_record_before_accepting(swap(1)).unwrap();
    drop(store);
    let mut store = Store::open(db.path()).unwrap();
    let left: Vec<_> = store.load_all().unwrap().forwards.into_iter().map(|f| f.record).collect();
    assert_eq!(left, vec![record(2)]);
    let again = store.delete_forward_record_before_accepting(swap(1)).unwrap_err();
    assert_eq!(again.name(), "unknown_forward");
}

#[test]
fn the_reference_forwarders_actions_reach_the_store_in_order() {
    use sidepool_reference::peerswap::forward::ForwardAction;
    use sidepool_reference::peerswap::messages::{ChannelView, PeerswapInit};
    use sidepool_reference::units::Hops;
    let db = TempDb::new("actions");
    let mut store = Store::open(db.path()).unwrap();
    let r = record(1);
    let init = PeerswapInit {
        id: r.id,
        pubkeys: r.offerrer_pubkeys,
        timeouts: Timeouts { sidepool: r.sidepool_timelock, lightning: r.lightning_timelock_to_downstream },
        hash: r.hash,
        hops: Hops(2),
        amount: r.amount,
        channel_view: ChannelView::default(),
        update_counter: UpdateCounter::new(1).unwrap(),
        unknown: vec![],
    };
    let forward = [ForwardAction::PersistRecord(r.clone()), ForwardAction::SendInit { to: r.downstream, init }];
    let done: Vec<bool> = forward.iter().map(|a| store.apply_forward_action(a).unwrap()).collect();
    assert_eq!(done, vec![true, false], "persisted, then the send is the caller's");
    assert_eq!(store.load_all().unwrap().forwards[0].record, r);
    let accept_here = [ForwardAction::DeleteRecord { id: r.id, hash: r.hash }, ForwardAction::AcceptHere];
    let done: Vec<bool> = accept_here.iter().map(|a| store.apply_forward_action(a).unwrap()).collect();
    assert_eq!(done, vec![true, false]);
    assert!(store.load_all().unwrap().forwards.is_empty(), "deleted before accepting");
}

#[test]
fn a_forward_with_lightning_htlcs_is_neither_retargeted_nor_deleted_as_unforwarded() {
    let db = TempDb::new("locked");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1_000))]).unwrap();
    let mut retry = record(1);
    retry.downstream = key(8);
    assert_eq!(store.put_forward_record(&retry).unwrap_err().name(), "forward_has_lightning_htlcs");
    assert_eq!(store.delete_forward_record_before_accepting(swap(1)).unwrap_err().name(), "forward_has_lightning_htlcs");
    let forwards = store.load_all().unwrap().forwards;
    assert_eq!(forwards[0].record, record(1), "the refused writes changed nothing");
}

#[test]
fn lightning_htlcs_and_their_states_round_trip() {
    let db = TempDb::new("htlcs");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(600)), (HtlcRef(u64::MAX), Msat(400))]).unwrap();
    store.record_upstream_htlc(swap(1), HtlcRef(10), Msat(1_000)).unwrap();
    store.set_upstream_state(swap(1), HtlcRef(10), UpstreamHtlcState::Committed).unwrap();
    store.set_upstream_state(swap(1), HtlcRef(10), UpstreamHtlcState::Fulfilled).unwrap();
    store.set_downstream_state(swap(1), HtlcRef(1), DownstreamHtlcState::Fulfilled).unwrap();
    drop(store);
    let store = Store::open(db.path()).unwrap();
    let forwards = store.load_all().unwrap().forwards;
    assert_eq!(forwards.len(), 1);
    let l = &forwards[0].lightning;
    assert!(l.acceptor_has_given_htlc());
    assert_eq!(
        l.downstream,
        vec![
            StoredHtlc { htlc: HtlcRef(1), amount: Msat(600), state: DownstreamHtlcState::Fulfilled },
            StoredHtlc { htlc: HtlcRef(u64::MAX), amount: Msat(400), state: DownstreamHtlcState::Held },
        ]
    );
    assert_eq!(l.upstream, vec![StoredHtlc { htlc: HtlcRef(10), amount: Msat(1_000), state: UpstreamHtlcState::Fulfilled }]);
}

#[test]
fn every_upstream_state_round_trips() {
    let db = TempDb::new("states");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1))]).unwrap();
    store.record_upstream_htlc(swap(1), HtlcRef(2), Msat(1)).unwrap();
    for s in [
        UpstreamHtlcState::Offering,
        UpstreamHtlcState::Committed,
        UpstreamHtlcState::Fulfilled,
        UpstreamHtlcState::Failed,
        UpstreamHtlcState::FailRemovalCommitted,
    ] {
        store.set_upstream_state(swap(1), HtlcRef(2), s).unwrap();
        assert_eq!(store.load_all().unwrap().forwards[0].lightning.upstream[0].state, s);
    }
    for s in [DownstreamHtlcState::Failed, DownstreamHtlcState::Fulfilled, DownstreamHtlcState::Held] {
        store.set_downstream_state(swap(1), HtlcRef(1), s).unwrap();
        assert_eq!(store.load_all().unwrap().forwards[0].lightning.downstream[0].state, s);
    }
}

#[test]
fn htlc_writes_in_the_wrong_order_or_for_unknown_things_are_refused() {
    let db = TempDb::new("order");
    let mut store = Store::open(db.path()).unwrap();
    let name = |r: Result<(), StoreError>| r.unwrap_err().name();
    assert_eq!(name(store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1))])), "unknown_forward");
    store.put_forward_record(&record(1)).unwrap();
    // Nothing goes to the direct offerrer before the acceptor's HTLC is on disk.
    assert_eq!(name(store.record_upstream_htlc(swap(1), HtlcRef(10), Msat(1))), "no_downstream_htlc");
    store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1))]).unwrap();
    // A batch with a duplicate is refused whole.
    assert_eq!(name(store.record_downstream_htlcs(swap(1), &[(HtlcRef(2), Msat(1)), (HtlcRef(1), Msat(1))])), "duplicate_htlc");
    assert_eq!(store.load_all().unwrap().forwards[0].lightning.downstream.len(), 1);
    store.record_upstream_htlc(swap(1), HtlcRef(10), Msat(1)).unwrap();
    assert_eq!(name(store.record_upstream_htlc(swap(1), HtlcRef(10), Msat(1))), "duplicate_htlc");
    assert_eq!(name(store.set_upstream_state(swap(1), HtlcRef(11), UpstreamHtlcState::Failed)), "unknown_htlc");
    assert_eq!(name(store.set_downstream_state(swap(2), HtlcRef(1), DownstreamHtlcState::Failed)), "unknown_htlc");
}

#[test]
fn forgetting_a_forward_removes_all_its_facts_and_only_its_facts() {
    let db = TempDb::new("forget");
    let mut store = Store::open(db.path()).unwrap();
    for n in [1, 2] {
        store.put_forward_record(&record(n)).unwrap();
        store.record_downstream_htlcs(swap(n), &[(HtlcRef(1), Msat(1))]).unwrap();
        store.record_upstream_htlc(swap(n), HtlcRef(2), Msat(1)).unwrap();
        store
            .put_lightning_params(&ReceivedLightningParams { swap: swap(n), payment_secret: None, payment_metadata: None })
            .unwrap();
    }
    store.forget_forward(swap(1)).unwrap();
    let state = store.load_all().unwrap();
    assert_eq!(state.forwards.len(), 1);
    assert_eq!(state.forwards[0].record, record(2));
    assert_eq!(state.forwards[0].lightning.upstream.len(), 1);
    assert_eq!(state.lightning_params.iter().map(|p| p.swap).collect::<Vec<_>>(), vec![swap(2)]);
    assert_eq!(store.forget_forward(swap(1)).unwrap_err().name(), "unknown_forward");
}

#[test]
fn wiping_removes_every_fact_and_keeps_the_store_usable() {
    let db = TempDb::new("wipe");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1))]).unwrap();
    store.record_upstream_htlc(swap(1), HtlcRef(2), Msat(1)).unwrap();
    store.put_lightning_params(&ReceivedLightningParams { swap: swap(1), payment_secret: None, payment_metadata: None }).unwrap();
    store.record_sent_init(&sent_init(20, 1)).unwrap();
    store.put_htlc_details(&details(HtlcRole::Acceptor, None)).unwrap();
    store.wipe().unwrap();
    drop(store);
    let mut store = Store::open(db.path()).unwrap();
    let state = store.load_all().unwrap();
    assert!(state.forwards.is_empty() && state.sent_inits.is_empty() && state.htlc_details.is_empty() && state.lightning_params.is_empty());
    store.record_sent_init(&sent_init(20, 1)).unwrap();
}

#[test]
fn sent_inits_round_trip_and_one_per_peer_survives_a_restart() {
    let db = TempDb::new("sent");
    let mut store = Store::open(db.path()).unwrap();
    store.record_sent_init(&sent_init(20, 1)).unwrap();
    store.record_sent_init(&sent_init(21, 1)).unwrap();
    store.record_sent_init(&sent_init(22, 2)).unwrap();
    drop(store);
    let mut store = Store::open(db.path()).unwrap();
    let sorted = |mut v: Vec<SentInitRecord>| {
        v.sort_by_key(|s| (s.sent.id, s.sent.to));
        v
    };
    assert_eq!(store.load_all().unwrap().sent_inits, sorted(vec![sent_init(20, 1), sent_init(21, 1), sent_init(22, 2)]));
    // Same peer, same pool; and same peer in another sidepool (SIDEPOOL-10, ERRATA E-93).
    assert_eq!(store.record_sent_init(&sent_init(20, 1)).unwrap_err().name(), "already_sent_to_peer");
    assert_eq!(store.record_sent_init(&sent_init(20, 2)).unwrap_err().name(), "already_sent_to_peer");
    assert_eq!(store.end_swap_party(PoolId([1; 16])).unwrap(), 2);
    store.record_sent_init(&sent_init(20, 2)).unwrap();
    assert_eq!(store.record_sent_init(&sent_init(22, 1)).unwrap_err().name(), "already_sent_to_peer");
    assert_eq!(store.load_all().unwrap().sent_inits, sorted(vec![sent_init(20, 2), sent_init(22, 2)]));
}

#[test]
fn htlc_details_round_trip_for_both_roles() {
    let db = TempDb::new("details");
    let mut store = Store::open(db.path()).unwrap();
    let offerrer = details(HtlcRole::Offerrer, Some(key(15)));
    let acceptor = details(HtlcRole::Acceptor, None);
    store.put_htlc_details(&offerrer).unwrap();
    store.put_htlc_details(&acceptor).unwrap();
    drop(store);
    let mut store = Store::open(db.path()).unwrap();
    assert_eq!(store.load_all().unwrap().htlc_details, vec![offerrer, acceptor]);
    assert!(!store.delete_htlc_details(swap(7), Some(key(17)), HtlcRole::Offerrer).unwrap(), "another hop's");
    assert!(store.delete_htlc_details(swap(7), Some(key(16)), HtlcRole::Offerrer).unwrap());
    assert!(!store.delete_htlc_details(swap(7), Some(key(16)), HtlcRole::Offerrer).unwrap());
    assert_eq!(store.load_all().unwrap().htlc_details, vec![acceptor]);
}

/// ERRATA E-95: one pool id and hash accepted from two offerrers is two rows.
#[test]
fn htlc_details_of_two_hops_with_one_pool_id_and_hash_are_both_kept() {
    let db = TempDb::new("details-hops");
    let mut store = Store::open(db.path()).unwrap();
    let alice = details(HtlcRole::Acceptor, None);
    let bob = HtlcDetails { peer: Some(key(17)), acceptor: HtlcPubkeys { ephemeral: key(18), ..alice.acceptor }, ..alice };
    store.put_htlc_details(&alice).unwrap();
    store.put_htlc_details(&bob).unwrap();
    drop(store);
    let store = Store::open(db.path()).unwrap();
    let mut want = vec![alice, bob];
    want.sort_by_key(|d| d.peer);
    assert_eq!(store.load_all().unwrap().htlc_details, want);
}

/// A schema-1 file opens as schema 2: its HTLC details keep every column, with the peer unknown.
#[test]
fn a_schema_1_store_migrates_and_keeps_its_htlc_details() {
    let db = TempDb::new("migrate-1");
    let raw = rusqlite::Connection::open(db.path()).unwrap();
    raw.execute_batch(super::schema::MIGRATION_1).unwrap();
    raw.execute("INSERT INTO schema_version (version) VALUES (1)", []).unwrap();
    raw.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
    let d = details(HtlcRole::Offerrer, Some(key(15)));
    raw.execute(
        "INSERT INTO htlc_details VALUES (?1, ?2, 'offerrer', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![
            d.swap.id.0.as_slice(),
            d.swap.hash.0.as_slice(),
            d.offerrer.ephemeral.as_bytes().as_slice(),
            d.offerrer.persistent.as_bytes().as_slice(),
            d.acceptor.ephemeral.as_bytes().as_slice(),
            d.acceptor.persistent.as_bytes().as_slice(),
            d.timeout.0,
            d.internal_key.map(|k| k.as_bytes().to_vec()),
            d.own_persistent_key.0,
        ],
    )
    .unwrap();
    drop(raw);
    let mut store = Store::open(db.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    assert_eq!(store.load_all().unwrap().htlc_details, vec![HtlcDetails { peer: None, ..d }]);
    assert!(store.delete_htlc_details(d.swap, None, HtlcRole::Offerrer).unwrap());
}

#[test]
fn lightning_params_round_trip() {
    let db = TempDb::new("params");
    let mut store = Store::open(db.path()).unwrap();
    let both = ReceivedLightningParams {
        swap: swap(1),
        payment_secret: Some(PaymentSecret([0xab; 32])),
        payment_metadata: Some(vec![0, 1, 2, 255]),
    };
    let empty_metadata = ReceivedLightningParams { swap: swap(2), payment_secret: None, payment_metadata: Some(vec![]) };
    let neither = ReceivedLightningParams { swap: swap(3), payment_secret: None, payment_metadata: None };
    for p in [&both, &empty_metadata, &neither] {
        store.put_lightning_params(p).unwrap();
    }
    drop(store);
    let loaded = Store::open(db.path()).unwrap().load_all().unwrap().lightning_params;
    assert_eq!(loaded, vec![both, empty_metadata, neither]);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused() {
    let db = TempDb::new("garbage");
    std::fs::write(db.path(), vec![0x5a; 8192]).unwrap();
    assert_eq!(Store::open(db.path()).unwrap_err().name(), "not_a_database");
    assert_eq!(std::fs::read(db.path()).unwrap(), vec![0x5a; 8192], "the file is left alone");
}

#[test]
fn another_applications_database_is_refused() {
    let db = TempDb::new("foreign");
    let raw = rusqlite::Connection::open(db.path()).unwrap();
    raw.execute_batch("CREATE TABLE accounts (id INTEGER)").unwrap();
    drop(raw);
    let err = Store::open(db.path()).unwrap_err();
    assert_eq!((err.name(), err.to_string().contains("another application")), ("foreign_database", true));

    let db = TempDb::new("foreign-id");
    let raw = rusqlite::Connection::open(db.path()).unwrap();
    raw.pragma_update(None, "application_id", 0x1234).unwrap();
    drop(raw);
    assert!(matches!(Store::open(db.path()), Err(StoreError::ForeignDatabase { application_id: 0x1234 })));
}

#[test]
fn a_newer_schema_is_refused() {
    let db = TempDb::new("newer");
    drop(Store::open(db.path()).unwrap());
    let raw = rusqlite::Connection::open(db.path()).unwrap();
    raw.execute("UPDATE schema_version SET version = 3", []).unwrap();
    drop(raw);
    assert!(matches!(
        Store::open(db.path()),
        Err(StoreError::UnsupportedSchemaVersion { found: 3, supported: 2 })
    ));
}

#[test]
fn a_damaged_row_is_a_typed_error_not_a_panic() {
    let db = TempDb::new("badrow");
    let mut store = Store::open(db.path()).unwrap();
    store.put_forward_record(&record(1)).unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(db.path()).unwrap();
    // 33 bytes, but x = 0 is not on the curve.
    let mut not_a_point = vec![0u8; 33];
    not_a_point[0] = 2;
    raw.execute("UPDATE forward_record SET upstream_offerrer = ?1", [not_a_point]).unwrap();
    drop(raw);
    let err = Store::open(db.path()).unwrap().load_all().unwrap_err();
    assert!(matches!(err, StoreError::CorruptRow { table: "forward_record", column: "upstream_offerrer" }), "{err}");

    let raw = rusqlite::Connection::open(db.path()).unwrap();
    raw.execute("UPDATE forward_record SET upstream_offerrer = ?1, sidepool_timelock = -1", [key(1).as_bytes().to_vec()])
        .unwrap();
    drop(raw);
    let err = Store::open(db.path()).unwrap().load_all().unwrap_err();
    assert!(matches!(err, StoreError::CorruptRow { table: "forward_record", column: "sidepool_timelock" }), "{err}");
}

#[test]
fn a_damaged_page_is_reported_as_corrupt() {
    let db = TempDb::new("badpage");
    let mut store = Store::open(db.path()).unwrap();
    for n in 1..=20 {
        store.put_forward_record(&record(n)).unwrap();
    }
    drop(store); // the last connection checkpoints the WAL into the file
    let mut bytes = std::fs::read(db.path()).unwrap();
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    assert!(bytes.len() >= 3 * page_size, "several pages");
    // Overwrite page 2 onwards: b-tree pages of the schema's tables.
    for b in bytes.iter_mut().skip(page_size) {
        *b = 0xee;
    }
    std::fs::write(db.path(), &bytes).unwrap();
    let err = Store::open(db.path()).unwrap_err();
    assert_eq!(err.name(), "corrupt_database", "{err}");
}

#[test]
fn no_ephemeral_private_key_reaches_the_disk() {
    let db = TempDb::new("nokeys");
    let secp = Secp256k1::signing_only();
    let offerrer_eph = SecretKey::from_slice(&[0x42; 32]).unwrap();
    let acceptor_eph = SecretKey::from_slice(&[0x43; 32]).unwrap();
    let offerrer_eph_pub = PublicKey::from_secp(&offerrer_eph.public_key(&secp));
    let acceptor_eph_pub = PublicKey::from_secp(&acceptor_eph.public_key(&secp));
    let mut store = Store::open(db.path()).unwrap();
    // A full forward and endpoint scenario using the keys' public halves.
    let mut rec = record(1);
    rec.offerrer_pubkeys.ephemeral = offerrer_eph_pub;
    store.put_forward_record(&rec).unwrap();
    store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(500)), (HtlcRef(2), Msat(500))]).unwrap();
    store.record_upstream_htlc(swap(1), HtlcRef(3), Msat(1_000)).unwrap();
    store.set_upstream_state(swap(1), HtlcRef(3), UpstreamHtlcState::Fulfilled).unwrap();
    let mut init = sent_init(20, 1);
    init.pubkeys.ephemeral = offerrer_eph_pub;
    store.record_sent_init(&init).unwrap();
    let mut d = details(HtlcRole::Offerrer, Some(key(15)));
    d.offerrer.ephemeral = offerrer_eph_pub;
    d.acceptor.ephemeral = acceptor_eph_pub;
    store.put_htlc_details(&d).unwrap();
    store
        .put_lightning_params(&ReceivedLightningParams {
            swap: swap(1),
            payment_secret: Some(PaymentSecret([7; 32])),
            payment_metadata: Some(vec![1, 2, 3]),
        })
        .unwrap();

    let scan = |needle: &[u8]| -> bool {
        db.companions().iter().filter_map(|p| std::fs::read(p).ok()).any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    };
    let check = || {
        for k in [offerrer_eph, acceptor_eph] {
            let raw = k.secret_bytes();
            assert!(!scan(&raw), "raw ephemeral private key found on disk");
            assert!(!scan(hex::encode(raw).as_bytes()), "hex ephemeral private key found on disk");
        }
        // The scan does see the data: the public halves are there.
        assert!(scan(&offerrer_eph_pub.as_bytes()) && scan(&acceptor_eph_pub.as_bytes()));
    };
    check(); // while open: the data is in the WAL
    drop(store);
    check(); // after close: checkpointed into the main file
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn any_key() -> impl Strategy<Value = PublicKey> {
        (1u8..=250).prop_map(key)
    }

    fn any_record() -> impl Strategy<Value = ForwardRecord<NodeId>> {
        (any::<[u8; 16]>(), any::<[u8; 32]>(), any_key(), any_key(), any_key(), any_key(), any::<[u32; 3]>(), any::<u64>())
            .prop_map(|(id, hash, up, down, eph, per, t, amount)| ForwardRecord {
                id: PoolId(id),
                hash: PaymentHash(hash),
                upstream: up,
                downstream: down,
                offerrer_pubkeys: HtlcPubkeys { ephemeral: eph, persistent: per },
                sidepool_timelock: BlockHeight(t[0]),
                lightning_timelock_from_upstream: BlockHeight(t[1]),
                lightning_timelock_to_downstream: BlockHeight(t[2]),
                amount: Sat(amount),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn any_forward_with_htlcs_round_trips_through_a_reopen(
            rec in any_record(),
            down in proptest::collection::btree_map(any::<u64>(), any::<u64>(), 1..6),
            up in proptest::collection::btree_map(any::<u64>(), any::<u64>(), 0..6),
            metadata in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        ) {
            let db = TempDb::new("prop");
            let swap = PeerswapRef { id: rec.id, hash: rec.hash };
            let mut store = Store::open(db.path()).unwrap();
            store.put_forward_record(&rec).unwrap();
            let down_list: Vec<_> = down.iter().map(|(h, a)| (HtlcRef(*h), Msat(*a))).collect();
            store.record_downstream_htlcs(swap, &down_list).unwrap();
            for (h, a) in &up {
                store.record_upstream_htlc(swap, HtlcRef(*h), Msat(*a)).unwrap();
            }
            let params = ReceivedLightningParams { swap, payment_secret: None, payment_metadata: metadata };
            store.put_lightning_params(&params).unwrap();
            drop(store);
            let state = Store::open(db.path()).unwrap().load_all().unwrap();
            prop_assert_eq!(state.forwards.len(), 1);
            prop_assert_eq!(&state.forwards[0].record, &rec);
            // Stored order is by handle as SQLite sorts the signed image; compare as sets.
            let mut got_down: Vec<_> = state.forwards[0].lightning.downstream.iter().map(|h| (h.htlc.0, h.amount.0, h.state)).collect();
            got_down.sort();
            let want_down: Vec<_> = down.iter().map(|(h, a)| (*h, *a, DownstreamHtlcState::Held)).collect();
            prop_assert_eq!(got_down, want_down);
            let mut got_up: Vec<_> = state.forwards[0].lightning.upstream.iter().map(|h| (h.htlc.0, h.amount.0, h.state)).collect();
            got_up.sort();
            let want_up: Vec<_> = up.iter().map(|(h, a)| (*h, *a, UpstreamHtlcState::Offering)).collect();
            prop_assert_eq!(got_up, want_up);
            prop_assert_eq!(state.lightning_params, vec![params]);
        }
    }
}

mod props_endpoints {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn any_htlc_details_and_sent_init_round_trip(
            keys in proptest::array::uniform6(1u8..=250),
            ids in any::<([u8; 16], [u8; 32])>(),
            heights in any::<(u32, u32, u32)>(),
            amounts in any::<(u64, u64)>(),
            counter in 0u16..=UpdateCounter::MAX,
            index in any::<u32>(),
            internal in any::<bool>(),
            forwarded in any::<bool>(),
        ) {
            let db = TempDb::new("prop-endpoints");
            let swap = PeerswapRef { id: PoolId(ids.0), hash: PaymentHash(ids.1) };
            let d = HtlcDetails {
                swap,
                peer: forwarded.then(|| key(keys[5])),
                role: if internal { HtlcRole::Offerrer } else { HtlcRole::Acceptor },
                offerrer: HtlcPubkeys { ephemeral: key(keys[0]), persistent: key(keys[1]) },
                acceptor: HtlcPubkeys { ephemeral: key(keys[2]), persistent: key(keys[3]) },
                timeout: BlockHeight(heights.0),
                internal_key: internal.then(|| key(keys[4])),
                own_persistent_key: KeyIndex(index),
            };
            let s = SentInitRecord {
                sent: SentInit {
                    to: key(keys[5]),
                    id: swap.id,
                    hash: swap.hash,
                    amount: Sat(amounts.0),
                    htlc_maximum_from_peer: Msat(amounts.1),
                    upstream: forwarded.then(|| key(keys[0])),
                },
                update_counter: UpdateCounter::new(counter).unwrap(),
                timeouts: Timeouts { sidepool: BlockHeight(heights.1), lightning: BlockHeight(heights.2) },
                pubkeys: d.offerrer,
            };
            let mut store = Store::open(db.path()).unwrap();
            store.put_htlc_details(&d).unwrap();
            store.record_sent_init(&s).unwrap();
            drop(store);
            let state = Store::open(db.path()).unwrap().load_all().unwrap();
            prop_assert_eq!(state.htlc_details, vec![d]);
            prop_assert_eq!(state.sent_inits, vec![s]);
        }
    }
}
