//! The pinned documents in `spec-mirror/` and how quotes name them.
//!
//! - SIDEPOOL texts, one directory per revision:
//!   `spec-mirror/sidepool/<revision>/NN-name.md` (revisions: [`SpecRevision`]).
//! - Our own specs (one revision each): `spec-mirror/<system>/*.md` whose first
//!   line starts with the document id (`LOOP-01 Loop Out and Loop In`).

use sidepool_reference::revision::SpecRevision;
use std::path::{Path, PathBuf};

/// A pinned SIDEPOOL document: its number (`10` for SIDEPOOL-10) and file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocInfo {
    pub number: &'static str,
    pub file: &'static str,
}

impl DocInfo {
    /// "SIDEPOOL-10".
    pub fn name(&self) -> String {
        format!("SIDEPOOL-{}", self.number)
    }
}

pub const DOCS: &[DocInfo] = &[
    DocInfo {
        number: "01",
        file: "01-overview-and-conventions.md",
    },
    DocInfo {
        number: "02",
        file: "02-transactions.md",
    },
    DocInfo {
        number: "04",
        file: "04-swap-party.md",
    },
    DocInfo {
        number: "06",
        file: "06-htlcs.md",
    },
    DocInfo {
        number: "10",
        file: "10-peerswap-in-sidepool.md",
    },
];

/// The directory holding the pinned texts.
pub const SPEC_DIR: &str = "spec-mirror";

/// The directory holding one sub-directory per SIDEPOOL revision.
pub const SIDEPOOL_DIR: &str = "spec-mirror/sidepool";

/// Our own specs: (document id prefix, directory under `spec-mirror/`).
pub const OWN_SPECS: &[(&str, &str)] = &[("LOOP", "loop"), ("LNROD", "lightningrod"), ("BLOBSWAP", "blobswap")];

/// Every prefix a code quote may name: `SIDEPOOL-NN: "..."`, `LOOP-NN: "..."`.
pub fn quote_prefixes() -> Vec<&'static str> {
    std::iter::once("SIDEPOOL").chain(OWN_SPECS.iter().map(|(p, _)| *p)).collect()
}

/// Looks a SIDEPOOL document up by number ("10", "1", "SIDEPOOL-10").
pub fn doc(number: &str) -> Option<&'static DocInfo> {
    let n = number.trim().trim_start_matches("SIDEPOOL-");
    let n = if n.len() == 1 {
        format!("0{n}")
    } else {
        n.to_string()
    };
    DOCS.iter().find(|d| d.number == n)
}

/// A SIDEPOOL document by file name ("02-transactions.md").
pub fn doc_by_file(file: &str) -> Option<&'static DocInfo> {
    DOCS.iter().find(|d| d.file == file)
}

/// A revision by name (`seed`, `upstream-50799b4`, or `upstream` for the newest upstream one).
pub fn revision(name: &str) -> Result<SpecRevision, String> {
    SpecRevision::from_name(name).map_err(|e| e.to_string())
}

/// The directory of one revision's texts.
pub fn revision_dir(repo_root: &Path, rev: SpecRevision) -> PathBuf {
    repo_root.join(SIDEPOOL_DIR).join(rev.name())
}

/// The revisions whose directory exists under `repo_root` (a fixture tree may hold one only).
pub fn revisions_present(repo_root: &Path) -> Vec<SpecRevision> {
    SpecRevision::ALL.into_iter().filter(|r| revision_dir(repo_root, *r).is_dir()).collect()
}

pub fn doc_path(repo_root: &Path, rev: SpecRevision, d: &DocInfo) -> PathBuf {
    revision_dir(repo_root, rev).join(d.file)
}

/// One of our own spec documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnDoc {
    /// "LOOP-01".
    pub id: String,
    pub title: String,
    pub path: PathBuf,
}

