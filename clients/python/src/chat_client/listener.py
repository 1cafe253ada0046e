"""A WebSocket listener for server-side code: the frames of one session, typed, without gaps.

It connects to ``/ws/chat/{id}`` with the token in the ``Authorization`` header, yields every
frame, and when the connection drops (a gateway restarting closes with 1001) reconnects with
backoff and ``lastSeq`` = the last message it yielded, so nothing is missed and nothing repeats.
It ends after ``session_closed``; a refused connection (4401, 4403, 4404) raises the matching error.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Callable, Dict, Optional
from urllib.parse import quote

import websockets
import websockets.exceptions

from .errors import CLOSE_CODE_ERRORS, ChatError, TransportError
from .models import ChatMessage, Frame, SessionClosed, Welcome, parse_frame
from .retry import RetryPolicy

_WEBSOCKETS_MAJOR = int(websockets.__version__.split(".")[0])


def _connect(url: str, headers: Dict[str, str], open_timeout: float) -> Any:
    # websockets 14 renamed extra_headers (Debian 12 ships 10.4, newer systems 14+).
    key = "additional_headers" if _WEBSOCKETS_MAJOR >= 14 else "extra_headers"
    return websockets.connect(url, open_timeout=open_timeout, max_size=None, **{key: headers})


def _close_code(error: websockets.exceptions.ConnectionClosed) -> int:
    received = getattr(error, "rcvd", None)
    return received.code if received is not None else 1006


class Listener:
    def __init__(self, gateway_url: str, session_id: str, token: Callable[[], str], *, last_seq: Optional[int] = None,
                 reconnect: RetryPolicy = RetryPolicy(attempts=10, base_delay=0.2, max_delay=5.0),
                 open_timeout: float = 10.0) -> None:
        base = gateway_url.rstrip("/")
        if base.startswith("http"):
            base = "ws" + base[len("http"):]
        self._url = f"{base}/ws/chat/{quote(str(session_id), safe='')}"
        self._token = token
        #: The last message seq yielded (or given): the resume point.
        self.last_seq = last_seq
        self._reconnect = reconnect
        self._open_timeout = open_timeout

    def _url_now(self) -> str:
        return self._url if self.last_seq is None else f"{self._url}?lastSeq={self.last_seq}"

    async def frames(self) -> AsyncIterator[Frame]:
        failures = 0
        while True:
            try:
                async with _connect(self._url_now(), {"Authorization": f"Bearer {self._token()}"}, self._open_timeout) as ws:
                    while True:
                        frame = parse_frame(json.loads(await ws.recv()))
                        if isinstance(frame, Welcome):
                            failures = 0
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
                refused = CLOSE_CODE_ERRORS.get(code)
                if refused is not None:
                    reason = closed.rcvd.reason if closed.rcvd is not None else ""
                    raise refused(reason or f"the gateway closed the connection with {code}", status=None) from closed
                error: ChatError = TransportError(f"the connection closed with {code}")
            except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake) as cause:
                error = TransportError(f"could not connect to {self._url}: {cause}")
                error.__cause__ = cause
            failures += 1
            if failures >= self._reconnect.attempts:
                raise error
            await asyncio.sleep(self._reconnect.delay(failures, error))
