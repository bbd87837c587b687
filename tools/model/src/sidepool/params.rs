//! The SIDEPOOL-10 model's parameters: the spec's numbers a spec author can
//! turn, the E-23 script, the revision, and the bounds of the world.

use sidepool_reference::peerswap::constants::{Seconds, SpecConstants};
use sidepool_reference::units::BlockDelta;
use sidepool_reference::SpecRevision;

use crate::framework::{ParamDef, ParamError, ParamKind, Settings, SpecQuote};

use super::ids::NodeId;

const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

const fn q(doc: &'static str, text: &'static str) -> Option<SpecQuote> {
    Some(SpecQuote { doc, text })
}

/// Every parameter, in the order `model list` shows them.
pub const PARAMS: &[ParamDef] = &[
    ParamDef {
        name: "sidepool_timeout_margin",
        default: "4032",
        kind: int(0, 100_000),
        doc: "Blocks between the current height and the in-sidepool timeout the acceptor requires (the offerrer adds one).",
        spec: q("SIDEPOOL-10", "MUST check that the in-sidepool timeout is greater than or equal to the current blockheight + 4032."),
    },
    ParamDef {
        name: "forward_timelock_gap",
        default: "2016",
        kind: int(0, 100_000),
        doc: "The smallest gap between the in-sidepool and in-Lightning timelocks a forwarder may send.",
        spec: q("SIDEPOOL-10", "The difference between the in-sidepool and in-Lightning timelocks MUST be 2016 or more."),
    },
    ParamDef {
        name: "max_cltv_delta",
        default: "2016",
        kind: int(0, 100_000),
        doc: "The per-hop bound on `cltv_delta` (acceptor) and `final_cltv_delta` (offerrer).",
        spec: q("SIDEPOOL-10", "`cltv_delta` MUST be less than or equal to 2016."),
    },
    ParamDef {
        name: "hold_seconds",
        default: "60",
        kind: int(1, 100_000),
        doc: "How long an offerrer holds incoming in-Lightning HTLCs before failing them all.",
        spec: q("SIDEPOOL-10", "The offerrer MUST hold for up to 60 seconds, starting from when the first incoming in-Lightning HTLC has been irrevocably committed."),
    },
    ParamDef {
        name: "deferral_seconds",
        default: "300",
        kind: int(0, 100_000),
        doc: "How long a follower defers a `peerswap_init` that came before `swap_party_begin`.",
        spec: q("SIDEPOOL-10", "If it does not receive `swap_party_begin` within 5 minutes, it MUST reject the offer."),
    },
    ParamDef {
        name: "hops",
        default: "5",
        kind: int(0, 10),
        doc: "The `peerswap_init_hops` the ultimate offerrer sends (the spec: a random value from 5 to 10; with at most two forwarders any of those lets every forwarder forward).",
        spec: q("SIDEPOOL-10", "The ultimate offerrer SHOULD set this to a random value from 5 to 10."),
    },
    ParamDef {
        name: "forwarders",
        default: "1",
        kind: int(0, 2),
        doc: "Forwarders on the path between the ultimate offerrer and the ultimate acceptor.",
        spec: None,
    },
    ParamDef {
        name: "script",
        default: "as_written",
        kind: ParamKind::Choice(&["as_written", "fixed"]),
        doc: "The in-sidepool HTLC's timelock leaf: as SIDEPOOL-06 writes it (never spendable, ERRATA E-23) or with E-23's fix.",
        spec: q("SIDEPOOL-06", "`<1> OP_CHECKSEQUENCEVERIFY <absolute lock time> OP_CHECKLOCKTIMEVERIFY OP_DROP <offerrer persistent public key> OP_CHECKSIGVERIFY`."),
    },
    ParamDef {
        name: "revision",
        default: "upstream",
        kind: ParamKind::Choice(&["upstream", "upstream-50799b4", "seed"]),
        doc: "The revision of the texts the engines follow (the reference's `SpecRevision`) and the pool's tax: `seed` (e3c47ad) pays the in-sidepool HTLC's SIDEPOOL-02 post-tax amount in Lightning, `upstream` (50799b4, the default as for `run`) its amount, and has no tax.",
        spec: q("SIDEPOOL-10@seed", "The total amount to be sent over each hop of the forwarded peerswap on the Lightning Network is equal to the \"post-tax amount\" of the in-sidepool HTLC."),
    },
    ParamDef {
        name: "adversary",
        default: "any",
        kind: ParamKind::Choice(&["any", "none", "offerrer", "forwarder1", "forwarder2", "acceptor"]),
        doc: "Which participant may deviate: one of them (`any`: each in turn, and none), or a given one.",
        spec: None,
    },
    ParamDef {
        name: "acceptor_contraction",
        default: "while_paying",
        kind: ParamKind::Choice(&["while_paying", "after_fulfilled"]),
        doc: "Our reading of when the ultimate acceptor stays out of the Contraction Phase (SIDEPOOL-06's \"waiting for private key handover after it has fulfilled the HTLC\"): from offering its in-Lightning HTLCs until it has the key or all failed (`while_paying`), or only once one of them was fulfilled (`after_fulfilled`).",
        spec: q("SIDEPOOL-06", "While the acceptor is waiting for private key handover after it has fulfilled the HTLC, it MUST NOT participate in the Contraction Phase until the offerrer responds."),
    },
    ParamDef {
        name: "offerrer_restart",
        default: "leave",
        kind: ParamKind::Choice(&["leave", "fulfil"]),
        doc: "What a restarted ultimate offerrer does with the peerswap's committed incoming HTLCs its new engine does not know: `leave` them to expire (the text has no rule; the reference node does this), or `fulfil` them when they reach the amount (ERRATA E-97's proposal).",
        spec: None,
    },
    ParamDef {
        name: "cltv_delta",
        default: "40",
        kind: int(0, 100_000),
        doc: "Every honest node's `cltv_delta` (what a forwarder adds; what an acceptor requires between the timelocks).",
        spec: None,
    },
    ParamDef {
        name: "final_cltv_delta",
        default: "18",
        kind: int(0, 100_000),
        doc: "The honest ultimate offerrer's `final_cltv_delta` (its in-Lightning timeout is the height plus this).",
        spec: None,
    },
    ParamDef {
        name: "adversary_final_cltv_delta",
        default: "18",
        kind: int(0, 100_000),
        doc: "The `final_cltv_delta` an adversarial ultimate offerrer uses (up to `max_cltv_delta` is within the spec).",
        spec: None,
    },
    ParamDef {
        name: "abort_blocks",
        default: "2160",
        kind: int(0, 100_000),
        doc: "Blocks from a sidepool abort until its Last update transaction is confirmed and the in-sidepool HTLC output can be spent (the spec's worst case).",
        spec: q("SIDEPOOL-10", "This is 2160 blocks for a worst-case sidepool abort."),
    },
    ParamDef {
        name: "confirm_blocks",
        default: "6",
        kind: int(1, 1_000),
        doc: "Blocks an honest party's claim transaction may take to confirm; an adversary's conflicting transaction valid in that block or an earlier one wins the race.",
        spec: None,
    },
    ParamDef {
        name: "phase_seconds",
        default: "600",
        kind: int(1, 100_000),
        doc: "The swap party phase timeout after which the pool aborts.",
        spec: q("SIDEPOOL-04", "If a phase takes longer than 10 minutes, the participant MUST abort the entire pool."),
    },
    ParamDef {
        name: "party_blocks",
        default: "1",
        kind: int(0, 3),
        doc: "How many blocks may be found while the swap party runs.",
        spec: None,
    },
    ParamDef {
        name: "pool_abort",
        default: "any_time",
        kind: ParamKind::Choice(&["any_time", "timeout_only"]),
        doc: "Whether the pool may abort at any moment for reasons outside the peerswap (any participant may), or only on a phase timeout, a crash, or a participant's own decision.",
        spec: q("SIDEPOOL-10", "Any pool participant can already abort the entire sidepool at any time for any reason, or for no reason, and the forwarder must by necessity be a pool participant, so this is not an escalation."),
    },
    ParamDef {
        name: "disconnects",
        default: "0",
        kind: int(0, 3),
        doc: "How many times a BOLT 8 connection between neighbours may drop (what was in flight is lost).",
        spec: None,
    },
    ParamDef {
        name: "crashes",
        default: "0",
        kind: int(0, 2),
        doc: "How many times an honest node may crash and restart from what it persisted.",
        spec: None,
    },
    ParamDef {
        name: "ln_parts",
        default: "1",
        kind: int(1, 3),
        doc: "Into how many in-Lightning HTLCs each hop's payment is split (set through the channels' maximum HTLC).",
        spec: None,
    },
];

