//! A hostile implementation under test: a BOLT 8 responder ([`wire`]) and an
//! adapter ([`adapter`]) that misbehave on request, and a driver that runs the
//! real runner binary against them and measures it ([`run_runner`]).
//!
//! Misbehaviours (see the tests in `hostile_iut.rs`): a stalled handshake, an
//! adapter that never answers (or stops answering), bytes trickled one a second
//! in the handshake and mid-frame, stale pongs, pongs of the wrong length, a
//! frame that fails its MAC on a connection left open, a connection closed
//! before the stimulus, a flood of legal wire traffic, a flood of events,
//! wrong response ids, junk lines, over-long lines, `unknown_method`, an inert
//! adapter that answers `ok` and does nothing, an adapter that leaves mid-run,
//! an unknown even feature bit in `init`, events left over from an earlier case.

#![allow(dead_code)]

pub mod adapter;
pub mod wire;

use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use adapter::{AdapterBehaviour, AdapterIut};
pub use wire::{WireBehaviour, WireIut};

/// A wire side and an adapter side, started together.
pub struct Iut {
    pub wire: WireIut,
    pub adapter: AdapterIut,
}

impl Iut {
    pub fn start(wire: WireBehaviour, adapter: AdapterBehaviour) -> Iut {
        let wire = WireIut::start(wire);
        let adapter = AdapterIut::start(adapter, wire.node_id, wire.addr);
        Iut { wire, adapter }
    }

    /// Runner arguments for it: `--adapter` (address and node id come from `identity`).
    pub fn args(&self) -> Vec<String> {
        vec!["--adapter".into(), self.adapter.url.clone()]
    }

    /// Runner arguments for passive mode (no adapter).
    pub fn passive_args(&self) -> Vec<String> {
        vec!["--target".into(), self.wire.addr.to_string(), "--node-id".into(), hex::encode(self.wire.node_id.as_bytes())]
    }
}

/// What a run of the runner binary gave.
pub struct RunOutcome {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` report, parsed (`Null` when missing or not JSON).
    pub report: Value,
    pub report_bytes: u64,
    pub wall: Duration,
    /// The runner's own peak RSS (VmHWM), from `--print-peak-rss`.
    pub peak_rss_kib: Option<u64>,
}

impl RunOutcome {
    pub fn cases(&self) -> Vec<Value> {
        self.report["cases"].as_array().cloned().unwrap_or_default()
    }

    pub fn verdicts(&self, verdict: &str) -> Vec<String> {
        self.cases().iter().filter(|c| c["verdict"] == verdict).filter_map(|c| c["id"].as_str().map(str::to_owned)).collect()
    }

    pub fn case(&self, id: &str) -> Value {
        self.cases().into_iter().find(|c| c["id"] == id).unwrap_or(Value::Null)
    }

    /// Everything a report says about a case: reason and diagnostics.
    pub fn said(&self, id: &str) -> String {
        let c = self.case(id);
        format!("{} {}", c["reason"], c["diagnostics"])
    }

    pub fn explain(&self) -> String {
        format!("exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}", self.status, self.wall, self.stdout, self.stderr)
    }
}

/// The runner under test: `HOSTILE_RUNNER_BIN` when set (to measure another
/// build, e.g. the one before a change), else this package's binary.
pub fn runner_bin() -> PathBuf {
    std::env::var_os("HOSTILE_RUNNER_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sidepool-conformance")))
}

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Runs `sidepool-conformance run ARGS --json FILE --print-peak-rss` and waits
/// for it, killing it after `guard` (then the test fails: the runner hung).
pub fn run_runner<S: AsRef<str>>(args: &[S], guard: Duration) -> RunOutcome {
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let json = std::env::temp_dir().join(format!("hostile-{}-{n}.json", std::process::id()));
    let _ = std::fs::remove_file(&json);
    let started = Instant::now();
    // Another build (HOSTILE_RUNNER_BIN) may not know --print-peak-rss: GNU time measures it then.
    let other_build = std::env::var_os("HOSTILE_RUNNER_BIN").is_some();
    let mut command = if other_build {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "peak_rss_kib: %M"]).arg(runner_bin());
        c
    } else {
        Command::new(runner_bin())
    };
    command.arg("run").args(args.iter().map(AsRef::as_ref)).arg("--json").arg(&json);
    if !other_build {
        command.arg("--print-peak-rss");
    }
    let mut child = command
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the runner");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > guard {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the runner did not finish within {guard:?}: {}", stdout.join().unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let peak_rss_kib = stderr.lines().find_map(|l| l.strip_prefix("peak_rss_kib: ")).and_then(|k| k.trim().parse().ok());
    let report_bytes = std::fs::metadata(&json).map(|m| m.len()).unwrap_or(0);
    let report = std::fs::read(&json).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    let _ = std::fs::remove_file(&json);
    RunOutcome { status: status.code(), stdout, stderr, report, report_bytes, wall, peak_rss_kib }
}

/// The runner's memory bound (see conformance/CASES.md, "Against a hostile IUT").
pub const MEMORY_BOUND_KIB: u64 = 256 * 1024;
