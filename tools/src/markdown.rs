//! A small block parser for the SIDEPOOL spec markdown: setext (`===`, `---`)
//! and ATX (`###`) headings, paragraphs, list items with their indentation,
//! blockquotes, code fences, tables and link definitions. Enough structure for
//! requirement extraction and TLV tables; not a general markdown parser.

use crate::text::collapse;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// A heading of the given level (1 for `===`, 2 for `---`, n for n `#`).
    Heading(u8),
    Paragraph,
    /// A list item; `indent` is the marker's column, `marker` the marker itself
    /// (`*`, `-`, `+` or `1.`).
    Item {
        indent: usize,
        marker: String,
    },
    Code,
    Table,
    LinkDef,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub kind: BlockKind,
    /// The block's text, markers stripped, whitespace collapsed.
    pub text: String,
    /// 1-based first and last source line.
    pub line: usize,
    pub end_line: usize,
    /// Inside a `>` blockquote.
    pub quoted: bool,
}

fn underline(line: &str) -> Option<u8> {
    let t = line.trim();
    if t.len() < 3 {
        return None;
    }
    if t.chars().all(|c| c == '=') {
        Some(1)
    } else if t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

fn strip_quote(line: &str) -> (bool, &str) {
    let mut quoted = false;
    let mut s = line;
    loop {
        let t = s.trim_start();
        match t.strip_prefix('>') {
            Some(rest) => {
                quoted = true;
                s = rest.strip_prefix(' ').unwrap_or(rest);
            }
            None => return (quoted, s),
        }
    }
}

/// The list marker at the start of `content` (after indentation), if any:
/// returns (indent, marker, rest).
fn item_marker(content: &str) -> Option<(usize, String, &str)> {
    let indent = content.len() - content.trim_start().len();
    let t = content.trim_start();
    for m in ["* ", "- ", "+ "] {
        if let Some(rest) = t.strip_prefix(m) {
            return Some((indent, m.trim().to_string(), rest));
        }
    }
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits < 4 {
        let after = t.get(digits..)?;
        if let Some(rest) = after.strip_prefix(". ") {
            return Some((indent, format!("{}.", t.get(..digits)?), rest));
        }
    }
    None
}

fn is_link_def(t: &str) -> bool {
    t.starts_with('[') && t.contains("]: ")
}

/// Parses `source` into blocks.
pub fn parse(source: &str) -> Vec<Block> {
    let lines: Vec<&str> = source.lines().collect();
    let mut blocks: Vec<Block> = Vec::new();
    let mut open: Option<(BlockKind, Vec<String>, usize, usize, bool)> = None;
    let mut in_code = false;

    let flush = |open: &mut Option<(BlockKind, Vec<String>, usize, usize, bool)>,
                 blocks: &mut Vec<Block>| {
        if let Some((kind, parts, line, end_line, quoted)) = open.take() {
            blocks.push(Block {
                kind,
                text: collapse(&parts.join(" ")),
                line,
                end_line,
                quoted,
            });
        }
    };

    let mut i = 0;
    while let Some(&raw) = lines.get(i) {
        let n = i + 1;
        let (quoted, content) = strip_quote(raw);
        let trimmed = content.trim();
        if trimmed.starts_with("```") {
            flush(&mut open, &mut blocks);
            if in_code {
                in_code = false;
            } else {
                in_code = true;
                blocks.push(Block {
                    kind: BlockKind::Code,
                    text: String::new(),
                    line: n,
                    end_line: n,
                    quoted,
                });
            }
            i += 1;
            continue;
        }
        if in_code {
            if let Some(b) = blocks.last_mut() {
                b.end_line = n;
            }
            i += 1;
            continue;
        }
        if trimmed.is_empty() {
            flush(&mut open, &mut blocks);
            i += 1;
            continue;
        }
        // Setext heading: a lone line followed by an underline.
        if open.is_none() && !quoted && !trimmed.starts_with('|') && underline(trimmed).is_none() {
            if let Some(level) = lines.get(i + 1).and_then(|l| underline(l)) {
                blocks.push(Block {
                    kind: BlockKind::Heading(level),
                    text: collapse(trimmed),
                    line: n,
                    end_line: n + 1,
                    quoted: false,
                });
                i += 2;
                continue;
            }
        }
        if !quoted && trimmed.starts_with('#') {
            let hashes = trimmed.chars().take_while(|c| *c == '#').count();
            flush(&mut open, &mut blocks);
            blocks.push(Block {
                kind: BlockKind::Heading(u8::try_from(hashes).unwrap_or(6)),
                text: collapse(trimmed.trim_start_matches('#')),
                line: n,
                end_line: n,
                quoted,
            });
            i += 1;
            continue;
        }
        if trimmed.starts_with('|') {
            match &mut open {
                Some((BlockKind::Table, parts, _, end, _)) => {
                    parts.push(trimmed.to_string());
                    *end = n;
                }
                _ => {
                    flush(&mut open, &mut blocks);
                    open = Some((BlockKind::Table, vec![trimmed.to_string()], n, n, quoted));
                }
            }
            i += 1;
            continue;
        }
        if is_link_def(trimmed) && !matches!(open, Some((BlockKind::Item { .. }, ..))) {
            flush(&mut open, &mut blocks);
            blocks.push(Block {
                kind: BlockKind::LinkDef,
                text: collapse(trimmed),
                line: n,
                end_line: n,
                quoted,
            });
            i += 1;
            continue;
        }
        if let Some((indent, marker, rest)) = item_marker(content) {
            flush(&mut open, &mut blocks);
            open = Some((
                BlockKind::Item { indent, marker },
                vec![rest.to_string()],
                n,
                n,
                quoted,
            ));
            i += 1;
            continue;
        }
        match &mut open {
            Some((_, parts, _, end, q)) if *q == quoted => {
                parts.push(trimmed.to_string());
                *end = n;
            }
            _ => {
                flush(&mut open, &mut blocks);
                open = Some((
                    BlockKind::Paragraph,
                    vec![trimmed.to_string()],
                    n,
                    n,
                    quoted,
                ));
            }
        }
        i += 1;
    }
    flush(&mut open, &mut blocks);
    blocks
}

/// A heading, its section's extent and the anchor GitHub gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    /// 1-based line of the heading, and the last line of its section (before the
    /// next heading of the same or a higher level).
    pub line: usize,
    pub end_line: usize,
    /// The heading texts from the document's top down to this one.
    pub path: Vec<String>,
    /// `#anchor` (without `#`), as GitHub renders it, with `-1`, `-2` for repeats.
    pub anchor: String,
}

