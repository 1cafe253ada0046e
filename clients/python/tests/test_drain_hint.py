"""The drain hint of a 1001 close, read as the TypeScript SDK reads it, and a listener honouring it.

The listener tests here run against small WebSocket servers of their own; tests/python/python-drain.test.ts
drains a real gateway under a listener (test_gateway_drain.py).
"""

import asyncio
import json
import random
import socket
import time

import pytest
import websockets

from chat_client import Listener, Reconnect, Welcome
from chat_client.drain import MAX_DRAIN_HINT_MS, drain_hint_of, drain_wait_seconds


@pytest.mark.parametrize("reason, hint", [
    ("server restarting; reconnect-in=1234", 1234),
    ("reconnect-in=0", 0),
    ("a;reconnect-in=7 ;b", 7),
    ("reconnect-in=5\n", 5),  # JavaScript's \s takes the newline, and $ the end
    ("server restarting;\u00a0reconnect-in=42", 42),  # and JavaScript's white space
    ("reconnect-in=999999999", MAX_DRAIN_HINT_MS),
])
def test_a_drain_hint_is_read_and_capped(reason, hint):
    assert drain_hint_of(reason) == hint


@pytest.mark.parametrize("reason", ["", "server restarting", "reconnect-in=", "reconnect-in=-5", "reconnect-in=12ms",
                                    "xreconnect-in=5", "reconnect-in=1e3", "reconnect-in=1234567890",
                                    "reconnect-in=\u0661\u0662",  # Arabic-Indic digits: not ASCII, not a number here
                                    "reconnect-in=5\nx"])
def test_a_reason_without_a_well_formed_hint_names_no_delay(reason):
    assert drain_hint_of(reason) is None


def test_random_reasons_without_the_key_name_no_delay_and_written_hints_read_back():
    rng = random.Random(1001)
    alphabet = "reconnect-in=;0123456789 \t\n\u00a0abc\u0661"
    for _ in range(2000):
        reason = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        if "reconnect-in=" not in reason:
            assert drain_hint_of(reason) is None
        ms = rng.randint(0, 999_999_999)
        assert drain_hint_of(f"server restarting; reconnect-in={ms}") == min(ms, MAX_DRAIN_HINT_MS)


def test_the_wait_is_the_hint_plus_at_most_ten_per_cent_and_one_second():
    assert drain_wait_seconds(2000, lambda: 0.0) == 2.0
    assert drain_wait_seconds(2000, lambda: 0.999) == pytest.approx(2.1998)
    assert drain_wait_seconds(60_000, lambda: 0.999) == pytest.approx(60.999)
    assert drain_wait_seconds(0, lambda: 0.5) == 0.0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeGateways:
    """Two WebSocket servers that welcome each connection, then close it with what ``close`` names."""

    def __init__(self, close):
        self._close = close
        self.connections = []  # (server index, path, monotonic time)
        self._servers = []

    async def __aenter__(self):
        for index in range(2):
            async def handler(ws, *_, index=index):
                # websockets before 13 keeps the path on the connection, later versions on its request.
                target = ws.path if hasattr(ws, "path") else ws.request.path
                self.connections.append((index, target, time.monotonic()))
                await ws.send(json.dumps({"type": "welcome", "sessionId": "s", "userId": "u", "connectionId": f"c{len(self.connections)}", "seq": 0}))
                code, reason = self._close(len(self.connections))
                if code is not None:
                    await ws.close(code, reason)
                else:
                    await ws.wait_closed()
            self._servers.append(await websockets.serve(handler, "127.0.0.1", 0))
        return self

    async def __aexit__(self, *exc):
        for server in self._servers:
            server.close()
            await server.wait_closed()

    def url(self, index):
        port = list(self._servers[index].sockets)[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_a_listener_drained_with_a_hint_waits_it_then_moves_to_the_next_gateway_once():
    reconnects = []

    async def scenario():
        # The first connection is drained with a 700 ms hint; the second stays open.
        async with FakeGateways(lambda n: (1001, "server restarting; reconnect-in=700") if n == 1 else (None, "")) as gateways:
            listener = Listener([gateways.url(0), gateways.url(1)], "s", lambda: "token", on_reconnect=reconnects.append)
            frames = listener.frames()
            welcomes = [await frames.__anext__(), await frames.__anext__()]
            await frames.aclose()
            return gateways.connections, welcomes

    connections, welcomes = _run(scenario())
    assert all(isinstance(frame, Welcome) for frame in welcomes)
    assert [index for index, _, _ in connections] == [0, 1]
    assert connections[1][1].endswith("/ws/chat/s?lastSeq=0")
    assert reconnects == [Reconnect(code=1001, reason="server restarting; reconnect-in=700", hint_ms=700,
                                    delay=reconnects[0].delay, url=reconnects[0].url)]
    assert 0.7 <= reconnects[0].delay <= 0.77
    assert reconnects[0].url.startswith("ws://") and reconnects[0].url.endswith("/ws/chat/s")
    assert connections[1][2] - connections[0][2] >= 0.7


def test_a_listener_drained_without_a_hint_backs_off_on_the_same_gateway():
    reconnects = []

    async def scenario():
        async with FakeGateways(lambda n: (1001, "server restarting") if n == 1 else (None, "")) as gateways:
            listener = Listener([gateways.url(0), gateways.url(1)], "s", lambda: "token", on_reconnect=reconnects.append)
            frames = listener.frames()
            await frames.__anext__()
            await frames.__anext__()
            await frames.aclose()
            return gateways.connections

    connections = _run(scenario())
    assert [index for index, _, _ in connections] == [0, 0]
    assert [(r.code, r.hint_ms) for r in reconnects] == [(1001, None)]


def test_a_listener_whose_first_gateway_refuses_the_connection_moves_to_the_next():
    reconnects = []

    async def scenario():
        async with FakeGateways(lambda n: (None, "")) as gateways:
            listener = Listener([f"http://127.0.0.1:{_closed_port()}", gateways.url(1)], "s", lambda: "token",
                                on_reconnect=reconnects.append)
            frames = listener.frames()
            welcome = await frames.__anext__()
            await frames.aclose()
            return gateways.connections, welcome

    connections, welcome = _run(scenario())
    assert isinstance(welcome, Welcome)
    assert [index for index, _, _ in connections] == [1]
    assert [(r.code, r.hint_ms) for r in reconnects] == [(None, None)]


@pytest.mark.parametrize("urls", [[], [""], ["  "]])
def test_a_listener_without_a_gateway_is_refused_at_once(urls):
    with pytest.raises(ValueError, match="at least one gateway"):
        Listener(urls, "s", lambda: "token")
