//! `sidepool-conformance run`: the conformance suite.

use crate::node::adapter_link::RemoteLink;
use crate::runner::case::{self, Case};
use crate::runner::exec::Target;
use crate::runner::report::{self, CaseResult, JsonReport, JunitReport, Verdict};
use crate::runner::exec::Quiet;
use crate::runner::case::SpecRevision;
use crate::runner::link::DEFAULT_MAX_UNRESPONSIVE;
use crate::runner::{run_cases_quiet, select, split_by_revision, stop_reason, RunOptions, TargetSpec};
use serde_json::json;
use sidepool_reference::units::PublicKey;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Writes a line to stdout, ignoring failures: a closed pipe (`run | head -1`)
/// must not stop the run, nor keep it from writing its reports.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The IUT's BOLT 8 address. Without it (and without --adapter), the embedded reference node is the target.
    #[arg(long, value_name = "HOST:PORT", requires = "node_id")]
    pub target: Option<std::net::SocketAddr>,
    /// The IUT's node id (33-byte compressed public key, hex).
    #[arg(long, value_name = "HEX")]
    pub node_id: Option<String>,
    /// The IUT's adapter: `tcp://HOST:PORT`, or a command speaking the adapter protocol on its stdio
    /// (conformance/ADAPTER.md). Without --target, the address and node id come from its `identity`.
    #[arg(long, value_name = "CMD|tcp://HOST:PORT")]
    pub adapter: Option<String>,
    /// The revision of the SIDEPOOL texts to check against: `seed` or `upstream-50799b4`
    /// (`upstream` = the newest upstream revision, the default). Cases that do not apply to it are
    /// not run; the embedded reference node follows it.
    #[arg(long = "spec", value_name = "REV", default_value = "upstream")]
    pub spec: String,
    /// Test-only: run the embedded node at this revision instead of --spec's.
    #[arg(long, hide = true, value_name = "REV")]
    pub node_spec: Option<String>,
    /// Run only cases whose id starts with this prefix (repeatable).
    #[arg(long, value_name = "PREFIX")]
    pub filter: Vec<String>,
    /// Leave out cases whose id starts with this prefix (repeatable; applied after --filter).
    #[arg(long, value_name = "PREFIX")]
    pub skip: Vec<String>,
    /// List the selected cases without running them.
    #[arg(long)]
    pub list: bool,
    /// SHOULD-level cases that fail count as failures.
    #[arg(long)]
    pub strict: bool,
    /// How long an expectation waits when its case gives no `within_ms`.
    #[arg(long, default_value_t = 3000, value_name = "MS")]
    pub timeout_ms: u64,
    /// A case that has not finished in this time fails.
    #[arg(long, default_value_t = 60_000, value_name = "MS")]
    pub case_timeout_ms: u64,
    /// Write a JUnit XML report (one testsuite per spec section).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report with verdicts, requirements, reasons, steps and full wire transcripts.
    /// With --list: print the list as JSON instead (id, level, requirement, quote, needs,
    /// revisions, and whether each case applies at --spec), to FILE or, without one, stdout.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report (summary, cases x verdicts grid, transcripts) at the end
    /// of the run; `report html` makes one from several `--json` reports.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Known failures of this IUT (a `--json` report or {"known_failures": [ids]}): reported, not failing.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Start the embedded node as a conforming variant (another choice the spec allows; no MUST case may fail).
    #[arg(long, value_enum, conflicts_with = "defect")]
    pub variant: Option<crate::node::variants::Variant>,
    /// Test-only: start the embedded node with a deliberate defect.
    #[arg(long, hide = true, value_enum)]
    pub defect: Option<crate::node::defects::Defect>,
    /// The case directory (default: conformance/cases).
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// How long `expect_nothing` / `expect_no_event` watch an external IUT
    /// (default: each step's own `within_ms`). The embedded node needs no window:
    /// the runner asks it when it is idle (see conformance/CASES.md).
    #[arg(long, value_name = "MS")]
    pub quiet_ms: Option<u64>,
    /// Watch the embedded node for the full window too, as for an external IUT.
    #[arg(long)]
    pub no_barrier: bool,
    /// Stop the run after this many cases in a row in which the IUT did not respond (an adapter
    /// call timed out, or its BOLT 8 address stopped completing handshakes); the remaining cases
    /// are reported `not_run`. 0: never stop. An adapter that closes its connection stops the run at once.
    #[arg(long, default_value_t = DEFAULT_MAX_UNRESPONSIVE, value_name = "N")]
    pub max_unresponsive: u32,
    /// Test-only: print the runner's peak resident memory (VmHWM) to stderr at the end.
    #[arg(long, hide = true)]
    pub print_peak_rss: bool,
}

