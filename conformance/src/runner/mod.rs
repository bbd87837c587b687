//! The conformance runner: cases keyed to the spec, run over the real wire
//! protocol against any implementation under test (IUT), with verdicts and
//! reports. With no target it starts the embedded reference node, a fresh one
//! per case.

pub mod case;
pub mod crypto;
pub mod exec;
pub mod grade;
pub mod matcher;
pub mod peer;
pub mod report;

use crate::node::adapter_link::EmbeddedLink;
use crate::node::engine_core::EngineCore;
use crate::node::{self, NodeConfig};
use crate::session::machine::SessionConfig;
use crate::transport::PrivateKey;
use case::Case;
use exec::{run_case_quiet, AdapterLink, CaseRun, Outcome, Quiet, Target};
use report::{section_of, verdict, CaseResult, Verdict};
use std::time::Duration;

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
/// [`split_by_revision`]), calling `on_result` as each finishes (for the live view).
pub fn run_cases(cases: &[&Case], target: &mut TargetSpec, opts: &RunOptions, on_result: impl FnMut(usize, &CaseResult)) -> Vec<CaseResult> {
    run_cases_quiet(cases, target, opts, Quiet::default(), on_result)
}

/// [`run_cases`], choosing how "nothing happens" steps decide.
pub fn run_cases_quiet(
    cases: &[&Case],
    target: &mut TargetSpec,
    opts: &RunOptions,
    quiet: Quiet,
    mut on_result: impl FnMut(usize, &CaseResult),
) -> Vec<CaseResult> {
    let mut out = Vec::new();
    let mut template: Option<Result<StoreTemplate, String>> = None;
    // A case that does not apply to the run's revision is never run (see `split_by_revision`).
    for (i, case) in cases.iter().enumerate().filter(|(_, c)| c.applies_to(opts.spec)) {
        let run = match target {
            TargetSpec::Embedded(defect) => {
                let template = template.get_or_insert_with(StoreTemplate::new).as_ref();
                run_embedded(case, opts, *defect, None, quiet, template)
            }
            TargetSpec::EmbeddedVariant(variant) => {
                let template = template.get_or_insert_with(StoreTemplate::new).as_ref();
                run_embedded(case, opts, None, Some(*variant), quiet, template)
            }
            TargetSpec::External { target, adapter } => {
                let mut stale = Vec::new();
                if let Some(link) = adapter.as_mut() {
                    // Each case starts from a reset IUT. Events an IUT emits before it
                    // answers `reset` belong to earlier cases: they are dropped here, and
                    // the report says so, so that no case can pass on another's evidence.
                    let reset = link.call("reset", &serde_json::json!({}));
                    while let Some(ev) = link.next_event(std::time::Instant::now()) {
                        stale.push(ev);
                    }
                    if let Err(e) = reset {
                        let why = match e {
                            exec::AdapterError::Unsupported(m) | exec::AdapterError::Failed(m) => m,
                        };
                        out.push(result(case, CaseRun::ended(Outcome::Error(format!("adapter reset failed: {why}"))), opts));
                        if let Some(last) = out.last() {
                            on_result(i, last);
                        }
                        continue;
                    }
                }
                let mut run = run_case_quiet(case, *target, adapter.as_mut(), opts.default_wait, opts.case_limit, quiet);
                if let Some(first) = stale.first() {
                    run.notes.push(format!("{} event(s) from before this case's reset were ignored (the first: {})", stale.len(), report::sanitize(&first.to_string())));
                }
                run
            }
        };
        out.push(result(case, run, opts));
        if let Some(last) = out.last() {
            on_result(i, last);
        }
    }
    out
}

fn result(case: &Case, run: exec::CaseRun, opts: &RunOptions) -> CaseResult {
    let v = verdict(&run);
    // A revision-specific case says how the revisions differ, so a node of another
    // revision learns why it fails.
    let reason = match (run.reason(), &case.revision_note) {
        (Some(r), Some(note)) if v == Verdict::Fail => Some(format!("{r} [revision difference: {note}]")),
        (r, _) => r,
    };
    CaseResult {
        section: section_of(&case.id),
        verdict: v,
        reason,
        known_failure: v != Verdict::Pass && opts.known_failures.contains(&case.id),
        case: case.clone(),
        run,
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
