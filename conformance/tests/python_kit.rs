//! The Python adapter kit (conformance/adapter-kit/python): its unit tests, and
//! the runner against its example IUT (`examples/minimal_iut.py`, a minimal
//! node on pyln-proto's BOLT 8), over stdio and over TCP.
//!
//! The unit tests need only python3. The runs need pyln-proto: where it is not
//! importable they say so and skip, except in CI (`CI=true`), where `.ci/run`
//! installs it and its absence is a failure.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The version `.ci/run` installs.
const PYLN_PROTO: &str = "pyln-proto==26.6.9";

/// The wire-level cases the example IUT passes: everything it can do without a world.
const WIRE_CASES: [&str; 9] = [
    "sp01.feature-bit.init-sets-1263",
    "sp01.feature-set.sends-my-sidepool-features",
    "sp01.feature-bit.no-sidepool-messages-without-1263",
    "sp01.feature-set.unknown-even-bit-silences-the-iut",
    "sp01.feature-set.unparsable-set-silences-the-iut",
    "sp01.feature-set.silence-before-our-features",
    "sp01.messaging.ping-answered",
    "sp01.messaging.unknown-odd-bolt-message-ignored",
    "sp01.messaging.unknown-even-bolt-message-fails-the-connection",
];

fn kit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("adapter-kit/python")
}

fn example() -> String {
    kit_dir().join("examples/minimal_iut.py").display().to_string()
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Why a Python module cannot be used here, if it cannot.
fn python_missing(import: &str) -> Option<String> {
    match Command::new("python3").args(["-c", import]).output() {
        Err(e) => Some(format!("python3 cannot run: {e}")),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Some(format!("`{import}` fails ({})", stderr.lines().last().unwrap_or("no message").trim()))
        }
        Ok(_) => None,
    }
}

/// Skips (returns true) where pyln-proto is missing, fails in CI.
fn skip_without_pyln(test: &str) -> bool {
    let Some(why) = python_missing("import pyln.proto.wire") else {
        return false;
    };
    if in_ci() {
        panic!("{why}; CI must have it (.ci/run installs {PYLN_PROTO})");
    }
    eprintln!("SKIPPED {test}: pyln-proto is not importable ({why}). Install it with: python3 -m pip install {PYLN_PROTO}");
    true
}

#[test]
fn the_kits_python_unit_tests_pass() {
    if let Some(why) = python_missing("import json, unittest") {
        if in_ci() {
            panic!("{why}");
        }
        eprintln!("SKIPPED the Python kit's unit tests: {why}");
        return;
    }
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests", "-v"])
        .current_dir(kit_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python3 -m unittest failed:\n{stderr}");
    let ran: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Ran ").and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    assert!(ran >= 30, "the kit's unit tests did not all run ({ran}):\n{stderr}");
    // tests/test_example_iut.py skips without pyln-proto; nothing else may skip, and in CI nothing at all.
    if python_missing("import pyln.proto.wire").is_none() || in_ci() {
        assert!(!stderr.contains("skipped"), "no kit unit test may skip here:\n{stderr}");
    }
}

/// Runs the runner with `adapter` over the cases `filters`; returns the JSON report.
fn run_against(adapter: &str, filters: &[&str], tag: &str) -> Value {
    let json = std::env::temp_dir().join(format!("python-kit-{tag}-{}.json", std::process::id()));
    let mut args = vec!["run".to_string(), "--adapter".into(), adapter.into(), "--json".into(), json.display().to_string()];
    for f in filters {
        args.extend(["--filter".to_string(), f.to_string()]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sidepool-conformance")).args(&args).output().unwrap();
    let report = std::fs::read_to_string(&json).unwrap_or_default();
    let _ = std::fs::remove_file(&json);
    assert!(
        out.status.success(),
        "the run against the example IUT failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&report).unwrap()
}

fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["verdict"].as_str().unwrap_or_default().to_owned(),
                c["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_python_example_iut_passes_the_wire_cases_through_the_kit_over_stdio() {
    if skip_without_pyln("the Python example IUT run") {
        return;
    }
    let started = Instant::now();
    let adapter = format!("python3 '{}' --stdio", example());
    // The SIDEPOOL-01 cases, one acceptor case (it needs a world: pools,
    // channels) and one forwarding case (it needs the `forwarding` capability).
    let report = run_against(&adapter, &["sp01.", "sp10.receiving.happy.accept", "sp10.forwarding.hops-decremented"], "stdio");
    let got = verdicts(&report);
    assert_eq!(report["iut"]["name"], "sidepool-minimal-python-iut", "hello's name reached the report");

    for id in WIRE_CASES {
        let case = got.iter().find(|(c, _, _)| c == id).unwrap_or_else(|| panic!("{id} did not run: {got:?}"));
        assert_eq!(case.1, "pass", "{id}: {}", case.2);
    }
    let mut world_cases = 0;
    for (id, verdict, reason) in &got {
        if WIRE_CASES.contains(&id.as_str()) {
            continue;
        }
        // Nothing else passes, fails or errors: it is unsupported, for the right reason.
        assert_eq!(verdict, "unsupported", "{id}: {reason}");
        if id.starts_with("sp10.forwarding.") {
            assert!(reason.contains("does not declare the `forwarding` capability"), "{id}: {reason}");
        } else {
            // Its first step asks the adapter for a world, and the kit answers `unknown_method`.
            assert!(reason.contains("unsupported (unknown_method: this IUT does not implement `set_block_height`)"), "{id}: {reason}");
            world_cases += 1;
        }
    }
    assert!(world_cases >= 9, "the sp01.codec cases and the acceptor case ran: {got:?}");
    assert!(got.iter().any(|(id, _, _)| id.starts_with("sp10.forwarding.")), "a forwarding case ran: {got:?}");
    // Bounded, not timed: a run that waited out its windows would take many seconds.
    assert!(started.elapsed() < Duration::from_secs(30), "the run took {:?}", started.elapsed());
}

/// Kills the example IUT (and its node) when the test ends, however it ends.
struct Iut(Child);
impl Drop for Iut {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_python_example_iut_serves_the_adapter_over_tcp() {
    if skip_without_pyln("the Python example IUT over TCP") {
        return;
    }
    let mut child = Command::new("python3")
        .args([example().as_str(), "--adapter-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut iut = Iut(child);
    // The IUT logs "adapter on tcp://HOST:PORT" once listening.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("adapter on tcp://") {
                let _ = tx.send(line[at + "adapter on ".len()..].trim().to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(20)).expect("the example IUT did not start its adapter");
    // Two runner connections in turn: the kit serves the next after one ends.
    for round in ["tcp-1", "tcp-2"] {
        let report = run_against(&url, &["sp01.messaging."], round);
        let got = verdicts(&report);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|(_, v, _)| v == "pass"), "{round}: {got:?}");
    }
    assert!(iut.0.try_wait().unwrap().is_none(), "the IUT keeps serving after a runner disconnects");
}
