//! Definitions the SIDEPOOL texts make, and what relies on them, recorded in
//! `spec-mirror/sidepool/definitions.yaml`:
//!
//! ```yaml
//! definitions:
//!   - id: sp10.def.agreed-upon-amount          # sp<NN>.def.<slug>; stable, never reused
//!     term: agreed-upon amount
//!     document: SIDEPOOL-10
//!     section: Agreed-upon Amount of In-Lightning HTLCs
//!     defined_by: 'The "*agreed upon amount*" of the in-Lightning HTLCs is ...'   # a quote pattern
//!     spellings: [agreed-upon amount, agreed upon amount]   # for the completeness check only
//!     uses: [sp02.def.post-tax-amount]          # definitions it is built on
//!     used_by: [sp10.success-path.1, ...]       # requirements whose sentence relies on it
//! ```
//!
//! Cases and vector files that rely on a definition say so with
//! `depends_on: [id, ...]`; nothing is inferred from words. The revisions a
//! definition belongs to are computed: those whose text has `defined_by` in
//! the named document. `spec definitions` checks the table: every id it names
//! exists, and every requirement that spells a term is in its `used_by` (so the
//! recorded dependencies stay complete as the texts change).

use crate::docs;
use crate::markdown;
use crate::requirements::Index;
use crate::text::{closest_passage, similarity, NormDoc, Pattern};
use crate::vectors::{Case, VectorFileDecl};
use serde::{Deserialize, Serialize};
use sidepool_reference::revision::SpecRevision;
use std::path::Path;

/// The table, relative to the repository root.
pub const DEFINITIONS_FILE: &str = "spec-mirror/sidepool/definitions.yaml";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub id: String,
    pub term: String,
    pub document: String,
    /// The heading of the section that holds the definition.
    pub section: String,
    /// The defining sentence, as a quote pattern (`...` allowed).
    pub defined_by: String,
    #[serde(default)]
    pub spellings: Vec<String>,
    #[serde(default)]
    pub uses: Vec<String>,
    #[serde(default)]
    pub used_by: Vec<String>,
    /// What an implementation must do where the definition is gone (revision notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefinitionsFile {
    #[serde(default)]
    pub definitions: Vec<Definition>,
}

impl DefinitionsFile {
    pub fn get(&self, id: &str) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.id == id)
    }

    /// `id` and every definition built on it, directly or through others (each once).
    pub fn closure(&self, id: &str) -> Vec<&Definition> {
        let mut out: Vec<&Definition> = self.definitions.iter().filter(|d| d.id == id).collect();
        let mut i = 0;
        while let Some(cur) = out.get(i).map(|d| d.id.clone()) {
            for d in &self.definitions {
                if d.uses.contains(&cur) && !out.iter().any(|o| o.id == d.id) {
                    out.push(d);
                }
            }
            i += 1;
        }
        out
    }
}

/// Loads the table; a repository without one has no definitions.
pub fn load(repo_root: &Path) -> Result<DefinitionsFile, String> {
    let path = repo_root.join(DEFINITIONS_FILE);
    if !path.exists() {
        return Ok(DefinitionsFile::default());
    }
    let text = docs::read(&path)?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where a definition stands in one text of its document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "presence", rename_all = "snake_case")]
pub enum Presence {
    /// `defined_by` matches; `section` is the heading whose section holds it.
    Defined { section: String, line: usize },
    /// `defined_by` does not match, but a passage is at least half similar.
    Changed { line: usize, closest: String, similarity: f64 },
    Absent,
}

impl Presence {
    pub fn is_defined(&self) -> bool {
        matches!(self, Presence::Defined { .. })
    }
}

/// Where `def` stands in `source` (a text of its document).
pub fn presence(def: &Definition, source: &str) -> Presence {
    let norm = NormDoc::new(source);
    let pattern = Pattern::new(&def.defined_by);
    let heads = markdown::headings(source);
    if let Some(m) = norm.find(&pattern).first() {
        let line = norm.line_of(m.start());
        let section = markdown::section_at(&heads, line).map(|h| h.text.clone()).unwrap_or_default();
        return Presence::Defined { section, line };
    }
    if let Some(((s, e), _)) = closest_passage(&norm.text, &pattern.joined()) {
        let closest = norm.text.get(s..e).unwrap_or_default().to_string();
        let sim = similarity(&closest, &pattern.joined());
        if sim >= 0.5 {
            return Presence::Changed { line: norm.line_of(s), closest, similarity: (sim * 1000.0).round() / 1000.0 };
        }
    }
    Presence::Absent
}

/// The revisions whose text of the definition's document defines it.
pub fn revisions_of(repo_root: &Path, def: &Definition) -> Result<Vec<SpecRevision>, String> {
    let Some(doc) = docs::doc(&def.document) else {
        return Err(format!("{}: unknown document {}", def.id, def.document));
    };
    let mut out = Vec::new();
    for rev in docs::revisions_present(repo_root) {
        let path = docs::doc_path(repo_root, rev, doc);
        if path.exists() && presence(def, &docs::read(&path)?).is_defined() {
            out.push(rev);
        }
    }
    Ok(out)
}