fn load(args: &RunArgs) -> Result<Vec<Case>, String> {
    let dir = args.cases.clone().unwrap_or_else(case::default_dir);
    Ok(case::load_dir(&dir)?.into_iter().flat_map(|(_, f)| f.cases).collect())
}

/// `run --list --json`: every selected case, with whether it applies at `spec`.
fn list_json(cases: &[&Case], spec: SpecRevision) -> serde_json::Value {
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            let needs: Vec<&str> = c.needs.iter().map(|n| n.capability().unwrap_or("adapter")).collect();
            json!({"id": c.id, "level": c.level.as_str(), "requirement": c.requirement, "quote": c.quote,
                   "covers": c.covers, "needs": needs, "revisions": c.revisions, "applies": c.applies_to(spec)})
        })
        .collect();
    json!({"spec": spec.name(), "count": list.len(), "applies": cases.iter().filter(|c| c.applies_to(spec)).count(), "cases": list})
}

fn ids(cases: &[&Case]) -> String {
    cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
}

fn parse_node_id(hex_id: &str) -> Result<PublicKey, String> {
    let bytes = hex::decode(hex_id.trim()).map_err(|e| format!("--node-id: bad hex ({e})"))?;
    let arr = <[u8; 33]>::try_from(bytes.as_slice()).map_err(|_| format!("--node-id: expected 33 bytes, got {}", bytes.len()))?;
    PublicKey::from_bytes(arr).ok_or_else(|| "--node-id: not a valid compressed public key".into())
}

pub fn run(args: &RunArgs) -> i32 {
    let code = match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sidepool-conformance run: {e}");
            2
        }
    };
    if args.print_peak_rss {
        eprintln!("peak_rss_kib: {}", peak_rss_kib().map_or_else(|| "unknown".to_string(), |k| k.to_string()));
    }
    code
}

/// This process's peak resident set (VmHWM), where /proc tells it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn create(p: &PathBuf) -> Result<BufWriter<File>, String> {
    File::create(p).map(BufWriter::new).map_err(|e| format!("{}: {e}", p.display()))
}

