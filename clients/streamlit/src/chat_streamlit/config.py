"""What the component needs to know, checked in Python before anything reaches the page.

The page gets these values as the component's arguments (data, never HTML): it shows them only
as text and sends the token only to ``chat_url``'s origin.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

#: The chat view's own minimum: below it the input and the status bar do not fit.
MIN_HEIGHT = 240
#: How often the page asks the chat's GET /status, so it hides soon after chat is turned off.
DEFAULT_STATUS_POLL_MS = 30_000


def _http_url(name: str, value: str, *, origin_only: bool = False) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    if origin_only and parts.path not in ("", "/"):
        raise ValueError(f"{name} must be an origin with no path (the chat view is at /chat/), got {value!r}")
    if parts.username or parts.password:
        raise ValueError(f"{name} must not carry credentials")
    return value.rstrip("/") if origin_only else value


@dataclass(frozen=True)
class ChatConfig:
    """One embedded chat: the session, the person, and where the token and the chat come from."""

    session_id: str
    user: str
    #: The page's own backend: POST {"sessionId", "user"} answers {"token", "expiresIn"}.
    token_url: str
    #: The origin that serves the chat view (/chat/); the token goes nowhere else.
    chat_url: str
    #: The session-api (GET /status, REST); the one-process mode and the nginx of deploy/ serve it at chat_url.
    api_url: Optional[str] = None
    #: The gateway's WebSocket base, when it is not chat_url's origin with ws:/wss:.
    ws_url: Optional[str] = None
    name: Optional[str] = None
    height: int = 600
    status_poll_ms: int = DEFAULT_STATUS_POLL_MS

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "session_id", str(uuid.UUID(str(self.session_id))))
        except ValueError:
            raise ValueError(f"session_id must be a UUID, got {self.session_id!r}") from None
        if not isinstance(self.user, str) or not self.user.strip():
            raise ValueError("user must be a non-empty string")
        # token_url may be relative to the page (a backend behind the same proxy).
        if not isinstance(self.token_url, str) or not self.token_url or self.token_url.startswith("//"):
            raise ValueError(f"token_url must be an http(s) URL or a path, got {self.token_url!r}")
        if "://" in self.token_url:
            _http_url("token_url", self.token_url)
        elif not self.token_url.startswith("/"):
            raise ValueError(f"token_url must be an http(s) URL or start with /, got {self.token_url!r}")
        object.__setattr__(self, "chat_url", _http_url("chat_url", self.chat_url, origin_only=True))
        if self.api_url is not None:
            object.__setattr__(self, "api_url", _http_url("api_url", self.api_url, origin_only=True))
        if self.ws_url is not None:
            parts = urlsplit(self.ws_url)
            if parts.scheme not in ("ws", "wss") or not parts.netloc:
                raise ValueError(f"ws_url must be a ws(s) URL, got {self.ws_url!r}")
        if isinstance(self.height, bool) or not isinstance(self.height, int) or self.height < MIN_HEIGHT:
            raise ValueError(f"height must be an integer of at least {MIN_HEIGHT} pixels")
        if isinstance(self.status_poll_ms, bool) or not isinstance(self.status_poll_ms, int) or self.status_poll_ms < 200:
            raise ValueError("status_poll_ms must be an integer of at least 200")

    def args(self) -> Dict[str, Any]:
        """The component's arguments, as the page reads them (JSON-serialisable, camelCase)."""
        return {
            "sessionId": self.session_id,
            "user": self.user,
            "name": self.name,
            "tokenUrl": self.token_url,
            "chatUrl": self.chat_url,
            "apiUrl": self.api_url or self.chat_url,
            "wsUrl": self.ws_url,
            "height": self.height,
            "statusPollMs": self.status_poll_ms,
        }
