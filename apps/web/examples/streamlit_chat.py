"""Embeds one chat session in a Streamlit app (Streamlit >= 1.22).

Run:  pip install "streamlit>=1.22" pyjwt
      CHAT_URL=http://localhost:8080 JWT_SECRET=... streamlit run streamlit_chat.py

The page signs a short-lived token for the person using the app and shows the chat's
embeddable view, /chat/?session=<id>&token=<jwt>, in an iframe. The token is minted on the
server side of Streamlit, so the secret never reaches the browser.
"""

import os
import time
import uuid
from urllib.parse import urlencode

import jwt  # PyJWT
import streamlit as st
import streamlit.components.v1 as components

CHAT_URL = os.environ.get("CHAT_URL", "http://localhost:8080").rstrip("/")
JWT_SECRET = os.environ["JWT_SECRET"]


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

if name and session_id:
    st.session_state["name"] = name
    st.session_state["session_id"] = session_id
    user_id = st.session_state.setdefault("user_id", str(uuid.uuid5(uuid.NAMESPACE_URL, f"streamlit:{name}")))
    components.iframe(chat_iframe_url(session_id, chat_token(user_id, name)), height=600, scrolling=False)
else:
    st.info("Enter your name and a session id. The session must exist and list you as a member.")
