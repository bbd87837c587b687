"""The example IUT's protocol core, sans IO: one BOLT 8 connection's messages
in, actions out (the house pattern: `handle(message) -> [action]`).

What a minimal SIDEPOOL node in no sidepool does on one connection: BOLT 1
`init` (with feature 1263), ping/pong, "it's ok to be odd"; SIDEPOOL-01's
`my_sidepool_features` exchange and its silences; and a `peerswap_reject`
for every `peerswap_init` (it takes part in no sidepool). Standard library
only, so it is unit-tested without pyln-proto (tests/test_minimal_wire.py,
including the repo's feature-set vectors).

Actions: ("send", bytes) writes one BOLT 8 message; ("close", why) closes the
connection after the sends before it; ("log", level, text) tells the operator.
"""

import struct

# ---- BOLT 1 message types ----
WARNING = 1
INIT = 16
ERROR = 17
PING = 18
PONG = 19

# SIDEPOOL-01: "Sidepool messages have a message ID of 53609 (`sidepool_message_id`) in the BOLT 8 message."
SIDEPOOL_MESSAGE_ID = 53609
MY_SIDEPOOL_FEATURES = 101
MY_SIDEPOOL_FEATURES_SET = 10100
PEERSWAP_INIT = 1000
PEERSWAP_INIT_ID = 100000
PEERSWAP_INIT_HASH = 100008
PEERSWAP_REJECT = 1098
PEERSWAP_REJECT_ID = 109800
PEERSWAP_REJECT_HASH = 109802
PEERSWAP_REJECT_REASON_CODE = 109804
PEERSWAP_REJECT_REASON_TEXT = 109806
PEERSWAP_REJECT_CHANNEL_VIEW_MSAT = 109808
#: SIDEPOOL-10's table: "Some policy or rule of this node was violated."
REJECT_POLICY = 65535

#: The BOLT feature bit pair of SIDEPOOL (1263 odd, 1262 its compulsory twin).
SIDEPOOL_BOLT_BITS = (1262, 1263)
#: The BOLT feature bits this node knows: only SIDEPOOL's.
KNOWN_BOLT_BITS = frozenset(SIDEPOOL_BOLT_BITS)
#: SIDEPOOL-10: "Peerswap-in-sidepool has the SIDEPOOL feature bit 1"; the only SIDEPOOL bit this node knows.
PEERSWAP_IN_SIDEPOOL = 1
KNOWN_SIDEPOOL_BITS = frozenset({PEERSWAP_IN_SIDEPOOL})

#: The regtest chain hash (BOLT 0 `chain_hash` order), for `networks`.
REGTEST = bytes.fromhex("06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f")

MAX_BIT = 2**64 - 1


class DecodeError(ValueError):
    """`kind` is the repo's error name (vectors/wire): truncated, non_minimal_encoding, invalid_value..."""

    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# ---- BigSize, TLV streams, feature vectors ----

def bigsize(data, i):
    """(value, next index). BOLT 1 BigSize; a non-minimal encoding is an error."""
    if i >= len(data):
        raise DecodeError("truncated", "BigSize at the end of the data")
    first = data[i]
    if first < 0xFD:
        return first, i + 1
    width, minimum = {0xFD: (2, 0xFD), 0xFE: (4, 0x10000), 0xFF: (8, 0x100000000)}[first]
    raw = data[i + 1:i + 1 + width]
    if len(raw) != width:
        raise DecodeError("truncated", f"BigSize needs {width} more bytes")
    value = int.from_bytes(raw, "big")
    if value < minimum:
        raise DecodeError("non_minimal_encoding", f"BigSize {value} in {width + 1} bytes")
    return value, i + 1 + width


def bigsize_encode(value):
    if value < 0xFD:
        return bytes([value])
    if value <= 0xFFFF:
        return b"\xfd" + value.to_bytes(2, "big")
    if value <= 0xFFFFFFFF:
        return b"\xfe" + value.to_bytes(4, "big")
    return b"\xff" + value.to_bytes(8, "big")


