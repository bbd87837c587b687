//! Spec quotes in code: `// SIDEPOOL-NN: "..."` (also `///` and `//!`; in
//! Python files, `# SIDEPOOL-NN: "..."`), checked against the pinned texts in
//! `spec-mirror/`.
//!
//! The quote runs from the first `"` after `SIDEPOOL-NN:` to the last `"` on
//! the line (so quotes may contain `"`). A quote left open on its line
//! continues on the following comment lines until one holds a `"`.
//! Whitespace is collapsed on both sides, markdown line starts (`> `, `* `,
//! `- `) are ignored, and `...` matches any text.
//!
//! Revisions: an unqualified SIDEPOOL quote must match at least one revision
//! of its document, and the checker reports which ones it matches;
//! `SIDEPOOL-NN@seed: "..."` pins one revision (`@upstream` names the newest
//! upstream one) and must match that one. Our own specs (`LOOP-NN: "..."`)
//! have one revision and take no qualifier; their `**[id]**` tags are not part
//! of the text a quote matches.

use crate::docs::{self, DocInfo};
use crate::text::{closest_passage, Match, NormDoc, Pattern};
use sidepool_reference::revision::SpecRevision;
use std::path::{Path, PathBuf};

/// Where `quotes` looks by default, relative to the repository root.
pub const DEFAULT_PATHS: &[&str] = &["reference", "conformance", "tools/src"];

/// One quote found in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// Path as displayed (relative to the repository root when under it).
    pub file: String,
    pub line: usize,
    /// The document as named, SIDEPOOL numbers padded to two digits: "SIDEPOOL-10", "LOOP-01".
    pub doc: String,
    /// The `@revision` qualifier as written, if any.
    pub revision: Option<String>,
    pub text: String,
    /// Set when the quote never closes.
    pub unterminated: bool,
}

impl Quote {
    /// "SIDEPOOL-10" or "SIDEPOOL-10@seed", as in the source.
    pub fn label(&self) -> String {
        match &self.revision {
            Some(r) => format!("{}@{r}", self.doc),
            None => self.doc.clone(),
        }
    }
}

fn comment_body<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let t = line.trim_start();
    let rest = t.strip_prefix(marker)?;
    let rest = rest
        .strip_prefix('/')
        .or_else(|| rest.strip_prefix('!'))
        .unwrap_or(rest);
    Some(rest)
}

/// (document, `@revision` qualifier, the quote's text after its opening `"`).
type QuoteHead<'a> = (String, Option<String>, &'a str);

/// A document name with its optional qualifier at the start of `s`
/// (`SIDEPOOL-NN@REV: "`, NN digits): (document, revision, the text after the opening `"`).
fn quote_head<'a>(s: &'a str, prefix: &str) -> Option<QuoteHead<'a>> {
    let rest = s.strip_prefix(prefix)?.strip_prefix('-')?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let mut rest = rest.get(digits.len()..)?;
    let mut revision = None;
    if let Some(r) = rest.strip_prefix('@') {
        let name: String = r.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.').collect();
        if name.is_empty() {
            return None;
        }
        rest = r.get(name.len()..)?;
        revision = Some(name);
    }
    let body = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let doc = if prefix == "SIDEPOOL" {
        docs::doc(&digits).map_or_else(|| format!("SIDEPOOL-{digits}"), DocInfo::name)
    } else {
        format!("{prefix}-{digits}")
    };
    Some((doc, revision, body))
}

/// The first quote head in a comment, for any known prefix.
fn find_head(comment: &str) -> Option<QuoteHead<'_>> {
    let prefixes = docs::quote_prefixes();
    let mut best: Option<(usize, QuoteHead<'_>)> = None;
    for p in prefixes {
        let mut from = 0;
        while let Some(pos) = comment.get(from..).and_then(|c| c.find(p)) {
            let at = from + pos;
            // A whole word: not the tail of a longer identifier. Inside a `code span` it is an
            // example of the format (`// LOOP-01: "..."`), not a quote.
            let before = comment.get(..at).unwrap_or_default();
            let word_start = before.chars().last().is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
            let in_code_span = before.matches('`').count() % 2 == 1;
            if word_start && !in_code_span {
                if let Some(h) = comment.get(at..).and_then(|c| quote_head(c, p)) {
                    if best.as_ref().is_none_or(|(b, _)| at < *b) {
                        best = Some((at, h));
                    }
                    break;
                }
            }
            from = at + p.len();
        }
    }
    best.map(|(_, h)| h)
}

