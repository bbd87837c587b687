"""Typed access to request params: each getter raises InvalidRequest with the
field's name, so a handler never answers `internal` for a malformed request.

    p = Params("set_block_height", params)
    height = p.int("height")
    peer = p.hex("peer", 33)
"""

from .errors import InvalidRequest

_MISSING = object()


class Params:
    def __init__(self, method, params):
        self.method = method
        self.raw = params if isinstance(params, dict) else {}

    def _get(self, name, default):
        value = self.raw.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise InvalidRequest(f"{self.method}: missing field `{name}`")
            return default, True
        return value, False

    def _bad(self, name, want, value):
        return InvalidRequest(f"{self.method}: `{name}`: expected {want}, got {type(value).__name__} {value!r:.60}")

    def int(self, name, default=_MISSING, minimum=0, maximum=2**64 - 1):
        value, defaulted = self._get(name, default)
        if defaulted:
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(name, "an integer", value)
        if not minimum <= value <= maximum:
            raise InvalidRequest(f"{self.method}: `{name}`: {value} is outside {minimum}..={maximum}")
        return value

    def bool(self, name, default=_MISSING):
        value, defaulted = self._get(name, default)
        if not defaulted and not isinstance(value, bool):
            raise self._bad(name, "a boolean", value)
        return value

    def str(self, name, default=_MISSING):
        value, defaulted = self._get(name, default)
        if not defaulted and not isinstance(value, str):
            raise self._bad(name, "a string", value)
        return value

    def hex(self, name, length=None, default=_MISSING):
        """Bytes from hex (either case); `length` in bytes, or a (min, max) pair."""
        value, defaulted = self._get(name, default)
        if defaulted:
            return value
        if not isinstance(value, str):
            raise self._bad(name, "a hex string", value)
        try:
            data = bytes.fromhex(value)
        except ValueError:
            raise InvalidRequest(f"{self.method}: `{name}`: not hex: {value!r:.60}")
        if isinstance(length, int) and len(data) != length:
            raise InvalidRequest(f"{self.method}: `{name}`: {len(data)} bytes, expected {length}")
        if isinstance(length, tuple) and not length[0] <= len(data) <= length[1]:
            raise InvalidRequest(f"{self.method}: `{name}`: {len(data)} bytes, expected {length[0]} to {length[1]}")
        return data

    def node_id(self, name, default=_MISSING):
        """A 33-byte compressed public key (the prefix is checked, not the curve point)."""
        data = self.hex(name, 33, default)
        if data is not default and data[:1] not in (b"\x02", b"\x03"):
            raise InvalidRequest(f"{self.method}: `{name}`: not a compressed public key")
        return data

    def list(self, name, default=_MISSING):
        value, defaulted = self._get(name, default)
        if not defaulted and not isinstance(value, list):
            raise self._bad(name, "a list", value)
        return value

    def obj(self, name, default=_MISSING):
        """A nested object, as Params of its own."""
        value, defaulted = self._get(name, default)
        if defaulted:
            return value
        if not isinstance(value, dict):
            raise self._bad(name, "an object", value)
        return Params(f"{self.method}.{name}", value)