def tlv_stream(data):
    """{type: value} of a TLV stream: minimal BigSizes, strictly increasing types, whole values."""
    records, i, last = {}, 0, -1
    while i < len(data):
        typ, i = bigsize(data, i)
        length, i = bigsize(data, i)
        if typ <= last:
            raise DecodeError("invalid_value", f"TLV type {typ} after {last}: types must increase")
        value = data[i:i + length]
        if len(value) != length:
            raise DecodeError("truncated", f"TLV {typ} of length {length}")
        records[typ] = bytes(value)
        i += length
        last = typ
    return records


def tlv_encode(records):
    return b"".join(bigsize_encode(t) + bigsize_encode(len(v)) + v for t, v in sorted(records.items()))


def bolt_bits(vector):
    """BOLT 9 feature vector: bit 0 is the least significant bit of the last byte."""
    n = len(vector)
    return {8 * (n - 1 - i) + b for i, byte in enumerate(vector) for b in range(8) if byte >> b & 1}


def bolt_vector(bits):
    if not bits:
        return b""
    out = bytearray(max(bits) // 8 + 1)
    for bit in bits:
        out[len(out) - 1 - bit // 8] |= 1 << (bit % 8)
    return bytes(out)


def feature_set_decode(data):
    """SIDEPOOL-01's feature set: "Read a `varsize` from the encoding. Emit that number of 0s, then emit a 1."

    Runs are BigSize and must be minimal (ERRATA E-02, the repo's reading); a
    bit past 2^64 - 1 is invalid_value.
    """
    bits, at, i = set(), 0, 0
    while i < len(data):
        zeros, i = bigsize(data, i)
        at += zeros
        if at > MAX_BIT:
            raise DecodeError("invalid_value", "a bit index past 2^64 - 1")
        bits.add(at)
        at += 1
    return bits


def feature_set_encode(bits):
    out, at = bytearray(), 0
    for bit in sorted(bits):
        out += bigsize_encode(bit - at)
        at = bit + 1
    return bytes(out)


# ---- messages this node sends ----

def sidepool(sub_id, records):
    # SIDEPOOL-01: "The next two bytes after the message ID, equivalently the first two bytes of the payload, are then the sidepool message sub-ID, as a big-endian 16-bit number."
    return struct.pack(">HH", SIDEPOOL_MESSAGE_ID, sub_id) + tlv_encode(records)


def init_message():
    # SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST set feature bit 1263 (`sidepool_bolt_feature_bit`) in their `init` messages and in their `node_annoucement`s."
    features = bolt_vector({1263})
    # BOLT 1: "SHOULD set `networks` to all chains it will gossip or open channels for." (type 1, chain hashes)
    tlvs = tlv_encode({1: REGTEST})
    return struct.pack(">HH", INIT, 0) + struct.pack(">H", len(features)) + features + tlvs


def my_sidepool_features():
    return sidepool(MY_SIDEPOOL_FEATURES, {MY_SIDEPOOL_FEATURES_SET: feature_set_encode({PEERSWAP_IN_SIDEPOOL})})


def warning(text):
    # BOLT 1: "when sending `warning`: MAY set `channel_id` to all zero if the warning is not related to a specific channel."
    data = text.encode("ascii", "replace")
    return struct.pack(">H", WARNING) + bytes(32) + struct.pack(">H", len(data)) + data


def peerswap_reject(pool_id, payment_hash, text):
    return sidepool(PEERSWAP_REJECT, {
        PEERSWAP_REJECT_ID: pool_id,
        PEERSWAP_REJECT_HASH: payment_hash,
        PEERSWAP_REJECT_REASON_CODE: REJECT_POLICY.to_bytes(2, "big"),
        PEERSWAP_REJECT_REASON_TEXT: text.encode("utf-8")[:255],
        # No channels with anyone: the view is all zero.
        PEERSWAP_REJECT_CHANNEL_VIEW_MSAT: bytes(24),
    })


# ---- one connection ----

class Connection:
    """One BOLT 8 connection's protocol state. `start()` then `handle(msg)` per message."""

    def __init__(self):
        self.got_init = False
        #: The peer's init signalled SIDEPOOL (1262 or 1263).
        self.peer_sidepool = False
        #: The peer's my_sidepool_features arrived and allows SIDEPOOL messages.
        self.peer_features_ok = False
        #: SIDEPOOL-01 silence: its feature set failed to parse or has an unknown even bit.
        self.silenced = False
        self.closed = False

    def start(self):
        # BOLT 1: "MUST send `init` as the first Lightning message for any connection."
        return [("send", init_message())]

    def _fail(self, why):
        self.closed = True
        # No channel is concerned: a connection-level `warning` says why, then the connection closes.
        return [("log", "warn", f"closing the connection: {why}"), ("send", warning(why)), ("close", why)]

    def handle(self, msg):
        if self.closed:
            return []
        if len(msg) < 2:
            return self._fail("a message shorter than its type")
        typ = struct.unpack(">H", msg[:2])[0]
        body = msg[2:]
        if not self.got_init:
            if typ != INIT:
                # BOLT 1: "MUST wait to receive `init` before sending any other messages." A peer that starts
                # with anything else is not speaking BOLT 1: close.
                return self._fail(f"message type {typ} before init")
            return self._init(body)
        if typ == PING:
            return self._ping(body)
        if typ in (PONG, WARNING, ERROR):
            return [("log", "info", f"peer sent message type {typ}")] if typ != PONG else []
        if typ == INIT:
            return self._fail("a second init")
        if typ == SIDEPOOL_MESSAGE_ID:
            return self._sidepool(body)
        if typ % 2 == 1:
            # BOLT 1: "upon receiving a message of _odd_, unknown type: MUST ignore the received message."
            return []
        # BOLT 1: "upon receiving a message of _even_, unknown type: MUST close the connection."
        return self._fail(f"unknown even message type {typ}")

    def _init(self, body):
        try:
            gflen = struct.unpack(">H", body[:2])[0]
            globalfeatures = body[2:2 + gflen]
            flen = struct.unpack(">H", body[2 + gflen:4 + gflen])[0]
            features = body[4 + gflen:4 + gflen + flen]
            if len(globalfeatures) != gflen or len(features) != flen:
                raise struct.error("short")
        except struct.error:
            # BOLT 1: "upon receiving a known message with insufficient length for the contents: MUST close the connection."
            return self._fail("init too short")
        self.got_init = True
        # BOLT 1: "MUST combine (logical OR) the two feature bitmaps into one logical `features` map."
        bits = bolt_bits(globalfeatures) | bolt_bits(features)
        unknown_even = sorted(b for b in bits if b % 2 == 0 and b not in KNOWN_BOLT_BITS)
        if unknown_even:
            # BOLT 1: "upon receiving unknown _even_ feature bits that are non-zero: MUST close the connection."
            return self._fail(f"unknown even feature bits {unknown_even}")
        self.peer_sidepool = any(b in bits for b in SIDEPOOL_BOLT_BITS)
        if not self.peer_sidepool:
            # SIDEPOOL-01: "Nodes that support the SIDEPOOL protocol MUST NOT send `sidepool_message_id` (53609) messages if the counterparty does not signal support via `sidepool_feature_bit` (1263) in their `init` message."
            return []
        # SIDEPOOL-01: "Check if the BOLT-1 `init` message from the counterparty has the `sidepool_bolt_feature_bit` set, OR the counterparty has this feature bit set in its `node_announcement`. If so: ... Send the `my_sidepool_features` message to the counterparty."
        return [("send", my_sidepool_features())]

    def _ping(self, body):
        if len(body) < 4:
            # BOLT 1: "upon receiving a known message with insufficient length for the contents: MUST close the connection."
            return self._fail("ping too short")
        num_pong_bytes, byteslen = struct.unpack(">HH", body[:4])
        if len(body) < 4 + byteslen:
            return self._fail("ping shorter than its byteslen")
        if num_pong_bytes < 65532:
            # BOLT 1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a `pong` message, with `byteslen` equal to `num_pong_bytes`."
            # BOLT 1: "MUST set `ignored` to 0s."
            return [("send", struct.pack(">HH", PONG, num_pong_bytes) + bytes(num_pong_bytes))]
        # BOLT 1: "otherwise (`num_pong_bytes` is **not** less than 65532): MUST ignore the `ping`."
        return []

    def _sidepool(self, body):
        if not self.peer_sidepool or self.silenced:
            # SIDEPOOL-01: "MUST ignore all subsequent SIDEPOOL messages."
            return []
        if len(body) < 2:
            return [("log", "warn", "a sidepool message without a sub-id: ignored")]
        sub_id = struct.unpack(">H", body[:2])[0]
        tlvs = body[2:]
        if sub_id == MY_SIDEPOOL_FEATURES:
            return self._features(tlvs)
        if not self.peer_features_ok:
            # SIDEPOOL-01: "However, participants MUST NOT send any other messages other than `my_sidepool_features` below until they have received a `my_sidepool_features` message from the peer."
            return [("log", "debug", f"sidepool sub-id {sub_id} before the peer's my_sidepool_features: ignored")]
        if sub_id == PEERSWAP_INIT:
            return self._peerswap_init(tlvs)
        if sub_id % 2 == 1:
            return []
        # SIDEPOOL-01: "sidepool implementations may ignore unrecognized odd message IDs or TLV types, but in case of even message IDs or TLV types, should raise some kind of warning or alarm to the human operator."
        return [("log", "warn", f"sidepool sub-id {sub_id}: this node takes part in no sidepool, ignored")]

    def _features(self, tlvs):
        try:
            records = tlv_stream(tlvs)
            if MY_SIDEPOOL_FEATURES_SET not in records:
                raise DecodeError("missing", "no my_sidepool_features_set")
            # SIDEPOOL-01: "MUST parse the features set as described above."
            bits = feature_set_decode(records[MY_SIDEPOOL_FEATURES_SET])
        except DecodeError as e:
            # SIDEPOOL-01: "If parsing the features set fails, or if an unrecognized even feature bit is set: ... MUST ignore all subsequent SIDEPOOL messages."
            # SIDEPOOL-01: "MUST NOT send any SIDEPOOL messages to the peer."
            self.silenced = True
            return [("log", "warn", f"the peer's my_sidepool_features does not parse ({e}): ignoring its SIDEPOOL messages")]
        unknown_even = sorted(b for b in bits if b % 2 == 0 and b not in KNOWN_SIDEPOOL_BITS)
        if unknown_even:
            # SIDEPOOL-01: "If the counterparty has an even feature bit that you do not recognize, you MUST NOT send any `sidepool_message_id` messages to that counterparty."
            self.silenced = True
            return [("log", "warn", f"the peer's SIDEPOOL features set unknown even bits {unknown_even[:4]}: silent from now on")]
        self.peer_features_ok = True
        return []

    def _peerswap_init(self, tlvs):
        try:
            records = tlv_stream(tlvs)
        except DecodeError as e:
            return [("log", "warn", f"a malformed peerswap_init ({e}): ignored")]
        pool_id, payment_hash = records.get(PEERSWAP_INIT_ID), records.get(PEERSWAP_INIT_HASH)
        if pool_id is None or len(pool_id) != 16 or payment_hash is None or len(payment_hash) != 32:
            return [("log", "warn", "a peerswap_init without a valid id or hash: ignored")]
        # This node is in no sidepool, so the offer cannot pass validation.
        # SIDEPOOL-10: "If the above validation fails, the receiver MUST reject the peerswap."
        # SIDEPOOL-10: "If the receiver of the `peerswap_init` message decides to reject the peerswap, it MUST send `peerswap_reject`:"
        return [("send", peerswap_reject(pool_id, payment_hash, "this node takes part in no sidepool"))]
