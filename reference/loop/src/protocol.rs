//! Protocol versions, and the HTLC and MuSig2 versions they choose (LOOP-01 "Protocol versions").

/// A swap's protocol version: a number, of which LOOP-01 names twelve and "not recorded".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion(pub u32);

// LOOP-01: "The protocol versions MUST be numbered Legacy 0, MultiLoopOut 1, SegwitLoopIn 2, PreimagePush 3, UserExpiryLoopOut 4, HtlcV2 5, MultiLoopIn 6, LoopOutCancel 7, Probe 8, RoutingPlugin 9, HtlcV3 10 and MuSig2 11, with 4294967295 meaning a swap whose version was not recorded."
impl ProtocolVersion {
    pub const LEGACY: ProtocolVersion = ProtocolVersion(0);
    pub const MULTI_LOOP_OUT: ProtocolVersion = ProtocolVersion(1);
    pub const SEGWIT_LOOP_IN: ProtocolVersion = ProtocolVersion(2);
    pub const PREIMAGE_PUSH: ProtocolVersion = ProtocolVersion(3);
    pub const USER_EXPIRY_LOOP_OUT: ProtocolVersion = ProtocolVersion(4);
    pub const HTLC_V2: ProtocolVersion = ProtocolVersion(5);
    pub const MULTI_LOOP_IN: ProtocolVersion = ProtocolVersion(6);
    pub const LOOP_OUT_CANCEL: ProtocolVersion = ProtocolVersion(7);
    pub const PROBE: ProtocolVersion = ProtocolVersion(8);
    pub const ROUTING_PLUGIN: ProtocolVersion = ProtocolVersion(9);
    pub const HTLC_V3: ProtocolVersion = ProtocolVersion(10);
    pub const MUSIG2: ProtocolVersion = ProtocolVersion(11);
    pub const UNRECORDED: ProtocolVersion = ProtocolVersion(u32::MAX);

    /// The version a client creates new swaps with.
    // LOOP-01: "A client SHOULD create new swaps with protocol version 11 (MuSig2)."
    pub const CURRENT: ProtocolVersion = ProtocolVersion::MUSIG2;

    /// The version's name, or `None` for a number LOOP-01 does not name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Legacy",
            1 => "MultiLoopOut",
            2 => "SegwitLoopIn",
            3 => "PreimagePush",
            4 => "UserExpiryLoopOut",
            5 => "HtlcV2",
            6 => "MultiLoopIn",
            7 => "LoopOutCancel",
            8 => "Probe",
            9 => "RoutingPlugin",
            10 => "HtlcV3",
            11 => "MuSig2",
            u32::MAX => "Unrecorded",
            _ => return None,
        })
    }

    /// Which HTLC a swap of this version uses.
    // LOOP-01: "A swap whose protocol version is below 10 (HtlcV3), or not recorded, MUST use the v2 HTLC, and every other swap the v3 HTLC."
    pub fn script_version(self) -> ScriptVersion {
        if self < ProtocolVersion::HTLC_V3 || self == ProtocolVersion::UNRECORDED {
            ScriptVersion::V2
        } else {
            ScriptVersion::V3
        }
    }

    /// Which MuSig2 key aggregation a v3 HTLC of this version uses.
    // LOOP-01: "A v3 HTLC MUST aggregate its internal key with MuSig2 version 1.0.0-rc2 when the swap's protocol version is 11 (MuSig2) or later, and with MuSig2 version 0.4.0 otherwise."
    pub fn musig2_version(self) -> MuSig2Version {
        if self >= ProtocolVersion::MUSIG2 && self != ProtocolVersion::UNRECORDED {
            MuSig2Version::V100Rc2
        } else {
            MuSig2Version::V040
        }
    }
}

/// Loop Out (off-chain to on-chain) or Loop In (on-chain to off-chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SwapType {
    LoopOut,
    LoopIn,
}

/// A party to a swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Party {
    Client,
    Server,
}

impl SwapType {
    /// The party that funds the on-chain HTLC and holds its timeout path.
    // LOOP-01: "In a Loop Out the server MUST be the HTLC sender and the client the HTLC receiver."
    // LOOP-01: "In a Loop In the client MUST be the HTLC sender and the server the HTLC receiver."
    pub fn htlc_sender(self) -> Party {
        match self {
            SwapType::LoopOut => Party::Server,
            SwapType::LoopIn => Party::Client,
        }
    }

    /// The party that claims the HTLC with the preimage.
    pub fn htlc_receiver(self) -> Party {
        match self.htlc_sender() {
            Party::Server => Party::Client,
            Party::Client => Party::Server,
        }
    }
}

/// The two HTLC scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScriptVersion {
    /// P2WSH (`swap.HtlcV2`).
    V2,
    /// P2TR, MuSig2 key path and two leaves (`swap.HtlcV3`).
    V3,
}

/// The MuSig2 drafts whose key aggregation a v3 HTLC may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MuSig2Version {
    /// Draft 0.4.0: x-only keys (lnd `MuSig2Version040`).
    V040,
    /// Draft 1.0.0-rc2: BIP-327 key aggregation over 33-byte keys (lnd `MuSig2Version100RC2`).
    V100Rc2,
}

impl MuSig2Version {
    /// The name vectors use.
    pub fn name(self) -> &'static str {
        match self {
            MuSig2Version::V040 => "0.4.0",
            MuSig2Version::V100Rc2 => "1.0.0-rc2",
        }
    }

    pub fn from_name(name: &str) -> Option<MuSig2Version> {
        match name {
            "0.4.0" => Some(MuSig2Version::V040),
            "1.0.0-rc2" => Some(MuSig2Version::V100Rc2),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_musig_versions_follow_the_protocol_version() {
        let cases = [
            (0, ScriptVersion::V2, MuSig2Version::V040),
            (9, ScriptVersion::V2, MuSig2Version::V040),
            (10, ScriptVersion::V3, MuSig2Version::V040),
            (11, ScriptVersion::V3, MuSig2Version::V100Rc2),
            (12, ScriptVersion::V3, MuSig2Version::V100Rc2),
            (u32::MAX, ScriptVersion::V2, MuSig2Version::V040),
        ];
        for (v, script, musig) in cases {
            assert_eq!(ProtocolVersion(v).script_version(), script, "{v}");
            assert_eq!(ProtocolVersion(v).musig2_version(), musig, "{v}");
        }
        assert_eq!(ProtocolVersion::CURRENT.script_version(), ScriptVersion::V3);
        assert_eq!((SwapType::LoopOut.htlc_sender(), SwapType::LoopOut.htlc_receiver()), (Party::Server, Party::Client));
        assert_eq!((SwapType::LoopIn.htlc_sender(), SwapType::LoopIn.htlc_receiver()), (Party::Client, Party::Server));
    }

    #[test]
    fn names() {
        assert_eq!(ProtocolVersion(11).name(), Some("MuSig2"));
        assert_eq!(ProtocolVersion(12).name(), None);
        assert_eq!(ProtocolVersion::UNRECORDED.name(), Some("Unrecorded"));
        for v in [MuSig2Version::V040, MuSig2Version::V100Rc2] {
            assert_eq!(MuSig2Version::from_name(v.name()), Some(v));
        }
    }
}
