"""HS256 service tokens, as the chat's auth library verifies them (libs/auth).

Claims: ``sub`` (the user's UUID), ``iat``, ``exp`` (required), optional ``name``, ``scope``
(``chat:admin`` for a service caller that may act on any session), ``iss`` and ``aud`` when the
deployment checks them. Built with the standard library only: HMAC-SHA256 over base64url JSON.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Callable, Dict, Optional, Sequence

ADMIN_SCOPE = "chat:admin"
#: A member holding it may remove other members and change the session's title and metadata.
MEMBERS_SCOPE = "chat:members"
#: The auth library refuses shorter HS256 keys at start-up.
MIN_SECRET_CHARS = 32


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _canonical_user_id(user_id: str) -> str:
    try:
        return str(uuid.UUID(str(user_id)))
    except ValueError:
        raise ValueError(f"user_id must be a UUID, got {user_id!r}") from None


def mint_token(secret: str, user_id: str, *, name: Optional[str] = None, admin: bool = False,
               ttl_seconds: int = 3600, issuer: Optional[str] = None, audience: Optional[str] = None,
               now: Optional[float] = None, scopes: Sequence[str] = ()) -> str:
    """Signs a token for ``user_id``; ``admin=True`` adds the ``chat:admin`` scope, ``scopes`` any others."""
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"the signing key must be at least {MIN_SECRET_CHARS} characters")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued = int(now if now is not None else time.time())
    claims: Dict[str, Any] = {"sub": _canonical_user_id(user_id), "iat": issued, "exp": issued + int(ttl_seconds)}
    if name:
        claims["name"] = name
    granted = ([ADMIN_SCOPE] if admin else []) + [scope for scope in scopes if scope != ADMIN_SCOPE or not admin]
    if any(not scope or " " in scope for scope in granted):
        raise ValueError("a scope is one word")
    if granted:
        claims["scope"] = " ".join(granted)
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}"
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _json(value: Dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class ServiceTokens:
    """Mints the service's own admin token and renews it a minute before it expires."""

    def __init__(self, secret: str, service_user_id: str, *, name: Optional[str] = None, ttl_seconds: int = 3600,
                 issuer: Optional[str] = None, audience: Optional[str] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._mint = lambda now: mint_token(secret, service_user_id, name=name, admin=True, ttl_seconds=ttl_seconds,
                                            issuer=issuer, audience=audience, now=now)
        self._ttl = ttl_seconds
        self._clock = clock
        self._token: Optional[str] = None
        self._renew_at = 0.0
        self._mint(clock())  # a bad key or id fails here, at setup, not on the first call

    def __call__(self) -> str:
        now = self._clock()
        if self._token is None or now >= self._renew_at:
            self._token = self._mint(now)
            self._renew_at = now + max(self._ttl - 60, self._ttl / 2)
        return self._token