fn run_inner(args: &RunArgs) -> Result<i32, String> {
    let spec = SpecRevision::from_name(&args.spec).map_err(|e| format!("--spec: {e}"))?;
    let node_spec = args.node_spec.as_deref().map(SpecRevision::from_name).transpose().map_err(|e| format!("--node-spec: {e}"))?;
    let all = load(args)?;
    let mut matching = select(&all, &args.filter);
    matching.retain(|c| !args.skip.iter().any(|s| c.id.starts_with(s.as_str())));
    if matching.is_empty() {
        eprintln!("no case matches the filter {:?} and --skip {:?} ({} cases known)", args.filter, args.skip, all.len());
        return Ok(1);
    }
    let (selected, not_applicable) = split_by_revision(&matching, spec);
    if let (true, Some(path)) = (args.list, &args.json) {
        let text = format!("{:#}\n", list_json(&matching, spec));
        if path.as_os_str() == "-" {
            let _ = write!(std::io::stdout().lock(), "{text}");
        } else {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        return Ok(0);
    }
    if args.json.as_ref().is_some_and(|p| p.as_os_str() == "-") {
        return Err("--json: give a file name (the run's own progress goes to standard output); `--json` alone is for --list".into());
    }
    if args.list {
        for c in &selected {
            let needs = if c.needs.is_empty() { String::new() } else { format!("  [needs {:?}]", c.needs) };
            let revs = if c.revisions.is_empty() { String::new() } else { format!("  [revisions {}]", c.revisions.join(", ")) };
            say!("{:<48} {:<9} {}{needs}{revs}", c.id, c.level.as_str(), c.requirement);
        }
        say!("{} cases at spec {}", selected.len(), spec.name());
        if !not_applicable.is_empty() {
            say!("{} cases do not apply to {}: {}", not_applicable.len(), spec.name(), ids(&not_applicable));
        }
        return Ok(0);
    }
    let known_failures = match &args.baseline {
        Some(p) => report::load_baseline(&std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?)?,
        None => Vec::new(),
    };
    let (mut target, mut iut) = choose_target(args)?;
    if matches!(target, TargetSpec::Embedded(_) | TargetSpec::EmbeddedVariant(_)) {
        iut["spec"] = json!(node_spec.unwrap_or(spec).name());
    }
    say!(
        "sidepool-conformance {}: {} cases against {} (spec {}: SIDEPOOL-10 {}{})",
        env!("CARGO_PKG_VERSION"),
        selected.len(),
        iut["name"].as_str().unwrap_or("?"),
        spec.name(),
        spec.sidepool_10_commit().get(..12).unwrap_or_default(),
        if spec == SpecRevision::NEWEST_UPSTREAM { ", the newest upstream revision" } else { "" }
    );
    if !not_applicable.is_empty() {
        say!("not run: {} cases do not apply to {}: {}", not_applicable.len(), spec.name(), ids(&not_applicable));
    }
    if selected.is_empty() {
        say!("no selected case applies to {}", spec.name());
        return Ok(1);
    }
    // The report files are opened before the run (a bad path fails now, not after it) and
    // written case by case: memory holds one case's transcript at a time.
    let run_spec = report::RunSpec { revision: spec, not_applicable: &not_applicable };
    // --html renders from the JSON report once the run is over: the --json file, or a
    // temporary one beside the page. The page's path is checked now.
    let html_json = match (&args.html, &args.json) {
        (Some(page), None) => {
            create(page)?;
            Some(page.with_extension("report.json.part"))
        }
        (Some(page), Some(json)) => {
            create(page)?;
            Some(json.clone())
        }
        (None, _) => None,
    };
    let json_path = args.json.clone().or_else(|| html_json.clone());
    let mut json = json_path.as_ref().map(|p| create(p).and_then(|f| JsonReport::start(f, &iut, args.strict, Some(&run_spec)).map_err(|e| format!("{}: {e}", p.display())))).transpose()?;
    let mut junit = args.junit.as_ref().map(|p| create(p).and_then(|f| JunitReport::start(f, &iut, args.strict, Some(spec)).map_err(|e| format!("{}: {e}", p.display())))).transpose()?;
    let mut write_error: Option<String> = None;
    let opts = RunOptions {
        filters: args.filter.clone(),
        spec,
        embedded_spec: node_spec,
        default_wait: Duration::from_millis(args.timeout_ms),
        case_limit: Duration::from_millis(args.case_timeout_ms),
        known_failures,
        max_unresponsive: args.max_unresponsive,
    };
    let total = selected.len();
    let quiet = Quiet { barrier: !args.no_barrier, window: args.quiet_ms.map(Duration::from_millis) };
    let mut announced_stop = false;
    let results = run_cases_quiet(&selected, &mut target, &opts, quiet, |i, r| {
        if r.verdict == Verdict::NotRun {
            if !announced_stop {
                announced_stop = true;
                let why = r.reason.as_deref().unwrap_or_default();
                say!("run stopped: {}", report::sanitize(why.strip_prefix(crate::runner::NOT_RUN_PREFIX).unwrap_or(why)));
                say!("             the remaining {} cases are not run", total - i);
            }
        } else {
            let tag = match (r.verdict, r.known_failure) {
                (Verdict::Pass, _) => "PASS",
                (_, true) => "KNOWN",
                (Verdict::Fail, _) => "FAIL",
                (Verdict::NonStrict, _) => "SHOULD",
                (Verdict::Informational, _) => "INFO",
                (Verdict::Unsupported, _) => "UNSUP",
                (Verdict::Error, _) => "ERROR",
                (Verdict::NotRun, _) => "NOTRUN",
            };
            say!("[{:>3}/{total}] {tag:<6} {:<48} {:>5} ms", i + 1, r.case.id, r.run.duration.as_millis());
            match r.verdict {
                Verdict::Pass | Verdict::Unsupported => {}
                Verdict::Error => {
                    if let Some(reason) = &r.reason {
                        say!("             {}", report::sanitize(reason));
                    }
                }
                _ => {
                    // One line per graded finding: what was seen, at which level, and what the reference does.
                    for f in &r.run.findings {
                        say!("             {}", report::sanitize(&f.line()));
                    }
                }
            }
            for d in &r.diagnostics {
                say!("             note: {}", report::sanitize(d));
            }
        }
        let written = json.as_mut().map_or(Ok(()), |w| w.case(r)).and_then(|()| junit.as_mut().map_or(Ok(()), |w| w.case(r)));
        if let Err(e) = written {
            write_error.get_or_insert_with(|| format!("writing the reports: {e}"));
        }
        // Written: the transcript is no longer needed (a long run keeps only verdicts).
        r.run.transcript = Vec::new();
    });
    say!();
    let _ = write!(std::io::stdout().lock(), "{}", report::summary_table(&results));
    let stopped = stop_reason(&results);
    if let Some(w) = json {
        w.finish(stopped).map_err(|e| format!("{}: {e}", json_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()))?;
    }
    if let (Some(page), Some(from)) = (&args.html, &html_json) {
        let written = super::report::load(from).and_then(|view| super::report::write_page(&crate::runner::report_html::render(&[view]), Some(page)));
        if args.json.is_none() {
            let _ = std::fs::remove_file(from);
        }
        written?;
        say!("HTML report: {}", page.display());
    }
    if let Some(w) = junit {
        w.finish().map_err(|e| format!("{}: {e}", args.junit.as_ref().map(|p| p.display().to_string()).unwrap_or_default()))?;
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    Ok(conclude(&results, &opts.known_failures, args.strict))
}

/// The target: an external IUT (with or without an adapter), or the embedded node.
fn choose_target(args: &RunArgs) -> Result<(TargetSpec, serde_json::Value), String> {
    let wait = Duration::from_millis(args.timeout_ms.max(1000) * 2);
    match (&args.adapter, &args.target, &args.node_id) {
        (Some(spec), target, node_id) => {
            let (mut link, hello) = RemoteLink::open(spec, wait)?;
            let (addr, node_id) = match (target, node_id) {
                (Some(addr), Some(id)) => {
                    let given = parse_node_id(id)?;
                    // Where the adapter can say who the IUT is, a mistyped --node-id is caught here,
                    // not as a handshake failure in every case.
                    if let Ok(identity) = link.identity() {
                        if identity.node_id != given {
                            return Err(format!(
                                "the IUT's static key is not the node id you gave: --node-id {id}, but its adapter's identity says {}",
                                hex::encode(identity.node_id.as_bytes())
                            ));
                        }
                    }
                    (*addr, given)
                }
                _ => {
                    let id = link.identity()?;
                    let addr = id.listen.parse().map_err(|e| format!("identity: listen address {:?}: {e}", id.listen))?;
                    (addr, id.node_id)
                }
            };
            let iut = json!({"name": hello.name, "version": hello.version, "address": addr.to_string(),
                             "node_id": hex::encode(node_id.as_bytes()), "adapter": spec});
            Ok((TargetSpec::External { target: Target { addr, node_id }, adapter: Some(Box::new(link)) }, iut))
        }
        (None, Some(addr), Some(id)) => {
            let node_id = parse_node_id(id)?;
            let iut = json!({"name": "external (passive mode)", "address": addr.to_string(), "node_id": id, "adapter": null});
            Ok((TargetSpec::External { target: Target { addr: *addr, node_id }, adapter: None }, iut))
        }
        _ => Ok((
            match args.variant {
                Some(v) => TargetSpec::EmbeddedVariant(v),
                None => TargetSpec::Embedded(args.defect),
            },
            json!({"name": "sidepool-conformance embedded reference node", "version": env!("CARGO_PKG_VERSION"),
                   "defect": args.defect.map(|d| format!("{d:?}")), "variant": args.variant.map(|v| format!("{v:?}"))}),
        )),
    }
}

/// Prints the baseline notes and the closing line; returns the exit status.
fn conclude(results: &[CaseResult], known: &[String], strict: bool) -> i32 {
    let failing: Vec<&CaseResult> = results.iter().filter(|r| r.verdict.fails(strict)).collect();
    let new_failures: Vec<&&CaseResult> = failing.iter().filter(|r| !r.known_failure).collect();
    for r in results.iter().filter(|r| r.verdict == Verdict::Pass && known.contains(&r.case.id)) {
        say!("now passes (was a known failure): {}", r.case.id);
    }
    if !known.is_empty() {
        for r in new_failures.iter().filter(|r| r.verdict != Verdict::NotRun) {
            say!("newly fails (not in the baseline): {}", r.case.id);
        }
    }
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let not_run = count(Verdict::NotRun);
    say!(
        "verdicts: {} pass, {} fail, {} non_strict, {} informational, {} unsupported, {} error{}{}",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::NonStrict),
        count(Verdict::Informational),
        count(Verdict::Unsupported),
        count(Verdict::Error),
        if not_run > 0 { format!(", {not_run} not run") } else { String::new() },
        if known.is_empty() { String::new() } else { format!(", {} known failures", failing.len() - new_failures.len()) }
    );
    if let Some(why) = stop_reason(results) {
        say!("the run stopped early: {}", report::sanitize(why));
    }
    say!("{} passed, {} failed, {} skipped", count(Verdict::Pass), new_failures.len(), count(Verdict::Unsupported));
    i32::from(!new_failures.is_empty())
}