/// The anchor GitHub gives a heading: lower case; letters, digits, `-`, `_` and
/// spaces kept (spaces become `-`), everything else dropped.
pub fn github_anchor(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every heading of `source`, with its section's extent, path and anchor.
pub fn headings(source: &str) -> Vec<Heading> {
    let blocks = parse(source);
    let last_line = source.lines().count();
    let mut out: Vec<Heading> = Vec::new();
    let mut stack: Vec<(u8, String)> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for b in &blocks {
        let BlockKind::Heading(level) = b.kind else { continue };
        while stack.last().is_some_and(|(l, _)| *l >= level) {
            stack.pop();
        }
        stack.push((level, b.text.clone()));
        let base = github_anchor(&b.text);
        let n = seen.entry(base.clone()).or_insert(0);
        let anchor = if *n == 0 { base.clone() } else { format!("{base}-{n}") };
        *n += 1;
        out.push(Heading { level, text: b.text.clone(), line: b.line, end_line: last_line, path: stack.iter().map(|(_, t)| t.clone()).collect(), anchor });
    }
    for i in 0..out.len() {
        let level = out.get(i).map_or(0, |h| h.level);
        let next = out.iter().skip(i + 1).find(|h| h.level <= level).map(|h| h.line.saturating_sub(1));
        if let (Some(h), Some(end)) = (out.get_mut(i), next) {
            h.end_line = end;
        }
    }
    out
}

/// The innermost heading whose section holds `line`.
pub fn section_at(headings: &[Heading], line: usize) -> Option<&Heading> {
    headings.iter().filter(|h| h.line <= line && line <= h.end_line).max_by_key(|h| h.line)
}

/// A link in the markdown: inline `[text](target)` or a reference definition `[text]: target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub line: usize,
    pub text: String,
    pub target: String,
}

