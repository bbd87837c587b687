//! What an edit of the SIDEPOOL texts touches: between two revisions
//! (`--from REV --to REV`), or between a revision and an edited copy of one of
//! its documents (`--spec FILE --doc NN`).
//!
//! Per document: sections removed, renamed and added; definitions (from
//! `spec-mirror/sidepool/definitions.yaml`) removed, changed or moved;
//! normative sentences changed, added and removed (by requirement id, aligned
//! exactly as the index aligns revisions); the prose of the indexed text
//! changed, added and removed; TLV-table changes; named constants changed.
//! Across documents: links (intra- and cross-document) that no longer
//! resolve, and those that did not resolve before either; code quotes that
//! match the old text and not the new.
//!
//! Each change lists what depends on it, from recorded data only: code quotes
//! that match the old sentence, vectors and cases that cover the requirement
//! (and apply to the old revision), requirements listed in a definition's
//! `used_by`, cases and vectors that declare `depends_on` the definition (or a
//! definition built on it), and the lines that hold a changed number or a
//! TLV / constant name. Nothing is guessed from words.

use crate::coverage;
use crate::definitions::{self, Definition, DefinitionsFile, Presence};
use crate::docs::{self, DocInfo};
use crate::extract::{self, SpecConstant, SpecMessage};
use crate::markdown::{self, Heading};
use crate::quotes::{self, Checked, SpecSet, Verdict};
use crate::requirements::{self, Prose, Requirement, RequirementsFile, Scope};
use crate::text::{similarity, NormDoc, Pattern};
use crate::vectors::{Case, Cover, VectorFileDecl};
use serde::Serialize;
use sidepool_reference::revision::SpecRevision;
use std::collections::BTreeSet;
use std::path::Path;

/// Old and new prose sentences at least this similar are one "changed" sentence.
pub const CHANGED_THRESHOLD: f64 = 0.5;

