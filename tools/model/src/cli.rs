//! The `model` subcommands: `sidepool-conformance model <command>`.
//!
//! [`run`] is the only function in this crate that prints; it returns the
//! process exit status: 0 every safety property holds, 1 one is violated,
//! 2 the check could not run (bad settings) or could not finish within its bounds.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::framework::{Bounds, System};

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum ModelCommand {
    /// Check a system's properties; print each as holds / violated (with the
    /// counterexample trace) / not established within the bounds, then the figures.
    Check {
        /// The system to check (`model list` names them).
        #[arg(long, default_value = "sidepool")]
        system: String,
        /// Set a parameter: NAME=VALUE (repeatable; `model list` shows them).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// The spec revision whose rules apply (sidepool: seed, upstream).
        #[arg(long)]
        spec: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Write each violated property's counterexample as a vector file into DIR.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
        /// Stop after this many states (duplicates included).
        #[arg(long, default_value_t = 20_000_000)]
        max_states: usize,
        /// Do not go deeper than this many steps.
        #[arg(long)]
        max_depth: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Checker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// List the systems, their parameters (default, range, meaning), properties and bounds.
    List {
        /// Only this system.
        #[arg(long)]
        system: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn find(name: &str) -> Result<&'static dyn System, String> {
    crate::systems().into_iter().find(|s| s.name() == name).ok_or_else(|| {
        let known: Vec<&str> = crate::systems().iter().map(|s| s.name()).collect();
        format!("unknown system `{name}`; known: {}", known.join(", "))
    })
}

pub fn run(cmd: &ModelCommand) -> i32 {
    match cmd {
        ModelCommand::Check { system, set, spec, json, export, max_states, max_depth, timeout, threads } => {
            let bounds = Bounds {
                max_states: Some(*max_states),
                max_depth: *max_depth,
                timeout: Some(Duration::from_secs(*timeout)),
                threads: *threads,
            };
            match check(system, set, spec.as_deref(), &bounds, *json, export.as_ref()) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        ModelCommand::List { system, json } => match list(system.as_deref(), *json) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
    }
}

fn check(system: &str, set: &[String], spec: Option<&str>, bounds: &Bounds, as_json: bool, export: Option<&PathBuf>) -> Result<i32, String> {
    let sys = find(system)?;
    let settings = sys.settings(spec, set)?;
    let report = sys.check(&settings, bounds)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report.to_json()).map_err(|e| e.to_string())?);
    } else {
        print!("{}", report.render());
    }
    if let Some(dir) = export {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for p in &report.properties {
            if let Some(v) = &p.vectors {
                let path = dir.join(format!("{}.yaml", p.def.name));
                std::fs::write(&path, v.to_yaml()?).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(report.exit_status())
}

fn list(system: Option<&str>, as_json: bool) -> Result<(), String> {
    let systems: Vec<&dyn System> = match system {
        Some(name) => vec![find(name)?],
        None => crate::systems(),
    };
    if as_json {
        let v: Vec<_> = systems
            .iter()
            .map(|s| {
                json!({
                    "name": s.name(),
                    "title": s.title(),
                    "revisions": s.revisions().iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                    "parameters": s.parameters().iter().map(|p| json!({
                        "name": p.name, "default": p.default, "range": p.range(), "doc": p.doc,
                        "spec": p.spec.map(|q| json!({"doc": q.doc, "text": q.text})),
                    })).collect::<Vec<_>>(),
                    "properties": s.properties().iter().map(|p| json!({
                        "name": p.name, "kind": p.kind.name(), "words": p.words,
                        "rests_on": p.rests_on.iter().map(|q| json!({"doc": q.doc, "text": q.text})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "bounds": s.bounds(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
        return Ok(());
    }
    for s in systems {
        println!("{}: {}", s.name(), s.title());
        if !s.revisions().is_empty() {
            println!("  --spec: {}", s.revisions().iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "));
        }
        println!("  parameters (--set NAME=VALUE):");
        for p in s.parameters() {
            println!("    {:<28} {:<12} [{}] {}", p.name, p.default, p.range(), p.doc);
            if let Some(q) = p.spec {
                println!("    {:<28} {}", "", q);
            }
        }
        println!("  properties:");
        for p in s.properties() {
            println!("    {} ({}): {}", p.name, p.kind.name(), p.words);
            for q in p.rests_on {
                println!("      {q}");
            }
        }
        println!("  bounds:");
        for b in s.bounds() {
            println!("    - {b}");
        }
    }
    Ok(())
}
