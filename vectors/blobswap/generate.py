#!/usr/bin/env python3
"""Writes the BLOBSWAP-01 vectors in this directory (stdlib only).

    python3 vectors/blobswap/generate.py          # rewrite the files
    python3 vectors/blobswap/generate.py --check  # exit 1 if a committed file differs

A second implementation, written from spec-mirror/blobswap/01-blobswap.md and the BIPs, not from the
Rust reference: secp256k1, BIP-340 signing, BIP-341 trees, tweaks and signature messages, the
transactions and the timing formulas are all computed here. The machine scripts' expected actions
are written out by hand below, step by step, from the spec's requirements; only their bytes (txids,
signatures, witnesses) are computed. The committed files are the truth: a test runs --check.
"""
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMIT = "9d25c88afa430f9688265db154a72bfb33f9b9d5"
SPEC = "BLOBSWAP-01"

# ---- secp256k1, BIP-340 ------------------------------------------------------------------

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def point_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and a[1] != b[1]:
        return None
    if a == b:
        lam = (3 * a[0] * a[0] * pow(2 * a[1], P - 2, P)) % P
    else:
        lam = ((b[1] - a[1]) * pow(b[0] - a[0], P - 2, P)) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def _jdouble(a):
    x, y, z = a
    if y == 0:
        return (0, 0, 0)
    s = 4 * x * y * y % P
    m = 3 * x * x % P
    x2 = (m * m - 2 * s) % P
    return (x2, (m * (s - x2) - 8 * pow(y, 4, P)) % P, 2 * y * z % P)


def _jadd(a, b):
    if a[2] == 0:
        return b
    if b[2] == 0:
        return a
    z1s, z2s = a[2] * a[2] % P, b[2] * b[2] % P
    u1, u2 = a[0] * z2s % P, b[0] * z1s % P
    s1, s2 = a[1] * z2s * b[2] % P, b[1] * z1s * a[2] % P
    if u1 == u2:
        return _jdouble(a) if s1 == s2 else (0, 0, 0)
    h, r = (u2 - u1) % P, (s2 - s1) % P
    h2 = h * h % P
    h3 = h * h2 % P
    x3 = (r * r - h3 - 2 * u1 * h2) % P
    return (x3, (r * (u1 * h2 - x3) - s1 * h3) % P, h * a[2] * b[2] % P)


def point_mul(pt, n):
    """n * pt, in Jacobian coordinates (one inversion at the end)."""
    r, q = (0, 0, 0), (pt[0], pt[1], 1)
    for i in range(256):
        if (n >> i) & 1:
            r = _jadd(r, q)
        q = _jdouble(q)
    if r[2] == 0:
        return None
    zi = pow(r[2], P - 2, P)
    return (r[0] * zi * zi % P, r[1] * zi * zi * zi % P)


def lift_x(x):
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    assert pow(y, 2, P) == y_sq, "not an x coordinate"
    return (x, y if y % 2 == 0 else P - y)


def b32(n):
    return n.to_bytes(32, "big")


def i32(b):
    return int.from_bytes(b, "big")


def sha256(b):
    return hashlib.sha256(b).digest()


def tagged(tag, msg):
    t = sha256(tag.encode())
    return sha256(t + t + msg)


def xonly(seckey):
    return b32(point_mul(G, i32(seckey))[0])


