"""The one call an analysis page makes. Streamlit is imported here and only here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .config import DEFAULT_STATUS_POLL_MS, ChatConfig

#: The page Streamlit serves in the component's iframe (static: every value arrives as an argument).
FRONTEND_DIR = Path(__file__).parent / "frontend"
COMPONENT_NAME = "chat_streamlit.chat"

_component: Any = None


def _declared() -> Any:
    global _component
    if _component is None:
        import streamlit.components.v1 as components  # lazy: the package works and tests without Streamlit

        _component = components.declare_component(COMPONENT_NAME, path=str(FRONTEND_DIR))
    return _component


def chat(*, session_id: str, user: str, token_url: str, chat_url: str, api_url: Optional[str] = None,
         ws_url: Optional[str] = None, name: Optional[str] = None, height: int = 600,
         status_poll_ms: int = DEFAULT_STATUS_POLL_MS, key: Optional[str] = None) -> None:
    """Shows the chat of ``session_id`` for ``user``; nothing at all while chat is turned off.

    Bad arguments raise ValueError before anything is drawn.
    """
    config = ChatConfig(session_id=session_id, user=user, token_url=token_url, chat_url=chat_url, api_url=api_url,
                        ws_url=ws_url, name=name, height=height, status_poll_ms=status_poll_ms)
    # The frame starts at the full height; the page shrinks it to 0 when it hides itself.
    _declared()(**config.args(), key=key or f"chat-{config.session_id}", default=None)
