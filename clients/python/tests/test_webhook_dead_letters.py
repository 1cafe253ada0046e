"""Webhook dead letters through both clients, against the webhooks service beside the services stack.

The jest runner configures one endpoint that refuses the first attempt of each event and allows
one attempt, so every message posted becomes a dead letter; a replay delivers it.
"""

import asyncio
import time

import pytest

from chat_client import AsyncChatClient, ChatClient, Forbidden, NotFound, WebhookDeadLetter
from conftest import _env, new_user


def _letter_for(chat, message_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for letter in chat.webhook_dead_letters(endpoint="flaky", limit=500):
            if letter.event_id == f"message.created:{message_id}":
                return letter
        time.sleep(0.2)
    pytest.fail(f"no dead letter for message {message_id} within {timeout} s")


def test_a_dead_letter_is_listed_to_admins_and_a_replay_delivers_it_once(stack):
    webhooks_url = _env("CHAT_WEBHOOKS_URL")
    with ChatClient(stack.api_url, secret=stack.secret, service_user_id=stack.service_user_id, webhooks_url=webhooks_url) as chat:
        session = chat.create_session(members=[new_user()])
        message = chat.post_message(session.id, "result for the finance backend")
        letter = _letter_for(chat, message.id)
        assert isinstance(letter, WebhookDeadLetter)
        assert (letter.endpoint_id, letter.type, letter.attempts, letter.last_status) == ("flaky", "message.created", 1, 503)
        assert message.id in letter.body

        with ChatClient(stack.api_url, token=chat.user_token(new_user()), webhooks_url=webhooks_url) as user:
            with pytest.raises(Forbidden):
                user.webhook_dead_letters()

        answer = chat.replay_webhook_dead_letter(letter.seq)
        assert answer == {"replayed": True, "eventId": letter.event_id, "endpointId": "flaky", "status": 200}
        assert all(other.seq != letter.seq for other in chat.webhook_dead_letters(endpoint="flaky", limit=500))
        with pytest.raises(NotFound):
            chat.replay_webhook_dead_letter(letter.seq)


def test_the_async_client_lists_and_replays_too(stack):
    webhooks_url = _env("CHAT_WEBHOOKS_URL")
    with ChatClient(stack.api_url, secret=stack.secret, service_user_id=stack.service_user_id, webhooks_url=webhooks_url) as chat:
        session = chat.create_session()
        letter = _letter_for(chat, chat.post_message(session.id, "async").id)

    async def scenario():
        async with AsyncChatClient(stack.api_url, secret=stack.secret, service_user_id=stack.service_user_id,
                                   webhooks_url=webhooks_url) as chat:
            listed = await chat.webhook_dead_letters(endpoint="flaky", limit=500)
            assert letter.seq in [item.seq for item in listed]
            assert (await chat.replay_webhook_dead_letter(letter.seq))["replayed"] is True

    asyncio.run(scenario())


def test_dead_letters_need_the_webhooks_url(stack):
    with ChatClient(stack.api_url, secret=stack.secret, service_user_id=stack.service_user_id) as chat:
        with pytest.raises(ValueError):
            chat.webhook_dead_letters()
