//! Message and TLV tables parsed from the spec markdown, and their diff against
//! the reference's definitions (`sidepool_reference::messages::ALL`) and the
//! TLV names message vectors use.
//!
//! The layout parsed:
//!
//! ```text
//! 1.  `peerswap_init` (1000)
//!     - Sent from ...
//! 2.  TLVs:
//!     * `peerswap_init_id` (100000)
//!       - Length: 16            | N, 1 <= N <= 255 | 1 <= N <= 16384 | Variable.
//!       - Value: ...
//!       - Required.             | Optional.
//! ```

use crate::vectors::MessageFields;
use serde::{Deserialize, Serialize};
use sidepool_reference::wire::tlv::{Length, MessageDef};
use std::collections::BTreeSet;

/// Path of the allow-list, relative to the repository root.
pub const ALLOW_FILE: &str = "spec-mirror/extract-allow.yaml";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecTlv {
    pub name: String,
    pub typ: u64,
    /// The parsed length rule, `None` when absent or unparsable (see `length_text`).
    pub length: Option<Length>,
    pub length_text: Option<String>,
    /// `Some(true)` for "Required.", `Some(false)` for "Optional.", `None` for neither.
    pub required: Option<bool>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecMessage {
    pub name: String,
    pub sub_id: u16,
    pub line: usize,
    pub tlvs: Vec<SpecTlv>,
}

/// Problems in the spec text itself, found while parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseNote {
    pub line: usize,
    /// The message being parsed, when there is one.
    pub message: Option<String>,
    pub text: String,
}

/// Parses "16", "N, 1 <= N <= 255", "1 <= N <= 16384", "Variable.".
pub fn parse_length(s: &str) -> Option<Length> {
    let t = s.trim().trim_end_matches('.').trim();
    if t.eq_ignore_ascii_case("variable") {
        return Some(Length::Variable);
    }
    if let Ok(n) = t.parse::<usize>() {
        return Some(Length::Exact(n));
    }
    let t = t.strip_prefix("N,").map(str::trim).unwrap_or(t);
    let parts: Vec<&str> = t.split("<=").map(str::trim).collect();
    if let [min, n, max] = parts.as_slice() {
        if *n == "N" {
            let min = min.parse().ok()?;
            let max = max.parse().ok()?;
            return Some(Length::Range { min, max });
        }
    }
    None
}

/// "`name` (123)" at the start of `s`: the name and number.
fn name_and_number(s: &str) -> Option<(String, u64)> {
    let rest = s.trim().strip_prefix('`')?;
    let end = rest.find('`')?;
    let name = rest.get(..end)?.to_string();
    let after = rest.get(end + 1..)?.trim();
    let num = after.strip_prefix('(')?;
    let close = num.find(')')?;
    let n = num.get(..close)?.trim().parse().ok()?;
    Some((name, n))
}

/// Extracts every message definition of a spec document.
pub fn parse_messages(source: &str) -> (Vec<SpecMessage>, Vec<ParseNote>) {
    let mut messages: Vec<SpecMessage> = Vec::new();
    let mut notes = Vec::new();
    let mut current: Option<SpecMessage> = None;
    let mut in_tlvs = false;
    let mut in_code = false;
    for (idx, line) in source.lines().enumerate() {
        let n = idx + 1;
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || trimmed.is_empty() {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if !indented {
            if let Some(rest) = trimmed.strip_prefix("1.") {
                if let Some((name, id)) = name_and_number(rest) {
                    messages.extend(current.take());
                    match u16::try_from(id) {
                        Ok(sub_id) => {
                            current = Some(SpecMessage {
                                name,
                                sub_id,
                                line: n,
                                tlvs: Vec::new(),
                            })
                        }
                        Err(_) => notes.push(ParseNote {
                            line: n,
                            message: Some(name),
                            text: format!("message id {id} does not fit 16 bits"),
                        }),
                    }
                    in_tlvs = false;
                    continue;
                }
            }
            if let Some(rest) = trimmed.strip_prefix("2.") {
                if rest.trim() == "TLVs:" {
                    if current.is_none() {
                        notes.push(ParseNote {
                            line: n,
                            message: None,
                            text: "a TLV list with no `1.  `name` (id)` line before it".into(),
                        });
                    }
                    in_tlvs = true;
                    continue;
                }
            }
            messages.extend(current.take());
            in_tlvs = false;
            continue;
        }
        if !in_tlvs {
            continue;
        }
        let Some(msg) = current.as_mut() else {
            continue;
        };
        if let Some(rest) = trimmed.strip_prefix("* ") {
            if let Some((name, typ)) = name_and_number(rest) {
                msg.tlvs.push(SpecTlv {
                    name,
                    typ,
                    length: None,
                    length_text: None,
                    required: None,
                    line: n,
                });
            }
            continue;
        }
        let Some(tlv) = msg.tlvs.last_mut() else {
            continue;
        };
        if let Some(rest) = trimmed.strip_prefix("- Length:") {
            tlv.length_text = Some(rest.trim().to_string());
            tlv.length = parse_length(rest);
            if tlv.length.is_none() {
                notes.push(ParseNote {
                    line: n,
                    message: Some(msg.name.clone()),
                    text: format!("{}: cannot parse length {:?}", tlv.name, rest.trim()),
                });
            }
        } else if trimmed == "- Required." {
            tlv.required = Some(true);
        } else if trimmed == "- Optional." {
            tlv.required = Some(false);
        }
    }
    messages.extend(current);
    (messages, notes)
}

/// One difference between the spec table and the reference or the vectors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Stable key the allow-list names: `<message>[.<tlv>].<aspect>`.
    pub key: String,
    pub text: String,
}

