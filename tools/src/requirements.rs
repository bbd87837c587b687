//! The requirement index: every normative sentence of the documents the
//! reference implements, with a stable id, generated from the spec text into
//! `spec-mirror/sidepool/<revision>/requirements.yaml`, one file per revision;
//! and the requirements of our own specs, read from their `**[id]**` bullets.
//!
//! Id scheme (SIDEPOOL): `sp<NN>.<section-slug>.<ordinal>`. `<section-slug>` is
//! the slug of the innermost heading (prefixed with its parent's slug when two
//! headings of the document share a slug); `<ordinal>` counts normative entries
//! within that section only (not its subsections), from 1, so an edit elsewhere
//! never renumbers a requirement. Keyword sentences inside non-normative text
//! (rationale blockquotes, sections marked `> **Non-normative**`) get
//! `n<ordinal>` and `normative: false`.
//!
//! Ids across revisions ([`align`]): the oldest revision numbers as above. A
//! later revision's entry keeps the id of the previous revision's entry when
//! its sentence is the same (wherever it moved), or reworded in place (same
//! section, word similarity at least [`REWORDED_THRESHOLD`]); any other entry
//! gets its positional id if no revision ever used that id, else the next
//! free ordinal of its section. So an id never changes meaning and never
//! comes back for another sentence, and cases, vectors and quotes that name
//! an id keep naming the same rule. Each entry lists the revisions it is in.
//!
//! Our own specs (`LOOP-01`, ...): each `**[id]**` bullet is one requirement
//! with that id, its sentence's level, and no revisions (one text each).

use crate::docs::{self, DocInfo};
use crate::markdown::{self, Block, BlockKind};
use crate::text::{self, sentence_level, sentences, similarity, Level};
use serde::{Deserialize, Serialize};
use sidepool_reference::revision::SpecRevision;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The committed index of one revision, relative to the repository root.
pub fn requirements_file(rev: SpecRevision) -> String {
    format!("{}/{}/requirements.yaml", docs::SIDEPOOL_DIR, rev.name())
}

/// A later revision's sentence at least this similar to one of the previous
/// revision's, in the same section, is the same requirement reworded.
pub const REWORDED_THRESHOLD: f64 = 0.5;

/// Which parts of a document the index covers.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    pub doc: &'static str,
    /// Sections (any level) included, with everything under them; empty means the whole document.
    pub include: &'static [&'static str],
    /// Sections (any level) left out even when under an included one.
    pub exclude: &'static [&'static str],
}

/// The documents and sections the reference implements.
pub const SCOPES: &[Scope] = &[
    Scope {
        doc: "01",
        include: &[
            "Sidepool Messaging Protocol",
            "Sidepool Feature Bit",
            "SIDEPOOL-protocol Feature Set",
        ],
        exclude: &[],
    },
    Scope {
        doc: "06",
        include: &[
            "Private Key Handover",
            "HTLC Taproot Public Key",
            "Secure Private Key Handover",
        ],
        exclude: &["Happy Path Spend", "Unhappy Path Spend"],
    },
    Scope {
        doc: "10",
        include: &[],
        exclude: &[],
    },
];

