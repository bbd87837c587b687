//! The `sync` capability (ADAPTER.md `sync`, issue 20 item 1): an external IUT
//! that declares it lets the runner decide "nothing happens" steps at the
//! quiescence barrier instead of waiting out their windows, with the same
//! verdicts as the embedded node, and a lying `sync` cannot buy a pass.

use serde_json::Value;
use sidepool_conformance::node::adapter_link::{EmbeddedLink, RemoteLink};
use sidepool_conformance::node::core::CoreAction;
use sidepool_conformance::node::engine_core::EngineCore;
use sidepool_conformance::node::net::Shared;
use sidepool_conformance::node::{self, NodeConfig};
use sidepool_conformance::runner::case::{self, Case};
use sidepool_conformance::runner::exec::{run_case_quiet, AdapterError, AdapterLink, Outcome, Quiet, Target};
use sidepool_conformance::session::machine::SessionConfig;
use sidepool_conformance::transport::PrivateKey;
use sidepool_reference::units::PublicKey;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, select, RunOptions, TargetSpec};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn all_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    case::load_dir(&dir).unwrap().into_iter().flat_map(|(_, f)| f.cases).collect()
}

/// `sidepool-conformance node` in its own process, with extra arguments; its announcement line.
fn spawn_node(extra: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance"))
        .args(["node", "--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, serde_json::from_str(&line).unwrap())
}

fn external(adapter: &str) -> TargetSpec {
    let (mut link, hello) = RemoteLink::open(adapter, Duration::from_secs(2)).unwrap();
    assert!(hello.capabilities.iter().any(|c| c == "sync"), "the reference node declares sync: {hello:?}");
    assert!(hello.methods.iter().any(|m| m == "sync"));
    let id = link.identity().unwrap();
    TargetSpec::External { target: Target { addr: id.listen.parse().unwrap(), node_id: id.node_id }, adapter: Some(Box::new(link)) }
}

/// Verdicts and barrier decisions by case id.
fn run(cases: &[&Case], target: &mut TargetSpec) -> BTreeMap<String, (Verdict, u32, Option<String>)> {
    let opts = RunOptions::default();
    run_cases(cases, target, &opts, |_, _| {}).into_iter().map(|r| (r.case.id.clone(), (r.verdict, r.run.barriers, r.reason.clone()))).collect()
}

#[test]
fn the_external_node_decides_every_absence_at_the_barrier_like_the_embedded_one() {
    let cases = all_cases();
    // The restart cases need `--db`; every other case runs against one node process.
    let selected: Vec<&Case> = select(&cases, &[]).into_iter().filter(|c| !c.id.contains(".restart")).collect();
    let embedded = run(&selected, &mut TargetSpec::Embedded(None));
    let (mut child, announce) = spawn_node(&[]);
    let mut target = external(announce["adapter"].as_str().unwrap());
    let remote = run(&selected, &mut target);
    let _ = child.kill();
    let _ = child.wait();
    let mut barriers = 0;
    for (id, (verdict, b, reason)) in &embedded {
        let (rv, rb, rreason) = &remote[id];
        if *verdict == Verdict::Unsupported {
            continue;
        }
        assert_eq!(rv, verdict, "{id}: external {rv:?} ({rreason:?}), embedded {verdict:?} ({reason:?})");
        // Every "nothing happens" step the embedded node decided at the barrier, the external one did too.
        assert_eq!(rb, b, "{id}: barrier decisions external vs embedded");
        barriers += rb;
    }
    assert!(barriers >= 50, "the suite decides many absences at the barrier: {barriers}");
}

/// A reference node whose adapter lies: it answers `sync` at once and only then,
/// a little later and with no new input, sends the peer a message (as an IUT
/// that queues its work past its `sync` answer would).
struct LyingLink {
    inner: EmbeddedLink,
    shared: std::sync::Arc<Shared>,
    late_to: PublicKey,
}

impl AdapterLink for LyingLink {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, AdapterError> {
        self.inner.call(method, params)
    }
    fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        self.inner.next_event(deadline)
    }
    fn capabilities(&self) -> Vec<String> {
        self.inner.capabilities()
    }
    fn settles(&self) -> bool {
        true
    }
    fn settle(&mut self, _open: usize, _deadline: Instant) -> bool {
        let (shared, to) = (std::sync::Arc::clone(&self.shared), self.late_to);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let fields = serde_json::json!({"peerswap_reject_id": "5ea1f00d5ea1f00d5ea1f00d5ea1f00d", "peerswap_reject_hash": "c3a2a8b3b1d8e1f4a6c5b3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a291807",
                "peerswap_reject_reason_code": 4, "peerswap_reject_channel_view_msat": {"owned_by_offerrer": 1, "owned_by_acceptor": 2, "total_capacity": 3}});
            let late = sidepool_conformance::fields::message_from_json("peerswap_reject", &fields, None).unwrap();
            shared.route(vec![CoreAction::Send { peer: to, message: Box::new(late) }]);
        });
        true
    }
}