/// An allow-list entry: a difference explained by an ERRATA entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allow {
    pub key: String,
    pub errata: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowList {
    #[serde(default)]
    pub allow: Vec<Allow>,
}

impl AllowList {
    pub fn parse(text: &str) -> Result<AllowList, String> {
        serde_yaml::from_str(text).map_err(|e| format!("allow-list: {e}"))
    }
    pub fn find(&self, key: &str) -> Option<&Allow> {
        self.allow.iter().find(|a| a.key == key)
    }
}

fn diff(out: &mut Vec<Difference>, key: String, text: String) {
    out.push(Difference { key, text });
}

fn required_word(r: bool) -> &'static str {
    if r {
        "required"
    } else {
        "optional"
    }
}

/// Checks a spec table on its own: TLV types in the message's reserved range
/// (SIDEPOOL-01 Conventions), no duplicate types, every TLV has a length and
/// is marked Required or Optional.
pub fn self_check(messages: &[SpecMessage]) -> Vec<Difference> {
    let mut out = Vec::new();
    for m in messages {
        let base = u64::from(m.sub_id) * 100;
        let mut seen = BTreeSet::new();
        for t in &m.tlvs {
            if !(base..=base + 99).contains(&t.typ) {
                diff(
                    &mut out,
                    format!("{}.{}.reserved-range", m.name, t.name),
                    format!(
                        "spec line {}: {} type {} is outside {}'s range {}..={}",
                        t.line,
                        t.name,
                        t.typ,
                        m.name,
                        base,
                        base + 99
                    ),
                );
            }
            if !seen.insert(t.typ) {
                diff(
                    &mut out,
                    format!("{}.{}.duplicate-type", m.name, t.name),
                    format!(
                        "spec line {}: type {} appears twice in {}",
                        t.line, t.typ, m.name
                    ),
                );
            }
            if t.length.is_none() {
                diff(
                    &mut out,
                    format!("{}.{}.length-unparsed", m.name, t.name),
                    format!("spec line {}: {} has no parsable Length", t.line, t.name),
                );
            }
        }
    }
    out
}

