//! The `spec` subcommands: `sidepool-conformance spec <command>`.
//!
//! [`run`] is the only function in this crate that prints; it returns the
//! process exit status (0 clean, 1 findings, 2 could not run).

use crate::coverage;
use crate::docs;
use crate::extract::{self, AllowList};
use crate::impact;
use crate::quotes::{self, SpecSet};
use crate::requirements;
use crate::vectors;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum SpecCommand {
    /// Build the requirement index from the pinned texts; print counts, or write / check
    /// spec-mirror/requirements.yaml.
    Requirements {
        /// Write spec-mirror/requirements.yaml.
        #[arg(long)]
        write: bool,
        /// Exit 1 when the committed file differs from what would be written.
        #[arg(long, conflicts_with = "write")]
        check: bool,
    },
    /// Check every `// SIDEPOOL-NN: "..."` quote in .rs files against spec-mirror/.
    Quotes {
        /// Files or directories (default: reference/, conformance/, tools/src/).
        paths: Vec<PathBuf>,
    },
    /// Extract message / TLV tables from a spec and diff them against the reference and the
    /// message vectors.
    Extract {
        /// Spec markdown to read (repeatable; default spec-mirror/10-peerswap-in-sidepool.md).
        #[arg(long = "spec")]
        specs: Vec<PathBuf>,
        /// Skip spec messages the reference does not define (for SIDEPOOL-04, say).
        #[arg(long)]
        implemented_only: bool,
        /// Allow-list (default spec-mirror/extract-allow.yaml).
        #[arg(long)]
        allow: Option<PathBuf>,
        /// Vector directory (default vectors/).
        #[arg(long)]
        vectors: Option<PathBuf>,
        /// Print the extracted tables.
        #[arg(long)]
        tables: bool,
    },
    /// Report which requirements are quoted in code and covered by vectors and cases.
    Coverage {
        /// Write the markdown report here.
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Write the JSON report here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Report only: exit 0 even when a MUST / MUST NOT is uncovered.
        #[arg(long)]
        no_fail: bool,
    },
    /// List what an edited copy of a spec document changes and what depends on it.
    Impact {
        /// The edited copy.
        #[arg(long)]
        spec: PathBuf,
        /// Which pinned document it edits (01, 02, 04, 06, 10).
        #[arg(long, default_value = "10")]
        doc: String,
        /// Also write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

/// A user path: as given when it exists, else under the repository root.
fn resolve(repo_root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        p.to_path_buf()
    } else {
        repo_root.join(p)
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs one command against the repository at `repo_root`; returns the exit status.
pub fn run(cmd: &SpecCommand, repo_root: &Path) -> i32 {
    let result = match cmd {
        SpecCommand::Requirements { write, check } => run_requirements(repo_root, *write, *check),
        SpecCommand::Quotes { paths } => run_quotes(repo_root, paths),
        SpecCommand::Extract {
            specs,
            implemented_only,
            allow,
            vectors,
            tables,
        } => run_extract(
            repo_root,
            specs,
            *implemented_only,
            allow.as_deref(),
            vectors.as_deref(),
            *tables,
        ),
        SpecCommand::Coverage {
            markdown,
            json,
            no_fail,
        } => run_coverage(repo_root, markdown.as_deref(), json.as_deref(), *no_fail),
        SpecCommand::Impact { spec, doc, json } => {
            run_impact(repo_root, spec, doc, json.as_deref())
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn run_requirements(repo_root: &Path, write: bool, check: bool) -> Result<i32, String> {
    let file = requirements::generate(repo_root)?;
    let text = requirements::render(&file)?;
    let path = repo_root.join(requirements::REQUIREMENTS_FILE);
    for (doc, c) in &file.counts {
        let reqs: Vec<String> = c
            .requirements
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        let kws: Vec<String> = c.keywords.iter().map(|(l, n)| format!("{l} {n}")).collect();
        println!(
            "{doc}: entries {} | keywords {}",
            reqs.join(", "),
            kws.join(", ")
        );
    }
    println!(
        "{} entries ({} normative), {} non-normative blocks",
        file.requirements.len(),
        file.requirements.iter().filter(|r| r.normative).count(),
        file.non_normative.len()
    );
    if write {
        write_file(&path, &text)?;
        println!("wrote {}", path.display());
    } else if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != text {
            println!(
                "{} differs from the generator's output; run `spec requirements --write`",
                path.display()
            );
            return Ok(1);
        }
        println!("{} is up to date", path.display());
    }
    Ok(0)
}

fn default_quote_paths(repo_root: &Path) -> Vec<PathBuf> {
    quotes::DEFAULT_PATHS
        .iter()
        .map(|p| repo_root.join(p))
        .filter(|p| p.exists())
        .collect()
}

fn run_quotes(repo_root: &Path, paths: &[PathBuf]) -> Result<i32, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        default_quote_paths(repo_root)
    } else {
        paths.iter().map(|p| resolve(repo_root, p)).collect()
    };
    let spec = SpecSet::load(repo_root)?;
    let found = quotes::scan_paths(repo_root, &paths)?;
    let checked = quotes::check_all(&spec, &found);
    print!("{}", quotes::report(&checked));
    Ok(i32::from(checked.iter().any(|c| !c.ok())))
}

fn run_extract(
    repo_root: &Path,
    specs: &[PathBuf],
    implemented_only: bool,
    allow: Option<&Path>,
    vectors_dir: Option<&Path>,
    tables: bool,
) -> Result<i32, String> {
    let specs: Vec<PathBuf> = if specs.is_empty() {
        vec![repo_root
            .join(docs::SPEC_DIR)
            .join("10-peerswap-in-sidepool.md")]
    } else {
        specs.iter().map(|p| resolve(repo_root, p)).collect()
    };
    let implemented = |name: &str| {
        sidepool_reference::messages::ALL
            .iter()
            .any(|r| r.name == name)
    };
    let mut messages = Vec::new();
    for p in &specs {
        let (m, notes) = extract::parse_messages(&docs::read(p)?);
        for n in notes {
            if implemented_only && !n.message.as_deref().is_some_and(implemented) {
                continue;
            }
            println!("note: {}:{}: {}", docs::rel(repo_root, p), n.line, n.text);
        }
        messages.extend(m);
    }
    if implemented_only {
        messages.retain(|m| implemented(&m.name));
    }
    if tables {
        print!("{}", extract::render_tables(&messages));
    }
    let allow_path = allow
        .map(|a| resolve(repo_root, a))
        .unwrap_or_else(|| repo_root.join(extract::ALLOW_FILE));
    let allow = if allow_path.exists() {
        AllowList::parse(&docs::read(&allow_path)?)?
    } else {
        AllowList::default()
    };
    let errata = std::fs::read_to_string(repo_root.join(docs::SPEC_DIR).join("ERRATA.md"))
        .unwrap_or_default();

    let vdir = vectors_dir
        .map(|v| resolve(repo_root, v))
        .unwrap_or_else(|| repo_root.join(vectors::VECTORS_DIR));
    let (loaded, errors) = vectors::load_dir(repo_root, &vdir);
    for e in &errors {
        println!("warning: {e}");
    }
    let fields: Vec<_> = loaded.iter().flat_map(vectors::message_fields).collect();

    let mut diffs = extract::self_check(&messages);
    diffs.extend(extract::diff_reference(
        &messages,
        sidepool_reference::messages::ALL,
        implemented_only,
    ));
    diffs.extend(extract::diff_vectors(&messages, &fields));
    for g in extract::gaps(&messages) {
        println!("info: {g}");
    }
    for r in sidepool_reference::messages::ALL {
        if !messages.iter().any(|m| m.name == r.name) {
            println!(
                "info: reference message {} ({}) is not defined in the given spec(s)",
                r.name, r.sub_id
            );
        }
    }
    let mut unexplained = 0;
    for d in &diffs {
        match allow.find(&d.key) {
            Some(a) => {
                println!("allowed [{}] {} ({})", a.errata, d.text, d.key);
                if !errata.contains(&format!("## {} ", a.errata)) {
                    println!(
                        "warning: allow-list entry {} cites {}, which ERRATA.md does not define",
                        a.key, a.errata
                    );
                }
            }
            None => {
                unexplained += 1;
                println!("DIFF {} ({})", d.text, d.key);
            }
        }
    }
    for a in &allow.allow {
        if !diffs.iter().any(|d| d.key == a.key) {
            println!(
                "warning: allow-list entry {} ({}) matches no difference",
                a.key, a.errata
            );
        }
    }
    println!(
        "{} messages, {} TLVs, {} message vector tests; {} differences, {} unexplained",
        messages.len(),
        messages.iter().map(|m| m.tlvs.len()).sum::<usize>(),
        fields.len(),
        diffs.len(),
        unexplained
    );
    Ok(i32::from(unexplained > 0))
}

/// Loads everything coverage and impact look at.
struct Corpus {
    quotes: Vec<quotes::Quote>,
    covers: Vec<vectors::Cover>,
    cases: Vec<vectors::Case>,
    grep_files: Vec<(String, String)>,
    warnings: Vec<String>,
}

fn corpus(repo_root: &Path) -> Result<Corpus, String> {
    let quotes = quotes::scan_paths(repo_root, &default_quote_paths(repo_root))?;
    let (vecs, mut warnings) = vectors::load_dir(repo_root, &repo_root.join(vectors::VECTORS_DIR));
    let (case_files, w2) = vectors::load_dir(repo_root, &repo_root.join(vectors::CASES_DIR));
    warnings.extend(w2);
    let covers = vecs.iter().flat_map(vectors::vector_covers).collect();
    let cases = case_files.iter().flat_map(vectors::cases).collect();
    let mut grep_files: Vec<(String, String)> = vecs
        .iter()
        .chain(case_files.iter())
        .map(|l| (l.file.clone(), l.text.clone()))
        .collect();
    for p in default_quote_paths(repo_root) {
        for f in docs::walk(&p, &[".rs"]) {
            grep_files.push((docs::rel(repo_root, &f), docs::read(&f)?));
        }
    }
    Ok(Corpus {
        quotes,
        covers,
        cases,
        grep_files,
        warnings,
    })
}

fn run_coverage(
    repo_root: &Path,
    md: Option<&Path>,
    json: Option<&Path>,
    no_fail: bool,
) -> Result<i32, String> {
    let index = if repo_root.join(requirements::REQUIREMENTS_FILE).exists() {
        requirements::load(repo_root)?
    } else {
        println!(
            "warning: no {}; using the index generated from the pinned texts",
            requirements::REQUIREMENTS_FILE
        );
        requirements::generate(repo_root)?
    };
    let spec = SpecSet::load(repo_root)?;
    let c = corpus(repo_root)?;
    for w in &c.warnings {
        println!("warning: {w}");
    }
    let checked = quotes::check_all(&spec, &c.quotes);
    let errata = std::fs::read_to_string(repo_root.join(docs::SPEC_DIR).join("ERRATA.md"))
        .unwrap_or_default();
    let waivers = coverage::parse_waivers(&errata);
    let report = coverage::compute(
        &spec,
        &index.requirements,
        &checked,
        &c.covers,
        &c.cases,
        &waivers,
    );
    if let Some(p) = md {
        write_file(p, &coverage::markdown(&report))?;
    }
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        write_file(p, &format!("{text}\n"))?;
    }
    print!("{}", coverage::summary(&report));
    let fail = !report.failing.is_empty() || !report.unknown_ids.is_empty();
    Ok(i32::from(fail && !no_fail))
}

fn run_impact(
    repo_root: &Path,
    spec: &Path,
    doc: &str,
    json: Option<&Path>,
) -> Result<i32, String> {
    let edited = docs::read(&resolve(repo_root, spec))?;
    let c = corpus(repo_root)?;
    let inputs = impact::Inputs {
        repo_root,
        quotes: &c.quotes,
        covers: &c.covers,
        cases: &c.cases,
        grep_files: &c.grep_files,
    };
    let report = impact::impact(doc, &edited, &inputs)?;
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        write_file(p, &format!("{text}\n"))?;
    }
    print!("{}", impact::render(&report));
    Ok(0)
}
