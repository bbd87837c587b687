//! Requirement coverage **in substance**: for each requirement, the code quotes
//! that match it, the conformance-case assertions and vector tests that exercise
//! it, and ERRATA waivers.
//!
//! - A code quote matches a requirement when one of its matched segments
//!   overlaps the requirement's sentence in the pinned text by at least half
//!   of the shorter of the two.
//! - A conformance case tests a requirement against an IUT only through an
//!   **assertion** resting on it at a grade of its level's class (a MUST
//!   requirement through a MUST / MUST NOT assertion, ...): a step that names it
//!   (`requirement:`), or the case's own requirement for its default-graded
//!   steps. An assertion at `reading` level tests a reading, not the rule. A
//!   case's `covers:` list alone counts for nothing (reported as "declared").
//! - A vector covers the ids of a `covers:` list in a test or a test group
//!   (named by tcId or group); a file-level `covers:` alone counts for nothing.
//! - `Waives: <id>[, <id>...]` inside an ERRATA entry waives those ids (not
//!   observable by a black-box suite, or out of scope); `Unreachable: <id>...`
//!   marks ids no input can exercise. An id ending in `*` names every id with
//!   that prefix.
//!
//! Each requirement then has one status: tested against an IUT, tested by
//! vectors only, waived, unreachable, or uncovered.
//!
//! Coverage is computed per revision of the SIDEPOOL texts: the requirements
//! of that revision (and of our own specs), the code quotes that match in that
//! revision's text, and the vectors and cases that apply to it.

use crate::quotes::{Checked, SpecSet};
use crate::requirements::{Index, Requirement};
use crate::text::{Level, Pattern};
use crate::vectors::{Case, Cover};
use serde::Serialize;
use sidepool_reference::revision::SpecRevision;
use std::collections::{BTreeMap, HashMap};

/// A requirement's byte span in its document's normalised text at revision `rev`.
pub fn requirement_span(spec: &SpecSet, rev: SpecRevision, r: &Requirement) -> Option<(usize, usize)> {
    let doc = spec.at(&r.document, rev)?;
    let own = Pattern::new(&r.quote);
    let k = own.segments.len();
    let full = Pattern::new(&r.quote_with_context());
    let m = doc
        .find(&full)
        .into_iter()
        .next()
        .or_else(|| doc.find(&own).into_iter().next())?;
    let spans = m.spans.get(m.spans.len().saturating_sub(k)..)?;
    Some((spans.first()?.0, spans.last()?.1))
}

/// Spans of every requirement at `rev` (those that could be located).
pub fn requirement_spans(spec: &SpecSet, rev: SpecRevision, reqs: &[Requirement]) -> HashMap<String, (usize, usize)> {
    reqs.iter()
        .filter_map(|r| Some((r.id.clone(), requirement_span(spec, rev, r)?)))
        .collect()
}

/// Overlap of a quote segment `a` with a requirement `b`: at least half of the
/// shorter one, and at least 16 bytes (or all of `b`), so a tiny segment such as
/// "It" before a `...` never claims every requirement it happens to touch.
pub fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    let lo = a.0.max(b.0);
    let hi = a.1.min(b.1);
    if hi <= lo {
        return false;
    }
    let overlap = hi - lo;
    let shorter = (a.1 - a.0).min(b.1 - b.0);
    overlap * 2 >= shorter && overlap >= MIN_OVERLAP.min(b.1 - b.0)
}

const MIN_OVERLAP: usize = 16;

/// Whether a checked quote matches requirement `r` (whose span at `rev` is `span`) in revision `rev`.
pub fn quote_matches(c: &Checked, r: &Requirement, rev: SpecRevision, span: (usize, usize)) -> bool {
    c.matches_at(&r.document, rev)
        .is_some_and(|ms| ms.iter().any(|m| m.spans.iter().any(|s| overlaps(*s, span))))
}

/// A waiver read from ERRATA.md.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Waiver {
    pub errata: String,
    pub pattern: String,
}

impl Waiver {
    pub fn applies(&self, id: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => self.pattern == id,
        }
    }
}

/// Reads `Waives:` lines from ERRATA.md (each inside a `## E-xx` entry).
pub fn parse_waivers(errata: &str) -> Vec<Waiver> {
    parse_tagged(errata, "Waives:")
}

