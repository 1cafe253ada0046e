"""The session-api's admin endpoints through both clients: the persister's dead letters and the chat switch's refusals.

Turning chat off and on is in test_chat_switch.py: on the services stack the switch is one Redis key
shared by everything on that Redis, so that file runs against the embedded stack only.
"""

import uuid

import pytest

from chat_client import ChatStatus, Forbidden, InvalidInput, NotFound
from chat_client.endpoints import Call
from conftest import new_user
from test_rest import make  # noqa: F401  (the sync/async client fixture)


def test_dead_letters_are_listed_to_admins_and_an_unknown_one_is_not_found(make):
    chat = make()
    session = chat.create_session()
    chat.post_message(session.id, "stored, not dead")
    assert chat.dead_letters(session_id=session.id) == []
    assert chat.dead_letters(session_id=session.id, include_replayed=True, limit=5) == []
    assert all(letter.state == "open" for letter in chat.dead_letters(limit=20))
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFound):
        chat.dead_letter(unknown)
    with pytest.raises(NotFound):
        chat.replay_dead_letter(unknown)
    with pytest.raises(InvalidInput):
        chat.dead_letter("not-a-uuid")
    with pytest.raises(InvalidInput):
        chat.dead_letters(limit=501)


def test_a_member_is_forbidden_every_dead_letter_endpoint_and_the_switch(make):
    chat = make()
    user = make(token=chat.user_token(new_user()))
    any_id = str(uuid.uuid4())
    for call in (lambda: user.dead_letters(), lambda: user.dead_letter(any_id), lambda: user.replay_dead_letter(any_id),
                 lambda: user.set_chat("off")):
        with pytest.raises(Forbidden):
            call()
    assert isinstance(user.chat_status(), ChatStatus)  # the status needs no rights


def test_a_bad_switch_state_is_refused_and_changes_nothing(make):
    chat = make()
    with pytest.raises(ValueError):
        chat.set_chat("maybe")
    with pytest.raises(InvalidInput):
        chat._run(Call("POST", "/api/chat/admin/switch", ChatStatus.from_json, json={"chat": "maybe"}))
