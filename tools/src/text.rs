//! Text helpers shared by every command: whitespace collapsing, the
//! line-mapped normalised form of a spec document, wildcard quote matching,
//! sentence splitting, RFC 2119 keywords and word-level similarity.

use serde::{Deserialize, Serialize};

/// Collapses every run of whitespace to one space and trims the ends.
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A requirement level (RFC 2119 keywords as the SIDEPOOL texts use them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Must,
        Level::MustNot,
        Level::Should,
        Level::ShouldNot,
        Level::May,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }

    /// MUST and MUST NOT are absolute requirements: coverage demands them.
    pub fn is_absolute(self) -> bool {
        matches!(self, Level::Must | Level::MustNot)
    }

    fn strength(self) -> u8 {
        match self {
            Level::Must | Level::MustNot => 3,
            Level::Should | Level::ShouldNot => 2,
            Level::May => 1,
        }
    }
}

impl core::fmt::Display for Level {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every RFC 2119 keyword in `s`, in order. Only upper-case whole words count.
pub fn keywords(s: &str) -> Vec<Level> {
    let words: Vec<&str> = s
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let next_not = words.get(i + 1) == Some(&"NOT");
        let level = match *w {
            "MUST" if next_not => Some(Level::MustNot),
            "MUST" => Some(Level::Must),
            "SHOULD" if next_not => Some(Level::ShouldNot),
            "SHOULD" => Some(Level::Should),
            "MAY" => Some(Level::May),
            _ => None,
        };
        if let Some(l) = level {
            out.push(l);
            if matches!(l, Level::MustNot | Level::ShouldNot) {
                i += 1;
            }
        }
        i += 1;
    }
    out
}

/// The level a sentence carries: the first keyword of its strongest class
/// ("SHOULD log and MUST ignore" is a MUST).
pub fn sentence_level(s: &str) -> Option<Level> {
    let kws = keywords(s);
    let best = kws.iter().map(|l| l.strength()).max()?;
    kws.into_iter().find(|l| l.strength() == best)
}

/// Splits collapsed prose into sentences: a sentence ends at `.`, `?` or `!`
/// followed by a space and an upper-case letter, a backtick, a quote or `(`.
/// Abbreviations such as "i.e. the" never split because a lower-case word follows.
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        let ends = matches!(c, '.' | '?' | '!')
            && chars.get(i + 1) == Some(&' ')
            && chars
                .get(i + 2)
                .is_some_and(|n| n.is_uppercase() || matches!(n, '`' | '"' | '(' | '[' | '*'));
        if ends {
            let s: String = chars
                .get(start..=i)
                .map(|cs| cs.iter().collect())
                .unwrap_or_default();
            out.push(s.trim().to_string());
            start = i + 2;
            i += 2;
            continue;
        }
        i += 1;
    }
    let rest: String = chars
        .get(start..)
        .map(|cs| cs.iter().collect())
        .unwrap_or_default();
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_string());
    }
    out
}

/// Strips what markdown puts at a line's start that a quote leaves out:
/// indentation, `>` blockquote prefixes and `*` / `-` / `+` bullet markers.
/// Returns `None` for setext underlines (`===`, `---`), which carry no text.
pub fn strip_line_markup(line: &str) -> Option<&str> {
    let mut s = line.trim_start();
    while let Some(rest) = s.strip_prefix('>') {
        s = rest.trim_start();
    }
    let t = s.trim_end();
    if t.len() >= 3 && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-')) {
        return None;
    }
    for marker in ["* ", "- ", "+ "] {
        if let Some(rest) = s.strip_prefix(marker) {
            return Some(rest.trim_start());
        }
    }
    if matches!(t, "*" | "-" | "+") {
        return Some("");
    }
    Some(s)
}

/// A document in the normalised form quotes are matched against: markup
/// stripped per line, lines joined, whitespace collapsed. Every byte maps back
/// to the source line it came from.
#[derive(Clone, Debug)]
pub struct NormDoc {
    pub text: String,
    /// (byte offset in `text`, 1-based source line), ascending.
    starts: Vec<(usize, usize)>,
}

impl NormDoc {
    pub fn new(source: &str) -> NormDoc {
        let mut text = String::new();
        let mut starts = Vec::new();
        for (idx, raw) in source.lines().enumerate() {
            let Some(line) = strip_line_markup(raw) else {
                continue;
            };
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            starts.push((text.len(), idx + 1));
            text.push_str(&words.join(" "));
        }
        NormDoc { text, starts }
    }

    /// The 1-based source line of a byte offset into `text`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search_by(|(o, _)| o.cmp(&offset)) {
            Ok(i) => self.starts.get(i).map_or(1, |s| s.1),
            Err(0) => self.starts.first().map_or(1, |s| s.1),
            Err(i) => self.starts.get(i - 1).map_or(1, |s| s.1),
        }
    }

    /// Every place a quote pattern matches (see [`Pattern`]).
    pub fn find(&self, pattern: &Pattern) -> Vec<Match> {
        pattern.find_all(&self.text)
    }
}

/// A quote as written in code: collapsed, split at `...` wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub segments: Vec<String>,
}

/// Where a pattern matched: the byte span of each segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub spans: Vec<(usize, usize)>,
}

impl Match {
    pub fn start(&self) -> usize {
        self.spans.first().map_or(0, |s| s.0)
    }
    pub fn end(&self) -> usize {
        self.spans.last().map_or(0, |s| s.1)
    }
}

