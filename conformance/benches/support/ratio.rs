// Shared by several bench binaries; each uses part of it.
#![allow(dead_code)]

//! Ratios of two benchmarks measured in the same run, read back from the
//! estimates criterion writes (`<target>/criterion/<group>/<bench>/new/estimates.json`).
//! Only estimates written during this run count, so a filtered run never
//! mixes in an old figure.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct Ratios {
    started: SystemTime,
    dir: PathBuf,
    lines: Vec<String>,
}

/// What a ratio must reach, and in which direction.
#[derive(Clone, Copy)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Ratios {
    /// `workspace` is the workspace root (criterion writes under its `target/`).
    pub fn new(workspace: &Path) -> Ratios {
        let dir = match (std::env::var_os("CRITERION_HOME"), std::env::var_os("CARGO_TARGET_DIR")) {
            (Some(home), _) => PathBuf::from(home),
            (None, Some(target)) => PathBuf::from(target).join("criterion"),
            (None, None) => workspace.join("target").join("criterion"),
        };
        Ratios { started: SystemTime::now(), dir, lines: Vec::new() }
    }

    /// The typical time (ns) of one benchmark measured in this run: criterion's
    /// slope estimate where it has one, else the mean.
    pub fn time_ns(&self, group: &str, bench: &str) -> Option<f64> {
        let path = self.dir.join(group).join(bench).join("new").join("estimates.json");
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        if modified < self.started {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
        v.get("slope")
            .filter(|s| !s.is_null())
            .or_else(|| v.get("mean"))
            .and_then(|e| e.get("point_estimate"))
            .and_then(serde_json::Value::as_f64)
    }

    /// Records `numerator / denominator` (each `(group, bench)`) against its goal.
    pub fn ratio(&mut self, label: &str, numerator: (&str, &str), denominator: (&str, &str), goal: Goal) {
        let (Some(n), Some(d)) = (self.time_ns(numerator.0, numerator.1), self.time_ns(denominator.0, denominator.1)) else {
            return;
        };
        let r = n / d;
        let (met, goal_text) = match goal {
            Goal::AtLeast(g) => (r >= g, format!(">= {g}")),
            Goal::AtMost(g) => (r <= g, format!("<= {g}")),
        };
        self.lines.push(format!(
            "| {label} | {} | {} | {r:.2} | {goal_text} | {} |",
            fmt_ns(n),
            fmt_ns(d),
            if met { "met" } else { "NOT met" }
        ));
    }

    /// Records one absolute time against a goal in seconds.
    pub fn absolute(&mut self, label: &str, bench: (&str, &str), goal_s: f64) {
        let Some(t) = self.time_ns(bench.0, bench.1) else { return };
        let met = t / 1e9 <= goal_s;
        self.lines.push(format!("| {label} | {} | | | <= {goal_s} s | {} |", fmt_ns(t), if met { "met" } else { "NOT met" }));
    }

    /// Prints the table (markdown, as BENCHMARKS.md shows it).
    pub fn print(&self, title: &str, columns: (&str, &str)) {
        if self.lines.is_empty() {
            return;
        }
        println!("\n{title}\n");
        println!("| what | {} | {} | ratio | goal | |", columns.0, columns.1);
        println!("| --- | --- | --- | --- | --- | --- |");
        for l in &self.lines {
            println!("{l}");
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
