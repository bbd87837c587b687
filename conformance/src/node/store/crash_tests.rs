//! Crash safety: a child process (this test binary, re-invoked to run only
//! [`crash_child`]) writes facts and is SIGKILLed; the parent reopens the
//! database and checks what survived.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sidepool_reference::peerswap::lightning_htlcs::HtlcRef;
use sidepool_reference::units::{Msat, PaymentHash};

use super::tests::{record, swap, TempDb};
use super::*;

const CHILD_MODE: &str = "SIDEPOOL_STORE_CRASH_CHILD";
const CHILD_DB: &str = "SIDEPOOL_STORE_CRASH_DB";
/// Set only in a child: stop inside the next multi-row HTLC write.
const PAUSE_MID_WRITE: &str = "SIDEPOOL_STORE_PAUSE_MID_WRITE";
/// HTLCs per multi-row transaction in the "batches" mode.
const BATCH: u64 = 40;

fn batch_swap(i: u64) -> PeerswapRef {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&i.to_be_bytes());
    PeerswapRef { id: swap(1).id, hash: PaymentHash(hash) }
}

fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Test-only hook in `Store::record_downstream_htlcs`, half-way through its
/// rows: in a child started with [`PAUSE_MID_WRITE`], report and wait to be
/// killed with the transaction open. Does nothing anywhere else.
pub(crate) fn pause_if_asked_mid_write() {
    if std::env::var_os(PAUSE_MID_WRITE).is_some() {
        say("STORE-MID-WRITE");
        loop {
            std::thread::park();
        }
    }
}

/// Not a test on its own: does nothing unless started by a parent below.
#[test]
fn crash_child() {
    let (Ok(mode), Ok(path)) = (std::env::var(CHILD_MODE), std::env::var(CHILD_DB)) else { return };
    let mut store = Store::open(std::path::Path::new(&path)).unwrap();
    match mode.as_str() {
        "one_fact" => {
            store.put_forward_record(&record(1)).unwrap();
            store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1_000))]).unwrap();
            say("STORE-COMMITTED");
            // Wait to be killed; the parent sends SIGKILL as soon as it reads the line.
            loop {
                std::thread::park();
            }
        }
        "mid_write" => {
            store.put_forward_record(&record(1)).unwrap();
            store.record_downstream_htlcs(swap(1), &[(HtlcRef(1), Msat(1)), (HtlcRef(2), Msat(2))]).unwrap();
            say("STORE-COMMITTED 0");
            std::env::set_var(PAUSE_MID_WRITE, "1");
            let htlcs: Vec<_> = (10..10 + BATCH).map(|h| (HtlcRef(h), Msat(h))).collect();
            // Pauses (and is killed) half-way through these rows.
            let _ = store.record_downstream_htlcs(swap(1), &htlcs);
            panic!("the mid-write pause returned");
        }
        "batches" => {
            // Commit batches back to back until killed, so the kill very likely
            // lands inside a multi-row transaction.
            for i in 0u64.. {
                let s = batch_swap(i);
                let mut rec = record(1);
                (rec.id, rec.hash) = (s.id, s.hash);
                store.put_forward_record(&rec).unwrap();
                let htlcs: Vec<_> = (0..BATCH).map(|h| (HtlcRef(h), Msat(1_000 + h))).collect();
                store.record_downstream_htlcs(s, &htlcs).unwrap();
                say(&format!("STORE-COMMITTED {i}"));
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// Starts the child in `mode`, reads its stdout until `enough` lines with
/// `marker` were seen, SIGKILLs it and returns the last commit index it reported.
fn run_and_kill(db: &TempDb, mode: &str, marker: &str, enough: u64) -> u64 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "node::store::crash_tests::crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE, mode)
        .env(CHILD_DB, db.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0u64;
    let mut last = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints "test ... crash_child ... " without a newline first, so search the line.
        if let Some((_, rest)) = line.split_once("STORE-COMMITTED") {
            last = rest.trim().parse::<u64>().ok().or(Some(0));
        }
        if !line.contains(marker) {
            continue;
        }
        seen += 1;
        if seen >= enough {
            break;
        }
    }
    // Child::kill is SIGKILL on Unix: no destructor, no checkpoint, no clean close.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the child died by SIGKILL, not by finishing: {status:?}");
    }
    #[cfg(not(unix))]
    let _ = status;
    last.expect("the child reported a commit")
}

#[test]
fn a_committed_fact_survives_sigkill() {
    let db = TempDb::new("crash-one");
    run_and_kill(&db, "one_fact", "STORE-COMMITTED", 1);
    let store = Store::open(db.path()).unwrap();
    let forwards = store.load_all().unwrap().forwards;
    assert_eq!(forwards.len(), 1);
    assert_eq!(forwards[0].record, record(1));
    assert_eq!(forwards[0].lightning.downstream.len(), 1);
}

#[test]
fn a_kill_inside_a_multi_row_write_leaves_no_partial_fact() {
    let db = TempDb::new("crash-batches");
    let last = run_and_kill(&db, "batches", "STORE-COMMITTED", 25);
    let store = Store::open(db.path()).unwrap();
    let forwards = store.load_all().unwrap().forwards;
    // Every reported commit is there, whole.
    for i in 0..=last {
        let s = batch_swap(i);
        let f = forwards.iter().find(|f| f.record.hash == s.hash).expect("committed forward present");
        assert_eq!(f.lightning.downstream.len() as u64, BATCH);
    }
    // Whatever the kill interrupted is there whole or not at all.
    for f in &forwards {
        let n = f.lightning.downstream.len() as u64;
        assert!(n == 0 || n == BATCH, "partial batch of {n} HTLCs");
    }
}

#[test]
fn a_kill_with_a_multi_row_write_half_done_leaves_none_of_it() {
    let db = TempDb::new("crash-mid-write");
    run_and_kill(&db, "mid_write", "STORE-MID-WRITE", 1);
    let store = Store::open(db.path()).unwrap();
    let forwards = store.load_all().unwrap().forwards;
    assert_eq!(forwards.len(), 1);
    let handles: Vec<u64> = forwards[0].lightning.downstream.iter().map(|h| h.htlc.0).collect();
    assert_eq!(handles, vec![1, 2], "the committed batch is whole; the interrupted one left no row");
}
