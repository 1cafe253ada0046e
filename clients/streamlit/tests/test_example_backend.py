"""The example backend (FastAPI's TestClient) against a real chat stack started by jest."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from chat_client import ChatClient, mint_token
from example.backend import create_app

from conftest import env


@pytest.fixture(scope="module")
def api_url() -> str:
    return env("CHAT_API_URL")


@pytest.fixture(scope="module")
def secret() -> str:
    return env("CHAT_JWT_SECRET")


@pytest.fixture()
def backend(api_url, secret):
    with TestClient(create_app(api_url=api_url, secret=secret, token_ttl=120)) as client:
        yield client


def switch(api_url: str, secret: str, state: str) -> None:
    admin = mint_token(secret, str(uuid.uuid4()), admin=True)
    answer = httpx.post(f"{api_url}/api/chat/admin/switch", json={"chat": state}, headers={"authorization": f"Bearer {admin}"})
    assert answer.status_code == 200, answer.text


def test_one_session_per_analysis_even_when_asked_at_once(backend, api_url, secret):
    ana, bo, cy = (str(uuid.uuid4()) for _ in range(3))
    analysis = f"analysis-{uuid.uuid4()}"
    ids: list = []
    threads = [threading.Thread(target=lambda: ids.append(backend.post(f"/analyses/{analysis}/chat", json={"title": "Q3", "members": [ana]}).json()["sessionId"]))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 4 and len(set(ids)) == 1
    session_id = ids[0]
    # A later call adds new members to the same session.
    again = backend.post(f"/analyses/{analysis}/chat", json={"members": [bo]})
    assert again.status_code == 200 and again.json() == {"sessionId": session_id}
    with ChatClient(api_url, secret=secret, service_user_id=str(uuid.uuid4())) as admin:
        session = admin.get_session(session_id)
    assert {ana, bo} <= set(session.members) and cy not in session.members
    assert session.metadata == {"analysisId": analysis} and session.title == "Q3"
    other = backend.post(f"/analyses/other-{uuid.uuid4()}/chat", json={"members": [ana]}).json()["sessionId"]
    assert other != session_id


def test_a_member_gets_a_short_lived_token_that_the_chat_accepts(backend, api_url):
    ana = str(uuid.uuid4())
    session_id = backend.post(f"/analyses/a-{uuid.uuid4()}/chat", json={"members": [ana]}).json()["sessionId"]
    answer = backend.post("/chat-token", json={"sessionId": session_id, "user": ana, "name": "Ana"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["expiresIn"] == 120 and set(body) == {"token", "expiresIn"}
    with ChatClient(api_url, token=body["token"]) as as_ana:
        as_ana.post_message(session_id, "hello from the page")
        assert [m.body for m in as_ana.history(session_id).messages] == ["hello from the page"]


def test_tokens_are_refused_to_non_members_and_bad_input(backend):
    ana, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    session_id = backend.post(f"/analyses/a-{uuid.uuid4()}/chat", json={"members": [ana]}).json()["sessionId"]
    refused = backend.post("/chat-token", json={"sessionId": session_id, "user": stranger})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    unknown = backend.post("/chat-token", json={"sessionId": str(uuid.uuid4()), "user": ana})
    assert unknown.status_code == 403
    bad = backend.post("/chat-token", json={"sessionId": "not-a-uuid", "user": ana})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
    bad_members = backend.post(f"/analyses/a-{uuid.uuid4()}/chat", json={"members": ["bob"]})
    assert bad_members.status_code == 400 and bad_members.json()["error"]["code"] == "invalid_input"


def test_chat_disabled_passes_through_and_creates_nothing(backend, api_url, secret):
    ana = str(uuid.uuid4())
    analysis = f"a-{uuid.uuid4()}"
    switch(api_url, secret, "off")
    try:
        off = backend.post(f"/analyses/{analysis}/chat", json={"members": [ana]})
        assert off.status_code == 503 and off.json()["error"]["code"] == "chat_disabled"
    finally:
        switch(api_url, secret, "on")
    # Nothing was kept for the analysis: the next call creates its session.
    on = backend.post(f"/analyses/{analysis}/chat", json={"members": [ana]})
    assert on.status_code == 200
    assert backend.post("/chat-token", json={"sessionId": on.json()["sessionId"], "user": ana}).status_code == 200