/// Reads `Unreachable:` lines from ERRATA.md: requirements no input can exercise.
pub fn parse_unreachable(errata: &str) -> Vec<Waiver> {
    parse_tagged(errata, "Unreachable:")
}

fn parse_tagged(errata: &str, tag: &str) -> Vec<Waiver> {
    let mut out = Vec::new();
    let mut entry = String::new();
    for line in errata.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            entry = h.split_whitespace().next().unwrap_or_default().to_string();
            continue;
        }
        let Some(pos) = line.find(tag) else {
            continue;
        };
        let rest = line.get(pos + tag.len()..).unwrap_or_default();
        for tok in rest.split([',', ' ', '`', '*']).filter(|t| !t.is_empty()) {
            if tok.starts_with("sp") || ["loop.", "lnrod.", "blob."].iter().any(|p| tok.starts_with(p)) {
                // A trailing `*` wildcard was split off above, so look for it again.
                let pattern = if rest.contains(&format!("{tok}*")) {
                    format!("{tok}*")
                } else {
                    tok.trim_end_matches('.').to_string()
                };
                out.push(Waiver {
                    errata: entry.clone(),
                    pattern,
                });
            }
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReqCoverage {
    pub id: String,
    pub document: String,
    pub section: String,
    pub level: Level,
    pub quote: String,
    pub code: Vec<String>,
    /// Vector tests (or groups) that name it: `file (tcId N)`.
    pub vectors: Vec<String>,
    /// Case assertions that rest on it at its level: `file (case: step N kind)`.
    pub cases: Vec<String>,
    /// Cases that only list it in `covers:` (or assert it at another grade): not counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declared: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_by: Option<String>,
    pub status: Status,
}

/// What covers a requirement, in substance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A conformance-case assertion at its level exercises it against an IUT.
    TestedAgainstIut,
    /// Only vector tests exercise it (the reference, and implementations that run the vectors).
    VectorsOnly,
    /// Waived in ERRATA (not observable by a black-box suite, or out of scope).
    Waived,
    /// No input can exercise it (ERRATA `Unreachable:`).
    Unreachable,
    Uncovered,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::TestedAgainstIut => "tested against an IUT",
            Status::VectorsOnly => "vectors only",
            Status::Waived => "waived",
            Status::Unreachable => "unreachable",
            Status::Uncovered => "uncovered",
        }
    }
}

