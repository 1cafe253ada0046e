"""Retries: unit cases over a scripted transport, and a lost answer through a proxy to the real stack."""

import asyncio
import json

import httpx
import pytest

from chat_client import AsyncChatClient, ChatClient, RateLimited, RetryPolicy, TransportError, Unavailable
from conftest import new_user
from tcp_proxy import TcpProxy

SESSION = "7b1e4a2c-1111-4222-8333-444455556666"
MESSAGE = {"type": "message", "id": "0d9e4a2c-1111-4222-8333-444455556666", "sessionId": SESSION, "seq": 1,
           "userId": "1d9e4a2c-1111-4222-8333-444455556666", "body": "x", "metadata": {}, "timestamp": "2026-01-01T00:00:00Z"}
SESSION_BODY = {"id": SESSION, "title": None, "members": [], "metadata": {}, "createdAt": "2026-01-01T00:00:00Z"}


def error(status, code, headers=None):
    return httpx.Response(status, json={"error": {"code": code, "message": code}}, headers=headers or {})


class Script:
    """Answers requests in order from a list; records what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script, **options):
    sleeps = []
    chat = ChatClient("http://chat.test", token="t", transport=httpx.MockTransport(script), sleep=sleeps.append,
                      retry=RetryPolicy(attempts=4, base_delay=0.1, max_delay=1.0, jitter=lambda ceiling: ceiling), **options)
    return chat, sleeps


def test_an_idempotent_call_is_retried_through_unavailable_and_lost_connections_with_growing_delays():
    script = Script(error(503, "unavailable"), httpx.ReadTimeout("slow"), error(502, "bad_gateway"), httpx.Response(201, json=MESSAGE))
    chat, sleeps = client(script)
    assert chat.post_message(SESSION, "x").seq == 1
    assert sleeps == [0.1, 0.2, 0.4]
    ids = {json.loads(r.content)["clientMsgId"] for r in script.requests}
    assert len(ids) == 1  # every try carries the same clientMsgId, so the server stores one message


def test_retries_stop_after_the_policy_s_attempts_with_the_last_error():
    chat, sleeps = client(Script(*[error(503, "unavailable")] * 4))
    with pytest.raises(Unavailable):
        chat.get_session(SESSION)
    assert len(sleeps) == 3


def test_a_rate_limited_call_waits_what_retry_after_says():
    chat, sleeps = client(Script(error(429, "rate_limited", {"Retry-After": "1"}), httpx.Response(201, json=MESSAGE)))
    chat.post_message(SESSION, "x")
    assert sleeps == [1.0]


def test_creating_a_session_is_not_retried_after_a_failure_that_may_have_created_one():
    for failure in (error(503, "unavailable"), httpx.ReadTimeout("slow")):
        script = Script(failure, httpx.Response(201, json=SESSION_BODY))
        chat, _ = client(script)
        with pytest.raises((Unavailable, TransportError)):
            chat.create_session()
        assert len(script.requests) == 1


def test_creating_a_session_is_retried_when_the_connection_was_never_made():
    script = Script(httpx.ConnectError("refused"), httpx.Response(201, json=SESSION_BODY))
    chat, _ = client(script)
    assert chat.create_session().id == SESSION and len(script.requests) == 2


def test_a_client_error_is_never_retried():
    script = Script(error(400, "invalid_input"), httpx.Response(200, json=SESSION_BODY))
    chat, _ = client(script)
    with pytest.raises(Exception) as raised:
        chat.get_session(SESSION)
    assert raised.value.code == "invalid_input" and len(script.requests) == 1


def test_the_async_client_retries_the_same_way():
    script = Script(error(503, "unavailable"), httpx.Response(201, json=MESSAGE))

    async def run():
        async with AsyncChatClient("http://chat.test", token="t", transport=httpx.MockTransport(script),
                                   retry=RetryPolicy(base_delay=0.01)) as chat:
            return await chat.post_message(SESSION, "x")

    assert asyncio.run(run()).seq == 1 and len(script.requests) == 2


def test_a_post_whose_answer_is_lost_is_retried_and_stored_once(stack, admin):
    session = admin.create_session()
    port = int(stack.api_url.rsplit(":", 1)[1])
    proxy = TcpProxy(("127.0.0.1", port), drop_answers_of={1})
    try:
        with ChatClient(proxy.url, secret=stack.secret, service_user_id=stack.service_user_id,
                        retry=RetryPolicy(base_delay=0.05)) as chat:
            message = chat.post_message(session.id, "posted once")
        assert proxy.connections == 2  # the first answer was lost, the retry got the stored message
    finally:
        proxy.close()
    stored = admin.history(session.id).messages
    assert [m.id for m in stored] == [message.id] and stored[0].body == "posted once"


def test_a_create_whose_answer_is_lost_is_reported_not_repeated(stack):
    port = int(stack.api_url.rsplit(":", 1)[1])
    proxy = TcpProxy(("127.0.0.1", port), drop_answers_of={1})
    try:
        with ChatClient(proxy.url, secret=stack.secret, service_user_id=new_user(),
                        retry=RetryPolicy(base_delay=0.05)) as chat, pytest.raises(TransportError):
            chat.create_session()
        assert proxy.connections == 1
    finally:
        proxy.close()


def test_rate_limited_is_raised_when_retries_run_out():
    chat, _ = client(Script(*[error(429, "rate_limited", {"Retry-After": "1"})] * 4))
    with pytest.raises(RateLimited):
        chat.post_message(SESSION, "x")
