//! The runner against a hostile IUT (issue 14): it gives no pass the IUT did
//! not earn, finishes within its deadlines and memory bound, and says plainly
//! what the IUT did wrong. Each test starts its own hostile IUT (tests/hostile/)
//! and runs the real runner binary against it with small timeouts.
//!
//! The last group shows false passes that the case semantics close (evidence
//! tied to the step that provokes it, clean closes in `expect_disconnect`,
//! absence checks with liveness probes).

mod hostile;

use hostile::adapter::AdapterBehaviour as A;
use hostile::wire::{Handshake, InitMode, OnUnknownEven, Pongs, WireBehaviour};
use hostile::{run_runner, Iut, WireIut, MEMORY_BOUND_KIB};
use sidepool_conformance::runner::arrival::Mark;
use sidepool_conformance::runner::peer::{Closing, Ending, PongAnswer, ScriptedPeer};
use std::time::{Duration, Instant};

/// No run in these tests may take longer; past it the runner is killed and the test fails.
const GUARD: Duration = Duration::from_secs(60);

/// Small timeouts: an expectation waits 300 ms, a case at most 3 s, an adapter call 2 s.
fn quick<S: AsRef<str>>(iut_args: &[S], extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = iut_args.iter().map(|s| s.as_ref().to_owned()).collect();
    v.extend(["--timeout-ms", "300", "--case-timeout-ms", "3000"].map(str::to_owned));
    v.extend(extra.iter().map(|s| (*s).to_owned()));
    v
}

fn default_wire() -> WireBehaviour {
    WireBehaviour::default()
}

#[test]
fn an_adapter_that_never_answers_ends_the_run_at_hello() {
    let iut = Iut::start(default_wire(), A::Silent);
    let out = run_runner(&quick(&iut.args(), &[]), GUARD);
    assert_eq!(out.status, Some(2), "{}", out.explain());
    assert!(out.stderr.contains("the IUT's adapter is not responding (no answer to hello within 2000 ms)"), "{}", out.explain());
    assert!(out.wall < Duration::from_secs(10), "{}", out.explain());
}