/// Old and new sections whose bodies are at least this similar are one "renamed" section.
pub const RENAMED_THRESHOLD: f64 = 0.5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// What depends on a change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Touched {
    /// Requirement ids (with why, for those reached through a definition or a section).
    pub requirements: Vec<String>,
    /// Code quotes (file:line) that match the old text.
    pub code: Vec<String>,
    /// Vector files / tests declaring they cover the requirement or depend on the definition.
    pub vectors: Vec<String>,
    /// Conformance cases testing the requirement or depending on the definition.
    pub cases: Vec<String>,
    /// Lines (file:line: text) in vectors, cases and code holding a number or name the edit changed.
    pub numbers: Vec<String>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && self.code.is_empty() && self.vectors.is_empty() && self.cases.is_empty() && self.numbers.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionChange {
    pub kind: ChangeKind,
    /// The heading path in the old text (removed, renamed) or the new one (added).
    pub old: Option<Vec<String>>,
    pub new: Option<Vec<String>>,
    /// True for a rename: the heading changed, the body stayed (similarity of the bodies).
    pub renamed: bool,
    pub similarity: Option<f64>,
    pub old_line: Option<usize>,
    pub new_line: Option<usize>,
    pub touched: Touched,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DefinitionChange {
    pub id: String,
    pub term: String,
    pub kind: ChangeKind,
    /// Where it stood before and after.
    pub old: Presence,
    pub new: Presence,
    /// Defined under another heading now (the text still defines it).
    pub moved: bool,
    pub touched: Touched,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SentenceChange {
    pub kind: ChangeKind,
    /// The requirement id: the same in both texts for a change (ids follow reworded sentences).
    pub old_id: Option<String>,
    pub new_id: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub old_level: Option<String>,
    pub new_level: Option<String>,
    pub similarity: Option<f64>,
    /// Numbers present in the old sentence and not in the new one.
    pub changed_numbers: Vec<String>,
    pub touched: Touched,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProseChange {
    pub kind: ChangeKind,
    pub section: Vec<String>,
    pub old_line: Option<usize>,
    pub new_line: Option<usize>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub similarity: Option<f64>,
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
pub struct ConstantChange {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub touched: Touched,
}

/// A link that does not resolve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkProblem {
    pub document: String,
    pub line: usize,
    pub target: String,
    /// `broken` (resolved in the old text), `still_dangling` (did not resolve there either),
    /// `dangling_before` (dangled in the old text; gone or fixed in the new one).
    pub status: String,
    pub why: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DocImpact {
    pub document: String,
    pub sections: Vec<SectionChange>,
    pub definitions: Vec<DefinitionChange>,
    pub sentences: Vec<SentenceChange>,
    pub prose: Vec<ProseChange>,
    pub tlvs: Vec<TlvChange>,
    pub constants: Vec<ConstantChange>,
}

/// A code quote that matches the old text and not the new one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokenQuote {
    pub at: String,
    /// "SIDEPOOL-10" or "SIDEPOOL-10@seed".
    pub document: String,
    pub quote: String,
    /// True when it is pinned to the old revision with `@revision` (expected not to match the new one).
    pub pinned_to_old: bool,
}

/// Everything that depends on the edit, each once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dependents {
    pub requirements: Vec<String>,
    pub code: Vec<String>,
    pub vectors: Vec<String>,
    pub cases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImpactReport {
    pub from: String,
    pub to: String,
    pub documents: Vec<DocImpact>,
    pub links: Vec<LinkProblem>,
    pub broken_quotes: Vec<BrokenQuote>,
    pub dependents: Dependents,
}

impl ImpactReport {
    /// The document's part of the report, if it changed.
    pub fn document(&self, name: &str) -> Option<&DocImpact> {
        self.documents.iter().find(|d| d.document == name)
    }
}

/// Everything `impact` looks at besides the texts.
pub struct Inputs<'a> {
    pub repo_root: &'a Path,
    pub quotes: &'a [quotes::Quote],
    pub covers: &'a [Cover],
    pub cases: &'a [Case],
    pub vectors: &'a [VectorFileDecl],
    pub definitions: &'a DefinitionsFile,
    /// Files grepped for changed numbers and names: (display path, text).
    pub grep_files: &'a [(String, String)],
}

/// What the old text is compared with.
pub enum Target {
    /// Another revision's texts.
    Revision(SpecRevision),
    /// The old revision's texts with one document replaced by an edited copy.
    Edited { doc: &'static DocInfo, source: String },
}

/// One side of the comparison: every document's source.
struct Side {
    texts: Vec<(&'static DocInfo, String)>,
}

impl Side {
    fn of_revision(repo_root: &Path, rev: SpecRevision) -> Result<Side, String> {
        let mut texts = Vec::new();
        for d in docs::DOCS {
            let p = docs::doc_path(repo_root, rev, d);
            if p.exists() {
                texts.push((d, docs::read(&p)?));
            }
        }
        Ok(Side { texts })
    }

    fn get(&self, d: &DocInfo) -> Option<&str> {
        self.texts.iter().find(|(x, _)| x.number == d.number).map(|(_, s)| s.as_str())
    }

    fn by_file(&self, file: &str) -> Option<(&'static DocInfo, &str)> {
        self.texts.iter().find(|(x, _)| x.file == file).map(|(d, s)| (*d, s.as_str()))
    }
}

fn scope_for(doc: &DocInfo) -> Option<Scope> {
    requirements::SCOPES.iter().find(|s| s.doc == doc.number).copied()
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

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Adds `item (why)`, or appends `why` to the reasons of the same item already listed.
fn push_with_reason(v: &mut Vec<String>, item: &str, why: &str) {
    let head = format!("{item} (");
    match v.iter_mut().find(|x| x.starts_with(&head)) {
        Some(x) => {
            if !x.contains(why) {
                x.pop();
                x.push_str(&format!("; {why})"));
            }
        }
        None => v.push(format!("{item} ({why})")),
    }
}

/// The shared machinery of one comparison.
struct Ctx<'a> {
    inputs: &'a Inputs<'a>,
    from: SpecRevision,
    old_spec: SpecSet,
    old_checked: Vec<Checked>,
}

impl Ctx<'_> {
    /// Code quotes that match requirement `r` in the old text.
    fn code_for_requirement(&self, r: &Requirement) -> Vec<String> {
        match coverage::requirement_span(&self.old_spec, self.from, r) {
            Some(span) => self
                .old_checked
                .iter()
                .filter(|c| coverage::quote_matches(c, r, self.from, span))
                .map(|c| format!("{}:{}", c.quote.file, c.quote.line))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Code quotes whose match in the old text of `doc` overlaps the byte span `span`.
    fn code_overlapping(&self, doc: &str, span: (usize, usize)) -> Vec<String> {
        self.old_checked
            .iter()
            .filter(|c| c.matches_at(doc, self.from).is_some_and(|ms| ms.iter().any(|m| m.spans.iter().any(|s| coverage::overlaps(*s, span)))))
            .map(|c| format!("{}:{}", c.quote.file, c.quote.line))
            .collect()
    }

    /// Code quotes with a match in the old text of `doc` inside lines `lines` (inclusive).
    fn code_within_lines(&self, doc: &str, lines: (usize, usize)) -> Vec<String> {
        let Some(norm) = self.old_spec.get(doc, Some(self.from)) else {
            return Vec::new();
        };
        self.old_checked
            .iter()
            .filter(|c| {
                c.matches_at(doc, self.from).is_some_and(|ms| {
                    ms.iter().any(|m| {
                        let l = norm.line_of(m.start());
                        lines.0 <= l && l <= lines.1
                    })
                })
            })
            .map(|c| format!("{}:{}", c.quote.file, c.quote.line))
            .collect()
    }

    fn vectors_covering(&self, id: &str) -> Vec<String> {
        self.inputs
            .covers
            .iter()
            .filter(|c| c.applies(self.from) && c.ids.iter().any(|i| i == id))
            .map(|c| format!("{} ({})", c.file, c.at))
            .collect()
    }

    fn cases_covering(&self, id: &str) -> Vec<String> {
        self.inputs
            .cases
            .iter()
            .filter(|c| c.applies(self.from) && c.all_ids().iter().any(|i| i == id))
            .map(|c| format!("{} ({})", c.file, c.id))
            .collect()
    }

    fn touched_by_requirement(&self, r: &Requirement, nums: &[String]) -> Touched {
        Touched {
            requirements: Vec::new(),
            code: self.code_for_requirement(r),
            vectors: self.vectors_covering(&r.id),
            cases: self.cases_covering(&r.id),
            numbers: nums.iter().flat_map(|n| grep_number(self.inputs.grep_files, n)).collect(),
        }
    }

    /// What depends on definition `d`: its dependents' requirements, code quoting its
    /// defining sentence, cases and vectors that depend on it (or on a definition
    /// built on it), and those that cover a requirement relying on it.
    fn touched_by_definition(&self, d: &Definition, old_source: Option<&str>) -> Touched {
        let mut t = Touched::default();
        let closure = self.inputs.definitions.closure(&d.id);
        for def in &closure {
            for r in &def.used_by {
                let why = if def.id == d.id { "uses it".to_string() } else { format!("uses {}, built on it", def.id) };
                push_with_reason(&mut t.requirements, r, &why);
                for v in self.vectors_covering(r) {
                    push_with_reason(&mut t.vectors, &v, &format!("covers {r}"));
                }
                for c in self.cases_covering(r) {
                    push_with_reason(&mut t.cases, &c, &format!("covers {r}"));
                }
            }
            for c in self.inputs.cases.iter().filter(|c| c.applies(self.from) && c.depends_on.contains(&def.id)) {
                push_with_reason(&mut t.cases, &format!("{} ({})", c.file, c.id), &format!("depends_on {}", def.id));
            }
            for v in self.inputs.vectors.iter().filter(|v| vector_applies(v, self.from) && v.depends_on.contains(&def.id)) {
                push_with_reason(&mut t.vectors, &format!("{} (file)", v.file), &format!("depends_on {}", def.id));
            }
        }
        if let Some(src) = old_source {
            let norm = NormDoc::new(src);
            for m in norm.find(&Pattern::new(&d.defined_by)) {
                for c in self.code_overlapping(&d.document, (m.start(), m.end())) {
                    push_unique(&mut t.code, c);
                }
            }
        }
        t
    }
}

fn vector_applies(v: &VectorFileDecl, rev: SpecRevision) -> bool {
    crate::vectors::applies(&v.revisions, rev)
}

/// Compares revision `from` with `to`.
pub fn impact(from: SpecRevision, to: &Target, inputs: &Inputs<'_>) -> Result<ImpactReport, String> {
    let old = Side::of_revision(inputs.repo_root, from)?;
    let (new, to_label, old_index, new_index) = match to {
        Target::Revision(r) => {
            let files = requirements::generate(inputs.repo_root)?;
            let pick = |rev: SpecRevision| {
                files.iter().find(|f| f.revision == rev.name()).cloned().ok_or_else(|| format!("revision {} is not in {}", rev.name(), docs::SIDEPOOL_DIR))
            };
            (Side::of_revision(inputs.repo_root, *r)?, r.name().to_string(), pick(from)?, pick(*r)?)
        }
        Target::Edited { doc, source } => {
            let mut side = Side::of_revision(inputs.repo_root, from)?;
            match side.texts.iter_mut().find(|(d, _)| d.number == doc.number) {
                Some(t) => t.1 = source.clone(),
                None => side.texts.push((doc, source.clone())),
            }
            let (a, b) = requirements::generate_edited(inputs.repo_root, from, doc, source)?;
            (side, format!("{} with an edited {}", from.name(), doc.name()), a, b)
        }
    };

    let old_spec = SpecSet::load(inputs.repo_root)?.only(from);
    let sidepool_quotes: Vec<quotes::Quote> = inputs.quotes.iter().filter(|q| q.doc.starts_with("SIDEPOOL-")).cloned().collect();
    let old_checked = quotes::check_all(&old_spec, &sidepool_quotes);
    let ctx = Ctx { inputs, from, old_spec, old_checked };

    let mut documents = Vec::new();
    for d in docs::DOCS {
        let (o, n) = (old.get(d), new.get(d));
        if o == n {
            continue;
        }
        documents.push(doc_impact(&ctx, d, o, n, &old_index, &new_index));
    }
    let links = link_problems(&old, &new);
    let broken_quotes = broken_quotes(&ctx, &old, &new, to);
    let mut dependents = Dependents::default();
    let add = |dependents: &mut Dependents, t: &Touched| {
        for r in &t.requirements {
            push_unique(&mut dependents.requirements, r.split(' ').next().unwrap_or_default().to_string());
        }
        for c in &t.code {
            push_unique(&mut dependents.code, c.clone());
        }
        for v in &t.vectors {
            push_unique(&mut dependents.vectors, v.split(" (").next().unwrap_or_default().to_string());
        }
        for c in &t.cases {
            let id = c.split(" (").nth(1).and_then(|x| x.split(')').next()).unwrap_or_default();
            push_unique(&mut dependents.cases, id.to_string());
        }
    };
    for di in &documents {
        di.sections.iter().for_each(|c| add(&mut dependents, &c.touched));
        di.definitions.iter().for_each(|c| add(&mut dependents, &c.touched));
        for c in &di.sentences {
            add(&mut dependents, &c.touched);
            if c.kind != ChangeKind::Added {
                if let Some(id) = &c.old_id {
                    push_unique(&mut dependents.requirements, id.clone());
                }
            }
        }
        di.prose.iter().for_each(|c| add(&mut dependents, &c.touched));
    }
    for b in &broken_quotes {
        push_unique(&mut dependents.code, b.at.clone());
    }
    dependents.requirements.sort();
    dependents.code.sort();
    dependents.vectors.sort();
    dependents.cases.sort();
    Ok(ImpactReport { from: from.name().to_string(), to: to_label, documents, links, broken_quotes, dependents })
}

fn doc_impact(ctx: &Ctx<'_>, d: &'static DocInfo, old: Option<&str>, new: Option<&str>, old_index: &RequirementsFile, new_index: &RequirementsFile) -> DocImpact {
    let (o, n) = (old.unwrap_or_default(), new.unwrap_or_default());
    let old_reqs: Vec<&Requirement> = old_index.requirements.iter().filter(|r| r.document == d.name() && r.normative).collect();
    let new_reqs: Vec<&Requirement> = new_index.requirements.iter().filter(|r| r.document == d.name() && r.normative).collect();
    DocImpact {
        document: d.name(),
        sections: section_changes(ctx, d, o, n, &old_reqs),
        definitions: definition_changes(ctx, d, old, new),
        sentences: sentence_changes(ctx, &old_reqs, &new_reqs),
        prose: prose_changes(ctx, d, o, n),
        tlvs: tlv_changes(ctx, o, n),
        constants: constant_changes(ctx, o, n),
    }
}

/// The words of a section's own text (its subsections left out), at most 200.
fn section_body(source: &str, h: &Heading, all: &[Heading]) -> String {
    let end = all.iter().find(|x| x.line > h.line).map_or(h.end_line, |x| x.line.saturating_sub(1)).min(h.end_line);
    let lines: Vec<&str> = source.lines().skip(h.line).take(end.saturating_sub(h.line)).collect();
    NormDoc::new(&lines.join("\n")).text.split(' ').take(200).collect::<Vec<_>>().join(" ")
}

fn section_changes(ctx: &Ctx<'_>, d: &DocInfo, old: &str, new: &str, old_reqs: &[&Requirement]) -> Vec<SectionChange> {
    let (oh, nh) = (markdown::headings(old), markdown::headings(new));
    // A heading text in both texts is the same section (its anchor is the same); a changed
    // path is a move.
    let new_texts: Vec<&str> = nh.iter().map(|h| h.text.as_str()).collect();
    let old_texts: Vec<&str> = oh.iter().map(|h| h.text.as_str()).collect();
    let removed: Vec<&Heading> = oh.iter().filter(|h| !new_texts.contains(&h.text.as_str())).collect();
    let added: Vec<&Heading> = nh.iter().filter(|h| !old_texts.contains(&h.text.as_str())).collect();
    let mut used_new: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for h in oh.iter().filter(|h| new_texts.contains(&h.text.as_str())) {
        if let Some(n) = nh.iter().find(|n| n.text == h.text && n.path != h.path) {
            out.push(SectionChange {
                kind: ChangeKind::Changed,
                old: Some(h.path.clone()),
                new: Some(n.path.clone()),
                renamed: false,
                similarity: None,
                old_line: Some(h.line),
                new_line: Some(n.line),
                touched: Touched::default(),
            });
        }
    }
    for h in &removed {
        let body = section_body(old, h, &oh);
        let rename = added
            .iter()
            .enumerate()
            .filter(|(i, a)| a.level == h.level && !used_new.contains(i))
            .map(|(i, a)| (i, a, similarity(&body, &section_body(new, a, &nh))))
            .filter(|(_, _, s)| *s >= RENAMED_THRESHOLD && !body.is_empty())
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let mut touched = Touched::default();
        if rename.is_none() {
            for r in old_reqs.iter().filter(|r| h.line <= r.line && r.line <= h.end_line) {
                push_unique(&mut touched.requirements, format!("{} (in the section)", r.id));
            }
            touched.code = ctx.code_within_lines(&d.name(), (h.line, h.end_line));
        }
        match rename {
            Some((i, a, sim)) => {
                used_new.push(i);
                out.push(SectionChange {
                    kind: ChangeKind::Changed,
                    old: Some(h.path.clone()),
                    new: Some(a.path.clone()),
                    renamed: true,
                    similarity: Some((sim * 1000.0).round() / 1000.0),
                    old_line: Some(h.line),
                    new_line: Some(a.line),
                    touched,
                });
            }
            None => out.push(SectionChange {
                kind: ChangeKind::Removed,
                old: Some(h.path.clone()),
                new: None,
                renamed: false,
                similarity: None,
                old_line: Some(h.line),
                new_line: None,
                touched,
            }),
        }
    }
    for (i, a) in added.iter().enumerate() {
        if used_new.contains(&i) {
            continue;
        }
        out.push(SectionChange {
            kind: ChangeKind::Added,
            old: None,
            new: Some(a.path.clone()),
            renamed: false,
            similarity: None,
            old_line: None,
            new_line: Some(a.line),
            touched: Touched::default(),
        });
    }
    out
}

fn definition_changes(ctx: &Ctx<'_>, d: &DocInfo, old: Option<&str>, new: Option<&str>) -> Vec<DefinitionChange> {
    let mut out = Vec::new();
    for def in ctx.inputs.definitions.definitions.iter().filter(|x| docs::doc(&x.document).is_some_and(|x| x.number == d.number)) {
        let was = old.map_or(Presence::Absent, |s| definitions::presence(def, s));
        let now = new.map_or(Presence::Absent, |s| definitions::presence(def, s));
        let (kind, moved) = match (&was, &now) {
            (Presence::Defined { section: a, .. }, Presence::Defined { section: b, .. }) if a == b => continue,
            (Presence::Defined { .. }, Presence::Defined { .. }) => (ChangeKind::Changed, true),
            (Presence::Defined { .. }, Presence::Changed { .. }) => (ChangeKind::Changed, false),
            (Presence::Defined { .. }, Presence::Absent) => (ChangeKind::Removed, false),
            (_, Presence::Defined { .. }) => (ChangeKind::Added, false),
            _ => continue,
        };
        let touched = if kind == ChangeKind::Added { Touched::default() } else { ctx.touched_by_definition(def, old) };
        out.push(DefinitionChange { id: def.id.clone(), term: def.term.clone(), kind, old: was, new: now, moved, touched });
    }
    out
}

fn same_requirement_text(a: &Requirement, b: &Requirement) -> bool {
    a.quote == b.quote && a.context == b.context && a.level == b.level
}

fn sentence_changes(ctx: &Ctx<'_>, old: &[&Requirement], new: &[&Requirement]) -> Vec<SentenceChange> {
    let mut out = Vec::new();
    for o in old {
        match new.iter().find(|n| n.id == o.id) {
            Some(n) if same_requirement_text(o, n) => {}
            Some(n) => {
                let nums = changed_numbers(&o.quote, &n.quote);
                out.push(SentenceChange {
                    kind: ChangeKind::Changed,
                    old_id: Some(o.id.clone()),
                    new_id: Some(n.id.clone()),
                    old: Some(o.quote.clone()),
                    new: Some(n.quote.clone()),
                    old_level: Some(o.level.to_string()),
                    new_level: Some(n.level.to_string()),
                    similarity: Some((similarity(&o.quote_with_context(), &n.quote_with_context()) * 1000.0).round() / 1000.0),
                    touched: ctx.touched_by_requirement(o, &nums),
                    changed_numbers: nums,
                });
            }
            None => out.push(SentenceChange {
                kind: ChangeKind::Removed,
                old_id: Some(o.id.clone()),
                new_id: None,
                old: Some(o.quote.clone()),
                new: None,
                old_level: Some(o.level.to_string()),
                new_level: None,
                similarity: None,
                changed_numbers: Vec::new(),
                touched: ctx.touched_by_requirement(o, &[]),
            }),
        }
    }
    for n in new.iter().filter(|n| !old.iter().any(|o| o.id == n.id)) {
        out.push(SentenceChange {
            kind: ChangeKind::Added,
            old_id: None,
            new_id: Some(n.id.clone()),
            old: None,
            new: Some(n.quote.clone()),
            old_level: None,
            new_level: Some(n.level.to_string()),
            similarity: None,
            changed_numbers: Vec::new(),
            touched: Touched::default(),
        });
    }
    out
}

fn prose_of(d: &DocInfo, source: &str) -> Vec<Prose> {
    match scope_for(d) {
        Some(scope) => requirements::build_doc_with_prose(d, &scope, source).3,
        None => Vec::new(),
    }
}

fn prose_changes(ctx: &Ctx<'_>, d: &DocInfo, old: &str, new: &str) -> Vec<ProseChange> {
    let (op, np) = (prose_of(d, old), prose_of(d, new));
    let mut new_used = vec![false; np.len()];
    let mut old_left = Vec::new();
    for (i, o) in op.iter().enumerate() {
        match np.iter().enumerate().position(|(j, n)| !new_used.get(j).copied().unwrap_or(true) && n.text == o.text) {
            Some(j) => {
                if let Some(u) = new_used.get_mut(j) {
                    *u = true;
                }
            }
            None => old_left.push(i),
        }
    }
    let new_left: Vec<usize> = (0..np.len()).filter(|j| !new_used.get(*j).copied().unwrap_or(true)).collect();
    let mut candidates = Vec::new();
    for &i in &old_left {
        for &j in &new_left {
            if let (Some(o), Some(n)) = (op.get(i), np.get(j)) {
                let s = similarity(&o.text, &n.text);
                if s >= CHANGED_THRESHOLD {
                    candidates.push((i, j, s));
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let (mut oi, mut nj) = (Vec::new(), Vec::new());
    let mut pairs = Vec::new();
    for (i, j, s) in candidates {
        if !oi.contains(&i) && !nj.contains(&j) {
            oi.push(i);
            nj.push(j);
            pairs.push((i, j, s));
        }
    }
    let name = d.name();
    let code_for = |p: &Prose| -> Vec<String> {
        let Some(norm) = ctx.old_spec.get(&name, Some(ctx.from)) else { return Vec::new() };
        let pat = Pattern::new(&p.text);
        let m = norm.find(&pat).into_iter().find(|m| norm.line_of(m.start()) >= p.line).or_else(|| norm.find(&pat).into_iter().next());
        m.map(|m| ctx.code_overlapping(&name, (m.start(), m.end()))).unwrap_or_default()
    };
    let mut out: Vec<(usize, ProseChange)> = Vec::new();
    for (i, j, s) in pairs {
        let (Some(o), Some(n)) = (op.get(i), np.get(j)) else { continue };
        out.push((
            o.line,
            ProseChange {
                kind: ChangeKind::Changed,
                section: o.section.clone(),
                old_line: Some(o.line),
                new_line: Some(n.line),
                old: Some(o.text.clone()),
                new: Some(n.text.clone()),
                similarity: Some((s * 1000.0).round() / 1000.0),
                touched: Touched { code: code_for(o), ..Touched::default() },
            },
        ));
    }
    for i in old_left.into_iter().filter(|i| !oi.contains(i)) {
        let Some(o) = op.get(i) else { continue };
        out.push((
            o.line,
            ProseChange {
                kind: ChangeKind::Removed,
                section: o.section.clone(),
                old_line: Some(o.line),
                new_line: None,
                old: Some(o.text.clone()),
                new: None,
                similarity: None,
                touched: Touched { code: code_for(o), ..Touched::default() },
            },
        ));
    }
    let mut added = Vec::new();
    for j in new_left.into_iter().filter(|j| !nj.contains(j)) {
        let Some(n) = np.get(j) else { continue };
        added.push(ProseChange {
            kind: ChangeKind::Added,
            section: n.section.clone(),
            old_line: None,
            new_line: Some(n.line),
            old: None,
            new: Some(n.text.clone()),
            similarity: None,
            touched: Touched::default(),
        });
    }
    out.sort_by_key(|(l, _)| *l);
    out.into_iter().map(|(_, c)| c).chain(added).collect()
}

fn tlv_changes(ctx: &Ctx<'_>, old: &str, new: &str) -> Vec<TlvChange> {
    let (old, _) = extract::parse_messages(old);
    let (new, _) = extract::parse_messages(new);
    tlv_diff(&old, &new, ctx.inputs.grep_files)
}

fn tlv_diff(old: &[SpecMessage], new: &[SpecMessage], grep_files: &[(String, String)]) -> Vec<TlvChange> {
    let mut out = Vec::new();
    let touched = |name: &str, nums: &[u64]| Touched {
        numbers: grep_word(grep_files, name)
            .into_iter()
            .chain(nums.iter().flat_map(|n| grep_number(grep_files, &n.to_string())))
            .collect(),
        ..Touched::default()
    };
    for m in old {
        let Some(nm) = new.iter().find(|x| x.name == m.name) else {
            out.push(TlvChange { message: m.name.clone(), tlv: None, what: "message removed".into(), touched: touched(&m.name, &[]) });
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
                    what: format!("TLV removed ({}{})", t.typ, if t.typ % 2 == 0 { ", even: now an unknown even type" } else { ", odd" }),
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
                let nums: Vec<u64> = if nt.typ != t.typ { vec![t.typ] } else { Vec::new() };
                out.push(TlvChange { message: m.name.clone(), tlv: Some(t.name.clone()), what: what.join(", "), touched: touched(&t.name, &nums) });
            }
        }
        for nt in &nm.tlvs {
            if !m.tlvs.iter().any(|t| t.name == nt.name) {
                out.push(TlvChange { message: m.name.clone(), tlv: Some(nt.name.clone()), what: format!("TLV added ({})", nt.typ), touched: Touched::default() });
            }
        }
    }
    for nm in new {
        if !old.iter().any(|m| m.name == nm.name) {
            out.push(TlvChange { message: nm.name.clone(), tlv: None, what: format!("message added ({})", nm.sub_id), touched: Touched::default() });
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

fn constant_changes(ctx: &Ctx<'_>, old: &str, new: &str) -> Vec<ConstantChange> {
    let (oc, nc) = (extract::parse_constants(old), extract::parse_constants(new));
    let values = |cs: &[SpecConstant], name: &str| -> Vec<String> { cs.iter().filter(|c| c.name == name).map(|c| c.value.clone()).collect() };
    let names: BTreeSet<String> = oc.iter().chain(nc.iter()).map(|c| c.name.clone()).collect();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = (values(&oc, &name), values(&nc, &name));
        if a == b {
            continue;
        }
        let old_v = (!a.is_empty()).then(|| a.join(", "));
        let new_v = (!b.is_empty()).then(|| b.join(", "));
        let mut numbers = grep_word(ctx.inputs.grep_files, &name);
        for v in a.iter().filter(|v| !b.contains(v)) {
            numbers.extend(grep_number(ctx.inputs.grep_files, v));
        }
        let touched = if old_v.is_some() { Touched { numbers, ..Touched::default() } } else { Touched::default() };
        out.push(ConstantChange { name, old: old_v, new: new_v, touched });
    }
    out
}

/// Whether `target` (a link in `doc`) resolves in `side`; the reason when not. `None` for
/// links this check cannot judge (other sites, documents that are not mirrored).
fn resolve(side: &Side, doc: &DocInfo, target: &str) -> Option<Result<(), String>> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (file, anchor) = match target.split_once('#') {
        Some((f, a)) => (f, Some(a)),
        None => (target, None),
    };
    let file = file.trim_start_matches("./");
    let (target_doc, source) = if file.is_empty() {
        (doc, side.get(doc)?)
    } else {
        match side.by_file(file) {
            Some(x) => x,
            None => {
                // A SIDEPOOL document we mirror must be there; any other is not checked.
                return docs::doc_by_file(file).map(|_| Err(format!("{file} is not in this revision")));
            }
        }
    };
    let Some(anchor) = anchor else { return Some(Ok(())) };
    let known = markdown::headings(source).iter().any(|h| h.anchor == anchor);
    Some(if known { Ok(()) } else { Err(format!("{} has no heading with anchor #{anchor}", target_doc.file)) })
}

fn dangling(side: &Side) -> Vec<(String, usize, String, String)> {
    let mut out = Vec::new();
    for (d, src) in &side.texts {
        for l in markdown::links(src) {
            if let Some(Err(why)) = resolve(side, d, &l.target) {
                out.push((d.name(), l.line, l.target.clone(), why));
            }
        }
    }
    out
}

fn link_problems(old: &Side, new: &Side) -> Vec<LinkProblem> {
    let before = dangling(old);
    let after = dangling(new);
    let mut out = Vec::new();
    for (doc, line, target, why) in &after {
        let was_dangling = before.iter().any(|(d, _, t, _)| d == doc && t == target);
        out.push(LinkProblem {
            document: doc.clone(),
            line: *line,
            target: target.clone(),
            status: if was_dangling { "still_dangling" } else { "broken" }.into(),
            why: why.clone(),
        });
    }
    for (doc, line, target, why) in &before {
        if !after.iter().any(|(d, _, t, _)| d == doc && t == target) {
            out.push(LinkProblem { document: doc.clone(), line: *line, target: target.clone(), status: "dangling_before".into(), why: why.clone() });
        }
    }
    out
}

fn broken_quotes(ctx: &Ctx<'_>, old: &Side, new: &Side, to: &Target) -> Vec<BrokenQuote> {
    let to_rev = match to {
        Target::Revision(r) => *r,
        Target::Edited { .. } => ctx.from,
    };
    let mut new_spec = SpecSet::default();
    for (d, src) in &new.texts {
        new_spec = new_spec.with_text(&d.name(), Some(to_rev), src);
    }
    let _ = old;
    let mut out = Vec::new();
    for c in &ctx.old_checked {
        if !matches!(c.verdict, Verdict::Matched(_)) {
            continue;
        }
        let pinned = c.quote.revision.as_deref().and_then(|r| SpecRevision::from_name(r).ok());
        if pinned.is_some_and(|p| p != ctx.from) {
            continue;
        }
        let Some(norm) = new_spec.get(&c.quote.doc, Some(to_rev)) else {
            out.push(BrokenQuote { at: format!("{}:{}", c.quote.file, c.quote.line), document: c.quote.label(), quote: c.quote.text.clone(), pinned_to_old: pinned.is_some() });
            continue;
        };
        if norm.find(&Pattern::new(&c.quote.text)).is_empty() {
            out.push(BrokenQuote {
                at: format!("{}:{}", c.quote.file, c.quote.line),
                document: c.quote.label(),
                quote: crate::text::collapse(&c.quote.text),
                pinned_to_old: pinned.is_some() && matches!(to, Target::Revision(r) if *r != ctx.from),
            });
        }
    }
    out
}

fn touched_text(t: &Touched, s: &mut String) {
    let groups = [
        ("requirement", &t.requirements),
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

fn presence_text(p: &Presence) -> String {
    match p {
        Presence::Defined { section, line } => format!("defined in `{section}` (line {line})"),
        Presence::Changed { line, closest, similarity } => format!("reworded (line {line}, similarity {similarity:.2}): {closest}"),
        Presence::Absent => "absent".into(),
    }
}

/// The text report.
pub fn render(r: &ImpactReport) -> String {
    let mut s = format!("impact of {} -> {}\n", r.from, r.to);
    for d in &r.documents {
        s.push_str(&format!("== {} ==\n", d.document));
        for c in &d.sections {
            match (c.kind, c.renamed) {
                (ChangeKind::Changed, false) => s.push_str(&format!(
                    "SECTION MOVED {} (line {}) -> {} (line {})\n",
                    c.old.as_ref().map(|p| p.join(" / ")).unwrap_or_default(),
                    c.old_line.unwrap_or(0),
                    c.new.as_ref().map(|p| p.join(" / ")).unwrap_or_default(),
                    c.new_line.unwrap_or(0)
                )),
                (_, true) => s.push_str(&format!(
                    "SECTION RENAMED {} (line {}) -> {} (line {}), body similarity {:.2}\n",
                    c.old.as_ref().map(|p| p.join(" / ")).unwrap_or_default(),
                    c.old_line.unwrap_or(0),
                    c.new.as_ref().map(|p| p.join(" / ")).unwrap_or_default(),
                    c.new_line.unwrap_or(0),
                    c.similarity.unwrap_or(0.0)
                )),
                (ChangeKind::Removed, _) => s.push_str(&format!(
                    "SECTION REMOVED {} (line {})\n",
                    c.old.as_ref().map(|p| p.join(" / ")).unwrap_or_default(),
                    c.old_line.unwrap_or(0)
                )),
                _ => s.push_str(&format!(
                    "SECTION ADDED {} (line {})\n",
                    c.new.as_ref().map(|p| p.join(" / ")).unwrap_or_default(),
                    c.new_line.unwrap_or(0)
                )),
            }
            if c.kind == ChangeKind::Removed && !c.touched.is_empty() {
                touched_text(&c.touched, &mut s);
            }
        }
        for c in &d.definitions {
            let what = match (c.kind, c.moved) {
                (ChangeKind::Removed, _) => "DEFINITION REMOVED",
                (ChangeKind::Added, _) => "DEFINITION ADDED",
                (_, true) => "DEFINITION MOVED",
                _ => "DEFINITION CHANGED",
            };
            s.push_str(&format!("{what} {} \"{}\"\n  old: {}\n  new: {}\n", c.id, c.term, presence_text(&c.old), presence_text(&c.new)));
            if c.kind != ChangeKind::Added {
                touched_text(&c.touched, &mut s);
            }
        }
        for c in &d.sentences {
            match c.kind {
                ChangeKind::Changed => {
                    s.push_str(&format!(
                        "CHANGED {} (similarity {:.2}{})\n  old: {}\n  new: {}\n",
                        c.old_id.as_deref().unwrap_or("?"),
                        c.similarity.unwrap_or(0.0),
                        if c.old_level != c.new_level {
                            format!(", {} -> {}", c.old_level.as_deref().unwrap_or("?"), c.new_level.as_deref().unwrap_or("?"))
                        } else {
                            String::new()
                        },
                        c.old.as_deref().unwrap_or_default(),
                        c.new.as_deref().unwrap_or_default()
                    ));
                    if !c.changed_numbers.is_empty() {
                        s.push_str(&format!("  numbers changed: {}\n", c.changed_numbers.join(", ")));
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
        for c in &d.prose {
            match c.kind {
                ChangeKind::Changed => s.push_str(&format!(
                    "PROSE CHANGED line {} -> {} (similarity {:.2})\n  old: {}\n  new: {}\n",
                    c.old_line.unwrap_or(0),
                    c.new_line.unwrap_or(0),
                    c.similarity.unwrap_or(0.0),
                    c.old.as_deref().unwrap_or_default(),
                    c.new.as_deref().unwrap_or_default()
                )),
                ChangeKind::Removed => s.push_str(&format!("PROSE REMOVED line {}\n  old: {}\n", c.old_line.unwrap_or(0), c.old.as_deref().unwrap_or_default())),
                ChangeKind::Added => s.push_str(&format!("PROSE ADDED line {}\n  new: {}\n", c.new_line.unwrap_or(0), c.new.as_deref().unwrap_or_default())),
            }
            if c.kind != ChangeKind::Added && !c.touched.is_empty() {
                touched_text(&c.touched, &mut s);
            }
        }
        for t in &d.tlvs {
            s.push_str(&format!("TLV {}{}: {}\n", t.message, t.tlv.as_ref().map(|n| format!(".{n}")).unwrap_or_default(), t.what));
            if !t.what.starts_with("TLV added") && !t.what.starts_with("message added") {
                touched_text(&t.touched, &mut s);
            }
        }
        for c in &d.constants {
            s.push_str(&format!("CONSTANT {}: {} -> {}\n", c.name, c.old.as_deref().unwrap_or("(none)"), c.new.as_deref().unwrap_or("(none)")));
            if c.old.is_some() {
                touched_text(&c.touched, &mut s);
            }
        }
    }
    if !r.links.is_empty() {
        s.push_str("== links ==\n");
    }
    for l in &r.links {
        let what = match l.status.as_str() {
            "broken" => "LINK BROKEN",
            "still_dangling" => "LINK STILL DANGLING",
            _ => "LINK DANGLING BEFORE (gone or fixed now)",
        };
        s.push_str(&format!("{what} {} line {}: {} ({})\n", l.document, l.line, l.target, l.why));
    }
    if !r.broken_quotes.is_empty() {
        s.push_str("== code quotes that no longer match ==\n");
    }
    for q in &r.broken_quotes {
        s.push_str(&format!(
            "BROKEN QUOTE {}: {}{}: \"{}\"\n",
            q.at,
            q.document,
            if q.pinned_to_old { " (pinned to the old revision)" } else { "" },
            q.quote
        ));
    }
    let dep = &r.dependents;
    s.push_str("== everything that depends on the edit ==\n");
    for (label, items) in [("requirements", &dep.requirements), ("code quotes", &dep.code), ("vectors", &dep.vectors), ("cases", &dep.cases)] {
        s.push_str(&format!("{label} ({}): {}\n", items.len(), if items.is_empty() { "-".to_string() } else { items.join(", ") }));
    }
    let count = |f: &dyn Fn(&DocImpact) -> usize| r.documents.iter().map(f).sum::<usize>();
    s.push_str(&format!(
        "{} section, {} definition, {} normative sentence, {} prose, {} TLV and {} constant change(s); {} link problem(s); {} code quote(s) no longer match\n",
        count(&|d| d.sections.len()),
        count(&|d| d.definitions.len()),
        count(&|d| d.sentences.len()),
        count(&|d| d.prose.len()),
        count(&|d| d.tlvs.len()),
        count(&|d| d.constants.len()),
        r.links.len(),
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
