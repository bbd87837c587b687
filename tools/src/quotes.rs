//! Spec quotes in code: `// SIDEPOOL-NN: "..."` (also `///` and `//!`),
//! checked against the pinned texts in `spec-mirror/`.
//!
//! The quote runs from the first `"` after `SIDEPOOL-NN:` to the last `"` on
//! the line (so quotes may contain `"`). A quote left open on its line
//! continues on the following comment lines until one holds a `"`.
//! Whitespace is collapsed on both sides, markdown line starts (`> `, `* `,
//! `- `) are ignored, and `...` matches any text.

use crate::docs::{self, DocInfo};
use crate::text::{closest_passage, Match, NormDoc, Pattern};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where `quotes` looks by default, relative to the repository root.
pub const DEFAULT_PATHS: &[&str] = &["reference", "conformance", "tools/src"];

/// One quote found in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// Path as displayed (relative to the repository root when under it).
    pub file: String,
    pub line: usize,
    /// Document number as written ("10" for SIDEPOOL-10).
    pub doc: String,
    pub text: String,
    /// Set when the quote never closes.
    pub unterminated: bool,
}

fn comment_body(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t.strip_prefix("//")?;
    let rest = rest
        .strip_prefix('/')
        .or_else(|| rest.strip_prefix('!'))
        .unwrap_or(rest);
    Some(rest)
}

/// Finds the quotes in one Rust source text.
pub fn scan_source(file: &str, source: &str) -> Vec<Quote> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for (idx, line) in lines.iter().enumerate() {
        let Some(comment_at) = line.find("//") else {
            continue;
        };
        let Some(after_comment) = line.get(comment_at..) else {
            continue;
        };
        let Some(pos) = after_comment.find("SIDEPOOL-") else {
            continue;
        };
        let Some(rest) = after_comment.get(pos + "SIDEPOOL-".len()..) else {
            continue;
        };
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            continue;
        }
        let Some(rest) = rest.get(digits.len()..).and_then(|r| r.strip_prefix(':')) else {
            continue;
        };
        let Some(body) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let (text, unterminated) = match body.rfind('"') {
            Some(end) => (body.get(..end).unwrap_or_default().to_string(), false),
            None => continue_quote(body, lines.get(idx + 1..).unwrap_or_default()),
        };
        out.push(Quote {
            file: file.to_string(),
            line: idx + 1,
            doc: digits,
            text,
            unterminated,
        });
    }
    out
}

/// A quote left open: take following comment lines until one has a `"`.
fn continue_quote(first: &str, following: &[&str]) -> (String, bool) {
    let mut text = first.to_string();
    for line in following.iter().take(12) {
        let Some(body) = comment_body(line) else {
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

/// Finds the quotes in every `.rs` file under `paths`.
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
        for f in docs::walk(&p, &[".rs"]) {
            let src = docs::read(&f)?;
            out.extend(scan_source(&docs::rel(repo_root, &f), &src));
        }
    }
    Ok(out)
}

/// The pinned documents, normalised for matching.
pub struct SpecSet {
    pub docs: BTreeMap<String, (DocInfo, NormDoc)>,
}

impl SpecSet {
    pub fn load(repo_root: &Path) -> Result<SpecSet, String> {
        let mut docs_map = BTreeMap::new();
        for d in docs::DOCS {
            let path = docs::doc_path(repo_root, d);
            if !path.exists() {
                // A document that is not there cannot be quoted: its quotes report UnknownDocument.
                continue;
            }
            let src = docs::read(&path)?;
            docs_map.insert(d.number.to_string(), (*d, NormDoc::new(&src)));
        }
        Ok(SpecSet { docs: docs_map })
    }

    /// A set with one document's text replaced (for `impact` and tests).
    pub fn with_text(mut self, number: &str, source: &str) -> SpecSet {
        if let Some(d) = docs::doc(number) {
            self.docs
                .insert(d.number.to_string(), (*d, NormDoc::new(source)));
        }
        self
    }

    pub fn get(&self, number: &str) -> Option<&NormDoc> {
        let d = docs::doc(number)?;
        self.docs.get(d.number).map(|(_, n)| n)
    }
}

/// The closest passage of the spec to a quote that did not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closest {
    pub line: usize,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Matched(Vec<Match>),
    Mismatch(Option<Closest>),
    UnknownDocument,
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
}

/// Checks one quote against its document.
pub fn check_one(spec: &SpecSet, q: &Quote) -> Verdict {
    if q.unterminated {
        return Verdict::Unterminated;
    }
    let Some(doc) = spec.get(&q.doc) else {
        return Verdict::UnknownDocument;
    };
    let pattern = Pattern::new(&q.text);
    if pattern.is_empty() {
        return Verdict::Empty;
    }
    let found = doc.find(&pattern);
    if !found.is_empty() {
        return Verdict::Matched(found);
    }
    let closest = closest_passage(&doc.text, &pattern.joined()).and_then(|((s, e), _)| {
        Some(Closest {
            line: doc.line_of(s),
            text: doc.text.get(s..e)?.to_string(),
        })
    });
    Verdict::Mismatch(closest)
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

/// The report `quotes` prints.
pub fn report(checked: &[Checked]) -> String {
    let mut s = String::new();
    for c in checked {
        let q = &c.quote;
        let why = match &c.verdict {
            Verdict::Matched(_) => continue,
            Verdict::Mismatch(_) => "does not match",
            Verdict::UnknownDocument => "names a document not in spec-mirror/",
            Verdict::Empty => "is empty",
            Verdict::Unterminated => "is never closed with \"",
        };
        s.push_str(&format!(
            "{}:{}: SIDEPOOL-{} quote {why}\n",
            q.file, q.line, q.doc
        ));
        s.push_str(&format!(
            "  quote:   \"{}\"\n",
            crate::text::collapse(&q.text)
        ));
        if let Verdict::Mismatch(Some(cl)) = &c.verdict {
            s.push_str(&format!(
                "  closest: SIDEPOOL-{} line {}: \"{}\"\n",
                q.doc, cl.line, cl.text
            ));
        }
    }
    let bad = checked.iter().filter(|c| !c.ok()).count();
    s.push_str(&format!(
        "{} quotes checked, {} mismatched\n",
        checked.len(),
        bad
    ));
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
        );
        let q = scan_source("x.rs", src);
        let got: Vec<(usize, &str, &str)> = q
            .iter()
            .map(|q| (q.line, q.doc.as_str(), q.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "01", "a \"quoted\" word"),
                (2, "10", "tail"),
                (3, "06", "opens here and closes here.")
            ]
        );
    }
}
