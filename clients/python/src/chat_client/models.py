"""Typed models of the REST bodies and WebSocket frames (libs/protocol, ``/openapi.json``).

Field names are the Python spelling of the wire's camelCase; ``from_json`` checks the fields the
protocol requires and raises ``ProtocolError`` when the server answers something else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from .errors import ProtocolError

JsonObject = Dict[str, Any]
T = TypeVar("T")


def _get(raw: Mapping[str, Any], key: str, kind: Union[Type[Any], Tuple[Type[Any], ...]], what: str) -> Any:
    if key not in raw:
        raise ProtocolError(f"{what}: missing field {key!r}")
    value = raw[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(f"{what}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _opt(raw: Mapping[str, Any], key: str, kind: Union[Type[Any], Tuple[Type[Any], ...]], what: str) -> Any:
    return None if raw.get(key) is None else _get(raw, key, kind, what)


def _object(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ProtocolError(f"{what}: expected a JSON object, got {type(raw).__name__}")
    return raw


@dataclass(frozen=True)
class Session:
    """``Session``: a chat session; ``closed_at`` is set only on a closed one (admins see those)."""

    id: str
    title: Optional[str]
    members: List[str]
    metadata: JsonObject
    created_at: str
    closed_at: Optional[str] = None

    @classmethod
    def from_json(cls, raw: Any) -> "Session":
        o = _object(raw, "Session")
        return cls(id=_get(o, "id", str, "Session"), title=_opt(o, "title", str, "Session"),
                   members=list(_get(o, "members", list, "Session")), metadata=dict(_get(o, "metadata", dict, "Session")),
                   created_at=_get(o, "createdAt", str, "Session"), closed_at=_opt(o, "closedAt", str, "Session"))


@dataclass(frozen=True)
class WebhookDeadLetter:
    """An event one webhook endpoint never took within its attempts; ``seq`` names it for a replay."""

    seq: int
    endpoint_id: str
    event_id: str
    type: str
    attempts: int
    last_error: str
    failed_at: str
    body: str
    last_status: Optional[int] = None

    @classmethod
    def from_json(cls, raw: Any) -> "WebhookDeadLetter":
        o = _object(raw, "WebhookDeadLetter")
        w = "WebhookDeadLetter"
        return cls(seq=_get(o, "seq", int, w), endpoint_id=_get(o, "endpointId", str, w), event_id=_get(o, "eventId", str, w),
                   type=_get(o, "type", str, w), attempts=_get(o, "attempts", int, w), last_error=_get(o, "lastError", str, w),
                   failed_at=_get(o, "failedAt", str, w), body=_get(o, "body", str, w), last_status=_opt(o, "lastStatus", int, w))

    @staticmethod
    def list_from_json(raw: Any) -> "List[WebhookDeadLetter]":
        o = _object(raw, "WebhookDeadLetterList")
        return [WebhookDeadLetter.from_json(item) for item in _get(o, "deadLetters", list, "WebhookDeadLetterList")]


@dataclass(frozen=True)
class ChatMessage:
    """``ChatMessage``: a stored message, the same shape in REST answers, history and live frames."""

    id: str
    session_id: str
    seq: int
    user_id: str
    body: str
    metadata: JsonObject
    timestamp: str
    user_name: Optional[str] = None
    client_msg_id: Optional[str] = None
    #: ``"dead_letter"`` for an acknowledged message the store refused and keeps apart; absent otherwise.
    state: Optional[str] = None
    type: str = field(default="message", repr=False)

    @classmethod
    def from_json(cls, raw: Any) -> "ChatMessage":
        o = _object(raw, "ChatMessage")
        return cls(id=_get(o, "id", str, "ChatMessage"), session_id=_get(o, "sessionId", str, "ChatMessage"),
                   seq=_get(o, "seq", int, "ChatMessage"), user_id=_get(o, "userId", str, "ChatMessage"),
                   body=_get(o, "body", str, "ChatMessage"), metadata=dict(_get(o, "metadata", dict, "ChatMessage")),
                   timestamp=_get(o, "timestamp", str, "ChatMessage"), user_name=_opt(o, "userName", str, "ChatMessage"),
                   client_msg_id=_opt(o, "clientMsgId", str, "ChatMessage"), state=_opt(o, "state", str, "ChatMessage"))


@dataclass(frozen=True)
class ReadCursor:
    """``ReadCursor``: how far one member has read in a session."""

    user_id: str
    seq: int

    @classmethod
    def from_json(cls, raw: Any) -> "ReadCursor":
        o = _object(raw, "ReadCursor")
        return cls(user_id=_get(o, "userId", str, "ReadCursor"), seq=_get(o, "seq", int, "ReadCursor"))


@dataclass(frozen=True)
class HistoryPage:
    """``HistoryResponse``: messages in ascending ``seq``; ``has_more`` beyond the page in its direction.

    ``reads`` holds every member's read cursor (those who never read are left out); ``None`` where
    the deployment keeps none.
    """

    messages: List[ChatMessage]
    has_more: bool
    reads: Optional[List[ReadCursor]] = None

    @classmethod
    def from_json(cls, raw: Any) -> "HistoryPage":
        o = _object(raw, "HistoryResponse")
        reads = _opt(o, "reads", list, "HistoryResponse")
        return cls(messages=[ChatMessage.from_json(m) for m in _get(o, "messages", list, "HistoryResponse")],
                   has_more=_get(o, "hasMore", bool, "HistoryResponse"),
                   reads=None if reads is None else [ReadCursor.from_json(r) for r in reads])


@dataclass(frozen=True)
class SearchHit:
    """``SearchHit``: a stored message holding the searched words.

    ``highlights`` are ``(start, end)`` offsets of the matched words in ``body``, counted in UTF-16
    code units as the server gives them; ``highlighted()`` gives the matched text itself.
    """

    id: str
    seq: int
    user_id: str
    body: str
    timestamp: str
    highlights: List[Tuple[int, int]]
    user_name: Optional[str] = None

    @classmethod
    def from_json(cls, raw: Any) -> "SearchHit":
        o = _object(raw, "SearchHit")
        ranges = []
        for r in _get(o, "highlights", list, "SearchHit"):
            ro = _object(r, "HighlightRange")
            ranges.append((_get(ro, "start", int, "HighlightRange"), _get(ro, "end", int, "HighlightRange")))
        return cls(id=_get(o, "id", str, "SearchHit"), seq=_get(o, "seq", int, "SearchHit"), user_id=_get(o, "userId", str, "SearchHit"),
                   body=_get(o, "body", str, "SearchHit"), timestamp=_get(o, "timestamp", str, "SearchHit"), highlights=ranges,
                   user_name=_opt(o, "userName", str, "SearchHit"))

    def highlighted(self) -> List[str]:
        """The matched pieces of ``body``, in order (the offsets are UTF-16 code units, not Python indices)."""
        units = self.body.encode("utf-16-le")
        return [units[start * 2:end * 2].decode("utf-16-le", errors="replace") for start, end in self.highlights]


@dataclass(frozen=True)
class SearchPage:
    """``SearchResponse``: hits newest first; pass ``next_before`` as ``before`` for the next page (``None`` on the last)."""

    hits: List[SearchHit]
    next_before: Optional[int]

    @classmethod
    def from_json(cls, raw: Any) -> "SearchPage":
        o = _object(raw, "SearchResponse")
        if "nextBefore" not in o:
            raise ProtocolError("SearchResponse: missing field 'nextBefore'")
        return cls(hits=[SearchHit.from_json(h) for h in _get(o, "hits", list, "SearchResponse")],
                   next_before=_opt(o, "nextBefore", int, "SearchResponse"))


#: The states an analysis reports, in the order they usually come.
ANALYSIS_STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class AnalysisStatus:
    """``AnalysisStatus``: the latest reported state of a session's analysis, as stored."""

    session_id: str
    state: str
    updated_at: str
    #: Percent done (0-100), only with ``running``.
    progress: Optional[float] = None
    #: Why it failed, only with ``failed``.
    reason: Optional[str] = None

    @classmethod
    def from_json(cls, raw: Any) -> "AnalysisStatus":
        o = _object(raw, "AnalysisStatus")
        w = "AnalysisStatus"
        return cls(session_id=_get(o, "sessionId", str, w), state=_get(o, "state", str, w), updated_at=_get(o, "updatedAt", str, w),
                   progress=_opt(o, "progress", (int, float), w), reason=_opt(o, "reason", str, w))


