//! Writes `vectors/lightningrod/codec.yaml` from the reference encoder, or
//! with `--check` exits 1 when the committed file differs from what it would
//! write. Run from the repository root or anywhere (the path is resolved from
//! this crate's location).

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(lightningrod_ldk::CODEC_VECTORS);
    let text = match lightningrod_ldk::codec_vector_file(&lightningrod_ldk::codec_cases()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot build the codec vectors: {e}");
            return ExitCode::from(2);
        }
    };
    if std::env::args().any(|a| a == "--check") {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == text {
            println!("{} is current", path.display());
            return ExitCode::SUCCESS;
        }
        eprintln!("{} differs from what the generator writes; rerun it", path.display());
        return ExitCode::from(1);
    }
    if let Some(dir) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("{}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    match std::fs::write(&path, text) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}
