//! The HTML report: its structure (snapshot), escaping of IUT-controlled text, bad input,
//! `run --html` / `--skip` / `--list --json`, and what a reader sees in a real headless Chromium.

use serde_json::{json, Value};
use sidepool_conformance::runner::report_html::{parse_report, render, ReportView, MAX_TRANSCRIPT_ROWS};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_sidepool-conformance")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sidepool-html-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small report as `run --json` writes it: two cases, one failing with a finding and a transcript.
fn report(name: &str, fail_reason: &str, peer_text: &str) -> Value {
    json!({
        "spec_commit": "50799b4dfa7a1647dbe05bcfa10c7061f3cd779c",
        "spec": {"revision": "upstream-50799b4", "commits": {}},
        "not_applicable": [],
        "iut": {"name": name, "version": "1.0"},
        "strict": false,
        "cases": [
            {"id": "sp10.offering.hops.range", "section": "sp10.offering.hops", "verdict": "pass", "known_failure": false,
             "requirement": {"id": "sp10.initiating-peerswap.4", "level": "MUST", "quote": "MUST set hops in 1..=10."},
             "reason": null, "findings": [], "diagnostics": [],
             "steps": [{"depth": 0, "step": "connect alice"}, {"depth": 0, "step": "expect alice peerswap_init", "level": "MUST"}],
             "duration_ms": 12,
             "transcript": [
                {"peer": "alice", "direction": "runner_to_iut", "at_ms": 1, "decoded": {"bolt_type": 16, "name": "init"}, "hex": "00100000"},
                {"peer": "alice", "at_ms": 9, "marker": "connection closed by the runner"}
             ]},
            {"id": "sp10.receiving.amount.1", "section": "sp10.receiving.amount", "verdict": "fail", "known_failure": false,
             "requirement": {"id": "sp10.receiving.1", "level": "MUST", "quote": "MUST reject an amount above the imbalance."},
             "reason": fail_reason,
             "findings": [{"step": 7, "grade": "MUST", "requirement": "sp10.receiving.1", "reading": null, "seen": "accepted", "note": null}],
             "diagnostics": ["the adapter sent an event nobody asked for"],
             "steps": [{"depth": 0, "step": "any_order"}, {"depth": 1, "step": "expect_reject alice"}],
             "duration_ms": 40,
             "transcript": [
                {"peer": "alice", "direction": "iut_to_runner", "at_ms": 5, "decoded": {"message": "peerswap_accept", "sub_id": 3, "fields": {"text": peer_text}}, "hex": "d1690003"}
             ]}
        ],
        "totals": {"pass": 1, "fail": 1},
        "stopped": null
    })
}

fn view(v: &Value) -> ReportView {
    parse_report(&v.to_string(), "fixture.json").unwrap()
}

#[test]
fn the_page_has_its_summary_grid_and_cases() {
    let page = render(&[view(&report("node-a", "step 7: accepted", "hi")), view(&report("node-b", "step 7: accepted", "hi"))]);
    insta::assert_snapshot!("report_html_two_implementations", page);
}

#[test]
fn text_from_the_iut_comes_out_inert() {
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'";
    let page = render(&[view(&report(evil, evil, &format!("</table>{evil}")))]);
    // Ours is the only script element; nothing from the report opens a tag.
    assert_eq!(page.matches("<script>").count(), 1, "{page}");
    assert!(!page.contains("<img"), "an injected tag survived");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("\u{0}"));
}

#[test]
fn no_network_and_no_external_assets() {
    let page = render(&[view(&report("node-a", "r", "x"))]);
    for needle in ["http://", "https://", "src=\"", "<link", "@import", "url("] {
        assert!(!page.contains(needle), "the page refers to something outside itself: {needle}");
    }
}

