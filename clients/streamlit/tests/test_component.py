"""chat() with a stand-in for streamlit.components.v1 (Streamlit cannot be installed here), and the
page's static files: what Streamlit would serve and how the page treats the values it gets."""

import os
import re
import subprocess
import sys
import types
import uuid
from pathlib import Path

import pytest

import chat_streamlit
from chat_streamlit import FRONTEND_DIR, component

SRC = Path(chat_streamlit.__file__).parent.parent


@pytest.fixture()
def fake_streamlit(monkeypatch):
    calls = {"declared": [], "rendered": []}

    def declare_component(name, path=None, url=None):
        calls["declared"].append({"name": name, "path": path, "url": url})
        return lambda **kwargs: calls["rendered"].append(kwargs)

    v1 = types.ModuleType("streamlit.components.v1")
    v1.declare_component = declare_component
    components = types.ModuleType("streamlit.components")
    components.v1 = v1
    streamlit = types.ModuleType("streamlit")
    streamlit.components = components
    monkeypatch.setitem(sys.modules, "streamlit", streamlit)
    monkeypatch.setitem(sys.modules, "streamlit.components", components)
    monkeypatch.setitem(sys.modules, "streamlit.components.v1", v1)
    monkeypatch.setattr(component, "_component", None)
    return calls


def test_importing_the_package_does_not_import_streamlit():
    code = "import sys, chat_streamlit; assert 'streamlit' not in sys.modules; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_chat_declares_the_page_once_and_passes_the_values_as_arguments(fake_streamlit):
    session, user = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(2):
        chat_streamlit.chat(session_id=session, user=user, token_url="/chat-token", chat_url="https://chat.example",
                            name="<img src=x onerror=alert(1)>")
    assert fake_streamlit["declared"] == [{"name": "chat_streamlit.chat", "path": str(FRONTEND_DIR), "url": None}]
    assert len(fake_streamlit["rendered"]) == 2
    rendered = fake_streamlit["rendered"][0]
    assert rendered["sessionId"] == session and rendered["user"] == user
    assert rendered["name"] == "<img src=x onerror=alert(1)>"  # data for textContent, never markup
    assert rendered["tokenUrl"] == "/chat-token" and rendered["chatUrl"] == "https://chat.example"
    assert rendered["height"] == 600 and rendered["key"] == f"chat-{session}" and rendered["default"] is None


def test_chat_refuses_bad_values_before_streamlit_is_touched(fake_streamlit):
    with pytest.raises(ValueError, match="chat_url must be an http"):
        chat_streamlit.chat(session_id=str(uuid.uuid4()), user="u", token_url="/t", chat_url="javascript:x")
    assert fake_streamlit["declared"] == [] and fake_streamlit["rendered"] == []


def test_the_page_is_static_and_loads_its_script():
    html = (FRONTEND_DIR / "index.html").read_text()
    assert '<script src="chat.js"></script>' in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="chat.js">']  # no inline values


def test_the_script_writes_no_markup_and_puts_the_token_only_in_the_chat_address():
    js = (FRONTEND_DIR / "chat.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink
    assert js.count("token") and re.findall(r"[^\n]*\btoken\)[^\n]*", js) == ["    view.searchParams.set('token', token);"]
    assert "new URL('/chat/', chatOrigin())" in js
    # The one message to the parent carries a type and a height: Streamlit's component protocol.
    assert "'streamlit:componentReady'" in js and "'streamlit:setFrameHeight'" in js and "'streamlit:render'" in js
