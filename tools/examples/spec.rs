//! Standalone runner for the `spec` commands (the lead wires the same enum into
//! `sidepool-conformance spec`): `cargo run -p sidepool-spec-tools --example spec -- quotes`.
//! The repository root is `--repo` or the current directory.

use clap::Parser;
use sidepool_spec_tools::cli::{run, SpecCommand};

#[derive(Parser)]
struct Args {
    /// Repository root.
    #[arg(long, default_value = ".")]
    repo: std::path::PathBuf,
    #[command(subcommand)]
    cmd: SpecCommand,
}

fn main() {
    let args = Args::parse();
    std::process::exit(run(&args.cmd, &args.repo));
}
