import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest

from chat_client import ChatClient, Forbidden, ServiceTokens, Unauthorized, mint_token

SECRET = "k" * 32


def _decode(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_minted_token_is_hs256_over_the_claims_the_auth_library_expects():
    user = str(uuid.uuid4())
    token = mint_token(SECRET, user.upper(), name="Risk engine", admin=True, ttl_seconds=120, issuer="fin", audience="chat",
                       now=1_700_000_000)
    header, claims, signature = token.split(".")
    assert _decode(header) == {"alg": "HS256", "typ": "JWT"}
    assert _decode(claims) == {"sub": user, "iat": 1_700_000_000, "exp": 1_700_000_120, "name": "Risk engine",
                               "scope": "chat:admin", "iss": "fin", "aud": "chat"}
    expected = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


def test_a_user_token_carries_no_scope():
    claims = _decode(mint_token(SECRET, str(uuid.uuid4())).split(".")[1])
    assert "scope" not in claims and "name" not in claims


@pytest.mark.parametrize("secret, user, ttl", [("short", str(uuid.uuid4()), 60), (SECRET, "not-a-uuid", 60),
                                               (SECRET, str(uuid.uuid4()), 0)])
def test_minting_refuses_a_short_key_a_non_uuid_subject_and_a_non_positive_lifetime(secret, user, ttl):
    with pytest.raises(ValueError):
        mint_token(secret, user, ttl_seconds=ttl)


def test_service_tokens_are_reused_until_a_minute_before_expiry_then_renewed():
    now = [1000.0]
    tokens = ServiceTokens(SECRET, str(uuid.uuid4()), ttl_seconds=600, clock=lambda: now[0])
    first = tokens()
    now[0] += 539
    assert tokens() == first
    now[0] += 2
    renewed = tokens()
    assert renewed != first and _decode(renewed.split(".")[1])["exp"] == int(now[0]) + 600


def test_the_server_accepts_a_minted_admin_token(stack):
    with stack.admin() as chat:
        session = chat.create_session(title="minted")
        assert chat.get_session(session.id).id == session.id


def test_the_server_refuses_a_token_signed_with_another_key(stack):
    with ChatClient(stack.api_url, token=mint_token("x" * 40, str(uuid.uuid4()), admin=True)) as chat:
        with pytest.raises(Unauthorized) as refused:
            chat.create_session()
    assert refused.value.status == 401


def test_the_server_refuses_an_expired_token(stack):
    expired = mint_token(stack.secret, str(uuid.uuid4()), admin=True, ttl_seconds=60, now=time.time() - 3600)
    with ChatClient(stack.api_url, token=expired) as chat, pytest.raises(Unauthorized):
        chat.create_session()


def test_a_user_token_is_not_an_admin_token(stack, admin):
    session = admin.create_session()
    with stack.as_user(str(uuid.uuid4())) as user, pytest.raises(Forbidden):
        user.close_session(session.id)


def test_further_scopes_join_the_admin_scope_in_one_space_separated_claim():
    from chat_client import MEMBERS_SCOPE
    claims = _decode(mint_token(SECRET, str(uuid.uuid4()), admin=True, scopes=[MEMBERS_SCOPE]).split(".")[1])
    assert claims["scope"] == "chat:admin chat:members"
    assert _decode(mint_token(SECRET, str(uuid.uuid4()), scopes=[MEMBERS_SCOPE]).split(".")[1])["scope"] == "chat:members"
    with pytest.raises(ValueError):
        mint_token(SECRET, str(uuid.uuid4()), scopes=["two words"])
