//! Property tests over the codec: decode(encode(m)) == m for arbitrary
//! messages, the JSON field view round-trips, and arbitrary bytes never panic
//! a decoder (they return an error class).

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use sidepool_conformance::fields::{message_from_json, message_to_json};
use sidepool_reference::wire::features::FeatureSet;
use sidepool_reference::{Decoded, Message};


fn arbitrary_message(seed: &[u8]) -> Option<Message> {
    let mut m = Message::arbitrary(&mut Unstructured::new(seed)).ok()?;
    m.make_encodable();
    Some(m)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_encode_round_trip(seed in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Some(m) = arbitrary_message(&seed) {
            let bytes = m.encode();
            prop_assert_eq!(Message::decode(&bytes), Ok(Decoded::Known(m.clone())));
        }
    }

    #[test]
    fn json_field_view_round_trip(seed in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Some(m) = arbitrary_message(&seed) {
            let view = message_to_json(&m);
            let back = message_from_json(m.name(), &view["fields"], view.get("unknown_tlvs"));
            prop_assert_eq!(back, Ok(m));
        }
    }

    #[test]
    fn feature_set_round_trip(bits in proptest::collection::btree_set(any::<u64>(), 0..12)) {
        let set = FeatureSet::from_bits(bits);
        prop_assert_eq!(FeatureSet::decode(&set.encode()), Ok(set));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn arbitrary_tlvs_under_every_sub_id_never_panic(
        sub in prop::sample::select(vec![101u16, 400, 1000, 1002, 1004, 1010, 1098, 1001, 1006]),
        tlvs in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        match Message::decode_tlvs(sub, &tlvs) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.detail.is_empty()),
        }
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        seed in proptest::collection::vec(any::<u8>(), 0..1024),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        if let Some(m) = arbitrary_message(&seed) {
            let mut bytes = m.encode();
            let len = bytes.len();
            if let Some(b) = bytes.get_mut(at % len) {
                *b = byte;
            }
            let _ = Message::decode(&bytes);
            let _ = Message::decode(&bytes[..at % len]);
        }
    }
}

/// The properties above are only as good as their inputs: check that the
/// arbitrary-seeded generator reaches every message variant.
#[test]
fn generator_reaches_every_variant() {
    let mut state: u64 = 0x5eed;
    let mut names = std::collections::BTreeSet::new();
    let mut built = 0;
    for _ in 0..500 {
        let seed: Vec<u8> = (0..1024)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        if let Some(m) = arbitrary_message(&seed) {
            built += 1;
            names.insert(m.name());
        }
    }
    assert_eq!(names.len(), 7, "reached only {names:?}");
    assert!(built >= 250, "only {built} of 500 seeds built a message");
}
