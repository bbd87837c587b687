//! The BOLT 1 messages a sidepool session needs: `init` (16), `error` (17),
//! `warning` (1), `ping` (18), `pong` (19). Parsing is total: every input gives
//! a message or a typed error, never a panic.

use bitcoin::constants::ChainHash;
use core::fmt;
use sidepool_reference::wire::reader::Reader;
use sidepool_reference::wire::tlv::{read_stream, write_stream, Known};
use sidepool_reference::wire::DecodeError;
use std::collections::BTreeSet;

pub const INIT: u16 = 16;
pub const ERROR: u16 = 17;
pub const WARNING: u16 = 1;
pub const PING: u16 = 18;
pub const PONG: u16 = 19;

/// `init_tlvs` type 1, `networks`: "the chains the node is interested in".
pub const INIT_TLV_NETWORKS: u64 = 1;

/// BOLT 1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a `pong`";
/// from this value up the ping asks for no reply.
pub const PING_NO_REPLY_FROM: u16 = 65532;

/// A BOLT 9 feature vector: bit 0 is the least significant bit of the last byte.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoltFeatures {
    bits: BTreeSet<u32>,
}

impl BoltFeatures {
    pub fn from_bits(bits: impl IntoIterator<Item = u32>) -> BoltFeatures {
        BoltFeatures { bits: bits.into_iter().collect() }
    }

    pub fn has(&self, bit: u32) -> bool {
        self.bits.contains(&bit)
    }

    pub fn bits(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().copied()
    }

    /// BOLT 9: a feature pair (even = compulsory, odd = optional) is offered if either bit is set.
    pub fn offers_pair(&self, odd_bit: u32) -> bool {
        self.has(odd_bit) || self.has(odd_bit & !1)
    }

    /// Even bits set here that are not in `known`.
    pub fn unknown_even_bits(&self, known: &[u32]) -> Vec<u32> {
        self.bits().filter(|b| b % 2 == 0 && !known.contains(b)).collect()
    }

    /// The bitfield bytes, minimal length (BOLT 1: "SHOULD use the minimum length required").
    pub fn encode(&self) -> Vec<u8> {
        let Some(&top) = self.bits.iter().next_back() else { return Vec::new() };
        let len = usize::try_from(top / 8).unwrap_or(usize::MAX - 1) + 1;
        let mut out = vec![0u8; len];
        for &bit in &self.bits {
            let from_end = usize::try_from(bit / 8).unwrap_or(0);
            if let Some(byte) = out.get_mut(len - 1 - from_end) {
                *byte |= 1 << (bit % 8);
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> BoltFeatures {
        let mut bits = BTreeSet::new();
        for (from_end, byte) in bytes.iter().rev().enumerate() {
            for i in 0..8u32 {
                if byte & (1 << i) != 0 {
                    // A u16 length caps the field at 65535 bytes, so the index fits in u32.
                    bits.insert(u32::try_from(from_end).unwrap_or(u32::MAX / 8) * 8 + i);
                }
            }
        }
        BoltFeatures { bits }
    }

    /// BOLT 1: "MUST combine (logical OR) the two feature bitmaps into one logical `features` map."
    pub fn union(&self, other: &BoltFeatures) -> BoltFeatures {
        BoltFeatures { bits: self.bits.union(&other.bits).copied().collect() }
    }
}

/// `init`: the feature bitmaps and the `init_tlvs` (validated; `networks` is read on demand).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Init {
    pub global_features: BoltFeatures,
    pub features: BoltFeatures,
    /// The raw TLV stream, validated when decoded.
    pub tlvs: Vec<u8>,
}

impl Init {
    /// Both bitmaps ORed.
    pub fn all_features(&self) -> BoltFeatures {
        self.global_features.union(&self.features)
    }

    /// The `networks` TLV: `Ok(None)` when the peer sent none.
    pub fn networks(&self) -> Result<Option<Vec<ChainHash>>, DecodeError> {
        let mut networks = None;
        read_stream(&self.tlvs, |typ, value| {
            if typ == INIT_TLV_NETWORKS {
                networks = Some(chain_hashes(value)?);
            }
            Ok(if matches!(typ, 1 | 3 | 5) { Known::Yes } else { Known::No })
        })?;
        Ok(networks)
    }

    /// An `init_tlvs` stream that holds `networks` with `chains` (empty when there are none).
    pub fn networks_tlv(chains: &[ChainHash]) -> Vec<u8> {
        if chains.is_empty() {
            return Vec::new();
        }
        let value: Vec<u8> = chains.iter().flat_map(|c| c.to_bytes()).collect();
        let mut out = Vec::new();
        write_stream([(INIT_TLV_NETWORKS, value.as_slice())], &mut out);
        out
    }
}

/// `...*chain_hash`: a whole number of 32-byte chain hashes.
fn chain_hashes(value: &[u8]) -> Result<Vec<ChainHash>, DecodeError> {
    if value.len() % 32 != 0 {
        return Err(DecodeError::new(
            sidepool_reference::wire::ErrorClass::BadLength,
            "init networks is not a whole number of chain hashes",
        ));
    }
    Ok(value.chunks_exact(32).filter_map(|c| ChainHash::try_from(c).ok()).collect())
}

/// `error` and `warning` share one layout.
#[derive(Clone, PartialEq, Eq)]
pub struct Notice {
    pub channel_id: [u8; 32],
    pub data: Vec<u8>,
}

impl Notice {
    /// A connection-level notice (all-zero `channel_id`) whose data is `text`
    /// with anything outside printable ASCII replaced by `?`.
    pub fn connection(text: &str) -> Notice {
        // BOLT 1: "when sending `warning`: MAY set `channel_id` to all zero if the warning is not related to a specific channel."
        let data = text.chars().map(|c| if (' '..='~').contains(&c) { c as u8 } else { b'?' }).collect();
        Notice { channel_id: [0; 32], data }
    }

    /// The data as text where it is printable (it usually is), else hex.
    pub fn text(&self) -> String {
        match core::str::from_utf8(&self.data) {
            Ok(s) if s.chars().all(|c| !c.is_control()) => s.to_owned(),
            _ => sidepool_reference::hex::encode(&self.data),
        }
    }
}

impl fmt::Debug for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Notice(channel {}, {:?})", sidepool_reference::hex::encode(&self.channel_id), self.text())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bolt1Message {
    Init(Init),
    Error(Notice),
    Warning(Notice),
    Ping { num_pong_bytes: u16, ignored_len: u16 },
    Pong { ignored_len: u16 },
}

impl Bolt1Message {
    pub fn type_id(&self) -> u16 {
        match self {
            Bolt1Message::Init(_) => INIT,
            Bolt1Message::Error(_) => ERROR,
            Bolt1Message::Warning(_) => WARNING,
            Bolt1Message::Ping { .. } => PING,
            Bolt1Message::Pong { .. } => PONG,
        }
    }

