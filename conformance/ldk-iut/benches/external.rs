//! Issue 20's goal, measured in one run: the conformance suite against the
//! embedded reference node, against the same node behind its TCP adapter (as
//! `sidepool-conformance node --adapter-listen` serves it; one node for the
//! whole bench, `reset` between cases as `run --adapter` does), and against the
//! LDK-hosted IUT (this crate's binary, one process for the whole bench). Both
//! external IUTs declare `sync`, so "nothing happens" steps end at the
//! quiescence barrier instead of waiting out their windows. Goal: both within
//! 3x of the embedded run.
//!
//!     nice -n 10 cargo bench -p sidepool-ldk-iut --bench external -- --warm-up-time 1 --measurement-time 3
//!
//! The restart cases are left out of all three (the in-process reference node
//! runs without a store here).

use criterion::Criterion;
use sidepool_conformance::adapter::server::serve_tcp;
use sidepool_conformance::node::adapter_link::{handler_for, RemoteLink};
use sidepool_conformance::node::engine_core::EngineCore;
use sidepool_conformance::node::{self, NodeConfig};
use sidepool_conformance::runner::case::{self, Case};
use sidepool_conformance::runner::exec::Target;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, RunOptions, TargetSpec};
use sidepool_conformance::session::machine::SessionConfig;
use sidepool_conformance::transport::PrivateKey;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

#[path = "../../benches/support/ratio.rs"]
mod ratio;
use ratio::{Goal, Ratios};

const GROUP: &str = "suite_external";

/// A link to an adapter at `tcp://...`, with the IUT's address from `identity`.
fn external(adapter: &str) -> TargetSpec {
    let (mut link, hello) = RemoteLink::open(adapter, Duration::from_secs(2)).expect("adapter");
    assert!(hello.capabilities.iter().any(|c| c == "sync"), "{} declares sync", hello.name);
    let id = link.identity().expect("identity");
    TargetSpec::External { target: Target { addr: id.listen.parse().expect("listen"), node_id: id.node_id }, adapter: Some(Box::new(link)) }
}

/// The reference node with its adapter on TCP, in this process; its adapter address.
fn reference_node() -> (node::RunningNode, String) {
    let key = PrivateKey::generate();
    let me = key.public_key();
    let seed = key.derive_seed("bench");
    let config = NodeConfig { listen: ([127, 0, 0, 1], 0).into(), key, session: SessionConfig::default(), verbose: false };
    let core = EngineCore::new(me, String::new(), *seed);
    let running = node::start_with(config, move |listen| Box::new(core.listening_on(listen))).expect("node");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("adapter listener");
    let adapter = format!("tcp://{}", listener.local_addr().expect("address"));
    let shared = Arc::clone(&running.shared);
    std::thread::spawn(move || serve_tcp(&listener, || handler_for(&shared)));
    (running, adapter)
}

/// The LDK-hosted IUT's binary; its process and adapter address.
fn ldk_iut() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidepool-ldk-iut"))
        .args(["--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sidepool-ldk-iut");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("announcement");
    let a: serde_json::Value = serde_json::from_str(&line).expect("announcement json");
    (child, a["adapter"].as_str().expect("adapter").to_owned())
}

fn bench(c: &mut Criterion) -> usize {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../cases"));
    let cases: Vec<Case> = case::load_dir(dir).expect("cases load").into_iter().flat_map(|(_, f)| f.cases).collect();
    let selected: Vec<&Case> = cases.iter().filter(|c| !c.id.contains(".restart")).collect();
    let opts = RunOptions::default();
    let (node, node_adapter) = reference_node();
    let (mut ldk, ldk_adapter) = ldk_iut();
    let mut targets = [
        ("embedded", TargetSpec::Embedded(None)),
        ("external_reference_node", external(&node_adapter)),
        ("ldk_hosted_iut", external(&ldk_adapter)),
    ];
    let mut group = c.benchmark_group(GROUP);
    group.sample_size(10);
    for (name, target) in targets.iter_mut() {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let results = run_cases(&selected, target, &opts, |_, _| {});
                let failing: Vec<&str> = results.iter().filter(|r| r.verdict != Verdict::Pass).map(|r| r.case.id.as_str()).collect();
                assert!(failing.is_empty(), "{name}: cases that did not pass: {failing:?}");
            })
        });
    }
    group.finish();
    node.shutdown();
    let _ = ldk.kill();
    let _ = ldk.wait();
    selected.len()
}

fn main() {
    let mut ratios = Ratios::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let mut c = Criterion::default().configure_from_args();
    let n = bench(&mut c);
    c.final_summary();
    ratios.ratio(&format!("suite ({n} cases): external reference node / embedded"), (GROUP, "external_reference_node"), (GROUP, "embedded"), Goal::AtMost(3.0));
    ratios.ratio(&format!("suite ({n} cases): LDK-hosted IUT / embedded"), (GROUP, "ldk_hosted_iut"), (GROUP, "embedded"), Goal::AtMost(3.0));
    ratios.print("The suite against external IUTs that declare `sync`, vs the embedded node:", ("external", "embedded"));
}
