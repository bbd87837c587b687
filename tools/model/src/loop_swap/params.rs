//! The Loop model's parameters: which swap (Loop Out or Loop In), LOOP-01's deadlines
//! a spec author can turn, and the bounds of the world (the expiry, a spend's
//! confirmation, the adversary, the honest server's policy, the mutant).

use loop_reference::constants::Bounds as LoopBounds;
use loop_reference::units::BlockDelta;

use crate::framework::{ParamDef, ParamError, ParamKind, Settings, SpecQuote};

const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

/// Every parameter, in the order `model list` shows them.
pub const PARAMS: &[ParamDef] = &[
    ParamDef {
        name: "swap",
        default: "out",
        kind: ParamKind::Choice(&["out", "in"]),
        doc: "Which swap: a Loop Out (the client's LoopOutClient; the server funds the on-chain HTLC) or a Loop In (the client's LoopInClient; the client funds it). The `in_*` and `server_pay_margin` parameters are the Loop In's, `reveal_delta` and `expiry_delta` the Loop Out's.",
        spec: None,
    },
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
        doc: "An honest claim confirms within this many blocks of its first publication (an assumption about the fee policy of loop.out.24 and loop.out.25, not a LOOP-01 rule); the adversary picks when within that window. In a Loop In, likewise the honest client's timeout transaction and the honest server's sweep.",
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
        name: "in_expiry_delta",
        default: "100",
        kind: int(1, 2000),
        doc: "Loop In: the HTLC expiry the server chooses minus the height at which the client is offered the contract. The default is the nearest the client accepts (loop.in.6); outside the client's window it refuses the swap and nothing happens.",
        spec: None,
    },
    ParamDef {
        name: "in_min_expiry_delta",
        default: "100",
        kind: int(0, 1500),
        doc: "Loop In: the client refuses an HTLC expiry below the current height plus this many blocks.",
        spec: Some(SpecQuote { doc: "LOOP-01", text: "The client MUST refuse a Loop In whose HTLC expiry is below the current height plus 100 blocks." }),
    },
    ParamDef {
        name: "in_max_accept_delta",
        default: "1500",
        kind: int(0, 2000),
        doc: "Loop In: the client refuses an HTLC expiry more than this many blocks above the current height.",
        spec: Some(SpecQuote { doc: "LOOP-01", text: "The client MUST refuse a Loop In whose HTLC expiry is more than 1500 blocks above the current height." }),
    },
    ParamDef {
        name: "in_publish_delta",
        default: "10",
        kind: int(0, 1000),
        doc: "Loop In: the client does not publish its HTLC with fewer than this many blocks to the expiry.",
        spec: Some(SpecQuote { doc: "LOOP-01", text: "The client MUST NOT publish the HTLC when fewer than 10 blocks remain until its expiry." }),
    },
    ParamDef {
        name: "server_pay_margin",
        default: "10",
        kind: int(0, 1000),
        doc: "Loop In: the honest server pays the client's swap invoice only while at least this many blocks remain before the HTLC expiry, then sweeps the HTLC at once (an assumption about the opaque server, not a LOOP-01 rule; 10 is loop.in.7's publish deadline, the one the client keeps so as not to publish an HTLC \"that the server surely wouldn't follow up to\").",
        spec: None,
    },
    ParamDef {
        name: "mutant",
        default: "none",
        kind: ParamKind::Choice(&["none", "key_on_final_invoice"]),
        doc: "Loop In: `key_on_final_invoice` has the client's host push the client's internal key to the server on every block once the swap invoice is final, settled or cancelled, as Loop f6b0253d's waitForSwapComplete does (`invoiceFinalized && !htlcKeyRevealed`), instead of loop.in.20's settled invoice only (our reading).",
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

/// Which swap the model runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Swap {
    Out,
    In,
}

/// A deliberate departure from the reference's embedding, to show what a rule prevents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    None,
    /// The host pushes the internal key once the invoice is final (settled or cancelled).
    KeyOnFinalInvoice,
}

/// The settings, typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub swap: Swap,
    pub reveal_delta: BlockDelta,
    pub expiry_delta: u32,
    pub confirm_blocks: u32,
    pub adversaries: Vec<Adversary>,
    pub crashes: u8,
    pub in_expiry_delta: u32,
    pub in_min_expiry_delta: BlockDelta,
    pub in_max_accept_delta: BlockDelta,
    pub in_publish_delta: BlockDelta,
    pub server_pay_margin: u32,
    pub mutant: Mutant,
    /// The adversary setting as given (`each`, `server`, `client`, `none`).
    pub adversary_setting: String,
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
            swap: if s.choice("swap") == Some("in") { Swap::In } else { Swap::Out },
            reveal_delta: BlockDelta(int("reveal_delta")?),
            expiry_delta: int("expiry_delta")?,
            confirm_blocks: int("confirm_blocks")?,
            adversaries,
            crashes: u8::from(int("crashes")? > 0),
            in_expiry_delta: int("in_expiry_delta")?,
            in_min_expiry_delta: BlockDelta(int("in_min_expiry_delta")?),
            in_max_accept_delta: BlockDelta(int("in_max_accept_delta")?),
            in_publish_delta: BlockDelta(int("in_publish_delta")?),
            server_pay_margin: int("server_pay_margin")?,
            mutant: if s.choice("mutant") == Some("key_on_final_invoice") { Mutant::KeyOnFinalInvoice } else { Mutant::None },
            adversary_setting: s.choice("adversary").unwrap_or("each").to_string(),
        })
    }

    /// The settings that shape this swap's run, as `--set` options (for a vector's header).
    pub fn settings_line(&self) -> String {
        let mut sets = match self.swap {
            Swap::Out => vec![
                format!("reveal_delta={}", self.reveal_delta.0),
                format!("expiry_delta={}", self.expiry_delta),
            ],
            Swap::In => vec![
                "swap=in".to_string(),
                format!("in_expiry_delta={}", self.in_expiry_delta),
                format!("in_min_expiry_delta={}", self.in_min_expiry_delta.0),
                format!("in_max_accept_delta={}", self.in_max_accept_delta.0),
                format!("in_publish_delta={}", self.in_publish_delta.0),
                format!("server_pay_margin={}", self.server_pay_margin),
                format!("mutant={}", match self.mutant { Mutant::None => "none", Mutant::KeyOnFinalInvoice => "key_on_final_invoice" }),
            ],
        };
        sets.push(format!("confirm_blocks={}", self.confirm_blocks));
        sets.push(format!("adversary={}", self.adversary_setting));
        sets.push(format!("crashes={}", self.crashes));
        sets.iter().map(|s| format!("--set {s}")).collect::<Vec<_>>().join(" ")
    }

    /// LOOP-01's bounds with the reveal deadline as set.
    pub fn loop_bounds(&self) -> LoopBounds {
        LoopBounds {
            min_loop_out_preimage_reveal_delta: self.reveal_delta,
            max_loop_in_accept_delta: self.in_max_accept_delta,
            min_loop_in_expiry_delta: self.in_min_expiry_delta,
            min_loop_in_publish_delta: self.in_publish_delta,
        }
    }
}
