"""Request dispatch, event emission and the two transports.

An implementer subclasses `Adapter`, sets `name`, `version` and
`capabilities`, and defines a method per protocol request it supports, named
as the request (`reset`, `identity`, `set_pool`, `sync`...). Each takes the
request's params (a dict) and returns the `ok` object (a dict, or None for
`{}`), or raises an `AdapterError` (`Unsupported`, `InvalidRequest`...).
`serve_stdio(adapter)` or `serve_tcp(adapter, host, port)` then runs it.

The kit answers `hello` (methods from the handlers present, capabilities as
declared, plus `sync` when a `sync` handler exists) and `shutdown`, answers a
request for a method without a handler `unknown_method`, and any other
exception from a handler `internal` (with its text): a handler cannot crash
the adapter.
"""

import socket
import sys
import threading
import traceback

from . import framing
from .errors import AdapterError
from .framing import FrameError, LineReader

PROTOCOL_VERSION = 1

#: The requests of adapter protocol version 1 (conformance/adapter-schema/requests/),
#: and `sync` (the optional settle barrier). Only these names, and those an
#: implementer lists in `extra_methods`, are dispatched to handler methods: a
#: request can never call `emit` or any other attribute.
PROTOCOL_METHODS = frozenset({
    "hello", "reset", "identity", "set_block_height", "set_node_settings", "set_pool",
    "set_channels", "start_swap_party", "expansion_outcome", "end_swap_party",
    "htlc_event", "advance_clock", "restart", "shutdown", "sync",
})

#: Answered by the kit itself (an implementer may still define `shutdown` to clean up first).
_KIT_METHODS = ("hello", "shutdown")


class Adapter:
    """Base class for an IUT's adapter. Override the class attributes and add handlers."""

    #: `hello`'s `name` and `version`.
    name = "python-iut"
    version = "0.0.0"
    #: What the spec leaves optional and this IUT does (ADAPTER.md "Versioning"):
    #: e.g. "forwarding". "sync" is added by the kit when `sync` is defined.
    capabilities = ()
    #: Methods beyond PROTOCOL_METHODS this adapter implements (a newer protocol's).
    extra_methods = ()

    _sink = None  # set by the server: where events go

    # ---- events ----

    def emit(self, event, params=None):
        """Writes `{"event": event, "params": params}` now, flushed, from any thread.

        Written at once (under the writer's lock), so an event emitted while a
        request is handled precedes that request's response, and an event is on
        the wire before whatever the caller does next (ADAPTER.md: "An event is
        written (and flushed) before the IUT carries out what it describes").
        Returns False when no runner is connected (the event is dropped).
        """
        sink = self._sink
        if sink is None:
            return False
        return sink.write(framing.event_line(event, params))

    def log(self, level, message):
        """The `log` event: level is error, warn, info, debug or trace."""
        return self.emit("log", {"level": level, "message": str(message)})

    # ---- what hello says ----

    def handler(self, method):
        """The bound handler for `method`, or None when this adapter has none."""
        if method not in PROTOCOL_METHODS and method not in self.extra_methods:
            return None
        fn = getattr(self, method, None)
        return fn if callable(fn) else None

    def methods(self):
        names = set(_KIT_METHODS)
        names.update(m for m in PROTOCOL_METHODS | set(self.extra_methods) if self.handler(m))
        return sorted(names)

    def declared_capabilities(self):
        caps = list(dict.fromkeys(self.capabilities))
        if self.handler("sync") and "sync" not in caps:
            caps.append("sync")
        return caps


class _Sink:
    """One runner connection's output: whole lines, flushed, one writer at a time."""

    def __init__(self, write, flush=None):
        self._write = write
        self._flush = flush
        self._lock = threading.Lock()
        self.open = True

    def write(self, line):
        with self._lock:
            if not self.open:
                return False
            try:
                self._write(line)
                if self._flush:
                    self._flush()
                return True
            except (OSError, ValueError):
                # The runner went away: later writes are dropped, the reader sees the end.
                self.open = False
                return False

    def close(self):
        with self._lock:
            self.open = False


