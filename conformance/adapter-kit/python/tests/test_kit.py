"""Unit tests of the adapter kit: `python3 -m unittest discover -s tests` from
conformance/adapter-kit/python (standard library only, well under a second)."""

import contextlib
import io
import json
import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sidepool_adapter import (  # noqa: E402
    MAX_LINE, Adapter, AdapterError, InvalidRequest, LineReader, Params, Unsupported, serve_stdio, serve_tcp,
)
from sidepool_adapter import framing  # noqa: E402


def lines_of(data):
    return [json.loads(l) for l in data.decode().splitlines()]


def run(adapter, *requests):
    """Feeds raw request lines (str or bytes) to serve_stdio; returns the parsed output lines."""
    raw = b"".join(r if isinstance(r, bytes) else (r + "\n").encode() for r in requests)
    out = io.BytesIO()
    serve_stdio(adapter, stdin=io.BytesIO(raw), stdout=out)
    return lines_of(out.getvalue())


class Node(Adapter):
    name, version = "test-node", "1.2.3"
    capabilities = ("forwarding",)

    def __init__(self):
        self.resets = 0

    def reset(self, params):
        self.resets += 1
        self.emit("log", {"level": "info", "message": "reset"})

    def identity(self, params):
        return {"node_id": "02" + "11" * 32, "listen": "127.0.0.1:9735"}

    def set_block_height(self, params):
        Params("set_block_height", params).int("height", maximum=2**32 - 1)

    def restart(self, params):
        raise Unsupported("cannot simulate a restart")

    def advance_clock(self, params):
        raise RuntimeError("clock broke")

    def set_pool(self, params):
        return "not an object"


class Framing(unittest.TestCase):
    def test_lines_crlf_and_unterminated_last_line(self):
        r = LineReader.from_file(io.BytesIO(b'{"a":1}\r\n\n{"b":2}'))
        self.assertEqual([r.next_line(), r.next_line(), r.next_line(), r.next_line()], [b'{"a":1}', b"", b'{"b":2}', None])

    def test_a_line_over_the_bound_is_dropped_and_the_next_one_read(self):
        r = LineReader.from_file(io.BytesIO(b"x" * 50 + b"\nok\n"), max_line=10)
        with self.assertRaises(framing.FrameError) as e:
            r.next_line()
        self.assertEqual(e.exception.code, "bad_json")
        self.assertEqual(r.next_line(), b"ok")

    def test_the_bound_is_one_mib_excluding_the_terminator(self):
        exact = b"a" * MAX_LINE
        r = LineReader.from_file(io.BytesIO(exact + b"\n" + exact + b"a\nnext\n"))
        self.assertEqual(len(r.next_line()), MAX_LINE)
        with self.assertRaises(framing.FrameError):
            r.next_line()
        self.assertEqual(r.next_line(), b"next")

    def test_parse_request_errors(self):
        cases = [
            (b"\xff\xfe", "bad_json", None),
            (b"{not json", "bad_json", None),
            (b"[1,2]", "bad_json", None),
            (b'{"method":"hello"}', "invalid_request", None),
            (b'{"id":-1,"method":"hello"}', "invalid_request", None),
            (b'{"id":true,"method":"hello"}', "invalid_request", None),
            (b'{"id":4,"method":7}', "invalid_request", 4),
            (b'{"id":5,"method":"reset","params":[1]}', "invalid_request", 5),
        ]
        for line, code, rid in cases:
            with self.assertRaises(framing.FrameError, msg=line) as e:
                framing.parse_request(line)
            self.assertEqual((e.exception.code, e.exception.request_id), (code, rid), line)

    def test_params_omitted_or_null_are_empty(self):
        self.assertEqual(framing.parse_request(b'{"id":1,"method":"reset"}'), (1, "reset", {}))
        self.assertEqual(framing.parse_request(b'{"id":1,"method":"reset","params":null}'), (1, "reset", {}))

    def test_encoded_lines_are_compact_single_lines(self):
        line = framing.event_line("log", {"level": "info", "message": "two\nlines"})
        self.assertEqual(line.count(b"\n"), 1)
        self.assertTrue(line.endswith(b"\n"))
        self.assertEqual(json.loads(line), {"event": "log", "params": {"level": "info", "message": "two\nlines"}})