@dataclass(frozen=True)
class AnalysisStatusBody:
    """``AnalysisStatusBody``: ``progress`` only while running, ``reason`` (required) only when failed."""

    state: str
    progress: Optional[float] = None
    reason: Optional[str] = None

    def __post_init__(self) -> None:
        if self.state not in ANALYSIS_STATES:
            raise ValueError(f"state must be one of {', '.join(ANALYSIS_STATES)}, not {self.state!r}")
        if self.progress is not None and self.state != "running":
            raise ValueError("progress is only allowed with the running state")
        if (self.reason is not None) != (self.state == "failed"):
            raise ValueError("reason is required with the failed state and allowed with no other")

    def to_json(self) -> JsonObject:
        return _without_none({"state": self.state, "progress": self.progress, "reason": self.reason})


@dataclass(frozen=True)
class LastMessage:
    """``LastMessage``: the newest stored message of a listed session; ``kind`` is its ``metadata.kind``."""

    seq: int
    user_id: str
    body: str
    timestamp: str
    user_name: Optional[str] = None
    kind: Optional[str] = None

    @classmethod
    def from_json(cls, raw: Any) -> "LastMessage":
        o = _object(raw, "LastMessage")
        w = "LastMessage"
        return cls(seq=_get(o, "seq", int, w), user_id=_get(o, "userId", str, w), body=_get(o, "body", str, w),
                   timestamp=_get(o, "timestamp", str, w), user_name=_opt(o, "userName", str, w), kind=_opt(o, "kind", str, w))


