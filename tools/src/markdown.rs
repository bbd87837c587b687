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
}
