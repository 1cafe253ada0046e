"""Python client for the chat system: REST (sync and async), service tokens, a WebSocket listener."""

from .cards import AnalysisFigure, AnalysisLink, AnalysisResult, AnalysisTable
from .client import AsyncChatClient, ChatClient
from .errors import (ERROR_CLASSES, ChatDisabled, ChatError, Conflict, Forbidden, Internal, InvalidFrame, InvalidInput, NotFound,
                     OriginRefused, ProtocolError, RateLimited, RouteNotFound, SlowConsumer, TooLarge, TransportError,
                     Unauthorized, Unavailable)
from .listener import Listener, Reconnect
from .models import (Ack, AddMembersBody, AnalysisStatus, AnalysisStatusBody, ChatMessage, ChatStatus, CreateSessionBody, DeadLetter,
                     DeadLetterDetail, ErrorFrame, Frame, HistoryPage, LastMessage, Person, Pong, PostMessageBody, ReadCursor, ReplayResult, SearchHit, SearchPage, Session, SessionClosed, SessionList,
                     SessionSummary, UnknownFrame, WebhookDeadLetter, Welcome, parse_frame)
from .retry import NO_RETRY, RetryPolicy
from .endpoints import UNSET
from .tokens import ADMIN_SCOPE, MEMBERS_SCOPE, ServiceTokens, mint_token
from .webhooks import WebhookVerificationError, verify_webhook, webhook_signature

__all__ = [
    "AnalysisFigure", "AnalysisLink", "AnalysisResult", "AnalysisStatus", "AnalysisStatusBody", "AnalysisTable", "LastMessage",
    "ChatStatus", "Person", "DeadLetter", "DeadLetterDetail", "ReadCursor", "ReplayResult", "SearchHit", "SearchPage", "SessionList", "SessionSummary",
    "ADMIN_SCOPE", "ERROR_CLASSES", "MEMBERS_SCOPE", "UNSET", "NO_RETRY", "Ack", "AddMembersBody", "AsyncChatClient", "ChatClient", "ChatDisabled", "ChatError",
    "ChatMessage", "Conflict", "CreateSessionBody", "ErrorFrame", "Forbidden", "Frame", "HistoryPage", "Internal",
    "InvalidFrame", "InvalidInput", "Listener", "Reconnect", "NotFound", "OriginRefused", "Pong", "PostMessageBody", "ProtocolError",
    "RateLimited", "RetryPolicy", "RouteNotFound", "ServiceTokens", "Session", "SessionClosed", "SlowConsumer",
    "TooLarge", "TransportError", "Unauthorized", "Unavailable", "UnknownFrame", "WebhookDeadLetter", "WebhookVerificationError", "Welcome", "mint_token", "parse_frame", "verify_webhook",
    "webhook_signature",
]
