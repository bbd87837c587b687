//! Reading what vectors and conformance cases declare: `covers:` lists,
//! message vectors' TLV field names, the cases' requirements, the revisions
//! each applies to (`revisions:`, default all) and the definitions each relies
//! on (`depends_on:`).

use crate::docs;
use serde_json::Value;
use sidepool_reference::revision::SpecRevision;
use std::path::Path;

/// Whether a `revisions:` list (empty: all) includes `rev`; `upstream` names the newest upstream one.
pub fn applies(revisions: &[String], rev: SpecRevision) -> bool {
    revisions.is_empty() || revisions.iter().any(|r| SpecRevision::from_name(r).is_ok_and(|x| x == rev))
}

/// The names in a `revisions:` list that name no revision.
pub fn unknown_revisions(revisions: &[String]) -> Vec<String> {
    revisions.iter().filter(|r| SpecRevision::from_name(r).is_err()).cloned().collect()
}

/// Where vectors live, relative to the repository root.
pub const VECTORS_DIR: &str = "vectors";
/// Where conformance cases live, relative to the repository root.
pub const CASES_DIR: &str = "conformance/cases";

/// One declaration that something covers requirement ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    /// File path relative to the repository root.
    pub file: String,
    /// `file`, `group N` (1-based), `tcId N`, or `case <id>`.
    pub at: String,
    pub ids: Vec<String>,
    /// The file's `revisions:` (empty: every revision).
    pub revisions: Vec<String>,
}

impl Cover {
    pub fn applies(&self, rev: SpecRevision) -> bool {
        applies(&self.revisions, rev)
    }
}

/// What a vector file declares about itself: the revisions it applies to and
/// the definitions (`spec-mirror/sidepool/definitions.yaml`) its expected values rely on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorFileDecl {
    pub file: String,
    pub revisions: Vec<String>,
    pub depends_on: Vec<String>,
}

/// A vector file's `revisions:` and `depends_on:`.
pub fn vector_decl(l: &Loaded) -> VectorFileDecl {
    VectorFileDecl { file: l.file.clone(), revisions: ids(l.value.get("revisions")), depends_on: ids(l.value.get("depends_on")) }
}

/// A message test's TLV field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFields {
    pub file: String,
    pub at: String,
    pub message: String,
    pub fields: Vec<String>,
}

/// A loaded YAML file (vector or case) with its raw text.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub file: String,
    pub text: String,
    pub value: Value,
}

