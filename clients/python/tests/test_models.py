"""The models mirror the OpenAPI document the server generates from its zod schemas."""

import dataclasses
import re

import httpx
import pytest

from chat_client import (ChatStatus, DeadLetter, DeadLetterDetail, ReplayResult, AddMembersBody, AnalysisFigure, AnalysisLink, AnalysisResult, AnalysisStatus, AnalysisTable, ChatMessage,
                         CreateSessionBody, HistoryPage, LastMessage, PostMessageBody, ProtocolError, ReadCursor, Session, SessionList,
                         SessionSummary)
from chat_client.models import parse_frame


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


MODELS = {"Session": Session, "ChatMessage": ChatMessage, "HistoryResponse": HistoryPage,
          "CreateSessionBody": CreateSessionBody, "AddMembersBody": AddMembersBody, "PostMessageBody": PostMessageBody,
          "ReadCursor": ReadCursor, "SessionList": SessionList, "SessionSummary": SessionSummary, "LastMessage": LastMessage,
          "AnalysisStatus": AnalysisStatus, "AnalysisFigure": AnalysisFigure, "AnalysisTable": AnalysisTable,
          "AnalysisLink": AnalysisLink, "DeadLetter": DeadLetter, "ReplayResult": ReplayResult, "ChatStatus": ChatStatus}


@pytest.fixture(scope="module")
def schemas(stack):
    document = httpx.get(f"{stack.api_url}/openapi.json").json()
    return document["components"]["schemas"]


@pytest.mark.parametrize("schema_id", sorted(MODELS))
def test_each_model_has_exactly_the_fields_of_its_schema_and_requires_what_it_requires(schemas, schema_id):
    schema = schemas[schema_id]
    fields = {_camel(f.name): f for f in dataclasses.fields(MODELS[schema_id])}
    assert set(fields) == set(schema["properties"])
    required_here = {name for name, f in fields.items()
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    # `type` is fixed by the model, so it has a default though the wire requires it.
    assert required_here == set(schema.get("required", [])) - {"type"}


def test_the_result_card_has_the_fields_of_its_schema_beside_the_fixed_kind_and_version(schemas):
    schema = schemas["AnalysisResult"]
    fields = {_camel(f.name) for f in dataclasses.fields(AnalysisResult)}
    assert fields | {"kind", "version"} == set(schema["properties"])
    assert schema["properties"]["version"]["const"] == AnalysisResult(title="t").to_metadata()["version"]
    assert set(schema["required"]) == {"kind", "version", "title"}


def test_a_dead_letters_detail_flattens_its_payload_and_keeps_the_rest_of_its_schema(schemas):
    schema = schemas["DeadLetterDetail"]
    fields = {_camel(f.name) for f in dataclasses.fields(DeadLetterDetail)}
    assert fields - {"payloadBase64", "payloadText"} | {"payload"} == set(schema["properties"])
    assert {"base64", "text"} == set(schema["properties"]["payload"]["properties"])


def test_a_listed_session_missing_a_nullable_field_is_a_protocol_error():
    good = {"id": "s", "title": None, "analysisId": None, "members": [], "createdAt": "t", "lastActivityAt": "t",
            "lastMessage": None, "readSeq": 0, "unread": 0, "analysisStatus": None}
    assert SessionSummary.from_json(good).analysis_status is None
    for broken in ({k: v for k, v in good.items() if k != "analysisStatus"}, {**good, "unread": "1"},
                   {**good, "lastMessage": {"seq": 1}}):
        with pytest.raises(ProtocolError):
            SessionSummary.from_json(broken)
    with pytest.raises(ProtocolError):
        SessionList.from_json({"sessions": []})


def test_a_message_missing_a_required_field_or_with_a_wrong_type_is_a_protocol_error():
    good = {"type": "message", "id": "a", "sessionId": "b", "seq": 1, "userId": "c", "body": "x", "metadata": {},
            "timestamp": "2026-01-01T00:00:00Z"}
    assert ChatMessage.from_json(good).seq == 1
    for broken in ({k: v for k, v in good.items() if k != "seq"}, {**good, "seq": "1"}, {**good, "seq": True}, []):
        with pytest.raises(ProtocolError):
            ChatMessage.from_json(broken)


def test_an_unknown_frame_type_is_kept_not_dropped():
    frame = parse_frame({"type": "read", "userId": "u", "seq": 3})
    assert frame.type == "unknown" and frame.raw["seq"] == 3