def schnorr_sign(msg, seckey, aux):
    d0 = i32(seckey)
    pk = point_mul(G, d0)
    d = d0 if pk[1] % 2 == 0 else N - d0
    t = bytes(x ^ y for x, y in zip(b32(d), tagged("BIP0340/aux", aux)))
    k0 = i32(tagged("BIP0340/nonce", t + b32(pk[0]) + msg)) % N
    r = point_mul(G, k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    e = i32(tagged("BIP0340/challenge", b32(r[0]) + b32(pk[0]) + msg)) % N
    return b32(r[0]) + b32((k + e * d) % N)


# ---- transactions -------------------------------------------------------------------------


def compact(n):
    assert n < 0xfd
    return bytes([n])


def le(n, size):
    return n.to_bytes(size, "little")


def outpoint(txid_display, vout):
    return bytes.fromhex(txid_display)[::-1] + le(vout, 4)


def tx_bytes(tx):
    """Non-witness serialization (for the txid): one input, one output."""
    return (le(tx["version"], 4) + compact(1) + outpoint(tx["txid"], tx["vout"]) + compact(0)
            + le(tx["sequence"], 4) + compact(1) + le(tx["out_value"], 8) + compact(len(tx["out_script"]))
            + tx["out_script"] + le(tx["lock_time"], 4))


def txid(tx):
    return hashlib.sha256(sha256(tx_bytes(tx))).digest()[::-1].hex()


def one_in_one_out(funding, value, fee, to, lock_time):
    assert fee < value
    return {"version": 2, "txid": funding[0], "vout": funding[1], "sequence": 0xfffffffd,
            "out_value": value - fee, "out_script": to, "lock_time": lock_time}


# ---- BLOBSWAP-01 "The shared output" ------------------------------------------------------

H_KEY = bytes.fromhex("50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0")
OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_SIZE, OP_EQUALVERIFY, OP_SHA256, OP_CLTV, OP_DROP = 0xac, 0xad, 0x82, 0x88, 0xa8, 0xb1, 0x75


def scriptnum(n):
    """A minimal script-number push (n > 16 here)."""
    assert n > 16
    out = []
    while n:
        out.append(n & 0xff)
        n >>= 8
    if out[-1] & 0x80:
        out.append(0)
    return bytes([len(out)]) + bytes(out)


def payout_leaf(user, ssp):
    return bytes([0x20]) + user + bytes([OP_CHECKSIGVERIFY, 0x20]) + ssp + bytes([OP_CHECKSIG])


def claim_leaf(h, user):
    return (bytes([OP_SIZE, 0x01, 0x20, OP_EQUALVERIFY, OP_SHA256, 0x20]) + h
            + bytes([OP_EQUALVERIFY, 0x20]) + user + bytes([OP_CHECKSIG]))


def refund_leaf(r, ssp):
    return scriptnum(r) + bytes([OP_CLTV, OP_DROP, 0x20]) + ssp + bytes([OP_CHECKSIG])


def leaf_hash(script):
    return tagged("TapLeaf", bytes([0xc0]) + compact(len(script)) + script)


def branch(a, b):
    return tagged("TapBranch", min(a, b) + max(a, b))


class Output:
    def __init__(self, h, user, ssp, r):
        self.h, self.user, self.ssp, self.r = h, user, ssp, r
        self.leaves = {"payout": payout_leaf(user, ssp), "claim": claim_leaf(h, user), "refund": refund_leaf(r, ssp)}
        lh = {k: leaf_hash(v) for k, v in self.leaves.items()}
        inner = branch(lh["claim"], lh["refund"])
        root = branch(lh["payout"], inner)
        tweak = tagged("TapTweak", H_KEY + root)
        q = point_add(lift_x(i32(H_KEY)), point_mul(G, i32(tweak)))
        self.output_key = b32(q[0])
        parity = q[1] % 2
        self.spk = bytes([0x51, 0x20]) + self.output_key
        paths = {"payout": [inner], "claim": [lh["refund"], lh["payout"]], "refund": [lh["claim"], lh["payout"]]}
        self.control = {k: bytes([0xc0 | parity]) + H_KEY + b"".join(v) for k, v in paths.items()}
        self.leaf_hashes = lh

    def sighash(self, tx, value, leaf):
        """BIP-341 signature message, SIGHASH_DEFAULT, script path, input 0 of one."""
        out = le(tx["out_value"], 8) + compact(len(tx["out_script"])) + tx["out_script"]
        msg = (bytes([0x00, 0x00]) + le(tx["version"], 4) + le(tx["lock_time"], 4)
               + sha256(outpoint(tx["txid"], tx["vout"])) + sha256(le(value, 8))
               + sha256(compact(len(self.spk)) + self.spk) + sha256(le(tx["sequence"], 4)) + sha256(out)
               + bytes([0x02]) + le(0, 4) + self.leaf_hashes[leaf] + bytes([0x00]) + b"\xff\xff\xff\xff")
        return tagged("TapSighash", msg)

    def witness(self, leaf, items):
        return [i.hex() for i in items] + [self.leaves[leaf].hex(), self.control[leaf].hex()]


# ---- the actors of the vectors ------------------------------------------------------------

USER_SK = bytes([0x11] * 32)
SSP_SK = bytes([0x22] * 32)
OTHER_SK = bytes([0x33] * 32)
AUX = bytes(32)
PREIMAGE = sha256(b"blobswap preimage")
H = sha256(PREIMAGE)
USER_KEY = xonly(USER_SK)
SSP_KEY = xonly(SSP_SK)
PAYOUT_SCRIPT = bytes([0x51, 0x20]) + sha256(b"user payout")
REFUND_SCRIPT = bytes([0x00, 0x14]) + sha256(b"ssp refund")[:20]
FUNDING = (sha256(b"blobswap funding").hex(), 1)
V, SWAP_FEE_MSAT, PAYOUT_FEE, REFUND_FEE, CLAIM_FEE = 100_000, 1000, 500, 500, 600
A_MSAT = V * 1000 + SWAP_FEE_MSAT


# ---- BLOBSWAP-01 "Timing constraints" -----------------------------------------------------

class Params:
    def __init__(self, s, c, w, d, m):
        self.s, self.c, self.w, self.d, self.m = s, c, w, d, m

    def json(self):
        return {"session_period": self.s, "confirmation_period": self.c, "reveal_window": self.w,
                "chain_delay": self.d, "settle_margin": self.m}

    def required(self):  # blob.timing.1, derivation (4) and (5)
        return self.s + self.c + self.w + 4 * self.d + self.m - 1

    def refund_height(self, e):  # the largest R of blob.timing.3
        return e - self.d - self.m

    def funding_latest(self, r):  # blob.timing.4: t + 3D + C + W - 1 <= R
        return r - (3 * self.d + self.c + self.w - 1)

    def presign_latest(self, r):  # blob.timing.5: t + C + W + 2D <= R
        return r - (self.c + self.w + 2 * self.d)

    def window(self, hc):  # opens at hc + C - 1, runs out at hW
        opens = hc + self.c - 1
        return opens, opens + self.w

    def reveal_ok(self, hc, r):  # blob.timing.6
        return self.window(hc)[1] + 2 * self.d <= r

    def claim_due_at(self, hc):  # blob.redeem.7
        return self.window(hc)[1] + self.d


EXAMPLE = Params(2, 2, 3, 2, 4)
WIDE = Params(6, 3, 12, 6, 24)
THIN = Params(0, 1, 1, 1, 0)
THRESHOLD = 500_000_000


# ---- a tiny YAML writer (flow style for small values) -------------------------------------

FLOW_LIMIT = 100


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def _flow(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def _emit(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x and len(_flow(x)) + len(pad) + len(k) > FLOW_LIMIT:
                out.append(f"{pad}{k}:")
                _emit(x, indent + 1, out)
            else:
                out.append(f"{pad}{k}: {_flow(x)}")
    else:
        for x in v:
            if isinstance(x, dict) and x and len(_flow(x)) + len(pad) > FLOW_LIMIT:
                inner = []
                _emit(x, indent + 1, inner)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_flow(x)}")


def dump(doc, header):
    out = [f"# {line}".rstrip() for line in header.strip().splitlines()]
    _emit(doc, 0, out)
    return "\n".join(out) + "\n"


class File:
    def __init__(self, kind, title, section, notes, covers=None):
        self.doc = {"formatVersion": 1, "kind": kind, "title": title,
                    "spec": {"document": SPEC, "section": section, "commit": COMMIT},
                    "numberOfTests": 0, "notes": notes}
        if covers:
            self.doc["covers"] = covers
        self.doc["testGroups"] = []
        self.n = 0

    def group(self, comment, **fields):
        g = {"comment": comment, **fields, "tests": []}
        self.doc["testGroups"].append(g)
        return g

    def test(self, g, comment, flags, result, covers=None, **fields):
        self.n += 1
        t = {"tcId": self.n, "comment": comment, "flags": flags}
        if covers:
            t["covers"] = covers
        t.update(fields)
        if isinstance(result, tuple):
            t["result"], t["error"] = result
        else:
            t["result"] = result
        g["tests"].append(t)
        self.doc["numberOfTests"] = self.n


INVALID = "invalid"

# ---- timing.yaml --------------------------------------------------------------------------


def timing_file():
    f = File("blobswap_timing", "BLOBSWAP-01 timing constraints at their bounds", "Timing constraints", {
        "Bound": "One block below, at, and one block above the bound of the constraint.",
        "Order": "Several reasons fail; the first in the requirement's order is reported.",
        "LargestRefundHeight": "Reading: the reference takes the largest refund height blob.timing.3 allows; any lower one that passes blob.timing.4 conforms too.",
        "SafetyOnlyBound": "Reading: blob.timing.6 refuses a reveal that would still be safe (tip + CHAIN_DELAY <= R) but leaves the SSP no time to pay out; an implementation that only keeps the safety bound is safe, not conformant to blob.timing.6.",
        "NotAHeight": "A refund height of 500000000 or more is a timestamp (BIP-65).",
        "Zeros": "The smallest parameters: SESSION_PERIOD and SETTLE_MARGIN may be 0, the other three must be at least 1.",
    })
    for p, label in ((EXAMPLE, "the example values"), (WIDE, "wide values"), (THIN, "the smallest values")):
        flags = ["Bound"] + (["Zeros"] if p is THIN else [])
        req = p.required()
        g = f.group(f"{label}: required delta {req}", params=p.json())
        for d, res in ((req - 1, (INVALID, "invoice_delta_too_small")), (req, "valid"), (req + 1, "valid")):
            f.test(g, f"invoice delta {d}", flags, res, ["blob.timing.1"], check="invoice_delta", delta=d)
        h7 = 1000
        for e, res in ((h7 + req - 1, (INVALID, "htlc_expiry_too_soon")), (h7 + req, "valid"), (h7 + req + 1, "valid")):
            f.test(g, f"session: h7 {h7}, E {e}", flags, res, ["blob.timing.2"], check="session", h7=h7, expiry=e)
        e = 2000
        r = p.refund_height(e)
        f.test(g, f"refund height for E {e}", ["LargestRefundHeight"], "acceptable", ["blob.timing.3"],
               check="refund_height", expiry=e, refund_height=r, ours="allowed")
        f.test(g, "E below CHAIN_DELAY + SETTLE_MARGIN: no refund height", flags, (INVALID, "no_refund_height"),
               ["blob.timing.3"], check="refund_height", expiry=p.d + p.m - 1)
        f.test(g, "E = CHAIN_DELAY + SETTLE_MARGIN: refund height 0", ["LargestRefundHeight"], "acceptable",
               ["blob.timing.3"], check="refund_height", expiry=p.d + p.m, refund_height=0, ours="allowed")
        for rr, res in ((r - 1, "valid"), (r, "valid"), (r + 1, (INVALID, "refund_too_close_to_expiry"))):
            f.test(g, f"T1: R {rr} against E {e}", flags, res, ["blob.timing.3"], check="refund_margin",
                   refund_height=rr, expiry=e)
        latest = p.funding_latest(r)
        for t, res in ((latest - 1, "valid"), (latest, "valid"), (latest + 1, (INVALID, "too_late_to_fund"))):
            f.test(g, f"funding at tip {t}, R {r}", flags, res, ["blob.timing.4"], check="funding", tip=t, refund_height=r)
        latest = p.presign_latest(r)
        for t, res in ((latest - 1, "valid"), (latest, "valid"), (latest + 1, (INVALID, "refund_too_soon"))):
            f.test(g, f"presign at tip {t}, R {r}", flags, res, ["blob.timing.5"], check="presign", tip=t, refund_height=r)
        hc = 1500
        opens, closes = p.window(hc)
        r_min = closes + 2 * p.d
        for rr, res in ((r_min - 1, (INVALID, "too_close_to_refund")), (r_min, "valid"), (r_min + 1, "valid")):
            f.test(g, f"T2: reveal at {opens} over hc {hc}, R {rr}", flags, res, ["blob.timing.6"], check="reveal",
                   tip=opens, funding_confirmed_at=hc, refund_height=rr)
        for t, res in ((opens - 1, (INVALID, "not_confirmed_enough")), (opens, "valid"), (closes - 1, "valid"),
                       (closes, (INVALID, "reveal_window_closed"))):
            f.test(g, f"window [{opens}, {closes}): reveal at {t}", flags, res, ["blob.reveal.1", "blob.reveal.2"],
                   check="reveal", tip=t, funding_confirmed_at=hc, refund_height=r_min)
        f.test(g, "too close to the refund and not yet confirmed: the deadline is reported", ["Order"],
               (INVALID, "too_close_to_refund"), ["blob.timing.6"], check="reveal", tip=opens - 1,
               funding_confirmed_at=hc, refund_height=r_min - 1)
        f.test(g, "too close to the refund and the window closed: the deadline is reported", ["Order"],
               (INVALID, "too_close_to_refund"), ["blob.timing.6"], check="reveal", tip=closes,
               funding_confirmed_at=hc, refund_height=r_min - 1)
        if opens + p.d <= r_min - 1:
            f.test(g, "a reveal blob.timing.6 refuses though the user could still claim in time", ["SafetyOnlyBound"],
                   "acceptable", ["blob.timing.6"], check="reveal", tip=opens, funding_confirmed_at=hc,
                   refund_height=r_min - 1, ours="too_close_to_refund")
        due = p.claim_due_at(hc)
        for t, d in ((due - 1, False), (due, True), (due + 1, True)):
            f.test(g, f"claim due at {due}: tip {t}", flags, "valid", ["blob.redeem.7"], check="claim_due", tip=t,
                   funding_confirmed_at=hc, due=d)
        latest = e - p.m
        for t, res in ((latest - 1, "valid"), (latest, "valid"), (latest + 1, (INVALID, "too_late_to_settle"))):
            f.test(g, f"payout at tip {t}, E {e}", flags, res, ["blob.timing.7"], check="payout", tip=t, expiry=e)
        for t, res in ((r - 1, (INVALID, "refund_locked")), (r, "valid"), (r + 1, "valid")):
            f.test(g, f"refund at tip {t}, R {r}", flags, res, ["blob.redeem.5"], check="refund", tip=t, refund_height=r)
    g = f.group("parameter sets: the group's are the example values; a test's own `params` replace them", params=EXAMPLE.json())
    f.test(g, "the example values", ["Zeros"], "valid", ["blob.conv.3", "blob.conv.4"], check="params")
    f.test(g, "SESSION_PERIOD and SETTLE_MARGIN 0 are allowed", ["Zeros"], "valid", ["blob.conv.4"], check="params",
           params=Params(0, 1, 1, 1, 0).json())
    f.test(g, "CONFIRMATION_PERIOD 0", ["Zeros"], (INVALID, "confirmation_period_zero"), ["blob.conv.3"], check="params",
           params=Params(2, 0, 3, 2, 4).json())
    f.test(g, "REVEAL_WINDOW 0", ["Zeros"], (INVALID, "reveal_window_zero"), ["blob.conv.4"], check="params",
           params=Params(2, 2, 0, 2, 4).json())
    f.test(g, "CHAIN_DELAY 0", ["Zeros"], (INVALID, "chain_delay_zero"), ["blob.conv.4"], check="params",
           params=Params(2, 2, 3, 0, 4).json())
    g = f.group("refund heights and timestamps (the example values)", params=EXAMPLE.json())
    p = EXAMPLE
    f.test(g, "the largest E whose refund height is a block height", ["NotAHeight", "LargestRefundHeight"], "acceptable",
           ["blob.output.6"], check="refund_height", expiry=THRESHOLD - 1 + p.d + p.m, refund_height=THRESHOLD - 1, ours="allowed")
    f.test(g, "one more: the refund height would be a timestamp", ["NotAHeight"], (INVALID, "not_a_block_height"),
           ["blob.output.6"], check="refund_height", expiry=THRESHOLD + p.d + p.m)
    f.test(g, "T1 with a timestamp refund height", ["NotAHeight"], (INVALID, "not_a_block_height"), ["blob.output.6"],
           check="refund_margin", refund_height=THRESHOLD, expiry=4_000_000_000)
    f.test(g, "presigning for a timestamp refund height", ["NotAHeight"], (INVALID, "not_a_block_height"),
           ["blob.output.6"], check="presign", tip=100, refund_height=THRESHOLD)
    f.test(g, "the largest heights: sums do not wrap", ["Bound"], (INVALID, "htlc_expiry_too_soon"), ["blob.conv.1"],
           check="session", h7=4_294_967_295, expiry=4_294_967_295)
    return f, """BLOBSWAP-01 "Timing constraints": each decision at its bounds. Heights and block counts are integers.
`check` names the decision; its inputs follow. valid: allowed; invalid: refused with `error`;
acceptable: our reading, with the reference's outcome in `ours` ("allowed" or a reason)."""


# ---- shared_output.yaml -------------------------------------------------------------------


def output_file():
    f = File("blobswap_output", "BLOBSWAP-01 shared output, transactions, signatures, spends and blobs", "The shared output", {
        "Leaves": "The three leaves, the scriptPubKey and the control blocks (blob.output.1 to blob.output.5).",
        "Transaction": "A payout, claim or refund transaction: txid, BIP-341 signature message, and the BIP-340 signature with 32 zero bytes of auxiliary randomness.",
        "Spend": "A witness spending the shared output, told apart by its leaf (blob.output.11).",
        "Blob": "A blob found for the payment hash, checked by the SSP (blob.reveal.7).",
        "NotAHeight": "A refund height of 500000000 or more is a timestamp (BIP-65).",
        "ScriptNumber": "A refund height whose minimal script number needs a sign byte (0x80 in its top byte).",
    })
    def keys_of(h=H, r=114):
        return {"payment_hash": h.hex(), "user_key": USER_KEY.hex(), "ssp_key": SSP_KEY.hex(), "refund_height": r}

    g = f.group("the shared output's script")
    for r, comment, flags in ((114, "the example refund height", ["Leaves"]),
                              (850_000, "a mainnet-sized refund height", ["Leaves"]),
                              (128, "refund height 128: the script number is 0x8000", ["Leaves", "ScriptNumber"]),
                              (THRESHOLD - 1, "the largest block height", ["Leaves"])):
        o = Output(H, USER_KEY, SSP_KEY, r)
        f.test(g, comment, flags, "valid", ["blob.output.1", "blob.output.2", "blob.output.3", "blob.output.4", "blob.output.5"],
               case="output", **keys_of(r=r), payout_leaf=o.leaves["payout"].hex(), claim_leaf=o.leaves["claim"].hex(),
               refund_leaf=o.leaves["refund"].hex(), script_pubkey=o.spk.hex(),
               control_blocks={k: v.hex() for k, v in o.control.items()})
    f.test(g, "refund height 500000000 is a timestamp", ["NotAHeight"], (INVALID, "not_a_block_height"), ["blob.output.6"],
           case="output", **keys_of(r=THRESHOLD))

    o = Output(H, USER_KEY, SSP_KEY, 114)
    g = f.group("the transactions of the example output (value 100000 sat, refund height 114)", **keys_of())
    txs = (
        ("payout", one_in_one_out(FUNDING, V, PAYOUT_FEE, PAYOUT_SCRIPT, 0), PAYOUT_FEE, PAYOUT_SCRIPT, USER_SK, ["blob.output.7", "blob.output.10"]),
        ("payout", one_in_one_out(FUNDING, V, PAYOUT_FEE, PAYOUT_SCRIPT, 0), PAYOUT_FEE, PAYOUT_SCRIPT, SSP_SK, ["blob.output.7", "blob.output.10"]),
        ("claim", one_in_one_out(FUNDING, V, CLAIM_FEE, PAYOUT_SCRIPT, 0), CLAIM_FEE, PAYOUT_SCRIPT, USER_SK, ["blob.output.9", "blob.output.10"]),
        ("refund", one_in_one_out(FUNDING, V, REFUND_FEE, REFUND_SCRIPT, 114), REFUND_FEE, REFUND_SCRIPT, SSP_SK, ["blob.output.8", "blob.output.10"]),
    )
    for kind, tx, fee, to, sk, covers in txs:
        m = o.sighash(tx, V, kind)
        who = "user" if sk == USER_SK else "SSP"
        f.test(g, f"{kind} transaction signed by the {who}", ["Transaction"], "valid", covers, case="transaction",
               tx=kind, funding_txid=FUNDING[0], funding_vout=FUNDING[1], value_sat=V, fee_sat=fee, to_script=to.hex(),
               secret_key=sk.hex(), aux=AUX.hex(), txid=txid(tx), sighash=m.hex(), signature=schnorr_sign(m, sk, AUX).hex())
    f.test(g, "a fee equal to the value leaves nothing", ["Transaction"], (INVALID, "fee_not_below_value"), ["blob.presign.5"],
           case="transaction", tx="payout", funding_txid=FUNDING[0], funding_vout=FUNDING[1], value_sat=V, fee_sat=V,
           to_script=PAYOUT_SCRIPT.hex(), secret_key=USER_SK.hex(), aux=AUX.hex())

    g = f.group("spends of the example output", **keys_of())
    s1, s2 = bytes([0x01] * 64), bytes([0x02] * 64)
    f.test(g, "payout witness", ["Spend"], "valid", ["blob.output.11"], case="spend", witness=o.witness("payout", [s2, s1]), spend="payout")
    f.test(g, "claim witness with the preimage", ["Spend"], "valid", ["blob.output.11", "blob.settle.3"], case="spend",
           witness=o.witness("claim", [s1, PREIMAGE]), spend="claim", preimage=PREIMAGE.hex())
    f.test(g, "refund witness", ["Spend"], "valid", ["blob.output.11"], case="spend", witness=o.witness("refund", [s2]), spend="refund")
    f.test(g, "claim witness with another 32 bytes", ["Spend"], (INVALID, "not_a_preimage"), ["blob.output.11"], case="spend",
           witness=o.witness("claim", [s1, sha256(b"not it")]))
    f.test(g, "claim witness with 33 bytes", ["Spend"], (INVALID, "not_a_preimage"), ["blob.output.4"], case="spend",
           witness=o.witness("claim", [s1, PREIMAGE + b"\x00"]))
    f.test(g, "a leaf of another output", ["Spend"], (INVALID, "unknown_leaf"), ["blob.output.11"], case="spend",
           witness=[s1.hex(), payout_leaf(SSP_KEY, USER_KEY).hex(), o.control["payout"].hex()])
    f.test(g, "a payout witness missing a signature", ["Spend"], (INVALID, "witness_shape"), ["blob.output.11"], case="spend",
           witness=o.witness("payout", [s1]))
    f.test(g, "an empty witness", ["Spend"], (INVALID, "witness_shape"), ["blob.output.11"], case="spend", witness=[])

    g = f.group("blobs found for the example payment hash", payment_hash=H.hex())
    blob = H + PREIMAGE
    f.test(g, "the payment hash followed by the preimage", ["Blob"], "valid", ["blob.reveal.5", "blob.reveal.7"], case="blob",
           blob=blob.hex(), preimage=PREIMAGE.hex())
    f.test(g, "one byte short", ["Blob"], (INVALID, "wrong_length"), ["blob.reveal.7"], case="blob", blob=blob[:63].hex())
    f.test(g, "one byte more", ["Blob"], (INVALID, "wrong_length"), ["blob.reveal.7"], case="blob", blob=(blob + b"\x00").hex())
    f.test(g, "the preimage alone", ["Blob"], (INVALID, "wrong_length"), ["blob.reveal.7"], case="blob", blob=PREIMAGE.hex())
    f.test(g, "another payment hash in front", ["Blob"], (INVALID, "wrong_payment_hash"), ["blob.reveal.7"], case="blob",
           blob=(sha256(b"x") + PREIMAGE).hex())
    f.test(g, "the right hash in front of a wrong preimage", ["Blob"], (INVALID, "not_a_preimage"), ["blob.reveal.7"], case="blob",
           blob=(H + sha256(b"x")).hex())
    return f, """BLOBSWAP-01 "The shared output": bytes an implementation must reproduce. Keys are x-only (BIP-340),
txids in the usual display order, signatures BIP-340 with the given auxiliary randomness (deterministic)."""


# ---- machine scripts ----------------------------------------------------------------------

R = 114  # the example's refund height: E 120 - CHAIN_DELAY 2 - SETTLE_MARGIN 4
OUT = Output(H, USER_KEY, SSP_KEY, R)
PAYOUT_TX = one_in_one_out(FUNDING, V, PAYOUT_FEE, PAYOUT_SCRIPT, 0)
USER_SIG = schnorr_sign(OUT.sighash(PAYOUT_TX, V, "payout"), USER_SK, AUX)
SSP_PAYOUT_SIG = schnorr_sign(OUT.sighash(PAYOUT_TX, V, "payout"), SSP_SK, AUX)
CLAIM_TX = one_in_one_out(FUNDING, V, CLAIM_FEE, PAYOUT_SCRIPT, 0)
CLAIM_SIG = schnorr_sign(OUT.sighash(CLAIM_TX, V, "claim"), USER_SK, AUX)
REFUND_TX = one_in_one_out(FUNDING, V, REFUND_FEE, REFUND_SCRIPT, R)
REFUND_SIG = schnorr_sign(OUT.sighash(REFUND_TX, V, "refund"), SSP_SK, AUX)
BLOB = (H + PREIMAGE).hex()

SETUP = {
    "params": EXAMPLE.json(),
    "start_tip": 100,
    "user": {"secret_key": USER_SK.hex(), "aux": AUX.hex(), "preimage": PREIMAGE.hex(), "value_sat": V,
             "max_invoice_msat": A_MSAT, "max_payout_fee_sat": 1000, "claim_fee_sat": CLAIM_FEE,
             "payout_script": PAYOUT_SCRIPT.hex()},
    "ssp": {"secret_key": SSP_SK.hex(), "aux": AUX.hex(), "min_value_sat": 10_000, "max_value_sat": 1_000_000,
            "swap_fee_msat": SWAP_FEE_MSAT, "invoice_delta": EXAMPLE.required(), "payout_fee_sat": PAYOUT_FEE,
            "refund_fee_sat": REFUND_FEE, "refund_script": REFUND_SCRIPT.hex()},
}

FUND = {"funding_txid": FUNDING[0], "funding_vout": FUNDING[1]}


def tick(t):
    return {"type": "tick", "tip": t}


def invoice(h=H, amount=A_MSAT, delta=EXAMPLE.required()):
    return {"payment_hash": h.hex(), "amount_msat": amount, "min_final_cltv_expiry_delta": delta}


def ask(value=V, r=R, fee=PAYOUT_FEE):
    return {**FUND, "value_sat": value, "ssp_key": SSP_KEY.hex(), "refund_height": r, "payout_fee_sat": fee}


def request():
    return {"payment_hash": H.hex(), "value_sat": V, "user_key": USER_KEY.hex(), "payout_script": PAYOUT_SCRIPT.hex()}


def seen(confirmed_at, spk=None, value=V):
    return {"type": "funding_seen", "script_pubkey": (spk or OUT.spk).hex(), "value_sat": value, "confirmed_at": confirmed_at}


def spent(kind, at, preimage=None):
    e = {"type": "shared_spent", "spend": kind, "confirmed_at": at}
    if preimage:
        e["preimage"] = preimage.hex()
    return e


def step(event, *expect):
    return {"event": event, "expect": list(expect)}


def give_up(reason):
    return {"action": "give_up", "reason": reason}


PRESIGNED = [{"action": "send_ret_presign", "signature": USER_SIG.hex()}, {"action": "lookup_shared", **FUND}]
CLAIM = {"action": "broadcast_claim", "txid": txid(CLAIM_TX), "witness": OUT.witness("claim", [CLAIM_SIG, PREIMAGE])}
REVEAL = {"action": "publish_blob", "blob": BLOB}
LOOKUP_REDEEM = {"action": "lookup_redeem", **FUND}


def user_prefix():
    """Steps 1 to 9 at tips 100 to 102, then the funding seen unconfirmed."""
    return [
        step({"type": "start"}, {"action": "send_request", **request()}),
        step({"type": "invoice", **invoice()}, {"action": "pay_invoice", "payment_hash": H.hex(), "amount_msat": A_MSAT}),
        step(tick(101)),
        step(tick(102)),
        step({"type": "ask_presign", **ask()}, *PRESIGNED),
        step(seen(None)),
    ]


def user_file():
    f = File("blobswap_machine", "BLOBSWAP-01 the user's machine: event scripts", "The flow", {
        "HappyPath": "The completed swap: the SSP's payout confirms.",
        "Refusal": "The user refuses a message and gives the swap up.",
        "Timeout": "A period runs out or a deadline passes.",
        "Claim": "The user claims the shared output with the preimage.",
        "RevealAtFirstTip": "Reading: the user reveals at the first tip the rules allow (blob.reveal.4 is a SHOULD).",
        "ClaimWhenDue": "Reading: the user claims when blob.redeem.7 requires it, not earlier (blob.redeem.8 allows earlier).",
        "OnePresign": "The user answers only the first ask_presign (blob.presign.6).",
    })
    g = f.group("the user, with the example values: E 120, R 114; funding confirmed at 103 opens the window at 104 and "
                "closes it at 107", setup=SETUP)
    base = user_prefix()
    f.test(g, "completed swap: reveal at 104, the window runs out at 107, the payout confirms at 108",
           ["HappyPath", "RevealAtFirstTip"], "acceptable",
           ["blob.conv.2", "blob.request.1", "blob.request.6", "blob.request.7", "blob.presign.4", "blob.presign.5", "blob.presign.7",
            "blob.fund.2", "blob.fund.3", "blob.reveal.1", "blob.reveal.4", "blob.reveal.5", "blob.redeem.6"],
           role="user", steps=base + [
               step(tick(103)),
               step(seen(103)),
               step(tick(104), REVEAL),
               step({"type": "blob_published"}),
               step(tick(105)), step(tick(106)),
               step(tick(107), LOOKUP_REDEEM),
               step(tick(108)),
               step(spent("payout", 108)),
               step({"type": "payment_settled"}),
               step(tick(109)),
           ])
    f.test(g, "no payout: the claim at hW + CHAIN_DELAY = 109, not at 108", ["Claim", "Timeout", "RevealAtFirstTip", "ClaimWhenDue"],
           "acceptable", ["blob.redeem.7", "blob.redeem.8", "blob.output.9", "blob.output.11"], role="user", steps=base + [
               step(seen(103)),
               step(tick(103)),
               step(tick(104), REVEAL),
               step(tick(107), LOOKUP_REDEEM),
               step(tick(108)),
               step(tick(109), CLAIM),
               step(tick(110)),
               step(spent("claim", 110, PREIMAGE)),
           ])
    f.test(g, "ticks jump past the window and the claim's tip at once: reveal closed, nothing published", ["Timeout"], "valid",
           ["blob.reveal.2"], role="user", steps=base + [
               step(seen(103)),
               step(tick(107), give_up("reveal_window_closed")),
               step(tick(110)),
           ])
    f.test(g, "the funding confirms at 106: window [107, 110), 110 + 4 <= 114, reveal at 107", ["Timeout", "RevealAtFirstTip"],
           "acceptable", ["blob.timing.6"], role="user", steps=base + [
               step(seen(106)),
               step(tick(106)),
               step(tick(107), REVEAL),
           ])
    f.test(g, "the funding confirms at 107: window [108, 111), 111 + 4 > 114, give up", ["Timeout"], "valid",
           ["blob.timing.6"], role="user", steps=base + [
               step(seen(107), give_up("too_close_to_refund")),
               step(tick(108)),
           ])
    f.test(g, "no confirmation: waiting at 105, giving up at 106 (a confirmation at 107 would be too late)", ["Timeout"], "valid",
           ["blob.timing.6"], role="user", steps=base + [
               step(tick(105)),
               step(tick(106), give_up("too_close_to_refund")),
               step(seen(107)),
               step(tick(108)),
           ])
    f.test(g, "the payment fails before the reveal: nothing is revealed afterwards", ["Timeout"], "valid", ["blob.reveal.3"],
           role="user", steps=base + [
               step({"type": "payment_failed"}),
               step(seen(103)),
               step(tick(104)),
               step(tick(110)),
           ])
    f.test(g, "the payout confirms before the claim is due: no claim", ["HappyPath", "RevealAtFirstTip"], "acceptable",
           ["blob.redeem.7"], role="user", steps=base + [
               step(seen(103)),
               step(tick(104), REVEAL),
               step(spent("payout", 105)),
               step(tick(107)),
               step(tick(109)),
           ])
    f.test(g, "a second ask_presign is not answered", ["OnePresign"], "valid", ["blob.presign.6"], role="user", steps=base + [
               step({"type": "ask_presign", **ask(fee=400)}),
           ])
    f.test(g, "refunded without a reveal: nothing more to do", ["Timeout"], "valid", ["blob.request.2"], role="user",
           steps=base + [step(spent("refund", 115)), step(tick(116))])

    pre = base[:2]
    f.test(g, "an invoice for another hash", ["Refusal"], "valid", ["blob.request.6"], role="user", steps=pre[:1] + [
        step({"type": "invoice", **invoice(h=sha256(b"other"))}, give_up("payment_hash_mismatch"))])
    f.test(g, "an invoice 1 msat above the agreed amount", ["Refusal"], "valid", ["blob.request.7"], role="user", steps=pre[:1] + [
        step({"type": "invoice", **invoice(amount=A_MSAT + 1)}, give_up("invoice_amount_too_high"))])
    after_pay = base[:4]
    f.test(g, "ask_presign for another value", ["Refusal"], "valid", ["blob.presign.4"], role="user", steps=after_pay + [
        step({"type": "ask_presign", **ask(value=V - 1)}, give_up("value_mismatch"))])
    f.test(g, "ask_presign with a payout fee 1 sat above the accepted 1000", ["Refusal"], "valid", ["blob.presign.5"], role="user",
           steps=after_pay + [step({"type": "ask_presign", **ask(fee=1001)}, give_up("payout_fee_too_high"))])
    f.test(g, "ask_presign with a payout fee of exactly 1000", ["Refusal"], "valid", ["blob.presign.5"], role="user",
           steps=after_pay + [step({"type": "ask_presign", **ask(fee=1000)},
                                   {"action": "send_ret_presign",
                                    "signature": schnorr_sign(OUT.sighash(one_in_one_out(FUNDING, V, 1000, PAYOUT_SCRIPT, 0), V, "payout"), USER_SK, AUX).hex()},
                                   {"action": "lookup_shared", **FUND})])
    f.test(g, "ask_presign at 102 with R 110: 102 + 2 + 3 + 4 > 110", ["Refusal", "Timeout"], "valid", ["blob.timing.5"], role="user",
           steps=after_pay + [step({"type": "ask_presign", **ask(r=110)}, give_up("refund_too_soon"))])
    out111 = Output(H, USER_KEY, SSP_KEY, 111)
    f.test(g, "ask_presign at 102 with R 111: at the bound", ["Timeout"], "valid", ["blob.timing.5"], role="user",
           steps=after_pay + [step({"type": "ask_presign", **ask(r=111)},
                                   {"action": "send_ret_presign", "signature": schnorr_sign(out111.sighash(PAYOUT_TX, V, "payout"), USER_SK, AUX).hex()},
                                   {"action": "lookup_shared", **FUND})])
    f.test(g, "ask_presign with a timestamp refund height", ["Refusal"], "valid", ["blob.output.6"], role="user",
           steps=after_pay + [step({"type": "ask_presign", **ask(r=THRESHOLD)}, give_up("not_a_block_height"))])
    f.test(g, "the funding output has another script", ["Refusal"], "valid", ["blob.fund.3"], role="user", steps=base[:-1] + [
        step(seen(None, spk=Output(H, USER_KEY, SSP_KEY, 115).spk), give_up("funding_script_mismatch")),
        step(tick(104)),
    ])
    f.test(g, "the funding output has 1 sat less", ["Refusal"], "valid", ["blob.fund.3"], role="user", steps=base[:-1] + [
        step(seen(103, value=V - 1), give_up("funding_value_mismatch")),
        step(tick(104)),
    ])
    return f, """BLOBSWAP-01 "The flow": the user's machine fed one event at a time; after each, `expect` lists its
actions in order ([] = none). Setup: keys and preimage as secrets (test values), terms, the example
parameters. Events and actions are the steps of the diagram (see the kind's schema and evaluator)."""


def ssp_prefix():
    """Steps 1 to 7 at tip 100 (E 120), the session to 102, steps 8 and 9."""
    return [
        step({"type": "request", **request(), "hash_seen": False},
             {"action": "create_invoice", "payment_hash": H.hex(), "amount_msat": A_MSAT, "min_final_cltv_expiry_delta": EXAMPLE.required()}),
        step({"type": "invoice_created", **invoice()}, {"action": "send_invoice", **invoice()}),
        step({"type": "invoice_accepted", "held_msat": A_MSAT, "expiry": 120}),
        step(tick(101)),
        step(tick(102), {"action": "build_funding", "script_pubkey": OUT.spk.hex(), "value_sat": V}),
        step({"type": "funding_built", **FUND}, {"action": "send_ask_presign", **ask()}),
    ]


PAYOUT = {"action": "broadcast_payout", "txid": txid(PAYOUT_TX), "witness": OUT.witness("payout", [SSP_PAYOUT_SIG, USER_SIG])}
REFUND = {"action": "broadcast_refund", "txid": txid(REFUND_TX), "witness": OUT.witness("refund", [REFUND_SIG])}
SETTLE = {"action": "settle_invoice", "preimage": PREIMAGE.hex()}
LOOKUP_BLOB = {"action": "lookup_blob", "payment_hash": H.hex()}


def cancel(reason):
    return {"action": "cancel_invoice", "reason": reason}


def ssp_file():
    f = File("blobswap_machine", "BLOBSWAP-01 the SSP's machine: event scripts", "The flow", {
        "HappyPath": "The completed swap: payout, then settle.",
        "Refusal": "The SSP refuses a request or cancels the hold invoice for a reason.",
        "Timeout": "A period runs out or a deadline passes.",
        "Refund": "The SSP takes the shared output back at the refund height.",
        "AskAtSessionEnd": "Reading: the SSP asks for the presignature when SESSION_PERIOD has passed (blob.presign.1 allows earlier).",
        "LargestRefundHeight": "Reading: the refund height is E - CHAIN_DELAY - SETTLE_MARGIN, the largest blob.timing.3 allows.",
        "RedeemAtWindowEnd": "Reading: the SSP redeems when the reveal window runs out (blob.redeem.4 allows earlier).",
        "RedeemThenSettle": "Reading: the SSP settles after redeem_res, the diagram's order (blob.settle.2 allows settling first).",
    })
    readings = ["AskAtSessionEnd", "LargestRefundHeight"]
    g = f.group("the SSP, with the example values: h7 100, E 120, R 114; funding confirmed at 103 opens the window at 104 "
                "and closes it at 107", setup=SETUP)
    base = ssp_prefix()
    presign = step({"type": "ret_presign", "signature": USER_SIG.hex()}, {"action": "broadcast_funding"})
    funded = base + [presign, step({"type": "funding_broadcast"}), step(tick(103)), step({"type": "funding_confirmed", "at": 103})]
    f.test(g, "completed swap: lookup from 104, payout when the window runs out at 107, then settle",
           ["HappyPath", "RedeemAtWindowEnd", "RedeemThenSettle"] + readings, "acceptable",
           ["blob.conv.2", "blob.request.3", "blob.request.4", "blob.request.5", "blob.pay.1", "blob.pay.2", "blob.presign.1",
            "blob.presign.2", "blob.presign.3", "blob.presign.8", "blob.fund.1", "blob.reveal.6", "blob.reveal.7",
            "blob.redeem.1", "blob.redeem.2", "blob.redeem.4", "blob.settle.1", "blob.settle.2", "blob.timing.3",
            "blob.timing.7"],
           role="ssp", steps=funded + [
               step(tick(104), LOOKUP_BLOB),
               step({"type": "blob_found", "blob": BLOB}),
               step(tick(105)), step(tick(106)),
               step(tick(107), PAYOUT),
               step({"type": "payout_broadcast"}, SETTLE),
               step({"type": "invoice_settled"}),
               step(spent("payout", 108)),
               step(tick(114)),
           ])
    f.test(g, "no blob: nothing when the window runs out, the refund at R 114, cancel once it confirms",
           ["Timeout", "Refund"] + readings, "acceptable",
           ["blob.redeem.5", "blob.settle.4", "blob.settle.5", "blob.output.8", "blob.output.11"], role="ssp", steps=funded + [
               step(tick(104), LOOKUP_BLOB),
               step(tick(107)),
               step(tick(113)),
               step(tick(114), REFUND),
               step(spent("refund", 115), cancel("refunded")),
               step({"type": "blob_found", "blob": BLOB}),
               step(tick(116)),
           ])
    f.test(g, "the user claims at 110: settle with the preimage from the witness, no refund later",
           ["Timeout"] + readings, "acceptable", ["blob.settle.3"], role="ssp", steps=funded + [
               step(tick(104), LOOKUP_BLOB),
               step(tick(110)),
               step(spent("claim", 110, PREIMAGE), SETTLE),
               step(tick(114)),
           ])
    f.test(g, "a blob with a wrong preimage is not the reveal: no payout, the refund at 114",
           ["Timeout", "Refund"] + readings, "acceptable", ["blob.reveal.7", "blob.redeem.1"], role="ssp", steps=funded + [
               step(tick(104), LOOKUP_BLOB),
               step({"type": "blob_found", "blob": (H + sha256(b"x")).hex()}),
               step(tick(107)),
               step(tick(114), REFUND),
           ])
    f.test(g, "a late blob at 110, after the window, before R: payout at once", ["Timeout", "RedeemThenSettle"] + readings,
           "acceptable", ["blob.redeem.3"], role="ssp", steps=funded + [
               step(tick(104), LOOKUP_BLOB),
               step(tick(107)),
               step(tick(110)),
               step({"type": "blob_found", "blob": BLOB}, PAYOUT),
               step({"type": "payout_broadcast"}, SETTLE),
           ])
    f.test(g, "a blob after the refund was broadcast: no payout, no settle; cancel once the refund confirms",
           ["Timeout", "Refund"] + readings, "acceptable", ["blob.redeem.3", "blob.settle.6"], role="ssp", steps=funded + [
               step(tick(104), LOOKUP_BLOB),
               step(tick(114), REFUND),
               step({"type": "blob_found", "blob": BLOB}),
               step(tick(115)),
               step(spent("refund", 115), cancel("refunded")),
           ])
    f.test(g, "an invalid presignature: cancel, no funding", ["Refusal"] + readings, "acceptable", ["blob.presign.8", "blob.settle.7"], role="ssp",
           steps=base + [step({"type": "ret_presign", "signature": schnorr_sign(OUT.sighash(PAYOUT_TX, V, "payout"), OTHER_SK, AUX).hex()},
                              cancel("invalid_presign")),
                         step(tick(103))])
    f.test(g, "no ret_presign: waiting at 104, cancel at 105 (105 + 6 + 2 + 3 - 1 > 114)", ["Timeout"] + readings, "acceptable",
           ["blob.presign.9", "blob.timing.4", "blob.settle.7"], role="ssp", steps=base + [
               step(tick(103)), step(tick(104)),
               step(tick(105), cancel("too_late_to_fund")),
               step({"type": "ret_presign", "signature": USER_SIG.hex()}),
           ])
    f.test(g, "ret_presign at 104: the last tip the funding check passes", ["Timeout"] + readings, "acceptable",
           ["blob.timing.4", "blob.fund.1"], role="ssp", steps=base + [step(tick(104)), presign])

    head = [base[0], base[1]]
    f.test(g, "HTLCs 1 msat short of the invoice", ["Refusal"], "valid", ["blob.pay.1"], role="ssp", steps=head + [
        step({"type": "invoice_accepted", "held_msat": A_MSAT - 1, "expiry": 120}, cancel("amount_too_low"))])
    f.test(g, "E 118 at h7 100: 100 + 18 <= 118, the session runs", ["Timeout"] + readings, "acceptable",
           ["blob.timing.2"], role="ssp", steps=head + [
               step({"type": "invoice_accepted", "held_msat": A_MSAT, "expiry": 118}),
               step(tick(102), {"action": "build_funding", "script_pubkey": Output(H, USER_KEY, SSP_KEY, 112).spk.hex(), "value_sat": V}),
           ])
    f.test(g, "E 117 at h7 100: too soon for any swap, cancel at once", ["Refusal", "Timeout"], "valid", ["blob.timing.2"],
           role="ssp", steps=head + [step({"type": "invoice_accepted", "held_msat": A_MSAT, "expiry": 117}, cancel("htlc_expiry_too_soon"))])
    f.test(g, "a hash seen before", ["Refusal"], "valid", ["blob.request.3"], role="ssp", steps=[
        step({"type": "request", **request(), "hash_seen": True}, {"action": "refuse", "reason": "hash_reused"})])
    f.test(g, "a value above the range served", ["Refusal"], "valid", ["blob.request.4"], role="ssp", steps=[
        step({"type": "request", **request(), "value_sat": 1_000_001, "hash_seen": False}, {"action": "refuse", "reason": "value_out_of_range"})])
    f.test(g, "a value below the range served", ["Refusal"], "valid", ["blob.request.4"], role="ssp", steps=[
        step({"type": "request", **request(), "value_sat": 9_999, "hash_seen": False}, {"action": "refuse", "reason": "value_out_of_range"})])
    small = {**SETUP, "ssp": {**SETUP["ssp"], "invoice_delta": EXAMPLE.required() - 1}}
    g2 = f.group("the SSP configured with an invoice delta one below blob.timing.1", setup=small)
    f.test(g2, "the SSP refuses to create an invoice it could not complete", ["Refusal"], "valid", ["blob.timing.1"], role="ssp",
           steps=[step({"type": "request", **request(), "hash_seen": False}, {"action": "refuse", "reason": "invoice_delta_too_small"})])
    return f, """BLOBSWAP-01 "The flow": the SSP's machine fed one event at a time; after each, `expect` lists its
actions in order ([] = none). The user's presignature in `ret_presign` is the user key's BIP-340
signature (auxiliary randomness 32 zero bytes) of the payout transaction."""


# ---- main ---------------------------------------------------------------------------------


def files():
    return {
        "timing.yaml": timing_file(),
        "shared_output.yaml": output_file(),
        "user_scripts.yaml": user_file(),
        "ssp_scripts.yaml": ssp_file(),
    }


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    total = 0
    written = files()
    for name, (f, header) in written.items():
        text = dump(f.doc, header + "\nGENERATED by vectors/blobswap/generate.py; edit the generator, not this file.")
        total += f.n
        path = HERE / name
        if not path.exists() or path.read_text() != text:
            stale.append(name)
            if not check:
                path.write_text(text)
    if check and stale:
        print("stale (run vectors/blobswap/generate.py): " + ", ".join(stale))
        sys.exit(1)
    print(f"{len(written)} files, {total} cases" + ("" if check else f", {len(stale)} rewritten"))


if __name__ == "__main__":
    main()
