//! The LNROD-01 model's parameters: the profile, the fail-back rule and the hold
//! limit (the spec's numbers), the size of the payment, the attacker's budget,
//! and the mutants that show the checker bites.

use lightningrod_reference::constants::LDK_FAIL_BACK_MARGIN;
use lightningrod_reference::profile::{FailBackReference, FailBackRule, Profile};
use lightningrod_reference::units::BlockDelta;

use crate::framework::{ParamDef, ParamError, ParamKind, Settings, SpecQuote};

const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

const fn q(text: &'static str) -> Option<SpecQuote> {
    Some(SpecQuote { doc: "LNROD-01", text })
}

/// Every parameter, in the order `model list` shows them.
pub const PARAMS: &[ParamDef] = &[
    ParamDef {
        name: "profile",
        default: "lightningrod",
        kind: ParamKind::Choice(&["lightningrod", "ldk"]),
        doc: "How an unblock is authenticated: `lightningrod` (a block request with a secret `pid`, echoed by B in `payment_unblock`) or `ldk` (`hold_htlc`, one release path per held HTLC).",
        spec: None,
    },
    ParamDef {
        name: "fail_back_reference",
        default: "outgoing_cltv",
        kind: ParamKind::Choice(&["outgoing_cltv", "incoming_expiry"]),
        doc: "What a held HTLC's fail-back height counts back from: the onion's `outgoing_cltv_value` (LDK 0.2) or the incoming `cltv_expiry`.",
        spec: q("LSP_a MUST use a fail-back height below the incoming HTLC's `cltv_expiry`."),
    },
    ParamDef {
        name: "fail_back_margin",
        default: "39",
        kind: int(0, 10_000),
        doc: "Blocks counted back from the reference (LDK's HTLC_FAIL_BACK_BUFFER, 39). The reference crate refuses 0 counted from `cltv_expiry`.",
        spec: q("LSP_a MUST use a fail-back height below the incoming HTLC's `cltv_expiry`."),
    },
    ParamDef {
        name: "cltv_delta",
        default: "72",
        kind: int(0, 10_000),
        doc: "`cltv_expiry - outgoing_cltv_value` of A's HTLCs at LSP_a (LSP_a's `cltv_expiry_delta`).",
        spec: None,
    },
    ParamDef {
        name: "expiry_blocks",
        default: "144",
        kind: int(1, 10_000),
        doc: "Blocks from the start height to the `cltv_expiry` of A's HTLCs.",
        spec: None,
    },
    ParamDef {
        name: "max_held",
        default: "2",
        kind: int(1, 4),
        doc: "The most HTLCs LSP_a holds at a time (the hold limit).",
        spec: q("LSP_a MAY fail back an HTLC it is asked to hold when it already holds `max_held` HTLCs."),
    },
    ParamDef {
        name: "parts",
        default: "1",
        kind: int(1, 2),
        doc: "HTLCs of A's one payment (multi-part when 2).",
        spec: None,
    },
    ParamDef {
        name: "forgeries",
        default: "2",
        kind: int(0, 3),
        doc: "Unblocks the attacker may inject: a wrong `pid` (`lightningrod`), an unauthenticated `release_held_htlc` (`ldk`), or a replay of B's unblock.",
        spec: None,
    },
    ParamDef {
        name: "mutant",
        default: "none",
        kind: ParamKind::Choice(&["none", "release_without_valid_unblock", "no_fail_back"]),
        doc: "A guard removed, to show the checker bites: `release_without_valid_unblock` hands the attacker's unblock to LSP_a as if it were valid (LSP_a without the `pid` comparison / the authentication check); `no_fail_back` keeps blocks from LSP_a (LSP_a without the fail-back in `block`).",
        spec: None,
    },
];

/// A guard the model removes from around `LSP_a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    None,
    ReleaseWithoutValidUnblock,
    NoFailBack,
}

impl Mutant {
    /// The name `mutant=` takes.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::None => "none",
            Mutant::ReleaseWithoutValidUnblock => "release_without_valid_unblock",
            Mutant::NoFailBack => "no_fail_back",
        }
    }
}

/// The typed configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub profile: Profile,
    pub fail_back: FailBackRule,
    pub cltv_delta: u32,
    pub expiry_blocks: u32,
    pub max_held: u32,
    pub parts: u8,
    pub forgeries: u8,
    pub mutant: Mutant,
}

fn get_u32(s: &Settings, name: &'static str) -> Result<u32, ParamError> {
    s.int(name).and_then(|v| u32::try_from(v).ok()).ok_or(ParamError::Inconsistent(format!("{name}: missing")))
}

fn get_choice(s: &Settings, name: &'static str) -> Result<&'static str, ParamError> {
    s.choice(name).ok_or(ParamError::Inconsistent(format!("{name}: missing")))
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Config, String> {
        let e = |p: ParamError| p.to_string();
        let profile = Profile::from_name(get_choice(s, "profile").map_err(e)?).ok_or("profile: unknown")?;
        let reference =
            FailBackReference::from_name(get_choice(s, "fail_back_reference").map_err(e)?).ok_or("fail_back_reference: unknown")?;
        let margin = get_u32(s, "fail_back_margin").map_err(e)?;
        let fail_back = FailBackRule::new(reference, BlockDelta(margin))
            .map_err(|c| format!("fail_back_margin={margin} with fail_back_reference={}: the reference crate refuses it ({})", reference.name(), c.name()))?;
        let mutant = match get_choice(s, "mutant").map_err(e)? {
            "release_without_valid_unblock" => Mutant::ReleaseWithoutValidUnblock,
            "no_fail_back" => Mutant::NoFailBack,
            _ => Mutant::None,
        };
        Ok(Config {
            profile,
            fail_back,
            cltv_delta: get_u32(s, "cltv_delta").map_err(e)?,
            expiry_blocks: get_u32(s, "expiry_blocks").map_err(e)?,
            max_held: get_u32(s, "max_held").map_err(e)?,
            parts: u8::try_from(get_u32(s, "parts").map_err(e)?).map_err(|_| "parts: out of range")?,
            forgeries: u8::try_from(get_u32(s, "forgeries").map_err(e)?).map_err(|_| "forgeries: out of range")?,
            mutant,
        })
    }
}

/// LDK's margin, so the default above is checked against the constant.
pub const DEFAULT_MARGIN: BlockDelta = LDK_FAIL_BACK_MARGIN;