/// Finds the quotes in one Rust source text.
pub fn scan_source(file: &str, source: &str) -> Vec<Quote> {
    let marker = comment_marker(file);
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for (idx, line) in lines.iter().enumerate() {
        let Some(comment_at) = line.find(marker) else {
            continue;
        };
        let Some(after_comment) = line.get(comment_at..) else {
            continue;
        };
        let Some((doc, revision, body)) = find_head(after_comment) else {
            continue;
        };
        let (text, unterminated) = match body.rfind('"') {
            Some(end) => (body.get(..end).unwrap_or_default().to_string(), false),
            None => continue_quote(body, lines.get(idx + 1..).unwrap_or_default(), marker),
        };
        out.push(Quote {
            file: file.to_string(),
            line: idx + 1,
            doc,
            revision,
            text,
            unterminated,
        });
    }
    out
}

/// A quote left open: take following comment lines until one has a `"`.
fn continue_quote(first: &str, following: &[&str], marker: &str) -> (String, bool) {
    let mut text = first.to_string();
    for line in following.iter().take(12) {
        let Some(body) = comment_body(line, marker) else {
            break;
        };
        if let Some(end) = body.rfind('"') {
            text.push(' ');
            text.push_str(body.get(..end).unwrap_or_default().trim());
            return (text, false);
        }
        text.push(' ');
        text.push_str(body.trim());
    }
    (text, true)
}

/// Where a comment starts in `file`: `#` in Python (the adapter kit and its
/// example IUT, conformance/adapter-kit/python), `//` everywhere else.
fn comment_marker(file: &str) -> &'static str {
    if file.ends_with(".py") {
        "#"
    } else {
        "//"
    }
}

/// Finds the quotes in every `.rs` and `.py` file under `paths`.
pub fn scan_paths(repo_root: &Path, paths: &[PathBuf]) -> Result<Vec<Quote>, String> {
    let mut out = Vec::new();
    for p in paths {
        let p = if p.is_absolute() || p.exists() {
            p.clone()
        } else {
            repo_root.join(p)
        };
        if !p.exists() {
            return Err(format!("no such path: {}", p.display()));
        }
        for f in docs::walk(&p, &[".rs", ".py"]) {
            let src = docs::read(&f)?;
            out.extend(scan_source(&docs::rel(repo_root, &f), &src));
        }
    }
    Ok(out)
}

/// One document's text at one revision (`None` for our own specs), normalised for matching.
#[derive(Clone, Debug)]
pub struct SpecText {
    /// "SIDEPOOL-10", "LOOP-01".
    pub doc: String,
    pub revision: Option<SpecRevision>,
    pub norm: NormDoc,
}

/// Every pinned text: each SIDEPOOL document at each revision present, and our own specs.
#[derive(Clone, Debug, Default)]
pub struct SpecSet {
    pub texts: Vec<SpecText>,
}

impl SpecSet {
    pub fn load(repo_root: &Path) -> Result<SpecSet, String> {
        let mut texts = Vec::new();
        for rev in docs::revisions_present(repo_root) {
            for d in docs::DOCS {
                let path = docs::doc_path(repo_root, rev, d);
                if !path.exists() {
                    // A document that is not there cannot be quoted at this revision.
                    continue;
                }
                let src = docs::read(&path)?;
                texts.push(SpecText { doc: d.name(), revision: Some(rev), norm: NormDoc::new(&src) });
            }
        }
        let (own, _) = docs::own_docs(repo_root)?;
        for d in own {
            let src = docs::read(&d.path)?;
            texts.push(SpecText { doc: d.id, revision: None, norm: NormDoc::new(&docs::strip_requirement_tags(&src)) });
        }
        Ok(SpecSet { texts })
    }

    /// A set with one document's text at one revision replaced (or added).
    pub fn with_text(mut self, doc: &str, revision: Option<SpecRevision>, source: &str) -> SpecSet {
        let norm = NormDoc::new(source);
        match self.texts.iter_mut().find(|t| t.doc == doc && t.revision == revision) {
            Some(t) => t.norm = norm,
            None => self.texts.push(SpecText { doc: doc.to_string(), revision, norm }),
        }
        self
    }

    /// The texts of one revision only (our own specs stay).
    pub fn only(&self, rev: SpecRevision) -> SpecSet {
        SpecSet { texts: self.texts.iter().filter(|t| t.revision.is_none_or(|r| r == rev)).cloned().collect() }
    }

    pub fn get(&self, doc: &str, revision: Option<SpecRevision>) -> Option<&NormDoc> {
        self.texts.iter().find(|t| t.doc == doc && t.revision == revision).map(|t| &t.norm)
    }

    /// The text a requirement of `doc` is read in at `rev`: the revision's for
    /// SIDEPOOL, the only one for our own specs.
    pub fn at(&self, doc: &str, rev: SpecRevision) -> Option<&NormDoc> {
        self.get(doc, Some(rev)).or_else(|| self.get(doc, None))
    }

    pub fn texts_of<'a>(&'a self, doc: &'a str) -> impl Iterator<Item = &'a SpecText> + 'a {
        self.texts.iter().filter(move |t| t.doc == doc)
    }
}

