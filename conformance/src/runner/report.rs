//! Verdicts and reports: the live human view, JSON and JUnit.

use super::case::Case;
use super::exec::{CaseRun, Outcome, TranscriptEntry};
use super::grade::{worst, Miss};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The seed revision's SIDEPOOL-10 commit; [`json_report_at`] and [`junit_report_at`] name the
/// run's revision and its commits instead.
pub const SPEC_COMMIT: &str = "e3c47ad937aa49bd15d31d365dbf31015fc05422";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Pass,
    /// A SHOULD (or SHOULD NOT) not met: fails only under `--strict`.
    NonStrict,
    Fail,
    /// A MAY not taken, or a difference from one of the reference's readings: for information.
    Informational,
    Unsupported,
    /// The case could not be evaluated (a setup step failed): not a claim about
    /// the spec, but it fails the run, since nothing was shown.
    Error,
    /// The run stopped before this case (the IUT stopped responding): fails the run.
    NotRun,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::NonStrict => "non_strict",
            Verdict::Fail => "fail",
            Verdict::Informational => "informational",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
            Verdict::NotRun => "not_run",
        }
    }

    pub fn from_name(s: &str) -> Option<Verdict> {
        [Verdict::Pass, Verdict::NonStrict, Verdict::Fail, Verdict::Informational, Verdict::Unsupported, Verdict::Error, Verdict::NotRun]
            .into_iter()
            .find(|v| v.name() == s)
    }

    /// Whether this verdict fails the run.
    pub fn fails(self, strict: bool) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error | Verdict::NotRun) || (strict && self == Verdict::NonStrict)
    }
}

/// A case's verdict: unsupported and error as the run ended; otherwise the
/// worst graded finding (only a MUST / MUST NOT miss is a failure).
pub fn verdict(run: &CaseRun) -> Verdict {
    match &run.outcome {
        Outcome::Unsupported(_) => Verdict::Unsupported,
        Outcome::Error(_) => Verdict::Error,
        Outcome::Completed => match worst(&run.findings) {
            None => Verdict::Pass,
            Some(Miss::Fail) => Verdict::Fail,
            Some(Miss::NonStrict) => Verdict::NonStrict,
            Some(Miss::Informational) => Verdict::Informational,
        },
    }
}

/// One case's result, as reports show it.
pub struct CaseResult {
    pub case: Case,
    pub section: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub run: CaseRun,
    /// From `--baseline`: this case was a known failure.
    pub known_failure: bool,
    /// What the runner noticed besides the verdict: adapter protocol
    /// violations, late events discarded, the IUT no longer answering.
    pub diagnostics: Vec<String>,
}

/// The section a case id belongs to: everything before its last `.`.
pub fn section_of(id: &str) -> String {
    id.rsplit_once('.').map(|(s, _)| s.to_owned()).unwrap_or_else(|| id.to_owned())
}

/// Strips control characters before text from the IUT reaches a terminal or a
/// report, and caps it at [`MAX_TEXT_BYTES`] (an IUT's text can be long).
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_TEXT_BYTES));
    for (i, c) in s.char_indices() {
        if out.len() + 3 > MAX_TEXT_BYTES {
            let _ = write!(out, "... ({} more bytes)", s.len() - i);
            break;
        }
        out.push(if c.is_control() && c != '\n' { '\u{fffd}' } else { c });
    }
    out
}

/// The longest reason or diagnostic a report shows.
pub const MAX_TEXT_BYTES: usize = 4096;

/// The summary table by section.
pub fn summary_table(results: &[CaseResult]) -> String {
    let mut by: BTreeMap<&str, BTreeMap<Verdict, usize>> = BTreeMap::new();
    for r in results {
        *by.entry(&r.section).or_default().entry(r.verdict).or_default() += 1;
    }
    let not_run = results.iter().any(|r| r.verdict == Verdict::NotRun);
    let mut out = String::new();
    let _ = write!(out, "{:<44} {:>5} {:>5} {:>10} {:>5} {:>5} {:>5}", "section", "pass", "fail", "non_strict", "info", "unsup", "error");
    let _ = writeln!(out, "{}", if not_run { format!(" {:>7}", "not_run") } else { String::new() });
    for (section, counts) in &by {
        let c = |v| counts.get(&v).copied().unwrap_or(0);
        let _ = write!(
            out,
            "{:<44} {:>5} {:>5} {:>10} {:>5} {:>5} {:>5}",
            section,
            c(Verdict::Pass),
            c(Verdict::Fail),
            c(Verdict::NonStrict),
            c(Verdict::Informational),
            c(Verdict::Unsupported),
            c(Verdict::Error)
        );
        let _ = writeln!(out, "{}", if not_run { format!(" {:>7}", c(Verdict::NotRun)) } else { String::new() });
    }
    out
}

