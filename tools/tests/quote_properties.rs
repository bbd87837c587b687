//! Properties of quote matching on the real SIDEPOOL-10 text: any run of
//! words taken from the spec matches, however it is re-wrapped or elided with
//! `...`; changing one word of a quote that occurs once makes it a mismatch
//! whose closest passage is one edit away.

use proptest::prelude::*;
use sidepool_spec_tools::text::{closest_passage, NormDoc, Pattern};
use std::sync::OnceLock;

fn doc() -> &'static NormDoc {
    static DOC: OnceLock<NormDoc> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spec-mirror/sidepool/upstream-50799b4/10-peerswap-in-sidepool.md");
        NormDoc::new(&std::fs::read_to_string(path).unwrap())
    })
}

fn words() -> Vec<&'static str> {
    doc().text.split(' ').collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_window_matches_rewrapped_and_elided(
        start in 0usize..8000,
        len in 3usize..40,
        breaks in proptest::collection::vec(0usize..40, 0..6),
        elide in proptest::option::of(1usize..38),
    ) {
        let w = words();
        let start = start % (w.len() - len);
        let mut parts: Vec<String> = w[start..start + len].iter().map(|s| s.to_string()).collect();
        if let Some(e) = elide {
            if e < len - 1 {
                parts[e] = "...".to_string();
            }
        }
        let mut quote = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                quote.push_str(if breaks.contains(&i) { "\n   " } else { " " });
            }
            quote.push_str(p);
        }
        let p = Pattern::new(&quote);
        prop_assert!(!doc().find(&p).is_empty(), "{quote:?}");
    }

    #[test]
    fn a_changed_word_is_a_mismatch_pointing_at_the_original(start in 0usize..8000, len in 8usize..20, at in 1usize..7) {
        let w = words();
        let start = start % (w.len() - len);
        let original = w[start..start + len].join(" ");
        // Only quotes that occur once in the spec have a single right answer.
        prop_assume!(doc().find(&Pattern::new(&original)).len() == 1);
        let mut changed: Vec<&str> = w[start..start + len].to_vec();
        changed[at] = "XYZZY";
        let changed = changed.join(" ");
        prop_assert!(doc().find(&Pattern::new(&changed)).is_empty());
        let ((s, e), dist) = closest_passage(&doc().text, &changed).unwrap();
        prop_assert_eq!(dist, 1);
        prop_assert!(doc().text[s..e].split(' ').count() >= len - 1);
        // The original is one substitution away, so the closest passage is that close (a
        // near-duplicate sentence elsewhere may tie, which is why the passage itself is not pinned).
        let passage = &doc().text[s..e];
        prop_assert!(passage.split(' ').count() <= len + 1);
    }
}
