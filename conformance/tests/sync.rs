//! The `sync` capability (ADAPTER.md `sync`, issue 20 item 1): an external IUT
//! that declares it lets the runner decide "nothing happens" steps at the
//! quiescence barrier instead of waiting out their windows, with the same
//! verdicts as the embedded node, and a lying `sync` cannot buy a pass.

use serde_json::Value;
use sidepool_conformance::node::adapter_link::RemoteLink;
use sidepool_conformance::runner::case::{self, Case};
use sidepool_conformance::runner::exec::Target;
use sidepool_conformance::runner::report::Verdict;
use sidepool_conformance::runner::{run_cases, select, RunOptions, TargetSpec};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
