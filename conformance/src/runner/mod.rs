//! The conformance runner: cases keyed to the spec, run over the real wire
//! protocol against any implementation under test (IUT), with verdicts and
//! reports. With no target it starts the embedded reference node, a fresh one
//! per case.

pub mod arrival;
pub mod case;
pub mod crypto;
pub mod exec;
pub mod grade;
pub mod link;
pub mod matcher;
pub mod peer;
pub mod report;
pub mod report_html;
pub mod transcript;

use crate::node::adapter_link::EmbeddedLink;
use crate::node::engine_core::EngineCore;
use crate::node::{self, NodeConfig};
use crate::session::machine::SessionConfig;
use crate::transport::PrivateKey;
use case::Case;
use exec::{run_case_quiet, AdapterLink, CaseRun, Outcome, Quiet, Target};
use link::{Stall, StallKind, DEFAULT_MAX_UNRESPONSIVE};
use report::{section_of, verdict, CaseResult, Verdict};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Where the cases run.
pub enum TargetSpec {
    /// A fresh in-process reference node per case (with a deliberate defect, to test the suite).
    Embedded(Option<crate::node::defects::Defect>),
    /// The same, taking another choice the spec allows (a conforming variant, to test the suite).
    EmbeddedVariant(crate::node::variants::Variant),
    /// An IUT at an address, with its adapter link (none: passive mode), reset before each case.
    External { target: Target, adapter: Option<Box<dyn AdapterLink>> },
}

/// How far past a deadline ("hold for up to 60 seconds", "defer ... for up to
/// 5 minutes") a timer may fire and still conform, in seconds of the IUT's
/// clock. Cases require the timer's effect by the deadline plus this, and not
/// before the deadline.
pub const TIMER_TOLERANCE_S: u64 = 5;

pub struct RunOptions {
    pub filters: Vec<String>,
    /// The revision of the texts the run checks: cases that do not apply to it are not run,
    /// and the embedded node follows it (unless `embedded_spec` says otherwise).
    pub spec: case::SpecRevision,
    /// Test-only: the embedded node's revision, when it is to differ from the run's.
    pub embedded_spec: Option<case::SpecRevision>,
    pub default_wait: Duration,
    /// A case that has not finished by then fails.
    pub case_limit: Duration,
    pub known_failures: Vec<String>,
    /// After this many cases in a row in which the IUT did not respond (see
    /// [`link::DEFAULT_MAX_UNRESPONSIVE`]) the run stops and the remaining cases
    /// are `not_run`. 0: never stop.
    pub max_unresponsive: u32,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            filters: Vec::new(),
            spec: case::SpecRevision::default(),
            embedded_spec: None,
            default_wait: exec::DEFAULT_WAIT,
            case_limit: exec::DEFAULT_CASE_LIMIT,
            known_failures: Vec::new(),
            max_unresponsive: DEFAULT_MAX_UNRESPONSIVE,
        }
    }
}

/// Cases whose id starts with any filter (all when there is no filter).
pub fn select<'a>(cases: &'a [Case], filters: &[String]) -> Vec<&'a Case> {
    cases.iter().filter(|c| filters.is_empty() || filters.iter().any(|f| c.id.starts_with(f.as_str()))).collect()
}

/// The cases that apply to revision `rev`, and those that do not (not run, reported as such).
pub fn split_by_revision<'a>(cases: &[&'a Case], rev: case::SpecRevision) -> (Vec<&'a Case>, Vec<&'a Case>) {
    cases.iter().copied().partition(|c| c.applies_to(rev))
}

/// Runs `cases` that apply to `opts.spec` (the others are skipped: report them with
/// [`split_by_revision`]), calling `on_result` as each finishes (for the live view and
/// streamed reports: it may take the transcript out of the result).
pub fn run_cases(cases: &[&Case], target: &mut TargetSpec, opts: &RunOptions, on_result: impl FnMut(usize, &mut CaseResult)) -> Vec<CaseResult> {
    run_cases_quiet(cases, target, opts, Quiet::default(), on_result)
}

/// The reason of every case a stopped run did not run starts with this.
pub const NOT_RUN_PREFIX: &str = "not run: ";