/// Diffs the spec tables against reference definitions. Reference messages the
/// spec does not define are not differences (they live in other documents).
pub fn diff_reference(
    spec: &[SpecMessage],
    reference: &[MessageDef],
    implemented_only: bool,
) -> Vec<Difference> {
    let mut out = Vec::new();
    for m in spec {
        let Some(r) = reference.iter().find(|r| r.name == m.name) else {
            if !implemented_only {
                diff(
                    &mut out,
                    format!("{}.missing-in-reference", m.name),
                    format!(
                        "spec line {}: message {} ({}) is not in the reference",
                        m.line, m.name, m.sub_id
                    ),
                );
            }
            continue;
        };
        if r.sub_id != m.sub_id {
            diff(
                &mut out,
                format!("{}.sub-id", m.name),
                format!(
                    "{}: spec sub-id {}, reference {}",
                    m.name, m.sub_id, r.sub_id
                ),
            );
        }
        for t in &m.tlvs {
            let Some(rt) = r.tlvs.iter().find(|x| x.name == t.name) else {
                diff(
                    &mut out,
                    format!("{}.{}.missing-in-reference", m.name, t.name),
                    format!(
                        "spec line {}: {}.{} ({}) is not in the reference",
                        t.line, m.name, t.name, t.typ
                    ),
                );
                continue;
            };
            if rt.typ != t.typ {
                diff(
                    &mut out,
                    format!("{}.{}.type", m.name, t.name),
                    format!(
                        "{}.{}: spec type {}, reference {}",
                        m.name, t.name, t.typ, rt.typ
                    ),
                );
            }
            if let Some(len) = t.length {
                if len != rt.length {
                    diff(
                        &mut out,
                        format!("{}.{}.length", m.name, t.name),
                        format!(
                            "{}.{}: spec length {}, reference {}",
                            m.name, t.name, len, rt.length
                        ),
                    );
                }
            }
            match t.required {
                Some(req) if req != rt.required => diff(
                    &mut out,
                    format!("{}.{}.required", m.name, t.name),
                    format!("{}.{}: spec says {}, reference {}", m.name, t.name, required_word(req), required_word(rt.required)),
                ),
                None => diff(
                    &mut out,
                    format!("{}.{}.required-unmarked", m.name, t.name),
                    format!(
                        "spec line {}: {}.{} says neither Required nor Optional; reference treats it as {}",
                        t.line,
                        m.name,
                        t.name,
                        required_word(rt.required)
                    ),
                ),
                _ => {}
            }
        }
        for rt in r.tlvs {
            if !m.tlvs.iter().any(|t| t.name == rt.name) {
                diff(
                    &mut out,
                    format!("{}.{}.missing-in-spec", m.name, rt.name),
                    format!(
                        "{}.{} ({}) is in the reference but not in the spec",
                        m.name, rt.name, rt.typ
                    ),
                );
            }
        }
    }
    out
}

/// Checks every TLV name a message vector uses exists in the spec table.
pub fn diff_vectors(spec: &[SpecMessage], fields: &[MessageFields]) -> Vec<Difference> {
    let mut out = Vec::new();
    for f in fields {
        let Some(m) = spec.iter().find(|m| m.name == f.message) else {
            continue;
        };
        for name in &f.fields {
            if !m.tlvs.iter().any(|t| &t.name == name) {
                diff(
                    &mut out,
                    format!("{}.{}.unknown-in-vectors", f.message, name),
                    format!(
                        "{} ({}): field {} is not a TLV of {} in the spec",
                        f.file, f.at, name, f.message
                    ),
                );
            }
        }
    }
    out
}

/// Even TLV types skipped inside a message's numbering (informational: the spec
/// may leave types unassigned). Only types within the message's reserved range count.
pub fn gaps(messages: &[SpecMessage]) -> Vec<String> {
    let mut out = Vec::new();
    for m in messages {
        let base = u64::from(m.sub_id) * 100;
        let mut types: Vec<u64> = m
            .tlvs
            .iter()
            .map(|t| t.typ)
            .filter(|t| (base..=base + 99).contains(t))
            .collect();
        types.sort_unstable();
        for w in types.windows(2) {
            if let [a, b] = w {
                let first = a + 2 - (a % 2);
                let last = if b % 2 == 0 { b - 2 } else { b - 1 };
                if first == last {
                    out.push(format!(
                        "{}: even type {first} is skipped (between {a} and {b})",
                        m.name
                    ));
                } else if first < last {
                    out.push(format!(
                        "{}: even types {first}..={last} are skipped (between {a} and {b})",
                        m.name
                    ));
                }
            }
        }
    }
    out
}

/// A named constant the prose states: "`peerswap_max_ln_splits` (40)",
/// "1263 (`sidepool_bolt_feature_bit`)", "`sidepool_version_1_max_outputs = 400`",
/// or "... 10,000 satoshis ... it is called `sidepool_version_1_min_amount`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpecConstant {
    pub name: String,
    pub value: String,
    pub line: usize,
}

fn number_at_start(s: &str) -> Option<String> {
    let n: String = s.chars().take_while(|c| c.is_ascii_digit() || *c == ',').collect();
    let n = n.trim_end_matches(',').to_string();
    (!n.is_empty() && n.starts_with(|c: char| c.is_ascii_digit())).then_some(n)
}

fn number_at_end(s: &str) -> Option<String> {
    let rev: String = s.chars().rev().take_while(|c| c.is_ascii_digit() || *c == ',').collect();
    let n: String = rev.chars().rev().collect::<String>().trim_start_matches(',').to_string();
    (!n.is_empty()).then_some(n)
}

