"""A listener under a real gateway drain: run by tests/python/python-drain.test.ts, which starts two
gateway replicas and drains the first on request (CHAT_DRAIN_CONTROL_URL)."""

import asyncio
import os
import time

import httpx
import pytest

from chat_client import ChatMessage, Listener, Welcome

HOW_TO_RUN = "run this test through jest, which starts the gateways: npx pnpm@10.34.9 test:unit -- tests/python/python-drain.test.ts"


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; {HOW_TO_RUN}", pytrace=False)
    return value


def test_a_drained_listener_waits_the_hint_then_resumes_once_on_the_other_gateway_without_gap():
    control = _env("CHAT_DRAIN_CONTROL_URL")
    urls = _env("CHAT_DRAIN_GATEWAY_URLS").split(",")
    session_id = _env("CHAT_DRAIN_SESSION_ID")
    token = _env("CHAT_DRAIN_TOKEN")
    window_ms = int(_env("CHAT_DRAIN_WINDOW_MS"))
    reconnects = []
    connected_at = []

    def on_reconnect(reconnect):
        reconnects.append((reconnect, time.monotonic()))

    async def take(frames, seen, messages):
        async for frame in frames:
            seen.append(frame)
            if isinstance(frame, Welcome):
                connected_at.append(time.monotonic())
            if sum(isinstance(f, ChatMessage) for f in seen) == messages:
                return

    async def scenario():
        listener = Listener(urls, session_id, lambda: token, on_reconnect=on_reconnect)
        frames = listener.frames()
        seen = []
        async with httpx.AsyncClient(base_url=control, timeout=15) as http:
            # Joined first, so the listener starts at seq 0 and every message sent is its to receive.
            welcome = await frames.__anext__()
            assert isinstance(welcome, Welcome) and welcome.seq == 0
            seen.append(welcome)
            connected_at.append(time.monotonic())
            (await http.post("/send", params={"count": 2})).raise_for_status()
            await take(frames, seen, 2)
            assert listener.url.startswith(urls[0].replace("http", "ws", 1))
            drained_at = time.monotonic()
            (await http.post("/drain")).raise_for_status()
            (await http.post("/send", params={"count": 3})).raise_for_status()
            await take(frames, seen, 5)
        await frames.aclose()
        return listener, seen, drained_at

    listener, seen, drained_at = asyncio.run(asyncio.wait_for(scenario(), 60))
    messages = [frame for frame in seen if isinstance(frame, ChatMessage)]
    assert [m.seq for m in messages] == [1, 2, 3, 4, 5]
    assert sum(isinstance(frame, Welcome) for frame in seen) == 2
    # One reconnect, told by the drain: the hint waited for, and on the other gateway.
    assert len(reconnects) == 1, reconnects
    reconnect, reconnect_at = reconnects[0]
    assert reconnect.code == 1001 and reconnect.reason.startswith("server restarting; reconnect-in=")
    assert reconnect.hint_ms is not None and 0 <= reconnect.hint_ms <= window_ms
    assert reconnect.hint_ms / 1000 <= reconnect.delay <= reconnect.hint_ms / 1000 * 1.1 + 0.001
    assert reconnect.url.startswith(urls[1].replace("http", "ws", 1)) and listener.url == reconnect.url
    assert connected_at[1] - reconnect_at >= reconnect.delay
    assert connected_at[1] - drained_at <= window_ms / 1000 * 1.1 + 5
