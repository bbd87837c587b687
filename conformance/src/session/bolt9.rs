//! BOLT 9's feature table, as this node reads it in a peer's `init`: which
//! pairs it knows, and which features depend on which.
//!
//! Source: lightning/bolts `09-features.md` at commit
//! a3772650d8ebc06acf457fcadf97968ebfc4dfff (2026-03-23, "Channel Splicing
//! (feature 62/63)"). Every row of its table is here, in its order.

use super::bolt1::BoltFeatures;

/// One row of the BOLT 9 table: the pair `even`/`even + 1`, and the pair it depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bolt9Feature {
    pub name: &'static str,
    /// The compulsory (even) bit; the optional bit is `even + 1`.
    pub even: u32,
    /// The even bit of the feature named in the table's "Dependencies" column.
    pub depends_on: Option<u32>,
}

const fn row(name: &'static str, even: u32, depends_on: Option<u32>) -> Bolt9Feature {
    Bolt9Feature { name, even, depends_on }
}

/// The table, row for row (bits, name, dependencies).
pub const BOLT9_FEATURES: &[Bolt9Feature] = &[
    row("option_data_loss_protect", 0, None),
    row("option_upfront_shutdown_script", 4, None),
    row("gossip_queries", 6, None),
    row("var_onion_optin", 8, None),
    row("gossip_queries_ex", 10, None),
    row("option_static_remotekey", 12, None),
    row("payment_secret", 14, None),
    row("basic_mpp", 16, Some(14)),
    row("option_support_large_channel", 18, None),
    row("option_anchors", 22, None),
    row("option_route_blinding", 24, None),
    row("option_shutdown_anysegwit", 26, None),
    row("option_dual_fund", 28, None),
    row("option_quiesce", 34, None),
    row("option_attribution_data", 36, None),
    row("option_onion_messages", 38, None),
    row("option_provide_storage", 42, None),
    row("option_channel_type", 44, None),
    row("option_scid_alias", 46, None),
    row("option_payment_metadata", 48, None),
    row("option_zeroconf", 50, Some(46)),
    row("option_simple_close", 60, Some(26)),
    row("option_splice", 62, None),
];

/// Both bits of every pair in the table. This node opens no channels and routes
/// no payments, so no channel or payment feature a peer makes compulsory
/// constrains it: it knows them all in BOLT 1's sense, and so stays connected to
/// ordinary Lightning nodes (which set e.g. `var_onion_optin` as even).
pub fn bolt9_feature_bits() -> Vec<u32> {
    BOLT9_FEATURES.iter().flat_map(|f| [f.even, f.even + 1]).collect()
}

/// A feature the peer offers whose dependency it does not offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingDependency {
    /// The bit the peer set (either of the pair).
    pub bit: u32,
    pub feature: &'static str,
    pub needs: &'static str,
    /// The even bit of the missing dependency.
    pub needs_even: u32,
}

/// Every known feature offered in `features` whose dependency is not offered.
/// Checking each direct dependency checks the transitive ones too: if A needs B
/// and B needs C, a vector with A and B but not C fails at B's row.
pub fn missing_dependencies(features: &BoltFeatures) -> Vec<MissingDependency> {
    let mut missing = Vec::new();
    for f in BOLT9_FEATURES {
        let Some(needs_even) = f.depends_on else { continue };
        // BOLT 1: "A feature is *offered* if a peer set it in the `init` message for the current connection (as either even or odd)."
        if !features.offers_pair(f.even + 1) || features.offers_pair(needs_even + 1) {
            continue;
        }
        let bit = if features.has(f.even) { f.even } else { f.even + 1 };
        let needs = BOLT9_FEATURES.iter().find(|d| d.even == needs_even).map_or("?", |d| d.name);
        missing.push(MissingDependency { bit, feature: f.name, needs, needs_even });
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_pairs_in_order_and_every_dependency_is_a_row() {
        for w in BOLT9_FEATURES.windows(2) {
            assert!(w[0].even < w[1].even, "{w:?}");
        }
        for f in BOLT9_FEATURES {
            assert_eq!(f.even % 2, 0, "{}", f.name);
            if let Some(d) = f.depends_on {
                assert!(BOLT9_FEATURES.iter().any(|r| r.even == d), "{} depends on an unknown pair {d}", f.name);
            }
        }
    }

    #[test]
    fn features_added_since_the_older_table_are_known() {
        // The node's earlier table stopped at 50/51; these rows came later.
        let bits = bolt9_feature_bits();
        for b in [28, 29, 34, 35, 36, 37, 38, 39, 42, 43, 60, 61, 62, 63] {
            assert!(bits.contains(&b), "{b}");
        }
        // Pairs the table does not (or no longer) list stay unknown.
        for b in [2, 3, 20, 21, 30, 32, 40, 52, 64] {
            assert!(!bits.contains(&b), "{b}");
        }
    }

    #[test]
    fn a_feature_without_its_dependency_is_reported_either_parity() {
        let f = |bits: &[u32]| missing_dependencies(&BoltFeatures::from_bits(bits.iter().copied()));
        let mpp = f(&[17]);
        assert_eq!(mpp, vec![MissingDependency { bit: 17, feature: "basic_mpp", needs: "payment_secret", needs_even: 14 }]);
        assert_eq!(f(&[16]).first().map(|m| m.bit), Some(16));
        assert!(f(&[17, 14]).is_empty() && f(&[16, 15]).is_empty());
        assert_eq!(f(&[51]).first().map(|m| m.needs), Some("option_scid_alias"));
        assert!(f(&[51, 47]).is_empty());
        assert_eq!(f(&[60]).first().map(|m| m.needs), Some("option_shutdown_anysegwit"));
        assert!(f(&[61, 27]).is_empty());
        assert_eq!(f(&[17, 51, 61]).len(), 3);
        assert!(f(&[]).is_empty() && f(&[8, 13, 1263]).is_empty());
    }
}
