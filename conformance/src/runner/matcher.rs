//! Field matchers and captures.
//!
//! A matcher is either a plain value (exact match) or an object with one of
//! the keys `any`, `range`, `gte`, `lte`, `one_of`, `same_as`, `capture`,
//! `contains`, `excludes` (for lists), `sha256_is` (a preimage against its hash),
//! `differs_from` (not equal to a captured value).
//! Paths use dots into composite fields: `peerswap_init_timeouts.sidepool`.
//! Strings starting with `$` in sent fields are replaced by captured values
//! (`$path*1000` multiplies an integer capture, for sat to msat).

use serde_json::Value;
use std::collections::BTreeMap;

pub type Captures = BTreeMap<String, Value>;

const MATCHER_KEYS: &[&str] =
    &["any", "range", "gte", "lte", "one_of", "same_as", "capture", "contains", "contains_any", "excludes", "sha256_is", "differs_from"];

/// The value at a dotted path; a number indexes a list (`payment.0.htlc_id`).
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, key| match v {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        other => other.get(key),
    })
}

/// A captured value by dotted path (`sent.peerswap_init.peerswap_init_hash`).
pub fn captured<'a>(captures: &'a Captures, path: &str) -> Option<&'a Value> {
    // Capture names may themselves contain dots (`sent.peerswap_init`): try the
    // longest name first.
    let parts: Vec<&str> = path.split('.').collect();
    (1..=parts.len()).rev().find_map(|n| {
        let name = parts[..n].join(".");
        let rest = parts[n..].join(".");
        let v = captures.get(&name)?;
        if rest.is_empty() {
            Some(v)
        } else {
            lookup(v, &rest)
        }
    })
}

