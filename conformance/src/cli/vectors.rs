//! `sidepool-conformance vectors check|lint|export-json`.

use crate::vectors;
use std::path::{Path, PathBuf};

fn files_or_default(paths: &[PathBuf]) -> Result<(PathBuf, Vec<PathBuf>), String> {
    let root = vectors::default_root();
    let targets = if paths.is_empty() { vec![root.clone()] } else { paths.to_vec() };
    Ok((root, vectors::discover(&targets)?))
}

/// Runs vector files; prints failures and `N passed, M failed`. Non-zero on any
/// failure and when no case ran.
pub fn check(paths: &[PathBuf], verbose: bool) -> i32 {
    let (_, files) = match files_or_default(paths) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("sidepool-conformance vectors check: {e}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let totals = match vectors::check_all(&files, &mut out, verbose) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sidepool-conformance vectors check: {e}");
            return 2;
        }
    };
    println!("{} files", files.len());
    println!("{} passed, {} failed", totals.passed, totals.failed);
    if totals.failed > 0 || totals.passed == 0 {
        1
    } else {
        0
    }
}

pub fn lint(paths: &[PathBuf]) -> i32 {
    let (root, files) = match files_or_default(paths) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("sidepool-conformance vectors lint: {e}");
            return 2;
        }
    };
    let problems = vectors::lint(&files, &root.join("schema"));
    for p in &problems {
        println!("{p}");
    }
    println!("{} files linted, {} problems", files.len(), problems.len());
    i32::from(!problems.is_empty() || files.is_empty())
}

pub fn export_json(out_dir: &Path) -> i32 {
    let root = vectors::default_root();
    let result = vectors::discover(std::slice::from_ref(&root)).and_then(|files| vectors::export_json(&root, &files, out_dir));
    match result {
        Ok(n) => {
            println!("wrote {n} vector files as JSON to {}", out_dir.display());
            0
        }
        Err(e) => {
            eprintln!("sidepool-conformance vectors export-json: {e}");
            1
        }
    }
}
