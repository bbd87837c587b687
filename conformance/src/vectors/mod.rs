//! Vector files: discovery, loading, schema lint, evaluation against the
//! reference, and JSON export. The format is documented in vectors/README.md.
//!
//! A file says which revisions of the texts it applies to (`revisions:`,
//! default every one); `check` runs it under each of them.

pub mod kinds;

use serde_json::Value;
use sidepool_reference::SpecRevision;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The vectors directory: `$SIDEPOOL_VECTORS`, else `./vectors`, else the one
/// this binary was built from.
pub fn default_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("SIDEPOOL_VECTORS") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("vectors");
    if local.join("schema").is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("vectors")
}

/// Every `*.yaml` file under `paths` (files are taken as given, directories
/// searched recursively, skipping `schema/`), sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "schema") {
                continue;
            }
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A loaded vector file.
pub struct VectorFile {
    pub path: PathBuf,
    pub doc: Value,
}

impl VectorFile {
    pub fn load(path: &Path) -> Result<VectorFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value = serde_yaml::from_str(&text).map_err(|e| format!("{}: not valid YAML: {e}", path.display()))?;
        Ok(VectorFile { path: path.to_path_buf(), doc })
    }

    pub fn kind(&self) -> Option<&str> {
        self.doc.get("kind").and_then(Value::as_str)
    }

    /// (group, test) pairs in file order.
    pub fn tests(&self) -> Vec<(&Value, &Value)> {
        tests_of(&self.doc)
    }

    /// The revisions the file applies to (`revisions:`; every one when absent).
    pub fn revisions(&self) -> Result<Vec<SpecRevision>, String> {
        revisions_of(&self.doc)
    }
}

