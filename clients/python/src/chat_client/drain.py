"""The drain hint of a gateway that shuts down, read as the TypeScript SDK reads it.

A draining gateway closes each socket with 1001 and the reason ``server restarting; reconnect-in=<ms>``:
each socket gets its own delay, so a restart does not send every client back at once.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Optional

#: A longer hint is taken as this: a faulty server must not park its clients for hours.
MAX_DRAIN_HINT_MS = 300_000
#: Up to this share of a hint (and at most DRAIN_JITTER_MAX_MS) is added at random, so clients told the same moment still spread.
DRAIN_JITTER_SHARE = 0.1
DRAIN_JITTER_MAX_MS = 1_000

# The same pattern as libs/protocol's drainHintOf, spelled out where Python's classes differ from
# JavaScript's: ASCII digits only (Python's ``\d`` takes other scripts' digits), JavaScript's white
# space, and ``\Z`` (Python's ``$`` would also match before a trailing newline).
_SPACE = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_HINT = re.compile(rf"(?:^|;){_SPACE}*reconnect-in=([0-9]{{1,9}}){_SPACE}*(?:;|\Z)")


def drain_hint_of(reason: str) -> Optional[int]:
    """The delay a 1001 close reason asks for, in milliseconds (capped), or None when it names none."""
    match = _HINT.search(reason)
    if match is None:
        return None
    return min(MAX_DRAIN_HINT_MS, int(match.group(1)))


def drain_wait_seconds(hint_ms: int, uniform: Callable[[], float] = random.random) -> float:
    """The wait a hint asks for, with jitter: uniform in [hint, hint + min(10 % of hint, 1 s)], in seconds."""
    return (hint_ms + uniform() * min(DRAIN_JITTER_MAX_MS, hint_ms * DRAIN_JITTER_SHARE)) / 1000.0
