"""Search through both clients: hits with the matched words, paging, and refusals that change nothing."""

import time
import uuid

import pytest

from chat_client import Forbidden, InvalidInput, NotFound
from conftest import new_user
from test_rest import make  # noqa: F401  (the sync/async client fixture)


def found(chat, session_id, q, count, timeout=10.0):
    """The store is written a few milliseconds after the ack: search until ``count`` hits are there."""
    deadline = time.monotonic() + timeout
    while True:
        page = chat.search(session_id, q)
        if len(page.hits) >= count or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


def test_a_member_finds_messages_by_a_word_newest_first_with_the_word_marked(make):
    chat = make()
    alice = new_user()
    session = chat.create_session(title="search", members=[alice])
    chat.post_message(session.id, "Hedge ratio is 0.82")
    chat.post_message(session.id, "Lunch?")
    chat.post_message(session.id, "HEDGE again 😀, the hedge holds")
    member = make(token=chat.user_token(alice))
    page = found(member, session.id, "hedge", 2)
    assert [hit.seq for hit in page.hits] == [3, 1] and page.next_before is None
    assert page.hits[0].highlighted() == ["HEDGE", "hedge"]
    assert page.hits[1].highlighted() == ["Hedge"] and page.hits[1].body == "Hedge ratio is 0.82"
    first = member.search(session.id, "hedge", limit=1)
    assert [hit.seq for hit in first.hits] == [3] and first.next_before == 3
    assert [hit.seq for hit in member.search(session.id, "hedge", limit=1, before=first.next_before).hits] == [1]
    assert member.search(session.id, '"ratio is" or lunch').hits[0].seq == 2


def test_bad_input_an_outsider_and_an_unknown_session_are_refused(make):
    chat = make()
    alice = new_user()
    session = chat.create_session(title="search", members=[alice])
    chat.post_message(session.id, "kept as it is")
    member = make(token=chat.user_token(alice))
    for q, options in [("   ", {}), ("x" * 201, {}), ("a\x00b", {}), ("kept", {"limit": 0}), ("kept", {"limit": 101}), ("kept", {"before": 0})]:
        with pytest.raises(InvalidInput):
            member.search(session.id, q, **options)
    with pytest.raises(Forbidden):
        make(token=chat.user_token(new_user())).search(session.id, "kept")
    with pytest.raises(NotFound):
        member.search(str(uuid.uuid4()), "kept")
    assert [m.body for m in chat.history(session.id).messages] == ["kept as it is"]