fn entry_json(e: &TranscriptEntry) -> Value {
    if super::transcript::is_marker(e) {
        // A marker (elision, ending, overflow): its fields stand on their own.
        let mut v = json!({"peer": e.peer, "at_ms": e.at_ms});
        if let (Some(o), Some(m)) = (v.as_object_mut(), e.decoded.as_object()) {
            o.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        return v;
    }
    json!({
        "peer": e.peer,
        "direction": if e.outbound { "runner_to_iut" } else { "iut_to_runner" },
        "at_ms": e.at_ms,
        "decoded": e.decoded,
        "hex": e.hex,
    })
}

fn totals_json(totals: &BTreeMap<Verdict, usize>) -> Value {
    let c = |v: Verdict| totals.get(&v).copied().unwrap_or(0);
    json!({
        "pass": c(Verdict::Pass), "fail": c(Verdict::Fail), "non_strict": c(Verdict::NonStrict),
        "informational": c(Verdict::Informational), "unsupported": c(Verdict::Unsupported),
        "error": c(Verdict::Error), "not_run": c(Verdict::NotRun),
    })
}

/// One case of the `--json` report, without its transcript.
fn case_head_json(r: &CaseResult) -> Value {
    json!({
        "id": r.case.id,
        "section": r.section,
        "verdict": r.verdict.name(),
        "known_failure": r.known_failure,
        "requirement": {"id": r.case.requirement, "level": r.case.level.as_str(), "quote": r.case.quote},
        "reason": r.reason.as_deref().map(sanitize),
        "findings": r.run.findings.iter().map(|f| json!({
            "step": f.step,
            "grade": f.grade.as_str(),
            "requirement": f.requirement,
            "reading": f.reading,
            "seen": sanitize(&f.seen),
            "note": f.note.as_deref().map(sanitize),
        })).collect::<Vec<_>>(),
        "diagnostics": r.diagnostics.iter().map(|d| sanitize(d)).collect::<Vec<_>>(),
        "steps": r.case.step_outline(),
        "duration_ms": r.run.duration.as_millis(),
    })
}

/// What a report says about the revision a run checks: the revision, the
/// commit of each document at it, and the cases not run because they do not apply.
pub struct RunSpec<'a> {
    pub revision: super::case::SpecRevision,
    pub not_applicable: &'a [&'a Case],
}

impl RunSpec<'_> {
    fn header_json(&self) -> String {
        let spec = self.revision;
        let commits: serde_json::Map<String, Value> = spec.documents().iter().map(|(d, c)| (d.to_string(), json!(c))).collect();
        let not_applicable: Vec<Value> = self
            .not_applicable
            .iter()
            .map(|c| json!({"id": c.id, "revisions": c.revisions, "reason": format!("applies to {} only, not to {}", c.revisions.join(", "), spec.name())}))
            .collect();
        format!(
            "\"spec_commit\": {}, \"spec\": {}, \"not_applicable\": {}",
            json!(spec.sidepool_10_commit()),
            json!({"revision": spec.name(), "commits": commits}),
            Value::Array(not_applicable)
        )
    }
}

/// The `--json` report, whole (for small runs and tests; the CLI streams it with [`JsonReport`]).
pub fn json_report(results: &[CaseResult], iut: &Value, strict: bool) -> Value {
    json_report_with(results, iut, strict, None)
}

/// The `--json` report of a run at revision `spec` (whole): [`json_report`], with the
/// revision, the commit of every document at it, and the cases it does not apply to.
pub fn json_report_at(results: &[CaseResult], iut: &Value, strict: bool, spec: super::case::SpecRevision, not_applicable: &[&Case]) -> Value {
    json_report_with(results, iut, strict, Some(&RunSpec { revision: spec, not_applicable }))
}