/// [`run_cases`], choosing how "nothing happens" steps decide.
pub fn run_cases_quiet(
    cases: &[&Case],
    target: &mut TargetSpec,
    opts: &RunOptions,
    quiet: Quiet,
    mut on_result: impl FnMut(usize, &mut CaseResult),
) -> Vec<CaseResult> {
    let mut out = Vec::new();
    let mut template: Option<Result<StoreTemplate, String>> = None;
    let mut in_a_row = 0u32;
    let mut stopped: Option<String> = None;
    // A case that does not apply to the run's revision is never run (see `split_by_revision`).
    for (i, case) in cases.iter().enumerate().filter(|(_, c)| c.applies_to(opts.spec)) {
        let mut r = match (&stopped, &mut *target) {
            (Some(why), _) => not_run(case, why),
            (None, TargetSpec::Embedded(defect)) => {
                let template = template.get_or_insert_with(StoreTemplate::new).as_ref();
                result(case, run_embedded(case, opts, *defect, None, quiet, template), opts, Vec::new())
            }
            (None, TargetSpec::EmbeddedVariant(variant)) => {
                let template = template.get_or_insert_with(StoreTemplate::new).as_ref();
                result(case, run_embedded(case, opts, None, Some(*variant), quiet, template), opts, Vec::new())
            }
            (None, TargetSpec::External { target, adapter }) => {
                let (run, notes, silence) = run_external(case, *target, adapter.as_mut(), opts, quiet);
                match silence {
                    Some(s) => {
                        in_a_row += 1;
                        if s.kind == StallKind::Closed || (opts.max_unresponsive > 0 && in_a_row >= opts.max_unresponsive) {
                            stopped = Some(match s.kind {
                                StallKind::Closed => s.to_string(),
                                _ => format!("{s}; {in_a_row} cases in a row"),
                            });
                        }
                    }
                    None => in_a_row = 0,
                }
                result(case, run, opts, notes)
            }
        };
        on_result(i, &mut r);
        out.push(r);
    }
    out
}

/// Why the run stopped, if it did: the reason its `not_run` cases give.
pub fn stop_reason(results: &[CaseResult]) -> Option<&str> {
    results.iter().find(|r| r.verdict == Verdict::NotRun).and_then(|r| r.reason.as_deref()).map(|s| s.strip_prefix(NOT_RUN_PREFIX).unwrap_or(s))
}

fn not_run(case: &Case, why: &str) -> CaseResult {
    CaseResult {
        section: section_of(&case.id),
        verdict: Verdict::NotRun,
        reason: Some(format!("{NOT_RUN_PREFIX}{why}")),
        known_failure: false,
        case: case.clone(),
        run: CaseRun::ended(Outcome::Error(format!("{NOT_RUN_PREFIX}{why}"))),
        diagnostics: Vec::new(),
    }
}

/// At most this many adapter events are discarded (and named) at a case boundary.
const MAX_LATE_EVENTS: usize = 4096;

/// Takes the adapter events already queued, without waiting.
fn drain_events(link: &mut Box<dyn AdapterLink>) -> Vec<Value> {
    let now = Instant::now();
    std::iter::from_fn(|| link.next_event_stamped(now).map(|(_, v)| v)).take(MAX_LATE_EVENTS).collect()
}

fn event_names(events: &[Value]) -> String {
    let names: Vec<&str> = events.iter().take(8).map(|e| e.get("event").and_then(Value::as_str).unwrap_or("?")).collect();
    let more = events.len().saturating_sub(names.len());
    if more > 0 {
        format!("{} and {more} more", names.join(", "))
    } else {
        names.join(", ")
    }
}

/// One case against an external IUT: seal it from the previous case (late
/// events discarded and reported, `reset`), run it, and tell whether the IUT
/// stopped responding (an adapter call that timed out or found the adapter
/// gone, or, after a failure, a BOLT 8 handshake that no longer completes).
fn run_external(
    case: &Case,
    target: Target,
    mut adapter: Option<&mut Box<dyn AdapterLink>>,
    opts: &RunOptions,
    quiet: Quiet,
) -> (exec::CaseRun, Vec<String>, Option<Stall>) {
    let mut notes = Vec::new();
    let deadline = Instant::now() + opts.case_limit;
    if let Some(link) = adapter.as_mut() {
        let late = drain_events(link);
        if !late.is_empty() {
            notes.push(format!("{} adapter events arrived after the previous case had ended; discarded, not matched: {}", late.len(), event_names(&late)));
        }
        link.begin_case(deadline);
        // Each case starts from a reset IUT.
        if let Err(e) = link.call("reset", &serde_json::json!({})) {
            let why = match e {
                exec::AdapterError::Unsupported(m) | exec::AdapterError::Failed(m) => m,
            };
            let run = CaseRun::ended(Outcome::Error(format!("adapter reset failed: {why}")));
            notes.extend(link.take_violations().into_iter().map(|v| format!("adapter protocol violation: {v}")));
            let stall = link.take_stall();
            return (run, notes, stall);
        }
        // Events the IUT wrote before answering reset belong to no case (ADAPTER.md:
        // an event emitted while handling a request is written before its response).
        let stale = drain_events(link);
        if !stale.is_empty() {
            notes.push(format!("{} adapter events emitted before reset was answered were discarded: {}", stale.len(), event_names(&stale)));
        }
    }
    let run = run_case_quiet(case, target, adapter.as_deref_mut(), opts.default_wait, opts.case_limit, quiet);
    let mut stall = None;
    if let Some(link) = adapter.as_mut() {
        notes.extend(link.take_violations().into_iter().map(|v| format!("adapter protocol violation: {v}")));
        stall = link.take_stall();
    }
    if stall.is_none() && matches!(verdict(&run), Verdict::Fail | Verdict::Error) {
        // After a failure, is the IUT still there? A handshake tells.
        if let Err(why) = peer::probe(target.addr, target.node_id, Instant::now() + opts.default_wait) {
            notes.push(format!("liveness check after this case: {why}"));
            stall = Some(Stall { kind: StallKind::NoHandshake, detail: format!("at {}: {why}", target.addr) });
        }
    }
    (run, notes, stall)
}