def dispatch(adapter, method, params):
    """One request's answer: ("ok", result) or ("error", code, message)."""
    if method == "hello":
        version = params.get("protocol_version")
        if version is not None and (isinstance(version, bool) or version != PROTOCOL_VERSION):
            return ("error", "version_mismatch", f"runner speaks protocol {version}, this IUT speaks {PROTOCOL_VERSION}")
        return ("ok", {
            "protocol_version": PROTOCOL_VERSION,
            "name": adapter.name,
            "version": adapter.version,
            "methods": adapter.methods(),
            "capabilities": adapter.declared_capabilities(),
        })
    fn = adapter.handler(method)
    if fn is None:
        if method == "shutdown":
            return ("ok", {})
        return ("error", "unknown_method", f"this IUT does not implement `{method}`")
    try:
        result = fn(params)
    except AdapterError as e:
        return ("error", e.code, e.message)
    except Exception as e:  # a handler's bug answers `internal`, never ends the adapter
        traceback.print_exc(file=sys.stderr)
        return ("error", "internal", f"{method}: {type(e).__name__}: {e}")
    if result is None:
        result = {}
    if not isinstance(result, dict):
        return ("error", "internal", f"{method}: the handler returned {type(result).__name__}, not an object")
    return ("ok", result)


def serve_stream(adapter, reader, write, flush=None):
    """Serves one runner connection until it ends or `shutdown`. True after `shutdown`."""
    sink = _Sink(write, flush)
    adapter._sink = sink
    try:
        while True:
            try:
                line = reader.next_line()
            except FrameError as e:
                sink.write(framing.error_line(e.request_id, e.code, e.message))
                continue
            if line is None:
                return False
            if not line.strip():
                continue  # ADAPTER.md: "Blank lines are ignored."
            try:
                rid, method, params = framing.parse_request(line)
            except FrameError as e:
                sink.write(framing.error_line(e.request_id, e.code, e.message))
                continue
            answer = dispatch(adapter, method, params)
            if answer[0] == "ok":
                sink.write(framing.ok_line(rid, answer[1]))
            else:
                sink.write(framing.error_line(rid, answer[1], answer[2]))
            if method == "shutdown" and answer[0] == "ok":
                return True
    finally:
        if adapter._sink is sink:
            adapter._sink = None
        sink.close()


def serve_stdio(adapter, stdin=None, stdout=None):
    """Serves the runner on stdin/stdout until stdin closes or `shutdown`.

    ADAPTER.md: "nothing but protocol lines may be written to stdout": while
    serving, `sys.stdout` is pointed at stderr, so a stray print() from the
    node cannot corrupt the stream.
    """
    inp = stdin if stdin is not None else sys.stdin.buffer
    out = stdout if stdout is not None else sys.stdout.buffer
    saved = sys.stdout
    if stdout is None:
        sys.stdout = sys.stderr
    try:
        return serve_stream(adapter, LineReader.from_file(inp), out.write, out.flush)
    finally:
        sys.stdout = saved


def serve_tcp(adapter, host="127.0.0.1", port=0, ready=None):
    """Listens on HOST:PORT and serves one runner connection at a time until `shutdown`.

    ADAPTER.md: "A connection that ends without `shutdown` leaves the IUT ready
    to accept the next one." `ready(address)` is called once listening (with
    the bound `(host, port)`; useful with port 0).
    """
    listener = socket.create_server((host, port))
    try:
        if ready is not None:
            ready(listener.getsockname()[:2])
        while True:
            conn, _ = listener.accept()
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if serve_stream(adapter, LineReader.from_socket(conn), conn.sendall):
                    return
    finally:
        listener.close()


def serve_in_thread(target, *args, **kwargs):
    """Runs a serve_* function in a daemon thread (e.g. beside a node's own loop)."""
    t = threading.Thread(target=target, args=args, kwargs=kwargs, name="sidepool-adapter", daemon=True)
    t.start()
    return t