@dataclass(frozen=True)
class SessionSummary:
    """``SessionSummary``: one listed session with the caller's read cursor, unread count and analysis status."""

    id: str
    title: Optional[str]
    analysis_id: Optional[str]
    members: List[str]
    created_at: str
    last_activity_at: str
    last_message: Optional[LastMessage]
    read_seq: int
    #: Others' messages after the caller's cursor, counted up to 1000.
    unread: int
    analysis_status: Optional[AnalysisStatus]

    @classmethod
    def from_json(cls, raw: Any) -> "SessionSummary":
        o = _object(raw, "SessionSummary")
        w = "SessionSummary"
        for key in ("title", "analysisId", "lastMessage", "analysisStatus"):
            if key not in o:  # nullable, but always present
                raise ProtocolError(f"{w}: missing field {key!r}")
        last = _opt(o, "lastMessage", dict, w)
        status = _opt(o, "analysisStatus", dict, w)
        return cls(id=_get(o, "id", str, w), title=_opt(o, "title", str, w), analysis_id=_opt(o, "analysisId", str, w),
                   members=list(_get(o, "members", list, w)), created_at=_get(o, "createdAt", str, w),
                   last_activity_at=_get(o, "lastActivityAt", str, w),
                   last_message=None if last is None else LastMessage.from_json(last), read_seq=_get(o, "readSeq", int, w),
                   unread=_get(o, "unread", int, w), analysis_status=None if status is None else AnalysisStatus.from_json(status))


@dataclass(frozen=True)
class SessionList:
    """``SessionList``: a page of sessions, newest activity first; ``next_cursor`` is ``None`` on the last page."""

    sessions: List[SessionSummary]
    next_cursor: Optional[str]

    @classmethod
    def from_json(cls, raw: Any) -> "SessionList":
        o = _object(raw, "SessionList")
        if "nextCursor" not in o:
            raise ProtocolError("SessionList: missing field 'nextCursor'")
        return cls(sessions=[SessionSummary.from_json(s) for s in _get(o, "sessions", list, "SessionList")],
                   next_cursor=_opt(o, "nextCursor", str, "SessionList"))


