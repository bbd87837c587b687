//! `sidepool-conformance run`: the conformance suite.

use crate::node::adapter_link::RemoteLink;
use crate::runner::case::{self, Case};
use crate::runner::exec::Target;
use crate::runner::report::{self, CaseResult, Verdict};
use crate::runner::exec::Quiet;
use crate::runner::case::SpecRevision;
use crate::runner::{run_cases_quiet, select, split_by_revision, RunOptions, TargetSpec};
use serde_json::json;
use sidepool_reference::units::PublicKey;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Write a JSON report with verdicts, requirements, reasons and full wire transcripts.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
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
}

fn load(args: &RunArgs) -> Result<Vec<Case>, String> {
    let dir = args.cases.clone().unwrap_or_else(case::default_dir);
    Ok(case::load_dir(&dir)?.into_iter().flat_map(|(_, f)| f.cases).collect())
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
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sidepool-conformance run: {e}");
            2
        }
    }
}

fn run_inner(args: &RunArgs) -> Result<i32, String> {
    let spec = SpecRevision::from_name(&args.spec).map_err(|e| format!("--spec: {e}"))?;
    let node_spec = args.node_spec.as_deref().map(SpecRevision::from_name).transpose().map_err(|e| format!("--node-spec: {e}"))?;
    let all = load(args)?;
    let matching = select(&all, &args.filter);
    if matching.is_empty() {
        eprintln!("no case matches the filter {:?} ({} cases known)", args.filter, all.len());
        return Ok(1);
    }
    let (selected, not_applicable) = split_by_revision(&matching, spec);
    if args.list {
        for c in &selected {
            let needs = if c.needs.is_empty() { String::new() } else { format!("  [needs {:?}]", c.needs) };
            let revs = if c.revisions.is_empty() { String::new() } else { format!("  [revisions {}]", c.revisions.join(", ")) };
            println!("{:<48} {:<9} {}{needs}{revs}", c.id, c.level.as_str(), c.requirement);
        }
        println!("{} cases at spec {}", selected.len(), spec.name());
        if !not_applicable.is_empty() {
            println!("{} cases do not apply to {}: {}", not_applicable.len(), spec.name(), ids(&not_applicable));
        }
        return Ok(0);
    }
    let known_failures = match &args.baseline {
        Some(p) => report::load_baseline(&std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?)?,
        None => Vec::new(),
    };
    let (mut target, mut iut) = choose_target(args)?;
    if matches!(target, TargetSpec::Embedded(_)) {
        iut["spec"] = json!(node_spec.unwrap_or(spec).name());
    }
    println!(
        "sidepool-conformance {}: {} cases against {} (spec {}: SIDEPOOL-10 {}{})",
        env!("CARGO_PKG_VERSION"),
        selected.len(),
        iut["name"].as_str().unwrap_or("?"),
        spec.name(),
        spec.sidepool_10_commit().get(..12).unwrap_or_default(),
        if spec == SpecRevision::NEWEST_UPSTREAM { ", the newest upstream revision" } else { "" }
    );
    if !not_applicable.is_empty() {
        println!("not run: {} cases do not apply to {}: {}", not_applicable.len(), spec.name(), ids(&not_applicable));
    }
    if selected.is_empty() {
        println!("no selected case applies to {}", spec.name());
        return Ok(1);
    }
    let opts = RunOptions {
        filters: args.filter.clone(),
        spec,
        embedded_spec: node_spec,
        default_wait: Duration::from_millis(args.timeout_ms),
        case_limit: Duration::from_millis(args.case_timeout_ms),
        known_failures,
    };
    let total = selected.len();
    let stdout = std::io::stdout();
    let quiet = Quiet { barrier: !args.no_barrier, window: args.quiet_ms.map(Duration::from_millis) };
    let results = run_cases_quiet(&selected, &mut target, &opts, quiet, |i, r| {
        let mut out = stdout.lock();
        let tag = match (r.verdict, r.known_failure) {
            (Verdict::Pass, _) => "PASS",
            (_, true) => "KNOWN",
            (Verdict::Fail, _) => "FAIL",
            (Verdict::NonStrict, _) => "SHOULD",
            (Verdict::Informational, _) => "INFO",
            (Verdict::Unsupported, _) => "UNSUP",
            (Verdict::Error, _) => "ERROR",
        };
        let _ = writeln!(out, "[{:>3}/{total}] {tag:<6} {:<48} {:>5} ms", i + 1, r.case.id, r.run.duration.as_millis());
        match r.verdict {
            Verdict::Pass | Verdict::Unsupported => {}
            Verdict::Error => {
                if let Some(reason) = &r.reason {
                    let _ = writeln!(out, "             {}", report::sanitize(reason));
                }
            }
            _ => {
                // One line per graded finding: what was seen, at which level, and what the reference does.
                for f in &r.run.findings {
                    let _ = writeln!(out, "             {}", report::sanitize(&f.line()));
                }
            }
        }
        for n in &r.run.notes {
            let _ = writeln!(out, "             note: {}", report::sanitize(n));
        }
    });
    println!();
    print!("{}", report::summary_table(&results));
    if let Some(p) = &args.json {
        let text = serde_json::to_string_pretty(&report::json_report_at(&results, &iut, args.strict, spec, &not_applicable)).map_err(|e| e.to_string())?;
        std::fs::write(p, text + "\n").map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = &args.junit {
        std::fs::write(p, report::junit_report_at(&results, &iut, args.strict, spec)).map_err(|e| format!("{}: {e}", p.display()))?;
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
                (Some(addr), Some(id)) => (*addr, parse_node_id(id)?),
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
        println!("now passes (was a known failure): {}", r.case.id);
    }
    if !known.is_empty() {
        for r in &new_failures {
            println!("newly fails (not in the baseline): {}", r.case.id);
        }
    }
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    println!(
        "verdicts: {} pass, {} fail, {} non_strict, {} informational, {} unsupported, {} error{}",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::NonStrict),
        count(Verdict::Informational),
        count(Verdict::Unsupported),
        count(Verdict::Error),
        if known.is_empty() { String::new() } else { format!(", {} known failures", failing.len() - new_failures.len()) }
    );
    println!("{} passed, {} failed, {} skipped", count(Verdict::Pass), new_failures.len(), count(Verdict::Unsupported));
    i32::from(!new_failures.is_empty())
}