#[test]
fn long_transcripts_are_cut_with_a_note() {
    let mut r = report("node-a", "r", "x");
    let entry = r["cases"][0]["transcript"][0].clone();
    r["cases"][0]["transcript"] = Value::Array(vec![entry; MAX_TRANSCRIPT_ROWS + 25]);
    let v = view(&r);
    assert_eq!(v.cases[0].transcript.len(), MAX_TRANSCRIPT_ROWS);
    assert_eq!(v.cases[0].transcript_total, MAX_TRANSCRIPT_ROWS + 25);
    assert!(render(&[v]).contains("25 more entries: see the JSON report"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let err = |text: &str| parse_report(text, "x.json").unwrap_err();
    assert!(err("not json").contains("x.json: not JSON"), "{}", err("not json"));
    assert!(err(r#"{"iut": {}}"#).contains("not a sidepool-conformance --json report"));
    assert!(err(r#"{"cases": []}"#).contains("no \"iut\" object"));
    assert!(err(r#"{"iut": {}, "cases": [{"verdict": "pass"}]}"#).contains("case 0 has no \"id\""));
    assert!(err(r#"{"iut": {}, "cases": [{"id": "a", "verdict": "great"}]}"#).contains("unknown verdict \"great\""));

    let dir = scratch("bad");
    let not_report = dir.join("x.json");
    std::fs::write(&not_report, "[1, 2]").unwrap();
    for args in [vec![dir.join("missing.json")], vec![not_report]] {
        let out = Command::new(exe()).arg("report").arg("html").args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("sidepool-conformance report html: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_writes_the_page_and_skip_and_list_json_select() {
    let dir = scratch("run");
    let page = dir.join("r.html");
    let out = Command::new(exe()).args(["run", "--filter", "sp01.messaging", "--skip", "sp01.messaging.ping", "--html"]).arg(&page).current_dir(root()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"grid\""));
    assert!(html.contains("sp01.messaging."));
    assert!(!html.contains("sp01.messaging.ping-answered"), "--skip left the case out");
    // The temporary JSON the page was made from is gone.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("r.html")]);

    let out = Command::new(exe()).args(["run", "--list", "--json", "--filter", "sp01.messaging", "--skip", "sp01.messaging.ping"]).current_dir(root()).output().unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = list["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    assert_eq!(list["count"], cases.len());
    for c in cases {
        let id = c["id"].as_str().unwrap();
        assert!(id.starts_with("sp01.messaging") && !id.starts_with("sp01.messaging.ping"), "{id}");
        assert!(c["quote"].as_str().is_some_and(|q| !q.is_empty()));
        assert!(c["applies"].is_boolean() && c["needs"].is_array() && c["revisions"].is_array());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Debian's Chromium, or `$CHROME`.
fn browser() -> Option<PathBuf> {
    let candidates = std::env::var_os("CHROME").map(PathBuf::from).into_iter().chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from));
    candidates.into_iter().find(|p| p.is_file())
}

/// Runs the browser headless on `file` with `args`, killing it after a minute.
fn headless(chrome: &Path, profile: &Path, args: &[&str], file: &Path) -> std::process::Output {
    let mut child = Command::new(chrome)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A PNG's width and height, from its IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |r: std::ops::Range<usize>| png.get(r).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes);
    Some((be(16..20)?, be(20..24)?))
}

#[test]
fn a_reader_sees_the_report_in_headless_chromium() {
    let Some(chrome) = browser() else {
        eprintln!("SKIPPED: no Chromium (install Debian's `chromium`, or set CHROME): the HTML report was not rendered in a browser");
        return;
    };
    let dir = scratch("chromium");
    let page = dir.join("report.html");
    std::fs::write(&page, render(&[view(&report("node-a", "step 7: accepted", "hi")), view(&report("node-b", "r", "x"))])).unwrap();
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();

    // After its scripts ran: the filters are shown, every case is counted, the grid holds the verdicts.
    let dom = String::from_utf8_lossy(&headless(&chrome, &dir.join("p1"), &["--dump-dom"], &page).stdout).into_owned();
    assert!(dom.contains("data-scripts=\"ran\""), "the page's script did not run:\n{dom}");
    assert!(dom.contains("<div id=\"filters\">"), "the filters stay hidden");
    assert!(dom.contains("<span id=\"shown\">2</span>"), "the case count");
    for column in 0..2 {
        assert!(dom.contains(&format!("<a href=\"#c1-{column}\"><span class=\"v v-fail\">fail</span></a>")), "the grid's fail cell of column {column}");
    }
    assert!(dom.contains("<span class=\"v v-pass\">1 pass</span>"), "the summary counts");

    // A screenshot of the window's size that is not a blank page.
    let shot = |name: &str, file: &Path| {
        let png = dir.join(name);
        headless(&chrome, &dir.join(name.replace(".png", "")), &[&format!("--screenshot={}", png.display()), "--window-size=1280,2000", "--hide-scrollbars"], file);
        std::fs::read(&png).unwrap_or_default()
    };
    let (report_png, blank_png) = (shot("report.png", &page), shot("blank.png", &blank));
    assert_eq!(png_size(&report_png), Some((1280, 2000)), "screenshot of {} bytes", report_png.len());
    assert!(report_png.len() > 4 * blank_png.len().max(1), "the screenshot looks blank ({} bytes; a blank page: {})", report_png.len(), blank_png.len());
    let _ = std::fs::remove_dir_all(&dir);
}
