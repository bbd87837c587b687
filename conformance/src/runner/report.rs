//! Verdicts and reports: the live human view, JSON and JUnit.

use super::case::Case;
use super::exec::{CaseRun, Outcome, TranscriptEntry};
use super::grade::{worst, Miss};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
        }
    }

    pub fn from_name(s: &str) -> Option<Verdict> {
        [Verdict::Pass, Verdict::NonStrict, Verdict::Fail, Verdict::Informational, Verdict::Unsupported, Verdict::Error]
            .into_iter()
            .find(|v| v.name() == s)
    }

    /// Whether this verdict fails the run.
    pub fn fails(self, strict: bool) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error) || (strict && self == Verdict::NonStrict)
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
}

/// The section a case id belongs to: everything before its last `.`.
pub fn section_of(id: &str) -> String {
    id.rsplit_once('.').map(|(s, _)| s.to_owned()).unwrap_or_else(|| id.to_owned())
}

/// Strips control characters before text from the IUT reaches a terminal or a report.
pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_control() && c != '\n' { '\u{fffd}' } else { c }).collect()
}

/// The summary table by section.
pub fn summary_table(results: &[CaseResult]) -> String {
    let mut by: BTreeMap<&str, BTreeMap<Verdict, usize>> = BTreeMap::new();
    for r in results {
        *by.entry(&r.section).or_default().entry(r.verdict).or_default() += 1;
    }
    let mut out = String::new();
    let _ = writeln!(out, "{:<44} {:>5} {:>5} {:>10} {:>5} {:>5} {:>5}", "section", "pass", "fail", "non_strict", "info", "unsup", "error");
    for (section, counts) in &by {
        let c = |v| counts.get(&v).copied().unwrap_or(0);
        let _ = writeln!(
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
    }
    out
}

fn transcript_json(t: &[TranscriptEntry]) -> Value {
    Value::Array(
        t.iter()
            .map(|e| {
                json!({
                    "peer": e.peer,
                    "direction": if e.outbound { "runner_to_iut" } else { "iut_to_runner" },
                    "at_ms": e.at_ms,
                    "decoded": e.decoded,
                    "hex": e.hex,
                })
            })
            .collect(),
    )
}

/// The `--json` report.
pub fn json_report(results: &[CaseResult], iut: &Value, strict: bool) -> Value {
    let cases: Vec<Value> = results
        .iter()
        .map(|r| {
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
                "notes": r.run.notes.iter().map(|n| sanitize(n)).collect::<Vec<_>>(),
                "duration_ms": r.run.duration.as_millis(),
                "transcript": transcript_json(&r.run.transcript),
            })
        })
        .collect();
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    json!({
        "spec_commit": SPEC_COMMIT,
        "iut": iut,
        "strict": strict,
        "totals": {
            "pass": count(Verdict::Pass), "fail": count(Verdict::Fail), "non_strict": count(Verdict::NonStrict),
            "informational": count(Verdict::Informational), "unsupported": count(Verdict::Unsupported),
            "error": count(Verdict::Error),
        },
        "cases": cases,
    })
}

/// The `--json` report of a run at revision `spec`: [`json_report`], with the revision, the
/// commit of every document at it, and the cases not run because they do not apply to it.
pub fn json_report_at(results: &[CaseResult], iut: &Value, strict: bool, spec: super::case::SpecRevision, not_applicable: &[&Case]) -> Value {
    let mut v = json_report(results, iut, strict);
    v["spec_commit"] = json!(spec.sidepool_10_commit());
    let commits: serde_json::Map<String, Value> = spec.documents().iter().map(|(d, c)| (d.to_string(), json!(c))).collect();
    v["spec"] = json!({"revision": spec.name(), "commits": commits});
    v["not_applicable"] = json!(not_applicable
        .iter()
        .map(|c| json!({"id": c.id, "revisions": c.revisions, "reason": format!("applies to {} only, not to {}", c.revisions.join(", "), spec.name())}))
        .collect::<Vec<_>>());
    v
}

/// The `--junit` report of a run at revision `spec` (its properties name the revision and its commit).
pub fn junit_report_at(results: &[CaseResult], iut: &Value, strict: bool, spec: super::case::SpecRevision) -> String {
    junit_report(results, iut, strict).replace(
        &format!("<property name=\"spec_commit\" value=\"{SPEC_COMMIT}\"/>"),
        &format!("<property name=\"spec_revision\" value=\"{}\"/><property name=\"spec_commit\" value=\"{}\"/>", spec.name(), spec.sidepool_10_commit()),
    )
}

fn xml_escape(s: &str) -> String {
    sanitize(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The `--junit` report: one testsuite per section.
pub fn junit_report(results: &[CaseResult], iut: &Value, strict: bool) -> String {
    let mut by: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by.entry(&r.section).or_default().push(r);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"sidepool-conformance\">");
    for (section, rs) in by {
        let failures = rs.iter().filter(|r| r.verdict.fails(strict) && !r.known_failure).count();
        let skipped = rs.iter().filter(|r| r.verdict == Verdict::Unsupported).count();
        let _ = writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">", xml_escape(section), rs.len());
        let _ = writeln!(out, "    <properties><property name=\"spec_commit\" value=\"{SPEC_COMMIT}\"/><property name=\"iut\" value=\"{}\"/></properties>", xml_escape(&iut.to_string()));
        for r in rs {
            let secs = r.run.duration.as_secs_f64();
            let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\" time=\"{secs:.3}\"", xml_escape(section), xml_escape(&r.case.id));
            let reason = xml_escape(r.reason.as_deref().unwrap_or(""));
            match r.verdict {
                v if v.fails(strict) && !r.known_failure => {
                    let _ = writeln!(out, ">\n      <failure message=\"{reason}\">{} {}</failure>\n    </testcase>", r.case.level.as_str(), xml_escape(&r.case.quote));
                }
                Verdict::Unsupported => {
                    let _ = writeln!(out, ">\n      <skipped message=\"{reason}\"/>\n    </testcase>");
                }
                _ => {
                    let _ = writeln!(out, "/>");
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
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
            .filter(|c| matches!(c.get("verdict").and_then(Value::as_str), Some("fail" | "non_strict" | "error")))
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect());
    }
    Err("baseline: expected {\"known_failures\": [...]} or a --json report".into())
}