const LYING_CASE: &str = r#"
title: "a lying sync"
cases:
  - id: test.lying-sync
    requirement: sp01.sidepool-protocol-feature-set.5
    quote: "irrelevant here"
    level: MUST NOT
    steps:
      - connect: {peer: alice}
      - expect_nothing: {peer: alice, within_ms: 2000}
      - expect_disconnect: {peer: alice, within_ms: 400}
        level: MAY
"#;

#[test]
fn an_early_sync_answer_cannot_buy_a_pass() {
    let case = &case::parse_case_file(LYING_CASE).unwrap().cases[0];
    let key = PrivateKey::generate();
    let me = key.public_key();
    let seed = key.derive_seed("test");
    let config = NodeConfig { listen: ([127, 0, 0, 1], 0).into(), key, session: SessionConfig::default(), verbose: false };
    let core = EngineCore::new(me, String::new(), *seed);
    let node = node::start_with(config, move |listen| Box::new(core.listening_on(listen))).unwrap();
    let alice = sidepool_conformance::runner::peer::key_for("alice").public_key();
    let link = LyingLink { inner: EmbeddedLink::new(&node.shared), shared: std::sync::Arc::clone(&node.shared), late_to: alice };
    let mut boxed: Box<dyn AdapterLink> = Box::new(link);
    let target = Target { addr: node.listen, node_id: me };
    let run = run_case_quiet(case, target, Some(&mut boxed), Duration::from_secs(2), Duration::from_secs(10), Quiet::default());
    // The same case against the honest link: decided at the barrier, nothing late, completed.
    let mut honest: Box<dyn AdapterLink> = Box::new(EmbeddedLink::new(&node.shared));
    let fair = run_case_quiet(case, target, Some(&mut honest), Duration::from_secs(2), Duration::from_secs(10), Quiet::default());
    node.shutdown();
    assert_eq!((fair.outcome, fair.barriers), (Outcome::Completed, 1), "{:?}", fair.notes);
    assert_eq!(run.barriers, 1, "the absence was decided at the barrier");
    match &run.outcome {
        Outcome::Error(why) => assert!(why.contains("answered `sync` before it was settled") && why.contains("peerswap_reject"), "{why}"),
        other => panic!("a lying sync must not pass: {other:?} {:?}", run.findings),
    }
}

/// The barrier still catches what the IUT must not send: a node that answers a
/// `peerswap_init` it should defer fails the deferral cases, each absence step
/// decided at the barrier (not after its 300 ms window).
#[test]
fn a_forbidden_answer_is_caught_at_the_barrier_against_the_external_node() {
    let cases = all_cases();
    let selected = select(&cases, &["sp10.receiving.deferral".to_string()]);
    assert!(selected.len() >= 2);
    let (mut child, announce) = spawn_node(&["--defect", "answer-before-swap-party"]);
    let mut target = external(announce["adapter"].as_str().unwrap());
    let results = run(&selected, &mut target);
    let _ = child.kill();
    let _ = child.wait();
    for (id, (verdict, barriers, reason)) in &results {
        assert_eq!(*verdict, Verdict::Fail, "{id}: {reason:?}");
        assert!(reason.as_deref().unwrap_or_default().contains("expected no sidepool message from the IUT, got peerswap_accept"), "{id}: {reason:?}");
        assert_eq!(*barriers, 1, "{id}: the absence that failed was decided at the barrier");
    }
}
