"""A WebSocket listener for server-side code: the frames of one session, typed, without gaps.

It connects to ``/ws/chat/{id}`` with the token in the ``Authorization`` header, yields every
frame, and when the connection drops reconnects with ``lastSeq`` = the last message it yielded, so
nothing is missed and nothing repeats. A gateway that drains closes with 1001 and
``reconnect-in=<ms>``: the listener waits that long (plus a little jitter) and moves to the next
gateway URL; a connection that fails before its welcome moves on too; other drops back off.
It ends after ``session_closed``; a refused connection (4401, 4403, 4404) raises the matching error.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Sequence, Union
from urllib.parse import quote

import websockets
import websockets.exceptions

from .drain import drain_hint_of, drain_wait_seconds
from .errors import CLOSE_CODE_ERRORS, ChatError, TransportError
from .models import ChatMessage, Frame, SessionClosed, Welcome, parse_frame
from .retry import RetryPolicy

_WEBSOCKETS_MAJOR = int(websockets.__version__.split(".")[0])
_GOING_AWAY = 1001


@dataclass(frozen=True)
class Reconnect:
    """What the listener does after a connection ended: wait ``delay`` seconds, then connect to ``url``."""

    #: The close code, or None when the connection never opened (refused, timed out, reset).
    code: Optional[int]
    reason: str
    #: The drain hint of a 1001 close, in milliseconds, when it had one.
    hint_ms: Optional[int]
    delay: float
    url: str


def _connect(url: str, headers: Dict[str, str], open_timeout: float) -> Any:
    # websockets 14 renamed extra_headers (Debian 12 ships 10.4, newer systems 14+).
    key = "additional_headers" if _WEBSOCKETS_MAJOR >= 14 else "extra_headers"
    return websockets.connect(url, open_timeout=open_timeout, max_size=None, **{key: headers})


def _close_code(error: websockets.exceptions.ConnectionClosed) -> int:
    received = getattr(error, "rcvd", None)
    return received.code if received is not None else 1006


def _chat_url(gateway_url: str, session_id: str) -> str:
    base = gateway_url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[len("http"):]
    return f"{base}/ws/chat/{quote(str(session_id), safe='')}"


class Listener:
    """``gateway_url``: one gateway, or several replicas tried in turn (the next one after a drain or a failed open).

    ``on_reconnect`` is called with a ``Reconnect`` before each wait, to log or count reconnects.
    """

    def __init__(self, gateway_url: Union[str, Sequence[str]], session_id: str, token: Callable[[], str], *,
                 last_seq: Optional[int] = None,
                 reconnect: RetryPolicy = RetryPolicy(attempts=10, base_delay=0.2, max_delay=5.0),
                 open_timeout: float = 10.0, on_reconnect: Optional[Callable[[Reconnect], None]] = None) -> None:
        gateways = [gateway_url] if isinstance(gateway_url, str) else list(gateway_url)
        if not gateways or not all(isinstance(url, str) and url.strip() for url in gateways):
            raise ValueError(f"gateway_url must name at least one gateway, got {gateway_url!r}")
        self._urls: List[str] = [_chat_url(url, session_id) for url in gateways]
        self._replica = 0
        self._token = token
        #: The last message seq yielded (or given): the resume point.
        self.last_seq = last_seq
        self._reconnect = reconnect
        self._open_timeout = open_timeout
        self._on_reconnect = on_reconnect

    @property
    def url(self) -> str:
        """The chat URL of the gateway the listener is connected to, or connects to next."""
        return self._urls[self._replica]

    def _url_now(self) -> str:
        return self.url if self.last_seq is None else f"{self.url}?lastSeq={self.last_seq}"

    async def frames(self) -> AsyncIterator[Frame]:
        failures = 0
        while True:
            welcomed = False
            code: Optional[int] = None
            reason = ""
            try:
                async with _connect(self._url_now(), {"Authorization": f"Bearer {self._token()}"}, self._open_timeout) as ws:
                    while True:
                        frame = parse_frame(json.loads(await ws.recv()))
                        if isinstance(frame, Welcome):
                            failures = 0
                            welcomed = True
                            if self.last_seq is None:
                                # From here on, a reconnect resumes after what the session held when we joined.
                                self.last_seq = frame.seq
                        elif isinstance(frame, ChatMessage):
                            if self.last_seq is not None and frame.seq <= self.last_seq:
                                continue
                            self.last_seq = frame.seq
                        yield frame
                        if isinstance(frame, SessionClosed):
                            return
            except websockets.exceptions.ConnectionClosed as closed:
                code = _close_code(closed)
                reason = closed.rcvd.reason if closed.rcvd is not None else ""
                refused = CLOSE_CODE_ERRORS.get(code)
                if refused is not None:
                    raise refused(reason or f"the gateway closed the connection with {code}", status=None) from closed
                error: ChatError = TransportError(f"the connection closed with {code}")
            except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake) as cause:
                error = TransportError(f"could not connect to {self.url}: {cause}")
                error.__cause__ = cause
            hint = drain_hint_of(reason) if code == _GOING_AWAY else None
            # A draining gateway is going away, and one that refused us may be too: try the next address.
            if hint is not None or not welcomed:
                self._replica = (self._replica + 1) % len(self._urls)
            if hint is not None:
                # The server said when to come back: that wait is not a failure, and the backoff starts afresh.
                failures = 0
                delay = drain_wait_seconds(hint)
            else:
                failures += 1
                if failures >= self._reconnect.attempts:
                    raise error
                delay = self._reconnect.delay(failures, error)
            if self._on_reconnect is not None:
                self._on_reconnect(Reconnect(code=code, reason=reason, hint_ms=hint, delay=delay, url=self.url))
            await asyncio.sleep(delay)
