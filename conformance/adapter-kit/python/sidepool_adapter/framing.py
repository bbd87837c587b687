"""Adapter protocol framing (conformance/ADAPTER.md, "Framing").

One JSON object per line, UTF-8, `\n`-terminated (a `\r` before it is
tolerated), at most 1 MiB per line (terminator excluded). A longer line is
read to its end and dropped; the caller answers it `bad_json` with `"id": null`.
Blank lines are ignored.
"""

import json

#: ADAPTER.md: "At most **1 MiB** (1 048 576 bytes) per line, terminator excluded."
MAX_LINE = 1024 * 1024

#: How many bytes one read asks for.
_CHUNK = 64 * 1024


class FrameError(Exception):
    """A line that cannot be a request: too long, not UTF-8, not JSON, not an object.

    `request_id` is the id when it could still be read (a JSON object whose `id`
    is a non-negative integer), else None.
    """

    def __init__(self, code, message, request_id=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


class LineReader:
    """Reads bounded lines from a binary stream (anything with `read1` or `recv`).

    `next_line()` returns the line's bytes without its terminator, raises
    `FrameError("bad_json", ...)` for a line over the bound (after reading it to
    its end, so the next call starts on the next line), and returns None at the
    end of the stream. A last line without a terminator is still returned.
    """

    def __init__(self, read, max_line=MAX_LINE):
        self._read = read
        self._max = max_line
        self._buf = bytearray()
        self._eof = False

    @classmethod
    def from_file(cls, f, max_line=MAX_LINE):
        read = getattr(f, "read1", None) or f.read
        return cls(lambda: read(_CHUNK), max_line)

    @classmethod
    def from_socket(cls, sock, max_line=MAX_LINE):
        return cls(lambda: sock.recv(_CHUNK), max_line)

    def _fill(self):
        if self._eof:
            return False
        try:
            data = self._read()
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def next_line(self):
        too_long = False
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[: nl + 1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                if too_long or len(line) > self._max:
                    raise FrameError("bad_json", f"line longer than {self._max} bytes, dropped")
                return line
            if len(self._buf) > self._max + 1:
                # Keep no more than needed: the line is dropped whatever follows.
                too_long = True
                self._buf.clear()
            if not self._fill():
                if too_long:
                    raise FrameError("bad_json", f"line longer than {self._max} bytes, dropped (and unterminated)")
                if self._buf:
                    line = bytes(self._buf)
                    self._buf.clear()
                    if len(line) > self._max:
                        raise FrameError("bad_json", f"line longer than {self._max} bytes, dropped")
                    return line
                return None


def _valid_id(value):
    # bool is an int in Python; the protocol's ids are JSON integers only.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**64 - 1


def parse_request(line):
    """(id, method, params) from one line, or FrameError.

    ADAPTER.md: "`params` may be omitted (or `null`) for methods without parameters."
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FrameError("bad_json", f"not UTF-8: {e}")
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise FrameError("bad_json", f"not JSON: {e}")
    if not isinstance(obj, dict):
        raise FrameError("bad_json", f"not a JSON object but {type(obj).__name__}")
    rid = obj.get("id")
    if not _valid_id(rid):
        raise FrameError("invalid_request", "`id` must be a non-negative integer")
    method = obj.get("method")
    if not isinstance(method, str):
        raise FrameError("invalid_request", "`method` must be a string", rid)
    params = obj.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise FrameError("invalid_request", f"{method}: `params` must be an object", rid)
    return rid, method, params


def encode(obj):
    """One line: compact JSON (never a raw newline) and its terminator."""
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def ok_line(rid, result):
    return encode({"id": rid, "ok": result if result is not None else {}})


def error_line(rid, code, message):
    return encode({"id": rid, "error": {"code": code, "message": message}})


def event_line(name, params):
    return encode({"event": name, "params": params if params is not None else {}})
