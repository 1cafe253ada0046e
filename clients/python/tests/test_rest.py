"""Every REST endpoint through both clients, against the running stack."""

import asyncio
import inspect
import uuid

import pytest

from chat_client import (NO_RETRY, AsyncChatClient, ChatClient, Forbidden, InvalidInput, NotFound, RateLimited,
                         RouteNotFound, TooLarge, Unauthorized)
from chat_client.endpoints import Call
from conftest import new_user


class Sync:
    """Runs the same scenario through ChatClient or AsyncChatClient."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)


class Async:
    def __init__(self, client):
        self.client = client
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            result = method(*args, **kwargs)
            if inspect.isasyncgen(result):
                async def collect():
                    return [m async for m in result]
                return iter(self.loop.run_until_complete(collect()))
            if inspect.iscoroutine(result):
                return self.loop.run_until_complete(result)
            return result
        return call

    def close(self):
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def make(request, stack):
    """make(token=None) -> a client of the parametrized kind, admin unless given a user's token."""
    made = []

    def build(token=None, **options):
        args = {"token": token} if token else {"secret": stack.secret, "service_user_id": stack.service_user_id}
        if request.param == "sync":
            wrapped = Sync(ChatClient(stack.api_url, **args, **options))
        else:
            wrapped = Async(AsyncChatClient(stack.api_url, **args, **options))
        made.append(wrapped)
        return wrapped

    yield build
    for wrapped in made:
        wrapped.close()


def test_create_then_get_returns_the_session_as_created(make):
    chat = make()
    alice, bob = new_user(), new_user()
    created = chat.create_session(title="Q3 review", members=[alice, bob.upper()], metadata={"analysisId": 42})
    assert created.title == "Q3 review" and sorted(created.members) == sorted([alice, bob])
    assert created.metadata == {"analysisId": 42} and created.closed_at is None
    assert chat.get_session(created.id) == created


def test_a_session_created_without_anything_is_untitled_and_an_admin_is_not_a_member(make):
    session = make().create_session()
    assert session.title is None and session.members == []


def test_adding_members_is_a_set_union_and_repeating_it_changes_nothing(make):
    chat = make()
    alice, bob = new_user(), new_user()
    session = chat.create_session(members=[alice])
    once = chat.add_members(session.id, [bob, alice])
    twice = chat.add_members(session.id, [bob])
    assert sorted(once.members) == sorted(twice.members) == sorted([alice, bob])


def test_a_posted_message_is_stored_with_the_next_seq_and_a_repeat_gives_the_first_back(make):
    chat = make()
    session = chat.create_session()
    first = chat.post_message(session.id, "Result: VaR 1.2M", metadata={"kind": "result"}, client_msg_id="run-1")
    repeat = chat.post_message(session.id, "a different body", client_msg_id="run-1")
    second = chat.post_message(session.id, "next")
    assert (first.seq, second.seq) == (1, 2)
    assert repeat == first and repeat.body == "Result: VaR 1.2M" and first.metadata == {"kind": "result"}
    assert [m.id for m in chat.history(session.id).messages] == [first.id, second.id]


def test_history_pages_back_and_forth_and_iter_history_walks_every_message_once(make):
    chat = make()
    session = chat.create_session()
    posted = [chat.post_message(session.id, f"m{i}") for i in range(1, 8)]
    latest = chat.history(session.id, limit=3)
    assert [m.seq for m in latest.messages] == [5, 6, 7] and latest.has_more
    back = chat.history(session.id, limit=3, before=5)
    assert [m.seq for m in back.messages] == [2, 3, 4] and back.has_more
    oldest = chat.history(session.id, limit=3, before=2)
    assert [m.seq for m in oldest.messages] == [1] and not oldest.has_more
    forward = chat.history(session.id, limit=4, after=3)
    assert [m.seq for m in forward.messages] == [4, 5, 6, 7] and not forward.has_more
    assert [m.id for m in chat.iter_history(session.id, page_size=2)] == [m.id for m in posted]
    assert [m.seq for m in chat.iter_history(session.id, after=5, page_size=1)] == [6, 7]


def test_closing_ends_the_session_for_posts_and_admins_still_read_it(make):
    chat = make()
    alice = new_user()
    session = chat.create_session(members=[alice])
    chat.post_message(session.id, "kept for audit")
    chat.close_session(session.id)
    chat.close_session(session.id)  # closing again is fine: a retry after a lost answer
    assert chat.get_session(session.id).closed_at is not None
    assert [m.body for m in chat.history(session.id).messages] == ["kept for audit"]
    with pytest.raises(NotFound):
        chat.post_message(session.id, "too late")
    with pytest.raises(NotFound):
        make(token=make_token(chat, alice)).history(session.id)


def make_token(chat, user_id):
    return chat.user_token(user_id)