/// One line of `spec definitions`: a definition, the revisions it is in, and what relies on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefinitionStatus {
    pub id: String,
    pub term: String,
    pub revisions: Vec<String>,
    pub used_by: Vec<String>,
    pub depended_on_by: Vec<String>,
}

/// Checks the table against the texts, the index, the cases and the vectors.
/// Returns each definition's status and every problem (an empty list is clean).
pub fn check(
    repo_root: &Path,
    defs: &DefinitionsFile,
    index: &Index,
    cases: &[Case],
    vectors: &[VectorFileDecl],
) -> Result<(Vec<DefinitionStatus>, Vec<String>), String> {
    let mut problems = Vec::new();
    let mut status = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for d in &defs.definitions {
        if !seen.insert(d.id.clone()) {
            problems.push(format!("{}: defined twice in {DEFINITIONS_FILE}", d.id));
        }
        let revisions = revisions_of(repo_root, d)?;
        if revisions.is_empty() {
            problems.push(format!("{}: `defined_by` matches no revision of {}", d.id, d.document));
        }
        for rev in &revisions {
            let Some(doc) = docs::doc(&d.document) else { continue };
            let source = docs::read(&docs::doc_path(repo_root, *rev, doc))?;
            if let Presence::Defined { section, .. } = presence(d, &source) {
                if section != d.section {
                    problems.push(format!("{}: at {} it is defined under `{section}`, the table says `{}`", d.id, rev.name(), d.section));
                }
            }
        }
        for u in &d.uses {
            if defs.get(u).is_none() {
                problems.push(format!("{}: uses unknown definition {u}", d.id));
            }
        }
        for r in &d.used_by {
            if !index.knows(r) {
                problems.push(format!("{}: used_by names {r}, which no revision's index has", d.id));
            }
        }
        // Completeness: every requirement that spells the term relies on the definition.
        let all = index.revisions.iter().flat_map(|f| f.requirements.iter()).chain(index.own.iter());
        let mut missing = std::collections::BTreeSet::new();
        for r in all {
            let text = format!("{} {}", r.context.as_deref().unwrap_or_default(), r.quote).to_lowercase();
            if d.spellings.iter().any(|s| text.contains(&s.to_lowercase())) && !d.used_by.contains(&r.id) {
                missing.insert(r.id.clone());
            }
        }
        for m in missing {
            problems.push(format!("{}: requirement {m} spells `{}` but is not in used_by", d.id, d.term));
        }
        let depended_on_by = cases
            .iter()
            .filter(|c| c.depends_on.contains(&d.id))
            .map(|c| format!("{} ({})", c.file, c.id))
            .chain(vectors.iter().filter(|v| v.depends_on.contains(&d.id)).map(|v| v.file.clone()))
            .collect();
        status.push(DefinitionStatus {
            id: d.id.clone(),
            term: d.term.clone(),
            revisions: revisions.iter().map(|r| r.name().to_string()).collect(),
            used_by: d.used_by.clone(),
            depended_on_by,
        });
    }
    for c in cases {
        for id in c.depends_on.iter().filter(|id| defs.get(id).is_none()) {
            problems.push(format!("{} case {}: depends_on names {id}, which {DEFINITIONS_FILE} does not define", c.file, c.id));
        }
    }
    for v in vectors {
        for id in v.depends_on.iter().filter(|id| defs.get(id).is_none()) {
            problems.push(format!("{}: depends_on names {id}, which {DEFINITIONS_FILE} does not define", v.file));
        }
    }
    Ok((status, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, uses: &[&str]) -> Definition {
        Definition {
            id: id.into(),
            term: id.into(),
            document: "SIDEPOOL-10".into(),
            section: "S".into(),
            defined_by: "The *x* is y.".into(),
            spellings: vec![],
            uses: uses.iter().map(|u| u.to_string()).collect(),
            used_by: vec![],
            note: None,
        }
    }

    #[test]
    fn closure_follows_uses_transitively() {
        let f = DefinitionsFile { definitions: vec![def("a", &[]), def("b", &["a"]), def("c", &["b"]), def("d", &[])] };
        let ids: Vec<&str> = f.closure("a").iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert!(f.closure("zz").is_empty());
    }

    #[test]
    fn presence_in_a_text() {
        let d = def("a", &[]);
        let text = "T\n===\n\nS\n-\n\nOther\n-----\n\nThe *x* is y.\n";
        assert_eq!(presence(&d, text), Presence::Defined { section: "Other".into(), line: 10 });
        let changed = "T\n===\n\nThe *x* is z.\n";
        assert!(matches!(presence(&d, changed), Presence::Changed { line: 4, .. }));
        assert_eq!(presence(&d, "T\n===\n\nNothing at all here, really.\n"), Presence::Absent);
    }
}
