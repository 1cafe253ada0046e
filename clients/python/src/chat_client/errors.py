"""One exception class per error code of the protocol's registry (libs/protocol/src/errors.ts).

Every error the server answers is ``{"error": {"code", "message"}}``; the client raises the class
registered for ``code``, so callers catch ``NotFound`` or ``RateLimited`` rather than parse bodies.
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class ChatError(Exception):
    """An error the chat system answered, with its stable ``code`` and HTTP ``status``."""

    code: str = "unknown"
    status: int = 0

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        #: Seconds the server asked to wait (``Retry-After``), when it said.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


class InvalidInput(ChatError):
    code, status = "invalid_input", 400


class InvalidFrame(ChatError):
    code, status = "invalid_frame", 400


class Unauthorized(ChatError):
    code, status = "unauthorized", 401


class Forbidden(ChatError):
    code, status = "forbidden", 403


class OriginRefused(ChatError):
    code, status = "origin_refused", 403


class NotFound(ChatError):
    code, status = "not_found", 404


class RouteNotFound(ChatError):
    code, status = "route_not_found", 404


class Conflict(ChatError):
    code, status = "conflict", 409


class TooLarge(ChatError):
    code, status = "too_large", 413


class RateLimited(ChatError):
    code, status = "rate_limited", 429


class SlowConsumer(ChatError):
    code, status = "slow_consumer", 503


class Unavailable(ChatError):
    code, status = "unavailable", 503


class Internal(ChatError):
    code, status = "internal", 500


class ChatDisabled(ChatError):
    """Chat is turned off (the kill switch): retrying cannot help until ``GET /status`` says on."""

    code, status = "chat_disabled", 503


class TransportError(ChatError):
    """No answer from the server (connection refused or reset, timeout); the cause is chained."""

    code, status = "transport", 0


class ProtocolError(ChatError):
    """The server answered something that is not the documented shape."""

    code, status = "protocol", 0


ERROR_CLASSES: Dict[str, Type[ChatError]] = {
    cls.code: cls
    for cls in (InvalidInput, InvalidFrame, Unauthorized, Forbidden, OriginRefused, NotFound, RouteNotFound,
                Conflict, TooLarge, RateLimited, SlowConsumer, Unavailable, Internal, ChatDisabled)
}

#: WebSocket close codes that end a listener for good, as the error they mean.
CLOSE_CODE_ERRORS: Dict[int, Type[ChatError]] = {4401: Unauthorized, 4403: Forbidden, 4404: NotFound, 4503: ChatDisabled}


def error_for(status: int, code: Optional[str], message: str, retry_after: Optional[float] = None) -> ChatError:
    """The exception for an error answer; an unknown code still keeps its code and status."""
    cls = ERROR_CLASSES.get(code or "")
    if cls is not None:
        return cls(message, status=status, retry_after=retry_after)
    return ChatError(message, status=status, code=code or f"http_{status}", retry_after=retry_after)
