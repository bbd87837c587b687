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

/// Starts the child in `mode`, reads its stdout until `enough` commits were
/// reported, SIGKILLs it and returns the last commit index it reported.
fn run_and_kill(db: &TempDb, mode: &str, enough: u64) -> u64 {
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
        let Some((_, rest)) = line.split_once("STORE-COMMITTED") else { continue };
        last = rest.trim().parse::<u64>().ok().or(Some(0));
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
    run_and_kill(&db, "one_fact", 1);
    let store = Store::open(db.path()).unwrap();
    let forwards = store.load_all().unwrap().forwards;
    assert_eq!(forwards.len(), 1);
    assert_eq!(forwards[0].record, record(1));
    assert_eq!(forwards[0].lightning.downstream.len(), 1);
}

#[test]
fn a_kill_inside_a_multi_row_write_leaves_no_partial_fact() {
    let db = TempDb::new("crash-batches");
    let last = run_and_kill(&db, "batches", 25);
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