    /// The whole Lightning message: 2-byte type, then payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.type_id().to_be_bytes().to_vec();
        match self {
            Bolt1Message::Init(init) => {
                for field in [init.global_features.encode(), init.features.encode()] {
                    put_u16_prefixed(&field, &mut out);
                }
                out.extend_from_slice(&init.tlvs);
            }
            Bolt1Message::Error(n) | Bolt1Message::Warning(n) => {
                out.extend_from_slice(&n.channel_id);
                put_u16_prefixed(&n.data, &mut out);
            }
            Bolt1Message::Ping { num_pong_bytes, ignored_len } => {
                out.extend_from_slice(&num_pong_bytes.to_be_bytes());
                put_u16_prefixed(&vec![0; usize::from(*ignored_len)], &mut out);
            }
            Bolt1Message::Pong { ignored_len } => {
                // BOLT 1: "MUST set `ignored` to 0s."
                put_u16_prefixed(&vec![0; usize::from(*ignored_len)], &mut out);
            }
        }
        out
    }

    /// Parses a message whose type is one of the five above; `Ok(None)` for any other type.
    pub fn decode(message: &[u8]) -> Result<Option<Bolt1Message>, DecodeError> {
        let mut r = Reader::new(message);
        let typ = r.u16("message type")?;
        let parsed = match typ {
            INIT => {
                let gflen = r.u16("gflen")?;
                let global_features = BoltFeatures::decode(r.bytes(usize::from(gflen), "globalfeatures")?);
                let flen = r.u16("flen")?;
                let features = BoltFeatures::decode(r.bytes(usize::from(flen), "features")?);
                let tlvs = r.rest();
                // init_tlvs: 1 networks (the session reads it), 3 remote_addr and
                // 5 option_will_fund (unused); the whole stream must be well formed.
                let init = Init { global_features, features, tlvs: tlvs.to_vec() };
                init.networks()?;
                Bolt1Message::Init(init)
            }
            ERROR | WARNING => {
                let channel_id = r.array("channel_id")?;
                let len = r.u16("len")?;
                let data = r.bytes(usize::from(len), "data")?.to_vec();
                let notice = Notice { channel_id, data };
                if typ == ERROR {
                    Bolt1Message::Error(notice)
                } else {
                    Bolt1Message::Warning(notice)
                }
            }
            PING => {
                let num_pong_bytes = r.u16("num_pong_bytes")?;
                let ignored_len = r.u16("byteslen")?;
                r.bytes(usize::from(ignored_len), "ignored")?;
                Bolt1Message::Ping { num_pong_bytes, ignored_len }
            }
            PONG => {
                let ignored_len = r.u16("byteslen")?;
                r.bytes(usize::from(ignored_len), "ignored")?;
                Bolt1Message::Pong { ignored_len }
            }
            _ => return Ok(None),
        };
        // Anything after the fields is an extension, which a reader MAY ignore.
        Ok(Some(parsed))
    }
}