/// SIDEPOOL-06's timelock leaf: as written, or with ERRATA E-23's fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Script {
    AsWritten,
    Fixed,
}

/// Who may deviate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdversaryChoice {
    /// Each participant in turn, and nobody (one initial state each).
    Any,
    Nobody,
    One(NodeId),
}

/// When the ultimate acceptor stays out of the Contraction Phase (our reading of SIDEPOOL-06).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContractionReading {
    WhilePaying,
    AfterFulfilled,
}

/// What a restarted ultimate offerrer does with incoming HTLCs its engine no longer knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfferrerRestart {
    /// Nothing (SIDEPOOL-10 has no rule; the reference node leaves them).
    Leave,
    /// Fulfil them once they reach the agreed-upon amount (ERRATA E-97).
    Fulfil,
}

/// The settings, typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub constants: SpecConstants,
    /// The random byte the offerrer's engine is given for `peerswap_init_hops`.
    pub hops_random: u8,
    pub forwarders: u8,
    pub script: Script,
    /// The revision the engines follow (seed: post-tax amounts; upstream: the HTLC amount, no tax).
    pub revision: SpecRevision,
    pub adversary: AdversaryChoice,
    pub contraction: ContractionReading,
    pub offerrer_restart: OfferrerRestart,
    pub cltv_delta: u32,
    pub final_cltv_delta: u32,
    pub adversary_final_cltv_delta: u32,
    pub abort_blocks: u32,
    pub confirm_blocks: u32,
    pub phase_seconds: u64,
    pub party_blocks: u8,
    pub env_abort: bool,
    pub disconnects: u8,
    pub crashes: u8,
    pub ln_parts: u8,
}