fn result(case: &Case, run: exec::CaseRun, opts: &RunOptions, mut diagnostics: Vec<String>) -> CaseResult {
    let v = verdict(&run);
    let violations: Vec<&str> = diagnostics.iter().filter_map(|d| d.strip_prefix("adapter protocol violation: ")).collect();
    let reason = run.reason().map(|r| if violations.is_empty() { r } else { format!("{r} (adapter protocol violations: {})", violations.join("; ")) });
    // A revision-specific case says how the revisions differ, so a node of another
    // revision learns why it fails.
    let reason = match (reason, &case.revision_note) {
        (Some(r), Some(note)) if v == Verdict::Fail => Some(format!("{r} [revision difference: {note}]")),
        (r, _) => r,
    };
    // What the case itself noted (evidence ignored, steps not run) comes with the runner's own notes.
    diagnostics.extend(run.notes.iter().cloned());
    CaseResult {
        section: section_of(&case.id),
        verdict: v,
        reason,
        known_failure: v != Verdict::Pass && opts.known_failures.contains(&case.id),
        case: case.clone(),
        run,
        diagnostics,
    }
}

static DB_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A throwaway store path for the embedded node: in memory-backed `/dev/shm`
/// where there is one (Linux), where the node's fsyncs cost nothing; a store
/// that never outlives its case has no use for them reaching a disk.
fn temp_db() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    dir.join(format!("sidepool-embedded-{}-{}.db", std::process::id(), DB_COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)))
}

fn remove_db(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// An empty store with the schema in place, made once per run: each case's
/// node opens a copy of it. Creating the schema costs tens of milliseconds of
/// fsyncs (`synchronous = FULL`); a copy costs none, and the node opens and uses
/// it exactly as it would a store it had created.
struct StoreTemplate {
    path: std::path::PathBuf,
}

impl StoreTemplate {
    fn new() -> Result<StoreTemplate, String> {
        let path = temp_db();
        // Closed at once: SQLite checkpoints the WAL into the main file on close.
        crate::node::store::Store::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(StoreTemplate { path })
    }

    fn copy_to(&self, db: &std::path::Path) -> Result<(), String> {
        std::fs::copy(&self.path, db).map(|_| ()).map_err(|e| format!("{}: {e}", db.display()))
    }
}

impl Drop for StoreTemplate {
    fn drop(&mut self) {
        remove_db(&self.path);
    }
}

/// A fresh embedded node for one case.
#[allow(clippy::too_many_arguments)]
fn run_embedded(
    case: &Case,
    opts: &RunOptions,
    defect: Option<crate::node::defects::Defect>,
    variant: Option<crate::node::variants::Variant>,
    quiet: Quiet,
    template: Result<&StoreTemplate, &String>,
) -> exec::CaseRun {
    let key = PrivateKey::generate();
    let me = key.public_key();
    let seed = key.derive_seed("sidepool-conformance persistent htlc keys");
    let config = NodeConfig { listen: ([127, 0, 0, 1], 0).into(), key, session: SessionConfig::default(), verbose: false };
    // A throwaway store per case, so restart cases can run against the embedded node.
    let db = temp_db();
    if let Err(e) = template.map_err(Clone::clone).and_then(|t| t.copy_to(&db)) {
        return CaseRun::ended(Outcome::Error(format!("cannot make the embedded node's store: {e}")));
    }
    let core = EngineCore::new(me, String::new(), *seed)
        .with_defect(defect)
        .with_variant(variant)
        .with_revision(opts.embedded_spec.unwrap_or(opts.spec));
    let core = match core.with_store(&db) {
        Ok(c) => c,
        Err(e) => return CaseRun::ended(Outcome::Error(format!("cannot open the embedded node's store: {e}"))),
    };
    let running = match node::start_with(config, move |listen| Box::new(core.listening_on(listen))) {
        Ok(n) => n,
        Err(e) => {
            return CaseRun::ended(Outcome::Error(format!("cannot start the embedded node: {e}")))
        }
    };
    let target = Target { addr: running.listen, node_id: running.shared.node_id() };
    let mut link: Box<dyn AdapterLink> = Box::new(EmbeddedLink::new(&running.shared));
    let run = run_case_quiet(case, target, Some(&mut link), opts.default_wait, opts.case_limit, quiet);
    running.shutdown();
    remove_db(&db);
    run
}
