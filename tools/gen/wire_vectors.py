#!/usr/bin/env python3
"""Generates the SIDEPOOL-01 wire vectors and the message vectors.

An independent second implementation of the encodings (BigSize, TLV streams,
the 53609 envelope, the run-length feature set, the seven messages), written
from the spec text, so that expected values do not merely echo the Rust
reference. Invalid cases are built by hand-mutating valid encodings.

    python3 tools/gen/wire_vectors.py          # rewrite the files
    python3 tools/gen/wire_vectors.py --check  # exit 1 if a committed file differs

The committed files are the truth: a test runs --check.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import yamlout  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC_COMMIT = "e3c47ad937aa49bd15d31d365dbf31015fc05422"
U64_MAX = 2**64 - 1

# ---- encodings ------------------------------------------------------------------------------


def bigsize(v):
    if v < 0xFD:
        return bytes([v])
    if v <= 0xFFFF:
        return b"\xfd" + v.to_bytes(2, "big")
    if v <= 0xFFFFFFFF:
        return b"\xfe" + v.to_bytes(4, "big")
    return b"\xff" + v.to_bytes(8, "big")


def record(typ, value, type_enc=None, len_enc=None):
    return (type_enc or bigsize(typ)) + (len_enc or bigsize(len(value))) + value


def stream(records):
    return b"".join(record(t, v) for t, v in records)


def envelope(sub_id, tlvs):
    return (53609).to_bytes(2, "big") + sub_id.to_bytes(2, "big") + tlvs


def feature_set(bits):
    out, nxt = b"", 0
    for b in sorted(set(bits)):
        out += bigsize(b - nxt)
        nxt = b + 1
    return out


# ---- secp256k1, only to make valid and invalid points ------------------------------------------

P = 2**256 - 2**32 - 977
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], P - 2, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], P - 2, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def point(k):
    acc, add = None, G
    while k:
        if k & 1:
            acc = _add(acc, add)
        add = _add(add, add)
        k >>= 1
    return bytes([2 + (acc[1] & 1)]) + acc[0].to_bytes(32, "big")


def on_curve_x(x):
    a = (pow(x, 3, P) + 7) % P
    r = pow(a, (P + 1) // 4, P)
    return x < P and r * r % P == a


NOT_A_POINT = bytes([2]) + bytes(32)  # x = 0: 7 is not a square mod p
assert not on_curve_x(0)
X_TOO_BIG = bytes([2]) + (P + 1).to_bytes(32, "big")
BAD_PREFIX = bytes([4]) + point(1)[1:]

KEYS = {name: point(k) for k, name in enumerate(
    ["offerrer_ephemeral", "offerrer_persistent", "acceptor_ephemeral", "acceptor_persistent", "encryption"], start=1)}

POOL_ID = bytes.fromhex("5ea1f00d5ea1f00d5ea1f00d5ea1f00d")
HASH = bytes.fromhex("c3a2a8b3b1d8e1f4a6c5b3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a291807")

# ---- messages -------------------------------------------------------------------------------

H = bytes.hex


def u(n, width):
    return n.to_bytes(width, "big")


def pubkeys_val(v):
    return bytes.fromhex(v["ephemeral"]) + bytes.fromhex(v["persistent"])


def view_val(v):
    return u(v["owned_by_offerrer"], 8) + u(v["owned_by_acceptor"], 8) + u(v["total_capacity"], 8)


# name -> (sub_id, [(tlv name, type, encoder, required, (min_len, max_len) or None for variable)])
MESSAGES = {
    "my_sidepool_features": (101, [
        ("my_sidepool_features_set", 10100, lambda v: feature_set(v["bits"]), True, None),
    ]),
    "swap_party_begin": (400, [
        ("swap_party_begin_id", 40000, bytes.fromhex, True, (16, 16)),
        ("swap_party_begin_irregular_authorization", 40002,
         lambda v: bytes.fromhex(v["xonly_pubkey"]) + u(v["amount_sat"], 8) + bytes.fromhex(v["signature"]),
         False, (104, 104)),
    ]),
    "peerswap_init": (1000, [
        ("peerswap_init_id", 100000, bytes.fromhex, True, (16, 16)),
        ("peerswap_init_pubkeys", 100002, pubkeys_val, True, (66, 66)),
        ("peerswap_init_timeouts", 100004, lambda v: u(v["sidepool"], 4) + u(v["lightning"], 4), True, (8, 8)),
        ("peerswap_init_hash", 100008, bytes.fromhex, True, (32, 32)),
        ("peerswap_init_hops", 100010, lambda v: u(v, 1), True, (1, 1)),
        ("peerswap_init_amount_sat", 100012, lambda v: u(v, 8), True, (8, 8)),
        ("peerswap_init_channel_view_msat", 100014, view_val, True, (24, 24)),
        ("peerswap_init_update_counter", 100016, lambda v: u(v, 2), True, (2, 2)),
    ]),
    "peerswap_accept": (1002, [
        ("peerswap_accept_id", 100200, bytes.fromhex, True, (16, 16)),
        ("peerswap_accept_hash", 100202, bytes.fromhex, True, (32, 32)),
        ("peerswap_accept_pubkeys", 100204, pubkeys_val, True, (66, 66)),
    ]),
    "peerswap_lightning": (1004, [
        ("peerswap_lightning_id", 100400, bytes.fromhex, True, (16, 16)),
        ("peerswap_lightning_hash", 100402, bytes.fromhex, True, (32, 32)),
        ("peerswap_lightning_payment_secret", 100404, bytes.fromhex, False, (32, 32)),
        ("peerswap_lightning_payment_metadata", 100406, bytes.fromhex, False, (1, 16384)),
    ]),
    "peerswap_success": (1010, [
        ("peerswap_success_id", 101000, bytes.fromhex, True, (16, 16)),
        ("peerswap_success_hash", 101002, bytes.fromhex, True, (32, 32)),
        ("peerswap_success_ephemeral_privkey", 101004,
         lambda v: bytes.fromhex(v["encrypted_key"]) + bytes.fromhex(v["encryption_pubkey"]), True, (65, 65)),
    ]),
    "peerswap_reject": (1098, [
        ("peerswap_reject_id", 109800, bytes.fromhex, True, (16, 16)),
        ("peerswap_reject_hash", 109802, bytes.fromhex, True, (32, 32)),
        ("peerswap_reject_reason_code", 109804, lambda v: u(v, 2), True, (2, 2)),
        ("peerswap_reject_reason_text", 109806, lambda v: v.encode("utf-8"), False, (1, 255)),
        ("peerswap_reject_channel_view_msat", 109808, view_val, True, (24, 24)),
    ]),
}


def records_of(name, fields):
    _, defs = MESSAGES[name]
    return [(t, enc(fields[n])) for n, t, enc, _, _ in defs if n in fields]


def encode_message(name, fields, unknown=()):
    sub_id, _ = MESSAGES[name]
    recs = sorted(records_of(name, fields) + list(unknown), key=lambda r: r[0])
    return envelope(sub_id, stream(recs))


def fields_view(name, fields):
    """The JSON field view exactly as the reference prints it."""
    if name == "my_sidepool_features":
        bits = sorted(set(fields["my_sidepool_features_set"]["bits"]))
        return {"my_sidepool_features_set": {"bits": bits, "encoded": H(feature_set(bits))}}
    return fields


VIEW = {"owned_by_offerrer": 1_000_000, "owned_by_acceptor": 9_000_000_000, "total_capacity": 10_000_000_000}


def base_fields(name):
    pk_o = {"ephemeral": H(KEYS["offerrer_ephemeral"]), "persistent": H(KEYS["offerrer_persistent"])}
    pk_a = {"ephemeral": H(KEYS["acceptor_ephemeral"]), "persistent": H(KEYS["acceptor_persistent"])}
    return {
        "my_sidepool_features": {"my_sidepool_features_set": {"bits": [1]}},
        "swap_party_begin": {"swap_party_begin_id": H(POOL_ID)},
        "peerswap_init": {
            "peerswap_init_id": H(POOL_ID),
            "peerswap_init_pubkeys": pk_o,
            "peerswap_init_timeouts": {"sidepool": 880_000 + 4033, "lightning": 880_000 + 144},
            "peerswap_init_hash": H(HASH),
            "peerswap_init_hops": 7,
            "peerswap_init_amount_sat": 2_250_000,
            "peerswap_init_channel_view_msat": dict(VIEW),
            "peerswap_init_update_counter": 41,
        },
        "peerswap_accept": {"peerswap_accept_id": H(POOL_ID), "peerswap_accept_hash": H(HASH), "peerswap_accept_pubkeys": pk_a},
        "peerswap_lightning": {"peerswap_lightning_id": H(POOL_ID), "peerswap_lightning_hash": H(HASH)},
        "peerswap_success": {
            "peerswap_success_id": H(POOL_ID),
            "peerswap_success_hash": H(HASH),
            "peerswap_success_ephemeral_privkey": {"encrypted_key": "a5" * 32, "encryption_pubkey": H(KEYS["encryption"])},
        },
        "peerswap_reject": {
            "peerswap_reject_id": H(POOL_ID),
            "peerswap_reject_hash": H(HASH),
            "peerswap_reject_reason_code": 4,
            "peerswap_reject_channel_view_msat": dict(VIEW),
        },
    }[name]


# ---- file builder ---------------------------------------------------------------------------


class VectorFile:
    def __init__(self, kind, title, document, section, notes, source=None, comment="", covers=None):
        self.header = {"formatVersion": 1, "kind": kind, "title": title,
                       "spec": {"document": document, "section": section, "commit": SPEC_COMMIT}}
        if source:
            self.header["source"] = source
        self.notes = notes
        self.groups = []
        self.next_id = 1
        self.comment = comment
        # Requirement ids (spec-mirror/sidepool/<revision>/requirements.yaml) the whole file exercises.
        self.covers = list(covers or [])

    def group(self, comment, covers=None, **fields):
        g = {"comment": comment, **({"covers": list(covers)} if covers else {}), **fields, "tests": []}
        self.groups.append(g)
        return self

    def add(self, comment, flags, result, error=None, covers=None, **fields):
        for f in flags:
            assert f in self.notes, f"flag {f} lacks a note"
        t = {"tcId": self.next_id, "comment": comment, "flags": list(flags),
             **({"covers": list(covers)} if covers else {}), **fields, "result": result}
        if error:
            t["error"] = error
        self.groups[-1]["tests"].append(t)
        self.next_id += 1

    def doc(self):
        n = sum(len(g["tests"]) for g in self.groups)
        covers = {"covers": self.covers} if self.covers else {}
        return {**self.header, "numberOfTests": n, **covers, "notes": self.notes, "testGroups": self.groups}

    def text(self):
        return yamlout.dump(self.doc(), self.comment)


GENERATED = "Generated by tools/gen/wire_vectors.py; edit the generator, then rerun it."

# ---- bigsize ---------------------------------------------------------------------------------


def bolt1_bigsize_cases():
    path = os.path.join(ROOT, "spec-mirror", "external-vectors", "bolt01-bigsize-appendix-a.md")
    text = open(path, encoding="utf-8").read()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    return json.loads(blocks[0]), json.loads(blocks[1])


def bigsize_file():
    notes = {
        "Bolt1AppendixA": "Imported unchanged from BOLT 1 Appendix A; lnd's error strings are mapped to error classes.",
        "Minimal": "The minimal encoding at a width boundary.",
        "NonMinimal": "A BigSize that fits a shorter form must be rejected (non_minimal_encoding).",
        "Truncated": "The input ends inside the BigSize (truncated).",
    }
    f = VectorFile("bigsize", "BigSize integers (types and lengths of TLVs, feature-set runs)", "SIDEPOOL-01",
                   "Sidepool Messaging Protocol", notes, comment=GENERATED, source={
                       "name": "BOLT 1 Appendix A: BigSize Test Vectors (first two groups)",
                       "repository": "lightning/bolts", "commit": "a3772650d8ebc06acf457fcadf97968ebfc4dfff",
                       "file": "01-messaging.md", "licence": "CC-BY 4.0"})
    decoding, encoding = bolt1_bigsize_cases()
    error_class = {"decoded bigsize is not canonical": "non_minimal_encoding",
                   "unexpected EOF": "truncated", "EOF": "truncated"}
    f.group("BOLT 1 Appendix A, BigSize Decoding Tests")
    for c in decoding:
        if "exp_error" in c:
            cls = error_class[c["exp_error"]]
            f.add(c["name"], ["Bolt1AppendixA", "NonMinimal" if cls == "non_minimal_encoding" else "Truncated"],
                  "invalid", cls, encoded=c["bytes"])
        else:
            f.add(c["name"], ["Bolt1AppendixA"], "valid", encoded=c["bytes"], value=c["value"])
    f.group("BOLT 1 Appendix A, BigSize Encoding Tests (checked both ways)")
    for c in encoding:
        f.add(c["name"], ["Bolt1AppendixA"], "valid", encoded=c["bytes"], value=c["value"])
    f.group("Width boundaries and values in between")
    for v in [1, 0x7F, 0x80, 0xFE - 2, 0xFE, 0xFF, 0x100, 0x1234, 0xFFFE, 0x10001, 0xFFFFFF, 0x1000000,
              0xFFFFFFFE, 0x100000001, 2**56, 2**63, U64_MAX - 1]:
        f.add(f"{v:#x}", ["Minimal"], "valid", encoded=H(bigsize(v)), value=v)
    f.group("Non-minimal encodings at every width")
    for enc, why in [("fd0000", "0 in three bytes"), ("fd00fc", "0xfc in three bytes"), ("fe00000000", "0 in five bytes"),
                     ("fe000000fd", "0xfd in five bytes"), ("fe0000fffe", "0xfffe in five bytes"),
                     ("ff0000000000000000", "0 in nine bytes"), ("ff0000000000010000", "0x10000 in nine bytes"),
                     ("ff00000000fffffffe", "0xfffffffe in nine bytes")]:
        f.add(why, ["NonMinimal"], "invalid", "non_minimal_encoding", encoded=enc)
    f.group("Truncated encodings")
    for enc in ["fdff", "fe0001", "fe000100", "ff00000001", "ff000000010000", "ff00000001000000"]:
        f.add(f"{len(enc) // 2} bytes of a {'3' if enc[:2] == 'fd' else '5' if enc[:2] == 'fe' else '9'}-byte form",
              ["Truncated"], "invalid", "truncated", encoded=enc)
    return f


# ---- TLV streams ----------------------------------------------------------------------------


def tlv_file():
    notes = {
        "Empty": "An empty stream is valid.",
        "UnknownOdd": "Unknown odd types are skipped and kept (a re-encode is byte-identical).",
        "UnknownEven": "Unknown even types are rejected (unknown_even_type).",
        "Known": "Types the reader knows are accepted with any value.",
        "Duplicate": "A type equal to the previous one (tlv_duplicate).",
        "OutOfOrder": "A type lower than the previous one (tlv_out_of_order).",
        "NonMinimal": "A type or length BigSize not minimally encoded (non_minimal_encoding).",
        "Truncated": "The stream ends inside a type, a length or a value (truncated).",
        "WideTypes": "Types in the 3-, 5- and 9-byte BigSize forms.",
        "FirstErrorWins": "With several problems, the first offending record in stream order decides the class.",
    }
    f = VectorFile("tlv_stream", "TLV streams (BOLT 1 format, SIDEPOOL-01 numbering)", "SIDEPOOL-01",
                   "Sidepool Messaging Protocol", notes, comment=GENERATED)

    def ok(comment, flags, recs):
        f.add(comment, flags, "valid", stream=H(stream(recs)),
              records=[{"type": t, "value": H(v)} for t, v in recs])

    def bad(comment, flags, raw, err):
        f.add(comment, flags, "invalid", err, stream=H(raw))

    f.group("A reader that knows no types", known_types=[])
    ok("empty stream", ["Empty"], [])
    ok("one odd record", ["UnknownOdd"], [(1, b"\xaa")])
    ok("odd record with empty value", ["UnknownOdd"], [(3, b"")])
    ok("several odd records in order", ["UnknownOdd"], [(1, b"\x01"), (3, b"\x02\x03"), (5, b"")])
    ok("odd types in every BigSize width", ["UnknownOdd", "WideTypes"],
       [(0xFB, b"x"), (0xFD, b"y"), (0x10001, b"z"), (0x100000001, b""), (U64_MAX, b"\x00")])
    ok("odd record with a 253-byte value (3-byte length)", ["UnknownOdd"], [(7, bytes(range(253)))])
    bad("even type 0", ["UnknownEven"], stream([(0, b"")]), "unknown_even_type")
    bad("even type 2 after odd 1", ["UnknownEven"], stream([(1, b""), (2, b"\x00")]), "unknown_even_type")
    bad("even 5-byte type", ["UnknownEven", "WideTypes"], stream([(100006, b"")]), "unknown_even_type")
    bad("even type 2^64-2", ["UnknownEven", "WideTypes"], stream([(U64_MAX - 1, b"")]), "unknown_even_type")
    bad("duplicate odd type", ["Duplicate"], stream([(1, b""), (1, b"")]), "tlv_duplicate")
    bad("duplicate wide type", ["Duplicate", "WideTypes"], stream([(0x10001, b"a"), (0x10001, b"b")]), "tlv_duplicate")
    bad("decreasing types", ["OutOfOrder"], stream([(5, b""), (3, b"")]), "tlv_out_of_order")
    bad("3-byte type then a smaller 1-byte type", ["OutOfOrder", "WideTypes"], stream([(0xFD, b""), (0xFB, b"")]), "tlv_out_of_order")
    bad("non-minimal type", ["NonMinimal"], record(1, b"", type_enc=b"\xfd\x00\x01"), "non_minimal_encoding")
    bad("non-minimal length", ["NonMinimal"], record(1, b"\x00", len_enc=b"\xfd\x00\x01"), "non_minimal_encoding")
    bad("non-minimal 9-byte type", ["NonMinimal"], record(1, b"", type_enc=b"\xff" + u(1, 8)), "non_minimal_encoding")
    bad("type cut inside its BigSize", ["Truncated"], b"\xfd\x01", "truncated")
    bad("type without a length", ["Truncated"], b"\x01", "truncated")
    bad("length cut inside its BigSize", ["Truncated"], b"\x01\xfd\x01", "truncated")
    bad("value shorter than its length", ["Truncated"], b"\x01\x02\xaa", "truncated")
    bad("length 2^64-1", ["Truncated"], b"\x01\xff" + u(U64_MAX, 8), "truncated")
    bad("good record, then a truncated one", ["Truncated"], stream([(1, b"")]) + b"\x03\x05", "truncated")
    bad("out of order before truncation", ["OutOfOrder", "FirstErrorWins"], stream([(5, b""), (3, b"")]) + b"\x07\x09", "tlv_out_of_order")
    bad("duplicate before an unknown even", ["Duplicate", "FirstErrorWins"], stream([(1, b""), (1, b""), (2, b"")]), "tlv_duplicate")

    f.group("A reader that knows the even types 2 and 4", known_types=[2, 4])
    ok("known even records", ["Known"], [(2, b"\x01"), (4, b"")])
    ok("known and unknown odd interleaved", ["Known", "UnknownOdd"], [(1, b""), (2, b"\xff"), (3, b"\x00"), (4, b"\x00\x00")])
    bad("unknown even 6 after known ones", ["UnknownEven"], stream([(2, b""), (4, b""), (6, b"")]), "unknown_even_type")
    bad("known type duplicated", ["Duplicate", "Known"], stream([(2, b""), (2, b"")]), "tlv_duplicate")
    bad("known types out of order", ["OutOfOrder", "Known"], stream([(4, b""), (2, b"")]), "tlv_out_of_order")
    bad("unknown even 0 before known 2", ["UnknownEven"], stream([(0, b""), (2, b"")]), "unknown_even_type")
    bad("known record truncated", ["Truncated", "Known"], b"\x02\x03\x00\x00", "truncated")
    bad("unknown even before an out-of-order pair", ["UnknownEven", "FirstErrorWins"], stream([(6, b""), (2, b"")]), "unknown_even_type")

    f.group("A reader for peerswap_init's even types", known_types=[100000, 100002, 100004, 100008, 100010, 100012, 100014, 100016])
    ok("the reserved range's odd type 100001 is kept", ["UnknownOdd", "WideTypes"], [(100000, b"\x00" * 16), (100001, b"\x01")])
    bad("100006, skipped by the spec's numbering, is an unknown even type", ["UnknownEven", "WideTypes"],
        stream([(100004, b"\x00" * 8), (100006, b"")]), "unknown_even_type")
    bad("a type just past the reserved range (100100) is unknown even", ["UnknownEven", "WideTypes"],
        stream([(100000, b"\x00" * 16), (100100, b"")]), "unknown_even_type")
    ok("odd type just past the reserved range is kept", ["UnknownOdd", "WideTypes"], [(100016, b"\x00\x01"), (100101, b"")])
    return f


# ---- envelope -------------------------------------------------------------------------------


def envelope_file():
    notes = {
        "Known": "A sub-id this reference knows; the TLV stream is split off unparsed.",
        "UnknownOdd": "Unknown odd sub-ids are ignorable (it's ok to be odd).",
        "UnknownEven": "Unknown even sub-ids are an error (unknown_even_message).",
        "NotSidepool": "The BOLT 8 message type is not 53609 (not_sidepool).",
        "Truncated": "Fewer than 2 bytes of type or of sub-id (truncated).",
    }
    f = VectorFile("envelope", "The sidepool envelope: BOLT 8 type 53609, 16-bit sub-id, TLV stream", "SIDEPOOL-01",
                   "Sidepool Messaging Protocol", notes, comment=GENERATED)
    f.group("Envelopes")

    def ok(comment, flags, sub, tlvs, ignored=False):
        f.add(comment, flags, "valid", message=H(envelope(sub, tlvs)), sub_id=sub, tlvs=H(tlvs), ignored=ignored)

    for name, (sub, _) in MESSAGES.items():
        ok(f"{name} ({sub}) with an empty stream", ["Known"], sub, b"")
    ok("peerswap_init with some TLV bytes (not parsed here)", ["Known"], 1000, b"\x01\x00")
    for sub in [1, 1001, 1003, 1099, 53609, 65535]:
        ok(f"unknown odd sub-id {sub}", ["UnknownOdd"], sub, b"\x01\x00", ignored=True)
    for sub in [0, 100, 102, 1006, 1008, 1012, 1096, 65534]:
        f.add(f"unknown even sub-id {sub}", ["UnknownEven"], "invalid", "unknown_even_message", message=H(envelope(sub, b"")))
    for typ, why in [(16, "BOLT 1 init"), (18, "BOLT 1 ping"), (53608, "one below 53609"), (53610, "one above 53609"),
                     (0x69D1, "53609 byte-swapped")]:
        f.add(f"type {typ} ({why})", ["NotSidepool"], "invalid", "not_sidepool", message=H(u(typ, 2) + u(1000, 2)))
    for raw, why in [(b"", "empty message"), (b"\xd1", "one byte of type"), (b"\xd1\x69", "type but no sub-id"),
                     (b"\xd1\x69\x03", "one byte of sub-id")]:
        f.add(why, ["Truncated"], "invalid", "truncated", message=H(raw))
    return f


# ---- feature sets ---------------------------------------------------------------------------


def features_file():
    notes = {
        "SpecExample": "The spec's own example: bits {1, 2, 42} <-> 01 00 27, and the empty set <-> no bytes.",
        "Canonical": "A valid set; its canonical encoding is the input.",
        "UnknownEven": "Decodes, but an unknown even bit forbids sending sidepool messages to the peer.",
        "WideRun": "Zero runs in the 3-, 5- and 9-byte BigSize forms.",
        "NonMinimal": "A run length not minimally encoded (non_minimal_encoding).",
        "Truncated": "The encoding ends inside a run length (truncated).",
        "Overflow": "The bit index passes 2^64 - 1 (invalid_value).",
    }
    f = VectorFile("feature_set", "SIDEPOOL feature sets: run-length encoding of a bit array", "SIDEPOOL-01",
                   "SIDEPOOL-protocol Feature Set", notes, comment=GENERATED,
                   covers=["sp01.sidepool-protocol-feature-set.6"])
    f.group("Feature sets (known bits: 1 = peerswap_in_sidepool)")

    def ok(comment, flags, bits):
        allows = not any(b % 2 == 0 for b in bits)  # the only known bit, 1, is odd
        # An unknown even bit: "you MUST NOT send any `sidepool_message_id` messages to that counterparty".
        covers = [] if allows else ["sp01.sidepool-protocol-feature-set.1"]
        f.add(comment, flags, "valid", covers=covers, encoded=H(feature_set(bits)), bits=sorted(set(bits)),
              allows_sidepool_messages=allows)

    ok("bits 1, 2 and 42 (the spec's example: 2 and 42 are unknown even bits)", ["SpecExample", "UnknownEven"], [1, 2, 42])
    ok("the empty set", ["SpecExample", "Canonical"], [])
    ok("peerswap_in_sidepool only", ["Canonical"], [1])
    ok("bit 0 only (unknown even)", ["UnknownEven"], [0])
    ok("bits 0 and 1", ["UnknownEven"], [0, 1])
    ok("bits 1 and 3", ["Canonical"], [1, 3])
    ok("bits 1 and 4", ["UnknownEven"], [1, 4])
    ok("bit 252 (largest one-byte run)", ["UnknownEven"], [252])
    ok("bit 253 (first three-byte run)", ["Canonical", "WideRun"], [253])
    ok("bits 1 and 255", ["Canonical", "WideRun"], [1, 255])
    ok("bit 65535", ["Canonical", "WideRun"], [65535])
    ok("bit 65537", ["Canonical", "WideRun"], [65537])
    ok("bit 2^32 + 1", ["Canonical", "WideRun"], [2**32 + 1])
    ok("bit 2^64 - 1 (the last representable bit)", ["Canonical", "WideRun"], [U64_MAX])
    ok("consecutive odd bits 1, 3, 5, 7", ["Canonical"], [1, 3, 5, 7])
    ok("bits 1 and 1263", ["Canonical", "WideRun"], [1, 1263])
    ok("bits 1, 2, 3, 4 (two unknown even)", ["UnknownEven"], [1, 2, 3, 4])
    for enc, why in [("fd0001", "run 1 in three bytes"), ("fd00fc", "run 252 in three bytes"),
                     ("01fe0000ffff", "run 0xffff in five bytes after a good run"), ("ff0000000000000001", "run 1 in nine bytes")]:
        f.add(why, ["NonMinimal"], "invalid", "non_minimal_encoding", encoded=enc)
    for enc, why in [("fd", "run cut after 0xfd"), ("01fd00", "second run cut"), ("fe000100", "five-byte run cut"),
                     ("ffffffff", "nine-byte run cut")]:
        f.add(why, ["Truncated"], "invalid", "truncated", encoded=enc)
    f.add("bit 2^64 - 1, then one more bit", ["Overflow"], "invalid", "invalid_value",
          encoded=H(bigsize(U64_MAX) + b"\x00"))
    f.add("two runs summing past 2^64", ["Overflow"], "invalid", "invalid_value",
          encoded=H(bigsize(2**63) + bigsize(2**63)))
    return f


# ---- messages -------------------------------------------------------------------------------

MSG_NOTES = {
    "Valid": "A well-formed message; decode gives the fields, the fields encode back to the same bytes.",
    "Optional": "An optional TLV present or absent.",
    "UnknownOdd": "Unknown odd TLVs are kept and re-encoded byte-identically.",
    "UnknownEven": "An unknown even TLV (unknown_even_type).",
    "MissingRequired": "A required TLV is absent (missing_required).",
    "BadLength": "A known TLV of the wrong length (bad_length).",
    "InvalidValue": "A known TLV of the right length whose value breaks its definition (invalid_value).",
    "Duplicate": "A TLV repeated (tlv_duplicate).",
    "OutOfOrder": "TLVs out of order (tlv_out_of_order).",
    "NonMinimal": "A TLV type or length not minimally encoded (non_minimal_encoding).",
    "Truncated": "The message ends inside a TLV (truncated).",
    "Boundary": "A value at the edge of what its definition allows.",
    "HopsOutOfRange": "peerswap_init_hops above 10 decodes (acceptable) so the receiver can answer reject code 7 (ERRATA E-04).",
    "HopsRequired": "peerswap_init_hops is read as required although the spec omits 'Required.' (ERRATA E-03); a receiver still rejects such an init when its id and hash are readable.",
    "CounterNeverCorrect": "Decodes, but no swap party has this counter before its expansion phase (it must be odd, and 2047 has no successor: SIDEPOOL-02), so a receiver rejects it (ERRATA E-05).",
    "Envelope": "Envelope-level outcomes: an unknown odd sub-id is ignored; a non-53609 type is not_sidepool.",
}


def message_file(name):
    sub_id, defs = MESSAGES[name]
    base = base_fields(name)
    f = VectorFile("message", f"{name} ({sub_id})", "SIDEPOOL-04" if name == "swap_party_begin" else
                   "SIDEPOOL-01" if name == "my_sidepool_features" else "SIDEPOOL-10",
                   {"my_sidepool_features": "SIDEPOOL-protocol Feature Set", "swap_party_begin": "Swap Party Initiation",
                    "peerswap_init": "Initiating Peerswap", "peerswap_accept": "Accepting Peerswap",
                    "peerswap_lightning": "In-Lightning HTLC Propagation", "peerswap_success": "Success Path",
                    "peerswap_reject": "Rejecting Peerswap"}[name], MSG_NOTES, comment=GENERATED)
    base_range = sub_id * 100

    def ok(comment, flags, fields, unknown=(), result="valid"):
        raw = encode_message(name, fields, unknown)
        t = {"hex": H(raw), "message": name, "sub_id": sub_id, "fields": fields_view(name, fields)}
        if unknown:
            t["unknown_tlvs"] = [{"type": ty, "value": H(v)} for ty, v in sorted(unknown)]
        f.add(comment, flags, result, **t)

    def bad(comment, flags, raw, err):
        f.add(comment, flags, "invalid", err, hex=H(raw))

    def recs(fields=None):
        return sorted(records_of(name, fields or base), key=lambda r: r[0])

    def env(records_bytes):
        return envelope(sub_id, records_bytes)

    f.group("Well-formed")
    ok("minimal well-formed message", ["Valid"], base)
    optional = [d for d in defs if not d[3]]
    full = dict(base)
    for n, _, _, _, _ in optional:
        full[n] = optional_value(n)
    if optional:
        ok("every optional TLV present", ["Valid", "Optional"], full)
        for n, *_ in optional:
            ok(f"only optional {n}", ["Valid", "Optional"], {**base, n: optional_value(n)})
    ok("unknown odd TLV inside the reserved range", ["UnknownOdd"], base, [(base_range + 99, b"\x01\x02")])
    ok("unknown odd TLV before the first known one", ["UnknownOdd"], base, [(1, b"")])
    ok("unknown odd TLVs before and after, in other widths", ["UnknownOdd"], base, [(0xFD, b"\xaa"), (U64_MAX, b"")])
    ok("unknown odd TLV between known ones", ["UnknownOdd"], base, [(defs[0][1] + 1, b"\x00" * 3)])
    for n, v, flags, result in specific_valid(name):
        ok(n, flags, {**base, **v}, result=result)

    f.group("Malformed TLV streams")
    for n, t, _, req, _ in defs:
        if req:
            bad(f"{n} missing", ["MissingRequired"] + (["HopsRequired"] if n == "peerswap_init_hops" else []),
                env(stream([r for r in recs(full) if r[0] != t])), "missing_required")
    for n, t, enc, _, lens in defs:
        if lens is None:
            continue
        value = enc(full[n])
        lo, hi = lens
        short = value[:lo - 1] if lo > 0 else None
        longer = (value + b"\x00" * (hi + 1 - len(value)))
        if short is not None:
            bad(f"{n} one byte shorter than {lo}", ["BadLength"], env(stream([(ty, short if ty == t else v) for ty, v in recs(full)])), "bad_length")
        if hi - lo < 1024 or len(longer) <= 16385:
            bad(f"{n} longer than {hi}", ["BadLength"], env(stream([(ty, longer if ty == t else v) for ty, v in recs(full)])), "bad_length")
    rs = recs(full)
    bad("first TLV duplicated", ["Duplicate"], env(stream([rs[0]] + rs)), "tlv_duplicate")
    bad("last TLV duplicated", ["Duplicate"], env(stream(rs + [rs[-1]])), "tlv_duplicate")
    if len(rs) >= 2:
        bad("first two TLVs swapped", ["OutOfOrder"], env(stream([rs[1], rs[0]] + rs[2:])), "tlv_out_of_order")
        bad("last two TLVs swapped", ["OutOfOrder"], env(stream(rs[:-2] + [rs[-1], rs[-2]])), "tlv_out_of_order")
    bad("unknown even TLV inside the reserved range", ["UnknownEven"],
        env(stream(sorted(rs + [(base_range + 98, b"")]))), "unknown_even_type")
    bad("unknown even TLV 2, outside the reserved range", ["UnknownEven"], env(stream(sorted(rs + [(2, b"\x00")]))), "unknown_even_type")
    t0, v0 = rs[0]
    bad("first type in a non-minimal 9-byte form", ["NonMinimal"],
        env(record(t0, v0, type_enc=b"\xff" + u(t0, 8)) + stream(rs[1:])), "non_minimal_encoding")
    bad("first length in a non-minimal 3-byte form", ["NonMinimal"],
        env(record(t0, v0, len_enc=b"\xfd" + u(len(v0), 2)) + stream(rs[1:])), "non_minimal_encoding")
    whole = env(stream(rs))
    bad("last byte cut off", ["Truncated"], whole[:-1], "truncated")
    bad("cut inside the first type", ["Truncated"], whole[:4 + 2], "truncated")
    if v0:
        bad("cut after the first length, before its value", ["Truncated"],
            whole[:4 + len(bigsize(t0)) + len(bigsize(len(v0)))], "truncated")
    for n, raw, flags, err in specific_invalid(name, rs, env):
        bad(n, flags, raw, err)

    f.group("Envelope outcomes around this message")
    odd = sub_id + 1 if sub_id % 2 == 0 else sub_id + 2
    f.add(f"sub-id {odd} (odd, unknown) is ignored", ["Envelope"], "valid",
          hex=H(envelope(odd, stream(rs))), message=None, sub_id=odd, ignored=True)
    bad("the same TLVs under BOLT 8 type 53608", ["Envelope"], u(53608, 2) + u(sub_id, 2) + stream(rs), "not_sidepool")
    return f


def optional_value(n):
    return {
        "swap_party_begin_irregular_authorization": {"xonly_pubkey": H(KEYS["offerrer_persistent"][1:]),
                                                     "amount_sat": 25_000, "signature": "5a" * 64},
        "peerswap_lightning_payment_secret": "11" * 32,
        "peerswap_lightning_payment_metadata": "deadbeef",
        "peerswap_reject_reason_text": "amount too large for my channels",
    }[n]


def specific_valid(name):
    """(comment, field overrides, flags, result)"""
    out = []
    if name == "peerswap_init":
        out += [("hops 0", {"peerswap_init_hops": 0}, ["Boundary"], "valid"),
                ("hops 10", {"peerswap_init_hops": 10}, ["Boundary"], "valid"),
                ("hops 11 decodes so the receiver can reject it with code 7", {"peerswap_init_hops": 11}, ["HopsOutOfRange"], "acceptable"),
                ("hops 255", {"peerswap_init_hops": 255}, ["HopsOutOfRange"], "acceptable"),
                ("update counter 2047, the largest 11-bit value", {"peerswap_init_update_counter": 2047}, ["Boundary", "CounterNeverCorrect"], "acceptable"),
                ("update counter 0 (even: a receiver rule, not a codec rule)", {"peerswap_init_update_counter": 0}, ["Boundary", "CounterNeverCorrect"], "acceptable"),
                ("amount 0 sat decodes (the minimum is a receiver rule)", {"peerswap_init_amount_sat": 0}, ["Boundary"], "valid"),
                ("amount 2^64-1 sat", {"peerswap_init_amount_sat": U64_MAX}, ["Boundary"], "valid"),
                ("timeouts at 2^32-1", {"peerswap_init_timeouts": {"sidepool": 2**32 - 1, "lightning": 2**32 - 1}}, ["Boundary"], "valid"),
                ("channel view at 2^64-1", {"peerswap_init_channel_view_msat": {"owned_by_offerrer": U64_MAX, "owned_by_acceptor": U64_MAX, "total_capacity": U64_MAX}}, ["Boundary"], "valid"),
                ("odd-parity keys (0x03 prefix)", {"peerswap_init_pubkeys": {"ephemeral": H(odd_key(1)), "persistent": H(odd_key(2))}}, ["Boundary"], "valid")]
    if name == "peerswap_reject":
        for code in [0, 1, 2, 3, 5, 6, 7, 8, 65534, 65535]:
            out.append((f"reason code {code}", {"peerswap_reject_reason_code": code}, ["Valid"], "valid"))
        out += [("reason text of 1 byte", {"peerswap_reject_reason_text": "x"}, ["Boundary", "Optional"], "valid"),
                ("reason text of 255 bytes", {"peerswap_reject_reason_text": "r" * 255}, ["Boundary", "Optional"], "valid"),
                ("multi-byte UTF-8 reason text", {"peerswap_reject_reason_text": "montant trop élevé ⚡"}, ["Optional"], "valid"),
                ("reason text with control characters (a display concern, not a codec one)", {"peerswap_reject_reason_text": "a\u0007b\u001b[2Jc"}, ["Optional"], "valid")]
    if name == "peerswap_lightning":
        out += [("metadata of 1 byte", {"peerswap_lightning_payment_metadata": "00"}, ["Boundary", "Optional"], "valid"),
                ("metadata of 16384 bytes", {"peerswap_lightning_payment_metadata": "ab" * 16384}, ["Boundary", "Optional"], "valid")]
    if name == "my_sidepool_features":
        out += [("the empty feature set (a zero-length TLV value)", {"my_sidepool_features_set": {"bits": []}}, ["Boundary"], "valid"),
                ("the spec's example set {1, 2, 42} decodes (its even bits matter to the session, not the codec)",
                 {"my_sidepool_features_set": {"bits": [1, 2, 42]}}, ["Valid"], "valid"),
                ("a wide bit 1263", {"my_sidepool_features_set": {"bits": [1, 1263]}}, ["Valid"], "valid")]
    if name == "peerswap_success":
        out += [("encrypted key of all zeros", {"peerswap_success_ephemeral_privkey": {"encrypted_key": "00" * 32, "encryption_pubkey": H(odd_key(3))}}, ["Boundary"], "valid")]
    return out


def odd_key(start):
    k = start
    while True:
        p = point(k)
        if p[0] == 3:
            return p
        k += 1


def replace(rs, typ, value):
    return [(t, value if t == typ else v) for t, v in rs]


def specific_invalid(name, rs, env):
    out = []
    if name in ("peerswap_init", "peerswap_accept"):
        t = 100002 if name == "peerswap_init" else 100204
        good = dict(rs)[t]
        for what, key, part in [("ephemeral key x = 0 (not on the curve)", NOT_A_POINT, 0),
                                ("persistent key x = 0 (not on the curve)", NOT_A_POINT, 1),
                                ("ephemeral key with x >= p", X_TOO_BIG, 0),
                                ("ephemeral key with prefix 0x04", BAD_PREFIX, 0),
                                ("persistent key with prefix 0x00", b"\x00" + good[34:], 1)]:
            val = key + good[33:] if part == 0 else good[:33] + key
            out.append((what, env(stream(replace(rs, t, val))), ["InvalidValue"], "invalid_value"))
    if name == "peerswap_init":
        for c in [2048, 4095, 65535]:
            out.append((f"update counter {c} does not fit in 11 bits", env(stream(replace(rs, 100016, u(c, 2)))), ["InvalidValue"], "invalid_value"))
        out.append(("bad pubkeys before a missing counter: the first offending record wins",
                    env(stream([r for r in replace(rs, 100002, NOT_A_POINT + NOT_A_POINT) if r[0] != 100016])), ["InvalidValue"], "invalid_value"))
        out.append(("bad length of the first TLV before a truncated tail",
                    env(stream(replace(rs, 100000, b"\x00" * 15)))[:-1], ["BadLength"], "bad_length"))
    if name == "peerswap_reject":
        rs = [r for r in rs if r[0] != 109806]
        out += [("reason text of 0 bytes", env(stream(sorted(rs + [(109806, b"")]))), ["BadLength"], "bad_length"),
                ("reason text of 256 bytes", env(stream(sorted(rs + [(109806, b"r" * 256)]))), ["BadLength"], "bad_length"),
                ("reason text not UTF-8 (0xff)", env(stream(sorted(rs + [(109806, b"ok\xff")]))), ["InvalidValue"], "invalid_value"),
                ("reason text with a lone continuation byte", env(stream(sorted(rs + [(109806, b"\x80")]))), ["InvalidValue"], "invalid_value"),
                ("reason text with an overlong encoding of '/'", env(stream(sorted(rs + [(109806, b"\xc0\xaf")]))), ["InvalidValue"], "invalid_value")]
    if name == "peerswap_lightning":
        rs = [r for r in rs if r[0] != 100406]
        out += [("metadata of 0 bytes", env(stream(sorted(rs + [(100406, b"")]))), ["BadLength"], "bad_length"),
                ("metadata of 16385 bytes", env(stream(sorted(rs + [(100406, b"\xab" * 16385)]))), ["BadLength"], "bad_length")]
    if name == "peerswap_success":
        good = dict(rs)[101004]
        out += [("encryption public key x = 0", env(stream(replace(rs, 101004, good[:32] + NOT_A_POINT))), ["InvalidValue"], "invalid_value"),
                ("encryption public key with prefix 0x04", env(stream(replace(rs, 101004, good[:32] + BAD_PREFIX))), ["InvalidValue"], "invalid_value")]
    if name == "my_sidepool_features":
        out += [("feature set with a non-minimal run", env(stream(replace(rs, 10100, b"\xfd\x00\x01"))), ["NonMinimal"], "non_minimal_encoding"),
                ("feature set with a truncated run", env(stream(replace(rs, 10100, b"\x01\xfd\x00"))), ["Truncated"], "truncated"),
                ("feature set overflowing 2^64 bits", env(stream(replace(rs, 10100, bigsize(2**63) + bigsize(2**63)))), ["InvalidValue"], "invalid_value")]
    return out


# ---- main -----------------------------------------------------------------------------------


def files():
    out = {
        "vectors/wire/bigsize.yaml": bigsize_file(),
        "vectors/wire/tlv_stream.yaml": tlv_file(),
        "vectors/wire/envelope.yaml": envelope_file(),
        "vectors/wire/feature_set.yaml": features_file(),
    }
    for name in MESSAGES:
        out[f"vectors/messages/{name}.yaml"] = message_file(name)
    return out


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    total = 0
    for rel, f in files().items():
        text = f.text()
        total += f.doc()["numberOfTests"]
        path = os.path.join(ROOT, rel)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(rel)
            if not check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as out:
                    out.write(text)
    if check and stale:
        print("stale vector files (rerun tools/gen/wire_vectors.py):", *stale, sep="\n  ")
        return 1
    print(f"{len(files())} files, {total} cases" + ("" if check else f", {len(stale)} rewritten"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
