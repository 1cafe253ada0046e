"""The backend tests run against a chat stack that the jest suite tests/python/streamlit.test.ts
starts (the one-process mode, whose kill switch is its own), with CHAT_API_URL and CHAT_JWT_SECRET
set. Without them those tests fail (never skip) and say how to run them."""

from __future__ import annotations

import os

import pytest

HOW_TO_RUN = "run these tests through jest, which starts the stack: npx pnpm@10.34.9 test:unit -- tests/python/streamlit"


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; {HOW_TO_RUN}", pytrace=False)
    return value