fn json_report_with(results: &[CaseResult], iut: &Value, strict: bool, spec: Option<&RunSpec>) -> Value {
    let mut buf = Vec::new();
    let written = JsonReport::start(&mut buf, iut, strict, spec).and_then(|mut w| {
        for r in results {
            w.case(r)?;
        }
        w.finish(super::stop_reason(results)).map(|_| ())
    });
    match written {
        Ok(()) => serde_json::from_slice(&buf).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// The `--json` report written case by case as the run goes: the header, each
/// case as it finishes (one line each), then the totals. Memory holds one case
/// at a time, whatever the run's length.
pub struct JsonReport<W: Write> {
    out: W,
    cases: usize,
    totals: BTreeMap<Verdict, usize>,
}

impl<W: Write> JsonReport<W> {
    pub fn start(mut out: W, iut: &Value, strict: bool, spec: Option<&RunSpec>) -> io::Result<JsonReport<W>> {
        let head = match spec {
            Some(s) => s.header_json(),
            None => format!("\"spec_commit\": {}", json!(SPEC_COMMIT)),
        };
        write!(out, "{{{head}, \"iut\": {iut}, \"strict\": {strict},\n\"cases\": [")?;
        Ok(JsonReport { out, cases: 0, totals: BTreeMap::new() })
    }

    pub fn case(&mut self, r: &CaseResult) -> io::Result<()> {
        *self.totals.entry(r.verdict).or_default() += 1;
        let head = serde_json::to_string(&case_head_json(r)).map_err(io::Error::other)?;
        // The head's closing brace gives way to the transcript, written entry by entry.
        let head = head.strip_suffix('}').unwrap_or(&head);
        write!(self.out, "{}\n{head}, \"transcript\": [", if self.cases == 0 { "" } else { "," })?;
        for (i, e) in r.run.transcript.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b", ")?;
            }
            serde_json::to_writer(&mut self.out, &entry_json(e)).map_err(io::Error::other)?;
        }
        self.out.write_all(b"]}")?;
        self.cases += 1;
        Ok(())
    }

    /// Closes the report with the totals and, for a stopped run, why it stopped.
    pub fn finish(mut self, stopped: Option<&str>) -> io::Result<W> {
        write!(self.out, "\n],\n\"totals\": {},\n\"stopped\": {}}}\n", totals_json(&self.totals), json!(stopped.map(sanitize)))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Text for XML or HTML content and attribute values (JUnit and `report html`), after
/// [`sanitize`]: markup characters and both quotes escaped.
pub fn markup_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in sanitize(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `--junit` report: one testsuite per section (whole; the CLI streams it with [`JunitReport`]).
pub fn junit_report(results: &[CaseResult], iut: &Value, strict: bool) -> String {
    junit_report_with(results, iut, strict, None)
}

/// The `--junit` report of a run at revision `spec` (its properties name the revision and its commit).
pub fn junit_report_at(results: &[CaseResult], iut: &Value, strict: bool, spec: super::case::SpecRevision) -> String {
    junit_report_with(results, iut, strict, Some(spec))
}

fn junit_report_with(results: &[CaseResult], iut: &Value, strict: bool, spec: Option<super::case::SpecRevision>) -> String {
    let mut by: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by.entry(&r.section).or_default().push(r);
    }
    let mut buf = Vec::new();
    let written = JunitReport::start(&mut buf, iut, strict, spec).and_then(|mut w| {
        for r in by.into_values().flatten() {
            w.case(r)?;
        }
        w.finish().map(|_| ())
    });
    match written {
        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => String::new(),
    }
}

/// The `--junit` report written as the run goes: a `<testsuite>` for each run
/// of consecutive cases of one section (cases come grouped by section, so
/// normally one per section), written when the next section starts. A `not_run`
/// or `error` case is an `<error>`: it fails CI like a failure.
pub struct JunitReport<W: Write> {
    out: W,
    strict: bool,
    iut: String,
    /// The properties naming the spec: the run's revision and its commit.
    spec_props: String,
    section: Option<String>,
    /// The current suite's testcases, written when it closes (its counts come first).
    pending: Vec<String>,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl<W: Write> JunitReport<W> {
    pub fn start(mut out: W, iut: &Value, strict: bool, spec: Option<super::case::SpecRevision>) -> io::Result<JunitReport<W>> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sidepool-conformance\">\n")?;
        let spec_props = match spec {
            Some(spec) => format!("<property name=\"spec_revision\" value=\"{}\"/><property name=\"spec_commit\" value=\"{}\"/>", spec.name(), spec.sidepool_10_commit()),
            None => format!("<property name=\"spec_commit\" value=\"{SPEC_COMMIT}\"/>"),
        };
        Ok(JunitReport { out, strict, iut: markup_escape(&iut.to_string()), spec_props, section: None, pending: Vec::new(), failures: 0, errors: 0, skipped: 0 })
    }

    pub fn case(&mut self, r: &CaseResult) -> io::Result<()> {
        if self.section.as_deref() != Some(r.section.as_str()) {
            self.close_suite()?;
            self.section = Some(r.section.clone());
        }
        let section = markup_escape(&r.section);
        let secs = r.run.duration.as_secs_f64();
        let mut out = format!("    <testcase classname=\"{section}\" name=\"{}\" time=\"{secs:.3}\"", markup_escape(&r.case.id));
        let reason = markup_escape(r.reason.as_deref().unwrap_or(""));
        let notes = if r.diagnostics.is_empty() {
            String::new()
        } else {
            let text: Vec<String> = r.diagnostics.iter().map(|d| markup_escape(d)).collect();
            format!("\n      <system-out>{}</system-out>", text.join("\n"))
        };
        match r.verdict {
            v @ (Verdict::NotRun | Verdict::Error) if !r.known_failure => {
                self.errors += 1;
                let _ = write!(out, ">\n      <error type=\"{}\" message=\"{reason}\"/>{notes}\n    </testcase>", v.name());
            }
            v if v.fails(self.strict) && !r.known_failure => {
                self.failures += 1;
                let _ = write!(out, ">\n      <failure message=\"{reason}\">{} {}</failure>{notes}\n    </testcase>", r.case.level.as_str(), markup_escape(&r.case.quote));
            }
            Verdict::Unsupported => {
                self.skipped += 1;
                let _ = write!(out, ">\n      <skipped message=\"{reason}\"/>{notes}\n    </testcase>");
            }
            _ if !notes.is_empty() => {
                let _ = write!(out, ">{notes}\n    </testcase>");
            }
            _ => out.push_str("/>"),
        }
        self.pending.push(out);
        Ok(())
    }

    fn close_suite(&mut self) -> io::Result<()> {
        let Some(section) = self.section.take() else { return Ok(()) };
        writeln!(
            self.out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            markup_escape(&section),
            self.pending.len(),
            self.failures,
            self.errors,
            self.skipped
        )?;
        writeln!(self.out, "    <properties>{}<property name=\"iut\" value=\"{}\"/></properties>", self.spec_props, self.iut)?;
        for case in self.pending.drain(..) {
            writeln!(self.out, "{case}")?;
        }
        writeln!(self.out, "  </testsuite>")?;
        (self.failures, self.errors, self.skipped) = (0, 0, 0);
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.close_suite()?;
        self.out.write_all(b"</testsuites>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A `--baseline` file: `{"known_failures": ["case id", ...]}` (a `--json` report also works:
/// its failing cases are taken as known).
pub fn load_baseline(text: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("baseline: not JSON ({e})"))?;
    if let Some(list) = v.get("known_failures").and_then(Value::as_array) {
        return list.iter().map(|x| x.as_str().map(str::to_owned).ok_or_else(|| "baseline: ids must be strings".to_string())).collect();
    }
    if let Some(cases) = v.get("cases").and_then(Value::as_array) {
        return Ok(cases
            .iter()
            .filter(|c| matches!(c.get("verdict").and_then(Value::as_str), Some("fail" | "non_strict" | "error" | "not_run")))
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect());
    }
    Err("baseline: expected {\"known_failures\": [...]} or a --json report".into())
}
