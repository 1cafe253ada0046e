"""Every session-api endpoint as a plain description of one HTTP call, shared by both clients.

The sync and async clients differ only in how they send; what to send, whether a retry is safe and
how to read the answer are written once here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generic, List, Optional, TypeVar
from urllib.parse import quote

from .cards import AnalysisResult
from .models import (AddMembersBody, AnalysisStatus, AnalysisStatusBody, ChatMessage, ChatStatus, CreateSessionBody, DeadLetter,
                     DeadLetterDetail, HistoryPage, JsonObject, Person, PostMessageBody, ReplayResult, SearchPage, Session, SessionList,
                     WebhookDeadLetter, people_from_json)

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    json: Optional[JsonObject] = None
    params: Optional[Dict[str, Any]] = None
    #: Safe to send twice: the second has no further effect on the server.
    idempotent: bool = True
    #: The call answers 204 with no body.
    empty: bool = False


def _segment(session_id: str) -> str:
    return quote(str(session_id), safe="")


def _none(_: Any) -> None:
    return None


def create_session(title: Optional[str], members: Optional[List[str]], metadata: Optional[JsonObject]) -> Call[Session]:
    body = CreateSessionBody(title=title, members=list(members) if members is not None else None, metadata=metadata)
    # Each try would create another session, so only failures that surely did nothing are retried.
    return Call("POST", "/api/chat/sessions", Session.from_json, json=body.to_json(), idempotent=False)


def get_session(session_id: str) -> Call[Session]:
    return Call("GET", f"/api/chat/sessions/{_segment(session_id)}", Session.from_json)


def add_members(session_id: str, user_ids: List[str]) -> Call[Session]:
    # Membership is a set: adding the same users twice leaves the same session.
    return Call("POST", f"/api/chat/sessions/{_segment(session_id)}/members", Session.from_json,
                json=AddMembersBody(user_ids=list(user_ids)).to_json())


class _Unset:
    """Marks a field left out of a PATCH (``None`` for a title means: clear it)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def update_session(session_id: str, title: Any, metadata: Optional[JsonObject]) -> Call[Session]:
    # Setting the same title and metadata again leaves the same session: safe to retry.
    body: Dict[str, Any] = {}
    if title is not UNSET:
        body["title"] = title
    if metadata is not None:
        body["metadata"] = metadata
    if not body:
        raise ValueError("give title, metadata or both")
    return Call("PATCH", f"/api/chat/sessions/{_segment(session_id)}", Session.from_json, json=body)


def remove_member(session_id: str, user_id: str) -> Call[Session]:
    # Removing a non-member answers the session unchanged, so a retry after a lost answer is safe.
    return Call("DELETE", f"/api/chat/sessions/{_segment(session_id)}/members/{_segment(user_id)}", Session.from_json)


def post_message(session_id: str, body: str, metadata: Optional[JsonObject], client_msg_id: Optional[str]) -> Call[ChatMessage]:
    # A clientMsgId makes the post idempotent (the server answers a repeat with the first message),
    # so one is always sent: a retry after a lost answer never posts twice.
    payload = PostMessageBody(body=body, client_msg_id=client_msg_id or str(uuid.uuid4()), metadata=metadata)
    return Call("POST", f"/api/chat/sessions/{_segment(session_id)}/messages", ChatMessage.from_json, json=payload.to_json())


def list_sessions(limit: Optional[int], cursor: Optional[str], analysis_id: Optional[str]) -> Call[SessionList]:
    params = {k: v for k, v in {"limit": limit, "cursor": cursor, "analysisId": analysis_id}.items() if v is not None}
    return Call("GET", "/api/chat/sessions", SessionList.from_json, params=params)


def people(q: str, limit: Optional[int]) -> Call[List[Person]]:
    params: Dict[str, Any] = {"q": q}
    if limit is not None:
        params["limit"] = limit
    return Call("GET", "/api/chat/people", people_from_json, params=params)


