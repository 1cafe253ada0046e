"""The REST clients: ``ChatClient`` (blocking) and ``AsyncChatClient`` (asyncio), one method per endpoint."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, AsyncIterator, Callable, Iterator, List, Optional, Sequence, TypeVar, Union

import httpx

from . import endpoints
from .endpoints import Call
from .errors import ChatError, ProtocolError, TransportError, error_for
from .cards import AnalysisResult
from .models import (AnalysisStatus, ChatMessage, ChatStatus, DeadLetter, DeadLetterDetail, HistoryPage, JsonObject, Person, ReplayResult, SearchPage,
                     Session, SessionList, SessionSummary, WebhookDeadLetter)
from .retry import RetryPolicy, retry_after_seconds, should_retry
from .tokens import ServiceTokens, mint_token

T = TypeVar("T")
TokenSource = Union[str, Callable[[], str]]
#: One gateway URL, or several replicas of it; None: the API's own host.
GatewayUrls = Union[str, Sequence[str], None]

#: The largest history page the server gives; walking history uses it.
HISTORY_MAX_LIMIT = 500
#: The largest session-list page; walking the list uses it.
SESSIONS_MAX_LIMIT = 100


class _Base:
    """Authentication and answer handling shared by both clients."""

    def __init__(self, api_url: str, *, secret: Optional[str], service_user_id: Optional[str], token: Optional[TokenSource],
                 gateway_url: GatewayUrls, retry: RetryPolicy, service_name: Optional[str],
                 webhooks_url: Optional[str] = None) -> None:
        if (secret is None) == (token is None):
            raise ValueError("give either secret (with service_user_id) or token")
        if secret is not None and service_user_id is None:
            raise ValueError("service_user_id is required with secret: it is the sender of the backend's messages")
        self.api_url = api_url.rstrip("/")
        gateways = [gateway_url or api_url] if gateway_url is None or isinstance(gateway_url, str) else list(gateway_url)
        if not gateways or not all(isinstance(url, str) and url.strip() for url in gateways):
            raise ValueError(f"gateway_url must name at least one gateway, got {gateway_url!r}")
        #: Where the WebSockets are: one gateway or several replicas (a listener moves to the next after
        #: a drain or a failed open); the API's own host unless the gateways sit elsewhere.
        self.gateway_urls: List[str] = [url.rstrip("/") for url in gateways]
        self.gateway_url = self.gateway_urls[0]
        #: The webhooks service (its dead-letter list), when the client needs it.
        self.webhooks_url = webhooks_url.rstrip("/") if webhooks_url else None
        self.retry = retry
        self._secret = secret
        self._token = self._token_source(secret, service_user_id, token, service_name)

    @staticmethod
    def _token_source(secret: Optional[str], service_user_id: Optional[str], token: Optional[TokenSource],
                      service_name: Optional[str]) -> Callable[[], str]:
        if secret is not None and service_user_id is not None:
            return ServiceTokens(secret, service_user_id, name=service_name)
        if callable(token):
            return token
        fixed = str(token)
        return lambda: fixed

    def user_token(self, user_id: str, *, name: Optional[str] = None, ttl_seconds: int = 900, scopes: Sequence[str] = ()) -> str:
        """A short-lived token for one user, to hand to that user's browser (needs ``secret``)."""
        if self._secret is None:
            raise ValueError("minting user tokens needs the client to be built with secret")
        return mint_token(self._secret, user_id, name=name, ttl_seconds=ttl_seconds, scopes=scopes)

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}

    @staticmethod
    def _answer(call: Call[T], response: httpx.Response) -> T:
        if response.is_success:
            if call.empty:
                return call.parse(None)
            try:
                return call.parse(response.json())
            except json.JSONDecodeError as cause:
                raise ProtocolError(f"{call.method} {call.path}: the answer is not JSON", status=response.status_code) from cause
        raise _error_of(response)

    @staticmethod
    def _transport(call: Call[Any], cause: httpx.HTTPError) -> TransportError:
        error = TransportError(f"{call.method} {call.path}: {type(cause).__name__}: {cause}")
        error.__cause__ = cause
        return error

    def _request(self, call: Call[Any]) -> dict:
        """The arguments of ``httpx``'s ``request`` for a call, the same for both transports."""
        return {"method": call.method, "url": call.path, "json": call.json, "params": call.params, "headers": self._headers()}

    def _retry_delay(self, call: Call[Any], error: ChatError, attempt: int) -> float:
        """How long to wait before attempt ``attempt + 1``; raises ``error`` when the call is not tried again."""
        if attempt >= self.retry.attempts or not should_retry(error, call.idempotent):
            raise error
        return self.retry.delay(attempt, error)


def _error_of(response: httpx.Response) -> ChatError:
    code: Optional[str] = None
    message = response.reason_phrase or f"HTTP {response.status_code}"
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code") if isinstance(body["error"].get("code"), str) else None
            message = body["error"].get("message") if isinstance(body["error"].get("message"), str) else message
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    return error_for(response.status_code, code, message, retry_after_seconds(response.headers.get("Retry-After")))


