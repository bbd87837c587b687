//! Traces as replayable vectors: one vector file per violated property, in the
//! project's Wycheproof-like format (`vectors/README.md`), one test group per
//! participant that runs a reference state machine, each a script of
//! `{event, expect}` steps for the system's own event-script kind
//! (`session_script` for SIDEPOOL-10).

use serde_json::{json, Map, Value};

/// One participant's part of a run: its setup and every event it saw with the
/// actions its machine answered.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptGroup {
    /// What this participant is in the run.
    pub comment: String,
    /// The group-level setup the evaluator builds the machine from (`node` for `session_script`);
    /// empty: `setup` is an object whose fields are the group's own (`machine` and `params` for
    /// `loop_script`).
    pub setup_key: &'static str,
    pub setup: Value,
    /// One test per incarnation of the machine (a crash starts a new one).
    pub tests: Vec<ScriptTest>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptTest {
    pub comment: String,
    pub flags: Vec<String>,
    pub steps: Vec<ScriptStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptStep {
    pub event: Value,
    pub expect: Vec<Value>,
}

/// A whole vector file.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorFile {
    /// The vector kind (`session_script`).
    pub kind: &'static str,
    pub title: String,
    /// `{document, section, commit}` as in the other vector files.
    pub spec: Value,
    /// Further top-level fields after `spec` (for SIDEPOOL: `revisions`, `depends_on`).
    pub extra: Vec<(String, Value)>,
    /// The header comment (the trace, for a counterexample).
    pub header: Vec<String>,
    /// Every flag used, with its meaning.
    pub notes: Vec<(String, String)>,
    pub groups: Vec<ScriptGroup>,
}

/// Kinds whose steps name the machine's answer `actions` rather than `expect`.
const ACTIONS_KEY_KINDS: &[&str] = &["loop_script"];

impl VectorFile {
    /// The key of a step's answer in this file's kind.
    pub fn actions_key(&self) -> &'static str {
        if ACTIONS_KEY_KINDS.contains(&self.kind) {
            "actions"
        } else {
            "expect"
        }
    }

    pub fn number_of_tests(&self) -> usize {
        self.groups.iter().map(|g| g.tests.len()).sum()
    }

    /// The file as a JSON value (tcIds numbered from 1 across groups).
    pub fn to_json(&self) -> Value {
        let mut tc = 0u64;
        let actions_key = self.actions_key();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                let tests: Vec<Value> = g
                    .tests
                    .iter()
                    .map(|t| {
                        tc += 1;
                        json!({
                            "tcId": tc,
                            "comment": t.comment,
                            "flags": t.flags,
                            "steps": t.steps.iter().map(|s| {
                                let mut step = Map::new();
                                step.insert("event".into(), s.event.clone());
                                step.insert(actions_key.into(), Value::Array(s.expect.clone()));
                                Value::Object(step)
                            }).collect::<Vec<_>>(),
                            "result": "valid",
                        })
                    })
                    .collect();
                let mut m = Map::new();
                m.insert("comment".into(), json!(g.comment));
                match (g.setup_key, &g.setup) {
                    ("", Value::Object(fields)) => m.extend(fields.clone()),
                    (key, setup) => {
                        m.insert(key.into(), setup.clone());
                    }
                }
                m.insert("tests".into(), Value::Array(tests));
                Value::Object(m)
            })
            .collect();
        let notes: Map<String, Value> = self.notes.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut v = json!({
            "formatVersion": 1,
            "kind": self.kind,
            "title": self.title,
            "spec": self.spec,
            "numberOfTests": self.number_of_tests(),
            "notes": notes,
            "testGroups": groups,
        });
        for (k, x) in &self.extra {
            v[k.as_str()] = x.clone();
        }
        v
    }

    /// The file as YAML, with the header as `#` comment lines.
    pub fn to_yaml(&self) -> Result<String, String> {
        let body = serde_yaml::to_string(&self.to_json()).map_err(|e| format!("cannot write YAML: {e}"))?;
        let mut s = String::new();
        for line in &self.header {
            if line.is_empty() {
                s.push_str("#\n");
            } else {
                s.push_str(&format!("# {line}\n"));
            }
        }
        s.push_str(&body);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_tests_across_groups_and_writes_the_header_as_comments() {
        let step = ScriptStep { event: json!({"type": "time", "now": 5}), expect: vec![] };
        let group = |name: &str| ScriptGroup {
            comment: name.into(),
            setup_key: "node",
            setup: json!({"me": name}),
            tests: vec![ScriptTest { comment: "run".into(), flags: vec!["ModelTrace".into()], steps: vec![step.clone()] }],
        };
        let f = VectorFile {
            kind: "session_script",
            title: "t".into(),
            spec: json!({"document": "SIDEPOOL-10"}),
            extra: vec![("revisions".into(), json!(["seed"]))],
            header: vec!["a trace".into(), "".into()],
            notes: vec![("ModelTrace".into(), "from the model".into())],
            groups: vec![group("O"), group("A")],
        };
        let v = f.to_json();
        assert_eq!(v["numberOfTests"], 2);
        assert_eq!(v["testGroups"][1]["tests"][0]["tcId"], 2);
        assert_eq!(v["testGroups"][0]["node"]["me"], "O");
        let y = f.to_yaml().unwrap();
        assert!(y.starts_with("# a trace\n#\n"), "{y}");
        assert!(y.contains("kind: session_script"));
        assert_eq!(v["revisions"][0], "seed");
        assert_eq!(v["testGroups"][0]["tests"][0]["steps"][0]["expect"], json!([]));
    }

    #[test]
    fn an_empty_setup_key_spreads_the_setup_and_loop_scripts_answer_in_actions() {
        let f = VectorFile {
            kind: "loop_script",
            title: "t".into(),
            spec: json!({"document": "LOOP-01"}),
            extra: vec![],
            header: vec![],
            notes: vec![],
            groups: vec![ScriptGroup {
                comment: "client".into(),
                setup_key: "",
                setup: json!({"machine": "loop_out_client", "params": {"amount_sat": 1}}),
                tests: vec![ScriptTest {
                    comment: "run".into(),
                    flags: vec![],
                    steps: vec![ScriptStep { event: json!({"type": "sweep_timer"}), expect: vec![json!({"type": "push_preimage"})] }],
                }],
            }],
        };
        let v = f.to_json();
        let g = &v["testGroups"][0];
        assert_eq!(g["machine"], "loop_out_client");
        assert_eq!(g["params"]["amount_sat"], 1);
        assert!(g.get("").is_none());
        assert_eq!(g["tests"][0]["steps"][0]["actions"][0]["type"], "push_preimage");
        assert!(g["tests"][0]["steps"][0].get("expect").is_none());
    }
}
