"""Error answers a handler can raise (conformance/ADAPTER.md, "Errors")."""


class AdapterError(Exception):
    """Raise from a handler to answer `{"error": {"code": code, "message": message}}`."""

    code = "internal"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = str(message)
        if code is not None:
            self.code = code


class Unsupported(AdapterError):
    """The IUT cannot do this: every case needing it is reported `unsupported`, not failed."""

    code = "unsupported"


class InvalidRequest(AdapterError):
    """Well-formed JSON but not a valid request (missing or ill-typed field, bad hex...)."""

    code = "invalid_request"


class Internal(AdapterError):
    """The IUT failed doing something it supports: the case errors (not fails)."""

    code = "internal"
