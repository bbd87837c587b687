//! What an edit of a spec document touches: added, removed and changed
//! normative sentences (old and new matched by similarity, so a small edit is
//! "changed"), TLV-table changes, and for each the code quotes, vectors and
//! conformance cases that depend on it, plus every vector / code line holding a
//! number the edit changed.

use crate::coverage;
use crate::docs::{self, DocInfo};
use crate::extract::{self, SpecMessage};
use crate::quotes::{self, Checked, SpecSet};
use crate::requirements::{self, Requirement, Scope};
use crate::text::similarity;
use crate::vectors::{Case, Cover};
use serde::Serialize;
use std::path::Path;

/// Old and new sentences at least this similar are one "changed" sentence.
pub const CHANGED_THRESHOLD: f64 = 0.5;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// A place that depends on a changed sentence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Touched {
    /// Code quotes (file:line) that match the old sentence.
    pub code: Vec<String>,
    /// Vector files / tests declaring they cover the requirement.
    pub vectors: Vec<String>,
    /// Conformance cases testing the requirement.
    pub cases: Vec<String>,
    /// Lines (file:line: text) in vectors, cases and code holding a number the edit changed.
    pub numbers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SentenceChange {
    pub kind: ChangeKind,
    /// The requirement id in the pinned text (for removed and changed).
    pub old_id: Option<String>,
    /// The id it would get in the edited text (for added and changed).
    pub new_id: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub similarity: Option<f64>,
    /// Numbers present in the old sentence and not in the new one.
    pub changed_numbers: Vec<String>,
    pub touched: Touched,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TlvChange {
    pub message: String,
    pub tlv: Option<String>,
    pub what: String,
    pub touched: Touched,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImpactReport {
    pub document: String,
    pub sentences: Vec<SentenceChange>,
    pub tlvs: Vec<TlvChange>,
    /// Code quotes that match the pinned text but not the edited one.
    pub broken_quotes: Vec<String>,
}

/// Everything `impact` looks at besides the two texts.
pub struct Inputs<'a> {
    pub repo_root: &'a Path,
    pub quotes: &'a [quotes::Quote],
    pub covers: &'a [Cover],
    pub cases: &'a [Case],
    /// Files grepped for changed numbers: (display path, text).
    pub grep_files: &'a [(String, String)],
}

fn scope_for(doc: &DocInfo) -> Scope {
    requirements::SCOPES
        .iter()
        .find(|s| s.doc == doc.number)
        .copied()
        .unwrap_or(Scope {
            doc: doc.number,
            include: &[],
            exclude: &[],
        })
}

fn numbers(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Numbers of `old` that `new` no longer has (as a multiset difference).
fn changed_numbers(old: &str, new: &str) -> Vec<String> {
    let mut new_nums = numbers(new);
    let mut out = Vec::new();
    for n in numbers(old) {
        if let Some(i) = new_nums.iter().position(|x| *x == n) {
            new_nums.swap_remove(i);
        } else if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Lines holding `number` as a whole token (not part of a longer number).
fn grep_number(files: &[(String, String)], number: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (file, text) in files {
        for (i, line) in text.lines().enumerate() {
            if numbers(line).iter().any(|n| n == number) {
                out.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    out
}

fn grep_word(files: &[(String, String)], word: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (file, text) in files {
        for (i, line) in text.lines().enumerate() {
            if line.contains(word) {
                out.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    out
}

fn same(a: &Requirement, b: &Requirement) -> bool {
    a.quote == b.quote && a.context == b.context && a.level == b.level
}

/// (old index, new index, similarity) of a changed sentence.
type Pair = (usize, usize, f64);

/// Pairs old and new requirements: identical ones drop out, then the most
/// similar remaining pairs (above the threshold) are "changed". Returns the
/// pairs, the removed old indices and the added new indices.
fn pair(old: &[Requirement], new: &[Requirement]) -> (Vec<Pair>, Vec<usize>, Vec<usize>) {
    let mut old_left: Vec<usize> = Vec::new();
    let mut new_used = vec![false; new.len()];
    for (i, o) in old.iter().enumerate() {
        match new
            .iter()
            .enumerate()
            .position(|(j, n)| !new_used.get(j).copied().unwrap_or(true) && same(o, n))
        {
            Some(j) => {
                if let Some(u) = new_used.get_mut(j) {
                    *u = true;
                }
            }
            None => old_left.push(i),
        }
    }
    let new_left: Vec<usize> = (0..new.len())
        .filter(|j| !new_used.get(*j).copied().unwrap_or(true))
        .collect();
    let mut candidates = Vec::new();
    for &i in &old_left {
        for &j in &new_left {
            if let (Some(o), Some(n)) = (old.get(i), new.get(j)) {
                let sim = similarity(&o.quote_with_context(), &n.quote_with_context());
                if sim >= CHANGED_THRESHOLD {
                    candidates.push((i, j, sim));
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut pairs = Vec::new();
    let (mut oi, mut nj): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for (i, j, s) in candidates {
        if !oi.contains(&i) && !nj.contains(&j) {
            oi.push(i);
            nj.push(j);
            pairs.push((i, j, s));
        }
    }
    pairs.sort_by_key(|p| p.0);
    let removed = old_left.into_iter().filter(|i| !oi.contains(i)).collect();
    let added = new_left.into_iter().filter(|j| !nj.contains(j)).collect();
    (pairs, removed, added)
}

fn touched_by_requirement(
    r: &Requirement,
    spec: &SpecSet,
    checked: &[Checked],
    inputs: &Inputs<'_>,
    nums: &[String],
) -> Touched {
    let code = match coverage::requirement_span(spec, r) {
        Some(span) => checked
            .iter()
            .filter(|c| coverage::quote_matches(c, r, span))
            .map(|c| format!("{}:{}", c.quote.file, c.quote.line))
            .collect(),
        None => Vec::new(),
    };
    let vectors = inputs
        .covers
        .iter()
        .filter(|c| c.ids.contains(&r.id))
        .map(|c| format!("{} ({})", c.file, c.at))
        .collect();
    let cases = inputs
        .cases
        .iter()
        .filter(|c| c.all_ids().contains(&r.id))
        .map(|c| format!("{} ({})", c.file, c.id))
        .collect();
    let numbers = nums
        .iter()
        .flat_map(|n| grep_number(inputs.grep_files, n))
        .collect();
    Touched {
        code,
        vectors,
        cases,
        numbers,
    }
}

fn tlv_changes(old: &[SpecMessage], new: &[SpecMessage], inputs: &Inputs<'_>) -> Vec<TlvChange> {
    let mut out = Vec::new();
    let touched = |name: &str, nums: &[u64]| Touched {
        code: Vec::new(),
        vectors: Vec::new(),
        cases: Vec::new(),
        numbers: grep_word(inputs.grep_files, name)
            .into_iter()
            .chain(
                nums.iter()
                    .flat_map(|n| grep_number(inputs.grep_files, &n.to_string())),
            )
            .collect(),
    };
    for m in old {
        let Some(nm) = new.iter().find(|x| x.name == m.name) else {
            out.push(TlvChange {
                message: m.name.clone(),
                tlv: None,
                what: "message removed".into(),
                touched: touched(&m.name, &[]),
            });
            continue;
        };
        if nm.sub_id != m.sub_id {
            out.push(TlvChange {
                message: m.name.clone(),
                tlv: None,
                what: format!("sub-id {} -> {}", m.sub_id, nm.sub_id),
                touched: touched(&m.name, &[u64::from(m.sub_id)]),
            });
        }
        for t in &m.tlvs {
            let Some(nt) = nm.tlvs.iter().find(|x| x.name == t.name) else {
                out.push(TlvChange {
                    message: m.name.clone(),
                    tlv: Some(t.name.clone()),
                    what: "TLV removed".into(),
                    touched: touched(&t.name, &[]),
                });
                continue;
            };
            let mut what = Vec::new();
            if nt.typ != t.typ {
                what.push(format!("type {} -> {}", t.typ, nt.typ));
            }
            if nt.length_text != t.length_text {
                what.push(format!(
                    "length {:?} -> {:?}",
                    t.length_text.as_deref().unwrap_or("-"),
                    nt.length_text.as_deref().unwrap_or("-")
                ));
            }
            if nt.required != t.required {
                what.push(format!("{} -> {}", marker(t.required), marker(nt.required)));
            }
            if !what.is_empty() {
                let nums: Vec<u64> = if nt.typ != t.typ {
                    vec![t.typ]
                } else {
                    Vec::new()
                };
                out.push(TlvChange {
                    message: m.name.clone(),
                    tlv: Some(t.name.clone()),
                    what: what.join(", "),
                    touched: touched(&t.name, &nums),
                });
            }
        }
        for nt in &nm.tlvs {
            if !m.tlvs.iter().any(|t| t.name == nt.name) {
                out.push(TlvChange {
                    message: m.name.clone(),
                    tlv: Some(nt.name.clone()),
                    what: format!("TLV added ({})", nt.typ),
                    touched: Touched::default(),
                });
            }
        }
    }
    for nm in new {
        if !old.iter().any(|m| m.name == nm.name) {
            out.push(TlvChange {
                message: nm.name.clone(),
                tlv: None,
                what: format!("message added ({})", nm.sub_id),
                touched: Touched::default(),
            });
        }
    }
    out
}

fn marker(required: Option<bool>) -> &'static str {
    match required {
        Some(true) => "required",
        Some(false) => "optional",
        None => "unmarked",
    }
}

/// Compares `edited` against the pinned text of document `number`.
pub fn impact(number: &str, edited: &str, inputs: &Inputs<'_>) -> Result<ImpactReport, String> {
    let doc = docs::doc(number).ok_or_else(|| format!("unknown document {number}"))?;
    let pinned = docs::read(&docs::doc_path(inputs.repo_root, doc))?;
    let scope = scope_for(doc);
    let (old_reqs, _, _) = requirements::build_doc(doc, &scope, &pinned);
    let (new_reqs, _, _) = requirements::build_doc(doc, &scope, edited);
    let old_reqs: Vec<Requirement> = old_reqs.into_iter().filter(|r| r.normative).collect();
    let new_reqs: Vec<Requirement> = new_reqs.into_iter().filter(|r| r.normative).collect();

    let old_spec = SpecSet::load(inputs.repo_root)?;
    let doc_quotes: Vec<quotes::Quote> = inputs
        .quotes
        .iter()
        .filter(|q| docs::doc(&q.doc).map(|d| d.number) == Some(doc.number))
        .cloned()
        .collect();
    let old_checked = quotes::check_all(&old_spec, &doc_quotes);
    let new_spec = SpecSet::load(inputs.repo_root)?.with_text(doc.number, edited);
    let new_checked = quotes::check_all(&new_spec, &doc_quotes);
    let broken_quotes = old_checked
        .iter()
        .zip(&new_checked)
        .filter(|(o, n)| o.ok() && !n.ok())
        .map(|(o, _)| format!("{}:{}: \"{}\"", o.quote.file, o.quote.line, o.quote.text))
        .collect();

    let (pairs, removed, added) = pair(&old_reqs, &new_reqs);
    let mut sentences = Vec::new();
    for (i, j, sim) in pairs {
        let (Some(o), Some(n)) = (old_reqs.get(i), new_reqs.get(j)) else {
            continue;
        };
        let nums = changed_numbers(&o.quote, &n.quote);
        sentences.push(SentenceChange {
            kind: ChangeKind::Changed,
            old_id: Some(o.id.clone()),
            new_id: Some(n.id.clone()),
            old: Some(o.quote.clone()),
            new: Some(n.quote.clone()),
            similarity: Some((sim * 1000.0).round() / 1000.0),
            touched: touched_by_requirement(o, &old_spec, &old_checked, inputs, &nums),
            changed_numbers: nums,
        });
    }
    for i in removed {
        let Some(o) = old_reqs.get(i) else { continue };
        let nums: Vec<String> = Vec::new();
        sentences.push(SentenceChange {
            kind: ChangeKind::Removed,
            old_id: Some(o.id.clone()),
            new_id: None,
            old: Some(o.quote.clone()),
            new: None,
            similarity: None,
            touched: touched_by_requirement(o, &old_spec, &old_checked, inputs, &nums),
            changed_numbers: nums,
        });
    }
    for j in added {
        let Some(n) = new_reqs.get(j) else { continue };
        sentences.push(SentenceChange {
            kind: ChangeKind::Added,
            old_id: None,
            new_id: Some(n.id.clone()),
            old: None,
            new: Some(n.quote.clone()),
            similarity: None,
            changed_numbers: Vec::new(),
            touched: Touched::default(),
        });
    }

    let (old_msgs, _) = extract::parse_messages(&pinned);
    let (new_msgs, _) = extract::parse_messages(edited);
    let tlvs = tlv_changes(&old_msgs, &new_msgs, inputs);
    Ok(ImpactReport {
        document: doc.name(),
        sentences,
        tlvs,
        broken_quotes,
    })
}

fn touched_text(t: &Touched, s: &mut String) {
    let groups = [
        ("code quote", &t.code),
        ("vector", &t.vectors),
        ("case", &t.cases),
        ("holds changed value", &t.numbers),
    ];
    let mut any = false;
    for (label, items) in groups {
        for i in items.iter() {
            s.push_str(&format!("    {label}: {i}\n"));
            any = true;
        }
    }
    if !any {
        s.push_str("    (nothing in code, vectors or cases depends on it)\n");
    }
}

/// The text report.
pub fn render(r: &ImpactReport) -> String {
    let mut s = format!("impact of the edit on {}\n", r.document);
    for c in &r.sentences {
        match c.kind {
            ChangeKind::Changed => {
                s.push_str(&format!(
                    "CHANGED {} (now {}, similarity {:.2})\n  old: {}\n  new: {}\n",
                    c.old_id.as_deref().unwrap_or("?"),
                    c.new_id.as_deref().unwrap_or("?"),
                    c.similarity.unwrap_or(0.0),
                    c.old.as_deref().unwrap_or_default(),
                    c.new.as_deref().unwrap_or_default()
                ));
                if !c.changed_numbers.is_empty() {
                    s.push_str(&format!(
                        "  numbers changed: {}\n",
                        c.changed_numbers.join(", ")
                    ));
                }
            }
            ChangeKind::Removed => s.push_str(&format!(
                "REMOVED {}\n  old: {}\n",
                c.old_id.as_deref().unwrap_or("?"),
                c.old.as_deref().unwrap_or_default()
            )),
            ChangeKind::Added => s.push_str(&format!(
                "ADDED {}\n  new: {}\n",
                c.new_id.as_deref().unwrap_or("?"),
                c.new.as_deref().unwrap_or_default()
            )),
        }
        if c.kind != ChangeKind::Added {
            touched_text(&c.touched, &mut s);
        }
    }
    for t in &r.tlvs {
        s.push_str(&format!(
            "TLV {}{}: {}\n",
            t.message,
            t.tlv.as_ref().map(|n| format!(".{n}")).unwrap_or_default(),
            t.what
        ));
        touched_text(&t.touched, &mut s);
    }
    for q in &r.broken_quotes {
        s.push_str(&format!("BROKEN QUOTE {q}\n"));
    }
    let n = r.sentences.len();
    s.push_str(&format!(
        "{} normative sentence change(s), {} TLV change(s), {} code quote(s) no longer match\n",
        n,
        r.tlvs.len(),
        r.broken_quotes.len()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_changes_are_a_multiset_difference() {
        assert_eq!(
            changed_numbers("blockheight + 4032 + 1", "blockheight + 4033 + 1"),
            vec!["4032"]
        );
        assert_eq!(changed_numbers("0 to 10", "0 to 10"), Vec::<String>::new());
        let files = vec![(
            "v.yaml".to_string(),
            "a: 4032\nb: 40320\nc: x4032y\n".to_string(),
        )];
        assert_eq!(
            grep_number(&files, "4032"),
            vec!["v.yaml:1: a: 4032", "v.yaml:3: c: x4032y"]
        );
    }
}
