"""An analysis page's backend: one chat session per analysis, and short-lived tokens for its users.

Run:  CHAT_API_URL=http://localhost:8080 CHAT_JWT_SECRET=... PAGE_ORIGINS=http://localhost:8501 \\
      python3 -m uvicorn example.backend:app --port 8502      (from clients/streamlit)

The signing key stays here; the page only ever sees a token for one user, valid for TOKEN_TTL seconds.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Dict, List, Optional, Sequence

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from chat_client import ChatClient, ChatError

#: Tokens for the page live this long: enough to open the chat, short enough to be worthless later.
DEFAULT_TOKEN_TTL = 900


class AnalysisChatBody(BaseModel):
    title: Optional[str] = None
    members: List[str] = []


class TokenBody(BaseModel):
    sessionId: str
    user: str
    name: Optional[str] = None


class Refused(Exception):
    """A request this backend turns down, answered in the chat's own error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> JSONResponse:
    # The chat's own error shape, so the page reads one kind of answer.
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def _uuid(value: str) -> Optional[str]:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


class AnalysisSessions:
    """analysis id -> session, asked of the chat itself (``find_session``, ``?analysisId=``), so the
    backend keeps no mapping of its own and its restarts and replicas agree on it."""

    def __init__(self, chat: ChatClient) -> None:
        self._chat = chat
        # One lock for find-or-create: two first requests for one analysis make one session.
        self._lock = threading.Lock()

    def session_for(self, analysis_id: str, title: Optional[str], members: List[str]) -> str:
        with self._lock:
            found = self._chat.find_session(analysis_id)
            if found is None:
                return self._chat.create_session(title=title, members=members, metadata={"analysisId": analysis_id}).id
            new = [m for m in members if m not in found.members]
            if new:
                self._chat.add_members(found.id, new)
            return found.id

    def is_member(self, session_id: str, user_id: str) -> bool:
        """Whether the user belongs to the session, and the session to an analysis."""
        try:
            session = self._chat.get_session(session_id)
        except ChatError as error:
            if error.code == "not_found":
                return False
            raise
        return "analysisId" in session.metadata and user_id in session.members


def signed_in_user(body: TokenBody) -> str:
    """Who is asking. THIS EXAMPLE TRUSTS THE BODY: replace it with your own sign-in (a cookie or a
    header your pages already send), so that nobody can ask for another person's token."""
    return body.user


def create_app(*, api_url: str, secret: str, service_user_id: Optional[str] = None, page_origins: Sequence[str] = (),
               token_ttl: int = DEFAULT_TOKEN_TTL) -> FastAPI:
    chat = ChatClient(api_url, secret=secret, service_user_id=service_user_id or str(uuid.uuid4()), service_name="analysis-backend")
    sessions = AnalysisSessions(chat)
    app = FastAPI(title="Analysis chat backend (example)")
    if page_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(page_origins), allow_credentials=True,
                           allow_methods=["POST"], allow_headers=["content-type"])

    @app.exception_handler(ChatError)
    async def chat_error(_request: Request, error: ChatError) -> JSONResponse:
        # chat_disabled (503) passes through as it is: the component hides itself on it.
        return _error(error.status or 502, error.code, error.message)

    @app.exception_handler(Refused)
    async def refused(_request: Request, error: Refused) -> JSONResponse:
        return _error(error.status, error.code, error.message)

    @app.post("/analyses/{analysis_id}/chat")
    def analysis_chat(analysis_id: str, body: AnalysisChatBody) -> Dict[str, str]:
        """The analysis's chat session, created on the first call; later calls add new members."""
        members = [_uuid(m) for m in body.members]
        if not analysis_id.strip() or len(analysis_id) > 200:
            raise Refused(400, "invalid_input", "analysis id must be 1 to 200 characters")
        if any(m is None for m in members):
            raise Refused(400, "invalid_input", "members must be user UUIDs")
        return {"sessionId": sessions.session_for(analysis_id, body.title, [m for m in members if m])}

    @app.post("/chat-token")
    def chat_token(body: TokenBody, user: str = Depends(signed_in_user)) -> Dict[str, object]:
        """A token for the signed-in user, for a session of an analysis they belong to."""
        session_id, user_id = _uuid(body.sessionId), _uuid(user)
        if session_id is None or user_id is None:
            raise Refused(400, "invalid_input", "sessionId and user must be UUIDs")
        if not sessions.is_member(session_id, user_id):
            raise Refused(403, "forbidden", "not a member of this analysis's chat")
        token = chat.user_token(user_id, name=body.name, ttl_seconds=token_ttl)
        return {"token": token, "expiresIn": token_ttl}

    app.router.on_shutdown.append(chat.close)
    return app


def app_from_env() -> FastAPI:
    return create_app(api_url=os.environ["CHAT_API_URL"], secret=os.environ["CHAT_JWT_SECRET"],
                      page_origins=[o for o in os.environ.get("PAGE_ORIGINS", "").split(",") if o],
                      token_ttl=int(os.environ.get("TOKEN_TTL", DEFAULT_TOKEN_TTL)))


# `uvicorn example.backend:app` starts it from the environment; importing this module alone does not.
def __getattr__(name: str) -> FastAPI:
    if name == "app":
        return app_from_env()
    raise AttributeError(name)
