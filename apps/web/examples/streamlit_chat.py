"""Embeds one chat session in a Streamlit app (Streamlit >= 1.22).

Run:  pip install "streamlit>=1.22" pyjwt
      CHAT_URL=http://localhost:8080 JWT_SECRET=... streamlit run streamlit_chat.py

The chat's Content-Security-Policy lets only the pages WEB_FRAME_ANCESTORS names frame it: start
the chat with WEB_FRAME_ANCESTORS="'self' http://localhost:8501" (this page's origin).

When an operator turns chat off (the kill switch), GET <CHAT_API_URL>/status says
{"chat": "off"} and the page leaves the chat out entirely, with no code change.

The page signs a short-lived token for the person using the app and shows the chat's
embeddable view, /chat/?session=<id>&token=<jwt>, in an iframe. The token is minted on the
server side of Streamlit, so the secret never reaches the browser.
"""

import json
import os
import time
import urllib.request
import uuid
from urllib.parse import urlencode

import jwt  # PyJWT
import streamlit as st
import streamlit.components.v1 as components

CHAT_URL = os.environ.get("CHAT_URL", "http://localhost:8080").rstrip("/")
# The session-api's address (GET /status answers there); the one-process mode serves it at CHAT_URL.
CHAT_API_URL = os.environ.get("CHAT_API_URL", CHAT_URL).rstrip("/")
JWT_SECRET = os.environ["JWT_SECRET"]


def chat_is_on() -> bool:
    """The kill switch. An unreachable status counts as on: the chat itself then says what is wrong."""
    try:
        with urllib.request.urlopen(f"{CHAT_API_URL}/status", timeout=2) as response:
            return json.load(response).get("chat") != "off"
    except (OSError, ValueError):
        return True


def chat_token(user_id: str, name: str, ttl_seconds: int = 3600) -> str:
    """An HS256 token with the claims the chat expects: sub (a UUID), exp and a display name."""
    now = int(time.time())
    claims = {"sub": user_id, "name": name, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def chat_iframe_url(session_id: str, token: str) -> str:
    return f"{CHAT_URL}/chat/?{urlencode({'session': session_id, 'token': token})}"


st.title("Analysis chat")

# The application decides who the person is; a stable UUID per person keeps their membership.
name = st.text_input("Your name", value=st.session_state.get("name", ""))
session_id = st.text_input("Chat session id", value=st.session_state.get("session_id", ""))

if not chat_is_on():
    pass  # Chat is turned off: the page shows no chat at all.
elif name and session_id:
    st.session_state["name"] = name
    st.session_state["session_id"] = session_id
    user_id = st.session_state.setdefault("user_id", str(uuid.uuid5(uuid.NAMESPACE_URL, f"streamlit:{name}")))
    components.iframe(chat_iframe_url(session_id, chat_token(user_id, name)), height=600, scrolling=False)
else:
    st.info("Enter your name and a session id. The session must exist and list you as a member.")
