#!/usr/bin/env python3
"""A minimal SIDEPOOL node on pyln-proto's BOLT 8, speaking the adapter protocol
through the sidepool_adapter kit: the worked example of conformance/ADAPTER.md,
"Writing an adapter in Python".

The node takes part in no sidepool and has no channels. On each BOLT 8
connection (pyln.proto.wire: the Noise handshake, encrypted messages) it runs
minimal_wire.Connection: BOLT 1 init with feature 1263, ping/pong, "it's ok
to be odd", SIDEPOOL-01's my_sidepool_features exchange, and a
peerswap_reject for every peerswap_init. Through the adapter it answers
`hello`, `reset`, `identity` and `sync`; every other request is
`unknown_method`, so the runner grades the cases needing a world (pools,
channels, HTLCs) `unsupported`.

Structure: one thread runs the node's event loop (selectors over the BOLT 8
listener and connections); the kit serves the adapter in another thread and
hands `reset` and `sync` to the loop through a queue. `sync` is answered when
the loop has handled every readable byte and written every message those
produced: single-threaded, so "nothing readable and my queue empty" is
settled (ADAPTER.md, `sync`).

Usage:
  minimal_iut.py --stdio                      the adapter on stdin/stdout (exits when stdin closes)
  minimal_iut.py --adapter-listen 127.0.0.1:9999
options: --listen HOST:PORT (BOLT 8, default 127.0.0.1:0), --key HEX (32-byte node secret, default random)
"""

import argparse
import os
import queue
import selectors
import socket
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
# Runs from a checkout without `pip install` of the kit.
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from sidepool_adapter import Adapter, Internal, serve_in_thread, serve_stdio, serve_tcp  # noqa: E402
import minimal_wire  # noqa: E402

try:
    from pyln.proto.wire import LightningConnection, PrivateKey
except ImportError as e:  # the kit and minimal_wire need nothing else
    sys.exit(f"minimal_iut.py needs pyln-proto (python3 -m pip install pyln-proto): {e}")

#: How long a handshake or one message's read may stall before the connection is dropped.
IO_TIMEOUT_S = 5.0
#: How long `sync` may take before it answers `internal` (ADAPTER.md suggests at most 1000 ms).
SYNC_BOUND_S = 1.0
#: How long `reset` or `stop` waits for the loop before answering `internal`.
LOOP_WAIT_S = 30.0


def log(text):
    print(f"minimal_iut: {text}", file=sys.stderr, flush=True)


class WholeReadsAndWrites:
    """The socket as pyln-proto's LightningConnection sees it: `recv(n)` returns
    n bytes (fewer only at the end of the stream) and `send` writes everything.
    pyln-proto reads the 18-byte length header and the handshake acts with one
    `recv` each and writes with `send`; a peer that splits its writes, or a
    short write under load, would otherwise break a healthy connection."""

    def __init__(self, sock):
        self.sock = sock

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            data = self.sock.recv(n - len(buf))
            if not data:
                break
            buf += data
        return buf

    def send(self, data):
        self.sock.sendall(data)
        return len(data)


class Peer:
    def __init__(self, conn, lconn, address):
        self.sock = conn
        self.lconn = lconn
        self.address = address
        self.state = minimal_wire.Connection()
        self.node_id = lconn.remote_pubkey.serializeCompressed().hex() if lconn.remote_pubkey else "?"