/// The revisions a vector document applies to: its `revisions:` list, or every revision.
pub fn revisions_of(doc: &Value) -> Result<Vec<SpecRevision>, String> {
    let Some(list) = doc.get("revisions") else {
        return Ok(SpecRevision::ALL.to_vec());
    };
    let names = list.as_array().ok_or("`revisions` is not a list")?;
    let mut out = Vec::new();
    for n in names {
        let name = n.as_str().ok_or("`revisions` holds a non-string")?;
        let r = SpecRevision::from_name(name).map_err(|e| e.to_string())?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.is_empty() {
        return Err("`revisions` is empty".into());
    }
    Ok(out)
}

/// (group, test) pairs of a parsed vector document, in file order.
pub fn tests_of(doc: &Value) -> Vec<(&Value, &Value)> {
    let mut out = Vec::new();
    for group in doc.get("testGroups").and_then(Value::as_array).into_iter().flatten() {
        for test in group.get("tests").and_then(Value::as_array).into_iter().flatten() {
            out.push((group, test));
        }
    }
    out
}

/// The outcome of one test.
pub struct CaseResult {
    pub tc_id: u64,
    pub comment: String,
    pub outcome: Result<(), String>,
}

/// The outcome of one file at one revision: either it could not be run, or per-test results.
pub struct FileResult {
    pub path: PathBuf,
    pub revision: SpecRevision,
    pub error: Option<String>,
    pub cases: Vec<CaseResult>,
}

/// Runs every test of one file against the reference, under each revision the file applies to.
pub fn check_file_all(path: &Path) -> Vec<FileResult> {
    let revisions = VectorFile::load(path).and_then(|f| f.revisions());
    match revisions {
        Ok(revs) => revs.into_iter().map(|r| check_file_at(path, r)).collect(),
        Err(e) => vec![FileResult { path: path.to_path_buf(), revision: SpecRevision::NEWEST_UPSTREAM, error: Some(e), cases: Vec::new() }],
    }
}

/// Runs every test of one file at the newest revision it applies to.
pub fn check_file(path: &Path) -> FileResult {
    let rev = VectorFile::load(path).and_then(|f| f.revisions()).ok().and_then(|r| r.last().copied()).unwrap_or(SpecRevision::NEWEST_UPSTREAM);
    check_file_at(path, rev)
}

/// Runs every test of one file against the reference at revision `rev`.
pub fn check_file_at(path: &Path, rev: SpecRevision) -> FileResult {
    let mut result = FileResult { path: path.to_path_buf(), revision: rev, error: None, cases: Vec::new() };
    let file = match VectorFile::load(path) {
        Ok(f) => f,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let Some(kind) = file.kind() else {
        result.error = Some("no `kind:` in the header".into());
        return result;
    };
    if kinds::evaluator(kind).is_none() {
        result.error = Some(format!("unknown kind `{kind}`"));
        return result;
    }
    match file.revisions() {
        Ok(revs) if !revs.contains(&rev) => {
            result.error = Some(format!("the file does not apply to revision {}", rev.name()));
            return result;
        }
        Err(e) => {
            result.error = Some(e);
            return result;
        }
        Ok(_) => {}
    }
    for (group, test) in file.tests() {
        let tc_id = test.get("tcId").and_then(Value::as_u64).unwrap_or(0);
        let comment = test.get("comment").and_then(Value::as_str).unwrap_or("").to_owned();
        // An evaluator bug must fail its case, not abort the whole run.
        let test = kinds::as_evaluated(kind, test);
        let outcome = std::panic::catch_unwind(|| kinds::evaluate(kind, rev, group, &test).unwrap_or_else(|| Err(format!("unknown kind `{kind}`"))))
            .unwrap_or_else(|_| Err("the evaluator panicked on this case".into()));
        result.cases.push(CaseResult { tc_id, comment, outcome });
    }
    result
}

/// Totals over a run.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
}

/// Runs `files`, each under every revision it applies to, printing one line per
/// failure (and per file and revision when verbose); returns totals (a test run
/// under two revisions counts twice).
pub fn check_all(files: &[PathBuf], out: &mut dyn std::io::Write, verbose: bool) -> std::io::Result<Totals> {
    let mut totals = Totals::default();
    for path in files {
        for r in check_file_all(path) {
            let at = format!("{} @{}", path.display(), r.revision.name());
            if let Some(e) = &r.error {
                writeln!(out, "FAIL {at}: {e}")?;
                totals.failed += 1;
                continue;
            }
            let failed: Vec<_> = r.cases.iter().filter(|c| c.outcome.is_err()).collect();
            totals.passed += r.cases.len() - failed.len();
            totals.failed += failed.len();
            if verbose || !failed.is_empty() {
                writeln!(out, "{at}: {} cases, {} failed", r.cases.len(), failed.len())?;
            }
            for c in failed {
                let reason = c.outcome.as_ref().err().map(String::as_str).unwrap_or_default();
                writeln!(out, "FAIL {at} tcId {} ({}): {reason}", c.tc_id, c.comment)?;
            }
        }
    }
    Ok(totals)
}

// ---- lint -----------------------------------------------------------------------------------

/// Schema-validates every file and checks what a schema cannot: unique tcIds,
/// declared counts, lowercase hex, declared flags, error present exactly on invalid.
pub fn lint(files: &[PathBuf], schema_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let common = match load_schema(&schema_dir.join("common.schema.json")) {
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    let mut kind_schemas: BTreeMap<String, Result<jsonschema::Validator, String>> = BTreeMap::new();
    for path in files {
        let at = path.display().to_string();
        let file = match VectorFile::load(path) {
            Ok(f) => f,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for e in common.iter_errors(&file.doc) {
            problems.push(format!("{at}: {} (at {})", e, e.instance_path()));
        }
        let Some(kind) = file.kind() else { continue };
        if kinds::evaluator(kind).is_none() {
            problems.push(format!("{at}: unknown kind `{kind}`"));
        }
        let validator = kind_schemas
            .entry(kind.to_owned())
            .or_insert_with(|| load_schema(&schema_dir.join(format!("{kind}.schema.json"))));
        match validator {
            Ok(v) => {
                for e in v.iter_errors(&file.doc) {
                    problems.push(format!("{at}: {} (at {})", e, e.instance_path()));
                }
            }
            Err(e) => problems.push(format!("{at}: {e}")),
        }
        problems.extend(lint_value(&file.doc).into_iter().map(|p| format!("{at}: {p}")));
    }
    problems
}

fn load_schema(path: &Path) -> Result<jsonschema::Validator, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("schema {}: {e}", path.display()))?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| format!("schema {}: {e}", path.display()))?;
    jsonschema::validator_for(&schema).map_err(|e| format!("schema {}: {e}", path.display()))
}

/// The lint's semantic checks on one parsed document (what a schema cannot
/// express); in memory, so the fuzz target `vector_yaml` can call it.
pub fn lint_value(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let tests = tests_of(doc);
    let declared = doc.get("numberOfTests").and_then(Value::as_u64);
    if declared != Some(tests.len() as u64) {
        problems.push(format!("numberOfTests is {declared:?} but the file holds {} tests", tests.len()));
    }
    let notes: BTreeSet<&str> = doc
        .get("notes")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    for (_, test) in &tests {
        let id = test.get("tcId").and_then(Value::as_u64);
        let label = format!("tcId {}", id.map_or("?".into(), |i| i.to_string()));
        if let Some(id) = id {
            if !seen.insert(id) {
                problems.push(format!("{label} is not unique"));
            }
        }
        for flag in test.get("flags").and_then(Value::as_array).into_iter().flatten() {
            if let Some(flag) = flag.as_str() {
                if !notes.contains(flag) {
                    problems.push(format!("{label}: flag {flag} has no entry in notes"));
                }
            }
        }
        let result = test.get("result").and_then(Value::as_str);
        let has_error = test.get("error").is_some();
        if result == Some("invalid") && !has_error {
            problems.push(format!("{label}: result invalid needs an `error`"));
        }
        if result == Some("valid") && has_error {
            problems.push(format!("{label}: `error` is only for result invalid (or acceptable: the reference's reading)"));
        }
        if result == Some("acceptable") && test.get("flags").and_then(Value::as_array).is_none_or(|f| f.is_empty()) {
            problems.push(format!("{label}: result acceptable needs a flag naming the reading"));
        }
        uppercase_hex(test, &label, &mut problems);
    }
    problems
}

