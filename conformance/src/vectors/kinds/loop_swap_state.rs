//! Evaluator for `kind: loop_swap_state` (LOOP-01 swap states): a stored number, its
//! name, whether it is pending, and its type; numbers that are no state are refused.

use loop_reference::state::SwapState;
use serde_json::Value;

use super::loop_common::{bool_of, expect, expect_outcome, str_of, u64_of};

pub fn check(_group: &Value, test: &Value) -> Result<(), String> {
    let code = u8::try_from(u64_of(test, "code")?).map_err(|_| "`code` does not fit a byte")?;
    let state = SwapState::from_code(code);
    expect_outcome(test, state.map(|_| ()).map_err(|e| e.name()))?;
    if let Ok(s) = state {
        expect("name", str_of(test, "name")?, s.name())?;
        expect("pending", bool_of(test, "pending")?, s.is_pending())?;
        expect("type", str_of(test, "type")?, s.state_type().name())?;
    }
    Ok(())
}