impl Pattern {
    pub fn new(quote: &str) -> Pattern {
        let q = collapse(quote);
        let q = q.replace('\u{2026}', "...");
        let q = ["* ", "- ", "> "]
            .iter()
            .fold(q.as_str(), |acc, m| acc.strip_prefix(m).unwrap_or(acc))
            .to_string();
        let segments = q
            .split("...")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Pattern { segments }
    }

    /// The quote without wildcards, for similarity search.
    pub fn joined(&self) -> String {
        self.segments.join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// All matches, one per occurrence of the first segment, each later segment
    /// taken at its first occurrence after the previous one.
    pub fn find_all(&self, hay: &str) -> Vec<Match> {
        let Some(first) = self.segments.first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(pos) = hay.get(from..).and_then(|h| h.find(first.as_str())) {
            let start = from + pos;
            let mut spans = vec![(start, start + first.len())];
            let mut cursor = start + first.len();
            let mut ok = true;
            for seg in self.segments.iter().skip(1) {
                match hay.get(cursor..).and_then(|h| h.find(seg.as_str())) {
                    Some(p) => {
                        spans.push((cursor + p, cursor + p + seg.len()));
                        cursor = cursor + p + seg.len();
                    }
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                break;
            }
            out.push(Match { spans });
            from = start + first.len().max(1);
            // Stay on a char boundary.
            while from < hay.len() && !hay.is_char_boundary(from) {
                from += 1;
            }
        }
        out
    }
}

/// Splits into words for similarity: whitespace-separated tokens.
pub fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Word-level edit distance.
pub fn word_distance(a: &[&str], b: &[&str]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, wa) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, wb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(wa != wb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Similarity in 0..=1 between two texts, by word edit distance.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    let longest = wa.len().max(wb.len());
    if longest == 0 {
        return 1.0;
    }
    1.0 - word_distance(&wa, &wb) as f64 / longest as f64
}

/// The passage of `hay` closest to `needle`: a semi-global word alignment
/// (free to start and end anywhere in `hay`). Returns the byte span in `hay`
/// and the word edit distance.
pub fn closest_passage(hay: &str, needle: &str) -> Option<((usize, usize), usize)> {
    let nw = words(needle);
    let spans: Vec<(usize, usize)> = word_spans(hay);
    if nw.is_empty() || spans.is_empty() {
        return None;
    }
    let hw: Vec<&str> = spans.iter().filter_map(|&(s, e)| hay.get(s..e)).collect();
    // dist[i][j]: best cost aligning needle[..i] ending at hay word j; start[i][j]: where it began.
    let cols = hw.len() + 1;
    let mut prev: Vec<(usize, usize)> = (0..cols).map(|j| (0, j)).collect();
    for (i, w) in nw.iter().enumerate() {
        let mut cur: Vec<(usize, usize)> = Vec::with_capacity(cols);
        cur.push((i + 1, 0));
        for j in 1..cols {
            let diag = prev.get(j - 1).copied().unwrap_or((usize::MAX / 2, 0));
            let up = prev.get(j).copied().unwrap_or((usize::MAX / 2, 0));
            let left = cur.get(j - 1).copied().unwrap_or((usize::MAX / 2, 0));
            let same = hw.get(j - 1).is_some_and(|h| h == w);
            let mut best = (diag.0 + usize::from(!same), diag.1);
            if up.0 + 1 < best.0 {
                best = (up.0 + 1, up.1);
            }
            if left.0 + 1 < best.0 {
                best = (left.0 + 1, left.1);
            }
            cur.push(best);
        }
        prev = cur;
    }
    let (end_col, &(dist, start_word)) =
        prev.iter().enumerate().skip(1).min_by_key(|(_, c)| c.0)?;
    let first = spans.get(start_word.min(spans.len() - 1))?.0;
    let last = spans.get(end_col - 1)?.1;
    Some(((first, last.max(first)), dist))
}

fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push((st, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

/// A lower-case slug: letters and digits kept, everything else one `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_levels() {
        assert_eq!(
            keywords("SHOULD log and MUST ignore"),
            vec![Level::Should, Level::Must]
        );
        assert_eq!(
            sentence_level("it SHOULD log and MUST NOT ignore"),
            Some(Level::MustNot)
        );
        assert_eq!(sentence_level("MAY store"), Some(Level::May));
        assert_eq!(sentence_level("must store, MAYBE"), None);
    }

    #[test]
    fn sentence_split_keeps_abbreviations() {
        let s = sentences("A is b, i.e. the c. The d MUST e. `x` is f.");
        assert_eq!(s, vec!["A is b, i.e. the c.", "The d MUST e.", "`x` is f."]);
    }

    #[test]
    fn normdoc_strips_markup_and_maps_lines() {
        let d = NormDoc::new("Title\n=====\n\n* first\n  wrapped\n> - quoted\n");
        assert_eq!(d.text, "Title first wrapped quoted");
        let p = Pattern::new("first ... quoted");
        let m = d.find(&p);
        assert_eq!(m.len(), 1);
        assert_eq!(d.line_of(m[0].start()), 4);
        assert_eq!(d.line_of(m[0].end() - 1), 6);
    }

    #[test]
    fn closest_passage_finds_the_edited_sentence() {
        let hay = "The cat sat on the mat. The dog MUST bark at 4032 blocks. Birds fly.";
        let ((s, e), d) = closest_passage(hay, "The dog MUST bark at 4033 blocks.").unwrap();
        assert_eq!(&hay[s..e], "The dog MUST bark at 4032 blocks.");
        assert_eq!(d, 1);
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Forwarding `peerswap_lightning`"),
            "forwarding-peerswap-lightning"
        );
        assert_eq!(
            slug("0-Fee Forwarded Peerswaps"),
            "0-fee-forwarded-peerswaps"
        );
    }
}
