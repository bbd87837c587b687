//! Every `// BLOBSWAP-01: "..."` quote in this crate occurs in the spec, and every requirement of
//! the spec is well formed (an id, one sentence with an RFC 2119 keyword, a provenance).
//!
//! Matching follows the project's quote checker (tools/README.md, `spec quotes`): whitespace
//! collapsed on both sides, the `**[id]**` tags stripped from the spec, `...` matching any text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spec_text() -> String {
    let path = crate_dir().join("../../spec-mirror/blobswap/01-blobswap.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes every `**[...]**` tag.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("**[") {
        out.push_str(&rest[..start]);
        match rest[start..].find("]**") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The spec as quotes are matched against: bullet markers at line starts dropped, tags stripped,
/// whitespace collapsed.
fn normalised_spec() -> String {
    let text = spec_text();
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            t.strip_prefix("* ").or_else(|| t.strip_prefix("- ")).unwrap_or(t)
        })
        .collect();
    collapse(&strip_tags(&lines.join("\n")))
}

struct Quote {
    at: String,
    text: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The quotes of one file: from the first `"` after `BLOBSWAP-01:` to the last `"` on the line.
fn quotes_in(path: &Path) -> Vec<Quote> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(comment) = line.find("//") else { continue };
        let comment = &line[comment..];
        let Some(pos) = comment.find("BLOBSWAP-01:") else { continue };
        let rest = comment[pos + "BLOBSWAP-01:".len()..].trim_start();
        let Some(body) = rest.strip_prefix('"') else { continue };
        let end = body.rfind('"').unwrap_or_else(|| panic!("{}:{}: unterminated quote", path.display(), i + 1));
        out.push(Quote { at: format!("{}:{}", path.display(), i + 1), text: body[..end].to_string() });
    }
    out
}

fn all_quotes() -> Vec<Quote> {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    files.sort();
    files.iter().flat_map(|f| quotes_in(f)).collect()
}

fn matches(spec: &str, quote: &str) -> bool {
    let mut from = 0;
    for part in collapse(quote).split("...").map(str::trim).filter(|p| !p.is_empty()) {
        match spec[from..].find(part) {
            Some(i) => from += i + part.len(),
            None => return false,
        }
    }
    true
}

#[test]
fn every_quote_occurs_in_the_spec() {
    let spec = normalised_spec();
    let quotes = all_quotes();
    assert!(quotes.len() >= 50, "only {} quotes found", quotes.len());
    let bad: Vec<String> = quotes.iter().filter(|q| !matches(&spec, &q.text)).map(|q| format!("{}: {}", q.at, q.text)).collect();
    assert!(bad.is_empty(), "quotes not in BLOBSWAP-01:\n{}", bad.join("\n"));
}

#[test]
fn a_changed_word_is_caught() {
    let spec = normalised_spec();
    assert!(matches(&spec, "The SSP MUST NOT broadcast the payout transaction before it holds the preimage."));
    assert!(!matches(&spec, "The SSP MUST NOT broadcast the payout transaction before it holds the hash."));
    assert!(matches(&spec, "The witness of a payout MUST be ... its control block."));
}

/// One requirement: its id, its sentence, and whether a provenance follows.
struct Requirement {
    id: String,
    sentence: String,
    provenance: bool,
}

fn requirements() -> Vec<Requirement> {
    let text = spec_text();
    let mut out: Vec<Requirement> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("* **[") {
            let (id, sentence) = rest.split_once("]** ").unwrap_or_else(|| panic!("malformed requirement: {line}"));
            out.push(Requirement { id: id.to_string(), sentence: sentence.to_string(), provenance: false });
        } else if t.starts_with("- Provenance:") {
            if let Some(last) = out.last_mut() {
                last.provenance = true;
            }
        }
    }
    out
}

#[test]
fn requirements_are_well_formed() {
    let reqs = requirements();
    assert!(reqs.len() >= 60, "only {} requirements", reqs.len());
    let mut ids = BTreeSet::new();
    for r in &reqs {
        assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
        let parts: Vec<&str> = r.id.split('.').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "blob"
                && parts[1].chars().all(|c| c.is_ascii_lowercase())
                && parts[2].parse::<u32>().is_ok(),
            "bad id {}",
            r.id
        );
        let words: Vec<&str> = r.sentence.split(|c: char| !c.is_ascii_alphabetic()).collect();
        assert!(
            words.iter().any(|w| matches!(*w, "MUST" | "SHOULD" | "MAY")),
            "{} has no RFC 2119 keyword",
            r.id
        );
        assert!(r.sentence.ends_with('.'), "{} is not one sentence ending in a full stop", r.id);
        assert!(r.provenance, "{} has no Provenance", r.id);
    }
}

/// Each requirement with a MUST or MUST NOT is quoted by the code, or named here as one the code
/// cannot hold (it is the deployment's, the caller's, or a property of the other party's machine
/// that no code of this party can check).
#[test]
fn every_must_is_quoted_or_named_as_outside_the_code() {
    const OUTSIDE: &[(&str, &str)] = &[
        ("blob.conv.1", "units.rs and timing.rs compute in u64; a convention, not one call site"),
        ("blob.conv.2", "both machines take one Params; agreement is the caller's"),
        ("blob.request.2", "the user machine never emits the preimage except in PublishBlob and BroadcastClaim"),
        ("blob.settle.4", "the SSP machine cancels after funding only in spent_by on a confirmed refund"),
    ];
    let spec = normalised_spec();
    let quotes = all_quotes();
    let mut missing = Vec::new();
    for r in requirements() {
        if !r.sentence.contains("MUST") || OUTSIDE.iter().any(|(id, _)| *id == r.id) {
            continue;
        }
        let sentence = collapse(&r.sentence);
        assert!(spec.contains(&sentence), "{} not found in the normalised spec", r.id);
        let quoted = quotes.iter().any(|q| {
            let q = collapse(&q.text);
            q.split("...").map(str::trim).filter(|p| p.len() >= 20).any(|p| sentence.contains(p))
        });
        if !quoted {
            missing.push(r.id);
        }
    }
    assert!(missing.is_empty(), "MUST requirements without a quote: {missing:?}");
}
