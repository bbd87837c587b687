#!/usr/bin/env python3
"""The reference node against Core Lightning's own wire protocol code.

pyln-proto (Core Lightning's Python implementation of BOLT 8 and of the BOLT
message codec) connects to a running reference node and checks, with its own
code on our side of the wire:

  * the BOLT 8 handshake (pyln.proto.wire.connect);
  * the node's `init`: feature 1263 (SIDEPOOL-01), `networks` naming the
    expected chain;
  * ping/pong (BOLT 1): a pong of the asked size, none for 65532;
  * the SIDEPOOL-01 `my_sidepool_features` exchange on message 53609;
  * a reconnect as Core Lightning does it (the new connection is ready, then
    the old one closes): the node still sends to the peer on the new one;
  * the node refusing, with a connection-level `warning` first, an init with
    an unknown even feature, a feature without its BOLT 9 dependency, an init
    on another chain, and an unknown even message type.

After the exchange the script prints `READY <its node id>`, and after the
reconnect `RECONNECTED <its node id>`, and each time waits for one line on
stdin, so the driving test (conformance/tests/pyln.rs) can look at the node
while the connection is up (and, after the reconnect, have the node send the
peer a `swap_party_begin`, sub-id 400). Every check prints `ok <name>`; the last line
is `PASSED <count>`. Any failure exits 1 with the reason on stderr.

Usage: interop.py --node-id HEX --host HOST --port PORT [--chain HEX]
"""

import argparse
import io
import socket
import sys

from pyln.proto.message import Message, MessageNamespace
from pyln.proto.wire import PrivateKey, PublicKey, connect

# The messages, in the BOLTs' own CSV form (the form Core Lightning's
# wire/*.csv and pyln's namespaces use), written from lightning/bolts
# 01-messaging.md at a3772650 and SIDEPOOL-01's `my_sidepool_features`.
WIRE_CSV = """
msgtype,init,16
msgdata,init,gflen,u16,
msgdata,init,globalfeatures,byte,gflen
msgdata,init,flen,u16,
msgdata,init,features,byte,flen
msgdata,init,tlvs,init_tlvs,
tlvtype,init_tlvs,networks,1
tlvdata,init_tlvs,networks,chains,chain_hash,...
tlvtype,init_tlvs,remote_addr,3
tlvdata,init_tlvs,remote_addr,data,byte,...
msgtype,warning,1
msgdata,warning,channel_id,channel_id,
msgdata,warning,len,u16,
msgdata,warning,data,byte,len
msgtype,error,17
msgdata,error,channel_id,channel_id,
msgdata,error,len,u16,
msgdata,error,data,byte,len
msgtype,ping,18
msgdata,ping,num_pong_bytes,u16,
msgdata,ping,byteslen,u16,
msgdata,ping,ignored,byte,byteslen
msgtype,pong,19
msgdata,pong,byteslen,u16,
msgdata,pong,ignored,byte,byteslen
msgtype,sidepool,53609
msgdata,sidepool,sub_id,u16,
msgdata,sidepool,tlvs,my_sidepool_features_tlvs,
tlvtype,my_sidepool_features_tlvs,my_sidepool_features_set,10100
tlvdata,my_sidepool_features_tlvs,my_sidepool_features_set,set,byte,...
""".strip().splitlines()

NS = MessageNamespace(WIRE_CSV)

REGTEST = "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f"
MAINNET = "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000"
SIDEPOOL_BOLT_BIT = 1263
MY_SIDEPOOL_FEATURES = 101
SWAP_PARTY_BEGIN = 400
PEERSWAP_IN_SIDEPOOL_BIT = 1
# The script's own node key: fixed, so the driving test knows the node id.
OUR_KEY = bytes([0x33] * 32)
TIMEOUT_S = 10

passed = []


def ok(name):
    passed.append(name)
    print(f"ok {name}", flush=True)


def check(cond, name, detail=""):
    if not cond:
        raise AssertionError(f"{name}: {detail}")
    ok(name)


# ---- feature vectors ----

def bits_of(vector):
    """BOLT 9 bits: bit 0 is the least significant bit of the last byte."""
    return {8 * i + b for i, byte in enumerate(reversed(bytes(vector))) for b in range(8) if byte >> b & 1}