/// The closest passage of the spec to a quote that did not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closest {
    pub revision: Option<SpecRevision>,
    pub line: usize,
    pub text: String,
}

/// Where a quote matched in one revision of its document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevMatch {
    pub revision: Option<SpecRevision>,
    pub matches: Vec<Match>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Matched in these revisions (at least one).
    Matched(Vec<RevMatch>),
    Mismatch(Option<Closest>),
    UnknownDocument,
    /// The `@revision` names no revision of the document.
    UnknownRevision,
    Empty,
    Unterminated,
}

#[derive(Clone, Debug)]
pub struct Checked {
    pub quote: Quote,
    pub verdict: Verdict,
}

impl Checked {
    pub fn ok(&self) -> bool {
        matches!(self.verdict, Verdict::Matched(_))
    }

    /// The revisions the quote matches (empty for our own specs and for mismatches).
    pub fn revisions(&self) -> Vec<SpecRevision> {
        match &self.verdict {
            Verdict::Matched(rs) => rs.iter().filter_map(|r| r.revision).collect(),
            _ => Vec::new(),
        }
    }

    /// Where it matched in this revision of `doc` (our own specs: their only text).
    pub fn matches_at(&self, doc: &str, rev: SpecRevision) -> Option<&[Match]> {
        if self.quote.doc != doc {
            return None;
        }
        match &self.verdict {
            Verdict::Matched(rs) => rs
                .iter()
                .find(|r| r.revision == Some(rev) || r.revision.is_none())
                .map(|r| r.matches.as_slice()),
            _ => None,
        }
    }
}

/// Checks one quote against its document.
pub fn check_one(spec: &SpecSet, q: &Quote) -> Verdict {
    if q.unterminated {
        return Verdict::Unterminated;
    }
    let texts: Vec<&SpecText> = spec.texts_of(&q.doc).collect();
    if texts.is_empty() {
        return Verdict::UnknownDocument;
    }
    let texts: Vec<&SpecText> = match &q.revision {
        None => texts,
        Some(name) => {
            let Ok(rev) = SpecRevision::from_name(name) else {
                return Verdict::UnknownRevision;
            };
            let pinned: Vec<&SpecText> = texts.into_iter().filter(|t| t.revision == Some(rev)).collect();
            if pinned.is_empty() {
                return Verdict::UnknownRevision;
            }
            pinned
        }
    };
    let pattern = Pattern::new(&q.text);
    if pattern.is_empty() {
        return Verdict::Empty;
    }
    let found: Vec<RevMatch> = texts
        .iter()
        .filter_map(|t| {
            let matches = t.norm.find(&pattern);
            (!matches.is_empty()).then_some(RevMatch { revision: t.revision, matches })
        })
        .collect();
    if !found.is_empty() {
        return Verdict::Matched(found);
    }
    let mut best: Option<(usize, Closest)> = None;
    for t in &texts {
        let Some(((s, e), dist)) = closest_passage(&t.norm.text, &pattern.joined()) else {
            continue;
        };
        if best.as_ref().is_some_and(|(d, _)| *d <= dist) {
            continue;
        }
        if let Some(text) = t.norm.text.get(s..e) {
            best = Some((dist, Closest { revision: t.revision, line: t.norm.line_of(s), text: text.to_string() }));
        }
    }
    Verdict::Mismatch(best.map(|(_, c)| c))
}

pub fn check_all(spec: &SpecSet, quotes: &[Quote]) -> Vec<Checked> {
    quotes
        .iter()
        .map(|q| Checked {
            quote: q.clone(),
            verdict: check_one(spec, q),
        })
        .collect()
}

fn doc_at(doc: &str, rev: Option<SpecRevision>) -> String {
    match rev {
        Some(r) => format!("{doc}@{r}"),
        None => doc.to_string(),
    }
}

/// The report `quotes` prints.
pub fn report(spec: &SpecSet, checked: &[Checked]) -> String {
    let mut s = String::new();
    for c in checked {
        let q = &c.quote;
        let why = match &c.verdict {
            Verdict::Matched(_) => continue,
            Verdict::Mismatch(_) if q.revision.is_some() => "does not match its revision",
            Verdict::Mismatch(_) if q.doc.starts_with("SIDEPOOL-") => "matches no revision",
            Verdict::Mismatch(_) => "does not match",
            Verdict::UnknownDocument => "names a document not in spec-mirror/",
            Verdict::UnknownRevision => "names a revision the document does not have",
            Verdict::Empty => "is empty",
            Verdict::Unterminated => "is never closed with \"",
        };
        s.push_str(&format!("{}:{}: {} quote {why}\n", q.file, q.line, q.label()));
        s.push_str(&format!(
            "  quote:   \"{}\"\n",
            crate::text::collapse(&q.text)
        ));
        if let Verdict::Mismatch(Some(cl)) = &c.verdict {
            s.push_str(&format!(
                "  closest: {} line {}: \"{}\"\n",
                doc_at(&q.doc, cl.revision),
                cl.line,
                cl.text
            ));
        }
    }
    let bad = checked.iter().filter(|c| !c.ok()).count();
    s.push_str(&format!(
        "{} quotes checked, {} mismatched\n",
        checked.len(),
        bad
    ));
    let (every, some, pinned) = revision_counts(spec, checked);
    if every + some + pinned > 0 {
        s.push_str(&format!(
            "SIDEPOOL quotes by revision: {every} match every revision, {some} only some (unqualified), {pinned} pinned with @revision\n"
        ));
    }
    s
}

