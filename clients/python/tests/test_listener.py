"""The WebSocket listener against the running gateways."""

import asyncio
import uuid

import pytest

from chat_client import AsyncChatClient, ChatMessage, Forbidden, NotFound, RetryPolicy, SessionClosed, Unauthorized, Welcome
from tcp_proxy import TcpProxy

TIMEOUT = 20


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def client(stack, gateway=None, **options):
    return AsyncChatClient(stack.api_url, secret=stack.secret, service_user_id=stack.service_user_id,
                           gateway_url=gateway or stack.gateway_urls[0], **options)


async def take_messages(frames, count, seen):
    async for frame in frames:
        seen.append(frame)
        if sum(isinstance(f, ChatMessage) for f in seen) == count:
            return


def test_a_listener_gets_a_welcome_then_every_posted_message_in_order(stack):
    async def scenario():
        async with client(stack) as chat:
            session = await chat.create_session()
            frames = chat.listen(session.id)
            welcome = await frames.__anext__()
            assert isinstance(welcome, Welcome) and welcome.seq == 0 and welcome.session_id == session.id
            posted = [await chat.post_message(session.id, f"m{i}") for i in range(3)]
            seen = []
            await take_messages(frames, 3, seen)
            await frames.aclose()
            return posted, seen

    posted, seen = run(scenario())
    assert [(m.id, m.seq, m.body) for m in seen] == [(m.id, m.seq, m.body) for m in posted]


def test_a_listener_started_with_last_seq_gets_what_followed_first(stack):
    async def scenario():
        async with client(stack, gateway=stack.gateway_urls[-1]) as chat:
            session = await chat.create_session()
            for i in range(5):
                await chat.post_message(session.id, f"m{i}")
            seen = []
            frames = chat.listen(session.id, last_seq=2)
            await take_messages(frames, 3, seen)
            await frames.aclose()
            return seen

    seen = run(scenario())
    assert isinstance(seen[0], Welcome) and [m.seq for m in seen[1:]] == [3, 4, 5]


def test_a_listener_whose_connection_is_cut_resumes_without_gap_or_duplicate(stack):
    port = int(stack.gateway_urls[0].rsplit(":", 1)[1])
    proxy = TcpProxy(("127.0.0.1", port))

    async def scenario():
        async with client(stack, gateway=proxy.url, retry=RetryPolicy(base_delay=0.05)) as chat:
            session = await chat.create_session()
            frames = chat.listen(session.id, reconnect=RetryPolicy(attempts=20, base_delay=0.05, max_delay=0.2))
            seen = []
            await frames.__anext__()
            await chat.post_message(session.id, "before the cut")
            await take_messages(frames, 1, seen)
            proxy.cut()
            # Posted while the listener is away (straight to the API, not through the cut proxy).
            async with client(stack) as direct:
                for i in range(3):
                    await direct.post_message(session.id, f"while away {i}")
            await take_messages(frames, 4, seen)
            await frames.aclose()
            return seen

    try:
        seen = run(scenario())
    finally:
        proxy.close()
    messages = [f for f in seen if isinstance(f, ChatMessage)]
    assert [m.seq for m in messages] == [1, 2, 3, 4]
    assert proxy.connections >= 2
    assert sum(isinstance(f, Welcome) for f in seen) == 1  # the second welcome came after the cut


def test_a_listener_ends_after_session_closed(stack):
    async def scenario():
        async with client(stack) as chat:
            session = await chat.create_session()
            frames = chat.listen(session.id)
            await frames.__anext__()
            await chat.close_session(session.id)
            return [frame async for frame in frames]

    assert run(scenario()) == [SessionClosed()]


@pytest.mark.parametrize("case, error", [("unknown session", NotFound), ("not a member", Forbidden),
                                         ("bad token", Unauthorized)])
def test_a_refused_listener_raises_the_close_code_s_error(stack, case, error):
    async def scenario():
        async with client(stack) as admin:
            session = await admin.create_session()
        session_id = str(uuid.uuid4()) if case == "unknown session" else session.id
        token = "not.a.jwt" if case == "bad token" else admin.user_token(str(uuid.uuid4()))
        async with AsyncChatClient(stack.api_url, token=token, gateway_url=stack.gateway_urls[0]) as chat:
            async for _ in chat.listen(session_id):
                pass

    with pytest.raises(error):
        run(scenario())