/// Sentences that state a rule with lower-case keywords, indexed anyway:
/// (document, sentence fragment, level, note).
pub const LOWER_CASE_RULES: &[(&str, &str, Level, &str)] = &[(
    "01",
    "sidepool implementations may ignore unrecognized odd message IDs or TLV types",
    Level::Should,
    "lower-case keywords: \"may ignore\" odd, \"should raise\" a warning on even; indexed as SHOULD",
)];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub id: String,
    pub document: String,
    /// The SIDEPOOL revisions this requirement is in (its text may differ between them: each
    /// revision's file holds that revision's). Empty for our own specs, which have one text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    /// The revisions whose wording (sentence, lead-in or level) differs from the revision before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reworded_in: Vec<String>,
    pub section: Vec<String>,
    pub level: Level,
    pub normative: bool,
    pub line: usize,
    /// The lead-in sentences a list item continues, joined by ` ... `, so
    /// `context ... quote` is itself a valid quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The sentence (or list item) verbatim, whitespace collapsed.
    pub quote: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Requirement {
    /// Whether it is in revision `rev` (our own specs' requirements are in every one).
    pub fn in_revision(&self, rev: SpecRevision) -> bool {
        self.revisions.is_empty() || self.revisions.iter().any(|r| r == rev.name())
    }

    /// The quote with its lead-in, as a quote pattern.
    pub fn quote_with_context(&self) -> String {
        match &self.context {
            Some(c) => format!("{c} ... {}", self.quote),
            None => self.quote.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonNormative {
    pub document: String,
    pub section: Vec<String>,
    pub line: usize,
    pub end_line: usize,
    /// `section` (marked `> **Non-normative**`) or `rationale` (a blockquote).
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocCounts {
    /// Normative index entries by level.
    pub requirements: BTreeMap<String, usize>,
    /// RFC 2119 keyword occurrences in the indexed normative text.
    pub keywords: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocScopeEntry {
    pub document: String,
    pub file: String,
    /// The upstream commit of this revision's text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit: String,
    pub sections: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequirementsFile {
    pub format_version: u32,
    pub generated_by: String,
    /// The revision of the texts this file indexes.
    pub revision: String,
    pub documents: Vec<DocScopeEntry>,
    pub counts: BTreeMap<String, DocCounts>,
    pub requirements: Vec<Requirement>,
    pub non_normative: Vec<NonNormative>,
}

const HEADER: &str = "\
# GENERATED by `sidepool-conformance spec requirements --write` from the pinned texts of this
# revision (spec-mirror/sidepool/<revision>/); do not edit by hand (a test fails when this file
# differs from the generator).
#
# One entry per normative sentence (MUST, MUST NOT, SHOULD, SHOULD NOT, MAY) of the documents
# and sections listed under `documents`. A list item that continues a lead-in ending in `:`
# (\"The receiver of this message: ... MUST check that:\") and has no keyword of its own is an
# entry with the lead-in's level; `context` holds its lead-in chain, and `context ... quote` is
# a valid code quote.
#
# Ids: sp<NN>.<section-slug>.<ordinal>
#   <section-slug>  slug of the innermost heading (prefixed by its parent's slug when two
#                   headings of the document share a slug)
#   <ordinal>       1, 2, ... counting normative entries within that section only, so an edit
#                   in another section never renumbers an entry; `n1`, `n2`, ... for keyword
#                   sentences inside non-normative text (normative: false)
#   Across revisions an id stays with its sentence: the same sentence, or one reworded in
#   place (same section), keeps the previous revision's id; a new sentence never takes an id
#   another revision used. `revisions` lists every revision the id is in, `reworded_in` those
#   whose wording differs from the revision before.
# Levels: a sentence with several keywords takes the first of its strongest class
# (\"SHOULD log and MUST ignore\" is MUST).
# Non-normative text (rationale blockquotes, sections marked `> **Non-normative**`) is listed
# under `nonNormative`; coverage never demands it.
";

struct Ctx {
    /// Level passed to children when this ends with `:` and states (or inherits) a level.
    inherit: Option<Level>,
    /// The chain of contexts above and including this one.
    chain: Vec<String>,
}

/// A sentence of the indexed text that states no requirement (prose, rationale).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Prose {
    pub section: Vec<String>,
    pub line: usize,
    pub text: String,
    /// False inside rationale blocks and non-normative sections.
    pub normative: bool,
}

struct Builder<'a> {
    doc: &'a DocInfo,
    scope: &'a Scope,
    out: Vec<Requirement>,
    prose: Vec<Prose>,
    non_normative: Vec<NonNormative>,
    counters: HashMap<String, (usize, usize)>,
    keywords: BTreeMap<String, usize>,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        slug: &str,
        section: &[String],
        level: Level,
        normative: bool,
        line: usize,
        context: Option<String>,
        quote: String,
        note: Option<String>,
    ) {
        let counter = self.counters.entry(slug.to_string()).or_insert((0, 0));
        let id = if normative {
            counter.0 += 1;
            format!("sp{}.{slug}.{}", self.doc.number, counter.0)
        } else {
            counter.1 += 1;
            format!("sp{}.{slug}.n{}", self.doc.number, counter.1)
        };
        if normative {
            for k in text::keywords(&quote) {
                *self.keywords.entry(k.as_str().to_string()).or_insert(0) += 1;
            }
        }
        self.out.push(Requirement {
            id,
            document: self.doc.name(),
            revisions: Vec::new(),
            reworded_in: Vec::new(),
            section: section.to_vec(),
            level,
            normative,
            line,
            context,
            quote,
            note,
        });
    }

    fn lower_case_rule(&self, sentence: &str) -> Option<(Level, String)> {
        LOWER_CASE_RULES
            .iter()
            .find(|(d, frag, _, _)| *d == self.doc.number && sentence.contains(frag))
            .map(|(_, _, l, n)| (*l, (*n).to_string()))
    }
}

/// A sentence that leans on the one before ("It MUST be ...", "Otherwise, ...")
/// carries that sentence as context.
fn leans_on_previous(s: &str) -> bool {
    ["It ", "Otherwise", "That is", "This ", "Then,"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// Heading slugs, disambiguated by the parent slug where two headings share one.
fn heading_slugs(blocks: &[Block]) -> HashMap<usize, String> {
    let mut plain: HashMap<String, usize> = HashMap::new();
    for b in blocks {
        if matches!(b.kind, BlockKind::Heading(_)) {
            *plain.entry(text::slug(&b.text)).or_insert(0) += 1;
        }
    }
    let mut out = HashMap::new();
    let mut stack: Vec<(u8, String)> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        if let BlockKind::Heading(level) = b.kind {
            while stack.last().is_some_and(|(l, _)| *l >= level) {
                stack.pop();
            }
            let s = text::slug(&b.text);
            let slug = match (plain.get(&s), stack.last()) {
                (Some(n), Some((_, parent))) if *n > 1 => format!("{}-{s}", text::slug(parent)),
                _ => s,
            };
            stack.push((level, b.text.clone()));
            out.insert(i, slug);
        }
    }
    out
}

/// Builds the index entries of one document.
pub fn build_doc(
    doc: &DocInfo,
    scope: &Scope,
    source: &str,
) -> (Vec<Requirement>, Vec<NonNormative>, DocCounts) {
    let (reqs, nn, counts, _) = build_doc_with_prose(doc, scope, source);
    (reqs, nn, counts)
}

/// [`build_doc`], and every sentence of the indexed text that is no requirement.
pub fn build_doc_with_prose(
    doc: &DocInfo,
    scope: &Scope,
    source: &str,
) -> (Vec<Requirement>, Vec<NonNormative>, DocCounts, Vec<Prose>) {
    let blocks = markdown::parse(source);
    let slugs = heading_slugs(&blocks);
    let mut b = Builder {
        doc,
        scope,
        out: Vec::new(),
        prose: Vec::new(),
        non_normative: Vec::new(),
        counters: HashMap::new(),
        keywords: BTreeMap::new(),
    };
    let mut headings: Vec<(u8, String)> = Vec::new();
    let mut slug = String::new();
    let mut non_normative_from: Option<u8> = None;
    let mut lead_in: Option<Ctx> = None;
    let mut items: Vec<(usize, Ctx)> = Vec::new();
    let mut in_quote = false;

    for (idx, block) in blocks.iter().enumerate() {
        let section: Vec<String> = headings.iter().map(|(_, t)| t.clone()).collect();
        let in_scope = !headings.is_empty()
            && (b.scope.include.is_empty()
                || headings
                    .iter()
                    .any(|(_, t)| b.scope.include.contains(&t.as_str())))
            && !headings
                .iter()
                .any(|(_, t)| b.scope.exclude.contains(&t.as_str()));
        if !block.quoted {
            in_quote = false;
        }
        match &block.kind {
            BlockKind::Heading(level) => {
                while headings.last().is_some_and(|(l, _)| l >= level) {
                    headings.pop();
                }
                headings.push((*level, block.text.clone()));
                slug = slugs.get(&idx).cloned().unwrap_or_default();
                if non_normative_from.is_some_and(|l| *level <= l) {
                    non_normative_from = None;
                }
                lead_in = None;
                items.clear();
                continue;
            }
            BlockKind::Code | BlockKind::Table => {
                lead_in = None;
                items.clear();
                continue;
            }
            BlockKind::LinkDef => continue,
            BlockKind::Paragraph | BlockKind::Item { .. } => {}
        }
        if !in_scope {
            if matches!(block.kind, BlockKind::Paragraph) {
                items.clear();
                lead_in = None;
            }
            continue;
        }
        if block.quoted {
            let section_start = idx > 0
                && matches!(
                    blocks.get(idx - 1).map(|b| &b.kind),
                    Some(BlockKind::Heading(_))
                );
            if block.text.starts_with("**Non-normative**") && section_start {
                let level = headings.last().map_or(1, |(l, _)| *l);
                non_normative_from = Some(level);
                let end = section_end(&blocks, idx, level);
                b.non_normative.push(NonNormative {
                    document: doc.name(),
                    section: section.clone(),
                    line: block.line,
                    end_line: end,
                    kind: "section".into(),
                });
            } else if (!in_quote || block.text.starts_with("**")) && non_normative_from.is_none() {
                let kind = if block.text.starts_with("**Non-normative**") {
                    "note"
                } else {
                    "rationale"
                };
                b.non_normative.push(NonNormative {
                    document: doc.name(),
                    section: section.clone(),
                    line: block.line,
                    end_line: quote_end(&blocks, idx),
                    kind: kind.into(),
                });
            }
            in_quote = true;
        }
        let normative = !block.quoted && non_normative_from.is_none();
        let sents = sentences(&block.text);
        for t in &sents {
            b.prose.push(Prose { section: section.clone(), line: block.line, text: t.clone(), normative });
        }
        let last = sents.last().cloned().unwrap_or_default();
        match &block.kind {
            BlockKind::Paragraph => {
                items.clear();
                let mut para_level = None;
                for (k, s) in sents.iter().enumerate() {
                    // A sentence that leans on the one before ("It MUST be ...") carries it as context.
                    let context = if k > 0 && leans_on_previous(s) {
                        sents.get(k - 1).cloned()
                    } else {
                        None
                    };
                    if let Some(level) = sentence_level(s) {
                        para_level = Some(level);
                        b.push(
                            &slug,
                            &section,
                            level,
                            normative,
                            block.line,
                            context,
                            s.clone(),
                            None,
                        );
                    } else if let Some((level, note)) = b.lower_case_rule(s) {
                        b.push(
                            &slug,
                            &section,
                            level,
                            normative,
                            block.line,
                            None,
                            s.clone(),
                            Some(note),
                        );
                    }
                }
                lead_in = last.ends_with(':').then(|| Ctx {
                    inherit: sentence_level(&last).or(para_level.filter(|_| sents.len() == 1)),
                    chain: vec![last.clone()],
                });
            }
            BlockKind::Item { indent, marker } => {
                while items.last().is_some_and(|(i, _)| i >= indent) {
                    items.pop();
                }
                // Numbered items are message definitions (`1.  \`name\` (id)`), not rules.
                let numbered = marker.ends_with('.');
                let parent: Option<&Ctx> = items.last().map(|(_, c)| c).or(lead_in.as_ref());
                let parent_inherit = parent.and_then(|p| p.inherit).filter(|_| !numbered);
                let chain: Vec<String> = parent.map(|p| p.chain.clone()).unwrap_or_default();
                let context = (!chain.is_empty()).then(|| chain.join(" ... "));
                let mut own_level = None;
                for (k, s) in sents.iter().enumerate() {
                    if let Some(level) = sentence_level(s) {
                        own_level = Some(level);
                        let prev = if k > 0 && leans_on_previous(s) {
                            sents.get(k - 1)
                        } else {
                            None
                        };
                        let ctx = match (&context, prev) {
                            (Some(c), Some(p)) => Some(format!("{c} ... {p}")),
                            (None, Some(p)) => Some(p.clone()),
                            (c, None) => c.clone(),
                        };
                        b.push(
                            &slug,
                            &section,
                            level,
                            normative,
                            block.line,
                            ctx,
                            s.clone(),
                            None,
                        );
                    }
                }
                let parent_inherit = parent_inherit.filter(|_| normative);
                let effective = own_level.or(parent_inherit);
                // An inherited item that is itself a lead-in ("The `update_add_htlc`:") only
                // passes its level on; its children are the entries.
                if own_level.is_none() && !last.ends_with(':') {
                    if let Some(level) = parent_inherit {
                        b.push(
                            &slug,
                            &section,
                            level,
                            normative,
                            block.line,
                            context.clone(),
                            block.text.clone(),
                            None,
                        );
                    }
                }
                let mut my_chain = chain;
                my_chain.push(last.clone());
                let ctx = Ctx {
                    inherit: if last.ends_with(':') && !numbered {
                        sentence_level(&last).or(effective)
                    } else {
                        None
                    },
                    chain: my_chain,
                };
                items.push((*indent, ctx));
            }
            _ => {}
        }
    }
    // Each entry's line is where its own text starts (the block's first line is only a fallback).
    let norm = text::NormDoc::new(source);
    for r in &mut b.out {
        let own = text::Pattern::new(&r.quote);
        let full = text::Pattern::new(&r.quote_with_context());
        let found = norm.find(&full).into_iter().find(|m| {
            let k = m.spans.len().saturating_sub(own.segments.len());
            m.spans.get(k).is_some_and(|s| norm.line_of(s.0) >= r.line)
        });
        if let Some(m) = found {
            let k = m.spans.len().saturating_sub(own.segments.len());
            if let Some(s) = m.spans.get(k) {
                r.line = norm.line_of(s.0);
            }
        }
    }
    // Prose: the sentences no entry holds, each at the line where its text starts.
    let mut prose: Vec<Prose> = std::mem::take(&mut b.prose)
        .into_iter()
        .filter(|p| !b.out.iter().any(|r| r.quote.contains(&p.text)))
        .collect();
    for p in &mut prose {
        let pat = text::Pattern::new(&p.text);
        if let Some(m) = norm.find(&pat).into_iter().find(|m| norm.line_of(m.start()) >= p.line) {
            p.line = norm.line_of(m.start());
        }
    }
    let mut counts = DocCounts::default();
    for l in Level::ALL {
        let n = b.out.iter().filter(|r| r.normative && r.level == l).count();
        counts.requirements.insert(l.as_str().to_string(), n);
        counts.keywords.entry(l.as_str().to_string()).or_insert(0);
    }
    counts.keywords.extend(b.keywords.clone());
    (b.out, b.non_normative, counts, prose)
}

/// Last line of the section starting at or above block `idx` with heading `level`.
fn section_end(blocks: &[Block], idx: usize, level: u8) -> usize {
    let mut end = blocks.get(idx).map_or(0, |b| b.end_line);
    for b in blocks.iter().skip(idx + 1) {
        if matches!(b.kind, BlockKind::Heading(l) if l <= level) {
            break;
        }
        end = b.end_line;
    }
    end
}

fn quote_end(blocks: &[Block], idx: usize) -> usize {
    let mut end = blocks.get(idx).map_or(0, |b| b.end_line);
    for b in blocks.iter().skip(idx + 1) {
        if !b.quoted || b.text.starts_with("**") {
            break;
        }
        end = b.end_line;
    }
    end
}

/// Every section a scope names is a heading of its document: a misspelt or
/// renamed one would otherwise drop its rules from the index without a word.
fn check_scope_headings(scope: &Scope, source: &str) -> Result<(), String> {
    let headings: Vec<String> = markdown::parse(source)
        .into_iter()
        .filter(|b| matches!(b.kind, BlockKind::Heading(_)))
        .map(|b| b.text)
        .collect();
    for name in scope.include.iter().chain(scope.exclude) {
        if !headings.iter().any(|h| h == name) {
            return Err(format!("{}: the scope names section `{name}`, which is no heading of the document", scope.doc));
        }
    }
    Ok(())
}

/// One revision's index with positional ids (before [`align`]).
fn build_revision(repo_root: &Path, rev: SpecRevision) -> Result<RequirementsFile, String> {
    let mut documents = Vec::new();
    let mut counts = BTreeMap::new();
    let mut requirements = Vec::new();
    let mut non_normative = Vec::new();
    for scope in SCOPES {
        let doc = docs::doc(scope.doc).ok_or_else(|| format!("unknown document {}", scope.doc))?;
        let path = docs::doc_path(repo_root, rev, doc);
        if !path.exists() {
            // Fixture trees hold only some documents; the committed-file test guards the real one.
            continue;
        }
        let source = docs::read(&path)?;
        check_scope_headings(scope, &source).map_err(|e| format!("{}: {e}", rev.name()))?;
        let (reqs, nn, c) = build_doc(doc, scope, &source);
        let commit = rev.documents().iter().find(|(d, _)| *d == doc.name()).map_or("", |(_, c)| c);
        documents.push(DocScopeEntry {
            document: doc.name(),
            file: doc.file.to_string(),
            commit: commit.to_string(),
            sections: if scope.include.is_empty() {
                vec!["(all)".to_string()]
            } else {
                scope.include.iter().map(|s| s.to_string()).collect()
            },
            excluded: scope.exclude.iter().map(|s| s.to_string()).collect(),
        });
        counts.insert(doc.name(), c);
        requirements.extend(reqs);
        non_normative.extend(nn);
    }
    Ok(RequirementsFile {
        format_version: 2,
        generated_by: "sidepool-conformance spec requirements --write".into(),
        revision: rev.name().to_string(),
        documents,
        counts,
        requirements,
        non_normative,
    })
}

/// (section prefix of an id, whether it is a non-normative `nN` ordinal, the ordinal).
fn split_id(id: &str) -> Option<(&str, bool, u64)> {
    let (prefix, ord) = id.rsplit_once('.')?;
    match ord.strip_prefix('n') {
        Some(n) => Some((prefix, true, n.parse().ok()?)),
        None => Some((prefix, false, ord.parse().ok()?)),
    }
}

fn same_text(a: &Requirement, b: &Requirement) -> bool {
    a.document == b.document && a.quote == b.quote && a.context == b.context && a.level == b.level && a.normative == b.normative
}

/// Gives one revision's entries (`new`, positional ids from [`build_doc`]) the
/// ids of the previous revision's entries (`prev`, final ids) where the
/// sentence is the same (wherever it moved) or reworded in place (same document,
/// section and normativity, similarity of `context ... quote` at least
/// [`REWORDED_THRESHOLD`], the most similar pairs first). Any other entry keeps
/// its positional id unless some revision used it (`taken`), else takes the next
/// free ordinal of its section. Returns `new` with its final ids, in its order.
pub fn align(prev: &[Requirement], mut new: Vec<Requirement>, taken: &BTreeSet<String>) -> Vec<Requirement> {
    let mut assigned: Vec<Option<String>> = vec![None; new.len()];
    let mut prev_used = vec![false; prev.len()];
    // 1. The same sentence: first in the same section, then anywhere in the document.
    for same_section in [true, false] {
        for (j, n) in new.iter().enumerate() {
            if assigned.get(j).is_some_and(Option::is_some) {
                continue;
            }
            let hit = prev.iter().enumerate().position(|(i, p)| {
                !prev_used.get(i).copied().unwrap_or(true) && same_text(p, n) && (!same_section || p.section == n.section)
            });
            if let Some(i) = hit {
                if let (Some(u), Some(a), Some(p)) = (prev_used.get_mut(i), assigned.get_mut(j), prev.get(i)) {
                    *u = true;
                    *a = Some(p.id.clone());
                }
            }
        }
    }
    // 2. Reworded in place.
    let mut candidates: Vec<(usize, usize, f64)> = Vec::new();
    for (i, p) in prev.iter().enumerate() {
        if prev_used.get(i).copied().unwrap_or(true) {
            continue;
        }
        for (j, n) in new.iter().enumerate() {
            if assigned.get(j).is_some_and(Option::is_some) || p.document != n.document || p.section != n.section || p.normative != n.normative {
                continue;
            }
            let sim = similarity(&p.quote_with_context(), &n.quote_with_context());
            if sim >= REWORDED_THRESHOLD {
                candidates.push((i, j, sim));
            }
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    for (i, j, _) in candidates {
        if prev_used.get(i).copied().unwrap_or(true) || assigned.get(j).is_some_and(Option::is_some) {
            continue;
        }
        if let (Some(u), Some(a), Some(p)) = (prev_used.get_mut(i), assigned.get_mut(j), prev.get(i)) {
            *u = true;
            *a = Some(p.id.clone());
        }
    }
    // 3. New sentences: the positional id when no revision used it, else the section's next ordinal.
    let mut used: BTreeSet<String> = taken.iter().cloned().chain(prev.iter().map(|p| p.id.clone())).collect();
    used.extend(assigned.iter().flatten().cloned());
    for (j, n) in new.iter().enumerate() {
        if assigned.get(j).is_some_and(Option::is_some) {
            continue;
        }
        let id = if used.contains(&n.id) {
            match split_id(&n.id) {
                Some((prefix, nn, _)) => {
                    let max = used
                        .iter()
                        .filter_map(|u| split_id(u))
                        .filter(|(p, k, _)| *p == prefix && *k == nn)
                        .map(|(_, _, o)| o)
                        .max()
                        .unwrap_or(0);
                    format!("{prefix}.{}{}", if nn { "n" } else { "" }, max + 1)
                }
                None => format!("{}.new", n.id),
            }
        } else {
            n.id.clone()
        };
        used.insert(id.clone());
        if let Some(a) = assigned.get_mut(j) {
            *a = Some(id);
        }
    }
    for (n, id) in new.iter_mut().zip(assigned) {
        if let Some(id) = id {
            n.id = id;
        }
    }
    new
}

/// Builds every revision's index from the pinned texts under `repo_root`,
/// oldest revision first, with ids aligned across revisions and each entry's
/// `revisions` filled in.
pub fn generate(repo_root: &Path) -> Result<Vec<RequirementsFile>, String> {
    let mut files: Vec<RequirementsFile> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for rev in docs::revisions_present(repo_root) {
        let mut file = build_revision(repo_root, rev)?;
        if let Some(prev) = files.last() {
            file.requirements = align(&prev.requirements, std::mem::take(&mut file.requirements), &taken);
        }
        taken.extend(file.requirements.iter().map(|r| r.id.clone()));
        files.push(file);
    }
    let mut membership: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut reworded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut last: BTreeMap<String, Requirement> = BTreeMap::new();
    for f in &files {
        for r in &f.requirements {
            membership.entry(r.id.clone()).or_default().push(f.revision.clone());
            if last.get(&r.id).is_some_and(|p| !same_text(p, r)) {
                reworded.entry(r.id.clone()).or_default().push(f.revision.clone());
            }
            last.insert(r.id.clone(), r.clone());
        }
    }
    for f in &mut files {
        for r in &mut f.requirements {
            r.revisions = membership.get(&r.id).cloned().unwrap_or_default();
            r.reworded_in = reworded.get(&r.id).cloned().unwrap_or_default();
        }
    }
    Ok(files)
}

/// One revision's index, generated (for a text that is not committed, e.g. an
/// edit under review): `source` replaces document `doc` of revision `base`,
/// and ids are aligned to `base`'s index.
pub fn generate_edited(repo_root: &Path, base: SpecRevision, doc: &DocInfo, source: &str) -> Result<(RequirementsFile, RequirementsFile), String> {
    let files = generate(repo_root)?;
    let from = files
        .iter()
        .find(|f| f.revision == base.name())
        .cloned()
        .ok_or_else(|| format!("revision {} is not in {}", base.name(), docs::SIDEPOOL_DIR))?;
    let taken: BTreeSet<String> = files.iter().flat_map(|f| f.requirements.iter().map(|r| r.id.clone())).collect();
    let mut to = from.clone();
    let scope = SCOPES.iter().find(|s| s.doc == doc.number).copied().unwrap_or(Scope { doc: doc.number, include: &[], exclude: &[] });
    let (reqs, nn, counts) = build_doc(doc, &scope, source);
    let others: Vec<Requirement> = from.requirements.iter().filter(|r| r.document != doc.name()).cloned().collect();
    let prev_doc: Vec<Requirement> = from.requirements.iter().filter(|r| r.document == doc.name()).cloned().collect();
    let aligned = align(&prev_doc, reqs, &taken);
    to.requirements = others;
    to.requirements.extend(aligned);
    to.non_normative.retain(|n| n.document != doc.name());
    to.non_normative.extend(nn);
    to.counts.insert(doc.name(), counts);
    to.revision = format!("{} (edited {})", base.name(), doc.name());
    Ok((from, to))
}

/// The file's text: the header comment, then the YAML.
pub fn render(file: &RequirementsFile) -> Result<String, String> {
    let yaml =
        serde_yaml::to_string(file).map_err(|e| format!("cannot render requirements: {e}"))?;
    Ok(format!("{HEADER}{yaml}"))
}

/// Loads one revision's committed index.
pub fn load(repo_root: &Path, rev: SpecRevision) -> Result<RequirementsFile, String> {
    let path = repo_root.join(requirements_file(rev));
    let text = docs::read(&path)?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A format problem of one of our own specs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnSpecProblem {
    pub file: String,
    pub line: usize,
    pub text: String,
}

/// The requirements of our own spec documents: one per `**[id]**` bullet, with
/// its sentence's level; plus every format problem found (no keyword, more
/// than one sentence, a malformed or repeated id).
pub fn own_requirements(repo_root: &Path) -> Result<(Vec<Requirement>, Vec<OwnSpecProblem>), String> {
    let (own, warnings) = docs::own_docs(repo_root)?;
    let mut problems: Vec<OwnSpecProblem> =
        warnings.into_iter().map(|w| OwnSpecProblem { file: String::new(), line: 0, text: w }).collect();
    let mut out: Vec<Requirement> = Vec::new();
    for d in own {
        let source = docs::read(&d.path)?;
        let file = docs::rel(repo_root, &d.path);
        let (reqs, probs) = build_own_doc(&d.id, &source);
        problems.extend(probs.into_iter().map(|(line, text)| OwnSpecProblem { file: file.clone(), line, text }));
        for r in reqs {
            if out.iter().any(|o| o.id == r.id) {
                problems.push(OwnSpecProblem { file: file.clone(), line: r.line, text: format!("requirement id {} is used twice", r.id) });
                continue;
            }
            out.push(r);
        }
    }
    Ok((out, problems))
}

/// Whether `id` is `system.area.n`-shaped: lowercase letters, digits and `-`, at least three dot-separated parts.
fn valid_own_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() >= 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
}

/// The requirements of one own spec document, and its format problems (line, text).
pub fn build_own_doc(doc_id: &str, source: &str) -> (Vec<Requirement>, Vec<(usize, String)>) {
    let blocks = markdown::parse(source);
    let system = match doc_id.split('-').next().unwrap_or_default() {
        "LOOP" => "loop",
        "LNROD" => "lnrod",
        "BLOBSWAP" => "blob",
        other => other,
    };
    let mut out: Vec<Requirement> = Vec::new();
    let mut problems = Vec::new();
    let mut headings: Vec<(u8, String)> = Vec::new();
    for (idx, b) in blocks.iter().enumerate() {
        match &b.kind {
            BlockKind::Heading(level) => {
                while headings.last().is_some_and(|(l, _)| l >= level) {
                    headings.pop();
                }
                headings.push((*level, b.text.clone()));
            }
            BlockKind::Item { indent, .. } => {
                let Some((id, sentence)) = docs::requirement_tag(&b.text) else { continue };
                if !valid_own_id(id) || !id.starts_with(&format!("{system}.")) {
                    problems.push((b.line, format!("requirement id `{id}` is not of the form {system}.<area>.<n> (lowercase, dots)")));
                }
                let Some(level) = sentence_level(sentence) else {
                    problems.push((b.line, format!("{id}: no RFC 2119 keyword (MUST, MUST NOT, SHOULD, SHOULD NOT, MAY) in upper case")));
                    continue;
                };
                if sentences(sentence).len() > 1 {
                    problems.push((b.line, format!("{id}: more than one sentence (one normative sentence per requirement)")));
                }
                // A `Reading:` sub-bullet marks the requirement as our reading.
                let reading = blocks
                    .iter()
                    .skip(idx + 1)
                    .take_while(|c| matches!(&c.kind, BlockKind::Item { indent: ci, .. } if ci > indent))
                    .find_map(|c| c.text.strip_prefix("Reading:").map(|r| format!("Reading: {}", r.trim())));
                out.push(Requirement {
                    id: id.to_string(),
                    document: doc_id.to_string(),
                    revisions: Vec::new(),
                    reworded_in: Vec::new(),
                    section: headings.iter().skip(1).map(|(_, t)| t.clone()).collect(),
                    level,
                    normative: !b.quoted,
                    line: b.line,
                    context: None,
                    quote: sentence.to_string(),
                    note: reading,
                });
            }
            _ => {}
        }
    }
    (out, problems)
}

/// Every requirement the repository knows: each revision's index and our own specs'.
#[derive(Clone, Debug, Default)]
pub struct Index {
    pub revisions: Vec<RequirementsFile>,
    pub own: Vec<Requirement>,
}

impl Index {
    /// The committed indexes (generated, with a warning, where one is missing) and our own specs.
    pub fn load(repo_root: &Path) -> Result<(Index, Vec<String>), String> {
        let mut warnings = Vec::new();
        let mut revisions = Vec::new();
        let mut generated: Option<Vec<RequirementsFile>> = None;
        for rev in docs::revisions_present(repo_root) {
            if repo_root.join(requirements_file(rev)).exists() {
                revisions.push(load(repo_root, rev)?);
            } else {
                warnings.push(format!("no {}; using the index generated from the pinned texts", requirements_file(rev)));
                let files = match &generated {
                    Some(f) => f.clone(),
                    None => generate(repo_root)?,
                };
                if let Some(f) = files.iter().find(|f| f.revision == rev.name()) {
                    revisions.push(f.clone());
                }
                generated = Some(files);
            }
        }
        let (own, problems) = own_requirements(repo_root)?;
        warnings.extend(problems.into_iter().map(|p| format!("{}:{}: {}", p.file, p.line, p.text)));
        Ok((Index { revisions, own }, warnings))
    }

    /// The requirements of revision `rev`: its SIDEPOOL index, and our own specs'.
    pub fn at(&self, rev: SpecRevision) -> Vec<Requirement> {
        self.revisions
            .iter()
            .filter(|f| f.revision == rev.name())
            .flat_map(|f| f.requirements.iter().cloned())
            .chain(self.own.iter().cloned())
            .collect()
    }

    /// Every entry with this id: (revision name, or `None` for our own specs, and the entry).
    pub fn find(&self, id: &str) -> Vec<(Option<&str>, &Requirement)> {
        self.revisions
            .iter()
            .flat_map(|f| f.requirements.iter().filter(|r| r.id == id).map(move |r| (Some(f.revision.as_str()), r)))
            .chain(self.own.iter().filter(|r| r.id == id).map(|r| (None, r)))
            .collect()
    }

    /// Whether any revision (or our own specs) has this id.
    pub fn knows(&self, id: &str) -> bool {
        !self.find(id).is_empty()
    }
}

/// Where the index files of every revision go.
pub fn files_for(repo_root: &Path) -> Vec<(SpecRevision, PathBuf)> {
    docs::revisions_present(repo_root).into_iter().map(|r| (r, repo_root.join(requirements_file(r)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: DocInfo = DocInfo {
        number: "99",
        file: "x.md",
    };
    const SCOPE: Scope = Scope {
        doc: "99",
        include: &[],
        exclude: &[],
    };

    /// A scope may name a `---` section under a `===` one (SIDEPOOL-06's
    /// "Private Key Handover" under "Overview"); naming a heading the
    /// document does not have is an error, not an empty section.
    #[test]
    fn scope_sections_of_any_level_and_unknown_names() {
        let src = "Overview\n========\n\nIntro MUST be skipped.\n\nHandover\n--------\n\nNodes MUST NOT reuse keys.\n\nOther\n=====\n\nThis MUST be skipped.\n";
        let scope = Scope { doc: "SIDEPOOL-99", include: &["Handover"], exclude: &[] };
        let (reqs, _, _) = build_doc(&DOC, &scope, src);
        let quotes: Vec<&str> = reqs.iter().map(|r| r.quote.as_str()).collect();
        assert_eq!(quotes, ["Nodes MUST NOT reuse keys."]);
        assert_eq!(reqs[0].id, "sp99.handover.1");
        assert!(check_scope_headings(&scope, src).is_ok());
        let typo = Scope { doc: "SIDEPOOL-99", include: &["Hand over"], exclude: &[] };
        let err = check_scope_headings(&typo, src).unwrap_err();
        assert!(err.contains("`Hand over`"), "{err}");
        let bad_exclude = Scope { doc: "SIDEPOOL-99", include: &[], exclude: &["Nope"] };
        assert!(check_scope_headings(&bad_exclude, src).is_err());
    }

    #[test]
    fn lead_in_items_inherit_and_carry_context() {
        let src = "T\n=\n\nRules\n=====\n\nThe receiver of this message:\n\n* MUST check that the amount was set such that:\n  * It is at least 1.\n  * It is below 2.\n* MAY log it.\n\nThe sender SHOULD log and MUST ignore the message. Plain text.\n\n> **Rationale** You MUST NOT count this.\n";
        let (reqs, nn, counts) = build_doc(&DOC, &SCOPE, src);
        let got: Vec<(&str, Level, &str, Option<&str>)> = reqs
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.level,
                    r.quote.as_str(),
                    r.context.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("sp99.rules.1", Level::Must, "MUST check that the amount was set such that:", Some("The receiver of this message:")),
                (
                    "sp99.rules.2",
                    Level::Must,
                    "It is at least 1.",
                    Some("The receiver of this message: ... MUST check that the amount was set such that:")
                ),
                (
                    "sp99.rules.3",
                    Level::Must,
                    "It is below 2.",
                    Some("The receiver of this message: ... MUST check that the amount was set such that:")
                ),
                ("sp99.rules.4", Level::May, "MAY log it.", Some("The receiver of this message:")),
                ("sp99.rules.5", Level::Must, "The sender SHOULD log and MUST ignore the message.", None),
                ("sp99.rules.n1", Level::MustNot, "**Rationale** You MUST NOT count this.", None),
            ]
        );
        assert!(!reqs[5].normative);
        assert_eq!(nn.len(), 1);
        assert_eq!(counts.requirements["MUST"], 4);
        assert_eq!(counts.keywords["MUST"], 2);
        assert_eq!(counts.keywords["SHOULD"], 1);
    }
}