/// Keys whose string values are prose, never hex.
const PROSE_KEYS: &[&str] = &["comment", "flags", "result", "error", "message", "reason", "reason_text", "title"];

fn uppercase_hex(v: &Value, at: &str, problems: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if PROSE_KEYS.contains(&k.as_str()) || k.ends_with("_text") {
                    continue;
                }
                uppercase_hex(v, &format!("{at}.{k}"), problems);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| uppercase_hex(i, at, problems)),
        Value::String(s) => {
            let hexlike = s.len() >= 2 && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit());
            if hexlike && s.bytes().any(|b| b.is_ascii_uppercase()) {
                problems.push(format!("{at}: hex must be lowercase ({s})"));
            }
        }
        _ => {}
    }
}

// ---- export ---------------------------------------------------------------------------------

/// Writes every file as JSON under `out_dir`, keeping paths relative to `root`,
/// and copies the schemas. Returns the number of vector files written.
pub fn export_json(root: &Path, files: &[PathBuf], out_dir: &Path) -> Result<usize, String> {
    let mut written = 0;
    for path in files {
        let file = VectorFile::load(path)?;
        let rel = path.strip_prefix(root).unwrap_or(path.as_path());
        let target = out_dir.join(rel).with_extension("json");
        write_json(&target, &file.doc)?;
        written += 1;
    }
    let schema_dir = root.join("schema");
    if let Ok(entries) = std::fs::read_dir(&schema_dir) {
        for entry in entries.flatten() {
            let p = entry.path();
            if let Some(name) = p.file_name() {
                let target = out_dir.join("schema").join(name);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                std::fs::copy(&p, &target).map_err(|e| format!("{}: {e}", target.display()))?;
            }
        }
    }
    Ok(written)
}

fn write_json(target: &Path, doc: &Value) -> Result<(), String> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let mut text = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(target, text).map_err(|e| format!("{}: {e}", target.display()))
}

// ---- helpers for evaluators -----------------------------------------------------------------

/// Accessors for evaluators: typed reads of test fields with clear errors.
pub mod field {
    use serde_json::Value;

    pub fn str<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
        v.get(key).and_then(Value::as_str).ok_or_else(|| format!("test lacks string field `{key}`"))
    }
    pub fn u64(v: &Value, key: &str) -> Result<u64, String> {
        v.get(key).and_then(Value::as_u64).ok_or_else(|| format!("test lacks integer field `{key}`"))
    }
    pub fn hex(v: &Value, key: &str) -> Result<Vec<u8>, String> {
        let s = str(v, key)?;
        hex::decode(s).map_err(|e| format!("field `{key}`: bad hex ({e})"))
    }
    pub fn result(test: &Value) -> Result<&str, String> {
        str(test, "result")
    }
    /// The expected error name of an invalid test.
    pub fn error(test: &Value) -> Result<&str, String> {
        str(test, "error")
    }
}

/// Compares an expected result (`valid`/`acceptable` vs `invalid` + error name)
/// with what the reference produced.
pub fn expect_outcome<T, E: std::fmt::Display>(
    test: &Value,
    got: &Result<T, E>,
    error_name: impl Fn(&E) -> String,
) -> Result<(), String> {
    let want = field::result(test)?;
    match (want, got) {
        ("valid" | "acceptable", Ok(_)) => Ok(()),
        ("valid" | "acceptable", Err(e)) => Err(format!("expected {want}, the reference rejected it: {e}")),
        ("invalid", Ok(_)) => Err(format!("expected invalid ({}), the reference accepted it", field::error(test)?)),
        ("invalid", Err(e)) => {
            let want_err = field::error(test)?;
            let got_err = error_name(e);
            if got_err == want_err {
                Ok(())
            } else {
                Err(format!("expected error {want_err}, the reference said {got_err} ({e})"))
            }
        }
        (other, _) => Err(format!("unknown result `{other}`")),
    }
}
