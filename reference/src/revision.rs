//! Which revision of the SIDEPOOL texts the rules follow.
//!
//! The texts kept changing after the revision this project was commissioned
//! from (`spec-mirror/sidepool/<revision>/`, each with its PROVENANCE.md).
//! Where two revisions differ in behaviour, the rule that differs takes a
//! [`SpecRevision`] and asks it which variant of the rule applies (e.g.
//! [`SpecRevision::in_lightning_amount`]); there is never a second copy of a
//! module per revision.

use core::fmt;

/// A revision of the SIDEPOOL texts, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecRevision {
    /// SIDEPOOL-01/-04/-06/-10 at e3c47ad (2024-12-12), SIDEPOOL-02 at 9c4f495 (2023-10-04): the
    /// texts the project was commissioned from.
    Seed,
    /// All five documents at 50799b4 (2024-12-16), the last upstream commit touching `doc/`.
    Upstream50799b4,
}

/// What the in-Lightning HTLCs of a peerswap total, per revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InLightningAmount {
    /// The "agreed-upon amount": the SIDEPOOL-02 post-tax amount of the in-sidepool HTLC (seed).
    PostTax,
    /// The in-sidepool HTLC amount itself, `peerswap_init_amount_sat` (upstream-50799b4).
    InSidepoolHtlc,
}

/// A revision name that is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRevision(pub String);

impl fmt::Display for UnknownRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = SpecRevision::ALL.iter().map(|r| r.name()).collect();
        write!(f, "unknown spec revision `{}` (known: {}, and `{}` for {})", self.0, names.join(", "), SpecRevision::UPSTREAM_ALIAS, SpecRevision::NEWEST_UPSTREAM.name())
    }
}

impl std::error::Error for UnknownRevision {}

impl SpecRevision {
    /// Every revision, oldest first.
    pub const ALL: [SpecRevision; 2] = [SpecRevision::Seed, SpecRevision::Upstream50799b4];

    /// The newest upstream revision: what an implementer starting today reads, and the default.
    pub const NEWEST_UPSTREAM: SpecRevision = SpecRevision::Upstream50799b4;

    /// The name accepted for [`SpecRevision::NEWEST_UPSTREAM`] besides its own.
    pub const UPSTREAM_ALIAS: &'static str = "upstream";

    /// The stable name: the directory under `spec-mirror/sidepool/`, and what `--spec` takes.
    pub fn name(self) -> &'static str {
        match self {
            SpecRevision::Seed => "seed",
            SpecRevision::Upstream50799b4 => "upstream-50799b4",
        }
    }

    /// A revision by name; `upstream` names the newest upstream revision.
    pub fn from_name(name: &str) -> Result<SpecRevision, UnknownRevision> {
        let name = name.trim();
        if name == Self::UPSTREAM_ALIAS {
            return Ok(Self::NEWEST_UPSTREAM);
        }
        Self::ALL.into_iter().find(|r| r.name() == name).ok_or_else(|| UnknownRevision(name.to_string()))
    }

    /// The upstream commit of each document of this revision: (document, full commit id).
    pub fn documents(self) -> &'static [(&'static str, &'static str)] {
        const E3C47AD: &str = "e3c47ad937aa49bd15d31d365dbf31015fc05422";
        const C9C4F495: &str = "9c4f495b12745debb2996ec3fd0ca0242854cd7c";
        const C50799B4: &str = "50799b4dfa7a1647dbe05bcfa10c7061f3cd779c";
        match self {
            SpecRevision::Seed => &[
                ("SIDEPOOL-01", E3C47AD),
                ("SIDEPOOL-02", C9C4F495),
                ("SIDEPOOL-04", E3C47AD),
                ("SIDEPOOL-06", E3C47AD),
                ("SIDEPOOL-10", E3C47AD),
            ],
            SpecRevision::Upstream50799b4 => &[
                ("SIDEPOOL-01", C50799B4),
                ("SIDEPOOL-02", C50799B4),
                ("SIDEPOOL-04", C50799B4),
                ("SIDEPOOL-06", C50799B4),
                ("SIDEPOOL-10", C50799B4),
            ],
        }
    }

    /// The commit of SIDEPOOL-10, the document under test.
    pub fn sidepool_10_commit(self) -> &'static str {
        self.documents().iter().find(|(d, _)| *d == "SIDEPOOL-10").map_or("", |(_, c)| c)
    }

    /// What the in-Lightning HTLCs total (SIDEPOOL-10 "In-Lightning HTLC Propagation").
    pub fn in_lightning_amount(self) -> InLightningAmount {
        match self {
            SpecRevision::Seed => InLightningAmount::PostTax,
            SpecRevision::Upstream50799b4 => InLightningAmount::InSidepoolHtlc,
        }
    }
}

impl Default for SpecRevision {
    /// The newest upstream revision.
    fn default() -> Self {
        SpecRevision::NEWEST_UPSTREAM
    }
}

impl fmt::Display for SpecRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for SpecRevision {
    type Err = UnknownRevision;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpecRevision::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_alias_names_the_newest_upstream() {
        for r in SpecRevision::ALL {
            assert_eq!(SpecRevision::from_name(r.name()), Ok(r));
        }
        assert_eq!(SpecRevision::from_name("upstream"), Ok(SpecRevision::Upstream50799b4));
        assert_eq!(SpecRevision::default(), SpecRevision::Upstream50799b4);
        let err = SpecRevision::from_name("draft").unwrap_err();
        assert_eq!(err.to_string(), "unknown spec revision `draft` (known: seed, upstream-50799b4, and `upstream` for upstream-50799b4)");
    }

    #[test]
    fn every_revision_pins_the_five_documents() {
        for r in SpecRevision::ALL {
            let docs: Vec<&str> = r.documents().iter().map(|(d, _)| *d).collect();
            assert_eq!(docs, ["SIDEPOOL-01", "SIDEPOOL-02", "SIDEPOOL-04", "SIDEPOOL-06", "SIDEPOOL-10"]);
            assert!(r.documents().iter().all(|(_, c)| c.len() == 40));
        }
        assert_eq!(SpecRevision::Seed.sidepool_10_commit(), "e3c47ad937aa49bd15d31d365dbf31015fc05422");
        assert_eq!(SpecRevision::Seed.in_lightning_amount(), InLightningAmount::PostTax);
        assert_eq!(SpecRevision::Upstream50799b4.in_lightning_amount(), InLightningAmount::InSidepoolHtlc);
    }
}