impl ReqCoverage {
    pub fn quoted(&self) -> bool {
        !self.code.is_empty()
    }
    pub fn tested(&self) -> bool {
        !self.vectors.is_empty() || !self.cases.is_empty()
    }
    /// Quoted in code and tested, or waived, or unreachable.
    pub fn complete(&self) -> bool {
        self.waived_by.is_some() || self.unreachable_by.is_some() || (self.quoted() && self.tested())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LevelTotals {
    pub total: usize,
    pub quoted: usize,
    pub tested: usize,
    pub complete: usize,
    pub waived: usize,
    pub tested_against_iut: usize,
    pub vectors_only: usize,
    pub unreachable: usize,
    pub uncovered: usize,
    pub quoted_pct: f64,
    pub tested_pct: f64,
    pub complete_pct: f64,
}

/// The headline measure: of a document's MUST / MUST NOT requirements that a
/// black-box suite can observe (neither waived nor unreachable), how many a
/// conformance-case assertion tests against an IUT.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BlackBox {
    pub document: String,
    pub must_total: usize,
    pub observable: usize,
    pub tested_against_iut: usize,
    pub tested_against_iut_pct: f64,
    pub vectors_only: Vec<String>,
    pub uncovered: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageReport {
    /// The revision of the SIDEPOOL texts (our own specs' requirements are in every report).
    pub revision: String,
    /// The upstream commit of each SIDEPOOL document at that revision.
    pub commits: BTreeMap<String, String>,
    pub totals: BTreeMap<String, LevelTotals>,
    /// Per document, the MUST / MUST NOT measure against an IUT.
    pub black_box: Vec<BlackBox>,
    pub requirements: Vec<ReqCoverage>,
    /// Ids named by vectors, cases or waivers that no revision's index has, and ids named by
    /// vectors or cases that apply to this revision but are not in it.
    pub unknown_ids: Vec<String>,
    /// MUST / MUST NOT ids neither complete nor waived.
    pub failing: Vec<String>,
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        100.0
    } else {
        ((n as f64) * 1000.0 / d as f64).round() / 10.0
    }
}

/// Computes coverage of the normative requirements of revision `rev` (from
/// `index`); vectors and cases that do not apply to `rev` are left out.
#[allow(clippy::too_many_arguments)]
pub fn compute(
    spec: &SpecSet,
    rev: SpecRevision,
    index: &Index,
    quotes: &[Checked],
    covers: &[Cover],
    cases: &[Case],
    waivers: &[Waiver],
    unreachable: &[Waiver],
) -> CoverageReport {
    let reqs = index.at(rev);
    // A file-level `covers:` names no test: it counts for nothing.
    let covers: Vec<&Cover> = covers.iter().filter(|c| c.applies(rev) && c.at != "file").collect();
    let cases: Vec<&Case> = cases.iter().filter(|c| c.applies(rev)).collect();
    let spans = requirement_spans(spec, rev, &reqs);
    let mut out = Vec::new();
    for r in reqs.iter().filter(|r| r.normative) {
        let code = match spans.get(&r.id) {
            Some(span) => quotes
                .iter()
                .filter(|c| quote_matches(c, r, rev, *span))
                .map(|c| format!("{}:{}", c.quote.file, c.quote.line))
                .collect(),
            None => Vec::new(),
        };
        let vectors = covers
            .iter()
            .filter(|c| c.ids.iter().any(|i| i == &r.id))
            .map(|c| format!("{} ({})", c.file, c.at))
            .collect();
        let case_hits: Vec<String> = cases
            .iter()
            .flat_map(|c| c.assertions_on(&r.id, r.level).into_iter().map(move |a| format!("{} ({}: {})", c.file, c.id, a.at)))
            .collect();
        let declared: Vec<String> = cases
            .iter()
            .filter(|c| c.all_ids().iter().any(|i| i == &r.id) && c.assertions_on(&r.id, r.level).is_empty())
            .map(|c| format!("{} ({})", c.file, c.id))
            .collect();
        let waived_by = waivers.iter().find(|w| w.applies(&r.id)).map(|w| w.errata.clone());
        let unreachable_by = unreachable.iter().find(|w| w.applies(&r.id)).map(|w| w.errata.clone());
        let vectors: Vec<String> = vectors;
        let status = if waived_by.is_some() {
            Status::Waived
        } else if unreachable_by.is_some() {
            Status::Unreachable
        } else if !case_hits.is_empty() {
            Status::TestedAgainstIut
        } else if !vectors.is_empty() {
            Status::VectorsOnly
        } else {
            Status::Uncovered
        };
        out.push(ReqCoverage {
            id: r.id.clone(),
            document: r.document.clone(),
            section: r.section.join(" / "),
            level: r.level,
            quote: r.quote.clone(),
            code,
            vectors,
            cases: case_hits,
            declared,
            waived_by,
            unreachable_by,
            status,
        });
    }
    let mut totals = BTreeMap::new();
    for l in Level::ALL {
        let of: Vec<&ReqCoverage> = out.iter().filter(|c| c.level == l).collect();
        let t = LevelTotals {
            total: of.len(),
            quoted: of.iter().filter(|c| c.quoted()).count(),
            tested: of.iter().filter(|c| c.tested()).count(),
            complete: of.iter().filter(|c| c.complete()).count(),
            waived: of.iter().filter(|c| c.status == Status::Waived).count(),
            tested_against_iut: of.iter().filter(|c| c.status == Status::TestedAgainstIut).count(),
            vectors_only: of.iter().filter(|c| c.status == Status::VectorsOnly).count(),
            unreachable: of.iter().filter(|c| c.status == Status::Unreachable).count(),
            uncovered: of.iter().filter(|c| c.status == Status::Uncovered).count(),
            ..LevelTotals::default()
        };
        totals.insert(
            l.as_str().to_string(),
            LevelTotals {
                quoted_pct: pct(t.quoted, t.total),
                tested_pct: pct(t.tested, t.total),
                complete_pct: pct(t.complete, t.total),
                ..t
            },
        );
    }
    let mut documents: Vec<&str> = out.iter().map(|c| c.document.as_str()).collect();
    documents.dedup();
    documents.sort_unstable();
    documents.dedup();
    let black_box = documents
        .into_iter()
        .map(|d| {
            let musts: Vec<&ReqCoverage> = out.iter().filter(|c| c.document == d && c.level.is_absolute()).collect();
            let observable: Vec<&&ReqCoverage> = musts.iter().filter(|c| !matches!(c.status, Status::Waived | Status::Unreachable)).collect();
            let tested = observable.iter().filter(|c| c.status == Status::TestedAgainstIut).count();
            BlackBox {
                document: d.to_string(),
                must_total: musts.len(),
                observable: observable.len(),
                tested_against_iut: tested,
                tested_against_iut_pct: pct(tested, observable.len()),
                vectors_only: observable.iter().filter(|c| c.status == Status::VectorsOnly).map(|c| c.id.clone()).collect(),
                uncovered: observable.iter().filter(|c| c.status == Status::Uncovered).map(|c| c.id.clone()).collect(),
            }
        })
        .collect();
    let known: std::collections::HashSet<&str> = reqs.iter().map(|r| r.id.as_str()).collect();
    let named = covers
        .iter()
        .flat_map(|c| c.ids.iter().map(move |i| (i.clone(), format!("in {} {}", c.file, c.at))))
        .chain(cases.iter().flat_map(|c| c.all_ids().into_iter().map(move |i| (i, format!("in {} case {}", c.file, c.id)))));
    let mut unknown: Vec<String> = named
        .filter(|(i, _)| !known.contains(i.as_str()))
        .map(|(i, at)| {
            let elsewhere: Vec<&str> = index.find(&i).into_iter().filter_map(|(r, _)| r).collect();
            if elsewhere.is_empty() {
                format!("{i} ({at})")
            } else {
                format!("{i} ({at}; only in revision {}, and it applies to {})", elsewhere.join(", "), rev.name())
            }
        })
        .collect();
    unknown.extend(
        cases
            .iter()
            .filter(|c| c.requirement.is_none())
            .map(|c| format!("(none) (case {} in {} has no `requirement`)", c.id, c.file)),
    );
    let all_ids: Vec<&str> = index
        .revisions
        .iter()
        .flat_map(|f| f.requirements.iter())
        .chain(index.own.iter())
        .map(|r| r.id.as_str())
        .collect();
    unknown.extend(
        waivers
            .iter()
            .filter(|w| !all_ids.iter().any(|id| w.applies(id)))
            .map(|w| format!("{} (waived by {})", w.pattern, w.errata)),
    );
    let failing = out
        .iter()
        .filter(|c| c.level.is_absolute() && !c.complete())
        .map(|c| c.id.clone())
        .collect();
    CoverageReport {
        revision: rev.name().to_string(),
        commits: rev.documents().iter().map(|(d, c)| (d.to_string(), c.to_string())).collect(),
        totals,
        black_box,
        requirements: out,
        unknown_ids: unknown,
        failing,
    }
}

fn cell(v: &[String]) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        v.join("<br>")
    }
}

