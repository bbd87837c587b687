//! Every LNROD-01 comment quote in the repository's Rust sources occurs in
//! the spec (whitespace collapsed, `**[id]**` tags stripped), and every
//! requirement of the spec is quoted by some code.
//!
//! This stands in for `sidepool-conformance spec quotes` until the spec tools
//! read our own specs; it follows the same conventions (the quote runs from the
//! first double quote after the document id and colon to the last one on the
//! line).

use std::path::{Path, PathBuf};

const TAG: &str = "LNROD-01:";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn spec_path() -> PathBuf {
    repo_root().join("spec-mirror/lightningrod/01-lightningrod-async-payments.md")
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The spec as one line: tags stripped, bullet markers at line starts removed.
fn normalised_spec() -> String {
    let text = std::fs::read_to_string(spec_path()).expect("the spec is readable");
    let mut out = String::new();
    for line in text.lines() {
        let mut l = line.trim_start();
        for marker in ["* ", "- ", "+ "] {
            if let Some(rest) = l.strip_prefix(marker) {
                l = rest;
                break;
            }
        }
        out.push_str(&strip_tags(l));
        out.push(' ');
    }
    collapse(&out)
}

/// Removes `**[id]**` requirement tags.
fn strip_tags(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
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

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if name == "target" || name.starts_with('.') {
                continue;
            }
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// (file:line, quote) for every LNROD-01 quote in a comment.
fn quotes() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&repo_root(), &mut files);
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        for (n, line) in text.lines().enumerate() {
            let Some(comment) = line.find("//") else { continue };
            let comment = &line[comment..];
            let Some(tag) = comment.find(TAG) else { continue };
            let after = &comment[tag + TAG.len()..];
            let (Some(first), Some(last)) = (after.find('"'), after.rfind('"')) else {
                out.push((format!("{}:{}", file.display(), n + 1), String::new()));
                continue;
            };
            let quote = if last > first { &after[first + 1..last] } else { "" };
            out.push((format!("{}:{}", file.display(), n + 1), collapse(quote)));
        }
    }
    out
}

#[test]
fn every_quote_occurs_in_the_spec() {
    let spec = normalised_spec();
    let quotes = quotes();
    assert!(quotes.len() >= 40, "only {} LNROD-01 quotes found", quotes.len());
    let bad: Vec<String> = quotes
        .iter()
        .filter(|(_, q)| q.is_empty() || !spec.contains(q.as_str()))
        .map(|(at, q)| format!("{at}: \"{q}\""))
        .collect();
    assert!(bad.is_empty(), "quotes not in LNROD-01:\n{}", bad.join("\n"));
}

/// (id, sentence) of every requirement bullet.
fn requirements() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(spec_path()).expect("the spec is readable");
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("* **[") {
            if let Some(done) = current.take() {
                out.push(done);
            }
            if let Some(end) = rest.find("]**") {
                current = Some((rest[..end].to_string(), rest[end + 3..].to_string()));
            }
        } else if trimmed.starts_with("- ") || trimmed.is_empty() || !line.starts_with("  ") {
            if let Some(done) = current.take() {
                out.push(done);
            }
        } else if let Some((_, sentence)) = current.as_mut() {
            sentence.push(' ');
            sentence.push_str(trimmed);
        }
    }
    out.extend(current);
    out.into_iter().map(|(id, s)| (id, collapse(&s))).collect()
}

#[test]
fn every_requirement_is_one_sentence_with_a_keyword() {
    let reqs = requirements();
    assert!(reqs.len() >= 50, "only {} requirements parsed", reqs.len());
    let keywords = ["MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"];
    let mut ids = std::collections::BTreeSet::new();
    for (id, sentence) in &reqs {
        assert!(ids.insert(id.clone()), "{id} appears twice");
        assert!(id.starts_with("lnrod.") && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.'), "{id}");
        assert!(sentence.split_whitespace().any(|w| keywords.contains(&w)), "{id} has no keyword: {sentence}");
        assert!(sentence.ends_with('.'), "{id} does not end its sentence: {sentence}");
        assert_eq!(sentence.matches(". ").count(), 0, "{id} has more than one sentence: {sentence}");
    }
}

#[test]
fn every_requirement_is_quoted_by_code() {
    let quoted: Vec<String> = quotes().into_iter().map(|(_, q)| q).collect();
    let missing: Vec<String> = requirements()
        .into_iter()
        .filter(|(_, sentence)| !quoted.iter().any(|q| q == sentence))
        .map(|(id, sentence)| format!("{id}: {sentence}"))
        .collect();
    assert!(missing.is_empty(), "requirements no code quotes:\n{}", missing.join("\n"));
}