#[test]
fn an_adapter_that_stops_answering_stops_a_full_run_within_seconds() {
    let iut = Iut::start(default_wire(), A::StallAfterIdentity);
    // Every case, as an implementer would run them.
    let out = run_runner(&quick(&iut.args(), &[]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    assert!(out.stdout.contains("run stopped: the IUT's adapter is not responding (no answer to reset within 2000 ms); 3 cases in a row"), "{}", out.explain());
    let not_run = out.verdicts("not_run");
    assert!(not_run.len() >= 100, "{} not run\n{}", not_run.len(), out.explain());
    assert_eq!(out.report["totals"]["not_run"], not_run.len());
    assert!(out.report["stopped"].as_str().unwrap_or_default().contains("not responding"), "{}", out.report["stopped"]);
    assert!(out.verdicts("pass").is_empty(), "no pass against a stalled IUT: {:?}", out.verdicts("pass"));
    // Three resets of 2 s, then the rest is not run.
    assert!(out.wall < Duration::from_secs(20), "{}", out.explain());
}

#[test]
fn a_stalled_handshake_stops_a_passive_run() {
    let iut = Iut::start(WireBehaviour { handshake: Handshake::Stall, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.passive_args(), &[]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    assert!(out.stdout.contains("the IUT is not completing BOLT 8 handshakes"), "{}", out.explain());
    let first = &out.cases()[0];
    assert!(first["reason"].as_str().unwrap_or_default().contains("did not complete the BOLT 8 handshake within"), "{first}");
    assert!(out.verdicts("pass").is_empty(), "{:?}", out.verdicts("pass"));
    assert!(!out.verdicts("not_run").is_empty(), "{}", out.explain());
    assert!(out.wall < Duration::from_secs(15), "{}", out.explain());
}

/// Every case ended by its limit (3 s), with some slack for the liveness probe.
fn within_case_limit(out: &hostile::RunOutcome) {
    for c in out.cases() {
        let ms = c["duration_ms"].as_u64().unwrap_or(u64::MAX);
        assert!(ms <= 3100, "{} took {ms} ms\n{}", c["id"], out.explain());
    }
}

#[test]
fn bytes_trickled_into_the_handshake_do_not_hold_a_case() {
    let iut = Iut::start(WireBehaviour { handshake: Handshake::Trickle, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.messaging"]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    within_case_limit(&out);
    assert!(out.verdicts("pass").is_empty(), "{:?}", out.verdicts("pass"));
    assert!(out.said("sp01.messaging.ping-answered").contains("did not complete the BOLT 8 handshake within 300 ms"), "{}", out.explain());
    // Act two alone would take 50 s at this rate.
    assert!(out.wall < Duration::from_secs(15), "{}", out.explain());
}

#[test]
fn bytes_trickled_into_a_frame_do_not_hold_a_case() {
    let iut = Iut::start(WireBehaviour { init: InitMode::Trickle, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.messaging", "--filter", "sp01.feature-bit"]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    within_case_limit(&out);
    assert!(out.verdicts("pass").is_empty(), "{:?}", out.verdicts("pass"));
    assert!(out.said("sp01.feature-bit.init-sets-1263").contains("the IUT sent no init"), "{}", out.explain());
    assert!(out.wall < Duration::from_secs(20), "{}", out.explain());
}

#[test]
fn a_flood_of_legal_wire_traffic_stays_within_the_memory_bound() {
    // 256 MiB of unknown odd messages (65 KiB each, ignored by BOLT 1) on every connection.
    let iut = Iut::start(WireBehaviour { flood_bytes: 256 << 20, ..default_wire() }, A::Inert);
    // Absence checks watch for a whole second: the runner reads all it can meanwhile.
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01", "--quiet-ms", "1000"]), GUARD);
    let peak = out.peak_rss_kib.unwrap_or(u64::MAX);
    assert!(peak < MEMORY_BOUND_KIB, "peak RSS {peak} KiB\n{}", out.explain());
    assert!(out.report_bytes < 64 << 20, "report of {} bytes", out.report_bytes);
    within_case_limit(&out);
    eprintln!("wire flood: {:?} wall, peak RSS {peak} KiB, report {} bytes", out.wall, out.report_bytes);
}

#[test]
fn a_long_exchange_keeps_a_bounded_transcript() {
    // Thousands of small legal messages: the transcript keeps the first and last ones and counts the rest.
    let iut = Iut::start(WireBehaviour { flood_bytes: 64 << 20, flood_message_len: 64, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.feature-bit.no-sidepool", "--quiet-ms", "1000"]), GUARD);
    let c = out.case("sp01.feature-bit.no-sidepool-messages-without-1263");
    let transcript = c["transcript"].as_array().cloned().unwrap_or_default();
    let elided = transcript.iter().find_map(|e| e["elided"]["messages"].as_u64()).unwrap_or(0);
    assert!(elided > 0, "no elision marker: {} entries\n{}", transcript.len(), out.explain());
    // The bound is per connection: 32 first and 32 last messages each (the case connects a control peer too).
    let mut per_peer = std::collections::BTreeMap::<String, usize>::new();
    for e in transcript.iter().filter(|e| e.get("hex").is_some()) {
        *per_peer.entry(e["peer"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    assert!(per_peer.values().all(|n| *n <= 64), "messages kept per peer: {per_peer:?}");
    let messages: usize = per_peer.values().sum();
    eprintln!("long exchange: {messages} messages kept, {elided} elided");
}

#[test]
fn a_flood_of_events_stays_within_the_memory_bound() {
    // After every reset, 192 MiB of `log` events of 512 KiB each.
    let iut = Iut::start(default_wire(), A::EventFlood { line: 512 << 10, total: 192 << 20 });
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp10.receiving.amount"]), GUARD);
    let peak = out.peak_rss_kib.unwrap_or(u64::MAX);
    assert!(peak < MEMORY_BOUND_KIB, "peak RSS {peak} KiB\n{}", out.explain());
    assert!(out.verdicts("pass").is_empty(), "{:?}", out.verdicts("pass"));
    let said: String = out.cases().iter().map(|c| c["diagnostics"].to_string()).collect();
    assert!(said.contains("events dropped") || said.contains("adapter events"), "the flood is reported: {said}");
    eprintln!("event flood: {:?} wall, peak RSS {peak} KiB", out.wall);
}

#[test]
fn junk_and_over_long_adapter_lines_are_listed_per_case() {
    for (behaviour, expected) in [
        (A::Junk, vec!["malformed line: not JSON", "a line must be a JSON object", "unknown event `bogus_event` skipped"]),
        (A::OverLong, vec!["a line longer than 1048576 bytes (dropped)"]),
    ] {
        let iut = Iut::start(default_wire(), behaviour.clone());
        let out = run_runner(&quick(&iut.args(), &["--filter", "sp10.receiving.amount"]), GUARD);
        assert_eq!(out.status, Some(1), "{behaviour:?}: {}", out.explain());
        for c in out.cases() {
            let said = format!("{} {}", c["reason"], c["diagnostics"]);
            for e in &expected {
                assert!(said.contains(e), "{behaviour:?}: {} does not mention {e:?}: {said}", c["id"]);
            }
        }
        assert!(out.stdout.contains("adapter protocol violation"), "{behaviour:?}: {}", out.explain());
    }
}

#[test]
fn wrong_response_ids_are_named_and_stop_the_run() {
    let iut = Iut::start(default_wire(), A::WrongIds);
    let out = run_runner(&quick(&iut.args(), &[]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    let first = out.cases()[0]["id"].as_str().unwrap_or_default().to_owned();
    let said = out.said(&first);
    assert!(said.contains("no answer to reset within 2000 ms"), "{said}");
    assert!(said.contains("which no pending request has"), "the stray id is named: {said}");
    assert!(out.verdicts("not_run").len() >= 100, "{}", out.explain());
    assert!(out.wall < Duration::from_secs(20), "{}", out.explain());
}

#[test]
fn unknown_method_is_unsupported_not_failed() {
    let iut = Iut::start(default_wire(), A::UnknownMethod);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp10.receiving.amount"]), GUARD);
    let cases = out.cases();
    assert!(!cases.is_empty());
    for c in &cases {
        assert_eq!(c["verdict"], "unsupported", "{c}");
        assert!(c["reason"].as_str().unwrap_or_default().contains("unknown_method"), "{c}");
    }
    assert_eq!(out.status, Some(0), "{}", out.explain());
}

#[test]
fn an_adapter_that_leaves_mid_run_stops_the_run_at_once() {
    let iut = Iut::start(default_wire(), A::ExitAtReset(3));
    let out = run_runner(&quick(&iut.args(), &[]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    assert!(out.stdout.contains("the IUT's adapter closed the connection"), "{}", out.explain());
    let cases = out.cases();
    // Not a claim about the spec: the case could not be evaluated (and the run fails).
    assert_eq!(cases[2]["verdict"], "error", "the third case's reset found the adapter gone: {}", cases[2]);
    assert_eq!(out.verdicts("not_run").len(), cases.len() - 3, "{}", out.explain());
    assert!(out.wall < Duration::from_secs(15), "{}", out.explain());
}

#[test]
fn an_unknown_even_feature_in_the_iuts_init_fails_the_connection() {
    let iut = Iut::start(WireBehaviour { init_features: vec![100, 1263], ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.feature-bit", "--filter", "sp01.messaging"]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    // The runner cannot speak to a node requiring a feature it does not know (BOLT 1:
    // it must fail the connection); that is no claim that the IUT broke a rule, so
    // each case is an `error` (which fails the run), saying why.
    for c in out.cases() {
        assert_eq!(c["verdict"], "error", "{c}");
        assert!(c["reason"].as_str().unwrap_or_default().contains("feature bits no BOLT 9 feature or SIDEPOOL defines: [100]"), "{c}");
    }
}

#[test]
fn a_connection_closed_before_the_stimulus_earns_no_disconnect() {
    // The IUT hangs up right after its my_sidepool_features: connect finds the connection
    // closed (sending its features, or in the ping round trip), so the unknown even
    // message is never "answered" by a close. (A close that merely races the stimulus
    // cannot be told apart on the wire; the peer-level test covers a close the runner has seen.)
    let iut = Iut::start(WireBehaviour { close_after_features: true, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.messaging"]), GUARD);
    assert_eq!(out.status, Some(1), "{}", out.explain());
    assert!(out.verdicts("pass").is_empty(), "{:?}", out.verdicts("pass"));
    let said = out.said("sp01.messaging.unknown-even-bolt-message-fails-the-connection");
    // Which of the two connect sees first is a race; either way the reason names the close.
    assert!(said.contains("the IUT closed the connection") || said.contains("did not answer a ping after the feature exchange (the connection closed)"), "{said}");
}

#[test]
fn a_wrong_node_id_is_named_as_such() {
    let iut = Iut::start(default_wire(), A::Inert);
    let other = sidepool_conformance::transport::PrivateKey::generate().public_key();
    let wrong = ["--target".to_owned(), iut.wire.addr.to_string(), "--node-id".to_owned(), hex::encode(other.as_bytes())];
    // Passive: only the handshake can tell.
    let out = run_runner(&quick(&wrong, &["--filter", "sp01.messaging.ping"]), GUARD);
    assert!(out.said("sp01.messaging.ping-answered").contains("its static key is not the node id you gave"), "{}", out.explain());
    // With an adapter, its identity tells before any case runs.
    let mut with_adapter = wrong.to_vec();
    with_adapter.extend(["--adapter".to_owned(), iut.adapter.url.clone()]);
    let out = run_runner(&quick(&with_adapter, &[]), GUARD);
    assert_eq!(out.status, Some(2), "{}", out.explain());
    assert!(out.stderr.contains("the IUT's static key is not the node id you gave"), "{}", out.explain());
}

/// A case file of our own, for what the shipped cases cannot show.
fn case_dir(name: &str, yaml: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hostile-cases-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cases.yaml"), yaml).unwrap();
    dir
}

const EXPECT_ANY_LOG: &str = r#"title: "an event no step provokes"
cases:
  - id: hostile.leak.any-log-event
    requirement: sp01.sidepool-messaging-protocol.1
    quote: "That is, sidepool participants MUST be Lightning Network nodes, and communicate with each other using the normal Lightning Network communications protocol."
    level: MUST
    needs: [adapter]
    steps:
      - expect_event: {event: log, within_ms: 300}
"#;

#[test]
fn an_event_left_over_before_reset_never_satisfies_a_case() {
    let dir = case_dir("leftover", EXPECT_ANY_LOG);
    let iut = Iut::start(default_wire(), A::EventBeforeResetAnswer);
    let out = run_runner(&quick(&iut.args(), &["--cases", dir.to_str().unwrap()]), GUARD);
    let _ = std::fs::remove_dir_all(&dir);
    let c = out.case("hostile.leak.any-log-event");
    assert_eq!(c["verdict"], "fail", "{}", out.explain());
    assert!(c["diagnostics"].to_string().contains("emitted before reset was answered were discarded: log"), "{c}");
}

/// Connects a scripted peer to `iut` as the runner's `connect` does (init, ping round trip).
fn peer(iut: &WireIut) -> ScriptedPeer {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut p = ScriptedPeer::connect_until("alice", iut.addr, iut.node_id, Instant::now(), deadline, Some(deadline)).unwrap();
    p.send_init(&[1263]).unwrap();
    p.await_init(deadline).unwrap();
    p
}

#[test]
fn the_scripted_peer_tells_how_a_connection_ended() {
    let soon = || Instant::now() + Duration::from_secs(2);
    let unknown_even = hex::decode("8000deadbeef").unwrap();

    let iut = WireIut::start(default_wire());
    let mut p = peer(&iut);
    p.round_trip(soon()).unwrap();
    let mark = p.send(&unknown_even).unwrap();
    match p.await_close(soon()) {
        Closing::Closed(e) => {
            assert_eq!(e.how, Ending::Eof);
            assert!(e.how.is_clean() && e.arrival.after(mark));
        }
        other => panic!("{other:?}"),
    }

    let iut = WireIut::start(WireBehaviour { on_unknown_even: OnUnknownEven::ErrorThenClose, ..default_wire() });
    let mut p = peer(&iut);
    p.send(&unknown_even).unwrap();
    match p.await_close(soon()) {
        Closing::Closed(e) => {
            assert!(matches!(&e.how, Ending::NoticeThenEof { text, .. } if text == "unknown even message type 32768"), "{:?}", e.how);
            assert!(e.how.is_clean());
        }
        other => panic!("{other:?}"),
    }

    let iut = WireIut::start(WireBehaviour { on_unknown_even: OnUnknownEven::GarbageAndStayOpen, ..default_wire() });
    let mut p = peer(&iut);
    p.send(&unknown_even).unwrap();
    match p.await_close(soon()) {
        Closing::Closed(e) => {
            assert!(matches!(e.how, Ending::BadMac(_)), "{:?}", e.how);
            assert!(!e.how.is_clean());
            assert!(e.how.to_string().contains("did not close the connection"), "{}", e.how);
        }
        other => panic!("{other:?}"),
    }

    // Closed right after the connect barrier: the ending is seen before the next message goes out.
    let iut = WireIut::start(WireBehaviour { close_after_first_pong: true, ..default_wire() });
    let mut p = peer(&iut);
    p.round_trip(soon()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let last_sent = p.last_send().unwrap();
    // The send reads what is already there first: it finds the close and sends nothing.
    let err = p.send(&unknown_even).unwrap_err();
    assert!(err.contains("the IUT closed the connection before this message was sent"), "{err}");
    assert_eq!(p.last_send(), Some(last_sent), "nothing went out");
    let after = Mark::now();
    match p.await_close(soon()) {
        Closing::Closed(e) => assert!(e.how == Ending::Eof && e.arrival.after(last_sent) && !e.arrival.after(after), "{e:?}"),
        other => panic!("{other:?}"),
    }

    // Still open at the deadline.
    let iut = WireIut::start(WireBehaviour { on_unknown_even: OnUnknownEven::GarbageAndStayOpen, ..default_wire() });
    let mut p = peer(&iut);
    assert_eq!(p.await_close(Instant::now() + Duration::from_millis(200)), Closing::StillOpen);
}

#[test]
fn pongs_are_matched_to_their_pings() {
    let soon = || Instant::now() + Duration::from_secs(2);
    let pong_to = |p: &mut ScriptedPeer| loop {
        match p.read_one(soon()).unwrap() {
            Some(m) if m.pong().is_some() => return *m.pong().unwrap(),
            Some(_) => {}
            None => panic!("no pong"),
        }
    };

    let iut = WireIut::start(default_wire());
    let mut p = peer(&iut);
    let ping = p.ping(4).unwrap();
    let pong = pong_to(&mut p);
    assert_eq!(pong.answer, PongAnswer::Answers(ping));

    let iut = WireIut::start(WireBehaviour { pongs: Pongs::WrongLengthExceptBarrier, ..default_wire() });
    let mut p = peer(&iut);
    let ping = p.ping(4).unwrap();
    let pong = pong_to(&mut p);
    assert_eq!((pong.ignored_len, pong.answer), (5, PongAnswer::WrongLength { oldest: ping }));

    // The stale pong went out with the IUT's init, before any ping: it answers none.
    let iut = WireIut::start(WireBehaviour { pongs: Pongs::StaleThenBarrierOnly, ..default_wire() });
    let mut p = peer(&iut);
    std::thread::sleep(Duration::from_millis(100));
    let ping = p.ping(4).unwrap();
    let stale = p.inbox.iter().find_map(|m| m.pong().copied());
    let stale = match stale {
        Some(s) => s,
        None => pong_to(&mut p),
    };
    assert_eq!(stale.answer, PongAnswer::Unsolicited);
    assert!(p.outstanding_pings().any(|o| *o == ping), "the case's ping is still unanswered");
}

#[test]
fn a_broken_stdout_pipe_is_quiet_and_the_report_is_still_written() {
    use std::io::BufRead;
    let json = std::env::temp_dir().join(format!("hostile-pipe-{}.json", std::process::id()));
    let mut child = std::process::Command::new(hostile::runner_bin())
        .args(["run", "--filter", "sp01", "--json"])
        .arg(&json)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        // `| head -1`: one line, then the pipe is gone.
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert!(first.starts_with("sidepool-conformance"), "{first}");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    assert_eq!(report["totals"]["pass"], report["cases"].as_array().unwrap().len());
}

fn alive(pid: &str) -> bool {
    // A zombie has ended; only its parent has not collected it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
}

/// Whether `pid` ends within a few seconds (a signalled process dies when next scheduled).
fn ends_soon(pid: &str) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn a_compound_adapter_command_is_ended_as_a_group() {
    let dir = std::env::temp_dir().join(format!("hostile-group-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("sleep.pid");
    let wait_for_pid = || {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile).ok().filter(|p| !p.trim().is_empty()) {
                return pid.trim().to_owned();
            }
            assert!(Instant::now() < until, "no pid file");
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    // An error path: the adapter never answers hello.
    let cmd = format!("sleep 600 & echo $! > {}; exec sleep 601", pidfile.display());
    let out = run_runner(&quick(&["--adapter", cmd.as_str()], &[]), GUARD);
    assert_eq!(out.status, Some(2), "{}", out.explain());
    let pid = wait_for_pid();
    assert!(ends_soon(&pid), "the adapter command's background process {pid} outlived the run");

    // A whole run through a compound command: a bash bridge to the hostile adapter whose
    // reading half runs in the background, plus a stray background process.
    let _ = std::fs::remove_file(&pidfile);
    let iut = Iut::start(default_wire(), A::Inert);
    let port = iut.adapter.url.rsplit(':').next().unwrap().to_owned();
    let cmd = format!("sleep 600 & echo $! > {}; exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}; cat <&3 & exec cat >&3'", pidfile.display());
    let out = run_runner(&quick(&["--adapter", cmd.as_str()], &["--filter", "sp01.messaging.ping"]), GUARD);
    assert!(out.cases().len() == 1, "{}", out.explain());
    let pid = wait_for_pid();
    assert!(ends_soon(&pid), "the adapter command's background process {pid} outlived the run");
    // The bridge's background reader held the adapter connection; it is gone too.
    let until = Instant::now() + Duration::from_secs(5);
    while iut.adapter.ended.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(Instant::now() < until, "the bridge outlived the run: the adapter connection is still open");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- False passes the evidence rules close (runner/exec) ---------------------------------------

#[test]
fn stale_or_wrong_length_pongs_do_not_answer_the_cases_ping() {
    // expect_type 19 must take only a pong that answers the case's own ping
    // (runner::peer::PongAnswer::Answers with that ping), arrived after it.
    for pongs in [Pongs::StaleThenBarrierOnly, Pongs::WrongLengthExceptBarrier] {
        let iut = Iut::start(WireBehaviour { pongs, ..default_wire() }, A::Inert);
        let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.messaging"]), GUARD);
        for id in ["sp01.messaging.ping-answered", "sp01.messaging.unknown-odd-bolt-message-ignored"] {
            assert_eq!(out.case(id)["verdict"], "fail", "{pongs:?} {id}: {}", out.explain());
        }
    }
}

#[test]
fn a_mac_failure_without_close_is_no_disconnect() {
    // expect_disconnect must require a clean close (runner::peer::Ending::is_clean).
    let iut = Iut::start(WireBehaviour { on_unknown_even: OnUnknownEven::GarbageAndStayOpen, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01.messaging.unknown-even"]), GUARD);
    let c = out.case("sp01.messaging.unknown-even-bolt-message-fails-the-connection");
    assert_eq!(c["verdict"], "fail", "{}", out.explain());
    assert!(c["reason"].as_str().unwrap_or_default().contains("not a valid frame"), "{c}");
}

const LATE_EVENT_BEFORE_STIMULUS: &str = r#"title: "an event that precedes the stimulus"
cases:
  - id: hostile.leak.event-before-stimulus
    requirement: sp01.sidepool-messaging-protocol.1
    quote: "That is, sidepool participants MUST be Lightning Network nodes, and communicate with each other using the normal Lightning Network communications protocol."
    level: MUST
    needs: [adapter]
    steps:
      - connect: {peer: alice}
      - expect_nothing: {peer: alice, within_ms: 400}
      - adapter: {method: set_block_height, params: {height: 800000}}
      - expect_event: {event: log, within_ms: 300}
"#;

#[test]
fn an_event_that_precedes_the_stimulus_is_no_evidence() {
    // The log event arrives 100 ms after reset, during expect_nothing, before the stimulus.
    let dir = case_dir("before-stimulus", LATE_EVENT_BEFORE_STIMULUS);
    let iut = Iut::start(default_wire(), A::EventAfterReset(Duration::from_millis(100)));
    let out = run_runner(&quick(&iut.args(), &["--cases", dir.to_str().unwrap()]), GUARD);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.case("hostile.leak.event-before-stimulus")["verdict"], "fail", "{}", out.explain());
}

#[test]
fn an_inert_iut_earns_only_the_wire_basics() {
    // An adapter that answers ok and sets nothing up; a BOLT 8 side that does
    // init, my_sidepool_features, pongs and closes on unknown even messages. It
    // earns the cases about exactly that, and no case about the world.
    let iut = Iut::start(default_wire(), A::Inert);
    let out = run_runner(&quick(&iut.args(), &[]), GUARD);
    let earned = [
        "sp01.feature-bit.init-sets-1263",
        "sp01.feature-set.sends-my-sidepool-features",
        "sp01.messaging.ping-answered",
        "sp01.messaging.unknown-odd-bolt-message-ignored",
        "sp01.messaging.unknown-even-bolt-message-fails-the-connection",
    ];
    let unearned: Vec<String> = out.verdicts("pass").into_iter().filter(|id| !earned.contains(&id.as_str())).collect();
    assert!(unearned.is_empty(), "an inert IUT passes {unearned:?}\n{}", out.explain());
    assert_eq!(out.status, Some(1));
}

#[test]
#[ignore = "measurement, not a check: HOSTILE_RUNNER_BIN=<binary> to measure another build"]
fn measure_a_stalled_adapter() {
    // With the runner's defaults, as an implementer would run it.
    let iut = Iut::start(default_wire(), A::StallAfterIdentity);
    let out = run_runner(&iut.args(), Duration::from_secs(3600));
    eprintln!("stalled adapter, defaults: {:?} wall, peak RSS {:?} KiB, exit {:?}", out.wall, out.peak_rss_kib, out.status);
}

#[test]
#[ignore = "measurement, not a check: HOSTILE_RUNNER_BIN=<binary> to measure another build"]
fn measure_a_wire_flood() {
    let iut = Iut::start(WireBehaviour { flood_bytes: 256 << 20, ..default_wire() }, A::Inert);
    let out = run_runner(&quick(&iut.args(), &["--filter", "sp01", "--quiet-ms", "1000"]), Duration::from_secs(3600));
    eprintln!("wire flood: {:?} wall, peak RSS {:?} KiB, report {} bytes, exit {:?}", out.wall, out.peak_rss_kib, out.report_bytes, out.status);
}

#[test]
fn the_embedded_node_still_runs_clean_with_small_bounds() {
    // The bounds never bite a well-behaved IUT: every case passes, no diagnostics.
    let out = run_runner(&["--filter", "sp01"], GUARD);
    assert_eq!(out.status, Some(0), "{}", out.explain());
    for c in out.cases() {
        assert_eq!(c["diagnostics"], serde_json::json!([]), "{c}");
    }
}
