//! Counterexample traces for humans (one line per step: when, who, what) and as JSON.

use serde_json::{json, Value};

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// Where the system's clocks stand when the step happens, as the system writes them
    /// (for SIDEPOOL: `h=800000 t=65s`).
    pub at: String,
    /// Who acts: a participant's name, `net`, `pool`, `chain`, `clock`.
    pub actor: String,
    /// What it does, in words.
    pub what: String,
    /// What followed within the same step (an engine's actions, a cascade of reactions).
    pub notes: Vec<String>,
}

/// A run from an initial state to the state that shows the property.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// What the initial state is (the participants, who is adversarial, the numbers).
    pub setup: Vec<String>,
    pub steps: Vec<TraceStep>,
    /// What is wrong (or, for a reachability example, what was reached) in the last state.
    pub outcome: Vec<String>,
}

impl Trace {
    /// The trace as text: one numbered line per step, its notes indented below.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for line in &self.setup {
            s.push_str(&format!("    {line}\n"));
        }
        let at_width = self.steps.iter().map(|st| st.at.len()).max().unwrap_or(0);
        let actor_width = self.steps.iter().map(|st| st.actor.len()).max().unwrap_or(0);
        for (i, st) in self.steps.iter().enumerate() {
            s.push_str(&format!(
                "    {:>3}. {:<at_width$}  {:<actor_width$}  {}\n",
                i + 1,
                st.at,
                st.actor,
                st.what
            ));
            for n in &st.notes {
                s.push_str(&format!("         {:<at_width$}  {:<actor_width$}    {n}\n", "", ""));
            }
        }
        for line in &self.outcome {
            s.push_str(&format!("    => {line}\n"));
        }
        s
    }

    pub fn to_json(&self) -> Value {
        json!({
            "setup": self.setup,
            "steps": self.steps.iter().enumerate().map(|(i, st)| json!({
                "step": i + 1, "at": st.at, "actor": st.actor, "what": st.what, "notes": st.notes,
            })).collect::<Vec<_>>(),
            "outcome": self.outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_per_step_with_notes_below() {
        let t = Trace {
            setup: vec!["O, A; A adversarial".into()],
            steps: vec![
                TraceStep { at: "h=1".into(), actor: "O".into(), what: "offers".into(), notes: vec!["persist".into()] },
                TraceStep { at: "h=10".into(), actor: "pool".into(), what: "aborts".into(), notes: vec![] },
            ],
            outcome: vec!["O lost".into()],
        };
        let text = t.render();
        assert_eq!(
            text,
            "    O, A; A adversarial\n      1. h=1   O     offers\n                       persist\n      2. h=10  pool  aborts\n    => O lost\n"
        );
        assert_eq!(t.to_json()["steps"][1]["what"], "aborts");
        assert_eq!(t.to_json()["steps"][0]["step"], 1);
    }
}
