import json
import re
import uuid

import pytest

from chat_streamlit import ChatConfig

SESSION = str(uuid.uuid4())


def config(**overrides):
    values = dict(session_id=SESSION, user=str(uuid.uuid4()), token_url="https://analysis.example/chat-token",
                  chat_url="https://chat.example")
    values.update(overrides)
    return ChatConfig(**values)


def test_args_are_the_values_as_data():
    c = config(name="Ana </script><b>x</b>", height=500, status_poll_ms=1000)
    args = c.args()
    assert args == {"sessionId": SESSION, "user": c.user, "name": "Ana </script><b>x</b>",
                    "tokenUrl": "https://analysis.example/chat-token", "chatUrl": "https://chat.example",
                    "apiUrl": "https://chat.example", "wsUrl": None, "height": 500, "statusPollMs": 1000}
    assert json.loads(json.dumps(args)) == args


def test_urls_are_normalised_and_api_defaults_to_the_chat_origin():
    c = config(chat_url="https://chat.example/", api_url="https://api.example/", ws_url="wss://ws.example")
    assert c.args()["chatUrl"] == "https://chat.example"
    assert c.args()["apiUrl"] == "https://api.example"
    assert c.args()["wsUrl"] == "wss://ws.example"
    assert config(session_id=SESSION.upper()).session_id == SESSION
    assert config(token_url="/chat-token").token_url == "/chat-token"


@pytest.mark.parametrize("overrides, message", [
    ({"session_id": "analysis-1"}, "session_id must be a UUID"),
    ({"user": "  "}, "user must be a non-empty string"),
    ({"user": None}, "user must be a non-empty string"),
    ({"chat_url": "javascript:alert(1)"}, "chat_url must be an http(s) URL"),
    ({"chat_url": "https://chat.example/chat/"}, "chat_url must be an origin"),
    ({"chat_url": "https://me:pw@chat.example"}, "must not carry credentials"),
    ({"api_url": "ftp://chat.example"}, "api_url must be an http(s) URL"),
    ({"ws_url": "https://chat.example"}, "ws_url must be a ws(s) URL"),
    ({"token_url": "//evil.example/token"}, "token_url must be an http(s) URL or a path"),
    ({"token_url": "chat-token"}, "token_url must be an http(s) URL or start with /"),
    ({"token_url": "data:text/plain,x"}, "token_url must be an http(s) URL or start with /"),
    ({"height": 100}, "height must be an integer of at least 240"),
    ({"height": True}, "height must be an integer"),
    ({"status_poll_ms": 10}, "status_poll_ms must be an integer of at least 200"),
])
def test_bad_values_are_refused_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        config(**overrides)
