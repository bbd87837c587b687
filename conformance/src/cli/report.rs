//! `sidepool-conformance report html`: the HTML page from one or more `--json` reports.

use crate::runner::report_html::{read_report, render, ReportView};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum ReportCommand {
    /// One self-contained HTML page (no network, no external assets) from one or more `run --json`
    /// reports, side by side: a summary by section and level, a grid of cases x implementations,
    /// and each case's requirement, steps, reason, findings and decoded wire transcript.
    Html {
        /// The `run --json` reports, one column each in this order.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Where to write the page (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Reads one report file; a missing file or one that is not a report is a clear error.
pub fn load(path: &Path) -> Result<ReportView, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    read_report(file, &path.display().to_string())
}

/// Writes `html` to `output` (standard output when `None`) whole: a failure leaves no partial file.
pub fn write_page(html: &str, output: Option<&Path>) -> Result<(), String> {
    match output {
        Some(p) => {
            let tmp = p.with_extension("html.part");
            std::fs::write(&tmp, html).map_err(|e| format!("{}: {e}", tmp.display()))?;
            std::fs::rename(&tmp, p).map_err(|e| format!("{}: {e}", p.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(html.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("standard output: {e}"))
        }
    }
}

pub fn run(command: &ReportCommand) -> i32 {
    let ReportCommand::Html { reports, output } = command;
    let result = reports.iter().map(|p| load(p)).collect::<Result<Vec<_>, _>>().and_then(|views| write_page(&render(&views), output.as_deref()));
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sidepool-conformance report html: {e}");
            2
        }
    }
}