/// Loads every `.yaml` / `.yml` file under `dir`. Files that fail to parse are
/// returned as errors (with the path) rather than skipped silently.
pub fn load_dir(repo_root: &Path, dir: &Path) -> (Vec<Loaded>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    if !dir.exists() {
        return (ok, errors);
    }
    for f in docs::walk(dir, &[".yaml", ".yml"]) {
        let file = docs::rel(repo_root, &f);
        let text = match docs::read(&f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match serde_yaml::from_str::<Value>(&text) {
            Ok(value) => ok.push(Loaded { file, text, value }),
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    }
    (ok, errors)
}

fn ids(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn tc_label(test: &Value, fallback: usize) -> String {
    match test.get("tcId") {
        Some(Value::Number(n)) => format!("tcId {n}"),
        Some(Value::String(s)) => format!("tcId {s}"),
        _ => format!("test {fallback}"),
    }
}

fn groups(v: &Value) -> &[Value] {
    v.get("testGroups")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn tests(g: &Value) -> &[Value] {
    g.get("tests")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Every `covers:` declaration in a vector file (top level, group, test).
pub fn vector_covers(l: &Loaded) -> Vec<Cover> {
    let mut out = Vec::new();
    let revisions = ids(l.value.get("revisions"));
    let top = ids(l.value.get("covers"));
    if !top.is_empty() {
        out.push(Cover {
            file: l.file.clone(),
            at: "file".into(),
            ids: top,
            revisions: revisions.clone(),
        });
    }
    for (gi, g) in groups(&l.value).iter().enumerate() {
        let gids = ids(g.get("covers"));
        if !gids.is_empty() {
            out.push(Cover {
                file: l.file.clone(),
                at: format!("group {}", gi + 1),
                ids: gids,
                revisions: revisions.clone(),
            });
        }
        for (ti, t) in tests(g).iter().enumerate() {
            let tids = ids(t.get("covers"));
            if !tids.is_empty() {
                out.push(Cover {
                    file: l.file.clone(),
                    at: tc_label(t, ti + 1),
                    ids: tids,
                    revisions: revisions.clone(),
                });
            }
        }
    }
    out
}

/// The TLV names every `kind: message` test uses in `fields`.
pub fn message_fields(l: &Loaded) -> Vec<MessageFields> {
    if l.value.get("kind").and_then(Value::as_str) != Some("message") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (gi, g) in groups(&l.value).iter().enumerate() {
        for (ti, t) in tests(g).iter().enumerate() {
            let message = t
                .get("message")
                .or_else(|| g.get("message"))
                .and_then(Value::as_str);
            let fields = t
                .get("fields")
                .or_else(|| g.get("fields"))
                .and_then(Value::as_object);
            if let (Some(message), Some(fields)) = (message, fields) {
                out.push(MessageFields {
                    file: l.file.clone(),
                    at: format!("group {} {}", gi + 1, tc_label(t, ti + 1)),
                    message: message.to_string(),
                    fields: fields.keys().cloned().collect(),
                });
            }
        }
    }
    out
}

/// A conformance case: its id, the requirement it tests, and any others it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub file: String,
    pub id: String,
    pub requirement: Option<String>,
    /// The case's own level (`MUST`, ...), the default grade of its assertions.
    pub level: Option<String>,
    /// Declared only: a requirement counts as tested by a case through one of its
    /// `assertions`, never through this list alone.
    pub covers: Vec<String>,
    /// Every graded assertion the case makes: the requirement it rests on, at which grade.
    pub assertions: Vec<Assertion>,
    /// `revisions:` (empty: every revision).
    pub revisions: Vec<String>,
    /// `depends_on:`: definitions the case's expected values rely on.
    pub depends_on: Vec<String>,
}

/// One graded assertion of a conformance case (conformance/CASES.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub requirement: String,
    /// `MUST`, `MUST NOT`, `SHOULD`, `SHOULD NOT`, `MAY` or `reading`.
    pub grade: String,
    /// Where: `step 7 expect_reject`.
    pub at: String,
}

/// Step kinds that assert something about the IUT (the runner's `Step::is_assertion`).
const ASSERTION_KINDS: &[&str] = &[
    "expect",
    "expect_reject",
    "expect_accept",
    "expect_nothing",
    "expect_disconnect",
    "expect_type",
    "check",
    "check_handover",
    "expect_event",
    "expect_no_event",
    "any_order",
    "one_of",
    "in_order",
    "expect_payment",
    "alive",
];

/// The keys beside a step's own key.
const STEP_META: &[&str] = &["level", "requirement", "reading", "note", "label", "after", "covers"];

/// A step's kind, body and metadata.
fn step_parts(step: &Value) -> Option<(&str, &Value, &serde_json::Map<String, Value>)> {
    let o = step.as_object()?;
    let (kind, body) = o.iter().find(|(k, _)| !STEP_META.contains(&k.as_str()))?;
    Some((kind.as_str(), body, o))
}

/// The graded assertions of one case, numbered as the runner numbers steps
/// (fixtures spliced in), with the built-in grades the runner gives (CASES.md).
fn case_assertions(case: &Value, fixtures: Option<&Value>, level: &str, requirement: &str) -> Vec<Assertion> {
    let mut steps: Vec<&Value> = Vec::new();
    for s in case.get("steps").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        match step_parts(s) {
            Some(("fixture", Value::String(name), _)) => {
                steps.extend(fixtures.and_then(|f| f.get(name)).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default());
            }
            _ => steps.push(s),
        }
    }
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let Some((kind, body, meta)) = step_parts(s) else { continue };
        if !ASSERTION_KINDS.contains(&kind) {
            continue;
        }
        let at = format!("step {} {kind}", i + 1);
        let liveness = kind == "alive";
        let grade = meta.get("level").and_then(Value::as_str).unwrap_or(if liveness { "MUST" } else { level }).to_string();
        let req = meta
            .get("requirement")
            .and_then(Value::as_str)
            .unwrap_or(if liveness { "sp01.sidepool-messaging-protocol.1" } else { requirement })
            .to_string();
        let mut push = |requirement: &str, grade: &str, at: &str| out.push(Assertion { requirement: requirement.into(), grade: grade.into(), at: at.into() });
        match kind {
            "any_order" | "one_of" | "in_order" => {
                for inner in body.as_array().map(Vec::as_slice).unwrap_or_default() {
                    let Some((ik, _, im)) = step_parts(inner) else { continue };
                    let g = im.get("level").and_then(Value::as_str).unwrap_or(&grade);
                    let r = im.get("requirement").and_then(Value::as_str).unwrap_or(&req);
                    push(r, g, &format!("{at} / {ik}"));
                    for extra in ids(im.get("covers")) {
                        push(&extra, g, &format!("{at} / {ik}"));
                    }
                }
            }
            _ => push(&req, &grade, &at),
        }
        // `covers:` beside a step: further requirements it exercises, at its grade.
        for extra in ids(meta.get("covers")) {
            push(&extra, &grade, &at);
        }
        // Built-in grades (the runner's `answer.rs` and `payment.rs`).
        match kind {
            "expect_reject" if body.get("code").is_some() => push("sp10.rejecting-peerswap.2", "MAY", &format!("{at} (reason code)")),
            "expect_accept" => push("sp10.initiating-peerswap.46", "MAY", &format!("{at} (a reject instead)")),
            "expect_payment" => {
                push("sp10.offerring-in-lightning-htlcs.7", "MUST", &format!("{at} (the total)"));
                push("sp10.offerring-in-lightning-htlcs.3", "MUST NOT", &format!("{at} (no part above the maximum)"));
                push("sp10.offerring-in-lightning-htlcs.10", "reading", &format!("{at} (no part equal to it, E-60)"));
            }
            _ => {}
        }
    }
    out
}

impl Case {
    pub fn applies(&self, rev: SpecRevision) -> bool {
        applies(&self.revisions, rev)
    }

    /// The assertions that rest on requirement `id` at a grade of its level's
    /// class: MUST / MUST NOT for an absolute requirement, SHOULD / SHOULD NOT
    /// for a recommendation, MAY for a MAY. An assertion at `reading` level tests
    /// one of the reference's readings, never the requirement.
    pub fn assertions_on(&self, id: &str, level: crate::text::Level) -> Vec<&Assertion> {
        use crate::text::Level::*;
        let fits = |g: &str| match level {
            Must | MustNot => g == "MUST" || g == "MUST NOT",
            Should | ShouldNot => g == "SHOULD" || g == "SHOULD NOT",
            May => g == "MAY",
        };
        self.assertions.iter().filter(|a| a.requirement == id && fits(&a.grade)).collect()
    }

    pub fn all_ids(&self) -> Vec<String> {
        self.requirement
            .iter()
            .cloned()
            .chain(self.covers.iter().cloned())
            .collect()
    }
}

/// The cases in a case file: one case (a mapping with `id`), a list of cases,
/// or a mapping with `cases: [...]`.
pub fn cases(l: &Loaded) -> Vec<Case> {
    let list: Vec<&Value> = match &l.value {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) if o.contains_key("cases") => o
            .get("cases")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        v @ Value::Object(_) => vec![v],
        _ => Vec::new(),
    };
    list.into_iter()
        .filter_map(|c| {
            let id = match c.get("id")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let requirement = c.get("requirement").and_then(Value::as_str).map(str::to_string);
            let level = c.get("level").and_then(Value::as_str).map(str::to_string);
            let assertions = case_assertions(
                c,
                l.value.get("fixtures"),
                level.as_deref().unwrap_or("MUST"),
                requirement.as_deref().unwrap_or(""),
            );
            Some(Case {
                file: l.file.clone(),
                id,
                requirement,
                level,
                assertions,
                covers: ids(c.get("covers")),
                revisions: ids(c.get("revisions")),
                depends_on: ids(c.get("depends_on")),
            })
        })
        .collect()
}
