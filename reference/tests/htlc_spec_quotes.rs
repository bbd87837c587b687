//! Every `// SIDEPOOL-NN: "..."` quote in the htlc module must appear verbatim in the
//! pinned spec text of every revision (whitespace collapsed, `...` as a wildcard): the
//! module implements SIDEPOOL-06, which no revision changed. The project-wide
//! `spec quotes` tool checks the same thing; this keeps the htlc module honest on its own.

const SOURCES: &[(&str, &str)] = &[
    ("taproot_key.rs", include_str!("../src/htlc/taproot_key.rs")),
    ("handover.rs", include_str!("../src/htlc/handover.rs")),
    ("aggregate_key.rs", include_str!("../src/htlc/aggregate_key.rs")),
];

fn spec(doc: &str) -> Option<[&'static str; 2]> {
    match doc {
        "SIDEPOOL-01" => Some([
            include_str!("../../spec-mirror/sidepool/seed/01-overview-and-conventions.md"),
            include_str!("../../spec-mirror/sidepool/upstream-50799b4/01-overview-and-conventions.md"),
        ]),
        "SIDEPOOL-06" => Some([
            include_str!("../../spec-mirror/sidepool/seed/06-htlcs.md"),
            include_str!("../../spec-mirror/sidepool/upstream-50799b4/06-htlcs.md"),
        ]),
        "SIDEPOOL-10" => Some([
            include_str!("../../spec-mirror/sidepool/seed/10-peerswap-in-sidepool.md"),
            include_str!("../../spec-mirror/sidepool/upstream-50799b4/10-peerswap-in-sidepool.md"),
        ]),
        _ => None,
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when the `...`-separated pieces of `quote` occur in `text` in order.
fn occurs(text: &str, quote: &str) -> bool {
    let mut rest = text;
    for piece in quote.split("...").map(str::trim).filter(|p| !p.is_empty()) {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn htlc_quotes_are_verbatim() {
    let mut checked = 0;
    for (file, src) in SOURCES {
        for line in src.lines() {
            let Some(after) = line.trim_start().strip_prefix("// ") else { continue };
            let Some((doc, quote)) = after.split_once(": \"") else { continue };
            let Some(texts) = spec(doc) else { continue };
            let quote = quote.strip_suffix('"').unwrap_or_else(|| panic!("{file}: unterminated quote: {line}"));
            for text in texts {
                assert!(occurs(&collapse(text), &collapse(quote)), "{file}: not found in {doc}: {quote}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} quotes found");
}
