"""Checking a webhook from the chat's webhooks service: one call, ``verify_webhook``.

Each delivery carries ``Chat-Webhook-Id`` (the event id, the same on every retry: de-duplicate on
it), ``Chat-Webhook-Timestamp`` (Unix seconds of this attempt) and ``Chat-Webhook-Signature``
(``v1=<hex HMAC-SHA256 of "{id}.{timestamp}.{body}">``, several separated by spaces while a key is
rotated). A delivery is genuine if one signature matches and the timestamp is within the window,
which refuses a captured delivery replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Dict, Mapping, Optional, Union

ID_HEADER = "chat-webhook-id"
TIMESTAMP_HEADER = "chat-webhook-timestamp"
SIGNATURE_HEADER = "chat-webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """The delivery is not genuine; ``reason`` is ``malformed``, ``stale`` or ``bad_signature``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def webhook_signature(secret: str, event_id: str, timestamp: int, body: Union[bytes, str]) -> str:
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    signed = f"{event_id}.{timestamp}.".encode("utf-8") + raw
    return "v1=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, headers: Mapping[str, str], body: Union[bytes, str], *,
                   tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS, now: Optional[float] = None) -> Dict[str, Any]:
    """Checks a delivery's signature and age, and returns its event (``id``, ``type``, ``createdAt``, ``data``).

    Pass the raw request body, before any JSON parsing: the signature covers the exact bytes.
    """
    lowered = {str(k).lower(): v for k, v in headers.items()}
    event_id, timestamp_text, signatures = (lowered.get(ID_HEADER), lowered.get(TIMESTAMP_HEADER),
                                            lowered.get(SIGNATURE_HEADER))
    if not event_id or not signatures or not timestamp_text or not timestamp_text.isdigit():
        raise WebhookVerificationError("malformed", "the webhook headers are missing or malformed")
    timestamp = int(timestamp_text)
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("stale", "the webhook's timestamp is outside the replay window")
    expected = webhook_signature(secret, event_id, timestamp, body)
    if not any(hmac.compare_digest(candidate, expected) for candidate in signatures.split(" ")):
        raise WebhookVerificationError("bad_signature", "no signature matches the body with this secret")
    event = json.loads(body)
    if not isinstance(event, dict) or event.get("id") != event_id:
        raise WebhookVerificationError("malformed", "the body is not the event the headers name")
    return event