class Dispatch(unittest.TestCase):
    def test_hello_lists_the_handlers_present_and_the_capabilities(self):
        [hello] = run(Node(), '{"id":1,"method":"hello","params":{"protocol_version":1,"runner":"t"}}')
        self.assertEqual(hello["id"], 1)
        ok = hello["ok"]
        self.assertEqual((ok["protocol_version"], ok["name"], ok["version"]), (1, "test-node", "1.2.3"))
        self.assertEqual(ok["methods"], sorted(["hello", "shutdown", "reset", "identity", "set_block_height", "restart", "advance_clock", "set_pool"]))
        self.assertEqual(ok["capabilities"], ["forwarding"])

    def test_a_sync_handler_declares_the_sync_capability(self):
        class Synced(Node):
            def sync(self, params):
                return {}
        [hello] = run(Synced(), '{"id":1,"method":"hello","params":{"protocol_version":1}}')
        self.assertIn("sync", hello["ok"]["methods"])
        self.assertEqual(hello["ok"]["capabilities"], ["forwarding", "sync"])

    def test_hello_with_another_major_version(self):
        [r] = run(Node(), '{"id":1,"method":"hello","params":{"protocol_version":2,"runner":"x"}}')
        self.assertEqual(r["error"]["code"], "version_mismatch")
        [r] = run(Node(), '{"id":1,"method":"hello","params":{"protocol_version":true}}')
        self.assertEqual(r["error"]["code"], "version_mismatch", "true is not 1")

    def test_answers_and_errors(self):
        node = Node()
        with contextlib.redirect_stderr(io.StringIO()) as err:
            out = run(
            node,
            '{"id":2,"method":"reset","params":{}}',
            '{"id":3,"method":"identity"}',
            '{"id":4,"method":"restart"}',
            '{"id":5,"method":"start_swap_party","params":{}}',
            '{"id":6,"method":"advance_clock","params":{"seconds":1}}',
            '{"id":7,"method":"set_block_height","params":{"height":"tall"}}',
            '{"id":8,"method":"set_pool","params":{}}',
            '{"id":9,"method":"emit","params":{}}',
            "",
            "this is not json",
            b"\xff\n",
            '{"id":10,"method":"set_block_height","params":{"height":800000}}',
            )
        self.assertIn("RuntimeError: clock broke", err.getvalue(), "a handler's exception is logged on stderr")
        self.assertEqual(node.resets, 1)
        self.assertEqual(out[0], {"event": "log", "params": {"level": "info", "message": "reset"}}, "the event precedes the answer")
        self.assertEqual(out[1], {"id": 2, "ok": {}})
        self.assertEqual(out[2]["ok"]["listen"], "127.0.0.1:9735")
        codes = [(o["id"], o.get("error", {}).get("code")) for o in out[3:]]
        self.assertEqual(codes, [
            (4, "unsupported"), (5, "unknown_method"), (6, "internal"), (7, "invalid_request"), (8, "internal"),
            (9, "unknown_method"), (None, "bad_json"), (None, "bad_json"), (10, None),
        ])
        self.assertIn("clock broke", out[5]["error"]["message"])
        self.assertIn("height", out[6]["error"]["message"])

    def test_a_custom_error_code(self):
        class N(Adapter):
            def reset(self, params):
                raise AdapterError("nope", code="unsupported")
        [r] = run(N(), '{"id":1,"method":"reset"}')
        self.assertEqual(r["error"], {"code": "unsupported", "message": "nope"})

    def test_shutdown_answers_then_stops(self):
        out = io.BytesIO()
        done = serve_stdio(Node(), stdin=io.BytesIO(b'{"id":1,"method":"shutdown"}\n{"id":2,"method":"reset"}\n'), stdout=out)
        self.assertTrue(done)
        self.assertEqual(lines_of(out.getvalue()), [{"id": 1, "ok": {}}])

    def test_end_of_input_ends_serving(self):
        self.assertFalse(serve_stdio(Node(), stdin=io.BytesIO(b""), stdout=io.BytesIO()))

    def test_params_helpers(self):
        p = Params("m", {"h": "AB" * 32, "n": 5, "b": True, "bad": "zz", "sub": {"x": 1}})
        self.assertEqual(p.hex("h", 32), b"\xab" * 32)
        self.assertEqual(p.int("n", maximum=10), 5)
        self.assertEqual(p.int("missing", default=7), 7)
        self.assertEqual(p.obj("sub").int("x"), 1)
        for call in (lambda: p.hex("h", 33), lambda: p.hex("bad"), lambda: p.int("n", maximum=4), lambda: p.int("b"),
                     lambda: p.str("n"), lambda: p.node_id("h"), lambda: p.int("missing")):
            with self.assertRaises(InvalidRequest):
                call()


class Events(unittest.TestCase):
    def test_events_from_other_threads_are_whole_lines(self):
        class Busy(Adapter):
            def reset(self, params):
                threads = [threading.Thread(target=lambda i=i: [self.emit("log", {"level": "debug", "message": f"{i}-{k}" * 50}) for k in range(50)]) for i in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        out = run(Busy(), '{"id":1,"method":"reset"}')
        self.assertEqual(len(out), 201)
        self.assertEqual(out[-1], {"id": 1, "ok": {}})

    def test_emit_without_a_runner_is_dropped(self):
        self.assertFalse(Node().emit("log", {"level": "info", "message": "x"}))


class Tcp(unittest.TestCase):
    def test_serves_one_connection_after_another_until_shutdown(self):
        node = Node()
        bound = []
        ready = threading.Event()
        t = threading.Thread(target=serve_tcp, args=(node, "127.0.0.1", 0), kwargs={"ready": lambda a: (bound.append(a), ready.set())}, daemon=True)
        t.start()
        self.assertTrue(ready.wait(5))

        def exchange(count, *reqs):
            with socket.create_connection(bound[0], timeout=5) as s:
                for r in reqs:
                    s.sendall((r + "\n").encode())
                f = s.makefile("rb")
                return [json.loads(f.readline()) for _ in range(count)]

        self.assertEqual(exchange(1, '{"id":1,"method":"identity"}')[0]["id"], 1)
        # The first connection ended without shutdown: the next one is served.
        r = exchange(3, '{"id":2,"method":"reset"}', '{"id":3,"method":"shutdown"}')
        self.assertEqual(r, [{"event": "log", "params": {"level": "info", "message": "reset"}}, {"id": 2, "ok": {}}, {"id": 3, "ok": {}}])
        t.join(5)
        self.assertFalse(t.is_alive())
        self.assertEqual(node.resets, 1)


if __name__ == "__main__":
    unittest.main()
