//! The runner's cases against the LDK-hosted IUT, started as its own process
//! and driven through `--target`/`--node-id`/`--adapter tcp://` exactly as an
//! outside implementation would be. Every case passes except those listed in
//! `unsupported.yaml`, and every listed case still does not pass.

use serde::Deserialize;
use sidepool_conformance::node::adapter_link::RemoteLink;
use sidepool_conformance::runner::case::{self, Case};
use sidepool_conformance::runner::exec::{Target, DEFAULT_CASE_LIMIT, DEFAULT_WAIT};
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, RunOptions, TargetSpec};
use sidepool_reference::units::PublicKey;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use sidepool_reference::SpecRevision;
use std::time::{Duration, Instant};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Deserialize)]
struct Unsupported {
    unsupported: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    case: String,
    reason: String,
}

fn unsupported() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(crate_dir().join("unsupported.yaml")).unwrap();
    let list: Unsupported = serde_yaml::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for e in list.unsupported {
        assert!(!e.reason.trim().is_empty(), "{}: give a reason", e.case);
        assert!(out.insert(e.case.clone(), e.reason).is_none(), "{} listed twice", e.case);
    }
    out
}

fn all_cases() -> Vec<Case> {
    let dir = crate_dir().join("../cases");
    case::load_dir(&dir).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect()
}

/// The IUT process; killed when dropped, so a failing test leaves nothing behind.
struct Iut {
    child: Child,
    db: PathBuf,
}

impl Drop for Iut {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
    }
}

/// Starts `sidepool-ldk-iut` and reads its announcement line.
fn start_iut() -> (Iut, serde_json::Value) {
    start_iut_at(SpecRevision::default())
}

/// Starts `sidepool-ldk-iut --spec REV`.
fn start_iut_at(spec: SpecRevision) -> (Iut, serde_json::Value) {
    let db = std::env::temp_dir().join(format!("sidepool-ldk-iut-test-{}-{}.db", std::process::id(), spec.name()));
    let child = Command::new(env!("CARGO_BIN_EXE_sidepool-ldk-iut"))
        .args(["--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0", "--spec", spec.name(), "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut iut = Iut { child, db };
    let stdout = iut.child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let announcement: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("announcement {line:?}: {e}"));
    (iut, announcement)
}

fn node_id(hex_id: &str) -> PublicKey {
    PublicKey::from_bytes(hex::decode(hex_id).unwrap().try_into().unwrap()).unwrap()
}

#[test]
fn the_ldk_hosted_iut_passes_every_case_it_supports() {
    let unsupported = unsupported();
    let cases = all_cases();
    for id in unsupported.keys() {
        assert!(cases.iter().any(|c| &c.id == id), "unsupported.yaml lists {id}, which is no case");
    }
    let (_iut, announcement) = start_iut();
    let addr = announcement["listen"][0].as_str().unwrap().parse().unwrap();
    let id = node_id(announcement["node_id"].as_str().unwrap());
    let (mut link, hello) = RemoteLink::open(announcement["adapter"].as_str().unwrap(), Duration::from_secs(10)).unwrap();
    assert_eq!(hello.name, sidepool_ldk_iut::IUT_NAME);
    assert!(hello.capabilities.iter().any(|c| c == "sync"), "the LDK host declares sync: {:?}", hello.capabilities);
    let identity = link.identity().unwrap();
    assert_eq!((identity.node_id, identity.listen.as_str()), (id, announcement["listen"][0].as_str().unwrap()));

    let mut target = TargetSpec::External { target: Target { addr, node_id: id }, adapter: Some(Box::new(link)) };
    let opts = RunOptions { filters: Vec::new(), default_wait: DEFAULT_WAIT, case_limit: DEFAULT_CASE_LIMIT, known_failures: Vec::new(), ..RunOptions::default() };
    let selected: Vec<&Case> = cases.iter().collect();
    let started = Instant::now();
    let results = run_cases(&selected, &mut target, &opts, |_, _| {});
    eprintln!("{} cases against the LDK-hosted IUT in {:.1} s", results.len(), started.elapsed().as_secs_f64());

    let mut wrong = Vec::new();
    for r in &results {
        let listed = unsupported.get(&r.case.id);
        match (r.verdict, listed) {
            (Verdict::Pass, None) => {}
            (Verdict::Pass, Some(_)) => wrong.push(format!("{}: passes now; take it off unsupported.yaml", r.case.id)),
            (v, None) => wrong.push(format!("{}: {} ({})", r.case.id, v.name(), r.reason.as_deref().unwrap_or(""))),
            (_, Some(_)) => {}
        }
    }
    let passed = results.iter().filter(|r| r.verdict == Verdict::Pass).count();
    eprintln!("{passed} passed, {} listed unsupported", unsupported.len());
    assert!(wrong.is_empty(), "{} cases disagree with unsupported.yaml:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(passed + unsupported.len(), results.len());
    // `sync` is used: "nothing happens" steps are decided at the barrier, as against the embedded node.
    let barriers: u32 = results.iter().map(|r| r.run.barriers).sum();
    eprintln!("{barriers} absences decided at the sync barrier");
    assert!(barriers >= 50, "absences decided at the barrier: {barriers}");
}

/// At the seed revision the LDK-hosted IUT passes the cases about the amount the in-Lightning
/// HTLCs total (the seed-only ones, and those of both revisions), and the upstream-only ones do not run.
#[test]
fn the_ldk_hosted_iut_at_seed_passes_the_amount_cases() {
    let cases = all_cases();
    let (_iut, announcement) = start_iut_at(SpecRevision::Seed);
    assert_eq!(announcement["spec"], "seed");
    let addr = announcement["listen"][0].as_str().unwrap().parse().unwrap();
    let id = node_id(announcement["node_id"].as_str().unwrap());
    let (link, _) = RemoteLink::open(announcement["adapter"].as_str().unwrap(), Duration::from_secs(10)).unwrap();
    let mut target = TargetSpec::External { target: Target { addr, node_id: id }, adapter: Some(Box::new(link)) };
    let opts = RunOptions { filters: Vec::new(), spec: SpecRevision::Seed, embedded_spec: None, default_wait: DEFAULT_WAIT, case_limit: DEFAULT_CASE_LIMIT, known_failures: Vec::new(), ..RunOptions::default() };
    let selected: Vec<&Case> = cases.iter().filter(|c| c.id.starts_with("sp10.paying.") || c.id.starts_with("sp10.hold.")).collect();
    let results = run_cases(&selected, &mut target, &opts, |_, _| {});
    let ran: Vec<&str> = results.iter().map(|r| r.case.id.as_str()).collect();
    assert!(ran.contains(&"sp10.paying.agreed-amount-is-post-tax") && ran.contains(&"sp10.hold.completes-at-post-tax"), "{ran:?}");
    assert!(!ran.contains(&"sp10.paying.amount-is-in-sidepool-amount"), "{ran:?}");
    let failing: Vec<String> = results.iter().filter(|r| r.verdict != Verdict::Pass).map(|r| format!("{}: {:?}", r.case.id, r.reason)).collect();
    assert!(failing.is_empty(), "{failing:?}");
}
