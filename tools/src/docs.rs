//! The pinned SIDEPOOL documents in `spec-mirror/` and how quotes name them.

use std::path::{Path, PathBuf};

/// A pinned document: its number (`10` for SIDEPOOL-10) and file name.
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

/// Looks a document up by number ("10", "1", "SIDEPOOL-10").
pub fn doc(number: &str) -> Option<&'static DocInfo> {
    let n = number.trim().trim_start_matches("SIDEPOOL-");
    let n = if n.len() == 1 {
        format!("0{n}")
    } else {
        n.to_string()
    };
    DOCS.iter().find(|d| d.number == n)
}

pub fn doc_path(repo_root: &Path, d: &DocInfo) -> PathBuf {
    repo_root.join(SPEC_DIR).join(d.file)
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
