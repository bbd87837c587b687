//! `kind: fuzz_regression`: an input a fuzz campaign found (or a hand-picked
//! edge input), replayed through its fuzz target's checks, which must pass:
//! no panic, and every invariant the target asserts holds.
//!
//! The checks are the fuzz targets' own (`fuzz/src/checks.rs`, compiled in
//! here), so `vectors check` replays every kept input without libFuzzer.
//! `fuzz/campaign.sh` appends to vectors/fuzz/regressions.yaml.

use super::super::field;
use serde_json::Value;

#[allow(dead_code, clippy::all)]
#[path = "../../../../fuzz/src/checks.rs"]
mod checks;

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let target = field::str(test, "target")?;
    let input = field::hex(test, "input")?;
    let run = checks::check_by_name(target).ok_or_else(|| format!("no fuzz target `{target}`"))?;
    let outcome = std::panic::catch_unwind(|| run(&input));
    match (outcome, field::result(test)?) {
        (Ok(()), "valid") => Ok(()),
        (Ok(()), other) => Err(format!("{target}: checks pass, but the test expects `{other}`")),
        (Err(panic), _) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Err(format!("{target}: the target's checks fail: {why}"))
        }
    }
}
