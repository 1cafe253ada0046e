"""Fixtures for the tests against a running stack.

The jest suite tests/python/python-client.test.ts starts the real stack (and the embedded one) and
runs these tests with CHAT_API_URL, CHAT_GATEWAY_URLS, CHAT_JWT_SECRET and CHAT_ERROR_CODES set.
Without them a stack test fails (never skips) and says how to run it.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Dict, List

import pytest

from chat_client import ChatClient, mint_token

HOW_TO_RUN = "run these tests through jest, which starts the stack: npx pnpm@10.34.9 test:unit -- tests/python"


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; {HOW_TO_RUN}", pytrace=False)
    return value


class Stack:
    def __init__(self) -> None:
        self.kind = os.environ.get("CHAT_STACK", "services")
        self.api_url = _env("CHAT_API_URL")
        self.gateway_urls: List[str] = _env("CHAT_GATEWAY_URLS").split(",")
        self.secret = _env("CHAT_JWT_SECRET")
        self.service_user_id = str(uuid.uuid4())
        #: The one host the stack allows result-card links to (ANALYSIS_LINK_HOSTS).
        self.analysis_link_host = _env("CHAT_ANALYSIS_LINK_HOST")

    def admin(self, **options: Any) -> ChatClient:
        return ChatClient(self.api_url, secret=self.secret, service_user_id=self.service_user_id, **options)

    def user_token(self, user_id: str, **claims: Any) -> str:
        return mint_token(self.secret, user_id, **claims)

    def as_user(self, user_id: str, **options: Any) -> ChatClient:
        return ChatClient(self.api_url, token=self.user_token(user_id), **options)


@pytest.fixture(scope="session")
def stack() -> Stack:
    return Stack()


@pytest.fixture()
def admin(stack: Stack):
    with stack.admin() as client:
        yield client


@pytest.fixture(scope="session")
def error_registry() -> Dict[str, Dict[str, Any]]:
    """The protocol's ERROR_CODES, as the jest runner read them from @chat/protocol."""
    return json.loads(_env("CHAT_ERROR_CODES"))


def new_user() -> str:
    return str(uuid.uuid4())
