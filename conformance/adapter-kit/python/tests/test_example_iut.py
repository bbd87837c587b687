"""The example IUT end to end over its stdio adapter, with pyln-proto as the
peer: hello, identity, and that `sync` is truthful (every pong the node owes
is on the wire when `sync` is answered; a closed connection has been noticed).
Skipped where pyln-proto is not installed (conformance/tests/python_kit.rs
fails instead under CI=true)."""

import json
import os
import queue
import struct
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "examples", "minimal_iut.py")
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

import minimal_wire as w  # noqa: E402

try:
    from pyln.proto.wire import PrivateKey, PublicKey, connect
    HAVE_PYLN = True
except ImportError:
    HAVE_PYLN = False


@unittest.skipUnless(HAVE_PYLN, "pyln-proto is not installed (python3 -m pip install pyln-proto)")
class ExampleIut(unittest.TestCase):
    def setUp(self):
        self.iut = subprocess.Popen([sys.executable, EXAMPLE, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.events = []
        self.conns = []
        # A reader thread, so a wait never misses lines already in the pipe's buffer.
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=lambda: [self.lines.put(l) for l in iter(self.iut.stdout.readline, b"")], daemon=True)
        self.reader.start()

    def tearDown(self):
        for conn in self.conns:
            conn.connection.close()
        self.iut.stdin.close()
        try:
            self.assertEqual(self.iut.wait(10), 0, "the IUT exits cleanly when its stdin closes")
        finally:
            if self.iut.poll() is None:
                self.iut.kill()
                self.iut.wait()
            self.reader.join(5)
            self.iut.stdout.close()

    def request(self, method, params=None):
        self.next_id += 1
        self.iut.stdin.write((json.dumps({"id": self.next_id, "method": method, "params": params or {}}) + "\n").encode())
        self.iut.stdin.flush()
        while True:
            try:
                line = json.loads(self.lines.get(timeout=10))
            except queue.Empty:
                self.fail(f"no answer to {method}")
            if "event" in line:
                self.events.append(line)
                continue
            self.assertEqual(line["id"], self.next_id)
            return line

    def peer(self):
        ident = self.request("identity")["ok"]
        host, port = ident["listen"].rsplit(":", 1)
        conn = connect(PrivateKey(bytes([7] * 32)), PublicKey(bytes.fromhex(ident["node_id"])), host, int(port))
        self.conns.append(conn)
        conn.connection.settimeout(5)
        self.assertEqual(struct.unpack(">H", conn.read_message()[:2])[0], w.INIT)
        features = w.bolt_vector({1263})
        conn.send_message(struct.pack(">HHH", w.INIT, 0, len(features)) + features)
        self.assertEqual(conn.read_message(), w.my_sidepool_features())
        return conn

    def test_hello_declares_sync_and_only_what_it_implements(self):
        ok = self.request("hello", {"protocol_version": 1, "runner": "test"})["ok"]
        self.assertEqual(ok["methods"], ["hello", "identity", "reset", "shutdown", "sync"])
        self.assertEqual(ok["capabilities"], ["sync"])
        self.assertEqual(self.request("set_pool", {})["error"]["code"], "unknown_method")

    def test_sync_answers_after_every_owed_message_is_written(self):
        conn = self.peer()
        for n in range(20):
            conn.send_message(struct.pack(">HHH", w.PING, n + 1, 0))
        self.assertEqual(self.request("sync"), {"id": self.next_id, "ok": {}})
        # Every pong was written before the answer. Loopback delivery is not
        # instantaneous under load, so this only checks they all arrive; the strict
        # ordering check is the next test's (events and answers share one stream).
        conn.connection.settimeout(0.5)
        for n in range(20):
            self.assertEqual(conn.read_message(), struct.pack(">HH", w.PONG, n + 1) + bytes(n + 1))

    def test_sync_after_a_violation_has_closed_the_connection(self):
        conn = self.peer()
        conn.send_message(bytes.fromhex("8000deadbeef"))
        self.request("sync")
        self.assertTrue(any("unknown even message type 32768" in e["params"]["message"] for e in self.events),
                        "the log event of the close came before the sync answer")
        conn.connection.settimeout(0.5)
        self.assertEqual(struct.unpack(">H", conn.read_message()[:2])[0], w.WARNING)
        with self.assertRaises((ValueError, OSError)):
            conn.read_message()

    def test_reset_and_shutdown(self):
        self.assertEqual(self.request("reset"), {"id": self.next_id, "ok": {}})
        self.assertEqual(self.request("shutdown"), {"id": self.next_id, "ok": {}})
        self.assertEqual(self.iut.wait(10), 0, "shutdown ends the process")


if __name__ == "__main__":
    unittest.main()
