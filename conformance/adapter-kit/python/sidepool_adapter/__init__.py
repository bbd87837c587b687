"""A kit for the sidepool-conformance adapter protocol, version 1 (conformance/ADAPTER.md).

Standard library only. Subclass `Adapter`, add a method per request your IUT
supports, and serve it:

    from sidepool_adapter import Adapter, Unsupported, serve_stdio

    class MyNode(Adapter):
        name, version = "my-node", "0.1.0"
        def reset(self, params): ...
        def identity(self, params): return {"node_id": ..., "listen": "127.0.0.1:9735"}
        def sync(self, params): ...   # return once settled; declares the `sync` capability

    serve_stdio(MyNode())
"""

from .errors import AdapterError, Internal, InvalidRequest, Unsupported
from .framing import MAX_LINE, FrameError, LineReader
from .params import Params
from .server import PROTOCOL_METHODS, PROTOCOL_VERSION, Adapter, dispatch, serve_in_thread, serve_stdio, serve_stream, serve_tcp

__all__ = [
    "Adapter", "AdapterError", "FrameError", "Internal", "InvalidRequest", "LineReader", "MAX_LINE",
    "PROTOCOL_METHODS", "PROTOCOL_VERSION", "Params", "Unsupported", "dispatch", "serve_in_thread",
    "serve_stdio", "serve_stream", "serve_tcp",
]