@dataclass(frozen=True)
class Person:
    """``Person``: someone the chat knows by name (seen through a token's ``name``, or from the finance lookup)."""

    id: str
    name: str

    @classmethod
    def from_json(cls, raw: Any) -> "Person":
        o = _object(raw, "Person")
        return cls(id=_get(o, "id", str, "Person"), name=_get(o, "name", str, "Person"))


def people_from_json(raw: Any) -> List[Person]:
    """``PeopleList``: the people found, prefix matches first."""
    o = _object(raw, "PeopleList")
    return [Person.from_json(p) for p in _get(o, "people", list, "PeopleList")]


# Request bodies, as the server's strict schemas accept them (unknown fields are refused with 400).

@dataclass(frozen=True)
class CreateSessionBody:
    """``CreateSessionBody``."""

    title: Optional[str] = None
    members: Optional[List[str]] = None
    metadata: Optional[JsonObject] = None

    def to_json(self) -> JsonObject:
        return _without_none({"title": self.title, "members": self.members, "metadata": self.metadata})


@dataclass(frozen=True)
class AddMembersBody:
    """``AddMembersBody``."""

    user_ids: List[str]

    def to_json(self) -> JsonObject:
        return {"userIds": list(self.user_ids)}


@dataclass(frozen=True)
class PostMessageBody:
    """``PostMessageBody``."""

    body: str
    client_msg_id: Optional[str] = None
    metadata: Optional[JsonObject] = None

    def to_json(self) -> JsonObject:
        return _without_none({"body": self.body, "clientMsgId": self.client_msg_id, "metadata": self.metadata})


def _without_none(values: Dict[str, Any]) -> JsonObject:
    return {k: v for k, v in values.items() if v is not None}


# Server → client frames on /ws/chat/{id}.

@dataclass(frozen=True)
class Welcome:
    session_id: str
    user_id: str
    connection_id: str
    seq: int
    type: str = field(default="welcome", repr=False)


@dataclass(frozen=True)
class Ack:
    client_msg_id: str
    id: str
    seq: int
    timestamp: str
    type: str = field(default="ack", repr=False)


@dataclass(frozen=True)
class ErrorFrame:
    code: str
    message: str
    client_msg_id: Optional[str] = None
    type: str = field(default="error", repr=False)


@dataclass(frozen=True)
class Pong:
    type: str = field(default="pong", repr=False)


@dataclass(frozen=True)
class SessionClosed:
    type: str = field(default="session_closed", repr=False)


@dataclass(frozen=True)
class UnknownFrame:
    """A frame type this client version does not know; kept, not dropped, so newer servers work."""

    raw: JsonObject
    type: str = "unknown"


Frame = Union[Welcome, ChatMessage, Ack, ErrorFrame, Pong, SessionClosed, UnknownFrame]


def parse_frame(raw: Any) -> Frame:
    o = _object(raw, "frame")
    kind = o.get("type")
    if kind == "message":
        return ChatMessage.from_json(o)
    if kind == "welcome":
        return Welcome(session_id=_get(o, "sessionId", str, "welcome"), user_id=_get(o, "userId", str, "welcome"),
                       connection_id=_get(o, "connectionId", str, "welcome"), seq=_get(o, "seq", int, "welcome"))
    if kind == "ack":
        return Ack(client_msg_id=_get(o, "clientMsgId", str, "ack"), id=_get(o, "id", str, "ack"),
                   seq=_get(o, "seq", int, "ack"), timestamp=_get(o, "timestamp", str, "ack"))
    if kind == "error":
        return ErrorFrame(code=_get(o, "code", str, "error"), message=_get(o, "message", str, "error"),
                          client_msg_id=_opt(o, "clientMsgId", str, "error"))
    if kind == "pong":
        return Pong()
    if kind == "session_closed":
        return SessionClosed()
    return UnknownFrame(raw=dict(o))


# The session-api's admin endpoints: the persister's dead letters and the chat switch.

