"""The example IUT's protocol core (examples/minimal_wire.py), without pyln-proto:
the feature-set codec against the repo's language-neutral vectors, and one
connection's behaviour message by message."""

import os
import re
import struct
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

import minimal_wire as w  # noqa: E402

VECTORS = os.path.join(HERE, "..", "..", "..", "..", "vectors", "wire", "feature_set.yaml")


def feature_set_vectors():
    """The tests of vectors/wire/feature_set.yaml. The file is generated
    (tools/gen/wire_vectors.py) in a fixed layout, read here line by line so the
    kit's tests need no YAML package; the count is checked against numberOfTests."""
    with open(VECTORS, encoding="utf-8") as f:
        text = f.read()
    declared = int(re.search(r"^numberOfTests: (\d+)$", text, re.M).group(1))
    tests = []
    for chunk in re.split(r"^\s+- tcId: ", text, flags=re.M)[1:]:
        t = {"tcId": int(chunk.split("\n", 1)[0])}
        for key in ("encoded", "result", "error"):
            m = re.search(rf'^\s+{key}: "([^"]*)"$', chunk, re.M)
            if m:
                t[key] = m.group(1)
        m = re.search(r"^\s+bits: \[([^\]]*)\]$", chunk, re.M)
        if m:
            t["bits"] = {int(b) for b in m.group(1).split(",") if b.strip()}
        m = re.search(r"^\s+allows_sidepool_messages: (true|false)$", chunk, re.M)
        if m:
            t["allows"] = m.group(1) == "true"
        tests.append(t)
    return declared, tests


def sidepool_msg(sub_id, records):
    return struct.pack(">HH", w.SIDEPOOL_MESSAGE_ID, sub_id) + w.tlv_encode(records)


def init_with(bits):
    v = w.bolt_vector(bits)
    return struct.pack(">HH", w.INIT, 0) + struct.pack(">H", len(v)) + v


def features_msg(bits=(1,), raw=None):
    return sidepool_msg(w.MY_SIDEPOOL_FEATURES, {w.MY_SIDEPOOL_FEATURES_SET: raw if raw is not None else w.feature_set_encode(set(bits))})


POOL, HASH = bytes([0x5E]) * 16, bytes([0xC3]) * 32
PEERSWAP_INIT = sidepool_msg(w.PEERSWAP_INIT, {w.PEERSWAP_INIT_ID: POOL, 100002: bytes(66), w.PEERSWAP_INIT_HASH: HASH})


def sends(actions):
    return [a[1] for a in actions if a[0] == "send"]


def closes(actions):
    return any(a[0] == "close" for a in actions)


class FeatureSetVectors(unittest.TestCase):
    def test_every_vector(self):
        declared, tests = feature_set_vectors()
        self.assertEqual(len(tests), declared, "every vector read")
        for t in tests:
            data = bytes.fromhex(t["encoded"])
            if t["result"] == "valid":
                bits = w.feature_set_decode(data)
                self.assertEqual(bits, t["bits"], t["tcId"])
                self.assertEqual(w.feature_set_encode(bits), data, f"tcId {t['tcId']}: canonical")
                allows = not any(b % 2 == 0 and b not in w.KNOWN_SIDEPOOL_BITS for b in bits)
                self.assertEqual(allows, t["allows"], t["tcId"])
            else:
                with self.assertRaises(w.DecodeError, msg=t["tcId"]) as e:
                    w.feature_set_decode(data)
                self.assertEqual(e.exception.kind, t["error"], t["tcId"])


class Codec(unittest.TestCase):
    def test_bolt_feature_vectors(self):
        self.assertEqual(w.bolt_vector({0, 9}), b"\x02\x01")
        self.assertEqual(w.bolt_bits(b"\x02\x01"), {0, 9})
        self.assertEqual(w.bolt_bits(w.bolt_vector({1263})), {1263})

    def test_tlv_stream_rules(self):
        self.assertEqual(w.tlv_stream(bytes.fromhex("0101aa0300")), {1: b"\xaa", 3: b""})
        for bad, kind in (("0300" "0100", "invalid_value"), ("0102aa", "truncated"), ("fd000100", "non_minimal_encoding")):
            with self.assertRaises(w.DecodeError) as e:
                w.tlv_stream(bytes.fromhex(bad))
            self.assertEqual(e.exception.kind, kind, bad)


