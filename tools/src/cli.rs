//! The `spec` subcommands: `sidepool-conformance spec <command>`.
//!
//! [`run`] is the only function in this crate that prints; it returns the
//! process exit status (0 clean, 1 findings, 2 could not run).

use crate::coverage;
use crate::definitions;
use crate::docs;
use crate::extract::{self, AllowList};
use crate::impact;
use crate::notes;
use crate::quotes::{self, SpecSet};
use crate::requirements::{self, Index};
use crate::vectors;
use sidepool_reference::revision::SpecRevision;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum SpecCommand {
    /// Build the requirement index of every revision from the pinned texts (and read our own
    /// specs'); print counts, or write / check spec-mirror/sidepool/<revision>/requirements.yaml.
    Requirements {
        /// Write every revision's requirements.yaml.
        #[arg(long)]
        write: bool,
        /// Exit 1 when a committed file differs from what would be written, or an own spec breaks
        /// the requirement format.
        #[arg(long, conflicts_with = "write")]
        check: bool,
    },
    /// Check every `// SIDEPOOL-NN[@REV]: "..."` and `// LOOP-NN: "..."` quote in .rs files against
    /// spec-mirror/.
    Quotes {
        /// Files or directories (default: reference/, conformance/, tools/src/).
        paths: Vec<PathBuf>,
        /// Also list every SIDEPOOL quote that does not match every revision (pinned or not).
        #[arg(long)]
        by_revision: bool,
    },
    /// Extract message / TLV tables from a spec and diff them against the reference and the
    /// message vectors.
    Extract {
        /// Spec markdown to read (repeatable). Default: --doc of every revision.
        #[arg(long = "spec")]
        specs: Vec<PathBuf>,
        /// Revision to read (repeatable; `upstream` = the newest upstream one). Default: every revision.
        #[arg(long = "revision", value_name = "REV")]
        revisions: Vec<String>,
        /// Document to read at each revision (repeatable: 01, 02, 04, 06, 10). Default: 10.
        #[arg(long = "doc", value_name = "NN")]
        docs: Vec<String>,
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
    /// Report which requirements of one revision are quoted in code and covered by vectors and
    /// cases (our own specs' requirements are in every revision's report).
    Coverage {
        /// The revision (default: the newest upstream one, as `run`).
        #[arg(long = "revision", value_name = "REV")]
        revision: Option<String>,
        /// Print the summary of every revision (exit 1 when any fails).
        #[arg(long, conflicts_with_all = ["revision", "markdown", "json"])]
        all_revisions: bool,
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
    /// List what an edit of the texts changes and what depends on it: an edited copy of one
    /// document (`--spec FILE --doc NN`, against `--from`), or one revision against another
    /// (`--from REV --to REV`).
    Impact {
        /// The edited copy.
        #[arg(long, conflicts_with = "to", required_unless_present = "to")]
        spec: Option<PathBuf>,
        /// Which document the edited copy edits (01, 02, 04, 06, 10).
        #[arg(long, default_value = "10")]
        doc: String,
        /// The revision the edit starts from (default: the newest upstream one).
        #[arg(long, value_name = "REV")]
        from: Option<String>,
        /// The revision to compare with.
        #[arg(long, value_name = "REV")]
        to: Option<String>,
        /// Also write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// The definitions table (spec-mirror/sidepool/definitions.yaml): each definition, the
    /// revisions it is in and what relies on it; exit 1 when the table is inconsistent or
    /// incomplete.
    Definitions,
    /// Write or check docs/revision-notes.md: what an implementer of one revision must change to
    /// conform to another (default: seed -> the newest upstream one).
    RevisionNotes {
        /// Write the page.
        #[arg(long)]
        write: bool,
        /// Exit 1 when the committed page differs from what would be written.
        #[arg(long, conflicts_with = "write")]
        check: bool,
        #[arg(long, value_name = "REV", default_value = "seed")]
        from: String,
        #[arg(long, value_name = "REV", default_value = "upstream")]
        to: String,
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
        SpecCommand::Quotes { paths, by_revision } => run_quotes(repo_root, paths, *by_revision),
        SpecCommand::Extract {
            specs,
            revisions,
            docs,
            implemented_only,
            allow,
            vectors,
            tables,
        } => run_extract(
            repo_root,
            &ExtractArgs { specs, revisions, docs, implemented_only: *implemented_only, allow: allow.as_deref(), vectors: vectors.as_deref(), tables: *tables },
        ),
        SpecCommand::Coverage {
            revision,
            all_revisions,
            markdown,
            json,
            no_fail,
        } => run_coverage(repo_root, revision.as_deref(), *all_revisions, markdown.as_deref(), json.as_deref(), *no_fail),
        SpecCommand::Impact { spec, doc, from, to, json } => {
            run_impact(repo_root, spec.as_deref(), doc, from.as_deref(), to.as_deref(), json.as_deref())
        }
        SpecCommand::Definitions => run_definitions(repo_root),
        SpecCommand::RevisionNotes { write, check, from, to } => run_revision_notes(repo_root, *write, *check, from, to),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn print_counts(counts: &std::collections::BTreeMap<String, requirements::DocCounts>, prefix: &str) {
    for (doc, c) in counts {
        let reqs: Vec<String> = c.requirements.iter().map(|(l, n)| format!("{l} {n}")).collect();
        let kws: Vec<String> = c.keywords.iter().map(|(l, n)| format!("{l} {n}")).collect();
        println!("{prefix}{doc}: entries {} | keywords {}", reqs.join(", "), kws.join(", "));
    }
}

fn run_requirements(repo_root: &Path, write: bool, check: bool) -> Result<i32, String> {
    let files = requirements::generate(repo_root)?;
    let mut stale = 0;
    for file in &files {
        let rev = docs::revision(&file.revision)?;
        let text = requirements::render(file)?;
        let path = repo_root.join(requirements::requirements_file(rev));
        println!("revision {}:", file.revision);
        print_counts(&file.counts, "  ");
        let only_here = file.requirements.iter().filter(|r| r.revisions.len() == 1).count();
        println!(
            "  {} entries ({} normative, {} in this revision only), {} non-normative blocks",
            file.requirements.len(),
            file.requirements.iter().filter(|r| r.normative).count(),
            only_here,
            file.non_normative.len()
        );
        if write {
            write_file(&path, &text)?;
            println!("  wrote {}", path.display());
        } else if check {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if committed != text {
                println!("  {} differs from the generator's output; run `spec requirements --write`", path.display());
                stale += 1;
            } else {
                println!("  {} is up to date", path.display());
            }
        }
    }
    let (own, problems) = requirements::own_requirements(repo_root)?;
    let mut docs_seen: Vec<&str> = own.iter().map(|r| r.document.as_str()).collect();
    docs_seen.dedup();
    for d in docs_seen {
        let of: Vec<&requirements::Requirement> = own.iter().filter(|r| r.document == d).collect();
        let levels: Vec<String> = crate::text::Level::ALL
            .iter()
            .map(|l| format!("{l} {}", of.iter().filter(|r| r.level == *l && r.normative).count()))
            .collect();
        let readings = of.iter().filter(|r| r.note.is_some()).count();
        println!("{d} (own spec): entries {} | {readings} marked as our reading", levels.join(", "));
    }
    for p in &problems {
        println!("own spec: {}:{}: {}", p.file, p.line, p.text);
    }
    Ok(i32::from(check && (stale > 0 || !problems.is_empty())))
}

fn default_quote_paths(repo_root: &Path) -> Vec<PathBuf> {
    quotes::DEFAULT_PATHS
        .iter()
        .map(|p| repo_root.join(p))
        .filter(|p| p.exists())
        .collect()
}

fn run_quotes(repo_root: &Path, paths: &[PathBuf], by_revision: bool) -> Result<i32, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        default_quote_paths(repo_root)
    } else {
        paths.iter().map(|p| resolve(repo_root, p)).collect()
    };
    let spec = SpecSet::load(repo_root)?;
    let found = quotes::scan_paths(repo_root, &paths)?;
    let checked = quotes::check_all(&spec, &found);
    if by_revision {
        print!("{}", quotes::by_revision_report(&spec, &checked));
    }
    print!("{}", quotes::report(&spec, &checked));
    Ok(i32::from(checked.iter().any(|c| !c.ok())))
}

struct ExtractArgs<'a> {
    specs: &'a [PathBuf],
    revisions: &'a [String],
    docs: &'a [String],
    implemented_only: bool,
    allow: Option<&'a Path>,
    vectors: Option<&'a Path>,
    tables: bool,
}

fn run_extract(repo_root: &Path, a: &ExtractArgs<'_>) -> Result<i32, String> {
    // One run per revision (or one run over the given files).
    let runs: Vec<(String, Vec<PathBuf>)> = if !a.specs.is_empty() {
        vec![("given files".to_string(), a.specs.iter().map(|p| resolve(repo_root, p)).collect())]
    } else {
        let revs: Vec<SpecRevision> = if a.revisions.is_empty() {
            docs::revisions_present(repo_root)
        } else {
            a.revisions.iter().map(|r| docs::revision(r)).collect::<Result<_, _>>()?
        };
        let wanted: Vec<&'static docs::DocInfo> = if a.docs.is_empty() {
            docs::doc("10").into_iter().collect()
        } else {
            a.docs.iter().map(|d| docs::doc(d).ok_or_else(|| format!("unknown document {d}"))).collect::<Result<_, _>>()?
        };
        revs.into_iter().map(|r| (format!("revision {}", r.name()), wanted.iter().map(|d| docs::doc_path(repo_root, r, d)).collect())).collect()
    };
    let mut status = 0;
    for (label, specs) in runs {
        println!("== {label} ==");
        status = status.max(run_extract_once(repo_root, &specs, a)?);
    }
    Ok(status)
}

fn run_extract_once(repo_root: &Path, specs: &[PathBuf], a: &ExtractArgs<'_>) -> Result<i32, String> {
    let implemented_only = a.implemented_only;
    let implemented = |name: &str| {
        sidepool_reference::messages::ALL
            .iter()
            .any(|r| r.name == name)
    };
    let mut messages = Vec::new();
    for p in specs {
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
    if a.tables {
        print!("{}", extract::render_tables(&messages));
    }
    let allow_path = a
        .allow
        .map(|p| resolve(repo_root, p))
        .unwrap_or_else(|| repo_root.join(extract::ALLOW_FILE));
    let allow = if allow_path.exists() {
        AllowList::parse(&docs::read(&allow_path)?)?
    } else {
        AllowList::default()
    };
    let errata = std::fs::read_to_string(repo_root.join(docs::SPEC_DIR).join("ERRATA.md"))
        .unwrap_or_default();

    let vdir = a
        .vectors
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
pub struct Corpus {
    pub quotes: Vec<quotes::Quote>,
    pub covers: Vec<vectors::Cover>,
    pub cases: Vec<vectors::Case>,
    pub vectors: Vec<vectors::VectorFileDecl>,
    pub grep_files: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// The code quotes, vectors and cases of the repository at `repo_root`.
pub fn corpus(repo_root: &Path) -> Result<Corpus, String> {
    let quotes = quotes::scan_paths(repo_root, &default_quote_paths(repo_root))?;
    let (vecs, mut warnings) = vectors::load_dir(repo_root, &repo_root.join(vectors::VECTORS_DIR));
    let (case_files, w2) = vectors::load_dir(repo_root, &repo_root.join(vectors::CASES_DIR));
    warnings.extend(w2);
    let covers = vecs.iter().flat_map(vectors::vector_covers).collect();
    let cases: Vec<vectors::Case> = case_files.iter().flat_map(vectors::cases).collect();
    let decls: Vec<vectors::VectorFileDecl> = vecs.iter().map(vectors::vector_decl).collect();
    for d in &decls {
        for r in vectors::unknown_revisions(&d.revisions) {
            warnings.push(format!("{}: revisions names `{r}`, which is no revision", d.file));
        }
    }
    for c in &cases {
        for r in vectors::unknown_revisions(&c.revisions) {
            warnings.push(format!("{} case {}: revisions names `{r}`, which is no revision", c.file, c.id));
        }
    }
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
        vectors: decls,
        grep_files,
        warnings,
    })
}

fn run_coverage(
    repo_root: &Path,
    revision: Option<&str>,
    all_revisions: bool,
    md: Option<&Path>,
    json: Option<&Path>,
    no_fail: bool,
) -> Result<i32, String> {
    let (index, warnings) = Index::load(repo_root)?;
    for w in &warnings {
        println!("warning: {w}");
    }
    let spec = SpecSet::load(repo_root)?;
    let c = corpus(repo_root)?;
    for w in &c.warnings {
        println!("warning: {w}");
    }
    let checked = quotes::check_all(&spec, &c.quotes);
    let errata = std::fs::read_to_string(repo_root.join(docs::SPEC_DIR).join("ERRATA.md"))
        .unwrap_or_default();
    let waivers = coverage::parse_waivers(&errata);
    let unreachable = coverage::parse_unreachable(&errata);
    let revisions: Vec<SpecRevision> = if all_revisions {
        docs::revisions_present(repo_root)
    } else {
        vec![match revision {
            Some(r) => docs::revision(r)?,
            None => SpecRevision::NEWEST_UPSTREAM,
        }]
    };
    let mut fail = false;
    for rev in revisions {
        let report = coverage::compute(&spec, rev, &index, &checked, &c.covers, &c.cases, &waivers, &unreachable);
        if let Some(p) = md {
            write_file(p, &coverage::markdown(&report))?;
        }
        if let Some(p) = json {
            let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            write_file(p, &format!("{text}\n"))?;
        }
        print!("{}", coverage::summary(&report));
        fail |= !report.failing.is_empty() || !report.unknown_ids.is_empty();
    }
    Ok(i32::from(fail && !no_fail))
}

fn run_impact(
    repo_root: &Path,
    spec: Option<&Path>,
    doc: &str,
    from: Option<&str>,
    to: Option<&str>,
    json: Option<&Path>,
) -> Result<i32, String> {
    let from = match from {
        Some(f) => docs::revision(f)?,
        None => SpecRevision::NEWEST_UPSTREAM,
    };
    let target = match (spec, to) {
        (Some(p), _) => {
            let d = docs::doc(doc).ok_or_else(|| format!("unknown document {doc}"))?;
            impact::Target::Edited { doc: d, source: docs::read(&resolve(repo_root, p))? }
        }
        (None, Some(t)) => impact::Target::Revision(docs::revision(t)?),
        (None, None) => return Err("give --spec FILE (an edited document) or --to REV".into()),
    };
    let report = impact_report(repo_root, from, &target)?;
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        write_file(p, &format!("{text}\n"))?;
    }
    print!("{}", impact::render(&report));
    Ok(0)
}

/// The impact report of `from` -> `target` on the repository at `repo_root`.
pub fn impact_report(repo_root: &Path, from: SpecRevision, target: &impact::Target) -> Result<impact::ImpactReport, String> {
    let c = corpus(repo_root)?;
    let defs = definitions::load(repo_root)?;
    let inputs = impact::Inputs {
        repo_root,
        quotes: &c.quotes,
        covers: &c.covers,
        cases: &c.cases,
        vectors: &c.vectors,
        definitions: &defs,
        grep_files: &c.grep_files,
    };
    impact::impact(from, target, &inputs)
}

fn run_definitions(repo_root: &Path) -> Result<i32, String> {
    let defs = definitions::load(repo_root)?;
    let (index, _) = Index::load(repo_root)?;
    let c = corpus(repo_root)?;
    let (status, problems) = definitions::check(repo_root, &defs, &index, &c.cases, &c.vectors)?;
    for s in &status {
        println!("{} \"{}\": in {}", s.id, s.term, if s.revisions.is_empty() { "no revision".to_string() } else { s.revisions.join(", ") });
        if !s.used_by.is_empty() {
            println!("  used by: {}", s.used_by.join(", "));
        }
        for d in &s.depended_on_by {
            println!("  depended on by: {d}");
        }
    }
    for p in &problems {
        println!("PROBLEM {p}");
    }
    println!("{} definitions, {} problems", status.len(), problems.len());
    Ok(i32::from(!problems.is_empty()))
}

fn run_revision_notes(repo_root: &Path, write: bool, check: bool, from: &str, to: &str) -> Result<i32, String> {
    let (from, to) = (docs::revision(from)?, docs::revision(to)?);
    let text = notes::generate(repo_root, from, to)?;
    let path = repo_root.join(notes::NOTES_FILE);
    if write {
        write_file(&path, &text)?;
        println!("wrote {}", path.display());
        return Ok(0);
    }
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != text {
            println!("{} differs from the generator's output; run `spec revision-notes --write`", path.display());
            return Ok(1);
        }
        println!("{} is up to date", path.display());
        return Ok(0);
    }
    print!("{text}");
    Ok(0)
}