class _Endpoints:
    """One method per endpoint, for both clients: the call is built by ``endpoints`` and run by the
    client's own ``_run``, so ``ChatClient`` returns the answer and ``AsyncChatClient`` an awaitable of it."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def create_session(self, *, title: Optional[str] = None, members: Optional[List[str]] = None,
                       metadata: Optional[JsonObject] = None) -> Session:
        return self._run(endpoints.create_session(title, members, metadata))

    def get_session(self, session_id: str) -> Session:
        return self._run(endpoints.get_session(session_id))

    def add_members(self, session_id: str, user_ids: List[str]) -> Session:
        return self._run(endpoints.add_members(session_id, user_ids))

    def update_session(self, session_id: str, *, title: Any = endpoints.UNSET, metadata: Optional[JsonObject] = None) -> Session:
        """Replaces the title (``None`` clears it) and/or the metadata; what is left out stays."""
        return self._run(endpoints.update_session(session_id, title, metadata))

    def remove_member(self, session_id: str, user_id: str) -> Session:
        """Removes a member; their open sockets close with 4403 and history refuses them afterwards."""
        return self._run(endpoints.remove_member(session_id, user_id))

    def post_message(self, session_id: str, body: str, *, metadata: Optional[JsonObject] = None,
                     client_msg_id: Optional[str] = None) -> ChatMessage:
        return self._run(endpoints.post_message(session_id, body, metadata, client_msg_id))

    def list_sessions(self, *, limit: Optional[int] = None, cursor: Optional[str] = None,
                      analysis_id: Optional[str] = None) -> SessionList:
        """The caller's open sessions (every open one for the admin token), newest activity first;
        pass the page's ``next_cursor`` as ``cursor`` for the next one."""
        return self._run(endpoints.list_sessions(limit, cursor, analysis_id))

    def people(self, q: str = "", *, limit: Optional[int] = None) -> List[Person]:
        """People whose name starts with (first) or contains ``q``, case-insensitive, to add as members by id."""
        return self._run(endpoints.people(q, limit))

    def report_analysis_status(self, session_id: str, state: str, *, progress: Optional[float] = None,
                               reason: Optional[str] = None) -> AnalysisStatus:
        """Admins: ``queued``, ``running`` (``progress`` 0-100), ``done`` or ``failed`` (with ``reason``)."""
        return self._run(endpoints.report_analysis_status(session_id, state, progress, reason))

    def post_analysis_result(self, session_id: str, result: AnalysisResult, *, body: Optional[str] = None,
                             client_msg_id: Optional[str] = None) -> ChatMessage:
        """Posts a result card; ``body`` (the text clients without cards show) defaults to ``result.plain_text()``."""
        return self._run(endpoints.post_analysis_result(session_id, result, body, client_msg_id))

    def history(self, session_id: str, *, limit: Optional[int] = None, before: Optional[int] = None,
                after: Optional[int] = None) -> HistoryPage:
        return self._run(endpoints.history(session_id, limit, before, after))

    def search(self, session_id: str, q: str, *, limit: Optional[int] = None, before: Optional[int] = None) -> SearchPage:
        """Stored messages of the session holding the words of ``q`` (web-search syntax: "a phrase", or,
        -excluded), newest first, with the matched words' offsets; messages still queued are not found yet."""
        return self._run(endpoints.search(session_id, q, limit, before))

    def close_session(self, session_id: str) -> None:
        return self._run(endpoints.close_session(session_id))

    def dead_letters(self, *, limit: Optional[int] = None, session_id: Optional[str] = None,
                     include_replayed: bool = False) -> List[DeadLetter]:
        """Admins: messages the persister could not write, newest first (open ones unless ``include_replayed``)."""
        return self._run(endpoints.dead_letters(limit, session_id, include_replayed))

    def dead_letter(self, dead_letter_id: str) -> DeadLetterDetail:
        """Admins: one dead letter with its queued bytes and the message they hold."""
        return self._run(endpoints.dead_letter(dead_letter_id))

    def replay_dead_letter(self, dead_letter_id: str) -> ReplayResult:
        """Admins: writes the message to the store once and marks the letter replayed; Conflict if it cannot be."""
        return self._run(endpoints.replay_dead_letter(dead_letter_id))

    def chat_status(self) -> ChatStatus:
        """Whether chat is on (the kill switch)."""
        return self._run(endpoints.chat_status())

    def set_chat(self, state: str) -> ChatStatus:
        """Admins: turns chat ``"on"`` or ``"off"`` on every replica; while off, writes raise ChatDisabled."""
        return self._run(endpoints.set_chat(state))

    def webhook_dead_letters(self, *, endpoint: Optional[str] = None, limit: int = 100) -> List[WebhookDeadLetter]:
        """Admins: events a webhook endpoint never took, newest first (needs ``webhooks_url``)."""
        return self._run(endpoints.webhook_dead_letters(self.webhooks_url, endpoint, limit))

    def replay_webhook_dead_letter(self, seq: int) -> JsonObject:
        """Admins: delivers a dead letter once more now; raises Conflict while the endpoint still refuses it."""
        return self._run(endpoints.replay_webhook_dead_letter(self.webhooks_url, seq))