class OneConnection(unittest.TestCase):
    def ready(self):
        c = w.Connection()
        [init] = sends(c.start())
        self.assertEqual(struct.unpack(">H", init[:2])[0], w.INIT)
        self.assertEqual(sends(c.handle(init_with({1263}))), [w.my_sidepool_features()])
        self.assertEqual(c.handle(features_msg()), [])
        return c

    def test_init_carries_1263_and_networks(self):
        init = w.init_message()
        gflen = struct.unpack(">H", init[2:4])[0]
        flen = struct.unpack(">H", init[4 + gflen:6 + gflen])[0]
        self.assertEqual(w.bolt_bits(init[6 + gflen:6 + gflen + flen]), {1263})
        self.assertEqual(w.tlv_stream(init[6 + gflen + flen:]), {1: w.REGTEST})

    def test_my_sidepool_features_has_bit_1(self):
        records = w.tlv_stream(w.my_sidepool_features()[4:])
        self.assertEqual(w.feature_set_decode(records[w.MY_SIDEPOOL_FEATURES_SET]), {1})

    def test_compulsory_1262_also_signals_sidepool(self):
        c = w.Connection()
        c.start()
        self.assertEqual(sends(c.handle(init_with({1262}))), [w.my_sidepool_features()])

    def test_no_sidepool_message_to_a_peer_without_1263(self):
        c = w.Connection()
        c.start()
        self.assertEqual(c.handle(init_with(set())), [])
        self.assertEqual(c.handle(features_msg()), [])
        self.assertEqual(c.handle(PEERSWAP_INIT), [])

    def test_unknown_even_feature_bit_closes_with_a_warning(self):
        c = w.Connection()
        c.start()
        out = c.handle(init_with({14, 1263}))
        self.assertTrue(closes(out))
        self.assertEqual(struct.unpack(">H", sends(out)[0][:2])[0], w.WARNING)
        self.assertEqual(c.handle(w.my_sidepool_features()), [], "nothing after closing")

    def test_a_message_before_init_closes(self):
        c = w.Connection()
        c.start()
        self.assertTrue(closes(c.handle(bytes.fromhex("001200040000"))))

    def test_ping_pong(self):
        c = self.ready()
        self.assertEqual(sends(c.handle(bytes.fromhex("0012000a0002abcd"))), [struct.pack(">HH", w.PONG, 10) + bytes(10)])
        self.assertEqual(c.handle(bytes.fromhex("0012fffc0000")), [], "65532: no pong")
        self.assertTrue(closes(c.handle(bytes.fromhex("001200"))), "short ping")

    def test_unknown_types(self):
        c = self.ready()
        self.assertEqual(c.handle(bytes.fromhex("8001deadbeef")), [])
        out = c.handle(bytes.fromhex("8000deadbeef"))
        self.assertTrue(closes(out))
        self.assertIn(b"32768", sends(out)[0])

    def test_peerswap_init_is_rejected_naming_the_offer(self):
        c = self.ready()
        [reject] = sends(c.handle(PEERSWAP_INIT))
        self.assertEqual(struct.unpack(">HH", reject[:4]), (w.SIDEPOOL_MESSAGE_ID, w.PEERSWAP_REJECT))
        r = w.tlv_stream(reject[4:])
        self.assertEqual((r[w.PEERSWAP_REJECT_ID], r[w.PEERSWAP_REJECT_HASH]), (POOL, HASH))
        self.assertEqual(r[w.PEERSWAP_REJECT_REASON_CODE], b"\xff\xff")
        self.assertEqual(r[w.PEERSWAP_REJECT_CHANNEL_VIEW_MSAT], bytes(24))

    def test_silences(self):
        for name, features in (("unknown even bit", features_msg((1, 4))), ("unparsable", features_msg(raw=bytes.fromhex("fd0001")))):
            c = w.Connection()
            c.start()
            c.handle(init_with({1263}))
            c.handle(features)
            self.assertEqual(sends(c.handle(PEERSWAP_INIT)), [], name)
            c.handle(features_msg())
            self.assertEqual(sends(c.handle(PEERSWAP_INIT)), [], f"{name}: a later good set does not lift the silence")

    def test_nothing_but_my_sidepool_features_before_the_peers(self):
        c = w.Connection()
        c.start()
        c.handle(init_with({1263}))
        self.assertEqual(sends(c.handle(PEERSWAP_INIT)), [])
        c.handle(features_msg())
        self.assertEqual(len(sends(c.handle(PEERSWAP_INIT))), 1, "answered once the peer's set arrived")

    def test_malformed_peerswap_init_is_ignored_not_fatal(self):
        c = self.ready()
        out = c.handle(sidepool_msg(w.PEERSWAP_INIT, {}) + b"\xfd")
        self.assertFalse(closes(out))
        self.assertEqual(sends(out), [])
        self.assertEqual(len(sends(c.handle(PEERSWAP_INIT))), 1, "still answering")


if __name__ == "__main__":
    unittest.main()