/// Every link outside code blocks and code spans.
pub fn links(source: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let mut in_code = false;
    for (idx, raw) in source.lines().enumerate() {
        let line = strip_quote(raw).1;
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if is_link_def(t) {
            if let Some((label, target)) = t.split_once("]: ") {
                out.push(Link { line: idx + 1, text: label.trim_start_matches('[').to_string(), target: target.trim().to_string() });
            }
            continue;
        }
        // Inline links, outside `code spans`.
        let mut in_span = false;
        let chars: Vec<char> = t.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars.get(i).copied().unwrap_or(' ');
            if c == '`' {
                in_span = !in_span;
            } else if !in_span && c == ']' && chars.get(i + 1) == Some(&'(') {
                let open = chars.get(..i).and_then(|b| b.iter().rposition(|x| *x == '[')).unwrap_or(i);
                if let Some(close) = chars.get(i + 2..).and_then(|r| r.iter().position(|x| *x == ')')) {
                    let text: String = chars.get(open + 1..i).map(|x| x.iter().collect()).unwrap_or_default();
                    let target: String = chars.get(i + 2..i + 2 + close).map(|x| x.iter().collect()).unwrap_or_default();
                    out.push(Link { line: idx + 1, text, target: target.trim().to_string() });
                    i += 2 + close;
                }
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_items_and_quotes() {
        let src = "Title\n=====\n\nSub\n---\n\nA para\nwrapped.\n\n* item one\n  continued\n  * nested\n> **Rationale** why\n> more\n\n### Deep\n\n| a | b |\n|---|---|\n[x]: ./y.md\n";
        let b = parse(src);
        let kinds: Vec<_> = b
            .iter()
            .map(|b| (&b.kind, b.text.as_str(), b.quoted))
            .collect();
        assert_eq!(kinds[0], (&BlockKind::Heading(1), "Title", false));
        assert_eq!(kinds[1], (&BlockKind::Heading(2), "Sub", false));
        assert_eq!(kinds[2], (&BlockKind::Paragraph, "A para wrapped.", false));
        assert_eq!(
            kinds[3],
            (
                &BlockKind::Item {
                    indent: 0,
                    marker: "*".into()
                },
                "item one continued",
                false
            )
        );
        assert_eq!(
            kinds[4],
            (
                &BlockKind::Item {
                    indent: 2,
                    marker: "*".into()
                },
                "nested",
                false
            )
        );
        assert_eq!(
            kinds[5],
            (&BlockKind::Paragraph, "**Rationale** why more", true)
        );
        assert_eq!(kinds[6], (&BlockKind::Heading(3), "Deep", false));
        assert_eq!(kinds[7].0, &BlockKind::Table);
        assert_eq!(kinds[8].0, &BlockKind::LinkDef);
    }

    #[test]
    fn headings_anchors_and_links() {
        let src = "T\n===\n\nForwarding `peerswap_lightning`\n--------------\n\nSee [x](./02-t.md#a-b) and `[not](y)`.\n\n### 0-Fee Forwarded Peerswaps\n\nx\n\nForwarding `peerswap_lightning`\n--------------\n\n[SIDEPOOL-02 A]: ./02-t.md#a\n";
        let h = headings(src);
        let got: Vec<(&str, usize, usize)> = h.iter().map(|h| (h.anchor.as_str(), h.line, h.end_line)).collect();
        assert_eq!(got, vec![("t", 1, 16), ("forwarding-peerswap_lightning", 4, 12), ("0-fee-forwarded-peerswaps", 9, 12), ("forwarding-peerswap_lightning-1", 13, 16)]);
        assert_eq!(section_at(&h, 11).map(|h| h.text.as_str()), Some("0-Fee Forwarded Peerswaps"));
        assert_eq!(h[2].path, ["T", "Forwarding `peerswap_lightning`", "0-Fee Forwarded Peerswaps"]);
        let all = links(src);
        let l: Vec<(usize, &str)> = all.iter().map(|l| (l.line, l.target.as_str())).collect();
        assert_eq!(l, vec![(7, "./02-t.md#a-b"), (16, "./02-t.md#a")]);
    }
}