def report_analysis_status(session_id: str, state: str, progress: Optional[float], reason: Optional[str]) -> Call[AnalysisStatus]:
    # The latest report replaces the stored one: sending the same report again leaves the same state.
    body = AnalysisStatusBody(state=state, progress=progress, reason=reason)
    return Call("PUT", f"/api/chat/sessions/{_segment(session_id)}/analysis-status", AnalysisStatus.from_json, json=body.to_json())


def post_analysis_result(session_id: str, result: AnalysisResult, body: Optional[str], client_msg_id: Optional[str]) -> Call[ChatMessage]:
    return post_message(session_id, body if body is not None else result.plain_text(), result.to_metadata(), client_msg_id)


def history(session_id: str, limit: Optional[int], before: Optional[int], after: Optional[int]) -> Call[HistoryPage]:
    if before is not None and after is not None:
        raise ValueError("use either before or after, not both")
    params = {k: v for k, v in {"limit": limit, "before": before, "after": after}.items() if v is not None}
    return Call("GET", f"/api/chat/history/{_segment(session_id)}", HistoryPage.from_json, params=params)


def search(session_id: str, q: str, limit: Optional[int], before: Optional[int]) -> Call[SearchPage]:
    params: Dict[str, Any] = {k: v for k, v in {"q": q, "limit": limit, "before": before}.items() if v is not None}
    return Call("GET", f"/api/chat/sessions/{_segment(session_id)}/search", SearchPage.from_json, params=params)


def close_session(session_id: str) -> Call[None]:
    # Closing a closed session answers 204 again (and finishes a half-done close).
    return Call("DELETE", f"/api/chat/sessions/{_segment(session_id)}", _none, empty=True)


def dead_letters(limit: Optional[int], session_id: Optional[str], include_replayed: bool) -> Call[List[DeadLetter]]:
    params: Dict[str, Any] = {"includeReplayed": "true" if include_replayed else "false"}
    if limit is not None:
        params["limit"] = limit
    if session_id is not None:
        params["sessionId"] = session_id
    return Call("GET", "/api/chat/dead-letters", DeadLetter.list_from_json, params=params)


def dead_letter(dead_letter_id: str) -> Call[DeadLetterDetail]:
    return Call("GET", f"/api/chat/dead-letters/{_segment(dead_letter_id)}", DeadLetterDetail.from_json)


def replay_dead_letter(dead_letter_id: str) -> Call[ReplayResult]:
    # The write is ON CONFLICT DO NOTHING: a repeated replay writes nothing more (inserted=False).
    return Call("POST", f"/api/chat/dead-letters/{_segment(dead_letter_id)}/replay", ReplayResult.from_json, json={})


def chat_status() -> Call[ChatStatus]:
    return Call("GET", "/status", ChatStatus.from_json)


def set_chat(state: str) -> Call[ChatStatus]:
    if state not in ("on", "off"):
        raise ValueError(f"chat is 'on' or 'off', not {state!r}")
    # Setting the state it already has changes nothing: safe to retry.
    return Call("POST", "/api/chat/admin/switch", ChatStatus.from_json, json={"chat": state})


def _webhooks(webhooks_url: Optional[str]) -> str:
    if not webhooks_url:
        raise ValueError("webhook dead letters need the client to be built with webhooks_url (the webhooks service)")
    return webhooks_url.rstrip("/")


def webhook_dead_letters(webhooks_url: Optional[str], endpoint: Optional[str], limit: int) -> Call[List[WebhookDeadLetter]]:
    params: Dict[str, Any] = {"limit": limit}
    if endpoint is not None:
        params["endpoint"] = endpoint
    return Call("GET", f"{_webhooks(webhooks_url)}/api/webhooks/dead-letters", WebhookDeadLetter.list_from_json, params=params)


def replay_webhook_dead_letter(webhooks_url: Optional[str], seq: int) -> Call[JsonObject]:
    # A replay that was delivered removes the letter: a second try answers 404, never delivers twice by itself.
    return Call("POST", f"{_webhooks(webhooks_url)}/api/webhooks/dead-letters/{int(seq)}/replay", dict, idempotent=False)
