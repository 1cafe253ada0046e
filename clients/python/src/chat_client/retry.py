"""When to try a call again, and how long to wait: exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Optional

import httpx

from .errors import ChatError, RateLimited, TransportError, Unavailable

#: Gateway statuses a proxy in front of the session-api may answer while a replica restarts.
_PROXY_STATUSES = frozenset({502, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts the first try; delays grow from ``base_delay`` to ``max_delay`` (seconds)."""

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    jitter: Callable[[float], float] = lambda ceiling: random.uniform(0, ceiling)

    def delay(self, attempt: int, error: ChatError) -> float:
        """Seconds to wait after failed ``attempt`` (1-based); a server's ``Retry-After`` wins."""
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_delay)
        return self.jitter(min(self.max_delay, self.base_delay * (2 ** (attempt - 1))))


NO_RETRY = RetryPolicy(attempts=1)


def should_retry(error: ChatError, idempotent: bool) -> bool:
    """Idempotent calls retry every transient failure. Others only what surely did nothing on the
    server: a connection never made, or a rate-limit refusal."""
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, TransportError):
        return idempotent or isinstance(error.__cause__, httpx.ConnectError)
    if not idempotent:
        return False
    return isinstance(error, Unavailable) or error.status in _PROXY_STATUSES


def retry_after_seconds(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # an HTTP date: fall back to the policy's own backoff