class Node:
    """The event loop: BOLT 8 accept/read/write, and commands from the adapter thread."""

    def __init__(self, secret, host, port, adapter):
        self.key = PrivateKey(secret)
        self.node_id = self.key.public_key().serializeCompressed().hex()
        self.listener = socket.create_server((host, port))
        self.listener.setblocking(False)
        self.listen = "%s:%d" % self.listener.getsockname()[:2]
        self.adapter = adapter
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self.commands = queue.Queue()
        self.sync_waiters = []
        self.peers = {}
        self.running = True

    # ---- called from the adapter thread ----

    def call(self, kind, bound_s=LOOP_WAIT_S):
        """Runs `kind` ("sync", "reset" or "stop") on the loop; returns when it is done.
        Raises Internal (answered `internal`) when the loop has not finished within `bound_s`."""
        done = threading.Event()
        self.commands.put((kind, done))
        self._wake_w.send(b"\0")
        if not done.wait(bound_s):
            raise Internal(f"not settled within {int(bound_s * 1000)} ms: the node loop is still handling input (`{kind}`)")

    # ---- the loop ----

    def run(self):
        while self.running:
            # With someone waiting for `sync`, only look (timeout 0): nothing ready means settled.
            ready = self.sel.select(0 if self.sync_waiters else None)
            if not ready and self.sync_waiters:
                # Every byte received has been read and handled, every message it
                # produced written (sendall), every event emitted (written before
                # emit returns), and nothing is pending: settled.
                for done in self.sync_waiters:
                    done.set()
                self.sync_waiters = []
                continue
            for key, _ in ready:
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    self._commands()
                else:
                    self._readable(key.data)
        for peer in list(self.peers.values()):
            self._close(peer, "the node stops")
        self.listener.close()

    def _commands(self):
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                kind, done = self.commands.get_nowait()
            except queue.Empty:
                return
            if kind == "stop":
                self.running = False
                done.set()
            else:
                # `reset` answers only once nothing of the previous case can still
                # happen: settle first, like `sync`. This node has no world to wipe
                # (no pools, channels or HTLCs); connections belong to the runner's peers.
                self.sync_waiters.append(done)

    def _accept(self):
        try:
            conn, address = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(True)
        conn.settimeout(IO_TIMEOUT_S)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            # BOLT 8 responder: act one in, act two out, act three in (pyln-proto).
            lconn = LightningConnection(WholeReadsAndWrites(conn), remote_pubkey=None, local_privkey=self.key, is_initiator=False)
            lconn.shake()
        except Exception as e:  # a failed handshake ends that connection only
            log(f"handshake with {address} failed: {type(e).__name__}: {e}")
            conn.close()
            return
        peer = Peer(conn, lconn, address)
        self.peers[conn.fileno()] = peer
        self.sel.register(conn, selectors.EVENT_READ, peer)
        log(f"connected: {peer.node_id} from {address}")
        self._act(peer, peer.state.start())

    def _readable(self, peer):
        try:
            msg = peer.lconn.read_message()
        except (OSError, ValueError) as e:
            # The peer closed (pyln reports a short read) or sent garbage.
            self._close(peer, f"read ended: {e}")
            return
        except Exception as e:  # a decryption failure is not our crash
            self._close(peer, f"undecryptable message: {type(e).__name__}: {e}")
            return
        self._act(peer, peer.state.handle(msg))

    def _act(self, peer, actions):
        for action in actions:
            if action[0] == "send":
                try:
                    peer.lconn.send_message(action[1])
                except OSError as e:
                    self._close(peer, f"write failed: {e}")
                    return
            elif action[0] == "close":
                self._close(peer, action[1])
                return
            elif action[0] == "log":
                log(f"{peer.node_id}: {action[2]}")
                self.adapter.log(action[1], f"{peer.node_id}: {action[2]}")

    def _close(self, peer, why):
        if self.peers.pop(peer.sock.fileno(), None) is None:
            return
        log(f"disconnected {peer.node_id}: {why}")
        try:
            self.sel.unregister(peer.sock)
        except (KeyError, ValueError):
            pass
        try:
            peer.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        peer.sock.close()


class MinimalIut(Adapter):
    name = "sidepool-minimal-python-iut"
    version = "0.1.0"
    capabilities = ()

    node = None  # set once the node exists

    def reset(self, params):
        self.node.call("reset")

    def identity(self, params):
        return {"node_id": self.node.node_id, "listen": self.node.listen}

    def sync(self, params):
        # ADAPTER.md `sync`: answered once (a) every message received is handled, (b) everything
        # it produced is written, (c) nothing further will happen without new input. This node
        # has no timers, so (c) holds whenever the loop has nothing left to read.
        self.node.call("sync", SYNC_BOUND_S)


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def secret(text):
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError("--key: not hex")
    if len(data) != 32:
        raise argparse.ArgumentTypeError("--key: expected 32 bytes")
    return data


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stdio", action="store_true", help="serve the adapter on stdin/stdout")
    mode.add_argument("--adapter-listen", type=host_port, metavar="HOST:PORT", help="serve the adapter over TCP")
    p.add_argument("--listen", type=host_port, default=("127.0.0.1", 0), metavar="HOST:PORT", help="BOLT 8 address")
    p.add_argument("--key", type=secret, default=None, help="the node's 32-byte secret key, hex (default: random)")
    args = p.parse_args()

    adapter = MinimalIut()
    node = Node(args.key or os.urandom(32), args.listen[0], args.listen[1], adapter)
    adapter.node = node
    log(f"node {node.node_id} listening on {node.listen}")

    def serve():
        try:
            if args.stdio:
                serve_stdio(adapter)
            else:
                serve_tcp(adapter, *args.adapter_listen, ready=lambda a: log("adapter on tcp://%s:%d" % a))
        finally:
            # stdin closed or `shutdown`: stop the node, then the process exits.
            node.call("stop")

    serve_in_thread(serve)
    node.run()


if __name__ == "__main__":
    main()
