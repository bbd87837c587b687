//! Requirement coverage: for each requirement, the code quotes that match it,
//! the vectors and conformance cases that declare they cover it, and ERRATA
//! waivers.
//!
//! - A code quote matches a requirement when one of its matched segments
//!   overlaps the requirement's sentence in the pinned text by at least half
//!   of the shorter of the two.
//! - A vector file covers the ids in a `covers:` list at its top level, in a
//!   test group or in a test.
//! - A conformance case (`conformance/cases/*.yaml`) covers its
//!   `requirement` and any `covers:` ids.
//! - `Waives: <id>[, <id>...]` inside an ERRATA entry waives those ids; an id
//!   ending in `*` waives every id with that prefix.
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
    let mut out = Vec::new();
    let mut entry = String::new();
    for line in errata.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            entry = h.split_whitespace().next().unwrap_or_default().to_string();
            continue;
        }
        let Some(pos) = line.find("Waives:") else {
            continue;
        };
        let rest = line.get(pos + "Waives:".len()..).unwrap_or_default();
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
    pub vectors: Vec<String>,
    pub cases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

impl ReqCoverage {
    pub fn quoted(&self) -> bool {
        !self.code.is_empty()
    }
    pub fn tested(&self) -> bool {
        !self.vectors.is_empty() || !self.cases.is_empty()
    }
    /// Quoted in code and tested, or waived.
    pub fn complete(&self) -> bool {
        self.waived_by.is_some() || (self.quoted() && self.tested())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LevelTotals {
    pub total: usize,
    pub quoted: usize,
    pub tested: usize,
    pub complete: usize,
    pub waived: usize,
    pub quoted_pct: f64,
    pub tested_pct: f64,
    pub complete_pct: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageReport {
    /// The revision of the SIDEPOOL texts (our own specs' requirements are in every report).
    pub revision: String,
    /// The upstream commit of each SIDEPOOL document at that revision.
    pub commits: BTreeMap<String, String>,
    pub totals: BTreeMap<String, LevelTotals>,
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
pub fn compute(
    spec: &SpecSet,
    rev: SpecRevision,
    index: &Index,
    quotes: &[Checked],
    covers: &[Cover],
    cases: &[Case],
    waivers: &[Waiver],
) -> CoverageReport {
    let reqs = index.at(rev);
    let covers: Vec<&Cover> = covers.iter().filter(|c| c.applies(rev)).collect();
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
        let case_hits = cases
            .iter()
            .filter(|c| c.all_ids().iter().any(|i| i == &r.id))
            .map(|c| format!("{} ({})", c.file, c.id))
            .collect();
        let waived_by = waivers
            .iter()
            .find(|w| w.applies(&r.id))
            .map(|w| w.errata.clone());
        out.push(ReqCoverage {
            id: r.id.clone(),
            document: r.document.clone(),
            section: r.section.join(" / "),
            level: r.level,
            quote: r.quote.clone(),
            code,
            vectors,
            cases: case_hits,
            waived_by,
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
            waived: of.iter().filter(|c| c.waived_by.is_some()).count(),
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
    s.push_str("| level | total | quoted in code | tested | complete (quoted and tested, or waived) | waived |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|\n");
    for (l, t) in &r.totals {
        s.push_str(&format!(
            "| {l} | {} | {} ({}%) | {} ({}%) | {} ({}%) | {} |\n",
            t.total,
            t.quoted,
            t.quoted_pct,
            t.tested,
            t.tested_pct,
            t.complete,
            t.complete_pct,
            t.waived
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
    s.push_str("\n## Requirements\n\n| id | level | code | vectors | cases | waived | quote |\n|---|---|---|---|---|---|---|\n");
    for c in &r.requirements {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            c.id,
            c.level,
            cell(&c.code),
            cell(&c.vectors),
            cell(&c.cases),
            c.waived_by.as_deref().unwrap_or("—"),
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
            "{l:<10} {:>4} total  {:>4} quoted ({:>5}%)  {:>4} tested ({:>5}%)  {:>4} complete ({:>5}%)  {:>3} waived\n",
            t.total, t.quoted, t.quoted_pct, t.tested, t.tested_pct, t.complete, t.complete_pct, t.waived
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
