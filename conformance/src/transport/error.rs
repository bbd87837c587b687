//! Typed failures of the handshake and of framing. Each has a stable machine
//! name, used by the vectors and in logs.

use core::fmt;

/// The three acts of the BOLT 8 handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    One,
    Two,
    Three,
}

impl Act {
    pub fn number(self) -> u8 {
        match self {
            Act::One => 1,
            Act::Two => 2,
            Act::Three => 3,
        }
    }

    /// The exact length of this act on the wire.
    pub fn wire_len(self) -> usize {
        match self {
            Act::One | Act::Two => 50,
            Act::Three => 66,
        }
    }
}

/// Why a handshake act was refused. Any of these ends the connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// The act was not exactly `act.wire_len()` bytes (the peer hung up early, or sent garbage).
    ReadFailed { act: Act, len: usize },
    /// The version byte was not 0.
    BadVersion { act: Act, version: u8 },
    /// Acts one and two: the ephemeral key is not a compressed point on the curve.
    /// Act three: the decrypted static key `rs` is not.
    BadPubkey { act: Act },
    /// Act three: the encrypted static key `c` failed its MAC check.
    BadCiphertext,
    /// The act's final tag failed its MAC check.
    BadTag { act: Act },
}

impl HandshakeError {
    /// The machine name, after the appendix's `ACTn_...` error names (lowercased).
    pub fn name(&self) -> String {
        let (act, what) = match self {
            HandshakeError::ReadFailed { act, .. } => (*act, "read_failed"),
            HandshakeError::BadVersion { act, .. } => (*act, "bad_version"),
            HandshakeError::BadPubkey { act } => (*act, "bad_pubkey"),
            HandshakeError::BadCiphertext => (Act::Three, "bad_ciphertext"),
            HandshakeError::BadTag { act } => (*act, "bad_tag"),
        };
        format!("act{}_{what}", act.number())
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::ReadFailed { act, len } => {
                write!(f, "{}: act {} must be exactly {} bytes, got {len}", self.name(), act.number(), act.wire_len())
            }
            HandshakeError::BadVersion { version, .. } => {
                write!(f, "{}: unknown handshake version {version}", self.name())
            }
            HandshakeError::BadPubkey { .. } => write!(f, "{}: key is not a compressed secp256k1 point", self.name()),
            HandshakeError::BadCiphertext => write!(f, "{}: MAC check of the encrypted static key failed", self.name()),
            HandshakeError::BadTag { .. } => write!(f, "{}: MAC check failed", self.name()),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Why a Lightning message frame could not be sent or received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Sending: the message is longer than the 65535 bytes a frame can carry.
    TooLarge { len: usize },
    /// Receiving: the encrypted length header was not exactly 18 bytes.
    ShortHeader { len: usize },
    /// Receiving: the body was not exactly the length the header announced plus 16.
    ShortBody { expected: usize, len: usize },
    /// Receiving: the length header failed its MAC check.
    BadHeaderMac,
    /// Receiving: the body failed its MAC check.
    BadBodyMac,
    /// Receiving: a body was given with no header before it, or a header while a body was due.
    OutOfOrder,
    /// Receiving: an earlier failure ended this direction of the connection.
    Poisoned,
}

impl FrameError {
    pub fn name(&self) -> &'static str {
        match self {
            FrameError::TooLarge { .. } => "message_too_large",
            FrameError::ShortHeader { .. } => "short_header",
            FrameError::ShortBody { .. } => "short_body",
            FrameError::BadHeaderMac => "bad_header_mac",
            FrameError::BadBodyMac => "bad_body_mac",
            FrameError::OutOfOrder => "out_of_order",
            FrameError::Poisoned => "poisoned",
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { len } => write!(f, "{}: {len} bytes exceed 65535", self.name()),
            FrameError::ShortHeader { len } => write!(f, "{}: header must be 18 bytes, got {len}", self.name()),
            FrameError::ShortBody { expected, len } => {
                write!(f, "{}: body must be {expected} bytes, got {len}", self.name())
            }
            _ => f.write_str(self.name()),
        }
    }
}

impl std::error::Error for FrameError {}