def vector_of(bits):
    if not bits:
        return b""
    out = bytearray((max(bits) // 8) + 1)
    for bit in bits:
        out[len(out) - 1 - bit // 8] |= 1 << (bit % 8)
    return bytes(out)


def bigsize(data, i):
    first = data[i]
    if first < 0xFD:
        return first, i + 1
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(data[i + 1:i + 1 + width], "big"), i + 1 + width


def sidepool_set_decode(data):
    """SIDEPOOL-01: a varsize count of 0s, then a 1, repeated."""
    bits, at, i = set(), 0, 0
    while i < len(data):
        zeros, i = bigsize(data, i)
        at += zeros
        bits.add(at)
        at += 1
    return bits


def sidepool_set_encode(bits):
    out, at = bytearray(), 0
    for bit in sorted(bits):
        zeros = bit - at
        assert zeros < 0xFD, "only small sets here"
        out.append(zeros)
        at = bit + 1
    return bytes(out)


# ---- one connection ----

class OtherSidepool:
    """A 53609 message this script has no format for: only its sub-id."""
    class messagetype:
        name = "sidepool_other"

    def __init__(self, sub_id):
        self.fields = {"sub_id": sub_id}

    def to_py(self):
        return self.fields


class Peer:
    def __init__(self, host, port, node_id):
        self.conn = connect(PrivateKey(OUR_KEY), PublicKey(bytes.fromhex(node_id)), host, port)
        self.conn.connection.settimeout(TIMEOUT_S)

    def send(self, name, **fields):
        buf = io.BytesIO()
        Message(NS.get_msgtype(name), **fields).write(buf)
        self.conn.send_message(buf.getvalue())

    def send_raw(self, raw):
        self.conn.send_message(raw)

    def recv(self):
        """The next message, decoded by pyln; None when the node closed the connection.
        A 53609 message other than `my_sidepool_features` comes back as `OtherSidepool`."""
        try:
            raw = self.conn.read_message()
        except (ValueError, ConnectionError):
            return None
        if raw[:2] == (53609).to_bytes(2, "big") and raw[2:4] != MY_SIDEPOOL_FEATURES.to_bytes(2, "big"):
            return OtherSidepool(int.from_bytes(raw[2:4], "big"))
        return Message.read(NS, io.BytesIO(raw))

    def recv_type(self, name, skip=()):
        """Reads until a message named `name`; other messages named in `skip` are passed over."""
        while True:
            m = self.recv()
            if m is None:
                raise AssertionError(f"connection closed while waiting for {name}")
            if m.messagetype.name == name:
                return m
            if m.messagetype.name not in skip:
                raise AssertionError(f"expected {name}, got {m.messagetype.name} {m.to_py()}")

    def send_init(self, bits, chains):
        tlvs = {"networks": {"chains": [bytes.fromhex(c) for c in chains]}} if chains is not None else {}
        self.send("init", globalfeatures=b"", features=vector_of(bits), tlvs=tlvs)

    def close(self):
        self.conn.connection.close()


def ready_peer(args):
    """A connection past init and the feature exchange, proven handled by a pong."""
    peer = Peer(args.host, args.port, args.node_id)
    peer.recv_type("init")
    peer.send_init({8, 14, 17, SIDEPOOL_BOLT_BIT}, [args.chain])
    peer.recv_type("sidepool")
    peer.send("sidepool", sub_id=MY_SIDEPOOL_FEATURES,
              tlvs={"my_sidepool_features_set": {"set": sidepool_set_encode({PEERSWAP_IN_SIDEPOOL_BIT})}})
    peer.send("ping", num_pong_bytes=2, ignored=b"")
    peer.recv_type("pong", skip=("sidepool", "sidepool_other"))
    return peer


def reconnect(args):
    """Core Lightning's way: a new connection gets ready, then the old one closes."""
    old = ready_peer(args)
    new = ready_peer(args)
    old.close()
    print(f"RECONNECTED {PrivateKey(OUR_KEY).public_key().serializeCompressed().hex()}", flush=True)
    sys.stdin.readline()
    m = new.recv_type("sidepool_other", skip=("sidepool", "pong"))
    check(m.fields["sub_id"] == SWAP_PARTY_BEGIN, "reconnect.new-connection-still-served", m.to_py())
    new.send("ping", num_pong_bytes=4, ignored=b"")
    new.recv_type("pong", skip=("sidepool", "sidepool_other"))
    ok("reconnect.new-connection-answers")
    new.close()


def the_exchange(args):
    peer = Peer(args.host, args.port, args.node_id)
    ok("bolt8.handshake")

    init = peer.recv_type("init")
    ok("bolt1.init-first")
    f = init.to_py()
    features = bits_of(init.fields["features"]) | bits_of(init.fields["globalfeatures"])
    check(SIDEPOOL_BOLT_BIT in features, "init.feature-1263", f)
    check(not bits_of(init.fields["globalfeatures"]), "init.globalfeatures-empty", f)
    networks = f.get("tlvs", {}).get("networks", {}).get("chains")
    check(networks == [args.chain], "init.networks", f"node sent {networks}, expected [{args.chain}]")

    # As a Core Lightning node would: var_onion_optin and payment_secret
    # compulsory, basic_mpp with its dependency, and SIDEPOOL.
    peer.send_init({8, 14, 17, SIDEPOOL_BOLT_BIT}, [args.chain])

    theirs = peer.recv_type("sidepool")
    check(theirs.fields["sub_id"] == MY_SIDEPOOL_FEATURES, "sidepool.features-first", theirs.to_py())
    set_bytes = bytes(theirs.fields["tlvs"].get("my_sidepool_features_set", {}).get("set", b""))
    node_set = sidepool_set_decode(set_bytes)
    check(PEERSWAP_IN_SIDEPOOL_BIT in node_set, "sidepool.features-peerswap-bit", f"set {sorted(node_set)}")
    # SIDEPOOL-01: an even bit we do not recognise would forbid us to send; we know 0/1.
    check({b for b in node_set if b % 2 == 0} <= {0}, "sidepool.features-no-unknown-even", sorted(node_set))
    peer.send("sidepool", sub_id=MY_SIDEPOOL_FEATURES,
              tlvs={"my_sidepool_features_set": {"set": sidepool_set_encode({PEERSWAP_IN_SIDEPOOL_BIT})}})

    # BOLT 1 ping/pong. The node may send other 53609 messages once ready.
    peer.send("ping", num_pong_bytes=10, ignored=bytes(4))
    pong = peer.recv_type("pong", skip=("sidepool", "sidepool_other"))
    check(bytes(pong.fields["ignored"]) == bytes(10), "bolt1.pong-size-and-zeros", pong.to_py())
    peer.send("ping", num_pong_bytes=65532, ignored=b"")
    peer.send("ping", num_pong_bytes=7, ignored=b"")
    pong = peer.recv_type("pong", skip=("sidepool", "sidepool_other"))
    check(len(pong.fields["ignored"]) == 7, "bolt1.no-pong-for-65532", pong.to_py())

    # The node has handled our features (they came before the pings): the
    # driving test can now look at it.
    print(f"READY {PrivateKey(OUR_KEY).public_key().serializeCompressed().hex()}", flush=True)
    sys.stdin.readline()
    # Still answering after the look.
    peer.send("ping", num_pong_bytes=1, ignored=b"")
    peer.recv_type("pong", skip=("sidepool", "sidepool_other"))
    ok("bolt1.still-connected")
    peer.close()


def refused(args, name, send, expect_in_text):
    """`send` violates BOLT 1; the node must send a connection-level warning, then close."""
    peer = Peer(args.host, args.port, args.node_id)
    peer.recv_type("init")
    send(peer)
    warning = None
    while True:
        m = peer.recv()
        if m is None:
            break
        if m.messagetype.name == "warning":
            warning = m
    check(warning is not None, f"{name}.warning-before-close", "the node closed without a warning")
    check(bytes(warning.fields["channel_id"]) == bytes(32), f"{name}.warning-channel-zero", warning.to_py())
    data = bytes(warning.fields["data"])
    check(data and all(32 <= b <= 126 for b in data), f"{name}.warning-printable", data)
    check(expect_in_text in data.decode(), f"{name}.warning-says-why", data.decode())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--node-id", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--chain", default=REGTEST, help="chain hash the node should name in networks")
    args = p.parse_args()
    other = MAINNET if args.chain != MAINNET else REGTEST

    the_exchange(args)
    reconnect(args)
    refused(args, "refuse.unknown-even-feature",
            lambda peer: peer.send_init({100, SIDEPOOL_BOLT_BIT}, [args.chain]), "100")
    refused(args, "refuse.missing-dependency",
            lambda peer: peer.send_init({17, SIDEPOOL_BOLT_BIT}, [args.chain]), "payment_secret")
    refused(args, "refuse.no-common-chain",
            lambda peer: peer.send_init({SIDEPOOL_BOLT_BIT}, [other]), "no common chain")

    def unknown_even_message(peer):
        peer.send_init({SIDEPOOL_BOLT_BIT}, None)
        peer.send_raw(bytes.fromhex("8002deadbeef"))
    refused(args, "refuse.unknown-even-message", unknown_even_message, "32770")

    print(f"PASSED {len(passed)}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, OSError, ValueError) as e:
        print(f"FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