@dataclass(frozen=True)
class DeadLetter:
    """``DeadLetter``: a message the persister could not write; ``state`` is ``open`` until a replay writes it."""

    id: str
    message_id: Optional[str]
    session_id: Optional[str]
    seq: Optional[int]
    #: ``invalid_payload`` (not a chat message) or ``refused`` (the store refused the row after the retries).
    reason: str
    error: str
    #: The SQLSTATE, when the store gave one.
    error_code: Optional[str]
    attempts: int
    first_failed_at: str
    last_failed_at: str
    replayed_at: Optional[str]
    state: str

    @classmethod
    def _fields(cls, o: Mapping[str, Any], w: str) -> Dict[str, Any]:
        for key in ("messageId", "sessionId", "seq", "errorCode", "replayedAt"):
            if key not in o:  # nullable, but always present
                raise ProtocolError(f"{w}: missing field {key!r}")
        return dict(id=_get(o, "id", str, w), message_id=_opt(o, "messageId", str, w), session_id=_opt(o, "sessionId", str, w),
                    seq=_opt(o, "seq", int, w), reason=_get(o, "reason", str, w), error=_get(o, "error", str, w),
                    error_code=_opt(o, "errorCode", str, w), attempts=_get(o, "attempts", int, w),
                    first_failed_at=_get(o, "firstFailedAt", str, w), last_failed_at=_get(o, "lastFailedAt", str, w),
                    replayed_at=_opt(o, "replayedAt", str, w), state=_get(o, "state", str, w))

    @classmethod
    def from_json(cls, raw: Any) -> "DeadLetter":
        return cls(**cls._fields(_object(raw, "DeadLetter"), "DeadLetter"))

    @staticmethod
    def list_from_json(raw: Any) -> "List[DeadLetter]":
        o = _object(raw, "DeadLetterList")
        return [DeadLetter.from_json(item) for item in _get(o, "deadLetters", list, "DeadLetterList")]


@dataclass(frozen=True)
class DeadLetterDetail(DeadLetter):
    """``DeadLetterDetail``: a dead letter with its queued bytes and the chat message they hold (``None`` if none)."""

    #: The queued bytes, base64.
    payload_base64: str = ""
    #: The bytes as UTF-8, or ``None`` when they are not valid UTF-8.
    payload_text: Optional[str] = None
    message: Optional[ChatMessage] = None

    @classmethod
    def from_json(cls, raw: Any) -> "DeadLetterDetail":
        w = "DeadLetterDetail"
        o = _object(raw, w)
        payload = _object(_get(o, "payload", dict, w), "DeadLetterDetail.payload")
        if "message" not in o:
            raise ProtocolError(f"{w}: missing field 'message'")
        message = _opt(o, "message", dict, w)
        return cls(**cls._fields(o, w), payload_base64=_get(payload, "base64", str, w), payload_text=_opt(payload, "text", str, w),
                   message=None if message is None else ChatMessage.from_json(message))


@dataclass(frozen=True)
class ReplayResult:
    """``ReplayResult``: the message is in the store; ``inserted`` is False when it already was (a repeated replay)."""

    dead_letter: DeadLetter
    message: ChatMessage
    inserted: bool

    @classmethod
    def from_json(cls, raw: Any) -> "ReplayResult":
        o = _object(raw, "ReplayResult")
        return cls(dead_letter=DeadLetter.from_json(_get(o, "deadLetter", dict, "ReplayResult")),
                   message=ChatMessage.from_json(_get(o, "message", dict, "ReplayResult")),
                   inserted=_get(o, "inserted", bool, "ReplayResult"))


@dataclass(frozen=True)
class ChatStatus:
    """``ChatStatus``: the kill switch; ``held_by`` is ``environment`` when CHAT_DISABLED holds chat off."""

    chat: str
    held_by: str

    @classmethod
    def from_json(cls, raw: Any) -> "ChatStatus":
        o = _object(raw, "ChatStatus")
        return cls(chat=_get(o, "chat", str, "ChatStatus"), held_by=_get(o, "heldBy", str, "ChatStatus"))
