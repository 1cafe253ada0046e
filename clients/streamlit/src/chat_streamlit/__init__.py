"""A Streamlit component that embeds one chat session (see README.md)."""

from .component import FRONTEND_DIR, chat
from .config import ChatConfig

__all__ = ["ChatConfig", "FRONTEND_DIR", "chat"]