/// The markdown report.
pub fn markdown(r: &CoverageReport) -> String {
    let mut s = String::from("# Requirement coverage\n\n");
    s.push_str(&format!("SIDEPOOL texts at revision `{}`", r.revision));
    let commits: Vec<String> = r.commits.iter().map(|(d, c)| format!("{d} {}", c.get(..7).unwrap_or(c))).collect();
    if !commits.is_empty() {
        s.push_str(&format!(" ({})", commits.join(", ")));
    }
    s.push_str(", and our own specs.\n\n");
    s.push_str("A requirement counts as tested only where a conformance-case assertion at its level, or a vector test naming it, exercises it (tools/src/coverage.rs).\n\n");
    s.push_str("| document | MUST / MUST NOT | observable by a black-box suite | tested against an IUT | vectors only | uncovered |\n|---|---:|---:|---:|---:|---:|\n");
    for b in &r.black_box {
        // Our own specs (Loop, LightningRod, Blobswap) have no implementation to run cases against:
        // their requirements are tested by vectors (and the model checker), which this says.
        let against_iut = if b.tested_against_iut == 0 && !b.document.starts_with("SIDEPOOL-") {
            "no IUT runner (vectors and model)".to_string()
        } else {
            format!("{} ({}%)", b.tested_against_iut, b.tested_against_iut_pct)
        };
        s.push_str(&format!("| {} | {} | {} | {against_iut} | {} | {} |\n", b.document, b.must_total, b.observable, b.vectors_only.len(), b.uncovered.len()));
    }
    s.push('\n');
    s.push_str("| level | total | quoted in code | tested against an IUT | vectors only | waived | unreachable | uncovered | complete |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (l, t) in &r.totals {
        s.push_str(&format!(
            "| {l} | {} | {} ({}%) | {} | {} | {} | {} | {} | {} ({}%) |\n",
            t.total, t.quoted, t.quoted_pct, t.tested_against_iut, t.vectors_only, t.waived, t.unreachable, t.uncovered, t.complete, t.complete_pct
        ));
    }
    s.push_str(&format!(
        "\n{} MUST / MUST NOT requirements are neither complete nor waived.\n",
        r.failing.len()
    ));
    if !r.unknown_ids.is_empty() {
        s.push_str("\n## Unknown requirement ids\n\n");
        for u in &r.unknown_ids {
            s.push_str(&format!("- {u}\n"));
        }
    }
    s.push_str("\n## Requirements\n\n| id | level | status | code | case assertions | vectors | waived / unreachable | quote |\n|---|---|---|---|---|---|---|---|\n");
    for c in &r.requirements {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.id,
            c.level,
            c.status.as_str(),
            cell(&c.code),
            cell(&c.cases),
            cell(&c.vectors),
            c.waived_by.as_deref().or(c.unreachable_by.as_deref()).unwrap_or("—"),
            c.quote.replace('|', "\\|")
        ));
    }
    s
}