def test_a_member_reads_and_posts_but_an_outsider_is_forbidden(make):
    chat = make()
    alice, mallory = new_user(), new_user()
    session = chat.create_session(members=[alice])
    member = make(token=chat.user_token(alice, name="Alice"))
    posted = member.post_message(session.id, "hi")
    assert posted.user_id == alice and posted.user_name == "Alice"
    outsider = make(token=chat.user_token(mallory))
    for call in (lambda: outsider.history(session.id), lambda: outsider.post_message(session.id, "x"),
                 lambda: outsider.get_session(session.id)):
        with pytest.raises(Forbidden) as refused:
            call()
        assert refused.value.status == 403


def test_a_user_creating_a_session_becomes_its_member(make):
    chat = make()
    alice = new_user()
    assert make(token=chat.user_token(alice)).create_session().members == [alice]


def test_each_kind_of_bad_input_raises_its_own_error(make):
    chat = make()
    session = chat.create_session()
    with pytest.raises(NotFound):
        chat.get_session(str(uuid.uuid4()))
    with pytest.raises(InvalidInput):
        chat.get_session("not-a-uuid")
    with pytest.raises(InvalidInput):
        chat.history(session.id, limit=501)
    with pytest.raises(InvalidInput):
        chat.add_members(session.id, [])
    with pytest.raises(TooLarge):
        chat.post_message(session.id, "x" * 4001)
    with pytest.raises(TooLarge):
        chat.post_message(session.id, "x", metadata={"blob": "y" * 5000})
    with pytest.raises(ValueError):
        chat.history(session.id, before=3, after=1)
    assert chat.history(session.id).messages == []  # nothing was stored by the refused posts


def test_a_missing_endpoint_and_a_bad_token_raise_their_errors(stack):
    with stack.admin() as chat, pytest.raises(RouteNotFound):
        chat._run(Call("GET", "/api/chat/nowhere", parse=lambda body: body))
    with ChatClient(stack.api_url, token="not.a.jwt") as chat, pytest.raises(Unauthorized):
        chat.create_session()


def test_a_user_past_the_rate_limit_gets_rate_limited_with_retry_after(make, stack):
    chat = make()
    alice = new_user()
    session = chat.create_session(members=[alice])
    member = make(token=chat.user_token(alice), retry=NO_RETRY)
    with pytest.raises(RateLimited) as limited:
        for i in range(100):
            member.post_message(session.id, f"burst {i}")
    assert limited.value.status == 429 and limited.value.retry_after is not None and limited.value.retry_after >= 1


def test_removing_a_member_closes_history_to_them_and_repeating_it_changes_nothing(make):
    chat = make()
    alice, bob = new_user(), new_user()
    session = chat.create_session(members=[alice, bob])
    removed = chat.remove_member(session.id, alice)
    assert removed.members == [bob]
    assert chat.remove_member(session.id, alice).members == [bob]  # a retry after a lost answer
    gone = make(token=chat.user_token(alice))
    for call in (lambda: gone.history(session.id), lambda: gone.post_message(session.id, "still here?")):
        with pytest.raises(Forbidden):
            call()
    assert chat.get_session(session.id).members == [bob]


def test_a_member_may_leave_but_removing_another_takes_the_members_scope(make):
    from chat_client import MEMBERS_SCOPE
    chat = make()
    alice, bob, carol = new_user(), new_user(), new_user()
    session = chat.create_session(members=[alice, bob, carol])
    with pytest.raises(Forbidden) as refused:
        make(token=chat.user_token(alice)).remove_member(session.id, bob)
    assert MEMBERS_SCOPE in refused.value.message
    assert make(token=chat.user_token(alice)).remove_member(session.id, alice).members == [bob, carol]
    moderator = make(token=chat.user_token(carol, scopes=[MEMBERS_SCOPE]))
    assert moderator.remove_member(session.id, bob).members == [carol]
    with pytest.raises(NotFound):
        chat.remove_member(str(uuid.uuid4()), carol)


def test_updating_a_session_changes_only_what_is_given(make):
    from chat_client import MEMBERS_SCOPE
    chat = make()
    alice = new_user()
    session = chat.create_session(title="draft", members=[alice], metadata={"analysisId": "a-1"})
    assert chat.update_session(session.id, title="Q3 forecast").metadata == {"analysisId": "a-1"}
    updated = make(token=chat.user_token(alice, scopes=[MEMBERS_SCOPE])).update_session(session.id, metadata={"analysisId": "a-2"})
    assert (updated.title, updated.metadata) == ("Q3 forecast", {"analysisId": "a-2"})
    assert chat.update_session(session.id, title=None).title is None
    with pytest.raises(ValueError):
        chat.update_session(session.id)
    with pytest.raises(Forbidden):
        make(token=chat.user_token(alice)).update_session(session.id, title="mine")
    with pytest.raises(InvalidInput):
        chat.update_session(session.id, title="x" * 201)
    assert chat.get_session(session.id).title is None
