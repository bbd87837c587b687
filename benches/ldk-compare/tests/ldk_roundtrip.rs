//! The benchmark compares working code: LDK's encoding of each message decodes
//! back to the same struct, and both sides hold the same logical content.

use sidepool_ldk_compare::{sample, without_unknown, Ldk, MESSAGES};

#[test]
fn every_message_round_trips_through_ldk_with_the_same_content() {
    for name in MESSAGES {
        let (_, ours) = sample(name).unwrap();
        let ldk = Ldk::from_message(&ours);
        let bytes = ldk.encode();
        let back = ldk.decode_like(&bytes).unwrap_or_else(|e| panic!("{name}: LDK cannot read its own encoding: {e:?}"));
        assert_eq!(back, ldk, "{name}");
        let (expected, _) = without_unknown(&ours);
        assert_eq!(back.to_message().as_ref(), Some(&expected), "{name}: the same content both ways");
    }
}

#[test]
fn ldk_and_the_reference_write_the_same_records() {
    // Both write the same TLV records; only the framing differs (LDK: a BigSize
    // length prefix; the reference: type 53609 and the 2-byte sub-id).
    for name in MESSAGES {
        let (ours_bytes, ours) = sample(name).unwrap();
        assert!(!without_unknown(&ours).1, "{name}: the benchmarked sample has no unknown records");
        let ldk = Ldk::from_message(&ours).encode();
        let our_tlvs = &ours_bytes[4..];
        assert!(ldk.ends_with(our_tlvs), "{name}: LDK {} vs ours {}", hex::encode(&ldk), hex::encode(our_tlvs));
        assert!(ldk.len() - our_tlvs.len() <= 3, "{name}: only a length prefix in front");
    }
}

#[test]
fn ldk_rejects_what_the_reference_rejects_here() {
    // An unknown even record and a missing required record fail on both sides.
    let (bytes, ours) = sample("peerswap_accept").unwrap();
    let ldk = Ldk::from_message(&ours);
    let mut stream = ldk.encode();
    // Drop the last record (the pubkeys) and fix the length prefix.
    let tlvs = &bytes[4..];
    let cut = tlvs.len() - (5 + 1 + 66);
    stream.clear();
    stream.push(u8::try_from(cut).unwrap());
    stream.extend_from_slice(&tlvs[..cut]);
    assert!(ldk.decode_like(&stream).is_err());
    let mut ours_cut = bytes[..4].to_vec();
    ours_cut.extend_from_slice(&tlvs[..cut]);
    assert!(sidepool_reference::Message::decode(&ours_cut).is_err());
}