/// The short summary printed on stdout.
pub fn summary(r: &CoverageReport) -> String {
    let mut s = format!("revision {}\n", r.revision);
    for (l, t) in &r.totals {
        s.push_str(&format!(
            "{l:<10} {:>4} total  {:>4} quoted  {:>4} against an IUT  {:>4} vectors only  {:>3} waived  {:>3} unreachable  {:>3} uncovered\n",
            t.total, t.quoted, t.tested_against_iut, t.vectors_only, t.waived, t.unreachable, t.uncovered
        ));
    }
    for b in r.black_box.iter().filter(|b| b.document.starts_with("SIDEPOOL-10")) {
        s.push_str(&format!(
            "{}: {} of {} observable MUST / MUST NOT tested against an IUT ({}%)\n",
            b.document, b.tested_against_iut, b.observable, b.tested_against_iut_pct
        ));
    }
    for u in &r.unknown_ids {
        s.push_str(&format!("unknown requirement id: {u}\n"));
    }
    s.push_str(&format!(
        "{} MUST / MUST NOT requirements lack a code quote or a covering test and are not waived\n",
        r.failing.len()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_rule() {
        // Half of the shorter: a short quote inside a long sentence, or the reverse.
        assert!(overlaps((10, 40), (0, 200)));
        assert!(overlaps((0, 200), (10, 40)));
        // Touching by a few bytes is not covering.
        assert!(!overlaps((0, 100), (95, 200)));
        // A two-byte segment ("It") is too small to claim a requirement.
        assert!(!overlaps((50, 52), (0, 200)));
        assert!(!overlaps((0, 10), (10, 20)));
    }

    #[test]
    fn waivers_parse_with_wildcards() {
        let w = parse_waivers("## E-70 Title\n\n- Waives: sp10.fail-path.1, `sp10.success-path.*`\n## E-71 Other\nWaives: sp01.x.2.\n");
        assert_eq!(
            w,
            vec![
                Waiver {
                    errata: "E-70".into(),
                    pattern: "sp10.fail-path.1".into()
                },
                Waiver {
                    errata: "E-70".into(),
                    pattern: "sp10.success-path.*".into()
                },
                Waiver {
                    errata: "E-71".into(),
                    pattern: "sp01.x.2".into()
                },
            ]
        );
        assert!(w[1].applies("sp10.success-path.3"));
        assert!(!w[0].applies("sp10.fail-path.10"));
    }
}
