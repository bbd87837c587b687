//! `sidepool-conformance`: the conformance suite for SIDEPOOL-10.

use clap::{Parser, Subcommand};
use sidepool_conformance::cli;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "sidepool-conformance", version, about = "Conformance suite and reference tools for SIDEPOOL-10 (Peerswap In Sidepool)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance suite (default: against the embedded reference node).
    Run(cli::run::RunArgs),
    /// Run, lint or export the language-neutral test vectors.
    #[command(subcommand)]
    Vectors(VectorsCommand),
    /// Decode a whole BOLT 8 plaintext message (hex) and print its fields as JSON.
    Decode {
        /// The message: 2-byte BOLT 8 type (53609 = d169), 2-byte sub-id, TLV stream.
        hex: String,
    },
    /// Run the reference node: a BOLT 8 listener; prints one JSON line with node_id and addresses.
    Node(cli::node::NodeArgs),
    /// Derive the SIDEPOOL-06 HTLC Taproot key and print every intermediate as JSON.
    HtlcKey(cli::htlc_key::HtlcKeyArgs),
    /// Spec traceability: requirement index, quote checks, TLV-table extraction, coverage, edit impact.
    Spec {
        /// The repository root (default: the current directory if it holds spec-mirror/, else the source tree).
        #[arg(long, global = true)]
        repo: Option<PathBuf>,
        #[command(subcommand)]
        command: sidepool_spec_tools::cli::SpecCommand,
    },
    /// Reports made from `run --json` reports (`report html`).
    #[command(subcommand)]
    Report(cli::report::ReportCommand),
    /// Model checking: does following the spec keep honest participants safe? (tools/model)
    #[command(subcommand)]
    Model(sidepool_model::cli::ModelCommand),
}

#[derive(Subcommand)]
enum VectorsCommand {
    /// Run vector files against the reference; ends with `N passed, M failed`.
    Check {
        /// Files or directories (default: every file under vectors/).
        paths: Vec<PathBuf>,
        /// Print a line per file, not only failures.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Check vector files against their JSON Schemas and the format's other rules.
    Lint {
        /// Files or directories (default: every file under vectors/).
        paths: Vec<PathBuf>,
    },
    /// Write every vector file as JSON (and the schemas) under DIR.
    ExportJson {
        /// The output directory (created if missing).
        dir: PathBuf,
    },
}

/// `.` when it looks like the repository, else the tree this binary was built from.
fn repo_root() -> PathBuf {
    if std::path::Path::new("spec-mirror").is_dir() {
        return PathBuf::from(".");
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Vectors(VectorsCommand::Check { paths, verbose }) => cli::vectors::check(&paths, verbose),
        Command::Vectors(VectorsCommand::Lint { paths }) => cli::vectors::lint(&paths),
        Command::Vectors(VectorsCommand::ExportJson { dir }) => cli::vectors::export_json(&dir),
        Command::Decode { hex } => cli::decode::run(&hex),
        Command::HtlcKey(args) => cli::htlc_key::run(&args),
        Command::Node(args) => cli::node::run(&args),
        Command::Run(args) => cli::run::run(&args),
        Command::Report(command) => cli::report::run(&command),
        Command::Spec { repo, command } => sidepool_spec_tools::cli::run(&command, &repo.unwrap_or_else(repo_root)),
        Command::Model(command) => sidepool_model::cli::run(&command),
    };
    std::process::exit(status);
}