class ChatClient(_Endpoints, _Base):
    """Blocking client. Build it with the signing key (it mints and renews its own admin token)::

        chat = ChatClient("http://chat-api:8081", secret=KEY, service_user_id=BACKEND_ID)
    """

    def __init__(self, api_url: str, *, secret: Optional[str] = None, service_user_id: Optional[str] = None,
                 token: Optional[TokenSource] = None, gateway_url: GatewayUrls = None, retry: RetryPolicy = RetryPolicy(),
                 timeout: float = 10.0, service_name: Optional[str] = None, transport: Optional[httpx.BaseTransport] = None,
                 sleep: Callable[[float], None] = time.sleep, webhooks_url: Optional[str] = None) -> None:
        super().__init__(api_url, secret=secret, service_user_id=service_user_id, token=token, gateway_url=gateway_url,
                         retry=retry, service_name=service_name, webhooks_url=webhooks_url)
        self._http = httpx.Client(base_url=self.api_url, timeout=timeout, transport=transport)
        self._sleep = sleep

    def __enter__(self) -> "ChatClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, call: Call[T]) -> T:
        attempt = 1
        while True:
            try:
                try:
                    response = self._http.request(**self._request(call))
                except httpx.HTTPError as cause:
                    raise self._transport(call, cause) from cause
                return self._answer(call, response)
            except ChatError as error:
                self._sleep(self._retry_delay(call, error, attempt))
                attempt += 1

    def iter_sessions(self, *, analysis_id: Optional[str] = None, page_size: int = SESSIONS_MAX_LIMIT) -> Iterator[SessionSummary]:
        """Every listed session, page by page."""
        cursor: Optional[str] = None
        while True:
            page = self.list_sessions(limit=page_size, cursor=cursor, analysis_id=analysis_id)
            yield from page.sessions
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def find_session(self, analysis_id: str) -> Optional[SessionSummary]:
        """The open session of an analysis (``metadata.analysisId`` at creation), the most active if several; or None."""
        page = self.list_sessions(limit=1, analysis_id=analysis_id)
        return page.sessions[0] if page.sessions else None

    def iter_history(self, session_id: str, *, after: int = 0, page_size: int = HISTORY_MAX_LIMIT) -> Iterator[ChatMessage]:
        """Every message with ``seq > after``, oldest first, page by page."""
        while True:
            page = self.history(session_id, limit=page_size, after=after)
            yield from page.messages
            if not page.has_more or not page.messages:
                return
            after = page.messages[-1].seq


class AsyncChatClient(_Endpoints, _Base):
    """The same as ``ChatClient`` for asyncio (every endpoint method is awaited), plus ``listen`` (a WebSocket listener)."""

    def __init__(self, api_url: str, *, secret: Optional[str] = None, service_user_id: Optional[str] = None,
                 token: Optional[TokenSource] = None, gateway_url: GatewayUrls = None, retry: RetryPolicy = RetryPolicy(),
                 timeout: float = 10.0, service_name: Optional[str] = None,
                 transport: Optional[httpx.AsyncBaseTransport] = None, webhooks_url: Optional[str] = None) -> None:
        super().__init__(api_url, secret=secret, service_user_id=service_user_id, token=token, gateway_url=gateway_url,
                         retry=retry, service_name=service_name, webhooks_url=webhooks_url)
        self._http = httpx.AsyncClient(base_url=self.api_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> "AsyncChatClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _run(self, call: Call[T]) -> T:  # type: ignore[override]
        attempt = 1
        while True:
            try:
                try:
                    response = await self._http.request(**self._request(call))
                except httpx.HTTPError as cause:
                    raise self._transport(call, cause) from cause
                return self._answer(call, response)
            except ChatError as error:
                await asyncio.sleep(self._retry_delay(call, error, attempt))
                attempt += 1

    async def iter_sessions(self, *, analysis_id: Optional[str] = None,
                            page_size: int = SESSIONS_MAX_LIMIT) -> AsyncIterator[SessionSummary]:
        cursor: Optional[str] = None
        while True:
            page = await self.list_sessions(limit=page_size, cursor=cursor, analysis_id=analysis_id)
            for session in page.sessions:
                yield session
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def find_session(self, analysis_id: str) -> Optional[SessionSummary]:
        page = await self.list_sessions(limit=1, analysis_id=analysis_id)
        return page.sessions[0] if page.sessions else None

    async def iter_history(self, session_id: str, *, after: int = 0,
                           page_size: int = HISTORY_MAX_LIMIT) -> AsyncIterator[ChatMessage]:
        while True:
            page = await self.history(session_id, limit=page_size, after=after)
            for message in page.messages:
                yield message
            if not page.has_more or not page.messages:
                return
            after = page.messages[-1].seq

    def listen(self, session_id: str, *, last_seq: Optional[int] = None, **options: Any) -> "AsyncIterator[Any]":
        """Typed frames of one session, resumed with ``lastSeq`` across reconnects; see ``Listener``."""
        from .listener import Listener

        return Listener(self.gateway_urls, session_id, self._token, last_seq=last_seq, **options).frames()