/// The revisions a SIDEPOOL document has in `spec`.
fn doc_revisions(spec: &SpecSet, doc: &str) -> Vec<SpecRevision> {
    spec.texts_of(doc).filter_map(|t| t.revision).collect()
}

/// (unqualified quotes matching every revision, unqualified matching only some, qualified) among
/// the matched SIDEPOOL quotes.
fn revision_counts(spec: &SpecSet, checked: &[Checked]) -> (usize, usize, usize) {
    let (mut every, mut some, mut pinned) = (0, 0, 0);
    for c in checked.iter().filter(|c| c.ok() && c.quote.doc.starts_with("SIDEPOOL-")) {
        if c.quote.revision.is_some() {
            pinned += 1;
        } else if c.revisions().len() == doc_revisions(spec, &c.quote.doc).len() {
            every += 1;
        } else {
            some += 1;
        }
    }
    (every, some, pinned)
}

/// Every matched SIDEPOOL quote that does not hold in every revision of its
/// document: unqualified ones that match only some, and pinned ones.
pub fn by_revision_report(spec: &SpecSet, checked: &[Checked]) -> String {
    let mut s = String::new();
    for c in checked.iter().filter(|c| c.ok() && c.quote.doc.starts_with("SIDEPOOL-")) {
        let all = doc_revisions(spec, &c.quote.doc);
        let got = c.revisions();
        if c.quote.revision.is_none() && got.len() == all.len() {
            continue;
        }
        let names: Vec<&str> = got.iter().map(|r| r.name()).collect();
        let how = if c.quote.revision.is_some() { "pinned to" } else { "matches only" };
        s.push_str(&format!("{}:{}: {} {how} {}\n", c.quote.file, c.quote.line, c.quote.label(), names.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_all_comment_forms() {
        let src = concat!(
            "//! SIDEPOOL-01: \"a \"quoted\" word\"\n",
            "fn f() {} // SIDEPOOL-10: \"tail\" (see ERRATA)\n",
            "/// SIDEPOOL-06: \"opens here\n",
            "/// and closes here.\"\n",
            "// the SIDEPOOL-10: spec, no quote\n",
            "let s = \"SIDEPOOL-10: \\\"not a comment\\\"\";\n",
            "// SIDEPOOL-10@seed: \"pinned\"\n",
            "// LOOP-01: \"The client MUST refuse.\"\n",
            "// MYLOOP-01: \"not a document\"\n",
            "//! Every `// LOOP-01: \"...\"` quote is checked (an example in a code span)\n",
            "// SIDEPOOL-2@upstream: \"padded\"\n",
        );
        let q = scan_source("x.rs", src);
        let got: Vec<(usize, &str, Option<&str>, &str)> = q
            .iter()
            .map(|q| (q.line, q.doc.as_str(), q.revision.as_deref(), q.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "SIDEPOOL-01", None, "a \"quoted\" word"),
                (2, "SIDEPOOL-10", None, "tail"),
                (3, "SIDEPOOL-06", None, "opens here and closes here."),
                (7, "SIDEPOOL-10", Some("seed"), "pinned"),
                (8, "LOOP-01", None, "The client MUST refuse."),
                (11, "SIDEPOOL-02", Some("upstream"), "padded"),
            ]
        );
    }

    #[test]
    fn python_files_quote_in_hash_comments() {
        let src = concat!(
            "    # SIDEPOOL-01: \"one line\"\n",
            "x = 1  # SIDEPOOL-10: \"after code\"\n",
            "# SIDEPOOL-06: \"opens here\n",
            "# and closes here.\"\n",
            "// SIDEPOOL-10: \"not a Python comment\"\n",
            "s = \"SIDEPOOL-10: no comment\"\n",
        );
        let got: Vec<(usize, String)> = scan_source("kit/x.py", src).into_iter().map(|q| (q.line, q.text)).collect();
        assert_eq!(got, vec![(1, "one line".to_string()), (2, "after code".into()), (3, "opens here and closes here.".into())]);
        assert!(scan_source("x.rs", "# SIDEPOOL-01: \"not a Rust comment\"\n").is_empty());
    }
}