fn get_int(s: &Settings, name: &'static str) -> Result<i64, ParamError> {
    s.int(name).ok_or_else(|| ParamError::Inconsistent(format!("parameter `{name}` is missing or not a number")))
}

fn get_u32(s: &Settings, name: &'static str) -> Result<u32, ParamError> {
    u32::try_from(get_int(s, name)?).map_err(|_| ParamError::Inconsistent(format!("`{name}` does not fit in 32 bits")))
}

fn get_u8(s: &Settings, name: &'static str) -> Result<u8, ParamError> {
    u8::try_from(get_int(s, name)?).map_err(|_| ParamError::Inconsistent(format!("`{name}` does not fit in 8 bits")))
}

fn get_choice(s: &Settings, name: &'static str) -> Result<&'static str, ParamError> {
    s.choice(name).ok_or_else(|| ParamError::Inconsistent(format!("parameter `{name}` is missing")))
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Config, ParamError> {
        let hops = get_u8(s, "hops")?;
        // Within the text's range the offerrer's random byte picks the value; outside it the
        // range itself is what changes.
        let (first, last) = SpecConstants::SPEC.ultimate_offerrer_hops;
        let (hops_range, hops_random) =
            if (first..=last).contains(&hops) { ((first, last), hops - first) } else { ((hops, hops), 0) };
        let constants = SpecConstants {
            sidepool_timeout_min_delta: BlockDelta(get_u32(s, "sidepool_timeout_margin")?),
            max_cltv_delta: BlockDelta(get_u32(s, "max_cltv_delta")?),
            forward_min_timelock_gap: BlockDelta(get_u32(s, "forward_timelock_gap")?),
            hold_timeout: Seconds(get_int(s, "hold_seconds")?.unsigned_abs()),
            swap_party_begin_deferral: Seconds(get_int(s, "deferral_seconds")?.unsigned_abs()),
            ultimate_offerrer_hops: hops_range,
        };
        let forwarders = get_u8(s, "forwarders")?;
        let adversary = match get_choice(s, "adversary")? {
            "any" => AdversaryChoice::Any,
            "none" => AdversaryChoice::Nobody,
            "offerrer" => AdversaryChoice::One(NodeId::O),
            "forwarder1" => AdversaryChoice::One(NodeId::F1),
            "forwarder2" => AdversaryChoice::One(NodeId::F2),
            _ => AdversaryChoice::One(NodeId::A),
        };
        if let AdversaryChoice::One(n) = adversary {
            if !NodeId::path(forwarders).contains(&n) {
                return Err(ParamError::Inconsistent(format!(
                    "`adversary={}` needs a path with that node; it has {forwarders} forwarder(s)",
                    n.role_name()
                )));
            }
        }
        Ok(Config {
            constants,
            hops_random,
            forwarders,
            script: if get_choice(s, "script")? == "fixed" { Script::Fixed } else { Script::AsWritten },
            revision: SpecRevision::from_name(get_choice(s, "revision")?)
                .map_err(|e| ParamError::Inconsistent(e.to_string()))?,
            adversary,
            contraction: if get_choice(s, "acceptor_contraction")? == "after_fulfilled" {
                ContractionReading::AfterFulfilled
            } else {
                ContractionReading::WhilePaying
            },
            offerrer_restart: if get_choice(s, "offerrer_restart")? == "fulfil" {
                OfferrerRestart::Fulfil
            } else {
                OfferrerRestart::Leave
            },
            cltv_delta: get_u32(s, "cltv_delta")?,
            final_cltv_delta: get_u32(s, "final_cltv_delta")?,
            adversary_final_cltv_delta: get_u32(s, "adversary_final_cltv_delta")?,
            abort_blocks: get_u32(s, "abort_blocks")?,
            confirm_blocks: get_u32(s, "confirm_blocks")?,
            phase_seconds: get_int(s, "phase_seconds")?.unsigned_abs(),
            party_blocks: get_u8(s, "party_blocks")?,
            env_abort: get_choice(s, "pool_abort")? == "any_time",
            disconnects: get_u8(s, "disconnects")?,
            crashes: get_u8(s, "crashes")?,
            ln_parts: get_u8(s, "ln_parts")?,
        })
    }

    /// The participants on the path, ultimate offerrer first.
    pub fn path(&self) -> Vec<NodeId> {
        NodeId::path(self.forwarders)
    }
}