/// The document id a first line starts with, for the given prefix: "LOOP-01 Title" -> "LOOP-01".
/// An ATX `# ` before the id, and a `:` after it, are tolerated.
fn leading_id(first_line: &str, prefix: &str) -> Option<(String, String)> {
    let line = first_line.trim().trim_start_matches('#').trim_start();
    let rest = line.strip_prefix(prefix)?.strip_prefix('-')?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let after = rest.get(digits.len()..)?;
    let after = after.strip_prefix(':').unwrap_or(after);
    if digits.is_empty() || !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((format!("{prefix}-{digits}"), after.trim().to_string()))
}

/// Our own spec documents under `repo_root/spec-mirror/<system>/`: every `.md`
/// file (PROVENANCE.md and README.md aside) whose first line starts with a
/// document id of that system. Returns the documents and a warning for each
/// markdown file that names no document id.
pub fn own_docs(repo_root: &Path) -> Result<(Vec<OwnDoc>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (prefix, dir) in OWN_SPECS {
        let dir = repo_root.join(SPEC_DIR).join(dir);
        if !dir.is_dir() {
            continue;
        }
        for path in walk(&dir, &[".md"]) {
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            if name == "PROVENANCE.md" || name == "README.md" {
                continue;
            }
            let text = read(&path)?;
            let first = text.lines().next().unwrap_or_default();
            match leading_id(first, prefix) {
                Some((id, title)) => {
                    if out.iter().any(|d: &OwnDoc| d.id == id) {
                        return Err(format!("{}: document id {id} is used by two files", rel(repo_root, &path)));
                    }
                    out.push(OwnDoc { id, title, path });
                }
                None => warnings.push(format!(
                    "{}: first line names no {prefix}-NN document id; not indexed",
                    rel(repo_root, &path)
                )),
            }
        }
    }
    Ok((out, warnings))
}

/// Strips the `**[id]**` requirement tags of our own specs (and the space after
/// one), keeping every line, so quotes match the sentence without its id.
pub fn strip_requirement_tags(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for (i, line) in source.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut rest = line;
        while let Some(start) = rest.find("**[") {
            let Some(end) = rest.get(start + 3..).and_then(|r| r.find("]**")) else {
                break;
            };
            out.push_str(rest.get(..start).unwrap_or_default());
            let after = rest.get(start + 3 + end + 3..).unwrap_or_default();
            rest = after.strip_prefix(' ').unwrap_or(after);
        }
        out.push_str(rest);
    }
    out
}

/// The id of a `**[id]**` tag opening `text`, and the text after it.
pub fn requirement_tag(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim_start().strip_prefix("**[")?;
    let end = rest.find("]**")?;
    let id = rest.get(..end)?;
    Some((id, rest.get(end + 3..)?.trim_start()))
}

/// Reads a document, naming the path in the error.
pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// All files under `dir` (recursively) whose name ends with `suffix`, sorted.
/// `target` and hidden directories are skipped.
pub fn walk(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    stack.push(p);
                }
            } else if suffixes.iter().any(|s| name.ends_with(s)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A path relative to `root` when it is under it, for stable output.
pub fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_doc_ids_and_tags() {
        assert_eq!(leading_id("LOOP-01 Loop Out and Loop In", "LOOP"), Some(("LOOP-01".into(), "Loop Out and Loop In".into())));
        assert_eq!(leading_id("LOOP-01", "LOOP"), Some(("LOOP-01".into(), String::new())));
        assert_eq!(leading_id("LOOP-01x", "LOOP"), None);
        assert_eq!(leading_id("# LNROD-01: Async payments", "LNROD"), Some(("LNROD-01".into(), "Async payments".into())));
        assert_eq!(leading_id("LNROD-01 x", "LOOP"), None);
        let src = "* **[loop.out.3]** The client MUST refuse.\n  - Provenance: x\n**[a]**b **[c]** d";
        assert_eq!(strip_requirement_tags(src), "* The client MUST refuse.\n  - Provenance: x\nb d");
        assert_eq!(requirement_tag("**[loop.out.3]** The client MUST refuse."), Some(("loop.out.3", "The client MUST refuse.")));
        assert_eq!(requirement_tag("The client"), None);
    }
}