/// Replaces every `"$path"` string in `v` by its captured value.
pub fn substitute(v: &Value, captures: &Captures) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) if s.starts_with('$') => {
            // `$path` or `$path*N` (an integer times N: sat to msat).
            let (path, factor) = match s[1..].split_once('*') {
                Some((p, n)) => (p, Some(n.trim().parse::<u64>().map_err(|_| format!("{s}: bad factor"))?)),
                None => (&s[1..], None),
            };
            let v = captured(captures, path).cloned().ok_or_else(|| format!("nothing captured as {path}"))?;
            match factor {
                None => v,
                Some(n) => {
                    let base = v.as_u64().ok_or_else(|| format!("{s}: {path} is not an integer"))?;
                    Value::from(base.checked_mul(n).ok_or_else(|| format!("{s}: overflows 64 bits"))?)
                }
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| substitute(i, captures)).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(k.clone(), substitute(v, captures)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn as_matcher(m: &Value) -> Option<&serde_json::Map<String, Value>> {
    m.as_object().filter(|o| o.len() == 1 && o.keys().all(|k| MATCHER_KEYS.contains(&k.as_str())))
}

/// Checks one field; on success may record a capture.
pub fn check(got: Option<&Value>, matcher: &Value, captures: &mut Captures, path: &str) -> Result<(), String> {
    let Some(spec) = as_matcher(matcher) else {
        return match got {
            Some(g) if g == matcher => Ok(()),
            Some(g) => Err(format!("{path} is {g}, expected {matcher}")),
            None => Err(format!("{path} is absent, expected {matcher}")),
        };
    };
    let (key, arg) = spec.iter().next().ok_or("empty matcher")?;
    if key == "any" {
        let want_present = arg.as_bool().unwrap_or(true);
        return match (got.is_some(), want_present) {
            (true, true) | (false, false) => Ok(()),
            (false, true) => Err(format!("{path} is absent")),
            (true, false) => Err(format!("{path} is present, expected absent")),
        };
    }
    if key == "capture" {
        let name = arg.as_str().ok_or("capture: needs a name")?;
        let g = got.ok_or_else(|| format!("{path} is absent, nothing to capture"))?;
        captures.insert(name.to_owned(), g.clone());
        return Ok(());
    }
    let g = got.ok_or_else(|| format!("{path} is absent"))?;
    match key.as_str() {
        "range" => {
            let (lo, hi) = match arg.as_array().map(Vec::as_slice) {
                Some([lo, hi]) => (lo.as_u64(), hi.as_u64()),
                _ => return Err("range: needs [low, high]".into()),
            };
            let (Some(lo), Some(hi), Some(n)) = (lo, hi, g.as_u64()) else {
                return Err(format!("{path}: range needs integers, got {g}"));
            };
            if (lo..=hi).contains(&n) {
                Ok(())
            } else {
                Err(format!("{path} is {n}, expected {lo}..={hi}"))
            }
        }
        "gte" | "lte" => {
            let bound = arg.as_u64().or_else(|| arg.as_str().and_then(|s| captured(captures, s.trim_start_matches('$'))).and_then(Value::as_u64));
            let (Some(b), Some(n)) = (bound, g.as_u64()) else {
                return Err(format!("{path}: {key} needs integers, got {g} vs {arg}"));
            };
            let ok = if key == "gte" { n >= b } else { n <= b };
            if ok {
                Ok(())
            } else {
                Err(format!("{path} is {n}, expected {} {b}", if key == "gte" { ">=" } else { "<=" }))
            }
        }
        "contains_any" => {
            let items = g.as_array().ok_or_else(|| format!("{path} is {g}, not a list"))?;
            let wanted = arg.as_array().ok_or("contains_any: needs a list")?;
            if wanted.iter().any(|w| items.contains(w)) {
                Ok(())
            } else {
                Err(format!("{path} is {g}, which holds none of {arg}"))
            }
        }
        "contains" | "excludes" => {
            let items = g.as_array().ok_or_else(|| format!("{path} is {g}, not a list"))?;
            let has = items.contains(arg);
            match (key.as_str(), has) {
                ("contains", true) | ("excludes", false) => Ok(()),
                ("contains", false) => Err(format!("{path} is {g}, which lacks {arg}")),
                _ => Err(format!("{path} is {g}, which holds {arg}")),
            }
        }
        "sha256_is" => {
            // The field is hex bytes whose SHA-256 must equal the (captured or literal) hex.
            use bitcoin::hashes::{sha256, Hash};
            let bytes = g.as_str().and_then(|h| hex::decode(h).ok()).ok_or_else(|| format!("{path} is not hex"))?;
            let want = match arg.as_str() {
                Some(s) if s.starts_with('$') => captured(captures, &s[1..]).and_then(Value::as_str).map(str::to_owned),
                Some(s) => Some(s.to_owned()),
                None => None,
            }
            .ok_or("sha256_is: needs a hex string or a $capture")?;
            let got = hex::encode(sha256::Hash::hash(&bytes).to_byte_array());
            if got == want {
                Ok(())
            } else {
                Err(format!("{path}: SHA-256 is {got}, expected {want}"))
            }
        }
        "one_of" => {
            let options = arg.as_array().ok_or("one_of: needs a list")?;
            if options.contains(g) {
                Ok(())
            } else {
                Err(format!("{path} is {g}, expected one of {arg}"))
            }
        }
        "differs_from" => {
            let name = arg.as_str().ok_or("differs_from: needs a capture path")?;
            // Nothing captured is a broken case, not a pass: a misspelt capture would
            // otherwise make the check vacuous.
            match captured(captures, name.trim_start_matches('$')) {
                None => Err(format!("nothing captured as {name}")),
                Some(other) if other == g => Err(format!("{path} is {g}, the same as {name}")),
                Some(_) => Ok(()),
            }
        }
        "same_as" => {
            let name = arg.as_str().ok_or("same_as: needs a capture path")?;
            let want = captured(captures, name.trim_start_matches('$')).ok_or_else(|| format!("nothing captured as {name}"))?;
            if want == g {
                Ok(())
            } else {
                Err(format!("{path} is {g}, expected the same as {name} ({want})"))
            }
        }
        other => Err(format!("unknown matcher {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matchers() {
        let mut caps = Captures::new();
        caps.insert("sent.peerswap_init".into(), json!({"peerswap_init_hash": "aa"}));
        let fields = json!({"h": "aa", "n": 7, "t": {"sidepool": 5}});
        let ok = |m: Value, p: &str, caps: &mut Captures| check(lookup(&fields, p), &m, caps, p);
        assert!(ok(json!("aa"), "h", &mut caps).is_ok());
        assert!(ok(json!({"same_as": "sent.peerswap_init.peerswap_init_hash"}), "h", &mut caps).is_ok());
        assert!(ok(json!({"range": [5, 10]}), "n", &mut caps).is_ok());
        assert!(ok(json!({"range": [8, 10]}), "n", &mut caps).is_err());
        assert!(ok(json!({"gte": 5}), "t.sidepool", &mut caps).is_ok());
        assert!(ok(json!({"any": false}), "missing", &mut caps).is_ok());
        assert!(ok(json!({"capture": "x"}), "n", &mut caps).is_ok());
        assert_eq!(caps["x"], json!(7));
        assert_eq!(substitute(&json!({"a": "$x", "b": ["$sent.peerswap_init.peerswap_init_hash"]}), &caps).unwrap(), json!({"a": 7, "b": ["aa"]}));
        assert!(substitute(&json!("$nope"), &caps).is_err());
        assert_eq!(substitute(&json!("$x*1000"), &caps).unwrap(), json!(7000));
        // An object that is a plain value, not a matcher, matches exactly.
        assert!(ok(json!({"sidepool": 5}), "t", &mut caps).is_ok());
        assert!(ok(json!({"differs_from": "x"}), "h", &mut caps).is_ok());
        assert!(ok(json!({"differs_from": "x"}), "n", &mut caps).is_err(), "7 is what x holds");
        let vacuous = ok(json!({"differs_from": "nope"}), "h", &mut caps).unwrap_err();
        assert!(vacuous.contains("nothing captured as nope"), "{vacuous}");
        let list = json!({"bits": [1, 1262], "parts": [{"id": 4}, {"id": 5}]});
        assert!(check(lookup(&list, "bits"), &json!({"contains_any": [1262, 1263]}), &mut caps, "bits").is_ok());
        assert!(check(lookup(&list, "bits"), &json!({"contains_any": [1263]}), &mut caps, "bits").is_err());
        assert_eq!(lookup(&list, "parts.1.id"), Some(&json!(5)));
        assert_eq!(lookup(&list, "parts.2.id"), None);
    }
}