/// The named constants of a document's prose (message and TLV definitions are `parse_messages`'s).
pub fn parse_constants(source: &str) -> Vec<SpecConstant> {
    let mut out: Vec<SpecConstant> = Vec::new();
    let mut push = |name: &str, value: String, line: usize| {
        let value = value.replace(',', "");
        if !out.iter().any(|c| c.name == name && c.value == value) {
            out.push(SpecConstant { name: name.to_string(), value, line });
        }
    };
    for b in crate::markdown::parse(source) {
        let is_def = match &b.kind {
            crate::markdown::BlockKind::Item { marker, .. } => marker.ends_with('.') || name_and_number(&b.text).is_some(),
            crate::markdown::BlockKind::Paragraph => false,
            _ => true,
        };
        if is_def {
            continue;
        }
        let t = b.text.as_str();
        let parts: Vec<&str> = t.split('`').collect();
        // Odd-indexed parts are code spans.
        for (i, code) in parts.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
            let before = parts.get(i - 1).copied().unwrap_or_default();
            let after = parts.get(i + 1).copied().unwrap_or_default();
            if let Some((name, value)) = code.split_once('=') {
                let (name, value) = (name.trim(), value.trim());
                if is_ident(name) && number_at_start(value).as_deref() == Some(value) {
                    push(name, value.to_string(), b.line);
                }
                continue;
            }
            if !is_ident(code) {
                continue;
            }
            if let Some(rest) = after.strip_prefix(" (") {
                if let Some(n) = number_at_start(rest).filter(|n| rest.get(n.len()..).is_some_and(|r| r.starts_with(')'))) {
                    push(code, n, b.line);
                    continue;
                }
            }
            if let Some(head) = before.strip_suffix(" (") {
                if let Some(n) = number_at_end(head) {
                    push(code, n, b.line);
                    continue;
                }
            }
            if before.ends_with("is called ") {
                let first = t.split(|c: char| !c.is_ascii_digit() && c != ',').find_map(number_at_start);
                if let Some(n) = first {
                    push(code, n, b.line);
                }
            }
        }
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && s.contains('_')
}

/// Renders the tables as a markdown-ish listing.
pub fn render_tables(messages: &[SpecMessage]) -> String {
    let mut s = String::new();
    for m in messages {
        s.push_str(&format!("{} ({}) [line {}]\n", m.name, m.sub_id, m.line));
        for t in &m.tlvs {
            let len = match (&t.length, &t.length_text) {
                (Some(l), _) => l.to_string(),
                (None, Some(txt)) => format!("?{txt}"),
                (None, None) => "?".into(),
            };
            let req = match t.required {
                Some(true) => "required",
                Some(false) => "optional",
                None => "UNMARKED",
            };
            s.push_str(&format!(
                "  {:<40} {:>7}  length {:<12} {}\n",
                t.name, t.typ, len, req
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(parse_length(" 16"), Some(Length::Exact(16)));
        assert_eq!(
            parse_length("N, 1 <= N <= 255"),
            Some(Length::Range { min: 1, max: 255 })
        );
        assert_eq!(
            parse_length("1 <= N <= 16384"),
            Some(Length::Range { min: 1, max: 16384 })
        );
        assert_eq!(parse_length("Variable."), Some(Length::Variable));
        assert_eq!(parse_length("lots"), None);
    }

    #[test]
    fn constants_in_prose() {
        let src = "T\n===\n\nMUST set feature bit\n1263 (`sidepool_bolt_feature_bit`) and send `sidepool_message_id` (53609).\n\n* Have at most 400 (`sidepool_version_1_max_outputs = 400`).\n\nAmounts MUST be at least 10,000 satoshis; it is called `sidepool_version_1_min_amount`.\n\n1.  `peerswap_init` (1000)\n2.  TLVs:\n    * `peerswap_init_id` (100000)\n";
        let got: Vec<(String, String, usize)> = parse_constants(src).into_iter().map(|c| (c.name, c.value, c.line)).collect();
        assert_eq!(
            got,
            vec![
                ("sidepool_bolt_feature_bit".into(), "1263".into(), 4),
                ("sidepool_message_id".into(), "53609".into(), 4),
                ("sidepool_version_1_max_outputs".into(), "400".into(), 7),
                ("sidepool_version_1_min_amount".into(), "10000".into(), 9),
            ]
        );
    }
}
