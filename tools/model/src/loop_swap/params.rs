//! The Loop model's parameters: LOOP-01's reveal deadline a spec author can turn,
//! and the bounds of the world (the expiry, the claim's confirmation, the adversary).

use loop_reference::constants::Bounds as LoopBounds;
use loop_reference::units::BlockDelta;

use crate::framework::{ParamDef, ParamError, ParamKind, Settings, SpecQuote};

const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

/// Every parameter, in the order `model list` shows them.
pub const PARAMS: &[ParamDef] = &[
    ParamDef {
        name: "reveal_delta",
        default: "20",
        kind: int(0, 1000),
        doc: "Blocks that must remain before the HTLC expiry for the client to reveal the preimage (and, while it waits for the HTLC, to keep waiting). 0 removes the deadline: the client reveals at any height below the expiry.",
        spec: Some(SpecQuote { doc: "LOOP-01", text: "The client MUST NOT reveal the preimage unless the HTLC expiry minus the current height is more than 20 blocks." }),
    },
    ParamDef {
        name: "expiry_delta",
        default: "30",
        kind: int(1, 1000),
        doc: "The HTLC expiry minus the height at which the contract is accepted. Loop's real deltas are larger (the server's minimum CLTV delta); only the blocks near the deadline matter, so the model starts close to it.",
        spec: None,
    },
    ParamDef {
        name: "confirm_blocks",
        default: "6",
        kind: int(1, 1000),
        doc: "An honest claim confirms within this many blocks of its first publication (an assumption about the fee policy of loop.out.24 and loop.out.25, not a LOOP-01 rule); the adversary picks when within that window.",
        spec: None,
    },
    ParamDef {
        name: "adversary",
        default: "each",
        kind: ParamKind::Choice(&["each", "server", "client", "none"]),
        doc: "Who is adversarial: the server, the client, nobody, or each in turn (one initial state per choice).",
        spec: None,
    },
    ParamDef {
        name: "crashes",
        default: "1",
        kind: int(0, 1),
        doc: "How many times the honest client may crash (an unexpected error: memory lost, store kept) and resume from its persisted state.",
        spec: None,
    },
];

/// Who the adversary is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Adversary {
    Server,
    Client,
    Nobody,
}

impl Adversary {
    pub fn name(self) -> &'static str {
        match self {
            Adversary::Server => "server",
            Adversary::Client => "client",
            Adversary::Nobody => "none",
        }
    }
}

/// The settings, typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub reveal_delta: BlockDelta,
    pub expiry_delta: u32,
    pub confirm_blocks: u32,
    pub adversaries: Vec<Adversary>,
    pub crashes: u8,
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Config, ParamError> {
        let int = |name: &'static str| -> Result<u32, ParamError> {
            let v = s.int(name).ok_or_else(|| ParamError::Inconsistent(format!("`{name}` is not set")))?;
            u32::try_from(v).map_err(|_| ParamError::Inconsistent(format!("`{name}={v}`: not a block count")))
        };
        let adversaries = match s.choice("adversary") {
            Some("server") => vec![Adversary::Server],
            Some("client") => vec![Adversary::Client],
            Some("none") => vec![Adversary::Nobody],
            _ => vec![Adversary::Nobody, Adversary::Server, Adversary::Client],
        };
        Ok(Config {
            reveal_delta: BlockDelta(int("reveal_delta")?),
            expiry_delta: int("expiry_delta")?,
            confirm_blocks: int("confirm_blocks")?,
            adversaries,
            crashes: u8::from(int("crashes")? > 0),
        })
    }

    /// LOOP-01's bounds with the reveal deadline as set.
    pub fn loop_bounds(&self) -> LoopBounds {
        LoopBounds { min_loop_out_preimage_reveal_delta: self.reveal_delta, ..LoopBounds::LOOP01 }
    }
}
