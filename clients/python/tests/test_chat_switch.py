"""Turning chat off and on (embedded stack only: the services stack's switch is shared by everything on its Redis)."""

import pytest

from chat_client import ChatDisabled, ChatStatus
from test_rest import make  # noqa: F401  (the sync/async client fixture)


def test_while_chat_is_off_writes_raise_chat_disabled_and_reads_go_on(make, stack):
    assert stack.kind == "embedded", "this file changes a switch shared by every stack on the same Redis"
    chat = make()
    session = chat.create_session()
    chat.post_message(session.id, "before")
    assert chat.chat_status() == ChatStatus(chat="on", held_by="switch")
    try:
        assert chat.set_chat("off") == ChatStatus(chat="off", held_by="switch")
        assert chat.set_chat("off").chat == "off"  # setting it again changes nothing
        assert chat.chat_status().chat == "off"
        with pytest.raises(ChatDisabled):
            chat.post_message(session.id, "while off")
        assert [m.body for m in chat.history(session.id).messages] == ["before"]
    finally:
        assert chat.set_chat("on").chat == "on"
    assert chat.post_message(session.id, "after").seq == 2