fn put_u16_prefixed(bytes: &[u8], out: &mut Vec<u8>) {
    // Callers pass at most 65535 bytes (feature vectors, notices and pings this crate builds).
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes.get(..usize::from(len)).unwrap_or(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn feature_bit_1263_lands_in_the_first_of_158_bytes() {
        let bytes = BoltFeatures::from_bits([1263]).encode();
        assert_eq!(bytes.len(), 158);
        assert_eq!(bytes[0], 0x80);
        assert!(bytes[1..].iter().all(|b| *b == 0));
        assert_eq!(BoltFeatures::from_bits([0, 9]).encode(), vec![0x02, 0x01]);
        assert_eq!(BoltFeatures::decode(&[0x02, 0x01]), BoltFeatures::from_bits([0, 9]));
    }

    #[test]
    fn init_round_trips_and_ors_its_bitmaps() {
        let init = Init {
            global_features: BoltFeatures::from_bits([1]),
            features: BoltFeatures::from_bits([1263]),
            tlvs: vec![0x03, 0x01, 0xaa],
        };
        let bytes = Bolt1Message::Init(init.clone()).encode();
        assert_eq!(&bytes[..4], &[0x00, 0x10, 0x00, 0x01]);
        assert_eq!(Bolt1Message::decode(&bytes), Ok(Some(Bolt1Message::Init(init.clone()))));
        assert_eq!(init.all_features(), BoltFeatures::from_bits([1, 1263]));
    }

    #[test]
    fn init_tlvs_must_be_well_formed() {
        let base = [0x00, 0x10, 0x00, 0x00, 0x00, 0x00];
        let with = |tlvs: &[u8]| Bolt1Message::decode(&[&base[..], tlvs].concat());
        assert!(with(&[0x01, 0x20]).is_err(), "truncated networks");
        assert!(with(&[0x01, 0x01, 0x00]).is_err(), "networks not a multiple of 32");
        assert!(with(&[0x02, 0x00]).is_err(), "unknown even init tlv");
        assert!(with(&[0x05, 0x00, 0x03, 0x00]).is_err(), "out of order");
        assert!(with(&[0x07, 0x01, 0xff]).is_ok(), "unknown odd init tlv");
    }

    #[test]
    fn networks_are_written_and_read_as_whole_chain_hashes() {
        let regtest = ChainHash::REGTEST;
        let tlvs = Init::networks_tlv(&[regtest, ChainHash::BITCOIN]);
        // type 1, length 64, the two hashes as they are (BOLT 0: "the hash is not reversed").
        assert_eq!(&tlvs[..2], &[0x01, 0x40]);
        assert_eq!(hex::encode(&tlvs[2..34]), "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f");
        let init = Init { tlvs, ..Init::default() };
        let back = Bolt1Message::decode(&Bolt1Message::Init(init.clone()).encode());
        assert_eq!(back, Ok(Some(Bolt1Message::Init(init.clone()))));
        assert_eq!(init.networks(), Ok(Some(vec![regtest, ChainHash::BITCOIN])));
        assert_eq!(Init::default().networks(), Ok(None));
        assert!(Init::networks_tlv(&[]).is_empty());
        // Present but empty is not absent.
        assert_eq!(Init { tlvs: vec![0x01, 0x00], ..Init::default() }.networks(), Ok(Some(vec![])));
        // remote_addr alone: no networks.
        assert_eq!(Init { tlvs: vec![0x03, 0x01, 0xaa], ..Init::default() }.networks(), Ok(None));
    }

    #[test]
    fn a_connection_notice_has_a_zero_channel_and_printable_ascii() {
        let n = Notice::connection("no common chain: é\n");
        assert_eq!(n.channel_id, [0; 32]);
        assert_eq!(n.data, b"no common chain: ??".to_vec());
        assert!(n.data.iter().all(|b| (32..=126).contains(b)));
    }

    #[test]
    fn ping_pong_error_warning_parse() {
        let ping = [0x00, 0x12, 0x00, 0x04, 0x00, 0x02, 0xaa, 0xbb];
        assert_eq!(Bolt1Message::decode(&ping), Ok(Some(Bolt1Message::Ping { num_pong_bytes: 4, ignored_len: 2 })));
        assert!(Bolt1Message::decode(&ping[..7]).is_err());
        assert_eq!(Bolt1Message::Pong { ignored_len: 3 }.encode(), vec![0x00, 0x13, 0x00, 0x03, 0, 0, 0]);
        let mut error = vec![0x00, 0x11];
        error.extend([0u8; 32]);
        error.extend([0x00, 0x02, b'n', b'o']);
        let Some(Bolt1Message::Error(n)) = Bolt1Message::decode(&error).unwrap() else { panic!() };
        assert_eq!(n.text(), "no");
        error[1] = 0x01;
        assert!(matches!(Bolt1Message::decode(&error), Ok(Some(Bolt1Message::Warning(_)))));
        assert_eq!(Bolt1Message::decode(&[0x00, 0x21]), Ok(None));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes: Vec<u8>) {
            let _ = Bolt1Message::decode(&bytes);
        }

        #[test]
        fn feature_vectors_round_trip(bits in proptest::collection::btree_set(0u32..2000, 0..12)) {
            let f = BoltFeatures { bits };
            prop_assert_eq!(BoltFeatures::decode(&f.encode()), f);
        }
    }
}
